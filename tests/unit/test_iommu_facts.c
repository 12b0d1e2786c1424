/* iommu_facts on fixture roots: the four kernel captures and the host
 * descriptions in tests/fixtures/hosts, built with build/tools/mkroot. The
 * module's own main runs in-process (its stdout captured), so what is checked
 * is the JSON Ansible would receive. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "exec.h"
#include "files.h"
#include "iommu.h"
#include "iommu_facts_table.h"
#include "strbuf.h"
#include "support/mkroot.h"
#include "support/tmptree.h"

/* The module under test, with its main renamed. */
#define main iommu_facts_main
#include "../../modules/iommu_facts.c" /* NOLINT(bugprone-suspicious-include) */
#undef main

#define HOSTS    SOURCE_DIR "/tests/fixtures/hosts/"
#define CAPTURES SOURCE_DIR "/tests/fixtures/captures/"

static char workdir[256];

/* ---- fixture roots ---------------------------------------------------------- */

/* A root built once per test run: <workdir>/<name>. Returns a static path. */
static const char *root_of(const char *kind, const char *name)
{
	static char path[512];
	snprintf(path, sizeof path, "%s/%s", workdir, name);
	struct stat st;
	if (stat(path, &st) == 0)
		return path;
	char source[512];
	if (!strcmp(kind, "capture")) {
		snprintf(source, sizeof source, CAPTURES "%s.tgz", name);
		const char *argv[] = {MKROOT, "--capture", source, path, NULL};
		tmptree_run(argv);
	} else {
		snprintf(source, sizeof source, HOSTS "%s.yml", name);
		if (stat(source, &st) < 0)
			fail_msg("fixture %s is missing", source);
		const char *argv[] = {MKROOT, source, path, NULL};
		tmptree_run(argv);
	}
	return path;
}

/* ---- running the module -------------------------------------------------- */

/* Run the module on an args object; returns its result (new reference) and
 * its exit code in *rc. */
static json_t *run_module(json_t *args, int *rc)
{
	char args_path[512], out_path[512];
	snprintf(args_path, sizeof args_path, "%s/args.json", workdir);
	snprintf(out_path, sizeof out_path, "%s/stdout", workdir);
	assert_int_equal(json_dump_file(args, args_path, 0), 0);

	fflush(stdout);
	int saved = dup(STDOUT_FILENO);
	int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, STDOUT_FILENO);
	close(fd);
	char *argv[] = {"iommu_facts", args_path, NULL};
	*rc = iommu_facts_main(2, argv);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);

	json_error_t err;
	json_t *result = json_load_file(out_path, 0, &err);
	if (!result)
		fail_msg("module printed no JSON: %s", err.text);
	return result;
}

/* ansible_facts.iommu of a root, asserting the run succeeded. */
static json_t *facts_of(const char *root)
{
	json_t *args = json_pack("{s:s, s:b}", "root", root, "_ansible_check_mode", 0);
	int rc = -1;
	json_t *result = run_module(args, &rc);
	json_decref(args);
	if (rc != 0 || json_is_true(json_object_get(result, "failed")))
		fail_msg("module failed: %s", json_string_value(json_object_get(result, "msg")));
	assert_true(json_is_false(json_object_get(result, "changed")));
	json_t *facts =
	        json_incref(json_object_get(json_object_get(result, "ansible_facts"), "iommu"));
	assert_non_null(facts);
	json_decref(result);
	return facts;
}

