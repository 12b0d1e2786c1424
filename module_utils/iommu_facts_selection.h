/* Layer: module run (iommu_facts). Included by iommu_facts_run.c and tests.
 *
 * The verdict (readiness.h) for the devices a caller is about to hand to
 * vfio-pci: iommu_facts' `devices`, `bound_ids` and `after_reboot` options,
 * which the role's preflight and verify stages set to the selection vfio_bind
 * made. Each selected device's entry in facts.devices gains the keys of
 * pt_readiness_evaluate's object (readiness, findings, unknown), judged with
 *   group:     the endpoints of the device's IOMMU group that are not selected
 *              ({isolated, intruders}; isolated null while the device is in no
 *              group, i.e. the IOMMU is off);
 *   bound_ids: the IDs vfio-pci is given (the option; else every selected
 *              device's own vendor:device ID);
 *   after_reboot: the option (adds not-on-vfio-yet);
 * and the facts gain, at the top level,
 *   selection: {devices: [the selected addresses, canonical, sorted],
 *               bound_ids: [...], after_reboot: bool,
 *               readiness: the worst verdict of the selection (blocked, then
 *                          needs_action, then ready), null when it is empty}.
 * Without a selection, selection is {devices: [], bound_ids: [...],
 * after_reboot, readiness: null} and no device gains a verdict. */
#ifndef PT_IOMMU_FACTS_SELECTION_H
#define PT_IOMMU_FACTS_SELECTION_H

#include <jansson.h>

#include "iommu.h"
#include "pci.h"
#include "report.h"

/* Judge opts->devices (addresses as users write them: "0000:07:00.0",
 * "07:00.0", a slot "0000:07:00" for every function of it) in facts (built
 * from host, with the evidence of device_evidence.h; changed in place).
 * Returns 0, -EINVAL with the message in rep for an entry that is no address
 * or names no device of the host and for a bound_ids entry that is no
 * vendor:device ID, or -ENOMEM. */
int pt_iommu_facts_judge(json_t *facts, const struct pt_pci_host *host,
                         const struct pt_iommu_facts_opts *opts, struct pt_report *rep);

#endif
