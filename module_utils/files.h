/* Layer: host I/O, the bottom of it. Included by the other host I/O files, by
 * every family that reads or writes the host's files, by the runtime (the
 * confinement), and by tests and tools.
 *
 * Files under a root, read whole, and written atomically.
 *
 * Every module has a `root` option (default "/"); paths the user gives and the
 * fixed paths a module knows (/etc/modules, /sys/...) are resolved under it. */
#ifndef PT_FILES_H
#define PT_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "report.h"
#include "root_path.h" /* pt_path_join, pt_path_resolve_under: part of this API */

/* Confine every file operation of this process (pt_file_read,
 * pt_file_write_atomic, pt_file_remove, pt_file_write_existing) to root, as the
 * host itself would see its files when booted from it: symbolic links are
 * followed inside root (an absolute target is taken under root, ".." stops at
 * root), and a path that is not under root is refused with -EXDEV. "/" or NULL
 * lifts the confinement. The runtime calls it with the module's root option
 * once the options are valid, and lifts it when the run is released. The
 * string is copied. */
void pt_files_confine(const char *root);

/* The host path path resolves to under the confinement root (see above;
 * pt_path_resolve_under in root_path.h walks it); a copy of path when there is
 * none. Components that do not exist are kept as they are. Caller frees. NULL
 * with errno set: EXDEV (path not under root), ELOOP (more than 40 links),
 * ENAMETOOLONG, ENOMEM. */
char *pt_path_resolve(const char *path);

/* Write value to an existing file in place (a sysfs attribute such as
 * driver_override): no temporary file, no creation. 0 or -errno. */
int pt_file_write_existing(const char *path, const char *value);

/* Read a whole file. On success returns 0, *data is NUL-terminated (caller frees)
 * and *len (if not NULL) its length without the NUL. -errno on failure (-ENOENT
 * when absent); *data is NULL then. Refuses files over 16 MiB with -EFBIG. */
int pt_file_read(const char *path, char **data, size_t *len);

/* Open path as pt_file_read does (under the confinement root, links followed
 * inside it), with open(2) flags such as O_PATH | O_DIRECTORY: a directory
 * whose entries the caller then opens with openat. A descriptor the caller
 * closes, or -errno. */
int pt_file_open(const char *path, int flags);

/* Read a small sysfs/proc attribute: the first line, trailing newline and
 * blanks removed. Caller frees; NULL when missing or unreadable. */
char *pt_file_read_line(const char *path);

/* The target of a symlink, or of its last path component: readlink(path) and
 * return what follows the last '/'. Caller frees; NULL when not a link. */
char *pt_link_basename(const char *path);

struct pt_write_opts {
	mode_t mode_if_new; /* mode for a file that does not exist yet (e.g. 0644) */
	bool backup;        /* keep the old file as PATH.<pid>.<YYYY-MM-DD@HH:MM:SS>~ */
	bool mkdirs;        /* create missing parent directories (mode 0755) */
};

/* Replace path's contents with data[0..len) atomically: a temporary file in the
 * same directory (O_EXCL), same mode and owner as the file it replaces, fsync,
 * rename over path, fsync of the directory. On any failure the original file is
 * left as it was and the temporary file is removed.
 * If path is a symlink, the file it points to is replaced (the link stays).
 * On success returns 0 and, when a backup was made, sets *backup_path (caller
 * frees; may be NULL). On failure returns -errno and records in rep
 * (pt_report_fail: kept unless rep already holds a failure) a message naming
 * the path, the step and strerror; rep may be NULL when the caller needs no
 * reason. */
int pt_file_write_atomic(const char *path, const char *data, size_t len,
                         const struct pt_write_opts *opts, char **backup_path,
                         struct pt_report *rep);

/* Remove a file (absent is fine). Optional backup as above. 0, or -errno with
 * the reason in rep as above (rep may be NULL). */
int pt_file_remove(const char *path, bool backup, char **backup_path, struct pt_report *rep);

/* True if path exists (any type, links not followed). */
bool pt_path_exists(const char *path);

#endif
