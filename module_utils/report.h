/* Layer: base (no Ansible types, no host I/O). Anyone may include it.
 *
 * The one channel through which library code tells the user something: the
 * library never prints and never exits, so a failure's message, the warnings,
 * the diffs and the facts that explain a refusal travel in a struct pt_report
 * that the step fills and the module's NAME_result_to_module hands to the
 * runtime (pt_report_to_module in runtime.h). The model is jansson's
 * json_error_t: one struct the caller owns, passed down by pointer, the first
 * error kept.
 *
 * A step that fails records its message with pt_report_fail and returns the
 * negative errno it was given; the first failure is the one the user sees, as
 * with pt_module_fail. Out of memory while recording drops the warning, diff
 * or fact (a failure still counts: msg stays NULL and the runtime reports "out
 * of memory"). */
#ifndef PT_REPORT_H
#define PT_REPORT_H

#include <jansson.h>

/* The strings in warnings and diffs hold the text byte for byte, UTF-8 or not
 * (json_string_nocheck): hand them to pt_warn and pt_diff_add, which make them
 * valid JSON, rather than dumping them as they are. */
struct pt_report {
	json_t *warnings; /* strings, in the order they arose (owned) */
	json_t *diffs;    /* {path, before, after} per file that changes, in order (owned) */
	json_t *facts;    /* object: result keys that explain a failure, e.g. the
	                   * pvesh command and its stderr; merged into the result (owned) */
	char *msg;        /* the first failure; NULL while there is none (owned) */
	int error;        /* the first failure's negative errno; 0 while there is none */
};
/* A zeroed report ({0}, no pt_report_init) records a failure only (warnings,
 * diffs and facts are dropped) and is released the same way: what a caller
 * that words a step's message into its own uses (cleanup.h's _cleanup_report_). */

/* An empty report. 0, or -ENOMEM (then release it anyway). */
int pt_report_init(struct pt_report *rep);

/* Free what rep holds and leave it empty. */
void pt_report_release(struct pt_report *rep);

/* Append a warning for the user (shown by Ansible as [WARNING]). */
void pt_report_warn(struct pt_report *rep, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* Record a failure, unless one is recorded already. err is a negative errno
 * (-EINVAL for a refusal or bad input, -ENOMEM, or what the failed call gave);
 * returns it, so a step can `return pt_report_fail(rep, -EINVAL, ...)`. The
 * message says what is wrong and what to do about it. */
int pt_report_fail(struct pt_report *rep, int err, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Append a diff entry for the file at path (strings copied; NULL counts as ""). */
void pt_report_diff(struct pt_report *rep, const char *path, const char *before, const char *after);

/* Set a fact that explains the outcome (key copied, value stolen; a key set
 * twice keeps the later value). */
void pt_report_fact(struct pt_report *rep, const char *key, json_t *value);

#endif
