/* grub_iommu's decision logic, through the library it calls: the parameters a
 * run asks for (boot_iommu_params.h), the boot loader choice (boot_loader.h), the
 * plan for the file with its warnings (boot_cmdline_plan.h, boot_grub_warnings.h),
 * reboot_required (boot_reboot_required.h), the write and regeneration step
 * (boot_update.h), and the whole run as the module's main makes it
 * (grub_iommu_run.h). The hosts are the sandbox roots of tests/fixtures/hosts,
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

#include "boot_cmdline_plan.h"
#include "boot_iommu_params.h"
#include "boot_loader.h"
#include "boot_reboot_required.h"
#include "boot_update.h"
#include "cleanup.h"
#include "cmdline.h"
#include "exec.h"
#include "files.h"
#include "grub_iommu_argspec.h"
#include "grub_iommu_run.h"
#include "runtime.h"
#include "strbuf.h"
#include "support/mkroot.h"
#include "support/reports.h"
#include "support/tmptree.h"

#define RECORD_CMD SOURCE_DIR "/build/tools/record-cmd"
#define HOSTS      SOURCE_DIR "/tests/fixtures/hosts/"

static char workdir[64];

/* ---- fixture roots and files ------------------------------------------------ */

/* A fresh sandbox root for host (a tests/fixtures/hosts name), private to the
 * calling test. Returns a static path. */
static const char *fresh_root(const char *host, const char *test)
{
	static char path[512];
	char source[512];
	snprintf(path, sizeof path, "%s/%s-%s", workdir, test, host);
	snprintf(source, sizeof source, HOSTS "%s.yml", host);
	const char *const argv[] = {MKROOT, source, path, NULL};
	tmptree_run(argv);
	return path;
}

static void put(const char *root, const char *path, const char *text)
{
	tmptree_put(root, path, text);
}

static char *get(const char *root, const char *path)
{
	_cleanup_free_ char *full = pt_path_join(root, path);
	char *data = NULL;
	assert_int_equal(pt_file_read(full, &data, NULL), 0);
	return data;
}

