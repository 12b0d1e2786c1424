/* Layer: vfio family (vfio_bind). Included by vfio_bind_run.c, vfio_plan.c and
 * vfio_safety.c (for pt_vfio_describe), and the tests.
 *
 * Which devices a vfio_bind run hands to vfio-pci, or gives back: the PCI
 * addresses and vendor:device IDs the user named, resolved against the host's
 * devices, plus the other endpoints of their IOMMU groups. */
#ifndef PT_VFIO_SELECT_H
#define PT_VFIO_SELECT_H

#include <stdbool.h>

#include <jansson.h>

#include "pci.h"
#include "report.h"

/* "NVIDIA Corporation GP107 [GeForce GTX 1050 Ti]", or "class 0x0300 device
 * 10de:1c82" or the like when the names are unknown: what the family's messages
 * call a device. Caller frees; NULL when out of memory. */
char *pt_vfio_describe(const struct pt_pci_device *dev);

/* Parse a vendor:device pair such as "10de:1c82": four hex digits (any case),
 * a colon, four hex digits. 0 with *vendor and *device set, or -EINVAL. */
int pt_vfio_parse_id(const char *text, int *vendor, int *device);

/* Resolve the user's selection on host. devices: addresses as given
 * ("0000:07:00.0", "07:00.0", or a slot "0000:07:00" for all its functions);
 * ids: "vendor:device" strings; both arrays of strings, either may be NULL.
 * Bridges are never selected: a slot's bridge functions stay with the host, and
 * naming a bridge's address is an error.
 *
 * present (state=present): something must be asked for, and every address and
 * ID must match a device on the host (else the message lists the host's
 * display controllers and the devices of the missing ID's vendor); with
 * include_group the other endpoints of each selected device's IOMMU group join.
 * Not present (state=absent): names that match nothing only give a warning in
 * rep, as the card may be gone already; groups are not followed.
 *
 * Returns 0 and *selected, a new object whose keys are the canonical addresses
 * in address order and whose values say how each came in: "address", "id" or
 * "group" (the first way that named it). Or -EINVAL (bad syntax, a bridge,
 * nothing asked for, not on the host) or -ENOMEM, with the message in rep and
 * *selected NULL. */
int pt_vfio_select(const struct pt_pci_host *host, const json_t *devices, const json_t *ids,
                   bool present, bool include_group, json_t **selected, struct pt_report *rep);

#endif
