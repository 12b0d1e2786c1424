/* grub_iommu's decision logic, through the library it calls: the parameters a
 * run asks for (iommu_params.h), the boot loader choice (bootloader.h), the
 * plan for the file with its warnings (cmdline_plan.h, grub_warnings.h),
 * reboot_required (reboot_required.h) and the write and regeneration step
 * (boot_update.h). The hosts are the sandbox roots of tests/fixtures/hosts,
 * built with build/tools/mkroot: pve1-gtx1050ti (the seed host: GRUB, Intel)
 * and pve2-systemd-boot (ZFS on UEFI, AMD). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "boot_update.h"
#include "bootloader.h"
#include "cleanup.h"
#include "cmdline.h"
#include "cmdline_plan.h"
#include "exec.h"
#include "files.h"
#include "iommu_params.h"
#include "reboot_required.h"
#include "strbuf.h"

#ifndef SOURCE_DIR
#define SOURCE_DIR "."
#endif

#define MKROOT     SOURCE_DIR "/build/tools/mkroot"
#define RECORD_CMD SOURCE_DIR "/build/tools/record-cmd"
#define HOSTS      SOURCE_DIR "/tests/fixtures/hosts/"

static char workdir[] = "/tmp/pt-test-grub-iommu-XXXXXX";

/* ---- fixture roots and files ------------------------------------------------ */

static void run_or_fail(const char *const argv[])
{
	struct pt_exec_result res;
	int r = pt_exec(NULL, argv, 120, &res);
	if (r < 0 || res.rc != 0) {
		_cleanup_free_ char *cmd = pt_exec_cmdline(argv);
		fprintf(stderr, "%s failed (rc %d): %s%s\n", cmd, res.rc, res.out ? res.out : "",
		        res.err ? res.err : "");
		pt_exec_result_release(&res);
		fail_msg("command failed");
	}
	pt_exec_result_release(&res);
}

/* A fresh sandbox root for host (a tests/fixtures/hosts name), private to the
 * calling test. Returns a static path. */
static const char *fresh_root(const char *host, const char *test)
{
	static char path[512];
	char source[512];
	snprintf(path, sizeof path, "%s/%s-%s", workdir, test, host);
	snprintf(source, sizeof source, HOSTS "%s.yml", host);
	const char *const argv[] = {MKROOT, source, path, NULL};
	run_or_fail(argv);
	return path;
}

