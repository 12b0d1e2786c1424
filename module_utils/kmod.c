/* Kernel modules as a root sees them, from the plain-text files modprobe and
 * the kernel keep: /proc/modules, and modules.dep, modules.builtin and
 * modules.alias under /lib/modules/<release>. */
#include "kmod.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "cleanup.h"
#include "files.h"
#include "root_path.h"

char *pt_kmod_driver_module(const char *root, const char *driver)
{
	if (!driver)
		return NULL;
	char *name = NULL;
	if (pt_path_is_name(driver)) {
		_cleanup_free_ char *rel = NULL;
		if (asprintf(&rel, "/sys/bus/pci/drivers/%s/module", driver) >= 0) {
			_cleanup_free_ char *path = pt_path_join(root, rel);
			name = path ? pt_link_basename(path) : NULL;
		}
	}
	if (!name)
		name = strdup(driver);
	for (char *c = name; c && *c; c++)
		if (*c == '-')
			*c = '_';
	return name;
}

void pt_kmod_normalize(const char *name, char *out, size_t size)
{
	if (!size)
		return;
	size_t i = 0;
	for (; name && name[i] && i + 1 < size; i++)
		out[i] = name[i] == '-' ? '_' : name[i];
	out[i] = '\0';
}

/* Module names equal with '-' and '_' alike, over n bytes of a (not
 * NUL-terminated) and all of b. */
static bool name_equal(const char *a, size_t n, const char *b)
{
	size_t i = 0;
	for (; i < n && b[i]; i++) {
		char x = a[i] == '-' ? '_' : a[i];
		char y = b[i] == '-' ? '_' : b[i];
		if (x != y)
			return false;
	}
	return i == n && !b[i];
}

/* <root>/lib/modules/<release>/<file>, read whole. 0 or -errno. */
static int read_modules_file(const char *root, const char *release, const char *file, char **data)
{
	*data = NULL;
	if (!release || !*release || strchr(release, '/'))
		return -EINVAL;
	_cleanup_free_ char *rel = NULL;
	if (asprintf(&rel, "/lib/modules/%s/%s", release, file) < 0)
		return -ENOMEM;
	_cleanup_free_ char *path = pt_path_join(root, rel);
	if (!path)
		return -ENOMEM;
	return pt_file_read(path, data, NULL);
}

/* True when one of the paths (one per line; in modules.dep the path ends at
 * ':') names module `name`: its last component up to ".ko". */
static bool list_has_module(const char *data, const char *name)
{
	for (const char *line = data; line && *line;) {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		const char *colon = memchr(line, ':', len);
		size_t path_len = colon ? (size_t)(colon - line) : len;
		const char *base = line;
		for (size_t i = 0; i < path_len; i++)
			if (line[i] == '/')
				base = line + i + 1;
		const char *ko = NULL;
		for (const char *p = base; p + 3 <= line + path_len; p++)
			if (!strncmp(p, ".ko", 3)) {
				ko = p;
				break;
			}
		if (ko && name_equal(base, (size_t)(ko - base), name))
			return true;
		line = eol ? eol + 1 : NULL;
	}
	return false;
}

enum pt_kmod_state pt_kmod_state(const char *root, const char *release, const char *name)
{
	_cleanup_free_ char *dep = NULL;
	if (read_modules_file(root, release, "modules.dep", &dep) == 0 &&
	    list_has_module(dep, name))
		return PT_KMOD_MODULE;
	_cleanup_free_ char *builtin = NULL;
	if (read_modules_file(root, release, "modules.builtin", &builtin) == 0 &&
	    list_has_module(builtin, name))
		return PT_KMOD_BUILTIN;
	return PT_KMOD_ABSENT;
}

json_t *pt_kmod_loaded_modules(const char *root)
{
	json_t *list = json_array();
	_cleanup_free_ char *path = pt_path_join(root, "/proc/modules");
	_cleanup_free_ char *data = NULL;
	if (!list || !path || pt_file_read(path, &data, NULL) < 0)
		return list;
	for (char *line = data; line && *line;) {
		char *eol = strchr(line, '\n');
		if (eol)
			*eol = '\0';
		size_t n = strcspn(line, " \t");
		if (n) {
			line[n] = '\0';
			json_array_append_new(list, json_string(line));
		}
		line = eol ? eol + 1 : NULL;
	}
	return list;
}

bool pt_kmod_loaded(const char *root, const char *name)
{
	_cleanup_json_ json_t *list = pt_kmod_loaded_modules(root);
	size_t i;
	json_t *v;
	json_array_foreach (list, i, v) {
		const char *s = json_string_value(v);
		if (s && name_equal(s, strlen(s), name))
			return true;
	}
	return false;
}