/* A present request for vendor with passthrough mode and params. */
static struct pt_boot_iommu_request want(bool present, const char *vendor, bool passthrough,
                                         const char *const *params, size_t n)
{
	return (struct pt_boot_iommu_request){.present = present,
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

/* Read and plan path under root for req, reporting to rep (emptied first);
 * returns what edit returned. */
static int plan(struct pt_boot_cmdline_plan *p, struct pt_report *rep, const char *root,
                const char *path, enum pt_boot_loader loader,
                const struct pt_boot_iommu_request *req)
{
	int e = pt_boot_cmdline_plan_read(p, root, path, loader, "test", reports_fresh(rep));
	return e < 0 ? e : pt_boot_cmdline_plan_edit(p, req, rep);
}

/* ---- the parameters asked for ---------------------------------------------------- */

static void test_params_check(void **state)
{
	(void)state;
	struct pt_report rep = {0};
	const char *good[] = {"video=efifb:off", "nomodeset", "acpi_osi=\"!Windows 2012\""};
	assert_int_equal(pt_boot_iommu_params_check(good, 3, reports_fresh(&rep)), 0);
	assert_null(rep.msg);

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
		assert_int_equal(pt_boot_iommu_params_check(items, 2, reports_fresh(&rep)),
		                 -EINVAL);
		assert_non_null(strstr(rep.msg, bad[i].message));
	}
	pt_report_release(&rep);
}

static void test_vendor(void **state)
{
	(void)state;
	const char *vendor = NULL;
	struct pt_report rep = {0};
	const char *pve1 = fresh_root("pve1-gtx1050ti", "vendor");
	assert_int_equal(pt_boot_iommu_params_vendor("auto", pve1, &vendor, reports_fresh(&rep)),
	                 0);
	assert_string_equal(vendor, "intel");
	const char *pve2 = fresh_root("pve2-systemd-boot", "vendor");
	assert_int_equal(pt_boot_iommu_params_vendor("auto", pve2, &vendor, reports_fresh(&rep)),
	                 0);
	assert_string_equal(vendor, "amd");
	/* An option other than auto is taken as it is, whatever the CPU. */
	assert_int_equal(pt_boot_iommu_params_vendor("none", pve1, &vendor, reports_fresh(&rep)),
	                 0);
	assert_string_equal(vendor, "none");
	assert_int_equal(pt_boot_iommu_params_vendor(NULL, pve1, &vendor, reports_fresh(&rep)), 0);
	assert_string_equal(vendor, "none");

	put(pve2, "/proc/cpuinfo", "processor\t: 0\nvendor_id\t: HygonGenuine\n");
	assert_int_equal(pt_boot_iommu_params_vendor("auto", pve2, &vendor, reports_fresh(&rep)),
	                 0);
	assert_string_equal(vendor, "amd");
	put(pve2, "/proc/cpuinfo", "processor\t: 0\nvendor_id\t: CentaurHauls\n");
	assert_int_equal(pt_boot_iommu_params_vendor("auto", pve2, &vendor, reports_fresh(&rep)),
	                 -EINVAL);
	assert_non_null(strstr(rep.msg, "set iommu to intel, amd or none"));
	assert_non_null(strstr(rep.msg, "/proc/cpuinfo"));
	_cleanup_free_ char *cpuinfo = pt_path_join(pve1, "/proc/cpuinfo");
	assert_int_equal(unlink(cpuinfo), 0);
	assert_int_equal(pt_boot_iommu_params_vendor("auto", pve1, &vendor, reports_fresh(&rep)),
	                 -EINVAL);
	assert_non_null(strstr(rep.msg, "cannot be told"));
	pt_report_release(&rep);
}

static void test_wanted_items(void **state)
{
	(void)state;
	const char *extra[] = {"video=efifb:off"};
	struct pt_cmdline cl;
	size_t n;

	/* Intel, nothing there yet: both, then the user's own. */
	assert_int_equal(pt_cmdline_parse("quiet", &cl), 0);
	struct pt_boot_iommu_request req = want(true, "intel", true, extra, 1);
	_cleanup_free_ const char **a = pt_boot_iommu_params_wanted(&req, &cl, false, &n);
	assert_int_equal(n, 3);
	assert_string_equal(a[0], "intel_iommu=on");
	assert_string_equal(a[1], "iommu=pt");
	assert_string_equal(a[2], "video=efifb:off");
	assert_null(a[3]);
	/* AMD has no vendor parameter. */
	req.vendor = "amd";
	_cleanup_free_ const char **b = pt_boot_iommu_params_wanted(&req, &cl, false, &n);
	assert_int_equal(n, 2);
	assert_string_equal(b[0], "iommu=pt");
	pt_cmdline_release(&cl);

	/* A richer form already there is kept: nothing to ask for. */
	assert_int_equal(pt_cmdline_parse("intel_iommu=on,sm_on iommu=nobypass,pt", &cl), 0);
	req = want(true, "intel", true, NULL, 0);
	_cleanup_free_ const char **c = pt_boot_iommu_params_wanted(&req, &cl, false, &n);
	assert_int_equal(n, 0);
	assert_null(c[0]);
	pt_cmdline_release(&cl);
	/* Twice in a file: the module makes it one; the running kernel keeps the last. */
	assert_int_equal(pt_cmdline_parse("iommu=soft iommu=pt,nobypass", &cl), 0);
	req = want(true, "none", true, NULL, 0);
	_cleanup_free_ const char **d = pt_boot_iommu_params_wanted(&req, &cl, false, &n);
	assert_int_equal(n, 1);
	assert_string_equal(d[0], "iommu=pt");
	_cleanup_free_ const char **e = pt_boot_iommu_params_wanted(&req, &cl, true, &n);
	assert_int_equal(n, 0);
	assert_null(e[0]);
	pt_cmdline_release(&cl);

	/* absent: the keys, so that absent undoes present. */
	assert_int_equal(pt_cmdline_parse("", &cl), 0);
	req = want(false, "intel", true, extra, 1);
	_cleanup_free_ const char **f = pt_boot_iommu_params_wanted(&req, &cl, false, &n);
	assert_int_equal(n, 3);
	assert_string_equal(f[0], "intel_iommu");
	assert_string_equal(f[1], "iommu");
	assert_string_equal(f[2], "video=efifb:off");
	pt_cmdline_release(&cl);

	assert_true(pt_boot_iommu_params_list_has("igfx_off,on", "on"));
	assert_false(pt_boot_iommu_params_list_has("only", "on"));
	assert_false(pt_boot_iommu_params_list_has("", "on"));
}

/* ---- reboot_required --------------------------------------------------------------- */

static void test_reboot_required(void **state)
{
	(void)state;
	const char *pve1_cmdline =
	        "BOOT_IMAGE=/boot/vmlinuz-6.8.12-4-pve root=/dev/mapper/pve-root ro quiet\n";
	struct pt_boot_iommu_request req = want(true, "intel", true, NULL, 0);
	assert_int_equal(pt_boot_reboot_required_cmdline(pve1_cmdline, &req), 1);
	assert_int_equal(
	        pt_boot_reboot_required_cmdline("ro quiet intel_iommu=on iommu=pt\n", &req), 0);
	/* The kernel keeps the last of several values. */
	assert_int_equal(
	        pt_boot_reboot_required_cmdline("intel_iommu=on iommu=pt iommu=soft", &req), 1);
	assert_int_equal(
	        pt_boot_reboot_required_cmdline("intel_iommu=on iommu=soft iommu=pt", &req), 0);
	/* After `--` it is init's, not the kernel's. */
	assert_int_equal(pt_boot_reboot_required_cmdline("intel_iommu=on -- iommu=pt", &req), 1);
	/* A key asked for with several values needs each of them. */
	const char *video[] = {"video=efifb:off", "video=vesafb:off"};
	req = want(true, "none", false, video, 2);
	assert_int_equal(pt_boot_reboot_required_cmdline("video=vesafb:off video=efifb:off", &req),
	                 0);
	assert_int_equal(pt_boot_reboot_required_cmdline("video=vesafb:off", &req), 1);
	/* A flag is there or not. */
	const char *flag[] = {"nomodeset"};
	req = want(true, "none", false, flag, 1);
	assert_int_equal(pt_boot_reboot_required_cmdline("quiet nomodeset", &req), 0);
	assert_int_equal(pt_boot_reboot_required_cmdline("quiet nomodeset=1", &req), 1);
	/* absent: any occurrence of a key still counts, whatever its value. */
	req = want(false, "intel", true, NULL, 0);
	assert_int_equal(pt_boot_reboot_required_cmdline("quiet iommu=soft", &req), 1);
	assert_int_equal(pt_boot_reboot_required_cmdline("quiet", &req), 0);
	assert_int_equal(pt_boot_reboot_required_cmdline("", &req), 0);

	/* From the root: pve1 boots without the parameters; no /proc/cmdline, no answer. */
	const char *pve1 = fresh_root("pve1-gtx1050ti", "reboot");
	req = want(true, "intel", true, NULL, 0);
	assert_int_equal(pt_boot_reboot_required(pve1, &req), 1);
	put(pve1, "/proc/cmdline", "root=/dev/mapper/pve-root ro quiet intel_iommu=on iommu=pt\n");
	assert_int_equal(pt_boot_reboot_required(pve1, &req), 0);
	_cleanup_free_ char *proc = pt_path_join(pve1, "/proc/cmdline");
	assert_int_equal(unlink(proc), 0);
	assert_int_equal(pt_boot_reboot_required(pve1, &req), -ENOENT);
}

/* ---- the boot loader ---------------------------------------------------------------- */

static void test_bootloader_choose(void **state)
{
	(void)state;
	struct pt_report rep = {0};
	struct pt_boot_detection d;
	const char *pve2 = fresh_root("pve2-systemd-boot", "choose");
	assert_int_equal(pt_boot_loader_choose(pve2, "auto", true, 10, &d, reports_fresh(&rep)), 0);
	assert_int_equal(d.loader, PT_BOOT_SYSTEMD_BOOT);
	assert_false(d.ran_status);
	pt_boot_detection_release(&d);
	/* The option decides by itself. */
	assert_int_equal(pt_boot_loader_choose(pve2, "grub", true, 10, &d, reports_fresh(&rep)), 0);
	assert_int_equal(d.loader, PT_BOOT_GRUB);
	assert_string_equal(d.reason, "set by the bootloader option");
	pt_boot_detection_release(&d);
	const char *pve1 = fresh_root("pve1-gtx1050ti", "choose");
	assert_int_equal(pt_boot_loader_choose(pve1, NULL, true, 10, &d, reports_fresh(&rep)), 0);
	assert_int_equal(d.loader, PT_BOOT_GRUB);
	pt_boot_detection_release(&d);
	assert_int_equal(
	        pt_boot_loader_choose(pve1, "systemd-boot", false, 10, &d, reports_fresh(&rep)), 0);
	assert_int_equal(d.loader, PT_BOOT_SYSTEMD_BOOT);
	assert_false(d.ran_status);
	pt_boot_detection_release(&d);
	pt_report_release(&rep);
}

/* ---- the plan ------------------------------------------------------------------------ */

static void test_plan_pve1_grub(void **state)
{
	(void)state;
	const char *pve1 = fresh_root("pve1-gtx1050ti", "plan");
	struct pt_boot_iommu_request req = want(true, "intel", true, NULL, 0);
	struct pt_boot_cmdline_plan p;
	struct pt_report rep = {0};
	assert_int_equal(plan(&p, &rep, pve1, "/etc/default/grub", PT_BOOT_GRUB, &req), 0);
	assert_null(rep.msg);
	assert_string_equal(p.cmdline_before, "quiet");
	assert_string_equal(p.cmdline_after, "quiet intel_iommu=on iommu=pt");
	_cleanup_free_ char *added = joined(p.chg.added, p.chg.n_added);
	assert_string_equal(added, "intel_iommu=on iommu=pt");
	assert_int_equal(p.chg.n_removed, 0);
	assert_true(pt_boot_cmdline_plan_changed(&p));
	/* One line changes, every other byte stays. */
	assert_non_null(strstr(p.after, "\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet intel_iommu=on "
	                                "iommu=pt\"\nGRUB_CMDLINE_LINUX=\"\"\n"));
	assert_int_equal(p.after_len, p.before_len + strlen(" intel_iommu=on iommu=pt"));
	/* proxmox-ve.cfg in grub.d does not set the variable: nothing to say. */
	assert_int_equal(json_array_size(rep.warnings), 0);

	/* Written, the same run plans nothing: idempotent. */
	char *backup = NULL;
	assert_int_equal(pt_boot_update_write(&p, true, &backup, reports_fresh(&rep)), 0);
	assert_non_null(backup);
	assert_memory_equal(backup, "/etc/default/grub.", strlen("/etc/default/grub."));
	_cleanup_free_ char *saved = get(pve1, backup);
	assert_string_equal(saved, p.before);
	free(backup);
	_cleanup_free_ char *written = get(pve1, "/etc/default/grub");
	assert_string_equal(written, p.after);
	pt_boot_cmdline_plan_release(&p);
	assert_int_equal(plan(&p, &rep, pve1, "/etc/default/grub", PT_BOOT_GRUB, &req), 0);
	assert_false(pt_boot_cmdline_plan_changed(&p));
	assert_int_equal(p.chg.n_added + p.chg.n_removed, 0);
	pt_boot_cmdline_plan_release(&p);

	/* absent undoes present. */
	req = want(false, "intel", true, NULL, 0);
	assert_int_equal(plan(&p, &rep, pve1, "/etc/default/grub", PT_BOOT_GRUB, &req), 0);
	assert_string_equal(p.cmdline_after, "quiet");
	assert_string_equal(p.after, saved);
	pt_boot_cmdline_plan_release(&p);
	pt_report_release(&rep);
}

static void test_plan_pve2_systemd_boot(void **state)
{
	(void)state;
	const char *pve2 = fresh_root("pve2-systemd-boot", "plan");
	const char *extra[] = {"video=efifb:off"};
	struct pt_boot_iommu_request req = want(true, "amd", true, extra, 1);
	struct pt_boot_cmdline_plan p;
	struct pt_report rep = {0};
	assert_int_equal(plan(&p, &rep, pve2, "/etc/kernel/cmdline", PT_BOOT_SYSTEMD_BOOT, &req),
	                 0);
	assert_string_equal(p.cmdline_after, "root=ZFS=rpool/ROOT/pve-1 boot=zfs iommu=pt "
	                                     "video=efifb:off");
	assert_string_equal(p.after,
	                    "root=ZFS=rpool/ROOT/pve-1 boot=zfs iommu=pt video=efifb:off\n");
	pt_boot_cmdline_plan_release(&p);

	/* Removing root= would leave proxmox-boot-tool nothing to boot. */
	const char *root_key[] = {"root"};
	req = want(false, "amd", false, root_key, 1);
	assert_int_equal(plan(&p, &rep, pve2, "/etc/kernel/cmdline", PT_BOOT_SYSTEMD_BOOT, &req),
	                 -EINVAL);
	assert_non_null(strstr(rep.msg, "has no root= parameter"));
	pt_boot_cmdline_plan_release(&p);
	pt_report_release(&rep);
}

static void test_plan_refusals(void **state)
{
	(void)state;
	const char *pve1 = fresh_root("pve1-gtx1050ti", "refusals");
	struct pt_boot_iommu_request req = want(true, "intel", true, NULL, 0);
	struct pt_boot_cmdline_plan p;
	struct pt_report rep = {0};

	assert_int_equal(plan(&p, &rep, pve1, "/etc/kernel/cmdline", PT_BOOT_SYSTEMD_BOOT, &req),
	                 -ENOENT);
	assert_non_null(
	        strstr(rep.msg, "/etc/kernel/cmdline does not exist; on a systemd-boot host"));
	pt_boot_cmdline_plan_release(&p);
	assert_int_equal(plan(&p, &rep, pve1, "/etc/nope", PT_BOOT_GRUB, &req), -ENOENT);
	assert_non_null(strstr(rep.msg, "is GRUB installed?"));
	assert_non_null(strstr(rep.msg, "(boot loader: test)"));
	pt_boot_cmdline_plan_release(&p);

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
		assert_int_equal(plan(&p, &rep, pve1, "/etc/default/grub", PT_BOOT_GRUB, &req),
		                 -EINVAL);
		assert_non_null(strstr(rep.msg, refused[i].message));
		assert_non_null(strstr(rep.msg, "/etc/default/grub"));
		pt_boot_cmdline_plan_release(&p);
	}
	pt_report_release(&rep);
}

