/* Layer: base (no Ansible types, no host I/O). Anyone may include it.
 *
 * GPUs with a known reset bug: AMD (vendor 1002) cards of the Polaris, Vega
 * and Navi 1x families that, once a guest has used them, do not come back from
 * the resets the kernel has (a bus reset leaves them hung, FLR is missing or
 * broken), so the VM starts once and then not again until the host reboots.
 * The out-of-tree vendor-reset module adds a device-specific reset for them.
 *
 * The IDs are those of vendor-reset's device table (src/device-db.h of
 * github.com/gnif/vendor-reset at commit
 * 084881c6e9e11bdadaf05798e669568848e698a3): Polaris 10/11/12, Vega 10,
 * Vega 20, Arcturus (Instinct MI100, which that table files under Vega 20),
 * Navi 10/12/14. Navi 2x and later reset properly and are not listed. */
#ifndef PT_GPU_RESET_QUIRKS_H
#define PT_GPU_RESET_QUIRKS_H

#define PT_PCI_VENDOR_AMD_ATI 0x1002

/* The family name ("Vega 10", "Navi 14", ...) of a GPU with the reset bug,
 * or NULL when vendor:device is not one. A static string. */
const char *pt_gpu_reset_quirk_family(unsigned vendor, unsigned device);

/* How many device IDs the table holds (for tests). */
unsigned pt_gpu_reset_quirk_count(void);

#endif
