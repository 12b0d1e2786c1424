/* iommu_facts: ansible_facts.iommu for a host (read-only; docs in
 * modules/iommu_facts.yml). The work is module_utils/iommu_facts_run.h's; this
 * main reads the options, runs it, and puts the facts into the module's
 * result. From a shell, `iommu_facts --root DIR` prints a table of the groups
 * and devices (like ls-iommu) and `--json` the facts (pt_iommu_facts_cli); no
 * argument or an unknown option gives the usage on stderr, exit code 2, as for
 * every module binary (pt_module_cli). */
#include <stdio.h>
#include <string.h>

#include "iommu_facts_argspec.h"
#include "iommu_facts_run.h"
#include "runtime.h"

#define MODULE_NAME "homelab.passthrough.iommu_facts"

static const char usage[] =
        "usage: iommu_facts --root DIR [--json] [--device ADDR]... [--after-reboot]\n"
        "       iommu_facts --json [--root DIR] [--device ADDR]... [--after-reboot]\n"
        "       iommu_facts ARGS_FILE\n"
        "       iommu_facts -\n"
        "       iommu_facts --help\n"
        "\n"
        "Show the IOMMU groups of this host and the PCI devices in them: group,\n"
        "address, [vendor:device] IDs, class, names (pci.ids) and driver, then the\n"
        "GPUs, whether their groups are isolated (safe to pass through alone), and\n"
        "each GPU's passthrough readiness (ready, needs_action, blocked) with what\n"
        "was found and how to fix it (docs/troubleshooting.md).\n"
        "\n"
        "  --root DIR      read /sys, /proc, /etc and /lib/modules under DIR (--root /\n"
        "                  for this host)\n"
        "  --json          print ansible_facts.iommu as JSON instead of the table\n"
        "  --device ADDR   judge this device (0000:07:00.0) or every function of a slot\n"
        "                  (0000:07:00) as one selection, as the role does before\n"
        "                  handing it to vfio-pci; may be given more than once\n"
        "  --after-reboot  judge the selection as after the reboot: a device not on\n"
        "                  vfio-pci is a finding (not-on-vfio-yet)\n"
        "  --help          this text\n"
        "\n"
        "With ARGS_FILE (a JSON object of options, as Ansible writes it) the program\n"
        "runs as the Ansible module homelab.passthrough.iommu_facts; - reads that\n"
        "object from stdin.\n";

int main(int argc, char **argv)
{
	int rc = pt_iommu_facts_cli(argc, argv, usage); /* --root, --json: from a shell */
	if (rc >= 0)
		return rc;
	rc = pt_module_cli(argc, argv, "iommu_facts", usage);
	if (rc >= 0)
		return rc;
	struct pt_module m;
	if (pt_module_init(&m, MODULE_NAME, iommu_facts_argspec_json, argc, argv) < 0)
		return pt_module_finish(&m);
	struct pt_iommu_facts_opts opts;
	struct pt_iommu_facts_result res;
	if (pt_iommu_facts_opts_read(&m, &opts) < 0)
		return pt_module_finish(&m);
	int ret = pt_iommu_facts_run(&opts, &res);
	pt_iommu_facts_result_to_module(&m, ret, &res);
	pt_iommu_facts_result_release(&res);
	return pt_module_finish(&m);
}
