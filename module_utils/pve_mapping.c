#include "pve_mapping.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

/* Perl's \s on byte strings: ASCII whitespace only (no locale). */
static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static bool is_hex(char c)
{
	return is_lower_hex(c) || (c >= 'A' && c <= 'F');
}

static bool is_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static char *dup_n(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/* The formatted text (caller frees), or NULL when out of memory. */
static char *format(const char *fmt, va_list ap)
{
	struct pt_strbuf sb = PT_STRBUF_INIT;
	pt_strbuf_vprintf(&sb, fmt, ap);
	return pt_strbuf_steal(&sb);
}

/* Proxmox's message for an invalid value, as rep's failure; rep NULL when the
 * caller only needs to know that the value is invalid (nothing is formatted).
 * -EINVAL, or -ENOMEM when the message cannot be made. */
static int invalid(struct pt_report *rep, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
static int invalid(struct pt_report *rep, const char *fmt, ...)
{
	if (!rep)
		return -EINVAL;
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *text = format(fmt, ap);
	va_end(ap);
	if (!text)
		return pt_report_fail(rep, -ENOMEM, "out of memory");
	return pt_report_fail(rep, -EINVAL, "%s", text);
}

/* --- text pvesh keeps ------------------------------------------------------------- */

char *pt_pve_text_trim(const char *s)
{
	size_t start = 0, end = strlen(s);
	while (start < end && is_space(s[start]))
		start++;
	while (end > start && is_space(s[end - 1]))
		end--;
	return dup_n(s + start, end - start);
}

size_t pt_pve_text_chars(const char *s)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++)
		n += (*p & 0xc0) != 0x80;
	return n;
}

/* The code point of the UTF-8 character at s, its length in *len; -1 when the
 * bytes there are not one (overlong, surrogate, cut, beyond U+10FFFF). */
