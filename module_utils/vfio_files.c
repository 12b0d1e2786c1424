#include "vfio_files.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "conf_block.h"
#include "exec.h"
#include "files.h"
#include "modprobe_conf.h"
#include "modules_file.h"
#include "root_path.h"
#include "vfio_render.h"

#define HEADER ": managed by Ansible (edits here are overwritten)"

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !strcmp(s + a - b, suffix);
}

int pt_vfio_files_check_paths(const struct pt_vfio_bind_opts *opts, struct pt_report *rep)
{
	const char *conf = opts->conf_path, *blacklist = opts->blacklist_path;
	const char *modules = opts->modules_file;
	if (!conf || !ends_with(conf, ".conf"))
		return pt_report_fail(
		        rep, -EINVAL,
		        "conf_path %s does not end in .conf: modprobe reads only *.conf files in "
		        "modprobe.d; use e.g. /etc/modprobe.d/vfio.conf",
		        conf ? conf : "(none)");
	if (!blacklist || !ends_with(blacklist, ".conf"))
		return pt_report_fail(
		        rep, -EINVAL,
		        "blacklist_path %s does not end in .conf: modprobe reads only *.conf "
		        "files in modprobe.d; use e.g. /etc/modprobe.d/blacklist-gpu.conf",
		        blacklist ? blacklist : "(none)");
	if (!strcmp(conf, blacklist))
		return pt_report_fail(
		        rep, -EINVAL,
		        "conf_path and blacklist_path are both %s: give the blacklist a file of "
		        "its own",
		        conf);
	if (!modules)
		return pt_report_fail(rep, -EINVAL, "modules_file must be set");
	/* systemd-modules-load reads /etc/modules (through modules-load.d) and
	 * *.conf files in the modules-load.d directories, nothing else */
	const char *slash = strrchr(modules, '/');
	size_t dir = slash ? (size_t)(slash - modules) : 0;
	bool in_load_d = dir >= 15 && !memcmp(slash - 15, "/modules-load.d", 15) &&
	                 ends_with(modules, ".conf");
	if (strcmp(modules, "/etc/modules") != 0 && !in_load_d)
		return pt_report_fail(
		        rep, -EINVAL,
		        "modules_file %s is neither /etc/modules nor a .conf file in a "
		        "modules-load.d directory, so nothing would load the vfio modules from "
		        "it at boot; use /etc/modules or e.g. /etc/modules-load.d/vfio.conf",
		        modules);
	/* the module's main refuses these first (pt_param_abspath); the library
	 * keeps the rule for every caller */
	static const char *const keys[] = {"conf_path", "blacklist_path", "modules_file"};
	const char *paths[] = {conf, blacklist, modules};
	for (size_t i = 0; i < 3; i++)
		if (paths[i][0] != '/')
			return pt_report_fail(rep, -EINVAL,
			                      "%s '%s' is not an absolute path: give the path "
			                      "as the host sees it, starting with / (it is "
			                      "taken under root)",
			                      keys[i], paths[i]);
	return 0;
}

/* What to do when two of the options name one file. */
static const char *same_file_advice(size_t a, size_t b)
{
	if (a == PT_VFIO_CONF && b == PT_VFIO_BLACKLIST)
		return "give the blacklist a file of its own, e.g. "
		       "/etc/modprobe.d/blacklist-gpu.conf";
	return "modules_file lists modules to load, one per line, and is no modprobe.d file: "
	       "give it a file of its own, e.g. /etc/modules or /etc/modules-load.d/vfio.conf";
}

