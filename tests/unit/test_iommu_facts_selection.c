/* iommu_facts' selection (iommu_facts_selection.h) on sandbox roots of the
 * fixture hosts (build/tools/mkroot), through the run the module and the
 * shell share (pt_iommu_facts_run): the devices option read as users write
 * addresses, each selected device's verdict with its own group, bound_ids
 * (given or the selection's own), after_reboot, the summary in
 * facts.selection, the refusals, and the table's verdict lines. */
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "cleanup.h"
#include "files.h"
#include "iommu_facts_run.h"
#include "iommu_facts_table.h"
#include "strbuf.h"
#include "support/json_list.h"
#include "support/tmptree.h"

#ifndef SOURCE_DIR
#define SOURCE_DIR "."
#endif

#define MKROOT SOURCE_DIR "/build/tools/mkroot"
#define HOSTS  SOURCE_DIR "/tests/fixtures/hosts/"

static char workdir[256];

/* The root of host NAME, made once per test program; its path in a static buffer. */
static const char *root_of(const char *name)
{
	static char path[512];
	char yml[512];
	snprintf(path, sizeof path, "%s/%s", workdir, name);
	snprintf(yml, sizeof yml, HOSTS "%s.yml", name);
	if (access(path, F_OK) != 0) {
		const char *argv[] = {MKROOT, yml, path, NULL};
		tmptree_run(argv);
	}
	return path;
}

/* Run on host NAME with the options given as JSON ("null" for none). Returns
 * the run's return value; res filled either way. */
static int run(const char *name, const char *devices, const char *bound_ids, bool after_reboot,
               struct pt_iommu_facts_result *res)
{
	const char *root = root_of(name);
	json_error_t err;
	_cleanup_json_ json_t *d = json_loads(devices, JSON_DECODE_ANY, &err);
	_cleanup_json_ json_t *b = json_loads(bound_ids, JSON_DECODE_ANY, &err);
	struct pt_iommu_facts_opts opts = {
	        .root = root, .devices = d, .bound_ids = b, .after_reboot = after_reboot};
	pt_files_confine(root);
	int r = pt_iommu_facts_run(&opts, res);
	pt_files_confine(NULL);
	return r;
}

static void want_json(const json_t *value, const char *want)
{
	_cleanup_free_ char *got = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!got || strcmp(got, want) != 0)
		fail_msg("got %s, want %s", got ? got : "(nothing)", want);
}

/* A selected device's verdict: readiness and "id/severity ..." of its findings. */
static void want_verdict(json_t *facts, const char *address, const char *readiness, const char *ids)
{
	json_t *d = json_object_get(json_object_get(facts, "devices"), address);
	const char *got = json_string_value(json_object_get(d, "readiness"));
	_cleanup_free_ char *findings =
	        json_list_join(json_object_get(d, "findings"), "id", "severity");
	if (!got || strcmp(got, readiness) || strcmp(findings, ids))
		fail_msg("%s: %s [%s], want %s [%s]", address, got ? got : "(none)", findings,
		         readiness, ids);
}

/* The first finding of a selected device. Borrowed. */
static json_t *first_finding(json_t *facts, const char *address)
{
	json_t *d = json_object_get(json_object_get(facts, "devices"), address);
	return json_array_get(json_object_get(d, "findings"), 0);
}

static int setup(void **state)
{
	(void)state;
	return tmptree_make(workdir, sizeof workdir, "iommu-facts-selection");
}

static int teardown(void **state)
{
	(void)state;
	pt_files_confine(NULL);
	return tmptree_remove(workdir);
}

/* No selection: every GPU judged, no device, and the summary says so. */
static void test_no_selection(void **state)
{
	(void)state;
	struct pt_iommu_facts_result res;
	assert_int_equal(run("pve1-gtx1050ti", "null", "null", false, &res), 0);
	want_json(json_object_get(res.facts, "selection"),
	          "{\"devices\":[],\"bound_ids\":[],\"after_reboot\":false,\"readiness\":null}");
	want_json(
	        json_object_get(json_object_get(json_object_get(res.facts, "gpus"), "0000:07:00.0"),
	                        "readiness"),
	        "\"ready\"");
	const char *address;
	json_t *d;
	json_object_foreach (json_object_get(res.facts, "devices"), address, d)
		if (json_object_get(d, "readiness"))
			fail_msg("%s judged without a selection", address);
	pt_iommu_facts_result_release(&res);
}

