/* module_utils/vfio_safety: every rule that keeps a passthrough change from
 * cutting the host off, and the host readers under it (root_path, sysfs_pci,
 * host_net, host_block, kmod's driver module, vfio_select's describe), on
 * small sysfs/proc trees built here (bridges, bonds, VLANs, partitions, LVM,
 * md, ZFS, swap, USB and SATA under their controllers, absolute and relative
 * links) and on a device list built by hand. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "host_block.h"
#include "host_net.h"
#include "kmod.h"
#include "pci.h"
#include "root_path.h"
#include "support/tmptree.h"
#include "sysfs_pci.h"
#include "vfio_safety.h"
#include "vfio_select.h"

static char root[256];

/* --- building trees --------------------------------------------------------- */

/* root/rel with text */
static void put(const char *rel, const char *text)
{
	tmptree_put(root, rel, text);
}

static void dir(const char *rel)
{
	char path[1024];
	snprintf(path, sizeof path, "%s%s", root, rel);
	tmptree_mkdirs(path);
}

/* root/rel -> target (verbatim) */
static void ln(const char *rel, const char *target)
{
	tmptree_link(root, rel, target);
}

static int make_root(void **state)
{
	(void)state;
	return tmptree_make(root, sizeof root, "safety") < 0 ? -1 : 0;
}

static int drop_root(void **state)
{
	(void)state;
	tmptree_remove(root);
	return 0;
}

#define PCI_NIC  "/sys/devices/pci0000:00/0000:00:1c.0/0000:06:00.0"
#define PCI_NIC2 "/sys/devices/pci0000:00/0000:00:1c.4/0000:04:00.0"
#define PCI_NVME "/sys/devices/pci0000:00/0000:00:1b.0/0000:01:00.0"
#define PCI_SATA "/sys/devices/pci0000:00/0000:00:17.0"
#define PCI_XHCI "/sys/devices/pci0000:00/0000:00:14.0"
#define PCI_HBA  "/sys/devices/pci0000:00/0000:00:01.0/0000:02:00.0"

/* A physical NIC: /sys/class/net/IF → its directory, device → the PCI device. */
static void nic(const char *pci, const char *iface)
{
	char d[512], rel[1100], target[1100];
	snprintf(d, sizeof d, "%s/net/%s", pci, iface);
	dir(d);
	snprintf(rel, sizeof rel, "/sys/class/net/%s", iface);
	snprintf(target, sizeof target, "../..%s", d + 4); /* strip "/sys" */
	ln(rel, target);
	/* device link, relative, to the PCI directory (or the USB interface) */
	snprintf(rel, sizeof rel, "%s/device", d);
	ln(rel, "../..");
}

/* A virtual interface (bridge, bond, vlan, tap) with the given lower devices. */
static void virtual_if(const char *iface, const char *const *lower, bool bridge)
{
	char d[512], rel[1100], target[1100];
	snprintf(d, sizeof d, "/sys/devices/virtual/net/%s", iface);
	dir(d);
	snprintf(rel, sizeof rel, "/sys/class/net/%s", iface);
	snprintf(target, sizeof target, "../../devices/virtual/net/%s", iface);
	ln(rel, target);
	for (const char *const *l = lower; l && *l; l++) {
		if (bridge) {
			snprintf(rel, sizeof rel, "%s/brif/%s", d, *l);
			snprintf(target, sizeof target, "../../../../../class/net/%s/brport", *l);
		} else {
			snprintf(rel, sizeof rel, "%s/lower_%s", d, *l);
			snprintf(target, sizeof target, "../../../../class/net/%s", *l);
		}
		ln(rel, target);
	}
}

/* A block device at sysfs path devpath (its directory), class link and dev. */
static void block(const char *devpath, const char *name, const char *majmin, bool partition)
{
	char rel[1100], target[1100];
	dir(devpath);
	snprintf(rel, sizeof rel, "%s/dev", devpath);
	put(rel, majmin);
	if (partition) {
		snprintf(rel, sizeof rel, "%s/partition", devpath);
		put(rel, "1\n");
	}
	snprintf(rel, sizeof rel, "/sys/class/block/%s", name);
	snprintf(target, sizeof target, "../..%s", devpath + 4);
	ln(rel, target);
}

