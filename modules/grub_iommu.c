/* grub_iommu: IOMMU (and other) parameters on the kernel command line the host
 * boots with next — /etc/default/grub for GRUB, /etc/kernel/cmdline for Proxmox
 * systemd-boot — and the boot configuration regenerated.
 *
 *   grub_iommu ARGS_FILE   as Ansible runs it: one JSON result on stdout
 *   grub_iommu --help
 *
 * The flow: options → vendor and boot loader → read and parse the file → edit the
 * command line tokens (cmdline.h) → render the file touching only that value
 * (grub_default.h / kernel_cmdline.h) → diff → (not in check mode) atomic write,
 * update-grub or proxmox-boot-tool refresh → reboot_required from /proc/cmdline. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "bootloader.h"
#include "cleanup.h"
#include "cmdline.h"
#include "exec.h"
#include "files.h"
#include "grub_default.h"
#include "grub_iommu_argspec.h"
#include "kernel_cmdline.h"
#include "runtime.h"
#include "strbuf.h"

#define MODULE_NAME "homelab.passthrough.grub_iommu"
#define VARIABLE    "GRUB_CMDLINE_LINUX_DEFAULT"

static const char usage[] =
        "usage: grub_iommu ARGS_FILE\n"
        "\n"
        "The Ansible module homelab.passthrough.grub_iommu: puts intel_iommu=on,\n"
        "iommu=pt and other kernel parameters on the command line the host boots\n"
        "with next (/etc/default/grub for GRUB, /etc/kernel/cmdline for Proxmox\n"
        "systemd-boot) and runs update-grub or proxmox-boot-tool refresh.\n"
        "ARGS_FILE is a JSON object of options, as Ansible writes it; see\n"
        "`ansible-doc homelab.passthrough.grub_iommu`.\n";

/* Everything one run decides, in the order it decides it. */
struct run {
	struct pt_module *m;
	const char *root;
	bool present;
	const char *vendor; /* intel, amd, none */
	bool passthrough;
	json_t *params; /* borrowed: the params option */
	enum pt_bootloader loader;
	char *reason;     /* how the boot loader was chosen (owned) */
	const char *path; /* inside root (borrowed option or static) */
	char *full_path;  /* root + path (owned) */
	char *before;     /* the file as read (owned) */
	size_t before_len;
	char *after; /* the file as it should be (owned) */
	size_t after_len;
	char *cmdline_before; /* the command line value (owned) */
	char *cmdline_after;  /* (owned) */
	struct pt_cmdline_change chg;
};

static void run_release(struct run *r)
{
	free(r->reason);
	free(r->full_path);
	free(r->before);
	free(r->after);
	free(r->cmdline_before);
	free(r->cmdline_after);
	pt_cmdline_change_release(&r->chg);
}

/* ---- options ------------------------------------------------------------ */