/* Text the shell mode prints for argv (argv[0] included). Caller frees. */
static char *shell_output(int argc, char **argv, int *rc)
{
	char out_path[512];
	snprintf(out_path, sizeof out_path, "%s/table", workdir);
	fflush(stdout);
	int saved = dup(STDOUT_FILENO);
	int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, STDOUT_FILENO);
	close(fd);
	*rc = iommu_facts_main(argc, argv);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	FILE *f = fopen(out_path, "r");
	char *text = calloc(1, 1 << 16);
	size_t n = fread(text, 1, (1 << 16) - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

/* ---- assertions in the words of the facts --------------------------------- */

static json_t *at(json_t *j, const char *path)
{
	/* "gpus/0000:01:00.0/functions": keys separated by '/' */
	char buf[256];
	snprintf(buf, sizeof buf, "%s", path);
	char *save = NULL;
	for (char *k = strtok_r(buf, "/", &save); k && j; k = strtok_r(NULL, "/", &save))
		j = json_object_get(j, k);
	return j;
}

static void want_json(json_t *facts, const char *path, const char *expected_json)
{
	json_error_t err;
	json_t *want = json_loads(expected_json, JSON_DECODE_ANY, &err);
	if (!want)
		fail_msg("bad expectation %s: %s", expected_json, err.text);
	json_t *got = at(facts, path);
	if (!got || !json_equal(got, want)) {
		char *g =
		        got ? json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT) : strdup("(absent)");
		fail_msg("%s:\n want %s\n got  %s", path, expected_json, g);
	}
	json_decref(want);
}

static void want_string(json_t *facts, const char *path, const char *expected)
{
	const char *got = json_string_value(at(facts, path));
	if (!got || strcmp(got, expected) != 0)
		fail_msg("%s: want \"%s\", got \"%s\"", path, expected,
		         got ? got : "(not a string)");
}

/* Every group has `type`; returns how many groups. */
static size_t want_all_groups(json_t *facts, const char *type)
{
	json_t *groups = json_object_get(facts, "groups");
	const char *k;
	json_t *g;
	json_object_foreach (groups, k, g)
		if (!json_is_string(json_object_get(g, "type")) ||
		    strcmp(json_string_value(json_object_get(g, "type")), type) != 0)
			fail_msg("group %s is not of type %s", k, type);
	return json_object_size(groups);
}

/* ---- the captures ---------------------------------------------------------- */

static void test_capture_intel_vtd(void **state)
{
	(void)state;
	json_t *f = facts_of(root_of("capture", "qemu-q35-intel-vtd"));
	want_json(f, "enabled", "true");
	want_string(f, "vendor", "intel");
	want_string(f, "cpu_virtualization", "svm"); /* the emulated CPU was an EPYC */
	want_string(f, "kernel", "6.1.0-56-amd64");
	want_string(f, "default_domain", "identity");
	want_json(f, "interrupt_remapping", "null"); /* no /proc/interrupts captured */
	want_string(f, "cmdline/string", "console=ttyS0 quiet intel_iommu=on iommu=pt");
	want_json(f, "cmdline/params", "{\"intel_iommu\": \"on\", \"iommu\": \"pt\"}");
	assert_int_equal(want_all_groups(f, "identity"), 10);
	want_json(f, "groups/7/devices", "[\"0000:01:00.0\", \"0000:01:00.1\"]");
	want_json(f, "groups/6/devices", "[\"0000:00:1f.0\", \"0000:00:1f.2\", \"0000:00:1f.3\"]");
	want_json(f, "vfio/loaded",
	          "[\"vfio_pci\", \"vfio_pci_core\", \"vfio_virqfd\", "
	          "\"vfio_iommu_type1\", \"vfio\", \"irqbypass\"]");
	want_json(f, "vfio/modules/vfio_pci", "true");
	want_json(f, "vfio/virqfd_separate", "true"); /* Debian 12's 6.1 kernel */

	/* the GPU-shaped pair: VGA + HD audio on one slot, alone in group 7 */
	want_json(f, "gpus/0000:01:00.0/functions", "[\"0000:01:00.0\", \"0000:01:00.1\"]");
	want_json(f, "gpus/0000:01:00.0/iommu_group", "7");
	want_json(f, "gpus/0000:01:00.0/iommu_groups", "[7]");
	want_json(f, "gpus/0000:01:00.0/isolated", "true");
	want_json(f, "gpus/0000:01:00.0/intruders", "[]");
	want_json(f, "gpus/0000:01:00.0/boot_vga", "true");
	want_string(f, "gpus/0000:01:00.0/slot", "0000:01:00");
	assert_int_equal(json_object_size(json_object_get(f, "gpus")), 1);

	want_string(f, "devices/0000:01:00.0/vendor_id", "1234");
	want_string(f, "devices/0000:01:00.0/device_id", "1111");
	want_string(f, "devices/0000:01:00.0/subsystem_vendor_id", "1af4");
	want_string(f, "devices/0000:01:00.0/subsystem_device_id", "1100");
	want_string(f, "devices/0000:01:00.0/class_id", "0300");
	want_string(f, "devices/0000:01:00.0/class_name", "VGA compatible controller");
	want_string(f, "devices/0000:01:00.0/parent", "0000:00:02.0");
	want_json(f, "devices/0000:01:00.0/reset_methods", "[\"bus\"]");
	want_json(f, "devices/0000:01:00.0/iommu_group", "7");
	want_json(f, "devices/0000:01:00.0/driver", "null");
	want_json(f, "devices/0000:01:00.0/driver_override", "null");
	want_json(f, "devices/0000:01:00.0/is_bridge", "false");
	want_string(f, "devices/0000:01:00.1/class_id", "0403");
	want_json(f, "devices/0000:01:00.1/boot_vga", "null");
	want_json(f, "devices/0000:00:02.0/is_bridge", "true");
	want_string(f, "devices/0000:00:02.0/driver", "pcieport");
	want_json(f, "devices/0000:00:02.0/parent", "null");
	want_string(f, "devices/0000:02:00.0/vendor_name", "Intel Corporation");
	assert_int_equal(json_object_size(json_object_get(f, "devices")), 13);
	json_decref(f);
}

