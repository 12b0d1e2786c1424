#include "pve_pci_mapping_run.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "pve_mapping_hw.h"
#include "pve_mapping_read.h"
#include "pve_mapping_wanted.h"
#include "pvesh.h"
#include "runtime.h"
#include "strbuf.h"

void pt_pve_pci_mapping_result_release(struct pt_pve_pci_mapping_result *res)
{
	free(res->node);
	free(res->summary);
	json_decref(res->mapping);
	json_decref(res->commands);
	pt_report_release(&res->report);
	memset(res, 0, sizeof *res);
}

/* m's section of pci.cfg, or "" when !show. Caller frees; NULL when out of memory. */
static char *render(const struct pt_pve_mapping *m, bool show)
{
	struct pt_strbuf sb = PT_STRBUF_INIT;
	if (show)
		pt_pve_mapping_render(m, &sb);
	return pt_strbuf_steal(&sb);
}

/* The run is done (or, in check mode, would be): what it did. */
static void record(const struct pt_pve_pci_mapping_opts *o, struct pt_pve_pci_mapping_result *res,
                   const struct pt_pve_current *cur, const struct pt_pve_plan *plan, int attempt)
{
	const struct pt_pve_mapping *t = &plan->target;
	res->action = plan->action;
	free(res->summary);
	res->summary = pt_pve_plan_describe(o, res->node, cur, plan);
	res->retries = attempt;
	if (plan->action == PT_PVE_DELETE || !t->id)
		res->mapping = json_null();
	else if ((res->mapping = pt_pve_mapping_to_json(t, NULL, true)))
		json_object_del(res->mapping, "type");
	if (plan->action == PT_PVE_NONE)
		return;
	/* The diff shows the mapping's section, not the whole file: headed so. */
	_cleanup_free_ char *header = NULL;
	_cleanup_free_ char *before = render(&cur->mapping, cur->exists);
	_cleanup_free_ char *after = render(t, plan->action != PT_PVE_DELETE && t->id);
	if (asprintf(&header, PT_PVE_PCI_CFG " [%s]", o->name) >= 0)
		pt_report_diff(&res->report, header, before, after);
}

static json_t *argv_json(const char *const argv[])
{
	json_t *cmd = json_array();
	for (size_t i = 0; argv[i]; i++)
		json_array_append_new(cmd, json_string(argv[i]));
	return cmd;
}

/* Carry out plan: 0 when done, 1 when the write lost a race (read again and
 * retry), or -errno with the failure in res->report. */
static int step(const struct pt_pve_pci_mapping_opts *o, struct pt_pvesh *sh,
                const struct pt_pve_current *cur, const struct pt_pve_plan *plan, const char *api,
                int attempt, struct pt_pve_pci_mapping_result *res)
{
	if (plan->action == PT_PVE_NONE) {
		record(o, res, cur, plan, attempt);
		return 0;
	}
	/* Check mode builds and checks the very command the real run executes, so it
	 * refuses what the real run cannot do. */
	const char **argv = pt_pve_plan_command(o, plan, cur, api);
	if (!argv)
		return -ENOMEM;
	int rc = pt_pve_plan_command_check(argv, &res->report);
	if (rc < 0 || o->check) {
		if (rc == 0)
			record(o, res, cur, plan, attempt);
		free(argv);
		return rc;
	}
	struct pt_exec_result out;
	rc = pt_pvesh_run(sh, argv, &out);
	if (rc < 0) {
		free(argv);
		return rc;
	}
	if (out.rc == 0 && !out.timed_out) {
		json_array_append_new(res->commands, argv_json(argv));
		record(o, res, cur, plan, attempt);
	} else if (pt_pvesh_did_not_run(&out) || !pt_pvesh_lost_race(out.err)) {
		if (o->live_migration >= 0 && pt_pvesh_unknown_option(out.err, PT_PVE_LM_OPTION)) {
			pt_pvesh_keep_failure(sh, argv, &out);
			rc = pt_report_fail(&res->report, -EINVAL,
			                    "live_migration_capable needs Proxmox VE %s or later "
			                    "(libpve-guest-common-perl %s), and this node's pvesh "
			                    "does not know --%s (\"Unknown option: %s\"); upgrade "
			                    "the node or leave live_migration_capable unset",
			                    PT_PVE_LM_SINCE_PVE, PT_PVE_LM_SINCE_PACKAGE,
			                    PT_PVE_LM_OPTION, PT_PVE_LM_OPTION);
		} else {
			rc = pt_pvesh_fail(sh, argv, &out);
		}
	} else if (attempt >= o->retries) {
		pt_pvesh_keep_failure(sh, argv, &out);
		_cleanup_free_ char *line = pt_pvesh_error_line(out.err);
		rc = pt_report_fail(&res->report, -EAGAIN,
		                    "gave up after %d retries: other nodes kept changing "
		                    "/etc/pve/mapping/pci.cfg (last error: %s); raise retries",
		                    attempt, line);
	} else {
		rc = 1;
	}
	free(argv);
	pt_exec_result_release(&out);
	return rc;
}