int pt_vfio_files_check_distinct(const struct pt_vfio_bind_opts *opts, struct pt_report *rep)
{
	static const char *const keys[] = {"conf_path", "blacklist_path", "modules_file"};
	const char *paths[] = {opts->conf_path, opts->blacklist_path, opts->modules_file};
	char *real[PT_VFIO_NFILES] = {NULL};
	int e = 0;
	/* resolved as the host resolves them; NULL (out of memory, a link loop, a
	 * path too long) compares as given, and the read then reports it */
	for (size_t i = 0; i < PT_VFIO_NFILES; i++)
		real[i] = pt_root_host_path(opts->root, paths[i]);
	for (size_t a = 0; !e && a < PT_VFIO_NFILES; a++) {
		for (size_t b = a + 1; !e && b < PT_VFIO_NFILES; b++) {
			struct stat sa, sb;
			if (!strcmp(paths[a], paths[b]))
				e = pt_report_fail(rep, -EINVAL, "%s and %s are both %s: %s",
				                   keys[a], keys[b], paths[a],
				                   same_file_advice(a, b));
			else if (real[a] && real[b] &&
			         (!strcmp(real[a], real[b]) ||
			          (stat(real[a], &sa) == 0 && stat(real[b], &sb) == 0 &&
			           sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino)))
				e = pt_report_fail(
				        rep, -EINVAL,
				        "%s %s and %s %s are the same file (%s): the module's two "
				        "blocks would be planned from the same old text and the "
				        "second write would drop the first; %s",
				        keys[a], paths[a], keys[b], paths[b], real[a],
				        same_file_advice(a, b));
		}
	}
	for (size_t i = 0; i < PT_VFIO_NFILES; i++)
		free(real[i]);
	return e;
}

/* Where the file is and what it holds now (old NULL: absent). */
static int read_file(const char *root, const char *rel, struct pt_vfio_file *f,
                     struct pt_report *rep)
{
	f->path = pt_path_join(root, rel);
	if (!f->path)
		return pt_report_fail(rep, -ENOMEM, "out of memory");
	int e = pt_file_read(f->path, &f->old, NULL);
	if (e < 0 && e != -ENOENT)
		return pt_report_fail(rep, e, "cannot read %s: %s", f->path, strerror(-e));
	return 0;
}

/* A modprobe.d file: the owner's block set to body (NULL: removed). */
static int plan_block(const char *root, const char *rel, const char *owner, const char *body,
                      struct pt_vfio_file *f, struct pt_report *rep)
{
	_cleanup_report_ struct pt_report err = {0};
	int e = read_file(root, rel, f, rep);
	if (e < 0)
		return e;
	/* a last line that continues would swallow the BEGIN marker */
	if (body && *body && pt_modprobe_check_continuation(f->old, owner, f->path, &err) < 0)
		return pt_report_fail(rep, err.msg ? err.error : -ENOMEM, "%s",
		                      err.msg ? err.msg : "out of memory");
	f->new_text = pt_conf_block_apply(f->old, owner, HEADER, body, f->path, &err);
	if (!f->new_text)
		return pt_report_fail(rep, err.msg ? err.error : -ENOMEM, "%s",
		                      err.msg ? err.msg : "out of memory");
	return 0;
}

static bool differs(const struct pt_vfio_file *f)
{
	return f->old ? strcmp(f->old, f->new_text) != 0 : *f->new_text != '\0';
}

static void warn_conflicts(const char *root, const char *conf_path, bool overrides,
                           struct pt_report *rep)
{
	_cleanup_json_ json_t *found = json_array();
	if (!found || pt_modprobe_find_conflicts(root, conf_path, PT_VFIO_OWNER, found) < 0)
		return;
	size_t i;
	json_t *c;
	json_array_foreach (found, i, c) {
		const char *kind = json_string_value(json_object_get(c, "kind"));
		const char *path = json_string_value(json_object_get(c, "path"));
		const char *text = json_string_value(json_object_get(c, "text"));
		int line = (int)json_integer_value(json_object_get(c, "line"));
		if (!strcmp(kind, "ids"))
			pt_report_warn(
			        rep,
			        "%s line %d (%s) also sets vfio-pci ids=: the kernel keeps only "
			        "the "
			        "last ids= it is given, so this line and the one %s manages in %s "
			        "cannot both hold; remove this line",
			        path, line, text, PT_VFIO_OWNER, conf_path);
		else if (!strcmp(kind, "install") && overrides)
			pt_report_warn(
			        rep,
			        "%s line %d (%s) is another install command for vfio-pci, and "
			        "modprobe runs only one: the devices bound by address at boot may "
			        "stay with their host driver; remove this line",
			        path, line, text);
		else if (!strcmp(kind, "blacklist"))
			pt_report_warn(rep,
			               "%s line %d (%s) keeps vfio-pci from loading by name, so "
			               "its options and softdeps may not take effect; remove "
			               "this line",
			               path, line, text);
	}
}

