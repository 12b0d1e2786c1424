/* module_utils/pci_names: names from pci.ids as libpci gives them. The oracle
 * is libpci itself (pci_lookup_name, hwdb off, as pci.c asks it): every vendor,
 * device and class of the system's pci.ids, IDs it lacks, and small files
 * made here for the corners of the format (blanks, comments, upper-case hex,
 * long names, classes known only by their base class). Files the reader must
 * leave to libpci (gzip, CR, NUL, disorder, duplicates, block types it does
 * not read, long lines) must give PT_PCI_NAMES_ASK_LIBPCI and no names. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pci.h"
#include "pci_names.h"
#include "support/tmptree.h"
#include "../common/pci_names_oracle.h"

#define SYSTEM_IDS "/usr/share/misc/pci.ids"

static char dir[256];

static int setup(void **state)
{
	(void)state;
	return tmptree_make(dir, sizeof dir, "pci-names");
}

static int teardown(void **state)
{
	(void)state;
	return tmptree_remove(dir);
}

/* A host of n devices with the given IDs (-1: unknown). */
struct ids {
	int vendor, device, class_id;
};

static void make_host(struct pt_pci_host *host, const struct ids *ids, size_t n)
{
	host->devices = calloc(n ? n : 1, sizeof *host->devices);
	assert_non_null(host->devices);
	host->count = n;
	for (size_t i = 0; i < n; i++) {
		struct pt_pci_device *d = &host->devices[i];
		snprintf(d->address, sizeof d->address, "0000:%02zx:%02zx.%zx", (i >> 8) & 0xff,
		         (i >> 3) & 0x1f, i & 7);
		d->vendor_id = ids[i].vendor;
		d->device_id = ids[i].device;
		d->class_id = ids[i].class_id;
		d->iommu_group = d->boot_vga = d->revision = d->prog_if = -1;
		d->subsys_vendor_id = d->subsys_device_id = -1;
	}
}

/* Fill host's names from file, then check each against libpci on that file. */
static void assert_names_as_libpci(const char *file, struct pt_pci_host *host)
{
	assert_int_equal(pt_pci_names_fill(file, host), 0);
	char *message = pci_names_oracle_differs(file, host, NULL);
	if (message)
		fail_msg("%s", message);
}

static bool hex_at(const char *p, int n, int *value)
{
	*value = 0;
	for (int i = 0; i < n; i++) {
		char c = p[i];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (v < 0)
			return false;
		*value = *value * 16 + v;
	}
	return true;
}

/* Every device and class of the system's pci.ids, each vendor with a device it
 * lacks, vendors and classes it lacks, and unknown IDs. */
static void test_system_ids(void **state)
{
	(void)state;
	FILE *f = fopen(SYSTEM_IDS, "r");
	if (!f) {
		skip(); /* pciutils not installed: nothing to compare with */
		return;
	}
	size_t cap = 1 << 16, n = 0;
	struct ids *ids = calloc(cap, sizeof *ids);
	int classes[4096], n_classes = 0;
	assert_non_null(ids);
	char line[1024];
	int vendor = -1, base = -1, v;
	while (fgets(line, sizeof line, f) && n + 4 < cap) {
		if (line[0] == 'C' && line[1] == ' ' && hex_at(line + 2, 2, &v)) {
			base = v;
			vendor = -1;
			if (n_classes < 4000) {
				classes[n_classes++] = base << 8 | 0xfe; /* no such subclass */
			}
		} else if (line[0] == '\t' && line[1] != '\t' && base >= 0 &&
		           hex_at(line + 1, 2, &v)) {
			if (n_classes < 4000)
				classes[n_classes++] = base << 8 | v;
		} else if (line[0] != '\t' && hex_at(line, 4, &v)) {
			vendor = v;
			base = -1;
			ids[n++] = (struct ids){vendor, 0xfffe, -1}; /* a device it lacks */
		} else if (line[0] == '\t' && line[1] != '\t' && vendor >= 0 &&
		           hex_at(line + 1, 4, &v)) {
			ids[n++] = (struct ids){vendor, v, -1};
		}
	}
	fclose(f);
	assert_true(n > 1000);
	assert_true(n_classes > 20);
	/* classes onto the devices, round and round, then the odd cases */
	for (size_t i = 0; i < n; i++)
		ids[i].class_id = classes[i % (size_t)n_classes];
	ids[n++] = (struct ids){0xfffe, 0x1234, 0xfe00}; /* unknown vendor and class */
	ids[n++] = (struct ids){-1, -1, -1};
	ids[n++] = (struct ids){0x10de, -1, 0x0300};
	struct pt_pci_host host;
	make_host(&host, ids, n);
	assert_names_as_libpci(SYSTEM_IDS, &host);
	pt_pci_host_release(&host);
	free(ids);
}

