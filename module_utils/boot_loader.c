#include "boot_loader.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "exec.h"
#include "files.h"

const char *pt_boot_loader_name(enum pt_boot_loader loader)
{
	return loader == PT_BOOT_SYSTEMD_BOOT ? "systemd-boot" : "grub";
}

const char *pt_boot_loader_cmdline_path(enum pt_boot_loader loader)
{
	return loader == PT_BOOT_SYSTEMD_BOOT ? "/etc/kernel/cmdline" : "/etc/default/grub";
}

void pt_boot_detection_release(struct pt_boot_detection *d)
{
	if (!d)
		return;
	free(d->reason);
	memset(d, 0, sizeof *d);
}

static int set_reason(struct pt_boot_detection *d, enum pt_boot_loader loader, const char *reason)
{
	d->loader = loader;
	free(d->reason);
	d->reason = strdup(reason);
	return d->reason ? 0 : -ENOMEM;
}

/* True when the file exists and holds a non-blank line. */
static bool lists_something(const char *path)
{
	_cleanup_free_ char *data = NULL;
	if (pt_file_read(path, &data, NULL) < 0)
		return false;
	for (const char *p = data; *p; p++)
		if (!strchr(" \t\r\n", *p))
			return true;
	return false;
}

int pt_boot_loader_detect_files(const char *root, struct pt_boot_detection *d)
{
	_cleanup_free_ char *uuids = pt_path_join(root, "/etc/kernel/proxmox-boot-uuids");
	_cleanup_free_ char *efi = pt_path_join(root, "/sys/firmware/efi");
	_cleanup_free_ char *cmdline = pt_path_join(root, "/etc/kernel/cmdline");
	if (!uuids || !efi || !cmdline)
		return -ENOMEM;
	bool managed = lists_something(uuids);
	d->proxmox_boot_tool = managed;
	if (!managed)
		return set_reason(d, PT_BOOT_GRUB,
		                  "/etc/kernel/proxmox-boot-uuids lists no ESP: "
		                  "proxmox-boot-tool does not manage this host, GRUB boots it");
	if (!pt_path_exists(efi))
		return set_reason(d, PT_BOOT_GRUB,
		                  "proxmox-boot-tool manages the ESPs but the host did not boot "
		                  "with UEFI (no /sys/firmware/efi): they hold GRUB");
	if (!pt_path_exists(cmdline))
		return set_reason(d, PT_BOOT_GRUB,
		                  "proxmox-boot-tool manages the ESPs but there is no "
		                  "/etc/kernel/cmdline: taken as GRUB");
	return set_reason(d, PT_BOOT_SYSTEMD_BOOT,
	                  "proxmox-boot-tool manages the ESPs, the host booted with UEFI "
	                  "and /etc/kernel/cmdline exists: systemd-boot");
}

/* Read `proxmox-boot-tool status` output: counts of ESP lines by loader. */
static void count_esps(const char *out, int *uefi, int *grub)
{
	*uefi = *grub = 0;
	static const char marker[] = "is configured with:";
	for (const char *line = out; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line) : strlen(line);
		const char *m = memmem(line, n, marker, sizeof marker - 1);
		if (m) {
			const char *what = m + sizeof marker - 1;
			size_t rest = n - (size_t)(what - line);
			if (memmem(what, rest, "grub", 4))
				(*grub)++;
			else if (memmem(what, rest, "uefi", 4))
				(*uefi)++;
		}
		line = end ? end + 1 : NULL;
	}
}

int pt_boot_loader_detect(const char *root, int timeout_sec, struct pt_boot_detection *d,
                          struct pt_report *rep)
{
	memset(d, 0, sizeof *d);
	if (!pt_exec_available(root, "proxmox-boot-tool"))
		return pt_boot_loader_detect_files(root, d);

	const char *const argv[] = {"proxmox-boot-tool", "status", NULL};
	struct pt_exec_result res;
	int r = pt_exec(root, argv, timeout_sec, &res);
	d->ran_status = r == 0;
	int uefi = 0, grub = 0;
	if (r == 0 && res.rc == 0)
		count_esps(res.out, &uefi, &grub);
	if (r == 0 && res.rc == 2) {
		pt_exec_result_release(&res);
		return set_reason(d, PT_BOOT_GRUB,
		                  "proxmox-boot-tool status: /etc/kernel/proxmox-boot-uuids does "
		                  "not exist, GRUB boots this host");
	}
	if (r == 0 && res.rc == 0 && grub > 0) {
		d->proxmox_boot_tool = true;
		pt_exec_result_release(&res);
		if (uefi > 0)
			pt_report_warn(rep,
			               "proxmox-boot-tool status shows ESPs with GRUB and ESPs "
			               "with systemd-boot; the command line was set for GRUB. "
			               "Set bootloader explicitly if that is wrong");
		return set_reason(d, PT_BOOT_GRUB,
		                  "proxmox-boot-tool status: the ESPs are configured with grub");
	}
	if (r == 0 && res.rc == 0 && uefi > 0) {
		d->proxmox_boot_tool = true;
		pt_exec_result_release(&res);
		return set_reason(d, PT_BOOT_SYSTEMD_BOOT,
		                  "proxmox-boot-tool status: the ESPs are configured with uefi "
		                  "(systemd-boot)");
	}
	/* No usable answer: say why, and decide from the files. */
	if (r < 0 || res.rc != 0) {
		const char *err = res.err && *res.err ? res.err : "";
		size_t n = strcspn(err, "\n");
		pt_report_warn(rep,
		               "proxmox-boot-tool status failed (rc %d%s%.*s); the boot loader was "
		               "detected from files instead",
		               res.rc, n ? ": " : "", (int)n, err);
	} else {
		pt_report_warn(rep, "proxmox-boot-tool status shows no ESP; the boot loader was "
		                    "detected from files instead");
	}
	pt_exec_result_release(&res);
	return pt_boot_loader_detect_files(root, d);
}

int pt_boot_loader_choose(const char *root, const char *option, bool check_mode, int timeout_sec,
                          struct pt_boot_detection *d, struct pt_report *rep)
{
	memset(d, 0, sizeof *d);
	if (option && strcmp(option, "auto") != 0)
		return set_reason(d,
		                  strcmp(option, "systemd-boot") == 0 ? PT_BOOT_SYSTEMD_BOOT
		                                                      : PT_BOOT_GRUB,
		                  "set by the bootloader option");
	/* status mounts the ESPs for a moment: check mode decides from files. */
	return check_mode ? pt_boot_loader_detect_files(root, d)
	                  : pt_boot_loader_detect(root, timeout_sec, d, rep);
}
