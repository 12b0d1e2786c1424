#include "boot_iommu_params.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "files.h"

/* How many bytes of a long item a message quotes: enough to recognise it, cut
 * where no UTF-8 sequence is split. */
static int quoted_length(const char *p)
{
	size_t len = 32;
	while (len && (p[len] & 0xc0) == 0x80)
		len--;
	return (int)len;
}

int pt_boot_iommu_params_check(const char *const *params, size_t n, struct pt_report *rep)
{
	for (size_t i = 0; i < n; i++) {
		const char *p = params[i];
		if (!p || !*p)
			return pt_report_fail(
			        rep, -EINVAL,
			        "params[%zu] is empty; give one kernel parameter per item "
			        "(key=value or a flag)",
			        i);
		/* Checked first: a huge item is not worth scanning further, nor
		 * quoting whole. */
		size_t len = strlen(p);
		if (len > PT_CMDLINE_KERNEL_SIZE - 1)
			return pt_report_fail(
			        rep, -EINVAL,
			        "params[%zu] (%.*s...) is %zu bytes long, too long for the "
			        "kernel command line: the kernel keeps %d bytes of it (its "
			        "final NUL included) and never sees the rest. Give a shorter "
			        "parameter",
			        i, quoted_length(p), p, len, PT_CMDLINE_KERNEL_SIZE);
		for (const char *c = p; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				return pt_report_fail(
				        rep, -EINVAL,
				        "params[%zu] (%s) holds a control character "
				        "(newline, tab, ...); a kernel parameter cannot",
				        i, p);
		if (!pt_cmdline_is_one_token(p))
			return pt_report_fail(
			        rep, -EINVAL,
			        "params[%zu] (%s) is not exactly one kernel parameter; give "
			        "each parameter as its own list item (quote a value that "
			        "holds blanks: acpi_osi=\"!Windows 2012\")",
			        i, p);
	}
	return 0;
}

/* The CPU vendor from <root>/proc/cpuinfo's first vendor_id line: "intel",
 * "amd", or NULL. */
static const char *cpu_vendor(const char *root)
{
	_cleanup_free_ char *path = pt_path_join(root, "/proc/cpuinfo");
	_cleanup_free_ char *data = NULL;
	if (!path || pt_file_read(path, &data, NULL) < 0)
		return NULL;
	for (char *line = data; line && *line;) {
		char *end = strchr(line, '\n');
		if (end)
			*end = '\0';
		if (strncmp(line, "vendor_id", 9) == 0) {
			if (strstr(line, "GenuineIntel"))
				return "intel";
			if (strstr(line, "AuthenticAMD") || strstr(line, "HygonGenuine"))
				return "amd";
			return NULL;
		}
		line = end ? end + 1 : NULL;
	}
	return NULL;
}

int pt_boot_iommu_params_vendor(const char *option, const char *root, const char **vendor,
                                struct pt_report *rep)
{
	if (!option || strcmp(option, "auto") != 0) {
		*vendor = option ? option : "none";
		return 0;
	}
	*vendor = cpu_vendor(root);
	if (*vendor)
		return 0;
	return pt_report_fail(
	        rep, -EINVAL,
	        "iommu is auto but the CPU vendor cannot be told from %s/proc/cpuinfo "
	        "(no GenuineIntel or AuthenticAMD vendor_id); set iommu to intel, amd "
	        "or none",
	        strcmp(root, "/") ? root : "");
}

bool pt_boot_iommu_params_list_has(const char *value, const char *item)
{
	size_t n = strlen(item);
	for (const char *p = value; p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == n && strncmp(p, item, n) == 0)
			return true;
		p = comma ? comma + 1 : NULL;
	}
	return false;
}

/* The module's own parameter key=value is already there in a richer form
 * (intel_iommu=on,sm_on; iommu=pt,...): the one kernel parameter named key
 * lists value. Several occurrences fall back to the usual rule (exactly one,
 * with this value) — unless running, where the last one is what the kernel
 * keeps. */
static bool richer_form(const struct pt_cmdline *cl, const char *key, const char *value,
                        bool running)
{
	const char *last = NULL;
	size_t count = 0;
	for (size_t i = 0; i < cl->n; i++)
		if (!cl->tokens[i].for_init && cl->tokens[i].value &&
		    pt_cmdline_key_equal(cl->tokens[i].key, key)) {
			last = cl->tokens[i].value;
			count++;
		}
	return last && (count == 1 || running) && pt_boot_iommu_params_list_has(last, value);
}

const char **pt_boot_iommu_params_wanted(const struct pt_boot_iommu_request *req,
                                         const struct pt_cmdline *cl, bool running, size_t *n)
{
	const char **items = calloc(req->n_params + 3, sizeof *items);
	if (!items)
		return NULL;
	bool intel = strcmp(req->vendor, "intel") == 0;
	size_t k = 0;
	if (req->present) {
		if (intel && !richer_form(cl, "intel_iommu", "on", running))
			items[k++] = "intel_iommu=on";
		if (req->passthrough && !richer_form(cl, "iommu", "pt", running))
			items[k++] = "iommu=pt";
	} else {
		if (intel)
			items[k++] = "intel_iommu";
		if (req->passthrough)
			items[k++] = "iommu";
	}
	for (size_t i = 0; i < req->n_params; i++)
		items[k++] = req->params[i];
	*n = k;
	return items;
}
