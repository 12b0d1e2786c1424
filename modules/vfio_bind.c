/* vfio_bind: hand PCI devices to vfio-pci, persistently and now, without
 * cutting the host off (issue 4; docs in modules/vfio_bind.yml).
 *
 * A run: select the devices (addresses, IDs, IOMMU group companions), refuse
 * what would cut the host off (vfio_safety), compute the three managed blocks
 * (modprobe.d options/softdeps/install, the blacklist, the vfio modules), write
 * the files that differ, rebuild the initramfs, and with bind_now move the
 * devices to vfio-pci right away. Check mode goes through the same steps and
 * stops short of every write and every command. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "exec.h"
#include "files.h"
#include "kmod.h"
#include "modprobe_conf.h"
#include "modules_file.h"
#include "pci.h"
#include "runtime.h"
#include "strbuf.h"
#include "vfio_bind_argspec.h"
#include "vfio_safety.h"

#define MODULE_NAME     "homelab.passthrough.vfio_bind"
#define OWNER_CONF      MODULE_NAME
#define OWNER_BLACKLIST MODULE_NAME "/blacklist"
#define OWNER_MODULES   MODULE_NAME
#define HEADER          ": managed by Ansible (edits here are overwritten)"
#define VFIO_DRIVER     "vfio-pci"

struct run {
	struct pt_module *m;
	const char *root;
	bool present;
	bool check;
	bool bind_now;
	bool force;
	bool backup;
	struct pt_pci_host host;
	json_t *selected; /* address → "address" | "id" | "group" */
	json_t *devices;  /* result: one object per selected device */
	json_t *files;    /* result: {path, changed, state[, backup]} */
	json_t *written;  /* paths written so far, for a message when a later step fails */
	bool files_changed;
	bool devices_changed;
};

static void run_release(struct run *r)
{
	pt_pci_host_release(&r->host);
	json_decref(r->selected);
	json_decref(r->devices);
	json_decref(r->files);
	json_decref(r->written);
}

static bool is_vfio_driver(const char *driver)
{
	return driver && (!strcmp(driver, "vfio-pci") || !strcmp(driver, "vfio_pci"));
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !strcmp(s + a - b, suffix);
}

/* --- options ---------------------------------------------------------------------- */

static int check_paths(struct run *r)
{
	const char *conf = pt_param_str(r->m, "conf_path");
	const char *blacklist = pt_param_str(r->m, "blacklist_path");
	const char *modules = pt_param_str(r->m, "modules_file");
	if (!conf || !ends_with(conf, ".conf"))
		return pt_module_fail(
		        r->m,
		        "conf_path %s does not end in .conf: modprobe reads only *.conf "
		        "files in modprobe.d; use e.g. /etc/modprobe.d/vfio.conf",
		        conf ? conf : "(none)");
	if (!blacklist || !ends_with(blacklist, ".conf"))
		return pt_module_fail(
		        r->m,
		        "blacklist_path %s does not end in .conf: modprobe reads only "
		        "*.conf files in modprobe.d; use e.g. "
		        "/etc/modprobe.d/blacklist-gpu.conf",
		        blacklist ? blacklist : "(none)");
	if (!strcmp(conf, blacklist))
		return pt_module_fail(
		        r->m,
		        "conf_path and blacklist_path are both %s: give the blacklist a "
		        "file of its own",
		        conf);
	if (!modules)
		return pt_module_fail(r->m, "modules_file must be set");
	_cleanup_free_ char *copy = strdup(modules);
	char *slash = copy ? strrchr(copy, '/') : NULL;
	if (slash)
		*slash = '\0';
	bool in_load_d = slash && ends_with(copy, "/modules-load.d") && ends_with(modules, ".conf");
	if (strcmp(modules, "/etc/modules") != 0 && !in_load_d)
		return pt_module_fail(
		        r->m,
		        "modules_file %s is neither /etc/modules nor a .conf file in a "
		        "modules-load.d directory, so nothing would load the vfio "
		        "modules from it at boot; use /etc/modules or e.g. "
		        "/etc/modules-load.d/vfio.conf",
		        modules);
	return 0;
}

/* --- selection ---------------------------------------------------------------------- */

/* "0000:07:00.0 10de:1c82 NVIDIA Corporation GP107 [...] (group 14)" */
static void describe_line(struct pt_strbuf *sb, const struct pt_pci_device *d)
{
	char id[16];
	pt_pci_id_string(d->vendor_id, d->device_id, id, sizeof id);
	_cleanup_free_ char *what = pt_safety_describe(d);
	pt_strbuf_printf(sb, "%s %s %s", d->address, *id ? id : "????:????", what ? what : "");
	if (d->iommu_group >= 0)
		pt_strbuf_printf(sb, " (group %d)", d->iommu_group);
}

/* What the host has: its display controllers, and its devices of `vendor`
 * (-1 for none), for the messages about devices that are not there. */