/* --- paths -------------------------------------------------------------------- */

static void test_root_realpath(void **state)
{
	(void)state;
	dir("/sys/devices/pci0000:00/0000:00:1b.0/0000:01:00.0/nvme/nvme0/nvme0n1");
	ln("/sys/class/block/nvme0n1",
	   "../../devices/pci0000:00/0000:00:1b.0/0000:01:00.0/nvme/nvme0/nvme0n1");
	/* an absolute target is taken inside the root */
	ln("/dev/mapper/abs", "/sys/class/block/nvme0n1");
	ln("/loop/a", "b");
	ln("/loop/b", "a");

	char *p = pt_root_realpath(root, "/sys/class/block/nvme0n1/../nvme0n1/.");
	assert_string_equal(p,
	                    "/sys/devices/pci0000:00/0000:00:1b.0/0000:01:00.0/nvme/nvme0/nvme0n1");
	free(p);
	p = pt_root_realpath(root, "/dev/mapper/abs");
	assert_string_equal(p,
	                    "/sys/devices/pci0000:00/0000:00:1b.0/0000:01:00.0/nvme/nvme0/nvme0n1");
	free(p);
	p = pt_root_realpath(root, "/does/not/../exist");
	assert_string_equal(p, "/does/exist");
	free(p);
	p = pt_root_realpath(root, "/../..");
	assert_string_equal(p, "/");
	free(p);
	assert_null(pt_root_realpath(root, "/loop/a"));

	char addr[PT_PCI_ADDR_LEN];
	assert_int_equal(pt_sysfs_pci_address(root, "/sys/class/block/nvme0n1", addr), 0);
	assert_string_equal(addr, "0000:01:00.0");
	assert_int_equal(pt_sysfs_pci_address(root, "/sys/class/block/sda", addr), -ENOENT);
	dir("/sys/devices/virtual/block/loop0");
	ln("/sys/class/block/loop0", "../../devices/virtual/block/loop0");
	assert_int_equal(pt_sysfs_pci_address(root, "/sys/class/block/loop0", addr), -ENOENT);
}

/* --- default routes ---------------------------------------------------------------- */

static void test_default_interfaces(void **state)
{
	(void)state;
	json_t *l = pt_net_default_interfaces(root);
	assert_int_equal(json_array_size(l), 0); /* no /proc/net at all */
	json_decref(l);

	put("/proc/net/route",
	    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT"
	    "                                                       \n"
	    "vmbr0\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
	    "vmbr0\t0001A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
	    /* a default route that is down does not count */
	    "wg0\t00000000\t00000000\t0000\t0\t0\t0\t00000000\t0\t0\t0\n"
	    /* a host route to 0.0.0.0/32 is not a default route */
	    "eth9\t00000000\t00000000\t0005\t0\t0\t0\tFFFFFFFF\t0\t0\t0\n");
	put("/proc/net/ipv6_route",
	    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
	    "fe800000000000000000000000000001 00000400 00000001 00000000 00000003     bond0\n"
	    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
	    "00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n"
	    "fe800000000000000000000000000000 40 00000000000000000000000000000000 00 "
	    "00000000000000000000000000000000 00000100 00000001 00000000 00000001    vmbr0\n");
	l = pt_net_default_interfaces(root);
	char *d = json_dumps(l, JSON_COMPACT);
	assert_string_equal(d, "[\"vmbr0\",\"bond0\"]");
	free(d);
	json_decref(l);
}

/* vmbr0 (bridge) over enp6s0; bond0 over two ports of one card; vmbr0.10 a
 * VLAN on the bridge; tap100i0 a VM's port without a device. */
