/* pci.cfg as a file: parsed as leniently as Proxmox parses it and written back in
 * Proxmox's layout (pve_cfg.h). Only the fake-pvesh test double and the tests use
 * it; the module reads and writes mappings through pvesh. */
#include "pve_cfg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

/* Perl's \s on byte strings: ASCII whitespace only (no locale). */
static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

void pt_pve_config_release(struct pt_pve_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->count; i++)
		pt_pve_mapping_release(&cfg->sections[i]);
	free(cfg->sections);
	memset(cfg, 0, sizeof *cfg);
}

struct pt_pve_mapping *pt_pve_config_find(const struct pt_pve_config *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->count; i++)
		if (cfg->sections[i].id && strcmp(cfg->sections[i].id, id) == 0)
			return &cfg->sections[i];
	return NULL;
}

int pt_pve_config_put(struct pt_pve_config *cfg, struct pt_pve_mapping *m)
{
	struct pt_pve_mapping *old = m->id ? pt_pve_config_find(cfg, m->id) : NULL;
	if (old) {
		pt_pve_mapping_release(old);
		*old = *m;
		pt_pve_mapping_init(m);
		return 0;
	}
	struct pt_pve_mapping *grown = realloc(cfg->sections, (cfg->count + 1) * sizeof *grown);
	if (!grown) {
		pt_pve_mapping_release(m);
		return -ENOMEM;
	}
	cfg->sections = grown;
	cfg->sections[cfg->count++] = *m;
	pt_pve_mapping_init(m);
	return 0;
}

bool pt_pve_config_remove(struct pt_pve_config *cfg, const char *id)
{
	struct pt_pve_mapping *m = pt_pve_config_find(cfg, id);
	if (!m)
		return false;
	size_t i = (size_t)(m - cfg->sections);
	pt_pve_mapping_release(m);
	memmove(&cfg->sections[i], &cfg->sections[i + 1],
	        (cfg->count - i - 1) * sizeof cfg->sections[0]);
	cfg->count--;
	return true;
}

/* --- pci.cfg ------------------------------------------------------------------------- */

struct line_reader {
	const char *text;
	size_t len;
	size_t pos;    /* start of the next line */
	size_t end;    /* where Perl's split stops: trailing empty lines are dropped */
	size_t lineno; /* number of the line last returned */
};

/* The next line that is not a comment, as Proxmox's $nextline. Returns false at the
 * end. *line is not NUL-terminated. */
static bool next_line(struct line_reader *r, const char **line, size_t *n)
{
	while (r->pos < r->end) {
		const char *s = r->text + r->pos;
		const char *lf = memchr(s, '\n', r->end - r->pos);
		size_t len = lf ? (size_t)(lf - s) : r->end - r->pos;
		r->pos += len + (lf ? 1 : 0);
		r->lineno++;
		size_t i = 0;
		while (i < len && is_space(s[i]))
			i++;
		if (i < len && s[i] == '#')
			continue;
		*line = s;
		*n = len;
		return true;
	}
	return false;
}

/* Perl truth of a line: "" and "0" are false. */
static bool perl_true(const char *line, size_t n)
{
	return !(n == 0 || (n == 1 && line[0] == '0'));
}

/* ^(\S+)\s*$ : the section header. */
static bool match_header(const char *line, size_t n, size_t *idlen)
{
	size_t i = 0;
	while (i < n && !is_space(line[i]))
		i++;
	if (i == 0)
		return false;
	*idlen = i;
	for (; i < n; i++)
		if (!is_space(line[i]))
			return false;
	return true;
}

/* ^\s+(\S+)(\s+(.*\S))?\s*$ : a property line. value is NULL when there is none. */
static bool match_property(const char *line, size_t n, const char **key, size_t *klen,
                           const char **value, size_t *vlen)
{
	size_t i = 0;
	while (i < n && is_space(line[i]))
		i++;
	if (i == 0 || i == n)
		return false;
	*key = line + i;
	while (i < n && !is_space(line[i]))
		i++;
	*klen = (size_t)(line + i - *key);
	while (i < n && is_space(line[i]))
		i++;
	size_t end = n;
	while (end > i && is_space(line[end - 1]))
		end--;
	*value = end > i ? line + i : NULL;
	*vlen = end > i ? end - i : 0;
	return true;
}

