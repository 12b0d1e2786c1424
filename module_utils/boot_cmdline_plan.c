#include "boot_cmdline_plan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "boot_grub_default.h"
#include "boot_grub_warnings.h"
#include "boot_kernel_cmdline.h"
#include "cleanup.h"
#include "files.h"

int pt_boot_cmdline_plan_read(struct pt_boot_cmdline_plan *p, const char *root, const char *path,
                              enum pt_boot_loader loader, const char *reason, struct pt_report *rep)
{
	memset(p, 0, sizeof *p);
	p->loader = loader;
	p->root = root;
	p->path = path;
	p->full_path = pt_path_join(root, path);
	if (!p->full_path)
		return -ENOMEM;
	int e = pt_file_read(p->full_path, &p->before, &p->before_len);
	if (e == -ENOENT && loader == PT_BOOT_SYSTEMD_BOOT)
		return pt_report_fail(
		        rep, e,
		        "%s does not exist; on a systemd-boot host proxmox-boot-tool takes "
		        "the kernel command line from it. Create it with the current "
		        "command line (/proc/cmdline without BOOT_IMAGE= and initrd=, e.g. "
		        "root=ZFS=rpool/ROOT/pve-1 boot=zfs) and run again",
		        path);
	if (e == -ENOENT)
		return pt_report_fail(
		        rep, e,
		        "%s does not exist; is GRUB installed? If the host boots with "
		        "systemd-boot, set bootloader: systemd-boot (boot loader: %s)",
		        path, reason);
	if (e < 0)
		return pt_report_fail(rep, e, "cannot read %s: %s", path, strerror(-e));
	return 0;
}

/* amd_iommu=on is not a value the kernel knows, and amd_iommu=off turns the
 * IOMMU off: both survive a run that only adds, so say so. */
static void warn_amd_iommu(const struct pt_boot_cmdline_plan *p, const struct pt_cmdline *cl,
                           struct pt_report *rep)
{
	for (size_t i = 0; i < cl->n; i++) {
		const struct pt_cmdline_token *t = &cl->tokens[i];
		if (t->for_init || !t->value || !pt_cmdline_key_equal(t->key, "amd_iommu"))
			continue;
		if (strcmp(t->value, "on") == 0)
			pt_report_warn(rep,
			               "%s holds amd_iommu=on, which is not a valid value and "
			               "does nothing (AMD-Vi is on by default); the module "
			               "leaves it. Remove it with state: absent, params: "
			               "[amd_iommu] if you like",
			               p->path);
		else if (pt_boot_iommu_params_list_has(t->value, "off"))
			pt_report_warn(rep,
			               "%s holds %s, which turns the AMD IOMMU off: passthrough "
			               "will not work until it is removed (state: absent, "
			               "params: [amd_iommu])",
			               p->path, t->raw);
	}
}

/* cmdline_after and chg from cmdline_before; *items receives what was asked
 * (caller frees the vector). */
static int edit_cmdline(struct pt_boot_cmdline_plan *p, const struct pt_boot_iommu_request *req,
                        const char ***items, size_t *n, struct pt_report *rep)
{
	struct pt_cmdline cl;
	if (pt_cmdline_parse(p->cmdline_before, &cl) < 0)
		return -ENOMEM;
	if (cl.unclosed) {
		pt_cmdline_release(&cl);
		return pt_report_fail(
		        rep, -EINVAL,
		        "the kernel command line in %s has a double quote that is never "
		        "closed, so everything after it is one parameter to the kernel (%s); "
		        "close the quote and run again",
		        p->path, p->cmdline_before);
	}
	*items = pt_boot_iommu_params_wanted(req, &cl, false, n);
	if (req->present)
		warn_amd_iommu(p, &cl, rep);
	pt_cmdline_release(&cl);
	if (!*items)
		return -ENOMEM;
	return pt_cmdline_edit(p->cmdline_before,
	                       req->present ? PT_CMDLINE_ENSURE : PT_CMDLINE_REMOVE, *items, *n,
	                       &p->cmdline_after, &p->chg);
}

/* The file's command line: GRUB's value (refused when it cannot be edited) or
 * the line of /etc/kernel/cmdline. */
static int read_cmdline(struct pt_boot_cmdline_plan *p, struct pt_boot_grub_default *g,
                        struct pt_boot_kernel_cmdline *k, struct pt_report *rep)
{
	int e;
	if (p->loader == PT_BOOT_GRUB) {
		e = pt_boot_grub_default_parse(p->before, p->before_len,
		                               PT_BOOT_GRUB_CMDLINE_VARIABLE, p->path, g, rep);
		if (e == 0 && g->problem)
			return pt_report_fail(rep, -EINVAL, "%s", g->problem);
		if (e == 0)
			p->cmdline_before = strdup(g->value ? g->value : "");
	} else {
		e = pt_boot_kernel_cmdline_parse(p->before, p->before_len, p->path, k, rep);
		if (e == 0)
			p->cmdline_before = strdup(k->line);
	}
	return e == 0 && !p->cmdline_before ? -ENOMEM : e;
}

/* The length of GRUB_CMDLINE_LINUX's value in the file, which grub-mkconfig
 * puts before GRUB_CMDLINE_LINUX_DEFAULT; 0 when it is unset or not a literal
 * (the module cannot tell its length). -ENOMEM. */
