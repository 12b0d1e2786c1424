/* Layer: runtime, the only layer with Ansible types. Included by the
 * modules/NAME.c mains, the NAME_run files (opts_read, result_to_module, in
 * their .c), and tests. (iommu.c, modprobe_conf.c and vfio_safety.c include it
 * too, for pt_json_text alone: an upward include issue 15 removes.)
 *
 * The module runtime: what every modules/NAME.c main goes through.
 *
 * Life of a module run:
 *     struct pt_module m;
 *     if (pt_module_init(&m, "homelab.passthrough.NAME", NAME_argspec_json, argc, argv) < 0)
 *             return pt_module_finish(&m);      // prints the failed result
 *     ... read pt_param_*(&m, ...), do the work, pt_result_set(&m, ...) ...
 *     return pt_module_finish(&m);              // or pt_module_fail(&m, "...")
 *
 * Only pt_module_finish prints to stdout, exactly one JSON object. Nothing else in
 * module_utils prints to stdout or exits. */
#ifndef PT_RUNTIME_H
#define PT_RUNTIME_H

#include <stdbool.h>

#include <jansson.h>

#include "json_text.h" /* pt_json_text, for the modules' results */
#include "report.h"

struct pt_module {
	const char *name; /* fully qualified module name (borrowed, static) */
	json_t *spec;     /* argument spec (owned) */
	json_t *params;   /* validated options (owned); NULL if validation failed */
	json_t *result;   /* the result object being built (owned) */
	json_t *warnings; /* array of strings, moved into result at finish (owned) */
	json_t *diffs;    /* array of diff entries (owned) */
	bool check_mode;  /* _ansible_check_mode */
	bool diff_mode;   /* _ansible_diff */
	bool no_log;      /* _ansible_no_log */
	int verbosity;    /* _ansible_verbosity */
	bool failed;      /* pt_module_fail_* was called */
};

/* The command line of every module binary, one convention for all:
 *     NAME ARGS_FILE    run as the Ansible module, the options read from the file
 *     NAME -            the same, the options read from stdin (a pipelined task)
 *     NAME --help | -h  usage on stdout, exit code 0
 *     NAME              (no argument), an unknown option starting with '-', or more
 *                       than one argument: what is wrong and the usage on stderr,
 *                       exit code 2
 * Returns -1 when the module should run (then call pt_module_init), otherwise the
 * exit code main returns, the usage already printed. prog and usage are borrowed. */
int pt_module_cli(int argc, char **argv, const char *prog, const char *usage);

/* Read the args file argv[1] ("-": stdin), split off _ansible_* keys and validate the rest
 * against spec_json. Returns 0 on success. On any failure (no argument, unreadable
 * file, not a JSON object, validation error) returns -1 with m marked failed and
 * the message set: the caller just returns pt_module_finish(m). */
int pt_module_init(struct pt_module *m, const char *name, const char *spec_json, int argc,
                   char **argv);

/* Same as pt_module_init but from an already parsed args object (borrowed): for
 * tests and for the --json shell mode. */
int pt_module_init_json(struct pt_module *m, const char *name, const char *spec_json,
                        const json_t *args);

/* Option accessors. Borrowed values valid until pt_module_finish. A missing or
 * null option gives NULL / the fallback. */
json_t *pt_param(const struct pt_module *m, const char *key);
const char *pt_param_str(const struct pt_module *m, const char *key);
bool pt_param_bool(const struct pt_module *m, const char *key, bool fallback);
long long pt_param_int(const struct pt_module *m, const char *key, long long fallback);

/* A timeout option in seconds: its value when it lies in 1..PT_MAX_SECONDS;
 * otherwise the module is marked failed with a message naming the option, and
 * -1 is returned (the caller stops). A missing option gives fallback. */
#define PT_MAX_SECONDS (7 * 24 * 3600)
int pt_param_seconds(struct pt_module *m, const char *key, int fallback);

/* A path option (a file on the managed host, taken under root): *out is its
 * value (borrowed; NULL when unset) and 0 is returned. A value that does not
 * start with '/' would be joined onto root as "<root>etc/..." or taken from the
 * working directory, so it is refused: the module is marked failed with a
 * message naming the option, *out is NULL and -1 is returned. */
int pt_param_abspath(struct pt_module *m, const char *key, const char **out);

/* The `root` option ("/" when the module has none or it is null). Borrowed. It
 * is an absolute path to a directory: pt_module_init refuses a root that is not
 * (and "", which would otherwise read as "/"). */
const char *pt_module_root(const struct pt_module *m);

/* Set a key on the result. pt_result_set steals value (even on failure, as
 * json_object_set_new does). */
void pt_result_set(struct pt_module *m, const char *key, json_t *value);
void pt_result_set_changed(struct pt_module *m, bool changed);

/* Add a warning (shown by Ansible as [WARNING]). */
void pt_warn(struct pt_module *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Add a diff entry {before, after, before_header, after_header}; only kept when
 * diff mode is on. Strings are copied. */
void pt_diff_add(struct pt_module *m, const char *header, const char *before, const char *after);

/* Hand what a library step reported to the result, in this order: its
 * warnings (pt_warn), its diffs (pt_diff_add, headed by their path), when
 * failed is true the failure (pt_module_fail with rep->msg, or "out of memory"
 * when the message could not be made), then its facts as result keys. rep stays
 * the caller's. */
void pt_report_to_module(struct pt_module *m, const struct pt_report *rep, bool failed);

/* Mark the run failed with a message for the user. Returns -1 so callers can
 * `return pt_module_fail(...)` from helpers, or use pt_module_finish's exit code. */
int pt_module_fail(struct pt_module *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print the result as one JSON object on stdout (with invocation.module_args,
 * no_log values masked, warnings, diff), free everything in m, and return the
 * process exit code: 0, or 1 when failed. */
int pt_module_finish(struct pt_module *m);

/* Build the result object without printing (tests use it). New reference. */
json_t *pt_module_result(struct pt_module *m);
/* Free what m holds without printing. */
void pt_module_release(struct pt_module *m);

#endif
