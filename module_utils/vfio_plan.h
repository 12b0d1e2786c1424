/* Layer: vfio family (vfio_bind). Included by vfio_bind_run.c, vfio_files.h
 * and the tests.
 *
 * What the boot configuration must say for a selection: which devices vfio-pci
 * claims by vendor:device ID and which by address (driver_override), which
 * drivers must wait for vfio-pci (softdeps), which vfio modules to load, and
 * the blacklist as written. The files themselves are vfio_files.h's. */
#ifndef PT_VFIO_PLAN_H
#define PT_VFIO_PLAN_H

#include <stdbool.h>

#include <jansson.h>

#include "pci.h"
#include "report.h"

struct pt_vfio_plan {
	json_t *ids;       /* "vendor:device" for `options vfio-pci ids=`, sorted, unique (owned) */
	json_t *overrides; /* addresses vfio-pci takes by driver_override at boot, sorted (owned) */
	json_t *softdeps;  /* drivers that must wait for vfio-pci, normalised, sorted (owned) */
	json_t *modules;   /* vfio modules to load at boot, in load order (owned) */
	json_t *kernels;   /* {release, vfio_virqfd} per installed kernel (owned) */
};

/* The plan for selected (an object keyed by address, see vfio_select.h) on
 * host under root.
 *
 * present: a device goes by its ID unless another device with the same ID
 * stays with the host (then by address); the softdeps are every driver whose
 * modules.alias pattern matches a selected device's modalias in any installed
 * kernel, plus the driver each has now (vfio-pci, pci-stub and pcieport left
 * out); the modules are pt_vfio_modules_wanted's. A kernel with vfio-pci built
 * in gets a warning in rep: modprobe.d does not reach it.
 * Not present: everything is empty but kernels (the files lose their blocks).
 *
 * Returns 0 with every field of plan set (release with pt_vfio_plan_release,
 * also after a failure), or -ENOMEM with the message in rep. */
int pt_vfio_plan_make(const char *root, const struct pt_pci_host *host, const json_t *selected,
                      bool present, struct pt_vfio_plan *plan, struct pt_report *rep);

void pt_vfio_plan_release(struct pt_vfio_plan *plan);

/* How vfio-pci takes the device at address at boot under plan: "ids" or
 * "driver_override". Static string. */
const char *pt_vfio_plan_mechanism(const struct pt_vfio_plan *plan, const char *address);

/* Check that every blacklist_drivers entry is a kernel module name
 * ([A-Za-z0-9_-], 1 to 55 characters): anything else (a blank, a newline, a
 * path) would let the text become another modprobe.d directive, e.g. a second
 * "blacklist" line for the host's NIC driver that the safety checks never saw.
 * 0, or -EINVAL with the failure in rep. */
int pt_vfio_plan_check_blacklist(const json_t *drivers, struct pt_report *rep);

/* Whether blacklist_drivers is the single word "auto": the drivers are then
 * chosen from the hardware by pt_vfio_plan_blacklist_auto. ("auto" is no
 * kernel module.) */
bool pt_vfio_plan_blacklist_is_auto(const json_t *drivers);

/* Whether "auto" is one of the entries (alone or not). */
bool pt_vfio_plan_blacklist_has_auto(const json_t *drivers);

/* The blacklist for blacklist_drivers=auto: every module that is bound to a
 * selected device or whose modules.alias pattern (in any installed kernel
 * under root) matches a selected device's modalias, minus every module that is
 * bound to, or matches, a device of host that is not selected (it would be
 * lost for that device at the next boot: the NIC's r8169, snd_hda_intel when
 * the onboard audio uses it). vfio-pci, pci-stub and pcieport are never
 * candidates. Driver names are taken as their modules (pt_kmod_driver_module)
 * and normalised ('-' → '_').
 *
 * Returns 0 with *chosen (new array of module names, sorted) and *choice (new
 * array, one {driver, blacklisted, reason} per candidate in name order: reason
 * says which selected device brought it in, or which device of the host kept
 * it out), or -ENOMEM with both NULL. */
int pt_vfio_plan_blacklist_auto(const char *root, const struct pt_pci_host *host,
                                const json_t *selected, json_t **chosen, json_t **choice);

/* blacklist_drivers (array of strings, may be NULL) as the blacklist file
 * lists them: names normalised ('-' → '_'), unique, sorted. New reference;
 * NULL when out of memory. */
json_t *pt_vfio_plan_blacklist(const json_t *drivers);

#endif
