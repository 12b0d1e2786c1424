/* Layer: pve_pci_mapping family (pve_mapping_*, pvesh), at the bottom of the
 * family: it includes base headers only, so that every file of the family may
 * include it. Included by pve_mapping_wanted, pve_mapping_plan,
 * pve_pci_mapping_run and the pve unit tests.
 *
 * What a pve_pci_mapping run is asked to do (its options, modules/pve_pci_mapping.yml),
 * and the checks on them that need more than the argument spec: Proxmox's rules
 * for names, one-line descriptions, options that belong to the other map_mode,
 * pvesh being there. */
#ifndef PT_PVE_MAPPING_OPTS_H
#define PT_PVE_MAPPING_OPTS_H

#include <stdbool.h>

#include <jansson.h>

#include "report.h"

/* The longest mapping ID (name) the module takes. Proxmox itself sets none: the ID
 * is a pve-configid (pve-common JSONSchema.pm), a pattern without maxLength, and
 * neither PVE::Mapping::PCI nor the API handlers (pve-manager
 * PVE/API2/Cluster/Mapping/PCI.pm) add one. Yet the ID goes into every VM config
 * that uses it (hostpciN: mapping=ID), the ACL path /mapping/pci/ID, pci.cfg
 * (pmxcfs holds at most 1 MiB per file), the URL of every API call on it
 * (pveproxy reads a request line into a 64 KiB buffer) and one pvesh argument
 * (at most 128 KiB, the kernel's MAX_ARG_STRLEN): a huge ID fails late and
 * obscurely. 128 characters is far more than a name a person types (Proxmox caps
 * snapshot names, also pve-configids, at 40) and far below each of those limits. */
#define PT_PVE_NAME_MAX 128

/* The module's options, validated by the argument spec. */
struct pt_pve_pci_mapping_opts {
	const char *root;        /* the host's root directory, "/" for the host itself */
	bool check;              /* check mode: only `pvesh get` runs; predict the rest */
	const char *pvesh;       /* path of pvesh under root */
	const char *name;        /* the mapping ID */
	const char *node;        /* this node's cluster name; NULL: the local host name */
	bool present;            /* state=present (else absent) */
	bool exact;              /* map_mode=exact (else node) */
	int timeout;             /* seconds each pvesh call may take */
	long long retries;       /* how often a write that lost a race is retried */
	const char *description; /* NULL: leave as it is; "": remove */
	int mdev;                /* 1, 0, or -1: leave as it is */
	int live_migration;      /* live-migration-capable: 1, 0, or -1: leave as it is */
	const json_t *devices;   /* map_mode=node: array of PCI address strings, or NULL */
	const json_t *map;       /* map_mode=exact: array of {node, path, id, subsystem_id,
	                            iommugroup, description} objects, or NULL */
};
/* Every pointer in the options is borrowed: the caller keeps them alive for as
 * long as the options are used. */

/* The local node's name as Proxmox uses it: the host name up to the first dot,
 * from gethostname() for root "/", else from <root>/etc/hostname. Returns it
 * (caller frees), or NULL with rep's failure saying what is missing and to set
 * the node option. */
char *pt_pve_local_node(const char *root, struct pt_report *rep);

/* Check the options in the order the user should hear about problems: the name
 * (its length, at most PT_PVE_NAME_MAX, then Proxmox's pattern), the node (o->node, or the local
 * node name), the description, retries, the options of the other map_mode, pvesh being executable
 * under root. *node is set (caller frees) as soon as the node name is known, even when a later
 * check fails, so that the result can report it. Returns 0; -EINVAL (-ENOENT when pvesh is missing)
 * with rep's failure saying what is wrong and what to do; -ENOMEM. */
int pt_pve_opts_check(const struct pt_pve_pci_mapping_opts *o, char **node, struct pt_report *rep);

#endif
