/* module_utils/pci: libpci over a root's sysfs. Small sysfs trees are built
 * here, file by file, in the layout the kernel uses (devices under
 * /sys/devices/pci0000:00/..., /sys/bus/pci/devices/ADDR as relative links,
 * iommu_group and driver as relative links); the live host's /sys is read too. */
#include <dirent.h>
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

#include "files.h"
#include "pci.h"
#include "support/tmptree.h"

static char root[256];

/* ---- building a tree ---------------------------------------------------- */

/* A device at sysfs path `devpath` (under /sys/devices), e.g.
 * "pci0000:00/0000:00:02.0/0000:01:00.0", with the basic attributes. Returns
 * its directory in out. */
static void device(const char *devpath, const char *vendor, const char *dev, const char *class,
                   char out[1024])
{
	snprintf(out, 1024, "%s/sys/devices/%s", root, devpath);
	tmptree_mkdirs(out);
	const char *addr = strrchr(devpath, '/') ? strrchr(devpath, '/') + 1 : devpath;
	char bus[1024], target[1024];
	snprintf(bus, sizeof bus, "%s/sys/bus/pci/devices", root);
	tmptree_mkdirs(bus);
	snprintf(target, sizeof target, "../../../devices/%s", devpath);
	tmptree_link(bus, addr, target);
	if (vendor)
		tmptree_put(out, "vendor", vendor);
	if (dev)
		tmptree_put(out, "device", dev);
	if (class)
		tmptree_put(out, "class", class);
}

/* The way up from the device's directory to /sys, as a relative link starts:
 * ../ once per component of sys/devices/<devpath> below /sys. */
static void up_to_sys(const char *devpath, char up[256])
{
	int depth = 2;
	for (const char *p = devpath; *p; p++)
		depth += *p == '/';
	up[0] = '\0';
	for (int i = 0; i < depth; i++)
		strcat(up, "../");
}

/* Link the device into IOMMU group n (creating the group). */
static void group(const char *dir, const char *devpath, int n)
{
	char g[1024], target[1024], up[256];
	snprintf(g, sizeof g, "%s/sys/kernel/iommu_groups/%d/devices", root, n);
	tmptree_mkdirs(g);
	up_to_sys(devpath, up);
	snprintf(target, sizeof target, "%skernel/iommu_groups/%d", up, n);
	tmptree_link(dir, "iommu_group", target);
}

static void driver(const char *dir, const char *devpath, const char *name)
{
	char d[1024], target[1024], up[256];
	snprintf(d, sizeof d, "%s/sys/bus/pci/drivers/%s", root, name);
	tmptree_mkdirs(d);
	up_to_sys(devpath, up);
	snprintf(target, sizeof target, "%sbus/pci/drivers/%s", up, name);
	tmptree_link(dir, "driver", target);
}

static int make_root(void **state)
{
	(void)state;
	return tmptree_make(root, sizeof root, "pci") < 0 ? -1 : 0;
}

static int drop_root(void **state)
{
	(void)state;
	tmptree_remove(root);
	return 0;
}

/* The seed host's GPU: GTX 1050 Ti and its audio behind root port 00:01.1 in
 * group 14, nouveau on the GPU, the r8169 NIC alone in group 13. */
