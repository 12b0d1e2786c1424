/* Attributes read below an open directory (see sysfs_read.h).
 *
 * openat2(RESOLVE_NO_SYMLINKS) opens the file in one call and refuses any
 * link on the way; without openat2 (kernels before 5.6, valgrind) each
 * component is opened with O_NOFOLLOW. Either way a refusal, or any error but
 * a missing file, sends the read to pt_file_read_line(path), whose answer is
 * then the one given: the shortcut only answers where the path's own
 * resolution reaches the same file. */
#include "sysfs_read.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "files.h"

#define READ_FLAGS (O_RDONLY | O_NONBLOCK | O_CLOEXEC)

/* Whether openat2 is there; cleared at its first ENOSYS or EPERM (seccomp). */
static bool have_openat2 = true;

/* rel below dir one component at a time, no link followed. A descriptor, or
 * -errno (a link on the way: ELOOP at the end, ENOTDIR before it, since a
 * link opens as itself under O_PATH | O_NOFOLLOW and is no directory). */
static int open_walking(int dir, const char *rel)
{
	char part[256];
	_cleanup_close_ int held = -1;
	int at = dir;
	const char *slash;
	while ((slash = strchr(rel, '/'))) {
		size_t n = (size_t)(slash - rel);
		if (!n || n >= sizeof part)
			return -EINVAL;
		memcpy(part, rel, n);
		part[n] = '\0';
		int next = openat(at, part, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0)
			return -errno;
		if (held >= 0)
			close(held);
		held = at = next;
		rel = slash + 1;
	}
	int fd = openat(at, rel, READ_FLAGS | O_NOFOLLOW);
	return fd < 0 ? -errno : fd;
}

/* rel below dir, or -errno. */
static int open_below(int dir, const char *rel)
{
	if (have_openat2) {
		struct open_how how = {.flags = READ_FLAGS, .resolve = RESOLVE_NO_SYMLINKS};
		long fd = syscall(SYS_openat2, dir, rel, &how, sizeof how);
		if (fd >= 0)
			return (int)fd;
		if (errno != ENOSYS && errno != EPERM)
			return -errno;
		have_openat2 = false;
	}
	return open_walking(dir, rel);
}

/* The first line of an open file, as pt_file_read_line gives it. 1 and *text
 * (NULL when unreadable, not a regular file, or out of memory), or 0 when it
 * does not fit this buffer (the caller reads it by path). */
static int read_first_line(int fd, char **text)
{
	char buf[4096];
	size_t len = 0;
	struct stat st;
	*text = NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return 1;
	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return 1;
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == sizeof buf - 1)
			return 0;
	}
	buf[len] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	len = strlen(buf);
	while (len && (buf[len - 1] == ' ' || buf[len - 1] == '\t' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	*text = strdup(buf);
	return 1;
}

char *pt_sysfs_read_at(int dir, const char *rel, const char *path)
{
	if (dir >= 0) {
		int fd = open_below(dir, rel);
		if (fd == -ENOENT)
			return NULL; /* the path's resolution finds nothing there either */
		if (fd >= 0) {
			char *text;
			int done = read_first_line(fd, &text);
			close(fd);
			if (done)
				return text;
		}
	}
	return pt_file_read_line(path);
}
