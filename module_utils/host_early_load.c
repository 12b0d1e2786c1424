/* Boot-time loaders of a driver (see host_early_load.h).
 *
 * Formats, as their readers take them:
 *   /etc/initramfs-tools/modules: initramfs-tools' add_modules_from_file, one
 *     "module [parameters]" per line, '#' starts a comment line;
 *   /etc/modules and modules-load.d: systemd-modules-load, the whole trimmed
 *     line is one module name, '#' and ';' start comments (a line with blanks
 *     inside names no module and loads nothing: see modules_file.h);
 *   modprobe.d: kmod, through pt_modprobe_d_lines. */
#include "host_early_load.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cleanup.h"
#include "files.h"
#include "host_conf_dirs.h"
#include "host_files.h"
#include "kmod.h"

#define INITRAMFS_MODULES "/etc/initramfs-tools/modules"
#define ETC_MODULES       "/etc/modules"
#define MAX_INSTALL_LOADS 16

void pt_load_sources_release(struct pt_load_sources *src)
{
	if (!src)
		return;
	for (size_t i = 0; i < src->count; i++) {
		free(src->entries[i].module);
		free(src->entries[i].file);
		free(src->entries[i].text);
	}
	free(src->entries);
	free(src->unreadable);
	free(src->builtin_file);
	free(src->builtin);
	memset(src, 0, sizeof *src);
	src->complete = true;
}

static void mark_unreadable(struct pt_load_sources *src, const char *host_path)
{
	if (src->complete && !src->unreadable)
		src->unreadable = strdup(host_path);
	src->complete = false;
}

static int add_entry(struct pt_load_sources *src, const char *module, size_t module_len,
                     const char *file, int line, const char *how, const char *text, size_t text_len)
{
	struct pt_load_entry *grown = realloc(src->entries, (src->count + 1) * sizeof *grown);
	if (!grown)
		return -ENOMEM;
	src->entries = grown;
	char name[64];
	_cleanup_free_ char *raw = strndup(module, module_len);
	if (!raw)
		return -ENOMEM;
	pt_kmod_normalize(raw, name, sizeof name);
	struct pt_load_entry *e = &src->entries[src->count];
	*e = (struct pt_load_entry){strdup(name), strdup(file), line, how, strndup(text, text_len)};
	src->count++;
	return e->module && e->file && e->text ? 0 : -ENOMEM;
}

/* [*start, *end) narrowed to the line without surrounding blanks. */
static void trim(const char **start, const char **end)
{
	while (*start < *end && (**start == ' ' || **start == '\t' || **start == '\r'))
		(*start)++;
	while (*end > *start && ((*end)[-1] == ' ' || (*end)[-1] == '\t' || (*end)[-1] == '\r'))
		(*end)--;
}

/* Read a line-oriented list (initramfs-tools or systemd format) at host path
 * file under root into entries. A missing file adds nothing. 0 or -ENOMEM. */
static int read_list(struct pt_load_sources *src, const char *root, const char *file,
                     const char *how, bool systemd)
{
	_cleanup_free_ char *text = NULL;
	int r = pt_host_read(root, &text, NULL, "%s", file);
	if (r == -ENOENT)
		return 0;
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		mark_unreadable(src, file);
		return 0;
	}
	int number = 0;
	for (const char *line = text; *line;) {
		const char *eol = strchr(line, '\n');
		const char *end = eol ? eol : line + strlen(line);
		const char *start = line;
		number++;
		line = eol ? eol + 1 : end;
		trim(&start, &end);
		if (start == end || *start == '#' || (systemd && *start == ';'))
			continue;
		size_t word = strcspn(start, " \t");
		if (start + word > end)
			word = (size_t)(end - start);
		/* systemd looks the whole line up as one name: blanks inside load nothing */
		if (systemd && start + word != end)
			continue;
		if (add_entry(src, start, word, file, number, how, start, (size_t)(end - start)) <
		    0)
			return -ENOMEM;
	}
	return 0;
}

/* Whether host paths a and b under root are the same file (Debian's
 * /etc/modules-load.d/modules.conf is a link to ../modules). */
