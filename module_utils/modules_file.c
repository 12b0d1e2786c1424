#include "modules_file.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "conf_block.h"
#include "strbuf.h"

/* The family whose one-line-with-parameters form deserves a note. */
static bool is_vfio_name(const char *word, size_t n)
{
	static const char *const family[] = {"vfio", "vfio_iommu_type1", "vfio_pci", "vfio_virqfd",
	                                     NULL};
	for (const char *const *f = family; *f; f++) {
		size_t fl = strlen(*f), i = 0;
		if (fl != n)
			continue;
		for (; i < n; i++)
			if ((word[i] == '-' ? '_' : word[i]) != (*f)[i])
				break;
		if (i == n)
			return true;
	}
	return false;
}

/* [s, e) with blanks trimmed at both ends. */
static void trim(const char **s, const char **e)
{
	while (*s < *e && (**s == ' ' || **s == '\t'))
		(*s)++;
	while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
		(*e)--;
}

static bool loads(const char *s, const char *e, const char *name)
{
	trim(&s, &e);
	if (s == e || *s == '#' || *s == ';')
		return false;
	size_t n = (size_t)(e - s);
	if (strlen(name) != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == ' ' || s[i] == '\t')
			return false;
		if ((s[i] == '-' ? '_' : s[i]) != (name[i] == '-' ? '_' : name[i]))
			return false;
	}
	return true;
}

bool pt_modules_line_loads(const char *line, const char *name)
{
	return loads(line, line + strlen(line), name);
}

static void note(json_t *notes, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(json_t *notes, const char *fmt, ...)
{
	if (!notes)
		return;
	struct pt_strbuf sb = PT_STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	pt_strbuf_vprintf(&sb, fmt, ap);
	va_end(ap);
	if (!sb.oom)
		json_array_append_new(notes, json_string(pt_strbuf_str(&sb)));
	pt_strbuf_release(&sb);
}

/* Look at the user's lines (the text without the block): which wanted modules
 * they load, and what deserves a note. present[i] is set for wanted[i]. */
static void read_user_lines(const char *text, const json_t *wanted, bool *present, const char *path,
                            json_t *notes)
{
	bool want_virqfd = false;
	size_t k;
	json_t *w;
	json_array_foreach (wanted, k, w)
		want_virqfd |= strcmp(json_string_value(w), "vfio_virqfd") == 0;

	int line = 0;
	for (const char *s = text; *s;) {
		const char *eol = strchr(s, '\n');
		const char *e = eol ? eol : s + strlen(s);
		line++;
		json_array_foreach (wanted, k, w)
			if (loads(s, e, json_string_value(w)))
				present[k] = true;

		const char *a = s, *b = e;
		trim(&a, &b);
		if (a < b && *a != '#' && *a != ';') {
			size_t first = strcspn(a, " \t");
			if (a + first < b && is_vfio_name(a, first))
				note(notes,
				     "%s line %d (%.*s) has parameters after the module name: "
				     "systemd-modules-load reads the whole line as one module "
				     "name and loads nothing. The module keeps the line as it is "
				     "and lists the vfio modules on lines of their own; remove "
				     "that line, and let vfio_bind set the vfio-pci IDs in "
				     "modprobe.d",
				     path, line, (int)(b - a), a);
			else if (wanted && !want_virqfd && loads(a, b, "vfio_virqfd"))
				note(notes,
				     "%s line %d lists vfio_virqfd, which no installed kernel "
				     "ships "
				     "as a module any more (it is part of vfio since Linux 6.2): "
				     "systemd-modules-load reports 'Failed to find module "
				     "vfio_virqfd' at boot; remove the line",
				     path, line);
		}
		s = eol ? eol + 1 : e;
	}
}

int pt_modules_file_update(const char *text, const json_t *wanted, const char *owner,
                           const char *path, char **out, json_t *notes, struct pt_report *rep)
{
	*out = NULL;
	if (!text)
		text = "";
	struct pt_conf_block blk;
	int r = pt_conf_block_find(text, owner, path, &blk, rep);
	if (r < 0)
		return r;

	_cleanup_strbuf_ struct pt_strbuf body = PT_STRBUF_INIT;
	if (wanted) {
		_cleanup_free_ char *user = pt_conf_block_strip(text, owner);
		_cleanup_free_ bool *present = calloc(json_array_size(wanted) + 1, sizeof *present);
		if (!user || !present)
			return -ENOMEM;
		read_user_lines(user, wanted, present, path, notes);
		size_t k;
		json_t *w;
		json_array_foreach (wanted, k, w)
			if (!present[k])
				pt_strbuf_printf(&body, "%s\n", json_string_value(w));
		pt_strbuf_puts(&body, "");
		if (body.oom)
			return -ENOMEM;
	}
	*out = pt_conf_block_apply(
	        text, owner, ": vfio modules, managed by Ansible (edits here are overwritten)",
	        pt_strbuf_str(&body), path, rep);
	/* the markers were checked above: only memory can run out here */
	return *out ? 0 : -ENOMEM;
}
