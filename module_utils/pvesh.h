/* Running Proxmox's pvesh (through pt_exec, no shell, chrooted into the root):
 * the failed call kept for the result, the message for the user, pvesh's own
 * warnings passed on once, and telling a lost race from a real failure. */
#ifndef PT_PVESH_H
#define PT_PVESH_H

#include <stdbool.h>

#include <jansson.h>

#include "exec.h"

/* The API path of the cluster's PCI mappings. */
#define PT_PVESH_PCI_API "/cluster/mapping/pci"

struct pt_pvesh {
	const char *root; /* chroot for every call, "/" for the host itself (borrowed) */
	const char *path; /* pvesh's path under root (borrowed) */
	int timeout;      /* seconds each call may take */
	json_t *warnings; /* where pvesh's warnings go: a JSON array (borrowed) */
	bool warned;      /* pvesh's warnings were passed on (once per run) */
	json_t *failure;  /* {cmd, rc, stdout, stderr} of the call the run failed on, for
	                     the result; NULL when none (owned: pt_pvesh_release) */
};

void pt_pvesh_release(struct pt_pvesh *sh);

/* Run argv (argv[0] is sh->path). Returns 0 with res filled whatever pvesh's exit
 * code (release res with pt_exec_result_release), or -errno when pvesh could not
 * be started: then res is released and *msg (caller frees; NULL when out of
 * memory) says why. */
int pt_pvesh_run(struct pt_pvesh *sh, const char *const argv[], struct pt_exec_result *res,
                 char **msg);

/* Keep argv and res (copied) as sh->failure, replacing an earlier one. */
void pt_pvesh_keep_failure(struct pt_pvesh *sh, const char *const argv[],
                           const struct pt_exec_result *res);

/* A call that failed for good: keeps it as sh->failure and returns -EIO with *msg
 * (caller frees; NULL when out of memory) naming the command, its exit code (or
 * the timeout) and the first line of its error output worth reading. */
int pt_pvesh_fail(struct pt_pvesh *sh, const char *const argv[], const struct pt_exec_result *res,
                  char **msg);

/* The first line of pvesh's error output worth showing: not empty, not the
 * "trying to acquire cfs lock" progress line; "(no error output)" when there is
 * none. Caller frees; NULL when out of memory. */
char *pt_pvesh_error_line(const char *err);

/* True when pvesh's error output says another node changed the mapping at the same
 * time (stale digest, an id created or deleted meanwhile, the cluster lock taken):
 * reading again and retrying can succeed. */
bool pt_pvesh_lost_race(const char *err);

/* pvesh's error output on a successful call (its warnings about pci.cfg), one
 * "pvesh: LINE" warning per line; only the first time in a run. */
void pt_pvesh_pass_on_warnings(struct pt_pvesh *sh, const char *err);

/* Sleep before retry number `attempt` (1, 2, ...): a random time up to a cap that
 * doubles each time (100 ms, 200 ms, ... 2 s), so that racing nodes spread out
 * instead of colliding again. Uses random(): the caller seeds it. */
void pt_pvesh_back_off(int attempt);

#endif
