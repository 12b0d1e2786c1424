/* Layer: pve_pci_mapping family (pve_mapping_*, pvesh), over the host I/O layer
 * (exec.h). Included by pve_mapping_read, pve_mapping_plan, pve_pci_mapping_run
 * and the pve tests and fuzz harnesses.
 *
 * Running Proxmox's pvesh (through pt_exec, no shell, chrooted into the root):
 * the failed call kept for the result, the message for the user, pvesh's own
 * warnings passed on once, and telling a lost race from a real failure. Messages
 * and warnings go to the struct pt_report the caller hands over in struct
 * pt_pvesh. */
#ifndef PT_PVESH_H
#define PT_PVESH_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "exec.h"
#include "report.h"

/* The locale pvesh runs in. pvesh decodes every argument with the locale
 * (pve-common JSONSchema.pm, decode('locale')): under "C" each byte of a non-ASCII
 * character becomes U+FFFD before it is stored. Under a UTF-8 locale it gets the
 * characters the module means. Debian's libc-bin ships C.UTF-8
 * (/usr/lib/locale/C.utf8), so it exists on every Proxmox VE node without
 * locale-gen. */
#define PT_PVESH_LOCALE "C.UTF-8"

/* The API path of the cluster's PCI mappings. */
#define PT_PVESH_PCI_API "/cluster/mapping/pci"

struct pt_pvesh {
	const char *root;      /* chroot for every call, "/" for the host itself (borrowed) */
	const char *path;      /* pvesh's path under root (borrowed) */
	int timeout;           /* seconds each call may take */
	struct pt_report *rep; /* where pvesh's warnings and a failed call's message go
	                          (borrowed) */
	bool warned;           /* pvesh's warnings were passed on (once per run) */
	json_t *failure;       /* {cmd, rc, stdout, stderr} of the call the run failed on, for
	                          the result; NULL when none (owned: pt_pvesh_release) */
};

void pt_pvesh_release(struct pt_pvesh *sh);

/* What one command's arguments may take on this host (Linux execve), and what an
 * argument vector needs of it. */
struct pt_pvesh_argspace {
	size_t longest;     /* index in argv of the longest argument */
	size_t longest_len; /* its length in bytes, without the NUL */
	size_t arg_max;     /* the longest one argument may be, without the NUL: the
	                       kernel's MAX_ARG_STRLEN (32 pages) less one, 131071 */
	size_t total;       /* bytes argv and pt_exec's environment take: every string
	                       with its NUL and a pointer each */
	size_t total_max;   /* the most they may take: sysconf(_SC_ARG_MAX) (a quarter of
	                       the stack limit), at most the kernel's 6 MiB, less a margin */
};

/* Measure argv against this host's limits. Returns 0 when execve can take it,
 * -E2BIG when one argument or the whole is too long (space says which). Depends
 * only on argv and the host (page size, stack limit), so check mode and the real
 * run come to the same answer. */
int pt_pvesh_argspace(const char *const argv[], struct pt_pvesh_argspace *space);

/* How many bytes of s to show when showing at most max: all of it when it is
 * shorter, else max or a little less, never cutting a UTF-8 character apart. */
size_t pt_pvesh_cut(const char *s, size_t max);

/* argv for messages: joined with spaces, an argument longer than 200 bytes cut
 * (with its length), and after 40 arguments only how many there are in all; the
 * command as it is for the commands the module normally runs. Caller frees; NULL
 * when out of memory. */
char *pt_pvesh_cmdline(const char *const argv[]);

/* Run argv (argv[0] is sh->path) in PT_PVESH_LOCALE. Returns 0 with res filled whatever pvesh's
 * exit code (release res with pt_exec_result_release), or -errno when pvesh could not be started
 * (-E2BIG: argv does not fit pt_pvesh_argspace, checked first): then res is released and
 * sh->rep's failure says why. */
int pt_pvesh_run(struct pt_pvesh *sh, const char *const argv[], struct pt_exec_result *res);

/* True when the call did not run to an answer of pvesh's own: stopped at the
 * timeout; rc 126 or 127 (pt_exec's child could not execute it: not executable,
 * arguments too long, not found); or killed by a signal (rc 129 to 192, 128 plus
 * the signal number; pvesh's own failures exit 255 or with a small errno). */
bool pt_pvesh_did_not_run(const struct pt_exec_result *res);

/* True when a failed `pvesh get PT_PVESH_PCI_API/ID` is Proxmox's answer that
 * there is no mapping `id`: pvesh ran, exited non-zero, and printed the line
 * "mapping 'ID' not found" (the read handler's `die` in pve-manager
 * PVE/API2/Cluster/Mapping/PCI.pm; fake-pvesh prints the same). Any other failure
 * is not that answer. */
bool pt_pvesh_no_such_mapping(const struct pt_exec_result *res, const char *id);

/* Keep argv and res (copied) as sh->failure, replacing an earlier one. */
void pt_pvesh_keep_failure(struct pt_pvesh *sh, const char *const argv[],
                           const struct pt_exec_result *res);

/* A call that failed for good: keeps it as sh->failure and returns -EIO with
 * sh->rep's failure naming the command (pt_pvesh_cmdline) and what happened: for
 * a call that did not run (pt_pvesh_did_not_run) the timeout, that it could not
 * be executed, or the signal, with its whole error output worth reading; else its
 * exit code and the first line of its error output worth reading. -ENOMEM. */
int pt_pvesh_fail(struct pt_pvesh *sh, const char *const argv[], const struct pt_exec_result *res);

/* The first line of pvesh's error output worth showing: not empty, not the
 * "trying to acquire cfs lock" progress line; "(no error output)" when there is
 * none. Caller frees; NULL when out of memory. */
char *pt_pvesh_error_line(const char *err);

/* True when pvesh's error output holds Getopt::Long's line "Unknown option: OPTION"
 * (OPTION without dashes): this node's Proxmox does not know the option at all
 * (then pvesh also prints "400 unable to parse option" and exits 2). */
bool pt_pvesh_unknown_option(const char *err, const char *option);

/* True when pvesh's error output says another node changed the mapping at the same
 * time (stale digest, an id created or deleted meanwhile, the cluster lock taken):
 * reading again and retrying can succeed. */
bool pt_pvesh_lost_race(const char *err);

/* pvesh's error output on a successful call (its warnings about pci.cfg), one
 * "pvesh: LINE" warning per line in sh->rep; only the first time in a run. A line
 * that is not UTF-8 is left out. */
void pt_pvesh_pass_on_warnings(struct pt_pvesh *sh, const char *err);

/* Sleep before retry number `attempt` (1, 2, ...): a random time up to a cap that
 * doubles each time (100 ms, 200 ms, ... 2 s), so that racing nodes spread out
 * instead of colliding again. Uses random(): the caller seeds it. */
void pt_pvesh_back_off(int attempt);

#endif
