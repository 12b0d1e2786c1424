/* The passthrough verdict (see readiness.h). Each check reads one piece of
 * evidence and adds a finding, an unknown, or nothing; the verdict follows from
 * what was added. The fixes name commands and role variables, because the user
 * reads them in a failed preflight, not in the source. */
#include "readiness.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "gpu_reset_quirks.h"
#include "strbuf.h"

/* The firmware's SecureBoot variable in efivarfs (host_secure_boot.h reads it). */
#define SECURE_BOOT_FILE "/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"

enum severity { BLOCKING, WARNING, INFO, N_SEVERITIES };

static const char *const severity_names[] = {"blocking", "warning", "info"};

static const char *const finding_ids[] = {
        "group-not-isolated", "no-interrupt-remapping", "driver-built-in",      "not-on-vfio-yet",
        "boot-framebuffer",   "driver-loaded-early",    "cmdline-ids-conflict", "no-reset",
        "known-reset-bug",
};

struct verdict {
	const struct pt_readiness_input *in;
	json_t *by_severity[N_SEVERITIES]; /* findings, in the order the checks add them */
	json_t *unknown;
	bool oom;
};

bool pt_readiness_known_id(const char *id)
{
	for (size_t i = 0; id && i < sizeof finding_ids / sizeof *finding_ids; i++)
		if (!strcmp(id, finding_ids[i]))
			return true;
	return false;
}

/* A string member, or NULL. */
static const char *str(const json_t *object, const char *key)
{
	return json_string_value(json_object_get(object, key));
}