static void test_plan_warnings(void **state)
{
	(void)state;
	const char *pve1 = fresh_root("pve1-gtx1050ti", "warnings");
	struct pt_boot_iommu_request req = want(true, "intel", true, NULL, 0);
	struct pt_boot_cmdline_plan p;
	struct pt_report rep = {0};

	put(pve1, "/etc/default/grub",
	    "GRUB_CMDLINE_LINUX_DEFAULT=\"splash\"\nGRUB_TIMEOUT=5\n"
	    "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet amd_iommu=on amd_iommu=off\"\n"
	    "GRUB_CMDLINE_LINUX=\"iommu=soft\"\n");
	put(pve1, "/etc/default/grub.d/50-cloudimg-settings.cfg",
	    "GRUB_CMDLINE_LINUX_DEFAULT=\"console=ttyS0\"\n");
	put(pve1, "/etc/default/grub.d/60-appends.cfg",
	    "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT x\"\n");
	assert_int_equal(plan(&p, &rep, pve1, "/etc/default/grub", PT_BOOT_GRUB, &req), 0);
	assert_string_equal(p.cmdline_after, "quiet amd_iommu=on amd_iommu=off intel_iommu=on "
	                                     "iommu=pt");
	assert_true(reports_warned(&rep, "amd_iommu=on, which is not a valid value", NULL));
	assert_true(
	        reports_warned(&rep, "holds amd_iommu=off, which turns the AMD IOMMU off", NULL));
	assert_true(reports_warned(&rep, "is set 2 times", "(first on line 1, last on line 3)"));
	assert_true(reports_warned(&rep,
	                           "GRUB_CMDLINE_LINUX in /etc/default/grub (line 4) also holds "
	                           "iommu=soft",
	                           NULL));
	assert_true(reports_warned(&rep, "/etc/default/grub.d/50-cloudimg-settings.cfg sets",
	                           "(line 1)"));
	assert_false(reports_warned(&rep, "60-appends.cfg", NULL));
	assert_int_equal(json_array_size(rep.warnings), 5);
	/* In the order found: the command line itself, then the file around it. */
	assert_non_null(strstr(reports_warning(&rep, 0), "amd_iommu=on"));
	assert_non_null(strstr(reports_warning(&rep, 4), "grub.d"));
	pt_boot_cmdline_plan_release(&p);

	/* The drop-in is the file's business only when the file is /etc/default/grub. */
	assert_int_equal(plan(&p, &rep, pve1, "/etc/default/grub.d/50-cloudimg-settings.cfg",
	                      PT_BOOT_GRUB, &req),
	                 0);
	assert_false(reports_warned(&rep, "grub.d", "sets"));
	pt_boot_cmdline_plan_release(&p);
	pt_report_release(&rep);
}

