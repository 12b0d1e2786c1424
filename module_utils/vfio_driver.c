#include "vfio_driver.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "exec.h"
#include "files.h"

bool pt_vfio_driver_is_vfio(const char *driver)
{
	return driver && (!strcmp(driver, "vfio-pci") || !strcmp(driver, "vfio_pci"));
}

char *pt_vfio_driver_current(const char *root, const char *address)
{
	_cleanup_free_ char *rel = NULL;
	if (asprintf(&rel, "/sys/bus/pci/devices/%s/driver", address) < 0)
		return NULL;
	_cleanup_free_ char *path = pt_path_join(root, rel);
	return path ? pt_link_basename(path) : NULL;
}

/* What a bind_now run needs at every step. */
struct mover {
	const char *root;
	bool check;
	int modprobe_timeout; /* seconds */
	bool *changed;
	struct pt_report *rep;
};

/* Write value to the sysfs attribute rel under root (no O_CREAT: it must
 * exist); on failure, fail the run naming the device, the value and the file. */
static int sysfs_write(struct mover *mv, const char *addr, const char *rel, const char *value,
                       const char *what)
{
	int e = -ENOMEM;
	_cleanup_free_ char *path = pt_path_join(mv->root, rel);
	if (path)
		e = pt_file_write_existing(path, value);
	if (!e)
		return 0;
	return pt_report_fail(mv->rep, e, "cannot bind %s now: writing %s to %s%s failed: %s", addr,
	                      what ? what : value, strcmp(mv->root, "/") ? mv->root : "", rel,
	                      strerror(-e));
}

static int unbind_and_probe(struct mover *mv, const char *addr, const char *driver)
{
	char rel[128];
	int e;
	if (driver) {
		snprintf(rel, sizeof rel, "/sys/bus/pci/drivers/%s/unbind", driver);
		if ((e = sysfs_write(mv, addr, rel, addr, NULL)) < 0)
			return e;
	}
	return sysfs_write(mv, addr, "/sys/bus/pci/drivers_probe", addr, NULL);
}

static int set_override(struct mover *mv, const char *addr, const char *value, const char *what)
{
	char rel[128];
	snprintf(rel, sizeof rel, "/sys/bus/pci/devices/%s/driver_override", addr);
	return sysfs_write(mv, addr, rel, value, what);
}

/* The driver the device has now, into its result entry. Caller frees. */
static char *record_driver(struct mover *mv, const char *addr, json_t *entry)
{
	char *now = pt_vfio_driver_current(mv->root, addr);
	json_object_set_new(entry, "driver_after", now ? json_string(now) : json_null());
	return now;
}

static int load_vfio_pci(struct mover *mv)
{
	_cleanup_free_ char *dir = pt_path_join(mv->root, "/sys/bus/pci/drivers/vfio-pci");
	if (!dir)
		return pt_report_fail(mv->rep, -ENOMEM, "out of memory");
	if (pt_path_exists(dir) || mv->check)
		return 0;
	static const char *const argv[] = {"modprobe", PT_VFIO_DRIVER, NULL};
	struct pt_exec_result res;
	int e = pt_exec(mv->root, argv, mv->modprobe_timeout, &res);
	if (e == 0 && res.timed_out)
		e = pt_report_fail(
		        mv->rep, -ETIMEDOUT,
		        "cannot bind now: modprobe vfio-pci did not finish within %d s and was "
		        "killed; the persistent configuration is written and applies at the next "
		        "boot. Look at dmesg for what held it up, or raise modprobe_timeout",
		        mv->modprobe_timeout);
	else if (e < 0 || res.rc != 0)
		e = pt_report_fail(mv->rep, e < 0 ? e : -EIO,
		                   "cannot bind now: modprobe vfio-pci failed (%s): %s; is the "
		                   "vfio-pci module installed for the running kernel?",
		                   e < 0 ? "not run" : "non-zero exit",
		                   res.err && *res.err ? res.err : "(no error output)");
	pt_exec_result_release(&res);
	if (e < 0)
		return e;
	*mv->changed = true;
	if (!pt_path_exists(dir))
		return pt_report_fail(
		        mv->rep, -ENOENT,
		        "cannot bind now: modprobe vfio-pci succeeded but %s did not appear, so "
		        "the vfio-pci driver is not registered; check dmesg",
		        dir);
	return 0;
}

