/* build/tools/mkroot: the sandbox roots every other test stands on. Runs the tool
 * (built by `make tools`) and checks the tree it writes the way the kernel would
 * have written it: relative links of the right depth, attributes, config space,
 * /proc files, modules.dep per kernel, and its refusals. lspci's view of the roots
 * is checked by tests/integration/targets/fixtures. */
#include <errno.h>
#include <limits.h>
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

#include "exec.h"
#include "files.h"
#include "support/mkroot.h"
#include "support/tmptree.h"

#ifndef SHARED_DIR
#define SHARED_DIR "../shared"
#endif

#define HOSTS SOURCE_DIR "/tests/fixtures/hosts/"

static char workdir[64]; /* short, so paths built from it fit PATH_MAX */
static char pve1[PATH_MAX];

/* Run mkroot with args; returns its exit code and leaves stderr in *err (owned). */
static int mkroot(char **err, const char *a, const char *b, const char *c, const char *d)
{
	const char *argv[] = {MKROOT, a, b, c, d, NULL};
	struct pt_exec_result res = {0};
	int rc = pt_exec(NULL, argv, 120, &res);
	assert_int_equal(rc, 0);
	rc = res.rc;
	if (err)
		*err = strdup(res.err ? res.err : "");
	pt_exec_result_release(&res);
	return rc;
}

static char *under(const char *root, const char *path)
{
	return pt_path_join(root, path);
}

static void assert_file(const char *root, const char *path, const char *want)
{
	char *p = under(root, path);
	char *data = NULL;
	size_t len = 0;
	int rc = pt_file_read(p, &data, &len);
	if (rc < 0)
		fail_msg("%s: %s", p, strerror(-rc));
	if (strcmp(data, want) != 0)
		fail_msg("%s holds [%s], want [%s]", p, data, want);
	free(data);
	free(p);
}

static void assert_link(const char *root, const char *path, const char *want)
{
	char *p = under(root, path);
	char buf[PATH_MAX];
	ssize_t n = readlink(p, buf, sizeof buf - 1);
	if (n < 0)
		fail_msg("%s is not a link: %s", p, strerror(errno));
	buf[n] = '\0';
	if (strcmp(buf, want) != 0)
		fail_msg("%s -> [%s], want [%s]", p, buf, want);
	/* ... and it resolves. */
	struct stat st;
	if (stat(p, &st) < 0)
		fail_msg("%s -> %s does not resolve", p, buf);
	free(p);
}

static void assert_absent(const char *root, const char *path)
{
	char *p = under(root, path);
	if (pt_path_exists(p))
		fail_msg("%s should not exist", p);
	free(p);
}

static void test_seed_sysfs_links(void **state)
{
	(void)state;
	/* The kernel's own link texts: relative, with the depth of the directory. */
	assert_link(pve1, "/sys/bus/pci/devices/0000:07:00.0",
	            "../../../devices/pci0000:00/0000:00:01.0/0000:07:00.0");
	assert_link(pve1, "/sys/bus/pci/devices/0000:00:01.0",
	            "../../../devices/pci0000:00/0000:00:01.0");
	assert_link(pve1, "/sys/devices/pci0000:00/0000:00:01.0/0000:07:00.0/iommu_group",
	            "../../../../kernel/iommu_groups/14");
	assert_link(pve1, "/sys/devices/pci0000:00/0000:00:01.0/iommu_group",
	            "../../../kernel/iommu_groups/1");
	assert_link(pve1, "/sys/kernel/iommu_groups/14/devices/0000:07:00.1",
	            "../../../../devices/pci0000:00/0000:00:01.0/0000:07:00.1");
	assert_link(pve1, "/sys/bus/pci/devices/0000:07:00.0/driver",
	            "../../../../bus/pci/drivers/nouveau");
	assert_link(pve1, "/sys/bus/pci/drivers/nouveau/0000:07:00.0",
	            "../../../../devices/pci0000:00/0000:00:01.0/0000:07:00.0");
	assert_link(pve1, "/sys/bus/pci/drivers/nouveau/module", "../../../../module/nouveau");
	assert_link(pve1, "/sys/class/iommu/dmar0", "../../devices/virtual/iommu/dmar0");
	assert_link(pve1, "/sys/class/net/enp6s0",
	            "../../devices/pci0000:00/0000:00:1c.0/0000:06:00.0/net/enp6s0");
	assert_link(pve1, "/dev/mapper/pve-root", "../dm-0");
	assert_link(
	        pve1, "/sys/block/dm-0/slaves/nvme0n1p3",
	        "../../../../pci0000:00/0000:00:1b.0/0000:01:00.0/nvme/nvme0/nvme0n1/nvme0n1p3");
	assert_absent(pve1, "/sys/bus/pci/drivers/pcieport/module");
	assert_absent(pve1, "/sys/bus/pci/devices/0000:07:00.1/boot_vga");
}

