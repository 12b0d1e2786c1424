#include "host_block.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "files.h"
#include "json_text.h"
#include "proc_fields.h"
#include "root_path.h"
#include "strbuf.h"
#include "sysfs_pci.h"

/* How deep device-mapper and md stacks are followed (LVM on LUKS on md ...). */
#define MAX_DEPTH 8

static int block_devices(const char *root, const char *name, int depth, json_t *out)
{
	if (depth > MAX_DEPTH || !pt_path_is_name(name))
		return 0;
	_cleanup_free_ char *rel = NULL;
	if (asprintf(&rel, "/sys/class/block/%s", name) < 0)
		return -ENOMEM;
	_cleanup_free_ char *real = pt_root_realpath(root, rel);
	if (!real)
		return -ENOMEM;
	_cleanup_free_ char *full = pt_path_join(root, real);
	if (!full)
		return -ENOMEM;
	if (!pt_path_exists(full))
		return 0;

	/* A partition's directory sits inside its disk's. */
	_cleanup_free_ char *partition = NULL;
	if (asprintf(&partition, "%s/partition", full) < 0)
		return -ENOMEM;
	if (pt_path_exists(partition)) {
		char *slash = strrchr(real, '/');
		if (slash && slash != real) {
			*slash = '\0';
			char *slash2 = strrchr(real, '/');
			return block_devices(root, slash2 ? slash2 + 1 : real, depth + 1, out);
		}
	}

	/* device-mapper and md: the devices underneath */
	_cleanup_free_ char *slaves = NULL;
	if (asprintf(&slaves, "%s/slaves", full) < 0)
		return -ENOMEM;
	DIR *d = opendir(slaves);
	if (d) {
		_cleanup_json_ json_t *names = json_array();
		struct dirent *e;
		while (names && (e = readdir(d)) != NULL)
			if (e->d_name[0] != '.')
				pt_json_strings_add_unique(names, e->d_name);
		closedir(d);
		if (!names)
			return -ENOMEM;
		pt_json_strings_sort(names, false);
		if (json_array_size(names)) {
			size_t i;
			json_t *v;
			json_array_foreach (names, i, v) {
				int r = block_devices(root, json_string_value(v), depth + 1, out);
				if (r < 0)
					return r;
			}
			return 0;
		}
	}

	char addr[PT_PCI_ADDR_LEN];
	if (pt_sysfs_pci_address(root, rel, addr) == 0) {
		json_t *o = pt_json_text_object("address", addr, "block", name, (const char *)NULL);
		if (!o || json_array_append_new(out, o) < 0)
			return -ENOMEM;
	}
	return 0;
}

int pt_block_pci_devices(const char *root, const char *name, json_t *out)
{
	return block_devices(root, name, 0, out);
}

static bool block_exists(const char *root, const char *name)
{
	if (!pt_path_is_name(name))
		return false;
	_cleanup_free_ char *rel = NULL;
	if (asprintf(&rel, "/sys/class/block/%s", name) < 0)
		return false;
	_cleanup_free_ char *full = pt_path_join(root, rel);
	return full && pt_path_exists(full);
}

/* The dm-N whose dm/name is `dmname`. Caller frees; NULL when none. */
static char *dm_by_name(const char *root, const char *dmname)
{
	_cleanup_free_ char *dir = pt_root_host_path(root, "/sys/class/block");
	DIR *d = dir ? opendir(dir) : NULL;
	if (!d)
		return NULL;
	char *found = NULL;
	struct dirent *e;
	while (!found && (e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "dm-", 3) != 0)
			continue;
		_cleanup_free_ char *rel = NULL;
		if (asprintf(&rel, "/sys/class/block/%s/dm/name", e->d_name) < 0)
			break;
		_cleanup_free_ char *path = pt_root_host_path(root, rel);
		_cleanup_free_ char *name = path ? pt_file_read_line(path) : NULL;
		if (name && !strcmp(name, dmname))
			found = strdup(e->d_name);
	}
	closedir(d);
	return found;
}

/* The block device name behind a mount source "/dev/...", or NULL. */
static char *block_name_for_source(const char *root, const char *source)
{
	if (strncmp(source, "/dev/", 5) != 0)
		return NULL;
	/* The node itself, through its links (/dev/mapper/X → ../dm-1). */
	_cleanup_free_ char *real = pt_root_realpath(root, source);
	if (real && !strncmp(real, "/dev/", 5)) {
		const char *base = strrchr(real, '/') + 1;
		if (block_exists(root, base))
			return strdup(base);
	}
	const char *rest = source + 5;
	if (!strncmp(rest, "mapper/", 7))
		return dm_by_name(root, rest + 7);
	/* /dev/VG/LV: device-mapper names it VG-LV, with '-' doubled inside */
	const char *slash = strchr(rest, '/');
	if (slash && !strchr(slash + 1, '/') && strncmp(rest, "disk/", 5) != 0) {
		struct pt_strbuf sb = PT_STRBUF_INIT;
		for (const char *c = rest; *c; c++) {
			if (c == slash)
				pt_strbuf_putc(&sb, '-');
			else if (*c == '-')
				pt_strbuf_puts(&sb, "--");
			else
				pt_strbuf_putc(&sb, *c);
		}
		char *dm = sb.oom ? NULL : dm_by_name(root, pt_strbuf_str(&sb));
		pt_strbuf_release(&sb);
		if (dm)
			return dm;
	}
	const char *base = strrchr(source, '/') + 1;
	return block_exists(root, base) ? strdup(base) : NULL;
}

