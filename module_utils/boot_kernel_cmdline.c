#include "boot_kernel_cmdline.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "strbuf.h"

static bool blank_only(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr(" \t\r\f\v", s[i]))
			return false;
	return true;
}

/* 1 when line holds a root= parameter, 0 when not, -ENOMEM. */
static int has_root(const char *line)
{
	struct pt_cmdline cl;
	if (pt_cmdline_parse(line, &cl) < 0)
		return -ENOMEM;
	int found = pt_cmdline_find(&cl, "root") != NULL && pt_cmdline_find(&cl, "root")->value;
	pt_cmdline_release(&cl);
	return found;
}

static int no_root(struct pt_report *rep, const char *label)
{
	return pt_report_fail(
	        rep, -EINVAL,
	        "%s has no root= parameter; proxmox-boot-tool refresh refuses such a file, so "
	        "the host would keep booting the old command line. Add the root= of "
	        "/proc/cmdline (e.g. root=ZFS=rpool/ROOT/pve-1 boot=zfs) and run again",
	        label);
}

void pt_boot_kernel_cmdline_release(struct pt_boot_kernel_cmdline *k)
{
	if (!k)
		return;
	free(k->line);
	memset(k, 0, sizeof *k);
}

int pt_boot_kernel_cmdline_parse(const char *text, size_t len, const char *label,
                                 struct pt_boot_kernel_cmdline *k, struct pt_report *rep)
{
	memset(k, 0, sizeof *k);
	k->text = text;
	k->len = len;
	if (memchr(text, '\0', len))
		return pt_report_fail(
		        rep, -EINVAL,
		        "%s holds a NUL byte: it is not a text file the module can edit", label);
	const char *nl = memchr(text, '\n', len);
	k->line_end = nl ? (size_t)(nl - text) : len;

	/* Lines after the first that hold anything never reach the kernel. */
	unsigned lineno = 2, extra = 0, first_extra = 0;
	for (size_t i = k->line_end; i < len;) {
		size_t b = i + 1, e = b;
		while (e < len && text[e] != '\n')
			e++;
		if (b <= len && !blank_only(text + b, e - b)) {
			if (!extra)
				first_extra = lineno;
			extra++;
		}
		lineno++;
		i = e;
	}
	if (text[0] == '#')
		return pt_report_fail(
		        rep, -EINVAL,
		        "%s starts with a # comment; the kernel has no comments and "
		        "proxmox-boot-tool uses the first line as the command line. Put the "
		        "parameters alone on the first line (no comments) and run again",
		        label);
	if (extra)
		return pt_report_fail(
		        rep, -EINVAL,
		        "%s has kernel parameters or comments on %u more line%s (from line %u); "
		        "proxmox-boot-tool uses only the first line, so those never reach the "
		        "kernel. Join the parameters into one line, drop the comments, and run "
		        "again",
		        label, extra, extra > 1 ? "s" : "", first_extra);
	if (blank_only(text, k->line_end))
		return pt_report_fail(
		        rep, -EINVAL,
		        "%s is empty; proxmox-boot-tool needs the whole command line there, "
		        "root= included. Write the current one (from /proc/cmdline, without "
		        "BOOT_IMAGE= and initrd=) and run again",
		        label);
	k->line = strndup(text, k->line_end);
	if (!k->line)
		return -ENOMEM;
	int r = has_root(k->line);
	if (r < 0)
		return r;
	if (!r)
		return no_root(rep, label);
	return 0;
}

int pt_boot_kernel_cmdline_set(const struct pt_boot_kernel_cmdline *k, const char *line,
                               const char *label, char **out, size_t *out_len,
                               struct pt_report *rep)
{
	*out = NULL;
	if (strchr(line, '\n'))
		return pt_report_fail(rep, -EINVAL, "the new command line for %s holds a newline",
		                      label);
	int r = has_root(line);
	if (r < 0)
		return r;
	if (!r)
		return no_root(rep, label);
	struct pt_strbuf sb = PT_STRBUF_INIT;
	pt_strbuf_puts(&sb, line);
	pt_strbuf_append(&sb, k->text + k->line_end, k->len - k->line_end);
	if (sb.oom) {
		pt_strbuf_release(&sb);
		return -ENOMEM;
	}
	*out_len = sb.len;
	*out = sb.data ? pt_strbuf_steal(&sb) : strdup("");
	return *out ? 0 : -ENOMEM;
}
