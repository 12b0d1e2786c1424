/* Names from pci.ids for the IDs a host has, as libpci's pci_lookup_name gives
 * them, in one pass over the file (see pci_names.h for why and when).
 *
 * What libpci 3.x does with the file, and so what this reader must match:
 * every line is cut at the first '\n' or '\r' and loses one trailing blank
 * (' ' or '\t'); blank lines and lines whose first non-blank is '#' are
 * skipped; leading tabs give the nesting. A top-level line is a class
 * ("C xx  name"), a generic subsystem block ("S xxxx"), a reserved block (an
 * upper-case letter and a space) or a vendor ("xxxx  name"); under a vendor,
 * one tab is a device and two a subsystem; under a class, one tab is a
 * subclass and two a programming interface. An ID is exactly 4 (2 for
 * classes) hex digits of either case followed by a blank; the name is what
 * follows the blanks after it and may not be empty. A malformed line, a line
 * of 1023 characters or more, or a duplicate entry makes libpci fail the
 * whole load.
 *
 * This reader accepts only files it can answer for exactly: plain text (no
 * gzip data, no NUL or '\r' byte), no line of 1000 characters or more, no
 * generic subsystem or reserved block, no programming interface directly under
 * a class, and every level in strictly increasing order (vendors, devices
 * within a vendor, subsystems within a device, classes, subclasses,
 * interfaces): then no entry can be a duplicate, so libpci would load the file
 * without error and find each name where this reader finds it. Real pci.ids
 * files are kept sorted that way. Anything else goes to libpci. */
#include "pci_names.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

/* libpci reads lines into a 1024-byte buffer: longer ones fail its load. */
#define LONGEST_LINE 1000
/* pci_lookup_name fills a caller's buffer; pci.c gives it 256 bytes. */
#define LIBPCI_NAME_BUF 256
/* A pci.ids is about 1.4 MB; past this it is not one. */
#define LARGEST_FILE (64u << 20)

/* The per-line helpers run some 50,000 times a scan: inlined even at -Os
 * (as calls they were two thirds of the reader's cost). */
#define PER_LINE static inline __attribute__((always_inline))

/* An ID the host has, and where its name lies in the file (NULL: none). */
struct wanted {
	uint32_t key; /* vendor; vendor << 16 | device; class >> 8; class */
	const char *name;
	size_t len;
};

struct wanted_list {
	struct wanted *items;
	size_t n;
	size_t next; /* the pass's position: keys before it are behind the file's */
};