static void test_capture_default_dma_fq(void **state)
{
	(void)state;
	json_t *f = facts_of(root_of("capture", "qemu-q35-intel-default-dma-fq"));
	want_json(f, "enabled", "true");
	want_string(f, "vendor", "intel");
	want_string(f, "default_domain", "DMA-FQ");
	assert_int_equal(want_all_groups(f, "DMA-FQ"), 10);
	want_json(f, "cmdline/params", "{}");
	want_json(f, "gpus/0000:01:00.0/isolated", "true");
	json_decref(f);
}

static void test_capture_amd_vi(void **state)
{
	(void)state;
	json_t *f = facts_of(root_of("capture", "qemu-q35-amd-vi"));
	want_json(f, "enabled", "true");
	want_string(f, "vendor", "amd");
	want_string(f, "default_domain", "DMA");
	assert_int_equal(want_all_groups(f, "DMA"), 9);
	/* the AMD IOMMU is itself a PCI function, in no group */
	want_json(f, "devices/0000:00:02.0/iommu_group", "null");
	want_json(f, "gpus/0000:01:00.0/iommu_group", "6");
	want_json(f, "gpus/0000:01:00.0/isolated", "true");
	want_json(f, "gpus/0000:01:00.0/intruders", "[]");
	json_decref(f);
}

static void test_capture_no_iommu(void **state)
{
	(void)state;
	json_t *f = facts_of(root_of("capture", "qemu-q35-no-iommu"));
	want_json(f, "enabled", "false");
	want_json(f, "vendor", "null");
	want_json(f, "default_domain", "null");
	want_json(f, "groups", "{}");
	want_json(f, "cmdline/params", "{\"intel_iommu\": \"off\"}");
	json_t *devices = json_object_get(f, "devices");
	assert_true(json_object_size(devices) > 5);
	const char *k;
	json_t *d;
	json_object_foreach (devices, k, d)
		if (!json_is_null(json_object_get(d, "iommu_group")))
			fail_msg("%s has a group without an IOMMU", k);
	/* the GPU is still reported, its isolation unknown */
	want_json(f, "gpus/0000:01:00.0/functions", "[\"0000:01:00.0\", \"0000:01:00.1\"]");
	want_json(f, "gpus/0000:01:00.0/iommu_group", "null");
	want_json(f, "gpus/0000:01:00.0/isolated", "null");
	want_json(f, "gpus/0000:01:00.0/intruders", "[]");
	json_decref(f);
}

/* ---- the host descriptions ---------------------------------------------------- */

