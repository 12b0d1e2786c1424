/* Layer: family (iommu facts), the lowest header of iommu_facts: the options
 * struct lives here. Included by iommu_facts_run.h and by tests.
 *
 * IOMMU facts of a host (or of a root that looks like one): whether an IOMMU
 * is on and whose, the kernel command line's IOMMU parameters, the VFIO
 * modules, the IOMMU groups, every PCI device, and the GPUs with their
 * same-slot functions and whether their groups are theirs alone.
 *
 * The facts' shape is the stable API documented in modules/iommu_facts.yml
 * (RETURN). The group helpers below are what the gpus section is made of;
 * vfio_bind's refusal of a shared group applies the same rule with its own
 * helper (vfio_safety.h, pt_safety_group_intruders), not with these. */
#ifndef PT_IOMMU_H
#define PT_IOMMU_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "pci.h"
#include "report.h"

/* The module's options, validated (see modules/iommu_facts.yml). Strings are
 * borrowed from the caller for the length of the run. */
struct pt_iommu_facts_opts {
	const char *root;        /* the host's root directory, "/" for the host */
	bool check;              /* check mode: the facts are read either way */
	const json_t *devices;   /* the selection to judge (iommu_facts_selection.h):
	                          * address strings; NULL or []: none */
	const json_t *bound_ids; /* vendor:device IDs vfio-pci is given; NULL: the
	                          * selected devices' own */
	bool after_reboot;       /* judge the selection as the verify stage does */
};

/* Gather ansible_facts.iommu for root ("/" for the live host). Returns 0 and
 * *facts (new reference), or -errno with *facts NULL and the reason in rep
 * (pt_report_fail) when the PCI devices cannot be read (libpci's error, for
 * instance; out of memory before the scan began leaves rep without a message,
 * as pt_pci_scan says). Missing or unreadable attributes are null fields,
 * never an error; a root without an IOMMU gives enabled=false and no groups. */
int pt_iommu_facts(const char *root, json_t **facts, struct pt_report *rep);

/* The same from an existing scan of that root (borrowed). New reference. */
json_t *pt_iommu_facts_from_scan(const char *root, const struct pt_pci_host *host);

/* Display controllers of any kind: class 0x03xx (VGA 0x0300, XGA 0x0301,
 * 3D 0x0302, other 0x0380). */
bool pt_iommu_is_gpu(const struct pt_pci_device *dev);

/* Addresses (sorted) of the scanned devices in IOMMU group `group`. New
 * reference: an array of strings, empty when group < 0 or nobody is in it. */
json_t *pt_iommu_group_devices(const struct pt_pci_host *host, int group);

/* Addresses (sorted) of the functions in slot "dddd:bb:ss". New reference. */
json_t *pt_iommu_slot_functions(const struct pt_pci_host *host, const char *slot);

/* The endpoints that share an IOMMU group with any of the selected devices
 * (addresses[0..n), canonical) without being selected themselves: what keeps
 * a group from being handed to a guest whole. Bridges do not count (they stay
 * with the host); selected devices outside any group add nothing. New
 * reference: sorted addresses, no duplicates; empty when the selection's
 * groups are its own. */
json_t *pt_iommu_intruders(const struct pt_pci_host *host, const char *const addresses[], size_t n);

/* The IOMMU-related kernel parameters of a command line, as reported in
 * cmdline.params: names with '-' read as '_' (as the kernel does), a flag as
 * true, a value as a string, a parameter given several times as the list of
 * its values. New reference (an empty object when there are none). */
json_t *pt_iommu_cmdline_params(const char *cmdline);

#endif