static void test_interface_devices(void **state)
{
	(void)state;
	nic(PCI_NIC, "enp6s0");
	nic(PCI_NIC2, "enp4s0");
	nic(PCI_XHCI "/usb2/2-1/2-1:1.0", "enx001122334455");
	static const char *const bridge_ports[] = {"enp6s0", "tap100i0", NULL};
	virtual_if("tap100i0", NULL, false);
	virtual_if("vmbr0", bridge_ports, true);
	static const char *const vlan_lower[] = {"vmbr0", NULL};
	virtual_if("vmbr0.10", vlan_lower, false);
	static const char *const bond_lower[] = {"enp4s0", "enx001122334455", NULL};
	virtual_if("bond0", bond_lower, false);

	json_t *out = json_array();
	assert_int_equal(pt_net_interface_devices(root, "vmbr0.10", out), 0);
	char *d = json_dumps(out, JSON_COMPACT);
	assert_string_equal(d, "[{\"address\":\"0000:06:00.0\",\"interface\":\"enp6s0\"}]");
	free(d);
	json_array_clear(out);

	/* a USB adapter counts as its xHCI controller */
	assert_int_equal(pt_net_interface_devices(root, "bond0", out), 0);
	d = json_dumps(out, JSON_COMPACT);
	assert_string_equal(d, "[{\"address\":\"0000:04:00.0\",\"interface\":\"enp4s0\"},"
	                       "{\"address\":\"0000:00:14.0\",\"interface\":\"enx001122334455\"}]");
	free(d);
	json_array_clear(out);

	assert_int_equal(pt_net_interface_devices(root, "tap100i0", out), 0);
	assert_int_equal(pt_net_interface_devices(root, "nosuch", out), 0);
	assert_int_equal(pt_net_interface_devices(root, "../../etc", out), 0);
	assert_int_equal(json_array_size(out), 0);
	json_decref(out);
}

/* --- block devices and mounts ----------------------------------------------------- */

static void storage_tree(void)
{
	/* NVMe with three partitions; LVM pve-root over p3 */
	block(PCI_NVME "/nvme/nvme0/nvme0n1", "nvme0n1", "259:0\n", false);
	block(PCI_NVME "/nvme/nvme0/nvme0n1/nvme0n1p2", "nvme0n1p2", "259:2\n", true);
	block(PCI_NVME "/nvme/nvme0/nvme0n1/nvme0n1p3", "nvme0n1p3", "259:3\n", true);
	block("/sys/devices/virtual/block/dm-0", "dm-0", "253:0\n", false);
	put("/sys/devices/virtual/block/dm-0/dm/name", "pve-root\n");
	ln("/sys/devices/virtual/block/dm-0/slaves/nvme0n1p3",
	   "../../../../pci0000:00/0000:00:1b.0/0000:01:00.0/nvme/nvme0/nvme0n1/nvme0n1p3");
	/* SATA disks on the chipset AHCI and on an HBA, mirrored by md0 */
	block(PCI_SATA "/ata1/host0/target0:0:0/0:0:0:0/block/sda", "sda", "8:0\n", false);
	block(PCI_SATA "/ata1/host0/target0:0:0/0:0:0:0/block/sda/sda1", "sda1", "8:1\n", true);
	block(PCI_HBA "/host1/target1:0:0/1:0:0:0/block/sdb", "sdb", "8:16\n", false);
	block(PCI_HBA "/host1/target1:0:0/1:0:0:0/block/sdb/sdb1", "sdb1", "8:17\n", true);
	block("/sys/devices/virtual/block/md0", "md0", "9:0\n", false);
	ln("/sys/devices/virtual/block/md0/slaves/sda1",
	   "../../../../pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda/sda1");
	ln("/sys/devices/virtual/block/md0/slaves/sdb1",
	   "../../../../pci0000:00/0000:00:01.0/0000:02:00.0/host1/target1:0:0/1:0:0:0/block/"
	   "sdb/sdb1");
	/* a ZFS pool "tank" on an HBA disk, known to udev */
	block(PCI_HBA "/host1/target1:0:1/1:0:1:0/block/sdc", "sdc", "8:32\n", false);
	block(PCI_HBA "/host1/target1:0:1/1:0:1:0/block/sdc/sdc1", "sdc1", "8:33\n", true);
	put("/run/udev/data/b8:33", "S:disk/by-id/ata-X-part1\nE:ID_FS_TYPE=zfs_member\n"
	                            "E:ID_FS_LABEL=tank\nE:ID_FS_UUID=123\n");
	put("/run/udev/data/b8:32", "E:ID_PART_TABLE_TYPE=gpt\n");
	/* a USB stick under the xHCI controller */
	block(PCI_XHCI "/usb2/2-2/2-2:1.0/host3/target3:0:0/3:0:0:0/block/sdd", "sdd", "8:48\n",
	      false);
	/* loop device: virtual */
	block("/sys/devices/virtual/block/loop0", "loop0", "7:0\n", false);
}

