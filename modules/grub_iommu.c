/* grub_iommu: IOMMU (and other) parameters on the kernel command line the host
 * boots with next — /etc/default/grub for GRUB, /etc/kernel/cmdline for Proxmox
 * systemd-boot — and the boot configuration regenerated.
 *
 *   grub_iommu ARGS_FILE   as Ansible runs it: one JSON result on stdout
 *   grub_iommu --help
 *
 * The flow, each step in module_utils: the parameters asked for (boot_iommu_params.h)
 * → the boot loader (boot_loader.h) → the file read and its edit planned, with
 * warnings, and refused when the command line would outgrow what the kernel
 * keeps (boot_cmdline_plan.h) → diff → reboot_required from /proc/cmdline
 * (boot_reboot_required.h) → not in check mode: the file written and update-grub or
 * proxmox-boot-tool refresh run (boot_update.h), also when an earlier run's
 * regeneration failed (its pending marker is there). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "boot_update.h"
#include "boot_loader.h"
#include "cleanup.h"
#include "boot_cmdline_plan.h"
#include "grub_iommu_argspec.h"
#include "boot_iommu_params.h"
#include "boot_reboot_required.h"
#include "runtime.h"

static const char usage[] =
        "usage: grub_iommu ARGS_FILE\n"
        "       grub_iommu -\n"
        "       grub_iommu --help\n"
        "\n"
        "The Ansible module homelab.passthrough.grub_iommu: puts intel_iommu=on,\n"
        "iommu=pt and other kernel parameters on the command line the host boots\n"
        "with next (/etc/default/grub for GRUB, /etc/kernel/cmdline for Proxmox\n"
        "systemd-boot) and runs update-grub or proxmox-boot-tool refresh.\n"
        "ARGS_FILE is a JSON object of options, as Ansible writes it; - reads that\n"
        "object from stdin. See `ansible-doc homelab.passthrough.grub_iommu`.\n";

/* The options, validated by the generated spec. Strings are borrowed from m. */
struct options {
	const char *root;
	struct pt_boot_iommu_request req; /* vendor is set once iommu is resolved */
	const char *iommu;           /* auto, intel, amd, none */
	const char *bootloader;      /* auto, grub, systemd-boot */
	const char *path;            /* NULL: the boot loader's usual file */
	bool backup;
	bool update;
	int timeout;
	bool valid; /* false: an option was refused and the run marked failed */
};

/* Fills o; returns the params vector o->req.params points into (caller frees;
 * its strings are borrowed from m), or NULL when out of memory. */
static const char **read_options(struct pt_module *m, struct options *o)
{
	json_t *params = pt_param(m, "params");
	size_t n = json_array_size(params);
	const char **v = calloc(n + 1, sizeof *v);
	for (size_t i = 0; v && i < n; i++)
		v[i] = json_string_value(json_array_get(params, i));
	const char *state = pt_param_str(m, "state");
	*o = (struct options){
	        .root = pt_module_root(m),
	        .req = {.present = !state || strcmp(state, "absent") != 0,
	                .passthrough = pt_param_bool(m, "passthrough_mode", true),
	                .params = v,
	                .n_params = n},
	        .iommu = pt_param_str(m, "iommu"),
	        .bootloader = pt_param_str(m, "bootloader"),
	        .backup = pt_param_bool(m, "backup", false),
	        .update = pt_param_bool(m, "update", true),
	        .timeout = pt_param_seconds(m, "timeout", 600),
	};
	/* pt_param_seconds has failed the run when timeout <= 0; check path
	 * only then, so that the run carries one message. */
	o->valid = o->timeout > 0 && pt_param_abspath(m, "path", &o->path) == 0;
	return v;
}

/* The library's message for a failure (NULL: it ran out of memory). */
static int fail(struct pt_module *m, const char *msg)
{
	return pt_module_fail(m, "%s", msg ? msg : "out of memory");
}

static json_t *string_list(char **list, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(list[i]));
	return a;
}

static void set_result(struct pt_module *m, const struct options *o,
                       const struct pt_boot_detection *boot, const struct pt_boot_cmdline_plan *p,
                       bool changed)
{
	pt_result_set_changed(m, changed);
	pt_result_set(m, "bootloader", json_string(pt_boot_loader_name(boot->loader)));
	pt_result_set(m, "bootloader_reason", json_string(boot->reason ? boot->reason : ""));
	pt_result_set(m, "iommu_vendor", json_string(o->req.vendor));
	pt_result_set(m, "path", json_string(p->path));
	pt_result_set(m, "cmdline", pt_json_text(p->cmdline_after ? p->cmdline_after : ""));
	pt_result_set(m, "cmdline_before",
	              pt_json_text(p->cmdline_before ? p->cmdline_before : ""));
	pt_result_set(m, "params_added", string_list(p->chg.added, p->chg.n_added));
	pt_result_set(m, "params_removed", string_list(p->chg.removed, p->chg.n_removed));
	/* Without /proc/cmdline the edit is all there is to go by. */
	int required = pt_boot_reboot_required(o->root, &o->req);
	pt_result_set(m, "reboot_required", json_boolean(required < 0 ? changed : required));
	if (changed && o->update)
		pt_result_set(m, "update_command", json_string(pt_boot_update_command(p->loader)));
}

