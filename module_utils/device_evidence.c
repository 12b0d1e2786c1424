/* The readiness evidence in the facts (see device_evidence.h): the host I/O
 * readers (host_*.h) put into the shape iommu_facts reports.
 *
 * Text from the host (file names, lines) need not be UTF-8; pt_json_text
 * (json_text.h) keeps it. */
#include "device_evidence.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "files.h"
#include "host_conf_dirs.h"
#include "host_early_load.h"
#include "host_boot_fb.h"
#include "host_files.h"
#include "host_iomem.h"
#include "host_pci_caps.h"
#include "host_reset_method.h"
#include "host_secure_boot.h"
#include "json_text.h"
#include "kmod.h"

#define MAX_FRAMEBUFFERS 8
#define MAX_EARLY        32

int pt_evidence_kernel_bool(const char *value)
{
	if (!value)
		return -EINVAL;
	switch (value[0]) {
	case 'y':
	case 'Y':
	case 't':
	case 'T':
	case '1':
		return 1;
	case 'n':
	case 'N':
	case 'f':
	case 'F':
	case '0':
		return 0;
	case 'o':
	case 'O':
		if (value[1] == 'n' || value[1] == 'N')
			return 1;
		if (value[1] == 'f' || value[1] == 'F')
			return 0;
		return -EINVAL;
	default:
		return -EINVAL;
	}
}

static json_t *text_or_null(const char *s)
{
	return s ? pt_json_text(s) : json_null();
}

static json_t *hex_address(unsigned long long v)
{
	char buf[24];
	snprintf(buf, sizeof buf, "0x%llx", v);
	return json_string(buf);
}

/* ---- host ------------------------------------------------------------------ */

/* The value of a parameter in cmdline.params: a string, true for a bare flag,
 * or the last of a list (the kernel keeps the last). 1, 0, or -ENOENT when
 * absent, -EINVAL when not a boolean. */
static int cmdline_bool(const json_t *params, const char *name)
{
	json_t *v = json_object_get(params, name);
	if (json_is_array(v))
		v = json_array_get(v, json_array_size(v) - 1);
	if (!v)
		return -ENOENT;
	if (json_is_true(v))
		return 1;
	return pt_evidence_kernel_bool(json_string_value(v));
}

/* The last `options vfio_iommu_type1 ... allow_unsafe_interrupts=V` of
 * modprobe.d: 1, 0, -ENOENT when none, -EINVAL when V is no boolean. */
static int configured_allow_unsafe(const json_t *lines)
{
	int found = -ENOENT;
	size_t i;
	json_t *e;
	json_array_foreach (lines, i, e) {
		const char *args = pt_modprobe_line_args(e, "options", "vfio_iommu_type1");
		if (!args)
			continue;
		static const char key[] = "allow_unsafe_interrupts";
		for (const char *p = args; (p = strstr(p, key)); p += sizeof key - 1) {
			if (p != args && p[-1] != ' ')
				continue;
			const char *after = p + sizeof key - 1;
			if (*after == '=')
				found = pt_evidence_kernel_bool(after + 1);
			else if (*after == ' ' || !*after)
				found = 1; /* a bool parameter named alone is set */
		}
	}
	return found;
}

static json_t *allow_unsafe_interrupts(const char *root, const json_t *facts)
{
	json_t *params = json_object_get(json_object_get(facts, "cmdline"), "params");
	int r = cmdline_bool(params, "vfio_iommu_type1.allow_unsafe_interrupts");
	if (r >= 0)
		return json_boolean(r);
	bool complete = true;
	_cleanup_json_ json_t *lines = pt_modprobe_d_lines(root, &complete, NULL);
	r = lines ? configured_allow_unsafe(lines) : -ENOMEM;
	if (r >= 0)
		return json_boolean(r);
	if (r == -EINVAL)
		return json_null();
	_cleanup_free_ char *path = pt_path_join(
	        root, "/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts");
	_cleanup_free_ char *live = path ? pt_file_read_line(path) : NULL;
	if (live) {
		r = pt_evidence_kernel_bool(live);
		return r >= 0 ? json_boolean(r) : json_null();
	}
	return complete ? json_false() : json_null();
}