static void inventory(struct pt_strbuf *sb, const struct pt_pci_host *host, int vendor)
{
	int n = 0;
	for (size_t i = 0; i < host->count; i++) {
		const struct pt_pci_device *d = &host->devices[i];
		if (d->class_id < 0 || (d->class_id >> 8) != 0x03)
			continue;
		pt_strbuf_puts(sb, n++ ? "; " : " Its display controllers: ");
		describe_line(sb, d);
	}
	if (!n)
		pt_strbuf_puts(sb, " It has no display controllers.");
	else
		pt_strbuf_puts(sb, ".");
	if (vendor < 0)
		return;
	n = 0;
	for (size_t i = 0; i < host->count; i++) {
		const struct pt_pci_device *d = &host->devices[i];
		if (d->vendor_id != vendor || (d->class_id >= 0 && (d->class_id >> 8) == 0x03))
			continue;
		if (!n++)
			pt_strbuf_printf(sb, " Its other %04x devices: ", (unsigned)vendor);
		else
			pt_strbuf_puts(sb, "; ");
		describe_line(sb, d);
	}
	if (n)
		pt_strbuf_puts(sb, ".");
}

static void select_device(struct run *r, const struct pt_pci_device *d, const char *how)
{
	if (!json_object_get(r->selected, d->address))
		json_object_set_new(r->selected, d->address, json_string(how));
}

/* Parse "10de:1c82" (any case). 0 or -EINVAL. */
static int parse_id(const char *text, int *vendor, int *device)
{
	unsigned v, d;
	int n = 0;
	if (!text || strlen(text) != 9 || sscanf(text, "%4x:%4x%n", &v, &d, &n) != 2 || n != 9)
		return -EINVAL;
	for (int i = 0; i < 9; i++)
		if (i != 4 && !strchr("0123456789abcdefABCDEF", text[i]))
			return -EINVAL;
	*vendor = (int)v;
	*device = (int)d;
	return 0;
}

static int select_by_address(struct run *r, struct pt_strbuf *missing)
{
	json_t *list = pt_param(r->m, "devices");
	size_t i;
	json_t *v;
	json_array_foreach (list, i, v) {
		const char *text = json_string_value(v);
		char addr[PT_PCI_ADDR_LEN];
		int function;
		if (pt_pci_parse_address(text, addr, &function) < 0)
			return pt_module_fail(r->m,
			                      "devices[%zu]: '%s' is not a PCI address; use "
			                      "0000:07:00.0 (one function), 0000:07:00 (every "
			                      "function of the slot) or 07:00.0 (domain 0000)",
			                      i, text ? text : "");
		int found = 0;
		for (size_t k = 0; k < r->host.count; k++) {
			const struct pt_pci_device *d = &r->host.devices[k];
			bool match =
			        function < 0 ? pt_pci_in_slot(d, addr) : !strcmp(d->address, addr);
			if (!match)
				continue;
			if (d->is_bridge) {
				if (function < 0)
					continue; /* a slot's bridge functions stay with the host */
				return pt_module_fail(r->m,
				                      "devices[%zu]: %s is a PCI bridge, and "
				                      "vfio-pci takes endpoints "
				                      "only; select the devices behind it",
				                      i, addr);
			}
			select_device(r, d, "address");
			found++;
		}
		if (!found)
			pt_strbuf_printf(missing, "%sno PCI %s at %s on this host",
			                 missing->len ? "; " : "",
			                 function < 0 ? "endpoint" : "device", addr);
	}
	return 0;
}

static int select_by_id(struct run *r, struct pt_strbuf *missing, int *missing_vendor)
{
	json_t *list = pt_param(r->m, "ids");
	size_t i;
	json_t *v;
	json_array_foreach (list, i, v) {
		const char *text = json_string_value(v);
		int vendor, device;
		if (parse_id(text, &vendor, &device) < 0)
			return pt_module_fail(
			        r->m,
			        "ids[%zu]: '%s' is not a vendor:device ID pair; use four "
			        "hex digits, a colon and four hex digits, e.g. 10de:1c82 "
			        "(lspci -nn shows them in brackets)",
			        i, text ? text : "");
		int found = 0;
		for (size_t k = 0; k < r->host.count; k++) {
			const struct pt_pci_device *d = &r->host.devices[k];
			if (d->vendor_id != vendor || d->device_id != device || d->is_bridge)
				continue;
			select_device(r, d, "id");
			found++;
		}
		if (!found) {
			pt_strbuf_printf(missing, "%sno PCI device with ID %04x:%04x on this host",
			                 missing->len ? "; " : "", (unsigned)vendor,
			                 (unsigned)device);
			*missing_vendor = vendor;
		}
	}
	return 0;
}

static int select_group_members(struct run *r)
{
	if (!pt_param_bool(r->m, "include_group", true))
		return 0;
	_cleanup_json_ json_t *start = json_deep_copy(r->selected);
	const char *addr;
	json_t *how;
	json_object_foreach (start, addr, how) {
		const struct pt_pci_device *d = pt_pci_find(&r->host, addr);
		if (!d || d->iommu_group < 0)
			continue;
		for (size_t k = 0; k < r->host.count; k++) {
			const struct pt_pci_device *o = &r->host.devices[k];
			if (o->iommu_group == d->iommu_group && pt_pci_is_endpoint(o))
				select_device(r, o, "group");
		}
	}
	return 0;
}

