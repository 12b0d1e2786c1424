/* The members of a JSON array of objects as one line, for assertions that read
 * like what they check: the ids of a verdict's findings ("no-reset
 * known-reset-bug"), or with their severities ("no-reset/warning ..."). Linked
 * into every build/tests/test_* (Makefile: UNIT_SUPPORT). */
#ifndef PT_TEST_JSON_LIST_H
#define PT_TEST_JSON_LIST_H

#include <jansson.h>

/* The string member key of every object in array, space-separated, each
 * followed by "/" and its member key2 when key2 is not NULL; a member that is
 * missing or not a string reads "?". "" for an empty or missing array. The
 * caller frees the string; out of memory fails the running test. */
char *json_list_join(const json_t *array, const char *key, const char *key2);

#endif
