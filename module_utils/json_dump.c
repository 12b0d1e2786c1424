/* json_dumps' output, written straight into one buffer (see json_dump.h).
 *
 * The format is jansson 2.x's: object members in the object's iteration
 * order; after '[' or '{' of a non-empty container, and after each ',', a
 * newline and depth * n spaces with JSON_INDENT(n), else one space after ','
 * unless JSON_COMPACT; before the closing bracket a newline and the outer
 * depth's spaces with indentation; ": " between key and value (":" with
 * JSON_COMPACT); empty containers as "[]" and "{}". Strings escape '"', '\\',
 * and control characters (\b \f \n \r \t, else \u00XX in upper-case hex);
 * everything else, UTF-8 included, is copied; a string that is not valid
 * UTF-8 (by jansson's rules: no overlong forms, no surrogates, nothing past
 * U+10FFFF) fails the whole dump, as in jansson. Integers print as %lld does. */
#include "json_dump.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH    1000
#define SUPPORTED    (JSON_MAX_INDENT | JSON_COMPACT | JSON_PRESERVE_ORDER)
#define INDENT_OF(f) ((unsigned)((f)&JSON_MAX_INDENT))

struct out {
	char *data;
	size_t len, cap;
	bool failed;      /* out of memory, or a string that is not UTF-8 */
	bool ask_jansson; /* something json_dumps should write itself */
};

/* Called for every token: inlined even at -Os (as calls they were a third of
 * the dump). */
#define PER_TOKEN static inline __attribute__((always_inline))

static bool grow(struct out *o, size_t more)
{
	size_t cap = o->cap ? o->cap : 4096;
	while (o->len + more >= cap)
		cap *= 2;
	char *grown = realloc(o->data, cap);
	if (!grown) {
		o->failed = true;
		return false;
	}
	o->data = grown;
	o->cap = cap;
	return true;
}

/* Room for more bytes and the final NUL. */
PER_TOKEN bool reserve(struct out *o, size_t more)
{
	if (o->failed)
		return false;
	return o->len + more < o->cap || grow(o, more);
}

PER_TOKEN void put(struct out *o, const char *text, size_t n)
{
	if (reserve(o, n)) {
		memcpy(o->data + o->len, text, n);
		o->len += n;
	}
}

PER_TOKEN void put_char(struct out *o, char c)
{
	if (reserve(o, 1))
		o->data[o->len++] = c;
}

/* The break between container items (or before the first or after the last):
 * a newline and depth * indent spaces, or one space, or nothing. */
static void put_break(struct out *o, size_t flags, unsigned depth, bool space)
{
	unsigned indent = INDENT_OF(flags);
	if (indent) {
		size_t n = (size_t)depth * indent;
		if (reserve(o, n + 1)) {
			o->data[o->len++] = '\n';
			memset(o->data + o->len, ' ', n);
			o->len += n;
		}
	} else if (space && !(flags & JSON_COMPACT)) {
		put_char(o, ' ');
	}
}

/* The length of the valid UTF-8 sequence at s (before end), 0 when there is
 * none: jansson's rules. */
static size_t utf8_sequence(const unsigned char *s, const unsigned char *end)
{
	unsigned u = s[0];
	size_t n;
	unsigned value;
	if (u >= 0xC2 && u <= 0xDF) {
		n = 2;
		value = u & 0x1F;
	} else if (u >= 0xE0 && u <= 0xEF) {
		n = 3;
		value = u & 0x0F;
	} else if (u >= 0xF0 && u <= 0xF4) {
		n = 4;
		value = u & 0x07;
	} else {
		return 0; /* a continuation byte, C0/C1, or F5 and above */
	}
	if ((size_t)(end - s) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
		value = value << 6 | (s[i] & 0x3F);
	}
	if (value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF) || (n == 3 && value < 0x800) ||
	    (n == 4 && value < 0x10000))
		return 0;
	return n;
}