/* ---- the length of the command line ----------------------------------------------------- */

/* One parameter of len bytes, "x=aaa...". Caller frees. */
static char *param_of_length(size_t len)
{
	char *s = malloc(len + 1);
	assert_non_null(s);
	memset(s, 'a', len);
	memcpy(s, "x=", 2);
	s[len] = '\0';
	return s;
}

static void test_params_length(void **state)
{
	(void)state;
	struct pt_report rep = {0};
	_cleanup_free_ char *fits = param_of_length(PT_CMDLINE_KERNEL_SIZE - 1);
	_cleanup_free_ char *over = param_of_length(PT_CMDLINE_KERNEL_SIZE);
	const char *good[] = {"quiet", fits};
	assert_int_equal(pt_boot_iommu_params_check(good, 2, reports_fresh(&rep)), 0);
	const char *bad[] = {"quiet", over};
	assert_int_equal(pt_boot_iommu_params_check(bad, 2, reports_fresh(&rep)), -EINVAL);
	assert_non_null(strstr(rep.msg,
	                       "params[1] (x=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...) is 2048 bytes "
	                       "long, too long for the kernel command line: the kernel "
	                       "keeps 2048 bytes"));
	/* The message quotes the start of the item, not half a UTF-8 character. */
	over[31] = (char)0xc3; /* é */
	over[32] = (char)0xa9;
	assert_int_equal(pt_boot_iommu_params_check(bad, 2, reports_fresh(&rep)), -EINVAL);
	assert_non_null(strstr(rep.msg, "(x=aaaaaaaaaaaaaaaaaaaaaaaaaaaaa...)"));
	pt_report_release(&rep);
}

