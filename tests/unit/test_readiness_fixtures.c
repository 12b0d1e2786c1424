/* The readiness evidence and verdicts on sandbox roots of the host descriptions
 * in tests/fixtures/hosts (one per finding, and the seed host pve1), built with
 * build/tools/mkroot: the PCI scan, the facts (iommu.h), the evidence added to
 * them (device_evidence.h) and the GPUs' verdicts (readiness.h), as iommu_facts
 * will run them. Then the same roots damaged the ways a host can be read badly:
 * /proc/iomem cut short or seen by a user who is not root, a resource file with
 * fewer lines, garbage in reset_method, a 256-byte config space: each such fact
 * is reported unknown, and nothing crashes. */
#include <errno.h>
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

#include "cleanup.h"
#include "device_evidence.h"
#include "exec.h"
#include "files.h"
#include "host_pci_caps.h"
#include "iommu.h"
#include "libpci_call.h"
#include "readiness.h"
#include "support/json_list.h"
#include "support/tmptree.h"

#ifndef SOURCE_DIR
#define SOURCE_DIR "."
#endif

#define MKROOT SOURCE_DIR "/build/tools/mkroot"
#define HOSTS  SOURCE_DIR "/tests/fixtures/hosts/"

static char workdir[256];

/* A fresh root of host NAME at <workdir>/<name>-<n>; its path in a static buffer. */
static const char *fresh_root(const char *name)
{
	static char path[512];
	static int n;
	char yml[512];
	snprintf(path, sizeof path, "%s/%s-%d", workdir, name, n++);
	snprintf(yml, sizeof yml, HOSTS "%s.yml", name);
	const char *argv[] = {MKROOT, yml, path, NULL};
	tmptree_run(argv);
	return path;
}

/* The facts with the evidence and the GPUs' verdicts, as iommu_facts will
 * gather them. New reference. */
static json_t *facts_of(const char *root)
{
	pt_files_confine(root);
	struct pt_pci_host host;
	struct pt_report rep;
	assert_int_equal(pt_report_init(&rep), 0);
	int r = pt_pci_scan(root, &host, &rep);
	if (r < 0)
		fail_msg("scan %s: %s", root, rep.msg ? rep.msg : "?");
	json_t *facts = pt_iommu_facts_from_scan(root, &host);
	r = pt_evidence_add(root, &host, facts, &rep);
	if (r < 0)
		fail_msg("evidence %s: %s", root, rep.msg ? rep.msg : "?");
	pt_report_release(&rep);
	assert_int_equal(pt_readiness_add_to_gpus(facts), 0);
	pt_pci_host_release(&host);
	pt_files_confine(NULL);
	return facts;
}

static json_t *gpu(json_t *facts, const char *address)
{
	json_t *g = json_object_get(json_object_get(facts, "gpus"), address);
	if (!g)
		fail_msg("no GPU %s", address);
	return g;
}

static json_t *device(json_t *facts, const char *address)
{
	return json_object_get(json_object_get(facts, "devices"), address);
}

static void want_json(const json_t *value, const char *want)
{
	_cleanup_free_ char *got = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!got || strcmp(got, want) != 0)
		fail_msg("got %s, want %s", got ? got : "(nothing)", want);
}

/* The verdict of GPU address: readiness, "id/severity ..." of its findings and
 * its unknown facts. */
static void want_verdict(json_t *facts, const char *address, const char *readiness, const char *ids,
                         const char *unknown)
{
	json_t *g = gpu(facts, address);
	const char *got = json_string_value(json_object_get(g, "readiness"));
	_cleanup_free_ char *findings =
	        json_list_join(json_object_get(g, "findings"), "id", "severity");
	_cleanup_free_ char *unknowns = json_list_join(json_object_get(g, "unknown"), "fact", NULL);
	if (!got || strcmp(got, readiness) || strcmp(findings, ids) || strcmp(unknowns, unknown))
		fail_msg("%s: %s [%s] unknown [%s], want %s [%s] unknown [%s]", address,
		         got ? got : "(none)", findings, unknowns, readiness, ids, unknown);
}

static int setup(void **state)
{
	(void)state;
	return tmptree_make(workdir, sizeof workdir, "readiness-fixtures");
}

static int teardown(void **state)
{
	(void)state;
	pt_files_confine(NULL);
	return tmptree_remove(workdir);
}

/* ---- one fixture per finding ------------------------------------------------------ */

