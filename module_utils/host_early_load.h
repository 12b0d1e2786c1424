/* Layer: host I/O (reads the host under root). Included by device_evidence.c and
 * tests.
 *
 * What loads a driver at boot before vfio-pci can claim a card, with the file
 * and line that says so. vfio_bind's `softdep DRIVER pre: vfio-pci` makes
 * vfio-pci load first whenever modprobe loads DRIVER, and vfio-pci then takes
 * the devices its ids= names; these are the ways around that:
 *   - built into the kernel (/lib/modules/RELEASE/modules.builtin): the driver
 *     binds while the kernel starts, before any module can load;
 *   - listed in /etc/initramfs-tools/modules: loaded in the initramfs, before
 *     the root filesystem, and with it maybe the vfio options, is there;
 *   - listed in /etc/modules or a modules-load.d file: systemd-modules-load
 *     loads it early in every boot, whatever the hardware;
 *   - named by an `install` command in modprobe.d that runs modprobe (or
 *     insmod) for it when another module loads.
 * Module names compare with '-' and '_' alike, as the kernel's do. */
#ifndef PT_HOST_EARLY_LOAD_H
#define PT_HOST_EARLY_LOAD_H

#include <stdbool.h>
#include <stddef.h>

/* One line that loads a module at boot. */
struct pt_load_entry {
	char *module;    /* the module it loads, normalised ('-' becomes '_') (owned) */
	char *file;      /* the file as the host names it, "/etc/modules" (owned) */
	int line;        /* 1-based */
	const char *how; /* "initramfs", "modules-load" or "install" (static) */
	char *text;      /* the line as written, blanks trimmed; bytes as in the file,
	                  * UTF-8 or not (owned) */
};

/* Everything that loads modules at boot under one root, read once. */
struct pt_load_sources {
	struct pt_load_entry *entries; /* in the order above, then file order (owned) */
	size_t count;
	bool complete;      /* every source that exists was read */
	char *unreadable;   /* the first source that could not be, as the host names it (owned) */
	char *builtin_file; /* "/lib/modules/RELEASE/modules.builtin"; NULL without a release
	                       (owned) */
	char *builtin;      /* that file's text; NULL when it could not be read (owned) */
	int builtin_error;  /* 0, or why builtin is NULL: -ENODATA (no release), -errno */
};

/* Read every source above under root ("/" for the live host); release is the
 * running kernel's (NULL when unknown: built-in cannot be told then). Missing
 * files are no error. Returns 0 and fills out (release with
 * pt_load_sources_release, whatever the return), or -ENOMEM. */
int pt_load_sources_read(const char *root, const char *release, struct pt_load_sources *out);

void pt_load_sources_release(struct pt_load_sources *src);

/* Whether module is built into the running kernel: the 1-based line of
 * modules.builtin that lists it (and, when text is not NULL, that line in
 * *text, caller frees), 0 when it is not listed, or the negative errno of
 * src->builtin_error when the file could not be read (-ENOMEM when the copy
 * could not be made). */
int pt_load_builtin_line(const struct pt_load_sources *src, const char *module, char **text);

/* The entries that load module: their count, and the first max of them (borrowed
 * from src) into found. A count of 0 proves nothing when src->complete is false. */
size_t pt_load_entries_for(const struct pt_load_sources *src, const char *module,
                           const struct pt_load_entry **found, size_t max);

/* The modules an install command's shell text loads with modprobe or insmod:
 * for each such call, its first word that is no option (every one with -a or
 * --all; an insmod path's file name without .ko), normalised; words starting
 * with '$' (variables such as $CMDLINE_OPTS) are not modules. Appends them to
 * out (at most max in all, *n counts them). Used for `install` lines. */
void pt_install_loaded_modules(const char *command, char out[][64], size_t max, size_t *n);

#endif
