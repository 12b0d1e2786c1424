/* Layer: base (no Ansible types, no host I/O). Anyone may include it.
 *
 * A growable, always NUL-terminated byte buffer. */
#ifndef PT_STRBUF_H
#define PT_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct pt_strbuf {
	char *data; /* NUL-terminated; NULL until the first append */
	size_t len; /* bytes in use, without the NUL */
	size_t cap; /* bytes allocated */
	bool oom;   /* an append failed for lack of memory; data stays valid */
};

#define PT_STRBUF_INIT                                                                             \
	{                                                                                          \
		NULL, 0, 0, false                                                                  \
	}

/* Append len bytes (may contain NULs). Returns 0 or -ENOMEM (and sets oom). */
int pt_strbuf_append(struct pt_strbuf *sb, const char *s, size_t len);
/* Append a C string. */
int pt_strbuf_puts(struct pt_strbuf *sb, const char *s);
int pt_strbuf_putc(struct pt_strbuf *sb, char c);
int pt_strbuf_printf(struct pt_strbuf *sb, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
int pt_strbuf_vprintf(struct pt_strbuf *sb, const char *fmt, va_list ap);
/* The contents as a C string ("" when empty); borrowed, valid until the next
 * append or release. */
const char *pt_strbuf_str(const struct pt_strbuf *sb);
/* Hand the buffer to the caller (who frees it); the strbuf is left empty.
 * Never returns NULL unless the buffer ran out of memory. */
char *pt_strbuf_steal(struct pt_strbuf *sb);
void pt_strbuf_release(struct pt_strbuf *sb);

static inline void pt_strbuf_releasep(struct pt_strbuf *sb)
{
	pt_strbuf_release(sb);
}
#define _cleanup_strbuf_ __attribute__((cleanup(pt_strbuf_releasep)))

#endif
