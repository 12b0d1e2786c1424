/* iommu_facts: ansible_facts.iommu for a host (read-only).
 *
 *   iommu_facts ARGS_FILE      as Ansible runs it: one JSON result on stdout
 *   iommu_facts -              the same, the JSON args read from stdin
 *   iommu_facts --root DIR     a table of IOMMU groups and devices (like ls-iommu)
 *   iommu_facts --json [--root DIR]   the facts as JSON
 *   iommu_facts --help
 * No argument or an unknown option: the usage on stderr, exit code 2, as for
 * every module binary (pt_module_cli). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cleanup.h"
#include "iommu.h"
#include "iommu_facts_argspec.h"
#include "files.h"
#include "json_dump.h"
#include "runtime.h"

#define MODULE_NAME "homelab.passthrough.iommu_facts"

static const char usage[] =
        "usage: iommu_facts --root DIR [--json]\n"
        "       iommu_facts --json [--root DIR]\n"
        "       iommu_facts ARGS_FILE\n"
        "       iommu_facts -\n"
        "       iommu_facts --help\n"
        "\n"
        "Show the IOMMU groups of this host and the PCI devices in them: group,\n"
        "address, [vendor:device] IDs, class, names (pci.ids) and driver, then the\n"
        "GPUs and whether their groups are isolated (safe to pass through alone).\n"
        "\n"
        "  --root DIR  read /sys, /proc and /lib/modules under DIR (--root / for this\n"
        "              host)\n"
        "  --json      print ansible_facts.iommu as JSON instead of the table\n"
        "  --help      this text\n"
        "\n"
        "With ARGS_FILE (a JSON object of options, as Ansible writes it) the program\n"
        "runs as the Ansible module homelab.passthrough.iommu_facts; - reads that\n"
        "object from stdin.\n";

static const char *str(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s ? s : "";
}

static int width(int current, const char *s)
{
	int n = (int)strlen(s);
	return n > current ? n : current;
}

/* "[10de:1c82]" or "[????:????]" */
static void ids(json_t *dev, char *buf, size_t size)
{
	const char *v = json_string_value(json_object_get(dev, "vendor_id"));
	const char *d = json_string_value(json_object_get(dev, "device_id"));
	snprintf(buf, size, "[%s:%s]", v ? v : "????", d ? d : "????");
}

static void device_name(json_t *dev, char *buf, size_t size)
{
	const char *v = json_string_value(json_object_get(dev, "vendor_name"));
	const char *d = json_string_value(json_object_get(dev, "device_name"));
	if (v && d)
		snprintf(buf, size, "%s %s", v, d);
	else if (v)
		snprintf(buf, size, "%s, device %s", v, str(dev, "device_id"));
	else
		snprintf(buf, size, "unknown device");
}

/* One device line: group, address, IDs, class, names, driver. */
static void print_device(const char *group, const char *address, json_t *dev, int wg, int wc)
{
	char idbuf[16], name[512];
	ids(dev, idbuf, sizeof idbuf);
	device_name(dev, name, sizeof name);
	const char *cls = json_string_value(json_object_get(dev, "class_name"));
	char clsbuf[64];
	if (!cls) {
		snprintf(clsbuf, sizeof clsbuf, "class %s", str(dev, "class_id"));
		cls = clsbuf;
	}
	const char *driver = json_string_value(json_object_get(dev, "driver"));
	printf("%-*s  %s  %s  %-*s  %s  (driver: %s)\n", wg, group, address, idbuf, wc, cls, name,
	       driver ? driver : "none");
}

static int class_width(json_t *devices)
{
	int w = 0;
	const char *addr;
	json_t *dev;
	json_object_foreach (devices, addr, dev) {
		const char *cls = json_string_value(json_object_get(dev, "class_name"));
		w = width(w, cls ? cls : "class 0000");
	}
	return w;
}