/* printf into a new string; NULL when out of memory. Caller frees. */
static __attribute__((format(printf, 1, 2))) char *format(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

/* Every text here is UTF-8: literals, and values taken from the facts. */
static json_t *text(const char *s)
{
	return s ? json_string(s) : NULL;
}

static void add_finding(struct verdict *v, const char *id, enum severity severity, const char *file,
                        long line, const char *value, const char *fix)
{
	json_t *evidence = json_object();
	json_t *finding = json_object();
	if (!evidence || !finding || !fix) {
		json_decref(evidence);
		json_decref(finding);
		v->oom = true;
		return;
	}
	/* facts missing a key (hand-made input) still give a whole finding */
	json_object_set_new(evidence, "file", text(file ? file : "?"));
	if (line > 0)
		json_object_set_new(evidence, "line", json_integer(line));
	json_object_set_new(evidence, "value", text(value ? value : ""));
	json_object_set_new(finding, "id", json_string(id));
	json_object_set_new(finding, "severity", json_string(severity_names[severity]));
	json_object_set_new(finding, "evidence", evidence);
	json_object_set_new(finding, "fix", text(fix));
	if (json_array_append_new(v->by_severity[severity], finding) < 0)
		v->oom = true;
}

static void add_unknown(struct verdict *v, const char *fact, const char *file)
{
	json_t *u = json_pack("{s:s, s:s}", "fact", fact ? fact : "?", "file", file ? file : "?");
	if (!u || json_array_append_new(v->unknown, u) < 0)
		v->oom = true;
}

/* "/sys/bus/pci/devices/<address>/<attr>". Caller frees. */
static char *device_file(const struct verdict *v, const char *attr)
{
	return format("/sys/bus/pci/devices/%s/%s", v->in->address ? v->in->address : "ADDR", attr);
}

/* ---- the checks, in the order of readiness.h's table ---------------------- */

static void check_group(struct verdict *v)
{
	const json_t *group = v->in->group;
	if (!group)
		return;
	json_t *number = json_object_get(v->in->device, "iommu_group");
	_cleanup_free_ char *file = json_is_integer(number)
	                                    ? format("/sys/kernel/iommu_groups/%lld/devices",
	                                             json_integer_value(number))
	                                    : strdup("/sys/kernel/iommu_groups");
	json_t *isolated = json_object_get(group, "isolated");
	if (!json_is_boolean(isolated)) {
		add_unknown(v, "isolated", file);
		return;
	}
	if (json_is_true(isolated))
		return;
	struct pt_strbuf others = PT_STRBUF_INIT;
	size_t i;
	json_t *a;
	json_array_foreach (json_object_get(group, "intruders"), i, a)
		pt_strbuf_printf(&others, "%s%s", i ? " " : "", json_string_value(a));
	const char *list = others.len ? pt_strbuf_str(&others) : "other devices";
	_cleanup_free_ char *fix = format(
	        "The IOMMU group holds %s besides the devices being handed over, and vfio can "
	        "only give a guest a whole group. Hand them over too (add them to "
	        "gpu_passthrough_devices) if the host can do without them, or move the card to "
	        "a slot with a group of its own (usually a CPU-attached x16 slot). "
	        "pcie_acs_override=downstream,multifunction on the kernel command line splits "
	        "groups on Proxmox VE's kernels, at the cost of the isolation the groups stand "
	        "for.",
	        list);
	add_finding(v, "group-not-isolated", BLOCKING, file, 0, list, fix);
	pt_strbuf_release(&others);
}

static void check_interrupt_remapping(struct verdict *v)
{
	json_t *ir = json_object_get(v->in->host, "interrupt_remapping");
	if (!json_is_boolean(ir)) {
		add_unknown(v, "interrupt_remapping", "/proc/interrupts");
		return;
	}
	if (json_is_true(ir))
		return;
	static const char fix_firmware[] =
	        "The platform does not remap interrupts, and vfio_iommu_type1 refuses to give a "
	        "guest a device then (\"No interrupt remapping support\"). Turn it on in the "
	        "firmware (VT-d or AMD-Vi, x2APIC, \"Interrupt Remapping\"), or accept the risk "
	        "that a guest can send the host interrupts it was not given (MSI spoofing): "
	        "`options vfio_iommu_type1 allow_unsafe_interrupts=1` in /etc/modprobe.d/, or "
	        "vfio_iommu_type1.allow_unsafe_interrupts=1 on the kernel command line.";
	json_t *allow =
	        json_object_get(json_object_get(v->in->host, "vfio"), "allow_unsafe_interrupts");
	if (json_is_true(allow)) {
		add_finding(
		        v, "no-interrupt-remapping", INFO, "/proc/interrupts", 0,
		        "interrupt remapping off, allow_unsafe_interrupts=1",
		        "vfio accepts the device because allow_unsafe_interrupts is set: a guest "
		        "can send the host interrupts it was not given (MSI spoofing). Turn "
		        "interrupt remapping on in the firmware to close that.");
		return;
	}
	if (!json_is_boolean(allow))
		add_unknown(v, "vfio.allow_unsafe_interrupts",
		            "/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts");
	add_finding(v, "no-interrupt-remapping", json_is_false(allow) ? BLOCKING : WARNING,
	            "/proc/interrupts", 0, "interrupt remapping off", fix_firmware);
}

static bool is_vfio_driver(const char *module)
{
	return !strcmp(module, "vfio_pci") || !strcmp(module, "vfio-pci") ||
	       !strcmp(module, "pci_stub") || !strcmp(module, "pci-stub");
}

static void check_built_in(struct verdict *v, const char *module, const json_t *load)
{
	json_t *built_in = json_object_get(load, "built_in");
	if (json_is_false(built_in))
		return;
	if (!json_is_object(built_in)) {
		const char *kernel = str(v->in->host, "kernel");
		_cleanup_free_ char *fact = format("driver_load.%s.built_in", module);
		_cleanup_free_ char *file =
		        format("/lib/modules/%s/modules.builtin", kernel ? kernel : "RELEASE");
		add_unknown(v, fact, file);
		return;
	}
	_cleanup_free_ char *fix = format(
	        "%s is built into the running kernel, so it binds the device while the kernel "
	        "starts, before vfio-pci (a module) can claim it; blacklists and softdeps do not "
	        "apply to built-in drivers. Boot a kernel that builds %s as a module (Proxmox VE's "
	        "kernels build the GPU drivers as modules), or keep it from starting with "
	        "initcall_blacklist=<its init function> on the kernel command line (the host then "
	        "has no %s at all).",
	        module, module, module);
	add_finding(v, "driver-built-in", BLOCKING, str(built_in, "file"),
	            (long)json_integer_value(json_object_get(built_in, "line")),
	            str(built_in, "text") ? str(built_in, "text") : module, fix);
}

static char *early_fix(const char *module, const char *how, const char *file)
{
	if (how && !strcmp(how, "initramfs"))
		return format(
		        "%s loads %s in the initramfs, before vfio-pci can claim the device. "
		        "Remove the line (or put '#' before it), then run update-initramfs -u "
		        "-k all and reboot.",
		        file, module);
	if (how && !strcmp(how, "install"))
		return format(
		        "This install command in %s loads %s along with another module, "
		        "around the softdep that makes vfio-pci load first. Remove %s from the "
		        "command (or the line), then run update-initramfs -u -k all.",
		        file, module, module);
	return format("%s makes systemd-modules-load load %s at every boot, whatever the "
	              "hardware, before vfio-pci can claim the device. Remove the line (or put "
	              "'#' before it); vfio_bind's softdep already loads vfio-pci first whenever "
	              "%s is needed.",
	              file, module, module);
}

static void check_loaded_early(struct verdict *v, const char *module, const json_t *load)
{
	json_t *early = json_object_get(load, "early");
	if (!json_is_array(early)) {
		_cleanup_free_ char *fact = format("driver_load.%s.early", module);
		const char *where = str(load, "unreadable");
		add_unknown(v, fact, where ? where : "/etc/modprobe.d");
		return;
	}
	size_t i;
	json_t *e;
	json_array_foreach (early, i, e) {
		_cleanup_free_ char *fix = early_fix(module, str(e, "how"), str(e, "file"));
		add_finding(v, "driver-loaded-early", WARNING, str(e, "file"),
		            (long)json_integer_value(json_object_get(e, "line")),
		            str(e, "text") ? str(e, "text") : module, fix);
	}
}

/* driver-built-in for every claiming driver, then driver-loaded-early: the
 * table's order. */
static void check_drivers(struct verdict *v, bool early)
{
	json_t *loads = json_object_get(v->in->device, "driver_load");
	if (!json_is_object(loads)) {
		if (!early)
			add_unknown(v, "driver_load", "/lib/modules");
		return;
	}
	const char *module;
	json_t *load;
	json_object_foreach (loads, module, load) {
		if (is_vfio_driver(module))
			continue;
		if (early)
			check_loaded_early(v, module, load);
		else
			check_built_in(v, module, load);
	}
}

static void check_on_vfio(struct verdict *v)
{
	if (!v->in->after_reboot)
		return;
	const char *driver = str(v->in->device, "driver");
	if (driver && !strcmp(driver, "vfio-pci"))
		return;
	_cleanup_free_ char *file = device_file(v, "driver");
	_cleanup_free_ char *fix = format(
	        "After the reboot the device is %s%s, not on vfio-pci. The other findings say "
	        "why when they can (driver-built-in, driver-loaded-early, cmdline-ids-conflict). "
	        "Otherwise check that the initramfs was rebuilt after the VFIO files changed "
	        "(update-initramfs -u -k all) and that vfio-pci is loaded (lsmod | grep vfio_pci).",
	        driver ? "on " : "without a driver", driver ? driver : "");
	add_finding(v, "not-on-vfio-yet", BLOCKING, file, 0, driver ? driver : "(no driver)", fix);
}

static bool is_display(const json_t *device)
{
	const char *class_id = str(device, "class_id");
	return class_id && !strncmp(class_id, "03", 2);
}

static void check_framebuffer(struct verdict *v)
{
	json_t *fbs = json_object_get(v->in->device, "framebuffers");
	if (!json_is_array(fbs)) {
		if (is_display(v->in->device))
			add_unknown(v, "framebuffers", "/proc/iomem");
		return;
	}
	if (!json_array_size(fbs))
		return;
	struct pt_strbuf value = PT_STRBUF_INIT;
	size_t i;
	json_t *fb;
	const char *driver = str(v->in->device, "driver");
	json_array_foreach (fbs, i, fb) {
		pt_strbuf_printf(&value, "%s%s %s-%s in BAR %lld", i ? "; " : "", str(fb, "name"),
		                 str(fb, "start"), str(fb, "end"),
		                 json_integer_value(json_object_get(fb, "bar")));
		/* From boot_params: no longer in /proc/iomem because the card's
		 * driver took it over; it is back once vfio-pci has the card. */
		const char *source = str(fb, "source");
		if (source && strcmp(source, "/proc/iomem") != 0 && driver &&
		    strcmp(driver, "vfio-pci") != 0)
			pt_strbuf_printf(&value,
			                 " (%s has it now; it returns when vfio-pci has the "
			                 "card)",
			                 driver);
	}
	const char *file = str(json_array_get(fbs, 0), "source");
	bool boot = json_is_true(json_object_get(v->in->device, "boot_vga"));
	_cleanup_free_ char *fix = format(
	        "The firmware's framebuffer still claims memory in this %s's BAR, so vfio-pci "
	        "cannot reserve it (\"BAR n: can't reserve\") and the guest gets a black screen. "
	        "Keep the host's boot console off the card: the role adds "
	        "initcall_blacklist=sysfb_init to the kernel command line (gpu_passthrough_"
	        "framebuffer: auto does for the boot GPU, always for any), or add it to "
	        "gpu_passthrough_kernel_params. On Proxmox VE's kernels since 5.15 (all of PVE 8 "
	        "and 9) video=efifb:off no longer frees the BAR: the framebuffer belongs to "
	        "sysfb and simpledrm, not efifb. Or make another GPU the boot display in the "
	        "firmware settings. The host shows no console on this card afterwards.",
	        boot ? "boot GPU" : "card");
	add_finding(v, "boot-framebuffer", WARNING, file ? file : "/proc/iomem", 0,
	            pt_strbuf_str(&value), fix);
	pt_strbuf_release(&value);
}

/* "10de:1c82" from "10de:1c82" or "10de:1c82:ffffffff:ffffffff:..." into out
 * (lower case); false when it is no ID. */
static bool id_key(const char *s, size_t len, char out[10])
{
	if (len < 9 || s[4] != ':' || (len > 9 && s[9] != ':'))
		return false;
	for (size_t i = 0; i < 9; i++) {
		char c = s[i];
		if (i == 4)
			out[i] = ':';
		else if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))
			out[i] = c;
		else if (c >= 'A' && c <= 'F')
			out[i] = (char)(c - 'A' + 'a');
		else
			return false;
	}
	out[9] = '\0';
	return true;
}

