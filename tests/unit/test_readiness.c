/* module_utils/readiness: the verdict for one device from its facts, checked
 * finding by finding on hand-made facts: a device that is ready, then one
 * piece of evidence changed at a time. Each finding's id, severity, evidence and
 * the verdict it leads to; unknown facts (never "fine", never "blocked"); the
 * order of the findings; the Secure Boot note in the reset fix. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cleanup.h"
#include "readiness.h"
#include "support/json_list.h"

#define ADDR "0000:07:00.0"

static json_t *parse(const char *text)
{
	json_error_t err;
	json_t *j = json_loads(text, JSON_DECODE_ANY, &err);
	if (!j)
		fail_msg("bad test JSON: %s: %s", err.text, text);
	return j;
}

/* The seed's GTX 1050 Ti, ready to be handed over. */
static json_t *ready_device(void)
{
	return parse("{\"vendor_id\": \"10de\", \"device_id\": \"1c82\", \"class_id\": \"0300\","
	             " \"driver\": \"nouveau\", \"boot_vga\": true, \"iommu_group\": 14,"
	             " \"reset_methods\": [\"bus\"], \"framebuffers\": [],"
	             " \"driver_load\": {\"nouveau\": {\"built_in\": false, \"early\": []},"
	             "                   \"nvidiafb\": {\"built_in\": false, \"early\": []}}}");
}

static json_t *ready_host(void)
{
	return parse("{\"kernel\": \"6.8.12-4-pve\", \"interrupt_remapping\": true,"
	             " \"secure_boot\": \"off\", \"vfio\": {\"allow_unsafe_interrupts\": false},"
	             " \"cmdline\": {\"params\": {\"intel_iommu\": \"on\"}}}");
}

static json_t *isolated_group(void)
{
	return parse("{\"isolated\": true, \"intruders\": []}");
}

struct fixture {
	json_t *device, *host, *group, *bound;
	bool after_reboot;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	f->device = ready_device();
	f->host = ready_host();
	f->group = isolated_group();
	f->bound = parse("[\"10de:1c82\", \"10de:0fb9\"]");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	json_decref(f->device);
	json_decref(f->host);
	json_decref(f->group);
	json_decref(f->bound);
	free(f);
	return 0;
}

static json_t *evaluate(const struct fixture *f)
{
	struct pt_readiness_input in = {ADDR,     f->device, f->host,
	                                f->group, f->bound,  f->after_reboot};
	json_t *v = pt_readiness_evaluate(&in);
	assert_non_null(v);
	return v;
}

static const char *verdict_of(const json_t *v)
{
	return json_string_value(json_object_get(v, "readiness"));
}

/* The findings' ids, space-separated, in order ("" for none), and the
 * unknown facts. Kept for the rest of the run (tests are short). */
static const char *ids(const json_t *v)
{
	static char *last;
	free(last);
	return last = json_list_join(json_object_get(v, "findings"), "id", NULL);
}

static const char *unknowns(const json_t *v)
{
	static char *last;
	free(last);
	return last = json_list_join(json_object_get(v, "unknown"), "fact", NULL);
}

static const json_t *finding(const json_t *v, size_t i)
{
	return json_array_get(json_object_get(v, "findings"), i);
}

static const char *field(const json_t *finding, const char *key)
{
	return json_string_value(json_object_get(finding, key));
}

static const char *evidence(const json_t *finding, const char *key)
{
	return json_string_value(json_object_get(json_object_get(finding, "evidence"), key));
}

static void assert_has(const char *text, const char *part)
{
	if (!text || !strstr(text, part))
		fail_msg("\"%s\" lacks \"%s\"", text ? text : "(null)", part);
}

static void set(json_t *object, const char *key, const char *json_text)
{
	json_object_set_new(object, key, parse(json_text));
}

/* ---- the tests ------------------------------------------------------------------ */

static void test_ready(void **state)
{
	struct fixture *f = *state;
	_cleanup_json_ json_t *v = evaluate(f);
	assert_string_equal(verdict_of(v), "ready");
	assert_string_equal(ids(v), "");
	assert_string_equal(unknowns(v), "");
	/* the shape: exactly these three keys */
	assert_int_equal(json_object_size(v), 3);
}