/* Read, plan and write until done. */
static int sync_loop(const struct pt_pve_pci_mapping_opts *o, struct pt_pvesh *sh,
                     struct pt_pve_hw *hw, const struct pt_pve_wanted *w,
                     struct pt_pve_pci_mapping_result *res)
{
	_cleanup_free_ char *api = NULL;
	if (asprintf(&api, PT_PVESH_PCI_API "/%s", o->name) < 0)
		return -ENOMEM;
	for (int attempt = 0;; attempt++) {
		struct pt_pve_current cur;
		int rc = pt_pve_current_read(sh, o->name, &cur);
		if (rc < 0)
			return rc;
		/* Entries that fail Proxmox's check are worth one warning, not one a try. */
		bool hw_failing = pt_pve_plan_check_existing(o, res->node, &cur, hw,
		                                             attempt == 0 ? &res->report : NULL);
		struct pt_pve_plan plan;
		rc = pt_pve_plan_make(o, res->node, w, &cur, hw_failing, &plan);
		if (rc == 0)
			rc = step(o, sh, &cur, &plan, api, attempt, res);
		pt_pve_plan_release(&plan);
		pt_pve_current_release(&cur);
		if (rc <= 0)
			return rc;
		pt_pvesh_back_off(attempt + 1);
	}
}

int pt_pve_pci_mapping_run(const struct pt_pve_pci_mapping_opts *o,
                           struct pt_pve_pci_mapping_result *res)
{
	memset(res, 0, sizeof *res);
	res->commands = json_array();
	if (pt_report_init(&res->report) < 0 || !res->commands)
		return pt_report_fail(&res->report, -ENOMEM, "out of memory");
	/* Nodes started at the same moment must not back off in lockstep. */
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	srandom((unsigned)getpid() ^ (unsigned)now.tv_nsec);

	struct pt_pve_hw hw;
	pt_pve_hw_init(&hw, o->root);
	struct pt_pvesh sh = {
	        .root = o->root, .path = o->pvesh, .timeout = o->timeout, .rep = &res->report};
	struct pt_pve_wanted w = {0};
	int rc = pt_pve_opts_check(o, &res->node, &res->report);
	if (rc == 0)
		rc = pt_pve_wanted_build(o, res->node, &hw, &w, &res->report);
	if (rc == 0)
		rc = sync_loop(o, &sh, &hw, &w, res);
	/* The pvesh call the run failed on explains the failure: its keys, in order. */
	const char *key;
	json_t *value;
	json_object_foreach (sh.failure, key, value)
		pt_report_fact(&res->report, key, json_incref(value));
	pt_pvesh_release(&sh);
	pt_pve_wanted_release(&w);
	pt_pve_hw_release(&hw);
	return rc;
}

/* A bool option as 1 or 0, or -1 when not given ("leave it as it is"). */
static int flag(const struct pt_module *m, const char *key)
{
	json_t *v = pt_param(m, key);
	return v ? json_is_true(v) : -1;
}

int pt_pve_pci_mapping_opts_read(struct pt_module *m, struct pt_pve_pci_mapping_opts *o)
{
	*o = (struct pt_pve_pci_mapping_opts){
	        .root = pt_module_root(m),
	        .check = m->check_mode,
	        .pvesh = pt_param_str(m, "pvesh"),
	        .name = pt_param_str(m, "name"),
	        .node = pt_param_str(m, "node"),
	        .present = strcmp(pt_param_str(m, "state"), "present") == 0,
	        .exact = strcmp(pt_param_str(m, "map_mode"), "exact") == 0,
	        .timeout = pt_param_seconds(m, "timeout", 60),
	        .retries = pt_param_int(m, "retries", 10),
	        .description = pt_param_str(m, "description"),
	        .mdev = flag(m, "mdev"),
	        .live_migration = flag(m, "live_migration_capable"),
	        .devices = pt_param(m, "devices"),
	        .map = pt_param(m, "map"),
	};
	return o->timeout < 0 ? -1 : 0;
}

void pt_pve_pci_mapping_result_to_module(struct pt_module *m, int ret,
                                         const struct pt_pve_pci_mapping_result *res)
{
	/* The failure message is set here, first, rather than by pt_report_to_module:
	 * the result's keys keep their order (msg, then node, commands and the failed
	 * call's keys), and pt_report_to_module would set it after node. */
	if (ret < 0) {
		pt_module_fail(m, "%s", res->report.msg ? res->report.msg : "out of memory");
	} else {
		pt_result_set_changed(m, res->action != PT_PVE_NONE);
		if (res->summary)
			pt_result_set(m, "msg", json_string(res->summary));
		pt_result_set(m, "action", json_string(pt_pve_action_name(res->action)));
		pt_result_set(m, "retries", json_integer(res->retries));
		pt_result_set(m, "mapping", json_incref(res->mapping));
	}
	pt_result_set(m, "node", res->node ? json_string(res->node) : json_null());
	if (json_array_size(res->commands))
		pt_result_set(m, "commands", json_incref(res->commands));
	pt_report_to_module(m, &res->report, false);
}