/* A slot stands for its functions; each is judged; the summary is the worst. */
static void test_slot_blocked(void **state)
{
	(void)state;
	struct pt_iommu_facts_result res;
	assert_int_equal(run("no-interrupt-remapping", "[\"03:00\"]", "null", false, &res), 0);
	want_json(json_object_get(res.facts, "selection"),
	          "{\"devices\":[\"0000:03:00.0\",\"0000:03:00.1\"],"
	          "\"bound_ids\":[\"10de:10fa\",\"10de:1f82\"],\"after_reboot\":false,"
	          "\"readiness\":\"blocked\"}");
	want_verdict(res.facts, "0000:03:00.0", "blocked", "no-interrupt-remapping/blocking");
	want_verdict(res.facts, "0000:03:00.1", "blocked", "no-interrupt-remapping/blocking");
	pt_iommu_facts_result_release(&res);
}

/* bound_ids: given in any case, they are what the command line is compared
 * with; left out, the selection's own IDs are. */
static void test_bound_ids(void **state)
{
	(void)state;
	struct pt_iommu_facts_result res;
	assert_int_equal(run("cmdline-ids-conflict", "[\"0000:07:00\"]", "null", false, &res), 0);
	want_verdict(res.facts, "0000:07:00.0", "needs_action", "cmdline-ids-conflict/warning");
	json_t *f = first_finding(res.facts, "0000:07:00.0");
	want_json(json_object_get(json_object_get(f, "evidence"), "value"),
	          "\"vfio-pci.ids=10de:1c81,10de:0fb9\"");
	pt_iommu_facts_result_release(&res);

	/* the command line's list is the one being bound: no conflict */
	assert_int_equal(run("cmdline-ids-conflict", "[\"0000:07:00.0\", \"0000:07:00.1\"]",
	                     "[\"10DE:1C81\", \"10de:0fb9\"]", false, &res),
	                 0);
	want_verdict(res.facts, "0000:07:00.0", "ready", "");
	want_json(json_object_get(json_object_get(res.facts, "selection"), "bound_ids"),
	          "[\"10de:0fb9\",\"10de:1c81\"]");
	pt_iommu_facts_result_release(&res);
}

/* after_reboot: a selected device that is not on vfio-pci is blocked. */
static void test_after_reboot(void **state)
{
	(void)state;
	struct pt_iommu_facts_result res;
	assert_int_equal(run("pve1-gtx1050ti", "[\"0000:07:00\"]", "null", true, &res), 0);
	want_verdict(res.facts, "0000:07:00.0", "blocked", "not-on-vfio-yet/blocking");
	json_t *f = first_finding(res.facts, "0000:07:00.0");
	want_json(json_object_get(json_object_get(f, "evidence"), "value"), "\"nouveau\"");
	want_json(json_object_get(json_object_get(res.facts, "selection"), "after_reboot"), "true");
	/* the GPUs' own verdicts stay the ones before the reboot */
	want_json(
	        json_object_get(json_object_get(json_object_get(res.facts, "gpus"), "0000:07:00.0"),
	                        "readiness"),
	        "\"ready\"");
	pt_iommu_facts_result_release(&res);
}

/* Each device's group: the endpoints of its own group that are not selected;
 * with the IOMMU off the group is unknown. */
static void test_groups(void **state)
{
	(void)state;
	struct pt_iommu_facts_result res;
	assert_int_equal(run("gpu-shares-group-with-nic", "[\"0000:03:00\"]", "null", false, &res),
	                 0);
	want_verdict(res.facts, "0000:03:00.0", "blocked", "group-not-isolated/blocking");
	json_t *f = first_finding(res.facts, "0000:03:00.0");
	want_json(json_object_get(f, "evidence"),
	          "{\"file\":\"/sys/kernel/iommu_groups/10/devices\",\"value\":\"0000:04:00.0\"}");
	pt_iommu_facts_result_release(&res);

	assert_int_equal(run("datacenter-gpu-iommu-off", "[\"0000:3b:00.0\"]", "null", false, &res),
	                 0);
	json_t *d = json_object_get(json_object_get(res.facts, "devices"), "0000:3b:00.0");
	_cleanup_free_ char *unknown = json_list_join(json_object_get(d, "unknown"), "fact", NULL);
	assert_non_null(strstr(unknown, "isolated"));
	pt_iommu_facts_result_release(&res);
}

