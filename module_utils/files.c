#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "root_path.h"
#include "strbuf.h"

#define MAX_FILE_SIZE (16u << 20)

/* The confinement root without a trailing slash; NULL when there is none. */
static char *confine_root;

void pt_files_confine(const char *root)
{
	free(confine_root);
	confine_root = NULL;
	if (!root || !strcmp(root, "/") || !*root)
		return;
	confine_root = strdup(root);
	if (!confine_root)
		return;
	size_t n = strlen(confine_root);
	while (n > 1 && confine_root[n - 1] == '/')
		confine_root[--n] = '\0';
}

char *pt_path_resolve(const char *path)
{
	if (!confine_root)
		return strdup(path);
	return pt_path_resolve_under(confine_root, path);
}

int pt_file_write_existing(const char *path, const char *value)
{
	_cleanup_free_ char *real = pt_path_resolve(path);
	if (!real)
		return -errno;
	/* O_TRUNC: sysfs ignores it; a plain file in a sandbox then reads like the attribute */
	_cleanup_close_ int fd = open(real, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t len = strlen(value);
	ssize_t n = write(fd, value, len);
	return n < 0 ? -errno : (size_t)n == len ? 0 : -EIO;
}

/* Open path for reading under the confinement root. Reads are the hot path
 * (every sysfs and /proc attribute): the kernel's openat2(RESOLVE_IN_ROOT) does
 * the same resolution as pt_path_resolve in one call; pt_path_resolve is the
 * fallback for kernels before 5.6. A descriptor, or -errno. */
static int open_confined(const char *path, int flags)
{
	if (confine_root) {
		size_t rlen = strlen(confine_root);
		if (!strncmp(path, confine_root, rlen) && (path[rlen] == '/' || !path[rlen])) {
			static int root_fd = -1;
			static char *root_fd_for;
			if (!root_fd_for || strcmp(root_fd_for, confine_root) != 0) {
				if (root_fd >= 0)
					close(root_fd);
				free(root_fd_for);
				root_fd = open(confine_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
				root_fd_for = strdup(confine_root);
			}
			if (root_fd >= 0) {
				const char *rel = path + rlen;
				while (*rel == '/')
					rel++;
				struct open_how how = {.flags = (unsigned)flags,
				                       .resolve = RESOLVE_IN_ROOT};
				long fd = syscall(SYS_openat2, root_fd, *rel ? rel : ".", &how,
				                  sizeof how);
				if (fd >= 0)
					return (int)fd;
				if (errno != ENOSYS && errno != EPERM)
					return -errno;
			}
		}
	}
	_cleanup_free_ char *real = pt_path_resolve(path);
	if (!real)
		return -errno;
	int fd = open(real, flags);
	return fd < 0 ? -errno : fd;
}

int pt_file_open(const char *path, int flags)
{
	return open_confined(path, flags);
}

int pt_file_read(const char *path, char **data, size_t *len)
{
	*data = NULL;
	/* O_NONBLOCK: opening a FIFO must not hang the module; it is refused below */
	_cleanup_close_ int fd = open_confined(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return fd;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	struct pt_strbuf sb = PT_STRBUF_INIT;
	char buf[8192];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			pt_strbuf_release(&sb);
			return -e;
		}
		if (n == 0)
			break;
		if (sb.len + (size_t)n > MAX_FILE_SIZE) {
			pt_strbuf_release(&sb);
			return -EFBIG;
		}
		if (pt_strbuf_append(&sb, buf, (size_t)n) < 0) {
			pt_strbuf_release(&sb);
			return -ENOMEM;
		}
	}
	if (len)
		*len = sb.len;
	*data = pt_strbuf_steal(&sb);
	return *data ? 0 : -ENOMEM;
}

char *pt_file_read_line(const char *path)
{
	char *data = NULL;
	if (pt_file_read(path, &data, NULL) < 0)
		return NULL;
	data[strcspn(data, "\n")] = '\0';
	size_t n = strlen(data);
	while (n && (data[n - 1] == ' ' || data[n - 1] == '\t' || data[n - 1] == '\r'))
		data[--n] = '\0';
	return data;
}

char *pt_link_basename(const char *path)
{
	char target[PATH_MAX];
	ssize_t n = readlink(path, target, sizeof target - 1);
	if (n < 0)
		return NULL;
	target[n] = '\0';
	const char *slash = strrchr(target, '/');
	return strdup(slash ? slash + 1 : target);
}

bool pt_path_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* "<what> <path>: <strerror>" into rep (when the caller wants it); -err. */
static int fail_msg(struct pt_report *rep, int err, const char *what, const char *path)
{
	if (rep)
		pt_report_fail(rep, -err, "%s %s: %s", what, path, strerror(err));
	return -err;
}

/* PATH.<pid>.<YYYY-MM-DD@HH:MM:SS>~, the name Ansible's backup_local gives. */
static char *backup_name(const char *path)
{
	time_t now = time(NULL);
	struct tm tm;
	char stamp[32];
	localtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%d@%H:%M:%S", &tm);
	char *name = NULL;
	if (asprintf(&name, "%s.%ld.%s~", path, (long)getpid(), stamp) < 0)
		return NULL;
	return name;
}

static int copy_file(const char *from, const char *to, const struct stat *st, struct pt_report *rep)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	int r = pt_file_read(from, &data, &len);
	if (r < 0)
		return fail_msg(rep, -r, "cannot read", from);
	_cleanup_close_ int fd =
	        open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st->st_mode & 07777);
	if (fd < 0)
		return fail_msg(rep, errno, "cannot create backup", to);
	size_t off = 0;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0) {
			int e = errno;
			unlink(to);
			return fail_msg(rep, e, "cannot write backup", to);
		}
		off += (size_t)n;
	}
	if (fchown(fd, st->st_uid, st->st_gid) < 0) {
		/* not fatal: a backup owned by root is still a backup */
	}
	if (fsync(fd) < 0) {
		int e = errno;
		unlink(to);
		return fail_msg(rep, e, "cannot sync backup", to);
	}
	return 0;
}

