/* libFuzzer harness: the one-pass pci.ids reader (module_utils/pci_names.h)
 * against libpci's own loader, the oracle it promises to match.
 *
 * Input: the whole of a pci.ids file, NUL bytes and all. The IDs looked up
 * come from the text itself, so the fuzzer reaches names that are there:
 * every vendor, device, subsystem pair, class and subclass a lenient scan
 * finds (whether or not the line is well-formed), a device and a subclass
 * each vendor and class lacks, and any "#= VVVV DDDD CCCC" comment line (hex,
 * fields optional) for IDs of the fuzzer's choosing. Invariants:
 *   - pt_pci_names_fill answers 0 or PT_PCI_NAMES_ASK_LIBPCI, never fails;
 *   - when it answers ASK_LIBPCI it has filled no name;
 *   - when it answers 0, libpci loads the same file without error (hwdb
 *     off, as pci.c asks it) and pci_lookup_name with PCI_LOOKUP_NO_NUMBERS
 *     gives each vendor, device and class name byte for byte (or NULL where
 *     the reader has none);
 *   - nothing leaks (LeakSanitizer). */
#include <pci/pci.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_check.h"
#include "pci.h"
#include "pci_names.h"
#include "../common/pci_names_oracle.h"

/* Devices in the synthetic host: enough for every kind of ID, few enough that
 * a run stays fast. */
#define MAX_IDS 24

/* The file under test: a memfd made once per process and rewritten for each
 * input, by a path both readers can open. */
static int ids_fd = -1;
static char ids_path[64];

/* libpci's error handler must not return (nor exit, as its default does): a
 * file the reader answered for that libpci rejects is a finding. */
