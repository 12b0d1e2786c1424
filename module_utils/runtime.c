#include "runtime.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "argspec.h"
#include "cleanup.h"
#include "files.h"
#include "json_dump.h"
#include "json_text.h"
#include "strbuf.h"

static void module_reset(struct pt_module *m, const char *name)
{
	/* the args file lies outside any root; a previous run's confinement
	 * (tests run several modules in one process) must not apply to it */
	pt_files_confine(NULL);
	memset(m, 0, sizeof *m);
	m->name = name;
	m->result = json_object();
	m->warnings = json_array();
	m->diffs = json_array();
}

int pt_module_fail(struct pt_module *m, const char *fmt, ...)
{
	struct pt_strbuf sb = PT_STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	pt_strbuf_vprintf(&sb, fmt, ap);
	va_end(ap);
	/* the first failure is the one the user needs to see */
	if (!m->failed) {
		json_t *msg = sb.oom ? NULL : pt_json_text(pt_strbuf_str(&sb));
		json_object_set_new(m->result, "msg", msg ? msg : json_string("out of memory"));
	}
	pt_strbuf_release(&sb);
	m->failed = true;
	return -1;
}

static bool key_is_internal(const char *key)
{
	return strncmp(key, "_ansible_", 9) == 0;
}

int pt_module_init_json(struct pt_module *m, const char *name, const char *spec_json,
                        const json_t *args)
{
	module_reset(m, name);
	if (!m->result || !m->warnings || !m->diffs)
		return pt_module_fail(m, "out of memory");
	m->spec = pt_argspec_load(spec_json);
	if (!m->spec)
		return pt_module_fail(
		        m, "internal error: the argument spec of %s is not valid JSON", name);
	if (!json_is_object(args))
		return pt_module_fail(m, "the module arguments must be a JSON object");

	_cleanup_json_ json_t *user = json_object();
	const char *key;
	json_t *v;
	/* Validation follows the controller's AnsibleModule (argspec.h): 2.14's
	 * messages for a 2.14 controller, the newest when the version is unknown. */
	const char *controller = json_string_value(json_object_get(args, "_ansible_version"));
	json_object_foreach ((json_t *)args, key, v) {
		if (!key_is_internal(key)) {
			json_object_set(user, key, v);
			continue;
		}
		/* Ansible sends many more _ansible_* keys, varying by version: the
		 * ones we do not use are ignored. */
		if (strcmp(key, "_ansible_check_mode") == 0)
			m->check_mode = json_is_true(v);
		else if (strcmp(key, "_ansible_diff") == 0)
			m->diff_mode = json_is_true(v);
		else if (strcmp(key, "_ansible_no_log") == 0)
			m->no_log = json_is_true(v);
		else if (strcmp(key, "_ansible_verbosity") == 0)
			m->verbosity = (int)json_integer_value(v);
	}

	_cleanup_free_ char *msg = NULL;
	int r = pt_argspec_validate_as(pt_ansible_rules_for(controller), m->spec, name, user,
	                               &m->params, &msg, m->warnings);
	if (r < 0)
		return pt_module_fail(m, "%s",
		                      msg ? msg : "out of memory while validating arguments");
	/* pt_module_root would read "" as "/": a templated root that came out empty
	 * must not turn a run meant for a sandbox into one on the host itself. */
	json_t *root = json_object_get(m->params, "root");
	if (json_is_string(root) && !*json_string_value(root))
		return pt_module_fail(m, "root is an empty string; give the directory that holds "
		                         "the host's file system, or / for the host itself");
	/* A relative root would be taken from whatever directory the module runs in
	 * (Ansible's temporary directory), not from the host: refused like every
	 * other path option (pt_param_abspath). */
	if (json_is_string(root) && json_string_value(root)[0] != '/')
		return pt_module_fail(m,
		                      "root '%s' is not an absolute path: give the directory that "
		                      "holds the host's file system, starting with / (or / for the "
		                      "host itself)",
		                      json_string_value(root));
	struct stat st;
	const char *root_dir = pt_module_root(m);
	if (stat(root_dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return pt_module_fail(m,
		                      "root %s is not a directory; give the directory that holds "
		                      "the host's file system, or / for the host itself",
		                      root_dir);
	/* Nothing a module reads or writes may lie outside its root, whatever the
	 * links inside the root say. */
	pt_files_confine(pt_module_root(m));
	return 0;
}

/* Largest args object read from stdin: as large as an args file may be (files.c). */
#define MAX_STDIN_ARGS (16u << 20)

/* Read all of stdin into *data (NUL-terminated, owned by the caller). 0 or -errno. */
static int read_stdin(char **data, size_t *len)
{
	struct pt_strbuf sb = PT_STRBUF_INIT;
	char buf[8192];
	*data = NULL;
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		int e = n < 0 ? errno : 0;
		if (!e && n > 0 && sb.len + (size_t)n > MAX_STDIN_ARGS)
			e = EFBIG;
		if (!e && n > 0 && pt_strbuf_append(&sb, buf, (size_t)n) < 0)
			e = ENOMEM;
		if (e) {
			pt_strbuf_release(&sb);
			return -e;
		}
		if (n == 0)
			break;
	}
	if (sb.oom) {
		pt_strbuf_release(&sb);
		return -ENOMEM;
	}
	*len = sb.len;
	*data = strdup(pt_strbuf_str(&sb));
	pt_strbuf_release(&sb);
	return *data ? 0 : -ENOMEM;
}

int pt_module_cli(int argc, char **argv, const char *prog, const char *usage)
{
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc == 2 && (!strcmp(argv[1], "-") || argv[1][0] != '-'))
		return -1;
	if (argc < 2)
		fprintf(stderr,
		        "%s: no argument given: an args file, or - to read the "
		        "arguments from stdin\n\n",
		        prog);
	else if (argv[1][0] == '-' && strcmp(argv[1], "-") != 0)
		fprintf(stderr, "%s: unknown option '%s'\n\n", prog, argv[1]);
	else
		fprintf(stderr, "%s: one argument expected (an args file, or -), got %d\n\n", prog,
		        argc - 1);
	fputs(usage, stderr);
	return 2;
}

