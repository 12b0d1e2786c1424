#include "vfio_select.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "strbuf.h"

char *pt_vfio_describe(const struct pt_pci_device *dev)
{
	char *s = NULL;
	char id[16];
	pt_pci_id_string(dev->vendor_id, dev->device_id, id, sizeof id);
	int n;
	if (dev->vendor_name && dev->device_name)
		n = asprintf(&s, "%s %s", dev->vendor_name, dev->device_name);
	else if (dev->class_name)
		n = asprintf(&s, "%s %s", dev->class_name, *id ? id : "(unknown ID)");
	else
		n = asprintf(&s, "class 0x%04x device %s", (unsigned)(dev->class_id & 0xffff),
		             *id ? id : "(unknown ID)");
	return n < 0 ? NULL : s;
}

static bool is_display(const struct pt_pci_device *d)
{
	return d->class_id >= 0 && (d->class_id >> 8) == 0x03;
}

/* "0000:07:00.0 10de:1c82 NVIDIA Corporation GP107 [...] (group 14)" */
static void describe_line(struct pt_strbuf *sb, const struct pt_pci_device *d)
{
	char id[16];
	pt_pci_id_string(d->vendor_id, d->device_id, id, sizeof id);
	_cleanup_free_ char *what = pt_vfio_describe(d);
	pt_strbuf_printf(sb, "%s %s %s", d->address, *id ? id : "????:????", what ? what : "");
	if (d->iommu_group >= 0)
		pt_strbuf_printf(sb, " (group %d)", d->iommu_group);
}

/* What the host has, for the message about devices that are not there: its
 * display controllers, and its other devices of `vendor` (-1: none asked). */
static void inventory(struct pt_strbuf *sb, const struct pt_pci_host *host, int vendor)
{
	int n = 0;
	for (size_t i = 0; i < host->count; i++) {
		if (!is_display(&host->devices[i]))
			continue;
		pt_strbuf_puts(sb, n++ ? "; " : " Its display controllers: ");
		describe_line(sb, &host->devices[i]);
	}
	pt_strbuf_puts(sb, n ? "." : " It has no display controllers.");
	if (vendor < 0)
		return;
	n = 0;
	for (size_t i = 0; i < host->count; i++) {
		const struct pt_pci_device *d = &host->devices[i];
		if (d->vendor_id != vendor || is_display(d))
			continue;
		if (!n++)
			pt_strbuf_printf(sb, " Its other %04x devices: ", (unsigned)vendor);
		else
			pt_strbuf_puts(sb, "; ");
		describe_line(sb, d);
	}
	if (n)
		pt_strbuf_puts(sb, ".");
}

/* The first way a device came in is the one reported. */
static void add(json_t *selected, const struct pt_pci_device *d, const char *how)
{
	if (!json_object_get(selected, d->address))
		json_object_set_new(selected, d->address, json_string(how));
}

int pt_vfio_parse_id(const char *text, int *vendor, int *device)
{
	unsigned v, d;
	int n = 0;
	if (!text || strlen(text) != 9 || sscanf(text, "%4x:%4x%n", &v, &d, &n) != 2 || n != 9)
		return -EINVAL;
	/* sscanf would take "+1de" or " 1de" */
	for (int i = 0; i < 9; i++)
		if (i != 4 && !strchr("0123456789abcdefABCDEF", text[i]))
			return -EINVAL;
	*vendor = (int)v;
	*device = (int)d;
	return 0;
}

static int by_address(const struct pt_pci_host *host, const json_t *list, json_t *selected,
                      struct pt_strbuf *missing, struct pt_report *rep)
{
	size_t i;
	json_t *v;
	json_array_foreach (list, i, v) {
		const char *text = json_string_value(v);
		char addr[PT_PCI_ADDR_LEN];
		int function;
		if (pt_pci_parse_address(text, addr, &function) < 0)
			return pt_report_fail(rep, -EINVAL,
			                      "devices[%zu]: '%s' is not a PCI address; use "
			                      "0000:07:00.0 (one function), 0000:07:00 (every "
			                      "function of the slot) or 07:00.0 (domain 0000)",
			                      i, text ? text : "");
		int found = 0;
		for (size_t k = 0; k < host->count; k++) {
			const struct pt_pci_device *d = &host->devices[k];
			if (function < 0 ? !pt_pci_in_slot(d, addr) : strcmp(d->address, addr) != 0)
				continue;
			if (d->is_bridge) {
				if (function < 0)
					continue; /* a slot's bridge functions stay with the host */
				return pt_report_fail(rep, -EINVAL,
				                      "devices[%zu]: %s is a PCI bridge, and "
				                      "vfio-pci takes endpoints only; select "
				                      "the devices behind it",
				                      i, addr);
			}
			add(selected, d, "address");
			found++;
		}
		if (!found)
			pt_strbuf_printf(missing, "%sno PCI %s at %s on this host",
			                 missing->len ? "; " : "",
			                 function < 0 ? "endpoint" : "device", addr);
	}
	return 0;
}

