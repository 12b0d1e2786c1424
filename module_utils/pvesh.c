#include "pvesh.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "strbuf.h"

void pt_pvesh_release(struct pt_pvesh *sh)
{
	json_decref(sh->failure);
	sh->failure = NULL;
}

/* linux/binfmts.h: one argument, its NUL included, may take 32 pages
 * (MAX_ARG_STRLEN); all of them at least that much (ARG_MAX). */
#define ARG_PAGES 32
/* fs/exec.c: argv and the environment may take a quarter of the stack limit, but
 * never more than 3/4 of _STK_LIM (8 MiB), whatever the limit (unlimited
 * included, where sysconf(_SC_ARG_MAX) is huge). */
#define ARG_SPACE_CAP (8UL * 1024 * 1024 / 4 * 3)
/* The same space also holds the program's file name (argv[0] again, or the path
 * pt_exec found it at) and the pointers the kernel adds: one page covers them. */
#define ARG_MARGIN 4096

int pt_pvesh_argspace(const char *const argv[], struct pt_pvesh_argspace *space)
{
	memset(space, 0, sizeof *space);
	long page = sysconf(_SC_PAGESIZE);
	size_t strlen_max = (size_t)(page > 0 ? page : 4096) * ARG_PAGES;
	space->arg_max = strlen_max - 1;
	long arg_max = sysconf(_SC_ARG_MAX);
	size_t room = arg_max > 0 ? (size_t)arg_max : strlen_max;
	if (room > ARG_SPACE_CAP)
		room = ARG_SPACE_CAP;
	if (room < strlen_max)
		room = strlen_max;
	space->total_max = room - ARG_MARGIN;
	space->total = pt_exec_env_bytes_in_locale(PT_PVESH_LOCALE) + sizeof(char *);
	for (size_t i = 0; argv[i]; i++) {
		size_t len = strlen(argv[i]);
		space->total += len + 1 + sizeof(char *);
		if (len > space->longest_len) {
			space->longest = i;
			space->longest_len = len;
		}
	}
	return space->longest_len > space->arg_max || space->total > space->total_max ? -E2BIG : 0;
}

/* Arguments longer than this are cut in messages, and after MSG_ARGS arguments
 * only the count is given: a message is read by a person. */
#define MSG_ARG_LEN 200
#define MSG_ARGS    40

size_t pt_pvesh_cut(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);
	if (n <= max)
		return n;
	n = max;
	while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

char *pt_pvesh_cmdline(const char *const argv[])
{
	struct pt_strbuf sb = PT_STRBUF_INIT;
	size_t n = 0;
	while (argv[n])
		n++;
	for (size_t i = 0; i < n; i++) {
		if (i == MSG_ARGS) {
			pt_strbuf_printf(&sb, " ... (%zu arguments in all)", n);
			break;
		}
		size_t len = strlen(argv[i]);
		if (len > MSG_ARG_LEN)
			pt_strbuf_printf(&sb, "%s%.*s...(%zu bytes)", i ? " " : "",
			                 (int)pt_pvesh_cut(argv[i], 60), argv[i], len);
		else
			pt_strbuf_printf(&sb, "%s%s", i ? " " : "", argv[i]);
	}
	return pt_strbuf_steal(&sb);
}

int pt_pvesh_run(struct pt_pvesh *sh, const char *const argv[], struct pt_exec_result *res)
{
	struct pt_pvesh_argspace space;
	if (pt_pvesh_argspace(argv, &space) < 0) {
		/* execve would refuse with E2BIG and the child could only say that it
		 * could not execute pvesh: say why before trying. */
		memset(res, 0, sizeof *res);
		res->rc = -1;
		_cleanup_free_ char *cmd = pt_pvesh_cmdline(argv);
		if (space.longest_len > space.arg_max)
			return pt_report_fail(sh->rep, -E2BIG,
			                      "cannot run %s: argument %zu is %zu bytes long, and "
			                      "the kernel takes at most %zu in one argument",
			                      cmd ? cmd : sh->path, space.longest,
			                      space.longest_len, space.arg_max);
		return pt_report_fail(sh->rep, -E2BIG,
		                      "cannot run %s: its arguments take %zu bytes, and this "
		                      "host allows %zu for one command",
		                      cmd ? cmd : sh->path, space.total, space.total_max);
	}
	int rc = pt_exec_in_locale(sh->root, argv, sh->timeout, PT_PVESH_LOCALE, res);
	if (rc < 0) {
		_cleanup_free_ char *cmd = pt_pvesh_cmdline(argv);
		pt_report_fail(sh->rep, rc, "cannot run %s: %s", cmd ? cmd : sh->path,
		               res->err && *res->err ? res->err : strerror(-rc));
		pt_exec_result_release(res);
	}
	return rc < 0 ? rc : 0;
}

bool pt_pvesh_did_not_run(const struct pt_exec_result *res)
{
	return res->timed_out || res->rc == 126 || res->rc == 127 ||
	       (res->rc > 128 && res->rc <= 128 + 64);
}

