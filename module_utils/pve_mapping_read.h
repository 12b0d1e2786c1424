/* Layer: pve_pci_mapping family (pve_mapping_*, pvesh). Included by
 * pve_mapping_plan, pve_pci_mapping_run and the pve unit tests.
 *
 * Reading one cluster PCI mapping through pvesh, telling "there is none" (Proxmox's
 * own answer) from "pvesh failed" or "pvesh did not run". */
#ifndef PT_PVE_MAPPING_READ_H
#define PT_PVE_MAPPING_READ_H

#include <stdbool.h>

#include "pve_mapping.h"
#include "pvesh.h"

/* The mapping as pvesh returned it. */
struct pt_pve_current {
	bool exists;                     /* false: there is no mapping with this id */
	struct pt_pve_mapping mapping;   /* what pvesh returned (owned) */
	char digest[PT_PVE_DIGEST_SIZE]; /* the file's digest for `pvesh set --digest`;
	                                    "" when pvesh gave none */
};

void pt_pve_current_release(struct pt_pve_current *cur);

/* Read mapping `name`: `pvesh get /cluster/mapping/pci/NAME`. It exists when
 * pvesh prints it; it is absent only when pvesh answers as Proxmox does for a
 * missing mapping (pt_pvesh_no_such_mapping). Any other outcome (pvesh could not
 * be executed, was killed or timed out, or failed otherwise) is a failure: never
 * taken for "absent", where check mode would predict a create the real run
 * cannot do. pvesh's warnings (about pci.cfg) go to sh->rep (once).
 * Returns 0 with cur filled (release with pt_pve_current_release), or -errno with
 * cur empty and sh->rep's failure for the user, naming the command and its error
 * output; a failed pvesh call is then in sh->failure. */
int pt_pve_current_read(struct pt_pvesh *sh, const char *name, struct pt_pve_current *cur);

#endif
