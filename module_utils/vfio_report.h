/* What a vfio_bind run has to tell the user, gathered by the library for the
 * module's main to put into its result: the library never prints and never
 * exits, so warnings, diffs and the reason for a failure travel in here.
 *
 * A step that fails records its message with pt_vfio_report_fail and returns
 * the negative errno it was given; the first failure is the one the user sees,
 * as with pt_module_fail. Out of memory while recording drops the warning or
 * diff (a failure still counts: msg stays NULL and the caller reports "out of
 * memory"). */
#ifndef PT_VFIO_REPORT_H
#define PT_VFIO_REPORT_H

#include <jansson.h>

/* The strings in warnings and diffs hold the text byte for byte, UTF-8 or not
 * (json_string_nocheck): hand them to pt_warn and pt_diff_add, which make them
 * valid JSON, rather than dumping them as they are. */
struct pt_vfio_report {
	json_t *warnings; /* strings, in the order they arose (owned) */
	json_t *diffs;    /* {path, before, after} per file that changes, in order (owned) */
	char *msg;        /* the first failure; NULL while there is none (owned) */
	int error;        /* the first failure's negative errno; 0 while there is none */
};

/* An empty report. 0, or -ENOMEM (then release it anyway). */
int pt_vfio_report_init(struct pt_vfio_report *rep);

/* Free what rep holds and leave it empty. */
void pt_vfio_report_release(struct pt_vfio_report *rep);

/* Append a warning for the user (shown by Ansible as [WARNING]). */
void pt_vfio_report_warn(struct pt_vfio_report *rep, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* Record a failure, unless one is recorded already. err is a negative errno
 * (-EINVAL for a refusal or bad input, -ENOMEM, or what the failed call gave);
 * returns it, so a step can `return pt_vfio_report_fail(rep, -EINVAL, ...)`. The
 * message says what is wrong and what to do about it. */
int pt_vfio_report_fail(struct pt_vfio_report *rep, int err, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Append a diff entry for the file at path (strings copied; NULL counts as ""). */
void pt_vfio_report_diff(struct pt_vfio_report *rep, const char *path, const char *before,
                         const char *after);

#endif
