/* Layer: boot family (grub_iommu). Included by boot_update.h,
 * grub_iommu_run.h and the family's unit tests.
 *
 * The kernel command line file of a grub_iommu run, read and planned: the file
 * as it is, the file as it should be, and what changes between them.
 *
 *   GRUB          /etc/default/grub: the value of GRUB_CMDLINE_LINUX_DEFAULT
 *                 (boot_grub_default.h), other bytes untouched
 *   systemd-boot  /etc/kernel/cmdline: its one line (boot_kernel_cmdline.h)
 *
 * Planning writes nothing: check mode and a real run compute the same plan, and
 * only a real run hands it to boot_update.h. */
#ifndef PT_BOOT_CMDLINE_PLAN_H
#define PT_BOOT_CMDLINE_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "boot_iommu_params.h"
#include "boot_loader.h"
#include "boot_opts.h"
#include "cmdline.h"
#include "report.h"

/* What the boot loader puts on the kernel command line besides the text the
 * module edits, allowed for: GRUB's 10_linux writes `BOOT_IMAGE=<kernel> root=
 * <device> ro` in front (67 bytes for BOOT_IMAGE=/boot/vmlinuz-6.8.12-4-pve
 * root=/dev/mapper/pve-root ro, 93 with a separate /boot partition and
 * root=UUID=...); systemd-boot adds `initrd=\EFI\proxmox\<version>\initrd.img-
 * <version>` (57 bytes) to the line of /etc/kernel/cmdline. 256 bytes is more
 * than twice the longest of these: room for a longer kernel version, device
 * path or a second initrd, while leaving the user 1791 bytes. */
#define PT_BOOT_CMDLINE_LOADER_ALLOWANCE 256

/* The longest command line (as the file gives it) a run may leave: what the
 * kernel keeps without its NUL, less the boot loader's part. A run that would
 * make it longer than this, and longer than it was, is refused. */
#define PT_BOOT_CMDLINE_MAX_LENGTH (PT_CMDLINE_KERNEL_SIZE - 1 - PT_BOOT_CMDLINE_LOADER_ALLOWANCE)

struct pt_boot_cmdline_plan {
	enum pt_boot_loader loader;   /* the file's format */
	const char *root;             /* the host's root directory (borrowed) */
	const char *path;             /* the file inside root, for messages (borrowed) */
	char *full_path;              /* root + path (owned) */
	char *before;                 /* the file as read, NUL-terminated (owned) */
	size_t before_len;            /* its length */
	char *after;                  /* the file as it should be, NUL-terminated (owned) */
	size_t after_len;             /* its length */
	char *cmdline_before;         /* the command line value in before (owned) */
	char *cmdline_after;          /* the same in after (owned) */
	struct pt_cmdline_change chg; /* parameters added and removed (owned) */
};

/* Zero p and read <root>/<path>, a file in loader's format, into it. 0; on
 * failure -errno with the failure recorded in rep (nothing recorded only when
 * out of memory): -ENOENT says what the missing file means for loader (reason
 * is how the boot loader was chosen, quoted for GRUB), others "cannot read
 * PATH: ...". root, path and reason are borrowed for the call; root and path
 * must outlive p. Release p with pt_boot_cmdline_plan_release in every case. */
int pt_boot_cmdline_plan_read(struct pt_boot_cmdline_plan *p, const char *root, const char *path,
                              enum pt_boot_loader loader, const char *reason,
                              struct pt_report *rep);

/* Plan req against the file p holds (after a successful pt_boot_cmdline_plan_read):
 * parse it, edit its command line
 * (pt_cmdline_edit: ENSURE for present, REMOVE for absent, with the items of
 * pt_boot_iommu_params_wanted), render the new file, and add the warnings to
 * rep in the order found (amd_iommu= values that do nothing or turn the IOMMU
 * off; for GRUB those of boot_grub_warnings.h; they stay when planning fails).
 * Sets cmdline_before/after, chg, after/after_len (a copy of before when the
 * command line stays). 0, or -errno with the failure recorded in rep, saying
 * what cannot be edited and what to do ("cannot edit PATH: ..." when no step
 * said more).
 * The kernel command line the file gives — for GRUB GRUB_CMDLINE_LINUX, a
 * blank and GRUB_CMDLINE_LINUX_DEFAULT (as far as the file shows them), for
 * systemd-boot the line — must not grow past PT_BOOT_CMDLINE_MAX_LENGTH: -EINVAL
 * naming the file, the length and the limit. One that is that long already and
 * does not grow is planned, with a warning. */
int pt_boot_cmdline_plan_edit(struct pt_boot_cmdline_plan *p,
                              const struct pt_boot_iommu_request *req, struct pt_report *rep);

/* The planned file differs from the one read. */
bool pt_boot_cmdline_plan_changed(const struct pt_boot_cmdline_plan *p);

void pt_boot_cmdline_plan_release(struct pt_boot_cmdline_plan *p);

#endif