static int check_params(struct run *r)
{
	size_t i;
	json_t *v;
	json_array_foreach (r->params, i, v) {
		const char *p = json_string_value(v);
		if (!p || !*p)
			return pt_module_fail(r->m,
			                      "params[%zu] is empty; give one kernel parameter "
			                      "per item (key=value or a flag)",
			                      i);
		for (const char *c = p; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				return pt_module_fail(
				        r->m,
				        "params[%zu] (%s) holds a control character "
				        "(newline, tab, ...); a kernel parameter cannot",
				        i, p);
		if (!pt_cmdline_is_one_token(p))
			return pt_module_fail(
			        r->m,
			        "params[%zu] (%s) is not exactly one kernel parameter; give each "
			        "parameter as its own list item (quote a value that holds blanks: "
			        "acpi_osi=\"!Windows 2012\")",
			        i, p);
	}
	return 0;
}

/* The CPU vendor from <root>/proc/cpuinfo: "intel", "amd", or NULL. */
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

static int resolve_vendor(struct run *r)
{
	const char *opt = pt_param_str(r->m, "iommu");
	if (!opt || strcmp(opt, "auto") != 0) {
		r->vendor = opt ? opt : "none";
		return 0;
	}
	r->vendor = cpu_vendor(r->root);
	if (!r->vendor)
		return pt_module_fail(
		        r->m,
		        "iommu is auto but the CPU vendor cannot be told from "
		        "%s/proc/cpuinfo (no GenuineIntel or AuthenticAMD vendor_id); "
		        "set iommu to intel, amd or none",
		        strcmp(r->root, "/") ? r->root : "");
	return 0;
}

static int choose_bootloader(struct run *r)
{
	const char *opt = pt_param_str(r->m, "bootloader");
	if (opt && strcmp(opt, "auto") != 0) {
		r->loader = strcmp(opt, "systemd-boot") == 0 ? PT_BOOT_SYSTEMD_BOOT : PT_BOOT_GRUB;
		r->reason = strdup("set by the bootloader option");
		return r->reason ? 0 : pt_module_fail(r->m, "out of memory");
	}
	struct pt_boot_detection d = {0};
	int timeout = (int)pt_param_int(r->m, "timeout", 600);
	/* status mounts the ESPs for a moment: check mode decides from files. */
	int e = r->m->check_mode ? pt_bootloader_detect_files(r->root, &d)
	                         : pt_bootloader_detect(r->root, timeout, &d);
	if (e < 0) {
		pt_boot_detection_release(&d);
		return pt_module_fail(r->m, "out of memory while detecting the boot loader");
	}
	if (d.warning)
		pt_warn(r->m, "%s", d.warning);
	r->loader = d.loader;
	r->reason = PT_STEAL(d.reason);
	pt_boot_detection_release(&d);
	return 0;
}

/* ---- what to ask of the command line ------------------------------------- */

/* The last value of key in text, or NULL. Caller frees. */
static char *last_value(const struct pt_cmdline *cl, const char *key, size_t *count)
{
	const char *v = NULL;
	*count = 0;
	for (size_t i = 0; i < cl->n; i++)
		if (!cl->tokens[i].for_init && cl->tokens[i].value &&
		    pt_cmdline_key_equal(cl->tokens[i].key, key)) {
			v = cl->tokens[i].value;
			(*count)++;
		}
	return v ? strdup(v) : NULL;
}

/* value is a comma-separated list holding item. */
static bool list_has(const char *value, const char *item)
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
 * (intel_iommu=on,sm_on; iommu=pt,...): the one occurrence of key lists value.
 * With several occurrences the usual rule (exactly one, this value) applies;
 * `any_count` relaxes that for /proc/cmdline, where the last one counts. */
static bool richer_form(const struct pt_cmdline *cl, const char *key, const char *value,
                        bool any_count)
{
	size_t count;
	_cleanup_free_ char *v = last_value(cl, key, &count);
	return v && (count == 1 || any_count) && list_has(v, value);
}

/* The items for this run against command line cl: present → the parameters to
 * ensure; absent → the keys to remove. A JSON array of strings (new reference). */
static json_t *wanted_items(const struct run *r, const struct pt_cmdline *cl, bool for_proc)
{
	json_t *items = json_array();
	bool intel = strcmp(r->vendor, "intel") == 0;
	if (r->present) {
		if (intel && !richer_form(cl, "intel_iommu", "on", for_proc))
			json_array_append_new(items, json_string("intel_iommu=on"));
		if (r->passthrough && !richer_form(cl, "iommu", "pt", for_proc))
			json_array_append_new(items, json_string("iommu=pt"));
	} else {
		if (intel)
			json_array_append_new(items, json_string("intel_iommu"));
		if (r->passthrough)
			json_array_append_new(items, json_string("iommu"));
	}
	size_t i;
	json_t *v;
	json_array_foreach (r->params, i, v)
		json_array_append(items, v);
	return items;
}

/* items as a C array borrowing the JSON strings. Caller frees the array. */
static const char **item_vector(json_t *items)
{
	size_t n = json_array_size(items);
	const char **v = calloc(n + 1, sizeof *v);
	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++)
		v[i] = json_string_value(json_array_get(items, i));
	return v;
}

/* ---- reading and editing the file ----------------------------------------- */

static int read_file(struct run *r)
{
	int e = pt_file_read(r->full_path, &r->before, &r->before_len);
	if (e == -ENOENT) {
		if (r->loader == PT_BOOT_SYSTEMD_BOOT)
			return pt_module_fail(
			        r->m,
			        "%s does not exist; on a systemd-boot host proxmox-boot-tool takes "
			        "the "
			        "kernel command line from it. Create it with the current command "
			        "line "
			        "(/proc/cmdline without BOOT_IMAGE= and initrd=, e.g. "
			        "root=ZFS=rpool/ROOT/pve-1 boot=zfs) and run again",
			        r->path);
		return pt_module_fail(
		        r->m,
		        "%s does not exist; is GRUB installed? If the host boots with "
		        "systemd-boot, set bootloader: systemd-boot (boot loader: %s)",
		        r->path, r->reason);
	}
	if (e < 0)
		return pt_module_fail(r->m, "cannot read %s: %s", r->path, strerror(-e));
	return 0;
}