/* Bytes copied as they are inside a string: printable ASCII but '"' and '\\'. */
PER_TOKEN bool plain(unsigned char c)
{
	return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/* A string in quotes, escaped. Returns false for one that is not UTF-8; the
 * output then ends where jansson's would: after the last escape written
 * (jansson holds plain runs back until an escape or the end), without the
 * closing quote. */
static bool put_string(struct out *o, const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text, *end = s + len;
	put_char(o, '"');
	size_t committed = o->len;
	while (s < end && !o->failed) {
		const unsigned char *run = s;
		while (s < end && plain(*s))
			s++;
		if (s > run)
			put(o, (const char *)run, (size_t)(s - run));
		if (s == end)
			break;
		unsigned char c = *s;
		if (c >= 0x80) {
			size_t n = utf8_sequence(s, end);
			if (!n) {
				if (!o->failed)
					o->len = committed;
				return false;
			}
			put(o, (const char *)s, n);
			s += n;
			continue;
		}
		char escape[8];
		size_t n = 2;
		escape[0] = '\\';
		switch (c) {
		case '"':
		case '\\':
			escape[1] = (char)c;
			break;
		case '\b':
			escape[1] = 'b';
			break;
		case '\f':
			escape[1] = 'f';
			break;
		case '\n':
			escape[1] = 'n';
			break;
		case '\r':
			escape[1] = 'r';
			break;
		case '\t':
			escape[1] = 't';
			break;
		default:
			n = (size_t)snprintf(escape, sizeof escape, "\\u%04X", c);
			break;
		}
		put(o, escape, n);
		committed = o->len;
		s++;
	}
	put_char(o, '"');
	return true;
}

static void put_value(struct out *o, const json_t *json, size_t flags, unsigned depth)
{
	if (o->failed || o->ask_jansson)
		return;
	if (depth > MAX_DEPTH) {
		o->ask_jansson = true;
		return;
	}
	switch (json_typeof(json)) {
	case JSON_NULL:
		put(o, "null", 4);
		return;
	case JSON_TRUE:
		put(o, "true", 4);
		return;
	case JSON_FALSE:
		put(o, "false", 5);
		return;
	case JSON_INTEGER: {
		/* "%lld", by hand */
		json_int_t v = json_integer_value(json);
		unsigned long long magnitude =
		        v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
		char number[24], *at = number + sizeof number;
		do {
			*--at = (char)('0' + magnitude % 10);
			magnitude /= 10;
		} while (magnitude);
		if (v < 0)
			*--at = '-';
		put(o, at, (size_t)(number + sizeof number - at));
		return;
	}
	case JSON_REAL:
		o->ask_jansson = true; /* its shortest round-trip form is jansson's own */
		return;
	case JSON_STRING:
		if (!put_string(o, json_string_value(json), json_string_length(json)))
			o->failed = true;
		return;
	case JSON_ARRAY: {
		size_t n = json_array_size(json);
		put_char(o, '[');
		if (!n) {
			put_char(o, ']');
			return;
		}
		put_break(o, flags, depth + 1, false);
		for (size_t i = 0; i < n; i++) {
			put_value(o, json_array_get(json, i), flags, depth + 1);
			if (i + 1 < n) {
				put_char(o, ',');
				put_break(o, flags, depth + 1, true);
			} else {
				put_break(o, flags, depth, false);
			}
		}
		put_char(o, ']');
		return;
	}
	case JSON_OBJECT: {
		bool compact = flags & JSON_COMPACT;
		void *iter = json_object_iter((json_t *)json);
		put_char(o, '{');
		if (!iter) {
			put_char(o, '}');
			return;
		}
		put_break(o, flags, depth + 1, false);
		while (iter) {
			void *next = json_object_iter_next((json_t *)json, iter);
			/* jansson goes on after a key that is not UTF-8 (it
			 * ignores that failure), so this does too */
			put_string(o, json_object_iter_key(iter), json_object_iter_key_len(iter));
			put(o, ": ", compact ? 1 : 2);
			put_value(o, json_object_iter_value(iter), flags, depth + 1);
			if (next) {
				put_char(o, ',');
				put_break(o, flags, depth + 1, true);
			} else {
				put_break(o, flags, depth, false);
			}
			iter = next;
		}
		put_char(o, '}');
		return;
	}
	}
	o->failed = true; /* not a JSON value at all */
}

char *pt_json_dumps(const json_t *json, size_t flags)
{
	if ((flags & ~(size_t)SUPPORTED) || !json)
		return json_dumps(json, flags);
	if (!json_is_array(json) && !json_is_object(json))
		return NULL; /* as json_dumps without JSON_ENCODE_ANY */
	struct out o = {0};
	put_value(&o, json, flags, 0);
	if (o.ask_jansson) {
		free(o.data);
		return json_dumps(json, flags);
	}
	if (o.failed || !reserve(&o, 1)) {
		free(o.data);
		return NULL;
	}
	o.data[o.len] = '\0';
	return o.data;
}
