/* Layer: vfio family (vfio_bind). Included by vfio_bind_run.c and the tests.
 *
 * What must stay with the host when devices go to vfio-pci: the policy that
 * keeps a passthrough change from cutting the host off (docs/architecture.md,
 * "Safety rules"). The rules, each a refusal unless force:
 *
 *   default_route      the NIC under the interface of a default route
 *                      (host_net.h: bridges, bonds and VLANs followed down to
 *                      their ports)
 *   mounted_filesystem the controller under a mounted filesystem's disk
 *                      (host_block.h: partitions, device-mapper, md, ZFS); a
 *                      storage controller when a mounted filesystem's disks
 *                      could not be traced
 *   swap               the controller under an active swap partition
 *   group_not_isolated other endpoints in the device's IOMMU group that are not
 *                      selected (bridges stay with the host and do not count)
 *   blacklist_in_use   a driver to blacklist that drives a device not selected,
 *                      or one vfio-pci itself needs
 *
 * What the host has (its routes, its disks, its drivers) is read by the host
 * I/O files named above, under root; this file decides and words the
 * messages. */
#ifndef PT_VFIO_SAFETY_H
#define PT_VFIO_SAFETY_H

#include <jansson.h>

#include "pci.h"

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

#endif
