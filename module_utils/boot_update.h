/* Applying a planned kernel command line: the file written atomically, then
 * the boot configuration regenerated from it —
 *   GRUB          update-grub (on proxmox-boot-tool hosts that use GRUB it
 *                 defers to proxmox-boot-tool itself)
 *   systemd-boot  proxmox-boot-tool refresh (copies the command line into
 *                 every ESP's loader entries)
 * Only a real run gets here: check mode stops at the plan. */
#ifndef PT_BOOT_UPDATE_H
#define PT_BOOT_UPDATE_H

#include <stdbool.h>

#include "bootloader.h"
#include "cmdline_plan.h"
#include "exec.h"

/* The command that regenerates loader's boot configuration, as the user would
 * type it: "update-grub" or "proxmox-boot-tool refresh". Static. */
const char *pt_boot_update_command(enum pt_bootloader loader);

/* Write p->after over p->full_path atomically (pt_file_write_atomic: mode and
 * owner kept, a new file 0644), keeping an Ansible-style backup when backup is
 * true. 0 with *backup_path (caller frees; NULL without a backup) as the host
 * sees it, that is inside p->root. -errno with *errmsg (caller frees; NULL only
 * when out of memory): the file was left as it was. */
int pt_boot_update_write(const struct pt_cmdline_plan *p, bool backup, char **backup_path,
                         char **errmsg);

/* Run p->loader's regeneration command chrooted into p->root (unless it is
 * "/"), killed after timeout_sec. res is always filled in (release it with
 * pt_exec_result_release): rc, stdout and stderr for the result. 0 when the
 * command ran and exited 0; otherwise -errno (the command could not start,
 * -ETIMEDOUT when killed, -EIO for a non-zero exit) with *errmsg (caller frees;
 * NULL only when out of memory) saying that p->path changed but the boot
 * configuration did not, and the command to run by hand. */
int pt_boot_update_run(const struct pt_cmdline_plan *p, int timeout_sec, struct pt_exec_result *res,
                       char **errmsg);

#endif
