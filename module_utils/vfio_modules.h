/* Layer: vfio family (vfio_bind). Included by vfio_plan.c, and the tests and
 * fuzz harness of the modules file (test_modules_file.c, fuzz_modules_file.c).
 *
 * Which vfio modules vfio_bind lists for systemd-modules-load
 * (modules_file.h writes them): vfio, vfio_iommu_type1 and vfio_pci always,
 * vfio_virqfd only while an installed kernel still ships it as a module of its
 * own. */
#ifndef PT_VFIO_MODULES_H
#define PT_VFIO_MODULES_H

#include <jansson.h>

/* The vfio modules to list, in load order: vfio, vfio_iommu_type1, vfio_pci,
 * and vfio_virqfd when at least one installed kernel under root ships it as a
 * loadable module (modules.dep); since Linux 6.2 it is part of vfio.ko and
 * listing it only gives a load error at boot. New reference: an array of
 * strings. When kernels is not NULL it receives a new array of
 * {release, vfio_virqfd: "module"|"builtin"|"absent"} for the result. NULL
 * when out of memory. */
json_t *pt_vfio_modules_wanted(const char *root, json_t **kernels);

/* The same decision from the per-kernel states alone ("module", "builtin",
 * "absent" strings in kernel order), for callers that already have them. */
json_t *pt_vfio_modules_for_states(const json_t *virqfd_states);

#endif
