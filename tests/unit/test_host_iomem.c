/* module_utils/host_iomem: /proc/iomem and a device's BARs, and which firmware
 * framebuffer lies in which BAR. The texts are the kernel's formats (r_show in
 * kernel/resource.c, resource_show in drivers/pci/pci-sysfs.c); the bad ones
 * are what a reader meets when it is not root, or reads a file cut short or a
 * root that is not a host: each must give "unknown", never a crash and never
 * "no framebuffer". */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "host_iomem.h"
#include "support/tmptree.h"

/* As a Proxmox VE 8 host booted with UEFI on its GPU shows it to root: the
 * BAR of 0000:01:00.0, the framebuffer sysfb registered (BOOTFB) and the
 * simpledrm claim inside it. */
static const char iomem_uefi[] = "00000000-00000fff : Reserved\n"
                                 "00001000-0009efff : System RAM\n"
                                 "00100000-5fffffff : System RAM\n"
                                 "  0c000000-0ce01e1f : Kernel code\n"
                                 "c0000000-febfffff : PCI Bus 0000:00\n"
                                 "  e0000000-f1ffffff : PCI Bus 0000:01\n"
                                 "    e0000000-efffffff : 0000:01:00.0\n"
                                 "      e0000000-e07e8fff : BOOTFB\n"
                                 "        e0000000-e07e8fff : simpledrm\n"
                                 "    f0000000-f1ffffff : 0000:01:00.0\n"
                                 "  f6000000-f70fffff : PCI Bus 0000:01\n"
                                 "    f6000000-f6ffffff : 0000:01:00.0\n"
                                 "fee00000-fee00fff : Local APIC\n"
                                 "100000000-87fffffff : System RAM\n";

/* The same file as a user who is not root reads it. */
static const char iomem_zeros[] = "00000000-00000000 : Reserved\n"
                                  "00000000-00000000 : System RAM\n"
                                  "  00000000-00000000 : Kernel code\n"
                                  "00000000-00000000 : PCI Bus 0000:00\n"
                                  "  00000000-00000000 : 0000:01:00.0\n"
                                  "    00000000-00000000 : BOOTFB\n";

/* The GPU's resource file: BAR 0 (32-bit), BAR 1 and 3 (64-bit prefetchable),
 * an I/O BAR 5, the ROM, then six SR-IOV lines. */
static const char resource_gpu[] = "0x00000000f6000000 0x00000000f6ffffff 0x0000000000040200\n"
                                   "0x00000000e0000000 0x00000000efffffff 0x000000000014220c\n"
                                   "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
                                   "0x00000000f0000000 0x00000000f1ffffff 0x000000000014220c\n"
                                   "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
                                   "0x000000000000e000 0x000000000000e07f 0x0000000000040101\n"
                                   "0x00000000f7000000 0x00000000f707ffff 0x0000000000046200\n"
                                   "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
                                   "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
                                   "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
                                   "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
                                   "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
                                   "0x0000000000000000 0x0000000000000000 0x0000000000000000\n";

static void test_parse_nested(void **state)
{
	(void)state;
	struct pt_iomem m;
	assert_int_equal(pt_iomem_parse(iomem_uefi, &m), 0);
	assert_int_equal(m.count, 14);
	assert_string_equal(m.ranges[7].name, "BOOTFB");
	assert_int_equal(m.ranges[7].depth, 3);
	assert_true(m.ranges[7].start == 0xe0000000ULL && m.ranges[7].end == 0xe07e8fffULL);
	assert_int_equal(m.ranges[8].depth, 4);
	assert_true(m.ranges[13].start == 0x100000000ULL); /* nine digits past 4 GiB */
	pt_iomem_release(&m);
	assert_int_equal(m.count, 0);
}

