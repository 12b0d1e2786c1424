/* Layer: host I/O. Included by the host readers that trace a sysfs object
 * (a network interface, a block device) down to its PCI device: host_net.c and
 * host_block.c.
 *
 * In sysfs every device sits below the device it hangs off: a NVMe
 * namespace under its controller, a SATA disk under its AHCI controller, a USB
 * network adapter under its xHCI controller. So the PCI device a sysfs object
 * belongs to is the deepest "dddd:bb:ss.f" component of the object's resolved
 * path, whatever lies in between. Its own file because both the network and
 * the block side need that one lookup. */
#ifndef PT_SYSFS_PCI_H
#define PT_SYSFS_PCI_H

#include "pci.h"

/* The PCI device a sysfs object (e.g. "/sys/class/block/nvme0n1", a path
 * inside root) sits under: its path resolved inside root (root_path.h; an
 * absolute link target is taken under root), then the deepest PCI address in
 * it, lower case. 0 and out set, or -ENOENT (the object is not there, or no
 * PCI device is above it: a loop device, a virtual interface). */
int pt_sysfs_pci_address(const char *root, const char *sysfs_path, char out[PT_PCI_ADDR_LEN]);

#endif
