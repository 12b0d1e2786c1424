/* Layer: module run (iommu_facts). Included by modules/iommu_facts.c and tests.
 *
 * One iommu_facts run: ansible_facts.iommu of a root, read-only (docs in
 * modules/iommu_facts.yml). The facts are iommu.h's, with the evidence of
 * device_evidence.h, each GPU's verdict (readiness.h) and the verdict of the
 * selected devices (iommu_facts_selection.h); this file takes the
 * options from Ansible (pt_iommu_facts_opts_read) or from a shell
 * (pt_iommu_facts_cli), runs, and hands the outcome on: into the module's
 * result, or printed as the table (iommu_facts_table.h) or as JSON. */
#ifndef PT_IOMMU_FACTS_RUN_H
#define PT_IOMMU_FACTS_RUN_H

#include <jansson.h>

#include "iommu.h"
#include "report.h"

struct pt_iommu_facts_result {
	json_t *facts;           /* ansible_facts.iommu (owned); NULL after a failure */
	struct pt_report report; /* the failure message */
};

/* Run with opts (opts->root an existing directory: pt_module_init and the
 * shell mode check it). Returns 0, or a negative errno with the message for
 * the user in res->report.msg (NULL when memory ran out before the scan could
 * say why). res is filled either way; release it with
 * pt_iommu_facts_result_release. */
int pt_iommu_facts_run(const struct pt_iommu_facts_opts *opts, struct pt_iommu_facts_result *res);

void pt_iommu_facts_result_release(struct pt_iommu_facts_result *res);

struct pt_module;

/* The module's options into o (root, devices and bound_ids borrowed from m's
 * parameters). Returns 0: what pt_module_init leaves unchecked (an address
 * that names no device, an ID that is none) the run refuses, with the host's
 * devices at hand; the -1 of the other modules' opts_read (m marked failed)
 * cannot happen. */
int pt_iommu_facts_opts_read(struct pt_module *m, struct pt_iommu_facts_opts *o);

/* Put a run's outcome into the module's result: the failure message when
 * ret < 0, otherwise ansible_facts.iommu (a new reference; res keeps its own)
 * and changed=false. What modules/iommu_facts.c's main and the tests that run
 * it without a process both do. */
void pt_iommu_facts_result_to_module(struct pt_module *m, int ret,
                                     const struct pt_iommu_facts_result *res);

/* iommu_facts from a shell, the command line the module binary has beside
 * every module's (pt_module_cli):
 *     iommu_facts --root DIR [--json]    the table of DIR's groups and devices
 *     iommu_facts --json [--root DIR]    the facts as JSON ("/" by default)
 * Returns -1 when argv is not this mode (argv[1] is not an option starting
 * with "--", or is --help: pt_module_cli answers those); otherwise runs and
 * returns the exit code main returns: 0, 1 when the facts cannot be gathered
 * (the reason on stderr), 2 for an unknown argument (with the usage). Prints
 * (stdout, stderr), as pt_module_cli does: the one place of this file that
 * does. usage is borrowed. */
int pt_iommu_facts_cli(int argc, char **argv, const char *usage);

#endif
