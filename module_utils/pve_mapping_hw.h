/* Layer: pve_pci_mapping family (pve_mapping_*, pvesh), over the host I/O layer
 * (pci.h). Included by pve_mapping_wanted, pve_mapping_plan, pve_pci_mapping_run
 * and the pve unit tests.
 *
 * This host's PCI functions as a Proxmox PCI mapping sees them: read once through
 * module_utils/pci, looked up by address, used to fill map entries with what
 * Proxmox checks (id, subsystem-id, iommugroup) and to run Proxmox's check at VM
 * start on this node's entries.
 *
 * Nothing here prints or exits: problems and warnings go to the struct pt_report
 * the caller passes. */
#ifndef PT_PVE_MAPPING_HW_H
#define PT_PVE_MAPPING_HW_H

#include <stdbool.h>

#include "pci.h"
#include "pve_mapping.h"
#include "report.h"

struct pt_pve_hw {
	const char *root;        /* the host's root directory, "/" for the host itself (borrowed) */
	struct pt_pci_host host; /* the devices, once read */
	bool scanned;            /* reading the devices was tried */
	char *scan_error;        /* why reading failed; NULL when it worked (owned) */
};

/* A host under root whose devices are read on first use. */
void pt_pve_hw_init(struct pt_pve_hw *hw, const char *root);
void pt_pve_hw_release(struct pt_pve_hw *hw);

/* A pt_pve_hw_lookup_fn; ctx is a struct pt_pve_hw. Returns 0 with out filled, or
 * -ENOENT when there is no such function, its IDs are unknown, or the devices
 * cannot be read (hw->scan_error then says why). */
int pt_pve_hw_lookup(void *ctx, const char *address, struct pt_pve_hw_function *out);

/* Fill e->id, e->subsystem_id and e->iommugroup from the hardware at `path`: a
 * canonical function ("0000:07:00.0") or a whole slot ("0000:07:00", read as its
 * function 0). With only_missing, fields already set stay. `what` names the
 * entry in messages ("devices[0] '07:00'"). A function in no IOMMU group gets no
 * iommugroup, and a warning in rep (the IOMMU looks off).
 * Returns 0; -ENOENT with rep's failure saying which device is missing or why the
 * devices cannot be read, and what to do; -ENOMEM. */
int pt_pve_hw_fill(struct pt_pve_hw *hw, const char *what, const char *path,
                   struct pt_pve_map_entry *e, bool only_missing, struct pt_report *rep);

/* Proxmox's check at VM start (pt_pve_map_entry_check_hw) on one stored entry of
 * mapping `mapping_id`, when the entry is for `node`. Returns 0 when it passes,
 * is another node's, or does not parse (Proxmox skips such entries); -EINVAL with
 * rep's failure set to Proxmox's message when it fails (callers put it into a
 * warning of their own); -ENOMEM. When it fails and path is not NULL, *path is
 * the entry's path (caller frees; NULL when out of memory). */
int pt_pve_hw_check_entry(struct pt_pve_hw *hw, const char *mapping_id, const char *node,
                          const char *entry, char **path, struct pt_report *rep);

#endif
