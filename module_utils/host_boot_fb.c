/* The firmware framebuffer at boot (see host_boot_fb.h). Offsets and units are
 * those of struct screen_info (include/uapi/linux/screen_info.h), which is
 * packed and little-endian on x86. */
#include "host_boot_fb.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "cleanup.h"
#include "host_files.h"

#define SCREEN_INFO_SIZE      0x40
#define OFF_IS_VGA            0x0f
#define OFF_WIDTH             0x12
#define OFF_HEIGHT            0x14
#define OFF_DEPTH             0x16
#define OFF_BASE              0x18
#define OFF_SIZE              0x1c
#define OFF_LINELENGTH        0x24
#define OFF_CAPABILITIES      0x36
#define OFF_EXT_BASE          0x3a
#define CAPABILITY_64BIT_BASE (1u << 1)
#define VESA_SIZE_UNIT        65536ULL

static unsigned le16(const unsigned char *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int pt_boot_fb_parse(const unsigned char *data, size_t len, struct pt_boot_fb *out)
{
	*out = (struct pt_boot_fb){0};
	if (!data || len < SCREEN_INFO_SIZE)
		return -EINVAL;
	unsigned type = data[OFF_IS_VGA];
	if (type != PT_BOOT_FB_VESA && type != PT_BOOT_FB_EFI)
		return 0;
	unsigned long long base = le32(data + OFF_BASE);
	if (le32(data + OFF_CAPABILITIES) & CAPABILITY_64BIT_BASE)
		base |= (unsigned long long)le32(data + OFF_EXT_BASE) << 32;
	unsigned long long size = le32(data + OFF_SIZE);
	if (type == PT_BOOT_FB_VESA)
		size *= VESA_SIZE_UNIT;
	unsigned long long mode_bytes =
	        (unsigned long long)le16(data + OFF_LINELENGTH) * le16(data + OFF_HEIGHT);
	if (mode_bytes > size)
		size = mode_bytes;
	if (!base || !size || base + size - 1 < base)
		return -EINVAL;
	out->type = type;
	out->start = base;
	out->end = base + size - 1;
	out->width = le16(data + OFF_WIDTH);
	out->height = le16(data + OFF_HEIGHT);
	out->depth = le16(data + OFF_DEPTH);
	return 1;
}

int pt_boot_fb_read(const char *root, struct pt_boot_fb *out)
{
	*out = (struct pt_boot_fb){0};
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	int r = pt_host_read(root, &data, &len, "/sys/kernel/boot_params/data");
	if (r < 0)
		return r;
	return pt_boot_fb_parse((const unsigned char *)data, len, out);
}

const char *pt_boot_fb_kind(unsigned type)
{
	return type == PT_BOOT_FB_EFI ? "EFI" : "VESA";
}