/* Move one device to vfio-pci: driver_override, unbind, drivers_probe, verify. */
static int bind_one(struct mover *mv, const struct pt_pci_device *d, json_t *entry)
{
	const char *a = d->address;
	if (pt_vfio_driver_is_vfio(d->driver)) {
		json_object_set_new(entry, "driver_after", json_string(d->driver));
		return 0;
	}
	*mv->changed = true;
	json_object_set_new(entry, "driver_after", json_string(PT_VFIO_DRIVER));
	if (mv->check)
		return 0;
	int e;
	if ((e = set_override(mv, a, PT_VFIO_DRIVER, NULL)) < 0 ||
	    (e = unbind_and_probe(mv, a, d->driver)) < 0)
		return e;
	_cleanup_free_ char *now = record_driver(mv, a, entry);
	if (!pt_vfio_driver_is_vfio(now))
		return pt_report_fail(
		        mv->rep, -EINVAL,
		        "%s did not bind to vfio-pci: its driver_override is set to vfio-pci%s and "
		        "it was reprobed, but its driver is now %s. Look at dmesg for the reason "
		        "(vfio-pci refuses a device without an IOMMU group, for one); the "
		        "persistent configuration is written and applies at the next boot",
		        a, d->driver ? " and it was unbound from its driver" : "",
		        now ? now : "none");
	return 0;
}

/* Give one device back: clear driver_override, unbind from vfio-pci, reprobe. */
static int release_one(struct mover *mv, const struct pt_pci_device *d, json_t *entry)
{
	const char *a = d->address;
	bool on_vfio = pt_vfio_driver_is_vfio(d->driver);
	if (!pt_vfio_driver_is_vfio(d->driver_override) && !on_vfio)
		return 0;
	*mv->changed = true;
	if (mv->check) {
		json_object_set_new(entry, "driver_after", json_null());
		return 0;
	}
	int e;
	if ((e = set_override(mv, a, "\n", "an empty line")) < 0 ||
	    (on_vfio && (e = unbind_and_probe(mv, a, d->driver)) < 0))
		return e;
	free(record_driver(mv, a, entry));
	return 0;
}

static const struct pt_pci_device *device_of(const struct pt_pci_host *host, const json_t *entry)
{
	return pt_pci_find(host, json_string_value(json_object_get(entry, "address")));
}

int pt_vfio_driver_bind_now(const char *root, const struct pt_pci_host *host, json_t *devices,
                            bool present, bool check, int modprobe_timeout, bool *changed,
                            struct pt_report *rep)
{
	struct mover mv = {.root = root,
	                   .check = check,
	                   .modprobe_timeout = modprobe_timeout,
	                   .changed = changed,
	                   .rep = rep};
	size_t i;
	json_t *entry;
	if (present) {
		/* vfio-pci cannot take a device in no group: say so before touching any */
		bool need = false;
		json_array_foreach (devices, i, entry) {
			const struct pt_pci_device *d = device_of(host, entry);
			if (!d || pt_vfio_driver_is_vfio(d->driver))
				continue;
			need = true;
			if (d->iommu_group < 0)
				return pt_report_fail(
				        rep, -EINVAL,
				        "cannot bind %s now: it is in no IOMMU group (the IOMMU is "
				        "off), and vfio-pci refuses such devices. Enable the IOMMU "
				        "(see homelab.passthrough.grub_iommu) and reboot, or drop "
				        "bind_now: the configuration for the next boot is written "
				        "either way",
				        d->address);
		}
		int e;
		if (need && (e = load_vfio_pci(&mv)) < 0)
			return e;
	}
	json_array_foreach (devices, i, entry) {
		const struct pt_pci_device *d = device_of(host, entry);
		int e = !d ? 0 : present ? bind_one(&mv, d, entry) : release_one(&mv, d, entry);
		if (e < 0)
			return e;
	}
	return 0;
}
