#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "files.h"
#include "root_path.h"
#include "strbuf.h"

static const char *const search_path[] = {"/usr/sbin", "/usr/bin", "/sbin", "/bin", NULL};
/* The child's environment: a fixed PATH, the locale (LC_ALL and LANG, "C" unless the
 * caller names one), no prompts from Debian's tools. */
#define ENV_PATH     "PATH=/usr/sbin:/usr/bin:/sbin:/bin"
#define ENV_FRONTEND "DEBIAN_FRONTEND=noninteractive"
#define ENV_COUNT    4
#define LOCALE_MAX   64

struct child_env {
	char lc_all[sizeof "LC_ALL=" + LOCALE_MAX];
	char lang[sizeof "LANG=" + LOCALE_MAX];
	char *env[ENV_COUNT + 1];
};

/* Fill e for locale (NULL: "C"). -EINVAL when the name is too long or holds what no
 * locale name holds. */
static int child_env_init(struct child_env *e, const char *locale)
{
	if (!locale)
		locale = "C";
	if (!*locale || strlen(locale) > LOCALE_MAX || strpbrk(locale, "=/ \t\n"))
		return -EINVAL;
	snprintf(e->lc_all, sizeof e->lc_all, "LC_ALL=%s", locale);
	snprintf(e->lang, sizeof e->lang, "LANG=%s", locale);
	e->env[0] = (char *)ENV_PATH;
	e->env[1] = e->lc_all;
	e->env[2] = e->lang;
	e->env[3] = (char *)ENV_FRONTEND;
	e->env[4] = NULL;
	return 0;
}

static bool is_root(const char *root)
{
	return !root || !*root || strcmp(root, "/") == 0;
}

/* Where a path inside root is on the machine the module runs on, resolved as
 * the chrooted child will resolve it: links followed inside root, ".." stopping
 * at root (root_path.h's walk). Caller frees; NULL when it leaves root or
 * memory runs out. */
static char *host_path(const char *root, const char *inside)
{
	_cleanup_free_ char *joined = pt_path_join(root, inside);
	if (!joined || is_root(root))
		return PT_STEAL(joined);
	_cleanup_free_ char *trimmed = strdup(root);
	if (!trimmed)
		return NULL;
	for (size_t n = strlen(trimmed); n > 1 && trimmed[n - 1] == '/';)
		trimmed[--n] = '\0';
	return pt_path_resolve_under(trimmed, joined);
}

/* True when inside names a regular executable file in root. */
static bool executable_in(const char *root, const char *inside)
{
	_cleanup_free_ char *host = host_path(root, inside);
	struct stat st;
	return host && stat(host, &st) == 0 && S_ISREG(st.st_mode) && access(host, X_OK) == 0;
}

/* Resolve argv[0] to a path inside root (as the child will see it after chroot). */
static char *resolve(const char *root, const char *prog)
{
	if (strchr(prog, '/'))
		return strdup(prog);
	for (const char *const *dir = search_path; *dir; dir++) {
		char *inside = NULL;
		if (asprintf(&inside, "%s/%s", *dir, prog) < 0)
			return NULL;
		if (executable_in(root, inside))
			return inside;
		free(inside);
	}
	return NULL;
}

bool pt_exec_available(const char *root, const char *prog)
{
	_cleanup_free_ char *inside = resolve(root, prog);
	return inside && executable_in(root, inside);
}

size_t pt_exec_env_bytes_in_locale(const char *locale)
{
	struct child_env e;
	if (child_env_init(&e, locale) < 0)
		return 0;
	size_t bytes = sizeof(char *);
	for (char *const *env = e.env; *env; env++)
		bytes += strlen(*env) + 1 + sizeof(char *);
	return bytes;
}

size_t pt_exec_env_bytes(void)
{
	return pt_exec_env_bytes_in_locale(NULL);
}

