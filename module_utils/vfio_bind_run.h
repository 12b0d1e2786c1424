/* Layer: module run (vfio_bind). Included by modules/vfio_bind.c and the tests
 * that run the module without a process; no library file includes it.
 *
 * One vfio_bind run: hand PCI devices to vfio-pci persistently (and now, with
 * bind_now) without cutting the host off, or give them back (docs in
 * modules/vfio_bind.yml, the rules in docs/architecture.md).
 *
 * The steps, each in the file named for it:
 *   vfio_opts    the options (the family's lowest header)
 *   vfio_select  which devices (addresses, IDs, their IOMMU groups)
 *   vfio_safety  what must stay with the host; refusals unless force (the
 *                host's default routes and disks: host_net, host_block)
 *   vfio_plan    what the boot configuration says (ids or driver_override,
 *                softdeps, vfio modules: vfio_modules)
 *   vfio_files   the three managed files (their text: vfio_render, through
 *                conf_block, modprobe_conf and modules_file), planned whole
 *                before the first write, then written; update-initramfs, and
 *                the marker that makes the next run retry it when it fails
 *   vfio_driver  bind_now: the devices moved to vfio-pci through sysfs
 * Check mode goes through the same steps, the refusals included, and stops
 * short of every write and every command. */
#ifndef PT_VFIO_BIND_RUN_H
#define PT_VFIO_BIND_RUN_H

#include <stdbool.h>

#include <jansson.h>

#include "report.h"
#include "vfio_opts.h"

struct pt_vfio_bind_result {
	bool changed;            /* something changed (or would, in check mode); after a failure:
	                            something was written or a device moved */
	json_t *values;          /* the result keys of RETURN (owned): devices, ids, softdeps,
	                            blacklist, modules, kernels, files, initramfs_pending, and
	                            after a success initramfs_updated and reboot_required;
	                            refusals or initramfs (the failed command) when they say why
	                            the run failed */
	struct pt_report report; /* warnings, diffs, the failure message */
};

/* Run with opts. Returns 0, or a negative errno with the message for the user
 * in res->report.msg (NULL only when memory ran out before it could be
 * written: say "out of memory"). res is filled either way, with what was known
 * when the run stopped; release it with pt_vfio_bind_result_release. */
int pt_vfio_bind_run(const struct pt_vfio_bind_opts *opts, struct pt_vfio_bind_result *res);

void pt_vfio_bind_result_release(struct pt_vfio_bind_result *res);

struct pt_module;

/* The module's options into o (strings borrowed from m's parameters). Returns
 * 0, or -1 when one is refused (a timeout out of range, a relative path): m is
 * then marked failed with the reason. */
int pt_vfio_bind_opts_read(struct pt_module *m, struct pt_vfio_bind_opts *o);

/* Put a run's outcome into the module's result: its warnings and diffs, the
 * failure message when ret < 0, changed, and every value (new references
 * taken; res keeps its own). What modules/vfio_bind.c's main and the tests that
 * run it without a process both do. */
void pt_vfio_bind_result_to_module(struct pt_module *m, int ret,
                                   const struct pt_vfio_bind_result *res);

#endif