static void build_pve1(void)
{
	char dir[1024];
	device("pci0000:00/0000:00:01.1", "0x1022\n", "0x1453\n", "0x060400\n", dir);
	tmptree_put(dir, "config", "");
	group(dir, "pci0000:00/0000:00:01.1", 2);
	driver(dir, "pci0000:00/0000:00:01.1", "pcieport");

	device("pci0000:00/0000:00:01.1/0000:07:00.0", "0x10de\n", "0x1c82\n", "0x030000\n", dir);
	tmptree_put(dir, "subsystem_vendor", "0x1462\n");
	tmptree_put(dir, "subsystem_device", "0x8c96\n");
	tmptree_put(dir, "revision", "0xa1\n");
	tmptree_put(dir, "boot_vga", "1\n");
	tmptree_put(dir, "reset_method", "flr bus\n");
	tmptree_put(dir, "driver_override", "(null)\n");
	tmptree_put(dir, "modalias", "pci:v000010DEd00001C82sv00001462sd00008C96bc03sc00i00\n");
	group(dir, "pci0000:00/0000:00:01.1/0000:07:00.0", 14);
	driver(dir, "pci0000:00/0000:00:01.1/0000:07:00.0", "nouveau");

	device("pci0000:00/0000:00:01.1/0000:07:00.1", "0x10de\n", "0x0fb9\n", "0x040300\n", dir);
	tmptree_put(dir, "subsystem_vendor", "0x1462\n");
	tmptree_put(dir, "subsystem_device", "0x8c96\n");
	tmptree_put(dir, "revision", "0xa1\n");
	tmptree_put(dir, "driver_override", "vfio-pci\n");
	group(dir, "pci0000:00/0000:00:01.1/0000:07:00.1", 14);

	device("pci0000:00/0000:00:02.1/0000:04:00.0", "0x10ec\n", "0x8168\n", "0x020000\n", dir);
	group(dir, "pci0000:00/0000:00:02.1/0000:04:00.0", 13);
	driver(dir, "pci0000:00/0000:00:02.1/0000:04:00.0", "r8169");
}

static void test_seed_host_tree(void **state)
{
	(void)state;
	build_pve1();
	struct pt_pci_host host;
	struct pt_report rep = {0};
	assert_int_equal(pt_pci_scan(root, &host, &rep), 0);
	assert_null(rep.msg);
	assert_int_equal(host.count, 4);
	/* sorted by address */
	assert_string_equal(host.devices[0].address, "0000:00:01.1");
	assert_string_equal(host.devices[1].address, "0000:04:00.0");
	assert_string_equal(host.devices[2].address, "0000:07:00.0");
	assert_string_equal(host.devices[3].address, "0000:07:00.1");

	const struct pt_pci_device *gpu = pt_pci_find(&host, "0000:07:00.0");
	assert_non_null(gpu);
	assert_int_equal(gpu->vendor_id, 0x10de);
	assert_int_equal(gpu->device_id, 0x1c82);
	assert_int_equal(gpu->subsys_vendor_id, 0x1462);
	assert_int_equal(gpu->subsys_device_id, 0x8c96);
	assert_int_equal(gpu->class_id, 0x0300);
	assert_int_equal(gpu->prog_if, 0);
	assert_int_equal(gpu->revision, 0xa1);
	assert_int_equal(gpu->iommu_group, 14);
	assert_int_equal(gpu->boot_vga, 1);
	assert_false(gpu->is_bridge);
	assert_string_equal(gpu->driver, "nouveau");
	assert_null(gpu->driver_override);
	assert_string_equal(gpu->modalias, "pci:v000010DEd00001C82sv00001462sd00008C96bc03sc00i00");
	assert_string_equal(gpu->reset_methods, "flr bus");
	assert_string_equal(gpu->parent, "0000:00:01.1");
	/* names come from the host's pci.ids */
	if (pt_path_exists("/usr/share/misc/pci.ids")) {
		assert_string_equal(gpu->vendor_name, "NVIDIA Corporation");
		assert_non_null(strstr(gpu->device_name, "GeForce GTX 1050 Ti"));
		assert_string_equal(gpu->class_name, "VGA compatible controller");
	}

	const struct pt_pci_device *audio = pt_pci_find(&host, "0000:07:00.1");
	assert_int_equal(audio->iommu_group, 14);
	assert_null(audio->driver);
	assert_string_equal(audio->driver_override, "vfio-pci");
	assert_int_equal(audio->boot_vga, -1);
	assert_null(audio->reset_methods);
	assert_null(audio->modalias);
	assert_int_equal(audio->class_id, 0x0403);

	const struct pt_pci_device *port = pt_pci_find(&host, "0000:00:01.1");
	assert_true(port->is_bridge);
	assert_null(port->parent);
	assert_string_equal(port->driver, "pcieport");

	/* The NIC's parent directory is no PCI device in this tree: no parent. */
	const struct pt_pci_device *nic = pt_pci_find(&host, "0000:04:00.0");
	assert_int_equal(nic->iommu_group, 13);
	assert_string_equal(nic->driver, "r8169");
	assert_null(nic->parent);

	assert_null(pt_pci_find(&host, "0000:07:00.2"));
	assert_null(pt_pci_find(&host, "0000:00:00.0"));
	assert_true(pt_pci_in_slot(gpu, "0000:07:00"));
	assert_true(pt_pci_in_slot(audio, "0000:07:00"));
	assert_false(pt_pci_in_slot(nic, "0000:07:00"));
	assert_false(pt_pci_in_slot(gpu, "0000:07:00.0"));
	pt_pci_host_release(&host);
}

