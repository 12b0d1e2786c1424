#include "boot_update.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "messages.h"

const char *pt_boot_update_command(enum pt_bootloader loader)
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

int pt_boot_update_write(const struct pt_cmdline_plan *p, bool backup, char **backup_path,
                         char **errmsg)
{
	struct pt_write_opts opts = {.mode_if_new = 0644, .backup = backup, .mkdirs = false};
	char *made = NULL, *err = NULL;
	*backup_path = *errmsg = NULL;
	int e = pt_file_write_atomic(p->full_path, p->after, p->after_len, &opts, &made, &err);
	if (e < 0) {
		pt_message_format(errmsg, e, "%s; the file was left as it was",
		                  err ? err : "cannot write the file");
		free(err);
		return e;
	}
	if (made) {
		/* The written file stays written: shorten the path in place rather than
		 * risk an allocation failure after the fact. */
		const char *inside = inside_root(p->root, made);
		memmove(made, inside, strlen(inside) + 1);
		*backup_path = made;
	}
	return 0;
}

int pt_boot_update_run(const struct pt_cmdline_plan *p, int timeout_sec, struct pt_exec_result *res,
                       char **errmsg)
{
	const char *const grub_argv[] = {"update-grub", NULL};
	const char *const pbt_argv[] = {"proxmox-boot-tool", "refresh", NULL};
	const char *const *argv = p->loader == PT_BOOT_GRUB ? grub_argv : pbt_argv;
	const char *cmd = pt_boot_update_command(p->loader);
	*errmsg = NULL;
	int e = pt_exec(p->root, argv, timeout_sec, res);
	if (e == 0 && res->rc == 0 && !res->timed_out)
		return 0;
	if (res->timed_out)
		return pt_message_format(
		        errmsg, -ETIMEDOUT,
		        "%s was killed after %d seconds; %s was changed but the boot configuration "
		        "was not regenerated, so the next boot still uses the old command line. "
		        "Run `%s` by hand (chrooted into %s if root is not /)",
		        cmd, timeout_sec, p->path, cmd, p->root);
	const char *why = res->err && *res->err ? res->err : (res->out ? res->out : "");
	size_t n = strcspn(why, "\n");
	return pt_message_format(
	        errmsg, e < 0 ? e : -EIO,
	        "%s failed (rc %d%s%.*s); %s was changed but the boot configuration was not "
	        "regenerated, so the next boot still uses the old command line. Fix the problem "
	        "and run `%s` by hand",
	        cmd, res->rc, n ? ": " : "", (int)n, why, p->path, cmd);
}
