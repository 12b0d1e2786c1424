#include "grub_warnings.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "cmdline.h"
#include "files.h"
#include "strbuf.h"

#define VARIABLE PT_GRUB_CMDLINE_VARIABLE

static void set_twice(const char *path, const struct pt_grub_default *g,
                      struct pt_message_list *warnings)
{
	if (g->n_set > 1)
		pt_message_list_addf(warnings,
		                     VARIABLE
		                     " is set %u times in %s (first on line %u, last on line "
		                     "%u); the module edits line %u, the one that takes "
		                     "effect. Remove the other assignments so the file "
		                     "says what boots",
		                     g->n_set, path, g->first_line, g->line, g->line);
}

/* GRUB_CMDLINE_LINUX also ends up on the kernel command line: say when it holds
 * one of the keys this run changes. */
static void cmdline_linux(const char *path, const struct pt_grub_default *dflt,
                          const char *const *items, size_t n, bool present,
                          struct pt_message_list *warnings)
{
	struct pt_grub_default g;
	_cleanup_free_ char *err = NULL;
	struct pt_cmdline cl = {0};
	_cleanup_strbuf_ struct pt_strbuf keys = PT_STRBUF_INIT;
	if (pt_grub_default_parse(dflt->text, dflt->len, "GRUB_CMDLINE_LINUX", path, &g, &err) <
	            0 ||
	    !g.value || pt_cmdline_parse(g.value, &cl) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct pt_cmdline item;
		if (pt_cmdline_parse(items[i], &item) < 0 || item.n != 1) {
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
			if (!present || conflict)
				pt_strbuf_printf(&keys, "%s%s", keys.len ? ", " : "", t->raw);
		}
		pt_cmdline_release(&item);
	}
	if (keys.len)
		pt_message_list_addf(warnings,
		                     "GRUB_CMDLINE_LINUX in %s (line %u) also holds %s; it is not "
		                     "edited and ends up on the kernel command line too "
		                     "(before " VARIABLE ")%s",
		                     path, g.line, pt_strbuf_str(&keys),
		                     present ? "" : ": remove it there as well");
out:
	pt_cmdline_release(&cl);
	pt_grub_default_release(&g);
}

static int is_cfg(const struct dirent *e)
{
	size_t len = strlen(e->d_name);
	return len >= 5 && strcmp(e->d_name + len - 4, ".cfg") == 0;
}

/* The .cfg files in /etc/default/grub.d are sourced after /etc/default/grub, in
 * name order (alphasort: the module runs in the C locale, so byte order): one
 * that sets the variable outright overrides the edit. */
static void dropins(const char *root, const char *path, struct pt_message_list *warnings)
{
	_cleanup_free_ char *dir = pt_path_join(root, "/etc/default/grub.d");
	struct dirent **names = NULL;
	int n = dir ? scandir(dir, &names, is_cfg, alphasort) : -1;
	for (int i = 0; i < n; i++) {
		_cleanup_free_ char *label = NULL, *full = NULL, *data = NULL, *err = NULL;
		size_t len = 0;
		if (asprintf(&label, "/etc/default/grub.d/%s", names[i]->d_name) < 0)
			label = NULL;
		full = label ? pt_path_join(root, label) : NULL;
		free(names[i]);
		if (!full || pt_file_read(full, &data, &len) < 0)
			continue;
		struct pt_grub_default g;
		int e = pt_grub_default_parse(data, len, VARIABLE, label, &g, &err);
		if (e == -EINVAL)
			pt_message_list_addf(warnings,
			                     "cannot tell whether %s changes " VARIABLE
			                     " after %s: %s",
			                     label, path, err ? err : "it does not parse");
		else if (e == 0 && g.n_set && !g.self_reference)
			pt_message_list_addf(
			        warnings,
			        "%s sets " VARIABLE " (line %u) after %s is read, so its "
			        "value is what boots and the change in %s has no effect; "
			        "edit that file instead (path: %s)",
			        label, g.line, path, path, label);
		pt_grub_default_release(&g);
	}
	free(names);
}

void pt_grub_warnings_check(const char *root, const char *path, const struct pt_grub_default *g,
                            const char *const *items, size_t n, bool present,
                            struct pt_message_list *warnings)
{
	set_twice(path, g, warnings);
	cmdline_linux(path, g, items, n, present, warnings);
	if (strcmp(path, "/etc/default/grub") == 0)
		dropins(root, path, warnings);
}
