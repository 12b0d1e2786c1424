#include "vfio_safety.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "host_block.h"
#include "host_net.h"
#include "json_text.h"
#include "kmod.h"
#include "strbuf.h"
#include "vfio_select.h"

/* --- what the host needs ------------------------------------------------------ */

static int add_need(json_t *needs, const char *address, const char *rule, const char *detail)
{
	json_t *o = pt_json_text_object("address", address, "rule", rule, "detail", detail,
	                                (const char *)NULL);
	return o && json_array_append_new(needs, o) == 0 ? 0 : -ENOMEM;
}

/* A need under rule for every device host_block found under a filesystem or
 * swap (used: its entries, with mountpoint for a filesystem). */
static int needs_for_disks(const json_t *used, const char *rule, json_t *needs)
{
	size_t i;
	json_t *u;
	json_array_foreach (used, i, u) {
		const char *source = json_string_value(json_object_get(u, "source"));
		const char *block = json_string_value(json_object_get(u, "block"));
		const char *mountpoint = json_string_value(json_object_get(u, "mountpoint"));
		_cleanup_free_ char *detail = NULL;
		int n = mountpoint ? asprintf(&detail, "the filesystem mounted on %s (%s, disk %s)",
		                              mountpoint, source, block)
		                   : asprintf(&detail, "active swap (%s, disk %s)", source, block);
		if (n < 0 || add_need(needs, json_string_value(json_object_get(u, "address")), rule,
		                      detail) < 0)
			return -ENOMEM;
	}
	return 0;
}

int pt_safety_host_needs(const char *root, json_t *needs, json_t *unknown)
{
	_cleanup_json_ json_t *ifaces = pt_net_default_interfaces(root);
	if (!ifaces)
		return -ENOMEM;
	size_t i;
	json_t *v;
	json_array_foreach (ifaces, i, v) {
		const char *iface = json_string_value(v);
		_cleanup_json_ json_t *devs = json_array();
		if (!devs || pt_net_interface_devices(root, iface, devs) < 0)
			return -ENOMEM;
		size_t j;
		json_t *d;
		json_array_foreach (devs, j, d) {
			const char *port = json_string_value(json_object_get(d, "interface"));
			_cleanup_free_ char *detail = NULL;
			int n = strcmp(port, iface)
			                ? asprintf(&detail, "the default route on %s through %s",
			                           iface, port)
			                : asprintf(&detail, "the default route on %s", iface);
			if (n < 0)
				return -ENOMEM;
			if (add_need(needs, json_string_value(json_object_get(d, "address")),
			             "default_route", detail) < 0)
				return -ENOMEM;
		}
	}
	_cleanup_json_ json_t *mounted = json_array();
	_cleanup_json_ json_t *swap = json_array();
	if (!mounted || !swap || pt_block_mounted_devices(root, mounted, unknown) < 0 ||
	    needs_for_disks(mounted, "mounted_filesystem", needs) < 0 ||
	    pt_block_swap_devices(root, swap) < 0 || needs_for_disks(swap, "swap", needs) < 0)
		return -ENOMEM;
	return 0;
}

/* --- groups ------------------------------------------------------------------ */

json_t *pt_safety_group_intruders(const struct pt_pci_host *host, const struct pt_pci_device *dev,
                                  const json_t *selected)
{
	json_t *out = json_array();
	if (!out || dev->iommu_group < 0)
		return out;
	for (size_t i = 0; i < host->count; i++) {
		const struct pt_pci_device *o = &host->devices[i];
		if (o->iommu_group != dev->iommu_group || !strcmp(o->address, dev->address) ||
		    !pt_pci_is_endpoint(o) || json_object_get(selected, o->address))
			continue;
		json_array_append_new(out, pt_json_text(o->address));
	}
	return out;
}

/* --- the checks --------------------------------------------------------------- */

