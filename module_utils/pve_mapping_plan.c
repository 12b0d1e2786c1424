#include "pve_mapping_plan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "pvesh.h"
#include "strbuf.h"

const char *pt_pve_action_name(enum pt_pve_action action)
{
	static const char names[][7] = {"none", "create", "update", "delete"};
	return names[action];
}

void pt_pve_plan_release(struct pt_pve_plan *plan)
{
	pt_pve_mapping_release(&plan->target);
	plan->action = PT_PVE_NONE;
}

static void free_list(char **list, size_t n)
{
	for (size_t i = 0; list && i < n; i++)
		free(list[i]);
	free(list);
}

bool pt_pve_plan_check_existing(const struct pt_pve_pci_mapping_opts *o, const char *node,
                                const struct pt_pve_current *cur, struct pt_pve_hw *hw,
                                struct pt_report *rep)
{
	bool failing = false;
	struct pt_report why; /* Proxmox's words for one entry, put into the warning */
	pt_report_init(&why);
	for (size_t i = 0; cur->exists && i < cur->mapping.map_count; i++) {
		_cleanup_free_ char *path = NULL;
		if (pt_pve_hw_check_entry(hw, o->name, node, cur->mapping.map[i], &path, &why) == 0)
			continue;
		failing = true;
		if (rep)
			pt_report_warn(rep,
			               "mapping '%s': the entry for node %s at %s fails Proxmox's "
			               "check at VM start (%s), hardware probably changed; %s",
			               o->name, node, path, why.msg ? why.msg : "out of memory",
			               !o->present ? "it is removed with state=absent"
			               : o->exact  ? "map_mode=exact keeps the map as given"
			                           : "the entry is corrected from the hardware");
		/* A report keeps its first failure: the next entry needs a fresh one. */
		pt_report_release(&why);
		pt_report_init(&why);
	}
	pt_report_release(&why);
	return failing;
}

/* The stored form of wanted entry i, with the per-entry description of node's
 * existing entry at the same path (set in the web interface). Caller frees. */
static char *with_old_description(const struct pt_pve_wanted *w, size_t i, const char *node,
                                  const struct pt_pve_current *cur)
{
	for (size_t j = 0; cur->exists && j < cur->mapping.map_count; j++) {
		struct pt_pve_map_entry old, e;
		if (pt_pve_map_entry_parse(cur->mapping.map[j], "", &old, NULL) < 0)
			continue;
		char *keep = NULL;
		/* Both paths are lowercase: the wanted one canonical, the old one
		 * through Proxmox's schema. */
		if (old.description && strcmp(old.node, node) == 0 &&
		    strcmp(old.path, w->paths[i]) == 0 &&
		    pt_pve_map_entry_parse(w->entries[i], "", &e, NULL) == 0) {
			free(e.description);
			e.description = PT_STEAL(old.description);
			keep = pt_pve_map_entry_format(&e);
			pt_pve_map_entry_release(&e);
		}
		pt_pve_map_entry_release(&old);
		if (keep)
			return keep;
	}
	return strdup(w->entries[i]);
}

/* The map list after the run; *n entries. 0 or -ENOMEM. */
static int new_map(const struct pt_pve_pci_mapping_opts *o, const char *node,
                   const struct pt_pve_wanted *w, const struct pt_pve_current *cur, char ***map,
                   size_t *n)
{
	*map = NULL;
	*n = 0;
	if (o->exact && !o->present)
		return 0;
	size_t count = o->present ? w->count : 0;
	char **mine = calloc(count + 1, sizeof *mine);
	if (!mine)
		return -ENOMEM;
	int rc = 0;
	for (size_t i = 0; i < count && rc == 0; i++)
		if (!(mine[i] = o->exact ? strdup(w->entries[i])
		                         : with_old_description(w, i, node, cur)))
			rc = -ENOMEM;
	if (rc == 0 && o->exact) {
		*map = mine;
		*n = count;
		return 0;
	}
	if (rc == 0)
		rc = pt_pve_map_merge_node(cur->mapping.map,
		                           cur->exists ? cur->mapping.map_count : 0, node, mine,
		                           count, map, n);
	free_list(mine, count);
	return rc;
}

