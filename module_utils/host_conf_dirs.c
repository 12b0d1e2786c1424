/* Configuration directories as kmod and systemd read them (see host_conf_dirs.h).
 *
 * Directories are opened through pt_file_open, so links in a sandbox root stay
 * inside it, as every other read of the modules does. */
#include "host_conf_dirs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "files.h"
#include "host_files.h"
#include "modprobe_conf.h"

const char *const pt_modprobe_d_dirs[] = {"/etc/modprobe.d",           "/run/modprobe.d",
                                          "/usr/local/lib/modprobe.d", "/lib/modprobe.d",
                                          "/usr/lib/modprobe.d",       NULL};

const char *const pt_modules_load_d_dirs[] = {
        "/etc/modules-load.d",     "/run/modules-load.d", "/usr/local/lib/modules-load.d",
        "/usr/lib/modules-load.d", "/lib/modules-load.d", NULL};

/* One name seen in one directory (index into dirs: the lower, the stronger). */
struct seen {
	char *name;
	size_t dir;
};

static int compare_seen(const void *a, const void *b)
{
	const struct seen *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	if (c)
		return c;
	return (x->dir > y->dir) - (x->dir < y->dir);
}

const char *pt_modprobe_line_args(const json_t *line, const char *command, const char *module)
{
	const char *cmd = json_string_value(json_object_get(line, "command"));
	const char *mod = json_string_value(json_object_get(line, "module"));
	const char *args = json_string_value(json_object_get(line, "args"));
	if (!cmd || !mod || !args || strcmp(cmd, command) != 0)
		return NULL;
	return !module || strcmp(mod, module) == 0 ? args : NULL;
}

static bool is_conf_name(const char *name)
{
	size_t n = strlen(name);
	return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".conf") == 0;
}

void pt_conf_files_release(struct pt_conf_files *files)
{
	if (!files)
		return;
	for (size_t i = 0; i < files->count; i++) {
		free(files->files[i].path);
		free(files->files[i].host_path);
	}
	free(files->files);
	free(files->unreadable);
	memset(files, 0, sizeof *files);
	files->complete = true;
}

/* The .conf names in one directory, appended to *seen. 0, 1 when the
 * directory exists but cannot be listed, or -ENOMEM. */
static int list_one(const char *root, const char *dir, size_t index, struct seen **seen, size_t *n)
{
	char **names = NULL;
	int count = pt_host_list_dir(root, dir, is_conf_name, &names);
	if (count == -ENOMEM)
		return count;
	if (count < 0)
		return 1;
	if (!count)
		return 0;
	struct seen *grown = realloc(*seen, (*n + (size_t)count) * sizeof **seen);
	if (!grown) {
		pt_host_names_free(names);
		return -ENOMEM;
	}
	*seen = grown;
	for (int i = 0; i < count; i++)
		(*seen)[(*n)++] = (struct seen){names[i], index}; /* the name moves */
	free(names);
	return 0;
}

static char *join_host_path(const char *dir, const char *name)
{
	char *s = NULL;
	return asprintf(&s, "%s/%s", dir, name) < 0 ? NULL : s;
}

int pt_conf_files_list(const char *root, const char *const dirs[], struct pt_conf_files *out)
{
	memset(out, 0, sizeof *out);
	out->complete = true;
	struct seen *seen = NULL;
	size_t n = 0;
	int r = 0;
	for (size_t i = 0; dirs[i] && r >= 0; i++) {
		r = list_one(root, dirs[i], i, &seen, &n);
		if (r == 1) {
			r = 0;
			if (out->complete && !(out->unreadable = strdup(dirs[i])))
				r = -ENOMEM;
			out->complete = false;
		}
	}
	if (r == 0 && n) {
		qsort(seen, n, sizeof *seen, compare_seen);
		out->files = calloc(n, sizeof *out->files);
		if (!out->files)
			r = -ENOMEM;
	}
	/* sorted by name, then directory: the first of a run of one name wins */
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (i && strcmp(seen[i].name, seen[i - 1].name) == 0)
			continue;
		struct pt_conf_file *f = &out->files[out->count];
		f->host_path = join_host_path(dirs[seen[i].dir], seen[i].name);
		f->path = f->host_path ? pt_path_join(root, f->host_path) : NULL;
		out->count++;
		if (!f->path)
			r = -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		free(seen[i].name);
	free(seen);
	return r;
}

/* Mark the listing incomplete at host_path (the first place only). */
static void note_unreadable(bool *complete, char **unreadable, const char *host_path)
{
	if (unreadable && *complete && !*unreadable)
		*unreadable = strdup(host_path);
	*complete = false;
}

json_t *pt_modprobe_d_lines(const char *root, bool *complete, char **unreadable)
{
	bool all = true;
	if (unreadable)
		*unreadable = NULL;
	struct pt_conf_files files = {.complete = true};
	json_t *lines = json_array();
	if (!lines || pt_conf_files_list(root, pt_modprobe_d_dirs, &files) < 0) {
		pt_conf_files_release(&files);
		json_decref(lines);
		return NULL;
	}
	if (!files.complete)
		note_unreadable(&all, unreadable, files.unreadable);
	for (size_t i = 0; i < files.count && lines; i++) {
		_cleanup_free_ char *text = NULL;
		int r = pt_file_read(files.files[i].path, &text, NULL);
		if (r == -ENOENT)
			continue; /* gone since the listing, or a dangling link (a mask) */
		if (r < 0) {
			note_unreadable(&all, unreadable, files.files[i].host_path);
			continue;
		}
		_cleanup_json_ json_t *parsed = pt_modprobe_parse(text);
		json_t *path = json_string(files.files[i].host_path);
		if (!path) /* a file name that is not UTF-8: said, not dropped */
			path = json_string("(a modprobe.d file whose name is not UTF-8)");
		size_t k;
		json_t *e;
		json_array_foreach (parsed, k, e)
			json_object_set(e, "path", path);
		json_decref(path);
		if (!parsed || json_array_extend(lines, parsed) < 0) {
			json_decref(lines);
			lines = NULL;
		}
	}
	pt_conf_files_release(&files);
	if (complete)
		*complete = all;
	return lines;
}