static void add_host(const char *root, json_t *facts)
{
	json_object_set_new(facts, "secure_boot",
	                    text_or_null(pt_secure_boot_name(pt_secure_boot_read(root))));
	json_t *vfio = json_object_get(facts, "vfio");
	if (json_is_object(vfio))
		json_object_set_new(vfio, "allow_unsafe_interrupts",
		                    allow_unsafe_interrupts(root, facts));
}

/* ---- devices --------------------------------------------------------------- */

static json_t *reset_methods(const char *root, const char *address, const char *release)
{
	_cleanup_free_ char *methods = NULL;
	if (pt_reset_methods_read(root, address, release, &methods) < 0)
		return json_null();
	json_t *list = json_array();
	char *save = NULL;
	for (char *w = strtok_r(methods, " ", &save); w && list; w = strtok_r(NULL, " ", &save))
		json_array_append_new(list, json_string(w)); /* [a-z0-9_]: checked by the reader */
	return list ? list : json_null();
}

#define IOMEM_FILE       "/proc/iomem"
#define BOOT_PARAMS_FILE "/sys/kernel/boot_params/data"

/* The host-wide sources of the framebuffers fact, each read once: /proc/iomem
 * (what claims memory now) and the firmware framebuffer at boot. */
struct fb_sources {
	struct pt_iomem iomem;
	int iomem_state; /* pt_iomem_read's answer */
	struct pt_boot_fb boot;
	int boot_state; /* pt_boot_fb_read's answer */
	bool sysfb_off; /* the running command line keeps sysfb from registering it */
};

/* Whether the command line holds initcall_blacklist=...sysfb_init... (a
 * comma-separated list): then sysfb registered no framebuffer at this boot, so
 * nothing but what /proc/iomem shows can hold a BAR. */
static bool sysfb_blacklisted(const char *cmdline)
{
	static const char key[] = "initcall_blacklist=";
	for (const char *p = cmdline; p && *p;) {
		p += strspn(p, " \t\n");
		size_t len = strcspn(p, " \t\n");
		if (len > sizeof key - 1 && !strncmp(p, key, sizeof key - 1)) {
			const char *v = p + sizeof key - 1, *end = p + len;
			while (v < end) {
				size_t n = strcspn(v, ",");
				if (v + n > end)
					n = (size_t)(end - v);
				if (n == 10 && !strncmp(v, "sysfb_init", 10))
					return true;
				v += n + 1;
			}
		}
		p += len;
	}
	return false;
}

static json_t *framebuffer_entry(const char *name, unsigned long long start, unsigned long long end,
                                 int bar, const char *source)
{
	return json_pack("{s:o, s:o, s:o, s:i, s:s}", "name", pt_json_text(name), "start",
	                 hex_address(start), "end", hex_address(end), "bar", bar, "source", source);
}

/* The framebuffers in the device's memory BARs: those /proc/iomem shows, then
 * the firmware's framebuffer at boot when it lies in a BAR and no range of
 * /proc/iomem already stands for it (the card's driver has taken it over since
 * boot, and it comes back once vfio-pci has the card). null when it cannot be
 * told: /proc/iomem or the BARs unreadable, or, for the boot GPU with nothing
 * found, boot_params present but unreadable (not root). A missing boot_params
 * (not x86, a sandbox without it) leaves /proc/iomem to decide alone. */
