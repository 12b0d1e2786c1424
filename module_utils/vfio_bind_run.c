#include "vfio_bind_run.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "pci.h"
#include "runtime.h"
#include "strbuf.h"
#include "vfio_driver.h"
#include "vfio_files.h"
#include "vfio_plan.h"
#include "vfio_safety.h"
#include "vfio_select.h"

/* What one run knows, step by step. */
struct run {
	const struct pt_vfio_bind_opts *o; /* the options, or eff once the blacklist is chosen */
	struct pt_vfio_bind_opts eff;      /* the options with blacklist_drivers=auto resolved */
	json_t *auto_blacklist;            /* what auto chose (owned), else NULL */
	struct pt_vfio_bind_result *res;
	struct pt_report *rep;
	struct pt_pci_host host;
	json_t *selected; /* address → "address" | "id" | "group" */
	struct pt_vfio_plan plan;
	struct pt_vfio_files files;
	json_t *devices; /* result: one object per selected device */
	json_t *entries; /* result: one object per managed file */
	bool files_changed;
	bool written;         /* a file was written (not only planned) */
	bool rebuild_pending; /* update-initramfs reruns for an earlier run */
	bool devices_changed;
};

/* One result entry per selected device, as it is before the run. */
static int list_devices(struct run *r)
{
	const char *addr;
	json_t *how;
	json_object_foreach (r->selected, addr, how) {
		const struct pt_pci_device *d = pt_pci_find(&r->host, addr);
		if (!d)
			continue;
		char id[16];
		pt_pci_id_string(d->vendor_id, d->device_id, id, sizeof id);
		json_t *e = json_object();
		json_object_set_new(e, "address", json_string(d->address));
		json_object_set_new(e, "ids", json_string(id));
		json_object_set_new(e, "group",
		                    d->iommu_group >= 0 ? json_integer(d->iommu_group)
		                                        : json_null());
		json_object_set_new(e, "driver_before",
		                    d->driver ? json_string(d->driver) : json_null());
		json_object_set_new(e, "driver_after",
		                    d->driver ? json_string(d->driver) : json_null());
		json_object_set_new(e, "mechanism",
		                    r->o->present
		                            ? json_string(pt_vfio_plan_mechanism(&r->plan, addr))
		                            : json_null());
		json_object_set(e, "selected_by", how);
		json_object_set_new(e, "boot_vga", json_boolean(d->boot_vga == 1));
		if (!e || json_array_append_new(r->devices, e) < 0)
			return pt_report_fail(r->rep, -ENOMEM, "out of memory");
	}
	return 0;
}

/* The safety rules (vfio_safety.h): notices become warnings; refusals stop the
 * run, in check mode too, unless force turns them into warnings. */
static int check_safety(struct run *r)
{
	_cleanup_json_ json_t *problems = json_array();
	_cleanup_json_ json_t *notices = json_array();
	if (!problems || !notices ||
	    pt_safety_check(r->o->root, &r->host, r->selected, r->o->blacklist, problems, notices) <
	            0)
		return pt_report_fail(r->rep, -ENOMEM,
		                      "out of memory while checking the selection");
	size_t i, n = json_array_size(problems);
	json_t *v;
	json_array_foreach (notices, i, v)
		pt_report_warn(r->rep, "%s", json_string_value(v));
	if (!n)
		return 0;
	if (r->o->force) {
		json_array_foreach (problems, i, v)
			pt_report_warn(r->rep, "force: true overrides this refusal: %s",
			               json_string_value(json_object_get(v, "message")));
		return 0;
	}
	_cleanup_strbuf_ struct pt_strbuf msg = PT_STRBUF_INIT;
	if (n > 1)
		pt_strbuf_printf(&msg, "%zu safety refusals, nothing was changed: ", n);
	json_array_foreach (problems, i, v) {
		if (n > 1)
			pt_strbuf_printf(&msg, "%s(%zu) ", i ? " " : "", i + 1);
		pt_strbuf_puts(&msg, json_string_value(json_object_get(v, "message")));
	}
	json_object_set(r->res->values, "refusals", problems);
	return pt_report_fail(r->rep, -EPERM, "%s",
	                      msg.oom ? "out of memory" : pt_strbuf_str(&msg));
}

