/* Layer: host I/O. Included by the iommu facts and by the vfio_* and
 * pve_mapping_* families that look devices up, by pci_names.h, and by tests.
 *
 * PCI devices and IOMMU groups of a host (or of a root directory that looks
 * like one): libpci with the linux-sysfs method pointed at <root>/sys/bus/pci,
 * plus the sysfs attributes libpci does not read.
 *
 * libpci never prints or exits here: its error callback is routed into the
 * caller's report. Missing or unreadable attributes become -1 / NULL. */
#ifndef PT_PCI_H
#define PT_PCI_H

#include <stdbool.h>
#include <stddef.h>

#include "report.h"

#define PT_PCI_ADDR_LEN 13 /* "0000:07:00.0" + NUL */

struct pt_pci_device {
	char address[PT_PCI_ADDR_LEN]; /* canonical "dddd:bb:ss.f", lowercase */
	int vendor_id;                 /* 0x10de; -1 unknown */
	int device_id;                 /* 0x1c82; -1 unknown */
	int subsys_vendor_id;          /* -1 unknown */
	int subsys_device_id;          /* -1 unknown */
	int class_id;                  /* base class + subclass, 0x0300; -1 unknown */
	int prog_if;                   /* programming interface; -1 unknown */
	int revision;                  /* -1 unknown */
	int iommu_group;               /* -1 when in no group (IOMMU off) */
	int boot_vga;                  /* 1, 0, or -1 when the attribute is absent */
	bool is_bridge;                /* PCI-to-PCI bridge (header type 1) or class 0x0604 */
	char *driver;                  /* bound driver name, NULL when none (owned) */
	char *driver_override;         /* NULL when "(null)" or absent (owned) */
	char *modalias;                /* "pci:v000010DEd..." or NULL (owned) */
	char *reset_methods;           /* sysfs reset_method text, e.g. "flr bus"; NULL (owned) */
	char *parent;      /* address of the upstream bridge, NULL on a root bus (owned) */
	char *vendor_name; /* from pci.ids, NULL when unknown (owned) */
	char *device_name; /* from pci.ids, NULL when unknown (owned) */
	char *class_name;  /* from pci.ids, e.g. "VGA compatible controller" (owned) */
};

struct pt_pci_host {
	struct pt_pci_device *devices; /* sorted by address (owned) */
	size_t count;
};

/* Scan the PCI devices under root ("/" for the live host). Returns 0 and fills
 * host (release with pt_pci_host_release), or -errno with host empty and a
 * message for the user recorded in rep (pt_report_fail; libpci's own error
 * text, for one). Out of memory before the scan began is the one failure
 * without a message: the caller words that one. A root without /sys/bus/pci
 * gives 0 devices, not an error. */
int pt_pci_scan(const char *root, struct pt_pci_host *host, struct pt_report *rep);

void pt_pci_host_release(struct pt_pci_host *host);

/* The device at a canonical address, or NULL. Borrowed from host. */
const struct pt_pci_device *pt_pci_find(const struct pt_pci_host *host, const char *address);

/* Parse a user-given address: "0000:07:00.0", "07:00.0" (domain 0000),
 * "0000:07:00" / "07:00" (a whole slot: *function set to -1). Hex digits in any
 * case. Writes the canonical lowercase form to out ("0000:07:00.0", or
 * "0000:07:00" for a slot). Returns 0, or -EINVAL when text is not an address. */
int pt_pci_parse_address(const char *text, char out[PT_PCI_ADDR_LEN], int *function);

/* True when the device's address lies in the slot "dddd:bb:ss". */
bool pt_pci_in_slot(const struct pt_pci_device *dev, const char *slot);

/* Endpoint: not a bridge (bridges stay with the host in group checks). */
static inline bool pt_pci_is_endpoint(const struct pt_pci_device *dev)
{
	return !dev->is_bridge;
}

/* "10de:1c82" into buf (at least 10 bytes); "" when the IDs are unknown. */
void pt_pci_id_string(int vendor, int device, char *buf, size_t size);

#endif