static int select_devices(struct run *r)
{
	size_t asked =
	        json_array_size(pt_param(r->m, "devices")) + json_array_size(pt_param(r->m, "ids"));
	if (!asked && r->present)
		return pt_module_fail(
		        r->m, "nothing to hand to vfio-pci: give devices (PCI addresses such "
		              "as 0000:07:00, the recommended form) or ids (vendor:device "
		              "pairs such as 10de:1c82)");
	_cleanup_strbuf_ struct pt_strbuf missing = PT_STRBUF_INIT;
	int missing_vendor = -1;
	if (select_by_address(r, &missing) < 0 || select_by_id(r, &missing, &missing_vendor) < 0)
		return -1;
	if (missing.len) {
		if (!r->present) {
			/* the card may be gone already: absent still cleans the files */
			pt_warn(r->m, "%s; nothing to give back for it", pt_strbuf_str(&missing));
		} else {
			_cleanup_strbuf_ struct pt_strbuf msg = PT_STRBUF_INIT;
			pt_strbuf_printf(&msg, "%s.", pt_strbuf_str(&missing));
			inventory(&msg, &r->host, missing_vendor);
			pt_strbuf_puts(&msg,
			               " Check the addresses with `lspci -D` and the IDs with "
			               "`lspci -nn`; addresses are the safer choice.");
			return pt_module_fail(r->m, "%s",
			                      msg.oom ? "out of memory" : pt_strbuf_str(&msg));
		}
	}
	return r->present ? select_group_members(r) : 0;
}

/* --- safety ------------------------------------------------------------------------ */

static int check_safety(struct run *r)
{
	_cleanup_json_ json_t *problems = json_array();
	_cleanup_json_ json_t *notices = json_array();
	if (!problems || !notices ||
	    pt_safety_check(r->root, &r->host, r->selected, pt_param(r->m, "blacklist_drivers"),
	                    problems, notices) < 0)
		return pt_module_fail(r->m, "out of memory while checking the selection");
	size_t i;
	json_t *v;
	json_array_foreach (notices, i, v)
		pt_warn(r->m, "%s", json_string_value(v));
	if (!json_array_size(problems))
		return 0;
	if (r->force) {
		json_array_foreach (problems, i, v)
			pt_warn(r->m, "force: true overrides this refusal: %s",
			        json_string_value(json_object_get(v, "message")));
		return 0;
	}
	_cleanup_strbuf_ struct pt_strbuf msg = PT_STRBUF_INIT;
	if (json_array_size(problems) > 1)
		pt_strbuf_printf(&msg, "%zu safety refusals, nothing was changed: ",
		                 json_array_size(problems));
	json_array_foreach (problems, i, v) {
		if (json_array_size(problems) > 1)
			pt_strbuf_printf(&msg, "%s(%zu) ", i ? " " : "", i + 1);
		pt_strbuf_puts(&msg, json_string_value(json_object_get(v, "message")));
	}
	pt_result_set(r->m, "refusals", json_incref(problems));
	return pt_module_fail(r->m, "%s", msg.oom ? "out of memory" : pt_strbuf_str(&msg));
}

/* --- what the files say -------------------------------------------------------------- */

static void add_module_name(json_t *list, const char *name)
{
	char norm[128];
	pt_kmod_normalize(name, norm, sizeof norm);
	if (!strcmp(norm, "vfio_pci") || !strcmp(norm, "vfio_pci_core") ||
	    !strcmp(norm, "pci_stub") || !strcmp(norm, "pcieport") || !*norm)
		return;
	size_t i;
	json_t *v;
	json_array_foreach (list, i, v)
		if (!strcmp(json_string_value(v), norm))
			return;
	json_array_append_new(list, json_string(norm));
}

static int cmp_json_str(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a),
	              json_string_value(*(json_t *const *)b));
}

/* Sort an array of strings in place. */
static void sort_strings(json_t *arr)
{
	size_t n = json_array_size(arr);
	if (n < 2)
		return;
	json_t **v = calloc(n, sizeof *v);
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(arr, i));
	qsort(v, n, sizeof *v, cmp_json_str);
	json_array_clear(arr);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, v[i]);
	free(v);
}

/* Every driver that can claim a selected device, in any installed kernel (its
 * modalias in modules.alias), and the driver that has it now. New reference. */
static json_t *compute_softdeps(struct run *r)
{
	json_t *deps = json_array();
	_cleanup_json_ json_t *releases = pt_kmod_installed_releases(r->root);
	if (!deps || !releases) {
		json_decref(deps);
		return NULL;
	}
	size_t nrel = json_array_size(releases);
	struct pt_kmod_aliases **idx = calloc(nrel + 1, sizeof *idx);
	if (!idx) {
		json_decref(deps);
		return NULL;
	}
	for (size_t i = 0; i < nrel; i++)
		if (pt_kmod_aliases_load(r->root, json_string_value(json_array_get(releases, i)),
		                         &idx[i]) < 0)
			idx[i] = NULL;
	const char *addr;
	json_t *how;
	json_object_foreach (r->selected, addr, how) {
		const struct pt_pci_device *d = pt_pci_find(&r->host, addr);
		if (!d)
			continue;
		for (size_t i = 0; i < nrel && d->modalias; i++) {
			if (!idx[i])
				continue;
			_cleanup_json_ json_t *mods = pt_kmod_aliases_match(idx[i], d->modalias);
			size_t k;
			json_t *mv;
			json_array_foreach (mods, k, mv)
				add_module_name(deps, json_string_value(mv));
		}
		if (d->driver && !is_vfio_driver(d->driver)) {
			_cleanup_free_ char *mod = pt_safety_driver_module(r->root, d->driver);
			if (mod)
				add_module_name(deps, mod);
		}
	}
	for (size_t i = 0; i < nrel; i++)
		pt_kmod_aliases_free(idx[i]);
	free(idx);
	sort_strings(deps);
	return deps;
}

