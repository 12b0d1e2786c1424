/* json_dumps as the oracle of json_dump (json_dump_oracle.h says what it
 * promises). */
#include "json_dump_oracle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_dump.h"

/* The flag sets pt_json_dumps writes itself; it hands every other to jansson. */
static const size_t own_flags[] = {
        0,
        JSON_COMPACT,
        JSON_INDENT(1),
        JSON_INDENT(2),
        JSON_INDENT(4) | JSON_COMPACT,
        JSON_INDENT(31),
        JSON_PRESERVE_ORDER | JSON_INDENT(2),
};

/* NULL when both dumpers give the same for flags, else the message. */
static char *differs_with(const json_t *json, size_t flags)
{
	char *want = json_dumps(json, flags);
	char *got = pt_json_dumps(json, flags);
	char *message = NULL;
	int n = 0;
	if (!want || !got) {
		if (want || got)
			n = asprintf(&message, "flags 0x%zx: json_dumps %s, pt_json_dumps %s",
			             flags, want ? want : "NULL", got ? got : "NULL");
	} else if (strcmp(want, got) != 0) {
		n = asprintf(&message, "flags 0x%zx:\njson_dumps:    %s\npt_json_dumps: %s", flags,
		             want, got);
	}
	if (n < 0)
		message = strdup("json_dumps and pt_json_dumps differ (no memory to say how)");
	free(want);
	free(got);
	return message;
}

char *json_dump_oracle_differs(const json_t *json, const size_t *extra, size_t n_extra,
                               size_t max_indent)
{
	size_t n_own = sizeof own_flags / sizeof *own_flags;
	char *message = NULL;
	for (size_t i = 0; i < n_own + n_extra && !message; i++) {
		size_t flags = i < n_own ? own_flags[i] : extra[i - n_own];
		if ((flags & JSON_MAX_INDENT) <= max_indent)
			message = differs_with(json, flags);
	}
	return message;
}
