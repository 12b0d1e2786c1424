#include "pvesh.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "pve_mapping.h"

void pt_pvesh_release(struct pt_pvesh *sh)
{
	json_decref(sh->failure);
	sh->failure = NULL;
}

int pt_pvesh_run(struct pt_pvesh *sh, const char *const argv[], struct pt_exec_result *res,
                 char **msg)
{
	*msg = NULL;
	int rc = pt_exec(sh->root, argv, sh->timeout, res);
	if (rc < 0) {
		_cleanup_free_ char *cmd = pt_exec_cmdline(argv);
		pt_pve_message(msg, rc, "cannot run %s: %s", cmd ? cmd : sh->path,
		               res->err && *res->err ? res->err : strerror(-rc));
		pt_exec_result_release(res);
	}
	return rc < 0 ? rc : 0;
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

int pt_pvesh_fail(struct pt_pvesh *sh, const char *const argv[], const struct pt_exec_result *res,
                  char **msg)
{
	pt_pvesh_keep_failure(sh, argv, res);
	_cleanup_free_ char *cmd = pt_exec_cmdline(argv);
	_cleanup_free_ char *line = pt_pvesh_error_line(res->err);
	if (res->timed_out)
		return pt_pve_message(msg, -EIO,
		                      "%s was stopped after %d seconds (timeout option): %s", cmd,
		                      sh->timeout, line);
	return pt_pve_message(msg, -EIO, "%s failed (rc %d): %s", cmd, res->rc, line);
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
		if (n)
			pt_pve_warn(sh->warnings, "pvesh: %.*s", (int)n, p);
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