static char *dump(json_t *j)
{
	return json_dumps(j, JSON_COMPACT);
}

static void test_block_devices(void **state)
{
	(void)state;
	storage_tree();
	json_t *out = json_array();
	assert_int_equal(pt_block_pci_devices(root, "dm-0", out), 0);
	char *d = dump(out);
	assert_string_equal(d, "[{\"address\":\"0000:01:00.0\",\"block\":\"nvme0n1\"}]");
	free(d);
	json_array_clear(out);

	assert_int_equal(pt_block_pci_devices(root, "md0", out), 0);
	d = dump(out);
	assert_string_equal(d, "[{\"address\":\"0000:00:17.0\",\"block\":\"sda\"},"
	                       "{\"address\":\"0000:02:00.0\",\"block\":\"sdb\"}]");
	free(d);
	json_array_clear(out);

	assert_int_equal(pt_block_pci_devices(root, "sdd", out), 0);
	d = dump(out);
	assert_string_equal(d, "[{\"address\":\"0000:00:14.0\",\"block\":\"sdd\"}]");
	free(d);
	json_array_clear(out);

	assert_int_equal(pt_block_pci_devices(root, "loop0", out), 0);
	assert_int_equal(pt_block_pci_devices(root, "nosuch", out), 0);
	assert_int_equal(json_array_size(out), 0);
	json_decref(out);
}

static json_t *find_need(json_t *needs, const char *address, const char *rule)
{
	size_t i;
	json_t *n;
	json_array_foreach (needs, i, n)
		if (!strcmp(json_string_value(json_object_get(n, "address")), address) &&
		    !strcmp(json_string_value(json_object_get(n, "rule")), rule))
			return n;
	return NULL;
}

static const char *detail_of(json_t *n)
{
	assert_non_null(n);
	return json_string_value(json_object_get(n, "detail"));
}

