/* Layer: base (no Ansible types, no host I/O). Anyone may include it.
 *
 * A passthrough verdict for one device, before the reboot (preflight) or
 * after it (verify): from the facts iommu_facts gathers (iommu.h, plus the
 * evidence of device_evidence.h) to
 *
 *   {"readiness": "ready" | "needs_action" | "blocked",
 *    "findings": [{"id", "severity", "evidence": {"file", "line"?, "value"}, "fix"}],
 *    "unknown": [{"fact", "file"}]}
 *
 * A pure function: it reads only the JSON it is given, so the module, the CLI
 * table and the tests get the same answer from the same facts.
 *
 * Findings (ids are stable API: the role's gpu_passthrough_force names them):
 *
 *   id                      severity  when
 *   group-not-isolated      blocking  the selection's IOMMU group holds other endpoints
 *   no-interrupt-remapping  blocking  interrupt remapping is off and vfio_iommu_type1's
 *                                     allow_unsafe_interrupts is not set (vfio refuses
 *                                     the group); warning when that parameter is
 *                                     unknown; info when it is set (the risk accepted)
 *   driver-built-in         blocking  a driver that claims the device is built into the
 *                                     running kernel (binds before any module loads)
 *   not-on-vfio-yet         blocking  after the reboot only: the device's driver is not
 *                                     vfio-pci
 *   boot-framebuffer        warning   a firmware framebuffer (BOOTFB, efifb, ...) lies in
 *                                     one of the device's BARs
 *   driver-loaded-early     warning   a boot-time source loads a driver that claims the
 *                                     device (initramfs-tools, modules-load, an install
 *                                     line); one finding per source line
 *   cmdline-ids-conflict    warning   the running command line has vfio-pci.ids= with
 *                                     IDs other than the ones being bound
 *   no-reset                warning   the kernel has no reset method for the device
 *   known-reset-bug         warning   an AMD GPU of vendor-reset's table; info when its
 *                                     device-specific reset is already the one in use
 *
 * Verdict: blocked when any finding is blocking; otherwise needs_action when
 * any is a warning or any fact a check needed is unknown; otherwise ready. An
 * unknown fact never makes a device blocked and never counts as fine: it is
 * listed in "unknown" and keeps the verdict from being ready. Info findings
 * explain and do not change the verdict. Findings are ordered blocking,
 * warning, info, and within a severity in the order of the table above.
 *
 * The facts read, as ansible_facts.iommu names them (null: unknown):
 *   device (devices[ADDR]): vendor_id, device_id, class_id ("10de", "0300"),
 *     driver, boot_vga, iommu_group, reset_methods ([] none), framebuffers
 *     ([] none; else [{name, start, end, bar}]), driver_load ({MODULE:
 *     {built_in: false | null | {file, line, text}, early: null | [{file, line,
 *     how, text}]}}, the drivers that would claim the device);
 *   group (gpus[ADDR], or the same shape for another selection): isolated,
 *     intruders;
 *   host (the top level): interrupt_remapping, vfio.allow_unsafe_interrupts,
 *     secure_boot ("on", "off", "not-efi"), cmdline.params["vfio_pci.ids"]. */
#ifndef PT_READINESS_H
#define PT_READINESS_H

#include <stdbool.h>

#include <jansson.h>

struct pt_readiness_input {
	const char *address;     /* canonical "0000:07:00.0", for evidence paths */
	const json_t *device;    /* the device's facts with its evidence (borrowed) */
	const json_t *host;      /* the host's facts: ansible_facts.iommu (borrowed) */
	const json_t *group;     /* {isolated, intruders} of the selection; NULL: not judged */
	const json_t *bound_ids; /* every "vendor:device" being handed to vfio-pci (the list
	                          * vfio.conf will hold); NULL: the device's own ID */
	bool after_reboot;       /* the verify stage: the device must be on vfio-pci now */
};

/* The verdict for one device, in the shape above. New reference; NULL only
 * when out of memory or in->device is not an object. */
json_t *pt_readiness_evaluate(const struct pt_readiness_input *in);

/* A verdict for every GPU in facts (ansible_facts.iommu with the evidence;
 * changed in place): gpus[ADDR] gains the keys of pt_readiness_evaluate's
 * object (readiness, findings, unknown) for the display function ADDR before
 * the reboot, with the GPU entry's own isolated and intruders as the group and
 * the IDs of the slot's functions (gpus[ADDR].functions) as the IDs being
 * bound, which is what the role hands over for a GPU. The other functions' own
 * findings are not part of it. 0, or -ENOMEM. */
int pt_readiness_add_to_gpus(json_t *facts);

/* Whether a finding id is one of the table's (for checking a user's
 * gpu_passthrough_force list). */
bool pt_readiness_known_id(const char *id);

#endif