static void warn_amd_iommu(struct run *r, const struct pt_cmdline *cl)
{
	if (!r->present)
		return;
	for (size_t i = 0; i < cl->n; i++) {
		const struct pt_cmdline_token *t = &cl->tokens[i];
		if (t->for_init || !t->value || !pt_cmdline_key_equal(t->key, "amd_iommu"))
			continue;
		if (strcmp(t->value, "on") == 0)
			pt_warn(r->m,
			        "%s holds amd_iommu=on, which is not a valid value and does "
			        "nothing "
			        "(AMD-Vi is on by default); the module leaves it. Remove it with "
			        "state: absent, params: [amd_iommu] if you like",
			        r->path);
		else if (list_has(t->value, "off"))
			pt_warn(r->m,
			        "%s holds %s, which turns the AMD IOMMU off: passthrough will not "
			        "work "
			        "until it is removed (state: absent, params: [amd_iommu])",
			        r->path, t->raw);
	}
}

/* GRUB_CMDLINE_LINUX also ends up on the kernel command line: say when it holds
 * one of the keys this run changes. */
static void warn_cmdline_linux(struct run *r, json_t *items)
{
	struct pt_grub_default g;
	_cleanup_free_ char *err = NULL;
	if (pt_grub_default_parse(r->before, r->before_len, "GRUB_CMDLINE_LINUX", r->path, &g,
	                          &err) < 0 ||
	    !g.value) {
		pt_grub_default_release(&g);
		return;
	}
	struct pt_cmdline cl;
	if (pt_cmdline_parse(g.value, &cl) < 0) {
		pt_grub_default_release(&g);
		return;
	}
	struct pt_strbuf keys = PT_STRBUF_INIT;
	size_t i;
	json_t *v;
	json_array_foreach (items, i, v) {
		struct pt_cmdline item;
		if (pt_cmdline_parse(json_string_value(v), &item) < 0 || item.n != 1) {
			pt_cmdline_release(&item);
			continue;
		}
		const struct pt_cmdline_token *want = &item.tokens[0];
		for (size_t k = 0; k < cl.n; k++) {
			const struct pt_cmdline_token *t = &cl.tokens[k];
			if (t->for_init || !pt_cmdline_key_equal(t->key, want->key))
				continue;
			/* present: only another value conflicts; absent: any occurrence. */
			bool conflict = want->value && t->value && strcmp(want->value, t->value);
			if (!r->present || conflict)
				pt_strbuf_printf(&keys, "%s%s", keys.len ? ", " : "", t->raw);
		}
		pt_cmdline_release(&item);
	}
	if (keys.len)
		pt_warn(r->m,
		        "GRUB_CMDLINE_LINUX in %s (line %u) also holds %s; it is not edited and "
		        "ends up on the kernel command line too (before " VARIABLE ")%s",
		        r->path, g.line, pt_strbuf_str(&keys),
		        r->present ? "" : ": remove it there as well");
	pt_strbuf_release(&keys);
	pt_cmdline_release(&cl);
	pt_grub_default_release(&g);
}

static int name_compare(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .cfg files in /etc/default/grub.d are sourced after /etc/default/grub, in name order:
 * one that sets the variable outright overrides the edit. */
static void warn_dropins(struct run *r)
{
	if (strcmp(r->path, "/etc/default/grub") != 0)
		return;
	_cleanup_free_ char *dir = pt_path_join(r->root, "/etc/default/grub.d");
	DIR *d = dir ? opendir(dir) : NULL;
	if (!d)
		return;
	char **names = NULL;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len < 5 || strcmp(e->d_name + len - 4, ".cfg") != 0)
			continue;
		char **p = realloc(names, (n + 1) * sizeof *p);
		if (!p)
			break;
		names = p;
		names[n] = strdup(e->d_name);
		if (names[n])
			n++;
	}
	closedir(d);
	qsort(names, n, sizeof *names, name_compare);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *label = NULL, *full = NULL, *data = NULL, *err = NULL;
		size_t len = 0;
		if (asprintf(&label, "/etc/default/grub.d/%s", names[i]) < 0)
			label = NULL;
		full = label ? pt_path_join(r->root, label) : NULL;
		if (!full || pt_file_read(full, &data, &len) < 0)
			continue;
		struct pt_grub_default g;
		int e2 = pt_grub_default_parse(data, len, VARIABLE, label, &g, &err);
		if (e2 == -EINVAL)
			pt_warn(r->m, "cannot tell whether %s changes " VARIABLE " after %s: %s",
			        label, r->path, err ? err : "it does not parse");
		else if (e2 == 0 && g.n_set && !g.self_reference)
			pt_warn(r->m,
			        "%s sets " VARIABLE
			        " (line %u) after %s is read, so its value is what "
			        "boots and the change in %s has no effect; edit that file instead "
			        "(path: %s)",
			        label, g.line, r->path, r->path, label);
		pt_grub_default_release(&g);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* The new command line: r->cmdline_after and r->chg from r->cmdline_before.
 * items receives the items asked for (new reference). 0 or -ENOMEM. */
