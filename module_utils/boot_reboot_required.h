/* Layer: boot family (grub_iommu). Included by grub_iommu_run.c and the
 * family's unit tests.
 *
 * reboot_required: does the kernel that runs now lack what a grub_iommu run
 * asks for? The file the module edits only takes effect at the next boot, and
 * a run that changes nothing may still follow an earlier run whose reboot has
 * not happened yet, so the answer comes from /proc/cmdline, not from the edit.
 *
 * How the kernel sees its command line: a flag is there or not; for key=value
 * the last occurrence is what most parameters keep, but a key asked for with
 * several values (video=efifb:off video=vesafb:off) needs each of them. With
 * state absent any occurrence of a key still counts as there. Parameters after
 * a lone `--` belong to init and are not looked at. */
#ifndef PT_BOOT_REBOOT_REQUIRED_H
#define PT_BOOT_REBOOT_REQUIRED_H

#include "boot_iommu_params.h"

/* 1 when the running command line text (NUL-terminated, as /proc/cmdline
 * holds it) lacks an item req asks for, or still holds a key being removed;
 * 0 when it already matches; -ENOMEM. */
int pt_boot_reboot_required_cmdline(const char *running, const struct pt_boot_iommu_request *req);

/* The same for <root>/proc/cmdline. -errno when it cannot be read (callers
 * then fall back to "changed": the edit is all they know). */
int pt_boot_reboot_required(const char *root, const struct pt_boot_iommu_request *req);

#endif