static json_t *framebuffers(const char *root, const char *address, bool boot_vga,
                            const char *driver, const struct fb_sources *fb)
{
	if (fb->iomem_state < 0)
		return json_null();
	struct pt_pci_bars bars;
	int r = pt_pci_bars_read(root, address, &bars);
	if (r < 0 && bars.lines == 0)
		return json_null();
	struct pt_framebuffer_hit hits[MAX_FRAMEBUFFERS];
	int n = pt_iomem_framebuffers_in_bars(&fb->iomem, &bars, hits, MAX_FRAMEBUFFERS);
	if (n < 0)
		return json_null();
	if (n > MAX_FRAMEBUFFERS)
		n = MAX_FRAMEBUFFERS;
	json_t *list = json_array();
	for (int i = 0; i < n && list; i++)
		json_array_append_new(list,
		                      framebuffer_entry(hits[i].name, hits[i].start, hits[i].end,
		                                        hits[i].bar, IOMEM_FILE));
	/* The boot framebuffer cannot be back when sysfb was kept from registering
	 * it, nor while vfio-pci has the card and /proc/iomem shows no claim. */
	bool may_return = !fb->sysfb_off && !(driver && !strcmp(driver, "vfio-pci"));
	if (fb->boot_state == 1 && may_return) {
		int bar = pt_pci_bar_overlapping(&bars, fb->boot.start, fb->boot.end);
		bool listed = false;
		for (int i = 0; i < n; i++)
			if (hits[i].start <= fb->boot.end && hits[i].end >= fb->boot.start)
				listed = true;
		if (bar >= 0 && !listed && list) {
			_cleanup_free_ char *name = NULL;
			if (asprintf(&name, "%s framebuffer at boot (%ux%ux%u)",
			             pt_boot_fb_kind(fb->boot.type), fb->boot.width,
			             fb->boot.height, fb->boot.depth) < 0) {
				name = NULL;
				json_decref(list);
				return json_null();
			}
			json_array_append_new(list,
			                      framebuffer_entry(name, fb->boot.start, fb->boot.end,
			                                        bar, BOOT_PARAMS_FILE));
		}
	} else if (fb->boot_state < 0 && fb->boot_state != -ENOENT && may_return && boot_vga &&
	           n == 0) {
		json_decref(list);
		return json_null();
	}
	return list ? list : json_null();
}

static json_t *rebar_facts(const struct pt_pci_caps *caps)
{
	json_t *list = json_array();
	for (size_t i = 0; i < caps->n_rebar && list; i++) {
		const struct pt_rebar *r = &caps->rebar[i];
		json_t *sizes = json_array();
		for (unsigned k = 0; k < 28 && sizes; k++)
			if (r->supported & (1ULL << k))
				json_array_append_new(sizes, json_integer((json_int_t)(1ULL << k)));
		json_array_append_new(list, json_pack("{s:i, s:I, s:o}", "bar", r->bar,
		                                      "current_mb", (json_int_t)r->current_mb,
		                                      "supported_mb", sizes ? sizes : json_null()));
	}
	return list ? list : json_null();
}

static json_t *capabilities(const char *root, const char *address, const struct pt_pci_caps *caps)
{
	bool known = caps && pt_pci_caps_known(caps);
	json_t *sriov =
	        known ? json_pack("{s:i, s:i}", "total_vfs",
	                          caps->sriov_total_vfs < 0 ? 0 : caps->sriov_total_vfs, "num_vfs",
	                          caps->sriov_num_vfs < 0 ? 0 : caps->sriov_num_vfs)
	              : json_null();
	char **names = NULL;
	int n = pt_pci_mdev_types(root, address, &names);
	json_t *mdev = n < 0 ? json_null() : json_array();
	for (int i = 0; i < n && mdev; i++)
		json_array_append_new(mdev, pt_json_text(names[i]));
	pt_host_names_free(names);
	return json_pack("{s:o, s:o, s:o}", "resizable_bar",
	                 known ? rebar_facts(caps) : json_null(), "sriov",
	                 sriov ? sriov : json_null(), "mdev_types", mdev ? mdev : json_null());
}

static json_t *early_facts(const struct pt_load_sources *src, const char *module)
{
	const struct pt_load_entry *found[MAX_EARLY];
	size_t n = pt_load_entries_for(src, module, found, MAX_EARLY);
	if (!n && !src->complete)
		return json_null();
	json_t *list = json_array();
	for (size_t i = 0; i < n && i < MAX_EARLY && list; i++)
		json_array_append_new(list, json_pack("{s:o, s:i, s:s, s:o}", "file",
		                                      pt_json_text(found[i]->file), "line",
		                                      found[i]->line, "how", found[i]->how, "text",
		                                      pt_json_text(found[i]->text)));
	return list ? list : json_null();
}

