/* Layer: host I/O (a file format, text only). Included by vfio_files.c, and
 * the tests and fuzz harness of the format.
 *
 * /etc/modules (or a file under /etc/modules-load.d): the modules
 * systemd-modules-load loads at boot, and the managed block vfio_bind keeps
 * there (which vfio modules go in it is vfio_modules.h's).
 *
 * On Debian 12/13 and Proxmox VE, /etc/modules is read at boot by
 * systemd-modules-load (through /etc/modules-load.d/modules.conf): one module
 * name per line, '#' and ';' start comments, and the whole line is the name.
 * Each line is read on its own (systemd's modules-load.c reads line by line
 * and strips blanks; there is no backslash continuation as in modprobe.d), so
 * a last line ending in a backslash cannot swallow the block's first line.
 * A line such as `vfio vfio_iommu_type1 vfio_pci ids=...` (corpus 008) or
 * `vfio_pci ids=...` (corpus 006) was meant for the old sysvinit script, which
 * passed the rest of the line to modprobe as parameters; systemd-modules-load
 * looks the whole line up as one module name and loads nothing. Such lines are
 * the user's: they stay byte for byte, they do not count as loading any module,
 * and the caller is told about them.
 *
 * The module's own lines sit in a managed block (see conf_block.h). A module
 * the user already lists on a line of its own is not repeated there. */
#ifndef PT_MODULES_FILE_H
#define PT_MODULES_FILE_H

#include <stdbool.h>

#include <jansson.h>

#include "report.h"

/* The text of a modules file with `wanted` listed: every wanted module that no
 * line outside the block `owner` loads goes into the block, in wanted's order;
 * when none is missing the block is removed. wanted NULL removes the block
 * (state=absent). Every line outside the block is kept byte for byte.
 * Appends messages for the user to notes (may be NULL): parameter lines that
 * name a vfio module (see above), and vfio_virqfd lines when wanted leaves it
 * out. path is for messages. Returns 0 and *out (caller frees), or -EINVAL
 * with the failure in rep (the caller's; pt_report_fail keeps the first) on
 * damaged block markers, or -ENOMEM (rep may then hold "out of memory" or
 * nothing: the caller words it). rep may be NULL when the caller needs no
 * message. */
int pt_modules_file_update(const char *text, const json_t *wanted, const char *owner,
                           const char *path, char **out, json_t *notes, struct pt_report *rep);

/* True when the line (without its newline) loads exactly module `name` under
 * systemd-modules-load: one word after trimming blanks, equal to name with '-'
 * and '_' the same. */
bool pt_modules_line_loads(const char *line, const char *name);

#endif