/* /proc/self/mounts escapes blanks and backslashes as \ooo. In place. */
static void unescape_octal(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

/* Devices udev marked as members of ZFS pool `pool` (ID_FS_TYPE=zfs_member,
 * ID_FS_LABEL=pool in /run/udev/data/b<major>:<minor>). Appends block names. */
static void zfs_members(const char *root, const char *pool, json_t *names)
{
	_cleanup_free_ char *dir = pt_root_host_path(root, "/sys/class/block");
	DIR *d = dir ? opendir(dir) : NULL;
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		_cleanup_free_ char *rel = NULL, *data_rel = NULL, *data = NULL;
		if (asprintf(&rel, "/sys/class/block/%s/dev", e->d_name) < 0)
			break;
		_cleanup_free_ char *devpath = pt_root_host_path(root, rel);
		_cleanup_free_ char *majmin = devpath ? pt_file_read_line(devpath) : NULL;
		if (!majmin || strchr(majmin, '/'))
			continue;
		if (asprintf(&data_rel, "/run/udev/data/b%s", majmin) < 0)
			break;
		_cleanup_free_ char *data_path = pt_path_join(root, data_rel);
		if (!data_path || pt_file_read(data_path, &data, NULL) < 0)
			continue;
		bool member = false, label = false;
		char *save = NULL;
		for (char *l = strtok_r(data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			member |= !strcmp(l, "E:ID_FS_TYPE=zfs_member");
			label |= !strncmp(l, "E:ID_FS_LABEL=", 14) && !strcmp(l + 14, pool);
		}
		if (member && label)
			pt_json_strings_add_unique(names, e->d_name);
	}
	closedir(d);
}

/* Append an entry to used for every PCI device behind the block names (from
 * the mount or swap line of source; mountpoint NULL for swap). */
static int devices_behind(const char *root, const json_t *names, const char *source,
                          const char *mountpoint, json_t *used)
{
	size_t i;
	json_t *n;
	json_array_foreach (names, i, n) {
		_cleanup_json_ json_t *devs = json_array();
		if (!devs || pt_block_pci_devices(root, json_string_value(n), devs) < 0)
			return -ENOMEM;
		size_t j;
		json_t *d;
		json_array_foreach (devs, j, d) {
			const char *address = json_string_value(json_object_get(d, "address"));
			const char *block = json_string_value(json_object_get(d, "block"));
			json_t *o =
			        mountpoint
			                ? pt_json_text_object("address", address, "block", block,
			                                      "source", source, "mountpoint",
			                                      mountpoint, (const char *)NULL)
			                : pt_json_text_object("address", address, "block", block,
			                                      "source", source, (const char *)NULL);
			if (!o || json_array_append_new(used, o) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

/* The /proc table rel under root into *text (caller frees; NULL when it cannot
 * be read, which traces nothing). 0, or -ENOMEM. */
static int read_table(const char *root, const char *rel, char **text)
{
	_cleanup_free_ char *path = pt_path_join(root, rel);
	*text = NULL;
	if (!path)
		return -ENOMEM;
	pt_file_read(path, text, NULL); /* *text stays NULL when it fails */
	return 0;
}

int pt_block_mounted_devices(const char *root, json_t *used, json_t *unknown)
{
	_cleanup_free_ char *text = NULL;
	if (read_table(root, "/proc/self/mounts", &text) < 0)
		return -ENOMEM;
	if (!text)
		return 0;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *w[4];
		if (pt_proc_fields(line, w, 4) < 3)
			continue;
		unescape_octal(w[0]);
		unescape_octal(w[1]);
		const char *source = w[0], *mountpoint = w[1], *fstype = w[2];
		bool zfs = !strcmp(fstype, "zfs");
		if (!zfs && strncmp(source, "/dev/", 5) != 0)
			continue; /* proc, sysfs, tmpfs, network filesystems */
		_cleanup_json_ json_t *names = json_array();
		if (!names)
			return -ENOMEM;
		if (zfs) {
			_cleanup_free_ char *pool = strndup(source, strcspn(source, "/"));
			if (!pool)
				return -ENOMEM;
			zfs_members(root, pool, names);
			pt_json_strings_sort(names, false);
		} else {
			_cleanup_free_ char *name = block_name_for_source(root, source);
			if (name)
				json_array_append_new(names, pt_json_text(name));
		}
		if (!json_array_size(names)) {
			json_t *o = pt_json_text_object("mountpoint", mountpoint, "source", source,
			                                "fstype", fstype, (const char *)NULL);
			if (!o || json_array_append_new(unknown, o) < 0)
				return -ENOMEM;
			continue;
		}
		if (devices_behind(root, names, source, mountpoint, used) < 0)
			return -ENOMEM;
	}
	return 0;
}

int pt_block_swap_devices(const char *root, json_t *used)
{
	_cleanup_free_ char *text = NULL;
	bool header = true;
	if (read_table(root, "/proc/swaps", &text) < 0)
		return -ENOMEM;
	if (!text)
		return 0;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *w[2];
		if (header) {
			header = false;
			continue;
		}
		if (pt_proc_fields(line, w, 2) < 2 || strcmp(w[1], "partition") != 0)
			continue; /* swap files live on a mounted filesystem */
		unescape_octal(w[0]);
		_cleanup_free_ char *name = block_name_for_source(root, w[0]);
		if (!name)
			continue;
		_cleanup_json_ json_t *names = json_array();
		if (!names || json_array_append_new(names, pt_json_text(name)) < 0 ||
		    devices_behind(root, names, w[0], NULL, used) < 0)
			return -ENOMEM;
	}
	return 0;
}