static bool same_text(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

int pt_pve_plan_make(const struct pt_pve_pci_mapping_opts *o, const char *node,
                     const struct pt_pve_wanted *w, const struct pt_pve_current *cur,
                     bool hw_failing, struct pt_pve_plan *plan)
{
	struct pt_pve_mapping *t = &plan->target;
	memset(plan, 0, sizeof *plan);
	pt_pve_mapping_release(t); /* leaves mdev and live_migration -1 */
	char **map;
	size_t nmap;
	if (new_map(o, node, w, cur, &map, &nmap) < 0)
		return -ENOMEM;
	/* state=absent deletes the mapping in map_mode=exact, and in map_mode=node when
	 * no other node has an entry left (else other nodes' entries keep it, so it
	 * exists). */
	if (!o->present && nmap == 0) {
		free_list(map, nmap);
		plan->action = cur->exists ? PT_PVE_DELETE : PT_PVE_NONE;
		return 0;
	}
	if (cur->exists) {
		if (pt_pve_mapping_copy(t, &cur->mapping) < 0) {
			free_list(map, nmap);
			return -ENOMEM;
		}
		free_list(t->map, t->map_count);
	} else if (!(t->id = strdup(o->name))) {
		free_list(map, nmap);
		return -ENOMEM;
	}
	t->map = map;
	t->map_count = nmap;
	if (o->description) {
		/* As Proxmox reads it back: blanks around it dropped; blanks only is none. */
		free(t->description);
		t->description = pt_pve_text_trim(o->description);
		if (!t->description)
			return -ENOMEM;
		if (!*t->description) {
			free(t->description);
			t->description = NULL;
		}
	}
	if (o->mdev >= 0)
		t->mdev = o->mdev;
	if (o->live_migration >= 0)
		t->live_migration = o->live_migration;

	if (!cur->exists) {
		plan->action = PT_PVE_CREATE;
		return 0;
	}
	const struct pt_pve_mapping *c = &cur->mapping;
	/* Proxmox's default for both flags is 0: unset and 0 mean the same. */
	bool same = pt_pve_map_list_equal(c->map, c->map_count, t->map, t->map_count) &&
	            same_text(c->description, t->description) && (c->mdev > 0) == (t->mdev > 0) &&
	            (c->live_migration > 0) == (t->live_migration > 0);
	bool rewrite = hw_failing && o->present && !o->exact;
	if (!same || rewrite) {
		plan->action = PT_PVE_UPDATE;
		return 0;
	}
	/* Nothing to write: report the mapping exactly as stored. */
	pt_pve_mapping_release(t);
	return pt_pve_mapping_copy(t, c);
}

/* "0000:07:00 (10de:1c82, IOMMU group 14)" for a stored entry; the text itself
 * when it does not parse. */
static void entry_words(struct pt_strbuf *sb, const char *text)
{
	struct pt_pve_map_entry e;
	if (pt_pve_map_entry_parse(text, "", &e, NULL) < 0) {
		pt_strbuf_puts(sb, text);
		return;
	}
	pt_strbuf_printf(sb, "%s (%s", e.path, e.id);
	if (e.iommugroup)
		pt_strbuf_printf(sb, ", IOMMU group %s", e.iommugroup);
	if (e.description)
		pt_strbuf_printf(sb, ", '%s'", e.description);
	pt_strbuf_putc(sb, ')');
	pt_pve_map_entry_release(&e);
}

/* node's entries of map, in words: "entry X" or "entries X, Y"; false when node
 * has none. */
static bool node_entries(struct pt_strbuf *sb, char *const *map, size_t n, const char *node)
{
	size_t count = 0;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *owner = pt_pve_map_text_node(map[i]);
		count += owner && strcmp(owner, node) == 0;
	}
	if (!count)
		return false;
	pt_strbuf_printf(sb, "node %s's %s ", node, count == 1 ? "entry" : "entries");
	size_t done = 0;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *owner = pt_pve_map_text_node(map[i]);
		if (!owner || strcmp(owner, node) != 0)
			continue;
		if (done++)
			pt_strbuf_puts(sb, ", ");
		entry_words(sb, map[i]);
	}
	return true;
}