static void print_table(json_t *facts)
{
	json_t *groups = json_object_get(facts, "groups");
	json_t *devices = json_object_get(facts, "devices");
	json_t *gpus = json_object_get(facts, "gpus");
	bool enabled = json_is_true(json_object_get(facts, "enabled"));
	int wc = class_width(devices);

	printf("kernel %s, CPU virtualization %s\n",
	       json_string_value(json_object_get(facts, "kernel")) ? str(facts, "kernel")
	                                                           : "unknown",
	       json_string_value(json_object_get(facts, "cpu_virtualization"))
	               ? str(facts, "cpu_virtualization")
	               : "not shown (VT-x/AMD-V off in firmware?)");
	if (!enabled) {
		json_t *params = json_object_get(json_object_get(facts, "cmdline"), "params");
		const char *off = NULL;
		if (!strcmp(str(params, "intel_iommu"), "off"))
			off = "intel_iommu=off";
		else if (!strcmp(str(params, "amd_iommu"), "off"))
			off = "amd_iommu=off";
		if (off)
			printf("IOMMU is not enabled: no IOMMU groups. The kernel command line "
			       "says "
			       "%s: remove it (and enable VT-d/AMD-Vi in the firmware setup), then "
			       "reboot.\n",
			       off);
		else
			printf("IOMMU is not enabled: no IOMMU groups. Enable VT-d (Intel) or "
			       "AMD-Vi/IOMMU (AMD) in the firmware setup and, on Intel with "
			       "kernels "
			       "before 6.8, add intel_iommu=on to the kernel command line; then "
			       "reboot.\n");
		if (!json_object_size(devices)) {
			printf("No PCI devices found.\n");
			return;
		}
		printf("\nPCI devices (no IOMMU group):\n");
		const char *addr;
		json_t *dev;
		json_object_foreach (devices, addr, dev)
			print_device("-", addr, dev, 1, wc);
		return;
	}

	const char *vendor = json_string_value(json_object_get(facts, "vendor"));
	const char *domain = json_string_value(json_object_get(facts, "default_domain"));
	json_t *ir = json_object_get(facts, "interrupt_remapping");
	printf("IOMMU enabled (%s), %zu groups, default domain %s, interrupt remapping %s\n",
	       vendor ? (!strcmp(vendor, "intel") ? "Intel VT-d" : "AMD-Vi") : "vendor unknown",
	       json_object_size(groups), domain ? domain : "unknown",
	       json_is_boolean(ir) ? (json_is_true(ir) ? "on" : "off") : "unknown");
	json_t *params = json_object_get(json_object_get(facts, "cmdline"), "params");
	if (json_object_size(params)) {
		_cleanup_free_ char *p = json_dumps(params, JSON_COMPACT);
		printf("IOMMU parameters on the kernel command line: %s\n", p ? p : "");
	}
	printf("\n");

	int wg = 5;
	const char *gkey;
	json_t *g;
	json_object_foreach (groups, gkey, g) {
		char label[32];
		snprintf(label, sizeof label, "group %s", gkey);
		wg = width(wg, label);
	}
	json_object_foreach (groups, gkey, g) {
		char label[32];
		snprintf(label, sizeof label, "group %s", gkey);
		size_t i;
		json_t *a;
		json_array_foreach (json_object_get(g, "devices"), i, a) {
			const char *addr = json_string_value(a);
			json_t *dev = json_object_get(devices, addr);
			if (dev)
				print_device(i ? "" : label, addr, dev, wg, wc);
			else
				printf("%-*s  %s\n", wg, i ? "" : label, addr);
		}
	}
	/* Devices outside any group (the AMD IOMMU itself, for one). */
	const char *addr;
	json_t *dev;
	json_object_foreach (devices, addr, dev)
		if (json_is_null(json_object_get(dev, "iommu_group")))
			print_device("no group", addr, dev, wg, wc);

	if (json_object_size(gpus))
		printf("\n");
	json_object_foreach (gpus, addr, g) {
		json_t *isolated = json_object_get(g, "isolated");
		char name[512];
		device_name(g, name, sizeof name);
		json_t *group = json_object_get(g, "iommu_group");
		if (json_is_integer(group))
			printf("GPU %s %s: group %lld, ", addr, name, json_integer_value(group));
		else
			printf("GPU %s %s: no group, ", addr, name);
		if (json_is_true(isolated)) {
			printf("isolated (passes through alone)\n");
		} else if (json_is_false(isolated)) {
			_cleanup_free_ char *who =
			        json_dumps(json_object_get(g, "intruders"), JSON_COMPACT);
			printf("NOT isolated: shares its group with %s\n", who ? who : "?");
		} else {
			printf("isolation unknown\n");
		}
	}
}

static int shell_mode(int argc, char **argv)
{
	const char *root = "/";
	bool json = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage, stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--root") && i + 1 < argc) {
			root = argv[++i];
		} else if (!strncmp(argv[i], "--root=", 7)) {
			root = argv[i] + 7;
		} else if (!strcmp(argv[i], "--root")) {
			fprintf(stderr, "iommu_facts: --root needs a directory\n\n%s", usage);
			return 2;
		} else {
			fprintf(stderr, "iommu_facts: unknown argument '%s'\n\n%s", argv[i], usage);
			return 2;
		}
	}
	struct stat st;
	if (stat(root, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "iommu_facts: root %s is not a directory\n", root);
		return 1;
	}
	json_t *facts = NULL;
	_cleanup_free_ char *err = NULL;
	pt_files_confine(root); /* as the module does through the runtime */
	if (pt_iommu_facts(root, &facts, &err) < 0) {
		fprintf(stderr, "iommu_facts: %s\n", err ? err : "cannot gather the facts");
		return 1;
	}
	if (json) {
		/* json_dumpf's text, written in one piece (json_dump.h) */
		_cleanup_free_ char *text = pt_json_dumps(facts, JSON_INDENT(2));
		if (!text) {
			json_decref(facts);
			fprintf(stderr, "iommu_facts: out of memory while printing the facts\n");
			return 1;
		}
		fputs(text, stdout);
		fputc('\n', stdout);
	} else {
		print_table(facts);
	}
	json_decref(facts);
	return 0;
}

int main(int argc, char **argv)
{
	/* Its own options first (--root, --json); the rest as every module binary. */
	if (argc >= 2 && !strncmp(argv[1], "--", 2) && strcmp(argv[1], "--help") != 0)
		return shell_mode(argc, argv);
	int rc = pt_module_cli(argc, argv, "iommu_facts", usage);
	if (rc >= 0)
		return rc;

	struct pt_module m;
	if (pt_module_init(&m, MODULE_NAME, iommu_facts_argspec_json, argc, argv) < 0)
		return pt_module_finish(&m);

	const char *root = pt_module_root(&m); /* a directory: pt_module_init checked */
	json_t *facts = NULL;
	_cleanup_free_ char *err = NULL;
	if (pt_iommu_facts(root, &facts, &err) < 0) {
		pt_module_fail(&m, "%s", err ? err : "cannot gather the IOMMU facts");
		return pt_module_finish(&m);
	}
	json_t *ansible_facts = json_object();
	json_object_set_new(ansible_facts, "iommu", facts);
	pt_result_set(&m, "ansible_facts", ansible_facts);
	pt_result_set_changed(&m, false);
	return pt_module_finish(&m);
}
