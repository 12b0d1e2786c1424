/* The table iommu_facts prints from a shell (like ls-iommu), made from the
 * facts alone: whatever the table says, ansible_facts.iommu says too. */
#include "iommu_facts_table.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"

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
static void device_line(struct pt_strbuf *out, const char *group, const char *address, json_t *dev,
                        int wg, int wc)
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
	pt_strbuf_printf(out, "%-*s  %s  %s  %-*s  %s  (driver: %s)\n", wg, group, address, idbuf,
	                 wc, cls, name, driver ? driver : "none");
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

/* text from column col on, wrapped at WRAP columns: the lines after the first
 * start with indent spaces. A word longer than a line stays whole. */
#define WRAP 78
static void wrapped(struct pt_strbuf *out, const char *text, int col, int indent)
{
	const char *p = text ? text : "";
	bool first = true;
	while (*p) {
		while (*p == ' ')
			p++;
		size_t len = strcspn(p, " ");
		if (!len)
			break;
		if (!first && col + 1 + (int)len > WRAP) {
			pt_strbuf_printf(out, "\n%*s", indent, "");
			col = indent;
		} else if (!first) {
			pt_strbuf_printf(out, " ");
			col++;
		}
		pt_strbuf_printf(out, "%.*s", (int)len, p);
		col += (int)len;
		p += len;
		first = false;
	}
	pt_strbuf_printf(out, "\n");
}

/* The verdict of a GPU or selected device (readiness.h) under its line:
 * readiness, each finding with its evidence and fix, what could not be read. */
static void verdict_lines(struct pt_strbuf *out, json_t *v)
{
	const char *readiness = json_string_value(json_object_get(v, "readiness"));
	if (!readiness)
		return;
	json_t *findings = json_object_get(v, "findings");
	json_t *unknown = json_object_get(v, "unknown");
	pt_strbuf_printf(
	        out, "  readiness: %s%s\n", readiness,
	        json_array_size(findings) || json_array_size(unknown) ? "" : " (nothing found)");
	size_t i;
	json_t *f;
	json_array_foreach (findings, i, f) {
		json_t *ev = json_object_get(f, "evidence");
		json_t *line = json_object_get(ev, "line");
		char where[32] = "";
		if (json_is_integer(line))
			snprintf(where, sizeof where, " line %lld", json_integer_value(line));
		_cleanup_free_ char *evidence = NULL;
		if (asprintf(&evidence, "%s%s: %s", str(ev, "file"), where, str(ev, "value")) < 0)
			evidence = NULL;
		/* the evidence as it was read, on one line: a file's line is not reflowed */
		pt_strbuf_printf(out, "  - %s (%s)\n    evidence: %s\n", str(f, "id"),
		                 str(f, "severity"), evidence ? evidence : str(ev, "value"));
		pt_strbuf_printf(out, "    fix: ");
		wrapped(out, str(f, "fix"), 9, 9);
	}
	if (!json_array_size(unknown))
		return;
	struct pt_strbuf list = PT_STRBUF_INIT;
	json_array_foreach (unknown, i, f)
		pt_strbuf_printf(&list, "%s%s (%s)", i ? ", " : "", str(f, "fact"), str(f, "file"));
	pt_strbuf_printf(out, "  unknown (not counted as fine): ");
	wrapped(out, pt_strbuf_str(&list), 33, 4);
	pt_strbuf_release(&list);
}

/* Each GPU, whether its group is its own, and its verdict. */
static void gpu_lines(struct pt_strbuf *out, json_t *gpus)
{
	if (json_object_size(gpus))
		pt_strbuf_printf(out, "\n");
	const char *addr;
	json_t *g;
	json_object_foreach (gpus, addr, g) {
		json_t *isolated = json_object_get(g, "isolated");
		char name[512];
		device_name(g, name, sizeof name);
		json_t *group = json_object_get(g, "iommu_group");
		if (json_is_integer(group))
			pt_strbuf_printf(out, "GPU %s %s: group %lld, ", addr, name,
			                 json_integer_value(group));
		else
			pt_strbuf_printf(out, "GPU %s %s: no group, ", addr, name);
		if (json_is_true(isolated)) {
			pt_strbuf_printf(out, "isolated (passes through alone)\n");
		} else if (json_is_false(isolated)) {
			_cleanup_free_ char *who =
			        json_dumps(json_object_get(g, "intruders"), JSON_COMPACT);
			pt_strbuf_printf(out, "NOT isolated: shares its group with %s\n",
			                 who ? who : "?");
		} else {
			pt_strbuf_printf(out, "isolation unknown\n");
		}
		verdict_lines(out, g);
	}
}

