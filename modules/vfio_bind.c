/* vfio_bind: hand PCI devices to vfio-pci, persistently and now, without
 * cutting the host off (issue 4; docs in modules/vfio_bind.yml). The work is
 * module_utils/vfio_run.h's; this main reads the options, runs it, and puts
 * what it reports into the module's result. */
#include <stdio.h>
#include <string.h>

#include "runtime.h"
#include "vfio_bind_argspec.h"
#include "vfio_run.h"

#define MODULE_NAME "homelab.passthrough.vfio_bind"

static const char usage[] =
        "vfio_bind: an Ansible module (homelab.passthrough.vfio_bind) that hands PCI\n"
        "devices to vfio-pci. Ansible runs it as 'vfio_bind ARGS_FILE', ARGS_FILE holding\n"
        "a JSON object of options, e.g.\n"
        "  {\"devices\": [\"0000:07:00\"], \"_ansible_check_mode\": true}\n"
        "See `ansible-doc homelab.passthrough.vfio_bind` for the options.\n";

/* The options into o. Returns 0, or -1 when one is refused (the module is
 * marked failed with the reason). */
static int read_options(struct pt_module *m, struct pt_vfio_bind_opts *o)
{
	const char *state = pt_param_str(m, "state");
	*o = (struct pt_vfio_bind_opts){
	        .root = pt_module_root(m),
	        .present = !state || !strcmp(state, "present"),
	        .check = m->check_mode,
	        .devices = pt_param(m, "devices"),
	        .ids = pt_param(m, "ids"),
	        .include_group = pt_param_bool(m, "include_group", true),
	        .disable_vga = pt_param_bool(m, "disable_vga", false),
	        .blacklist = pt_param(m, "blacklist_drivers"),
	        .update_initramfs = pt_param_bool(m, "update_initramfs", true),
	        .initramfs_timeout = pt_param_seconds(m, "initramfs_timeout", 900),
	        .modprobe_timeout = pt_param_seconds(m, "modprobe_timeout", 60),
	        .bind_now = pt_param_bool(m, "bind_now", false),
	        .force = pt_param_bool(m, "force", false),
	        .backup = pt_param_bool(m, "backup", false),
	};
	/* a relative path would be joined onto root as "<root>vfio.conf", beside it */
	if (o->initramfs_timeout < 0 || o->modprobe_timeout < 0 ||
	    pt_param_abspath(m, "conf_path", &o->conf_path) < 0 ||
	    pt_param_abspath(m, "blacklist_path", &o->blacklist_path) < 0 ||
	    pt_param_abspath(m, "modules_file", &o->modules_file) < 0)
		return -1;
	return 0;
}

/* The run's report into the module's result: values, warnings, diffs, and
 * the failure if there was one. */
static void set_result(struct pt_module *m, int ret, struct pt_vfio_bind_result *res)
{
	const char *key;
	size_t i;
	json_t *v;
	json_array_foreach (res->report.warnings, i, v)
		pt_warn(m, "%s", json_string_value(v));
	json_array_foreach (res->report.diffs, i, v)
		pt_diff_add(m, json_string_value(json_object_get(v, "path")),
		            json_string_value(json_object_get(v, "before")),
		            json_string_value(json_object_get(v, "after")));
	if (ret < 0)
		pt_module_fail(m, "%s", res->report.msg ? res->report.msg : "out of memory");
	pt_result_set_changed(m, res->changed);
	json_object_foreach (res->values, key, v)
		pt_result_set(m, key, json_incref(v));
}

int main(int argc, char **argv)
{
	bool help = argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h");
	if (help || !strncmp(argv[1], "--", 2)) {
		fputs(usage, help ? stdout : stderr);
		return help ? 0 : 2;
	}
	struct pt_module m;
	if (pt_module_init(&m, MODULE_NAME, vfio_bind_argspec_json, argc, argv) < 0)
		return pt_module_finish(&m);
	struct pt_vfio_bind_opts opts;
	struct pt_vfio_bind_result res;
	if (read_options(&m, &opts) < 0)
		return pt_module_finish(&m);
	int ret = pt_vfio_bind_run(&opts, &res);
	set_result(&m, ret, &res);
	pt_vfio_bind_result_release(&res);
	return pt_module_finish(&m);
}
