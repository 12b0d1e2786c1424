/* libFuzzer harness: pt_json_dumps (module_utils/json_dump.h) against
 * jansson's json_dumps, the text it promises to give byte for byte.
 *
 * Each input makes values two ways:
 *   - parsed: json_loadb with JSON_DECODE_ANY | JSON_ALLOW_NUL (strings with
 *     \u0000, any top level, deep nesting, reals that go back to jansson),
 *     dumped as it is and inside an array and an object (so a scalar is
 *     written too);
 *   - built: the input cut at 0xff bytes into pieces, each piece a string made
 *     with json_stringn_nocheck (so bytes that are not UTF-8, NUL and control
 *     characters reach the dumper) and an object key made with
 *     json_object_setn_new_nocheck, the value beside it a string, an integer of
 *     the piece's bytes (extremes included), a literal, an empty or a nested
 *     container; the array of pieces holds the object (twice) and sits under
 *     a few arrays; and a cycle of two arrays, which both must refuse.
 * Invariant, for every value and each flag set the dumper writes itself (and
 * two it hands to jansson): the same text, or NULL from both. No leaks. */
#include <jansson.h>
#include <stdbool.h>

#include "fuzz_check.h"
#include "json_dump.h"
#include "../common/json_dump_oracle.h"

#define MAX_PIECES 64

/* Besides the flag sets the dumper writes itself, two it hands to jansson. */
static const size_t handed_to_jansson[] = {
        JSON_SORT_KEYS | JSON_INDENT(2),
        JSON_ENCODE_ANY | JSON_COMPACT,
};

/* Nesting deeper than this is dumped without wide indentation: 2,000 levels
 * at JSON_INDENT(31) are some 120 MB of spaces per dump (the text is the same
 * at any width; the hand-over to jansson happens at 1,000 levels either way). */
#define WIDE_INDENT_DEPTH 128

/* The nesting of json, counted up to limit. */
static size_t depth_of(const json_t *json, size_t limit)
{
	if (!limit || (!json_is_array(json) && !json_is_object(json)))
		return 0;
	size_t deepest = 0, d;
	if (json_is_array(json)) {
		for (size_t i = 0; i < json_array_size(json) && deepest < limit - 1; i++)
			if ((d = depth_of(json_array_get(json, i), limit - 1)) > deepest)
				deepest = d;
	} else {
		const char *key;
		json_t *value;
		json_object_foreach ((json_t *)json, key, value) {
			if ((d = depth_of(value, limit - 1)) > deepest)
				deepest = d;
			if (deepest >= limit - 1)
				break;
		}
	}
	return deepest + 1;
}

static void check_same_text(const json_t *json)
{
	bool deep = depth_of(json, WIDE_INDENT_DEPTH + 1) > WIDE_INDENT_DEPTH;
	char *message = json_dump_oracle_differs(
	        json, handed_to_jansson, sizeof handed_to_jansson / sizeof *handed_to_jansson,
	        deep ? 1 : JSON_MAX_INDENT);
	if (message) {
		fprintf(stderr, "%s\n", message);
		check(!"the same text as json_dumps");
	}
}

static void add(json_t *array, json_t *value)
{
	check(value != NULL);
	check(json_array_append_new(array, value) == 0);
}

/* The value beside piece i's key: one of the kinds the dumper writes. */
static json_t *value_for(size_t i, const uint8_t *piece, size_t len, const uint8_t *next,
                         size_t next_len)
{
	json_int_t n = 0;
	switch (i % 7) {
	case 0:
		return json_stringn_nocheck((const char *)next, next_len);
	case 1:
		memcpy(&n, piece, len < sizeof n ? len : sizeof n);
		return json_integer(n);
	case 2:
		return json_integer(len & 1 ? INT64_MIN : -(json_int_t)len);
	case 3:
		return len & 1 ? json_true() : len & 2 ? json_false() : json_null();
	case 4:
		return len & 1 ? json_array() : json_object();
	case 5: {
		json_t *inner = json_array();
		check(inner != NULL);
		add(inner, json_stringn_nocheck((const char *)piece, len));
		add(inner, json_object());
		return inner;
	}
	default: {
		json_t *inner = json_object();
		check(inner != NULL);
		check(json_object_setn_new_nocheck(
		              inner, (const char *)next, next_len,
		              json_stringn_nocheck((const char *)piece, len)) == 0);
		return inner;
	}
	}
}

/* A cycle (an array inside an array inside the first): json_dumps refuses it,
 * and so must pt_json_dumps, which hands deep nesting back to jansson. Small,
 * and not indented: the dumper writes a thousand levels before it gives up. */
static void check_cycle(const uint8_t *piece, size_t len)
{
	json_t *outer = json_array(), *inner = json_array();
	check(outer != NULL && inner != NULL);
	add(outer, json_stringn_nocheck((const char *)piece, len < 16 ? len : 16));
	check(json_array_append(outer, inner) == 0);
	check(json_array_append(inner, outer) == 0);
	static const size_t flags[] = {0, JSON_COMPACT};
	for (size_t i = 0; i < sizeof flags / sizeof *flags; i++) {
		char *want = json_dumps(outer, flags[i]), *got = pt_json_dumps(outer, flags[i]);
		check(want == NULL && got == NULL);
	}
	json_array_clear(inner);
	json_decref(inner);
	json_decref(outer);
}

static void check_built(const uint8_t *data, size_t size)
{
	const uint8_t *piece[MAX_PIECES + 1];
	size_t len[MAX_PIECES + 1], n = 0;
	for (const uint8_t *p = data, *end = data + size; n < MAX_PIECES;) {
		const uint8_t *cut = memchr(p, 0xff, (size_t)(end - p));
		piece[n] = p;
		len[n++] = (size_t)((cut ? cut : end) - p);
		if (!cut)
			break;
		p = cut + 1;
	}
	piece[n] = (const uint8_t *)"";
	len[n] = 0;

	json_t *array = json_array(), *object = json_object();
	check(array != NULL && object != NULL);
	for (size_t i = 0; i < n; i++) {
		add(array, json_stringn_nocheck((const char *)piece[i], len[i]));
		json_t *value = value_for(i, piece[i], len[i], piece[i + 1], len[i + 1]);
		check(value != NULL);
		check(json_object_setn_new_nocheck(object, (const char *)piece[i], len[i], value) ==
		      0);
	}
	check_same_text(object);
	/* twice: a value met again beside itself is no cycle */
	check(json_array_append(array, object) == 0);
	check(json_array_append(array, object) == 0);
	check_same_text(array);
	if (size % 8 == 0) /* a thousand levels each time: not on every input */
		check_cycle(piece[0], len[0]);
	json_t *top = array;
	for (size_t depth = size % 4; depth > 0; depth--) {
		json_t *outer = json_array();
		add(outer, top);
		top = outer;
	}
	check_same_text(top);
	json_decref(top);
	json_decref(object);
}

static void check_parsed(const uint8_t *data, size_t size)
{
	json_error_t error;
	json_t *json =
	        json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &error);
	if (!json)
		return;
	check_same_text(json);
	json_t *array = json_array(), *object = json_object();
	check(array != NULL && object != NULL);
	check(json_array_append(array, json) == 0);
	check(json_object_set(object, "value", json) == 0);
	check_same_text(array);
	check_same_text(object);
	json_decref(array);
	json_decref(object);
	json_decref(json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_parsed(data, size);
	check_built(data, size);
	return 0;
}