bool pt_pvesh_no_such_mapping(const struct pt_exec_result *res, const char *id)
{
	if (res->rc == 0 || pt_pvesh_did_not_run(res) || !res->err || !id)
		return false;
	_cleanup_free_ char *answer = NULL;
	if (asprintf(&answer, "mapping '%s' not found", id) < 0)
		return false;
	size_t n = strlen(answer);
	for (const char *p = res->err; *p;) {
		size_t len = strcspn(p, "\n");
		if (len == n && memcmp(p, answer, n) == 0)
			return true;
		p += len + (p[len] ? 1 : 0);
	}
	return false;
}

void pt_pvesh_keep_failure(struct pt_pvesh *sh, const char *const argv[],
                           const struct pt_exec_result *res)
{
	json_decref(sh->failure);
	sh->failure = json_object();
	pt_exec_result_to_json(argv, res, sh->failure);
}

char *pt_pvesh_error_line(const char *err)
{
	const char *p = err ? err : "";
	while (*p) {
		size_t n = strcspn(p, "\n");
		if (n && strncmp(p, "trying to acquire cfs lock", 26) != 0)
			return strndup(p, n);
		p += n + (p[n] ? 1 : 0);
	}
	return strdup("(no error output)");
}

/* Every line of pvesh's error output worth reading, joined with " / ", at most
 * about 1000 bytes; "(no error output)" when there is none. Caller frees; NULL
 * when out of memory. */
static char *error_text(const char *err)
{
	struct pt_strbuf sb = PT_STRBUF_INIT;
	for (const char *p = err ? err : ""; *p;) {
		size_t n = strcspn(p, "\n");
		if (n && strncmp(p, "trying to acquire cfs lock", 26) != 0) {
			if (sb.len > 1000) {
				pt_strbuf_puts(&sb, " / ...");
				break;
			}
			pt_strbuf_printf(&sb, "%s%.*s", sb.len ? " / " : "", (int)n, p);
		}
		p += n + (p[n] ? 1 : 0);
	}
	if (!sb.len && !sb.oom)
		pt_strbuf_puts(&sb, "(no error output)");
	return pt_strbuf_steal(&sb);
}

int pt_pvesh_fail(struct pt_pvesh *sh, const char *const argv[], const struct pt_exec_result *res)
{
	pt_pvesh_keep_failure(sh, argv, res);
	_cleanup_free_ char *cmd = pt_pvesh_cmdline(argv);
	bool ran = !pt_pvesh_did_not_run(res);
	_cleanup_free_ char *text = ran ? pt_pvesh_error_line(res->err) : error_text(res->err);
	if (!cmd || !text)
		return pt_report_fail(sh->rep, -ENOMEM, "out of memory");
	if (res->timed_out)
		return pt_report_fail(sh->rep, -EIO,
		                      "%s was stopped after %d seconds (timeout option): %s", cmd,
		                      sh->timeout, text);
	if (res->rc == 126 || res->rc == 127)
		return pt_report_fail(sh->rep, -EIO, "%s could not be executed (rc %d): %s", cmd,
		                      res->rc, text);
	if (!ran)
		return pt_report_fail(sh->rep, -EIO, "%s was killed by signal %d (rc %d): %s", cmd,
		                      res->rc - 128, res->rc, text);
	return pt_report_fail(sh->rep, -EIO, "%s failed (rc %d): %s", cmd, res->rc, text);
}

bool pt_pvesh_unknown_option(const char *err, const char *option)
{
	if (!err || !option)
		return false;
	/* Getopt::Long's warning, one line, before pvesh's "400 unable to parse option". */
	static const char prefix[] = "Unknown option: ";
	size_t n = strlen(option);
	for (const char *p = err; *p;) {
		size_t len = strcspn(p, "\n");
		if (len == sizeof prefix - 1 + n && memcmp(p, prefix, sizeof prefix - 1) == 0 &&
		    memcmp(p + sizeof prefix - 1, option, n) == 0)
			return true;
		p += len + (p[len] ? 1 : 0);
	}
	return false;
}

bool pt_pvesh_lost_race(const char *err)
{
	return err &&
	       (strstr(err, "detected modified configuration") || strstr(err, "already defined") ||
	        strstr(err, "does not exist") || strstr(err, "got lock request timeout"));
}

void pt_pvesh_pass_on_warnings(struct pt_pvesh *sh, const char *err)
{
	if (sh->warned || !err || !*err)
		return;
	sh->warned = true;
	for (const char *p = err; *p;) {
		size_t n = strcspn(p, "\n");
		/* A line that is not UTF-8 (a real pvesh prints pci.cfg's Latin-1 bytes
		 * as they are) is left out rather than shown with U+FFFD: results keep
		 * what they always held. jansson's checked json_stringn tells. */
		json_t *utf8 = n ? json_stringn(p, n) : NULL;
		if (utf8)
			pt_report_warn(sh->rep, "pvesh: %.*s", (int)n, p);
		json_decref(utf8);
		p += n + (p[n] ? 1 : 0);
	}
}

void pt_pvesh_back_off(int attempt)
{
	long cap = 50L << (attempt < 6 ? attempt : 6);
	if (cap > 2000)
		cap = 2000;
	long ms = random() % (cap + 1);
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}