static char *file_with(const char *name, const char *text)
{
	static char path[512];
	tmptree_put(dir, name, text);
	snprintf(path, sizeof path, "%s/%s", dir, name);
	return path;
}

/* The corners of the format that libpci accepts. */
static void test_format_corners(void **state)
{
	(void)state;
	char long_name[400];
	memset(long_name, 'x', sizeof long_name - 1);
	long_name[sizeof long_name - 1] = '\0';
	char text[4096];
	snprintf(text, sizeof text,
	         "# comment\n"
	         "\t# indented comment\n"
	         " \t \n"
	         "\n"
	         "1234  Vendor One \n"
	         "\t0001  Device with a trailing tab\t\n"
	         "\t0002  Device   two  trailing blanks  \n"
	         "\t\t1111 2222  A subsystem\n"
	         "\t\t1111 2223\tTabbed subsystem\n"
	         "\t0003\tTab after the ID\n"
	         "\t00A4  Upper-case device\n"
	         "5678  %s\n"
	         "\t0001  %s\n"
	         "ABCD  Upper-case vendor\n"
	         "C 03  Display controller\n"
	         "\t00  VGA compatible controller\n"
	         "\t\t00  VGA controller\n"
	         "\t80  Display controller\n"
	         "C 0c  Serial bus controller\n"
	         "\t03  USB controller\n"
	         "\t\t30  XHCI\n"
	         "C fe  %s",
	         long_name, long_name, long_name);
	const char *file = file_with("corners.ids", text);
	static const struct ids ids[] = {
	        {0x1234, 0x0001, 0x0300}, {0x1234, 0x0002, 0x0302}, {0x1234, 0x0003, 0x0380},
	        {0x1234, 0x00a4, 0x0c03}, {0x1234, 0x0005, 0x0c05}, {0x5678, 0x0001, 0xfe01},
	        {0xabcd, 0x0001, 0x0d00}, {0x1111, 0x2222, 0x0300}, {0x1234, -1, -1},
	};
	struct pt_pci_host host;
	make_host(&host, ids, sizeof ids / sizeof *ids);
	assert_names_as_libpci(file, &host);
	/* spot checks, so that a libpci change cannot hide a reader's */
	assert_string_equal(host.devices[0].vendor_name, "Vendor One");
	assert_string_equal(host.devices[1].device_name, "Device   two  trailing blanks ");
	assert_string_equal(host.devices[1].class_name, "Display controller [0302]");
	assert_string_equal(host.devices[3].device_name, "Upper-case device");
	assert_int_equal(strlen(host.devices[5].vendor_name), 255);
	assert_string_equal(host.devices[5].vendor_name + 252, "...");
	assert_null(host.devices[6].class_name);
	pt_pci_host_release(&host);
}