static void test_group_not_isolated(void **state)
{
	struct fixture *f = *state;
	set(f->group, "isolated", "false");
	set(f->group, "intruders", "[\"0000:04:00.0\"]");
	_cleanup_json_ json_t *v = evaluate(f);
	assert_string_equal(verdict_of(v), "blocked");
	assert_string_equal(ids(v), "group-not-isolated");
	const json_t *g = finding(v, 0);
	assert_string_equal(field(g, "severity"), "blocking");
	assert_string_equal(evidence(g, "file"), "/sys/kernel/iommu_groups/14/devices");
	assert_string_equal(evidence(g, "value"), "0000:04:00.0");
	assert_has(field(g, "fix"), "gpu_passthrough_devices");
	/* no group given: not judged; isolation unknown: listed */
	struct fixture g2 = *f;
	g2.group = NULL;
	_cleanup_json_ json_t *none = evaluate(&g2);
	assert_string_equal(verdict_of(none), "ready");
	set(f->group, "isolated", "null");
	_cleanup_json_ json_t *unknown = evaluate(f);
	assert_string_equal(verdict_of(unknown), "needs_action");
	assert_string_equal(unknowns(unknown), "isolated");
}

static void test_interrupt_remapping(void **state)
{
	struct fixture *f = *state;
	set(f->host, "interrupt_remapping", "false");
	_cleanup_json_ json_t *v = evaluate(f);
	assert_string_equal(verdict_of(v), "blocked");
	assert_string_equal(ids(v), "no-interrupt-remapping");
	assert_string_equal(field(finding(v, 0), "severity"), "blocking");
	assert_has(field(finding(v, 0), "fix"), "allow_unsafe_interrupts=1");

	/* the risk accepted: info, ready */
	set(json_object_get(f->host, "vfio"), "allow_unsafe_interrupts", "true");
	_cleanup_json_ json_t *accepted = evaluate(f);
	assert_string_equal(verdict_of(accepted), "ready");
	assert_string_equal(field(finding(accepted, 0), "severity"), "info");
	/* the parameter unknown: a warning and an unknown, not blocked */
	set(json_object_get(f->host, "vfio"), "allow_unsafe_interrupts", "null");
	_cleanup_json_ json_t *maybe = evaluate(f);
	assert_string_equal(verdict_of(maybe), "needs_action");
	assert_string_equal(field(finding(maybe, 0), "severity"), "warning");
	assert_string_equal(unknowns(maybe), "vfio.allow_unsafe_interrupts");
	/* remapping itself unknown (AMD-Vi shows no bit) */
	json_object_del(f->host, "interrupt_remapping");
	_cleanup_json_ json_t *unknown = evaluate(f);
	assert_string_equal(verdict_of(unknown), "needs_action");
	assert_string_equal(ids(unknown), "");
	assert_string_equal(unknowns(unknown), "interrupt_remapping");
}

static void test_driver_built_in(void **state)
{
	struct fixture *f = *state;
	set(json_object_get(f->device, "driver_load"), "nouveau",
	    "{\"built_in\": {\"file\": \"/lib/modules/6.1.90-custom/modules.builtin\", \"line\": 2,"
	    " \"text\": \"kernel/drivers/gpu/drm/nouveau/nouveau.ko\"}, \"early\": []}");
	_cleanup_json_ json_t *v = evaluate(f);
	assert_string_equal(verdict_of(v), "blocked");
	assert_string_equal(ids(v), "driver-built-in");
	const json_t *b = finding(v, 0);
	assert_string_equal(evidence(b, "file"), "/lib/modules/6.1.90-custom/modules.builtin");
	assert_int_equal(
	        json_integer_value(json_object_get(json_object_get(b, "evidence"), "line")), 2);
	assert_string_equal(evidence(b, "value"), "kernel/drivers/gpu/drm/nouveau/nouveau.ko");
	assert_has(field(b, "fix"), "as a module");
	/* vfio-pci itself built in is no finding */
	set(json_object_get(f->device, "driver_load"), "nouveau",
	    "{\"built_in\": false, \"early\": []}");
	set(json_object_get(f->device, "driver_load"), "vfio_pci",
	    "{\"built_in\": {\"file\": \"x\", \"line\": 1, \"text\": \"vfio-pci.ko\"}, \"early\": "
	    "[]}");
	_cleanup_json_ json_t *vfio = evaluate(f);
	assert_string_equal(verdict_of(vfio), "ready");
	/* unknown: modules.builtin missing; driver_load absent altogether */
	set(json_object_get(f->device, "driver_load"), "nouveau",
	    "{\"built_in\": null, \"early\": []}");
	_cleanup_json_ json_t *unknown = evaluate(f);
	assert_string_equal(verdict_of(unknown), "needs_action");
	assert_string_equal(unknowns(unknown), "driver_load.nouveau.built_in");
	assert_string_equal(
	        json_string_value(json_object_get(
	                json_array_get(json_object_get(unknown, "unknown"), 0), "file")),
	        "/lib/modules/6.8.12-4-pve/modules.builtin");
	json_object_del(f->device, "driver_load");
	_cleanup_json_ json_t *absent = evaluate(f);
	assert_string_equal(unknowns(absent), "driver_load");
}