int pt_vfio_files_plan(const struct pt_vfio_bind_opts *opts, const struct pt_vfio_plan *plan,
                       struct pt_vfio_files *files, struct pt_report *rep)
{
	struct pt_vfio_file *f = files->file;
	const char *root = opts->root;
	*files = (struct pt_vfio_files){0};
	f[PT_VFIO_CONF].owner = PT_VFIO_OWNER;
	f[PT_VFIO_BLACKLIST].owner = PT_VFIO_OWNER_BLACKLIST;
	f[PT_VFIO_MODULES].owner = PT_VFIO_OWNER;
	_cleanup_free_ char *conf_body = NULL, *black_body = NULL;
	_cleanup_report_ struct pt_report err = {0};
	_cleanup_json_ json_t *notes = json_array();
	if (!notes)
		return pt_report_fail(rep, -ENOMEM, "out of memory");
	if (opts->present) {
		struct pt_vfio_conf c = {.ids = plan->ids,
		                         .disable_vga = opts->disable_vga,
		                         .softdeps = plan->softdeps,
		                         .overrides = plan->overrides};
		conf_body = pt_vfio_render_conf(&c);
		black_body = pt_vfio_render_blacklist(opts->blacklist);
		if (!conf_body || !black_body)
			return pt_report_fail(rep, -ENOMEM, "out of memory");
	}
	int e;
	if ((e = plan_block(root, opts->conf_path, PT_VFIO_OWNER, conf_body, &f[PT_VFIO_CONF],
	                    rep)) < 0 ||
	    (e = plan_block(root, opts->blacklist_path, PT_VFIO_OWNER_BLACKLIST, black_body,
	                    &f[PT_VFIO_BLACKLIST], rep)) < 0 ||
	    (e = read_file(root, opts->modules_file, &f[PT_VFIO_MODULES], rep)) < 0)
		return e;
	/* the vfio modules: only those no line of the user's loads already */
	struct pt_vfio_file *m = &f[PT_VFIO_MODULES];
	e = pt_modules_file_update(m->old, opts->present ? plan->modules : NULL, PT_VFIO_OWNER,
	                           m->path, &m->new_text, notes, &err);
	if (e < 0)
		return pt_report_fail(rep, e, "%s", err.msg ? err.msg : strerror(-e));

	/* an earlier run's rebuild that never succeeded */
	_cleanup_free_ char *marker = pt_path_join(root, PT_VFIO_INITRAMFS_PENDING);
	_cleanup_free_ char *marker_text = NULL;
	if (!marker)
		return pt_report_fail(rep, -ENOMEM, "out of memory");
	files->initramfs_pending = pt_file_read(marker, &marker_text, NULL) == 0;
	if (files->initramfs_pending && !opts->update_initramfs)
		pt_report_warn(
		        rep,
		        "an earlier run wrote the files, and update-initramfs has not succeeded "
		        "since (%s): the initramfs may still hold the old configuration. Run "
		        "update-initramfs -u -k all before rebooting, or run this task with "
		        "update_initramfs: true",
		        marker);

