/* Secure Boot from efivarfs (see host_secure_boot.h). */
#include "host_secure_boot.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "cleanup.h"
#include "files.h"
#include "host_files.h"

enum pt_secure_boot pt_secure_boot_parse(const unsigned char *data, size_t len)
{
	/* efivarfs puts the variable's 32-bit attributes before its data */
	if (!data || len != 5 || data[4] > 1)
		return PT_SECURE_BOOT_UNKNOWN;
	return data[4] ? PT_SECURE_BOOT_ON : PT_SECURE_BOOT_OFF;
}

enum pt_secure_boot pt_secure_boot_read(const char *root)
{
	_cleanup_free_ char *efi = pt_path_join(root, "/sys/firmware/efi");
	if (!efi)
		return PT_SECURE_BOOT_UNKNOWN;
	if (!pt_path_exists(efi))
		return PT_SECURE_BOOT_NOT_EFI;
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	if (pt_host_read(root, &data, &len, "%s", PT_SECURE_BOOT_VAR) < 0)
		return PT_SECURE_BOOT_UNKNOWN;
	return pt_secure_boot_parse((const unsigned char *)data, len);
}

const char *pt_secure_boot_name(enum pt_secure_boot state)
{
	switch (state) {
	case PT_SECURE_BOOT_ON:
		return "on";
	case PT_SECURE_BOOT_OFF:
		return "off";
	case PT_SECURE_BOOT_NOT_EFI:
		return "not-efi";
	default:
		return NULL;
	}
}
