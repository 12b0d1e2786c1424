/* One pve_pci_mapping run: check the request, work out the wanted entries, then
 * read the mapping, plan, and write through pvesh, again and again while other
 * nodes win the race for /etc/pve/mapping/pci.cfg (random back-off between
 * tries). Everything the module reports comes back in a struct pt_pve_outcome;
 * nothing here prints or exits. */
#ifndef PT_PVE_MAPPING_SYNC_H
#define PT_PVE_MAPPING_SYNC_H

#include <stdbool.h>

#include <jansson.h>

#include "pve_mapping_plan.h"
#include "pve_mapping_request.h"

struct pt_pve_outcome {
	char *node;                /* the node name used; NULL when it is not known (owned) */
	enum pt_pve_action action; /* what was done, or would be done in check mode */
	int retries;               /* how often a write was retried after a lost race */
	json_t *mapping;           /* the mapping afterwards as pvesh shows it (without
	                              `type`), or JSON null when there is none (owned) */
	char *summary;             /* what was done (or would be), in words, for the
	                              result's msg; NULL on failure (owned) */
	char *diff_before;         /* the mapping's section of pci.cfg before and after the
	                              action; both NULL when the action is none (owned) */
	char *diff_after;
	json_t *commands; /* the pvesh calls that changed something: array of argv arrays
	                     (owned; empty in check mode) */
	json_t *failure;  /* {cmd, rc, stdout, stderr} of the pvesh call the run failed
	                     on, or NULL (owned) */
	json_t *warnings; /* array of messages for the user, in the order they arose (owned) */
	char *msg;        /* why the run failed; NULL on success (owned) */
};

/* Run req. In check mode only `pvesh get` runs, and out predicts exactly what a
 * real run reports (action, mapping, diff); the pvesh command a change needs is
 * built and checked against the kernel's argument limits in both
 * (pt_pve_plan_command_check), so check mode refuses what the real run cannot do. Returns 0 with
 * action, retries, mapping and the diff set; or -errno with out->msg set to the message for the
 * user (NULL when out of memory), action, mapping and the diff unset. node,
 * commands, failure and warnings are filled either way. Release out with
 * pt_pve_outcome_release in both cases. */
int pt_pve_sync(const struct pt_pve_request *req, bool check_mode, struct pt_pve_outcome *out);

void pt_pve_outcome_release(struct pt_pve_outcome *out);

#endif