static void test_driver_loaded_early(void **state)
{
	struct fixture *f = *state;
	set(json_object_get(f->device, "driver_load"), "nvidia",
	    "{\"built_in\": false, \"early\": ["
	    " {\"file\": \"/etc/initramfs-tools/modules\", \"line\": 5, \"how\": \"initramfs\","
	    "  \"text\": \"nvidia NVreg_PreserveVideoMemoryAllocations=1\"},"
	    " {\"file\": \"/etc/modules-load.d/nvidia.conf\", \"line\": 1, \"how\": "
	    "\"modules-load\", \"text\": \"nvidia\"},"
	    " {\"file\": \"/etc/modprobe.d/x.conf\", \"line\": 3, \"how\": \"install\","
	    "  \"text\": \"install snd_hda_intel /sbin/modprobe nvidia\"}]}");
	_cleanup_json_ json_t *v = evaluate(f);
	assert_string_equal(verdict_of(v), "needs_action");
	assert_string_equal(ids(v), "driver-loaded-early driver-loaded-early driver-loaded-early");
	assert_string_equal(field(finding(v, 0), "severity"), "warning");
	assert_string_equal(evidence(finding(v, 0), "file"), "/etc/initramfs-tools/modules");
	assert_has(field(finding(v, 0), "fix"), "update-initramfs -u -k all");
	assert_has(field(finding(v, 1), "fix"), "systemd-modules-load");
	assert_has(field(finding(v, 2), "fix"), "install command");
	/* a source that could not be read: unknown, named */
	set(json_object_get(f->device, "driver_load"), "nvidia",
	    "{\"built_in\": false, \"early\": null, \"unreadable\": \"/etc/modprobe.d\"}");
	_cleanup_json_ json_t *unknown = evaluate(f);
	assert_string_equal(verdict_of(unknown), "needs_action");
	assert_string_equal(unknowns(unknown), "driver_load.nvidia.early");
}

static void test_not_on_vfio_yet(void **state)
{
	struct fixture *f = *state;
	f->after_reboot = true;
	_cleanup_json_ json_t *v = evaluate(f);
	assert_string_equal(verdict_of(v), "blocked");
	assert_string_equal(ids(v), "not-on-vfio-yet");
	assert_string_equal(evidence(finding(v, 0), "file"),
	                    "/sys/bus/pci/devices/" ADDR "/driver");
	assert_string_equal(evidence(finding(v, 0), "value"), "nouveau");
	set(f->device, "driver", "null");
	_cleanup_json_ json_t *none = evaluate(f);
	assert_string_equal(evidence(finding(none, 0), "value"), "(no driver)");
	set(f->device, "driver", "\"vfio-pci\"");
	_cleanup_json_ json_t *bound = evaluate(f);
	assert_string_equal(verdict_of(bound), "ready");
	/* before the reboot, the driver is what it is */
	f->after_reboot = false;
	set(f->device, "driver", "\"nouveau\"");
	_cleanup_json_ json_t *before = evaluate(f);
	assert_string_equal(verdict_of(before), "ready");
}