	/* the initramfs is rebuilt after the writes: make sure that can happen */
	bool any = differs(&f[0]) || differs(&f[1]) || differs(&f[2]);
	if ((any || files->initramfs_pending) && opts->update_initramfs &&
	    !pt_exec_available(root, "update-initramfs"))
		return pt_report_fail(
		        rep, -ENOENT,
		        "update-initramfs was not found under %s, so the initramfs could not carry "
		        "the new configuration; install initramfs-tools, or set update_initramfs: "
		        "false and rebuild it yourself (nothing was written)",
		        root);
	size_t i;
	json_t *n;
	json_array_foreach (notes, i, n)
		pt_report_warn(rep, "%s", json_string_value(n));
	if (opts->present)
		warn_conflicts(root, f[PT_VFIO_CONF].path, json_array_size(plan->overrides) > 0,
		               rep);
	return 0;
}

/* full (a path under root, as pt_path_join made it) as the host sees it: the
 * result and the diff name files the way the user gave them, /etc/..., not
 * <root>/etc/... (a sandbox or a mounted image is an implementation detail). */
static const char *host_view(const char *root, const char *full)
{
	size_t n = strlen(root);
	while (n > 0 && root[n - 1] == '/')
		n--;
	if (n == 0 || strncmp(full, root, n) != 0 || full[n] != '/')
		return full;
	return full + n;
}

/* One file to its new text: entry, diff, write. */
static int apply_one(const struct pt_vfio_bind_opts *opts, const struct pt_vfio_file *f,
                     json_t *entries, json_t *written, bool *changed, struct pt_report *rep)
{
	bool remove = !*f->new_text;
	bool change = differs(f);
	struct pt_conf_block blk;
	bool ours =
	        pt_conf_block_find(f->new_text, f->owner, f->path, &blk, NULL) == 0 && blk.found;
	json_t *entry = json_object();
	if (!entry || json_array_append_new(entries, entry) < 0)
		return pt_report_fail(rep, -ENOMEM, "out of memory");
	const char *shown = host_view(opts->root, f->path);
	json_object_set_new(entry, "path", json_string(shown));
	json_object_set_new(entry, "changed", json_boolean(change));
	json_object_set_new(entry, "state", json_string(ours ? "present" : "absent"));
	if (!change)
		return 0;
	*changed = true;
	pt_report_diff(rep, shown, f->old, f->new_text);
	if (opts->check)
		return 0;

	_cleanup_free_ char *backup = NULL;
	_cleanup_report_ struct pt_report err = {0};
	int e;
	if (remove) {
		e = pt_file_remove(f->path, opts->backup, &backup, &err);
	} else {
		struct pt_write_opts o = {
		        .mode_if_new = 0644, .backup = opts->backup, .mkdirs = true};
		e = pt_file_write_atomic(f->path, f->new_text, strlen(f->new_text), &o, &backup,
		                         &err);
	}
	if (e < 0) {
		_cleanup_free_ char *done = json_dumps(written, JSON_COMPACT);
		bool any = json_array_size(written) > 0;
		return pt_report_fail(rep, e, "%s%s%s", err.msg ? err.msg : strerror(-e),
		                      any ? "; already written: " : "", any && done ? done : "");
	}
	if (backup)
		json_object_set_new(entry, "backup", json_string(host_view(opts->root, backup)));
	json_array_append_new(written, json_string(f->path));
	return 0;
}

static const char pending_text[] =
        "# homelab.passthrough.vfio_bind wrote its modprobe.d and modules files, and\n"
        "# update-initramfs -u -k all has not succeeded since. The next run of the\n"
        "# module with update_initramfs: true runs it again and then removes this file.\n";

