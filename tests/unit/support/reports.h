/* Reports for the unit tests: the library's steps tell the user what they found
 * through a struct pt_report (module_utils/report.h), which keeps its first
 * failure. A test that checks several calls' messages with one report empties
 * it before each call (reports_fresh), so that what it reads is that call's
 * alone. Linked into every build/tests/test_* (Makefile: UNIT_SUPPORT). */
#ifndef PT_TEST_REPORTS_H
#define PT_TEST_REPORTS_H

#include <stdbool.h>
#include <stddef.h>

#include "report.h"

/* rep released and made empty again (a zeroed report counts as released);
 * returns rep, for `f(..., reports_fresh(&rep))`. Fails the test when memory
 * runs out. Release rep with pt_report_release when the test is done. */
struct pt_report *reports_fresh(struct pt_report *rep);

/* The i-th warning of rep (borrowed from it), or NULL past the last. */
const char *reports_warning(const struct pt_report *rep, size_t i);

/* True when one of rep's warnings holds a, and b too unless b is NULL. */
bool reports_warned(const struct pt_report *rep, const char *a, const char *b);

#endif
