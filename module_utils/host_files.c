/* Host files and directories under root (see host_files.h). */
#include "host_files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "files.h"

int pt_host_read(const char *root, char **data, size_t *len, const char *fmt, ...)
{
	*data = NULL;
	if (len)
		*len = 0;
	va_list ap;
	_cleanup_free_ char *rel = NULL;
	va_start(ap, fmt);
	int n = vasprintf(&rel, fmt, ap);
	va_end(ap);
	if (n < 0) {
		rel = NULL;
		return -ENOMEM;
	}
	_cleanup_free_ char *path = pt_path_join(root, rel);
	return path ? pt_file_read(path, data, len) : -ENOMEM;
}

void pt_host_names_free(char **names)
{
	for (size_t i = 0; names && names[i]; i++)
		free(names[i]);
	free(names);
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int pt_host_list_dir(const char *root, const char *dir, bool (*keep)(const char *name),
                     char ***names)
{
	*names = NULL;
	_cleanup_free_ char *path = pt_path_join(root, dir);
	if (!path)
		return -ENOMEM;
	int fd = pt_file_open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -ENOENT || fd == -ENOTDIR)
		return 0;
	if (fd < 0)
		return fd;
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = -errno;
		close(fd);
		return e;
	}
	size_t count = 0;
	char **list = NULL;
	int r = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    (keep && !keep(e->d_name)))
			continue;
		char **grown = realloc(list, (count + 2) * sizeof *list);
		if (!grown) {
			r = -ENOMEM;
			break;
		}
		list = grown;
		list[count] = strdup(e->d_name);
		list[count + 1] = NULL;
		if (!list[count]) {
			r = -ENOMEM;
			break;
		}
		count++;
	}
	closedir(d);
	if (r < 0) {
		pt_host_names_free(list);
		return r;
	}
	if (count)
		qsort(list, count, sizeof *list, compare_names);
	*names = list;
	return (int)count;
}
