/* Reports for the unit tests (reports.h says what each function promises). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "reports.h"

struct pt_report *reports_fresh(struct pt_report *rep)
{
	pt_report_release(rep);
	assert_int_equal(pt_report_init(rep), 0);
	return rep;
}

const char *reports_warning(const struct pt_report *rep, size_t i)
{
	return json_string_value(json_array_get(rep->warnings, i));
}

bool reports_warned(const struct pt_report *rep, const char *a, const char *b)
{
	const char *w;
	for (size_t i = 0; (w = reports_warning(rep, i)); i++)
		if (strstr(w, a) && (!b || strstr(w, b)))
			return true;
	return false;
}