struct section_state {
	struct pt_pve_mapping m;
	bool has_map;  /* at least one valid map line */
	bool has_type; /* a "type pci" line was seen */
};

/* Proxmox's check_value for one property line; NULL when accepted, else the error
 * text (with its final newline, as Proxmox's warning prints it). Sets *oom on
 * allocation failure. */
static char *take_property(struct section_state *st, const char *key, size_t klen,
                           const char *value, size_t vlen, bool *oom)
{
	char *msg = NULL;
	_cleanup_free_ char *k = strndup(key, klen);
	_cleanup_free_ char *v = value ? strndup(value, vlen) : NULL;
	if (!k || (value && !v))
		goto oom;
	/* Bytes after a NUL are lost in C strings: refuse such a value rather than
	 * keep a shortened one (Proxmox would keep it; no real file has one). */
	if (v && strlen(v) != vlen)
		return strdup("value contains a NUL byte\n");
	if (strlen(k) != klen)
		return strdup("unknown property type\n");

	bool is_bool = strcmp(k, "mdev") == 0 || strcmp(k, "live-migration-capable") == 0;
	bool known = is_bool || strcmp(k, "map") == 0 || strcmp(k, "description") == 0 ||
	             strcmp(k, "id") == 0 || strcmp(k, "type") == 0;
	if (!known)
		return strdup("unknown property type\n");

	if (strcmp(k, "map") == 0) {
		if (!v)
			return strdup("got undefined value\n");
		struct pt_pve_map_entry e;
		struct pt_report why;
		pt_report_init(&why);
		int r = pt_pve_map_entry_parse(v, "", &e, &why);
		/* Proxmox's error text, with the final newline its warning prints. */
		if (r < 0 && r != -ENOMEM && why.msg && asprintf(&msg, "%s\n", why.msg) < 0)
			msg = NULL;
		pt_report_release(&why);
		if (r < 0 && !msg)
			goto oom;
		if (r < 0)
			return msg;
		pt_pve_map_entry_release(&e);
		if (pt_pve_mapping_add_map(&st->m, v) < 0)
			goto oom;
		st->has_map = true;
		return NULL;
	}

	/* Every other key holds one value. */
	bool seen = (strcmp(k, "description") == 0 && st->m.description) ||
	            (strcmp(k, "mdev") == 0 && st->m.mdev >= 0) ||
	            (strcmp(k, "live-migration-capable") == 0 && st->m.live_migration >= 0) ||
	            (strcmp(k, "type") == 0 && st->has_type);
	if (seen)
		return strdup("duplicate attribute\n");
	if (strcmp(k, "type") == 0) {
		if (v && strcmp(v, "pci") == 0) {
			st->has_type = true;
			return NULL;
		}
		return strdup("unexpected property 'type'\n");
	}
	if (strcmp(k, "id") == 0)
		return strdup("unexpected property 'id'\n");
	if (is_bool) {
		int b = !v ? 1 : strcmp(v, "1") == 0 ? 1 : strcmp(v, "0") == 0 ? 0 : -1;
		if (b < 0) {
			if (asprintf(&msg, "type check ('boolean') failed - got '%s'\n", v) < 0)
				goto oom;
			return msg;
		}
		if (strcmp(k, "mdev") == 0)
			st->m.mdev = b;
		else
			st->m.live_migration = b;
		return NULL;
	}
	/* description */
	if (!v)
		return strdup("got undefined value\n");
	if (pt_pve_text_chars(v) > PT_PVE_DESCRIPTION_MAX)
		return strdup("value may only be 4096 characters long\n");
	st->m.description = PT_STEAL(v);
	return NULL;
oom:
	*oom = true;
	return NULL;
}