/* The GRUB line: GRUB_CMDLINE_LINUX (empty on pve1), a blank, then
 * GRUB_CMDLINE_LINUX_DEFAULT. At the limit passes, one byte more is refused,
 * before anything is planned to be written. */
static void test_plan_length_grub(void **state)
{
	(void)state;
	const char *pve1 = fresh_root("pve1-gtx1050ti", "length");
	size_t fixed = strlen(" quiet intel_iommu=on iommu=pt ");
	_cleanup_free_ char *at = param_of_length(PT_BOOT_CMDLINE_MAX_LENGTH - fixed);
	_cleanup_free_ char *over = param_of_length(PT_BOOT_CMDLINE_MAX_LENGTH - fixed + 1);
	const char *items[] = {at};
	struct pt_boot_iommu_request req = want(true, "intel", true, items, 1);
	struct pt_boot_cmdline_plan p;
	struct pt_report rep = {0};
	assert_int_equal(PT_BOOT_CMDLINE_MAX_LENGTH, 2048 - 1 - 256);
	assert_int_equal(plan(&p, &rep, pve1, "/etc/default/grub", PT_BOOT_GRUB, &req), 0);
	assert_int_equal(1 + strlen(p.cmdline_after), PT_BOOT_CMDLINE_MAX_LENGTH);
	assert_true(pt_boot_cmdline_plan_changed(&p));
	assert_int_equal(json_array_size(rep.warnings), 0);
	pt_boot_cmdline_plan_release(&p);

	items[0] = over;
	assert_int_equal(plan(&p, &rep, pve1, "/etc/default/grub", PT_BOOT_GRUB, &req), -EINVAL);
	assert_non_null(strstr(rep.msg,
	                       "the kernel command line in /etc/default/grub "
	                       "(GRUB_CMDLINE_LINUX, a blank and GRUB_CMDLINE_LINUX_DEFAULT) "
	                       "would be 1792 bytes long after this run (6 now), too long"));
	assert_non_null(strstr(rep.msg, "keeps 2048 bytes"));
	assert_non_null(strstr(rep.msg, "adds up to 256"));
	assert_non_null(strstr(rep.msg, "at most 1791"));
	assert_false(pt_boot_cmdline_plan_changed(&p));
	pt_boot_cmdline_plan_release(&p);

	/* GRUB_CMDLINE_LINUX is on the line too, before the edited value. */
	items[0] = at;
	put(pve1, "/etc/default/grub",
	    "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\nGRUB_CMDLINE_LINUX=\"ro\"\n");
	assert_int_equal(plan(&p, &rep, pve1, "/etc/default/grub", PT_BOOT_GRUB, &req), -EINVAL);
	assert_non_null(strstr(rep.msg, "would be 1793 bytes long after this run (8 now)"));
	pt_boot_cmdline_plan_release(&p);
	pt_report_release(&rep);
}

static void test_plan_length_systemd_boot(void **state)
{
	(void)state;
	const char *pve2 = fresh_root("pve2-systemd-boot", "length");
	const char *line = "root=ZFS=rpool/ROOT/pve-1 boot=zfs";
	size_t fixed = strlen(line) + strlen(" iommu=pt ");
	_cleanup_free_ char *at = param_of_length(PT_BOOT_CMDLINE_MAX_LENGTH - fixed);
	_cleanup_free_ char *over = param_of_length(PT_BOOT_CMDLINE_MAX_LENGTH - fixed + 1);
	const char *items[] = {at};
	struct pt_boot_iommu_request req = want(true, "amd", true, items, 1);
	struct pt_boot_cmdline_plan p;
	struct pt_report rep = {0};
	assert_int_equal(plan(&p, &rep, pve2, "/etc/kernel/cmdline", PT_BOOT_SYSTEMD_BOOT, &req),
	                 0);
	assert_int_equal(strlen(p.cmdline_after), PT_BOOT_CMDLINE_MAX_LENGTH);
	pt_boot_cmdline_plan_release(&p);
	items[0] = over;
	assert_int_equal(plan(&p, &rep, pve2, "/etc/kernel/cmdline", PT_BOOT_SYSTEMD_BOOT, &req),
	                 -EINVAL);
	char want_msg[200];
	snprintf(want_msg, sizeof want_msg,
	         "the kernel command line in /etc/kernel/cmdline would be 1792 bytes long after "
	         "this run (%zu now), too long",
	         strlen(line));
	assert_non_null(strstr(rep.msg, want_msg));
	pt_boot_cmdline_plan_release(&p);
	pt_report_release(&rep);
}