static int make_backup(const char *path, const struct stat *st, char **backup_path,
                       struct pt_report *rep)
{
	_cleanup_free_ char *name = backup_name(path);
	if (!name)
		return fail_msg(rep, ENOMEM, "cannot name a backup of", path);
	int r = copy_file(path, name, st, rep);
	if (r < 0)
		return r;
	if (backup_path)
		*backup_path = PT_STEAL(name);
	return 0;
}

static int mkdirs(const char *dir)
{
	struct stat st;
	if (stat(dir, &st) == 0)
		return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
	_cleanup_free_ char *copy = strdup(dir);
	if (!copy)
		return -ENOMEM;
	char *parent = dirname(copy);
	if (strcmp(parent, dir) != 0) {
		int r = mkdirs(parent);
		if (r < 0)
			return r;
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int fsync_dir(const char *dir)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return fsync(fd) < 0 ? -errno : 0;
}

int pt_file_write_atomic(const char *path, const char *data, size_t len,
                         const struct pt_write_opts *opts, char **backup_path,
                         struct pt_report *rep)
{
	if (backup_path)
		*backup_path = NULL;

	/* A link is followed: the file it names is replaced, the link stays.
	 * Under a confinement root the links are resolved inside it. */
	_cleanup_free_ char *target = NULL;
	struct stat lst;
	if (confine_root) {
		target = pt_path_resolve(path);
		if (!target)
			return fail_msg(rep, errno,
			                errno == EXDEV ? "refusing to write outside root:"
			                               : "cannot resolve",
			                path);
	} else if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode)) {
		target = realpath(path, NULL);
		if (!target)
			return fail_msg(rep, errno, "cannot resolve the link", path);
	} else {
		target = strdup(path);
	}
	if (!target)
		return fail_msg(rep, ENOMEM, "cannot write", path);

	struct stat st;
	bool exists = stat(target, &st) == 0;
	if (exists && !S_ISREG(st.st_mode))
		return fail_msg(rep, EINVAL, "not a regular file:", target);

	_cleanup_free_ char *dircopy = strdup(target);
	if (!dircopy)
		return fail_msg(rep, ENOMEM, "cannot write", path);
	const char *dir = dirname(dircopy);
	if (opts && opts->mkdirs) {
		int r = mkdirs(dir);
		if (r < 0)
			return fail_msg(rep, -r, "cannot create the directory", dir);
	}

	if (exists && opts && opts->backup) {
		int r = make_backup(target, &st, backup_path, rep);
		if (r < 0)
			return r;
	}

	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -1;
	const char *slash = strrchr(target, '/');
	const char *base = slash ? slash + 1 : target;
	for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
		free(tmp);
		tmp = NULL;
		if (asprintf(&tmp, "%s/.%s.tmp%ld.%d", dir, base, (long)getpid(), attempt) < 0)
			return fail_msg(rep, ENOMEM, "cannot write", path);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			return fail_msg(rep, errno, "cannot create a temporary file in", dir);
	}
	if (fd < 0)
		return fail_msg(rep, EEXIST, "cannot create a temporary file in", dir);

	int err = 0;
	const char *step = NULL;
	size_t off = 0;
	while (off < len && !err) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno;
			step = "cannot write";
		} else {
			off += (size_t)n;
		}
	}
	mode_t mode = exists ? (st.st_mode & 07777) : (opts ? opts->mode_if_new : 0644);
	if (!err && fchmod(fd, mode) < 0) {
		err = errno;
		step = "cannot set the mode of";
	}
	if (!err && exists && fchown(fd, st.st_uid, st.st_gid) < 0) {
		err = errno;
		step = "cannot set the owner of";
	}
	if (!err && fsync(fd) < 0) {
		err = errno;
		step = "cannot sync";
	}
	if (err) {
		close(fd); /* a step failed: the descriptor goes all the same */
	} else if (close(fd) < 0) {
		err = errno;
		step = "cannot close";
	}
	fd = -1; /* NOLINT(clang-analyzer-deadcode.DeadStores): read by _cleanup_close_ */
	if (!err && rename(tmp, target) < 0) {
		err = errno;
		step = "cannot replace";
	}
	if (err) {
		unlink(tmp);
		if (backup_path && *backup_path) {
			/* nothing changed: the backup would only be clutter */
			unlink(*backup_path);
			free(*backup_path);
			*backup_path = NULL;
		}
		return fail_msg(rep, err, step, target);
	}
	int r = fsync_dir(dir);
	if (r < 0)
		return fail_msg(rep, -r, "cannot sync the directory", dir);
	return 0;
}