char *pt_kmod_running_release(const char *root)
{
	_cleanup_free_ char *path = pt_path_join(root, "/proc/sys/kernel/osrelease");
	char *release = path ? pt_file_read_line(path) : NULL;
	if (release && *release)
		return release;
	free(release);
	if (root && strcmp(root, "/") != 0)
		return NULL;
	struct utsname u;
	if (uname(&u) < 0)
		return NULL;
	return strdup(u.release);
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

json_t *pt_kmod_installed_releases(const char *root)
{
	json_t *list = json_array();
	_cleanup_free_ char *dir_path = pt_path_join(root, "/lib/modules");
	if (!list || !dir_path)
		return list;
	DIR *dir = opendir(dir_path);
	if (!dir)
		return list;
	char **names = NULL;
	size_t count = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(dir))) {
		if (e->d_name[0] == '.')
			continue;
		_cleanup_free_ char *dep = NULL;
		if (asprintf(&dep, "%s/%s/modules.dep", dir_path, e->d_name) < 0)
			break;
		if (!pt_path_exists(dep))
			continue;
		if (count == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			char **grown = realloc(names, ncap * sizeof *names);
			if (!grown)
				break;
			names = grown;
			cap = ncap;
		}
		names[count] = strdup(e->d_name);
		if (names[count])
			count++;
	}
	closedir(dir);
	if (count > 1) /* names is NULL when nothing was found: qsort wants an array */
		qsort(names, count, sizeof *names, compare_strings);
	for (size_t i = 0; i < count; i++) {
		json_array_append_new(list, json_string(names[i]));
		free(names[i]);
	}
	free(names);
	return list;
}

/* ---- modules.alias ---------------------------------------------------------
 * A real modules.alias has tens of thousands of patterns and a host a few
 * hundred devices, so the patterns are indexed once: PCI patterns that name a
 * vendor ("pci:v000010DEd...") are sorted by that vendor and found by binary
 * search; the rest are tried one by one. File order is kept for the answer. */

struct alias_entry {
	const char *pattern; /* into the file's text */
	const char *module;  /* into the file's text */
	size_t line;         /* position in the file, for file order */
	char vendor[9];      /* the pattern's literal PCI vendor, "" when wildcard */
	bool stars_only;     /* no '?', '[' or '\\': star_match answers as fnmatch */
};

/* fnmatch(pattern, text, 0) for a pattern whose only wildcard is '*' (all
 * modalias patterns but a few): glibc's fnmatch cost about a thousand
 * instructions a call, most of the alias lookup. '*' matches any run of
 * bytes, '/' and leading dots included (no FNM_PATHNAME, no FNM_PERIOD);
 * everything else matches itself. Backtracks to the last '*' only, which
 * suffices when stars are the only wildcard. */
static bool star_match(const char *pattern, const char *text)
{
	const char *star = NULL, *retry = NULL;
	while (*text) {
		if (*pattern == '*') {
			star = ++pattern;
			retry = text;
		} else if (*pattern && *pattern == *text) {
			pattern++;
			text++;
		} else if (star) {
			pattern = star;
			text = ++retry;
		} else {
			return false;
		}
	}
	while (*pattern == '*')
		pattern++;
	return !*pattern;
}

static bool alias_matches(const struct alias_entry *e, const char *modalias)
{
	return e->stars_only ? star_match(e->pattern, modalias)
	                     : fnmatch(e->pattern, modalias, 0) == 0;
}

struct pt_kmod_aliases {
	char *text;                    /* the file, cut into NUL-terminated fields */
	struct alias_entry *by_vendor; /* literal-vendor PCI patterns, sorted by vendor */
	size_t n_by_vendor;
	struct alias_entry *others; /* everything else, in file order */
	size_t n_others;
};

/* The 8 hex digits after "pci:v", when they are all literal hex. */
static bool literal_vendor(const char *text, char out[9])
{
	if (strncmp(text, "pci:v", 5) != 0)
		return false;
	for (int i = 0; i < 8; i++) {
		char c = text[5 + i];
		bool hex =
		        (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
		if (!hex)
			return false;
		out[i] = (char)(c >= 'a' ? c - 'a' + 'A' : c);
	}
	out[8] = '\0';
	return true;
}

static int compare_vendor(const void *a, const void *b)
{
	const struct alias_entry *x = a, *y = b;
	int c = strcmp(x->vendor, y->vendor);
	if (c)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

static int push_entry(struct alias_entry **list, size_t *n, size_t *cap,
                      const struct alias_entry *e)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 256;
		struct alias_entry *grown = realloc(*list, ncap * sizeof **list);
		if (!grown)
			return -ENOMEM;
		*list = grown;
		*cap = ncap;
	}
	(*list)[(*n)++] = *e;
	return 0;
}