/* The position of key in the sorted list, or where it would go. */
static size_t position(const struct wanted_list *list, uint32_t key)
{
	size_t lo = 0, hi = list->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (list->items[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Add key, keeping the list sorted and without duplicates (a host has a few
 * dozen distinct IDs among its devices: cheaper than sorting them all). The
 * items array has room for every device. */
static void want(struct wanted_list *list, uint32_t key)
{
	size_t at = position(list, key);
	if (at < list->n && list->items[at].key == key)
		return;
	memmove(list->items + at + 1, list->items + at, (list->n - at) * sizeof *list->items);
	list->items[at] = (struct wanted){.key = key};
	list->n++;
}

/* The file's keys come in increasing order (checked), so one pointer per list
 * walks both sequences together. */
PER_LINE void offer(struct wanted_list *list, uint32_t key, const char *name, size_t len)
{
	while (list->next < list->n && list->items[list->next].key < key)
		list->next++;
	if (list->next < list->n && list->items[list->next].key == key) {
		list->items[list->next].name = name;
		list->items[list->next].len = len;
	}
}

static const struct wanted *find(const struct wanted_list *list, uint32_t key)
{
	size_t at = position(list, key);
	return at < list->n && list->items[at].key == key ? &list->items[at] : NULL;
}

/* 0x10 | a hex digit's value; 0 for any other byte. */
static const unsigned char hex_value[256] = {
        ['0'] = 0x10, ['1'] = 0x11, ['2'] = 0x12, ['3'] = 0x13, ['4'] = 0x14, ['5'] = 0x15,
        ['6'] = 0x16, ['7'] = 0x17, ['8'] = 0x18, ['9'] = 0x19, ['a'] = 0x1a, ['b'] = 0x1b,
        ['c'] = 0x1c, ['d'] = 0x1d, ['e'] = 0x1e, ['f'] = 0x1f, ['A'] = 0x1a, ['B'] = 0x1b,
        ['C'] = 0x1c, ['D'] = 0x1d, ['E'] = 0x1e, ['F'] = 0x1f,
};

PER_LINE bool blank(char c)
{
	return c == ' ' || c == '\t';
}

/* An ID of 2 or 4 hex digits at p followed by a blank, all before end: its
 * value, or -1. */
PER_LINE long id_field(const char *p, const char *end, int count)
{
	if (end - p <= count || !blank(p[count]))
		return -1;
	const unsigned char *u = (const unsigned char *)p;
	unsigned a = hex_value[u[0]], b = hex_value[u[1]];
	if (count == 2)
		return (a & b & 0x10) ? (long)((a & 0xf) << 4 | (b & 0xf)) : -1;
	unsigned c = hex_value[u[2]], d = hex_value[u[3]];
	if (!(a & b & c & d & 0x10))
		return -1;
	return (long)((a & 0xf) << 12 | (b & 0xf) << 8 | (c & 0xf) << 4 | (d & 0xf));
}

/* The name after an ID field that ends at p: past the blanks, to end. False
 * when it is empty (a line libpci rejects). */
PER_LINE bool name_field(const char *p, const char *end, const char **name, size_t *len)
{
	while (p < end && blank(*p))
		p++;
	*name = p;
	*len = (size_t)(end - p);
	return p < end;
}

enum context { NONE, VENDOR, DEVICE, SUBSYSTEM, CLASS, SUBCLASS, INTERFACE };

struct pass {
	struct wanted_list vendors, devices, classes, subclasses;
	enum context at;
	long vendor, device, subsystem, class_id, subclass, interface; /* last seen; -1 none */
};

/* One line without its '\n'. 0, or PT_PCI_NAMES_ASK_LIBPCI. */
PER_LINE int read_line(struct pass *s, const char *line, const char *end)
{
	if (end - line >= LONGEST_LINE)
		return PT_PCI_NAMES_ASK_LIBPCI;
	if (end > line && blank(end[-1]))
		end--;
	const char *p = line;
	while (p < end && *p == '\t')
		p++;
	size_t nest = (size_t)(p - line);
	if (p == end || *p == '#')
		return 0; /* blank or a comment */
	if (*p == ' ') {
		/* blanks, then a comment or nothing; else no ID where libpci
		 * wants one */
		while (p < end && blank(*p))
			p++;
		return p == end || *p == '#' ? 0 : PT_PCI_NAMES_ASK_LIBPCI;
	}
	const char *name;
	size_t len;
	long id, id2;

	if (nest == 0) {
		if (p[0] == 'C' && p + 1 < end && p[1] == ' ') {
			id = id_field(p + 2, end, 2);
			if (id <= s->class_id || !name_field(p + 5, end, &name, &len))
				return PT_PCI_NAMES_ASK_LIBPCI;
			s->at = CLASS;
			s->class_id = id;
			s->subclass = -1;
			offer(&s->classes, (uint32_t)id, name, len);
			return 0;
		}
		if (p[0] >= 'A' && p[0] <= 'Z' && p + 1 < end && p[1] == ' ')
			return PT_PCI_NAMES_ASK_LIBPCI; /* S (generic subsystems) or reserved */
		id = id_field(p, end, 4);
		if (id <= s->vendor || !name_field(p + 5, end, &name, &len))
			return PT_PCI_NAMES_ASK_LIBPCI;
		s->at = VENDOR;
		s->vendor = id;
		s->device = -1;
		offer(&s->vendors, (uint32_t)id, name, len);
		return 0;
	}
	if (nest == 1 && (s->at == VENDOR || s->at == DEVICE || s->at == SUBSYSTEM)) {
		id = id_field(p, end, 4);
		if (id <= s->device || !name_field(p + 5, end, &name, &len))
			return PT_PCI_NAMES_ASK_LIBPCI;
		s->at = DEVICE;
		s->device = id;
		s->subsystem = -1;
		offer(&s->devices, (uint32_t)(s->vendor << 16 | id), name, len);
		return 0;
	}
	if (nest == 1 && (s->at == CLASS || s->at == SUBCLASS || s->at == INTERFACE)) {
		id = id_field(p, end, 2);
		if (id <= s->subclass || !name_field(p + 3, end, &name, &len))
			return PT_PCI_NAMES_ASK_LIBPCI;
		s->at = SUBCLASS;
		s->subclass = id;
		s->interface = -1;
		offer(&s->subclasses, (uint32_t)(s->class_id << 8 | id), name, len);
		return 0;
	}
	if (nest == 2 && (s->at == DEVICE || s->at == SUBSYSTEM)) {
		id = id_field(p, end, 4);
		id2 = id >= 0 ? id_field(p + 5, end, 4) : -1;
		if (id2 < 0 || (id << 16 | id2) <= s->subsystem ||
		    !name_field(p + 10, end, &name, &len))
			return PT_PCI_NAMES_ASK_LIBPCI;
		s->at = SUBSYSTEM;
		s->subsystem = id << 16 | id2;
		return 0;
	}
	if (nest == 2 && (s->at == SUBCLASS || s->at == INTERFACE)) {
		id = id_field(p, end, 2);
		if (id <= s->interface || !name_field(p + 3, end, &name, &len))
			return PT_PCI_NAMES_ASK_LIBPCI;
		s->at = INTERFACE;
		s->interface = id;
		return 0;
	}
	/* deeper nesting, a nested line before any block, or an interface
	 * directly under a class */
	return PT_PCI_NAMES_ASK_LIBPCI;
}

/* The whole file, mapped rather than read: copying its 1.4 MB out of the page
 * cache was a twentieth of a run. 0 and *data (release with munmap(*data,
 * *size)), or PT_PCI_NAMES_ASK_LIBPCI. The file is replaced by rename when it
 * changes (dpkg, update-pciids), never rewritten in place, so the mapping keeps
 * the file it was made from. */
static int map_ids_file(const char *path, const char **data, size_t *size)
{
	*data = NULL;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (unsigned long long)st.st_size >= LARGEST_FILE)
		return PT_PCI_NAMES_ASK_LIBPCI;
	void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	if (map == MAP_FAILED)
		return PT_PCI_NAMES_ASK_LIBPCI;
	*data = map;
	*size = (size_t)st.st_size;
	return 0;
}

/* Every line of the file, the wanted names noted. 0, or PT_PCI_NAMES_ASK_LIBPCI. */
static int read_lines(struct pass *s, const char *data, size_t size)
{
	if (memchr(data, '\0', size) || memchr(data, '\r', size))
		return PT_PCI_NAMES_ASK_LIBPCI;
	int r = 0;
	for (const char *line = data, *end = data + size; r == 0 && line < end;) {
		const char *eol = memchr(line, '\n', (size_t)(end - line));
		if (!eol)
			eol = end;
		r = read_line(s, line, eol);
		line = eol + 1;
	}
	return r;
}

/* The string pci_lookup_name would have put in its 256-byte buffer: the name,
 * for a class found only as a base class followed by " [cccc]", and cut to
 * 252 characters and "..." when that does not fit. Caller frees. */
static char *libpci_string(const char *name, size_t len, int class_id)
{
	char text[LONGEST_LINE + 16];
	memcpy(text, name, len);
	if (class_id >= 0)
		len += (size_t)snprintf(text + len, sizeof text - len, " [%04x]",
		                        (unsigned)class_id & 0xffffu);
	text[len] = '\0';
	if (len >= LIBPCI_NAME_BUF) {
		memcpy(text + LIBPCI_NAME_BUF - 4, "...", 4);
		len = LIBPCI_NAME_BUF - 1;
	}
	return strndup(text, len);
}

static int set_name(char **out, const struct wanted *w, int class_id)
{
	if (!w || !w->name)
		return 0;
	*out = libpci_string(w->name, w->len, class_id);
	return *out ? 0 : -ENOMEM;
}

static void release_pass(struct pass *s)
{
	free(s->vendors.items);
	free(s->devices.items);
	free(s->classes.items);
	free(s->subclasses.items);
}

/* The IDs the host's devices have, sorted. False when out of memory. */
static bool want_ids(struct pass *s, const struct pt_pci_host *host)
{
	size_t n = host->count ? host->count : 1;
	s->vendors.items = calloc(n, sizeof(struct wanted));
	s->devices.items = calloc(n, sizeof(struct wanted));
	s->classes.items = calloc(n, sizeof(struct wanted));
	s->subclasses.items = calloc(n, sizeof(struct wanted));
	if (!s->vendors.items || !s->devices.items || !s->classes.items || !s->subclasses.items)
		return false;
	for (size_t i = 0; i < host->count; i++) {
		const struct pt_pci_device *d = &host->devices[i];
		if (d->vendor_id >= 0) {
			want(&s->vendors, (uint32_t)d->vendor_id);
			if (d->device_id >= 0)
				want(&s->devices,
				     (uint32_t)d->vendor_id << 16 | (uint32_t)d->device_id);
		}
		if (d->class_id >= 0) {
			want(&s->classes, (uint32_t)d->class_id >> 8);
			want(&s->subclasses, (uint32_t)d->class_id);
		}
	}
	return true;
}

int pt_pci_names_fill(const char *ids_file, struct pt_pci_host *host)
{
	struct pass s = {.at = NONE,
	                 .vendor = -1,
	                 .device = -1,
	                 .subsystem = -1,
	                 .class_id = -1,
	                 .subclass = -1,
	                 .interface = -1};
	if (!want_ids(&s, host)) {
		release_pass(&s);
		return -ENOMEM;
	}
	if (!s.vendors.n && !s.classes.n) {
		release_pass(&s); /* libpci would not have opened the file either */
		return 0;
	}

	const char *data = NULL;
	size_t size = 0;
	int r = map_ids_file(ids_file, &data, &size);
	if (r == 0 && size >= 2 && (unsigned char)data[0] == 0x1f && (unsigned char)data[1] == 0x8b)
		r = PT_PCI_NAMES_ASK_LIBPCI; /* gzip: libpci inflates it */
	if (r == 0)
		r = read_lines(&s, data, size);

	for (size_t i = 0; r == 0 && i < host->count; i++) {
		struct pt_pci_device *d = &host->devices[i];
		if (d->vendor_id >= 0) {
			r = set_name(&d->vendor_name, find(&s.vendors, (uint32_t)d->vendor_id), -1);
			if (r == 0 && d->device_id >= 0)
				r = set_name(&d->device_name,
				             find(&s.devices, (uint32_t)d->vendor_id << 16 |
				                                      (uint32_t)d->device_id),
				             -1);
		}
		if (r == 0 && d->class_id >= 0) {
			/* the subclass's name, else the base class's with the number */
			const struct wanted *w = find(&s.subclasses, (uint32_t)d->class_id);
			if (w && w->name)
				r = set_name(&d->class_name, w, -1);
			else
				r = set_name(&d->class_name,
				             find(&s.classes, (uint32_t)d->class_id >> 8),
				             d->class_id);
		}
	}
	release_pass(&s);
	if (data)
		munmap((void *)data, size);
	return r;
}
