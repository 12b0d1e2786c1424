/* Layer: host I/O. Included by the families that run a command on the host
 * (boot_*, vfio_*, pve_mapping_* through pvesh.h), and by tests and tools.
 *
 * Running commands without a shell: fork, optional chroot, execve of an
 * argument vector; stdout and stderr captured; a timeout that kills. */
#ifndef PT_EXEC_H
#define PT_EXEC_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct pt_exec_result {
	int rc;         /* exit status; 128+N when killed by signal N; -1 if not run */
	char *out;      /* captured stdout, NUL-terminated (owned) */
	char *err;      /* captured stderr, NUL-terminated (owned) */
	bool timed_out; /* killed after the timeout */
};

/* Run argv (argv[0] is a path, or a name looked up in /usr/sbin:/usr/bin:/sbin:/bin
 * of the root) with stdin from /dev/null, LC_ALL=C and a fixed PATH. When root is
 * not NULL and not "/", the child chroots into it first. timeout_sec <= 0 means no
 * limit. Returns 0 when the command ran (whatever its rc: see res->rc), -errno
 * when it could not be started (then res->err explains). res must be released with
 * pt_exec_result_release. */
int pt_exec(const char *root, const char *const argv[], int timeout_sec,
            struct pt_exec_result *res);

/* pt_exec with LC_ALL and LANG set to locale instead of "C" (NULL: "C"), for a
 * command that reads its arguments or writes its output by the locale (pvesh
 * decodes every argument with it). -EINVAL, without running anything, when the
 * name is empty, longer than 64 bytes, or holds '=', '/' or blanks. */
int pt_exec_in_locale(const char *root, const char *const argv[], int timeout_sec,
                      const char *locale, struct pt_exec_result *res);

void pt_exec_result_release(struct pt_exec_result *res);

/* Bytes the environment pt_exec gives a command takes in execve's argument space:
 * each string with its NUL, and one pointer each (the terminating NULL included).
 * For callers that check an argument vector against the kernel's limits first. */
size_t pt_exec_env_bytes(void);
/* The same for pt_exec_in_locale's environment with this locale (0 for a name it
 * refuses). */
size_t pt_exec_env_bytes_in_locale(const char *locale);

/* argv joined with spaces, for messages. Caller frees. */
char *pt_exec_cmdline(const char *const argv[]);

/* Put rc, stdout, stderr and cmd of a run into obj (borrowed object). */
void pt_exec_result_to_json(const char *const argv[], const struct pt_exec_result *res,
                            json_t *obj);

/* True when prog (a path, or a name looked up as pt_exec does) is a regular
 * executable file inside root, found the way the chrooted command will find it:
 * links followed inside root, ".." stopping at root. So a check that passes
 * means pt_exec can start it, and a link that leads out of root does not count. */
bool pt_exec_available(const char *root, const char *prog);

#endif
