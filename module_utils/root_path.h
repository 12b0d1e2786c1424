/* Layer: host I/O. Included by files.h (its path joining and resolving are part
 * of that API), exec.c, and the readers that follow links inside a root (sysfs_pci, host_net,
 * host_block, kmod, vfio_files).
 *
 * Paths inside a root, resolved the way the host booted from that root would
 * resolve them: every symbolic link followed inside root (an absolute target is
 * taken under root, a relative one from the link's directory), "." dropped,
 * ".." folded and stopping at root, doubled slashes folded. Components that do
 * not exist are kept as written (a file about to be created has a place), a
 * path of PATH_MAX bytes or more is refused with ENAMETOOLONG (the kernel
 * refuses it anyway, and the walk would cost time quadratic in its length),
 * and more than 40 links (a loop) with ELOOP.
 *
 * One walk serves every caller: the file operations confined to the module's
 * root (files.h), the commands looked up inside it before a chroot (exec.h),
 * and the sysfs topology read under it. Its own file because all three need
 * it and none of them is the other's. */
#ifndef PT_ROOT_PATH_H
#define PT_ROOT_PATH_H

#include <stdbool.h>

/* root + "/" + path, with duplicate slashes folded; root "/" or NULL returns a
 * copy of path. Caller frees; NULL on allocation failure. Does not resolve links. */
char *pt_path_join(const char *root, const char *path);

/* path (as seen from inside root; NULL reads as "") resolved inside root.
 * root "/", "" or NULL is the machine's own root. Returns the path inside root,
 * starting with '/' ("/" for root itself; caller frees), or NULL with errno
 * set: ENOMEM, ELOOP, ENAMETOOLONG (path of PATH_MAX bytes or more). */
char *pt_root_realpath(const char *root, const char *path);

/* pt_root_realpath joined back onto root (pt_path_join): the name under which
 * this machine opens the file the host means by path. Caller frees; NULL as
 * pt_root_realpath. */
char *pt_root_host_path(const char *root, const char *path);

/* The same walk for a path given as this machine sees it: path must be root
 * itself or start with root + "/" (root without a trailing '/', not "/"); what
 * follows is resolved inside root. Returns root + the resolved path (root + "/"
 * for root itself; caller frees), or NULL with errno set: EXDEV (path not under
 * root), ENAMETOOLONG (path of PATH_MAX bytes or more), ELOOP, ENOMEM. For a
 * path the module does not open itself but hands to a command it runs
 * chrooted in root, and for pt_path_resolve (files.h). */
char *pt_path_resolve_under(const char *root, const char *path);

/* True when name is a single path component that stays where it is put: not
 * empty, no '/', not "." or "..". For names read from the host (interface,
 * block device and driver names) before they go into a sysfs path. */
bool pt_path_is_name(const char *name);

#endif