static void test_parse_bad(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int want;
		const char *why;
	} cases[] = {
	        {iomem_zeros, -ENODATA, "zeros: not root"},
	        {"", -ENODATA, "empty"},
	        {"00000000-00000fff : Reserved\n00001000-0009", -EINVAL, "cut in a line"},
	        {"00000000-00000fff : Reserved\n00001000-0009efff : Sys", -EINVAL, "cut in a name"},
	        {"c0000000-febfffff : PCI Bus\n    e0000000-efffffff : 0000:01:00.0\n", -EINVAL,
	         "a level skipped"},
	        {"c0000000-cfffffff : PCI Bus\n  e0000000-efffffff : 0000:01:00.0\n", -EINVAL,
	         "a child outside its parent"},
	        {"   e0000000-efffffff : odd indent\n", -EINVAL, "odd indentation"},
	        {"efffffff-e0000000 : backwards\n", -EINVAL, "start above end"},
	        {"e0000000-efffffff: no space\n", -EINVAL, "separator"},
	        {"e0000000 efffffff : x\n", -EINVAL, "no dash"},
	        {"0000000000000000e0000000-efffffff : x\n", -EINVAL, "more than 16 digits"},
	        {"hello\n", -EINVAL, "not iomem at all"},
	        {"\n", -EINVAL, "a blank line"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct pt_iomem m;
		int r = pt_iomem_parse(cases[i].text, &m);
		if (r != cases[i].want)
			fail_msg("%s: got %d, want %d", cases[i].why, r, cases[i].want);
		pt_iomem_release(&m);
	}
	struct pt_iomem m;
	assert_int_equal(pt_iomem_parse(NULL, &m), -EINVAL);
}

static void test_framebuffer_names(void **state)
{
	(void)state;
	static const char *const yes[] = {"BOOTFB",   "efifb",     "vesafb",
	                                  "simplefb", "simpledrm", "simple-framebuffer.0"};
	static const char *const no[] = {
	        "bootfb", "0000:01:00.0", "PCI Bus 0000:00", "System RAM", "vga+", "", "efifb2"};
	for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
		assert_true(pt_iomem_is_framebuffer(yes[i]));
	for (size_t i = 0; i < sizeof no / sizeof *no; i++)
		assert_false(pt_iomem_is_framebuffer(no[i]));
	assert_false(pt_iomem_is_framebuffer(NULL));
}

static void test_bars(void **state)
{
	(void)state;
	struct pt_pci_bars b;
	assert_int_equal(pt_pci_bars_parse(resource_gpu, &b), 0);
	assert_true(b.complete);
	assert_int_equal(b.lines, 6);
	assert_true(pt_pci_bar_is_memory(&b.bar[0]) && pt_pci_bar_is_memory(&b.bar[1]));
	assert_false(pt_pci_bar_is_memory(&b.bar[2])); /* unused */
	assert_false(pt_pci_bar_is_memory(&b.bar[5])); /* I/O */
	assert_true(b.bar[3].start == 0xf0000000ULL && b.bar[3].end == 0xf1ffffffULL);

	/* fewer lines: what was read is kept, and the file counts as incomplete */
	char shorter[256];
	memcpy(shorter, resource_gpu, 3 * 57);
	shorter[3 * 57] = '\0';
	assert_int_equal(pt_pci_bars_parse(shorter, &b), -EINVAL);
	assert_false(b.complete);
	assert_int_equal(b.lines, 3);
	/* a line cut short, garbage, an empty file, NULL */
	static const char *const bad[] = {
	        "0x00000000f6000000 0x00000000f6ffffff 0x0000000000040200", /* no newline */
	        "0x00000000f6000000 0x00000000f6ffffff\n",
	        "f6000000 f6ffffff 40200\n",
	        "0x00000000f6ffffff 0x00000000f6000000 0x0000000000040200\n",
	        "0x00000000f6000000  0x00000000f6ffffff 0x0000000000040200\n",
	        "\x01\x02\x03\n",
	        "",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		assert_int_equal(pt_pci_bars_parse(bad[i], &b), -EINVAL);
		assert_int_equal(b.lines, 0);
	}
	assert_int_equal(pt_pci_bars_parse(NULL, &b), -EINVAL);
}