static ssize_t grub_cmdline_linux_length(const struct pt_boot_cmdline_plan *p)
{
	struct pt_boot_grub_default linux_part;
	struct pt_report ignored; /* not a literal, or not parsed: its length is unknown */
	pt_report_init(&ignored);
	int e = pt_boot_grub_default_parse(p->before, p->before_len, "GRUB_CMDLINE_LINUX", p->path,
	                                   &linux_part, &ignored);
	pt_report_release(&ignored);
	ssize_t len = 0;
	if (e == -ENOMEM)
		len = -ENOMEM;
	else if (e == 0 && linux_part.value)
		len = (ssize_t)strlen(linux_part.value);
	pt_boot_grub_default_release(&linux_part);
	return len;
}

/* The kernel keeps PT_CMDLINE_KERNEL_SIZE bytes of its command line and the
 * boot loader adds its own: refuse to make the file's part longer than
 * PT_BOOT_CMDLINE_MAX_LENGTH, so that nothing is cut silently at boot. A host that
 * is over it already keeps booting as it did: a run that does not lengthen the
 * line goes ahead, and says so. */
static int check_length(const struct pt_boot_cmdline_plan *p, struct pt_report *rep)
{
	size_t extra = 0;
	const char *what = "";
	if (p->loader == PT_BOOT_GRUB) {
		ssize_t linux_len = grub_cmdline_linux_length(p);
		if (linux_len < 0)
			return (int)linux_len;
		extra = (size_t)linux_len + 1; /* and a blank */
		what = " (GRUB_CMDLINE_LINUX, a blank and " PT_BOOT_GRUB_CMDLINE_VARIABLE ")";
	}
	size_t before = extra + strlen(p->cmdline_before);
	size_t after = extra + strlen(p->cmdline_after);
	if (after <= PT_BOOT_CMDLINE_MAX_LENGTH)
		return 0;
	if (after > before)
		return pt_report_fail(
		        rep, -EINVAL,
		        "the kernel command line in %s%s would be %zu bytes long after this run "
		        "(%zu now), too long: the kernel keeps %d bytes of it (its final NUL "
		        "included) and the boot loader adds up to %d of its own (BOOT_IMAGE=, "
		        "root=, initrd=), so the module writes at most %d and the rest would be "
		        "lost at boot. Ask for fewer or shorter parameters, or shorten the "
		        "command line in %s first",
		        p->path, what, after, before, PT_CMDLINE_KERNEL_SIZE,
		        PT_BOOT_CMDLINE_LOADER_ALLOWANCE, PT_BOOT_CMDLINE_MAX_LENGTH, p->path);
	pt_report_warn(rep,
	               "the kernel command line in %s%s is %zu bytes long, more than the "
	               "%d the module writes: the kernel keeps %d bytes of it (its final "
	               "NUL included) and the boot loader adds up to %d of its own, so "
	               "its end may never reach the kernel. This run does not lengthen "
	               "it; shorten it",
	               p->path, what, after, PT_BOOT_CMDLINE_MAX_LENGTH, PT_CMDLINE_KERNEL_SIZE,
	               PT_BOOT_CMDLINE_LOADER_ALLOWANCE);
	return 0;
}

int pt_boot_cmdline_plan_edit(struct pt_boot_cmdline_plan *p,
                              const struct pt_boot_iommu_request *req, struct pt_report *rep)
{
	struct pt_boot_grub_default g;
	struct pt_boot_kernel_cmdline k;
	memset(&g, 0, sizeof g);
	memset(&k, 0, sizeof k);
	_cleanup_free_ const char **items = NULL;
	size_t n = 0;
	int e = read_cmdline(p, &g, &k, rep);
	if (e == 0)
		e = edit_cmdline(p, req, &items, &n, rep);
	if (e == 0 && p->loader == PT_BOOT_GRUB)
		pt_boot_grub_warnings_check(p->root, p->path, &g, items, n, req->present, rep);
	if (e == 0)
		e = check_length(p, rep);
	if (e == 0 && strcmp(p->cmdline_after, p->cmdline_before) == 0) {
		p->after = malloc(p->before_len + 1);
		if (p->after) {
			memcpy(p->after, p->before, p->before_len + 1);
			p->after_len = p->before_len;
		} else {
			e = -ENOMEM;
		}
	} else if (e == 0 && p->loader == PT_BOOT_GRUB) {
		e = pt_boot_grub_default_set(&g, p->cmdline_after, &p->after, &p->after_len, rep);
	} else if (e == 0) {
		e = pt_boot_kernel_cmdline_set(&k, p->cmdline_after, p->path, &p->after,
		                               &p->after_len, rep);
	}
	pt_boot_grub_default_release(&g);
	pt_boot_kernel_cmdline_release(&k);
	/* The steps explain their refusals (-EINVAL); anything else, an edit
	 * pt_cmdline_edit refuses without a word or memory running out, is said
	 * here. The report keeps its first failure, so this adds nothing after
	 * one of theirs. */
	if (e < 0)
		pt_report_fail(rep, e, "cannot edit %s: %s", p->path, strerror(-e));
	return e;
}

bool pt_boot_cmdline_plan_changed(const struct pt_boot_cmdline_plan *p)
{
	return p->after &&
	       (p->after_len != p->before_len || memcmp(p->after, p->before, p->before_len) != 0);
}

void pt_boot_cmdline_plan_release(struct pt_boot_cmdline_plan *p)
{
	free(p->full_path);
	free(p->before);
	free(p->after);
	free(p->cmdline_before);
	free(p->cmdline_after);
	pt_cmdline_change_release(&p->chg);
	memset(p, 0, sizeof *p);
}
