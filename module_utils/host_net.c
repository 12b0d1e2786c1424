#include "host_net.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "files.h"
#include "json_text.h"
#include "proc_fields.h"
#include "root_path.h"
#include "sysfs_pci.h"

/* How deep bridges, bonds and VLANs are followed (a vlan on a bond on ...). */
#define MAX_DEPTH 8

static bool all_zero(const char *s)
{
	for (; *s; s++)
		if (*s != '0')
			return false;
	return true;
}

json_t *pt_net_default_interfaces(const char *root)
{
	json_t *out = json_array();
	if (!out)
		return NULL;
	_cleanup_free_ char *v4 = pt_path_join(root, "/proc/net/route");
	_cleanup_free_ char *text = NULL;
	if (v4 && pt_file_read(v4, &text, NULL) == 0) {
		char *save = NULL;
		bool header = true;
		for (char *line = strtok_r(text, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			char *w[11];
			if (header) { /* Iface Destination Gateway Flags ... Mask ... */
				header = false;
				continue;
			}
			if (pt_proc_fields(line, w, 11) < 8)
				continue;
			unsigned long flags = strtoul(w[3], NULL, 16);
			if (all_zero(w[1]) && all_zero(w[7]) && (flags & 0x1))
				pt_json_strings_add_unique(out, w[0]);
		}
	}
	_cleanup_free_ char *v6 = pt_path_join(root, "/proc/net/ipv6_route");
	_cleanup_free_ char *text6 = NULL;
	if (v6 && pt_file_read(v6, &text6, NULL) == 0) {
		char *save = NULL;
		for (char *line = strtok_r(text6, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			char *w[10];
			if (pt_proc_fields(line, w, 10) < 10)
				continue;
			unsigned long flags = strtoul(w[8], NULL, 16);
			/* RTF_UP, and not RTF_REJECT (the kernel's unreachable ::/0 on lo) */
			if (all_zero(w[0]) && all_zero(w[1]) && (flags & 0x1) && !(flags & 0x200) &&
			    strcmp(w[9], "lo") != 0)
				pt_json_strings_add_unique(out, w[9]);
		}
	}
	return out;
}

static int iface_devices(const char *root, const char *iface, int depth, json_t *seen, json_t *out)
{
	if (depth > MAX_DEPTH || !pt_path_is_name(iface) || pt_json_strings_has(seen, iface))
		return 0;
	json_array_append_new(seen, pt_json_text(iface));

	_cleanup_free_ char *dev = NULL;
	if (asprintf(&dev, "/sys/class/net/%s/device", iface) < 0)
		return -ENOMEM;
	char addr[PT_PCI_ADDR_LEN];
	if (pt_sysfs_pci_address(root, dev, addr) == 0) {
		json_t *o = pt_json_text_object("address", addr, "interface", iface,
		                                (const char *)NULL);
		return o && json_array_append_new(out, o) == 0 ? 0 : -ENOMEM;
	}

	/* No device of its own: a bridge, bond or VLAN. Follow its ports. */
	_cleanup_json_ json_t *lower = json_array();
	if (!lower)
		return -ENOMEM;
	static const char *const subdirs[] = {"", "/brif", NULL};
	for (const char *const *sub = subdirs; *sub; sub++) {
		_cleanup_free_ char *rel = NULL;
		if (asprintf(&rel, "/sys/class/net/%s%s", iface, *sub) < 0)
			return -ENOMEM;
		_cleanup_free_ char *dir = pt_root_host_path(root, rel);
		DIR *d = dir ? opendir(dir) : NULL;
		if (!d)
			continue;
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			if (**sub)
				pt_json_strings_add_unique(lower, e->d_name);
			else if (!strncmp(e->d_name, "lower_", 6))
				pt_json_strings_add_unique(lower, e->d_name + 6);
		}
		closedir(d);
	}
	pt_json_strings_sort(lower, false);
	size_t i;
	json_t *v;
	json_array_foreach (lower, i, v) {
		int r = iface_devices(root, json_string_value(v), depth + 1, seen, out);
		if (r < 0)
			return r;
	}
	return 0;
}

int pt_net_interface_devices(const char *root, const char *iface, json_t *out)
{
	_cleanup_json_ json_t *seen = json_array();
	if (!seen)
		return -ENOMEM;
	return iface_devices(root, iface, 0, seen, out);
}
