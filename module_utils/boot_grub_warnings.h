/* Layer: boot family (grub_iommu). Included by boot_cmdline_plan.c alone.
 *
 * What the user should know about /etc/default/grub beyond the one value the
 * module edits, because it also decides what boots:
 *   - GRUB_CMDLINE_LINUX_DEFAULT set several times (the last one is edited);
 *   - GRUB_CMDLINE_LINUX, which grub-mkconfig puts on the command line too,
 *     holding a key this run changes (or removes);
 *   - a /etc/default/grub.d/NAME.cfg drop-in, sourced after the file in name
 *     order, that sets GRUB_CMDLINE_LINUX_DEFAULT outright and so wins. */
#ifndef PT_BOOT_GRUB_WARNINGS_H
#define PT_BOOT_GRUB_WARNINGS_H

#include <stdbool.h>
#include <stddef.h>

#include "boot_grub_default.h"
#include "report.h"

/* The variable the module edits in GRUB's defaults. */
#define PT_BOOT_GRUB_CMDLINE_VARIABLE "GRUB_CMDLINE_LINUX_DEFAULT"

/* Append to rep's warnings one message per finding, in the order above. g is path's
 * parse for PT_BOOT_GRUB_CMDLINE_VARIABLE (its text is read again for
 * GRUB_CMDLINE_LINUX); items[0..n) are the parameters (present) or keys
 * (absent) this run asks for. Drop-ins are looked for under root only when path
 * is /etc/default/grub. Reads files, changes nothing, never fails: what cannot
 * be read or allocated is not warned about. */
void pt_boot_grub_warnings_check(const char *root, const char *path,
                                 const struct pt_boot_grub_default *g, const char *const *items,
                                 size_t n, bool present, struct pt_report *rep);

#endif