/* The selected devices (--device, the module's devices option) and theirs. */
static void selection_lines(struct pt_strbuf *out, json_t *facts, int wg, int wc)
{
	json_t *selection = json_object_get(facts, "selection");
	json_t *selected = json_object_get(selection, "devices");
	if (!json_array_size(selected))
		return;
	const char *worst = json_string_value(json_object_get(selection, "readiness"));
	pt_strbuf_printf(out, "\nSelected devices, judged %s the reboot: %s\n",
	                 json_is_true(json_object_get(selection, "after_reboot")) ? "after"
	                                                                          : "before",
	                 worst ? worst : "unknown");
	json_t *devices = json_object_get(facts, "devices");
	size_t i;
	json_t *a;
	json_array_foreach (selected, i, a) {
		const char *addr = json_string_value(a);
		json_t *dev = json_object_get(devices, addr ? addr : "");
		if (!dev)
			continue;
		json_t *group = json_object_get(dev, "iommu_group");
		char label[32] = "no group";
		if (json_is_integer(group))
			snprintf(label, sizeof label, "group %lld", json_integer_value(group));
		device_line(out, label, addr, dev, wg, wc);
		verdict_lines(out, dev);
	}
}

int pt_iommu_facts_table(json_t *facts, struct pt_strbuf *out)
{
	json_t *groups = json_object_get(facts, "groups");
	json_t *devices = json_object_get(facts, "devices");
	json_t *gpus = json_object_get(facts, "gpus");
	bool enabled = json_is_true(json_object_get(facts, "enabled"));
	int wc = class_width(devices);

	pt_strbuf_printf(out, "kernel %s, CPU virtualization %s\n",
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
			pt_strbuf_printf(
			        out,
			        "IOMMU is not enabled: no IOMMU groups. The kernel command line "
			        "says "
			        "%s: remove it (and enable VT-d/AMD-Vi in the firmware setup), "
			        "then "
			        "reboot.\n",
			        off);
		else
			pt_strbuf_printf(
			        out,
			        "IOMMU is not enabled: no IOMMU groups. Enable VT-d (Intel) or "
			        "AMD-Vi/IOMMU (AMD) in the firmware setup and, on Intel with "
			        "kernels "
			        "before 6.8, add intel_iommu=on to the kernel command line; then "
			        "reboot.\n");
		if (!json_object_size(devices)) {
			pt_strbuf_printf(out, "No PCI devices found.\n");
			return out->oom ? -ENOMEM : 0;
		}
		pt_strbuf_printf(out, "\nPCI devices (no IOMMU group):\n");
		const char *addr;
		json_t *dev;
		json_object_foreach (devices, addr, dev)
			device_line(out, "-", addr, dev, 1, wc);
		gpu_lines(out, json_object_get(facts, "gpus"));
		selection_lines(out, facts, 1, wc);
		return out->oom ? -ENOMEM : 0;
	}

	const char *vendor = json_string_value(json_object_get(facts, "vendor"));
	const char *domain = json_string_value(json_object_get(facts, "default_domain"));
	json_t *ir = json_object_get(facts, "interrupt_remapping");
	pt_strbuf_printf(
	        out, "IOMMU enabled (%s), %zu groups, default domain %s, interrupt remapping %s\n",
	        vendor ? (!strcmp(vendor, "intel") ? "Intel VT-d" : "AMD-Vi") : "vendor unknown",
	        json_object_size(groups), domain ? domain : "unknown",
	        json_is_boolean(ir) ? (json_is_true(ir) ? "on" : "off") : "unknown");
	json_t *params = json_object_get(json_object_get(facts, "cmdline"), "params");
	if (json_object_size(params)) {
		_cleanup_free_ char *p = json_dumps(params, JSON_COMPACT);
		pt_strbuf_printf(out, "IOMMU parameters on the kernel command line: %s\n",
		                 p ? p : "");
	}
	pt_strbuf_printf(out, "\n");

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
				device_line(out, i ? "" : label, addr, dev, wg, wc);
			else
				pt_strbuf_printf(out, "%-*s  %s\n", wg, i ? "" : label, addr);
		}
	}
	/* Devices outside any group (the AMD IOMMU itself, for one). */
	const char *addr;
	json_t *dev;
	json_object_foreach (devices, addr, dev)
		if (json_is_null(json_object_get(dev, "iommu_group")))
			device_line(out, "no group", addr, dev, wg, wc);

	gpu_lines(out, gpus);
	selection_lines(out, facts, wg, wc);
	return out->oom ? -ENOMEM : 0;
}