int pt_module_init(struct pt_module *m, const char *name, const char *spec_json, int argc,
                   char **argv)
{
	pt_files_confine(NULL); /* the args file lies outside any root */
	if (argc < 2) {
		module_reset(m, name);
		return pt_module_fail(
		        m, "no argument file given: Ansible runs this module as '%s ARGS_FILE'",
		        name);
	}
	/* "-": the arguments come on stdin, as a pipelined task sends them. */
	bool from_stdin = strcmp(argv[1], "-") == 0;
	_cleanup_free_ char *what = NULL;
	if (asprintf(&what, "%s%s",
	             from_stdin ? "the argument text on stdin" : "the argument file ",
	             from_stdin ? "" : argv[1]) < 0) {
		what = NULL;
		module_reset(m, name);
		return pt_module_fail(m, "out of memory");
	}
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = from_stdin ? read_stdin(&text, &len) : pt_file_read(argv[1], &text, &len);
	if (r < 0) {
		module_reset(m, name);
		return pt_module_fail(m, "cannot read %s: %s", what, strerror(-r));
	}
	json_error_t jerr;
	/* Any JSON value is read, so that valid JSON that is not an object (a string,
	 * a number, null) gets the message that says what is wrong with it. */
	_cleanup_json_ json_t *args =
	        json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!args) {
		module_reset(m, name);
		return pt_module_fail(m, "%s is not valid JSON: %s (line %d, column %d)", what,
		                      jerr.text, jerr.line, jerr.column);
	}
	if (!json_is_object(args)) {
		module_reset(m, name);
		return pt_module_fail(m, "%s must hold a JSON object", what);
	}
	return pt_module_init_json(m, name, spec_json, args);
}

json_t *pt_param(const struct pt_module *m, const char *key)
{
	json_t *v = m->params ? json_object_get(m->params, key) : NULL;
	return json_is_null(v) ? NULL : v;
}

const char *pt_param_str(const struct pt_module *m, const char *key)
{
	return json_string_value(pt_param(m, key));
}

bool pt_param_bool(const struct pt_module *m, const char *key, bool fallback)
{
	json_t *v = pt_param(m, key);
	return json_is_boolean(v) ? json_is_true(v) : fallback;
}

long long pt_param_int(const struct pt_module *m, const char *key, long long fallback)
{
	json_t *v = pt_param(m, key);
	return json_is_integer(v) ? json_integer_value(v) : fallback;
}

int pt_param_seconds(struct pt_module *m, const char *key, int fallback)
{
	json_t *v = pt_param(m, key);
	if (!v)
		return fallback;
	long long n = json_integer_value(v);
	if (!json_is_integer(v) || n < 1 || n > PT_MAX_SECONDS) {
		pt_module_fail(m, "%s must be a number of seconds from 1 to %d, got %lld", key,
		               PT_MAX_SECONDS, n);
		return -1;
	}
	return (int)n;
}

int pt_param_abspath(struct pt_module *m, const char *key, const char **out)
{
	const char *v = pt_param_str(m, key);
	*out = v;
	if (!v || v[0] == '/')
		return 0;
	*out = NULL;
	return pt_module_fail(m,
	                      "%s '%s' is not an absolute path: give the path as the host sees "
	                      "it, starting with / (it is taken under root)",
	                      key, v);
}

