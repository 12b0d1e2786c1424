/* Layer: host I/O (reads the host under root). Included by device_evidence.c and
 * tests.
 *
 * What a card offers beyond being handed over whole, read from its PCI
 * configuration space through libpci (the linux-sysfs method pointed at
 * <root>/sys/bus/pci, as pci.c opens it) and from sysfs:
 *   - Resizable BAR (PCIe extended capability 0x15): per resizable BAR, its
 *     current size and the sizes it supports. A guest sees the size the host
 *     set; a large BAR may need the VM's firmware to map it above 4 GiB;
 *   - SR-IOV (extended capability 0x10): how many virtual functions the card
 *     can offer (TotalVFs) and has enabled (NumVFs): each VF can go to a guest;
 *   - mediated devices: the mdev types a driver registered
 *     (/sys/bus/pci/devices/ADDR/mdev_supported_types/), the vGPU kinds.
 *
 * Extended capabilities exist only in PCI Express devices' 4 KiB configuration
 * space; sysfs shows 256 bytes to a reader that is not root, and then the
 * answer is "unknown", never "none". */
#ifndef PT_HOST_PCI_CAPS_H
#define PT_HOST_PCI_CAPS_H

#include <stdbool.h>
#include <stddef.h>

#include "report.h"

#define PT_REBAR_MAX 6 /* a Resizable BAR capability lists 1 to 6 BARs */

struct pt_rebar {
	int bar;                       /* BAR index, 0..5 */
	unsigned long long current_mb; /* the size set now, in MiB */
	unsigned long long supported;  /* bit k: (1 MiB << k) is supported (1 MiB .. 128 TiB) */
};

struct pt_pci_caps {
	bool readable;  /* configuration space could be read (IDs there) */
	bool extended;  /* the 4 KiB extended space is there (a PCIe device read as root) */
	bool is_pcie;   /* a PCI Express capability is listed */
	size_t n_rebar; /* resizable BARs (0: no Resizable BAR capability) */
	struct pt_rebar rebar[PT_REBAR_MAX];
	int sriov_total_vfs; /* -1: no SR-IOV capability */
	int sriov_num_vfs;   /* -1: no SR-IOV capability */
};

/* Read the capabilities of the devices at addresses[0..n) (canonical
 * "0000:07:00.0") under root ("/" for the live host) into caps[0..n), with one
 * libpci access. A device whose configuration space cannot be read gets
 * readable false. Returns 0, or -EIO when libpci itself fails (its message in
 * rep), or -ENOMEM. */
int pt_pci_caps_read(const char *root, const char *const addresses[], size_t n,
                     struct pt_pci_caps *caps, struct pt_report *rep);

/* Whether the capability answers are known: readable, and for a PCI Express
 * device the extended space read too. */
bool pt_pci_caps_known(const struct pt_pci_caps *caps);

/* The mdev types of the device at address: the entries of its
 * mdev_supported_types directory, sorted. Returns their count and *names (a
 * NULL-terminated array, caller frees with pt_host_names_free of host_files.h;
 * NULL when there are none), 0 when the directory is absent, or -errno when it
 * exists but cannot be listed. */
int pt_pci_mdev_types(const char *root, const char *address, char ***names);

#endif