/* A host whose command line is too long already keeps booting as it did: a
 * run that does not lengthen it goes ahead (with a warning), one that would is
 * refused. */
static void test_plan_length_existing(void **state)
{
	(void)state;
	const char *pve1 = fresh_root("pve1-gtx1050ti", "long");
	_cleanup_free_ char *long_param = param_of_length(2000);
	struct pt_strbuf sb = PT_STRBUF_INIT;
	pt_strbuf_printf(&sb, "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet intel_iommu=on iommu=pt %s\"\n",
	                 long_param);
	put(pve1, "/etc/default/grub", pt_strbuf_str(&sb));
	pt_strbuf_release(&sb);
	size_t now = 1 + strlen("quiet intel_iommu=on iommu=pt ") + 2000;
	char is_long[64];
	snprintf(is_long, sizeof is_long, "is %zu bytes long, more than the 1791", now);

	/* No-op: nothing to add. */
	struct pt_boot_iommu_request req = want(true, "intel", true, NULL, 0);
	struct pt_boot_cmdline_plan p;
	struct pt_report rep = {0};
	assert_int_equal(plan(&p, &rep, pve1, "/etc/default/grub", PT_BOOT_GRUB, &req), 0);
	assert_false(pt_boot_cmdline_plan_changed(&p));
	assert_true(reports_warned(&rep, "/etc/default/grub", is_long));
	assert_true(reports_warned(&rep, "This run does not lengthen it", NULL));
	pt_boot_cmdline_plan_release(&p);

	/* Replacing a value by one as long, or removing, does not lengthen it. */
	sb = (struct pt_strbuf)PT_STRBUF_INIT;
	pt_strbuf_printf(&sb, "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet intel_iommu=on iommu=nt %s\"\n",
	                 long_param);
	put(pve1, "/etc/default/grub", pt_strbuf_str(&sb));
	pt_strbuf_release(&sb);
	assert_int_equal(plan(&p, &rep, pve1, "/etc/default/grub", PT_BOOT_GRUB, &req), 0);
	assert_true(pt_boot_cmdline_plan_changed(&p));
	assert_true(reports_warned(&rep, is_long, NULL));
	pt_boot_cmdline_plan_release(&p);
	req = want(false, "intel", true, NULL, 0);
	assert_int_equal(plan(&p, &rep, pve1, "/etc/default/grub", PT_BOOT_GRUB, &req), 0);
	assert_true(pt_boot_cmdline_plan_changed(&p));
	assert_true(reports_warned(&rep, "bytes long, more than the 1791", NULL));
	pt_boot_cmdline_plan_release(&p);

	/* Adding to it: refused, naming the file, the lengths and the limit. */
	const char *flag[] = {"nomodeset"};
	req = want(true, "intel", true, flag, 1);
	assert_int_equal(plan(&p, &rep, pve1, "/etc/default/grub", PT_BOOT_GRUB, &req), -EINVAL);
	char grows[120];
	snprintf(grows, sizeof grows,
	         "/etc/default/grub (GRUB_CMDLINE_LINUX, a blank and "
	         "GRUB_CMDLINE_LINUX_DEFAULT) would be %zu bytes long",
	         now + strlen(" nomodeset"));
	assert_non_null(strstr(rep.msg, grows));
	assert_non_null(strstr(rep.msg, "at most 1791"));
	pt_boot_cmdline_plan_release(&p);
	pt_report_release(&rep);
}

/* ---- long params lists ------------------------------------------------------------------ */

static void test_many_params(void **state)
{
	(void)state;
	enum { N = 20000 };
	char(*names)[16] = calloc(N, sizeof *names);
	const char **items = calloc(N, sizeof *items);
	assert_non_null(names);
	assert_non_null(items);
	struct pt_strbuf running = PT_STRBUF_INIT;
	for (size_t i = 0; i < N; i++) {
		snprintf(names[i], sizeof names[i], i % 2 ? "k%zu=v" : "f%zu", i);
		items[i] = names[i];
		pt_strbuf_printf(&running, "%s ", names[i]);
	}
	/* reboot_required: every one of them there, or one missing. */
	struct pt_boot_iommu_request req = want(true, "none", false, items, N);
	assert_int_equal(pt_boot_reboot_required_cmdline(pt_strbuf_str(&running), &req), 0);
	items[N - 1] = "k19999=w";
	assert_int_equal(pt_boot_reboot_required_cmdline(pt_strbuf_str(&running), &req), 1);
	req.present = false;
	assert_int_equal(pt_boot_reboot_required_cmdline("quiet", &req), 0);
	assert_int_equal(pt_boot_reboot_required_cmdline("quiet k2 f1", &req), 0);
	/* Any occurrence of a name being removed, flag or value. */
	assert_int_equal(pt_boot_reboot_required_cmdline("quiet k3", &req), 1);
	assert_int_equal(pt_boot_reboot_required_cmdline("quiet f19998=x", &req), 1);
	pt_strbuf_release(&running);

	/* The same value asked for twice is one value: the occurrence the
	 * kernel keeps (the last) must have it, as the file ends up with it once. */
	const char *twice[] = {"video=efifb:off", "video=efifb:off"};
	req = want(true, "none", false, twice, 2);
	assert_int_equal(pt_boot_reboot_required_cmdline("video=efifb:off video=vesafb:off", &req),
	                 1);
	assert_int_equal(pt_boot_reboot_required_cmdline("video=vesafb:off video=efifb:off", &req),
	                 0);
	free(items);
	free(names);
}