/* The boot mechanism per device: "ids" unless its vendor:device ID would also
 * capture a device that stays with the host. Fills ids and overrides. */
static void compute_mechanisms(struct run *r, json_t *ids, json_t *overrides)
{
	const char *addr;
	json_t *how;
	json_object_foreach (r->selected, addr, how) {
		const struct pt_pci_device *d = pt_pci_find(&r->host, addr);
		bool shared = !d || d->vendor_id < 0 || d->device_id < 0;
		for (size_t k = 0; d && !shared && k < r->host.count; k++) {
			const struct pt_pci_device *o = &r->host.devices[k];
			shared = o->vendor_id == d->vendor_id && o->device_id == d->device_id &&
			         !json_object_get(r->selected, o->address);
		}
		char id[16];
		pt_pci_id_string(d ? d->vendor_id : -1, d ? d->device_id : -1, id, sizeof id);
		if (shared) {
			json_array_append_new(overrides, json_string(addr));
		} else {
			bool have = false;
			size_t i;
			json_t *v;
			json_array_foreach (ids, i, v)
				have |= !strcmp(json_string_value(v), id);
			if (!have)
				json_array_append_new(ids, json_string(id));
		}
	}
	sort_strings(ids);
	sort_strings(overrides);
}

static const char *mechanism_of(const json_t *overrides, const char *addr)
{
	size_t i;
	json_t *v;
	json_array_foreach (overrides, i, v)
		if (!strcmp(json_string_value(v), addr))
			return "driver_override";
	return "ids";
}

/* modprobe.d does not reach a vfio-pci compiled into the kernel. */
static void warn_builtin_vfio(struct run *r, const json_t *kernels)
{
	size_t i;
	json_t *k;
	json_array_foreach (kernels, i, k) {
		const char *rel = json_string_value(json_object_get(k, "release"));
		if (rel && pt_kmod_state(r->root, rel, "vfio_pci") == PT_KMOD_BUILTIN)
			pt_warn(r->m,
			        "kernel %s has vfio-pci built in: the options, softdep and install "
			        "lines in modprobe.d do not apply to it; when booting it, put "
			        "vfio-pci.ids= on the kernel command line instead",
			        rel);
	}
}

/* --- files ------------------------------------------------------------------------ */

/* Read a managed file: 0 with *text (NULL when absent), or fail the module. */
static int read_managed(struct run *r, const char *path, char **text)
{
	*text = NULL;
	int e = pt_file_read(path, text, NULL);
	if (e == -ENOENT)
		return 0;
	if (e < 0)
		return pt_module_fail(r->m, "cannot read %s: %s", path, strerror(-e));
	return 0;
}

/* Bring path from old (NULL: absent) to new ("" or NULL: remove), record it in
 * the result and the diff, write unless in check mode. */
static int apply_file(struct run *r, const char *path, const char *old, const char *new_text,
                      const char *owner)
{
	/* An empty result means the file held nothing but the block: it goes. An
	 * empty file the user keeps there stays. */
	bool remove = !*new_text;
	bool changed = old ? strcmp(old, new_text) != 0 : !remove;
	struct pt_conf_block blk;
	bool ours = pt_conf_block_find(new_text, owner, path, &blk, NULL) == 0 && blk.found;
	json_t *entry = json_pack("{s:s, s:b, s:s}", "path", path, "changed", changed, "state",
	                          ours ? "present" : "absent");
	if (!entry)
		return pt_module_fail(r->m, "out of memory");
	json_array_append_new(r->files, entry);
	if (!changed)
		return 0;
	r->files_changed = true;
	pt_diff_add(r->m, path, old ? old : "", remove ? "" : new_text);
	if (r->check)
		return 0;

	_cleanup_free_ char *backup = NULL, *err = NULL;
	int e;
	if (remove) {
		e = pt_file_remove(path, r->backup, &backup, &err);
	} else {
		struct pt_write_opts o = {.mode_if_new = 0644, .backup = r->backup, .mkdirs = true};
		e = pt_file_write_atomic(path, new_text, strlen(new_text), &o, &backup, &err);
	}
	if (e < 0) {
		_cleanup_free_ char *done = json_dumps(r->written, JSON_COMPACT);
		return pt_module_fail(r->m, "%s%s%s", err ? err : strerror(-e),
		                      json_array_size(r->written) ? "; already written: " : "",
		                      json_array_size(r->written) && done ? done : "");
	}
	if (backup)
		json_object_set_new(entry, "backup", json_string(backup));
	json_array_append_new(r->written, json_string(path));
	return 0;
}

