/* Temporary directory trees for the unit tests (tmptree.h says what each
 * function promises). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "exec.h"
#include "tmptree.h"

int tmptree_make(char *dir, size_t size, const char *name)
{
	int n = snprintf(dir, size, "/tmp/pt-test-%s.XXXXXX", name);
	if (n < 0 || (size_t)n >= size) {
		if (size)
			dir[0] = '\0';
		return -ENAMETOOLONG;
	}
	if (!mkdtemp(dir)) {
		int e = errno;
		dir[0] = '\0';
		return -e;
	}
	return 0;
}

/* Removes name (relative to the open directory at), a directory with what it
 * holds. Descriptors instead of paths: no path length limit, and a link met
 * on the way is never followed (O_NOFOLLOW, AT_SYMLINK_NOFOLLOW). */
static int remove_at(int at, const char *name)
{
	struct stat st;
	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(at, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		return -e;
	}
	int first = 0;
	const struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		int r = remove_at(dirfd(d), e->d_name);
		if (r < 0 && !first)
			first = r;
	}
	closedir(d);
	if (unlinkat(at, name, AT_REMOVEDIR) < 0 && !first)
		first = -errno;
	return first;
}

int tmptree_remove(const char *path)
{
	return remove_at(AT_FDCWD, path);
}

/* root and rel joined with one '/' into out (PATH_MAX bytes). */
static void join(char *out, const char *root, const char *rel)
{
	size_t n = strlen(root);
	while (n > 0 && root[n - 1] == '/')
		n--;
	while (*rel == '/')
		rel++;
	int w = snprintf(out, PATH_MAX, "%.*s/%s", (int)n, root, rel);
	if (w < 0 || w >= PATH_MAX)
		fail_msg("path too long: %s/%s", root, rel);
}

/* One mkdir; an existing directory (or a link to one) counts as made. */
static void make_dir(const char *path)
{
	if (mkdir(path, 0755) == 0)
		return;
	int e = errno;
	struct stat st;
	if (e == EEXIST) {
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			return;
		fail_msg("cannot make directory %s: it exists and is not a directory", path);
	}
	fail_msg("cannot make directory %s: %s", path, strerror(e));
}

void tmptree_mkdirs(const char *path)
{
	char buf[PATH_MAX];
	int n = snprintf(buf, sizeof buf, "%s", path);
	if (n < 0 || (size_t)n >= sizeof buf)
		fail_msg("path too long: %s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/' || p[-1] == '/')
			continue;
		*p = '\0';
		make_dir(buf);
		*p = '/';
	}
	make_dir(buf);
}

/* Makes the directories above path. */
static void make_parents(const char *path)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return;
	*slash = '\0';
	tmptree_mkdirs(dir);
}

void tmptree_write(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		fail_msg("cannot open %s for writing: %s", path, strerror(errno));
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			close(fd);
			fail_msg("cannot write %s: %s", path, strerror(e));
		}
		p += n;
		len -= (size_t)n;
	}
	if (close(fd) < 0)
		fail_msg("cannot write %s: %s", path, strerror(errno));
}

void tmptree_put(const char *root, const char *rel, const char *text)
{
	char path[PATH_MAX];
	join(path, root, rel);
	make_parents(path);
	tmptree_write(path, text, strlen(text), 0644);
}

void tmptree_link(const char *root, const char *rel, const char *target)
{
	char path[PATH_MAX];
	join(path, root, rel);
	make_parents(path);
	if (unlink(path) < 0 && errno != ENOENT)
		fail_msg("cannot replace %s: %s", path, strerror(errno));
	if (symlink(target, path) < 0)
		fail_msg("cannot link %s -> %s: %s", path, target, strerror(errno));
}

char *tmptree_read(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail_msg("cannot read %s: %s", path, strerror(errno));
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	for (;;) {
		if (buf && len + 1 >= cap) {
			char *bigger = realloc(buf, cap *= 2);
			if (!bigger)
				free(buf);
			buf = bigger;
		}
		if (!buf) {
			close(fd);
			fail_msg("cannot read %s: %s", path, strerror(ENOMEM));
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			free(buf);
			close(fd);
			fail_msg("cannot read %s: %s", path, strerror(e));
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

void tmptree_run(const char *const argv[])
{
	struct pt_exec_result res = {0};
	int r = pt_exec(NULL, argv, 120, &res);
	if (r == 0 && res.rc == 0) {
		pt_exec_result_release(&res);
		return;
	}
	/* The message is built before the result is released: fail_msg does not return. */
	char *cmd = pt_exec_cmdline(argv);
	char msg[4096];
	snprintf(msg, sizeof msg, "%s failed (%s, rc %d): %s%s", cmd ? cmd : argv[0],
	         r < 0 ? strerror(-r) : "ran", res.rc, res.out ? res.out : "",
	         res.err ? res.err : "");
	free(cmd);
	pt_exec_result_release(&res);
	fail_msg("%s", msg);
}