static void test_framebuffer_in_bar(void **state)
{
	(void)state;
	struct pt_iomem m;
	struct pt_pci_bars b;
	assert_int_equal(pt_iomem_parse(iomem_uefi, &m), 0);
	assert_int_equal(pt_pci_bars_parse(resource_gpu, &b), 0);
	struct pt_framebuffer_hit hits[4];
	assert_int_equal(pt_iomem_framebuffers_in_bars(&m, &b, hits, 4), 2);
	assert_string_equal(hits[0].name, "BOOTFB");
	assert_int_equal(hits[0].bar, 1);
	assert_string_equal(hits[1].name, "simpledrm");
	assert_int_equal(pt_iomem_framebuffers_in_bars(&m, &b, hits, 1), 2); /* counted all */

	/* another card's BARs: none, and definite */
	struct pt_pci_bars other;
	assert_int_equal(pt_pci_bars_parse("0x00000000d0000000 0x00000000d0003fff 0x40200\n"
	                                   "0x0 0x0 0x0\n0x0 0x0 0x0\n0x0 0x0 0x0\n0x0 0x0 0x0\n"
	                                   "0x0 0x0 0x0\n",
	                                   &other),
	                 0);
	assert_int_equal(pt_iomem_framebuffers_in_bars(&m, &other, hits, 4), 0);

	/* only BAR 0 read (file cut short): no framebuffer there proves nothing */
	assert_int_equal(
	        pt_pci_bars_parse("0x00000000f6000000 0x00000000f6ffffff 0x0000000000040200\n", &b),
	        -EINVAL);
	assert_int_equal(pt_iomem_framebuffers_in_bars(&m, &b, hits, 4), -ENODATA);
	/* ...but one found in what was read is found */
	assert_int_equal(pt_pci_bars_parse("0x0 0x0 0x0\n"
	                                   "0x00000000e0000000 0x00000000efffffff 0x14220c\n",
	                                   &b),
	                 -EINVAL);
	assert_int_equal(pt_iomem_framebuffers_in_bars(&m, &b, hits, 4), 2);
	pt_iomem_release(&m);
}

static void test_read_from_root(void **state)
{
	(void)state;
	char root[256];
	assert_int_equal(tmptree_make(root, sizeof root, "host-iomem"), 0);
	struct pt_iomem m;
	struct pt_pci_bars b;
	assert_int_equal(pt_iomem_read(root, &m), -ENOENT);
	assert_int_equal(pt_pci_bars_read(root, "0000:01:00.0", &b), -ENOENT);
	tmptree_put(root, "proc/iomem", iomem_uefi);
	tmptree_put(root, "sys/bus/pci/devices/0000:01:00.0/resource", resource_gpu);
	assert_int_equal(pt_iomem_read(root, &m), 0);
	assert_int_equal(pt_pci_bars_read(root, "0000:01:00.0", &b), 0);
	pt_iomem_release(&m);
	/* cut short where the kernel would not cut: unknown */
	char cut[sizeof iomem_uefi];
	memcpy(cut, iomem_uefi, 200);
	cut[200] = '\0';
	tmptree_put(root, "proc/iomem", cut);
	assert_int_equal(pt_iomem_read(root, &m), -EINVAL);
	assert_int_equal(m.count, 0);
	tmptree_put(root, "proc/iomem", iomem_zeros);
	assert_int_equal(pt_iomem_read(root, &m), -ENODATA);
	pt_iomem_release(&m);
	assert_int_equal(tmptree_remove(root), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_parse_nested),       cmocka_unit_test(test_parse_bad),
	        cmocka_unit_test(test_framebuffer_names),  cmocka_unit_test(test_bars),
	        cmocka_unit_test(test_framebuffer_in_bar), cmocka_unit_test(test_read_from_root),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