static bool same_file(const char *root, const char *a, const char *b)
{
	_cleanup_free_ char *pa = pt_path_join(root, a);
	_cleanup_free_ char *pb = pt_path_join(root, b);
	if (!pa || !pb)
		return false;
	_cleanup_close_ int fa = pt_file_open(pa, O_PATH | O_CLOEXEC);
	_cleanup_close_ int fb = pt_file_open(pb, O_PATH | O_CLOEXEC);
	struct stat sa, sb;
	return fa >= 0 && fb >= 0 && fstat(fa, &sa) == 0 && fstat(fb, &sb) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int read_modules_load_d(struct pt_load_sources *src, const char *root)
{
	struct pt_conf_files files;
	int r = pt_conf_files_list(root, pt_modules_load_d_dirs, &files);
	if (r == 0 && !files.complete)
		mark_unreadable(src, files.unreadable);
	for (size_t i = 0; r == 0 && i < files.count; i++)
		if (!same_file(root, files.files[i].host_path, ETC_MODULES))
			r = read_list(src, root, files.files[i].host_path, "modules-load", true);
	pt_conf_files_release(&files);
	return r;
}

/* A shell word's end: blanks and the operators that end a simple command. */
static size_t word_length(const char *s)
{
	return strcspn(s, " \t\n;&|()`<>");
}

void pt_install_loaded_modules(const char *command, char out[][64], size_t max, size_t *n)
{
	*n = 0;
	bool in_call = false, all = false, took = false;
	for (const char *p = command; p && *p;) {
		if (strchr(";&|()`\n", *p)) {
			in_call = false; /* a new command starts */
			p++;
			continue;
		}
		if (*p == ' ' || *p == '\t' || *p == '<' || *p == '>') {
			p++;
			continue;
		}
		size_t len = word_length(p);
		char word[256];
		size_t w = 0;
		for (size_t i = 0; i < len && w + 1 < sizeof word; i++)
			if (p[i] != '"' && p[i] != '\'')
				word[w++] = p[i];
		word[w] = '\0';
		p += len;
		char *base = strrchr(word, '/');
		base = base ? base + 1 : word;
		if (!in_call) {
			in_call = !strcmp(base, "modprobe") || !strcmp(base, "insmod");
			all = took = false;
			continue;
		}
		if (word[0] == '-') {
			all |= !strcmp(word, "-a") || !strcmp(word, "--all");
			continue;
		}
		if (word[0] == '$' || !word[0] || (took && !all))
			continue; /* a variable, or a parameter after the module */
		took = true;
		char name[64];
		size_t blen = strlen(base);
		if (blen > 3 && !strcmp(base + blen - 3, ".ko"))
			base[blen - 3] = '\0';
		pt_kmod_normalize(base, name, sizeof name);
		if (*n < max)
			memcpy(out[(*n)++], name, sizeof name);
	}
}

static int read_install_lines(struct pt_load_sources *src, const char *root)
{
	bool complete = true;
	_cleanup_free_ char *unreadable = NULL;
	_cleanup_json_ json_t *lines = pt_modprobe_d_lines(root, &complete, &unreadable);
	if (!lines)
		return -ENOMEM;
	if (!complete)
		mark_unreadable(src, unreadable ? unreadable : "/etc/modprobe.d");
	size_t i;
	json_t *e;
	json_array_foreach (lines, i, e) {
		const char *command = pt_modprobe_line_args(e, "install", NULL);
		if (!command)
			continue;
		const char *self = json_string_value(json_object_get(e, "module"));
		const char *text = json_string_value(json_object_get(e, "text"));
		const char *file = json_string_value(json_object_get(e, "path"));
		int line = (int)json_integer_value(json_object_get(e, "line"));
		char loads[MAX_INSTALL_LOADS][64];
		size_t n = 0;
		pt_install_loaded_modules(command, loads, MAX_INSTALL_LOADS, &n);
		for (size_t k = 0; k < n; k++) {
			/* `install X ... modprobe --ignore-install X`: X loading itself */
			if (!strcmp(loads[k], self))
				continue;
			if (add_entry(src, loads[k], strlen(loads[k]), file, line, "install", text,
			              strlen(text)) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

static int read_builtin(struct pt_load_sources *src, const char *root, const char *release)
{
	if (!release || !*release || strchr(release, '/')) {
		src->builtin_error = -ENODATA;
		return 0;
	}
	if (asprintf(&src->builtin_file, "/lib/modules/%s/modules.builtin", release) < 0) {
		src->builtin_file = NULL;
		return -ENOMEM;
	}
	src->builtin_error = pt_host_read(root, &src->builtin, NULL, "%s", src->builtin_file);
	return src->builtin_error == -ENOMEM ? -ENOMEM : 0;
}

int pt_load_sources_read(const char *root, const char *release, struct pt_load_sources *out)
{
	memset(out, 0, sizeof *out);
	out->complete = true;
	int r = read_builtin(out, root, release);
	if (r == 0)
		r = read_list(out, root, INITRAMFS_MODULES, "initramfs", false);
	if (r == 0)
		r = read_list(out, root, ETC_MODULES, "modules-load", true);
	if (r == 0)
		r = read_modules_load_d(out, root);
	if (r == 0)
		r = read_install_lines(out, root);
	return r;
}

/* Whether a modules.builtin line ("kernel/drivers/gpu/drm/i915/i915.ko", len
 * bytes) names module want (normalised): its file name without .ko. */
static bool builtin_line_is(const char *line, size_t len, const char *want)
{
	const char *base = line;
	for (size_t i = 0; i < len; i++)
		if (line[i] == '/')
			base = line + i + 1;
	size_t blen = (size_t)(line + len - base);
	char name[64], normal[64];
	if (blen <= 3 || strncmp(base + blen - 3, ".ko", 3) != 0 || blen - 3 >= sizeof name)
		return false;
	memcpy(name, base, blen - 3);
	name[blen - 3] = '\0';
	pt_kmod_normalize(name, normal, sizeof normal);
	return strcmp(normal, want) == 0;
}

int pt_load_builtin_line(const struct pt_load_sources *src, const char *module, char **text)
{
	if (text)
		*text = NULL;
	if (!src->builtin)
		return src->builtin_error ? src->builtin_error : -ENODATA;
	char want[64];
	pt_kmod_normalize(module, want, sizeof want);
	int number = 0;
	for (const char *line = src->builtin; *line;) {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		number++;
		if (builtin_line_is(line, len, want)) {
			if (text && !(*text = strndup(line, len)))
				return -ENOMEM;
			return number;
		}
		line = eol ? eol + 1 : line + len;
	}
	return 0;
}

size_t pt_load_entries_for(const struct pt_load_sources *src, const char *module,
                           const struct pt_load_entry **found, size_t max)
{
	char want[64];
	pt_kmod_normalize(module, want, sizeof want);
	size_t n = 0;
	for (size_t i = 0; i < src->count; i++) {
		if (strcmp(src->entries[i].module, want) != 0)
			continue;
		if (n < max)
			found[n] = &src->entries[i];
		n++;
	}
	return n;
}