static void test_host_needs(void **state)
{
	(void)state;
	storage_tree();
	nic(PCI_NIC, "enp6s0");
	static const char *const ports[] = {"enp6s0", NULL};
	virtual_if("vmbr0", ports, true);
	put("/proc/net/route",
	    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
	    "vmbr0\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n");
	/* no /dev nodes in this root: names resolve through sysfs */
	put("/proc/self/mounts", "sysfs /sys sysfs rw 0 0\n"
	                         "/dev/mapper/pve-root / ext4 rw 0 0\n"
	                         "/dev/nvme0n1p2 /boot/efi vfat rw 0 0\n"
	                         "/dev/md0 /srv/mirror\\040a ext4 rw 0 0\n"
	                         "tank/data /tank/data zfs rw 0 0\n"
	                         "rpool/ROOT/pve-1 /mnt/other zfs rw 0 0\n"
	                         "/dev/disk/by-uuid/1234 /mnt/usb ext4 rw 0 0\n"
	                         "server:/export /mnt/nfs nfs4 rw 0 0\n"
	                         "tmpfs /run tmpfs rw 0 0\n");
	put("/proc/swaps", "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
	                   "/dev/sdd\tpartition\t1000\t0\t-2\n"
	                   "/swapfile\tfile\t1000\t0\t-3\n");
	json_t *needs = json_array(), *unknown = json_array();
	assert_int_equal(pt_safety_host_needs(root, needs, unknown), 0);

	assert_string_equal(detail_of(find_need(needs, "0000:06:00.0", "default_route")),
	                    "the default route on vmbr0 through enp6s0");
	assert_string_equal(detail_of(find_need(needs, "0000:01:00.0", "mounted_filesystem")),
	                    "the filesystem mounted on / (/dev/mapper/pve-root, disk nvme0n1)");
	assert_non_null(find_need(needs, "0000:00:17.0", "mounted_filesystem"));
	assert_string_equal(detail_of(find_need(needs, "0000:02:00.0", "mounted_filesystem")),
	                    "the filesystem mounted on /srv/mirror a (/dev/md0, disk sdb)");
	assert_non_null(strstr(detail_of(find_need(needs, "0000:00:14.0", "swap")), "active swap"));
	/* the pool udev knows leads to the HBA; the other and the by-uuid name are unknown */
	bool tank = false;
	size_t i;
	json_t *n;
	json_array_foreach (needs, i, n)
		tank |= strstr(detail_of(n), "/tank/data (tank/data, disk sdc)") != NULL;
	assert_true(tank);
	char *u = dump(unknown);
	assert_string_equal(u, "[{\"mountpoint\":\"/mnt/other\",\"source\":\"rpool/ROOT/pve-1\","
	                       "\"fstype\":\"zfs\"},{\"mountpoint\":\"/mnt/usb\",\"source\":"
	                       "\"/dev/disk/by-uuid/1234\",\"fstype\":\"ext4\"}]");
	free(u);
	json_decref(needs);
	json_decref(unknown);
}

static void test_lvm_name_and_dev_links(void **state)
{
	(void)state;
	storage_tree();
	/* /dev/pve/root without /dev nodes: device-mapper calls it pve-root */
	put("/proc/self/mounts", "/dev/pve/root / ext4 rw 0 0\n");
	json_t *needs = json_array(), *unknown = json_array();
	assert_int_equal(pt_safety_host_needs(root, needs, unknown), 0);
	assert_non_null(find_need(needs, "0000:01:00.0", "mounted_filesystem"));
	assert_int_equal(json_array_size(unknown), 0);
	json_decref(needs);
	json_decref(unknown);

	/* a by-uuid link in /dev, as udev makes it, leads to the partition */
	ln("/dev/disk/by-uuid/abcd", "../../sda1");
	put("/dev/sda1", "");
	put("/proc/self/mounts", "/dev/disk/by-uuid/abcd /data ext4 rw 0 0\n");
	needs = json_array();
	unknown = json_array();
	assert_int_equal(pt_safety_host_needs(root, needs, unknown), 0);
	assert_string_equal(detail_of(find_need(needs, "0000:00:17.0", "mounted_filesystem")),
	                    "the filesystem mounted on /data (/dev/disk/by-uuid/abcd, disk sda)");
	json_decref(needs);
	json_decref(unknown);
}

/* --- groups, drivers, the whole check ---------------------------------------------- */

/* A host by hand, sorted by address, like pt_pci_scan gives it. */
static struct pt_pci_device devs[8];
static struct pt_pci_host host = {devs, 0};

static void add_dev(const char *addr, int vendor, int device, int class_id, int group,
                    const char *driver, bool bridge, int boot_vga, const char *name)
{
	struct pt_pci_device *d = &devs[host.count++];
	memset(d, 0, sizeof *d);
	snprintf(d->address, sizeof d->address, "%s", addr);
	d->vendor_id = vendor;
	d->device_id = device;
	d->class_id = class_id;
	d->iommu_group = group;
	d->boot_vga = boot_vga;
	d->is_bridge = bridge;
	d->driver = (char *)driver;
	d->vendor_name = name ? (char *)"Vendor" : NULL;
	d->device_name = (char *)name;
}

