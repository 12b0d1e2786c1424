#include "report.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

#include "strbuf.h"

int pt_report_init(struct pt_report *rep)
{
	rep->warnings = json_array();
	rep->diffs = json_array();
	rep->facts = json_object();
	rep->msg = NULL;
	rep->error = 0;
	return rep->warnings && rep->diffs && rep->facts ? 0 : -ENOMEM;
}

void pt_report_release(struct pt_report *rep)
{
	json_decref(rep->warnings);
	json_decref(rep->diffs);
	json_decref(rep->facts);
	free(rep->msg);
	rep->warnings = rep->diffs = rep->facts = NULL;
	rep->msg = NULL;
	rep->error = 0;
}

/* fmt and ap into a new string; NULL when out of memory. */
static char *format(const char *fmt, va_list ap)
{
	struct pt_strbuf sb = PT_STRBUF_INIT;
	pt_strbuf_vprintf(&sb, fmt, ap);
	return pt_strbuf_steal(&sb);
}

/* Text kept byte for byte: a warning or a diff may quote a file that is not
 * UTF-8, and the runtime's pt_warn and pt_diff_add make such bytes printable;
 * jansson's checked json_string() would drop the whole text instead. */
static json_t *text(const char *s)
{
	return json_string_nocheck(s ? s : "");
}

void pt_report_warn(struct pt_report *rep, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = format(fmt, ap);
	va_end(ap);
	if (s)
		json_array_append_new(rep->warnings, text(s));
	free(s);
}

int pt_report_fail(struct pt_report *rep, int err, const char *fmt, ...)
{
	if (rep->error)
		return err;
	va_list ap;
	va_start(ap, fmt);
	rep->msg = format(fmt, ap);
	va_end(ap);
	rep->error = err;
	return err;
}

void pt_report_diff(struct pt_report *rep, const char *path, const char *before, const char *after)
{
	json_t *d = json_object();
	json_object_set_new(d, "path", text(path));
	json_object_set_new(d, "before", text(before));
	json_object_set_new(d, "after", text(after));
	json_array_append_new(rep->diffs, d);
}

void pt_report_fact(struct pt_report *rep, const char *key, json_t *value)
{
	json_object_set_new(rep->facts, key, value);
}
