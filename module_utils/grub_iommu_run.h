/* Layer: module run (grub_iommu). Included by modules/grub_iommu.c and the
 * tests that run the module without a process.
 *
 * One grub_iommu run: IOMMU (and other) parameters on the kernel command line
 * the host boots with next — /etc/default/grub for GRUB, /etc/kernel/cmdline
 * for Proxmox systemd-boot — and the boot configuration regenerated (docs in
 * modules/grub_iommu.yml).
 *
 * The steps, each in the file named for it:
 *   boot_iommu_params     the parameters asked for, checked; the IOMMU vendor
 *   boot_loader           the boot loader, and so the file to edit
 *   boot_cmdline_plan     the file read and its edit planned, with warnings;
 *                         refused when the command line would outgrow what the
 *                         kernel keeps
 *   boot_reboot_required  whether the running kernel (/proc/cmdline) lacks it
 *   boot_update           not in check mode: the file written and update-grub
 *                         or proxmox-boot-tool refresh run, also when an
 *                         earlier run's regeneration failed (its pending
 *                         marker is there)
 * Check mode goes through the same steps and stops short of every write and
 * every command but the boot loader's detection from files. */
#ifndef PT_GRUB_IOMMU_RUN_H
#define PT_GRUB_IOMMU_RUN_H

#include <stdbool.h>

#include "boot_cmdline_plan.h"
#include "boot_loader.h"
#include "boot_opts.h"
#include "exec.h"
#include "report.h"

/* What a run found and did. Its strings are owned unless said otherwise; the
 * plan borrows root and path from the options, so release the result before
 * the options' owner goes. */
struct pt_grub_iommu_result {
	bool changed; /* the file changes or a pending regeneration is due (or would be,
	                 in check mode); false after a failure to mark or write */
	bool planned; /* the run got as far as the plan: the result keys below are known
	                 (false: it stopped before, and only the report says why) */
	struct pt_boot_detection boot;    /* the boot loader and why */
	struct pt_boot_cmdline_plan plan; /* the file before and after, what changes */
	const char *vendor;               /* "intel", "amd" or "none" (static or borrowed) */
	bool reboot_required;             /* the running kernel lacks what was asked */
	bool regenerate_pending;          /* an earlier run's regeneration never succeeded */
	const char *update_command;       /* the regeneration due, as the user would type
	                                     it (static); NULL when none is */
	char *backup_file;                /* the backup made, as the host sees it, or NULL */
	bool update_ran;                  /* the regeneration command was run: update */
	struct pt_exec_result update;     /* ... and its rc, stdout and stderr */
	struct pt_report report;          /* warnings, the diff, the failure message */
};

/* Run with opts. Returns 0, or a negative errno with the message for the user
 * in res->report.msg (NULL only when memory ran out before it could be
 * written: say "out of memory"). res is filled either way, with what was known
 * when the run stopped; release it with pt_grub_iommu_result_release. */
int pt_grub_iommu_run(const struct pt_grub_iommu_opts *opts, struct pt_grub_iommu_result *res);

void pt_grub_iommu_result_release(struct pt_grub_iommu_result *res);

struct pt_module;

/* The module's options into o (strings and params borrowed from m's
 * parameters). Returns 0, or -1 when one is refused (a timeout out of range, a
 * relative path): m is then marked failed with the reason. */
int pt_grub_iommu_opts_read(struct pt_module *m, struct pt_grub_iommu_opts *o);

/* Put a run's outcome into the module's result: changed and the result keys
 * of RETURN in their order, when the run got as far as the plan; then the
 * warnings, the diff, and the failure message when ret < 0. What
 * modules/grub_iommu.c's main does. */
void pt_grub_iommu_result_to_module(struct pt_module *m, int ret,
                                    const struct pt_grub_iommu_result *res);

#endif