static void test_seed_host_ready(void **state)
{
	(void)state;
	_cleanup_json_ json_t *f = facts_of(fresh_root("pve1-gtx1050ti"));
	want_verdict(f, "0000:07:00.0", "ready", "", "");
	want_json(json_object_get(f, "secure_boot"), "\"not-efi\"");
	want_json(json_object_get(json_object_get(f, "vfio"), "allow_unsafe_interrupts"), "false");
	json_t *d = device(f, "0000:07:00.0");
	want_json(json_object_get(d, "framebuffers"), "[]");
	want_json(json_object_get(d, "reset_methods"), "[\"bus\"]");
	want_json(json_object_get(d, "driver_load"),
	          "{\"nouveau\":{\"built_in\":false,\"early\":[]},"
	          "\"nvidiafb\":{\"built_in\":false,\"early\":[]}}");
	want_json(json_object_get(d, "capabilities"),
	          "{\"resizable_bar\":[],\"sriov\":{\"total_vfs\":0,\"num_vfs\":0},"
	          "\"mdev_types\":[]}");
	/* a device without reset_method on a 6.8 kernel has none */
	want_json(json_object_get(device(f, "0000:00:1f.2"), "reset_methods"), "[]");
}

static void test_uefi_bootfb(void **state)
{
	(void)state;
	_cleanup_json_ json_t *f = facts_of(fresh_root("uefi-bootfb-geforce"));
	want_verdict(f, "0000:01:00.0", "needs_action", "boot-framebuffer/warning", "");
	json_t *d = device(f, "0000:01:00.0");
	want_json(json_object_get(d, "framebuffers"),
	          "[{\"name\":\"BOOTFB\",\"start\":\"0x6000000000\",\"end\":\"0x60007e8fff\","
	          "\"bar\":1,\"source\":\"/proc/iomem\"}]");
	want_json(json_object_get(json_object_get(d, "capabilities"), "resizable_bar"),
	          "[{\"bar\":1,\"current_mb\":256,\"supported_mb\":[64,128,256,512,1024,2048,"
	          "4096,8192]}]");
	want_json(json_object_get(json_object_get(device(f, "0000:05:00.0"), "capabilities"),
	                          "sriov"),
	          "{\"total_vfs\":7,\"num_vfs\":0}");
	want_json(json_object_get(device(f, "0000:01:00.1"), "framebuffers"), "[]");
	want_json(json_object_get(f, "secure_boot"), "\"off\"");
}

static void test_vega10(void **state)
{
	(void)state;
	_cleanup_json_ json_t *f = facts_of(fresh_root("vega10-no-reset"));
	/* AMD-Vi shows no interrupt remapping bit in sysfs: unknown there */
	want_verdict(f, "0000:0a:00.0", "needs_action", "no-reset/warning known-reset-bug/warning",
	             "interrupt_remapping");
	want_json(json_object_get(device(f, "0000:0a:00.0"), "reset_methods"), "[]");
	json_t *k = json_array_get(json_object_get(gpu(f, "0000:0a:00.0"), "findings"), 1);
	want_json(json_object_get(json_object_get(k, "evidence"), "value"),
	          "\"1002:687f (Vega 10)\"");
}

static void test_no_interrupt_remapping(void **state)
{
	(void)state;
	_cleanup_json_ json_t *f = facts_of(fresh_root("no-interrupt-remapping"));
	want_verdict(f, "0000:03:00.0", "blocked", "no-interrupt-remapping/blocking", "");
	want_json(json_object_get(f, "interrupt_remapping"), "false");
}

static void test_built_in_and_early(void **state)
{
	(void)state;
	_cleanup_json_ json_t *f = facts_of(fresh_root("nvidia-built-in-initramfs"));
	want_verdict(f, "0000:2d:00.0", "blocked",
	             "driver-built-in/blocking driver-loaded-early/warning "
	             "driver-loaded-early/warning",
	             "interrupt_remapping");
	json_t *load = json_object_get(device(f, "0000:2d:00.0"), "driver_load");
	want_json(json_object_get(json_object_get(load, "nouveau"), "built_in"),
	          "{\"file\":\"/lib/modules/6.1.90-custom/modules.builtin\",\"line\":1,"
	          "\"text\":\"kernel/drivers/gpu/drm/nouveau/nouveau.ko\"}");
	want_json(json_object_get(json_object_get(load, "nvidia"), "early"),
	          "[{\"file\":\"/etc/initramfs-tools/modules\",\"line\":5,\"how\":\"initramfs\","
	          "\"text\":\"nvidia NVreg_PreserveVideoMemoryAllocations=1\"},"
	          "{\"file\":\"/etc/modules-load.d/nvidia.conf\",\"line\":1,\"how\":"
	          "\"modules-load\",\"text\":\"nvidia\"}]");
}