static int edit_cmdline(struct run *r, json_t **items, char **err)
{
	struct pt_cmdline cl;
	if (pt_cmdline_parse(r->cmdline_before, &cl) < 0)
		return -ENOMEM;
	if (cl.unclosed) {
		pt_cmdline_release(&cl);
		if (asprintf(err,
		             "the kernel command line in %s has a double quote that is never "
		             "closed, so everything after it is one parameter to the kernel (%s); "
		             "close the quote and run again",
		             r->path, r->cmdline_before) < 0)
			*err = NULL;
		return *err ? -EINVAL : -ENOMEM;
	}
	*items = wanted_items(r, &cl, false);
	warn_amd_iommu(r, &cl);
	pt_cmdline_release(&cl);
	_cleanup_free_ const char **vec = item_vector(*items);
	if (!vec)
		return -ENOMEM;
	return pt_cmdline_edit(r->cmdline_before,
	                       r->present ? PT_CMDLINE_ENSURE : PT_CMDLINE_REMOVE, vec,
	                       json_array_size(*items), &r->cmdline_after, &r->chg);
}

/* Parse the file, compute the new command line and the new file text. */
static int plan(struct run *r)
{
	_cleanup_free_ char *err = NULL;
	_cleanup_json_ json_t *items = NULL;
	struct pt_grub_default g;
	struct pt_kernel_cmdline k;
	memset(&g, 0, sizeof g);
	memset(&k, 0, sizeof k);
	int e;
	if (r->loader == PT_BOOT_GRUB) {
		e = pt_grub_default_parse(r->before, r->before_len, VARIABLE, r->path, &g, &err);
		if (e == 0 && g.problem) {
			e = -EINVAL;
			err = strdup(g.problem);
		}
		if (e == 0)
			r->cmdline_before = strdup(g.value ? g.value : "");
	} else {
		e = pt_kernel_cmdline_parse(r->before, r->before_len, r->path, &k, &err);
		if (e == 0)
			r->cmdline_before = strdup(k.line);
	}
	if (e == 0 && !r->cmdline_before)
		e = -ENOMEM;
	if (e == 0)
		e = edit_cmdline(r, &items, &err);
	if (e == 0 && r->loader == PT_BOOT_GRUB) {
		if (g.n_set > 1)
			pt_warn(r->m,
			        VARIABLE
			        " is set %u times in %s (first on line %u, last on line %u); "
			        "the module edits line %u, the one that takes effect. Remove the "
			        "other assignments so the file says what boots",
			        g.n_set, r->path, g.first_line, g.line, g.line);
		warn_cmdline_linux(r, items);
		warn_dropins(r);
	}
	if (e == 0 && strcmp(r->cmdline_after, r->cmdline_before) == 0) {
		r->after = malloc(r->before_len + 1);
		if (r->after) {
			memcpy(r->after, r->before, r->before_len + 1);
			r->after_len = r->before_len;
		} else {
			e = -ENOMEM;
		}
	} else if (e == 0 && r->loader == PT_BOOT_GRUB) {
		e = pt_grub_default_set(&g, r->cmdline_after, &r->after, &r->after_len, &err);
	} else if (e == 0) {
		e = pt_kernel_cmdline_set(&k, r->cmdline_after, r->path, &r->after, &r->after_len,
		                          &err);
	}
	pt_grub_default_release(&g);
	pt_kernel_cmdline_release(&k);
	if (e == -EINVAL && err)
		return pt_module_fail(r->m, "%s", err);
	if (e < 0)
		return pt_module_fail(r->m, "cannot edit %s: %s", r->path, strerror(-e));
	return 0;
}

