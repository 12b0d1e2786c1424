/* Layer: vfio family (vfio_bind). Included by vfio_bind_run.c, vfio_plan.c
 * (pt_vfio_driver_is_vfio) and the tests.
 *
 * vfio-pci as a driver in sysfs: whether a device has it, loading it, and
 * moving devices to it (and back) on the running host, for bind_now.
 *
 * Moving a device: write "vfio-pci" to its driver_override, unbind it from its
 * driver, write its address to drivers_probe, and read back which driver took
 * it. Giving it back: an empty line to driver_override, unbind from vfio-pci,
 * drivers_probe. Every path is under root. */
#ifndef PT_VFIO_DRIVER_H
#define PT_VFIO_DRIVER_H

#include <stdbool.h>

#include <jansson.h>

#include "pci.h"
#include "report.h"

#define PT_VFIO_DRIVER "vfio-pci"

/* True when driver (may be NULL) names vfio-pci, as sysfs ("vfio-pci") or as a
 * module ("vfio_pci") spells it. */
bool pt_vfio_driver_is_vfio(const char *driver);

/* The driver bound to the device at address now: the target of
 * <root>/sys/bus/pci/devices/<address>/driver. Caller frees; NULL when none. */
char *pt_vfio_driver_current(const char *root, const char *address);

/* bind_now: bring the devices of `devices` (the run's result entries, objects
 * with "address"; borrowed, updated in place) to vfio-pci when present, or take
 * them from it when not, on the host described by `host`.
 *
 * present: a device in no IOMMU group is refused before anything moves;
 * vfio-pci is loaded (modprobe, chrooted into root, killed after
 * modprobe_timeout seconds) when a device needs it and its driver directory is
 * missing; each device not on vfio-pci yet is moved.
 * Not present: each device overridden to or bound to vfio-pci is given back.
 * Each entry's "driver_after" says the driver it has afterwards (in check
 * mode: the one it would have). Devices not in host are skipped.
 *
 * check: nothing is written or run; the same decisions are made. *changed is
 * set to true when a device moves or would move, or vfio-pci was loaded; it is
 * left alone otherwise. Returns 0, or a negative errno with the message in rep
 * (-EINVAL for a refusal or a device that did not move, -errno of a failed
 * write or modprobe; -ETIMEDOUT when modprobe was killed). */
int pt_vfio_driver_bind_now(const char *root, const struct pt_pci_host *host, json_t *devices,
                            bool present, bool check, int modprobe_timeout, bool *changed,
                            struct pt_report *rep);

#endif
