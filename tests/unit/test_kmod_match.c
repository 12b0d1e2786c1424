/* module_utils/kmod: pt_kmod_aliases_match against its definition, on random
 * modules.alias files: the modules, in file order and without repeats, whose
 * pattern fnmatch(3) matches the modalias. The index (patterns grouped by a
 * literal PCI vendor) and the matcher for star-only patterns must not change
 * that answer, whatever the patterns hold: stars in any number and place,
 * '?', bracket classes and backslashes (which go to fnmatch itself). */
#include <fnmatch.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "kmod.h"
#include "support/tmptree.h"

#define RELEASE   "6.8.12-4-pve"
#define N_ALIASES 300

static char root[256];
static char patterns[N_ALIASES][96];
static char modules[N_ALIASES][16];

static uint64_t seed = 0x2545f4914f6cdd1du;

static uint32_t rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return (uint32_t)(seed >> 11);
}

static const char *const vendors[] = {"000010DE", "00001002", "00008086", "000010EC"};

/* A modalias as the kernel writes it, from a small pool so that patterns hit. */
static void random_modalias(char *out, size_t size)
{
	snprintf(out, size, "pci:v%sd0000%04Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X", vendors[rnd() % 4],
	         rnd() % 3 ? 0x1c82 : 0x0fb9, rnd() % 2 ? 0x1462 : 0x10de,
	         rnd() % 2 ? 0x8c96 : 0x0000, rnd() % 2 ? 0x03 : 0x04, rnd() % 2 ? 0x00 : 0x03,
	         rnd() % 2 ? 0x00 : 0x30);
}

/* A pattern: a modalias with pieces turned into wildcards. */
static void random_pattern(char *out, size_t size)
{
	char alias[96];
	random_modalias(alias, sizeof alias);
	size_t n = 0;
	for (const char *p = alias; *p && n + 8 < size; p++) {
		uint32_t r = rnd() % 100;
		if (r < 12) {
			out[n++] = '*';
			while (p[1] && rnd() % 3)
				p++; /* swallow a few characters */
		} else if (r < 14) {
			out[n++] = '?';
		} else if (r < 15) {
			memcpy(out + n, "[0-9A-F]", 8);
			n += 8;
		} else if (r < 16) {
			out[n++] = '\\';
			out[n++] = *p;
		} else if (r < 18) {
			out[n++] = '*';
			out[n++] = '*';
		} else {
			out[n++] = *p;
		}
	}
	if (rnd() % 4 == 0 && n + 1 < size)
		out[n++] = '*';
	out[n] = '\0';
}

static int setup(void **state)
{
	(void)state;
	if (tmptree_make(root, sizeof root, "kmod-match") < 0)
		return -1;
	size_t cap = N_ALIASES * 140, len = 0;
	char *text = malloc(cap);
	if (!text)
		return -1;
	len += (size_t)snprintf(text + len, cap - len,
	                        "# Aliases extracted from modules themselves.\n");
	for (int i = 0; i < N_ALIASES; i++) {
		random_pattern(patterns[i], sizeof patterns[i]);
		snprintf(modules[i], sizeof modules[i], "mod%u", rnd() % 40);
		len += (size_t)snprintf(text + len, cap - len, "alias %s %s\n", patterns[i],
		                        modules[i]);
	}
	tmptree_put(root, "lib/modules/" RELEASE "/modules.alias", text);
	free(text);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return tmptree_remove(root);
}

static void test_as_fnmatch(void **state)
{
	(void)state;
	struct pt_kmod_aliases *index = NULL;
	assert_int_equal(pt_kmod_aliases_load(root, RELEASE, &index), 0);
	int hits = 0;
	for (int round = 0; round < 2000; round++) {
		char alias[96];
		random_modalias(alias, sizeof alias);
		json_t *want = json_array();
		for (int i = 0; i < N_ALIASES; i++) {
			if (fnmatch(patterns[i], alias, 0) != 0)
				continue;
			bool seen = false;
			size_t k;
			json_t *v;
			json_array_foreach (want, k, v)
				seen |= !strcmp(json_string_value(v), modules[i]);
			if (!seen)
				json_array_append_new(want, json_string(modules[i]));
		}
		json_t *got = pt_kmod_aliases_match(index, alias);
		if (!json_equal(want, got)) {
			char *w = json_dumps(want, JSON_COMPACT),
			     *g = json_dumps(got, JSON_COMPACT);
			fail_msg("%s: fnmatch says %s, pt_kmod_aliases_match %s", alias, w, g);
		}
		hits += json_array_size(want) > 0;
		json_decref(want);
		json_decref(got);
	}
	assert_true(hits > 100); /* the patterns do match, often */
	pt_kmod_aliases_free(index);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_as_fnmatch),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