static void test_seed_host_pve1(void **state)
{
	(void)state;
	json_t *f = facts_of(root_of("host", "pve1-gtx1050ti"));
	want_json(f, "enabled", "true");
	const char *gpu = "gpus/0000:07:00.0";
	char p[128];
#define GPU(field) (snprintf(p, sizeof p, "%s/%s", gpu, field), p)
	want_json(f, GPU("iommu_group"), "14");
	want_json(f, GPU("functions"), "[\"0000:07:00.0\", \"0000:07:00.1\"]");
	want_json(f, GPU("isolated"), "true");
	want_json(f, GPU("intruders"), "[]");
	want_string(f, GPU("vendor_id"), "10de");
	want_string(f, GPU("device_id"), "1c82");
	want_string(f, GPU("subsystem_vendor_id"), "1462");
	want_string(f, GPU("subsystem_device_id"), "8c96");
	want_string(f, GPU("driver"), "nouveau");
	want_string(f, GPU("vendor_name"), "NVIDIA Corporation");
	assert_non_null(strstr(json_string_value(at(f, GPU("device_name"))), "GTX 1050 Ti"));
#undef GPU
	want_json(f, "groups/14/devices", "[\"0000:07:00.0\", \"0000:07:00.1\"]");
	want_string(f, "devices/0000:07:00.1/device_id", "0fb9");
	want_json(f, "devices/0000:07:00.1/iommu_group", "14");
	/* the r8169 NIC alone in group 13 */
	want_json(f, "groups/13/devices", "[\"0000:06:00.0\"]");
	want_string(f, "devices/0000:06:00.0/driver", "r8169");
	want_string(f, "vendor", "intel");
	want_string(f, "cpu_virtualization", "vmx");
	want_string(f, "kernel", "6.8.12-4-pve");
	want_string(f, "default_domain", "DMA");
	want_json(f, "interrupt_remapping", "true"); /* every DMAR unit has IR */
	want_json(f, "cmdline/params", "{}");
	want_json(f, "vfio/loaded", "[\"irqbypass\"]");
	want_json(f, "vfio/virqfd_separate", "false"); /* 6.8: part of vfio.ko */
	want_json(f, "vfio/modules/vfio_pci", "false");
	want_json(f, "devices/0000:07:00.0/modules", "[\"nouveau\", \"nvidiafb\"]");
	want_json(f, "devices/0000:07:00.0/boot_vga", "true");
	want_string(f, "devices/0000:07:00.0/parent", "0000:00:01.0");
	want_json(f, "devices/0000:07:00.0/reset_methods", "[\"bus\"]");
	/* PCH functions share group 9: not a GPU's business, but listed */
	want_json(f, "groups/9/devices", "[\"0000:00:1f.0\", \"0000:00:1f.2\", \"0000:00:1f.4\"]");
	assert_int_equal(json_object_size(json_object_get(f, "gpus")), 1);
	json_decref(f);
}

static void test_gpu_shares_group_with_nic(void **state)
{
	(void)state;
	json_t *f = facts_of(root_of("host", "gpu-shares-group-with-nic"));
	json_t *gpus = json_object_get(f, "gpus");
	assert_int_equal(json_object_size(gpus), 1);
	const char *k;
	json_t *g;
	json_object_foreach (gpus, k, g) {
		assert_true(json_is_false(json_object_get(g, "isolated")));
		json_t *intruders = json_object_get(g, "intruders");
		bool nic = false;
		size_t i;
		json_t *a;
		json_array_foreach (intruders, i, a)
			nic |= !strcmp(json_string_value(a), "0000:04:00.0");
		if (!nic)
			fail_msg("the NIC 0000:04:00.0 is not among the intruders of %s", k);
		/* the GPU's own functions are never intruders */
		json_t *fn;
		json_array_foreach (json_object_get(g, "functions"), i, fn) {
			size_t j;
			json_array_foreach (intruders, j, a)
				assert_false(json_equal(a, fn));
		}
	}
	json_decref(f);
}