/* "N entries (nodes a, b)" for a whole map. */
static void map_words(struct pt_strbuf *sb, char *const *map, size_t n)
{
	pt_strbuf_printf(sb, "%zu %s", n, n == 1 ? "entry" : "entries");
	size_t shown = 0;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *owner = pt_pve_map_text_node(map[i]);
		bool seen = false;
		for (size_t j = 0; j < i && owner && !seen; j++) {
			_cleanup_free_ char *other = pt_pve_map_text_node(map[j]);
			seen = other && strcmp(other, owner) == 0;
		}
		if (owner && !seen)
			pt_strbuf_printf(sb, "%s%s", shown++ ? ", " : " (node ", owner);
	}
	if (shown)
		pt_strbuf_putc(sb, ')');
}

static void flag_words(struct pt_strbuf *sb, bool *first, const char *key, int before, int after)
{
	if ((before > 0) == (after > 0))
		return;
	pt_strbuf_printf(sb, "%s%s set to %d", *first ? "" : "; ", key, after > 0);
	*first = false;
}

char *pt_pve_plan_describe(const struct pt_pve_pci_mapping_opts *o, const char *node,
                           const struct pt_pve_current *cur, const struct pt_pve_plan *plan)
{
	bool check_mode = o->check;
	struct pt_strbuf sb = PT_STRBUF_INIT;
	const struct pt_pve_mapping *t = &plan->target;
	const struct pt_pve_mapping *c = &cur->mapping;
	switch (plan->action) {
	case PT_PVE_NONE:
		pt_strbuf_puts(&sb, "no change: ");
		if (!cur->exists)
			pt_strbuf_printf(&sb, "there is no mapping %s", o->name);
		else if (o->exact)
			pt_strbuf_printf(&sb, "mapping %s already is as given", o->name);
		else if (!o->present)
			pt_strbuf_printf(&sb, "mapping %s has no entry for node %s", o->name, node);
		else {
			pt_strbuf_printf(&sb, "mapping %s already has ", o->name);
			node_entries(&sb, c->map, c->map_count, node);
		}
		break;
	case PT_PVE_CREATE:
		pt_strbuf_printf(&sb, "%s mapping %s with ",
		                 check_mode ? "would create" : "created", o->name);
		if (o->exact || !node_entries(&sb, t->map, t->map_count, node))
			map_words(&sb, t->map, t->map_count);
		break;
	case PT_PVE_DELETE:
		pt_strbuf_printf(&sb, "%s mapping %s", check_mode ? "would remove" : "removed",
		                 o->name);
		if (!o->exact)
			pt_strbuf_printf(&sb, ": node %s's entries were the last in it", node);
		break;
	default: {
		pt_strbuf_printf(&sb, "%s mapping %s: ", check_mode ? "would update" : "updated",
		                 o->name);
		bool first = true;
		if (!pt_pve_map_list_equal(c->map, c->map_count, t->map, t->map_count)) {
			first = false;
			if (o->exact) {
				pt_strbuf_puts(&sb, "map set to ");
				map_words(&sb, t->map, t->map_count);
			} else if (!o->present) {
				pt_strbuf_printf(
				        &sb, "node %s's entries removed, other nodes' entries kept",
				        node);
			} else {
				node_entries(&sb, t->map, t->map_count, node);
				pt_strbuf_puts(&sb, " set, other nodes' entries kept");
			}
		}
		if (strcmp(c->description ? c->description : "",
		           t->description ? t->description : "") != 0) {
			if (t->description)
				pt_strbuf_printf(&sb, "%sdescription set to '%s'",
				                 first ? "" : "; ", t->description);
			else
				pt_strbuf_printf(&sb, "%sdescription removed", first ? "" : "; ");
			first = false;
		}
		flag_words(&sb, &first, "mdev", c->mdev, t->mdev);
		flag_words(&sb, &first, "live-migration-capable", c->live_migration,
		           t->live_migration);
		if (first) /* written again although equal: an entry failed the hardware check */
			pt_strbuf_printf(&sb, "node %s's entries rewritten from the hardware",
			                 node);
		break;
	}
	}
	return pt_strbuf_steal(&sb);
}