const char *pt_module_root(const struct pt_module *m)
{
	const char *root = pt_param_str(m, "root");
	return root && *root ? root : "/";
}

void pt_result_set(struct pt_module *m, const char *key, json_t *value)
{
	json_object_set_new(m->result, key, value);
}

void pt_result_set_changed(struct pt_module *m, bool changed)
{
	json_object_set_new(m->result, "changed", json_boolean(changed));
}

void pt_warn(struct pt_module *m, const char *fmt, ...)
{
	struct pt_strbuf sb = PT_STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	pt_strbuf_vprintf(&sb, fmt, ap);
	va_end(ap);
	if (!sb.oom)
		json_array_append_new(m->warnings, pt_json_text(pt_strbuf_str(&sb)));
	pt_strbuf_release(&sb);
}

void pt_diff_add(struct pt_module *m, const char *header, const char *before, const char *after)
{
	if (!m->diff_mode)
		return;
	/* Files need not be UTF-8 (a Latin-1 comment): the diff must not vanish. */
	/* Built key by key, not with json_pack: that would link jansson's whole
	 * pack/unpack machinery (about 10 KB) into every module. */
	json_t *d = json_object();
	json_object_set_new(d, "before", pt_json_text(before ? before : ""));
	json_object_set_new(d, "after", pt_json_text(after ? after : ""));
	json_object_set_new(d, "before_header", pt_json_text(header));
	json_object_set_new(d, "after_header", pt_json_text(header));
	json_array_append_new(m->diffs, d);
}

/* The result: m->result's members and what the run adds. A caller that keeps
 * it gets a deep copy; pt_module_finish, which only prints it, shares the
 * members (a deep copy of iommu_facts' facts cost a fifth of its run). */
static json_t *module_result(struct pt_module *m, bool shared)
{
	json_t *r = shared ? json_copy(m->result) : json_deep_copy(m->result);
	if (!r)
		return NULL;
	if (!json_object_get(r, "changed"))
		json_object_set_new(r, "changed", json_false());
	if (m->failed)
		json_object_set_new(r, "failed", json_true());
	/* A failed result always tells the user something. */
	if (m->failed && !json_is_string(json_object_get(r, "msg")))
		json_object_set_new(r, "msg",
		                    json_string("the module failed without saying why "
		                                "(internal error); please report it"));
	if (json_array_size(m->warnings))
		json_object_set(r, "warnings", m->warnings);
	/* One file: the diff dict Ansible expects; several: a list of them. */
	if (m->diff_mode && json_array_size(m->diffs) == 1)
		json_object_set(r, "diff", json_array_get(m->diffs, 0));
	else if (m->diff_mode && json_array_size(m->diffs) > 1)
		json_object_set(r, "diff", m->diffs);
	if (m->params && m->spec) {
		json_t *args = pt_argspec_mask_no_log(m->spec, m->params);
		json_t *invocation = json_object();
		json_object_set_new(invocation, "module_args", args);
		json_object_set_new(r, "invocation", invocation);
	}
	return r;
}

json_t *pt_module_result(struct pt_module *m)
{
	return module_result(m, false);
}

void pt_module_release(struct pt_module *m)
{
	pt_files_confine(NULL); /* the run is over: its root no longer applies */
	json_decref(m->spec);
	json_decref(m->params);
	json_decref(m->result);
	json_decref(m->warnings);
	json_decref(m->diffs);
	m->spec = m->params = m->result = m->warnings = m->diffs = NULL;
}

int pt_module_finish(struct pt_module *m)
{
	bool failed = m->failed;
	json_t *r = module_result(m, true);
	char *text = r ? pt_json_dumps(r, JSON_COMPACT) : NULL; /* json_dumps' text, faster */
	if (text)
		printf("%s\n", text);
	else /* still one JSON object, whatever happened */
		printf("{\"failed\": true, \"msg\": \"out of memory while writing the result\"}\n");
	fflush(stdout);
	free(text);
	json_decref(r);
	pt_module_release(m);
	return failed || !text ? 1 : 0;
}

void pt_report_to_module(struct pt_module *m, const struct pt_report *rep, bool failed)
{
	const char *key;
	size_t i;
	json_t *v;
	json_array_foreach (rep->warnings, i, v)
		pt_warn(m, "%s", json_string_value(v));
	json_array_foreach (rep->diffs, i, v)
		pt_diff_add(m, json_string_value(json_object_get(v, "path")),
		            json_string_value(json_object_get(v, "before")),
		            json_string_value(json_object_get(v, "after")));
	if (failed)
		pt_module_fail(m, "%s", rep->msg ? rep->msg : "out of memory");
	json_object_foreach (rep->facts, key, v)
		pt_result_set(m, key, json_incref(v));
}
