#include "pve_mapping_wanted.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "pci.h"
#include "strbuf.h"

void pt_pve_wanted_release(struct pt_pve_wanted *w)
{
	for (size_t i = 0; i < w->count; i++) {
		free(w->entries[i]);
		free(w->paths[i]);
	}
	free(w->entries);
	free(w->paths);
	memset(w, 0, sizeof *w);
}

static int cmp_text(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Append e in its stored form. 0 or -ENOMEM. */
static int add(struct pt_pve_wanted *w, const struct pt_pve_map_entry *e)
{
	char *text = pt_pve_map_entry_format(e);
	char *path = strdup(e->path);
	char **entries = realloc(w->entries, (w->count + 1) * sizeof *entries);
	if (entries)
		w->entries = entries;
	char **paths = entries ? realloc(w->paths, (w->count + 1) * sizeof *paths) : NULL;
	if (paths)
		w->paths = paths;
	if (!text || !path || !paths) {
		free(text);
		free(path);
		return -ENOMEM;
	}
	w->entries[w->count] = text;
	w->paths[w->count++] = path;
	return 0;
}

/* map_mode=node: one entry per device, IDs from the hardware. */
static int from_devices(const struct pt_pve_pci_mapping_opts *o, const char *node,
                        struct pt_pve_hw *hw, struct pt_pve_wanted *w, struct pt_report *rep)
{
	if (json_array_size(o->devices) == 0)
		return pt_report_fail(
		        rep, -EINVAL,
		        "devices is required with state=present and map_mode=node: "
		        "list this node's PCI addresses, e.g. devices: "
		        "['0000:07:00'] for every function of the card in slot 07:00");
	size_t i;
	json_t *item;
	json_array_foreach (o->devices, i, item) {
		const char *text = json_string_value(item);
		char canon[PT_PCI_ADDR_LEN];
		int function;
		_cleanup_free_ char *what = NULL;
		if (asprintf(&what, "devices[%zu] '%s'", i, text ? text : "") < 0)
			return -ENOMEM;
		if (!text || pt_pci_parse_address(text, canon, &function) < 0)
			return pt_report_fail(
			        rep, -EINVAL,
			        "%s is not a PCI address: write 0000:07:00 for a whole "
			        "slot (every function) or 0000:07:00.0 for one function",
			        what);
		for (size_t j = 0; j < w->count; j++)
			if (strcmp(w->paths[j], canon) == 0)
				return pt_report_fail(rep, -EINVAL,
				                      "%s: %s is listed twice in devices", what,
				                      canon);
		struct pt_pve_map_entry e = {.node = strdup(node), .path = strdup(canon)};
		int rc = !e.node || !e.path ? -ENOMEM
		                            : pt_pve_hw_fill(hw, what, canon, &e, false, rep);
		if (rc == 0)
			rc = add(w, &e);
		pt_pve_map_entry_release(&e);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Proxmox's schema on map[i]; problems are appended to errors, each after "; ". */
static void check_item(size_t i, const json_t *item, const char *local, struct pt_strbuf *errors)
{
	const char *node = json_string_value(json_object_get(item, "node"));
	const char *path = json_string_value(json_object_get(item, "path"));
	const char *id = json_string_value(json_object_get(item, "id"));
	const char *subsys = json_string_value(json_object_get(item, "subsystem_id"));
	const char *desc = json_string_value(json_object_get(item, "description"));
	size_t before = errors->len;
	if (!pt_pve_valid_node(node))
		pt_strbuf_printf(errors,
		                 "; map[%zu].node '%s' is not a valid node name (letters, "
		                 "digits and '-', not at either end)",
		                 i, node ? node : "");
	if (!pt_pve_valid_path(path))
		pt_strbuf_printf(errors,
		                 "; map[%zu].path '%s' is not a path Proxmox accepts: write "
		                 "the domain and lowercase hex, 0000:07:00 (whole slot) or "
		                 "0000:07:00.0 (one function), several joined by ';'",
		                 i, path ? path : "");
	if (id && !pt_pve_valid_pci_id(id))
		pt_strbuf_printf(errors,
		                 "; map[%zu].id '%s' is not a vendor:device ID like 10de:1c82", i,
		                 id);
	if (subsys && !pt_pve_valid_pci_id(subsys))
		pt_strbuf_printf(errors,
		                 "; map[%zu].subsystem_id '%s' is not a subsystem "
		                 "vendor:device ID like 1462:8c96",
		                 i, subsys);
	if (desc && strpbrk(desc, ",\r\n"))
		pt_strbuf_printf(errors,
		                 "; map[%zu].description must not contain commas or line "
		                 "breaks (Proxmox splits map entries at commas)",
		                 i);
	else if (desc && pt_pve_text_chars(desc) > PT_PVE_DESCRIPTION_MAX)
		pt_strbuf_printf(errors,
		                 "; map[%zu].description is longer than Proxmox's %d characters", i,
		                 PT_PVE_DESCRIPTION_MAX);
	if (desc) {
		char what[48];
		snprintf(what, sizeof what, "map[%zu].description", i);
		struct pt_report problem; /* joins the others in errors */
		pt_report_init(&problem);
		if (pt_pve_text_check(what, desc, &problem) < 0)
			pt_strbuf_printf(errors, "; %s",
			                 problem.msg ? problem.msg : "out of memory");
		pt_report_release(&problem);
	}
	/* (node or path missing was reported above, unless that append ran out of memory) */
	if (id || !node || !path || errors->len != before)
		return;
	/* Without id, the hardware must tell it: only the local node's, one device. */
	if (strcmp(node, local) != 0)
		pt_strbuf_printf(errors,
		                 "; map[%zu] (node %s) needs id: Proxmox requires the "
		                 "vendor:device ID, and the module reads it from the hardware "
		                 "only for the local node (%s)",
		                 i, node, local);
	else if (strchr(path, ';'))
		pt_strbuf_printf(errors,
		                 "; map[%zu] (node %s) needs id when path lists several devices", i,
		                 node);
}

/* map[i] (already checked) as an entry; an entry without id is completed from hw. */
static int from_item(size_t i, const json_t *item, struct pt_pve_hw *hw, struct pt_pve_wanted *w,
                     struct pt_report *rep)
{
	const char *node = json_string_value(json_object_get(item, "node"));
	const char *path = json_string_value(json_object_get(item, "path"));
	const char *id = json_string_value(json_object_get(item, "id"));
	const char *subsys = json_string_value(json_object_get(item, "subsystem_id"));
	const char *desc = json_string_value(json_object_get(item, "description"));
	json_t *group = json_object_get(item, "iommugroup");
	struct pt_pve_map_entry e = {0};
	bool oom = !(e.node = strdup(node)) || !(e.path = strdup(path)) ||
	           (id && !(e.id = strdup(id))) || (subsys && !(e.subsystem_id = strdup(subsys))) ||
	           (desc && *desc && !(e.description = strdup(desc))) ||
	           (json_is_integer(group) &&
	            asprintf(&e.iommugroup, "%lld", (long long)json_integer_value(group)) < 0);
	int rc = oom ? -ENOMEM : 0;
	if (rc == 0 && !id) {
		_cleanup_free_ char *what = NULL;
		if (asprintf(&what, "map[%zu] (node %s, path %s)", i, node, path) < 0)
			rc = -ENOMEM;
		else
			rc = pt_pve_hw_fill(hw, what, path, &e, true, rep);
	}
	if (rc == 0)
		rc = add(w, &e);
	pt_pve_map_entry_release(&e);
	return rc;
}

/* The device a map entry names, as a key: the node, a line feed, and the paths
 * sorted with repeats dropped (the order of alternatives or a path given twice
 * makes no other device). Caller frees; NULL when out of memory. */
static char *device_key(const char *node, const char *path)
{
	_cleanup_free_ char *copy = strdup(path);
	size_t n = 1;
	for (const char *p = path; *p; p++)
		n += *p == ';';
	_cleanup_free_ char **parts = calloc(n, sizeof *parts);
	if (!copy || !parts)
		return NULL;
	n = 0;
	for (char *one = copy, *next; one; one = next) {
		next = strchr(one, ';');
		if (next)
			*next++ = '\0';
		parts[n++] = one;
	}
	qsort(parts, n, sizeof *parts, cmp_text);
	struct pt_strbuf sb = PT_STRBUF_INIT;
	pt_strbuf_printf(&sb, "%s\n", node);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || strcmp(parts[i], parts[i - 1]) != 0)
			pt_strbuf_printf(&sb, "%s%s", i ? ";" : "", parts[i]);
	return pt_strbuf_steal(&sb);
}

struct keyed {
	char *key;    /* device_key of map[index] (owned) */
	size_t index; /* where the entry is in the map option */
};

static int cmp_keyed(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	return c ? c : x->index < y->index ? -1 : x->index > y->index;
}

/* Refuse the same device twice in map (already checked against the schema): two
 * entries with the same node and the same paths. Proxmox takes each entry on its
 * own (checked at VM start, the first available one used), so a repeat is at best
 * noise and at worst two different IDs for one device. Sorting keeps 100000
 * entries fast. 0; -EINVAL with rep's failure naming the first repeat (the one with the
 * lowest index) and the entry it repeats; -ENOMEM. */
static int refuse_repeats(const json_t *map, struct pt_report *rep)
{
	size_t n = json_array_size(map);
	if (n < 2)
		return 0;
	struct keyed *keys = calloc(n, sizeof *keys);
	if (!keys)
		return -ENOMEM;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		const json_t *item = json_array_get(map, i);
		keys[i].index = i;
		keys[i].key = device_key(json_string_value(json_object_get(item, "node")),
		                         json_string_value(json_object_get(item, "path")));
		if (!keys[i].key)
			rc = -ENOMEM;
	}
	if (rc == 0) {
		qsort(keys, n, sizeof *keys, cmp_keyed);
		/* A group of equal keys is in index order: its second entry is the first
		 * repeat, of the group's first. */
		size_t repeats = 0, first = 0, later = SIZE_MAX, start = 0;
		for (size_t i = 1; i < n; i++) {
			if (strcmp(keys[i].key, keys[start].key) != 0) {
				start = i;
				continue;
			}
			repeats++;
			if (i == start + 1 && keys[i].index < later) {
				later = keys[i].index;
				first = keys[start].index;
			}
		}
		if (repeats) {
			const json_t *item = json_array_get(map, later);
			char more[64] = "";
			if (repeats > 1)
				snprintf(more, sizeof more, " (%zu entries repeat an earlier one)",
				         repeats);
			rc = pt_report_fail(
			        rep, -EINVAL,
			        "map[%zu] repeats map[%zu]: both are node %s's device at %s, which "
			        "makes the mapping ambiguous; give each node's device once%s",
			        later, first, json_string_value(json_object_get(item, "node")),
			        json_string_value(json_object_get(item, "path")), more);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(keys[i].key);
	free(keys);
	return rc;
}

/* map_mode=exact: the map option, checked against Proxmox's schema (every problem
 * at once), then for repeats, then completed from the hardware. */
static int from_map(const struct pt_pve_pci_mapping_opts *o, const char *node, struct pt_pve_hw *hw,
                    struct pt_pve_wanted *w, struct pt_report *rep)
{
	if (o->present && json_array_size(o->map) == 0)
		return pt_report_fail(rep, -EINVAL,
		                      "map is required with state=present and map_mode=exact: give "
		                      "the whole map list, one {node, path, id, ...} per entry");
	_cleanup_strbuf_ struct pt_strbuf errors = PT_STRBUF_INIT;
	size_t i;
	json_t *item;
	json_array_foreach (o->map, i, item)
		check_item(i, item, node, &errors);
	if (errors.oom)
		return -ENOMEM;
	if (errors.len)
		return pt_report_fail(rep, -EINVAL, "%s", pt_strbuf_str(&errors) + 2);
	int rc = refuse_repeats(o->map, rep);
	json_array_foreach (o->map, i, item) {
		if (rc < 0)
			break;
		rc = from_item(i, item, hw, w, rep);
	}
	return rc;
}

int pt_pve_wanted_build(const struct pt_pve_pci_mapping_opts *o, const char *node,
                        struct pt_pve_hw *hw, struct pt_pve_wanted *w, struct pt_report *rep)
{
	memset(w, 0, sizeof *w);
	if (!o->exact)
		return o->present ? from_devices(o, node, hw, w, rep) : 0;
	int rc = from_map(o, node, hw, w, rep);
	for (size_t i = 0; rc == 0 && o->present && i < w->count; i++) {
		struct pt_report problem; /* Proxmox's words, put into the warning */
		pt_report_init(&problem);
		if (pt_pve_hw_check_entry(hw, o->name, node, w->entries[i], NULL, &problem) < 0)
			pt_report_warn(
			        rep,
			        "map[%zu] for this node (%s) does not match the hardware: %s; "
			        "Proxmox will refuse to start VMs with it",
			        i, node, problem.msg ? problem.msg : "out of memory");
		pt_report_release(&problem);
	}
	return rc;
}