/* ---- the running kernel -------------------------------------------------- */

/* How many key=value items name key. */
static size_t valued_items(json_t *items, const char *key)
{
	size_t n = 0, i;
	json_t *v;
	json_array_foreach (items, i, v) {
		struct pt_cmdline item;
		if (pt_cmdline_parse(json_string_value(v), &item) < 0)
			continue;
		if (item.n == 1 && item.tokens[0].value &&
		    pt_cmdline_key_equal(item.tokens[0].key, key))
			n++;
		pt_cmdline_release(&item);
	}
	return n;
}

/* Does the running command line (<root>/proc/cmdline) lack what was asked?
 * -1 when it cannot be read. */
static int running_differs(const struct run *r)
{
	_cleanup_free_ char *path = pt_path_join(r->root, "/proc/cmdline");
	_cleanup_free_ char *text = NULL;
	if (!path || pt_file_read(path, &text, NULL) < 0)
		return -1;
	struct pt_cmdline cl;
	if (pt_cmdline_parse(text, &cl) < 0)
		return -1;
	_cleanup_json_ json_t *items = wanted_items(r, &cl, true);
	int differs = 0;
	size_t i;
	json_t *v;
	json_array_foreach (items, i, v) {
		struct pt_cmdline item;
		if (pt_cmdline_parse(json_string_value(v), &item) < 0 || item.n != 1) {
			pt_cmdline_release(&item);
			continue;
		}
		const struct pt_cmdline_token *want = &item.tokens[0];
		/* How the kernel sees it: a flag is there or not; for key=value the
		 * last occurrence is what most parameters keep, but a key given
		 * several values (video=) needs each of them. */
		size_t same_key_items = valued_items(items, want->key);
		const struct pt_cmdline_token *last = NULL;
		bool any_same = false;
		for (size_t k = 0; k < cl.n; k++) {
			const struct pt_cmdline_token *t = &cl.tokens[k];
			if (t->for_init || !pt_cmdline_key_equal(t->key, want->key))
				continue;
			if (!r->present) {
				differs = 1;
				break;
			}
			if (!want->value && !t->value)
				any_same = true;
			if (want->value && t->value) {
				last = t;
				if (strcmp(t->value, want->value) == 0)
					any_same = true;
			}
		}
		if (r->present) {
			if (!want->value && !any_same)
				differs = 1;
			else if (want->value && same_key_items <= 1 &&
			         (!last || strcmp(last->value, want->value) != 0))
				differs = 1;
			else if (want->value && same_key_items > 1 && !any_same)
				differs = 1;
		}
		pt_cmdline_release(&item);
		if (differs)
			break;
	}
	pt_cmdline_release(&cl);
	return differs;
}

/* ---- results ------------------------------------------------------------- */

static json_t *string_list(char **list, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(list[i]));
	return a;
}

/* A path under root as the host (root) sees it. */
static const char *inside_root(const char *root, const char *path)
{
	size_t n = strlen(root);
	if (strcmp(root, "/") == 0 || strncmp(path, root, n) != 0)
		return path;
	while (n > 0 && root[n - 1] == '/')
		n--;
	return path[n] == '/' ? path + n : path;
}

static void set_common_result(struct run *r, bool changed)
{
	struct pt_module *m = r->m;
	pt_result_set_changed(m, changed);
	pt_result_set(m, "bootloader", json_string(pt_bootloader_name(r->loader)));
	pt_result_set(m, "bootloader_reason", json_string(r->reason ? r->reason : ""));
	pt_result_set(m, "iommu_vendor", json_string(r->vendor));
	pt_result_set(m, "path", json_string(r->path));
	pt_result_set(m, "cmdline", json_string(r->cmdline_after ? r->cmdline_after : ""));
	pt_result_set(m, "cmdline_before", json_string(r->cmdline_before ? r->cmdline_before : ""));
	pt_result_set(m, "params_added", string_list(r->chg.added, r->chg.n_added));
	pt_result_set(m, "params_removed", string_list(r->chg.removed, r->chg.n_removed));
	int differs = running_differs(r);
	pt_result_set(m, "reboot_required", json_boolean(differs < 0 ? changed : differs));
}

