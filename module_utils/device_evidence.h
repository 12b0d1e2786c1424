/* Layer: iommu facts family. Included by iommu.c (iommu_facts_run.c once the
 * module-run refactor lands) and tests.
 *
 * The evidence the readiness verdict (readiness.h) stands on, added to the
 * facts iommu_facts gathers, each field from the file named here. Null means
 * "could not be told", never "none".
 *
 * Host (top level of ansible_facts.iommu):
 *   secure_boot                  "on" | "off" | "not-efi" | null
 *                                (/sys/firmware/efi, efivars SecureBoot-8be4df61-...)
 *   vfio.allow_unsafe_interrupts true | false | null: vfio_iommu_type1's parameter
 *                                for the next load: the command line's
 *                                vfio_iommu_type1.allow_unsafe_interrupts, else the
 *                                last `options vfio_iommu_type1 allow_unsafe_interrupts=`
 *                                in modprobe.d, else the loaded module's value
 *                                (/sys/module/vfio_iommu_type1/parameters/), else false
 *                                (the kernel's default); null when modprobe.d could not
 *                                be read and nothing else says.
 *   (pcie_acs_override and vfio-pci.ids are in cmdline.params already.)
 *
 * Per device (devices[ADDR]):
 *   reset_methods   ["flr", "bus"] | [] (no method: attribute hidden, kernel >= 5.15)
 *                   | null (kernel before 5.15, or garbage): replaces the field of
 *                   the same name, which read a missing attribute as null
 *                   (/sys/bus/pci/devices/ADDR/reset_method)
 *   framebuffers    [{name, start, end, bar}] firmware framebuffer ranges of
 *                   /proc/iomem inside the device's memory BARs (its `resource`
 *                   file); start and end are "0x..." strings; [] none; null when
 *                   /proc/iomem or the resource file cannot be read, is cut short
 *                   or shows zeros (not root)
 *   capabilities    {resizable_bar: [{bar, current_mb, supported_mb: [...]}] | [] |
 *                   null, sriov: {total_vfs, num_vfs} ({0, 0}: no SR-IOV) | null,
 *                   mdev_types: [...] | [] | null} (config space through libpci;
 *                   /sys/bus/pci/devices/ADDR/mdev_supported_types)
 *   driver_load     {MODULE: {built_in, early[, unreadable]}} for every driver that
 *                   would claim the device: the bound driver's module
 *                   (/sys/bus/pci/drivers/DRIVER/module) and the modules its
 *                   modalias matches (the device's `modules`), vfio-pci and
 *                   pci-stub left out.
 *                     built_in: false | {file, line, text} (the modules.builtin line)
 *                               | null (no modules.builtin for the running kernel);
 *                     early:    [{file, line, how, text}] (how: "initramfs",
 *                               "modules-load", "install"; host_early_load.h) | null
 *                               when a source that exists could not be read, named
 *                               by unreadable. */
#ifndef PT_DEVICE_EVIDENCE_H
#define PT_DEVICE_EVIDENCE_H

#include <jansson.h>

#include "pci.h"
#include "report.h"

/* Add the fields above to facts (as pt_iommu_facts_from_scan built them for
 * root from the scan host; borrowed, changed in place): the host's at the top
 * level and in facts.vfio, each device's in facts.devices[ADDR] (devices the
 * facts do not list are skipped). Facts it needs: kernel, cmdline.params and
 * each device's driver and modules. Returns 0, or a negative errno with the
 * reason in rep: -EIO when libpci fails, -ENOMEM. Unreadable files are null
 * fields, never an error. */
int pt_evidence_add(const char *root, const struct pt_pci_host *host, json_t *facts,
                    struct pt_report *rep);

/* Parse a kernel boolean parameter's value as the kernel does (kstrtobool):
 * "1", "y", "Y", "on" are 1; "0", "n", "N", "off" are 0 (only the first
 * characters count); anything else is -EINVAL. */
int pt_evidence_kernel_bool(const char *value);

#endif