static void test_cmdline_ids(void **state)
{
	(void)state;
	_cleanup_json_ json_t *f = facts_of(fresh_root("cmdline-ids-conflict"));
	want_verdict(f, "0000:07:00.0", "needs_action", "cmdline-ids-conflict/warning", "");
}

static void test_secure_boot(void **state)
{
	(void)state;
	_cleanup_json_ json_t *f = facts_of(fresh_root("secure-boot-polaris"));
	want_verdict(f, "0000:01:00.0", "needs_action", "known-reset-bug/warning", "");
	json_t *k = json_array_get(json_object_get(gpu(f, "0000:01:00.0"), "findings"), 0);
	const char *fix = json_string_value(json_object_get(k, "fix"));
	assert_non_null(strstr(fix, "Secure Boot is on"));
	want_json(json_object_get(f, "secure_boot"), "\"on\"");
	/* the iGPU holds the boot framebuffer, and offers GVT-g */
	want_verdict(f, "0000:00:02.0", "needs_action", "boot-framebuffer/warning", "");
	want_json(json_object_get(json_object_get(device(f, "0000:00:02.0"), "capabilities"),
	                          "mdev_types"),
	          "[\"i915-GVTg_V5_4\",\"i915-GVTg_V5_8\"]");
}

/* ---- bad input -------------------------------------------------------------------- */

static void put_root(const char *root, const char *rel, const char *text)
{
	char path[1024];
	snprintf(path, sizeof path, "%s%s", root, rel);
	tmptree_write(path, text, strlen(text), 0644);
}

static void test_damaged_iomem(void **state)
{
	(void)state;
	const char *root = fresh_root("uefi-bootfb-geforce");
	char path[1024];
	snprintf(path, sizeof path, "%s/proc/iomem", root);
	_cleanup_free_ char *whole = tmptree_read(path);
	/* cut in the middle of the BOOTFB line */
	char *cut = strstr(whole, "BOOTFB");
	assert_non_null(cut);
	cut[3] = '\0';
	put_root(root, "/proc/iomem", whole);
	_cleanup_json_ json_t *f = facts_of(root);
	want_json(json_object_get(device(f, "0000:01:00.0"), "framebuffers"), "null");
	want_verdict(f, "0000:01:00.0", "needs_action", "", "framebuffers");
	/* as a user who is not root reads it */
	put_root(root, "/proc/iomem",
	         "00000000-00000000 : Reserved\n00000000-00000000 : PCI Bus 0000:00\n"
	         "  00000000-00000000 : 0000:01:00.0\n    00000000-00000000 : BOOTFB\n");
	_cleanup_json_ json_t *zeros = facts_of(root);
	want_json(json_object_get(device(zeros, "0000:01:00.0"), "framebuffers"), "null");
	/* absent */
	assert_int_equal(unlink(path), 0);
	_cleanup_json_ json_t *absent = facts_of(root);
	want_verdict(absent, "0000:01:00.0", "needs_action", "", "framebuffers");
}

static void test_damaged_device_files(void **state)
{
	(void)state;
	const char *root = fresh_root("uefi-bootfb-geforce");
	const char *dev = "/sys/bus/pci/devices/0000:01:00.0";
	char rel[256];
	/* the resource file with only BAR 0: BAR 1's framebuffer cannot be seen */
	snprintf(rel, sizeof rel, "%s/resource", dev);
	put_root(root, rel, "0x00000000f6000000 0x00000000f6ffffff 0x0000000000040200\n");
	/* garbage in reset_method */
	snprintf(rel, sizeof rel, "%s/reset_method", dev);
	put_root(root, rel, "flr\x01\x02 bus bus bus\n");
	_cleanup_json_ json_t *f = facts_of(root);
	json_t *d = device(f, "0000:01:00.0");
	want_json(json_object_get(d, "framebuffers"), "null");
	want_json(json_object_get(d, "reset_methods"), "null");
	want_verdict(f, "0000:01:00.0", "needs_action", "", "framebuffers reset_methods");
	/* config space as a user who is not root sees it: 256 bytes, no extended space */
	char path[1024];
	snprintf(path, sizeof path, "%s%s/config", root, dev);
	assert_int_equal(truncate(path, 256), 0);
	/* no resource file at all */
	snprintf(path, sizeof path, "%s%s/resource", root, dev);
	assert_int_equal(unlink(path), 0);
	_cleanup_json_ json_t *g = facts_of(root);
	d = device(g, "0000:01:00.0");
	want_json(json_object_get(d, "framebuffers"), "null");
	want_json(json_object_get(json_object_get(d, "capabilities"), "resizable_bar"), "null");
	want_json(json_object_get(json_object_get(d, "capabilities"), "sriov"), "null");
}

