#include "vfio_safety.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "files.h"
#include "json_text.h"
#include "root_path.h"
#include "strbuf.h"

#define MAX_DEPTH 8

/* --- sysfs objects under PCI devices ------------------------------------------ */

static bool is_pci_address(const char *s, size_t n)
{
	if (n != 12 || s[4] != ':' || s[7] != ':' || s[10] != '.' || s[11] < '0' || s[11] > '7')
		return false;
	for (size_t i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

int pt_sysfs_pci_address(const char *root, const char *sysfs_path, char out[PT_PCI_ADDR_LEN])
{
	_cleanup_free_ char *real = pt_root_realpath(root, sysfs_path);
	if (!real)
		return -ENOENT;
	_cleanup_free_ char *full = pt_path_join(root, real);
	if (!full || !pt_path_exists(full))
		return -ENOENT;
	/* deepest PCI address: walk the components from the end */
	size_t end = strlen(real);
	while (end > 0) {
		size_t start = end;
		while (start > 0 && real[start - 1] != '/')
			start--;
		if (is_pci_address(real + start, end - start)) {
			for (size_t i = 0; i < 12; i++)
				out[i] = (char)tolower((unsigned char)real[start + i]);
			out[12] = '\0';
			return 0;
		}
		end = start ? start - 1 : 0;
	}
	return -ENOENT;
}

/* --- default routes ------------------------------------------------------------ */

static bool array_has_string(const json_t *arr, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach (arr, i, v)
		if (json_string_value(v) && !strcmp(json_string_value(v), s))
			return true;
	return false;
}

static void add_unique(json_t *arr, const char *s)
{
	if (!array_has_string(arr, s))
		json_array_append_new(arr, pt_json_text(s));
}

/* An object of string members, as json_pack("{s:s, ...}") gives it without
 * linking jansson's pack/unpack code: key and value pairs, NULL after the last.
 * Values need not be UTF-8 (mount points, interface names): pt_json_text.
 * New reference; NULL when out of memory or a value is NULL. */
static json_t *strings_object(const char *key, ...)
{
	json_t *o = json_object();
	va_list ap;
	va_start(ap, key);
	for (; o && key; key = va_arg(ap, const char *)) {
		if (json_object_set_new(o, key, pt_json_text(va_arg(ap, const char *))) < 0) {
			json_decref(o);
			o = NULL;
		}
	}
	va_end(ap);
	return o;
}

static int cmp_json_strings(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a),
	              json_string_value(*(json_t *const *)b));
}

/* Directory order is the filesystem's: sort names so results and messages do
 * not depend on it. */
static void sort_strings(json_t *arr)
{
	size_t n = json_array_size(arr);
	json_t **v = n > 1 ? calloc(n, sizeof *v) : NULL;
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(arr, i));
	qsort(v, n, sizeof *v, cmp_json_strings);
	json_array_clear(arr);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, v[i]);
	free(v);
}

/* Split a line into up to max blank-separated words (in place). */
static int split_words(char *line, char **words, int max)
{
	int n = 0;
	char *save = NULL;
	for (char *w = strtok_r(line, " \t\r", &save); w && n < max;
	     w = strtok_r(NULL, " \t\r", &save))
		words[n++] = w;
	return n;
}

static bool all_zero(const char *s)
{
	for (; *s; s++)
		if (*s != '0')
			return false;
	return true;
}