/* What is no address, names no device, or is no ID is refused, named. */
static void test_refusals(void **state)
{
	(void)state;
	struct pt_iommu_facts_result res;
	assert_int_equal(
	        run("pve1-gtx1050ti", "[\"0000:07:00\", \"GTX 1050\"]", "null", false, &res),
	        -EINVAL);
	assert_null(res.facts);
	assert_string_equal(res.report.msg,
	                    "devices[1]: 'GTX 1050' is not a PCI address (0000:07:00.0 is one "
	                    "function, 0000:07:00 every function of a slot)");
	pt_iommu_facts_result_release(&res);

	assert_int_equal(run("pve1-gtx1050ti", "[\"0000:09:00\"]", "null", false, &res), -EINVAL);
	assert_non_null(strstr(res.report.msg, "devices[0]: no PCI device in slot 0000:09:00"));
	pt_iommu_facts_result_release(&res);

	assert_int_equal(run("pve1-gtx1050ti", "[\"0000:07:00.5\"]", "null", false, &res), -EINVAL);
	assert_non_null(strstr(res.report.msg, "devices[0]: no PCI device at 0000:07:00.5"));
	pt_iommu_facts_result_release(&res);

	assert_int_equal(run("pve1-gtx1050ti", "[\"0000:07:00\"]", "[\"10de:1c82\", \"nvidia\"]",
	                     false, &res),
	                 -EINVAL);
	assert_string_equal(res.report.msg, "bound_ids[1]: 'nvidia' is not a vendor:device ID (4 "
	                                    "hex digits each, as in 10de:1c82)");
	pt_iommu_facts_result_release(&res);
}

/* The table: each GPU's verdict, the selection's, findings with evidence and
 * fix, unknown facts. */
static void test_table(void **state)
{
	(void)state;
	struct pt_iommu_facts_result res;
	assert_int_equal(run("nvidia-built-in-initramfs", "[\"0000:2d:00\"]", "null", false, &res),
	                 0);
	_cleanup_strbuf_ struct pt_strbuf table = PT_STRBUF_INIT;
	assert_int_equal(pt_iommu_facts_table(res.facts, &table), 0);
	const char *text = pt_strbuf_str(&table);
	const char *want[] = {
	        "GPU 0000:2d:00.0 NVIDIA Corporation GP104 [GeForce GTX 1080]: group 27, isolated "
	        "(passes through alone)\n  readiness: blocked\n  - driver-built-in (blocking)\n"
	        "    evidence: /lib/modules/6.1.90-custom/modules.builtin line 1: "
	        "kernel/drivers/gpu/drm/nouveau/nouveau.ko\n    fix: nouveau is built into the "
	        "running kernel,",
	        "  - driver-loaded-early (warning)\n    evidence: /etc/initramfs-tools/modules "
	        "line "
	        "5: nvidia NVreg_PreserveVideoMemoryAllocations=1\n    fix: ",
	        "  unknown (not counted as fine): interrupt_remapping (/proc/interrupts)\n",
	        "\nSelected devices, judged before the reboot: blocked\ngroup 27  0000:2d:00.0  ",
	        "(driver: snd_hda_intel)\n  readiness: needs_action\n  unknown (not counted as "
	        "fine): interrupt_remapping (/proc/interrupts)\n",
	};
	for (size_t i = 0; i < sizeof want / sizeof *want; i++)
		if (!strstr(text, want[i]))
			fail_msg("the table lacks [%s]:\n%s", want[i], text);
	/* the fixes are wrapped at 78 columns; the device lines and the evidence
	 * (a file's line as it was read) are not */
	for (const char *line = text; *line;) {
		size_t len = strcspn(line, "\n");
		bool device_line =
		        strstr(line, "(driver: ") && strstr(line, "(driver: ") < line + len;
		if (len > 78 && !device_line && strncmp(line, "GPU ", 4) &&
		    strncmp(line, "    evidence: ", 14) && strncmp(line, "IOMMU", 5))
			fail_msg("line too long: %.*s", (int)len, line);
		line += len + (line[len] == '\n');
	}
	pt_iommu_facts_result_release(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_no_selection), cmocka_unit_test(test_slot_blocked),
	        cmocka_unit_test(test_bound_ids),    cmocka_unit_test(test_after_reboot),
	        cmocka_unit_test(test_groups),       cmocka_unit_test(test_refusals),
	        cmocka_unit_test(test_table),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