static PCI_NONRET void libpci_error(char *msg, ...)
{
	va_list ap;
	va_start(ap, msg);
	fprintf(stderr, "libpci rejects a file pci_names answered for: ");
	vfprintf(stderr, msg, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	abort();
}

static void write_ids(const uint8_t *data, size_t size)
{
	if (ids_fd < 0) {
		ids_fd = memfd_create("pci.ids", MFD_CLOEXEC);
		check(ids_fd >= 0);
		snprintf(ids_path, sizeof ids_path, "/proc/self/fd/%d", ids_fd);
	}
	check(ftruncate(ids_fd, 0) == 0);
	size_t done = 0;
	while (done < size) {
		ssize_t n = pwrite(ids_fd, data + done, size - done, (off_t)done);
		check(n > 0);
		done += (size_t)n;
	}
}

struct id_sets {
	int pair[MAX_IDS][2]; /* vendor, device (-1: none) */
	int class_id[MAX_IDS];
	size_t n_pair, n_class;
};

static void add_pair(struct id_sets *s, int vendor, int device)
{
	if (s->n_pair < MAX_IDS) {
		s->pair[s->n_pair][0] = vendor;
		s->pair[s->n_pair][1] = device;
		s->n_pair++;
	}
}

static void add_class(struct id_sets *s, int class_id)
{
	if (s->n_class < MAX_IDS)
		s->class_id[s->n_class++] = class_id;
}

/* The value of n hex digits (either case) at p, all before end, or -1. */
static int hex_at(const char *p, const char *end, int n)
{
	if (end - p < n)
		return -1;
	int v = 0;
	for (int i = 0; i < n; i++) {
		char c = p[i];
		int d = c >= '0' && c <= '9'   ? c - '0'
		        : c >= 'a' && c <= 'f' ? c - 'a' + 10
		        : c >= 'A' && c <= 'F' ? c - 'A' + 10
		                               : -1;
		if (d < 0)
			return -1;
		v = v << 4 | d;
	}
	return v;
}

/* "#= VVVV DDDD CCCC": IDs to look up, each field optional. */
static void explicit_ids(struct id_sets *s, const char *p, const char *end)
{
	int v[3] = {-1, -1, -1};
	for (int i = 0; i < 3; i++) {
		while (p < end && *p == ' ')
			p++;
		v[i] = hex_at(p, end, 4);
		if (v[i] < 0)
			break;
		p += 4;
	}
	if (v[0] >= 0)
		add_pair(s, v[0], v[1]);
	if (v[2] >= 0)
		add_class(s, v[2]);
}

/* The IDs the text names or nearly names, line by line. */
static void scan_ids(const char *text, size_t size, struct id_sets *s)
{
	int vendor = -1, device = -1, base = -1;
	for (const char *line = text, *all = text + size; line < all;) {
		const char *end = memchr(line, '\n', (size_t)(all - line));
		if (!end)
			end = all;
		const char *p = line;
		while (p < end && *p == '\t')
			p++;
		size_t nest = (size_t)(p - line);
		int a, b;
		if (nest == 0 && end - p >= 2 && p[0] == '#' && p[1] == '=') {
			explicit_ids(s, p + 2, end);
		} else if (nest == 0 && end - p >= 2 && p[0] == 'C' && p[1] == ' ' &&
		           (a = hex_at(p + 2, end, 2)) >= 0) {
			base = a;
			vendor = -1;
			add_class(s, base << 8 | 0xfe); /* known only as a base class */
		} else if (nest == 0 && (a = hex_at(p, end, 4)) >= 0) {
			vendor = a;
			device = base = -1;
			add_pair(s, vendor, 0xfffe); /* a device it lacks */
		} else if (nest == 1 && vendor >= 0 && (a = hex_at(p, end, 4)) >= 0) {
			device = a;
			add_pair(s, vendor, device);
		} else if (nest == 1 && base >= 0 && (a = hex_at(p, end, 2)) >= 0) {
			add_class(s, base << 8 | a);
		} else if (nest == 2 && device >= 0 && end - p >= 9 &&
		           (a = hex_at(p, end, 4)) >= 0 && (b = hex_at(p + 5, end, 4)) >= 0) {
			/* a subsystem's IDs are no vendor or device of their own */
			add_pair(s, a, b);
		}
		line = end + 1;
	}
	if (!s->n_pair && !s->n_class) {
		add_pair(s, 0x1000, 0x0001);
		add_class(s, 0x0300);
	}
}

/* A host whose devices carry the IDs: pairs and classes side by side, then a
 * device with none and one with a vendor only. */
static void make_host(struct pt_pci_host *host, const struct id_sets *s)
{
	size_t n = (s->n_pair > s->n_class ? s->n_pair : s->n_class) + 2;
	host->devices = calloc(n, sizeof *host->devices);
	check(host->devices != NULL);
	host->count = n;
	for (size_t i = 0; i < n; i++) {
		struct pt_pci_device *d = &host->devices[i];
		snprintf(d->address, sizeof d->address, "0000:00:%02zx.%zx", (i >> 3) & 0x1f,
		         i & 7);
		d->vendor_id = d->device_id = d->class_id = -1;
		d->iommu_group = d->boot_vga = d->revision = d->prog_if = -1;
		d->subsys_vendor_id = d->subsys_device_id = -1;
		if (i + 2 < n) {
			if (s->n_pair) {
				d->vendor_id = s->pair[i % s->n_pair][0];
				d->device_id = s->pair[i % s->n_pair][1];
			}
			if (s->n_class)
				d->class_id = s->class_id[i % s->n_class];
		} else if (i + 1 == n && s->n_pair) {
			d->vendor_id = s->pair[0][0];
		}
	}
}

/* Every name against libpci's, loaded from the same file as pci.c loads it. */
static void check_with_libpci(const struct pt_pci_host *host)
{
	char *message = pci_names_oracle_differs(ids_path, host, libpci_error);
	if (message) {
		fprintf(stderr, "%s\n", message);
		check(!"the same name as libpci");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	write_ids(data, size);
	struct id_sets ids = {.n_pair = 0};
	scan_ids((const char *)data, size, &ids);
	struct pt_pci_host host;
	make_host(&host, &ids);

	int r = pt_pci_names_fill(ids_path, &host);
	check(r == 0 || r == PT_PCI_NAMES_ASK_LIBPCI);
	if (r == 0) {
		check_with_libpci(&host);
	} else {
		for (size_t i = 0; i < host.count; i++) {
			const struct pt_pci_device *d = &host.devices[i];
			check(!d->vendor_name && !d->device_name && !d->class_name);
		}
	}
	pt_pci_host_release(&host);
	return 0;
}
