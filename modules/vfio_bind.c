/* vfio_bind: hand PCI devices to vfio-pci, persistently and now, without
 * cutting the host off (issue 4; docs in modules/vfio_bind.yml). The work is
 * module_utils/vfio_bind_run.h's; this main reads the options, runs it, and puts
 * what it reports into the module's result. */
#include <stdio.h>
#include <string.h>

#include "runtime.h"
#include "vfio_bind_argspec.h"
#include "vfio_bind_run.h"

#define MODULE_NAME "homelab.passthrough.vfio_bind"

static const char usage[] =
        "usage: vfio_bind ARGS_FILE\n"
        "       vfio_bind -\n"
        "       vfio_bind --help\n"
        "\n"
        "The Ansible module homelab.passthrough.vfio_bind: hands PCI devices to\n"
        "vfio-pci. ARGS_FILE is a JSON object of options, as Ansible writes it, e.g.\n"
        "  {\"devices\": [\"0000:07:00\"], \"_ansible_check_mode\": true}\n"
        "- reads that object from stdin. See `ansible-doc homelab.passthrough.vfio_bind`.\n";

int main(int argc, char **argv)
{
	int rc = pt_module_cli(argc, argv, "vfio_bind", usage);
	if (rc >= 0)
		return rc;
	struct pt_module m;
	if (pt_module_init(&m, MODULE_NAME, vfio_bind_argspec_json, argc, argv) < 0)
		return pt_module_finish(&m);
	struct pt_vfio_bind_opts opts;
	struct pt_vfio_bind_result res;
	if (pt_vfio_bind_opts_read(&m, &opts) < 0)
		return pt_module_finish(&m);
	int ret = pt_vfio_bind_run(&opts, &res);
	pt_vfio_bind_result_to_module(&m, ret, &res);
	pt_vfio_bind_result_release(&res);
	return pt_module_finish(&m);
}