static void warn_conflicts(struct run *r, const char *conf_path, bool overrides)
{
	_cleanup_json_ json_t *found = json_array();
	if (!found || pt_modprobe_find_conflicts(r->root, conf_path, OWNER_CONF, found) < 0)
		return;
	size_t i;
	json_t *c;
	json_array_foreach (found, i, c) {
		const char *kind = json_string_value(json_object_get(c, "kind"));
		const char *path = json_string_value(json_object_get(c, "path"));
		const char *text = json_string_value(json_object_get(c, "text"));
		int line = (int)json_integer_value(json_object_get(c, "line"));
		if (!strcmp(kind, "ids"))
			pt_warn(r->m,
			        "%s line %d (%s) also sets vfio-pci ids=: the kernel keeps only "
			        "the last "
			        "ids= it is given, so this line and the one %s manages in %s "
			        "cannot both "
			        "hold; remove this line",
			        path, line, text, MODULE_NAME, conf_path);
		else if (!strcmp(kind, "install") && overrides)
			pt_warn(r->m,
			        "%s line %d (%s) is another install command for vfio-pci, and "
			        "modprobe "
			        "runs only one: the devices bound by address at boot may stay with "
			        "their host driver; remove this line",
			        path, line, text);
		else if (!strcmp(kind, "blacklist"))
			pt_warn(r->m,
			        "%s line %d (%s) keeps vfio-pci from loading by name, so its "
			        "options "
			        "and softdeps may not take effect; remove this line",
			        path, line, text);
	}
}

/* One managed file: where, what it holds now (NULL: absent), what it should. */
struct managed {
	char *path;
	char *old;
	char *new_text;
};

static void managed_release(struct managed *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(f[i].path);
		free(f[i].old);
		free(f[i].new_text);
	}
}

/* The block body for a file, or fail; body NULL means "remove the block". */
static int plan_block(struct run *r, struct managed *f, const char *option, const char *owner,
                      const char *body)
{
	_cleanup_free_ char *err = NULL;
	f->path = pt_path_join(r->root, pt_param_str(r->m, option));
	if (!f->path)
		return pt_module_fail(r->m, "out of memory");
	if (read_managed(r, f->path, &f->old) < 0)
		return -1;
	f->new_text = pt_conf_block_apply(f->old, owner, HEADER, body, f->path, &err);
	if (!f->new_text)
		return pt_module_fail(r->m, "%s", err ? err : "out of memory");
	return 0;
}

/* Compute all three files first, so that a damaged marker or an unreadable file
 * in the last one stops the run before the first is written; then write. */
static int write_files(struct run *r, json_t *ids, json_t *overrides, json_t *softdeps,
                       json_t *modules)
{
	struct managed f[3] = {{0}};
	int ret = -1;
	_cleanup_free_ char *conf_body = NULL, *black_body = NULL, *err = NULL;
	_cleanup_json_ json_t *notes = json_array();
	if (r->present) {
		struct pt_vfio_conf c = {.ids = ids,
		                         .disable_vga = pt_param_bool(r->m, "disable_vga", false),
		                         .softdeps = softdeps,
		                         .overrides = overrides};
		conf_body = pt_modprobe_render_vfio(&c);
		black_body = pt_modprobe_render_blacklist(pt_param(r->m, "blacklist_drivers"));
		if (!conf_body || !black_body) {
			pt_module_fail(r->m, "out of memory");
			goto out;
		}
	}
	if (!notes || plan_block(r, &f[0], "conf_path", OWNER_CONF, conf_body) < 0 ||
	    plan_block(r, &f[1], "blacklist_path", OWNER_BLACKLIST, black_body) < 0)
		goto out;

	/* the vfio modules: only those no line of the user's already loads */
	f[2].path = pt_path_join(r->root, pt_param_str(r->m, "modules_file"));
	if (!f[2].path) {
		pt_module_fail(r->m, "out of memory");
		goto out;
	}
	if (read_managed(r, f[2].path, &f[2].old) < 0)
		goto out;
	int e = pt_modules_file_update(f[2].old, r->present ? modules : NULL, OWNER_MODULES,
	                               f[2].path, &f[2].new_text, notes, &err);
	if (e < 0) {
		pt_module_fail(r->m, "%s", err ? err : strerror(-e));
		goto out;
	}

	/* the initramfs is rebuilt after the writes: make sure that can happen (a
	 * read-only look, so check mode predicts this failure too) */
	bool any = false;
	for (size_t i = 0; i < 3; i++)
		any |= f[i].old ? strcmp(f[i].old, f[i].new_text) != 0 : *f[i].new_text != '\0';
	if (any && pt_param_bool(r->m, "update_initramfs", true) &&
	    !pt_exec_available(r->root, "update-initramfs")) {
		pt_module_fail(
		        r->m,
		        "update-initramfs was not found under %s, so the initramfs could not "
		        "carry the new configuration; install initramfs-tools, or set "
		        "update_initramfs: false and rebuild it yourself (nothing was written)",
		        r->root);
		goto out;
	}

	size_t i;
	json_t *n;
	json_array_foreach (notes, i, n)
		pt_warn(r->m, "%s", json_string_value(n));
	if (r->present)
		warn_conflicts(r, f[0].path, json_array_size(overrides) > 0);
	/* a file that holds nothing but the block goes away with it */
	static const char *const owners[] = {OWNER_CONF, OWNER_BLACKLIST, OWNER_MODULES};
	for (size_t k = 0; k < 3; k++)
		if (apply_file(r, f[k].path, f[k].old, f[k].new_text, owners[k]) < 0)
			goto out;
	ret = 0;
out:
	managed_release(f, 3);
	return ret;
}