/* After a run that went through: does the host still need a reboot to get
 * where the options say? */
static bool reboot_required(const struct run *r)
{
	if ((r->files_changed || r->rebuild_pending) && !r->o->bind_now)
		return true;
	size_t i;
	json_t *e;
	json_array_foreach (r->devices, i, e) {
		bool on_vfio = pt_vfio_driver_is_vfio(
		        json_string_value(json_object_get(e, "driver_after")));
		if (r->o->present != on_vfio)
			return true;
	}
	return false;
}

static int steps(struct run *r)
{
	const struct pt_vfio_bind_opts *o = r->o;
	struct pt_report *rep = r->rep;
	struct stat st;
	int e;
	if (stat(o->root, &st) < 0 || !S_ISDIR(st.st_mode))
		return pt_report_fail(
		        rep, -ENOTDIR,
		        "root %s is not a directory; give the directory that holds the host's "
		        "/etc, /sys and /proc, or / for the host itself",
		        o->root);
	if ((e = pt_vfio_files_check_paths(o, rep)) < 0 ||
	    (e = pt_vfio_files_check_distinct(o, rep)) < 0)
		return e;
	if (o->present && (e = pt_vfio_plan_check_blacklist(o->blacklist, rep)) < 0)
		return e;
	if (o->present && !pt_vfio_plan_blacklist_is_auto(o->blacklist) &&
	    pt_vfio_plan_blacklist_has_auto(o->blacklist))
		return pt_report_fail(
		        rep, -EINVAL,
		        "blacklist_drivers: auto chooses the drivers from the hardware and stands "
		        "alone; give either [auto] or the driver names, not both");
	/* the scan's own message stands; this one only when it could give none */
	if ((e = pt_pci_scan(o->root, &r->host, rep)) < 0)
		return pt_report_fail(rep, e, "cannot read the PCI devices");
	if ((e = pt_vfio_select(&r->host, o->devices, o->ids, o->present, o->include_group,
	                        &r->selected, rep)) < 0 ||
	    (e = pt_vfio_plan_make(o->root, &r->host, r->selected, o->present, &r->plan, rep)) <
	            0 ||
	    (e = list_devices(r)) < 0)
		return e;
	/* blacklist_drivers=auto: chosen here, from the selection, so that check mode,
	 * the safety rules, the file and the result all see the same list */
	if (o->present && pt_vfio_plan_blacklist_is_auto(o->blacklist)) {
		json_t *choice = NULL;
		if (pt_vfio_plan_blacklist_auto(o->root, &r->host, r->selected, &r->auto_blacklist,
		                                &choice) < 0)
			return pt_report_fail(rep, -ENOMEM, "out of memory");
		json_object_set_new(r->res->values, "blacklist_choice", choice);
		r->eff = *o;
		r->eff.blacklist = r->auto_blacklist;
		r->o = o = &r->eff;
	}
	/* refusals come before anything is written, in check mode too */
	if (o->present && (e = check_safety(r)) < 0)
		return e;
	if ((e = pt_vfio_files_plan(o, &r->plan, &r->files, rep)) < 0 ||
	    (e = pt_vfio_files_apply(o, &r->files, r->entries, &r->files_changed, &r->written,
	                             rep)) < 0)
		return e;
	/* an earlier run's failed rebuild counts as a change to make */
	r->rebuild_pending = r->files.initramfs_pending && o->update_initramfs;
	bool initramfs = (r->files_changed || r->rebuild_pending) && o->update_initramfs;
	if (initramfs) {
		json_t *command = NULL;
		e = pt_vfio_initramfs_update(o, &command, rep);
		if (command)
			json_object_set_new(r->res->values, "initramfs", command);
		if (e < 0)
			return e;
	}
	if (o->bind_now &&
	    (e = pt_vfio_driver_bind_now(o->root, &r->host, r->devices, o->present, o->check,
	                                 o->modprobe_timeout, &r->devices_changed, rep)) < 0)
		return e;
	json_object_set_new(r->res->values, "initramfs_updated", json_boolean(initramfs));
	json_object_set_new(r->res->values, "reboot_required", json_boolean(reboot_required(r)));
	return 0;
}