static json_t *module_load(const struct pt_load_sources *src, const char *module)
{
	_cleanup_free_ char *line_text = NULL;
	int line = pt_load_builtin_line(src, module, &line_text);
	json_t *built_in =
	        line < 0    ? json_null()
	        : line == 0 ? json_false()
	                    : json_pack("{s:o, s:i, s:o}", "file", pt_json_text(src->builtin_file),
	                                "line", line, "text", pt_json_text(line_text));
	json_t *early = early_facts(src, module);
	json_t *load = json_pack("{s:o, s:o}", "built_in", built_in ? built_in : json_null(),
	                         "early", early ? early : json_null());
	if (load && json_is_null(early) && src->unreadable)
		json_object_set_new(load, "unreadable", pt_json_text(src->unreadable));
	return load;
}

static bool is_vfio_module(const char *name)
{
	return !strcmp(name, "vfio_pci") || !strcmp(name, "pci_stub");
}

/* The module behind a bound driver: the driver's `module` link (built-in
 * drivers registered with a module name have one too), else the driver's name. */
static void driver_module(const char *root, const char *driver, char out[64])
{
	_cleanup_free_ char *rel = NULL;
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ char *name = NULL;
	if (asprintf(&rel, "/sys/bus/pci/drivers/%s/module", driver) >= 0)
		path = pt_path_join(root, rel);
	else
		rel = NULL;
	if (path)
		name = pt_link_basename(path);
	pt_kmod_normalize(name ? name : driver, out, 64);
}

static json_t *driver_load(const char *root, const struct pt_load_sources *src,
                           const json_t *device)
{
	json_t *loads = json_object();
	const char *driver = json_string_value(json_object_get(device, "driver"));
	if (loads && driver) {
		char module[64];
		driver_module(root, driver, module);
		if (!is_vfio_module(module))
			json_object_set_new(loads, module, module_load(src, module));
	}
	size_t i;
	json_t *m;
	json_array_foreach (json_object_get(device, "modules"), i, m) {
		char module[64];
		pt_kmod_normalize(json_string_value(m), module, sizeof module);
		if (loads && *module && !is_vfio_module(module) && !json_object_get(loads, module))
			json_object_set_new(loads, module, module_load(src, module));
	}
	return loads ? loads : json_null();
}

int pt_evidence_add(const char *root, const struct pt_pci_host *host, json_t *facts,
                    struct pt_report *rep)
{
	const char *release = json_string_value(json_object_get(facts, "kernel"));
	json_t *devices = json_object_get(facts, "devices");
	add_host(root, facts);

	struct fb_sources fb;
	fb.iomem_state = pt_iomem_read(root, &fb.iomem);
	fb.boot_state = pt_boot_fb_read(root, &fb.boot);
	fb.sysfb_off = sysfb_blacklisted(
	        json_string_value(json_object_get(json_object_get(facts, "cmdline"), "string")));
	struct pt_load_sources src;
	int r = pt_load_sources_read(root, release, &src);
	const char **addresses = calloc(host->count ? host->count : 1, sizeof *addresses);
	struct pt_pci_caps *caps = calloc(host->count ? host->count : 1, sizeof *caps);
	if (r == 0 && (!addresses || !caps))
		r = -ENOMEM;
	for (size_t i = 0; r == 0 && i < host->count; i++)
		addresses[i] = host->devices[i].address;
	if (r == 0)
		r = pt_pci_caps_read(root, addresses, host->count, caps, rep);
	for (size_t i = 0; r == 0 && i < host->count; i++) {
		const char *a = host->devices[i].address;
		json_t *d = json_object_get(devices, a);
		if (!json_is_object(d))
			continue;
		json_object_set_new(d, "reset_methods", reset_methods(root, a, release));
		bool boot_vga = json_is_true(json_object_get(d, "boot_vga"));
		const char *driver = json_string_value(json_object_get(d, "driver"));
		json_object_set_new(d, "framebuffers",
		                    framebuffers(root, a, boot_vga, driver, &fb));
		json_object_set_new(d, "capabilities", capabilities(root, a, &caps[i]));
		json_object_set_new(d, "driver_load", driver_load(root, &src, d));
	}
	free(addresses);
	free(caps);
	pt_load_sources_release(&src);
	pt_iomem_release(&fb.iomem);
	if (r == -ENOMEM && !rep->error)
		pt_report_fail(rep, r, "out of memory while gathering the passthrough evidence");
	return r;
}
