/* jansson's json_dumps as the oracle of module_utils/json_dump: pt_json_dumps
 * promises its text byte for byte. Shared by tests/unit/test_json_dump.c
 * (which fails the cmocka test on a difference) and tests/fuzz/fuzz_json_dump.c
 * (which aborts), and linked into both builds (mk/config.mk: UNIT_SUPPORT;
 * mk/fuzz.mk: FUZZ_COMMON). No cmocka here: it says what differs and leaves the
 * verdict to its caller. */
#ifndef PT_TEST_JSON_DUMP_ORACLE_H
#define PT_TEST_JSON_DUMP_ORACLE_H

#include <stddef.h>

#include <jansson.h>

/* json dumped by json_dumps and by pt_json_dumps with each flag set that
 * pt_json_dumps writes itself (compact, indented from 1 to 31, preserving the
 * order), then with each of the n_extra sets in extra (the caller's choice of
 * those it hands to jansson), leaving out every set whose indentation is wider
 * than max_indent (JSON_MAX_INDENT: none left out). Returns NULL when the two
 * give the same text, or both NULL, for every set; else a message for the first
 * set where they do not, saying what each gave ("flags 0x..: json_dumps NULL,
 * pt_json_dumps [...]" when one gave NULL, "flags 0x..:\njson_dumps:    ...\n
 * pt_json_dumps: ..." otherwise), which the caller frees. */
char *json_dump_oracle_differs(const json_t *json, const size_t *extra, size_t n_extra,
                               size_t max_indent);

#endif