static void test_seed_attributes(void **state)
{
	(void)state;
	const char *d = "/sys/bus/pci/devices/0000:07:00.0/";
	char path[256];
#define ATTR(name, want)                                                                           \
	(snprintf(path, sizeof path, "%s%s", d, name), assert_file(pve1, path, want))
	ATTR("vendor", "0x10de\n");
	ATTR("device", "0x1c82\n");
	ATTR("subsystem_vendor", "0x1462\n");
	ATTR("subsystem_device", "0x8c96\n");
	ATTR("class", "0x030000\n");
	ATTR("revision", "0xa1\n");
	ATTR("boot_vga", "1\n");
	ATTR("reset_method", "bus\n");
	ATTR("driver_override", "(null)\n");
	ATTR("modalias", "pci:v000010DEd00001C82sv00001462sd00008C96bc03sc00i00\n");
#undef ATTR
	assert_file(pve1, "/sys/kernel/iommu_groups/14/type", "DMA\n");
	assert_file(pve1, "/sys/devices/pci0000:00/0000:00:01.0/secondary_bus_number", "7\n");

	/* Config space agrees: IDs, class, header type, subsystem. */
	char *p = under(pve1, "/sys/bus/pci/devices/0000:07:00.0/config");
	char *cfg = NULL;
	size_t len = 0;
	assert_int_equal(pt_file_read(p, &cfg, &len), 0);
	assert_int_equal(len, 256);
	const uint8_t *c = (const uint8_t *)cfg;
	assert_int_equal(c[0] | c[1] << 8, 0x10de);
	assert_int_equal(c[2] | c[3] << 8, 0x1c82);
	assert_int_equal(c[0x0b] << 16 | c[0x0a] << 8 | c[0x09], 0x030000);
	assert_int_equal(c[0x0e], 0x80); /* type 0, multi-function (07:00.0 and .1) */
	assert_int_equal(c[0x2c] | c[0x2d] << 8, 0x1462);
	assert_int_equal(c[0x2e] | c[0x2f] << 8, 0x8c96);
	free(cfg);
	free(p);
	p = under(pve1, "/sys/bus/pci/devices/0000:00:01.0/config");
	assert_int_equal(pt_file_read(p, &cfg, &len), 0);
	c = (const uint8_t *)cfg;
	assert_int_equal(c[0x0e] & 0x7f, 1);
	assert_int_equal(c[0x18], 0x00);
	assert_int_equal(c[0x19], 0x07);
	assert_int_equal(c[0x1a], 0x07);
	free(cfg);
	free(p);
}

static void test_seed_proc_and_modules(void **state)
{
	(void)state;
	assert_file(pve1, "/proc/cmdline",
	            "BOOT_IMAGE=/boot/vmlinuz-6.8.12-4-pve root=/dev/mapper/pve-root ro quiet\n");
	assert_file(pve1, "/proc/sys/kernel/osrelease", "6.8.12-4-pve\n");
	assert_file(pve1, "/etc/hostname", "pve1\n");
	char *p = under(pve1, "/proc/mounts");
	char *mounts = NULL;
	assert_int_equal(pt_file_read(p, &mounts, NULL), 0);
	assert_non_null(strstr(mounts, "\n/dev/mapper/pve-root / ext4 "));
	assert_non_null(strstr(mounts, "\n/dev/nvme0n1p2 /boot/efi vfat "));
	free(mounts);
	free(p);
	p = under(pve1, "/lib/modules/6.8.12-4-pve/modules.dep");
	char *dep = NULL;
	assert_int_equal(pt_file_read(p, &dep, NULL), 0);
	assert_non_null(strstr(dep, "kernel/drivers/vfio/pci/vfio-pci.ko: "));
	assert_null(strstr(dep, "vfio_virqfd"));
	free(dep);
	free(p);
	p = under(pve1, "/lib/modules/6.8.12-4-pve/modules.alias");
	char *alias = NULL;
	assert_int_equal(pt_file_read(p, &alias, NULL), 0);
	assert_non_null(strstr(alias, "\nalias pci:v000010DEd*sv*sd*bc03sc*i* nouveau\n"));
	free(alias);
	free(p);
}

static void test_two_kernels(void **state)
{
	(void)state;
	char root[PATH_MAX];
	snprintf(root, sizeof root, "%s/deb12", workdir);
	assert_int_equal(mkroot(NULL, HOSTS "debian12-vfio-virqfd.yml", root, NULL, NULL), 0);
	char *p = under(root, "/lib/modules/6.1.0-18-amd64/modules.dep");
	char *dep = NULL;
	assert_int_equal(pt_file_read(p, &dep, NULL), 0);
	assert_non_null(strstr(dep, "kernel/drivers/vfio/vfio_virqfd.ko:"));
	free(dep);
	free(p);
	p = under(root, "/lib/modules/6.8.12-4-pve/modules.dep");
	assert_int_equal(pt_file_read(p, &dep, NULL), 0);
	assert_null(strstr(dep, "vfio_virqfd"));
	free(dep);
	free(p);
}