static void put(const char *root, const char *path, const char *text)
{
	_cleanup_free_ char *full = pt_path_join(root, path);
	FILE *f = fopen(full, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static char *get(const char *root, const char *path)
{
	_cleanup_free_ char *full = pt_path_join(root, path);
	char *data = NULL;
	assert_int_equal(pt_file_read(full, &data, NULL), 0);
	return data;
}

/* A present request for vendor with passthrough mode and params. */
static struct pt_iommu_request want(bool present, const char *vendor, bool passthrough,
                                    const char *const *params, size_t n)
{
	return (struct pt_iommu_request){.present = present,
	                                 .vendor = vendor,
	                                 .passthrough = passthrough,
	                                 .params = params,
	                                 .n_params = n};
}

/* A list of parameters joined with spaces. Caller frees. */
static char *joined(char **list, size_t n)
{
	struct pt_strbuf sb = PT_STRBUF_INIT;
	for (size_t i = 0; i < n; i++)
		pt_strbuf_printf(&sb, "%s%s", i ? " " : "", list[i]);
	return sb.data ? pt_strbuf_steal(&sb) : strdup("");
}

/* True when one of the plan's warnings holds every one of the pieces. */
static bool warned(const struct pt_cmdline_plan *p, const char *a, const char *b)
{
	for (size_t i = 0; i < p->warnings.n; i++)
		if (strstr(p->warnings.items[i], a) && (!b || strstr(p->warnings.items[i], b)))
			return true;
	return false;
}

/* Read and plan path under root for req; returns what edit returned. */
static int plan(struct pt_cmdline_plan *p, const char *root, const char *path,
                enum pt_bootloader loader, const struct pt_iommu_request *req, char **err)
{
	int e = pt_cmdline_plan_read(p, root, path, loader, "test", err);
	return e < 0 ? e : pt_cmdline_plan_edit(p, req, err);
}

/* ---- the parameters asked for ---------------------------------------------------- */

static void test_params_check(void **state)
{
	(void)state;
	char *err = NULL;
	const char *good[] = {"video=efifb:off", "nomodeset", "acpi_osi=\"!Windows 2012\""};
	assert_int_equal(pt_iommu_params_check(good, 3, &err), 0);
	assert_null(err);

	const struct {
		const char *item;
		const char *message;
	} bad[] = {
	        {"", "params[1] is empty"},
	        {NULL, "params[1] is empty"},
	        {"a\tb", "params[1] (a\tb) holds a control character"},
	        {"intel_iommu=on iommu=pt", "is not exactly one kernel parameter"},
	        {"x=\"unclosed", "own list item"},
	        {"-- init", "is not exactly one kernel parameter"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *items[] = {"quiet", bad[i].item};
		assert_int_equal(pt_iommu_params_check(items, 2, &err), -EINVAL);
		assert_non_null(strstr(err, bad[i].message));
		free(err);
	}
}

static void test_vendor(void **state)
{
	(void)state;
	const char *vendor = NULL;
	char *err = NULL;
	const char *pve1 = fresh_root("pve1-gtx1050ti", "vendor");
	assert_int_equal(pt_iommu_params_vendor("auto", pve1, &vendor, &err), 0);
	assert_string_equal(vendor, "intel");
	const char *pve2 = fresh_root("pve2-systemd-boot", "vendor");
	assert_int_equal(pt_iommu_params_vendor("auto", pve2, &vendor, &err), 0);
	assert_string_equal(vendor, "amd");
	/* An option other than auto is taken as it is, whatever the CPU. */
	assert_int_equal(pt_iommu_params_vendor("none", pve1, &vendor, &err), 0);
	assert_string_equal(vendor, "none");
	assert_int_equal(pt_iommu_params_vendor(NULL, pve1, &vendor, &err), 0);
	assert_string_equal(vendor, "none");

	put(pve2, "/proc/cpuinfo", "processor\t: 0\nvendor_id\t: HygonGenuine\n");
	assert_int_equal(pt_iommu_params_vendor("auto", pve2, &vendor, &err), 0);
	assert_string_equal(vendor, "amd");
	put(pve2, "/proc/cpuinfo", "processor\t: 0\nvendor_id\t: CentaurHauls\n");
	assert_int_equal(pt_iommu_params_vendor("auto", pve2, &vendor, &err), -EINVAL);
	assert_non_null(strstr(err, "set iommu to intel, amd or none"));
	assert_non_null(strstr(err, "/proc/cpuinfo"));
	free(err);
	_cleanup_free_ char *cpuinfo = pt_path_join(pve1, "/proc/cpuinfo");
	assert_int_equal(unlink(cpuinfo), 0);
	assert_int_equal(pt_iommu_params_vendor("auto", pve1, &vendor, &err), -EINVAL);
	assert_non_null(strstr(err, "cannot be told"));
	free(err);
}

static void test_wanted_items(void **state)
{
	(void)state;
	const char *extra[] = {"video=efifb:off"};
	struct pt_cmdline cl;
	size_t n;

	/* Intel, nothing there yet: both, then the user's own. */
	assert_int_equal(pt_cmdline_parse("quiet", &cl), 0);
	struct pt_iommu_request req = want(true, "intel", true, extra, 1);
	_cleanup_free_ const char **a = pt_iommu_params_wanted(&req, &cl, false, &n);
	assert_int_equal(n, 3);
	assert_string_equal(a[0], "intel_iommu=on");
	assert_string_equal(a[1], "iommu=pt");
	assert_string_equal(a[2], "video=efifb:off");
	assert_null(a[3]);
	/* AMD has no vendor parameter. */
	req.vendor = "amd";
	_cleanup_free_ const char **b = pt_iommu_params_wanted(&req, &cl, false, &n);
	assert_int_equal(n, 2);
	assert_string_equal(b[0], "iommu=pt");
	pt_cmdline_release(&cl);

	/* A richer form already there is kept: nothing to ask for. */
	assert_int_equal(pt_cmdline_parse("intel_iommu=on,sm_on iommu=nobypass,pt", &cl), 0);
	req = want(true, "intel", true, NULL, 0);
	_cleanup_free_ const char **c = pt_iommu_params_wanted(&req, &cl, false, &n);
	assert_int_equal(n, 0);
	assert_null(c[0]);
	pt_cmdline_release(&cl);
	/* Twice in a file: the module makes it one; the running kernel keeps the last. */
	assert_int_equal(pt_cmdline_parse("iommu=soft iommu=pt,nobypass", &cl), 0);
	req = want(true, "none", true, NULL, 0);
	_cleanup_free_ const char **d = pt_iommu_params_wanted(&req, &cl, false, &n);
	assert_int_equal(n, 1);
	assert_string_equal(d[0], "iommu=pt");
	_cleanup_free_ const char **e = pt_iommu_params_wanted(&req, &cl, true, &n);
	assert_int_equal(n, 0);
	assert_null(e[0]);
	pt_cmdline_release(&cl);

	/* absent: the keys, so that absent undoes present. */
	assert_int_equal(pt_cmdline_parse("", &cl), 0);
	req = want(false, "intel", true, extra, 1);
	_cleanup_free_ const char **f = pt_iommu_params_wanted(&req, &cl, false, &n);
	assert_int_equal(n, 3);
	assert_string_equal(f[0], "intel_iommu");
	assert_string_equal(f[1], "iommu");
	assert_string_equal(f[2], "video=efifb:off");
	pt_cmdline_release(&cl);

	assert_true(pt_iommu_params_list_has("igfx_off,on", "on"));
	assert_false(pt_iommu_params_list_has("only", "on"));
	assert_false(pt_iommu_params_list_has("", "on"));
}

/* ---- reboot_required --------------------------------------------------------------- */

static void test_reboot_required(void **state)
{
	(void)state;
	const char *pve1_cmdline =
	        "BOOT_IMAGE=/boot/vmlinuz-6.8.12-4-pve root=/dev/mapper/pve-root ro quiet\n";
	struct pt_iommu_request req = want(true, "intel", true, NULL, 0);
	assert_int_equal(pt_reboot_required_cmdline(pve1_cmdline, &req), 1);
	assert_int_equal(pt_reboot_required_cmdline("ro quiet intel_iommu=on iommu=pt\n", &req), 0);
	/* The kernel keeps the last of several values. */
	assert_int_equal(pt_reboot_required_cmdline("intel_iommu=on iommu=pt iommu=soft", &req), 1);
	assert_int_equal(pt_reboot_required_cmdline("intel_iommu=on iommu=soft iommu=pt", &req), 0);
	/* After `--` it is init's, not the kernel's. */
	assert_int_equal(pt_reboot_required_cmdline("intel_iommu=on -- iommu=pt", &req), 1);
	/* A key asked for with several values needs each of them. */
	const char *video[] = {"video=efifb:off", "video=vesafb:off"};
	req = want(true, "none", false, video, 2);
	assert_int_equal(pt_reboot_required_cmdline("video=vesafb:off video=efifb:off", &req), 0);
	assert_int_equal(pt_reboot_required_cmdline("video=vesafb:off", &req), 1);
	/* A flag is there or not. */
	const char *flag[] = {"nomodeset"};
	req = want(true, "none", false, flag, 1);
	assert_int_equal(pt_reboot_required_cmdline("quiet nomodeset", &req), 0);
	assert_int_equal(pt_reboot_required_cmdline("quiet nomodeset=1", &req), 1);
	/* absent: any occurrence of a key still counts, whatever its value. */
	req = want(false, "intel", true, NULL, 0);
	assert_int_equal(pt_reboot_required_cmdline("quiet iommu=soft", &req), 1);
	assert_int_equal(pt_reboot_required_cmdline("quiet", &req), 0);
	assert_int_equal(pt_reboot_required_cmdline("", &req), 0);

	/* From the root: pve1 boots without the parameters; no /proc/cmdline, no answer. */
	const char *pve1 = fresh_root("pve1-gtx1050ti", "reboot");
	req = want(true, "intel", true, NULL, 0);
	assert_int_equal(pt_reboot_required(pve1, &req), 1);
	put(pve1, "/proc/cmdline", "root=/dev/mapper/pve-root ro quiet intel_iommu=on iommu=pt\n");
	assert_int_equal(pt_reboot_required(pve1, &req), 0);
	_cleanup_free_ char *proc = pt_path_join(pve1, "/proc/cmdline");
	assert_int_equal(unlink(proc), 0);
	assert_int_equal(pt_reboot_required(pve1, &req), -ENOENT);
}

/* ---- the boot loader ---------------------------------------------------------------- */

static void test_bootloader_choose(void **state)
{
	(void)state;
	struct pt_boot_detection d;
	const char *pve2 = fresh_root("pve2-systemd-boot", "choose");
	assert_int_equal(pt_bootloader_choose(pve2, "auto", true, 10, &d), 0);
	assert_int_equal(d.loader, PT_BOOT_SYSTEMD_BOOT);
	assert_false(d.ran_status);
	pt_boot_detection_release(&d);
	/* The option decides by itself. */
	assert_int_equal(pt_bootloader_choose(pve2, "grub", true, 10, &d), 0);
	assert_int_equal(d.loader, PT_BOOT_GRUB);
	assert_string_equal(d.reason, "set by the bootloader option");
	pt_boot_detection_release(&d);
	const char *pve1 = fresh_root("pve1-gtx1050ti", "choose");
	assert_int_equal(pt_bootloader_choose(pve1, NULL, true, 10, &d), 0);
	assert_int_equal(d.loader, PT_BOOT_GRUB);
	pt_boot_detection_release(&d);
	assert_int_equal(pt_bootloader_choose(pve1, "systemd-boot", false, 10, &d), 0);
	assert_int_equal(d.loader, PT_BOOT_SYSTEMD_BOOT);
	assert_false(d.ran_status);
	pt_boot_detection_release(&d);
}

/* ---- the plan ------------------------------------------------------------------------ */

static void test_plan_pve1_grub(void **state)
{
	(void)state;
	const char *pve1 = fresh_root("pve1-gtx1050ti", "plan");
	struct pt_iommu_request req = want(true, "intel", true, NULL, 0);
	struct pt_cmdline_plan p;
	char *err = NULL;
	assert_int_equal(plan(&p, pve1, "/etc/default/grub", PT_BOOT_GRUB, &req, &err), 0);
	assert_null(err);
	assert_string_equal(p.cmdline_before, "quiet");
	assert_string_equal(p.cmdline_after, "quiet intel_iommu=on iommu=pt");
	_cleanup_free_ char *added = joined(p.chg.added, p.chg.n_added);
	assert_string_equal(added, "intel_iommu=on iommu=pt");
	assert_int_equal(p.chg.n_removed, 0);
	assert_true(pt_cmdline_plan_changed(&p));
	/* One line changes, every other byte stays. */
	assert_non_null(strstr(p.after, "\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet intel_iommu=on "
	                                "iommu=pt\"\nGRUB_CMDLINE_LINUX=\"\"\n"));
	assert_int_equal(p.after_len, p.before_len + strlen(" intel_iommu=on iommu=pt"));
	/* proxmox-ve.cfg in grub.d does not set the variable: nothing to say. */
	assert_int_equal(p.warnings.n, 0);

	/* Written, the same run plans nothing: idempotent. */
	char *backup = NULL;
	assert_int_equal(pt_boot_update_write(&p, true, &backup, &err), 0);
	assert_non_null(backup);
	assert_memory_equal(backup, "/etc/default/grub.", strlen("/etc/default/grub."));
	_cleanup_free_ char *saved = get(pve1, backup);
	assert_string_equal(saved, p.before);
	free(backup);
	_cleanup_free_ char *written = get(pve1, "/etc/default/grub");
	assert_string_equal(written, p.after);
	pt_cmdline_plan_release(&p);
	assert_int_equal(plan(&p, pve1, "/etc/default/grub", PT_BOOT_GRUB, &req, &err), 0);
	assert_false(pt_cmdline_plan_changed(&p));
	assert_int_equal(p.chg.n_added + p.chg.n_removed, 0);
	pt_cmdline_plan_release(&p);

	/* absent undoes present. */
	req = want(false, "intel", true, NULL, 0);
	assert_int_equal(plan(&p, pve1, "/etc/default/grub", PT_BOOT_GRUB, &req, &err), 0);
	assert_string_equal(p.cmdline_after, "quiet");
	assert_string_equal(p.after, saved);
	pt_cmdline_plan_release(&p);
}

static void test_plan_pve2_systemd_boot(void **state)
{
	(void)state;
	const char *pve2 = fresh_root("pve2-systemd-boot", "plan");
	const char *extra[] = {"video=efifb:off"};
	struct pt_iommu_request req = want(true, "amd", true, extra, 1);
	struct pt_cmdline_plan p;
	char *err = NULL;
	assert_int_equal(plan(&p, pve2, "/etc/kernel/cmdline", PT_BOOT_SYSTEMD_BOOT, &req, &err),
	                 0);
	assert_string_equal(p.cmdline_after, "root=ZFS=rpool/ROOT/pve-1 boot=zfs iommu=pt "
	                                     "video=efifb:off");
	assert_string_equal(p.after,
	                    "root=ZFS=rpool/ROOT/pve-1 boot=zfs iommu=pt video=efifb:off\n");
	pt_cmdline_plan_release(&p);

	/* Removing root= would leave proxmox-boot-tool nothing to boot. */
	const char *root_key[] = {"root"};
	req = want(false, "amd", false, root_key, 1);
	assert_int_equal(plan(&p, pve2, "/etc/kernel/cmdline", PT_BOOT_SYSTEMD_BOOT, &req, &err),
	                 -EINVAL);
	assert_non_null(strstr(err, "has no root= parameter"));
	free(err);
	pt_cmdline_plan_release(&p);
}

static void test_plan_refusals(void **state)
{
	(void)state;
	const char *pve1 = fresh_root("pve1-gtx1050ti", "refusals");
	struct pt_iommu_request req = want(true, "intel", true, NULL, 0);
	struct pt_cmdline_plan p;
	char *err = NULL;

	assert_int_equal(plan(&p, pve1, "/etc/kernel/cmdline", PT_BOOT_SYSTEMD_BOOT, &req, &err),
	                 -ENOENT);
	assert_non_null(strstr(err, "/etc/kernel/cmdline does not exist; on a systemd-boot host"));
	free(err);
	pt_cmdline_plan_release(&p);
	assert_int_equal(plan(&p, pve1, "/etc/nope", PT_BOOT_GRUB, &req, &err), -ENOENT);
	assert_non_null(strstr(err, "is GRUB installed?"));
	assert_non_null(strstr(err, "(boot loader: test)"));
	free(err);
	pt_cmdline_plan_release(&p);

	const struct {
		const char *file;
		const char *message;
	} refused[] = {
	        {"GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT quiet\"\n",
	         "refers to itself"},
	        {"GRUB_CMDLINE_LINUX_DEFAULT='quiet \"splash'\n",
	         "has a double quote that is never closed"},
	};
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		put(pve1, "/etc/default/grub", refused[i].file);
		assert_int_equal(plan(&p, pve1, "/etc/default/grub", PT_BOOT_GRUB, &req, &err),
		                 -EINVAL);
		assert_non_null(strstr(err, refused[i].message));
		assert_non_null(strstr(err, "/etc/default/grub"));
		free(err);
		pt_cmdline_plan_release(&p);
	}
}

static void test_plan_warnings(void **state)
{
	(void)state;
	const char *pve1 = fresh_root("pve1-gtx1050ti", "warnings");
	struct pt_iommu_request req = want(true, "intel", true, NULL, 0);
	struct pt_cmdline_plan p;
	char *err = NULL;

	put(pve1, "/etc/default/grub",
	    "GRUB_CMDLINE_LINUX_DEFAULT=\"splash\"\nGRUB_TIMEOUT=5\n"
	    "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet amd_iommu=on amd_iommu=off\"\n"
	    "GRUB_CMDLINE_LINUX=\"iommu=soft\"\n");
	put(pve1, "/etc/default/grub.d/50-cloudimg-settings.cfg",
	    "GRUB_CMDLINE_LINUX_DEFAULT=\"console=ttyS0\"\n");
	put(pve1, "/etc/default/grub.d/60-appends.cfg",
	    "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT x\"\n");
	assert_int_equal(plan(&p, pve1, "/etc/default/grub", PT_BOOT_GRUB, &req, &err), 0);
	assert_string_equal(p.cmdline_after, "quiet amd_iommu=on amd_iommu=off intel_iommu=on "
	                                     "iommu=pt");
	assert_true(warned(&p, "amd_iommu=on, which is not a valid value", NULL));
	assert_true(warned(&p, "holds amd_iommu=off, which turns the AMD IOMMU off", NULL));
	assert_true(warned(&p, "is set 2 times", "(first on line 1, last on line 3)"));
	assert_true(warned(&p,
	                   "GRUB_CMDLINE_LINUX in /etc/default/grub (line 4) also holds "
	                   "iommu=soft",
	                   NULL));
	assert_true(warned(&p, "/etc/default/grub.d/50-cloudimg-settings.cfg sets", "(line 1)"));
	assert_false(warned(&p, "60-appends.cfg", NULL));
	assert_int_equal(p.warnings.n, 5);
	/* In the order found: the command line itself, then the file around it. */
	assert_non_null(strstr(p.warnings.items[0], "amd_iommu=on"));
	assert_non_null(strstr(p.warnings.items[4], "grub.d"));
	pt_cmdline_plan_release(&p);

	/* The drop-in is the file's business only when the file is /etc/default/grub. */
	assert_int_equal(plan(&p, pve1, "/etc/default/grub.d/50-cloudimg-settings.cfg",
	                      PT_BOOT_GRUB, &req, &err),
	                 0);
	assert_false(warned(&p, "grub.d", "sets"));
	pt_cmdline_plan_release(&p);
}

/* ---- regeneration ---------------------------------------------------------------------- */

static void test_boot_update_run(void **state)
{
	(void)state;
	/* The command runs chrooted into the sandbox: root only, with the stub. */
	if (geteuid() != 0 || access(RECORD_CMD, X_OK) != 0)
		skip();
	const char *pve1 = fresh_root("pve1-gtx1050ti", "update");
	_cleanup_free_ char *sbin = pt_path_join(pve1, "/usr/sbin");
	_cleanup_free_ char *stub = pt_path_join(pve1, "/usr/sbin/update-grub");
	_cleanup_free_ char *etc = pt_path_join(pve1, "/etc/record-cmd");
	const char *const mk[] = {"/bin/mkdir", "-p", sbin, etc, NULL};
	run_or_fail(mk);
	const char *const install[] = {"/usr/bin/install", "-m", "0755", RECORD_CMD, stub, NULL};
	run_or_fail(install);

	struct pt_iommu_request req = want(true, "intel", true, NULL, 0);
	struct pt_cmdline_plan p;
	char *err = NULL;
	assert_int_equal(plan(&p, pve1, "/etc/default/grub", PT_BOOT_GRUB, &req, &err), 0);
	assert_string_equal(pt_boot_update_command(p.loader), "update-grub");
	struct pt_exec_result res;
	assert_int_equal(pt_boot_update_run(&p, 30, &res, &err), 0);
	assert_null(err);
	assert_int_equal(res.rc, 0);
	pt_exec_result_release(&res);
	_cleanup_free_ char *log = get(pve1, "/var/log/record-cmd.log");
	assert_string_equal(log, "update-grub\n");

	put(pve1, "/etc/record-cmd/update-grub.rc", "1\n");
	put(pve1, "/etc/record-cmd/update-grub.err", "grub-probe: error: failed.\nmore\n");
	assert_int_equal(pt_boot_update_run(&p, 30, &res, &err), -EIO);
	assert_int_equal(res.rc, 1);
	assert_non_null(strstr(err, "update-grub failed (rc 1: grub-probe: error: failed.); "
	                            "/etc/default/grub was changed but the boot configuration "
	                            "was not regenerated"));
	free(err);
	pt_exec_result_release(&res);
	pt_cmdline_plan_release(&p);
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(workdir))
		return -1;
	if (access(MKROOT, X_OK) != 0) {
		fprintf(stderr, "%s is missing: run `make tools` first\n", MKROOT);
		return -1;
	}
	/* mkroot finds the kernel module catalogue through the repository */
	setenv("PT_REPO", SOURCE_DIR, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	const char *const argv[] = {"/bin/rm", "-rf", workdir, NULL};
	struct pt_exec_result res;
	pt_exec(NULL, argv, 60, &res);
	pt_exec_result_release(&res);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_params_check),
	        cmocka_unit_test(test_vendor),
	        cmocka_unit_test(test_wanted_items),
	        cmocka_unit_test(test_reboot_required),
	        cmocka_unit_test(test_bootloader_choose),
	        cmocka_unit_test(test_plan_pve1_grub),
	        cmocka_unit_test(test_plan_pve2_systemd_boot),
	        cmocka_unit_test(test_plan_refusals),
	        cmocka_unit_test(test_plan_warnings),
	        cmocka_unit_test(test_boot_update_run),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