static void test_damaged_load_sources(void **state)
{
	(void)state;
	const char *root = fresh_root("nvidia-built-in-initramfs");
	char path[1024];
	/* modules.builtin gone, and a modules-load.d file that cannot be read */
	snprintf(path, sizeof path, "%s/lib/modules/6.1.90-custom/modules.builtin", root);
	assert_int_equal(unlink(path), 0);
	snprintf(path, sizeof path, "%s/etc/modules-load.d/broken.conf", root);
	tmptree_mkdirs(path);
	snprintf(path, sizeof path, "%s/etc/initramfs-tools/modules", root);
	assert_int_equal(unlink(path), 0);
	snprintf(path, sizeof path, "%s/etc/modules-load.d/nvidia.conf", root);
	assert_int_equal(unlink(path), 0);
	_cleanup_json_ json_t *f = facts_of(root);
	json_t *nvidia = json_object_get(json_object_get(device(f, "0000:2d:00.0"), "driver_load"),
	                                 "nvidia");
	want_json(nvidia, "{\"built_in\":null,\"early\":null,"
	                  "\"unreadable\":\"/etc/modules-load.d/broken.conf\"}");
	want_verdict(f, "0000:2d:00.0", "needs_action", "",
	             "interrupt_remapping driver_load.nouveau.built_in driver_load.nvidia.built_in "
	             "driver_load.nouveau.early driver_load.nvidia.early");
}

static void test_caps_directly(void **state)
{
	(void)state;
	const char *root = fresh_root("uefi-bootfb-geforce");
	const char *addresses[] = {"0000:01:00.0", "0000:05:00.0", "0000:01:00.1", "0000:99:00.0",
	                           "garbage"};
	struct pt_pci_caps caps[5];
	struct pt_report rep;
	assert_int_equal(pt_report_init(&rep), 0);
	assert_int_equal(pt_pci_caps_read(root, addresses, 5, caps, &rep), 0);
	assert_true(caps[0].readable && caps[0].is_pcie && caps[0].extended);
	assert_int_equal(caps[0].n_rebar, 1);
	assert_int_equal(caps[0].rebar[0].bar, 1);
	assert_true(caps[0].rebar[0].current_mb == 256);
	assert_true(caps[0].rebar[0].supported == 0x3fc0); /* 64 MiB (bit 6) to 8 GiB (bit 13) */
	assert_int_equal(caps[0].sriov_total_vfs, -1);
	assert_int_equal(caps[1].sriov_total_vfs, 7);
	assert_int_equal(caps[1].sriov_num_vfs, 0);
	assert_int_equal(caps[1].n_rebar, 0);
	assert_true(caps[2].readable && !caps[2].is_pcie && pt_pci_caps_known(&caps[2]));
	assert_false(caps[3].readable); /* no such device */
	assert_false(pt_pci_caps_known(&caps[3]));
	assert_false(caps[4].readable);
	assert_int_equal(pt_pci_caps_read(root, addresses, 0, caps, &rep), 0);
	pt_report_release(&rep);
	char **names = NULL;
	assert_int_equal(pt_pci_mdev_types(root, "0000:01:00.0", &names), 0);
	assert_null(names);
}

static int libpci_fails(struct pci_access *acc, void *ctx)
{
	(void)ctx;
	acc->error("cannot open %s", "/sys/bus/pci/devices");
	return 0; /* not reached */
}

static int libpci_works(struct pci_access *acc, void *ctx)
{
	(void)acc;
	return *(int *)ctx;
}

/* libpci's errors come back as -EIO with its message, and the next call works. */
static void test_libpci_trap(void **state)
{
	(void)state;
	struct pci_access *acc = pt_libpci_alloc();
	assert_non_null(acc);
	char message[64] = "";
	assert_int_equal(pt_libpci_call(acc, libpci_fails, NULL, message, sizeof message), -EIO);
	assert_string_equal(message, "cannot open /sys/bus/pci/devices");
	int value = 42;
	assert_int_equal(pt_libpci_call(acc, libpci_works, &value, message, sizeof message), 42);
	pci_cleanup(acc);
}

/* ---- mkroot's keys for this evidence ----------------------------------------------- */

