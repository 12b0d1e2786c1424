/* PCI devices of a root through libpci's linux-sysfs method, plus the sysfs
 * attributes libpci does not read (boot_vga, reset_method, driver_override).
 *
 * libpci reports trouble through callbacks that, by default, print and exit.
 * Here the error callback records the message and longjmps back into
 * pt_pci_scan, which turns it into -EIO and a message for the user; warnings
 * and debug output are dropped (a missing optional attribute is not news). The
 * callbacks carry no user pointer, so the jump target is a file-level variable:
 * one scan at a time per process, which is all a module does. */
#include "pci.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pci/pci.h>

#include "cleanup.h"
#include "files.h"
#include "pci_names.h"
#include "sysfs_read.h"

/* The host's own pci.ids: the module runs on the host, so its database is the
 * one whose names the user sees in lspci. */
#define PCI_IDS_FILE "/usr/share/misc/pci.ids"

/* The iommu_group and driver links are read here, not through libpci: libpci
 * resolves them with realpath(), a readlink per path component, which made
 * those two fields most of a scan's cost. Their last component is all that
 * counts, and it is there even when the target is missing from a copy. */
#define FILL_FLAGS                                                                                 \
	(PCI_FILL_IDENT | PCI_FILL_CLASS | PCI_FILL_CLASS_EXT | PCI_FILL_SUBSYS |                  \
	 PCI_FILL_MODULE_ALIAS)

static jmp_buf *libpci_jump;
static char libpci_message[512];

static _Noreturn void libpci_error(char *msg, ...)
{
	va_list ap;
	va_start(ap, msg);
	vsnprintf(libpci_message, sizeof libpci_message, msg, ap);
	va_end(ap);
	if (libpci_jump)
		longjmp(*libpci_jump, 1);
	/* An error outside pt_pci_scan cannot happen (every libpci call is made
	 * inside it); if it ever does, stopping beats returning into libpci,
	 * which does not expect its error handler to return. */
	abort();
}

static void libpci_quiet(char *msg, ...)
{
	(void)msg;
}