static void test_capture_byte_for_byte(void **state)
{
	(void)state;
	char root[PATH_MAX];
	snprintf(root, sizeof root, "%s/vtd", workdir);
	assert_int_equal(mkroot(NULL, "--capture",
	                        SOURCE_DIR "/tests/fixtures/captures/qemu-q35-intel-vtd.tgz", root,
	                        NULL),
	                 0);
	assert_link(root, "/sys/bus/pci/devices/0000:01:00.0",
	            "../../../devices/pci0000:00/0000:00:02.0/0000:01:00.0");
	assert_link(root, "/sys/bus/pci/devices/0000:01:00.0/iommu_group",
	            "../../../../kernel/iommu_groups/7");
	assert_file(root, "/sys/kernel/iommu_groups/7/type", "identity\n");
	assert_file(root, "/sys/bus/pci/devices/0000:01:00.0/boot_vga", "1\n");
	assert_file(root, "/proc/cmdline", "console=ttyS0 quiet intel_iommu=on iommu=pt\n");
	assert_file(root, "/proc/sys/kernel/osrelease", "6.1.0-56-amd64\n");
	char *p = under(root, "/sys/bus/pci/devices/0000:00:02.0/config");
	size_t len = 0;
	char *cfg = NULL;
	assert_int_equal(pt_file_read(p, &cfg, &len), 0);
	assert_int_equal(len, 4096); /* as captured */
	free(cfg);
	free(p);
	p = under(root, "/lib/modules/6.1.0-56-amd64/modules.dep");
	char *dep = NULL;
	assert_int_equal(pt_file_read(p, &dep, NULL), 0);
	assert_non_null(strstr(dep, "kernel/drivers/vfio/vfio_virqfd.ko:"));
	free(dep);
	free(p);
}

static void test_synthetic(void **state)
{
	(void)state;
	char root[PATH_MAX];
	snprintf(root, sizeof root, "%s/syn", workdir);
	assert_int_equal(mkroot(NULL, "--synthetic", "20", "4", root), 0);
	assert_link(root, "/sys/bus/pci/devices/0000:01:00.0",
	            "../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0");
	assert_file(root, "/sys/kernel/iommu_groups/3/type", "DMA\n");
	assert_link(root, "/sys/kernel/iommu_groups/3/devices/0000:04:00.3",
	            "../../../../devices/pci0000:00/0000:00:01.3/0000:04:00.3");
	char *err = NULL;
	assert_int_not_equal(mkroot(&err, "--synthetic", "3", "4", root), 0);
	assert_non_null(strstr(err, "--synthetic wants"));
	free(err);
}

static void test_refusals(void **state)
{
	(void)state;
	char *err = NULL;
	/* pve1's root is not empty any more. */
	assert_int_not_equal(mkroot(&err, HOSTS "pve1-gtx1050ti.yml", pve1, NULL, NULL), 0);
	assert_non_null(strstr(err, "is not empty"));
	free(err);

	char yml[PATH_MAX], root[PATH_MAX];
	snprintf(yml, sizeof yml, "%s/bad.yml", workdir);
	snprintf(root, sizeof root, "%s/bad", workdir);
	tmptree_put(workdir, "bad.yml",
	            "devices:\n  - {address: \"0000:01:00.0\", vendor: 0x10de, device: 0x1c82, "
	            "class: 0x0300}\n");
	assert_int_not_equal(mkroot(&err, yml, root, NULL, NULL), 0);
	assert_non_null(strstr(err, "bad.yml:2: class of 0000:01:00.0 must be 6 hex digits"));
	free(err);

	assert_int_not_equal(mkroot(&err, "--bogus", root, NULL, NULL), 0);
	assert_non_null(strstr(err, "usage: mkroot"));
	free(err);
}

static int setup(void **state)
{
	if (mkroot_group_setup(state, workdir, "mkroot") < 0)
		return -1;
	/* and the shared: sources of a host description through the shared folder */
	setenv("PT_SHARED", SHARED_DIR, 1);
	snprintf(pve1, sizeof pve1, "%s/pve1", workdir);
	char *err = NULL;
	int rc = mkroot(&err, HOSTS "pve1-gtx1050ti.yml", pve1, NULL, NULL);
	if (rc != 0)
		fprintf(stderr, "mkroot pve1 failed: %s\n", err);
	free(err);
	return rc == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_seed_sysfs_links),
	        cmocka_unit_test(test_seed_attributes),
	        cmocka_unit_test(test_seed_proc_and_modules),
	        cmocka_unit_test(test_two_kernels),
	        cmocka_unit_test(test_capture_byte_for_byte),
	        cmocka_unit_test(test_synthetic),
	        cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, setup, mkroot_group_teardown);
}
