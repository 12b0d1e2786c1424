#include "modprobe_conf.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "conf_block.h"
#include "files.h"
#include "json_text.h"
#include "strbuf.h"

/* --- modprobe.d syntax ------------------------------------------------------ */

/* Does the physical line [s, s+n) (without its newline) continue onto the
 * next? kmod's reader takes a backslash together with the character after it,
 * so a line ends in an escaped newline only when its last run of backslashes
 * is odd: one backslash at the end continues the line, two are an escaped
 * backslash and end it. */
static bool line_continues(const char *s, size_t n)
{
	size_t run = 0;
	while (run < n && s[n - 1 - run] == '\\')
		run++;
	return run % 2 == 1;
}

int pt_modprobe_check_continuation(const char *text, const char *owner, const char *path,
                                   struct pt_report *rep)
{
	struct pt_conf_block blk;
	if (!text)
		return 0;
	if (pt_conf_block_find(text, owner, path, &blk, rep) < 0)
		return -EINVAL;
	/* the BEGIN marker goes at blk.start, or after the last line (a newline
	 * first when the file lacks one) */
	const char *end = text + (blk.found ? blk.start : strlen(text));
	int line = 0;
	bool open = false;
	char first = 0; /* the logical line's first byte that is not a blank */
	for (const char *s = text; s < end; line++) {
		const char *eol = memchr(s, '\n', (size_t)(end - s));
		size_t n = eol ? (size_t)(eol - s) : (size_t)(end - s);
		if (!open)
			first = 0;
		open = line_continues(s, n);
		for (size_t i = 0; !first && i < n - (open ? 1 : 0); i++)
			if (s[i] != ' ' && s[i] != '\t')
				first = s[i];
		s = eol ? eol + 1 : end;
	}
	/* Joined onto a comment, or onto a line kmod skips (blank, or starting
	 * with a CR: a bad line), the marker changes nothing; pt_modprobe_parse
	 * reads them the same way. */
	if (!open || !first || first == '#' || first == '\r')
		return 0;
	if (rep)
		pt_report_fail(
		        rep, -EINVAL,
		        "%s line %d ends in a backslash, so modprobe would join the next line "
		        "onto it, and the next line is where the block managed by %s goes (its "
		        "BEGIN marker would become part of that directive); fix the line or "
		        "remove the trailing backslash, then run the task again",
		        path ? path : "(text)", line, owner);
	return -EINVAL;
}

/* Append to arr an object of the keys and values that follow (key, value,
 * ..., then a (const char *)NULL; each value a new reference, stolen: a NULL
 * value fails), as
 * json_pack("{s:o, ...}") would, without linking jansson's pack code (about
 * 10 KB of every module binary). 0, or -ENOMEM with everything released. */
static int append_object(json_t *arr, const char *key, ...)
{
	json_t *o = json_object();
	int ok = o != NULL;
	va_list ap;
	va_start(ap, key);
	for (; key; key = va_arg(ap, const char *)) {
		json_t *v = va_arg(ap, json_t *);
		/* json_object_set_new releases v when it fails, o NULL included */
		ok = json_object_set_new(o, key, v) == 0 && ok;
	}
	va_end(ap);
	if (!ok || json_array_append_new(arr, o) < 0) {
		if (!ok)
			json_decref(o);
		return -ENOMEM;
	}
	return 0;
}

static void normalize_into(char *s)
{
	for (; *s; s++)
		if (*s == '-')
			*s = '_';
}

/* Split the next blank-separated word off *p (advancing it). Returns a new
 * string, or NULL at the end of the text. */
static char *next_word(const char **p)
{
	const char *s = *p;
	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s) {
		*p = s;
		return NULL;
	}
	const char *e = s;
	while (*e && *e != ' ' && *e != '\t')
		e++;
	*p = e;
	return strndup(s, (size_t)(e - s));
}

/* The rest with runs of blanks collapsed and the ends trimmed. */
static char *collapse(const char *s)
{
	struct pt_strbuf sb = PT_STRBUF_INIT;
	bool gap = false;
	while (*s == ' ' || *s == '\t')
		s++;
	for (; *s; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\r') {
			gap = true;
			continue;
		}
		if (gap && sb.len)
			pt_strbuf_putc(&sb, ' ');
		gap = false;
		pt_strbuf_putc(&sb, *s);
	}
	pt_strbuf_puts(&sb, "");
	if (sb.oom) {
		pt_strbuf_release(&sb);
		return NULL;
	}
	return pt_strbuf_steal(&sb);
}

static int add_logical_line(json_t *out, int first_line, const char *logical)
{
	const char *p = logical;
	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p || *p == '#' || *p == '\r')
		return 0;
	const char *q = p;
	_cleanup_free_ char *command = next_word(&q);
	_cleanup_free_ char *module = next_word(&q);
	if (!command)
		return 0;
	/* softdep, options, blacklist, install, remove name a module first;
	 * alias names the alias first and the module second: keep the first word
	 * as "module" for every command, which is what the callers look at. */
	if (module)
		normalize_into(module);
	_cleanup_free_ char *args = collapse(q);
	_cleanup_free_ char *text = strdup(p);
	if (!args || !text)
		return -ENOMEM;
	size_t tl = strlen(text);
	while (tl && (text[tl - 1] == ' ' || text[tl - 1] == '\t' || text[tl - 1] == '\r'))
		text[--tl] = '\0';
	/* A file need not be UTF-8 (a Latin-1 comment or value): json_string
	 * would refuse such text and the whole file would read as nothing. */
	return append_object(out, "line", json_integer(first_line), "command",
	                     pt_json_text(command), "module", pt_json_text(module ? module : ""),
	                     "args", pt_json_text(args), "text", pt_json_text(text),
	                     (const char *)NULL);
}