char *pt_exec_cmdline(const char *const argv[])
{
	struct pt_strbuf sb = PT_STRBUF_INIT;
	for (size_t i = 0; argv[i]; i++)
		pt_strbuf_printf(&sb, "%s%s", i ? " " : "", argv[i]);
	return pt_strbuf_steal(&sb);
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The child: wire the pipes, enter the root, exec. Only async-signal-safe calls. */
static void child(const char *root, const char *path, const char *const argv[], char *const env[],
                  int out, int err)
{
	int devnull = open("/dev/null", O_RDONLY);
	if (devnull >= 0)
		dup2(devnull, 0);
	dup2(out, 1);
	dup2(err, 2);
	if (!is_root(root)) {
		if (chroot(root) < 0 || chdir("/") < 0) {
			static const char msg[] = "cannot chroot into the root directory\n";
			(void)!write(2, msg, sizeof msg - 1);
			_exit(126);
		}
	}
	execve(path, (char *const *)argv, env);
	static const char msg[] = "cannot execute the command\n";
	(void)!write(2, msg, sizeof msg - 1);
	_exit(errno == ENOENT ? 127 : 126);
}

int pt_exec(const char *root, const char *const argv[], int timeout_sec, struct pt_exec_result *res)
{
	return pt_exec_in_locale(root, argv, timeout_sec, NULL, res);
}

int pt_exec_in_locale(const char *root, const char *const argv[], int timeout_sec,
                      const char *locale, struct pt_exec_result *res)
{
	memset(res, 0, sizeof *res);
	res->rc = -1;
	struct child_env env;
	if (child_env_init(&env, locale) < 0) {
		res->out = strdup("");
		if (asprintf(&res->err, "invalid locale name for %s", argv[0]) < 0)
			res->err = NULL;
		return -EINVAL;
	}
	struct pt_strbuf out = PT_STRBUF_INIT, err = PT_STRBUF_INIT;
	_cleanup_free_ char *path = resolve(root, argv[0]);
	if (!path) {
		res->out = strdup("");
		if (asprintf(&res->err, "%s: command not found", argv[0]) < 0)
			res->err = NULL;
		return -ENOENT;
	}
	int po[2], pe[2];
	if (pipe2(po, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(pe, O_CLOEXEC) < 0) {
		int e = errno;
		close(po[0]);
		close(po[1]);
		return -e;
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(po[0]);
		close(po[1]);
		close(pe[0]);
		close(pe[1]);
		return -e;
	}
	if (pid == 0)
		child(root, path, argv, env.env, po[1], pe[1]);
	close(po[1]);
	close(pe[1]);

	struct pollfd fds[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
	long long deadline = timeout_sec > 0 ? now_ms() + (long long)timeout_sec * 1000 : 0;
	int open_fds = 2;
	while (open_fds) {
		int wait_ms = -1;
		if (deadline) {
			long long left = deadline - now_ms();
			if (left <= 0) {
				res->timed_out = true;
				kill(pid, SIGKILL);
				break;
			}
			wait_ms = (int)left;
		}
		int n = poll(fds, 2, wait_ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		for (int i = 0; i < 2; i++) {
			if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			char buf[4096];
			ssize_t r = read(fds[i].fd, buf, sizeof buf);
			if (r > 0) {
				pt_strbuf_append(i ? &err : &out, buf, (size_t)r);
			} else if (r == 0 || errno != EINTR) {
				close(fds[i].fd);
				fds[i].fd = -1;
				open_fds--;
			}
		}
	}
	for (int i = 0; i < 2; i++)
		if (fds[i].fd >= 0)
			close(fds[i].fd);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status))
		res->rc = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		res->rc = 128 + WTERMSIG(status);
	if (res->timed_out)
		pt_strbuf_printf(&err, "%skilled after %d seconds (timeout)\n",
		                 err.len && err.data[err.len - 1] != '\n' ? "\n" : "", timeout_sec);
	res->out = pt_strbuf_steal(&out);
	res->err = pt_strbuf_steal(&err);
	return 0;
}

void pt_exec_result_release(struct pt_exec_result *res)
{
	free(res->out);
	free(res->err);
	res->out = res->err = NULL;
}

/* Command output need not be UTF-8, JSON strings must be: other bytes become '?'. */
static json_t *lossy_string(const char *s)
{
	json_t *j = json_string(s ? s : "");
	if (j || !s)
		return j;
	_cleanup_free_ char *copy = strdup(s);
	if (!copy)
		return NULL;
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	return json_string(copy);
}

void pt_exec_result_to_json(const char *const argv[], const struct pt_exec_result *res, json_t *obj)
{
	json_t *cmd = json_array();
	for (size_t i = 0; argv[i]; i++)
		json_array_append_new(cmd, json_string(argv[i]));
	json_object_set_new(obj, "cmd", cmd);
	json_object_set_new(obj, "rc", json_integer(res->rc));
	json_object_set_new(obj, "stdout", lossy_string(res->out));
	json_object_set_new(obj, "stderr", lossy_string(res->err));
}
