#include "grub_iommu_run.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "boot_iommu_params.h"
#include "boot_reboot_required.h"
#include "boot_update.h"
#include "cleanup.h"
#include "runtime.h"

/* A real run: when the file changes, the pending-regeneration marker first
 * (with update, unless an earlier run left it), then the file; then, with
 * update, the regeneration, whose success alone removes the marker. So a
 * regeneration that fails is retried by the next run (boot_update.h). */
static int apply(const struct pt_grub_iommu_opts *o, struct pt_grub_iommu_result *res,
                 bool file_changed, bool pending)
{
	const struct pt_boot_cmdline_plan *p = &res->plan;
	struct pt_report *rep = &res->report;
	int e;
	if (file_changed) {
		bool marked = false;
		if (o->update && !pending) {
			if ((e = pt_boot_update_mark(o->root, rep)) < 0) {
				res->changed = false;
				return e;
			}
			marked = true;
		}
		if ((e = pt_boot_update_write(p, o->backup, &res->backup_file, rep)) < 0) {
			res->changed = false;
			/* nothing written after all: nothing to regenerate for. The
			 * report keeps the write's failure, not this one's. */
			if (marked)
				pt_boot_update_unmark(o->root, rep);
			return e;
		}
	}
	if (!o->update)
		return 0;
	res->update_ran = true;
	if ((e = pt_boot_update_run(p, o->timeout, &res->update, rep)) < 0)
		return e;
	/* The regeneration succeeded: a marker left behind only costs the next
	 * run one more regeneration, so it is a warning, not a failure. */
	struct pt_report unmark;
	pt_report_init(&unmark);
	if (pt_boot_update_unmark(o->root, &unmark) < 0)
		pt_report_warn(rep,
		               "the boot configuration is regenerated, but %s could not be removed "
		               "(%s): the next run regenerates it once more",
		               PT_BOOT_UPDATE_PENDING, unmark.msg ? unmark.msg : "out of memory");
	pt_report_release(&unmark);
	return 0;
}

static int steps(const struct pt_grub_iommu_opts *o, struct pt_grub_iommu_result *res)
{
	struct pt_report *rep = &res->report;
	size_t n = json_array_size(o->params);
	_cleanup_free_ const char **params = calloc(n + 1, sizeof *params);
	if (!params)
		return pt_report_fail(rep, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		params[i] = json_string_value(json_array_get(o->params, i));
	struct pt_boot_iommu_request req = {.present = o->present,
	                                    .passthrough = o->passthrough,
	                                    .params = params,
	                                    .n_params = n};
	int e;
	if ((e = pt_boot_iommu_params_check(params, n, rep)) < 0 ||
	    (e = pt_boot_iommu_params_vendor(o->iommu, o->root, &req.vendor, rep)) < 0)
		return e;
	res->vendor = req.vendor;
	if (pt_boot_loader_choose(o->root, o->bootloader, o->check, o->timeout, &res->boot, rep) <
	    0)
		return pt_report_fail(rep, -ENOMEM,
		                      "out of memory while detecting the boot loader");

	struct pt_boot_cmdline_plan *p = &res->plan;
	const char *path = o->path ? o->path : pt_boot_loader_cmdline_path(res->boot.loader);
	if ((e = pt_boot_cmdline_plan_read(p, o->root, path, res->boot.loader, res->boot.reason,
	                                   rep)) < 0 ||
	    (e = pt_boot_cmdline_plan_edit(p, &req, rep)) < 0)
		return e;

	/* An earlier run's regeneration that never succeeded is this run's to do:
	 * the file alone would say that nothing is left. */
	bool pending = pt_boot_update_pending(o->root);
	bool file_changed = pt_boot_cmdline_plan_changed(p);
	res->changed = file_changed || (pending && o->update);
	if (pending && !o->update)
		pt_report_warn(
		        rep,
		        "an earlier run changed the kernel command line and regenerating the "
		        "boot configuration has not succeeded since (%s): the next boot may "
		        "still use the old command line. Run `%s` before rebooting, or run "
		        "this task with update: true",
		        PT_BOOT_UPDATE_PENDING, pt_boot_update_command(p->loader));
	if (file_changed)
		pt_report_diff(rep, path, p->before, p->after);
	/* Without /proc/cmdline the edit is all there is to go by. */
	int required = pt_boot_reboot_required(o->root, &req);
	res->reboot_required = required < 0 ? res->changed : required;
	if (res->changed && o->update)
		res->update_command = pt_boot_update_command(p->loader);
	res->regenerate_pending = pending;
	res->planned = true;
	return res->changed && !o->check ? apply(o, res, file_changed, pending) : 0;
}

int pt_grub_iommu_run(const struct pt_grub_iommu_opts *opts, struct pt_grub_iommu_result *res)
{
	*res = (struct pt_grub_iommu_result){0};
	if (pt_report_init(&res->report) < 0)
		return pt_report_fail(&res->report, -ENOMEM, "out of memory");
	return steps(opts, res);
}

void pt_grub_iommu_result_release(struct pt_grub_iommu_result *res)
{
	pt_boot_detection_release(&res->boot);
	pt_boot_cmdline_plan_release(&res->plan);
	free(res->backup_file);
	res->backup_file = NULL;
	pt_exec_result_release(&res->update);
	pt_report_release(&res->report);
}

static json_t *string_list(char **list, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(list[i]));
	return a;
}