static void test_boot_framebuffer(void **state)
{
	struct fixture *f = *state;
	set(f->device, "framebuffers",
	    "[{\"name\": \"BOOTFB\", \"start\": \"0xe0000000\", \"end\": \"0xe07e8fff\", \"bar\": "
	    "1},"
	    " {\"name\": \"simpledrm\", \"start\": \"0xe0000000\", \"end\": \"0xe07e8fff\", "
	    "\"bar\": "
	    "1}]");
	_cleanup_json_ json_t *v = evaluate(f);
	assert_string_equal(verdict_of(v), "needs_action");
	assert_string_equal(ids(v), "boot-framebuffer");
	assert_string_equal(evidence(finding(v, 0), "file"), "/proc/iomem");
	assert_string_equal(
	        evidence(finding(v, 0), "value"),
	        "BOOTFB 0xe0000000-0xe07e8fff in BAR 1; simpledrm 0xe0000000-0xe07e8fff "
	        "in BAR 1");
	const char *fix = field(finding(v, 0), "fix");
	assert_has(fix, "initcall_blacklist=sysfb_init");
	assert_has(fix, "gpu_passthrough_framebuffer");
	assert_has(fix, "video=efifb:off");
	assert_has(fix, "boot GPU");
	/* unknown for a display device, nothing to know for others */
	set(f->device, "framebuffers", "null");
	_cleanup_json_ json_t *unknown = evaluate(f);
	assert_string_equal(unknowns(unknown), "framebuffers");
	set(f->device, "class_id", "\"0403\"");
	_cleanup_json_ json_t *audio = evaluate(f);
	assert_string_equal(verdict_of(audio), "ready");
}

static void test_cmdline_ids(void **state)
{
	struct fixture *f = *state;
	json_t *params = json_object_get(json_object_get(f->host, "cmdline"), "params");
	/* the same IDs, any case, order or form: no conflict */
	set(params, "vfio_pci.ids", "\"10DE:0FB9,10de:1c82:ffffffff:ffffffff\"");
	_cleanup_json_ json_t *same = evaluate(f);
	assert_string_equal(verdict_of(same), "ready");
	/* a stale one */
	set(params, "vfio_pci.ids", "\"10de:1c81,10de:0fb9\"");
	_cleanup_json_ json_t *v = evaluate(f);
	assert_string_equal(verdict_of(v), "needs_action");
	assert_string_equal(ids(v), "cmdline-ids-conflict");
	assert_string_equal(evidence(finding(v, 0), "file"), "/proc/cmdline");
	assert_string_equal(evidence(finding(v, 0), "value"), "vfio-pci.ids=10de:1c81,10de:0fb9");
	assert_has(field(finding(v, 0), "fix"), "10de:0fb9,10de:1c82");
	/* given twice */
	set(params, "vfio_pci.ids", "[\"10de:1c82\", \"10de:0fb9\"]");
	_cleanup_json_ json_t *twice = evaluate(f);
	assert_string_equal(verdict_of(twice), "ready");
	/* without bound IDs: the device's own */
	f->bound = (json_decref(f->bound), NULL);
	set(params, "vfio_pci.ids", "\"10de:1c82\"");
	_cleanup_json_ json_t *own = evaluate(f);
	assert_string_equal(verdict_of(own), "ready");
	set(params, "vfio_pci.ids", "\"garbage\"");
	_cleanup_json_ json_t *garbage = evaluate(f);
	assert_string_equal(ids(garbage), "cmdline-ids-conflict");
}

static void test_no_reset(void **state)
{
	struct fixture *f = *state;
	set(f->device, "reset_methods", "[]");
	_cleanup_json_ json_t *v = evaluate(f);
	assert_string_equal(verdict_of(v), "needs_action");
	assert_string_equal(ids(v), "no-reset");
	assert_string_equal(evidence(finding(v, 0), "file"),
	                    "/sys/bus/pci/devices/" ADDR "/reset_method");
	set(f->device, "reset_methods", "null");
	_cleanup_json_ json_t *unknown = evaluate(f);
	assert_string_equal(ids(unknown), "");
	assert_string_equal(unknowns(unknown), "reset_methods");
	assert_string_equal(verdict_of(unknown), "needs_action");
}