/* GRUB_CMDLINE_LINUX's conflicting parameters are named once each, in the
 * order written, however many items ask for their key. */
static void test_plan_linux_conflicts(void **state)
{
	(void)state;
	const char *pve1 = fresh_root("pve1-gtx1050ti", "conflicts");
	put(pve1, "/etc/default/grub",
	    "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n"
	    "GRUB_CMDLINE_LINUX=\"iommu=soft video=x intel_iommu=on iommu=1 -- iommu=2\"\n");
	const char *video[] = {"video=x", "video=y", "video=y", "iommu=pt"};
	struct pt_boot_iommu_request req = want(true, "intel", true, video, 4);
	struct pt_boot_cmdline_plan p;
	struct pt_report rep = {0};
	assert_int_equal(plan(&p, &rep, pve1, "/etc/default/grub", PT_BOOT_GRUB, &req), 0);
	assert_true(reports_warned(
	        &rep, "(line 2) also holds iommu=soft, video=x, iommu=1; it is not edited", NULL));
	pt_boot_cmdline_plan_release(&p);
	const char *keys[] = {"video", "iommu"};
	req = want(false, "intel", true, keys, 2);
	assert_int_equal(plan(&p, &rep, pve1, "/etc/default/grub", PT_BOOT_GRUB, &req), 0);
	assert_true(
	        reports_warned(&rep,
	                       "also holds iommu=soft, video=x, intel_iommu=on, iommu=1; it is not "
	                       "edited",
	                       "remove it there as well"));
	pt_boot_cmdline_plan_release(&p);
	pt_report_release(&rep);
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
	tmptree_run(mk);
	const char *const install[] = {"/usr/bin/install", "-m", "0755", RECORD_CMD, stub, NULL};
	tmptree_run(install);

	struct pt_boot_iommu_request req = want(true, "intel", true, NULL, 0);
	struct pt_boot_cmdline_plan p;
	struct pt_report rep = {0};
	assert_int_equal(plan(&p, &rep, pve1, "/etc/default/grub", PT_BOOT_GRUB, &req), 0);
	assert_string_equal(pt_boot_update_command(p.loader), "update-grub");
	struct pt_exec_result res;
	assert_int_equal(pt_boot_update_run(&p, 30, &res, reports_fresh(&rep)), 0);
	assert_null(rep.msg);
	assert_int_equal(res.rc, 0);
	pt_exec_result_release(&res);
	_cleanup_free_ char *log = get(pve1, "/var/log/record-cmd.log");
	assert_string_equal(log, "update-grub\n");

	put(pve1, "/etc/record-cmd/update-grub.rc", "1\n");
	put(pve1, "/etc/record-cmd/update-grub.err", "grub-probe: error: failed.\nmore\n");
	assert_int_equal(pt_boot_update_run(&p, 30, &res, reports_fresh(&rep)), -EIO);
	assert_int_equal(res.rc, 1);
	assert_non_null(strstr(rep.msg, "update-grub failed (rc 1: grub-probe: error: failed.); "
	                                "/etc/default/grub was changed but the boot configuration "
	                                "was not regenerated"));
	assert_non_null(
	        strstr(rep.msg, "run the task again (it reruns update-grub until it succeeds)"));
	pt_exec_result_release(&res);
	pt_boot_cmdline_plan_release(&p);
	pt_report_release(&rep);
}

/* The pending-regeneration marker: made, seen, removed; a failure to make it
 * says that nothing was written. */
static void test_boot_update_marker(void **state)
{
	(void)state;
	const char *pve1 = fresh_root("pve1-gtx1050ti", "marker");
	struct pt_report rep = {0};
	assert_false(pt_boot_update_pending(pve1));
	assert_int_equal(pt_boot_update_unmark(pve1, reports_fresh(&rep)),
	                 0); /* absent: no error */
	assert_null(rep.msg);
	assert_int_equal(pt_boot_update_mark(pve1, reports_fresh(&rep)), 0);
	assert_null(rep.msg);
	assert_true(pt_boot_update_pending(pve1));
	_cleanup_free_ char *text = get(pve1, PT_BOOT_UPDATE_PENDING);
	assert_non_null(strstr(text, "homelab.passthrough.grub_iommu"));
	assert_int_equal(pt_boot_update_mark(pve1, reports_fresh(&rep)), 0); /* twice is fine */
	assert_int_equal(pt_boot_update_unmark(pve1, reports_fresh(&rep)), 0);
	assert_false(pt_boot_update_pending(pve1));

	/* /var/lib/homelab-passthrough cannot be made: a file is in the way */
	const char *blocked = fresh_root("pve1-gtx1050ti", "marker-blocked");
	put(blocked, "/var/lib/homelab-passthrough", "not a directory\n");
	assert_true(pt_boot_update_mark(blocked, reports_fresh(&rep)) < 0);
	assert_non_null(rep.msg);
	assert_non_null(strstr(rep.msg, "cannot record that the boot configuration is to be "
	                                "regenerated before editing the file"));
	assert_non_null(strstr(rep.msg, "nothing was written"));
	assert_false(pt_boot_update_pending(blocked));
	pt_report_release(&rep);
}

