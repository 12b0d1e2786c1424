#include "pve_mapping_sync.h"

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
#include "strbuf.h"

void pt_pve_outcome_release(struct pt_pve_outcome *out)
{
	free(out->node);
	free(out->summary);
	json_decref(out->mapping);
	free(out->diff_before);
	free(out->diff_after);
	json_decref(out->commands);
	json_decref(out->failure);
	json_decref(out->warnings);
	free(out->msg);
	memset(out, 0, sizeof *out);
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
static void record(const struct pt_pve_request *req, bool check_mode, struct pt_pve_outcome *out,
                   const struct pt_pve_current *cur, const struct pt_pve_plan *plan, int attempt)
{
	const struct pt_pve_mapping *t = &plan->target;
	out->action = plan->action;
	free(out->summary);
	out->summary = pt_pve_plan_describe(req, out->node, cur, plan, check_mode);
	out->retries = attempt;
	if (plan->action == PT_PVE_DELETE || !t->id)
		out->mapping = json_null();
	else if ((out->mapping = pt_pve_mapping_to_json(t, NULL, true)))
		json_object_del(out->mapping, "type");
	if (plan->action != PT_PVE_NONE) {
		out->diff_before = render(&cur->mapping, cur->exists);
		out->diff_after = render(t, plan->action != PT_PVE_DELETE && t->id);
	}
}

static json_t *argv_json(const char *const argv[])
{
	json_t *cmd = json_array();
	for (size_t i = 0; argv[i]; i++)
		json_array_append_new(cmd, json_string(argv[i]));
	return cmd;
}

/* Carry out plan: 0 when done, 1 when the write lost a race (read again and
 * retry), or -errno with out->msg set. */
static int step(const struct pt_pve_request *req, bool check_mode, struct pt_pvesh *sh,
                const struct pt_pve_current *cur, const struct pt_pve_plan *plan, const char *api,
                int attempt, struct pt_pve_outcome *out)
{
	if (plan->action == PT_PVE_NONE) {
		record(req, check_mode, out, cur, plan, attempt);
		return 0;
	}
	/* Check mode builds and checks the very command the real run executes, so it
	 * refuses what the real run cannot do. */
	const char **argv = pt_pve_plan_command(req, plan, cur, api);
	if (!argv)
		return -ENOMEM;
	int rc = pt_pve_plan_command_check(argv, &out->msg);
	if (rc < 0 || check_mode) {
		if (rc == 0)
			record(req, check_mode, out, cur, plan, attempt);
		free(argv);
		return rc;
	}
	struct pt_exec_result res;
	rc = pt_pvesh_run(sh, argv, &res, &out->msg);
	if (rc < 0) {
		free(argv);
		return rc;
	}
	if (res.rc == 0 && !res.timed_out) {
		json_array_append_new(out->commands, argv_json(argv));
		record(req, check_mode, out, cur, plan, attempt);
	} else if (pt_pvesh_did_not_run(&res) || !pt_pvesh_lost_race(res.err)) {
		rc = pt_pvesh_fail(sh, argv, &res, &out->msg);
		if (req->live_migration >= 0 &&
		    pt_pvesh_unknown_option(res.err, PT_PVE_LM_OPTION)) {
			free(out->msg);
			rc = pt_pve_message(&out->msg, -EINVAL,
			                    "live_migration_capable needs Proxmox VE %s or later "
			                    "(libpve-guest-common-perl %s), and this node's pvesh "
			                    "does not know --%s (\"Unknown option: %s\"); upgrade "
			                    "the node or leave live_migration_capable unset",
			                    PT_PVE_LM_SINCE_PVE, PT_PVE_LM_SINCE_PACKAGE,
			                    PT_PVE_LM_OPTION, PT_PVE_LM_OPTION);
		}
	} else if (attempt >= req->retries) {
		pt_pvesh_keep_failure(sh, argv, &res);
		_cleanup_free_ char *line = pt_pvesh_error_line(res.err);
		rc = pt_pve_message(&out->msg, -EAGAIN,
		                    "gave up after %d retries: other nodes kept changing "
		                    "/etc/pve/mapping/pci.cfg (last error: %s); raise retries",
		                    attempt, line);
	} else {
		rc = 1;
	}
	free(argv);
	pt_exec_result_release(&res);
	return rc;
}

/* Read, plan and write until done. */
static int sync_loop(const struct pt_pve_request *req, bool check_mode, struct pt_pvesh *sh,
                     struct pt_pve_hw *hw, const struct pt_pve_wanted *w,
                     struct pt_pve_outcome *out)
{
	_cleanup_free_ char *api = NULL;
	if (asprintf(&api, PT_PVESH_PCI_API "/%s", req->name) < 0)
		return -ENOMEM;
	for (int attempt = 0;; attempt++) {
		struct pt_pve_current cur;
		int rc = pt_pve_current_read(sh, req->name, &cur, &out->msg);
		if (rc < 0)
			return rc;
		/* Entries that fail Proxmox's check are worth one warning, not one a try. */
		bool hw_failing = pt_pve_plan_check_existing(req, out->node, &cur, hw,
		                                             attempt == 0 ? out->warnings : NULL);
		struct pt_pve_plan plan;
		rc = pt_pve_plan_make(req, out->node, w, &cur, hw_failing, &plan);
		if (rc == 0)
			rc = step(req, check_mode, sh, &cur, &plan, api, attempt, out);
		pt_pve_plan_release(&plan);
		pt_pve_current_release(&cur);
		if (rc <= 0)
			return rc;
		pt_pvesh_back_off(attempt + 1);
	}
}

int pt_pve_sync(const struct pt_pve_request *req, bool check_mode, struct pt_pve_outcome *out)
{
	memset(out, 0, sizeof *out);
	out->commands = json_array();
	out->warnings = json_array();
	/* Nodes started at the same moment must not back off in lockstep. */
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	srandom((unsigned)getpid() ^ (unsigned)now.tv_nsec);

	struct pt_pve_hw hw;
	pt_pve_hw_init(&hw, req->root);
	struct pt_pvesh sh = {.root = req->root,
	                      .path = req->pvesh,
	                      .timeout = req->timeout,
	                      .warnings = out->warnings};
	struct pt_pve_wanted w = {0};
	int rc = pt_pve_request_check(req, &out->node, &out->msg);
	if (rc == 0)
		rc = pt_pve_wanted_build(req, out->node, &hw, &w, out->warnings, &out->msg);
	if (rc == 0)
		rc = sync_loop(req, check_mode, &sh, &hw, &w, out);
	out->failure = sh.failure;
	pt_pve_wanted_release(&w);
	pt_pve_hw_release(&hw);
	return rc;
}