static void test_known_reset_bug(void **state)
{
	struct fixture *f = *state;
	set(f->device, "vendor_id", "\"1002\"");
	set(f->device, "device_id", "\"687f\"");
	set(f->device, "reset_methods", "[]");
	_cleanup_json_ json_t *v = evaluate(f);
	assert_string_equal(verdict_of(v), "needs_action");
	assert_string_equal(ids(v), "no-reset known-reset-bug");
	const json_t *k = finding(v, 1);
	assert_string_equal(evidence(k, "value"), "1002:687f (Vega 10)");
	assert_has(field(k, "fix"), "vendor-reset");
	assert_has(field(k, "fix"), "echo device_specific > /sys/bus/pci/devices/" ADDR);
	assert_null(strstr(field(k, "fix"), "Secure Boot"));
	/* Secure Boot on: the fix says the module must be signed */
	set(f->host, "secure_boot", "\"on\"");
	_cleanup_json_ json_t *sb = evaluate(f);
	assert_has(field(finding(sb, 1), "fix"), "Secure Boot is on");
	assert_has(field(finding(sb, 1), "fix"), "mokutil --import");
	/* unknown: said in the fix, and listed */
	set(f->host, "secure_boot", "null");
	_cleanup_json_ json_t *maybe = evaluate(f);
	assert_has(field(finding(maybe, 1), "fix"), "could not be read");
	assert_string_equal(unknowns(maybe), "secure_boot");
	/* vendor-reset's reset in use: info, and the device is ready */
	set(f->device, "reset_methods", "[\"device_specific\"]");
	set(f->host, "secure_boot", "\"on\"");
	_cleanup_json_ json_t *fixed = evaluate(f);
	assert_string_equal(verdict_of(fixed), "ready");
	assert_string_equal(field(finding(fixed, 0), "severity"), "info");
	/* every family of the table; a Navi 21 is not in it */
	static const struct {
		const char *device, *family;
	} cards[] = {{"67df", "Polaris 10"}, {"67ef", "Polaris 11"}, {"699f", "Polaris 12"},
	             {"66af", "Vega 20"},    {"738c", "Arcturus"},   {"731f", "Navi 10"},
	             {"7360", "Navi 12"},    {"7340", "Navi 14"}};
	set(f->device, "reset_methods", "[\"bus\"]");
	for (size_t i = 0; i < sizeof cards / sizeof *cards; i++) {
		json_object_set_new(f->device, "device_id", json_string(cards[i].device));
		_cleanup_json_ json_t *c = evaluate(f);
		assert_string_equal(ids(c), "known-reset-bug");
		assert_has(evidence(finding(c, 0), "value"), cards[i].family);
	}
	json_object_set_new(f->device, "device_id", json_string("73bf"));
	_cleanup_json_ json_t *navi21 = evaluate(f);
	assert_string_equal(verdict_of(navi21), "ready");
	json_object_set_new(f->device, "vendor_id", json_string("10de"));
	json_object_set_new(f->device, "device_id", json_string("687f"));
	_cleanup_json_ json_t *nvidia = evaluate(f);
	assert_string_equal(verdict_of(nvidia), "ready");
	json_object_set_new(f->device, "device_id", json_null());
	_cleanup_json_ json_t *no_id = evaluate(f);
	assert_string_equal(unknowns(no_id), "device_id");
}

static void test_order_and_verdict(void **state)
{
	struct fixture *f = *state;
	/* everything at once: blocking first, then warnings, in the table's order */
	set(f->device, "reset_methods", "[]");
	set(f->device, "framebuffers",
	    "[{\"name\": \"efifb\", \"start\": \"0xe0000000\", \"end\": \"0xe02fffff\", \"bar\": "
	    "1}]");
	set(f->host, "interrupt_remapping", "false");
	set(f->group, "isolated", "false");
	f->after_reboot = true;
	_cleanup_json_ json_t *v = evaluate(f);
	assert_string_equal(verdict_of(v), "blocked");
	assert_string_equal(ids(v), "group-not-isolated no-interrupt-remapping not-on-vfio-yet "
	                            "boot-framebuffer no-reset");
	/* an unknown never blocks */
	set(f->group, "isolated", "true");
	set(f->host, "interrupt_remapping", "null");
	f->after_reboot = false;
	set(f->device, "reset_methods", "null");
	set(f->device, "framebuffers", "null");
	_cleanup_json_ json_t *u = evaluate(f);
	assert_string_equal(verdict_of(u), "needs_action");
	assert_string_equal(ids(u), "");
	assert_string_equal(unknowns(u), "interrupt_remapping framebuffers reset_methods");
}