/* Only vendor, device and class: everything else reads as unknown. */
static void test_missing_attributes_are_unknown(void **state)
{
	(void)state;
	char dir[1024];
	device("pci0000:00/0000:00:03.0", "0x1234\n", "0x1111\n", "0x030000\n", dir);
	struct pt_pci_host host;
	struct pt_report rep = {0};
	assert_int_equal(pt_pci_scan(root, &host, &rep), 0);
	assert_int_equal(host.count, 1);
	const struct pt_pci_device *d = &host.devices[0];
	assert_string_equal(d->address, "0000:00:03.0");
	assert_int_equal(d->vendor_id, 0x1234);
	assert_int_equal(d->subsys_vendor_id, -1);
	assert_int_equal(d->subsys_device_id, -1);
	assert_int_equal(d->iommu_group, -1);
	assert_int_equal(d->boot_vga, -1);
	assert_int_equal(d->revision, -1); /* no revision file, no config space */
	assert_null(d->driver);
	assert_null(d->driver_override);
	assert_null(d->modalias);
	assert_null(d->reset_methods);
	assert_null(d->parent);
	assert_false(d->is_bridge);
	pt_pci_host_release(&host);
}

/* A group link whose target is missing in the tree still names the group. */
static void test_dangling_group_link(void **state)
{
	(void)state;
	char dir[1024];
	device("pci0000:00/0000:00:05.0", "0x8086\n", "0x10d3\n", "0x020000\n", dir);
	tmptree_link(dir, "iommu_group", "../../../kernel/iommu_groups/42");
	tmptree_link(dir, "driver", "../../../bus/pci/drivers/e1000e");
	struct pt_pci_host host;
	struct pt_report rep = {0};
	assert_int_equal(pt_pci_scan(root, &host, &rep), 0);
	assert_int_equal(host.devices[0].iommu_group, 42);
	assert_string_equal(host.devices[0].driver, "e1000e");
	pt_pci_host_release(&host);
}

static void test_no_pci_bus_is_empty(void **state)
{
	(void)state;
	struct pt_pci_host host;
	struct pt_report rep = {0};
	assert_int_equal(pt_pci_scan(root, &host, &rep), 0);
	assert_null(rep.msg);
	assert_int_equal(host.count, 0);
	assert_null(pt_pci_find(&host, "0000:00:00.0"));
	pt_pci_host_release(&host);
}

/* libpci's own errors come back as a message, not as an exit. */
static void test_libpci_error_becomes_message(void **state)
{
	(void)state;
	char dir[1024];
	device("pci0000:00/0000:00:02.0", NULL, "0x1111\n", "0x030000\n", dir);
	struct pt_pci_host host;
	struct pt_report rep = {0};
	assert_int_equal(pt_pci_scan(root, &host, &rep), -EIO);
	assert_int_equal(rep.error, -EIO);
	assert_non_null(rep.msg);
	assert_non_null(strstr(rep.msg, "libpci"));
	assert_non_null(strstr(rep.msg, "vendor"));
	assert_int_equal(host.count, 0);
	assert_null(host.devices);
	pt_report_release(&rep);
	pt_pci_host_release(&host);

	/* and the library is usable again afterwards */
	tmptree_put(dir, "vendor", "0x1234\n");
	assert_int_equal(pt_pci_scan(root, &host, &rep), 0);
	assert_int_equal(host.count, 1);
	pt_pci_host_release(&host);
}

static void test_devices_not_a_directory(void **state)
{
	(void)state;
	char dir[1024];
	snprintf(dir, sizeof dir, "%s/sys/bus/pci", root);
	tmptree_mkdirs(dir);
	tmptree_put(dir, "devices", "garbage\n");
	struct pt_pci_host host;
	struct pt_report rep = {0};
	assert_int_equal(pt_pci_scan(root, &host, &rep), -EIO);
	assert_non_null(strstr(rep.msg, "/sys/bus/pci"));
	pt_report_release(&rep);
}