/* Record that the initramfs is to be rebuilt: 0, or the failure in rep. */
static int mark_pending(const char *root, char **path, struct pt_report *rep)
{
	_cleanup_report_ struct pt_report err = {0};
	*path = pt_path_join(root, PT_VFIO_INITRAMFS_PENDING);
	if (!*path)
		return pt_report_fail(rep, -ENOMEM, "out of memory");
	struct pt_write_opts o = {.mode_if_new = 0644, .mkdirs = true};
	int e = pt_file_write_atomic(*path, pending_text, sizeof pending_text - 1, &o, NULL, &err);
	if (e < 0)
		return pt_report_fail(
		        rep, e,
		        "cannot record that the initramfs is to be rebuilt before writing the "
		        "files: %s; nothing was written",
		        err.msg ? err.msg : strerror(-e));
	return 0;
}

int pt_vfio_files_apply(const struct pt_vfio_bind_opts *opts, const struct pt_vfio_files *files,
                        json_t *entries, bool *changed, bool *written, struct pt_report *rep)
{
	_cleanup_json_ json_t *done = json_array();
	_cleanup_free_ char *marker = NULL;
	int e = done ? 0 : pt_report_fail(rep, -ENOMEM, "out of memory");
	bool any = false;
	for (size_t i = 0; i < PT_VFIO_NFILES; i++)
		any = any || differs(&files->file[i]);
	/* the marker first: a rebuild that then fails is retried by the next run */
	if (!e && any && !opts->check && opts->update_initramfs && !files->initramfs_pending)
		e = mark_pending(opts->root, &marker, rep);
	for (size_t i = 0; !e && i < PT_VFIO_NFILES; i++)
		e = apply_one(opts, &files->file[i], entries, done, changed, rep);
	if (json_array_size(done))
		*written = true;
	else if (marker) /* nothing written after all: nothing to rebuild for */
		pt_file_remove(marker, false, NULL, NULL);
	return e;
}

void pt_vfio_files_release(struct pt_vfio_files *files)
{
	for (size_t i = 0; i < PT_VFIO_NFILES; i++) {
		free(files->file[i].path);
		free(files->file[i].old);
		free(files->file[i].new_text);
	}
	*files = (struct pt_vfio_files){0};
}

int pt_vfio_initramfs_update(const struct pt_vfio_bind_opts *opts, json_t **command,
                             struct pt_report *rep)
{
	*command = NULL;
	if (opts->check)
		return 0;
	static const char *const argv[] = {"update-initramfs", "-u", "-k", "all", NULL};
	struct pt_exec_result res;
	int timeout = opts->initramfs_timeout;
	int e = pt_exec(opts->root, argv, timeout, &res);
	if (e == 0 && res.rc == 0) {
		_cleanup_free_ char *marker = pt_path_join(opts->root, PT_VFIO_INITRAMFS_PENDING);
		_cleanup_report_ struct pt_report err = {0};
		if (marker && pt_file_remove(marker, false, NULL, &err) < 0)
			pt_report_warn(rep,
			               "the initramfs is rebuilt, but %s could not be removed "
			               "(%s): the next run rebuilds it once more",
			               marker, err.msg ? err.msg : "?");
	} else {
		*command = json_object();
		pt_exec_result_to_json(argv, &res, *command);
		const char *err = res.err && *res.err ? res.err : NULL;
		if (e < 0)
			pt_report_fail(rep, e, "cannot run update-initramfs -u -k all: %s",
			               err ? err : strerror(-e));
		else if (res.timed_out)
			e = pt_report_fail(
			        rep, -ETIMEDOUT,
			        "update-initramfs -u -k all did not finish within %d s and was "
			        "killed; the files are written: raise initramfs_timeout and run "
			        "the task again (it reruns update-initramfs until it succeeds), or "
			        "run it by hand before rebooting",
			        timeout);
		else
			e = pt_report_fail(
			        rep, -EIO,
			        "update-initramfs -u -k all failed (rc %d): %s; the files are "
			        "written, so fix the cause and run the task again (it reruns "
			        "update-initramfs until it succeeds), or run it by hand before "
			        "rebooting",
			        res.rc, err ? err : "(no error output)");
	}
	pt_exec_result_release(&res);
	return e;
}
