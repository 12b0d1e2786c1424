/* Layer: boot family (grub_iommu). Included by the boot_* headers that plan or
 * check the command line (boot_cmdline_plan.h, boot_reboot_required.h), by
 * grub_iommu_run.c and the family's unit tests.
 *
 * Which kernel parameters a grub_iommu run asks for: the IOMMU vendor's
 * (intel_iommu=on), passthrough mode's (iommu=pt) and the user's own (params),
 * checked and turned into the list of items handed to pt_cmdline_edit.
 *
 * With state present the items are parameters to ensure; with state absent they
 * are keys to remove, so that the same task with absent undoes what present did.
 * AMD has no item: AMD-Vi is on by default and amd_iommu=on is not a valid value. */
#ifndef PT_BOOT_IOMMU_PARAMS_H
#define PT_BOOT_IOMMU_PARAMS_H

#include <stdbool.h>
#include <stddef.h>

#include "boot_opts.h"
#include "cmdline.h"
#include "report.h"

/* Check the params option: every item is a non-empty string (NULL counts as
 * empty) that fits on the kernel command line by itself (at most
 * PT_CMDLINE_KERNEL_SIZE - 1 bytes), without control characters, and holds
 * exactly one kernel parameter. 0, or -EINVAL with the failure recorded in
 * rep, naming the item (params[N]) and what to do. */
int pt_boot_iommu_params_check(const char *const *params, size_t n, struct pt_report *rep);

/* The vendor the run is for. option "intel", "amd" or "none" is taken as it is
 * (NULL means "none"); "auto" reads the vendor_id of <root>/proc/cpuinfo:
 * GenuineIntel → "intel", AuthenticAMD or HygonGenuine → "amd". On success 0
 * and *vendor is option or a static string. -EINVAL with the failure recorded
 * in rep when auto cannot tell (*vendor NULL). */
int pt_boot_iommu_params_vendor(const char *option, const char *root, const char **vendor,
                                struct pt_report *rep);

/* The items req asks for, against command line cl (the file's, or the running
 * kernel's when running is true). present: intel_iommu=on for Intel and
 * iommu=pt for passthrough mode, unless cl already holds a richer form of them
 * (one intel_iommu= whose comma-separated options include on, likewise iommu=
 * with pt; for the running kernel the last of several occurrences counts),
 * then every params item. absent: the keys intel_iommu (Intel) and iommu
 * (passthrough mode), then every params item.
 * Returns a NULL-terminated vector and its length in *n; the caller frees the
 * vector, whose strings are static or borrowed from req. NULL when out of memory. */
const char **pt_boot_iommu_params_wanted(const struct pt_boot_iommu_request *req,
                                         const struct pt_cmdline *cl, bool running, size_t *n);

/* value is a comma-separated list (as intel_iommu= and iommu= take) that holds
 * item exactly. */
bool pt_boot_iommu_params_list_has(const char *value, const char *item);

#endif