void pt_kmod_aliases_free(struct pt_kmod_aliases *aliases)
{
	if (!aliases)
		return;
	free(aliases->text);
	free(aliases->by_vendor);
	free(aliases->others);
	free(aliases);
}

int pt_kmod_aliases_load(const char *root, const char *release, struct pt_kmod_aliases **out)
{
	*out = NULL;
	struct pt_kmod_aliases *a = calloc(1, sizeof *a);
	if (!a)
		return -ENOMEM;
	int r = read_modules_file(root, release, "modules.alias", &a->text);
	if (r == -ENOENT || r == -EINVAL || r == -ENOTDIR) {
		*out = a; /* no alias file: an empty index */
		return 0;
	}
	if (r < 0) {
		pt_kmod_aliases_free(a);
		return r;
	}
	size_t cap_vendor = 0, cap_others = 0, line_no = 0;
	for (char *line = a->text; line && *line; line_no++) {
		char *eol = strchr(line, '\n');
		if (eol)
			*eol = '\0';
		char *save = NULL;
		char *kw = strtok_r(line, " \t", &save);
		char *pattern = kw ? strtok_r(NULL, " \t", &save) : NULL;
		char *module = pattern ? strtok_r(NULL, " \t", &save) : NULL;
		if (kw && module && !strcmp(kw, "alias")) {
			struct alias_entry e = {.pattern = pattern,
			                        .module = module,
			                        .line = line_no,
			                        .stars_only = !strpbrk(pattern, "?[\\")};
			if (literal_vendor(pattern, e.vendor))
				r = push_entry(&a->by_vendor, &a->n_by_vendor, &cap_vendor, &e);
			else
				r = push_entry(&a->others, &a->n_others, &cap_others, &e);
			if (r < 0) {
				pt_kmod_aliases_free(a);
				return r;
			}
		}
		line = eol ? eol + 1 : NULL;
	}
	qsort(a->by_vendor, a->n_by_vendor, sizeof *a->by_vendor, compare_vendor);
	*out = a;
	return 0;
}

static int compare_line(const void *a, const void *b)
{
	const struct alias_entry *x = *(const struct alias_entry *const *)a;
	const struct alias_entry *y = *(const struct alias_entry *const *)b;
	return x->line < y->line ? -1 : x->line > y->line;
}

static bool array_has(const json_t *array, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach (array, i, v)
		if (!strcmp(json_string_value(v), s))
			return true;
	return false;
}

/* Append a match; on allocation failure the match is dropped (the answer is
 * then incomplete, never wrong about what it lists). */
static void push_hit(const struct alias_entry ***hits, size_t *n, size_t *cap,
                     const struct alias_entry *e)
{
	if (*n == *cap) {
		const struct alias_entry **grown = realloc(*hits, *cap * 2 * sizeof **hits);
		if (!grown)
			return;
		*hits = grown;
		*cap *= 2;
	}
	(*hits)[(*n)++] = e;
}

json_t *pt_kmod_aliases_match(const struct pt_kmod_aliases *a, const char *modalias)
{
	json_t *result = json_array();
	if (!result || !a || !modalias || !*modalias)
		return result;
	size_t cap = 16, n = 0;
	const struct alias_entry **hits = malloc(cap * sizeof *hits);
	if (!hits)
		return result;

	char vendor[9];
	if (literal_vendor(modalias, vendor) && a->n_by_vendor) {
		size_t lo = 0, hi = a->n_by_vendor;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (strcmp(a->by_vendor[mid].vendor, vendor) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (size_t i = lo; i < a->n_by_vendor && !strcmp(a->by_vendor[i].vendor, vendor);
		     i++) {
			if (alias_matches(&a->by_vendor[i], modalias))
				push_hit(&hits, &n, &cap, &a->by_vendor[i]);
		}
	}
	for (size_t i = 0; i < a->n_others; i++) {
		if (alias_matches(&a->others[i], modalias))
			push_hit(&hits, &n, &cap, &a->others[i]);
	}
	qsort(hits, n, sizeof *hits, compare_line);
	for (size_t i = 0; i < n; i++)
		if (!array_has(result, hits[i]->module))
			json_array_append_new(result, json_string(hits[i]->module));
	free(hits);
	return result;
}

json_t *pt_kmod_modules_for_alias(const char *root, const char *release, const char *modalias)
{
	struct pt_kmod_aliases *a = NULL;
	if (pt_kmod_aliases_load(root, release, &a) < 0)
		return json_array();
	json_t *result = pt_kmod_aliases_match(a, modalias);
	pt_kmod_aliases_free(a);
	return result;
}
