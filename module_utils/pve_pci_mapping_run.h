/* Layer: module runs (NAME_run). Included by modules/pve_pci_mapping.c and the
 * pve unit tests; no library file includes it.
 *
 * One pve_pci_mapping run: check the options, work out the wanted entries, then
 * read the mapping, plan, and write through pvesh, again and again while other
 * nodes win the race for /etc/pve/mapping/pci.cfg (random back-off between
 * tries). Docs in modules/pve_pci_mapping.yml, the rules in docs/architecture.md.
 *
 * The steps, each in the file named for it:
 *   pve_mapping_opts    the options and the checks the argument spec cannot make
 *   pve_mapping_wanted  the entries wanted: from the devices and the hardware
 *                       (pve_mapping_hw), or the map option
 *   pve_mapping_read    the mapping as pvesh shows it (pvesh.h runs pvesh)
 *   pve_mapping_plan    the action, the mapping afterwards, the pvesh command
 * Check mode goes through the same steps and runs only `pvesh get`; the command a
 * change needs is built and checked against the kernel's argument limits in both
 * (pt_pve_plan_command_check), so check mode refuses what the real run cannot do.
 * Nothing here prints or exits. */
#ifndef PT_PVE_PCI_MAPPING_RUN_H
#define PT_PVE_PCI_MAPPING_RUN_H

#include <stdbool.h>

#include <jansson.h>

#include "pve_mapping_opts.h"
#include "pve_mapping_plan.h"
#include "report.h"

struct pt_pve_pci_mapping_result {
	char *node;                /* the node name used; NULL when it is not known (owned) */
	enum pt_pve_action action; /* what was done, or would be done in check mode */
	int retries;               /* how often a write was retried after a lost race */
	json_t *mapping;           /* the mapping afterwards as pvesh shows it (without
	                              `type`), or JSON null when there is none (owned) */
	char *summary;             /* what was done (or would be), in words, for the
	                              result's msg; NULL on failure (owned) */
	json_t *commands;          /* the pvesh calls that changed something: array of argv arrays
	                              (owned; empty in check mode) */
	struct pt_report report;   /* warnings; the diff: the mapping's section of pci.cfg
	                              before and after the action, headed
	                              "/etc/pve/mapping/pci.cfg [NAME]", when there is an
	                              action; the failure message; and as facts the pvesh
	                              call the run failed on: cmd, rc, stdout, stderr */
};

/* Run with o. Returns 0 with action, retries, mapping, summary and the diff set;
 * or -errno with the message for the user in res->report.msg (NULL only when
 * memory ran out before it could be written: say "out of memory"), action,
 * mapping, summary and the diff unset. node, commands, the warnings and the facts
 * are filled either way. Release res with pt_pve_pci_mapping_result_release in
 * both cases. */
int pt_pve_pci_mapping_run(const struct pt_pve_pci_mapping_opts *o,
                           struct pt_pve_pci_mapping_result *res);

void pt_pve_pci_mapping_result_release(struct pt_pve_pci_mapping_result *res);

struct pt_module;

/* The module's options into o (strings and arrays borrowed from m's parameters).
 * Returns 0, or -1 when one is refused (a timeout out of range): m is then marked
 * failed with the reason. */
int pt_pve_pci_mapping_opts_read(struct pt_module *m, struct pt_pve_pci_mapping_opts *o);

/* Put a run's outcome into the module's result (new references taken; res keeps
 * its own): after a success changed, msg, action, retries and mapping; after a
 * failure the message; then node and commands; then the warnings, the diff and the
 * facts. What modules/pve_pci_mapping.c's main and the tests that run it without a
 * process both do. */
void pt_pve_pci_mapping_result_to_module(struct pt_module *m, int ret,
                                         const struct pt_pve_pci_mapping_result *res);

#endif