json_t *pt_net_default_interfaces(const char *root)
{
	json_t *out = json_array();
	if (!out)
		return NULL;
	_cleanup_free_ char *v4 = pt_path_join(root, "/proc/net/route");
	_cleanup_free_ char *text = NULL;
	if (v4 && pt_file_read(v4, &text, NULL) == 0) {
		char *save = NULL;
		bool header = true;
		for (char *line = strtok_r(text, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			char *w[11];
			if (header) { /* Iface Destination Gateway Flags ... Mask ... */
				header = false;
				continue;
			}
			if (split_words(line, w, 11) < 8)
				continue;
			unsigned long flags = strtoul(w[3], NULL, 16);
			if (all_zero(w[1]) && all_zero(w[7]) && (flags & 0x1))
				add_unique(out, w[0]);
		}
	}
	_cleanup_free_ char *v6 = pt_path_join(root, "/proc/net/ipv6_route");
	_cleanup_free_ char *text6 = NULL;
	if (v6 && pt_file_read(v6, &text6, NULL) == 0) {
		char *save = NULL;
		for (char *line = strtok_r(text6, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			char *w[10];
			if (split_words(line, w, 10) < 10)
				continue;
			unsigned long flags = strtoul(w[8], NULL, 16);
			/* RTF_UP, and not RTF_REJECT (the kernel's unreachable ::/0 on lo) */
			if (all_zero(w[0]) && all_zero(w[1]) && (flags & 0x1) && !(flags & 0x200) &&
			    strcmp(w[9], "lo") != 0)
				add_unique(out, w[9]);
		}
	}
	return out;
}

static bool safe_name(const char *name)
{
	return name && *name && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..");
}

static int iface_devices(const char *root, const char *iface, int depth, json_t *seen, json_t *out)
{
	if (depth > MAX_DEPTH || !safe_name(iface) || array_has_string(seen, iface))
		return 0;
	json_array_append_new(seen, pt_json_text(iface));

	_cleanup_free_ char *dev = NULL;
	if (asprintf(&dev, "/sys/class/net/%s/device", iface) < 0)
		return -ENOMEM;
	char addr[PT_PCI_ADDR_LEN];
	if (pt_sysfs_pci_address(root, dev, addr) == 0) {
		json_t *o = strings_object("address", addr, "interface", iface, NULL);
		return o && json_array_append_new(out, o) == 0 ? 0 : -ENOMEM;
	}

	/* No device of its own: a bridge, bond or VLAN. Follow its ports. */
	_cleanup_json_ json_t *lower = json_array();
	if (!lower)
		return -ENOMEM;
	static const char *const subdirs[] = {"", "/brif", NULL};
	for (const char *const *sub = subdirs; *sub; sub++) {
		_cleanup_free_ char *rel = NULL;
		if (asprintf(&rel, "/sys/class/net/%s%s", iface, *sub) < 0)
			return -ENOMEM;
		_cleanup_free_ char *dir = pt_root_host_path(root, rel);
		DIR *d = dir ? opendir(dir) : NULL;
		if (!d)
			continue;
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			if (**sub)
				add_unique(lower, e->d_name);
			else if (!strncmp(e->d_name, "lower_", 6))
				add_unique(lower, e->d_name + 6);
		}
		closedir(d);
	}
	sort_strings(lower);
	size_t i;
	json_t *v;
	json_array_foreach (lower, i, v) {
		int r = iface_devices(root, json_string_value(v), depth + 1, seen, out);
		if (r < 0)
			return r;
	}
	return 0;
}

int pt_net_interface_devices(const char *root, const char *iface, json_t *out)
{
	_cleanup_json_ json_t *seen = json_array();
	if (!seen)
		return -ENOMEM;
	return iface_devices(root, iface, 0, seen, out);
}

/* --- block devices ------------------------------------------------------------- */

static int block_devices(const char *root, const char *name, int depth, json_t *out)
{
	if (depth > MAX_DEPTH || !safe_name(name))
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
				add_unique(names, e->d_name);
		closedir(d);
		if (!names)
			return -ENOMEM;
		sort_strings(names);
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
		json_t *o = strings_object("address", addr, "block", name, NULL);
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
	if (!safe_name(name))
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
			add_unique(names, e->d_name);
	}
	closedir(d);
}

static int add_need(json_t *needs, const char *address, const char *rule, const char *detail)
{
	json_t *o = strings_object("address", address, "rule", rule, "detail", detail, NULL);
	return o && json_array_append_new(needs, o) == 0 ? 0 : -ENOMEM;
}

