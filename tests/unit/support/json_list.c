/* One line from a JSON array of objects (see json_list.h). */
#include "json_list.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const char *member(const json_t *object, const char *key)
{
	const char *s = json_string_value(json_object_get(object, key));
	return s ? s : "?";
}

char *json_list_join(const json_t *array, const char *key, const char *key2)
{
	size_t cap = 1;
	size_t i;
	json_t *e;
	json_array_foreach (array, i, e)
		cap += strlen(member(e, key)) + (key2 ? strlen(member(e, key2)) + 1 : 0) + 1;
	char *out = calloc(1, cap);
	if (!out)
		fail_msg("out of memory");
	json_array_foreach (array, i, e) {
		if (i)
			strcat(out, " ");
		strcat(out, member(e, key));
		if (key2) {
			strcat(out, "/");
			strcat(out, member(e, key2));
		}
	}
	return out;
}