/* pve1 in short, plus a GPU sharing group 10 with a NIC behind a bridge */
static int make_host(void **state)
{
	host.count = 0;
	add_dev("0000:00:1c.0", 0x8086, 0xa338, 0x0604, 10, "pcieport", true, -1, "Root port");
	add_dev("0000:01:00.0", 0x144d, 0xa808, 0x0108, 12, "nvme", false, -1, "NVMe");
	add_dev("0000:03:00.0", 0x10de, 0x1c03, 0x0300, 10, "nouveau", false, 0, "GTX 1060");
	add_dev("0000:04:00.0", 0x8086, 0x10d3, 0x0200, 10, "e1000e", false, -1, "82574L");
	add_dev("0000:06:00.0", 0x10ec, 0x8168, 0x0200, 13, "r8169", false, -1, "RTL8111");
	add_dev("0000:07:00.0", 0x10de, 0x1c82, 0x0300, 14, "nouveau", false, 1, "GTX 1050 Ti");
	add_dev("0000:07:00.1", 0x10de, 0x0fb9, 0x0403, 14, "snd_hda_intel", false, -1, NULL);
	add_dev("0000:08:00.0", 0x1b21, 0x1242, 0x0c03, -1, NULL, false, -1, NULL);
	return make_root(state);
}

static json_t *selection(const char *a, const char *how_a, const char *b, const char *how_b)
{
	json_t *s = json_object();
	if (a)
		json_object_set_new(s, a, json_string(how_a));
	if (b)
		json_object_set_new(s, b, json_string(how_b));
	return s;
}

static void test_group_intruders(void **state)
{
	(void)state;
	json_t *sel = selection("0000:03:00.0", "address", NULL, NULL);
	json_t *in = pt_safety_group_intruders(&host, pt_pci_find(&host, "0000:03:00.0"), sel);
	char *d = dump(in);
	/* the bridge 00:1c.0 in the same group stays with the host and does not count */
	assert_string_equal(d, "[\"0000:04:00.0\"]");
	free(d);
	json_decref(in);
	json_decref(sel);

	sel = selection("0000:07:00.0", "address", "0000:07:00.1", "group");
	in = pt_safety_group_intruders(&host, pt_pci_find(&host, "0000:07:00.0"), sel);
	assert_int_equal(json_array_size(in), 0);
	json_decref(in);
	/* a device in no group has no companions to check */
	in = pt_safety_group_intruders(&host, pt_pci_find(&host, "0000:08:00.0"), sel);
	assert_int_equal(json_array_size(in), 0);
	json_decref(in);
	json_decref(sel);
}

static void test_driver_module(void **state)
{
	(void)state;
	ln("/sys/bus/pci/drivers/xhci_hcd/module", "../../../../module/xhci_pci");
	char *m = pt_kmod_driver_module(root, "xhci_hcd");
	assert_string_equal(m, "xhci_pci");
	free(m);
	m = pt_kmod_driver_module(root, "snd-hda-intel");
	assert_string_equal(m, "snd_hda_intel");
	free(m);
	assert_null(pt_kmod_driver_module(root, NULL));
}

static const char *rule_of(json_t *problems, size_t i)
{
	return json_string_value(json_object_get(json_array_get(problems, i), "rule"));
}

static const char *message_of(json_t *problems, size_t i)
{
	return json_string_value(json_object_get(json_array_get(problems, i), "message"));
}

