/* Layer: host I/O (a file format: the parser is text only,
 * pt_modprobe_find_conflicts reads the modprobe.d directories under root).
 * Included by vfio_files.c, and the tests and fuzz harness of the format.
 *
 * modprobe.d as kmod reads it: its lines parsed (continuations, comments,
 * commands), whether a line would swallow the managed block's BEGIN marker
 * (conf_block.h holds the block itself), and the lines elsewhere in
 * modprobe.d that work against the block vfio_bind writes. The text vfio_bind
 * puts in its blocks is vfio_render.h's. */
#ifndef PT_MODPROBE_CONF_H
#define PT_MODPROBE_CONF_H

#include <jansson.h>

#include "report.h"

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
 * 0, or -EINVAL with the failure in rep (the caller's; pt_report_fail keeps
 * the first) naming path and the line number and saying to fix the line or
 * remove the backslash; also -EINVAL (with pt_conf_block_find's message) for
 * damaged markers. rep may be NULL when the caller needs no message. */
int pt_modprobe_check_continuation(const char *text, const char *owner, const char *path,
                                   struct pt_report *rep);

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