static void test_two_identical_gpus(void **state)
{
	(void)state;
	json_t *f = facts_of(root_of("host", "two-identical-gpus"));
	json_t *gpus = json_object_get(f, "gpus");
	assert_int_equal(json_object_size(gpus), 2);
	const char *k;
	json_t *g;
	json_t *first_ids = NULL;
	json_object_foreach (gpus, k, g) {
		if (!json_is_true(json_object_get(g, "isolated")))
			fail_msg("GPU %s is not isolated", k);
		want_json(g, "intruders", "[]");
		json_t *ids = json_pack("[OO]", json_object_get(g, "vendor_id"),
		                        json_object_get(g, "device_id"));
		if (first_ids) {
			assert_true(json_equal(first_ids, ids)); /* identical cards */
			json_decref(ids);
		} else {
			first_ids = ids;
		}
	}
	/* two different groups */
	json_t *a = NULL, *b = NULL;
	json_object_foreach (gpus, k, g) {
		if (!a)
			a = json_object_get(g, "iommu_group");
		else
			b = json_object_get(g, "iommu_group");
	}
	assert_false(json_equal(a, b));
	json_decref(first_ids);
	json_decref(f);
}

static void test_datacenter_gpu_iommu_off(void **state)
{
	(void)state;
	json_t *f = facts_of(root_of("host", "datacenter-gpu-iommu-off"));
	want_json(f, "enabled", "false");
	want_json(f, "groups", "{}");
	json_t *gpus = json_object_get(f, "gpus");
	assert_int_equal(json_object_size(gpus), 1);
	const char *k;
	json_t *g;
	json_object_foreach (gpus, k, g) {
		want_string(g, "class_id", "0302");
		want_string(g, "driver", "nvidia");
		want_json(g, "iommu_group", "null");
		want_json(g, "isolated", "null");
		want_json(g, "intruders", "[]");
	}
	json_decref(f);
}

/* ---- failures and missing data ---------------------------------------------- */

static void copy_tree(const char *from, const char *to)
{
	const char *argv[] = {"/bin/cp", "-a", from, to, NULL};
	tmptree_run(argv);
}

/* Attributes gone or unreadable: null fields, not a failure. */
static void test_missing_attributes_are_null(void **state)
{
	(void)state;
	char root[512], dev[700], path[800];
	snprintf(root, sizeof root, "%s/stripped", workdir);
	copy_tree(root_of("capture", "qemu-q35-intel-vtd"), root);
	snprintf(dev, sizeof dev, "%s/sys/bus/pci/devices/0000:01:00.0", root);
	const char *gone[] = {
	        "subsystem_vendor", "subsystem_device", "reset_method", "driver_override",
	        "modalias",         "iommu_group",      "revision",     "config"};
	for (size_t i = 0; i < sizeof gone / sizeof *gone; i++) {
		snprintf(path, sizeof path, "%s/%s", dev, gone[i]);
		unlink(path);
	}
	/* boot_vga unreadable: a directory where the file should be */
	snprintf(path, sizeof path, "%s/boot_vga", dev);
	unlink(path);
	assert_int_equal(mkdir(path, 0755), 0);
	/* a group without its type file, proc and modules gone */
	snprintf(path, sizeof path, "%s/sys/kernel/iommu_groups/7/type", root);
	unlink(path);
	snprintf(path, sizeof path, "%s/proc/cpuinfo", root);
	unlink(path);
	snprintf(path, sizeof path, "%s/proc/cmdline", root);
	unlink(path);

	json_t *f = facts_of(root);
	const char *d = "devices/0000:01:00.0/";
	char p[128];
#define DEV(field) (snprintf(p, sizeof p, "%s%s", d, field), p)
	want_json(f, DEV("subsystem_vendor_id"), "null");
	want_json(f, DEV("subsystem_device_id"), "null");
	/* a kernel from 5.15 on hides reset_method when there is no method
	 * (device_evidence.h): none, not unknown */
	want_json(f, DEV("reset_methods"), "[]");
	want_json(f, DEV("driver_override"), "null");
	want_json(f, DEV("modalias"), "null");
	want_json(f, DEV("modules"), "[]");
	want_json(f, DEV("boot_vga"), "null");
	want_json(f, DEV("iommu_group"), "null");
	want_string(f, DEV("vendor_id"), "1234");
#undef DEV
	want_json(f, "groups/7/type", "null");
	/* the group directory still lists both functions */
	want_json(f, "groups/7/devices", "[\"0000:01:00.0\", \"0000:01:00.1\"]");
	want_json(f, "cpu_virtualization", "null");
	want_json(f, "cmdline/string", "null");
	want_json(f, "cmdline/params", "{}");
	want_string(f, "default_domain", "identity");
	json_decref(f);
}

