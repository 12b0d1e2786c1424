/* Layer: vfio family (vfio_bind), its lowest header. Included by vfio_bind_run.h
 * and by the vfio_* files whose steps read the options (vfio_files); nothing of
 * the family sits beneath it, so no file of the family includes upwards to get
 * the options.
 *
 * The options of one vfio_bind run, validated: what modules/vfio_bind.yml
 * documents, as the library reads them (no Ansible types). */
#ifndef PT_VFIO_OPTS_H
#define PT_VFIO_OPTS_H

#include <stdbool.h>

#include <jansson.h>

/* Strings and arrays are borrowed from the caller for the length of the run. */
struct pt_vfio_bind_opts {
	const char *root;           /* the host's root directory, "/" for the host */
	bool present;               /* state: present (false: absent) */
	bool check;                 /* check mode: predict, change nothing */
	const json_t *devices;      /* PCI addresses as given (array of strings, or NULL) */
	const json_t *ids;          /* vendor:device pairs as given (array of strings, or NULL) */
	bool include_group;         /* the other endpoints of a selected device's group join */
	bool disable_vga;           /* disable_vga=1 on the options line */
	const json_t *blacklist;    /* blacklist_drivers (array of strings, or NULL) */
	const char *conf_path;      /* modprobe.d file for options/softdep/install lines */
	const char *blacklist_path; /* modprobe.d file for the blacklist */
	const char *modules_file;   /* /etc/modules or a modules-load.d/NAME.conf */
	bool update_initramfs;      /* rebuild the initramfs after a file changed */
	int initramfs_timeout;      /* seconds before update-initramfs is killed */
	int modprobe_timeout;       /* seconds before bind_now's modprobe vfio-pci is killed */
	bool bind_now;              /* move the devices to vfio-pci on the running host */
	bool force;                 /* go ahead despite the safety refusals (warned) */
	bool backup;                /* keep a backup of each file before it changes */
};

#endif