/* Files the reader does not vouch for: libpci answers (or fails) for them. */
static void test_asks_libpci(void **state)
{
	(void)state;
	static const struct {
		const char *why, *text;
		size_t len; /* 0: strlen */
	} files[] = {
	        {"gzip data", "\x1f\x8b\x08\x00rest", 0},
	        {"CR line ends", "1234  Vendor\r\n\t0001  Device\r\n", 0},
	        {"a NUL byte", "1234  Ven\0dor\n", 14},
	        {"vendors out of order", "2000  B\n1000  A\n", 0},
	        {"a duplicate vendor", "1000  A\n1000  A again\n", 0},
	        {"devices out of order", "1000  A\n\t0002  b\n\t0001  a\n", 0},
	        {"a duplicate subsystem",
	         "1000  A\n\t0001  a\n\t\t0001 0002  x\n\t\t0001 0002  x\n", 0},
	        {"subsystems out of order",
	         "1000  A\n\t0001  a\n\t\t2222 0001  y\n\t\t1111 0001  x\n", 0},
	        {"classes out of order", "C 03  Display\nC 02  Network\n", 0},
	        {"a generic subsystem block", "1000  A\nS 1000\n\t0001  x\n", 0},
	        {"a reserved block", "1000  A\nX 12  Something\n", 0},
	        {"an interface right under a class", "C 03  Display\n\t\t00  VGA\n", 0},
	        {"nesting three deep", "1000  A\n\t0001  a\n\t\t1000 0001  s\n\t\t\tx\n", 0},
	        {"a subsystem under a vendor", "1000  A\n\t\t1000 0001  s\n", 0},
	        {"a device before any vendor", "\t0001  a\n", 0},
	        {"an ID of three digits", "100  A\n", 0},
	        {"no blank after the ID", "1000A\n", 0},
	        {"an empty name", "1000  \n", 0},
	        {"a space before the ID", " 1000  A\n", 0},
	};
	static const struct ids ids[] = {{0x1000, 0x0001, 0x0300}};
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		char name[32];
		snprintf(name, sizeof name, "ask-%zu.ids", i);
		char path[512];
		snprintf(path, sizeof path, "%s/%s", dir, name);
		size_t len = files[i].len ? files[i].len : strlen(files[i].text);
		tmptree_write(path, files[i].text, len, 0644);
		struct pt_pci_host host;
		make_host(&host, ids, 1);
		int r = pt_pci_names_fill(path, &host);
		if (r != PT_PCI_NAMES_ASK_LIBPCI)
			fail_msg("%s: %d, want PT_PCI_NAMES_ASK_LIBPCI", files[i].why, r);
		assert_null(host.devices[0].vendor_name);
		assert_null(host.devices[0].device_name);
		assert_null(host.devices[0].class_name);
		pt_pci_host_release(&host);
	}

	/* a line of 1000 characters or more (libpci fails at 1023) */
	static char name_2000[2001], text[2100];
	memset(name_2000, 'n', sizeof name_2000 - 1);
	snprintf(text, sizeof text, "1000  %s\n", name_2000);
	const char *path = file_with("long-line.ids", text);
	struct pt_pci_host host;
	make_host(&host, ids, 1);
	assert_int_equal(pt_pci_names_fill(path, &host), PT_PCI_NAMES_ASK_LIBPCI);
	pt_pci_host_release(&host);

	/* a missing file, an empty one: libpci gives no names for either */
	char missing[512];
	snprintf(missing, sizeof missing, "%s/no-such.ids", dir);
	make_host(&host, ids, 1);
	assert_int_equal(pt_pci_names_fill(missing, &host), PT_PCI_NAMES_ASK_LIBPCI);
	pt_pci_host_release(&host);
	make_host(&host, ids, 1);
	assert_int_equal(pt_pci_names_fill(file_with("empty.ids", ""), &host),
	                 PT_PCI_NAMES_ASK_LIBPCI);
	pt_pci_host_release(&host);
}

/* Devices without IDs need no file: none is read, so none can fail. */
static void test_nothing_to_name(void **state)
{
	(void)state;
	static const struct ids ids[] = {{-1, -1, -1}, {-1, 0x1234, -1}};
	struct pt_pci_host host;
	make_host(&host, ids, 2);
	assert_int_equal(pt_pci_names_fill("/nonexistent/pci.ids", &host), 0);
	assert_null(host.devices[0].vendor_name);
	assert_null(host.devices[1].device_name);
	pt_pci_host_release(&host);
	struct pt_pci_host empty = {NULL, 0};
	assert_int_equal(pt_pci_names_fill("/nonexistent/pci.ids", &empty), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_system_ids),
	        cmocka_unit_test(test_format_corners),
	        cmocka_unit_test(test_asks_libpci),
	        cmocka_unit_test(test_nothing_to_name),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