static void test_check_default_route(void **state)
{
	(void)state;
	nic(PCI_NIC, "enp6s0");
	put("/proc/net/route", "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n"
	                       "enp6s0\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\n");
	json_t *sel = selection("0000:06:00.0", "address", NULL, NULL);
	json_t *p = json_array(), *n = json_array();
	assert_int_equal(pt_safety_check(root, &host, sel, NULL, p, n), 0);
	assert_int_equal(json_array_size(p), 1);
	assert_string_equal(rule_of(p, 0), "default_route");
	const char *msg = message_of(p, 0);
	assert_non_null(strstr(msg, "0000:06:00.0 (Vendor RTL8111) carries the default route on "
	                            "enp6s0"));
	assert_non_null(strstr(msg, "Leave it out of devices/ids, or set force: true"));
	assert_null(strstr(msg, "include_group"));
	json_decref(sel);
	json_decref(p);
	json_decref(n);
}

static void test_check_nic_through_group(void **state)
{
	(void)state;
	nic(PCI_NIC2, "eno1");
	put("/proc/net/route", "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n"
	                       "eno1\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\n");
	/* include_group brought the NIC in: refused, and the message says why it is there */
	json_t *sel = selection("0000:03:00.0", "address", "0000:04:00.0", "group");
	json_t *p = json_array(), *n = json_array();
	assert_int_equal(pt_safety_check(root, &host, sel, NULL, p, n), 0);
	assert_int_equal(json_array_size(p), 1);
	assert_string_equal(rule_of(p, 0), "default_route");
	assert_non_null(strstr(message_of(p, 0), "came into the selection through include_group"));
	json_decref(sel);
	json_array_clear(p);
	/* without it: the group is not isolated, and the NIC is named */
	sel = selection("0000:03:00.0", "address", NULL, NULL);
	assert_int_equal(pt_safety_check(root, &host, sel, NULL, p, n), 0);
	assert_int_equal(json_array_size(p), 1);
	assert_string_equal(rule_of(p, 0), "group_not_isolated");
	const char *msg = message_of(p, 0);
	assert_non_null(strstr(msg, "0000:03:00.0 is in IOMMU group 10 with 0000:04:00.0 "
	                            "(Vendor 82574L, driver e1000e), which is not selected"));
	assert_non_null(strstr(msg, "include_group: true"));
	assert_non_null(strstr(msg, "force: true"));
	json_decref(sel);
	json_decref(p);
	json_decref(n);
}

static void test_check_mounted_disk(void **state)
{
	(void)state;
	storage_tree();
	put("/proc/self/mounts", "/dev/mapper/pve-root / ext4 rw 0 0\n"
	                         "rpool/ROOT/pve-1 /mnt/other zfs rw 0 0\n");
	json_t *sel = selection("0000:01:00.0", "address", NULL, NULL);
	json_t *p = json_array(), *n = json_array();
	assert_int_equal(pt_safety_check(root, &host, sel, NULL, p, n), 0);
	/* the NVMe backs /, and as a storage controller it may be under the untraced pool */
	assert_int_equal(json_array_size(p), 2);
	assert_string_equal(rule_of(p, 0), "mounted_filesystem");
	assert_non_null(strstr(message_of(p, 0), "0000:01:00.0 (Vendor NVMe) backs the filesystem "
	                                         "mounted on / (/dev/mapper/pve-root, disk "
	                                         "nvme0n1)"));
	assert_non_null(strstr(message_of(p, 1), "could not be traced"));
	assert_non_null(strstr(message_of(p, 1), "rpool/ROOT/pve-1"));
	json_decref(sel);
	json_array_clear(p);
	/* a GPU is not a storage controller: the untraced pool is no reason to refuse it */
	sel = selection("0000:07:00.0", "address", "0000:07:00.1", "group");
	assert_int_equal(pt_safety_check(root, &host, sel, NULL, p, n), 0);
	assert_int_equal(json_array_size(p), 0);
	json_decref(sel);
	json_decref(p);
	json_decref(n);
}