/* mkroot on a description given as text; its exit code, and stderr in err. */
static int mkroot_text(const char *yaml, char *err, size_t size)
{
	char yml[512], out[512];
	static int n;
	snprintf(yml, sizeof yml, "%s/desc-%d.yml", workdir, n);
	snprintf(out, sizeof out, "%s/desc-%d", workdir, n++);
	tmptree_write(yml, yaml, strlen(yaml), 0644);
	const char *argv[] = {MKROOT, yml, out, NULL};
	struct pt_exec_result res = {0};
	assert_int_equal(pt_exec(NULL, argv, 120, &res), 0);
	snprintf(err, size, "%s", res.err ? res.err : "");
	int rc = res.rc;
	pt_exec_result_release(&res);
	return rc;
}

static void test_mkroot_keys(void **state)
{
	(void)state;
	static const struct {
		const char *yaml, *message;
	} refused[] = {
	        {"secure_boot: true\n", "secure_boot needs efi: true"},
	        {"devices:\n  - {address: \"0000:01:00.0\", vendor: 0x10de, device: 0x1c82, class: "
	         "0x030000, bars: [{bar: 1, start: 0xe0000000, size: 0x3000000}]}\n",
	         "a power of two"},
	        {"devices:\n  - {address: \"0000:01:00.0\", vendor: 0x10de, device: 0x1c82, class: "
	         "0x030000, bars: [{bar: 5, start: 0xe0000000, size: 0x1000000, prefetch: "
	         "true}]}\n",
	         "0..4 when prefetch"},
	        {"devices:\n  - {address: \"0000:01:00.0\", vendor: 0x10de, device: 0x1c82, class: "
	         "0x030000, bars: [{bar: 0, start: 0x10000000, size: 0x1000000}]}\n",
	         "outside the bus windows"},
	        {"devices:\n  - {address: \"0000:01:00.0\", vendor: 0x10de, device: 0x1c82, class: "
	         "0x030000, bars: [{bar: 0, start: 0xd0000000, size: 0x1000000}]}\n"
	         "  - {address: \"0000:02:00.0\", vendor: 0x10de, device: 0x1c82, class: "
	         "0x030000}\n",
	         "overlaps"},
	        {"framebuffer: {device: \"0000:01:00.0\", bar: 1}\ndevices:\n  - {address: "
	         "\"0000:01:00.0\", vendor: 0x10de, device: 0x1c82, class: 0x030000}\n",
	         "has no BAR 1"},
	        {"devices:\n  - {address: \"0000:01:00.0\", vendor: 0x10de, device: 0x1c82, class: "
	         "0x030000, rebar: [{bar: 1, current_mb: 300}]}\n",
	         "power of two"},
	        {"devices:\n  - {address: \"0000:01:00.0\", vendor: 0x10de, device: 0x1c82, class: "
	         "0x030000, sriov: {total: 4}}\n",
	         "unknown key 'total'"},
	};
	char err[2048];
	for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
		int rc = mkroot_text(refused[i].yaml, err, sizeof err);
		if (rc == 0 || !strstr(err, refused[i].message))
			fail_msg("mkroot: rc %d, \"%s\", want a refusal with \"%s\"", rc, err,
			         refused[i].message);
	}
	/* what the keys write */
	const char *root = fresh_root("vega10-no-reset");
	char path[1024];
	snprintf(path, sizeof path, "%s/sys/bus/pci/devices/0000:0a:00.0/reset_method", root);
	_cleanup_free_ char *reset = tmptree_read(path);
	assert_string_equal(reset, "\n");
	snprintf(path, sizeof path, "%s/sys/bus/pci/devices/0000:0a:00.0/config", root);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 256); /* no capability asked for */
	snprintf(path, sizeof path, "%s/proc/iomem", root);
	_cleanup_free_ char *iomem = tmptree_read(path);
	assert_non_null(strstr(iomem, "  d0400000-d0403fff : 0000:0a:00.0\n"));
	const char *sb = fresh_root("secure-boot-polaris");
	snprintf(path, sizeof path,
	         "%s/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c", sb);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 5);
	snprintf(path, sizeof path, "%s/sys/bus/pci/devices/0000:00:02.0/config", sb);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 256);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_seed_host_ready),
	        cmocka_unit_test(test_uefi_bootfb),
	        cmocka_unit_test(test_vega10),
	        cmocka_unit_test(test_no_interrupt_remapping),
	        cmocka_unit_test(test_built_in_and_early),
	        cmocka_unit_test(test_cmdline_ids),
	        cmocka_unit_test(test_secure_boot),
	        cmocka_unit_test(test_damaged_iomem),
	        cmocka_unit_test(test_damaged_device_files),
	        cmocka_unit_test(test_damaged_load_sources),
	        cmocka_unit_test(test_caps_directly),
	        cmocka_unit_test(test_libpci_trap),
	        cmocka_unit_test(test_mkroot_keys),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