static int problem(json_t *problems, const char *device, const char *rule, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int problem(json_t *problems, const char *device, const char *rule, const char *fmt, ...)
{
	struct pt_strbuf sb = PT_STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	pt_strbuf_vprintf(&sb, fmt, ap);
	va_end(ap);
	json_t *o = sb.oom ? NULL
	                   : pt_json_text_object("device", device, "rule", rule, "message",
	                                         pt_strbuf_str(&sb), (const char *)NULL);
	pt_strbuf_release(&sb);
	return o && json_array_append_new(problems, o) == 0 ? 0 : -ENOMEM;
}

/* " (it came in through include_group: ...)" for a device the user did not name. */
static const char *came_by_group(const json_t *selected, const char *address)
{
	const char *how = json_string_value(json_object_get(selected, address));
	return how && !strcmp(how, "group") ? " It came into the selection through include_group: "
	                                      "it shares an IOMMU group with a selected device, "
	                                      "so that device cannot be passed through safely "
	                                      "either."
	                                    : "";
}

static int check_needs(const char *root, const struct pt_pci_host *host, const json_t *selected,
                       json_t *problems)
{
	_cleanup_json_ json_t *needs = json_array();
	_cleanup_json_ json_t *unknown = json_array();
	if (!needs || !unknown || pt_safety_host_needs(root, needs, unknown) < 0)
		return -ENOMEM;
	_cleanup_json_ json_t *reported = json_object();
	size_t i;
	json_t *n;
	json_array_foreach (needs, i, n) {
		const char *addr = json_string_value(json_object_get(n, "address"));
		const char *rule = json_string_value(json_object_get(n, "rule"));
		const char *detail = json_string_value(json_object_get(n, "detail"));
		const struct pt_pci_device *dev = pt_pci_find(host, addr);
		if (!json_object_get(selected, addr))
			continue;
		_cleanup_free_ char *key = NULL;
		if (asprintf(&key, "%s %s", addr, rule) < 0)
			return -ENOMEM;
		if (json_object_get(reported, key))
			continue;
		json_object_set_new(reported, key, json_true());
		_cleanup_free_ char *what = dev ? pt_vfio_describe(dev) : NULL;
		int r;
		if (!strcmp(rule, "default_route"))
			r = problem(problems, addr, rule,
			            "%s (%s) carries %s: handing it to vfio-pci cuts the host off "
			            "the network. Leave it out of devices/ids, or set force: true "
			            "if the host has another way in.%s",
			            addr, what ? what : "?", detail, came_by_group(selected, addr));
		else
			r = problem(problems, addr, rule,
			            "%s (%s) backs %s: handing it to vfio-pci takes the disk from "
			            "under the running host. Leave it out of devices/ids (or move "
			            "what it holds elsewhere first), or set force: true.%s",
			            addr, what ? what : "?", detail, came_by_group(selected, addr));
		if (r < 0)
			return r;
	}
	/* Filesystems whose disks could not be traced: a selected storage
	 * controller might be under them. */
	json_array_foreach (unknown, i, n) {
		const char *key;
		json_t *how;
		json_object_foreach ((json_t *)selected, key, how) {
			const struct pt_pci_device *dev = pt_pci_find(host, key);
			if (!dev || dev->class_id < 0 || (dev->class_id >> 8) != 0x01)
				continue;
			_cleanup_free_ char *what = pt_vfio_describe(dev);
			int r = problem(
			        problems, key, "mounted_filesystem",
			        "%s (%s) is a storage controller, and the disks under the %s "
			        "filesystem %s mounted on %s could not be traced to PCI devices "
			        "(no udev data or sysfs entry for them), so it may back it. Leave "
			        "the controller out of devices/ids, or set force: true if you know "
			        "it holds none of them.",
			        key, what ? what : "?",
			        json_string_value(json_object_get(n, "fstype")),
			        json_string_value(json_object_get(n, "source")),
			        json_string_value(json_object_get(n, "mountpoint")));
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int check_groups(const struct pt_pci_host *host, const json_t *selected, json_t *problems,
                        json_t *notices)
{
	_cleanup_json_ json_t *seen_groups = json_object();
	const char *addr;
	json_t *how;
	json_object_foreach ((json_t *)selected, addr, how) {
		const struct pt_pci_device *dev = pt_pci_find(host, addr);
		if (!dev)
			continue;
		if (dev->iommu_group < 0) {
			_cleanup_free_ char *msg = NULL;
			if (asprintf(&msg,
			             "%s is in no IOMMU group (the IOMMU is off, or not on until "
			             "the "
			             "next boot): its group cannot be checked for other devices "
			             "now, and vfio-pci can only use it once the host boots with "
			             "the "
			             "IOMMU on (see homelab.passthrough.grub_iommu)",
			             addr) < 0)
				return -ENOMEM;
			json_array_append_new(notices, pt_json_text(msg));
			continue;
		}
		char gkey[16];
		snprintf(gkey, sizeof gkey, "%d", dev->iommu_group);
		if (json_object_get(seen_groups, gkey))
			continue;
		json_object_set_new(seen_groups, gkey, json_true());
		_cleanup_json_ json_t *intruders = pt_safety_group_intruders(host, dev, selected);
		if (!intruders)
			return -ENOMEM;
		if (!json_array_size(intruders))
			continue;
		struct pt_strbuf list = PT_STRBUF_INIT;
		size_t i;
		json_t *v;
		json_array_foreach (intruders, i, v) {
			const struct pt_pci_device *o = pt_pci_find(host, json_string_value(v));
			_cleanup_free_ char *what = o ? pt_vfio_describe(o) : NULL;
			pt_strbuf_printf(&list, "%s%s (%s%s%s)", i ? ", " : "",
			                 json_string_value(v), what ? what : "?",
			                 o && o->driver ? ", driver " : "",
			                 o && o->driver ? o->driver : "");
		}
		int r = problem(problems, addr, "group_not_isolated",
		                "%s is in IOMMU group %d with %s, which %s not selected: vfio-pci "
		                "hands a VM whole groups only, and the host would lose %s. Select "
		                "%s too (include_group: true does it), move the card to a slot "
		                "with a group of its own, or set force: true.",
		                addr, dev->iommu_group, list.oom ? "?" : pt_strbuf_str(&list),
		                json_array_size(intruders) > 1 ? "are" : "is",
		                json_array_size(intruders) > 1 ? "them" : "it",
		                json_array_size(intruders) > 1 ? "them" : "it");
		pt_strbuf_release(&list);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The devices that stay with the host, by the module that drives them: module
 * name → array of host->devices indexes, in host order. Built once, so the
 * blacklist check costs one look-up per name however long the list is. New
 * reference; NULL when out of memory. */
static json_t *host_drivers(const char *root, const struct pt_pci_host *host,
                            const json_t *selected)
{
	json_t *by_module = json_object();
	for (size_t k = 0; by_module && k < host->count; k++) {
		const struct pt_pci_device *d = &host->devices[k];
		if (!d->driver || json_object_get(selected, d->address))
			continue;
		_cleanup_free_ char *mod = pt_kmod_driver_module(root, d->driver);
		json_t *list = mod ? json_object_get(by_module, mod) : NULL;
		if (mod && !list && json_object_set_new(by_module, mod, list = json_array()) < 0)
			list = NULL;
		if (!list || json_array_append_new(list, json_integer((json_int_t)k)) < 0) {
			json_decref(by_module);
			by_module = NULL;
		}
	}
	return by_module;
}

static int check_blacklist(const char *root, const struct pt_pci_host *host, const json_t *selected,
                           const json_t *blacklist, json_t *problems)
{
	if (!json_array_size(blacklist))
		return 0;
	_cleanup_json_ json_t *by_module = host_drivers(root, host, selected);
	if (!by_module)
		return -ENOMEM;
	size_t i;
	json_t *b;
	json_array_foreach (blacklist, i, b) {
		char module[128];
		const char *raw = json_string_value(b);
		if (!raw)
			continue;
		snprintf(module, sizeof module, "%s", raw);
		for (char *c = module; *c; c++)
			if (*c == '-')
				*c = '_';
		if (!strcmp(module, "vfio_pci") || !strcmp(module, "vfio") ||
		    !strcmp(module, "vfio_iommu_type1") || !strcmp(module, "vfio_pci_core")) {
			if (problem(problems, raw, "blacklist_in_use",
			            "refusing to blacklist %s: vfio-pci needs it to take the "
			            "selected "
			            "devices at boot. Remove it from blacklist_drivers.",
			            raw) < 0)
				return -ENOMEM;
			continue;
		}
		const json_t *drives = json_object_get(by_module, module);
		size_t victims = json_array_size(drives);
		if (!victims)
			continue;
		struct pt_strbuf list = PT_STRBUF_INIT;
		size_t k;
		json_t *index;
		json_array_foreach (drives, k, index) {
			const struct pt_pci_device *d = &host->devices[json_integer_value(index)];
			_cleanup_free_ char *what = pt_vfio_describe(d);
			pt_strbuf_printf(&list, "%s%s (%s)", k ? ", " : "", d->address,
			                 what ? what : "?");
		}
		int r = problem(problems, raw, "blacklist_in_use",
		                "refusing to blacklist %s: it drives %s, which %s not being passed "
		                "through, and a blacklisted driver is not loaded for %s at the "
		                "next boot. Remove %s from blacklist_drivers (the softdep lines "
		                "already make vfio-pci load first and take the selected devices), "
		                "or set force: true.",
		                raw, list.oom ? "?" : pt_strbuf_str(&list),
		                victims > 1 ? "are" : "is", victims > 1 ? "them" : "it", raw);
		pt_strbuf_release(&list);
		if (r < 0)
			return r;
	}
	return 0;
}

int pt_safety_check(const char *root, const struct pt_pci_host *host, const json_t *selected,
                    const json_t *blacklist, json_t *problems, json_t *notices)
{
	const char *addr;
	json_t *how;
	json_object_foreach ((json_t *)selected, addr, how) {
		const struct pt_pci_device *dev = pt_pci_find(host, addr);
		if (dev && dev->boot_vga == 1) {
			_cleanup_free_ char *msg = NULL;
			if (asprintf(
			            &msg,
			            "%s is the boot VGA device (boot_vga=1): the host console goes "
			            "with it once vfio-pci takes it, so keep SSH or a serial "
			            "console "
			            "at hand; if the VM then fails to start with 'BAR can't "
			            "reserve', "
			            "the firmware framebuffer still holds the card "
			            "(video=efifb:off or initcall_blacklist=sysfb_init on the "
			            "kernel "
			            "command line)",
			            addr) < 0)
				return -ENOMEM;
			json_array_append_new(notices, pt_json_text(msg));
		}
	}
	if (check_needs(root, host, selected, problems) < 0 ||
	    check_groups(host, selected, problems, notices) < 0 ||
	    check_blacklist(root, host, selected, blacklist, problems) < 0)
		return -ENOMEM;
	return 0;
}
