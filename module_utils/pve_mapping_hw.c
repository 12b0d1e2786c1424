#include "pve_mapping_hw.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "files.h"

void pt_pve_hw_init(struct pt_pve_hw *hw, const char *root)
{
	memset(hw, 0, sizeof *hw);
	hw->root = root;
}

void pt_pve_hw_release(struct pt_pve_hw *hw)
{
	if (hw->scanned)
		pt_pci_host_release(&hw->host);
	free(hw->scan_error);
	hw->scan_error = NULL;
	hw->scanned = false;
}

/* The devices are read once, and only when an entry needs them: state=absent and
 * exact maps with every ID given never touch sysfs. */
static int scan(struct pt_pve_hw *hw)
{
	if (hw->scanned)
		return hw->scan_error ? -EIO : 0;
	hw->scanned = true;
	_cleanup_report_ struct pt_report rep = {0};
	int rc = pt_pci_scan(hw->root, &hw->host, &rep);
	hw->scan_error = PT_STEAL(rep.msg);
	if (rc < 0 && !hw->scan_error)
		hw->scan_error = strdup("cannot read the PCI devices");
	return rc < 0 ? -EIO : 0;
}

int pt_pve_hw_lookup(void *ctx, const char *address, struct pt_pve_hw_function *out)
{
	struct pt_pve_hw *hw = ctx;
	if (scan(hw) < 0)
		return -ENOENT;
	const struct pt_pci_device *dev = pt_pci_find(&hw->host, address);
	if (!dev || dev->vendor_id < 0 || dev->device_id < 0)
		return -ENOENT;
	pt_pci_id_string(dev->vendor_id, dev->device_id, out->id, sizeof out->id);
	out->subsystem_id[0] = '\0';
	if (dev->subsys_vendor_id >= 0 && dev->subsys_device_id >= 0)
		pt_pci_id_string(dev->subsys_vendor_id, dev->subsys_device_id, out->subsystem_id,
		                 sizeof out->subsystem_id);
	out->iommugroup = dev->iommu_group;
	return 0;
}

static int not_found(struct pt_pve_hw *hw, const char *what, const char *address, const char *slot,
                     struct pt_report *rep)
{
	if (hw->scan_error)
		return pt_report_fail(rep, -ENOENT,
		                      "%s: cannot read the PCI devices of this host: %s", what,
		                      hw->scan_error);
	_cleanup_free_ char *dir = pt_path_join(hw->root, "/sys/bus/pci/devices");
	if (slot)
		return pt_report_fail(rep, -ENOENT,
		                      "%s: there is no device %s (function 0 of slot %s) in %s; "
		                      "check the address with `lspci -D`",
		                      what, address, slot, dir);
	return pt_report_fail(rep, -ENOENT,
	                      "%s: there is no device %s in %s; check the address with "
	                      "`lspci -D`",
	                      what, address, dir);
}

int pt_pve_hw_fill(struct pt_pve_hw *hw, const char *what, const char *path,
                   struct pt_pve_map_entry *e, bool only_missing, struct pt_report *rep)
{
	_cleanup_free_ char *address = NULL;
	bool slot = !strchr(path, '.'); /* "dddd:bb:ss": checked as function 0 */
	if (asprintf(&address, "%s%s", path, slot ? ".0" : "") < 0)
		return -ENOMEM;
	struct pt_pve_hw_function fn;
	if (pt_pve_hw_lookup(hw, address, &fn) < 0)
		return not_found(hw, what, address, slot ? path : NULL, rep);
	if ((!only_missing || !e->id) && !(e->id = strdup(fn.id)))
		return -ENOMEM;
	if ((!only_missing || !e->subsystem_id) && fn.subsystem_id[0] &&
	    !(e->subsystem_id = strdup(fn.subsystem_id)))
		return -ENOMEM;
	if (only_missing && e->iommugroup)
		return 0;
	if (fn.iommugroup < 0) {
		pt_report_warn(rep,
		               "%s: device %s is in no IOMMU group, so the IOMMU looks off; the "
		               "mapping is written without iommugroup, but passthrough needs the "
		               "IOMMU enabled (see homelab.passthrough.grub_iommu)",
		               what, address);
		return 0;
	}
	return asprintf(&e->iommugroup, "%d", fn.iommugroup) < 0 ? -ENOMEM : 0;
}

int pt_pve_hw_check_entry(struct pt_pve_hw *hw, const char *mapping_id, const char *node,
                          const char *entry, char **path, struct pt_report *rep)
{
	struct pt_pve_map_entry e;
	if (pt_pve_map_entry_parse(entry, "", &e, NULL) < 0)
		return 0;
	int rc = 0;
	if (strcmp(e.node, node) == 0)
		rc = pt_pve_map_entry_check_hw(mapping_id, &e, pt_pve_hw_lookup, hw, rep);
	if (rc < 0 && path)
		*path = PT_STEAL(e.path);
	pt_pve_map_entry_release(&e);
	return rc;
}
