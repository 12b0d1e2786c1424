/* Layer: host I/O (reads the host under root). Included by device_evidence.c and
 * tests.
 *
 * Firmware framebuffers in /proc/iomem, and the BARs of a PCI device from its
 * sysfs `resource` file: which BAR, if any, holds memory that the boot
 * framebuffer still claims. Such a claim keeps vfio-pci from reserving the BAR
 * ("vfio-pci 0000:07:00.0: BAR 1: can't reserve [mem ...]" in the host's log)
 * and the guest shows a black screen. It happens to the GPU the firmware booted
 * on (boot_vga), when the host boots with UEFI or a VESA mode.
 *
 * Unknown is an answer here, never "no framebuffer": /proc/iomem shows every
 * address as 0 to a reader without CAP_SYS_ADMIN, and a file cut short or
 * garbled proves nothing. Those give a negative errno. */
#ifndef PT_HOST_IOMEM_H
#define PT_HOST_IOMEM_H

#include <stdbool.h>
#include <stddef.h>

/* One line of /proc/iomem: "  e0000000-efffffff : 0000:07:00.0". */
struct pt_iomem_range {
	unsigned long long start, end; /* inclusive, as the file shows them */
	unsigned depth;                /* nesting (two spaces a level): 0 at the top */
	char *name;                    /* owned */
};

struct pt_iomem {
	struct pt_iomem_range *ranges; /* in file order (owned) */
	size_t count;
};

/* Parse /proc/iomem text. Returns 0 and fills out (release with
 * pt_iomem_release, whatever the return), or:
 *   -EINVAL   a line that is not "<spaces>START-END : NAME", a start above its
 *             end, a nesting that skips a level or a range outside its parent,
 *             or a last line without its newline (the file was cut short);
 *   -ENODATA  every range reads 0-0 (the view of a reader that is not root)
 *             or there is none;
 *   -ENOMEM. */
int pt_iomem_parse(const char *text, struct pt_iomem *out);

/* Read and parse <root>/proc/iomem: pt_iomem_parse's answers, or the -errno
 * of the read (-ENOENT when there is no such file). */
int pt_iomem_read(const char *root, struct pt_iomem *out);

void pt_iomem_release(struct pt_iomem *iomem);

/* Whether a /proc/iomem name is a firmware framebuffer's claim. The kernel's
 * names: "BOOTFB" (the resource of the simple-framebuffer device that sysfb
 * registers for the firmware's framebuffer; drivers/firmware/sysfb_simplefb.c,
 * arch/x86/kernel/sysfb_simplefb.c before Linux 5.19), "efifb" and "vesafb"
 * (drivers/video/fbdev/efifb.c and vesafb.c, request_mem_region), "simplefb"
 * (drivers/video/fbdev/simplefb.c), "simpledrm" (drivers/gpu/drm/tiny/
 * simpledrm.c, its driver name) and "simple-framebuffer.N" (the platform device's
 * name, which a resource without a name of its own takes). */
bool pt_iomem_is_framebuffer(const char *name);

/* The six standard BARs of a device, from its sysfs `resource` file: one line
 * per resource, "0x<start> 0x<end> 0x<flags>" (BAR 0 to 5, then the ROM, then
 * bridge windows or SR-IOV BARs). */
#define PT_PCI_STD_BARS 6

struct pt_pci_bar {
	unsigned long long start, end, flags; /* all 0 for an unused BAR */
};

struct pt_pci_bars {
	struct pt_pci_bar bar[PT_PCI_STD_BARS];
	size_t lines;  /* BAR lines read (0..6) */
	bool complete; /* all six were there and well formed */
};

/* Parse a resource file's text. Lines after the sixth are not looked at; a line
 * that is not three hex numbers ends the parse there. Always fills out. Returns
 * 0 when the six BARs were read, -EINVAL when fewer were (out->complete false;
 * the BARs read are kept). */
int pt_pci_bars_parse(const char *text, struct pt_pci_bars *out);

/* Read <root>/sys/bus/pci/devices/<address>/resource and parse it. Returns as
 * pt_pci_bars_parse, or the -errno of the read (out->lines is 0 then). */
int pt_pci_bars_read(const char *root, const char *address, struct pt_pci_bars *out);

/* Whether a BAR maps memory (IORESOURCE_MEM in its flags, and a range). */
bool pt_pci_bar_is_memory(const struct pt_pci_bar *bar);

/* The first memory BAR of bars that overlaps start..end (inclusive): its index
 * (0..5), or -1 when none does. */
int pt_pci_bar_overlapping(const struct pt_pci_bars *bars, unsigned long long start,
                           unsigned long long end);

/* A firmware framebuffer range that lies in (overlaps) one of the device's
 * memory BARs. name is borrowed from the pt_iomem it was found in. */
struct pt_framebuffer_hit {
	const char *name;
	unsigned long long start, end;
	int bar; /* 0..5 */
};

/* The firmware framebuffer ranges of iomem that overlap a memory BAR of bars,
 * in iomem's order, the first max of them into hits. Returns how many there
 * are (0: none, which is definite only when bars is complete), or -ENODATA when
 * there is none in the BARs read and bars is not complete. */
int pt_iomem_framebuffers_in_bars(const struct pt_iomem *iomem, const struct pt_pci_bars *bars,
                                  struct pt_framebuffer_hit *hits, size_t max);

#endif