/* ---- the whole run, without a process ---------------------------------------------------- */

/* What a grub_iommu task without options asks, on root, in check mode. */
static struct pt_grub_iommu_opts default_opts(const char *root)
{
	return (struct pt_grub_iommu_opts){.root = root,
	                                   .check = true,
	                                   .present = true,
	                                   .passthrough = true,
	                                   .iommu = "auto",
	                                   .bootloader = "auto",
	                                   .update = true,
	                                   .timeout = 10};
}

/* The keys of the module result that res makes (ret: what the run returned),
 * in their order, joined with spaces. Caller frees. */
static char *result_keys(const char *root, int ret, const struct pt_grub_iommu_result *res)
{
	json_t *args = json_object();
	json_object_set_new(args, "root", json_string(root));
	struct pt_module m;
	assert_int_equal(pt_module_init_json(&m, "homelab.passthrough.grub_iommu",
	                                     grub_iommu_argspec_json, args),
	                 0);
	pt_grub_iommu_result_to_module(&m, ret, res);
	json_t *r = pt_module_result(&m);
	struct pt_strbuf keys = PT_STRBUF_INIT;
	const char *key;
	json_t *v;
	json_object_foreach (r, key, v)
		pt_strbuf_printf(&keys, "%s%s", keys.len ? " " : "", key);
	json_decref(r);
	pt_module_release(&m);
	json_decref(args);
	return pt_strbuf_steal(&keys);
}

/* Check mode on the seed host: the run predicts the edit, writes nothing, runs
 * nothing, and its result keys come in RETURN's order. */
static void test_run_check_mode(void **state)
{
	(void)state;
	const char *pve1 = fresh_root("pve1-gtx1050ti", "run");
	_cleanup_free_ char *before = get(pve1, "/etc/default/grub");
	struct pt_grub_iommu_opts o = default_opts(pve1);
	struct pt_grub_iommu_result res;
	assert_int_equal(pt_grub_iommu_run(&o, &res), 0);
	assert_true(res.planned);
	assert_true(res.changed);
	assert_string_equal(res.vendor, "intel");
	assert_int_equal(res.boot.loader, PT_BOOT_GRUB);
	assert_string_equal(res.plan.path, "/etc/default/grub");
	assert_string_equal(res.plan.cmdline_after, "quiet intel_iommu=on iommu=pt");
	assert_true(res.reboot_required);
	assert_false(res.regenerate_pending);
	assert_string_equal(res.update_command, "update-grub");
	assert_false(res.update_ran);
	assert_null(res.backup_file);
	assert_null(res.report.msg);
	assert_int_equal(json_array_size(res.report.diffs), 1);
	assert_int_equal(json_array_size(res.report.warnings), 0);
	_cleanup_free_ char *after = get(pve1, "/etc/default/grub");
	assert_string_equal(after, before);
	assert_false(pt_boot_update_pending(pve1));

	_cleanup_free_ char *keys = result_keys(pve1, 0, &res);
	assert_string_equal(keys, "changed bootloader bootloader_reason iommu_vendor path cmdline "
	                          "cmdline_before params_added params_removed reboot_required "
	                          "update_command regenerate_pending invocation");
	pt_grub_iommu_result_release(&res);
}

/* A run refused before the plan says why and nothing else: msg, then the
 * changed: false the runtime adds. */
static void test_run_refused_early(void **state)
{
	(void)state;
	const char *pve1 = fresh_root("pve1-gtx1050ti", "refused");
	json_t *params = json_array();
	json_array_append_new(params, json_string("quiet"));
	json_array_append_new(params, json_string(""));
	struct pt_grub_iommu_opts o = default_opts(pve1);
	o.params = params;
	struct pt_grub_iommu_result res;
	int ret = pt_grub_iommu_run(&o, &res);
	assert_int_equal(ret, -EINVAL);
	assert_false(res.planned);
	assert_int_equal(res.report.error, -EINVAL);
	assert_non_null(strstr(res.report.msg, "params[1] is empty"));
	_cleanup_free_ char *keys = result_keys(pve1, ret, &res);
	assert_string_equal(keys, "msg changed failed invocation");
	pt_grub_iommu_result_release(&res);
	json_decref(params);
}

static int setup(void **state)
{
	return mkroot_group_setup(state, workdir, "grub-iommu");
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
	        cmocka_unit_test(test_params_length),
	        cmocka_unit_test(test_plan_length_grub),
	        cmocka_unit_test(test_plan_length_systemd_boot),
	        cmocka_unit_test(test_plan_length_existing),
	        cmocka_unit_test(test_many_params),
	        cmocka_unit_test(test_plan_linux_conflicts),
	        cmocka_unit_test(test_boot_update_run),
	        cmocka_unit_test(test_boot_update_marker),
	        cmocka_unit_test(test_run_check_mode),
	        cmocka_unit_test(test_run_refused_early),
	};
	return cmocka_run_group_tests(tests, setup, mkroot_group_teardown);
}