/* Add the IDs of a comma-separated list to set (an object used as a set);
 * words that are no ID are kept as they are, so they count as a difference. */
static void add_ids(json_t *set, const char *list)
{
	for (const char *p = list; p && *p;) {
		size_t len = strcspn(p, ",");
		char key[10];
		_cleanup_free_ char *word = strndup(p, len);
		if (len && word)
			json_object_set_new(set, id_key(p, len, key) ? key : word, json_true());
		p += len + (p[len] == ',');
	}
}

static bool same_keys(const json_t *a, const json_t *b)
{
	const char *key;
	json_t *value;
	if (json_object_size(a) != json_object_size(b))
		return false;
	json_object_foreach ((json_t *)a, key, value)
		if (!json_object_get(b, key))
			return false;
	return true;
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of set, sorted, comma-separated, appended to out. */
static void sorted_keys(const json_t *set, struct pt_strbuf *out)
{
	size_t n = json_object_size(set), i = 0;
	_cleanup_free_ const char **keys = calloc(n ? n : 1, sizeof *keys);
	const char *key;
	json_t *value;
	json_object_foreach ((json_t *)set, key, value)
		if (keys)
			keys[i++] = key;
	if (keys)
		qsort(keys, n, sizeof *keys, compare_strings);
	for (i = 0; keys && i < n; i++)
		pt_strbuf_printf(out, "%s%s", i ? "," : "", keys[i]);
}

static void check_cmdline_ids(struct verdict *v)
{
	json_t *params = json_object_get(json_object_get(v->in->host, "cmdline"), "params");
	json_t *given = json_object_get(params, "vfio_pci.ids");
	if (!given)
		return;
	_cleanup_json_ json_t *cmdline = json_object();
	_cleanup_json_ json_t *bound = json_object();
	struct pt_strbuf written = PT_STRBUF_INIT;
	if (json_is_string(given)) {
		add_ids(cmdline, json_string_value(given));
		pt_strbuf_printf(&written, "vfio-pci.ids=%s", json_string_value(given));
	}
	size_t i;
	json_t *g;
	json_array_foreach (given, i, g) {
		add_ids(cmdline, json_string_value(g));
		pt_strbuf_printf(&written, "%svfio-pci.ids=%s", i ? " " : "", json_string_value(g));
	}
	json_t *e;
	if (v->in->bound_ids) {
		json_array_foreach (v->in->bound_ids, i, e)
			add_ids(bound, json_string_value(e));
	} else {
		_cleanup_free_ char *own = format(
		        "%s:%s",
		        str(v->in->device, "vendor_id") ? str(v->in->device, "vendor_id") : "?",
		        str(v->in->device, "device_id") ? str(v->in->device, "device_id") : "?");
		add_ids(bound, own);
	}
	if (!same_keys(cmdline, bound)) {
		struct pt_strbuf want = PT_STRBUF_INIT;
		sorted_keys(bound, &want);
		_cleanup_free_ char *fix = format(
		        "The running kernel command line gives vfio-pci its own ids= list, and it "
		        "is "
		        "not the one being bound (%s): vfio-pci then gets two lists, uses one, and "
		        "devices of the other stay with their drivers or are taken from the host. "
		        "Remove vfio-pci.ids= from /etc/default/grub (then update-grub) or "
		        "/etc/kernel/cmdline (then proxmox-boot-tool refresh) and reboot; "
		        "vfio_bind "
		        "keeps the IDs in /etc/modprobe.d/vfio.conf.",
		        want.len ? pt_strbuf_str(&want) : "none");
		add_finding(v, "cmdline-ids-conflict", WARNING, "/proc/cmdline", 0,
		            pt_strbuf_str(&written), fix);
		pt_strbuf_release(&want);
	}
	pt_strbuf_release(&written);
}

static void check_reset(struct verdict *v)
{
	json_t *methods = json_object_get(v->in->device, "reset_methods");
	_cleanup_free_ char *file = device_file(v, "reset_method");
	if (!json_is_array(methods)) {
		add_unknown(v, "reset_methods", file);
		return;
	}
	if (json_array_size(methods))
		return;
	add_finding(v, "no-reset", WARNING, file, 0, "(no reset method)",
	            "The kernel has no way to reset this device, so a guest that stops leaves it "
	            "as it was: the VM may not start again, or the card misbehaves, until the host "
	            "reboots. Shut guests down from inside rather than stopping them; a bus reset "
	            "needs the card alone behind its bridge (a slot of its own, every function "
	            "handed over); update the card's and the board's firmware; for AMD cards see "
	            "known-reset-bug.");
}

/* The hex ID in a facts string ("687f"); -1 when it is not one. */
static long hex_id(const char *s)
{
	if (!s || !*s)
		return -1;
	char *end = NULL;
	long v = strtol(s, &end, 16);
	return *end || v < 0 || v > 0xffff ? -1 : v;
}

static void check_reset_quirk(struct verdict *v)
{
	long vendor = hex_id(str(v->in->device, "vendor_id"));
	long device = hex_id(str(v->in->device, "device_id"));
	_cleanup_free_ char *file = device_file(v, "device");
	if (vendor < 0 || device < 0) {
		add_unknown(v, "device_id", file);
		return;
	}
	const char *family = pt_gpu_reset_quirk_family((unsigned)vendor, (unsigned)device);
	if (!family)
		return;
	_cleanup_free_ char *value = format("%04lx:%04lx (%s)", vendor, device, family);
	json_t *methods = json_object_get(v->in->device, "reset_methods");
	const char *first = json_string_value(json_array_get(methods, 0));
	if (first && !strcmp(first, "device_specific")) {
		add_finding(
		        v, "known-reset-bug", INFO, file, 0, value,
		        "An AMD GPU with the reset bug; its device-specific reset (vendor-reset) "
		        "is the one the kernel uses, which is the fix.");
		return;
	}
	const char *secure_boot = str(v->in->host, "secure_boot");
	const char *sb_note = "";
	if (secure_boot && !strcmp(secure_boot, "on"))
		sb_note =
		        " Secure Boot is on: the kernel refuses the unsigned vendor-reset DKMS "
		        "module until it is signed with a key you enroll (mokutil --import, then "
		        "confirm at the next boot; DKMS signs with its own key once enrolled), or "
		        "until Secure Boot is turned off in the firmware.";
	else if (!secure_boot) {
		sb_note = " If Secure Boot is on (its state could not be read), the kernel refuses "
		          "the unsigned DKMS module until it is signed with a key you enroll "
		          "(mokutil --import).";
		add_unknown(v, "secure_boot", SECURE_BOOT_FILE);
	}
	_cleanup_free_ char *fix = format(
	        "%s GPUs do not come back from the kernel's resets once a guest has used them: "
	        "the VM starts once, then not again until the host reboots. Install the "
	        "vendor-reset module (DKMS, github.com/gnif/vendor-reset; needs the kernel "
	        "headers, proxmox-default-headers on Proxmox VE), load it at boot (vendor-reset "
	        "in /etc/modules) and, on kernels 5.15 and later, select its reset: echo "
	        "device_specific > /sys/bus/pci/devices/%s/reset_method (a udev rule keeps it "
	        "across boots).%s",
	        family, v->in->address ? v->in->address : "ADDR", sb_note);
	add_finding(v, "known-reset-bug", WARNING, file, 0, value, fix);
}

/* ---- the verdict ------------------------------------------------------------- */

json_t *pt_readiness_evaluate(const struct pt_readiness_input *in)
{
	if (!in || !json_is_object(in->device))
		return NULL;
	struct verdict v = {.in = in, .unknown = json_array()};
	for (int s = 0; s < N_SEVERITIES; s++) {
		v.by_severity[s] = json_array();
		v.oom |= !v.by_severity[s];
	}
	v.oom |= !v.unknown;
	if (!v.oom) {
		check_group(&v);
		check_interrupt_remapping(&v);
		check_drivers(&v, false);
		check_on_vfio(&v);
		check_framebuffer(&v);
		check_drivers(&v, true);
		check_cmdline_ids(&v);
		check_reset(&v);
		check_reset_quirk(&v);
	}
	json_t *findings = json_array();
	for (int s = 0; s < N_SEVERITIES && findings; s++)
		if (!v.by_severity[s] || json_array_extend(findings, v.by_severity[s]) < 0)
			v.oom = true;
	const char *readiness = json_array_size(v.by_severity[BLOCKING])  ? "blocked"
	                        : json_array_size(v.by_severity[WARNING]) ? "needs_action"
	                        : json_array_size(v.unknown)              ? "needs_action"
	                                                                  : "ready";
	json_t *out = v.oom || !findings ? NULL
	                                 : json_pack("{s:s, s:O, s:O}", "readiness", readiness,
	                                             "findings", findings, "unknown", v.unknown);
	for (int s = 0; s < N_SEVERITIES; s++)
		json_decref(v.by_severity[s]);
	json_decref(findings);
	json_decref(v.unknown);
	return out;
}

int pt_readiness_add_to_gpus(json_t *facts)
{
	json_t *devices = json_object_get(facts, "devices");
	const char *address;
	json_t *gpu;
	json_object_foreach (json_object_get(facts, "gpus"), address, gpu) {
		_cleanup_json_ json_t *ids = json_array();
		size_t i;
		json_t *f;
		json_array_foreach (json_object_get(gpu, "functions"), i, f) {
			json_t *d = json_object_get(devices, json_string_value(f));
			const char *vendor = str(d, "vendor_id"), *device = str(d, "device_id");
			if (vendor && device && ids)
				json_array_append_new(ids, json_sprintf("%s:%s", vendor, device));
		}
		struct pt_readiness_input in = {
		        .address = address,
		        .device = json_object_get(devices, address),
		        .host = facts,
		        .group = gpu,
		        .bound_ids = ids,
		};
		if (!json_is_object(in.device))
			continue; /* a partial facts object: nothing to judge */
		_cleanup_json_ json_t *verdict = ids ? pt_readiness_evaluate(&in) : NULL;
		if (!verdict || json_object_update(gpu, verdict) < 0)
			return -ENOMEM;
	}
	return 0;
}