static void test_check_blacklist(void **state)
{
	(void)state;
	json_t *sel = selection("0000:07:00.0", "address", "0000:07:00.1", "group");
	json_t *bl = json_pack("[s,s,s]", "r8169", "nouveau", "snd-hda-intel");
	json_t *p = json_array(), *n = json_array();
	assert_int_equal(pt_safety_check(root, &host, sel, bl, p, n), 0);
	/* r8169 drives the NIC; nouveau also drives 03:00.0; snd_hda_intel only the
	 * selected audio function: fine */
	assert_int_equal(json_array_size(p), 2);
	assert_string_equal(rule_of(p, 0), "blacklist_in_use");
	const char *msg = message_of(p, 0);
	assert_string_equal(json_string_value(json_object_get(json_array_get(p, 0), "device")),
	                    "r8169");
	assert_non_null(strstr(msg, "refusing to blacklist r8169: it drives 0000:06:00.0 (Vendor "
	                            "RTL8111), which is not being passed through"));
	assert_non_null(strstr(msg, "Remove r8169 from blacklist_drivers"));
	assert_non_null(strstr(msg, "force: true"));
	assert_non_null(strstr(message_of(p, 1), "refusing to blacklist nouveau: it drives "
	                                         "0000:03:00.0"));
	json_decref(bl);
	json_array_clear(p);

	/* vfio itself */
	bl = json_pack("[s]", "vfio-pci");
	assert_int_equal(pt_safety_check(root, &host, sel, bl, p, n), 0);
	assert_int_equal(json_array_size(p), 1);
	assert_non_null(strstr(message_of(p, 0), "refusing to blacklist vfio-pci"));
	json_decref(bl);
	json_decref(sel);
	json_decref(p);
	json_decref(n);
}

static void test_check_notices(void **state)
{
	(void)state;
	json_t *sel = selection("0000:07:00.0", "address", "0000:07:00.1", "group");
	json_object_set_new(sel, "0000:08:00.0", json_string("address"));
	json_t *p = json_array(), *n = json_array();
	assert_int_equal(pt_safety_check(root, &host, sel, NULL, p, n), 0);
	assert_int_equal(json_array_size(p), 0);
	assert_int_equal(json_array_size(n), 2);
	assert_non_null(strstr(json_string_value(json_array_get(n, 0)),
	                       "0000:07:00.0 is the boot VGA device (boot_vga=1): the host console "
	                       "goes with it"));
	assert_non_null(strstr(json_string_value(json_array_get(n, 1)),
	                       "0000:08:00.0 is in no IOMMU group"));
	json_decref(sel);
	json_decref(p);
	json_decref(n);
}

static void test_describe(void **state)
{
	(void)state;
	char *s = pt_vfio_describe(pt_pci_find(&host, "0000:07:00.1"));
	assert_string_equal(s, "class 0x0403 device 10de:0fb9");
	free(s);
	s = pt_vfio_describe(pt_pci_find(&host, "0000:07:00.0"));
	assert_string_equal(s, "Vendor GTX 1050 Ti");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_root_realpath, make_root, drop_root),
	        cmocka_unit_test_setup_teardown(test_default_interfaces, make_root, drop_root),
	        cmocka_unit_test_setup_teardown(test_interface_devices, make_root, drop_root),
	        cmocka_unit_test_setup_teardown(test_block_devices, make_root, drop_root),
	        cmocka_unit_test_setup_teardown(test_host_needs, make_root, drop_root),
	        cmocka_unit_test_setup_teardown(test_lvm_name_and_dev_links, make_root, drop_root),
	        cmocka_unit_test_setup_teardown(test_group_intruders, make_host, drop_root),
	        cmocka_unit_test_setup_teardown(test_driver_module, make_host, drop_root),
	        cmocka_unit_test_setup_teardown(test_check_default_route, make_host, drop_root),
	        cmocka_unit_test_setup_teardown(test_check_nic_through_group, make_host, drop_root),
	        cmocka_unit_test_setup_teardown(test_check_mounted_disk, make_host, drop_root),
	        cmocka_unit_test_setup_teardown(test_check_blacklist, make_host, drop_root),
	        cmocka_unit_test_setup_teardown(test_check_notices, make_host, drop_root),
	        cmocka_unit_test_setup_teardown(test_describe, make_host, drop_root),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