/* Add a need for every PCI device behind the block names. */
static int needs_for_blocks(const char *root, const json_t *names, const char *rule,
                            const char *what, const char *source, json_t *needs)
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
			_cleanup_free_ char *detail = NULL;
			if (asprintf(&detail, "%s (%s, disk %s)", what, source,
			             json_string_value(json_object_get(d, "block"))) < 0)
				return -ENOMEM;
			if (add_need(needs, json_string_value(json_object_get(d, "address")), rule,
			             detail) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

static int mount_needs(const char *root, json_t *needs, json_t *unknown)
{
	_cleanup_free_ char *path = pt_path_join(root, "/proc/self/mounts");
	_cleanup_free_ char *text = NULL;
	if (!path)
		return -ENOMEM;
	if (pt_file_read(path, &text, NULL) < 0)
		return 0;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *w[4];
		if (split_words(line, w, 4) < 3)
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
			sort_strings(names);
		} else {
			_cleanup_free_ char *name = block_name_for_source(root, source);
			if (name)
				json_array_append_new(names, pt_json_text(name));
		}
		if (!json_array_size(names)) {
			json_t *o = strings_object("mountpoint", mountpoint, "source", source,
			                           "fstype", fstype, NULL);
			if (!o || json_array_append_new(unknown, o) < 0)
				return -ENOMEM;
			continue;
		}
		_cleanup_free_ char *what = NULL;
		if (asprintf(&what, "the filesystem mounted on %s", mountpoint) < 0)
			return -ENOMEM;
		if (needs_for_blocks(root, names, "mounted_filesystem", what, source, needs) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int swap_needs(const char *root, json_t *needs)
{
	_cleanup_free_ char *path = pt_path_join(root, "/proc/swaps");
	_cleanup_free_ char *text = NULL;
	if (!path)
		return -ENOMEM;
	if (pt_file_read(path, &text, NULL) < 0)
		return 0;
	char *save = NULL;
	bool header = true;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *w[2];
		if (header) {
			header = false;
			continue;
		}
		if (split_words(line, w, 2) < 2 || strcmp(w[1], "partition") != 0)
			continue; /* swap files live on a mounted filesystem */
		unescape_octal(w[0]);
		_cleanup_free_ char *name = block_name_for_source(root, w[0]);
		if (!name)
			continue;
		_cleanup_json_ json_t *names = json_array();
		if (!names || json_array_append_new(names, pt_json_text(name)) < 0 ||
		    needs_for_blocks(root, names, "swap", "active swap", w[0], needs) < 0)
			return -ENOMEM;
	}
	return 0;
}

int pt_safety_host_needs(const char *root, json_t *needs, json_t *unknown)
{
	_cleanup_json_ json_t *ifaces = pt_net_default_interfaces(root);
	if (!ifaces)
		return -ENOMEM;
	size_t i;
	json_t *v;
	json_array_foreach (ifaces, i, v) {
		const char *iface = json_string_value(v);
		_cleanup_json_ json_t *devs = json_array();
		if (!devs || pt_net_interface_devices(root, iface, devs) < 0)
			return -ENOMEM;
		size_t j;
		json_t *d;
		json_array_foreach (devs, j, d) {
			const char *port = json_string_value(json_object_get(d, "interface"));
			_cleanup_free_ char *detail = NULL;
			int n = strcmp(port, iface)
			                ? asprintf(&detail, "the default route on %s through %s",
			                           iface, port)
			                : asprintf(&detail, "the default route on %s", iface);
			if (n < 0)
				return -ENOMEM;
			if (add_need(needs, json_string_value(json_object_get(d, "address")),
			             "default_route", detail) < 0)
				return -ENOMEM;
		}
	}
	if (mount_needs(root, needs, unknown) < 0 || swap_needs(root, needs) < 0)
		return -ENOMEM;
	return 0;
}

/* --- groups, drivers ---------------------------------------------------------- */

json_t *pt_safety_group_intruders(const struct pt_pci_host *host, const struct pt_pci_device *dev,
                                  const json_t *selected)
{
	json_t *out = json_array();
	if (!out || dev->iommu_group < 0)
		return out;
	for (size_t i = 0; i < host->count; i++) {
		const struct pt_pci_device *o = &host->devices[i];
		if (o->iommu_group != dev->iommu_group || !strcmp(o->address, dev->address) ||
		    !pt_pci_is_endpoint(o) || json_object_get(selected, o->address))
			continue;
		json_array_append_new(out, pt_json_text(o->address));
	}
	return out;
}

char *pt_safety_driver_module(const char *root, const char *driver)
{
	if (!driver)
		return NULL;
	char *name = NULL;
	if (safe_name(driver)) {
		_cleanup_free_ char *rel = NULL;
		if (asprintf(&rel, "/sys/bus/pci/drivers/%s/module", driver) >= 0) {
			_cleanup_free_ char *path = pt_path_join(root, rel);
			name = path ? pt_link_basename(path) : NULL;
		}
	}
	if (!name)
		name = strdup(driver);
	for (char *c = name; c && *c; c++)
		if (*c == '-')
			*c = '_';
	return name;
}

char *pt_safety_describe(const struct pt_pci_device *dev)
{
	char *s = NULL;
	char id[16];
	pt_pci_id_string(dev->vendor_id, dev->device_id, id, sizeof id);
	int n;
	if (dev->vendor_name && dev->device_name)
		n = asprintf(&s, "%s %s", dev->vendor_name, dev->device_name);
	else if (dev->class_name)
		n = asprintf(&s, "%s %s", dev->class_name, *id ? id : "(unknown ID)");
	else
		n = asprintf(&s, "class 0x%04x device %s", (unsigned)(dev->class_id & 0xffff),
		             *id ? id : "(unknown ID)");
	return n < 0 ? NULL : s;
}

/* --- the checks --------------------------------------------------------------- */

static int problem(json_t *problems, const char *device, const char *rule, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int problem(json_t *problems, const char *device, const char *rule, const char *fmt, ...)
{
	struct pt_strbuf sb = PT_STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	pt_strbuf_vprintf(&sb, fmt, ap);
	va_end(ap);
	json_t *o = sb.oom ? NULL
	                   : strings_object("device", device, "rule", rule, "message",
	                                    pt_strbuf_str(&sb), NULL);
	pt_strbuf_release(&sb);
	return o && json_array_append_new(problems, o) == 0 ? 0 : -ENOMEM;
}

/* " (it came in through include_group: ...)" for a device the user did not name. */
static const char *came_by_group(const json_t *selected, const char *address)
{
	const char *how = json_string_value(json_object_get(selected, address));
	return how && !strcmp(how, "group") ? " It came into the selection through include_group: "
	                                      "it shares an IOMMU group with a selected device, "
	                                      "so that device cannot be passed through safely "
	                                      "either."
	                                    : "";
}

static int check_needs(const char *root, const struct pt_pci_host *host, const json_t *selected,
                       json_t *problems)
{
	_cleanup_json_ json_t *needs = json_array();
	_cleanup_json_ json_t *unknown = json_array();
	if (!needs || !unknown || pt_safety_host_needs(root, needs, unknown) < 0)
		return -ENOMEM;
	_cleanup_json_ json_t *reported = json_object();
	size_t i;
	json_t *n;
	json_array_foreach (needs, i, n) {
		const char *addr = json_string_value(json_object_get(n, "address"));
		const char *rule = json_string_value(json_object_get(n, "rule"));
		const char *detail = json_string_value(json_object_get(n, "detail"));
		const struct pt_pci_device *dev = pt_pci_find(host, addr);
		if (!json_object_get(selected, addr))
			continue;
		_cleanup_free_ char *key = NULL;
		if (asprintf(&key, "%s %s", addr, rule) < 0)
			return -ENOMEM;
		if (json_object_get(reported, key))
			continue;
		json_object_set_new(reported, key, json_true());
		_cleanup_free_ char *what = dev ? pt_safety_describe(dev) : NULL;
		int r;
		if (!strcmp(rule, "default_route"))
			r = problem(problems, addr, rule,
			            "%s (%s) carries %s: handing it to vfio-pci cuts the host off "
			            "the network. Leave it out of devices/ids, or set force: true "
			            "if the host has another way in.%s",
			            addr, what ? what : "?", detail, came_by_group(selected, addr));
		else
			r = problem(problems, addr, rule,
			            "%s (%s) backs %s: handing it to vfio-pci takes the disk from "
			            "under the running host. Leave it out of devices/ids (or move "
			            "what it holds elsewhere first), or set force: true.%s",
			            addr, what ? what : "?", detail, came_by_group(selected, addr));
		if (r < 0)
			return r;
	}
	/* Filesystems whose disks could not be traced: a selected storage
	 * controller might be under them. */
	json_array_foreach (unknown, i, n) {
		const char *key;
		json_t *how;
		json_object_foreach ((json_t *)selected, key, how) {
			const struct pt_pci_device *dev = pt_pci_find(host, key);
			if (!dev || dev->class_id < 0 || (dev->class_id >> 8) != 0x01)
				continue;
			_cleanup_free_ char *what = pt_safety_describe(dev);
			int r = problem(
			        problems, key, "mounted_filesystem",
			        "%s (%s) is a storage controller, and the disks under the %s "
			        "filesystem %s mounted on %s could not be traced to PCI devices "
			        "(no udev data or sysfs entry for them), so it may back it. Leave "
			        "the controller out of devices/ids, or set force: true if you know "
			        "it holds none of them.",
			        key, what ? what : "?",
			        json_string_value(json_object_get(n, "fstype")),
			        json_string_value(json_object_get(n, "source")),
			        json_string_value(json_object_get(n, "mountpoint")));
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int check_groups(const struct pt_pci_host *host, const json_t *selected, json_t *problems,
                        json_t *notices)
{
	_cleanup_json_ json_t *seen_groups = json_object();
	const char *addr;
	json_t *how;
	json_object_foreach ((json_t *)selected, addr, how) {
		const struct pt_pci_device *dev = pt_pci_find(host, addr);
		if (!dev)
			continue;
		if (dev->iommu_group < 0) {
			_cleanup_free_ char *msg = NULL;
			if (asprintf(&msg,
			             "%s is in no IOMMU group (the IOMMU is off, or not on until "
			             "the "
			             "next boot): its group cannot be checked for other devices "
			             "now, and vfio-pci can only use it once the host boots with "
			             "the "
			             "IOMMU on (see homelab.passthrough.grub_iommu)",
			             addr) < 0)
				return -ENOMEM;
			json_array_append_new(notices, pt_json_text(msg));
			continue;
		}
		char gkey[16];
		snprintf(gkey, sizeof gkey, "%d", dev->iommu_group);
		if (json_object_get(seen_groups, gkey))
			continue;
		json_object_set_new(seen_groups, gkey, json_true());
		_cleanup_json_ json_t *intruders = pt_safety_group_intruders(host, dev, selected);
		if (!intruders)
			return -ENOMEM;
		if (!json_array_size(intruders))
			continue;
		struct pt_strbuf list = PT_STRBUF_INIT;
		size_t i;
		json_t *v;
		json_array_foreach (intruders, i, v) {
			const struct pt_pci_device *o = pt_pci_find(host, json_string_value(v));
			_cleanup_free_ char *what = o ? pt_safety_describe(o) : NULL;
			pt_strbuf_printf(&list, "%s%s (%s%s%s)", i ? ", " : "",
			                 json_string_value(v), what ? what : "?",
			                 o && o->driver ? ", driver " : "",
			                 o && o->driver ? o->driver : "");
		}
		int r = problem(problems, addr, "group_not_isolated",
		                "%s is in IOMMU group %d with %s, which %s not selected: vfio-pci "
		                "hands a VM whole groups only, and the host would lose %s. Select "
		                "%s too (include_group: true does it), move the card to a slot "
		                "with a group of its own, or set force: true.",
		                addr, dev->iommu_group, list.oom ? "?" : pt_strbuf_str(&list),
		                json_array_size(intruders) > 1 ? "are" : "is",
		                json_array_size(intruders) > 1 ? "them" : "it",
		                json_array_size(intruders) > 1 ? "them" : "it");
		pt_strbuf_release(&list);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The devices that stay with the host, by the module that drives them: module
 * name → array of host->devices indexes, in host order. Built once, so the
 * blacklist check costs one look-up per name however long the list is. New
 * reference; NULL when out of memory. */
static json_t *host_drivers(const char *root, const struct pt_pci_host *host,
                            const json_t *selected)
{
	json_t *by_module = json_object();
	for (size_t k = 0; by_module && k < host->count; k++) {
		const struct pt_pci_device *d = &host->devices[k];
		if (!d->driver || json_object_get(selected, d->address))
			continue;
		_cleanup_free_ char *mod = pt_safety_driver_module(root, d->driver);
		json_t *list = mod ? json_object_get(by_module, mod) : NULL;
		if (mod && !list && json_object_set_new(by_module, mod, list = json_array()) < 0)
			list = NULL;
		if (!list || json_array_append_new(list, json_integer((json_int_t)k)) < 0) {
			json_decref(by_module);
			by_module = NULL;
		}
	}
	return by_module;
}

static int check_blacklist(const char *root, const struct pt_pci_host *host, const json_t *selected,
                           const json_t *blacklist, json_t *problems)
{
	if (!json_array_size(blacklist))
		return 0;
	_cleanup_json_ json_t *by_module = host_drivers(root, host, selected);
	if (!by_module)
		return -ENOMEM;
	size_t i;
	json_t *b;
	json_array_foreach (blacklist, i, b) {
		char module[128];
		const char *raw = json_string_value(b);
		if (!raw)
			continue;
		snprintf(module, sizeof module, "%s", raw);
		for (char *c = module; *c; c++)
			if (*c == '-')
				*c = '_';
		if (!strcmp(module, "vfio_pci") || !strcmp(module, "vfio") ||
		    !strcmp(module, "vfio_iommu_type1") || !strcmp(module, "vfio_pci_core")) {
			if (problem(problems, raw, "blacklist_in_use",
			            "refusing to blacklist %s: vfio-pci needs it to take the "
			            "selected "
			            "devices at boot. Remove it from blacklist_drivers.",
			            raw) < 0)
				return -ENOMEM;
			continue;
		}
		const json_t *drives = json_object_get(by_module, module);
		size_t victims = json_array_size(drives);
		if (!victims)
			continue;
		struct pt_strbuf list = PT_STRBUF_INIT;
		size_t k;
		json_t *index;
		json_array_foreach (drives, k, index) {
			const struct pt_pci_device *d = &host->devices[json_integer_value(index)];
			_cleanup_free_ char *what = pt_safety_describe(d);
			pt_strbuf_printf(&list, "%s%s (%s)", k ? ", " : "", d->address,
			                 what ? what : "?");
		}
		int r = problem(problems, raw, "blacklist_in_use",
		                "refusing to blacklist %s: it drives %s, which %s not being passed "
		                "through, and a blacklisted driver is not loaded for %s at the "
		                "next boot. Remove %s from blacklist_drivers (the softdep lines "
		                "already make vfio-pci load first and take the selected devices), "
		                "or set force: true.",
		                raw, list.oom ? "?" : pt_strbuf_str(&list),
		                victims > 1 ? "are" : "is", victims > 1 ? "them" : "it", raw);
		pt_strbuf_release(&list);
		if (r < 0)
			return r;
	}
	return 0;
}

int pt_safety_check(const char *root, const struct pt_pci_host *host, const json_t *selected,
                    const json_t *blacklist, json_t *problems, json_t *notices)
{
	const char *addr;
	json_t *how;
	json_object_foreach ((json_t *)selected, addr, how) {
		const struct pt_pci_device *dev = pt_pci_find(host, addr);
		if (dev && dev->boot_vga == 1) {
			_cleanup_free_ char *msg = NULL;
			if (asprintf(
			            &msg,
			            "%s is the boot VGA device (boot_vga=1): the host console goes "
			            "with it once vfio-pci takes it, so keep SSH or a serial "
			            "console "
			            "at hand; if the VM then fails to start with 'BAR can't "
			            "reserve', "
			            "the firmware framebuffer still holds the card "
			            "(video=efifb:off or initcall_blacklist=sysfb_init on the "
			            "kernel "
			            "command line)",
			            addr) < 0)
				return -ENOMEM;
			json_array_append_new(notices, pt_json_text(msg));
		}
	}
	if (check_needs(root, host, selected, problems) < 0 ||
	    check_groups(host, selected, problems, notices) < 0 ||
	    check_blacklist(root, host, selected, blacklist, problems) < 0)
		return -ENOMEM;
	return 0;
}