/* A real run: when the file changes, the pending-regeneration marker first
 * (with update, unless an earlier run left it), then the file; then, with
 * update, the regeneration, whose success alone removes the marker. So a
 * regeneration that fails is retried by the next run (boot_update.h). */
static int apply(struct pt_module *m, const struct options *o, const struct pt_boot_cmdline_plan *p,
                 bool file_changed, bool pending)
{
	_cleanup_free_ char *backup = NULL, *err = NULL;
	if (file_changed) {
		bool marked = false;
		if (o->update && !pending) {
			if (pt_boot_update_mark(o->root, &err) < 0) {
				pt_result_set_changed(m, false);
				return fail(m, err);
			}
			marked = true;
		}
		if (pt_boot_update_write(p, o->backup, &backup, &err) < 0) {
			pt_result_set_changed(m, false);
			/* nothing written after all: nothing to regenerate for */
			_cleanup_free_ char *ignored = NULL;
			if (marked)
				pt_boot_update_unmark(o->root, &ignored);
			return fail(m, err);
		}
		if (backup)
			pt_result_set(m, "backup_file", json_string(backup));
	}
	if (!o->update)
		return 0;
	struct pt_exec_result res;
	int e = pt_boot_update_run(p, o->timeout, &res, &err);
	pt_result_set(m, "rc", json_integer(res.rc));
	pt_result_set(m, "stdout", json_string(res.out ? res.out : ""));
	pt_result_set(m, "stderr", json_string(res.err ? res.err : ""));
	pt_exec_result_release(&res);
	if (e < 0)
		return fail(m, err);
	if (pt_boot_update_unmark(o->root, &err) < 0)
		pt_warn(m,
		        "the boot configuration is regenerated, but %s could not be removed (%s): "
		        "the next run regenerates it once more",
		        PT_BOOT_UPDATE_PENDING, err ? err : "out of memory");
	return 0;
}

static int run(struct pt_module *m, struct options *o, struct pt_boot_detection *boot,
               struct pt_boot_cmdline_plan *p)
{
	_cleanup_free_ char *err = NULL;
	if (!o->req.params)
		return fail(m, NULL);
	if (pt_boot_iommu_params_check(o->req.params, o->req.n_params, &err) < 0 ||
	    pt_boot_iommu_params_vendor(o->iommu, o->root, &o->req.vendor, &err) < 0)
		return fail(m, err);
	if (pt_boot_loader_choose(o->root, o->bootloader, m->check_mode, o->timeout, boot) < 0)
		return pt_module_fail(m, "out of memory while detecting the boot loader");
	if (boot->warning)
		pt_warn(m, "%s", boot->warning);

	const char *path = o->path ? o->path : pt_boot_loader_cmdline_path(boot->loader);
	int e = pt_boot_cmdline_plan_read(p, o->root, path, boot->loader, boot->reason, &err);
	if (e == 0)
		e = pt_boot_cmdline_plan_edit(p, &o->req, &err);
	for (size_t i = 0; i < p->warnings.n; i++)
		pt_warn(m, "%s", p->warnings.items[i]);
	if (e < 0)
		return fail(m, err);

	/* An earlier run's regeneration that never succeeded is this run's to do:
	 * the file alone would say that nothing is left. */
	bool pending = pt_boot_update_pending(o->root);
	bool file_changed = pt_boot_cmdline_plan_changed(p);
	bool changed = file_changed || (pending && o->update);
	if (pending && !o->update)
		pt_warn(m,
		        "an earlier run changed the kernel command line and regenerating the boot "
		        "configuration has not succeeded since (%s): the next boot may still use "
		        "the old command line. Run `%s` before rebooting, or run this task with "
		        "update: true",
		        PT_BOOT_UPDATE_PENDING, pt_boot_update_command(p->loader));
	if (file_changed)
		pt_diff_add(m, path, p->before, p->after);
	set_result(m, o, boot, p, changed);
	pt_result_set(m, "regenerate_pending", json_boolean(pending));
	return changed && !m->check_mode ? apply(m, o, p, file_changed, pending) : 0;
}

int main(int argc, char **argv)
{
	int rc = pt_module_cli(argc, argv, "grub_iommu", usage);
	if (rc >= 0)
		return rc;
	struct pt_module m;
	if (pt_module_init(&m, "homelab.passthrough.grub_iommu", grub_iommu_argspec_json, argc,
	                   argv) < 0)
		return pt_module_finish(&m);

	struct options o;
	const char **params = read_options(&m, &o);
	struct pt_boot_detection boot = {0};
	struct pt_boot_cmdline_plan plan = {0};
	if (o.valid)
		run(&m, &o, &boot, &plan);
	pt_boot_detection_release(&boot);
	pt_boot_cmdline_plan_release(&plan);
	free(params);
	return pt_module_finish(&m);
}
