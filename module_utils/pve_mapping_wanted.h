/* Layer: pve_pci_mapping family (pve_mapping_*, pvesh). Included by
 * pve_mapping_plan, pve_pci_mapping_run and the pve unit tests.
 *
 * The map entries a pve_pci_mapping run wants: this node's, from the devices
 * option and the hardware (map_mode=node), or the whole list from the map option,
 * checked against Proxmox's schema (map_mode=exact). */
#ifndef PT_PVE_MAPPING_WANTED_H
#define PT_PVE_MAPPING_WANTED_H

#include <stddef.h>

#include "pve_mapping_hw.h"
#include "pve_mapping_opts.h"
#include "report.h"

struct pt_pve_wanted {
	char **entries; /* stored form with sorted keys, "id=10de:1c82,iommugroup=14,node=pve1,
	                   path=0000:07:00,subsystem-id=1462:8c96" (owned) */
	char **paths;   /* each entry's path, to find the existing entry it replaces (owned) */
	size_t count;
};

void pt_pve_wanted_release(struct pt_pve_wanted *w);

/* The wanted entries for o on `node` (the checked node name):
 * - map_mode=node, state=present: one entry per address in o->devices, with
 *   id, subsystem-id and iommugroup read through hw; a slot ("07:00") maps every
 *   function, as Proxmox's "Use all functions" does;
 * - map_mode=exact: every entry of o->map, checked against Proxmox's schema (all
 *   problems in one message), then for the same device twice (the same node and
 *   the same paths, in any order: the message names both indexes); an entry for
 *   `node` without id is completed from hw.
 *   With state=present, this node's entries that would fail Proxmox's check at VM
 *   start are reported in warnings;
 * - map_mode=node, state=absent: none.
 * Warnings (a device in no IOMMU group, the check above) go to rep.
 * Returns 0 with w filled (release with pt_pve_wanted_release, also after a
 * failure); -EINVAL or -ENOENT with rep's failure saying which option is wrong
 * and how to write it; -ENOMEM. */
int pt_pve_wanted_build(const struct pt_pve_pci_mapping_opts *o, const char *node,
                        struct pt_pve_hw *hw, struct pt_pve_wanted *w, struct pt_report *rep);

#endif
