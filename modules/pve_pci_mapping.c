/* pve_pci_mapping: a Proxmox VE cluster PCI resource mapping, through pvesh
 * (docs in modules/pve_pci_mapping.yml). The work is
 * module_utils/pve_pci_mapping_run.h's; this main reads the options, runs it, and
 * puts what it reports into the module's result. */
#include <stdio.h>
#include <string.h>

#include "pve_pci_mapping_argspec.h"
#include "pve_pci_mapping_run.h"
#include "runtime.h"

#define MODULE_NAME "homelab.passthrough.pve_pci_mapping"

static const char usage[] =
        "usage: pve_pci_mapping ARGS_FILE\n"
        "       pve_pci_mapping -\n"
        "       pve_pci_mapping --help\n"
        "\n"
        "The Ansible module homelab.passthrough.pve_pci_mapping: creates, updates or\n"
        "removes this node's entry in a Proxmox VE cluster PCI resource mapping\n"
        "(/cluster/mapping/pci) through pvesh. ARGS_FILE is a JSON object of options,\n"
        "as Ansible writes it; - reads that object from stdin.\n"
        "See `ansible-doc homelab.passthrough.pve_pci_mapping`.\n";

int main(int argc, char **argv)
{
	int rc = pt_module_cli(argc, argv, "pve_pci_mapping", usage);
	if (rc >= 0)
		return rc;
	struct pt_module m;
	if (pt_module_init(&m, MODULE_NAME, pve_pci_mapping_argspec_json, argc, argv) < 0)
		return pt_module_finish(&m);
	struct pt_pve_pci_mapping_opts opts;
	struct pt_pve_pci_mapping_result res;
	if (pt_pve_pci_mapping_opts_read(&m, &opts) < 0)
		return pt_module_finish(&m);
	int ret = pt_pve_pci_mapping_run(&opts, &res);
	pt_pve_pci_mapping_result_to_module(&m, ret, &res);
	pt_pve_pci_mapping_result_release(&res);
	return pt_module_finish(&m);
}