/* The live machine: every entry of /sys/bus/pci/devices, with the IDs the
 * kernel shows. */
static void test_live_host(void **state)
{
	(void)state;
	struct pt_pci_host host;
	struct pt_report rep = {0};
	int r = pt_pci_scan("/", &host, &rep);
	if (r < 0)
		fail_msg("live scan failed: %s", rep.msg);
	size_t expected = 0;
	DIR *d = opendir("/sys/bus/pci/devices");
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)))
			expected += e->d_name[0] != '.';
		closedir(d);
	}
	assert_int_equal(host.count, expected);
	for (size_t i = 0; i < host.count; i++) {
		const struct pt_pci_device *dev = &host.devices[i];
		char path[512];
		snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/vendor", dev->address);
		char *v = pt_file_read_line(path);
		assert_non_null(v);
		assert_int_equal(dev->vendor_id, (int)strtol(v, NULL, 16));
		free(v);
		if (i)
			assert_true(strcmp(host.devices[i - 1].address, dev->address) < 0);
	}
	pt_pci_host_release(&host);
}

static void test_parse_address(void **state)
{
	(void)state;
	char out[PT_PCI_ADDR_LEN];
	int fn = 99;
	assert_int_equal(pt_pci_parse_address("0000:07:00.0", out, &fn), 0);
	assert_string_equal(out, "0000:07:00.0");
	assert_int_equal(fn, 0);
	assert_int_equal(pt_pci_parse_address("07:00.1", out, &fn), 0);
	assert_string_equal(out, "0000:07:00.1");
	assert_int_equal(fn, 1);
	assert_int_equal(pt_pci_parse_address("0000:0A:1F", out, &fn), 0);
	assert_string_equal(out, "0000:0a:1f");
	assert_int_equal(fn, -1);
	assert_int_equal(pt_pci_parse_address("41:00", out, &fn), 0);
	assert_string_equal(out, "0000:41:00");
	assert_int_equal(pt_pci_parse_address("ABCD:ff:1f.7", out, NULL), 0);
	assert_string_equal(out, "abcd:ff:1f.7");

	const char *bad[] = {"",
	                     "07",
	                     "0000:07:00.8",
	                     "0000:07:20.0",
	                     "0000:07:00.0 ",
	                     "x0:07:00.0",
	                     "00000:07:00.0",
	                     "0000:07:00.",
	                     "0000:007:00.0",
	                     "1:2:3:4",
	                     "07:00.0.1",
	                     "10de:1c82"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (pt_pci_parse_address(bad[i], out, &fn) != -EINVAL)
			fail_msg("accepted [%s]", bad[i]);
	/* "10de:1c82" is an ID pair: as a bus:slot it has a slot 0x1c82 > 0x1f */
	assert_int_equal(pt_pci_parse_address(NULL, out, &fn), -EINVAL);
}

static void test_id_string(void **state)
{
	(void)state;
	char buf[16];
	pt_pci_id_string(0x10de, 0x1c82, buf, sizeof buf);
	assert_string_equal(buf, "10de:1c82");
	pt_pci_id_string(0x10de, -1, buf, sizeof buf);
	assert_string_equal(buf, "");
	pt_pci_id_string(0x8086, 0x0d57, buf, sizeof buf);
	assert_string_equal(buf, "8086:0d57");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_seed_host_tree, make_root, drop_root),
	        cmocka_unit_test_setup_teardown(test_missing_attributes_are_unknown, make_root,
	                                        drop_root),
	        cmocka_unit_test_setup_teardown(test_dangling_group_link, make_root, drop_root),
	        cmocka_unit_test_setup_teardown(test_no_pci_bus_is_empty, make_root, drop_root),
	        cmocka_unit_test_setup_teardown(test_libpci_error_becomes_message, make_root,
	                                        drop_root),
	        cmocka_unit_test_setup_teardown(test_devices_not_a_directory, make_root, drop_root),
	        cmocka_unit_test(test_live_host),
	        cmocka_unit_test(test_parse_address),
	        cmocka_unit_test(test_id_string),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
