/* Layer: base (no Ansible types, no host I/O). Included by pve_mapping.h (the
 * digest of pci.cfg), the fake pvesh and tests.
 *
 * SHA-1 (FIPS 180-4), for the digests Proxmox VE puts on its config files: the
 * digest of /etc/pve/mapping/pci.cfg is the SHA-1 hex of the whole file. Not for
 * anything that needs collision resistance. */
#ifndef PT_SHA1_H
#define PT_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define PT_SHA1_LEN     20
#define PT_SHA1_HEX_LEN 41 /* 40 hex digits + NUL */

struct pt_sha1 {
	uint32_t h[5];
	uint64_t length;   /* bytes hashed so far */
	uint8_t block[64]; /* pending input */
	size_t used;       /* bytes pending in block */
};

void pt_sha1_init(struct pt_sha1 *ctx);
void pt_sha1_update(struct pt_sha1 *ctx, const void *data, size_t len);
/* Finish and write the 20-byte digest; ctx must be initialised again before reuse. */
void pt_sha1_final(struct pt_sha1 *ctx, uint8_t out[PT_SHA1_LEN]);

/* The lowercase hex digest of data[0..len) into hex (NUL-terminated), as Perl's
 * Digest::SHA::sha1_hex gives it. */
void pt_sha1_hex(const void *data, size_t len, char hex[PT_SHA1_HEX_LEN]);

#endif
