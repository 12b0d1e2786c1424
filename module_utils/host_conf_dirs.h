/* Layer: host I/O (reads the host under root). Included by host_early_load.c,
 * host_vfio_params.c and tests.
 *
 * Configuration directories read the way kmod reads modprobe.d and systemd reads
 * modules-load.d: the files named *.conf in a list of directories, taken in the
 * order of their names across all of them, where a name found in an earlier
 * directory masks the same name in a later one (/etc over /run over /usr/lib).
 * A file that cannot be read is not silently "empty": the listing says that it
 * is incomplete, and the callers report what they then cannot know. */
#ifndef PT_HOST_CONF_DIRS_H
#define PT_HOST_CONF_DIRS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* kmod's search order for modprobe.d (a NULL-terminated list). */
extern const char *const pt_modprobe_d_dirs[];
/* systemd-modules-load's search order for modules-load.d (Debian keeps /lib
 * apart from /usr/lib on hosts upgraded from before the merged /usr). */
extern const char *const pt_modules_load_d_dirs[];

struct pt_conf_file {
	char *path;      /* where to read it: root joined with host_path (owned) */
	char *host_path; /* as the host names it, e.g. "/etc/modprobe.d/vfio.conf" (owned) */
};

struct pt_conf_files {
	struct pt_conf_file *files; /* sorted by file name, masked ones left out (owned) */
	size_t count;
	bool complete;    /* false when a directory exists but could not be listed */
	char *unreadable; /* the first such directory, as the host names it (owned) */
};

/* List the *.conf files of dirs (host paths, NULL-terminated) under root ("/"
 * for the live host). Names starting with '.' are left out. A missing
 * directory adds nothing and keeps the listing complete. Returns 0 and fills
 * out (release with pt_conf_files_release, whatever the return), or -ENOMEM. */
int pt_conf_files_list(const char *root, const char *const dirs[], struct pt_conf_files *out);

void pt_conf_files_release(struct pt_conf_files *files);

/* Every logical line of every modprobe.d file under root, in the order kmod
 * reads them: pt_modprobe_parse's objects {line, command, module, args, text}
 * with "path" (the host path of the file) added. New reference; NULL only when
 * out of memory. *complete (when not NULL) is false when a directory or a file
 * that exists could not be read: then a missing line proves nothing, and
 * *unreadable (when not NULL; caller frees) names the first such place. */
json_t *pt_modprobe_d_lines(const char *root, bool *complete, char **unreadable);

/* The args of one of those lines when it is `command module ...` (module NULL:
 * any module; names as pt_modprobe_parse normalised them, "vfio_pci"), else
 * NULL. Borrowed from line. */
const char *pt_modprobe_line_args(const json_t *line, const char *command, const char *module);

#endif
