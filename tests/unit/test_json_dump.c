/* module_utils/json_dump: pt_json_dumps gives json_dumps' text byte for byte
 * (or NULL where it gives NULL), for every flag combination it writes itself
 * and for the ones it hands back: on hand-picked values and on random trees
 * full of what makes JSON text hard (escapes, control characters, UTF-8 of
 * every length, bytes that are not UTF-8, empty containers, extreme
 * integers). */
#include <limits.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "json_dump.h"
#include "../common/json_dump_oracle.h"

/* The flag sets pt_json_dumps hands back to jansson that are checked too. */
static const size_t handed_back[] = {
        JSON_SORT_KEYS | JSON_INDENT(2),  JSON_ENSURE_ASCII,
        JSON_ESCAPE_SLASH | JSON_COMPACT, JSON_ENCODE_ANY,
        JSON_REAL_PRECISION(5),
};

/* Both dumpers on json with every flag set: the same text, or both NULL. */
static void assert_same_text(const json_t *json)
{
	char *message = json_dump_oracle_differs(
	        json, handed_back, sizeof handed_back / sizeof *handed_back, JSON_MAX_INDENT);
	if (message)
		fail_msg("%s", message);
}

static void test_scalars_and_empties(void **state)
{
	(void)state;
	json_t *o =
	        json_pack("{s:n, s:b, s:b, s:I, s:I, s:I, s:s, s:[], s:{}, s:[[],{}]}", "null",
	                  "yes", 1, "no", 0, "zero", (json_int_t)0, "min", (json_int_t)LLONG_MIN,
	                  "max", (json_int_t)LLONG_MAX, "empty", "", "array", "object", "nested");
	assert_non_null(o);
	assert_same_text(o);
	json_decref(o);

	json_t *a = json_array();
	assert_same_text(a); /* [] at the top */
	json_array_append_new(a, json_object());
	assert_same_text(a);
	json_decref(a);

	json_t *s = json_string("top-level string");
	assert_same_text(s); /* NULL without JSON_ENCODE_ANY */
	json_decref(s);
}

static void test_escapes(void **state)
{
	(void)state;
	const char text[] = "quote \" backslash \\ slash / tab \t newline \n cr \r bs \b ff \f "
	                    "bell \a esc \x1b unit \x1f del \x7f";
	json_t *o = json_object();
	json_object_set_new(o, "text", json_string(text));
	json_object_set_new(o, "nul", json_stringn("a\0b", 3));
	json_object_set_new(o, "utf-8", json_string("é ü ñ € ✓ 𝄞 \xf4\x8f\xbf\xbf"));
	json_object_set_new(o, "key \"quoted\"\n", json_string("value"));
	assert_same_text(o);
	json_decref(o);
}

/* Strings and keys jansson only takes unchecked: what it writes for bytes that
 * are not UTF-8 (a value fails the dump; a key is cut short and the dump goes
 * on). */
static void test_not_utf8(void **state)
{
	(void)state;
	static const char *const bad[] = {
	        "\x80",             /* a lone continuation byte */
	        "caf\xe9",          /* latin-1 */
	        "\xc0\xaf",         /* overlong */
	        "\xe0\x80\xaf",     /* overlong, 3 bytes */
	        "\xed\xa0\x80",     /* a surrogate */
	        "\xf4\x90\x80\x80", /* past U+10FFFF */
	        "\xf5\x80\x80\x80", /* F5 */
	        "ok\te\xcc",        /* cut short after an escape */
	        "\xe2\x82",         /* cut short */
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		json_t *value = json_pack("{s:[s]}", "k", "fine");
		json_array_append_new(json_object_get(value, "k"), json_string_nocheck(bad[i]));
		assert_same_text(value);
		json_decref(value);

		json_t *key = json_object();
		json_object_set_new(key, "before", json_true());
		json_object_set_new_nocheck(key, bad[i], json_integer(1));
		json_object_set_new(key, "after", json_false());
		assert_same_text(key);
		json_decref(key);
	}
}

static void test_reals_go_to_jansson(void **state)
{
	(void)state;
	json_t *o = json_pack("{s:f, s:[f, f], s:i}", "pi", 3.14159, "list", 1e300, -0.0, "n", 1);
	assert_same_text(o);
	json_decref(o);
}

/* --- random trees ------------------------------------------------------------ */

static uint64_t seed = 0x9e3779b97f4a7c15u;

static uint32_t rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return (uint32_t)(seed >> 11);
}

/* A string of bytes: mostly plain, with escapes, UTF-8 of 2-4 bytes and (when
 * allowed) bytes that are not UTF-8. */
static size_t random_text(char *buf, size_t cap, bool invalid)
{
	static const char *const pieces[] = {"a",    "Z",  " ",  "\"",   "\\",
	                                     "/",    "\n", "\t", "\x01", "\x1f",
	                                     "\x7f", "é",  "€",  "𝄞",    "0000:07:00.0"};
	size_t n = 0, count = rnd() % 12;
	for (size_t i = 0; i < count; i++) {
		const char *p = pieces[rnd() % (sizeof pieces / sizeof *pieces)];
		char odd[2] = {(char)(0x80 + rnd() % 0x80), 0};
		if (invalid && rnd() % 40 == 0)
			p = odd;
		size_t len = strlen(p);
		if (n + len >= cap)
			break;
		memcpy(buf + n, p, len);
		n += len;
	}
	buf[n] = '\0';
	return n;
}

static json_t *random_tree(int depth, bool invalid)
{
	char text[128];
	switch (depth > 4 ? rnd() % 5 : rnd() % 7) {
	case 0:
		return json_null();
	case 1:
		return json_boolean(rnd() % 2);
	case 2:
		return json_integer((json_int_t)rnd() - (json_int_t)(rnd() % 3 ? 0 : 1u << 31));
	case 3:
	case 4: {
		size_t n = random_text(text, sizeof text, invalid);
		return json_stringn_nocheck(text, n);
	}
	case 5: {
		json_t *a = json_array();
		for (size_t i = 0, n = rnd() % 5; i < n; i++)
			json_array_append_new(a, random_tree(depth + 1, invalid));
		return a;
	}
	default: {
		json_t *o = json_object();
		for (size_t i = 0, n = rnd() % 5; i < n; i++) {
			random_text(text, sizeof text, invalid);
			json_object_set_new_nocheck(o, text, random_tree(depth + 1, invalid));
		}
		return o;
	}
	}
}

static void test_random_trees(void **state)
{
	(void)state;
	for (int round = 0; round < 1200; round++) {
		json_t *top = round % 2 ? json_array() : json_object();
		bool invalid = round % 5 == 0;
		for (int i = 0; i < 4; i++) {
			json_t *child = random_tree(1, invalid);
			if (json_is_array(top))
				json_array_append_new(top, child);
			else
				json_object_set_new_nocheck(top, i % 2 ? "x" : "key", child);
		}
		assert_same_text(top);
		json_decref(top);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_scalars_and_empties),
	        cmocka_unit_test(test_escapes),
	        cmocka_unit_test(test_not_utf8),
	        cmocka_unit_test(test_reals_go_to_jansson),
	        cmocka_unit_test(test_random_trees),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
