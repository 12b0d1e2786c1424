/* Layer: boot family (grub_iommu), its lowest header: it includes nothing of
 * the family. Any boot_* file and grub_iommu_run may include it.
 *
 * What a grub_iommu run is asked to do: the module's options, and the request
 * for the kernel command line that the run derives from them once the IOMMU
 * vendor is known. Both sit at the bottom of the family so that any step can
 * take them without including the run (grub_iommu_run.h) above it.
 *
 * How the family's steps report: what the user must read goes into the
 * caller's struct pt_report (report.h) — warnings in the order found, a
 * failure's message with its negative errno, which the step also returns.
 * -ENOMEM may come back with nothing recorded: the runtime then says "out of
 * memory". A report keeps its first failure, so a step that fails after
 * another has failed adds nothing to it. */
#ifndef PT_BOOT_OPTS_H
#define PT_BOOT_OPTS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* The module's options, validated (see modules/grub_iommu.yml). Strings and
 * the params array are borrowed from the caller for the length of the run. */
struct pt_grub_iommu_opts {
	const char *root;       /* the host's root directory, "/" for the host */
	bool check;             /* check mode: predict, change nothing */
	bool present;           /* state: present (false: absent) */
	bool passthrough;       /* passthrough_mode: iommu=pt */
	const json_t *params;   /* the params option (array of strings, or NULL) */
	const char *iommu;      /* auto, intel, amd or none (NULL counts as none) */
	const char *bootloader; /* auto, grub or systemd-boot (NULL counts as auto) */
	const char *path;       /* the command line file inside root; NULL: the boot
	                           loader's own (/etc/default/grub, /etc/kernel/cmdline) */
	bool backup;            /* keep a backup of the file before it changes */
	bool update;            /* regenerate the boot configuration after a change */
	int timeout;            /* seconds before update-grub, proxmox-boot-tool is killed */
};

/* What one run asks of the kernel command line. Every pointer is borrowed. */
struct pt_boot_iommu_request {
	bool present;              /* state: present (ensure the items) or absent (remove them) */
	const char *vendor;        /* "intel", "amd" or "none": already resolved, never "auto" */
	bool passthrough;          /* passthrough_mode: stands for iommu=pt */
	const char *const *params; /* the params option, one kernel parameter per item */
	size_t n_params;           /* number of params */
};

#endif
