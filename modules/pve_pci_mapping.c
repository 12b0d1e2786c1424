/* pve_pci_mapping: a Proxmox VE cluster PCI resource mapping, through pvesh.
 *
 * The options go into a struct pt_pve_request; module_utils/pve_mapping_sync
 * reads the mapping, plans and writes it (retrying while other nodes win the race
 * for the cluster file); the outcome becomes the module's result. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cleanup.h"
#include "pve_mapping_sync.h"
#include "pve_pci_mapping_argspec.h"
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

/* A bool option as 1 or 0, or -1 when not given ("leave it as it is"). */
static int flag(const struct pt_module *m, const char *key)
{
	json_t *v = pt_param(m, key);
	return v ? json_is_true(v) : -1;
}

static void read_options(struct pt_module *m, struct pt_pve_request *req)
{
	*req = (struct pt_pve_request){
	        .root = pt_module_root(m),
	        .pvesh = pt_param_str(m, "pvesh"),
	        .name = pt_param_str(m, "name"),
	        .node = pt_param_str(m, "node"),
	        .present = strcmp(pt_param_str(m, "state"), "present") == 0,
	        .exact = strcmp(pt_param_str(m, "map_mode"), "exact") == 0,
	        .timeout = pt_param_seconds(m, "timeout", 60),
	        .retries = pt_param_int(m, "retries", 10),
	        .description = pt_param_str(m, "description"),
	        .mdev = flag(m, "mdev"),
	        .live_migration = flag(m, "live_migration_capable"),
	        .devices = pt_param(m, "devices"),
	        .map = pt_param(m, "map"),
	};
}

static void report(struct pt_module *m, struct pt_pve_outcome *out, int rc)
{
	if (rc < 0) {
		pt_module_fail(m, "%s", out->msg ? out->msg : "out of memory");
	} else {
		pt_result_set_changed(m, out->action != PT_PVE_NONE);
		if (out->summary)
			pt_result_set(m, "msg", json_string(out->summary));
		pt_result_set(m, "action", json_string(pt_pve_action_name(out->action)));
		pt_result_set(m, "retries", json_integer(out->retries));
		pt_result_set(m, "mapping", json_incref(out->mapping));
		/* The diff shows the mapping's section, not the whole file: headed so. */
		_cleanup_free_ char *header = NULL;
		if (out->action != PT_PVE_NONE &&
		    asprintf(&header, PT_PVE_PCI_CFG " [%s]", pt_param_str(m, "name")) >= 0)
			pt_diff_add(m, header, out->diff_before, out->diff_after);
	}
	size_t i;
	json_t *warning;
	json_array_foreach (out->warnings, i, warning)
		pt_warn(m, "%s", json_string_value(warning));
	pt_result_set(m, "node", out->node ? json_string(out->node) : json_null());
	if (json_array_size(out->commands))
		pt_result_set(m, "commands", json_incref(out->commands));
	const char *key;
	json_t *value;
	json_object_foreach (out->failure, key, value)
		pt_result_set(m, key, json_incref(value));
}

int main(int argc, char **argv)
{
	int rc = pt_module_cli(argc, argv, "pve_pci_mapping", usage);
	if (rc >= 0)
		return rc;
	struct pt_module m;
	if (pt_module_init(&m, MODULE_NAME, pve_pci_mapping_argspec_json, argc, argv) < 0)
		return pt_module_finish(&m);
	struct pt_pve_request req;
	read_options(&m, &req);
	if (req.timeout < 0)
		return pt_module_finish(&m);
	struct pt_pve_outcome out;
	rc = pt_pve_sync(&req, m.check_mode, &out);
	report(&m, &out, rc);
	pt_pve_outcome_release(&out);
	return pt_module_finish(&m);
}