json_t *pt_modprobe_parse(const char *text)
{
	json_t *out = json_array();
	if (!out)
		return NULL;
	struct pt_strbuf logical = PT_STRBUF_INIT;
	int line = 0, first = 0;
	int r = 0;
	for (const char *s = text ? text : ""; *s && r == 0;) {
		const char *eol = strchr(s, '\n');
		size_t n = eol ? (size_t)(eol - s) : strlen(s);
		line++;
		if (!logical.len)
			first = line;
		/* kmod joins a line ending in a backslash with the next one */
		bool cont = line_continues(s, n);
		pt_strbuf_append(&logical, s, cont ? n - 1 : n);
		if (!cont) {
			r = add_logical_line(out, first, pt_strbuf_str(&logical));
			logical.len = 0;
			if (logical.data)
				logical.data[0] = '\0';
		}
		s = eol ? eol + 1 : s + n;
	}
	if (r == 0 && logical.len)
		r = add_logical_line(out, first, pt_strbuf_str(&logical));
	if (r < 0 || logical.oom) {
		json_decref(out);
		out = NULL;
	}
	pt_strbuf_release(&logical);
	return out;
}

/* --- conflicts elsewhere in modprobe.d -------------------------------------- */

static bool has_ids_arg(const char *args)
{
	for (const char *p = args; (p = strstr(p, "ids=")) != NULL; p += 4)
		if (p == args || p[-1] == ' ')
			return true;
	return false;
}

static int add_conflict(json_t *found, const char *path, json_t *entry, const char *kind)
{
	/* a file name need not be UTF-8 either */
	return append_object(found, "path", pt_json_text(path), "line",
	                     json_incref(json_object_get(entry, "line")), "kind", json_string(kind),
	                     "text", json_incref(json_object_get(entry, "text")),
	                     (const char *)NULL);
}

static int scan_text(json_t *found, const char *path, const char *text)
{
	_cleanup_json_ json_t *lines = pt_modprobe_parse(text);
	if (!lines)
		return -ENOMEM;
	size_t i;
	json_t *e;
	json_array_foreach (lines, i, e) {
		const char *cmd = json_string_value(json_object_get(e, "command"));
		const char *mod = json_string_value(json_object_get(e, "module"));
		const char *args = json_string_value(json_object_get(e, "args"));
		if (strcmp(mod, "vfio_pci") != 0)
			continue;
		const char *kind = NULL;
		if (strcmp(cmd, "options") == 0 && has_ids_arg(args))
			kind = "ids";
		else if (strcmp(cmd, "blacklist") == 0)
			kind = "blacklist";
		else if (strcmp(cmd, "install") == 0)
			kind = (strcmp(args, "/bin/false") == 0 || strcmp(args, "/bin/true") == 0 ||
			        strcmp(args, "/usr/bin/false") == 0 ||
			        strcmp(args, "/usr/bin/true") == 0)
			               ? "blacklist"
			               : "install";
		if (kind && add_conflict(found, path, e, kind) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int pt_modprobe_find_conflicts(const char *root, const char *own_path, const char *owner,
                               json_t *found)
{
	/* kmod's order of precedence: a file masks one of the same name further on */
	static const char *const dirs[] = {"/etc/modprobe.d", "/run/modprobe.d", "/lib/modprobe.d",
	                                   "/usr/lib/modprobe.d", NULL};
	_cleanup_json_ json_t *seen = json_object();
	if (!seen)
		return -ENOMEM;
	for (const char *const *d = dirs; *d; d++) {
		_cleanup_free_ char *dir = pt_path_join(root, *d);
		if (!dir)
			return -ENOMEM;
		struct dirent **names = NULL;
		int n = scandir(dir, &names, NULL, name_cmp);
		if (n < 0)
			continue;
		int r = 0;
		for (int i = 0; i < n; i++) {
			const char *name = names[i]->d_name;
			if (r == 0 && name[0] != '.' && ends_with(name, ".conf") &&
			    !json_object_get(seen, name)) {
				json_object_set_new(seen, name, json_true());
				_cleanup_free_ char *path = NULL, *text = NULL;
				if (asprintf(&path, "%s/%s", dir, name) < 0) {
					path = NULL;
					r = -ENOMEM;
				} else if (pt_file_read(path, &text, NULL) == 0) {
					bool own = own_path && strcmp(path, own_path) == 0;
					_cleanup_free_ char *mine =
					        own ? pt_conf_block_strip(text, owner) : NULL;
					/* a damaged own block is reported by the writer */
					r = scan_text(found, path, own && mine ? mine : text);
				}
			}
			free(names[i]);
		}
		free(names);
		if (r < 0)
			return r;
	}
	return 0;
}