void pt_grub_iommu_result_to_module(struct pt_module *m, int ret,
                                    const struct pt_grub_iommu_result *res)
{
	/* Stopped before the plan: the failure is all there is to say (the
	 * runtime adds changed: false after it). */
	if (!res->planned) {
		pt_report_to_module(m, &res->report, ret < 0);
		return;
	}
	const struct pt_boot_cmdline_plan *p = &res->plan;
	pt_result_set_changed(m, res->changed);
	pt_result_set(m, "bootloader", json_string(pt_boot_loader_name(res->boot.loader)));
	pt_result_set(m, "bootloader_reason",
	              json_string(res->boot.reason ? res->boot.reason : ""));
	pt_result_set(m, "iommu_vendor", json_string(res->vendor));
	pt_result_set(m, "path", json_string(p->path));
	pt_result_set(m, "cmdline", pt_json_text(p->cmdline_after ? p->cmdline_after : ""));
	pt_result_set(m, "cmdline_before",
	              pt_json_text(p->cmdline_before ? p->cmdline_before : ""));
	pt_result_set(m, "params_added", string_list(p->chg.added, p->chg.n_added));
	pt_result_set(m, "params_removed", string_list(p->chg.removed, p->chg.n_removed));
	pt_result_set(m, "reboot_required", json_boolean(res->reboot_required));
	if (res->update_command)
		pt_result_set(m, "update_command", json_string(res->update_command));
	pt_result_set(m, "regenerate_pending", json_boolean(res->regenerate_pending));
	if (res->backup_file)
		pt_result_set(m, "backup_file", json_string(res->backup_file));
	if (res->update_ran) {
		pt_result_set(m, "rc", json_integer(res->update.rc));
		pt_result_set(m, "stdout", json_string(res->update.out ? res->update.out : ""));
		pt_result_set(m, "stderr", json_string(res->update.err ? res->update.err : ""));
	}
	/* the failure last: after what the run got done */
	pt_report_to_module(m, &res->report, ret < 0);
}

int pt_grub_iommu_opts_read(struct pt_module *m, struct pt_grub_iommu_opts *o)
{
	const char *state = pt_param_str(m, "state");
	*o = (struct pt_grub_iommu_opts){
	        .root = pt_module_root(m),
	        .check = m->check_mode,
	        .present = !state || strcmp(state, "absent") != 0,
	        .passthrough = pt_param_bool(m, "passthrough_mode", true),
	        .params = pt_param(m, "params"),
	        .iommu = pt_param_str(m, "iommu"),
	        .bootloader = pt_param_str(m, "bootloader"),
	        .backup = pt_param_bool(m, "backup", false),
	        .update = pt_param_bool(m, "update", true),
	        .timeout = pt_param_seconds(m, "timeout", 600),
	};
	/* pt_param_seconds has failed the run when timeout <= 0; check path
	 * only then, so that the run carries one message. */
	if (o->timeout <= 0 || pt_param_abspath(m, "path", &o->path) < 0)
		return -1;
	return 0;
}
