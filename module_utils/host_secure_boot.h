/* Layer: host I/O (reads the host under root). Included by device_evidence.c and
 * tests.
 *
 * Whether the host booted with UEFI Secure Boot enforced, from the firmware's
 * SecureBoot variable in efivarfs. It matters to passthrough through one fix:
 * vendor-reset (the reset for AMD cards with the reset bug) is an out-of-tree
 * DKMS module, unsigned unless the user enrolled a key, and a kernel that
 * enforces Secure Boot refuses to load it. */
#ifndef PT_HOST_SECURE_BOOT_H
#define PT_HOST_SECURE_BOOT_H

#include <stddef.h>

/* The EFI global variable GUID (UEFI spec, "Globally Defined Variables"). */
#define PT_SECURE_BOOT_VAR                                                                         \
	"/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"

enum pt_secure_boot {
	PT_SECURE_BOOT_UNKNOWN = -1, /* UEFI, but the variable cannot be read or makes no sense */
	PT_SECURE_BOOT_OFF = 0,      /* UEFI, variable value 0 */
	PT_SECURE_BOOT_ON = 1,       /* UEFI, variable value 1: enforced */
	PT_SECURE_BOOT_NOT_EFI = 2,  /* no /sys/firmware/efi: a BIOS (legacy) boot */
};

/* Decode the variable's contents as efivarfs gives them: 4 bytes of
 * attributes, then the value, one byte, 0 or 1. Anything else: UNKNOWN. */
enum pt_secure_boot pt_secure_boot_parse(const unsigned char *data, size_t len);

/* The state of the host under root:
 *   NOT_EFI  /sys/firmware/efi is absent (the firmware booted it as a BIOS);
 *   ON, OFF  from the variable;
 *   UNKNOWN  UEFI, but efivarfs is not there (not mounted), the variable is
 *            missing (firmware without Secure Boot support, or a root copied
 *            without it: which one cannot be told), unreadable or malformed. */
enum pt_secure_boot pt_secure_boot_read(const char *root);

/* "on", "off", "not-efi"; NULL for UNKNOWN (a null fact). Static strings. */
const char *pt_secure_boot_name(enum pt_secure_boot state);

#endif
