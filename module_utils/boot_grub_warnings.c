#include "boot_grub_warnings.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "cmdline.h"
#include "files.h"
#include "strbuf.h"

#define VARIABLE PT_BOOT_GRUB_CMDLINE_VARIABLE

static void set_twice(const char *path, const struct pt_boot_grub_default *g, struct pt_report *rep)
{
	if (g->n_set > 1)
		pt_report_warn(rep,
		               VARIABLE " is set %u times in %s (first on line %u, last on line "
		                        "%u); the module edits line %u, the one that takes "
		                        "effect. Remove the other assignments so the file "
		                        "says what boots",
		               g->n_set, path, g->first_line, g->line, g->line);
}

/* The tokens of GRUB_CMDLINE_LINUX that conflict with items: with present,
 * a key=value whose key this run sets to another value; with absent, any
 * occurrence of a key being removed. Each token once, in the order written,
 * joined with ", " into keys. Items are folded with the tokens (one hash table)
 * so that a long params list costs linear time. */
static int conflicts(const struct pt_cmdline *cl, const struct pt_cmdline *items, size_t n,
                     bool present, struct pt_strbuf *keys)
{
	size_t kn = 0;
	while (kn < cl->n && !cl->tokens[kn].for_init)
		kn++;
	size_t total = 0, alloc = kn + n + 1;
	_cleanup_free_ const struct pt_cmdline_token **all = calloc(alloc, sizeof *all);
	_cleanup_free_ size_t *by_name = calloc(alloc, sizeof *by_name);
	_cleanup_free_ size_t *by_value = calloc(alloc, sizeof *by_value);
	_cleanup_free_ size_t *n_values = calloc(alloc, sizeof *n_values);     /* per name */
	_cleanup_free_ bool *asked = calloc(alloc, sizeof *asked);             /* per name */
	_cleanup_free_ bool *value_asked = calloc(alloc, sizeof *value_asked); /* per value */
	if (!all || !by_name || !by_value || !n_values || !asked || !value_asked)
		return -ENOMEM;
	for (size_t k = 0; k < kn; k++)
		all[total++] = &cl->tokens[k];
	for (size_t i = 0; i < n; i++)
		if (items[i].n == 1)
			all[total++] = &items[i].tokens[0];
	if (pt_cmdline_fold(all, total, false, by_name) < 0 ||
	    pt_cmdline_fold(all, total, true, by_value) < 0)
		return -ENOMEM;
	for (size_t x = kn; x < total; x++) {
		asked[by_name[x]] = true;
		if (all[x]->value && !value_asked[by_value[x]]) {
			value_asked[by_value[x]] = true;
			n_values[by_name[x]]++;
		}
	}
	for (size_t k = 0; k < kn; k++) {
		/* absent: any occurrence; present: only another value, that is
		 * a value asked for besides this token's own. */
		size_t other_values = n_values[by_name[k]] - (value_asked[by_value[k]] ? 1 : 0);
		bool conflict = present ? all[k]->value && other_values : asked[by_name[k]];
		if (conflict)
			pt_strbuf_printf(keys, "%s%s", keys->len ? ", " : "", all[k]->raw);
	}
	return 0;
}

/* GRUB_CMDLINE_LINUX also ends up on the kernel command line: say when it holds
 * one of the keys this run changes. */
static void cmdline_linux(const char *path, const struct pt_boot_grub_default *dflt,
                          const char *const *items, size_t n, bool present, struct pt_report *rep)
{
	struct pt_boot_grub_default g;
	struct pt_report ignored; /* a GRUB_CMDLINE_LINUX the module cannot read: no warning */
	struct pt_cmdline cl = {0};
	_cleanup_strbuf_ struct pt_strbuf keys = PT_STRBUF_INIT;
	_cleanup_free_ struct pt_cmdline *parsed = calloc(n + 1, sizeof *parsed);
	pt_report_init(&ignored);
	int e = pt_boot_grub_default_parse(dflt->text, dflt->len, "GRUB_CMDLINE_LINUX", path, &g,
	                                   &ignored);
	pt_report_release(&ignored);
	if (e < 0 || !g.value || !parsed || pt_cmdline_parse(g.value, &cl) < 0)
		goto out;
	/* An item that does not parse (only when out of memory: the params were
	 * checked) is left out. */
	for (size_t i = 0; i < n; i++)
		pt_cmdline_parse(items[i], &parsed[i]);
	if (conflicts(&cl, parsed, n, present, &keys) == 0 && keys.len && !keys.oom)
		pt_report_warn(rep,
		               "GRUB_CMDLINE_LINUX in %s (line %u) also holds %s; it is not "
		               "edited and ends up on the kernel command line too "
		               "(before " VARIABLE ")%s",
		               path, g.line, pt_strbuf_str(&keys),
		               present ? "" : ": remove it there as well");
	for (size_t i = 0; i < n; i++)
		pt_cmdline_release(&parsed[i]);
out:
	pt_cmdline_release(&cl);
	pt_boot_grub_default_release(&g);
}

static int is_cfg(const struct dirent *e)
{
	size_t len = strlen(e->d_name);
	return len >= 5 && strcmp(e->d_name + len - 4, ".cfg") == 0;
}

/* The .cfg files in /etc/default/grub.d are sourced after /etc/default/grub, in
 * name order (alphasort: the module runs in the C locale, so byte order): one
 * that sets the variable outright overrides the edit. */
static void dropins(const char *root, const char *path, struct pt_report *rep)
{
	_cleanup_free_ char *dir = pt_path_join(root, "/etc/default/grub.d");
	struct dirent **names = NULL;
	int n = dir ? scandir(dir, &names, is_cfg, alphasort) : -1;
	for (int i = 0; i < n; i++) {
		_cleanup_free_ char *label = NULL, *full = NULL, *data = NULL;
		size_t len = 0;
		if (asprintf(&label, "/etc/default/grub.d/%s", names[i]->d_name) < 0)
			label = NULL;
		full = label ? pt_path_join(root, label) : NULL;
		free(names[i]);
		if (!full || pt_file_read(full, &data, &len) < 0)
			continue;
		struct pt_boot_grub_default g;
		struct pt_report why; /* why the drop-in does not parse, for the warning */
		pt_report_init(&why);
		int e = pt_boot_grub_default_parse(data, len, VARIABLE, label, &g, &why);
		if (e == -EINVAL)
			pt_report_warn(rep,
			               "cannot tell whether %s changes " VARIABLE " after %s: %s",
			               label, path, why.msg ? why.msg : "it does not parse");
		else if (e == 0 && g.n_set && !g.self_reference)
			pt_report_warn(rep,
			               "%s sets " VARIABLE " (line %u) after %s is read, so its "
			               "value is what boots and the change in %s has no effect; "
			               "edit that file instead (path: %s)",
			               label, g.line, path, path, label);
		pt_boot_grub_default_release(&g);
		pt_report_release(&why);
	}
	free(names);
}

void pt_boot_grub_warnings_check(const char *root, const char *path,
                                 const struct pt_boot_grub_default *g, const char *const *items,
                                 size_t n, bool present, struct pt_report *rep)
{
	set_twice(path, g, rep);
	cmdline_linux(path, g, items, n, present, rep);
	if (strcmp(path, "/etc/default/grub") == 0)
		dropins(root, path, rep);
}