/* The value, or an empty list when the run stopped before it was known. */
static json_t *or_empty(json_t *v)
{
	return v ? json_incref(v) : json_array();
}

int pt_vfio_bind_run(const struct pt_vfio_bind_opts *opts, struct pt_vfio_bind_result *res)
{
	*res = (struct pt_vfio_bind_result){0};
	struct run r = {.o = opts, .res = res, .rep = &res->report};
	res->values = json_object();
	r.devices = json_array();
	r.entries = json_array();
	int e = pt_report_init(&res->report);
	if (e < 0 || !res->values || !r.devices || !r.entries)
		e = pt_report_fail(&res->report, -ENOMEM, "out of memory");
	else
		e = steps(&r);

	/* what is known goes into the result, failed or not */
	res->changed = e < 0 ? r.written || (r.devices_changed && !opts->check)
	                     : r.files_changed || r.rebuild_pending || r.devices_changed;
	json_t *v = res->values;
	json_object_set_new(v, "devices", or_empty(r.devices));
	json_object_set_new(v, "ids", or_empty(r.plan.ids));
	json_object_set_new(v, "softdeps", or_empty(r.plan.softdeps));
	json_object_set_new(v, "blacklist",
	                    !opts->present     ? json_array()
	                    : r.auto_blacklist ? json_incref(r.auto_blacklist)
	                    : pt_vfio_plan_blacklist_is_auto(opts->blacklist)
	                            ? json_array() /* stopped before the choice */
	                            : pt_vfio_plan_blacklist(opts->blacklist));
	json_object_set_new(v, "modules", or_empty(r.plan.modules));
	json_object_set_new(v, "kernels", or_empty(r.plan.kernels));
	json_object_set_new(v, "files", or_empty(r.entries));
	json_object_set_new(v, "initramfs_pending", json_boolean(r.files.initramfs_pending));

	pt_pci_host_release(&r.host);
	pt_vfio_plan_release(&r.plan);
	pt_vfio_files_release(&r.files);
	json_decref(r.selected);
	json_decref(r.devices);
	json_decref(r.entries);
	json_decref(r.auto_blacklist);
	return e;
}

void pt_vfio_bind_result_release(struct pt_vfio_bind_result *res)
{
	json_decref(res->values);
	pt_report_release(&res->report);
	res->values = NULL;
}

void pt_vfio_bind_result_to_module(struct pt_module *m, int ret,
                                   const struct pt_vfio_bind_result *res)
{
	const char *key;
	json_t *v;
	pt_report_to_module(m, &res->report, ret < 0);
	pt_result_set_changed(m, res->changed);
	json_object_foreach (res->values, key, v)
		pt_result_set(m, key, json_incref(v));
}

int pt_vfio_bind_opts_read(struct pt_module *m, struct pt_vfio_bind_opts *o)
{
	const char *state = pt_param_str(m, "state");
	*o = (struct pt_vfio_bind_opts){
	        .root = pt_module_root(m),
	        .present = !state || !strcmp(state, "present"),
	        .check = m->check_mode,
	        .devices = pt_param(m, "devices"),
	        .ids = pt_param(m, "ids"),
	        .include_group = pt_param_bool(m, "include_group", true),
	        .disable_vga = pt_param_bool(m, "disable_vga", false),
	        .blacklist = pt_param(m, "blacklist_drivers"),
	        .update_initramfs = pt_param_bool(m, "update_initramfs", true),
	        .initramfs_timeout = pt_param_seconds(m, "initramfs_timeout", 900),
	        .modprobe_timeout = pt_param_seconds(m, "modprobe_timeout", 60),
	        .bind_now = pt_param_bool(m, "bind_now", false),
	        .force = pt_param_bool(m, "force", false),
	        .backup = pt_param_bool(m, "backup", false),
	};
	/* a relative path would be joined onto root as "<root>vfio.conf", beside it */
	if (o->initramfs_timeout < 0 || o->modprobe_timeout < 0 ||
	    pt_param_abspath(m, "conf_path", &o->conf_path) < 0 ||
	    pt_param_abspath(m, "blacklist_path", &o->blacklist_path) < 0 ||
	    pt_param_abspath(m, "modules_file", &o->modules_file) < 0)
		return -1;
	return 0;
}