/* libpci's error (a device without its vendor file) is a failed result with
 * libpci's words, not a crash and not bare text. */
static void test_libpci_error_is_failed_result(void **state)
{
	(void)state;
	char root[512], path[800];
	snprintf(root, sizeof root, "%s/broken", workdir);
	copy_tree(root_of("capture", "qemu-q35-intel-vtd"), root);
	snprintf(path, sizeof path, "%s/sys/bus/pci/devices/0000:01:00.0/vendor", root);
	assert_int_equal(unlink(path), 0);

	json_t *args = json_pack("{s:s}", "root", root);
	int rc = 0;
	json_t *result = run_module(args, &rc);
	assert_int_equal(rc, 1);
	assert_true(json_is_true(json_object_get(result, "failed")));
	const char *msg = json_string_value(json_object_get(result, "msg"));
	assert_non_null(msg);
	assert_non_null(strstr(msg, "libpci"));
	assert_non_null(strstr(msg, "0000:01:00.0/vendor"));
	assert_null(json_object_get(result, "ansible_facts"));
	json_decref(result);
	json_decref(args);

	/* garbage where the devices directory should be */
	snprintf(root, sizeof root, "%s/garbage", workdir);
	tmptree_put(root, "/sys/bus/pci/devices",
	            "\x7f"
	            "ELF garbage\n");
	args = json_pack("{s:s}", "root", root);
	result = run_module(args, &rc);
	assert_int_equal(rc, 1);
	assert_true(json_is_true(json_object_get(result, "failed")));
	assert_non_null(strstr(json_string_value(json_object_get(result, "msg")), "libpci"));
	json_decref(result);
	json_decref(args);
}

static void test_bad_root_and_options(void **state)
{
	(void)state;
	int rc = 0;
	json_t *args = json_pack("{s:s}", "root", "/nonexistent/root");
	json_t *result = run_module(args, &rc);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(json_string_value(json_object_get(result, "msg")),
	                       "/nonexistent/root is not a directory"));
	json_decref(result);
	json_decref(args);

	args = json_pack("{s:s}", "bogus", "1");
	result = run_module(args, &rc);
	assert_int_equal(rc, 1);
	want_string(result, "msg",
	            "Unsupported parameters for (homelab.passthrough.iommu_facts) module: bogus. "
	            "Supported parameters include: after_reboot, bound_ids, devices, root.");
	json_decref(result);
	json_decref(args);
}

/* A root without any PCI bus: no devices, no failure. */
static void test_empty_root(void **state)
{
	(void)state;
	char root[512];
	snprintf(root, sizeof root, "%s/empty", workdir);
	assert_int_equal(mkdir(root, 0755), 0);
	json_t *f = facts_of(root);
	want_json(f, "enabled", "false");
	want_json(f, "devices", "{}");
	want_json(f, "gpus", "{}");
	want_json(f, "kernel", "null");
	want_json(f, "vfio/loaded", "[]");
	want_json(f, "vfio/virqfd_separate", "null");
	json_decref(f);
}

/* Check mode: the same facts, nothing changed. */
static void test_check_mode_same_facts(void **state)
{
	(void)state;
	const char *root = root_of("capture", "qemu-q35-intel-vtd");
	json_t *args = json_pack("{s:s, s:b, s:b}", "root", root, "_ansible_check_mode", 1,
	                         "_ansible_diff", 1);
	int rc = -1;
	json_t *checked = run_module(args, &rc);
	assert_int_equal(rc, 0);
	assert_true(json_is_false(json_object_get(checked, "changed")));
	json_t *real = facts_of(root);
	assert_true(json_equal(at(checked, "ansible_facts/iommu"), real));
	json_decref(real);
	json_decref(checked);
	json_decref(args);
}

