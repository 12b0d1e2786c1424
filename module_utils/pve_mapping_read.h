/* Reading one cluster PCI mapping through pvesh, telling "there is none" from
 * "pvesh failed" without relying on the wording of pvesh's errors. */
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

/* Read mapping `name`: `pvesh get /cluster/mapping/pci/NAME`; when that fails, the
 * list (`pvesh get /cluster/mapping/pci`) tells whether there is none, or whether
 * another node created it between the two calls (then both are tried again, up to
 * 5 times). pvesh's warnings on a successful read go to sh->warnings (once).
 * Returns 0 with cur filled (release with pt_pve_current_release), or -errno with
 * cur empty and *msg (caller frees; NULL when out of memory) for the user; a
 * failed pvesh call is then in sh->failure. */
int pt_pve_current_read(struct pt_pvesh *sh, const char *name, struct pt_pve_current *cur,
                        char **msg);

#endif
