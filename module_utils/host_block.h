/* Layer: host I/O. Included by vfio_safety.c (the mounted_filesystem and swap
 * rules) and its tests.
 *
 * The running host's storage as a root shows it: which PCI devices (disk
 * controllers) are under its mounted filesystems and active swap. A mount
 * source is traced to its block device (/dev links, /dev/mapper and /dev/VG/LV
 * names; a ZFS pool to its member disks through udev's data), the block
 * device down to its disks (partitions → disk, device-mapper and md → their
 * slaves), and each disk to its controller (sysfs_pci.h). What vfio_bind must
 * not hand over is decided in vfio_safety.c; this file only reads. Every path
 * is read under root: <root>/proc/self/mounts, <root>/proc/swaps,
 * <root>/sys/class/block, <root>/dev, <root>/run/udev/data, links followed
 * inside root. */
#ifndef PT_HOST_BLOCK_H
#define PT_HOST_BLOCK_H

#include <jansson.h>

/* The PCI devices behind a block device name ("nvme0n1p2", "dm-1", "md0"):
 * partitions go to their disk, device-mapper and md devices to their slaves
 * (in name order, at most 8 levels deep). Appends {address, block} (block:
 * the disk under the controller) to out. Virtual devices (loop, zram, zd) add
 * nothing. 0 or -ENOMEM. */
int pt_block_pci_devices(const char *root, const char *name, json_t *out);

/* The PCI devices under the mounted filesystems: every entry of
 * <root>/proc/self/mounts whose source is a /dev node, or whose type is zfs,
 * in file order (proc, sysfs, tmpfs and network filesystems are left out),
 * traced to its block devices (a pool's members in name order), and those to
 * PCI devices with pt_block_pci_devices. Appends to used
 * {address, block, source, mountpoint} for each device found, and to unknown
 * {mountpoint, source, fstype} for a filesystem whose disks could not be
 * traced (a ZFS pool without udev data, a /dev name not in /sys/class/block).
 * An unreadable table adds nothing. 0 or -ENOMEM. */
int pt_block_mounted_devices(const char *root, json_t *used, json_t *unknown);

/* The same for the active swap partitions of <root>/proc/swaps, in file order
 * (a swap file lives on a mounted filesystem): appends {address, block,
 * source} to used. 0 or -ENOMEM. */
int pt_block_swap_devices(const char *root, json_t *used);

#endif