static void test_shell_table(void **state)
{
	(void)state;
	int rc = -1;
	char *argv[] = {"iommu_facts", "--root", (char *)root_of("capture", "qemu-q35-intel-vtd"),
	                NULL};
	char *text = shell_output(3, argv, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(
	        strstr(text, "IOMMU enabled (Intel VT-d), 10 groups, default domain identity"));
	assert_non_null(
	        strstr(text, "group 7  0000:01:00.0  [1234:1111]  VGA compatible controller"));
	assert_non_null(strstr(text, "0000:01:00.1  [8086:293e]  Audio device"));
	assert_non_null(strstr(text, "GPU 0000:01:00.0"));
	assert_non_null(strstr(text, "isolated"));
	free(text);

	char *argv_off[] = {"iommu_facts", "--root",
	                    (char *)root_of("capture", "qemu-q35-no-iommu"), NULL};
	text = shell_output(3, argv_off, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(text, "IOMMU is not enabled: no IOMMU groups. The kernel command "
	                             "line says intel_iommu=off: remove it"));
	assert_non_null(strstr(text, "0000:01:00.0"));
	free(text);

	char *argv_json[] = {"iommu_facts", "--json", "--root",
	                     (char *)root_of("capture", "qemu-q35-amd-vi"), NULL};
	text = shell_output(4, argv_json, &rc);
	assert_int_equal(rc, 0);
	json_error_t err;
	json_t *f = json_loads(text, 0, &err);
	assert_non_null(f);
	want_string(f, "vendor", "amd");
	json_decref(f);
	free(text);

	char *argv_help[] = {"iommu_facts", "--help", NULL};
	text = shell_output(2, argv_help, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(text, "usage: iommu_facts"));
	free(text);
}

/* The run alone, as a test or the shell calls it: the facts the module
 * returns, and the table the shell prints made from them; a failure comes back
 * in the run's report, the facts NULL. */
static void test_run_without_ansible(void **state)
{
	(void)state;
	const char *root = root_of("capture", "qemu-q35-intel-vtd");
	struct pt_iommu_facts_opts opts = {.root = root};
	struct pt_iommu_facts_result res;
	pt_files_confine(root);
	assert_int_equal(pt_iommu_facts_run(&opts, &res), 0);
	pt_files_confine(NULL);
	assert_null(res.report.msg);
	json_t *module = facts_of(root);
	assert_true(json_equal(res.facts, module));
	json_decref(module);

	struct pt_strbuf table = PT_STRBUF_INIT;
	assert_int_equal(pt_iommu_facts_table(res.facts, &table), 0);
	int rc = -1;
	char *argv[] = {"iommu_facts", "--root", (char *)root, NULL};
	char *text = shell_output(3, argv, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(pt_strbuf_str(&table), text);
	free(text);
	pt_strbuf_release(&table);
	pt_iommu_facts_result_release(&res);

	char broken[512], path[800];
	snprintf(broken, sizeof broken, "%s/broken-run", workdir);
	copy_tree(root, broken);
	snprintf(path, sizeof path, "%s/sys/bus/pci/devices/0000:01:00.0/vendor", broken);
	assert_int_equal(unlink(path), 0);
	opts.root = broken;
	assert_int_equal(pt_iommu_facts_run(&opts, &res), -EIO);
	assert_null(res.facts);
	assert_int_equal(res.report.error, -EIO);
	assert_non_null(strstr(res.report.msg, "libpci"));
	pt_iommu_facts_result_release(&res);
}

static void test_cmdline_params(void **state)
{
	(void)state;
	json_t *p = pt_iommu_cmdline_params(
	        "BOOT_IMAGE=/boot/vmlinuz-6.8.12-4-pve root=/dev/mapper/pve-root ro quiet "
	        "intel_iommu=on iommu=pt vfio-pci.ids=10de:1c82,10de:0fb9 video=efifb:off "
	        "video=vesafb:off pcie_acs_override=downstream,multifunction "
	        "initcall_blacklist=sysfb_init nomodeset iommu.passthrough=1 amd_iommu_intr=legacy "
	        "vfio_iommu_type1.allow_unsafe_interrupts=1 \"kvm.ignore_msrs=1\" -- "
	        "intel_iommu=off");
	json_error_t err;
	json_t *want = json_loads(
	        "{\"intel_iommu\": \"on\", \"iommu\": \"pt\", \"vfio_pci.ids\": "
	        "\"10de:1c82,10de:0fb9\", \"video\": [\"efifb:off\", \"vesafb:off\"], "
	        "\"pcie_acs_override\": \"downstream,multifunction\", \"initcall_blacklist\": "
	        "\"sysfb_init\", \"nomodeset\": true, \"iommu.passthrough\": \"1\", "
	        "\"amd_iommu_intr\": \"legacy\", \"vfio_iommu_type1.allow_unsafe_interrupts\": "
	        "\"1\", "
	        "\"kvm.ignore_msrs\": \"1\"}",
	        0, &err);
	if (!json_equal(p, want)) {
		char *g = json_dumps(p, JSON_SORT_KEYS);
		fail_msg("got %s", g);
	}
	json_decref(want);
	json_decref(p);

	p = pt_iommu_cmdline_params("");
	assert_int_equal(json_object_size(p), 0);
	json_decref(p);
	p = pt_iommu_cmdline_params(NULL);
	assert_int_equal(json_object_size(p), 0);
	json_decref(p);
}

/* The group helpers other modules use, on the shared-group capture layout. */
static void test_group_helpers(void **state)
{
	(void)state;
	struct pt_pci_host host;
	struct pt_report rep = {0};
	assert_int_equal(pt_pci_scan(root_of("capture", "qemu-q35-intel-vtd"), &host, &rep), 0);
	json_t *members = pt_iommu_group_devices(&host, 6);
	want_json(members, "", "[\"0000:00:1f.0\", \"0000:00:1f.2\", \"0000:00:1f.3\"]");
	json_decref(members);
	members = pt_iommu_group_devices(&host, -1);
	assert_int_equal(json_array_size(members), 0);
	json_decref(members);

	const char *sata[] = {"0000:00:1f.2"};
	json_t *intruders = pt_iommu_intruders(&host, sata, 1);
	want_json(intruders, "", "[\"0000:00:1f.0\", \"0000:00:1f.3\"]");
	json_decref(intruders);
	const char *all[] = {"0000:00:1f.0", "0000:00:1f.2", "0000:00:1f.3"};
	intruders = pt_iommu_intruders(&host, all, 3);
	assert_int_equal(json_array_size(intruders), 0);
	json_decref(intruders);
	const char *gpu_only[] = {"0000:01:00.0"};
	intruders = pt_iommu_intruders(&host, gpu_only, 1);
	want_json(intruders, "", "[\"0000:01:00.1\"]");
	json_decref(intruders);

	json_t *fns = pt_iommu_slot_functions(&host, "0000:00:1f");
	assert_int_equal(json_array_size(fns), 3);
	json_decref(fns);
	assert_true(pt_iommu_is_gpu(pt_pci_find(&host, "0000:01:00.0")));
	assert_false(pt_iommu_is_gpu(pt_pci_find(&host, "0000:01:00.1")));
	pt_pci_host_release(&host);
}

static int setup(void **state)
{
	return mkroot_group_setup(state, workdir, "iommu-facts");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_capture_intel_vtd),
	        cmocka_unit_test(test_capture_default_dma_fq),
	        cmocka_unit_test(test_capture_amd_vi),
	        cmocka_unit_test(test_capture_no_iommu),
	        cmocka_unit_test(test_seed_host_pve1),
	        cmocka_unit_test(test_gpu_shares_group_with_nic),
	        cmocka_unit_test(test_two_identical_gpus),
	        cmocka_unit_test(test_datacenter_gpu_iommu_off),
	        cmocka_unit_test(test_missing_attributes_are_null),
	        cmocka_unit_test(test_libpci_error_is_failed_result),
	        cmocka_unit_test(test_bad_root_and_options),
	        cmocka_unit_test(test_empty_root),
	        cmocka_unit_test(test_check_mode_same_facts),
	        cmocka_unit_test(test_shell_table),
	        cmocka_unit_test(test_run_without_ansible),
	        cmocka_unit_test(test_cmdline_params),
	        cmocka_unit_test(test_group_helpers),
	};
	return cmocka_run_group_tests(tests, setup, mkroot_group_teardown);
}
