/* Layer: boot family (grub_iommu), its top: it includes the plan and the boot
 * loader. Included by grub_iommu_run.c and the family's unit tests.
 *
 * Applying a planned kernel command line: the file written atomically, then
 * the boot configuration regenerated from it —
 *   GRUB          update-grub (on proxmox-boot-tool hosts that use GRUB it
 *                 defers to proxmox-boot-tool itself)
 *   systemd-boot  proxmox-boot-tool refresh (copies the command line into
 *                 every ESP's loader entries)
 * Only a real run writes or runs anything: check mode stops at the plan.
 *
 * A regeneration that fails after the file was written must not be forgotten:
 * the next run finds the file right and would change nothing, and the host
 * would boot the old command line. So a real run that is about to change the
 * file (with update) first records PT_BOOT_UPDATE_PENDING, and only a
 * successful regeneration removes it; a run that finds it regenerates, file
 * change or not (as vfio_bind does for update-initramfs). A marker, not a look
 * at the generated configuration: the systemd-boot loader entries live on ESPs
 * that are not mounted (proxmox-boot-tool mounts them for a moment), GRUB's
 * recovery entries leave out GRUB_CMDLINE_LINUX_DEFAULT by design, and check
 * mode must predict the rerun from a read-only look. */
#ifndef PT_BOOT_UPDATE_H
#define PT_BOOT_UPDATE_H

#include <stdbool.h>

#include "boot_cmdline_plan.h"
#include "boot_loader.h"
#include "exec.h"
#include "report.h"

/* The pending-regeneration marker, under root (see above). */
#define PT_BOOT_UPDATE_PENDING "/var/lib/homelab-passthrough/grub_iommu.update-pending"

/* Whether <root>PT_BOOT_UPDATE_PENDING is there (read under the confinement
 * root; a marker that cannot be read counts as absent). */
bool pt_boot_update_pending(const char *root);

/* Write <root>PT_BOOT_UPDATE_PENDING (its directory made when missing; its text
 * says what it is for whoever finds it). 0, or -errno with the failure
 * recorded in rep (nothing recorded only when out of memory), saying that
 * nothing was written. */
int pt_boot_update_mark(const char *root, struct pt_report *rep);

/* Remove <root>PT_BOOT_UPDATE_PENDING; a missing marker is no error. 0, or
 * -errno with the failure recorded in rep (nothing recorded only when out of
 * memory). */
int pt_boot_update_unmark(const char *root, struct pt_report *rep);

/* The command that regenerates loader's boot configuration, as the user would
 * type it: "update-grub" or "proxmox-boot-tool refresh". Static. */
const char *pt_boot_update_command(enum pt_boot_loader loader);

/* Write p->after over p->full_path atomically (pt_file_write_atomic: mode and
 * owner kept, a new file 0644), keeping an Ansible-style backup when backup is
 * true. 0 with *backup_path (caller frees; NULL without a backup) as the host
 * sees it, that is inside p->root. -errno with the failure recorded in rep:
 * the file was left as it was. */
int pt_boot_update_write(const struct pt_boot_cmdline_plan *p, bool backup, char **backup_path,
                         struct pt_report *rep);

/* Run p->loader's regeneration command chrooted into p->root (unless it is
 * "/"), killed after timeout_sec. res is always filled in (release it with
 * pt_exec_result_release): rc, stdout and stderr for the result. 0 when the
 * command ran and exited 0; otherwise -errno (the command could not start,
 * -ETIMEDOUT when killed, -EIO for a non-zero exit) with the failure recorded
 * in rep, saying that p->path changed but the boot configuration did not, that
 * the next run retries, and the command to run by hand. The marker is left
 * alone: the caller removes it after a success. */
int pt_boot_update_run(const struct pt_boot_cmdline_plan *p, int timeout_sec,
                       struct pt_exec_result *res, struct pt_report *rep);

#endif
