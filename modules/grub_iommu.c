/* grub_iommu: IOMMU (and other) parameters on the kernel command line the host
 * boots with next — /etc/default/grub for GRUB, /etc/kernel/cmdline for Proxmox
 * systemd-boot — and the boot configuration regenerated (docs in
 * modules/grub_iommu.yml). The work is module_utils/grub_iommu_run.h's; this
 * main reads the options, runs it, and puts what it reports into the module's
 * result. */
#include <stdio.h>
#include <string.h>

#include "grub_iommu_argspec.h"
#include "grub_iommu_run.h"
#include "runtime.h"

#define MODULE_NAME "homelab.passthrough.grub_iommu"

static const char usage[] =
        "usage: grub_iommu ARGS_FILE\n"
        "       grub_iommu -\n"
        "       grub_iommu --help\n"
        "\n"
        "The Ansible module homelab.passthrough.grub_iommu: puts intel_iommu=on,\n"
        "iommu=pt and other kernel parameters on the command line the host boots\n"
        "with next (/etc/default/grub for GRUB, /etc/kernel/cmdline for Proxmox\n"
        "systemd-boot) and runs update-grub or proxmox-boot-tool refresh.\n"
        "ARGS_FILE is a JSON object of options, as Ansible writes it; - reads that\n"
        "object from stdin. See `ansible-doc homelab.passthrough.grub_iommu`.\n";

int main(int argc, char **argv)
{
	int rc = pt_module_cli(argc, argv, "grub_iommu", usage);
	if (rc >= 0)
		return rc;
	struct pt_module m;
	if (pt_module_init(&m, MODULE_NAME, grub_iommu_argspec_json, argc, argv) < 0)
		return pt_module_finish(&m);
	struct pt_grub_iommu_opts opts;
	struct pt_grub_iommu_result res;
	if (pt_grub_iommu_opts_read(&m, &opts) < 0)
		return pt_module_finish(&m);
	int ret = pt_grub_iommu_run(&opts, &res);
	pt_grub_iommu_result_to_module(&m, ret, &res);
	pt_grub_iommu_result_release(&res);
	return pt_module_finish(&m);
}
