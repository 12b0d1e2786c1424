/* Temporary directory trees for the unit tests: making one under /tmp, filling
 * it (files, directories, links, or a tool such as build/tools/mkroot run on
 * it), reading a file back, removing it. Linked into every build/tests/test_*
 * (mk/config.mk: UNIT_SUPPORT).
 *
 * The helpers use plain POSIX calls, never the file functions of the library
 * under test (pt_file_*), so a fixture cannot share a bug with the code it
 * checks; tmptree_run alone starts its tool through pt_exec.
 *
 * Failures: the functions that fill or read a tree fail the running cmocka test
 * (fail_msg naming the path and the errno text), so callers need no check.
 * tmptree_make and tmptree_remove return 0 or -errno instead, for cmocka's
 * setup and teardown functions, which report through their return value.
 *
 * Paths: where a function takes (root, rel), the path is root and rel joined
 * with one '/', so ("/tmp/x", "etc/a") and ("/tmp/x", "/etc/a") both name
 * /tmp/x/etc/a. A joined path of PATH_MAX or more fails the test. */
#ifndef PT_TEST_TMPTREE_H
#define PT_TEST_TMPTREE_H

#include <stddef.h>
#include <sys/types.h>

/* Makes a new empty directory /tmp/pt-test-NAME.XXXXXX (mode 0700, mkdtemp) and
 * writes its path into dir, a buffer of size bytes the caller owns. Returns 0, or
 * -errno (-ENAMETOOLONG when the path does not fit); dir is "" then. */
int tmptree_make(char *dir, size_t size, const char *name);

/* Removes path and everything below it, depth first and without following
 * links (a link is removed, never what it points to), whatever its depth or the
 * length of the paths below it. A missing path is not an error. Returns 0, or
 * -errno of the first entry it could not remove (it goes on with the rest). */
int tmptree_remove(const char *path);

/* mkdir -p: makes path and each missing directory above it, mode 0755 (before
 * the umask). Existing directories, and links to directories, are fine; a
 * component that exists as something else fails the test. */
void tmptree_mkdirs(const char *path);

/* Writes len bytes of data to path: created with mode (before the umask) when
 * new, truncated otherwise (keeping its mode); a link is followed. No directory
 * is made: see tmptree_put. Every byte and the close are checked. */
void tmptree_write(const char *path, const void *data, size_t len, mode_t mode);

/* Writes text (without its NUL) to root/rel as tmptree_write does, mode 0644
 * when new, after making the directories above it with tmptree_mkdirs. */
void tmptree_put(const char *root, const char *rel, const char *text);

/* Makes root/rel a symbolic link holding target verbatim, after making the
 * directories above it; an entry already at root/rel (not a directory) is
 * replaced. */
void tmptree_link(const char *root, const char *rel, const char *target);

/* The whole contents of path, NUL-terminated (a NUL inside ends the text as C
 * sees it). The caller owns the buffer and frees it. Fails the test when path
 * cannot be read. */
char *tmptree_read(const char *path);

/* Runs argv (argv[0] a path; no shell, no chroot: pt_exec with root NULL) with
 * a 120 s limit. Fails the test, with the command line, its exit status and its
 * output, unless it ran and exited 0. */
void tmptree_run(const char *const argv[]);

#endif