const char **pt_pve_plan_command(const struct pt_pve_pci_mapping_opts *o,
                                 const struct pt_pve_plan *plan, const struct pt_pve_current *cur,
                                 const char *api)
{
	const struct pt_pve_mapping *t = &plan->target;
	enum pt_pve_action act = plan->action;
	/* pvesh VERB PATH, --id, the map, four options with values, the terminator. */
	const char **argv = calloc(3 + 2 + 2 * t->map_count + 8 + 1, sizeof *argv);
	if (!argv)
		return NULL;
	size_t n = 0;
	argv[n++] = o->pvesh;
	argv[n++] = act == PT_PVE_CREATE ? "create" : act == PT_PVE_UPDATE ? "set" : "delete";
	argv[n++] = act == PT_PVE_CREATE ? PT_PVESH_PCI_API : api;
	if (act == PT_PVE_DELETE)
		return argv;
	if (act == PT_PVE_CREATE) {
		argv[n++] = "--id";
		argv[n++] = o->name;
	}
	for (size_t i = 0; i < t->map_count; i++) {
		argv[n++] = "--map";
		argv[n++] = t->map[i];
	}
	if (o->description && t->description) {
		argv[n++] = "--description";
		argv[n++] = t->description;
	} else if (o->description && act == PT_PVE_UPDATE && cur->mapping.description) {
		argv[n++] = "--delete";
		argv[n++] = "description";
	}
	if (o->mdev >= 0) {
		argv[n++] = "--mdev";
		argv[n++] = o->mdev ? "1" : "0";
	}
	if (o->live_migration >= 0) {
		argv[n++] = "--live-migration-capable";
		argv[n++] = o->live_migration ? "1" : "0";
	}
	if (act == PT_PVE_UPDATE && cur->digest[0]) {
		argv[n++] = "--digest";
		argv[n++] = cur->digest;
	}
	return argv;
}

int pt_pve_plan_command_check(const char *const argv[], struct pt_report *rep)
{
	struct pt_pvesh_argspace space;
	if (pt_pvesh_argspace(argv, &space) == 0)
		return 0;
	size_t entries = 0, entry = 0;
	bool is_entry = false;
	for (size_t i = 1; argv[i]; i++) {
		if (strcmp(argv[i - 1], "--map") != 0)
			continue;
		if (i == space.longest) {
			entry = entries;
			is_entry = true;
		}
		entries++;
	}
	if (space.longest_len > space.arg_max) {
		const char *arg = argv[space.longest];
		_cleanup_free_ char *what = NULL;
		if ((is_entry ? asprintf(&what, "map entry %zu", entry)
		              : asprintf(&what, "argument %zu", space.longest)) < 0)
			return -ENOMEM;
		return pt_report_fail(rep, -E2BIG,
		                      "the mapping is too large for one pvesh call: its %s "
		                      "('%.*s...') is %zu bytes long, and one argument can be at "
		                      "most %zu bytes (the kernel's MAX_ARG_STRLEN); shorten it",
		                      what, (int)pt_pvesh_cut(arg, 60), arg, space.longest_len,
		                      space.arg_max);
	}
	return pt_report_fail(rep, -E2BIG,
	                      "the mapping is too large for one pvesh call: pvesh %s with %zu "
	                      "map entries takes %zu bytes of arguments, and this host allows "
	                      "%zu for one command (a quarter of the stack limit, at most "
	                      "6 MiB, less a margin); split the devices into several mappings",
	                      argv[1], entries, space.total, space.total_max);
}
