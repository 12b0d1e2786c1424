#include "json_text.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

/* Length of the UTF-8 sequence at s as jansson accepts it (shortest form, no
 * surrogates, nothing above U+10FFFF), or 0 when s does not start one. */
static size_t utf8_sequence(const unsigned char *s)
{
	unsigned cp;
	size_t n;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) /* also stops at the NUL */
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

json_t *pt_json_text(const char *s)
{
	if (!s)
		return NULL;
	json_t *j = json_string(s);
	if (j)
		return j;
	struct pt_strbuf sb = PT_STRBUF_INIT;
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t n = utf8_sequence(p);
		if (n) {
			pt_strbuf_append(&sb, (const char *)p, n);
			p += n;
		} else {
			pt_strbuf_puts(&sb, "\xef\xbf\xbd"); /* U+FFFD REPLACEMENT CHARACTER */
			p++;
		}
	}
	j = sb.oom ? NULL : json_string(pt_strbuf_str(&sb));
	pt_strbuf_release(&sb);
	return j;
}
json_t *pt_json_text_object(const char *key, ...)
{
	json_t *o = json_object();
	va_list ap;
	va_start(ap, key);
	for (; o && key; key = va_arg(ap, const char *)) {
		if (json_object_set_new(o, key, pt_json_text(va_arg(ap, const char *))) < 0) {
			json_decref(o);
			o = NULL;
		}
	}
	va_end(ap);
	return o;
}

bool pt_json_strings_has(const json_t *arr, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach (arr, i, v)
		if (json_string_value(v) && !strcmp(json_string_value(v), s))
			return true;
	return false;
}

void pt_json_strings_add_unique(json_t *arr, const char *s)
{
	if (!pt_json_strings_has(arr, s))
		json_array_append_new(arr, pt_json_text(s));
}

static int cmp_json_strings(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a),
	              json_string_value(*(json_t *const *)b));
}

void pt_json_strings_sort(json_t *arr, bool drop_repeats)
{
	size_t n = json_array_size(arr), w = 0;
	json_t **v = n > 1 ? calloc(n, sizeof *v) : NULL;
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(arr, i));
	qsort(v, n, sizeof *v, cmp_json_strings);
	json_array_clear(arr);
	for (size_t i = 0; i < n; i++) {
		if (drop_repeats && w && !cmp_json_strings(&v[w - 1], &v[i]))
			json_decref(v[i]);
		else
			v[w++] = v[i];
	}
	for (size_t i = 0; i < w; i++)
		json_array_append_new(arr, v[i]);
	free(v);
}