static int update_initramfs(struct run *r, bool *updated)
{
	*updated = false;
	if (!r->files_changed || !pt_param_bool(r->m, "update_initramfs", true))
		return 0;
	*updated = true;
	if (r->check)
		return 0;
	static const char *const argv[] = {"update-initramfs", "-u", "-k", "all", NULL};
	struct pt_exec_result res;
	int timeout = (int)pt_param_int(r->m, "initramfs_timeout", 900);
	int e = pt_exec(r->root, argv, timeout, &res);
	if (e < 0 || res.rc != 0) {
		json_t *cmd = json_object();
		pt_exec_result_to_json(argv, &res, cmd);
		pt_result_set(r->m, "initramfs", cmd);
		if (e < 0)
			pt_module_fail(r->m, "cannot run update-initramfs -u -k all: %s",
			               res.err && *res.err ? res.err : strerror(-e));
		else if (res.timed_out)
			pt_module_fail(
			        r->m,
			        "update-initramfs -u -k all did not finish within %d s and was "
			        "killed; the files are written: run it by hand, or raise "
			        "initramfs_timeout",
			        timeout);
		else
			pt_module_fail(
			        r->m,
			        "update-initramfs -u -k all failed (rc %d): %s; the files are "
			        "written, so fix the cause and run it by hand before rebooting",
			        res.rc, res.err && *res.err ? res.err : "(no error output)");
		pt_exec_result_release(&res);
		return -1;
	}
	pt_exec_result_release(&res);
	return 0;
}

/* --- binding now -------------------------------------------------------------------- */

