/* Layer: pve_pci_mapping family (pve_mapping_*, pvesh). Included by
 * pve_pci_mapping_run and the pve unit tests.
 *
 * From the mapping as read and the entries wanted to the mapping as it should be,
 * the action that gets there (create, update, delete, nothing) and the pvesh
 * command for it. Pure decisions: no I/O (but the hardware check, which reads the
 * devices once through pve_mapping_hw). */
#ifndef PT_PVE_MAPPING_PLAN_H
#define PT_PVE_MAPPING_PLAN_H

#include <stdbool.h>

#include "pve_mapping.h"
#include "pve_mapping_hw.h"
#include "pve_mapping_opts.h"
#include "pve_mapping_read.h"
#include "pve_mapping_wanted.h"

enum pt_pve_action { PT_PVE_NONE, PT_PVE_CREATE, PT_PVE_UPDATE, PT_PVE_DELETE };

/* "none", "create", "update", "delete": the result's `action`. Static string. */
const char *pt_pve_action_name(enum pt_pve_action action);

struct pt_pve_plan {
	enum pt_pve_action action;
	struct pt_pve_mapping target; /* the mapping after the action: with nothing to do,
	                                 exactly as stored; id NULL when there is none
	                                 afterwards (owned) */
};

void pt_pve_plan_release(struct pt_pve_plan *plan);

/* Proxmox's check at VM start on each of node's entries in the current mapping.
 * Returns true when one fails (the map then needs rewriting). Each failure is a
 * warning in rep, with what the run does about it (from o's state and map_mode),
 * unless rep is NULL (the caller warned already). */
bool pt_pve_plan_check_existing(const struct pt_pve_pci_mapping_opts *o, const char *node,
                                const struct pt_pve_current *cur, struct pt_pve_hw *hw,
                                struct pt_report *rep);

/* The plan for o on `node` with the wanted entries w, against cur:
 * - map_mode=node: other nodes' entries stay as stored and where they are; this
 *   node's are replaced by w's (state=present; each keeping the per-entry
 *   description an existing entry at the same path has) or removed (state=absent:
 *   the mapping is deleted when no entry is left);
 * - map_mode=exact: the map is w (state=present), or the mapping is deleted;
 * - description, mdev and live-migration-capable are set when given (the
 *   description without the blanks around it, as Proxmox reads it back; blanks
 *   only removes it);
 * - compared semantically (entry and key order, hex case, number spelling and an
 *   unset flag versus 0 do not count); hw_failing (from
 *   pt_pve_plan_check_existing) forces an update in map_mode=node, state=present.
 * Returns 0 with plan filled, or -ENOMEM; release plan with pt_pve_plan_release
 * either way. */
int pt_pve_plan_make(const struct pt_pve_pci_mapping_opts *o, const char *node,
                     const struct pt_pve_wanted *w, const struct pt_pve_current *cur,
                     bool hw_failing, struct pt_pve_plan *plan);

/* What the run did (or, in check mode, would do), in words for the result's
 * msg: "created mapping gpu with node pve1's entry 0000:07:00 (10de:1c82, IOMMU
 * group 14)", "updated mapping gpu: description set to '...'", "removed mapping
 * gpu", "no change: ...". cur and plan as given to and made by pt_pve_plan_make.
 * Caller frees; NULL when out of memory. */
char *pt_pve_plan_describe(const struct pt_pve_pci_mapping_opts *o, const char *node,
                           const struct pt_pve_current *cur, const struct pt_pve_plan *plan);

/* The pvesh command for plan->action (not PT_PVE_NONE): create with --id, set with
 * the full --map list and --digest of cur, or delete; --description (or --delete
 * description), --mdev and --live-migration-capable only when req gives them.
 * `api` is PT_PVESH_PCI_API "/NAME". Returns a NULL-terminated argv (caller frees
 * the array; the strings are borrowed from o, plan, cur and api), or NULL when
 * out of memory. */
const char **pt_pve_plan_command(const struct pt_pve_pci_mapping_opts *o,
                                 const struct pt_pve_plan *plan, const struct pt_pve_current *cur,
                                 const char *api);

/* Whether argv (from pt_pve_plan_command) can run as one command on this host
 * (pt_pvesh_argspace: each argument within the kernel's MAX_ARG_STRLEN, all of
 * them within the argument space). Check mode runs it on the same argv the real
 * run would execute, so both refuse alike. Returns 0; -E2BIG with rep's failure
 * saying the mapping is too large for one pvesh call, with the entries and bytes;
 * -ENOMEM. */
int pt_pve_plan_command_check(const char *const argv[], struct pt_report *rep);

#endif
