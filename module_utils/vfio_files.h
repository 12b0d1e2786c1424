/* Layer: vfio family (vfio_bind). Included by vfio_bind_run.c and the tests.
 *
 * The three files vfio_bind manages, each through a block of its own
 * (conf_block.h; the formats are modprobe_conf.h's and modules_file.h's, the
 * lines vfio_render.h's): conf_path (options, softdep and install lines for
 * vfio-pci), blacklist_path (blacklist lines) and modules_file (the vfio
 * modules to load at boot); and the initramfs rebuild that carries them into
 * early boot.
 *
 * All three are planned before the first is written, so a damaged marker or
 * an unreadable file in the last one stops the run with nothing written. A
 * file that holds nothing but the block goes away with it; an empty file the
 * user keeps there stays.
 *
 * A rebuild that fails after the files are written must not be forgotten: the
 * next run sees no file change. So a real run that is about to change a file
 * (with update_initramfs) first records that the initramfs is out of date in
 * PT_VFIO_INITRAMFS_PENDING, and only a successful update-initramfs removes
 * it; a run that finds it reruns update-initramfs, file change or not. */
#ifndef PT_VFIO_FILES_H
#define PT_VFIO_FILES_H

#include <stdbool.h>

#include <jansson.h>

#include "vfio_plan.h"
#include "report.h"
#include "vfio_opts.h"

/* The block owners: the markers read "# BEGIN <owner>" and "# END <owner>". */
#define PT_VFIO_OWNER           "homelab.passthrough.vfio_bind"
#define PT_VFIO_OWNER_BLACKLIST PT_VFIO_OWNER "/blacklist"

enum { PT_VFIO_CONF, PT_VFIO_BLACKLIST, PT_VFIO_MODULES, PT_VFIO_NFILES };

/* The pending-rebuild marker, under root (see above). Its text says what it is
 * for whoever finds it. */
#define PT_VFIO_INITRAMFS_PENDING "/var/lib/homelab-passthrough/vfio_bind.initramfs-pending"

/* One managed file. */
struct pt_vfio_file {
	char *path;        /* the full path, under root (owned) */
	char *old;         /* what it holds now; NULL when absent (owned) */
	char *new_text;    /* what it should hold; "" when it should go (owned) */
	const char *owner; /* its block's owner (static) */
};

struct pt_vfio_files {
	struct pt_vfio_file file[PT_VFIO_NFILES]; /* indexed by PT_VFIO_CONF... */
	bool initramfs_pending; /* the marker is there: an earlier run wrote the files,
	                           and update-initramfs has not succeeded since */
};

/* The three paths as the user gave them make sense: conf_path and
 * blacklist_path are two different *.conf files (modprobe reads nothing else
 * in modprobe.d), modules_file is /etc/modules or a .conf file in a
 * modules-load.d directory (nothing else is read at boot), and each starts
 * with '/' (a relative path would land beside root, not in it). No file is
 * looked at. 0, or -EINVAL with the message in rep. */
int pt_vfio_files_check_paths(const struct pt_vfio_bind_opts *opts, struct pt_report *rep);

/* The three paths, checked by pt_vfio_files_check_paths, name three different
 * files on the host under opts->root: compared as given, then after resolving
 * them as the host does (links followed inside root, ".", ".." and "//"
 * folded), and by device and inode when both exist (hard links, bind mounts).
 * Two options naming one file would have the module plan both blocks from the
 * same old text and write one over the other, so a spelling such as
 * /etc/modprobe.d/./vfio.conf or a symlink is refused like the same string.
 * 0, or -EINVAL with the message in rep naming both options, their values and
 * the file. */
int pt_vfio_files_check_distinct(const struct pt_vfio_bind_opts *opts, struct pt_report *rep);

/* What the three files under opts->root should hold for plan (the blocks go
 * when !opts->present), read and computed without writing anything, and
 * whether the pending-rebuild marker is there. When a file would change or the
 * marker is there, and opts->update_initramfs is set, update-initramfs must
 * exist under root (a read-only look, so check mode predicts this failure
 * too); with the marker and without update_initramfs, a warning says the
 * initramfs is still to be rebuilt. Warns in rep about the user's own lines
 * that work against the blocks: parameter lines in the modules file, and other
 * vfio-pci ids=, install or blacklist lines in modprobe.d. Returns 0 with files
 * filled, or a negative errno with the message in rep (unreadable file,
 * damaged markers, a modprobe.d line that would swallow a block's BEGIN marker
 * (pt_modprobe_check_continuation), no update-initramfs, out of memory).
 * Release files with pt_vfio_files_release in both cases. */
int pt_vfio_files_plan(const struct pt_vfio_bind_opts *opts, const struct pt_vfio_plan *plan,
                       struct pt_vfio_files *files, struct pt_report *rep);

/* Bring each file to its new_text: appends {path, changed, state ("present"
 * when the block is there afterwards, else "absent")[, backup]} per file to
 * entries, and a diff to rep for each that changes (path, backup and the diff's
 * header as the host sees them, inside opts->root without it); writes atomically (or
 * removes), keeping a backup when opts->backup, unless opts->check. Before the
 * first write, with opts->update_initramfs, the pending-rebuild marker is
 * written (a failure there stops the run with nothing written); when no file
 * could be written after all, a marker this call made goes again. Sets
 * *changed when a file changes (or would) and *written when one was written;
 * leaves them alone otherwise. Returns 0, or a negative errno with the
 * message in rep naming the file and the files written before it. */
int pt_vfio_files_apply(const struct pt_vfio_bind_opts *opts, const struct pt_vfio_files *files,
                        json_t *entries, bool *changed, bool *written, struct pt_report *rep);

void pt_vfio_files_release(struct pt_vfio_files *files);

/* update-initramfs -u -k all, chrooted into opts->root, killed after
 * opts->initramfs_timeout seconds; the pending-rebuild marker is removed when
 * it succeeds (a marker that cannot be removed is a warning: the next run
 * rebuilds once more). Not run in check mode (0). Returns 0, or a negative
 * errno with the message in rep and *command set to a new object {cmd, rc,
 * stdout, stderr} for the result; the marker stays then. */
int pt_vfio_initramfs_update(const struct pt_vfio_bind_opts *opts, json_t **command,
                             struct pt_report *rep);

#endif