static long utf8_char(const unsigned char *s, size_t *len)
{
	static const long min[] = {0, 0, 0x80, 0x800, 0x10000};
	size_t n = s[0] < 0x80             ? 1
	           : (s[0] & 0xe0) == 0xc0 ? 2
	           : (s[0] & 0xf0) == 0xe0 ? 3
	           : (s[0] & 0xf8) == 0xf0 ? 4
	                                   : 0;
	if (!n)
		return -1;
	long c = n == 1 ? s[0] : s[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		c = (c << 6) | (s[i] & 0x3f);
	}
	*len = n;
	if (c < min[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return -1;
	return c;
}

int pt_pve_text_check(const char *what, const char *s, struct pt_report *rep)
{
	size_t pos = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t len = 0;
		long c = utf8_char(p, &len);
		pos++;
		if (c < 0)
			return pt_report_fail(rep, -EINVAL,
			                      "%s is not UTF-8 text (byte %zu): give the text "
			                      "as UTF-8",
			                      what, (size_t)(p - (const unsigned char *)s) + 1);
		if (c > PT_PVE_TEXT_MAX_CHAR)
			return pt_report_fail(
			        rep, -EINVAL,
			        "%s: character %zu, '%.*s' (U+%04lX), cannot be stored: pvesh "
			        "writes /etc/pve/mapping/pci.cfg as Latin-1 and reads it back byte "
			        "by byte, so only characters up to U+00FF (ASCII and Latin-1, such "
			        "as ä, é, ß, °) come back as written, and one character beyond "
			        "turns every other non-ASCII character in the file into two; "
			        "write it without '%.*s'",
			        what, pos, (int)len, (const char *)p, (unsigned long)c, (int)len,
			        (const char *)p);
		p += len;
	}
	return 0;
}

/* --- lifetime --------------------------------------------------------------- */

void pt_pve_mapping_init(struct pt_pve_mapping *m)
{
	memset(m, 0, sizeof *m);
	m->mdev = -1;
	m->live_migration = -1;
}

void pt_pve_mapping_release(struct pt_pve_mapping *m)
{
	if (!m)
		return;
	free(m->id);
	for (size_t i = 0; i < m->map_count; i++)
		free(m->map[i]);
	free(m->map);
	free(m->description);
	pt_pve_mapping_init(m);
}

void pt_pve_map_entry_release(struct pt_pve_map_entry *e)
{
	if (!e)
		return;
	free(e->node);
	free(e->path);
	free(e->id);
	free(e->subsystem_id);
	free(e->iommugroup);
	free(e->description);
	memset(e, 0, sizeof *e);
}

int pt_pve_mapping_add_map(struct pt_pve_mapping *m, const char *entry)
{
	char *copy = strdup(entry);
	if (!copy)
		return -ENOMEM;
	char **grown = realloc(m->map, (m->map_count + 1) * sizeof *grown);
	if (!grown) {
		free(copy);
		return -ENOMEM;
	}
	m->map = grown;
	m->map[m->map_count++] = copy;
	return 0;
}

int pt_pve_mapping_copy(struct pt_pve_mapping *dst, const struct pt_pve_mapping *src)
{
	memset(dst, 0, sizeof *dst);
	dst->mdev = src->mdev;
	dst->live_migration = src->live_migration;
	dst->broken = src->broken;
	if ((src->id && !(dst->id = strdup(src->id))) ||
	    (src->description && !(dst->description = strdup(src->description))))
		goto oom;
	for (size_t i = 0; i < src->map_count; i++)
		if (pt_pve_mapping_add_map(dst, src->map[i]) < 0)
			goto oom;
	return 0;
oom:
	pt_pve_mapping_release(dst);
	return -ENOMEM;
}

/* --- schema ------------------------------------------------------------------ */

bool pt_pve_valid_configid(const char *s)
{
	if (!s || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')) || !s[1])
		return false;
	for (const char *p = s + 1; *p; p++)
		if (!is_alnum(*p) && *p != '_' && *p != '-')
			return false;
	return true;
}

bool pt_pve_valid_node(const char *s)
{
	if (!s || !is_alnum(s[0]))
		return false;
	size_t n = strlen(s);
	for (size_t i = 1; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-')
			return false;
	return is_alnum(s[n - 1]);
}

static bool pci_id_n(const char *s, size_t n)
{
	if (n != 9 || s[4] != ':')
		return false;
	for (size_t i = 0; i < 9; i++)
		if (i != 4 && !is_hex(s[i]))
			return false;
	return true;
}

bool pt_pve_valid_pci_id(const char *s)
{
	return s && pci_id_n(s, strlen(s));
}

/* One PCI path [a-f0-9]{4,}:[a-f0-9]{2}:[a-f0-9]{2}(SEP[a-f0-9])? at s[0..n).
 * Proxmox writes the separator as "\." inside a double-quoted Perl string, where it
 * becomes "." — any character. strict_dot asks for the dot the schema means. */
static bool one_path(const char *s, size_t n, bool strict_dot)
{
	size_t i = 0;
	while (i < n && is_lower_hex(s[i]))
		i++;
	if (i < 4)
		return false;
	/* The domain run may have swallowed nothing more than hex; now ":bb:ss". */
	if (n - i < 6 || s[i] != ':' || !is_lower_hex(s[i + 1]) || !is_lower_hex(s[i + 2]) ||
	    s[i + 3] != ':' || !is_lower_hex(s[i + 4]) || !is_lower_hex(s[i + 5]))
		return false;
	i += 6;
	if (i == n)
		return true;
	return n - i == 2 && (strict_dot ? s[i] == '.' : s[i] != '\n') && is_lower_hex(s[i + 1]);
}

static bool paths_n(const char *s, size_t n, bool strict_dot)
{
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == ';') {
			if (!one_path(s + start, i - start, strict_dot))
				return false;
			start = i + 1;
		}
	}
	return true;
}

bool pt_pve_valid_path(const char *s)
{
	return s && paths_n(s, strlen(s), true);
}

static bool integer_n(const char *s, size_t n)
{
	size_t i = 0;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	if (i == n)
		return false;
	for (; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

bool pt_pve_valid_integer(const char *s)
{
	return s && integer_n(s, strlen(s));
}

/* Perl's m/^...$/ lets one final "\n" through: match patterns on what precedes it. */
static size_t perl_len(const char *s)
{
	size_t n = strlen(s);
	return n && s[n - 1] == '\n' ? n - 1 : n;
}

/* --- map entries ----------------------------------------------------------------- */

/* The keys of Proxmox's map format, sorted (the order errors are listed in). */
enum map_key { K_DESCRIPTION, K_ID, K_IOMMUGROUP, K_NODE, K_PATH, K_SUBSYSTEM_ID, K_COUNT };
/* Arrays, not pointers: no relocations in the position-independent binary. */
static const char map_keys[K_COUNT][13] = {"description", "id",   "iommugroup",
                                           "node",        "path", "subsystem-id"};
static const bool map_key_required[K_COUNT] = {false, true, false, true, true, false};

static char **entry_field(struct pt_pve_map_entry *e, enum map_key k)
{
	switch (k) {
	case K_DESCRIPTION:
		return &e->description;
	case K_ID:
		return &e->id;
	case K_IOMMUGROUP:
		return &e->iommugroup;
	case K_NODE:
		return &e->node;
	case K_PATH:
		return &e->path;
	default:
		return &e->subsystem_id;
	}
}

static const char *entry_value(const struct pt_pve_map_entry *e, enum map_key k)
{
	return *entry_field((struct pt_pve_map_entry *)e, k);
}

static int key_index(const char *k, size_t n)
{
	for (int i = 0; i < K_COUNT; i++)
		if (strlen(map_keys[i]) == n && memcmp(map_keys[i], k, n) == 0)
			return i;
	return -1;
}

/* check_prop for one field of the map format: NULL when fine, else the message. */
static const char *check_field(enum map_key k, const char *v)
{
	if (!v)
		return map_key_required[k] ? "property is missing and it is not optional" : NULL;
	switch (k) {
	case K_NODE:
		return pt_pve_valid_node(v)
		               ? NULL
		               : "invalid format - value does not look like a valid node name\n";
	case K_ID:
	case K_SUBSYSTEM_ID:
		return pci_id_n(v, perl_len(v)) ? NULL : "value does not match the regex pattern";
	case K_PATH:
		return paths_n(v, perl_len(v), false) ? NULL
		                                      : "value does not match the regex pattern";
	case K_IOMMUGROUP:
		return integer_n(v, perl_len(v)) ? NULL : "";
	case K_DESCRIPTION:
		return pt_pve_text_chars(v) > PT_PVE_DESCRIPTION_MAX
		               ? "value may only be 4096 characters long"
		               : NULL;
	default:
		return NULL;
	}
}

int pt_pve_map_entry_parse(const char *text, const char *path, struct pt_pve_map_entry *e,
                           struct pt_report *rep)
{
	memset(e, 0, sizeof *e);
	const char *p = text;
	size_t total = strlen(text);
	/* Perl's split(/,/) drops trailing empty fields; whitespace-only parts are skipped. */
	while (p <= text + total) {
		const char *comma = memchr(p, ',', (size_t)(text + total - p));
		size_t n = comma ? (size_t)(comma - p) : (size_t)(text + total - p);
		bool blank = true;
		for (size_t i = 0; i < n; i++)
			if (!is_space(p[i]))
				blank = false;
		if (!blank) {
			const char *eq = memchr(p, '=', n);
			/* ^([^=]+)=(.+)$ : a key, then a value that is not empty; "." stops at a
			 * line feed except a final one. */
			size_t vlen = eq ? n - (size_t)(eq - p) - 1 : 0;
			const char *v = eq ? eq + 1 : NULL;
			bool value_ok = eq && vlen > 0;
			if (value_ok) {
				const char *lf = memchr(v, '\n', vlen);
				if (lf && lf != v + vlen - 1)
					value_ok = false;
				else if (lf)
					vlen--;
				if (vlen == 0)
					value_ok = false;
			}
			if (eq && eq > p && value_ok) {
				int k = key_index(p, (size_t)(eq - p));
				if (k >= 0 && *entry_field(e, (enum map_key)k)) {
					pt_pve_map_entry_release(e);
					return invalid(rep,
					               "invalid format - duplicate key in "
					               "comma-separated list property: %.*s\n",
					               (int)(eq - p), p);
				}
				if (k < 0) {
					pt_pve_map_entry_release(e);
					return invalid(rep,
					               "invalid format - invalid key in "
					               "comma-separated list property: %.*s\n",
					               (int)(eq - p), p);
				}
				/* (.+)$ captures up to a final line feed, without it. */
				char *val = dup_n(v, vlen);
				if (!val) {
					pt_pve_map_entry_release(e);
					return -ENOMEM;
				}
				*entry_field(e, (enum map_key)k) = val;
			} else if (!eq) {
				pt_pve_map_entry_release(e);
				return invalid(rep,
				               "invalid format - value without key, but schema "
				               "does not define a default key\n");
			} else {
				pt_pve_map_entry_release(e);
				return invalid(rep, "invalid format - missing key in "
				                    "comma-separated list property\n");
			}
		}
		if (!comma)
			break;
		p = comma + 1;
	}

	struct pt_strbuf errors = PT_STRBUF_INIT;
	for (int k = 0; k < K_COUNT; k++) {
		const char *v = entry_value(e, (enum map_key)k);
		const char *problem = check_field((enum map_key)k, v);
		if (!problem)
			continue;
		if (!rep) { /* no message wanted: the first problem says enough */
			pt_pve_map_entry_release(e);
			return -EINVAL;
		}
		if (!errors.len)
			pt_strbuf_puts(&errors, "invalid format - format error\n");
		if (path && *path)
			pt_strbuf_printf(&errors, "%s.", path);
		if (k == K_IOMMUGROUP)
			pt_strbuf_printf(&errors, "%s: type check ('integer') failed - got '%s'\n",
			                 map_keys[k], v);
		else
			pt_strbuf_printf(&errors, "%s: %s\n", map_keys[k], problem);
	}
	if (errors.oom) {
		pt_strbuf_release(&errors);
		pt_pve_map_entry_release(e);
		return -ENOMEM;
	}
	if (errors.len) {
		pt_pve_map_entry_release(e);
		int rc = invalid(rep, "%s", pt_strbuf_str(&errors));
		pt_strbuf_release(&errors);
		return rc;
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *pt_pve_map_entry_format(const struct pt_pve_map_entry *e)
{
	char *parts[K_COUNT];
	size_t n = 0;
	char *out = NULL;
	for (int k = 0; k < K_COUNT; k++) {
		const char *v = entry_value(e, (enum map_key)k);
		if (!v || !*v)
			continue;
		if (asprintf(&parts[n], "%s=%s", map_keys[k], v) < 0)
			goto done;
		n++;
	}
	/* The web interface sorts the "key=value" texts, not the keys. */
	qsort(parts, n, sizeof parts[0], cmp_str);
	struct pt_strbuf sb = PT_STRBUF_INIT;
	for (size_t i = 0; i < n; i++) {
		if (i)
			pt_strbuf_putc(&sb, ',');
		pt_strbuf_puts(&sb, parts[i]);
	}
	out = pt_strbuf_steal(&sb);
done:
	for (size_t i = 0; i < n; i++)
		free(parts[i]);
	return out;
}

static bool eq_nocase(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (lower(*a) != lower(*b))
			return false;
	return *a == *b;
}

static bool eq_opt(const char *a, const char *b, bool nocase)
{
	if (!a || !b)
		return a == b;
	return nocase ? eq_nocase(a, b) : strcmp(a, b) == 0;
}

static bool eq_integer(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	if (!pt_pve_valid_integer(a) || !pt_pve_valid_integer(b))
		return strcmp(a, b) == 0;
	errno = 0;
	long long x = strtoll(a, NULL, 10), y = strtoll(b, NULL, 10);
	return errno == 0 ? x == y : strcmp(a, b) == 0;
}

bool pt_pve_map_entry_equal(const struct pt_pve_map_entry *a, const struct pt_pve_map_entry *b)
{
	return eq_opt(a->node, b->node, false) && eq_opt(a->path, b->path, true) &&
	       eq_opt(a->id, b->id, true) && eq_opt(a->subsystem_id, b->subsystem_id, true) &&
	       eq_integer(a->iommugroup, b->iommugroup) &&
	       eq_opt(a->description, b->description, false);
}

bool pt_pve_map_text_equal(const char *a, const char *b)
{
	struct pt_pve_map_entry ea, eb;
	int ra = pt_pve_map_entry_parse(a, "", &ea, NULL);
	int rb = pt_pve_map_entry_parse(b, "", &eb, NULL);
	bool equal = ra == 0 && rb == 0 ? pt_pve_map_entry_equal(&ea, &eb) : strcmp(a, b) == 0;
	pt_pve_map_entry_release(&ea);
	pt_pve_map_entry_release(&eb);
	return equal;
}

bool pt_pve_map_list_equal(char *const *a, size_t na, char *const *b, size_t nb)
{
	if (na != nb)
		return false;
	if (na == 0)
		return true;
	bool *used = calloc(nb, sizeof *used);
	if (!used)
		return false;
	bool all = true;
	for (size_t i = 0; i < na && all; i++) {
		bool found = false;
		for (size_t j = 0; j < nb && !found; j++) {
			if (!used[j] && pt_pve_map_text_equal(a[i], b[j])) {
				used[j] = true;
				found = true;
			}
		}
		all = found;
	}
	free(used);
	return all;
}

char *pt_pve_map_text_node(const char *entry)
{
	for (const char *p = entry; p && *p;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		while (n && is_space(*p)) {
			p++;
			n--;
		}
		if (n > 5 && memcmp(p, "node=", 5) == 0)
			return dup_n(p + 5, n - 5);
		p = end ? end + 1 : NULL;
	}
	return NULL;
}

/* --- the hardware check ---------------------------------------------------------- */

/* Remove every "0x" as Proxmox does before comparing. Caller frees. */
static char *strip_0x(const char *s)
{
	char *out = strdup(s);
	if (!out)
		return NULL;
	char *w = out;
	for (const char *r = s; *r;) {
		if (r[0] == '0' && r[1] == 'x') {
			r += 2;
			continue;
		}
		*w++ = *r++;
	}
	*w = '\0';
	return out;
}

static bool has_function(const char *path)
{
	/* Proxmox: $path !~ m/\.[a-f0-9]/i */
	for (const char *p = path; *p; p++)
		if (p[0] == '.' && p[1] && is_hex(p[1]))
			return true;
	return false;
}

int pt_pve_map_entry_check_hw(const char *mapping_id, const struct pt_pve_map_entry *e,
                              pt_pve_hw_lookup_fn lookup, void *ctx, struct pt_report *rep)
{
	_cleanup_free_ char *paths = strdup(e->path ? e->path : "");
	if (!paths)
		return -ENOMEM;
	static const char props[][13] = {"id", "iommugroup", "subsystem-id"};
	int idx = 0;
	/* Each of the paths joined by ';' (empty ones skipped). */
	for (char *one = paths, *next; *one; one = next) {
		next = one + strcspn(one, ";");
		if (*next)
			*next++ = '\0';
		if (!*one)
			continue;
		_cleanup_free_ char *address = NULL;
		if (asprintf(&address, "%s%s", one, has_function(one) ? "" : ".0") < 0)
			return -ENOMEM;
		struct pt_pve_hw_function hw;
		memset(&hw, 0, sizeof hw);
		if (lookup(ctx, address, &hw) < 0)
			return invalid(rep, "pci device '%s' not found", address);
		char group[24];
		snprintf(group, sizeof group, "%d", hw.iommugroup);
		const char *expected[3] = {hw.id, hw.iommugroup >= 0 ? group : NULL,
		                           hw.subsystem_id[0] ? hw.subsystem_id : NULL};
		const char *configured[3] = {e->id, e->iommugroup, e->subsystem_id};
		for (int i = 0; i < 3; i++) {
			if (i == 1 && idx > 0) /* the group is checked on the first device only */
				continue;
			if (!expected[i] && !configured[i])
				continue;
			if (expected[i] && !configured[i])
				return invalid(rep,
				               "missing expected property '%s' for device '%s'",
				               props[i], address);
			if (!expected[i] && configured[i])
				return invalid(
				        rep, "unexpected property '%s' configured for device '%s'",
				        props[i], address);
			_cleanup_free_ char *want = strip_0x(expected[i]);
			_cleanup_free_ char *have = strip_0x(configured[i]);
			if (!want || !have)
				return -ENOMEM;
			if (strcmp(want, have) != 0)
				return invalid(rep, "'%s' does not match for '%s' (%s != %s)",
				               props[i], mapping_id, want, have);
		}
		idx++;
	}
	return 0;
}

/* --- merging ----------------------------------------------------------------------- */

int pt_pve_map_merge_node(char *const *existing, size_t nexisting, const char *node,
                          char *const *wanted, size_t nwanted, char ***out, size_t *nout)
{
	*out = NULL;
	*nout = 0;
	char **list = calloc(nexisting + nwanted + 1, sizeof *list);
	if (!list)
		return -ENOMEM;
	size_t n = 0;
	bool placed = false;
	for (size_t i = 0; i <= nexisting; i++) {
		bool at_end = i == nexisting;
		_cleanup_free_ char *entry_node = at_end ? NULL : pt_pve_map_text_node(existing[i]);
		bool mine = !at_end && entry_node && strcmp(entry_node, node) == 0;
		if ((mine || at_end) && !placed) {
			for (size_t j = 0; j < nwanted; j++)
				if (!(list[n++] = strdup(wanted[j])))
					goto oom;
			placed = true;
		}
		if (at_end || mine)
			continue;
		if (!(list[n++] = strdup(existing[i])))
			goto oom;
	}
	*out = list;
	*nout = n;
	return 0;
oom:
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
	return -ENOMEM;
}

int pt_pve_mapping_render(const struct pt_pve_mapping *m, struct pt_strbuf *out)
{
	pt_strbuf_printf(out, "%s\n", m->id ? m->id : "");
	if (!m->broken) {
		for (size_t i = 0; i < m->map_count; i++)
			pt_strbuf_printf(out, "\tmap %s\n", m->map[i]);
		if (m->description && *m->description)
			pt_strbuf_printf(out, "\tdescription %s\n", m->description);
		if (m->live_migration >= 0)
			pt_strbuf_printf(out, "\tlive-migration-capable %d\n",
			                 m->live_migration ? 1 : 0);
		if (m->mdev >= 0)
			pt_strbuf_printf(out, "\tmdev %d\n", m->mdev ? 1 : 0);
	}
	pt_strbuf_putc(out, '\n');
	return out->oom ? -ENOMEM : 0;
}

/* --- pvesh JSON ---------------------------------------------------------------------- */

/* A JSON string for text read from pci.cfg. Bytes that are not UTF-8 are taken as
 * Latin-1, as Perl's JSON encoder treats a byte string. New reference or NULL. */
static json_t *text_json(const char *s)
{
	json_t *j = json_string(s);
	if (j)
		return j;
	struct pt_strbuf sb = PT_STRBUF_INIT;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x80) {
			pt_strbuf_putc(&sb, (char)*p);
		} else {
			pt_strbuf_putc(&sb, (char)(0xc0 | (*p >> 6)));
			pt_strbuf_putc(&sb, (char)(0x80 | (*p & 0x3f)));
		}
	}
	j = sb.oom ? NULL : json_string(pt_strbuf_str(&sb));
	pt_strbuf_release(&sb);
	return j;
}

json_t *pt_pve_mapping_to_json(const struct pt_pve_mapping *m, const char *digest, bool with_id)
{
	json_t *obj = json_object();
	json_t *map = json_array();
	if (!obj || !map) {
		json_decref(obj);
		json_decref(map);
		return NULL;
	}
	for (size_t i = 0; i < m->map_count; i++)
		json_array_append_new(map, text_json(m->map[i]));
	json_object_set_new(obj, "map", map);
	json_object_set_new(obj, "type", json_string("pci"));
	if (m->description)
		json_object_set_new(obj, "description", text_json(m->description));
	if (m->mdev >= 0)
		json_object_set_new(obj, "mdev", json_integer(m->mdev));
	if (m->live_migration >= 0)
		json_object_set_new(obj, "live-migration-capable", json_integer(m->live_migration));
	if (digest)
		json_object_set_new(obj, "digest", json_string(digest));
	if (with_id && m->id)
		json_object_set_new(obj, "id", text_json(m->id));
	return obj;
}

/* A Proxmox boolean in JSON: 1/0, true/false, "1"/"0"; -1 when absent or null. */
static int json_flag(const json_t *v, bool *bad)
{
	if (!v || json_is_null(v))
		return -1;
	if (json_is_boolean(v))
		return json_is_true(v);
	if (json_is_integer(v))
		return json_integer_value(v) != 0;
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		if (strcmp(s, "1") == 0)
			return 1;
		if (strcmp(s, "0") == 0)
			return 0;
	}
	*bad = true;
	return -1;
}

int pt_pve_mapping_from_json(const json_t *obj, const char *id, struct pt_pve_mapping *m,
                             char digest[PT_PVE_DIGEST_SIZE], struct pt_report *rep)
{
	pt_pve_mapping_init(m);
	if (digest)
		digest[0] = '\0';
	if (!json_is_object(obj))
		return invalid(rep, "pvesh returned %s where a mapping object was expected",
		               json_is_array(obj) ? "a list" : "something else");
	const json_t *jid = json_object_get(obj, "id");
	if (jid && !json_is_string(jid))
		return invalid(rep, "pvesh returned a mapping whose id is not a string");
	const char *the_id = jid ? json_string_value(jid) : id;
	if (the_id && !(m->id = strdup(the_id)))
		goto oom;
	const json_t *map = json_object_get(obj, "map");
	if (map && !json_is_array(map) && !json_is_null(map)) {
		pt_pve_mapping_release(m);
		return invalid(rep, "pvesh returned mapping '%s' with a map that is not a list",
		               the_id ? the_id : "?");
	}
	size_t i;
	json_t *item;
	json_array_foreach (map, i, item) {
		if (!json_is_string(item)) {
			pt_pve_mapping_release(m);
			return invalid(
			        rep, "pvesh returned mapping '%s' with map entry %zu not a string",
			        the_id ? the_id : "?", i);
		}
		if (pt_pve_mapping_add_map(m, json_string_value(item)) < 0)
			goto oom;
	}
	const json_t *desc = json_object_get(obj, "description");
	if (json_is_string(desc)) {
		if (!(m->description = strdup(json_string_value(desc))))
			goto oom;
	} else if (desc && !json_is_null(desc)) {
		pt_pve_mapping_release(m);
		return invalid(rep,
		               "pvesh returned mapping '%s' with a description that is "
		               "not a string",
		               the_id ? the_id : "?");
	}
	bool bad = false;
	m->mdev = json_flag(json_object_get(obj, "mdev"), &bad);
	m->live_migration = json_flag(json_object_get(obj, "live-migration-capable"), &bad);
	if (bad) {
		pt_pve_mapping_release(m);
		return invalid(rep,
		               "pvesh returned mapping '%s' with mdev or live-migration-capable "
		               "not a boolean",
		               the_id ? the_id : "?");
	}
	const json_t *dg = json_object_get(obj, "digest");
	if (digest && json_is_string(dg)) {
		if (strlen(json_string_value(dg)) >= PT_PVE_DIGEST_SIZE) {
			pt_pve_mapping_release(m);
			return invalid(rep, "pvesh returned a digest longer than %d characters",
			               PT_PVE_DIGEST_SIZE - 1);
		}
		memcpy(digest, json_string_value(dg), strlen(json_string_value(dg)) + 1);
	}
	return 0;
oom:
	pt_pve_mapping_release(m);
	return -ENOMEM;
}
