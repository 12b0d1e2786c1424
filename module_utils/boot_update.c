#include "boot_update.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "files.h"

static const char pending_text[] =
        "# homelab.passthrough.grub_iommu changed the kernel command line file, and the\n"
        "# boot configuration (update-grub, or proxmox-boot-tool refresh) has not been\n"
        "# regenerated successfully since. The next run of the module with update: true\n"
        "# regenerates it and then removes this file.\n";

bool pt_boot_update_pending(const char *root)
{
	_cleanup_free_ char *path = pt_path_join(root, PT_BOOT_UPDATE_PENDING);
	_cleanup_free_ char *text = NULL;
	return path && pt_file_read(path, &text, NULL) == 0;
}

int pt_boot_update_mark(const char *root, struct pt_report *rep)
{
	_cleanup_free_ char *path = pt_path_join(root, PT_BOOT_UPDATE_PENDING);
	_cleanup_report_ struct pt_report err = {0};
	if (!path)
		return -ENOMEM;
	struct pt_write_opts o = {.mode_if_new = 0644, .mkdirs = true};
	int e = pt_file_write_atomic(path, pending_text, sizeof pending_text - 1, &o, NULL, &err);
	if (e < 0)
		pt_report_fail(rep, e,
		               "cannot record that the boot configuration is to be regenerated "
		               "before editing the file: %s; nothing was written",
		               err.msg ? err.msg : strerror(-e));
	return e;
}

int pt_boot_update_unmark(const char *root, struct pt_report *rep)
{
	_cleanup_free_ char *path = pt_path_join(root, PT_BOOT_UPDATE_PENDING);
	_cleanup_report_ struct pt_report err = {0};
	if (!path)
		return -ENOMEM;
	int e = pt_file_remove(path, false, NULL, &err);
	if (e < 0 && err.msg)
		pt_report_fail(rep, e, "%s", err.msg);
	return e;
}

const char *pt_boot_update_command(enum pt_boot_loader loader)
{
	return loader == PT_BOOT_GRUB ? "update-grub" : "proxmox-boot-tool refresh";
}

/* path (a full path under root) as the host sees it. */
static const char *inside_root(const char *root, const char *path)
{
	size_t n = strlen(root);
	if (strcmp(root, "/") == 0 || strncmp(path, root, n) != 0)
		return path;
	while (n > 0 && root[n - 1] == '/')
		n--;
	return path[n] == '/' ? path + n : path;
}

int pt_boot_update_write(const struct pt_boot_cmdline_plan *p, bool backup, char **backup_path,
                         struct pt_report *rep)
{
	struct pt_write_opts opts = {.mode_if_new = 0644, .backup = backup, .mkdirs = false};
	char *made = NULL;
	_cleanup_report_ struct pt_report err = {0};
	*backup_path = NULL;
	int e = pt_file_write_atomic(p->full_path, p->after, p->after_len, &opts, &made, &err);
	if (e < 0)
		return pt_report_fail(rep, e, "%s; the file was left as it was",
		                      err.msg ? err.msg : "cannot write the file");
	if (made) {
		/* The written file stays written: shorten the path in place rather than
		 * risk an allocation failure after the fact. */
		const char *inside = inside_root(p->root, made);
		memmove(made, inside, strlen(inside) + 1);
		*backup_path = made;
	}
	return 0;
}

int pt_boot_update_run(const struct pt_boot_cmdline_plan *p, int timeout_sec,
                       struct pt_exec_result *res, struct pt_report *rep)
{
	const char *const grub_argv[] = {"update-grub", NULL};
	const char *const pbt_argv[] = {"proxmox-boot-tool", "refresh", NULL};
	const char *const *argv = p->loader == PT_BOOT_GRUB ? grub_argv : pbt_argv;
	const char *cmd = pt_boot_update_command(p->loader);
	int e = pt_exec(p->root, argv, timeout_sec, res);
	if (e == 0 && res->rc == 0 && !res->timed_out)
		return 0;
	if (res->timed_out)
		return pt_report_fail(
		        rep, -ETIMEDOUT,
		        "%s was killed after %d seconds; %s was changed but the boot configuration "
		        "was not regenerated, so the next boot still uses the old command line. "
		        "Raise timeout and run the task again (it reruns %s until it succeeds), "
		        "or run `%s` by hand (chrooted into %s if root is not /) before rebooting",
		        cmd, timeout_sec, p->path, cmd, cmd, p->root);
	const char *why = res->err && *res->err ? res->err : (res->out ? res->out : "");
	size_t n = strcspn(why, "\n");
	return pt_report_fail(
	        rep, e < 0 ? e : -EIO,
	        "%s failed (rc %d%s%.*s); %s was changed but the boot configuration was not "
	        "regenerated, so the next boot still uses the old command line. Fix the problem "
	        "and run the task again (it reruns %s until it succeeds), or run `%s` by hand "
	        "before rebooting",
	        cmd, res->rc, n ? ": " : "", (int)n, why, p->path, cmd, cmd);
}