static void test_bad_input(void **state)
{
	(void)state;
	struct pt_readiness_input in = {0};
	assert_null(pt_readiness_evaluate(NULL));
	assert_null(pt_readiness_evaluate(&in));
	/* an empty device and host: every fact unknown, nothing claimed */
	_cleanup_json_ json_t *empty = json_object();
	in.device = empty;
	_cleanup_json_ json_t *v = pt_readiness_evaluate(&in);
	assert_non_null(v);
	assert_string_equal(verdict_of(v), "needs_action");
	assert_string_equal(ids(v), "");
	assert_string_equal(unknowns(v), "interrupt_remapping driver_load reset_methods device_id");
	/* wrong types everywhere: still one whole answer */
	_cleanup_json_ json_t *odd = parse(
	        "{\"vendor_id\": 4098, \"device_id\": [], \"driver\": 1, \"reset_methods\": "
	        "\"bus\","
	        " \"framebuffers\": {}, \"driver_load\": {\"x\": {\"built_in\": {}, \"early\": [1, "
	        "{}]}}}");
	_cleanup_json_ json_t *host = parse("{\"cmdline\": {\"params\": {\"vfio_pci.ids\": 7}}}");
	in.device = odd;
	in.host = host;
	in.after_reboot = true;
	_cleanup_json_ json_t *w = pt_readiness_evaluate(&in);
	assert_non_null(w);
	assert_string_equal(verdict_of(w), "blocked");
}

static void test_known_ids(void **state)
{
	(void)state;
	static const char *const known[] = {
	        "group-not-isolated",  "boot-framebuffer",       "no-reset",
	        "known-reset-bug",     "no-interrupt-remapping", "driver-built-in",
	        "driver-loaded-early", "cmdline-ids-conflict",   "not-on-vfio-yet"};
	for (size_t i = 0; i < sizeof known / sizeof *known; i++)
		assert_true(pt_readiness_known_id(known[i]));
	assert_false(pt_readiness_known_id("no_reset"));
	assert_false(pt_readiness_known_id(""));
	assert_false(pt_readiness_known_id(NULL));
}

static void test_add_to_gpus(void **state)
{
	struct fixture *f = *state;
	_cleanup_json_ json_t *facts = json_deep_copy(f->host);
	json_t *devices = json_object();
	json_object_set(devices, ADDR, f->device);
	json_object_set_new(devices, "0000:07:00.1",
	                    parse("{\"vendor_id\": \"10de\", \"device_id\": \"0fb9\"}"));
	json_object_set_new(facts, "devices", devices);
	json_object_set_new(facts, "gpus",
	                    parse("{\"" ADDR "\": {\"functions\": [\"" ADDR "\", \"0000:07:00.1\"],"
	                          " \"isolated\": true, \"intruders\": []},"
	                          " \"0000:09:00.0\": {\"functions\": [], \"isolated\": null}}"));
	set(json_object_get(facts, "cmdline"), "params", "{\"vfio_pci.ids\": \"10de:1c82\"}");
	assert_int_equal(pt_readiness_add_to_gpus(facts), 0);
	json_t *gpu = json_object_get(json_object_get(facts, "gpus"), ADDR);
	/* the slot's IDs are what is bound: the command line's one ID disagrees */
	assert_string_equal(verdict_of(gpu), "needs_action");
	assert_string_equal(ids(gpu), "cmdline-ids-conflict");
	assert_non_null(json_object_get(gpu, "functions")); /* the entry keeps its keys */
	/* a GPU whose device entry is missing is left alone */
	assert_null(json_object_get(json_object_get(json_object_get(facts, "gpus"), "0000:09:00.0"),
	                            "readiness"));
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
	        T(test_ready),
	        T(test_group_not_isolated),
	        T(test_interrupt_remapping),
	        T(test_driver_built_in),
	        T(test_driver_loaded_early),
	        T(test_not_on_vfio_yet),
	        T(test_boot_framebuffer),
	        T(test_cmdline_ids),
	        T(test_no_reset),
	        T(test_known_reset_bug),
	        T(test_order_and_verdict),
	        T(test_bad_input),
	        T(test_known_ids),
	        T(test_add_to_gpus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
