/* The lines vfio_bind owns in modprobe.d files (and, through the managed block,
 * in /etc/modules), and what it reads from the lines it does not own.
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
 * the block is empty after removal: callers delete it. */
#ifndef PT_MODPROBE_CONF_H
#define PT_MODPROBE_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

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
 * second BEGIN); then *errmsg (caller frees) says which line, for `path`. */
int pt_conf_block_find(const char *text, const char *owner, const char *path,
                       struct pt_conf_block *blk, char **errmsg);

/* The text with the owner's block set to body: body is zero or more complete
 * lines (each ending in '\n'); NULL or "" removes the block. An existing block
 * is replaced in place; a new one is appended as described above. The BEGIN
 * line carries `header` after the owner (e.g. ": managed by Ansible, ...").
 * Returns a new string (caller frees), or NULL with *errmsg set (damaged
 * markers, see pt_conf_block_find; or out of memory). */
char *pt_conf_block_apply(const char *text, const char *owner, const char *header, const char *body,
                          const char *path, char **errmsg);

/* The text without the owner's block (a copy, caller frees), for reading the
 * user's own lines. NULL on damaged markers or out of memory. */
char *pt_conf_block_strip(const char *text, const char *owner);

/* Parse modprobe.d text as kmod does: leading blanks skipped, '#' lines are
 * comments, a line ending in an odd run of backslashes is joined with the next
 * one (that last backslash dropped; kmod reads a pair of backslashes as one
 * escaped backslash, so an even run ends the line). New reference: an array
 * of {line (first physical line, 1-based), command ("options", "softdep",
 * "blacklist", "install", "remove", "alias", or another word as written),
 * module (normalised: '-' becomes '_'; "" when the command has none), args
 * (the rest of the line after the module, blanks collapsed to one space), text
 * (the logical line as written, continuation joined)}; bytes that are not
 * UTF-8 become U+FFFD in those strings. NULL only when out of memory. */
json_t *pt_modprobe_parse(const char *text);

/* Can owner's block sit in this modprobe.d text (NULL: no file yet)? kmod
 * joins a line that ends in an escaped newline (an odd run of backslashes) with
 * the next one before it looks for comments, so when the line the BEGIN marker
 * follows (the last line of a text without the block, or the line before the
 * block) continues a directive, the marker becomes part of that directive:
 * the user's line gains "# BEGIN ..." as arguments. Joined onto a comment or a
 * blank line it changes nothing, and that is allowed. Only modprobe.d has
 * continuations (systemd-modules-load reads /etc/modules line by line). Returns
 * 0, or -EINVAL with *errmsg (caller frees) naming path and the line number
 * and saying to fix the line or remove the backslash; also -EINVAL (with
 * pt_conf_block_find's message) for damaged markers. */
int pt_modprobe_check_continuation(const char *text, const char *owner, const char *path,
                                   char **errmsg);

/* The modprobe.d lines for handing devices to vfio-pci at boot. */
struct pt_vfio_conf {
	const json_t *ids;       /* "vendor:device" strings for options vfio-pci ids= (borrowed) */
	bool disable_vga;        /* add disable_vga=1 to the options line */
	const json_t *softdeps;  /* modules that must wait for vfio-pci (borrowed) */
	const json_t *overrides; /* addresses bound by driver_override at boot (borrowed) */
};

/* The body of the managed block for conf_path: `options vfio-pci ids=<sorted
 * unique ids>[ disable_vga=1]` (or `options vfio-pci disable_vga=1` without
 * ids; no options line when neither), one `softdep <module> pre: vfio-pci` per
 * sorted unique module, and for overrides an `install vfio-pci` command that
 * writes vfio-pci to each address's driver_override before vfio-pci loads
 * (see pt_modprobe_install_line). "" when there is nothing to say. Caller
 * frees; NULL when out of memory. IDs and names are copied as given: callers
 * pass them validated and lowercase. */
char *pt_modprobe_render_vfio(const struct pt_vfio_conf *conf);

/* The install command that binds `overrides` by address at boot:
 *   install vfio-pci for d in ADDR...; do f=/sys/bus/pci/devices/$d/driver_override;
 *   [ -w "$f" ] && echo vfio-pci > "$f"; done; exec /sbin/modprobe --ignore-install
 *   vfio-pci $CMDLINE_OPTS
 * (one line). kmod runs it with /bin/sh whenever vfio-pci is about to load, and
 * the softdeps make every driver that could claim the devices load vfio-pci
 * first. Caller frees; NULL when out of memory or overrides is empty. */
char *pt_modprobe_install_line(const json_t *overrides);

/* The body for blacklist_path: one `blacklist <module>` per module, sorted,
 * names normalised ('-' → '_') and unique. "" for an empty list. Caller frees. */
char *pt_modprobe_render_blacklist(const json_t *modules);

/* Lines elsewhere in modprobe.d that work against the managed block: every
 * *.conf in <root>/etc/modprobe.d, <root>/run/modprobe.d, <root>/lib/modprobe.d
 * and <root>/usr/lib/modprobe.d (a name found earlier in that list masks the
 * later ones, as kmod does; own_path's block excluded: own_path is the full
 * path of the module's conf file, its lines outside the block count).
 * Appends {path, line, kind, text} to found, kind being:
 *   "ids"       another `options vfio-pci ... ids=...`: the kernel keeps the last
 *               ids= it is given, so one of the two lists is lost;
 *   "install"   another `install vfio-pci ...` (only one install command runs);
 *   "blacklist" `blacklist vfio-pci`, or `install vfio-pci /bin/false|true`.
 * Unreadable files are skipped. Returns 0 or -ENOMEM. */
int pt_modprobe_find_conflicts(const char *root, const char *own_path, const char *owner,
                               json_t *found);

#endif
