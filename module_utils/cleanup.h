/* Layer: base (no Ansible types, no host I/O). Anyone may include it.
 *
 * Scope-bound cleanup for locals, so a function that allocates several things
 * releases them on every return path without a ladder of frees. */
#ifndef PT_CLEANUP_H
#define PT_CLEANUP_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <jansson.h>

static inline void pt_freep(void *p)
{
	free(*(void **)p);
}
static inline void pt_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
static inline void pt_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
static inline void pt_json_decrefp(json_t **j)
{
	json_decref(*j);
}

/* char *s _cleanup_free_ = NULL; */
#define _cleanup_free_   __attribute__((cleanup(pt_freep)))
#define _cleanup_fclose_ __attribute__((cleanup(pt_fclosep)))
#define _cleanup_close_  __attribute__((cleanup(pt_closep)))
#define _cleanup_json_   __attribute__((cleanup(pt_json_decrefp)))
/* struct pt_report rep _cleanup_report_ = {0}; (report.h declares pt_report_release):
 * a step's report that the caller only reads, e.g. to word its own message. */
#define _cleanup_report_ __attribute__((cleanup(pt_report_release)))

/* Hand ownership out of a cleanup variable: returns the value, leaves NULL. */
#define PT_STEAL(p)                                                                                \
	({                                                                                         \
		__typeof__(p) pt_steal_tmp_ = (p);                                                 \
		(p) = NULL;                                                                        \
		pt_steal_tmp_;                                                                     \
	})

#endif
