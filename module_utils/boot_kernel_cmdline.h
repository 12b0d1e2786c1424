/* Layer: boot family (grub_iommu). Included by boot_cmdline_plan.c and the
 * tests and fuzz harness of the format.
 *
 * /etc/kernel/cmdline: the kernel command line of Proxmox hosts that boot with
 * systemd-boot (proxmox-boot-tool copies it into every ESP's loader entries).
 *
 * proxmox-boot-tool reads only the FIRST line of the file (its get_first_line)
 * and refuses a command line without `root=`. So the module accepts exactly one
 * line — optionally followed by a newline and empty lines — that holds a `root=`
 * parameter, and refuses everything else with the reason:
 *   - parameters on several lines (kernel-install style, corpus 004): the lines
 *     after the first never reach the kernel on Proxmox;
 *   - `#` comment lines (corpus 007, 009): the kernel does not know comments,
 *     and a comment first line would become the command line;
 *   - no `root=` (corpus 005): `proxmox-boot-tool refresh` would fail.
 * Editing keeps every other byte: the separators, a trailing blank, the final
 * newline or its absence. */
#ifndef PT_BOOT_KERNEL_CMDLINE_H
#define PT_BOOT_KERNEL_CMDLINE_H

#include <stddef.h>

#include "report.h"

struct pt_boot_kernel_cmdline {
	const char *text; /* the file (borrowed) */
	size_t len;
	size_t line_end; /* end of the first line (its newline or the end of text) */
	char *line;      /* the first line without its newline (owned) */
};

/* Check text[0..len) (a NUL must follow it) as /etc/kernel/cmdline. 0 with k
 * filled in; -EINVAL with the failure recorded in rep (it names label, the
 * line and what to do); -ENOMEM. Release k with pt_boot_kernel_cmdline_release
 * in every case. */
int pt_boot_kernel_cmdline_parse(const char *text, size_t len, const char *label,
                                 struct pt_boot_kernel_cmdline *k, struct pt_report *rep);
void pt_boot_kernel_cmdline_release(struct pt_boot_kernel_cmdline *k);

/* The file with its first line replaced by line (which must hold `root=` and
 * no newline, or -EINVAL with the failure recorded in rep). Returns 0 with
 * *out (caller frees) and *out_len; -ENOMEM. */
int pt_boot_kernel_cmdline_set(const struct pt_boot_kernel_cmdline *k, const char *line,
                               const char *label, char **out, size_t *out_len,
                               struct pt_report *rep);

#endif
