#include "strbuf.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reserve(struct pt_strbuf *sb, size_t extra)
{
	if (sb->oom)
		return -ENOMEM;
	if (sb->len + extra + 1 <= sb->cap)
		return 0;
	size_t cap = sb->cap ? sb->cap : 64;
	while (cap < sb->len + extra + 1) {
		if (cap > SIZE_MAX / 2) {
			sb->oom = true;
			return -ENOMEM;
		}
		cap *= 2;
	}
	char *p = realloc(sb->data, cap);
	if (!p) {
		sb->oom = true;
		return -ENOMEM;
	}
	sb->data = p;
	sb->cap = cap;
	return 0;
}

int pt_strbuf_append(struct pt_strbuf *sb, const char *s, size_t len)
{
	int r = reserve(sb, len);
	if (r < 0)
		return r;
	if (len)
		memcpy(sb->data + sb->len, s, len);
	sb->len += len;
	sb->data[sb->len] = '\0';
	return 0;
}

int pt_strbuf_puts(struct pt_strbuf *sb, const char *s)
{
	return pt_strbuf_append(sb, s, strlen(s));
}

int pt_strbuf_putc(struct pt_strbuf *sb, char c)
{
	return pt_strbuf_append(sb, &c, 1);
}

int pt_strbuf_vprintf(struct pt_strbuf *sb, const char *fmt, va_list ap)
{
	va_list copy;
	va_copy(copy, ap);
	int n = vsnprintf(NULL, 0, fmt, copy); /* NOLINT(clang-analyzer-valist.Uninitialized) */
	va_end(copy);
	if (n < 0)
		return -EINVAL;
	int r = reserve(sb, (size_t)n);
	if (r < 0)
		return r;
	vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
	return 0;
}

int pt_strbuf_printf(struct pt_strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = pt_strbuf_vprintf(sb, fmt, ap);
	va_end(ap);
	return r;
}

const char *pt_strbuf_str(const struct pt_strbuf *sb)
{
	return sb->data ? sb->data : "";
}

char *pt_strbuf_steal(struct pt_strbuf *sb)
{
	if (sb->oom) {
		pt_strbuf_release(sb);
		return NULL;
	}
	char *p = sb->data ? sb->data : strdup("");
	sb->data = NULL;
	sb->len = sb->cap = 0;
	return p;
}

void pt_strbuf_release(struct pt_strbuf *sb)
{
	free(sb->data);
	sb->data = NULL;
	sb->len = sb->cap = 0;
	sb->oom = false;
}
