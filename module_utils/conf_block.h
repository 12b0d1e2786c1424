/* Layer: base (text only, no I/O). Included by the editors of files the
 * modules share with the user: modprobe_conf.c, modules_file.c, vfio_files.c,
 * and their tests and fuzz harnesses.
 *
 * A module never rewrites a configuration file it shares with the user. Its
 * lines live in one managed block between two marker comments:
 *
 *     # BEGIN homelab.passthrough.vfio_bind: managed by Ansible, edits here are overwritten
 *     options vfio-pci ids=10de:0fb9,10de:1c82
 *     softdep nouveau pre: vfio-pci
 *     # END homelab.passthrough.vfio_bind
 *
 * Every byte outside the block stays as it was, and removing the block gives
 * back the file as it was before the block was added, byte for byte: the block
 * is appended after the last line, and when that line had no final newline the
 * block keeps the file without one (a newline goes before BEGIN, none after
 * END), so removal knows to take that newline away again. A file that held only
 * the block is empty after removal: callers delete it.
 *
 * The engine knows nothing of the file's format: whether a line before the
 * block could swallow its BEGIN marker is the format's question
 * (pt_modprobe_check_continuation for modprobe.d; /etc/modules has no
 * continuation lines). */
#ifndef PT_CONF_BLOCK_H
#define PT_CONF_BLOCK_H

#include <stdbool.h>
#include <stddef.h>

#include "report.h"

/* Where a managed block sits in a text. Offsets are bytes into the text. */
struct pt_conf_block {
	bool found;
	size_t start;   /* first byte of the BEGIN line */
	size_t end;     /* one past the END line (and its newline, if any) */
	int begin_line; /* 1-based line numbers, for messages */
	int end_line;
	bool end_has_newline; /* false when END is the last line without '\n' */
};

/* Find the block of `owner` (e.g. "homelab.passthrough.vfio_bind") in text. A
 * marker matches when the line starts with "# BEGIN <owner>" / "# END <owner>"
 * followed by the end of the line, a space or a ':' (so "owner/blacklist" is a
 * different owner). Returns 0 (blk->found tells whether there is one), or
 * -EINVAL when the markers are damaged (BEGIN without END, END without BEGIN, a
 * second BEGIN); then the failure recorded in rep (pt_report_fail: kept unless
 * rep already holds one; the caller owns rep and releases it) says which line,
 * for `path`. rep may be NULL when the caller needs no message. */
int pt_conf_block_find(const char *text, const char *owner, const char *path,
                       struct pt_conf_block *blk, struct pt_report *rep);

/* The text with the owner's block set to body: body is zero or more complete
 * lines (each ending in '\n'); NULL or "" removes the block. An existing block
 * is replaced in place; a new one is appended as described above. The BEGIN
 * line carries `header` after the owner (e.g. ": managed by Ansible, ...").
 * Returns a new string (caller frees), or NULL with the failure in rep: -EINVAL
 * for damaged markers (see pt_conf_block_find), -ENOMEM "out of memory". rep
 * (the caller's) may be NULL, as for pt_conf_block_find. */
char *pt_conf_block_apply(const char *text, const char *owner, const char *header, const char *body,
                          const char *path, struct pt_report *rep);

/* The text without the owner's block (a copy, caller frees), for reading the
 * user's own lines. NULL on damaged markers or out of memory. */
char *pt_conf_block_strip(const char *text, const char *owner);

#endif