int pt_pve_config_parse(const char *text, size_t len, const char *filename,
                        struct pt_pve_config *cfg, struct pt_strbuf *warnings)
{
	memset(cfg, 0, sizeof *cfg);
	pt_sha1_hex(text, len, cfg->digest);
	struct pt_strbuf scratch = PT_STRBUF_INIT;
	struct pt_strbuf *warn = warnings ? warnings : &scratch;
	struct line_reader r = {text, len, 0, len, 0};
	while (r.end > 0 && text[r.end - 1] == '\n')
		r.end--;
	bool oom = false;

	const char *line;
	size_t n;
	while (!oom && r.pos < r.end) {
		if (!next_line(&r, &line, &n) || !perl_true(line, n))
			continue;
		size_t prefix_line = r.lineno;
		size_t idlen;
		if (!match_header(line, n, &idlen)) {
			pt_strbuf_printf(warn, "file %s line %zu - ignore config line: %.*s\n",
			                 filename, prefix_line, (int)n, line);
			continue;
		}
		struct section_state st;
		memset(&st, 0, sizeof st);
		pt_pve_mapping_init(&st.m);
		st.m.id = strndup(line, idlen);
		if (!st.m.id) {
			oom = true;
			break;
		}
		bool skip = strlen(st.m.id) != idlen || !pt_pve_valid_configid(st.m.id);
		if (skip)
			pt_strbuf_printf(
			        warn,
			        "file %s line %zu (skip section '%s'): invalid configuration "
			        "ID '%s'\n",
			        filename, prefix_line, st.m.id, st.m.id);
		while (!oom && next_line(&r, &line, &n) && perl_true(line, n)) {
			if (skip)
				continue;
			prefix_line = r.lineno;
			const char *key, *value;
			size_t klen, vlen;
			if (!match_property(line, n, &key, &klen, &value, &vlen)) {
				pt_strbuf_printf(
				        warn,
				        "file %s line %zu (section '%s') - ignore config line: "
				        "%.*s\n",
				        filename, prefix_line, st.m.id, (int)n, line);
				continue;
			}
			_cleanup_free_ char *err = take_property(&st, key, klen, value, vlen, &oom);
			if (err)
				pt_strbuf_printf(
				        warn,
				        "file %s line %zu (section '%s') - unable to parse value "
				        "of '%.*s': %s",
				        filename, prefix_line, st.m.id, (int)klen, key, err);
		}
		if (skip || oom) {
			pt_pve_mapping_release(&st.m);
			continue;
		}
		if (!st.has_map) {
			/* Proxmox keeps the id with no data: see `broken`. */
			pt_strbuf_printf(warn,
			                 "file %s line %zu (skip section '%s'): missing value for "
			                 "required option 'map'\n",
			                 filename, prefix_line, st.m.id);
			_cleanup_free_ char *id = PT_STEAL(st.m.id);
			pt_pve_mapping_release(&st.m);
			st.m.id = PT_STEAL(id);
			st.m.broken = true;
		}
		/* A repeated id replaces the earlier section and takes the later place. */
		pt_pve_config_remove(cfg, st.m.id);
		if (pt_pve_config_put(cfg, &st.m) < 0)
			oom = true;
	}
	pt_strbuf_release(&scratch);
	if (oom || warn->oom) {
		pt_pve_config_release(cfg);
		return -ENOMEM;
	}
	return 0;
}

int pt_pve_config_render(const struct pt_pve_config *cfg, struct pt_strbuf *out, char **errmsg)
{
	*errmsg = NULL;
	for (size_t i = 0; i < cfg->count; i++)
		if (cfg->sections[i].broken)
			return (*errmsg = strdup("unknown section type ''")) ? -EINVAL : -ENOMEM;
	for (size_t i = 0; i < cfg->count; i++)
		if (pt_pve_mapping_render(&cfg->sections[i], out) < 0)
			return -ENOMEM;
	return 0;
}
