/* Capabilities through libpci (see host_pci_caps.h).
 *
 * libpci's own failures (out of memory, no access method) leave through
 * pt_libpci_call's trap; a missing or short config file makes libpci's reads
 * give all ones, which reads as "not readable" or "no extended space".
 *
 * Register layouts: PCI Express Base Specification, "Resizable BAR Extended
 * Capability" (capability register at +4 + 8*i: bits 4..31, bit n set when a
 * BAR of (1 MiB << (n - 4)) is supported; control register at +8 + 8*i: bits
 * 0..2 the BAR index, bits 5..7 in the first control register the number of
 * resizable BARs, bits 8..13 the current size as a power of two in MiB) and
 * "SR-IOV Extended Capability" (TotalVFs at +0x0e, NumVFs at +0x10). */
#include "host_pci_caps.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pci/pci.h>

#include "cleanup.h"
#include "files.h"
#include "host_files.h"
#include "libpci_call.h"

#define REBAR_CAP          4
#define REBAR_CTRL         8
#define REBAR_CTRL_BAR_IDX 0x7u
#define REBAR_CTRL_NBAR(c) (((c) >> 5) & 0x7u)
#define REBAR_CTRL_SIZE(c) (((c) >> 8) & 0x3fu)

bool pt_pci_caps_known(const struct pt_pci_caps *caps)
{
	return caps->readable && (!caps->is_pcie || caps->extended);
}

static void read_rebar(struct pci_dev *d, unsigned where, struct pt_pci_caps *caps)
{
	u32 first = pci_read_long(d, (int)(where + REBAR_CTRL));
	unsigned count = REBAR_CTRL_NBAR(first);
	for (unsigned i = 0; i < count && i < PT_REBAR_MAX; i++) {
		u32 cap = pci_read_long(d, (int)(where + REBAR_CAP + 8 * i));
		u32 ctrl = pci_read_long(d, (int)(where + REBAR_CTRL + 8 * i));
		if (cap == 0xffffffffu || ctrl == 0xffffffffu)
			break;
		struct pt_rebar *r = &caps->rebar[caps->n_rebar++];
		r->bar = (int)(ctrl & REBAR_CTRL_BAR_IDX);
		r->current_mb = 1ULL << REBAR_CTRL_SIZE(ctrl);
		r->supported = cap >> 4;
	}
}

/* One device; may longjmp out through caps_error (nothing allocated here). */
static void read_device(struct pci_access *acc, const char *address, struct pt_pci_caps *caps)
{
	unsigned domain, bus, slot, func;
	memset(caps, 0, sizeof *caps);
	caps->sriov_total_vfs = caps->sriov_num_vfs = -1;
	if (sscanf(address, "%4x:%2x:%2x.%1x", &domain, &bus, &slot, &func) != 4)
		return;
	struct pci_dev *d = pci_get_dev(acc, (int)domain, (int)bus, (int)slot, (int)func);
	if (!d)
		return;
	caps->readable = pci_read_word(d, PCI_VENDOR_ID) != 0xffff;
	if (caps->readable) {
		pci_fill_info(d, PCI_FILL_CAPS | PCI_FILL_EXT_CAPS);
		caps->is_pcie = pci_find_cap(d, PCI_CAP_ID_EXP, PCI_CAP_NORMAL) != NULL;
		/* past 256 bytes a short config file reads as all ones */
		caps->extended = caps->is_pcie && pci_read_long(d, 0x100) != 0xffffffffu;
		struct pci_cap *rebar = pci_find_cap(d, PCI_EXT_CAP_ID_REBAR, PCI_CAP_EXTENDED);
		if (rebar)
			read_rebar(d, rebar->addr, caps);
		struct pci_cap *sriov = pci_find_cap(d, PCI_EXT_CAP_ID_SRIOV, PCI_CAP_EXTENDED);
		if (sriov) {
			caps->sriov_total_vfs =
			        pci_read_word(d, (int)sriov->addr + PCI_IOV_TOTALVF);
			caps->sriov_num_vfs = pci_read_word(d, (int)sriov->addr + PCI_IOV_NUMVF);
		}
	}
	pci_free_dev(d);
}

struct caps_call {
	const char *sysfs;
	const char *const *addresses;
	size_t n;
	struct pt_pci_caps *caps;
};

static int read_all(struct pci_access *acc, void *ctx)
{
	struct caps_call *call = ctx;
	pci_set_param(acc, "sysfs.path", (char *)call->sysfs);
	pci_init(acc);
	for (size_t i = 0; i < call->n; i++)
		read_device(acc, call->addresses[i], &call->caps[i]);
	return 0;
}

int pt_pci_caps_read(const char *root, const char *const addresses[], size_t n,
                     struct pt_pci_caps *caps, struct pt_report *rep)
{
	for (size_t i = 0; i < n; i++) {
		memset(&caps[i], 0, sizeof caps[i]);
		caps[i].sriov_total_vfs = caps[i].sriov_num_vfs = -1;
	}
	if (!n)
		return 0;
	_cleanup_free_ char *sysfs = pt_path_join(root, "/sys/bus/pci");
	struct pci_access *acc = sysfs ? pt_libpci_alloc() : NULL;
	if (!acc)
		return pt_report_fail(rep, -ENOMEM, "out of memory while reading PCI capabilities");
	struct caps_call call = {sysfs, addresses, n, caps};
	char message[512];
	int r = pt_libpci_call(acc, read_all, &call, message, sizeof message);
	pci_cleanup(acc);
	if (r < 0)
		return pt_report_fail(
		        rep, r,
		        "cannot read the PCI capabilities under %s: libpci: %s. Run as "
		        "root on the host, or point root at a complete copy",
		        sysfs, message);
	return 0;
}

static bool visible(const char *name)
{
	return name[0] != '.';
}

int pt_pci_mdev_types(const char *root, const char *address, char ***names)
{
	_cleanup_free_ char *dir = NULL;
	*names = NULL;
	if (asprintf(&dir, "/sys/bus/pci/devices/%s/mdev_supported_types", address) < 0) {
		dir = NULL;
		return -ENOMEM;
	}
	return pt_host_list_dir(root, dir, visible, names);
}
