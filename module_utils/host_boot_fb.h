/* Layer: host I/O (reads the host under root). Included by device_evidence.c and
 * tests.
 *
 * The framebuffer the firmware handed the kernel at boot: screen_info, the first
 * 64 bytes of the x86 boot parameters that /sys/kernel/boot_params/data holds
 * for the whole uptime (arch/x86/kernel/ksysfs.c; readable by root only). It
 * says where the UEFI GOP or VESA linear framebuffer was, even after the card's
 * own driver (nouveau, amdgpu, bochs-drm) has taken the memory over and
 * /proc/iomem no longer shows efifb or BOOTFB there. That is the normal state of
 * a host before the role runs, and the framebuffer comes back on the first boot
 * after it: with vfio-pci claiming the card instead of its driver, sysfb
 * registers the firmware framebuffer again and efifb or simpledrm holds the BAR
 * (seen on Debian 13's 6.12 kernel in an OVMF guest: "efifb: framebuffer at
 * 0xc0000000" in the log, bochs-drm in /proc/iomem). */
#ifndef PT_HOST_BOOT_FB_H
#define PT_HOST_BOOT_FB_H

#include <stddef.h>

/* screen_info's orig_video_isVGA values for a linear framebuffer
 * (include/uapi/linux/screen_info.h): the two kinds sysfb registers. */
#define PT_BOOT_FB_VESA 0x23 /* VIDEO_TYPE_VLFB: a VESA mode set by the BIOS */
#define PT_BOOT_FB_EFI  0x70 /* VIDEO_TYPE_EFI: the UEFI GOP framebuffer */

struct pt_boot_fb {
	unsigned type;                 /* PT_BOOT_FB_VESA or PT_BOOT_FB_EFI */
	unsigned long long start, end; /* the memory it covers, end inclusive */
	unsigned width, height, depth; /* the mode, in pixels and bits */
};

/* Parse boot_params data (at least screen_info's 64 bytes). Returns 1 and fills
 * out when the kernel booted on a linear framebuffer; 0 when not (text mode, or
 * no framebuffer: what a BIOS host without a VESA mode and a headless host
 * show); -EINVAL when len is shorter than screen_info or the framebuffer has no
 * base or no size. The size is the larger of lfb_size (bytes for EFI, 64 KiB
 * units for VESA, as efifb.c and vesafb.c read it) and lfb_linelength times
 * lfb_height; the base takes ext_lfb_base as its high half when capabilities
 * has VIDEO_CAPABILITY_64BIT_BASE. */
int pt_boot_fb_parse(const unsigned char *data, size_t len, struct pt_boot_fb *out);

/* Read <root>/sys/kernel/boot_params/data and parse it: pt_boot_fb_parse's
 * answers, or the -errno of the read: -ENOENT (no such file: not x86, or a
 * sandbox that does not describe it), -EACCES (not root). */
int pt_boot_fb_read(const char *root, struct pt_boot_fb *out);

/* "EFI" or "VESA" for a pt_boot_fb type. */
const char *pt_boot_fb_kind(unsigned type);

#endif
