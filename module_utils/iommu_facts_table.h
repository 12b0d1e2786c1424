/* Layer: module run (iommu_facts). Included by iommu_facts_run.c and tests.
 *
 * The text `iommu_facts --root DIR` prints: the kernel and IOMMU state, then
 * every IOMMU group with its devices (group, address, [vendor:device] IDs,
 * class, names, driver, as ls-iommu shows them), the devices outside any
 * group, and each GPU with whether its group is its own. Made from
 * ansible_facts.iommu alone, so the table never says what the facts do not;
 * written into a buffer, never printed here. */
#ifndef PT_IOMMU_FACTS_TABLE_H
#define PT_IOMMU_FACTS_TABLE_H

#include <jansson.h>

#include "strbuf.h"

/* Append the table of facts (ansible_facts.iommu, borrowed) to out. 0, or
 * -ENOMEM (out->oom set; what was appended before stays). */
int pt_iommu_facts_table(json_t *facts, struct pt_strbuf *out);

#endif