static int write_and_update(struct run *r)
{
	struct pt_module *m = r->m;
	struct pt_write_opts opts = {
	        .mode_if_new = 0644, .backup = pt_param_bool(m, "backup", false), .mkdirs = false};
	_cleanup_free_ char *backup = NULL, *err = NULL;
	int e = pt_file_write_atomic(r->full_path, r->after, r->after_len, &opts, &backup, &err);
	if (e < 0) {
		pt_result_set_changed(m, false);
		return pt_module_fail(m, "%s; the file was left as it was",
		                      err ? err : "cannot write the file");
	}
	if (backup)
		pt_result_set(m, "backup_file", json_string(inside_root(r->root, backup)));
	if (!pt_param_bool(m, "update", true))
		return 0;

	const char *const grub_argv[] = {"update-grub", NULL};
	const char *const pbt_argv[] = {"proxmox-boot-tool", "refresh", NULL};
	const char *const *argv = r->loader == PT_BOOT_GRUB ? grub_argv : pbt_argv;
	_cleanup_free_ char *cmd = pt_exec_cmdline(argv);
	struct pt_exec_result res;
	int timeout = (int)pt_param_int(m, "timeout", 600);
	e = pt_exec(r->root, argv, timeout, &res);
	pt_result_set(m, "update_command", json_string(cmd ? cmd : ""));
	pt_result_set(m, "rc", json_integer(res.rc));
	pt_result_set(m, "stdout", json_string(res.out ? res.out : ""));
	pt_result_set(m, "stderr", json_string(res.err ? res.err : ""));
	if (e < 0 || res.rc != 0 || res.timed_out) {
		const char *why = res.err && *res.err ? res.err : (res.out ? res.out : "");
		size_t n = strcspn(why, "\n");
		if (res.timed_out)
			pt_module_fail(
			        m,
			        "%s was killed after %d seconds; %s was changed but the boot "
			        "configuration was not regenerated, so the next boot still uses "
			        "the old command line. Run `%s` by hand (chrooted into %s if "
			        "root is not /)",
			        cmd, timeout, r->path, cmd, r->root);
		else
			pt_module_fail(
			        m,
			        "%s failed (rc %d%s%.*s); %s was changed but the boot "
			        "configuration was not regenerated, so the next boot still uses "
			        "the old command line. Fix the problem and run `%s` by hand",
			        cmd, res.rc, n ? ": " : "", (int)n, why, r->path, cmd);
	}
	pt_exec_result_release(&res);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, stdout);
		return argc < 2 ? 1 : 0;
	}
	struct pt_module m;
	if (pt_module_init(&m, MODULE_NAME, grub_iommu_argspec_json, argc, argv) < 0)
		return pt_module_finish(&m);

	struct run r = {.m = &m, .root = pt_module_root(&m)};
	const char *state = pt_param_str(&m, "state");
	r.present = !state || strcmp(state, "absent") != 0;
	r.passthrough = pt_param_bool(&m, "passthrough_mode", true);
	_cleanup_json_ json_t *no_params = json_array();
	r.params = pt_param(&m, "params") ? pt_param(&m, "params") : no_params;

	struct stat st;
	if (stat(r.root, &st) < 0 || !S_ISDIR(st.st_mode)) {
		pt_module_fail(&m,
		               "root %s is not a directory; give the directory that holds the "
		               "host's file system, or / for the host itself",
		               r.root);
		goto done;
	}
	if (check_params(&r) < 0 || resolve_vendor(&r) < 0 || choose_bootloader(&r) < 0)
		goto done;
	r.path = pt_param_str(&m, "path");
	if (!r.path)
		r.path = pt_bootloader_cmdline_path(r.loader);
	r.full_path = pt_path_join(r.root, r.path);
	if (!r.full_path) {
		pt_module_fail(&m, "out of memory");
		goto done;
	}
	if (read_file(&r) < 0 || plan(&r) < 0)
		goto done;

	bool changed = r.after_len != r.before_len || memcmp(r.after, r.before, r.before_len) != 0;
	if (changed)
		pt_diff_add(&m, r.path, r.before, r.after);
	set_common_result(&r, changed);
	if (changed && pt_param_bool(&m, "update", true))
		pt_result_set(&m, "update_command",
		              json_string(r.loader == PT_BOOT_GRUB ? "update-grub"
		                                                   : "proxmox-boot-tool refresh"));
	if (changed && !m.check_mode)
		write_and_update(&r);
done:
	run_release(&r);
	return pt_module_finish(&m);
}
