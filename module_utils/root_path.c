#include "root_path.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "strbuf.h"

#define MAX_LINKS 40

/* The walk behind every function here: inside (a path as the host sees it)
 * resolved under prefix (root's name on this machine, "" for the machine's own
 * root). done holds prefix and the part resolved so far; each component is
 * appended, and when the name it gives is a link, the link's name is dropped
 * and its target walked before the rest. Returns done (prefix + the resolved
 * path, which is empty for root itself; caller frees), or NULL with errno set:
 * ENOMEM or ELOOP. */
static char *walk(const char *prefix, const char *inside)
{
	size_t base = strlen(prefix);
	_cleanup_strbuf_ struct pt_strbuf done = PT_STRBUF_INIT;
	_cleanup_free_ char *rest = strdup(inside);
	int links = 0;
	if (!rest || pt_strbuf_puts(&done, prefix) < 0) {
		errno = ENOMEM;
		return NULL;
	}
	const char *p = rest;
	while (*p) {
		while (*p == '/')
			p++;
		size_t n = strcspn(p, "/");
		const char *comp = p;
		p += n;
		if (!n || (n == 1 && comp[0] == '.'))
			continue;
		if (n == 2 && comp[0] == '.' && comp[1] == '.') {
			/* up one component, never above root */
			char *slash = memrchr(done.data + base, '/', done.len - base);
			if (slash) {
				done.len = (size_t)(slash - done.data);
				*slash = '\0';
			}
			continue;
		}
		size_t mark = done.len;
		if (pt_strbuf_putc(&done, '/') < 0 || pt_strbuf_append(&done, comp, n) < 0) {
			errno = ENOMEM;
			return NULL;
		}
		char target[PATH_MAX];
		ssize_t t = readlink(done.data, target, sizeof target - 1);
		if (t < 0)
			continue; /* not a link, or not there: keep the name */
		target[t] = '\0';
		if (++links > MAX_LINKS) {
			errno = ELOOP;
			return NULL;
		}
		/* the link gives way to its target, walked from the link's directory
		 * or, when absolute, from root */
		done.len = target[0] == '/' ? base : mark;
		done.data[done.len] = '\0';
		char *joined = NULL;
		if (asprintf(&joined, "%s/%s", target, p) < 0) {
			errno = ENOMEM;
			return NULL;
		}
		free(rest);
		rest = joined;
		p = rest;
	}
	return pt_strbuf_steal(&done);
}

char *pt_root_realpath(const char *root, const char *path)
{
	if (!path)
		path = "";
	if (strlen(path) >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	const char *prefix = root && strcmp(root, "/") != 0 ? root : "";
	_cleanup_free_ char *full = walk(prefix, path);
	if (!full)
		return NULL;
	const char *inside = full + strlen(prefix);
	char *out = strdup(*inside ? inside : "/");
	if (!out)
		errno = ENOMEM;
	return out;
}

char *pt_root_host_path(const char *root, const char *path)
{
	_cleanup_free_ char *inside = pt_root_realpath(root, path);
	return inside ? pt_path_join(root, inside) : NULL;
}

char *pt_path_resolve_under(const char *root, const char *path)
{
	if (strlen(path) >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	size_t rlen = strlen(root);
	if (strncmp(path, root, rlen) != 0 || (path[rlen] != '/' && path[rlen] != '\0')) {
		errno = EXDEV;
		return NULL;
	}
	char *full = walk(root, path + rlen);
	if (full && !full[rlen]) { /* root itself */
		char *slash = NULL;
		if (asprintf(&slash, "%s/", full) < 0)
			slash = NULL;
		free(full);
		if (!slash)
			errno = ENOMEM;
		return slash;
	}
	return full;
}

bool pt_path_is_name(const char *name)
{
	return name && *name && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..");
}

char *pt_path_join(const char *root, const char *path)
{
	struct pt_strbuf sb = PT_STRBUF_INIT;
	if (root && strcmp(root, "/") != 0)
		pt_strbuf_puts(&sb, root);
	for (const char *p = path; *p; p++) {
		if (*p == '/' && sb.len && sb.data[sb.len - 1] == '/')
			continue;
		pt_strbuf_putc(&sb, *p);
	}
	if (!sb.len)
		pt_strbuf_putc(&sb, '/');
	return pt_strbuf_steal(&sb);
}
