/* Layer: boot family (grub_iommu). Included by boot_cmdline_plan.h,
 * boot_update.h, grub_iommu_run.h and the family's unit tests.
 *
 * Which boot loader takes the kernel command line on a (Proxmox) host, and so
 * which file the module must edit.
 *
 *   GRUB          /etc/default/grub, applied by update-grub
 *   systemd-boot  /etc/kernel/cmdline, applied by proxmox-boot-tool refresh
 *                 (Proxmox VE on ZFS root booted with UEFI, without Secure Boot)
 *
 * proxmox-boot-tool keeps the ESPs it manages in /etc/kernel/proxmox-boot-uuids;
 * its `status` prints one "<uuid> is configured with: uefi|grub (versions...)"
 * line per ESP and exits 2 ("E: /etc/kernel/proxmox-boot-uuids does not exist.")
 * on plain GRUB hosts. On proxmox-boot-tool hosts that use GRUB, update-grub
 * itself defers to proxmox-boot-tool, so GRUB's way is right there too. */
#ifndef PT_BOOT_LOADER_H
#define PT_BOOT_LOADER_H

#include <stdbool.h>

#include "report.h"

enum pt_boot_loader {
	PT_BOOT_GRUB,
	PT_BOOT_SYSTEMD_BOOT,
};

struct pt_boot_detection {
	enum pt_boot_loader loader;
	char *reason;           /* how it was decided, one sentence for users (owned) */
	bool ran_status;        /* `proxmox-boot-tool status` was run */
	bool proxmox_boot_tool; /* the ESPs are managed by proxmox-boot-tool */
};

/* "grub" / "systemd-boot". Static. */
const char *pt_boot_loader_name(enum pt_boot_loader loader);

/* The file that holds the command line for loader: "/etc/default/grub" or
 * "/etc/kernel/cmdline" (inside the root). Static. */
const char *pt_boot_loader_cmdline_path(enum pt_boot_loader loader);

/* Decide from files under root alone: systemd-boot when
 * <root>/etc/kernel/proxmox-boot-uuids lists an ESP, <root>/sys/firmware/efi
 * exists (booted with UEFI, so proxmox-boot-tool sets up systemd-boot) and
 * <root>/etc/kernel/cmdline exists; GRUB otherwise. Never fails (-ENOMEM aside). */
int pt_boot_loader_detect_files(const char *root, struct pt_boot_detection *d);

/* Decide as a real run should: when proxmox-boot-tool exists inside root, run
 * `proxmox-boot-tool status` there (chrooted unless root is "/", timeout
 * timeout_sec) and read its ESP lines — any `grub` ESP → GRUB, all `uefi` →
 * systemd-boot, exit 2 → GRUB; when it is missing, prints no ESP line, or fails
 * otherwise, fall back to pt_boot_loader_detect_files. What is odd about the
 * answer (the failure, no ESP line, ESPs of both kinds) becomes a warning in
 * rep. `status` mounts the ESPs for a moment, so check mode uses
 * pt_boot_loader_detect_files instead. 0 or -ENOMEM. */
int pt_boot_loader_detect(const char *root, int timeout_sec, struct pt_boot_detection *d,
                          struct pt_report *rep);

/* The boot loader for one run. option "grub" or "systemd-boot" decides by
 * itself (reason: "set by the bootloader option"); "auto" (or NULL) detects:
 * from files alone in check mode (pt_boot_loader_detect_files), as a real run
 * otherwise (pt_boot_loader_detect, whose warnings go to rep). 0 or -ENOMEM;
 * release d in every case. */
int pt_boot_loader_choose(const char *root, const char *option, bool check_mode, int timeout_sec,
                          struct pt_boot_detection *d, struct pt_report *rep);

void pt_boot_detection_release(struct pt_boot_detection *d);

#endif
