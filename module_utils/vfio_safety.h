/* What must stay with the host when devices go to vfio-pci: the checks that
 * keep a passthrough change from cutting the host off (docs/architecture.md, "Safety
 * rules").
 *
 *   default_route      the NIC under the interface of a default route
 *                      (<root>/proc/net/route and ipv6_route; bridges, bonds and
 *                      VLANs followed down to their ports), by its
 *                      /sys/class/net/<if>/device link
 *   mounted_filesystem the controller under a mounted filesystem's disk
 *                      (<root>/proc/self/mounts → /dev/... → /sys/class/block;
 *                      partitions → disk, dm-N and md slaves, /dev/mapper names,
 *                      ZFS pools through udev's ID_FS_LABEL), and under swap
 *   group_not_isolated other endpoints in the device's IOMMU group that are not
 *                      selected (bridges stay with the host and do not count)
 *   blacklist_in_use   a driver to blacklist that drives a device not selected
 *
 * Every path is read under root. Sysfs links are followed inside root (an
 * absolute link target is taken as relative to root), and the PCI device of a
 * sysfs object is the deepest "dddd:bb:ss.f" component of its resolved path,
 * which also finds the controller above an NVMe namespace, a SATA disk or a
 * USB network adapter. */
#ifndef PT_VFIO_SAFETY_H
#define PT_VFIO_SAFETY_H

#include <stdbool.h>

#include <jansson.h>

#include "pci.h"

/* The PCI device a sysfs object (e.g. "/sys/class/block/nvme0n1") sits under:
 * the deepest PCI address in its resolved path. 0 and out set, or -ENOENT. */
int pt_sysfs_pci_address(const char *root, const char *sysfs_path, char out[PT_PCI_ADDR_LEN]);

/* Interfaces that carry a default route: IPv4 entries of <root>/proc/net/route
 * with destination and mask 0 and the route up; IPv6 entries of
 * <root>/proc/net/ipv6_route with ::/0, up, not a reject route, not on lo.
 * New reference: array of unique names (empty when none or unreadable). */
json_t *pt_net_default_interfaces(const char *root);

/* The PCI devices under a network interface. A physical interface has a
 * device link; a bridge (brif/), a bond or a VLAN (lower_* links) is followed
 * to its ports. Appends {address, interface} (interface: the port whose device
 * it is) to out. Returns 0 or -ENOMEM. */
int pt_net_interface_devices(const char *root, const char *iface, json_t *out);

/* The PCI devices behind a block device name ("nvme0n1p2", "dm-1", "md0"):
 * partitions go to their disk, device-mapper and md devices to their slaves.
 * Appends {address, block} (block: the disk under the controller) to out.
 * Virtual devices (loop, zram, zd) add nothing. 0 or -ENOMEM. */
int pt_block_pci_devices(const char *root, const char *name, json_t *out);

/* What the running host needs. Appends to needs {address, rule, detail}:
 * rule "default_route" (detail e.g. "the default route on vmbr0 through
 * enp6s0"), "mounted_filesystem" (detail e.g. "the filesystem mounted on /
 * (/dev/mapper/pve-root, disk nvme0n1)"), or "swap". Appends to unknown
 * {mountpoint, source, fstype} for mounted disk filesystems whose disks could
 * not be traced (a ZFS pool without udev data, a /dev name not in
 * /sys/class/block). Returns 0 or -ENOMEM. */
int pt_safety_host_needs(const char *root, json_t *needs, json_t *unknown);

/* Endpoints in dev's IOMMU group other than dev that are not keys of selected
 * (an object whose keys are addresses). Bridges are left out: they stay with
 * the host. New reference: array of addresses; empty when dev is in no group. */
json_t *pt_safety_group_intruders(const struct pt_pci_host *host, const struct pt_pci_device *dev,
                                  const json_t *selected);

/* The kernel module behind a PCI driver name: the basename of
 * <root>/sys/bus/pci/drivers/<driver>/module, else the driver name itself;
 * normalised ('-' → '_'). Caller frees. */
char *pt_safety_driver_module(const char *root, const char *driver);

/* The checks of this file on a selection. selected: object whose keys are the
 * selected addresses and whose values say how each was selected ("address",
 * "id", "group"); blacklist: module names (array, may be NULL). Appends to
 * problems {device, rule, message} for every refusal (device is the address,
 * or the module name for blacklist_in_use); messages name the device, the
 * reason and the way out. Appends to notices the strings that are only worth a
 * warning: the boot VGA device, a device in no IOMMU group. Returns 0 or
 * -ENOMEM. */
int pt_safety_check(const char *root, const struct pt_pci_host *host, const json_t *selected,
                    const json_t *blacklist, json_t *problems, json_t *notices);

/* "NVIDIA Corporation GP107 [GeForce GTX 1050 Ti]" or "class 0x0300 device
 * 10de:1c82" or the like, for messages. Caller frees. */
char *pt_safety_describe(const struct pt_pci_device *dev);

#endif