int pt_file_remove(const char *path, bool backup, char **backup_path, struct pt_report *rep)
{
	if (backup_path)
		*backup_path = NULL;
	/* The directories are resolved inside the confinement root; the last
	 * component is not followed: removing a link removes the link. */
	_cleanup_free_ char *real = NULL;
	if (confine_root) {
		_cleanup_free_ char *copy = strdup(path), *base_copy = strdup(path);
		_cleanup_free_ char *dir = copy ? pt_path_resolve(dirname(copy)) : NULL;
		if (!dir)
			return fail_msg(rep, errno ? errno : ENOMEM,
			                errno == EXDEV ? "refusing to remove outside root:"
			                               : "cannot resolve",
			                path);
		if (!base_copy || asprintf(&real, "%s/%s", dir, basename(base_copy)) < 0)
			return fail_msg(rep, ENOMEM, "cannot remove", path);
		path = real;
	}
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : fail_msg(rep, errno, "cannot inspect", path);
	if (backup && S_ISREG(st.st_mode)) {
		int r = make_backup(path, &st, backup_path, rep);
		if (r < 0)
			return r;
	}
	if (unlink(path) < 0 && errno != ENOENT)
		return fail_msg(rep, errno, "cannot remove", path);
	_cleanup_free_ char *copy = strdup(path);
	if (copy)
		fsync_dir(dirname(copy));
	return 0;
}