void pt_pci_host_release(struct pt_pci_host *host)
{
	if (!host)
		return;
	for (size_t i = 0; i < host->count; i++) {
		struct pt_pci_device *d = &host->devices[i];
		free(d->driver);
		free(d->driver_override);
		free(d->modalias);
		free(d->reset_methods);
		free(d->parent);
		free(d->vendor_name);
		free(d->device_name);
		free(d->class_name);
	}
	free(host->devices);
	host->devices = NULL;
	host->count = 0;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* Paths of the files under <sysfs>/devices/, built in one buffer per scan
 * instead of one allocation per file: a scan reads about ten per device. */
struct device_paths {
	char *buf;       /* "<sysfs>/devices/", then an address and a file name */
	size_t prefix;   /* the length of "<sysfs>/devices/" */
	int devices_dir; /* "<sysfs>/devices" opened as its path resolves; -1 */
};

#define LONGEST_FILE_NAME 32 /* "driver_override" and the like */

static int device_paths_init(struct device_paths *paths, const char *sysfs)
{
	size_t n = strlen(sysfs);
	paths->prefix = n + strlen("/devices/");
	paths->buf = malloc(paths->prefix + PT_PCI_ADDR_LEN + 1 + LONGEST_FILE_NAME + 1);
	if (!paths->buf)
		return -ENOMEM;
	memcpy(paths->buf, sysfs, n);
	memcpy(paths->buf + n, "/devices/", sizeof "/devices/");
	paths->devices_dir = open(paths->buf, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return 0;
}

static void device_paths_release(struct device_paths *paths)
{
	free(paths->buf);
	if (paths->devices_dir >= 0)
		close(paths->devices_dir);
}

/* "<sysfs>/devices/<address>/<name>", or the device's own path when name is
 * NULL. Borrowed: valid until the next call. */
static const char *device_path(const struct device_paths *paths, const char *address,
                               const char *name)
{
	char *at = paths->buf + paths->prefix;
	memcpy(at, address, PT_PCI_ADDR_LEN); /* the NUL included */
	if (name) {
		at += PT_PCI_ADDR_LEN - 1;
		*at++ = '/';
		size_t n = strnlen(name, LONGEST_FILE_NAME);
		memcpy(at, name, n);
		at[n] = '\0';
	}
	return paths->buf;
}

/* A sysfs attribute of the device as text, or NULL: what pt_file_read_line
 * gives for its path, read through the device's directory dir (opened under
 * the confinement root; -errno when that failed) where it can be. */
static char *read_attribute(const struct device_paths *paths, int dir, const char *address,
                            const char *name)
{
	return pt_sysfs_read_at(dir, name, device_path(paths, address, name));
}

/* readlink of "<sysfs>/devices/<address>[/<name>]" into target (size bytes,
 * NUL-terminated): relative to the devices directory when it is open, which
 * resolves the same path without walking root and the directories above
 * "devices" again (libpci and these links are a scan's path lookups). The
 * length, or -1. */
static ssize_t read_device_link(const struct device_paths *paths, const char *address,
                                const char *name, char *target, size_t size)
{
	const char *path = device_path(paths, address, name);
	ssize_t n = paths->devices_dir >= 0
	                    ? readlinkat(paths->devices_dir, path + paths->prefix, target, size - 1)
	                    : readlink(path, target, size - 1);
	if (n >= 0)
		target[n] = '\0';
	return n;
}

/* The last path component of a device link (driver, iommu_group), for when
 * libpci could not resolve it, e.g. the target is missing in a sandbox root:
 * what pt_link_basename gives for its path. */
static char *link_attribute(const struct device_paths *paths, const char *address, const char *name)
{
	char target[PATH_MAX];
	if (read_device_link(paths, address, name, target, sizeof target) < 0)
		return NULL;
	const char *slash = strrchr(target, '/');
	return strdup(slash ? slash + 1 : target);
}

/* Canonical address of a libpci device whose domain fits in 16 bits. */
static void format_address(char out[PT_PCI_ADDR_LEN], const struct pci_dev *p)
{
	/* "%04x:%02x:%02x.%x", by hand: snprintf cost as much as a device's
	 * three attribute reads */
	static const char hex[] = "0123456789abcdef";
	unsigned domain = (unsigned)p->domain & 0xffffu, bus = (unsigned)p->bus & 0xffu;
	unsigned slot = (unsigned)p->dev & 0x1fu;
	char *o = out;
	for (int shift = 12; shift >= 0; shift -= 4)
		*o++ = hex[(domain >> shift) & 0xf];
	*o++ = ':';
	*o++ = hex[bus >> 4];
	*o++ = hex[bus & 0xf];
	*o++ = ':';
	*o++ = hex[slot >> 4];
	*o++ = hex[slot & 0xf];
	*o++ = '.';
	*o++ = hex[(unsigned)p->func & 7u];
	*o = '\0';
}

static char *lookup_name(struct pci_access *acc, int flags, int a, int b)
{
	char buf[256];
	const char *name =
	        pci_lookup_name(acc, buf, sizeof buf, flags | PCI_LOOKUP_NO_NUMBERS, a, b);
	return dup_or_null(name);
}

/* The names through libpci, for a pci.ids that pci_names.c does not vouch for.
 * A broken pci.ids ends in a longjmp from here: no local may hold memory that
 * only a cleanup attribute would free while libpci runs. */
static void lookup_names(struct pci_access *acc, struct pt_pci_device *dev)
{
	if (dev->vendor_id >= 0) {
		dev->vendor_name = lookup_name(acc, PCI_LOOKUP_VENDOR, dev->vendor_id, 0);
		if (dev->device_id >= 0)
			dev->device_name =
			        lookup_name(acc, PCI_LOOKUP_DEVICE, dev->vendor_id, dev->device_id);
	}
	if (dev->class_id >= 0)
		dev->class_name = lookup_name(acc, PCI_LOOKUP_CLASS, dev->class_id, 0);
}

static int parse_group(const char *text)
{
	if (!text || !*text)
		return -1;
	char *end = NULL;
	long v = strtol(text, &end, 10);
	if (*end || v < 0 || v > 0x7fffffff)
		return -1;
	return (int)v;
}

/* The number the device's iommu_group link ends in; -1 without one. */
static int link_group(const struct device_paths *paths, const char *address)
{
	_cleanup_free_ char *name = link_attribute(paths, address, "iommu_group");
	return parse_group(name);
}

/* Fill one device from libpci's record and the extra sysfs attributes. May
 * longjmp out through libpci_error; everything it allocates is already stored
 * in dev, so the caller's cleanup releases it. */
static void fill_device(const struct device_paths *paths, struct pci_dev *p,
                        struct pt_pci_device *dev)
{
	int known = pci_fill_info(p, FILL_FLAGS);
	const char *a = dev->address;

	if (known & PCI_FILL_IDENT) {
		dev->vendor_id = p->vendor_id == 0xffff ? -1 : p->vendor_id;
		dev->device_id = p->device_id == 0xffff ? -1 : p->device_id;
	}
	if (known & PCI_FILL_CLASS)
		dev->class_id = p->device_class;
	if (known & PCI_FILL_CLASS_EXT) {
		dev->prog_if = p->prog_if;
		dev->revision = p->rev_id;
		/* Without a revision file libpci reads config space, which gives
		 * all ones when that is missing too. */
		if (p->rev_id == 0xff) {
			_cleanup_free_ char *rev = read_attribute(paths, -1, a, "revision");
			if (!rev)
				dev->revision = -1;
		}
	}
	/* Without the subsystem_* files libpci falls back to config space, which
	 * reads as all ones when that is missing too. */
	if ((known & PCI_FILL_SUBSYS) && p->subsys_vendor_id != 0xffff) {
		dev->subsys_vendor_id = p->subsys_vendor_id;
		dev->subsys_device_id = p->subsys_id;
	}

	dev->iommu_group = link_group(paths, a);
	dev->driver = link_attribute(paths, a, "driver");

	if ((known & PCI_FILL_MODULE_ALIAS) && p->module_alias) {
		/* libpci keeps the file's trailing newline */
		size_t n = strcspn(p->module_alias, "\n\r \t");
		if (n)
			dev->modalias = strndup(p->module_alias, n);
	}

	/* A bridge by class, or by a type-1 header when config space is there to
	 * say so (an unreadable config space reads as 0xff, not 1). */
	int header = pci_read_byte(p, PCI_HEADER_TYPE) & 0x7f;
	dev->is_bridge = dev->class_id == 0x0604 || header == PCI_HEADER_TYPE_BRIDGE;

	/* Plain sysfs reads from here on: no libpci, no longjmp, so the
	 * directory cannot leak. Resolved under root once for the three files. */
	_cleanup_close_ int dir =
	        pt_file_open(device_path(paths, a, NULL), O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_free_ char *boot_vga = read_attribute(paths, dir, a, "boot_vga");
	if (boot_vga && (!strcmp(boot_vga, "0") || !strcmp(boot_vga, "1")))
		dev->boot_vga = boot_vga[0] - '0';

	dev->reset_methods = read_attribute(paths, dir, a, "reset_method");
	if (dev->reset_methods && !*dev->reset_methods) {
		free(dev->reset_methods);
		dev->reset_methods = NULL;
	}
	dev->driver_override = read_attribute(paths, dir, a, "driver_override");
	if (dev->driver_override &&
	    (!*dev->driver_override || !strcmp(dev->driver_override, "(null)"))) {
		free(dev->driver_override);
		dev->driver_override = NULL;
	}
}

static void init_device(struct pt_pci_device *dev, const struct pci_dev *p)
{
	memset(dev, 0, sizeof *dev);
	format_address(dev->address, p);
	dev->vendor_id = dev->device_id = -1;
	dev->subsys_vendor_id = dev->subsys_device_id = -1;
	dev->class_id = dev->prog_if = dev->revision = -1;
	dev->iommu_group = -1;
	dev->boot_vga = -1;
}

/* Where /sys/bus/pci/devices/ADDR points ("../../../devices/pci0000:00/
 * 0000:00:01.0/0000:07:00.0"), or its real path when it is no link. */
static char *device_location(const struct device_paths *paths, const char *address)
{
	char target[4096];
	if (read_device_link(paths, address, NULL, target, sizeof target) > 0)
		return strdup(target);
	return realpath(device_path(paths, address, NULL), NULL);
}

/* The upstream bridges: a device's directory sits in its bridge's directory,
 * so the parent is the directory above when that is itself one of the
 * devices (the same place, not just the same name). One readlink per device:
 * realpath() would cost one per path component. (libpci 3.9's PCI_FILL_PARENT
 * does it with realpath and leaks two paths per device.) */
static void find_parents(const struct device_paths *paths, struct pt_pci_host *host)
{
	char **where = calloc(host->count ? host->count : 1, sizeof *where);
	if (!where)
		return;
	for (size_t i = 0; i < host->count; i++)
		where[i] = device_location(paths, host->devices[i].address);
	for (size_t i = 0; i < host->count; i++) {
		const char *loc = where[i];
		const char *slash = loc ? strrchr(loc, '/') : NULL;
		if (!slash || slash == loc)
			continue;
		size_t dir_len = (size_t)(slash - loc);
		const char *up = slash - 1;
		while (up > loc && *up != '/')
			up--;
		if (*up == '/')
			up++;
		char name[PT_PCI_ADDR_LEN + 1];
		size_t name_len = (size_t)(slash - up);
		if (name_len != PT_PCI_ADDR_LEN - 1)
			continue;
		memcpy(name, up, name_len);
		name[name_len] = '\0';
		const struct pt_pci_device *parent = pt_pci_find(host, name);
		if (!parent)
			continue;
		const char *parent_loc = where[parent - host->devices];
		if (parent_loc && strlen(parent_loc) == dir_len &&
		    !strncmp(parent_loc, loc, dir_len))
			host->devices[i].parent = strdup(name);
	}
	for (size_t i = 0; i < host->count; i++)
		free(where[i]);
	free(where);
}

static int compare_address(const void *a, const void *b)
{
	const struct pt_pci_device *x = a, *y = b;
	return strcmp(x->address, y->address);
}

/* Everything that calls into libpci. Returns 0 or -ENOMEM; libpci errors leave
 * through longjmp to pt_pci_scan. */
static int scan_with_libpci(struct pci_access *acc, const char *sysfs,
                            const struct device_paths *paths, struct pt_pci_host *host)
{
	pci_set_param(acc, "sysfs.path", (char *)sysfs);
	pci_set_name_list_path(acc, (char *)PCI_IDS_FILE, 0);
	/* Names from pci.ids only: the udev hwdb would make results depend on
	 * the machine the tests run on. */
	acc->id_lookup_mode = PCI_LOOKUP_NO_HWDB;
	pci_init(acc);
	pci_scan_bus(acc);

	size_t n = 0;
	for (struct pci_dev *p = acc->devices; p; p = p->next)
		n++;
	if (!n)
		return 0;
	host->devices = calloc(n, sizeof *host->devices);
	if (!host->devices)
		return -ENOMEM;
	for (struct pci_dev *p = acc->devices; p; p = p->next) {
		/* Domains past 0xffff (Intel VMD) have no 4-digit address; leave
		 * them out rather than report a truncated one. */
		if (p->domain < 0 || p->domain > 0xffff)
			continue;
		struct pt_pci_device *dev = &host->devices[host->count];
		init_device(dev, p);
		host->count++;
		fill_device(paths, p, dev);
	}
	/* Names: one pass over pci.ids for the IDs found here, instead of libpci
	 * hashing every entry of it first (the larger part of a scan's cost);
	 * libpci's own loader, errors and all, for a file that pass does not
	 * vouch for. */
	int r = pt_pci_names_fill(PCI_IDS_FILE, host);
	if (r < 0)
		return r;
	if (r == PT_PCI_NAMES_ASK_LIBPCI)
		for (size_t i = 0; i < host->count; i++)
			lookup_names(acc, &host->devices[i]);
	qsort(host->devices, host->count, sizeof *host->devices, compare_address);
	find_parents(paths, host);
	return 0;
}

int pt_pci_scan(const char *root, struct pt_pci_host *host, struct pt_report *rep)
{
	memset(host, 0, sizeof *host);

	_cleanup_free_ char *sysfs = pt_path_join(root, "/sys/bus/pci");
	_cleanup_free_ char *devices = pt_path_join(root, "/sys/bus/pci/devices");
	if (!sysfs || !devices)
		return -ENOMEM;
	struct stat st;
	if (stat(devices, &st) < 0 && (errno == ENOENT || errno == ENOTDIR))
		return 0; /* no PCI bus at all (a container, an empty root) */

	/* Allocated before setjmp: a longjmp must find nothing to release in
	 * scan_with_libpci's frame. */
	struct device_paths paths;
	if (device_paths_init(&paths, sysfs) < 0)
		return -ENOMEM;
	struct pci_access *acc = pci_alloc();
	if (!acc) {
		device_paths_release(&paths);
		return -ENOMEM;
	}
	acc->error = libpci_error;
	acc->warning = libpci_quiet;
	acc->debug = libpci_quiet;
	acc->method = PCI_ACCESS_SYS_BUS_PCI;

	jmp_buf jump;
	int r;
	if (setjmp(jump) == 0) {
		libpci_jump = &jump;
		r = scan_with_libpci(acc, sysfs, &paths, host);
	} else {
		r = pt_report_fail(rep, -EIO,
		                   "cannot read the PCI devices under %s: libpci: %s. The sysfs "
		                   "tree there is incomplete or unreadable; run as root on the "
		                   "host, or point root at a complete copy",
		                   sysfs, libpci_message);
	}
	/* From here a libpci error would jump into a dead frame: it aborts instead
	 * (pci_cleanup only frees). */
	libpci_jump = NULL;
	pci_cleanup(acc);
	device_paths_release(&paths);
	if (r < 0) {
		pt_pci_host_release(host);
		if (r == -ENOMEM)
			pt_report_fail(rep, r, "out of memory while reading the PCI devices");
	}
	return r;
}

const struct pt_pci_device *pt_pci_find(const struct pt_pci_host *host, const char *address)
{
	if (!host || !address)
		return NULL;
	size_t lo = 0, hi = host->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(host->devices[mid].address, address);
		if (c == 0)
			return &host->devices[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Read 1..max hex digits; returns the number read (0 when none). */
static int read_hex(const char **p, int max, unsigned *value)
{
	int n = 0;
	*value = 0;
	while (n < max && isxdigit((unsigned char)**p)) {
		char c = (char)tolower((unsigned char)**p);
		*value = *value * 16 + (unsigned)(c <= '9' ? c - '0' : c - 'a' + 10);
		(*p)++;
		n++;
	}
	return n;
}

int pt_pci_parse_address(const char *text, char out[PT_PCI_ADDR_LEN], int *function)
{
	if (!text)
		return -EINVAL;
	/* Count the colons to tell "dddd:bb:ss" from "bb:ss". */
	int colons = 0;
	for (const char *c = text; *c; c++)
		colons += *c == ':';
	if (colons < 1 || colons > 2)
		return -EINVAL;

	const char *p = text;
	unsigned domain = 0, bus, slot, func = 0;
	if (colons == 2) {
		if (!read_hex(&p, 4, &domain) || *p++ != ':')
			return -EINVAL;
	}
	if (!read_hex(&p, 2, &bus) || *p++ != ':')
		return -EINVAL;
	if (!read_hex(&p, 2, &slot) || slot > 0x1f)
		return -EINVAL;
	int fn = -1;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '7')
			return -EINVAL;
		func = (unsigned)(*p++ - '0');
		fn = (int)func;
	}
	if (*p)
		return -EINVAL;
	if (fn >= 0)
		snprintf(out, PT_PCI_ADDR_LEN, "%04x:%02x:%02x.%x", domain, bus, slot, func);
	else
		snprintf(out, PT_PCI_ADDR_LEN, "%04x:%02x:%02x", domain, bus, slot);
	if (function)
		*function = fn;
	return 0;
}

bool pt_pci_in_slot(const struct pt_pci_device *dev, const char *slot)
{
	/* "dddd:bb:ss" is 10 characters; the device address continues with '.'. */
	return dev && slot && strlen(slot) == 10 && strncmp(dev->address, slot, 10) == 0 &&
	       dev->address[10] == '.';
}

void pt_pci_id_string(int vendor, int device, char *buf, size_t size)
{
	if (!size)
		return;
	if (vendor < 0 || device < 0)
		buf[0] = '\0';
	else
		snprintf(buf, size, "%04x:%04x", (unsigned)vendor, (unsigned)device);
}