static int by_id(const struct pt_pci_host *host, const json_t *list, json_t *selected,
                 struct pt_strbuf *missing, int *missing_vendor, struct pt_report *rep)
{
	size_t i;
	json_t *v;
	json_array_foreach (list, i, v) {
		const char *text = json_string_value(v);
		int vendor, device;
		if (pt_vfio_parse_id(text, &vendor, &device) < 0)
			return pt_report_fail(
			        rep, -EINVAL,
			        "ids[%zu]: '%s' is not a vendor:device ID pair; use four hex "
			        "digits, a colon and four hex digits, e.g. 10de:1c82 (lspci -nn "
			        "shows them in brackets)",
			        i, text ? text : "");
		int found = 0;
		for (size_t k = 0; k < host->count; k++) {
			const struct pt_pci_device *d = &host->devices[k];
			if (d->vendor_id != vendor || d->device_id != device || d->is_bridge)
				continue;
			add(selected, d, "id");
			found++;
		}
		if (!found) {
			pt_strbuf_printf(missing, "%sno PCI device with ID %04x:%04x on this host",
			                 missing->len ? "; " : "", (unsigned)vendor,
			                 (unsigned)device);
			*missing_vendor = vendor;
		}
	}
	return 0;
}

/* vfio-pci hands a VM whole groups: an endpoint joins when a selected device
 * shares its IOMMU group. (One pass is enough: a device that joins brings no
 * group that is not there already.) */
static void add_groups(const struct pt_pci_host *host, json_t *selected)
{
	for (size_t k = 0; k < host->count; k++) {
		const struct pt_pci_device *o = &host->devices[k];
		if (o->iommu_group < 0 || !pt_pci_is_endpoint(o))
			continue;
		for (size_t j = 0; j < host->count; j++) {
			const struct pt_pci_device *d = &host->devices[j];
			if (d->iommu_group == o->iommu_group &&
			    json_object_get(selected, d->address)) {
				add(selected, o, "group");
				break;
			}
		}
	}
}

/* selected with its keys in address order, the host's (jansson keeps insertion
 * order). New reference; NULL when out of memory. */
static json_t *sorted(const struct pt_pci_host *host, json_t *selected)
{
	json_t *out = json_object();
	for (size_t k = 0; out && k < host->count; k++) {
		const char *addr = host->devices[k].address;
		json_t *how = json_object_get(selected, addr);
		if (how && json_object_set(out, addr, how) < 0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

int pt_vfio_select(const struct pt_pci_host *host, const json_t *devices, const json_t *ids,
                   bool present, bool include_group, json_t **selected, struct pt_report *rep)
{
	*selected = NULL;
	if (present && !json_array_size(devices) && !json_array_size(ids))
		return pt_report_fail(
		        rep, -EINVAL,
		        "nothing to hand to vfio-pci: give devices (PCI addresses such as "
		        "0000:07:00, the recommended form) or ids (vendor:device pairs such as "
		        "10de:1c82)");
	_cleanup_json_ json_t *found = json_object();
	_cleanup_strbuf_ struct pt_strbuf missing = PT_STRBUF_INIT;
	int missing_vendor = -1, e;
	if (!found)
		return pt_report_fail(rep, -ENOMEM, "out of memory");
	if ((e = by_address(host, devices, found, &missing, rep)) < 0 ||
	    (e = by_id(host, ids, found, &missing, &missing_vendor, rep)) < 0)
		return e;
	if (missing.len && !present) {
		pt_report_warn(rep, "%s; nothing to give back for it", pt_strbuf_str(&missing));
	} else if (missing.len) {
		pt_strbuf_putc(&missing, '.');
		inventory(&missing, host, missing_vendor);
		pt_strbuf_puts(&missing, " Check the addresses with `lspci -D` and the IDs with "
		                         "`lspci -nn`; addresses are the safer choice.");
		return pt_report_fail(rep, -EINVAL, "%s",
		                      missing.oom ? "out of memory" : pt_strbuf_str(&missing));
	}
	if (present && include_group)
		add_groups(host, found);
	/* address order makes the result, the files and the messages stable */
	*selected = sorted(host, found);
	return *selected ? 0 : pt_report_fail(rep, -ENOMEM, "out of memory");
}
