#include "sha1.h"

#include <string.h>

static uint32_t rol(uint32_t x, unsigned n)
{
	return (x << n) | (x >> (32 - n));
}

static void compress(uint32_t h[5], const uint8_t block[64])
{
	uint32_t w[80];
	for (int t = 0; t < 16; t++)
		w[t] = (uint32_t)block[4 * t] << 24 | (uint32_t)block[4 * t + 1] << 16 |
		       (uint32_t)block[4 * t + 2] << 8 | (uint32_t)block[4 * t + 3];
	for (int t = 16; t < 80; t++)
		w[t] = rol(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);

	uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
	for (int t = 0; t < 80; t++) {
		uint32_t f, k;
		if (t < 20) {
			f = (b & c) | (~b & d);
			k = 0x5a827999;
		} else if (t < 40) {
			f = b ^ c ^ d;
			k = 0x6ed9eba1;
		} else if (t < 60) {
			f = (b & c) | (b & d) | (c & d);
			k = 0x8f1bbcdc;
		} else {
			f = b ^ c ^ d;
			k = 0xca62c1d6;
		}
		uint32_t tmp = rol(a, 5) + f + e + k + w[t];
		e = d;
		d = c;
		c = rol(b, 30);
		b = a;
		a = tmp;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
}

void pt_sha1_init(struct pt_sha1 *ctx)
{
	static const uint32_t iv[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
	memcpy(ctx->h, iv, sizeof iv);
	ctx->length = 0;
	ctx->used = 0;
}

void pt_sha1_update(struct pt_sha1 *ctx, const void *data, size_t len)
{
	const uint8_t *p = data;
	ctx->length += len;
	while (len > 0) {
		size_t take = sizeof ctx->block - ctx->used;
		if (take > len)
			take = len;
		memcpy(ctx->block + ctx->used, p, take);
		ctx->used += take;
		p += take;
		len -= take;
		if (ctx->used == sizeof ctx->block) {
			compress(ctx->h, ctx->block);
			ctx->used = 0;
		}
	}
}

void pt_sha1_final(struct pt_sha1 *ctx, uint8_t out[PT_SHA1_LEN])
{
	uint64_t bits = ctx->length * 8;
	/* Padding: a 1 bit, zeros up to 56 bytes mod 64, then the length in bits. */
	ctx->block[ctx->used++] = 0x80;
	if (ctx->used > 56) {
		memset(ctx->block + ctx->used, 0, sizeof ctx->block - ctx->used);
		compress(ctx->h, ctx->block);
		ctx->used = 0;
	}
	memset(ctx->block + ctx->used, 0, 56 - ctx->used);
	for (int i = 0; i < 8; i++)
		ctx->block[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
	compress(ctx->h, ctx->block);
	for (int i = 0; i < 5; i++) {
		out[4 * i] = (uint8_t)(ctx->h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(ctx->h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(ctx->h[i] >> 8);
		out[4 * i + 3] = (uint8_t)ctx->h[i];
	}
}

void pt_sha1_hex(const void *data, size_t len, char hex[PT_SHA1_HEX_LEN])
{
	static const char digits[] = "0123456789abcdef";
	struct pt_sha1 ctx;
	uint8_t md[PT_SHA1_LEN];
	pt_sha1_init(&ctx);
	pt_sha1_update(&ctx, data, len);
	pt_sha1_final(&ctx, md);
	for (int i = 0; i < PT_SHA1_LEN; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[2 * PT_SHA1_LEN] = '\0';
}