/* Write value to a sysfs attribute under root (no O_CREAT: it must exist). */
static int sysfs_write(const char *root, const char *rel, const char *value)
{
	_cleanup_free_ char *path = pt_path_join(root, rel);
	if (!path)
		return -ENOMEM;
	_cleanup_close_ int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t len = strlen(value);
	ssize_t n = write(fd, value, len);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

static char *current_driver(const char *root, const char *addr)
{
	_cleanup_free_ char *rel = NULL;
	if (asprintf(&rel, "/sys/bus/pci/devices/%s/driver", addr) < 0)
		return NULL;
	_cleanup_free_ char *path = pt_path_join(root, rel);
	return path ? pt_link_basename(path) : NULL;
}

static int fail_write(struct run *r, const char *addr, const char *what, const char *rel, int e)
{
	return pt_module_fail(r->m, "cannot bind %s now: writing %s to %s%s failed: %s", addr, what,
	                      strcmp(r->root, "/") ? r->root : "", rel, strerror(-e));
}

static int load_vfio_pci(struct run *r)
{
	_cleanup_free_ char *dir = pt_path_join(r->root, "/sys/bus/pci/drivers/vfio-pci");
	if (!dir)
		return pt_module_fail(r->m, "out of memory");
	if (pt_path_exists(dir) || r->check)
		return 0;
	static const char *const argv[] = {"modprobe", VFIO_DRIVER, NULL};
	struct pt_exec_result res;
	int e = pt_exec(r->root, argv, 60, &res);
	int rc = res.rc;
	if (e < 0 || rc != 0) {
		pt_module_fail(
		        r->m,
		        "cannot bind now: modprobe vfio-pci failed (%s): %s; is the vfio-pci "
		        "module installed for the running kernel?",
		        e < 0 ? "not run" : "non-zero exit",
		        res.err && *res.err ? res.err : "(no error output)");
		pt_exec_result_release(&res);
		return -1;
	}
	pt_exec_result_release(&res);
	r->devices_changed = true;
	if (!pt_path_exists(dir))
		return pt_module_fail(
		        r->m,
		        "cannot bind now: modprobe vfio-pci succeeded but %s did not "
		        "appear, so the vfio-pci driver is not registered; check dmesg",
		        dir);
	return 0;
}

/* Move one device to vfio-pci: driver_override, unbind, drivers_probe, verify. */
static int bind_one(struct run *r, const struct pt_pci_device *d, json_t *entry)
{
	const char *a = d->address;
	char rel[128];
	if (is_vfio_driver(d->driver)) {
		json_object_set_new(entry, "driver_after", json_string(d->driver));
		return 0;
	}
	r->devices_changed = true;
	json_object_set_new(entry, "driver_after", json_string(VFIO_DRIVER));
	if (r->check)
		return 0;
	int e;
	snprintf(rel, sizeof rel, "/sys/bus/pci/devices/%s/driver_override", a);
	if ((e = sysfs_write(r->root, rel, VFIO_DRIVER)) < 0)
		return fail_write(r, a, VFIO_DRIVER, rel, e);
	if (d->driver) {
		snprintf(rel, sizeof rel, "/sys/bus/pci/drivers/%s/unbind", d->driver);
		if ((e = sysfs_write(r->root, rel, a)) < 0)
			return fail_write(r, a, a, rel, e);
	}
	if ((e = sysfs_write(r->root, "/sys/bus/pci/drivers_probe", a)) < 0)
		return fail_write(r, a, a, "/sys/bus/pci/drivers_probe", e);
	_cleanup_free_ char *now = current_driver(r->root, a);
	json_object_set_new(entry, "driver_after", now ? json_string(now) : json_null());
	if (!is_vfio_driver(now))
		return pt_module_fail(
		        r->m,
		        "%s did not bind to vfio-pci: its driver_override is set to vfio-pci%s and "
		        "it was reprobed, but its driver is now %s. Look at dmesg for the reason "
		        "(vfio-pci refuses a device without an IOMMU group, for one); the "
		        "persistent "
		        "configuration is written and applies at the next boot",
		        a, d->driver ? " and it was unbound from its driver" : "",
		        now ? now : "none");
	return 0;
}

/* Give one device back: clear driver_override, unbind from vfio-pci, reprobe. */
static int release_one(struct run *r, const struct pt_pci_device *d, json_t *entry)
{
	const char *a = d->address;
	char rel[128];
	bool overridden = d->driver_override && is_vfio_driver(d->driver_override);
	bool on_vfio = is_vfio_driver(d->driver);
	if (!overridden && !on_vfio)
		return 0;
	r->devices_changed = true;
	if (r->check) {
		json_object_set_new(entry, "driver_after", json_null());
		return 0;
	}
	int e;
	snprintf(rel, sizeof rel, "/sys/bus/pci/devices/%s/driver_override", a);
	if ((e = sysfs_write(r->root, rel, "\n")) < 0)
		return fail_write(r, a, "an empty line", rel, e);
	if (on_vfio) {
		snprintf(rel, sizeof rel, "/sys/bus/pci/drivers/%s/unbind", d->driver);
		if ((e = sysfs_write(r->root, rel, a)) < 0)
			return fail_write(r, a, a, rel, e);
		if ((e = sysfs_write(r->root, "/sys/bus/pci/drivers_probe", a)) < 0)
			return fail_write(r, a, a, "/sys/bus/pci/drivers_probe", e);
	}
	_cleanup_free_ char *now = current_driver(r->root, a);
	json_object_set_new(entry, "driver_after", now ? json_string(now) : json_null());
	return 0;
}

static int bind_devices(struct run *r)
{
	if (!r->bind_now)
		return 0;
	if (r->present) {
		/* vfio-pci cannot take a device in no group: say so before touching any */
		size_t i;
		json_t *e;
		json_array_foreach (r->devices, i, e) {
			const char *a = json_string_value(json_object_get(e, "address"));
			const struct pt_pci_device *d = pt_pci_find(&r->host, a);
			if (d && d->iommu_group < 0 && !is_vfio_driver(d->driver))
				return pt_module_fail(
				        r->m,
				        "cannot bind %s now: it is in no IOMMU group (the IOMMU is "
				        "off), "
				        "and vfio-pci refuses such devices. Enable the IOMMU (see "
				        "homelab.passthrough.grub_iommu) and reboot, or drop "
				        "bind_now: "
				        "the configuration for the next boot is written either way",
				        a);
		}
		bool need = false;
		json_array_foreach (r->devices, i, e) {
			const struct pt_pci_device *d = pt_pci_find(
			        &r->host, json_string_value(json_object_get(e, "address")));
			need |= d && !is_vfio_driver(d->driver);
		}
		if (need && load_vfio_pci(r) < 0)
			return -1;
	}
	size_t i;
	json_t *e;
	json_array_foreach (r->devices, i, e) {
		const struct pt_pci_device *d =
		        pt_pci_find(&r->host, json_string_value(json_object_get(e, "address")));
		if (!d)
			continue;
		if ((r->present ? bind_one(r, d, e) : release_one(r, d, e)) < 0)
			return -1;
	}
	return 0;
}

/* --- the run ------------------------------------------------------------------------ */

static int build_devices(struct run *r, const json_t *overrides)
{
	const char *addr;
	json_t *how;
	json_object_foreach (r->selected, addr, how) {
		const struct pt_pci_device *d = pt_pci_find(&r->host, addr);
		if (!d)
			continue;
		char id[16];
		pt_pci_id_string(d->vendor_id, d->device_id, id, sizeof id);
		json_t *e = json_pack(
		        "{s:s, s:s, s:o, s:o, s:o, s:o, s:O, s:b}", "address", d->address, "ids",
		        id, "group",
		        d->iommu_group >= 0 ? json_integer(d->iommu_group) : json_null(),
		        "driver_before", d->driver ? json_string(d->driver) : json_null(),
		        "driver_after", d->driver ? json_string(d->driver) : json_null(),
		        "mechanism",
		        r->present ? json_string(mechanism_of(overrides, addr)) : json_null(),
		        "selected_by", how, "boot_vga", d->boot_vga == 1);
		if (!e)
			return pt_module_fail(r->m, "out of memory");
		json_array_append_new(r->devices, e);
	}
	return 0;
}

static bool reboot_required(struct run *r)
{
	if (r->files_changed && !r->bind_now)
		return true;
	size_t i;
	json_t *e;
	json_array_foreach (r->devices, i, e) {
		bool on_vfio =
		        is_vfio_driver(json_string_value(json_object_get(e, "driver_after")));
		if (r->present ? !on_vfio : on_vfio)
			return true;
	}
	return false;
}

static json_t *or_empty(json_t *v)
{
	return v ? json_incref(v) : json_array();
}

/* blacklist_drivers as written to the file: normalised, unique, sorted. */
static json_t *blacklist_list(struct pt_module *m)
{
	json_t *out = json_array();
	size_t i;
	json_t *v;
	json_array_foreach (pt_param(m, "blacklist_drivers"), i, v) {
		char norm[128];
		pt_kmod_normalize(json_string_value(v), norm, sizeof norm);
		bool have = !*norm;
		size_t k;
		json_t *w;
		json_array_foreach (out, k, w)
			have |= !strcmp(json_string_value(w), norm);
		if (!have)
			json_array_append_new(out, json_string(norm));
	}
	sort_strings(out);
	return out;
}

static int cmp_address(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* r->selected with its keys in address order (jansson keeps insertion order). */
static void sort_selection(struct run *r)
{
	size_t n = json_object_size(r->selected);
	const char **keys = calloc(n + 1, sizeof *keys);
	json_t *sorted = json_object();
	if (!keys || !sorted) {
		free(keys);
		json_decref(sorted);
		return;
	}
	size_t k = 0;
	const char *key;
	json_t *v;
	json_object_foreach (r->selected, key, v)
		keys[k++] = key;
	qsort(keys, k, sizeof *keys, cmp_address);
	for (size_t i = 0; i < k; i++)
		json_object_set(sorted, keys[i], json_object_get(r->selected, keys[i]));
	free(keys);
	json_decref(r->selected);
	r->selected = sorted;
}

static int vfio_bind_run(struct pt_module *m)
{
	struct run r = {.m = m};
	int ret = -1;
	r.root = pt_module_root(m);
	r.present =
	        !strcmp(pt_param_str(m, "state") ? pt_param_str(m, "state") : "present", "present");
	r.check = m->check_mode;
	r.bind_now = pt_param_bool(m, "bind_now", false);
	r.force = pt_param_bool(m, "force", false);
	r.backup = pt_param_bool(m, "backup", false);
	r.selected = json_object();
	r.devices = json_array();
	r.files = json_array();
	r.written = json_array();
	_cleanup_json_ json_t *ids = json_array();
	_cleanup_json_ json_t *overrides = json_array();
	_cleanup_json_ json_t *softdeps = NULL;
	_cleanup_json_ json_t *kernels = NULL;
	_cleanup_json_ json_t *modules = NULL;
	_cleanup_free_ char *scan_err = NULL;
	bool initramfs = false;
	if (!r.selected || !r.devices || !r.files || !r.written || !ids || !overrides) {
		pt_module_fail(m, "out of memory");
		goto out;
	}

	struct stat st;
	if (stat(r.root, &st) < 0 || !S_ISDIR(st.st_mode)) {
		pt_module_fail(m,
		               "root %s is not a directory; give the directory that holds the "
		               "host's /etc, /sys and /proc, or / for the host itself",
		               r.root);
		goto out;
	}
	if (check_paths(&r) < 0)
		goto out;
	if (pt_pci_scan(r.root, &r.host, &scan_err) < 0) {
		pt_module_fail(m, "%s", scan_err ? scan_err : "cannot read the PCI devices");
		goto out;
	}
	if (select_devices(&r) < 0)
		goto out;
	sort_selection(&r);

	if (r.present) {
		compute_mechanisms(&r, ids, overrides);
		softdeps = compute_softdeps(&r);
		modules = pt_vfio_modules_wanted(r.root, &kernels);
		warn_builtin_vfio(&r, kernels);
	} else {
		softdeps = json_array();
		modules = json_array();
		json_decref(pt_vfio_modules_wanted(r.root, &kernels));
	}
	if (!softdeps || !modules) {
		pt_module_fail(m, "out of memory");
		goto out;
	}
	if (!kernels)
		kernels = json_array();
	if (build_devices(&r, overrides) < 0)
		goto out;
	/* refusals come before anything is written, in check mode too */
	if (r.present && check_safety(&r) < 0)
		goto out;

	if (write_files(&r, ids, overrides, softdeps, modules) < 0)
		goto out;
	if (update_initramfs(&r, &initramfs) < 0)
		goto out;
	if (bind_devices(&r) < 0)
		goto out;

	pt_result_set_changed(m, r.files_changed || r.devices_changed);
	pt_result_set(m, "initramfs_updated", json_boolean(initramfs));
	pt_result_set(m, "reboot_required", json_boolean(reboot_required(&r)));
	ret = 0;
out:
	/* what is known goes into the result, failed or not */
	if (ret < 0)
		pt_result_set_changed(m, json_array_size(r.written) > 0 ||
		                                 (r.devices_changed && !r.check));
	pt_result_set(m, "devices", or_empty(r.devices));
	pt_result_set(m, "ids", or_empty(ids));
	pt_result_set(m, "softdeps", or_empty(softdeps));
	pt_result_set(m, "blacklist", r.present ? blacklist_list(m) : json_array());
	pt_result_set(m, "modules", or_empty(modules));
	pt_result_set(m, "kernels", or_empty(kernels));
	pt_result_set(m, "files", or_empty(r.files));
	run_release(&r);
	return ret;
}

#ifndef VFIO_BIND_NO_MAIN
static const char usage[] =
        "vfio_bind: an Ansible module (homelab.passthrough.vfio_bind) that hands PCI\n"
        "devices to vfio-pci. Ansible runs it as 'vfio_bind ARGS_FILE', ARGS_FILE holding\n"
        "a JSON object of options, e.g.\n"
        "  {\"devices\": [\"0000:07:00\"], \"_ansible_check_mode\": true}\n"
        "See `ansible-doc homelab.passthrough.vfio_bind` for the options.\n";

int main(int argc, char **argv)
{
	if (argc < 2 || !strncmp(argv[1], "--", 2) || !strcmp(argv[1], "-h")) {
		fputs(usage, argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")
		                     ? stdout
		                     : stderr);
		return argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ? 0 : 2;
	}
	struct pt_module m;
	if (pt_module_init(&m, MODULE_NAME, vfio_bind_argspec_json, argc, argv) < 0)
		return pt_module_finish(&m);
	vfio_bind_run(&m);
	return pt_module_finish(&m);
}
#endif
