/* The three files vfio_bind manages, each through a block of its own (see
 * modprobe_conf.h and modules_file.h): conf_path (options, softdep and install
 * lines for vfio-pci), blacklist_path (blacklist lines) and modules_file (the
 * vfio modules to load at boot); and the initramfs rebuild that carries them
 * into early boot.
 *
 * All three are planned before the first is written, so a damaged marker or
 * an unreadable file in the last one stops the run with nothing written. A
 * file that holds nothing but the block goes away with it; an empty file the
 * user keeps there stays. */
#ifndef PT_VFIO_FILES_H
#define PT_VFIO_FILES_H

#include <stdbool.h>

#include <jansson.h>

#include "vfio_plan.h"
#include "vfio_report.h"
#include "vfio_run.h"

/* The block owners: the markers read "# BEGIN <owner>" and "# END <owner>". */
#define PT_VFIO_OWNER           "homelab.passthrough.vfio_bind"
#define PT_VFIO_OWNER_BLACKLIST PT_VFIO_OWNER "/blacklist"

enum { PT_VFIO_CONF, PT_VFIO_BLACKLIST, PT_VFIO_MODULES, PT_VFIO_NFILES };

/* One managed file. */
struct pt_vfio_file {
	char *path;        /* the full path, under root (owned) */
	char *old;         /* what it holds now; NULL when absent (owned) */
	char *new_text;    /* what it should hold; "" when it should go (owned) */
	const char *owner; /* its block's owner (static) */
};

struct pt_vfio_files {
	struct pt_vfio_file file[PT_VFIO_NFILES]; /* indexed by PT_VFIO_CONF... */
};

/* The three paths as the user gave them make sense: conf_path and
 * blacklist_path are two different *.conf files (modprobe reads nothing else
 * in modprobe.d), modules_file is /etc/modules or a .conf file in a
 * modules-load.d directory (nothing else is read at boot). 0, or -EINVAL with
 * the message in rep. */
int pt_vfio_files_check_paths(const struct pt_vfio_bind_opts *opts, struct pt_vfio_report *rep);

/* What the three files under opts->root should hold for plan (the blocks go
 * when !opts->present), read and computed without writing anything. When a
 * file would change and opts->update_initramfs is set, update-initramfs must
 * exist under root (a read-only look, so check mode predicts this failure
 * too). Warns in rep about the user's own lines that work against the blocks:
 * parameter lines in the modules file, and other vfio-pci ids=, install or
 * blacklist lines in modprobe.d. Returns 0 with files filled, or a negative
 * errno with the message in rep (unreadable file, damaged markers, no
 * update-initramfs, out of memory). Release files with pt_vfio_files_release
 * in both cases. */
int pt_vfio_files_plan(const struct pt_vfio_bind_opts *opts, const struct pt_vfio_plan *plan,
                       struct pt_vfio_files *files, struct pt_vfio_report *rep);

/* Bring each file to its new_text: appends {path, changed, state ("present"
 * when the block is there afterwards, else "absent")[, backup]} per file to
 * entries, and a diff to rep for each that changes; writes atomically (or
 * removes), keeping a backup when opts->backup, unless opts->check. Sets
 * *changed when a file changes (or would) and *written when one was written;
 * leaves them alone otherwise. Returns 0, or a negative errno with the
 * message in rep naming the file and the files written before it. */
int pt_vfio_files_apply(const struct pt_vfio_bind_opts *opts, const struct pt_vfio_files *files,
                        json_t *entries, bool *changed, bool *written, struct pt_vfio_report *rep);

void pt_vfio_files_release(struct pt_vfio_files *files);

/* update-initramfs -u -k all, chrooted into opts->root, killed after
 * opts->initramfs_timeout seconds. Not run in check mode (0). Returns 0, or a
 * negative errno with the message in rep and *command set to a new object
 * {cmd, rc, stdout, stderr} for the result. */
int pt_vfio_initramfs_update(const struct pt_vfio_bind_opts *opts, json_t **command,
                             struct pt_vfio_report *rep);

#endif
