/* pve_pci_mapping: a Proxmox VE cluster PCI resource mapping, through pvesh.
 *
 * Read (pvesh get), compute the wanted map list (this node's entries from the
 * hardware, or the exact list given), compare semantically, then create, update
 * with the digest of what was read, or delete. Several nodes run this at the same
 * time against one cluster file: a write that loses the race is read again, merged
 * again and retried with random back-off. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cleanup.h"
#include "exec.h"
#include "files.h"
#include "pci.h"
#include "pve_mapping.h"
#include "pve_pci_mapping_argspec.h"
#include "runtime.h"
#include "strbuf.h"

#define MODULE_NAME "homelab.passthrough.pve_pci_mapping"
#define API_BASE    "/cluster/mapping/pci"

enum action { ACT_NONE, ACT_CREATE, ACT_UPDATE, ACT_DELETE };
static const char *const action_names[] = {"none", "create", "update", "delete"};

struct run {
	struct pt_module *m;
	const char *root;
	const char *pvesh;
	const char *name;
	char *node; /* owned */
	bool present;
	bool exact;
	int timeout;
	json_t *description; /* the option (borrowed); NULL when not given */
	int mdev;            /* option: 1, 0, -1 not given */
	int live_migration;  /* option: 1, 0, -1 not given */

	/* This node's wanted entries (node mode) or the whole list (exact mode), as
	 * stored strings, with their paths for keeping per-entry descriptions. */
	char **wanted;
	char **wanted_paths;
	size_t nwanted;

	struct pt_pci_host host;
	bool host_scanned;
	char *scan_error; /* owned; set when the scan failed */

	bool hw_warned;    /* warnings about existing entries given once */
	bool pvesh_warned; /* pvesh's own warnings (parse problems) given once */
	json_t *commands;  /* pvesh commands that changed something (owned) */
	json_t *failure;   /* {cmd, rc, stdout, stderr} of a failed pvesh call (owned) */
};

/* What pvesh get said. */
struct current {
	bool exists;
	struct pt_pve_mapping mapping;
	char digest[PT_PVE_DIGEST_SIZE];
};

static void current_release(struct current *c)
{
	pt_pve_mapping_release(&c->mapping);
	c->exists = false;
	c->digest[0] = '\0';
}

static void free_list(char **list, size_t n)
{
	for (size_t i = 0; list && i < n; i++)
		free(list[i]);
	free(list);
}

/* --- hardware ------------------------------------------------------------------- */

static int scan(struct run *r)
{
	if (r->host_scanned)
		return r->scan_error ? -EIO : 0;
	r->host_scanned = true;
	int rc = pt_pci_scan(r->root, &r->host, &r->scan_error);
	if (rc < 0 && !r->scan_error)
		r->scan_error = strdup("cannot read the PCI devices");
	return rc < 0 ? -EIO : 0;
}

static int hw_lookup(void *ctx, const char *address, struct pt_pve_hw_function *out)
{
	struct run *r = ctx;
	if (scan(r) < 0)
		return -ENOENT;
	const struct pt_pci_device *dev = pt_pci_find(&r->host, address);
	if (!dev || dev->vendor_id < 0 || dev->device_id < 0)
		return -ENOENT;
	pt_pci_id_string(dev->vendor_id, dev->device_id, out->id, sizeof out->id);
	out->subsystem_id[0] = '\0';
	if (dev->subsys_vendor_id >= 0 && dev->subsys_device_id >= 0)
		pt_pci_id_string(dev->subsys_vendor_id, dev->subsys_device_id, out->subsystem_id,
		                 sizeof out->subsystem_id);
	out->iommugroup = dev->iommu_group;
	return 0;
}

static char *sys_dir(const struct run *r)
{
	return pt_path_join(r->root, "/sys/bus/pci/devices");
}

/* Fill id, subsystem-id and iommugroup of e from the function that `path` (one
 * canonical path) stands for. 0, or fails the module and returns -1. */
static int fill_from_hardware(struct run *r, const char *what, const char *path,
                              struct pt_pve_map_entry *e, bool only_missing)
{
	_cleanup_free_ char *address = NULL;
	bool slot = !strchr(path, '.'); /* "dddd:bb:ss": checked as function 0 */
	if (asprintf(&address, "%s%s", path, slot ? ".0" : "") < 0)
		return pt_module_fail(r->m, "out of memory");
	struct pt_pve_hw_function hw;
	if (hw_lookup(r, address, &hw) < 0) {
		_cleanup_free_ char *dir = sys_dir(r);
		if (r->scan_error)
			return pt_module_fail(r->m,
			                      "%s: cannot read the PCI devices of this host: %s",
			                      what, r->scan_error);
		if (slot)
			return pt_module_fail(r->m,
			                      "%s: there is no device %s (function 0 of slot %s) "
			                      "in %s; check the address with `lspci -D`",
			                      what, address, path, dir);
		return pt_module_fail(r->m,
		                      "%s: there is no device %s in %s; check the address with "
		                      "`lspci -D`",
		                      what, address, dir);
	}
	if ((!only_missing || !e->id) && !(e->id = strdup(hw.id)))
		return pt_module_fail(r->m, "out of memory");
	if ((!only_missing || !e->subsystem_id) && hw.subsystem_id[0] &&
	    !(e->subsystem_id = strdup(hw.subsystem_id)))
		return pt_module_fail(r->m, "out of memory");
	if (!only_missing || !e->iommugroup) {
		if (hw.iommugroup >= 0) {
			if (asprintf(&e->iommugroup, "%d", hw.iommugroup) < 0)
				return pt_module_fail(r->m, "out of memory");
		} else {
			pt_warn(r->m,
			        "%s: device %s is in no IOMMU group, so the IOMMU looks off; the "
			        "mapping is written without iommugroup, but passthrough needs the "
			        "IOMMU enabled (see homelab.passthrough.grub_iommu)",
			        what, address);
		}
	}
	return 0;
}

/* --- options ------------------------------------------------------------------- */

static char *local_node(const struct run *r, char **why)
{
	char buf[256] = "";
	*why = NULL;
	if (strcmp(r->root, "/") == 0) {
		if (gethostname(buf, sizeof buf - 1) < 0)
			buf[0] = '\0';
	} else {
		_cleanup_free_ char *path = pt_path_join(r->root, "/etc/hostname");
		_cleanup_free_ char *line = path ? pt_file_read_line(path) : NULL;
		if (line)
			snprintf(buf, sizeof buf, "%s", line);
		else if (asprintf(why, "%s is missing or unreadable",
		                  path ? path : "/etc/hostname") < 0)
			*why = NULL;
	}
	/* Proxmox's node name is the host name up to the first dot. */
	buf[strcspn(buf, ". \t")] = '\0';
	if (!buf[0]) {
		if (!*why && asprintf(why, "the host name is empty") < 0)
			*why = NULL;
		return NULL;
	}
	return strdup(buf);
}

static int add_wanted(struct run *r, const struct pt_pve_map_entry *e)
{
	char *text = pt_pve_map_entry_format(e);
	char *path = e->path ? strdup(e->path) : NULL;
	char **w = realloc(r->wanted, (r->nwanted + 1) * sizeof *w);
	char **p = w ? realloc(r->wanted_paths, (r->nwanted + 1) * sizeof *p) : NULL;
	if (w)
		r->wanted = w;
	if (p)
		r->wanted_paths = p;
	if (!text || !path || !w || !p) {
		free(text);
		free(path);
		return pt_module_fail(r->m, "out of memory");
	}
	r->wanted[r->nwanted] = text;
	r->wanted_paths[r->nwanted] = path;
	r->nwanted++;
	return 0;
}

/* node mode: one entry per device, IDs from the hardware. */
static int wanted_from_devices(struct run *r)
{
	json_t *devices = pt_param(r->m, "devices");
	if (r->present && json_array_size(devices) == 0)
		return pt_module_fail(
		        r->m, "devices is required with state=present and map_mode=node: "
		              "list this node's PCI addresses, e.g. devices: "
		              "['0000:07:00'] for every function of the card in slot 07:00");
	size_t i;
	json_t *item;
	json_array_foreach (devices, i, item) {
		const char *text = json_string_value(item);
		char canon[PT_PCI_ADDR_LEN];
		int function;
		_cleanup_free_ char *what = NULL;
		if (asprintf(&what, "devices[%zu] '%s'", i, text ? text : "") < 0)
			return pt_module_fail(r->m, "out of memory");
		if (!text || pt_pci_parse_address(text, canon, &function) < 0)
			return pt_module_fail(
			        r->m,
			        "%s is not a PCI address: write 0000:07:00 for a whole "
			        "slot (every function) or 0000:07:00.0 for one function",
			        what);
		for (size_t j = 0; j < r->nwanted; j++)
			if (strcmp(r->wanted_paths[j], canon) == 0)
				return pt_module_fail(r->m, "%s: %s is listed twice in devices",
				                      what, canon);
		struct pt_pve_map_entry e = {0};
		e.node = strdup(r->node);
		e.path = strdup(canon);
		if (!e.node || !e.path) {
			pt_pve_map_entry_release(&e);
			return pt_module_fail(r->m, "out of memory");
		}
		int rc = fill_from_hardware(r, what, canon, &e, false);
		if (rc == 0)
			rc = add_wanted(r, &e);
		pt_pve_map_entry_release(&e);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static bool has_comma_or_lf(const char *s)
{
	return s && strpbrk(s, ",\r\n") != NULL;
}

/* exact mode: the map option, checked against Proxmox's schema. */
static int wanted_from_map(struct run *r)
{
	json_t *map = pt_param(r->m, "map");
	if (r->present && json_array_size(map) == 0)
		return pt_module_fail(r->m,
		                      "map is required with state=present and map_mode=exact: give "
		                      "the whole map list, one {node, path, id, ...} per entry");
	struct pt_strbuf errors = PT_STRBUF_INIT;
	size_t i;
	json_t *item;
	json_array_foreach (map, i, item) {
		const char *node = json_string_value(json_object_get(item, "node"));
		const char *path = json_string_value(json_object_get(item, "path"));
		const char *id = json_string_value(json_object_get(item, "id"));
		const char *subsys = json_string_value(json_object_get(item, "subsystem_id"));
		const char *desc = json_string_value(json_object_get(item, "description"));
		json_t *group = json_object_get(item, "iommugroup");
		size_t before = errors.len;
		if (!pt_pve_valid_node(node))
			pt_strbuf_printf(&errors,
			                 "; map[%zu].node '%s' is not a valid node name (letters, "
			                 "digits and '-', not at either end)",
			                 i, node ? node : "");
		if (!pt_pve_valid_path(path))
			pt_strbuf_printf(
			        &errors,
			        "; map[%zu].path '%s' is not a path Proxmox accepts: write "
			        "the domain and lowercase hex, 0000:07:00 (whole slot) or "
			        "0000:07:00.0 (one function), several joined by ';'",
			        i, path ? path : "");
		if (id && !pt_pve_valid_pci_id(id))
			pt_strbuf_printf(
			        &errors,
			        "; map[%zu].id '%s' is not a vendor:device ID like 10de:1c82", i,
			        id);
		if (subsys && !pt_pve_valid_pci_id(subsys))
			pt_strbuf_printf(&errors,
			                 "; map[%zu].subsystem_id '%s' is not a subsystem "
			                 "vendor:device ID like 1462:8c96",
			                 i, subsys);
		if (has_comma_or_lf(desc))
			pt_strbuf_printf(&errors,
			                 "; map[%zu].description must not contain commas or line "
			                 "breaks (Proxmox splits map entries at commas)",
			                 i);
		else if (desc && strlen(desc) > PT_PVE_DESCRIPTION_MAX)
			pt_strbuf_printf(&errors,
			                 "; map[%zu].description is longer than Proxmox's %d "
			                 "characters",
			                 i, PT_PVE_DESCRIPTION_MAX);
		bool local = node && strcmp(node, r->node) == 0;
		if (!id && !local && errors.len == before)
			pt_strbuf_printf(
			        &errors,
			        "; map[%zu] (node %s) needs id: Proxmox requires the "
			        "vendor:device ID, and the module reads it from the hardware "
			        "only for the local node (%s)",
			        i, node, r->node);
		if (!id && local && path && strchr(path, ';') && errors.len == before)
			pt_strbuf_printf(&errors,
			                 "; map[%zu] (node %s) needs id when path lists several "
			                 "devices",
			                 i, node);
		if (errors.len != before)
			continue;
		struct pt_pve_map_entry e = {0};
		bool oom =
		        !(e.node = strdup(node)) || !(e.path = strdup(path)) ||
		        (id && !(e.id = strdup(id))) ||
		        (subsys && !(e.subsystem_id = strdup(subsys))) ||
		        (desc && *desc && !(e.description = strdup(desc))) ||
		        (json_is_integer(group) &&
		         asprintf(&e.iommugroup, "%lld", (long long)json_integer_value(group)) < 0);
		int rc = oom ? pt_module_fail(r->m, "out of memory") : 0;
		if (rc == 0 && !id) {
			_cleanup_free_ char *what = NULL;
			if (asprintf(&what, "map[%zu] (node %s, path %s)", i, node, path) < 0)
				rc = pt_module_fail(r->m, "out of memory");
			else
				rc = fill_from_hardware(r, what, path, &e, true);
		}
		if (rc == 0)
			rc = add_wanted(r, &e);
		pt_pve_map_entry_release(&e);
		if (rc < 0) {
			pt_strbuf_release(&errors);
			return rc;
		}
	}
	if (errors.len) {
		int rc = pt_module_fail(r->m, "%s", pt_strbuf_str(&errors) + 2);
		pt_strbuf_release(&errors);
		return rc;
	}
	pt_strbuf_release(&errors);
	return 0;
}

static int read_options(struct run *r)
{
	struct pt_module *m = r->m;
	r->root = pt_module_root(m);
	r->pvesh = pt_param_str(m, "pvesh");
	r->name = pt_param_str(m, "name");
	r->present = strcmp(pt_param_str(m, "state"), "present") == 0;
	r->exact = strcmp(pt_param_str(m, "map_mode"), "exact") == 0;
	r->timeout = (int)pt_param_int(m, "timeout", 60);
	r->description = pt_param(m, "description");
	json_t *flag = pt_param(m, "mdev");
	r->mdev = flag ? json_is_true(flag) : -1;
	flag = pt_param(m, "live_migration_capable");
	r->live_migration = flag ? json_is_true(flag) : -1;

	if (!pt_pve_valid_configid(r->name))
		return pt_module_fail(
		        m,
		        "name '%s' is not a valid Proxmox mapping ID: it must start "
		        "with a letter, hold only letters, digits, '-' and '_', and be "
		        "at least 2 characters long",
		        r->name);
	const char *node = pt_param_str(m, "node");
	if (node) {
		r->node = strdup(node);
	} else {
		_cleanup_free_ char *why = NULL;
		r->node = local_node(r, &why);
		if (!r->node)
			return pt_module_fail(m,
			                      "cannot tell the local node name (%s); set the node "
			                      "option",
			                      why ? why : "unknown reason");
	}
	if (!r->node)
		return pt_module_fail(m, "out of memory");
	if (!pt_pve_valid_node(r->node))
		return pt_module_fail(m,
		                      "node '%s' is not a valid Proxmox node name: letters, digits "
		                      "and '-', not starting or ending with '-'",
		                      r->node);
	const char *desc = json_string_value(r->description);
	if (desc && strpbrk(desc, "\r\n"))
		return pt_module_fail(m, "description must be one line: Proxmox keeps it on one "
		                         "line of /etc/pve/mapping/pci.cfg");
	if (desc && strlen(desc) > PT_PVE_DESCRIPTION_MAX)
		return pt_module_fail(m, "description is %zu characters long; Proxmox allows %d",
		                      strlen(desc), PT_PVE_DESCRIPTION_MAX);
	if (pt_param_int(m, "retries", 10) < 0)
		return pt_module_fail(m, "retries must be 0 or more");
	if (r->exact && pt_param(m, "devices"))
		return pt_module_fail(m, "devices is only used with map_mode=node; with "
		                         "map_mode=exact give every entry in map");
	if (!r->exact && pt_param(m, "map"))
		return pt_module_fail(m, "map is only used with map_mode=exact; with "
		                         "map_mode=node list this node's devices in devices");
	if (!pt_exec_available(r->root, r->pvesh)) {
		_cleanup_free_ char *where = pt_path_join(r->root, r->pvesh);
		return pt_module_fail(m,
		                      "pvesh is not at %s: this does not look like a Proxmox VE "
		                      "node (package pve-manager); set pvesh to its path",
		                      where ? where : r->pvesh);
	}
	if (r->exact)
		return wanted_from_map(r);
	return r->present ? wanted_from_devices(r) : 0;
}

/* --- pvesh ----------------------------------------------------------------------- */

static void back_off(int attempt);

/* Run pvesh; on a start failure the module fails. Returns 0 with res filled. */
static int pvesh(struct run *r, const char *const argv[], struct pt_exec_result *res)
{
	int rc = pt_exec(r->root, argv, r->timeout, res);
	if (rc < 0) {
		_cleanup_free_ char *cmd = pt_exec_cmdline(argv);
		pt_module_fail(r->m, "cannot run %s: %s", cmd ? cmd : r->pvesh,
		               res->err && *res->err ? res->err : strerror(-rc));
		pt_exec_result_release(res);
		return -1;
	}
	return 0;
}

/* Keep rc, stdout, stderr and cmd of a failed call for the result. */
static void remember_failure(struct run *r, const char *const argv[],
                             const struct pt_exec_result *res)
{
	json_decref(r->failure);
	r->failure = json_object();
	pt_exec_result_to_json(argv, res, r->failure);
}

/* The first line of pvesh's error output worth showing. */
static char *first_error_line(const char *err)
{
	const char *p = err ? err : "";
	while (*p) {
		size_t n = strcspn(p, "\n");
		if (n && strncmp(p, "trying to acquire cfs lock", 26) != 0)
			return strndup(p, n);
		p += n + (p[n] ? 1 : 0);
	}
	return strdup("(no error output)");
}

static int fail_pvesh(struct run *r, const char *const argv[], const struct pt_exec_result *res)
{
	remember_failure(r, argv, res);
	_cleanup_free_ char *cmd = pt_exec_cmdline(argv);
	_cleanup_free_ char *line = first_error_line(res->err);
	if (res->timed_out)
		return pt_module_fail(r->m, "%s was stopped after %d seconds (timeout option): %s",
		                      cmd, r->timeout, line);
	return pt_module_fail(r->m, "%s failed (rc %d): %s", cmd, res->rc, line);
}

/* pvesh's warnings on a successful read (problems in pci.cfg), once per run. */
static void pass_on_warnings(struct run *r, const char *err)
{
	if (r->pvesh_warned || !err || !*err)
		return;
	r->pvesh_warned = true;
	for (const char *p = err; *p;) {
		size_t n = strcspn(p, "\n");
		if (n)
			pt_warn(r->m, "pvesh: %.*s", (int)n, p);
		p += n + (p[n] ? 1 : 0);
	}
}

/* Read the mapping once. 0 with cur filled (cur->exists false when there is
 * none), 1 when it appeared between the two reads (read again), or -1 after
 * failing the module. */
static int read_once(struct run *r, struct current *cur)
{
	memset(cur, 0, sizeof *cur);
	cur->mapping.mdev = cur->mapping.live_migration = -1;
	_cleanup_free_ char *api = NULL;
	if (asprintf(&api, API_BASE "/%s", r->name) < 0)
		return pt_module_fail(r->m, "out of memory");
	const char *get[] = {r->pvesh, "get", api, "--output-format", "json", NULL};
	struct pt_exec_result res;
	if (pvesh(r, get, &res) < 0)
		return -1;
	if (res.rc == 0 && !res.timed_out) {
		json_error_t jerr;
		_cleanup_json_ json_t *obj = json_loads(res.out, 0, &jerr);
		_cleanup_free_ char *err = NULL;
		int rc = obj ? pt_pve_mapping_from_json(obj, r->name, &cur->mapping, cur->digest,
		                                        &err)
		             : -EINVAL;
		if (rc < 0) {
			remember_failure(r, get, &res);
			pt_exec_result_release(&res);
			return pt_module_fail(r->m,
			                      "pvesh get %s returned what is not a mapping: %s",
			                      api, err ? err : jerr.text);
		}
		pass_on_warnings(r, res.err);
		pt_exec_result_release(&res);
		cur->exists = true;
		return 0;
	}
	/* Not there, or another failure: the list tells them apart without relying on
	 * the wording of the error. */
	const char *list[] = {r->pvesh, "get", API_BASE, "--output-format", "json", NULL};
	struct pt_exec_result lres;
	if (pvesh(r, list, &lres) < 0) {
		pt_exec_result_release(&res);
		return -1;
	}
	json_error_t jerr;
	_cleanup_json_ json_t *arr = lres.rc == 0 ? json_loads(lres.out, 0, &jerr) : NULL;
	bool listed = false;
	size_t i;
	json_t *item;
	json_array_foreach (arr, i, item) {
		const char *id = json_string_value(json_object_get(item, "id"));
		if (id && strcmp(id, r->name) == 0)
			listed = true;
	}
	int rc = 0;
	if (json_is_array(arr))
		pass_on_warnings(r, lres.err);
	if (!json_is_array(arr))
		rc = fail_pvesh(r, get, &res);
	else if (listed) /* another node created it just now, or get failed for real */
		rc = 1;
	if (rc == 1)
		remember_failure(r, get, &res);
	pt_exec_result_release(&res);
	pt_exec_result_release(&lres);
	return rc;
}

/* Read the mapping: 0 with cur filled (cur->exists false when there is none), or
 * -1 after failing the module. */
static int read_current(struct run *r, struct current *cur)
{
	for (int attempt = 0; attempt < 5; attempt++) {
		int rc = read_once(r, cur);
		if (rc <= 0) {
			if (rc == 0 && r->failure) {
				json_decref(r->failure);
				r->failure = NULL;
			}
			return rc;
		}
		pt_pve_mapping_release(&cur->mapping);
		back_off(1);
	}
	/* pvesh lists the mapping but cannot read it: show that error. */
	const char *err = json_string_value(json_object_get(r->failure, "stderr"));
	_cleanup_free_ char *line = first_error_line(err);
	return pt_module_fail(r->m, "pvesh get %s/%s failed (rc %lld) although pvesh lists it: %s",
	                      API_BASE, r->name,
	                      json_integer_value(json_object_get(r->failure, "rc")), line);
}

/* --- what is wanted ------------------------------------------------------------- */

/* Warn about this node's existing entries that Proxmox's check at VM start would
 * reject. Returns true when one fails (the map then needs rewriting). */
static bool check_existing(struct run *r, const struct current *cur)
{
	bool failing = false;
	for (size_t i = 0; cur->exists && i < cur->mapping.map_count; i++) {
		struct pt_pve_map_entry e;
		_cleanup_free_ char *perr = NULL;
		if (pt_pve_map_entry_parse(cur->mapping.map[i], "", &e, &perr) < 0)
			continue;
		_cleanup_free_ char *msg = NULL;
		int rc = 0;
		if (strcmp(e.node, r->node) == 0)
			rc = pt_pve_map_entry_check_hw(r->name, &e, hw_lookup, r, &msg);
		if (rc < 0) {
			failing = true;
			if (!r->hw_warned)
				pt_warn(r->m,
				        "mapping '%s': the entry for node %s at %s fails Proxmox's "
				        "check "
				        "at VM start (%s), hardware probably changed; %s",
				        r->name, r->node, e.path, msg ? msg : "out of memory",
				        !r->present ? "it is removed with state=absent"
				        : r->exact  ? "map_mode=exact keeps the map as given"
				                    : "the entry is corrected from the hardware");
		}
		pt_pve_map_entry_release(&e);
	}
	r->hw_warned = true;
	return failing;
}

/* exact mode: warn when the given entries for this node would fail at VM start. */
static void check_wanted_exact(struct run *r)
{
	for (size_t i = 0; i < r->nwanted; i++) {
		struct pt_pve_map_entry e;
		_cleanup_free_ char *perr = NULL;
		if (pt_pve_map_entry_parse(r->wanted[i], "", &e, &perr) < 0)
			continue;
		_cleanup_free_ char *msg = NULL;
		if (strcmp(e.node, r->node) == 0 &&
		    pt_pve_map_entry_check_hw(r->name, &e, hw_lookup, r, &msg) < 0)
			pt_warn(r->m,
			        "map[%zu] for this node (%s) does not match the hardware: %s; "
			        "Proxmox "
			        "will refuse to start VMs with it",
			        i, r->node, msg ? msg : "out of memory");
		pt_pve_map_entry_release(&e);
	}
}

/* This node's wanted entries, each keeping the per-entry description of an existing
 * entry of the node at the same path (set in the web interface). */
static int node_entries(struct run *r, const struct current *cur, char ***out)
{
	char **list = calloc(r->nwanted + 1, sizeof *list);
	if (!list)
		return -ENOMEM;
	for (size_t i = 0; i < r->nwanted; i++) {
		char *keep = NULL;
		for (size_t j = 0; cur->exists && j < cur->mapping.map_count && !keep; j++) {
			struct pt_pve_map_entry old;
			_cleanup_free_ char *perr = NULL;
			if (pt_pve_map_entry_parse(cur->mapping.map[j], "", &old, &perr) < 0)
				continue;
			if (old.description && strcmp(old.node, r->node) == 0 &&
			    strcasecmp(old.path, r->wanted_paths[i]) == 0) {
				struct pt_pve_map_entry e;
				if (pt_pve_map_entry_parse(r->wanted[i], "", &e, &perr) == 0) {
					e.description = PT_STEAL(old.description);
					keep = pt_pve_map_entry_format(&e);
					pt_pve_map_entry_release(&e);
				}
			}
			pt_pve_map_entry_release(&old);
		}
		list[i] = keep ? keep : strdup(r->wanted[i]);
		if (!list[i]) {
			free_list(list, i);
			return -ENOMEM;
		}
	}
	*out = list;
	return 0;
}

static bool same_text(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

/* The mapping as it should be (wanted->id NULL when it should not exist) and the
 * action that gets there. */
static int plan(struct run *r, const struct current *cur, struct pt_pve_mapping *wanted,
                enum action *act)
{
	memset(wanted, 0, sizeof *wanted);
	wanted->mdev = wanted->live_migration = -1;
	*act = ACT_NONE;
	bool hw_failing = check_existing(r, cur);

	char **map = NULL;
	size_t nmap = 0;
	if (!r->exact) {
		char **mine = NULL;
		size_t nmine = r->present ? r->nwanted : 0;
		if (node_entries(r, cur, &mine) < 0)
			return -ENOMEM;
		int rc = pt_pve_map_merge_node(cur->mapping.map,
		                               cur->exists ? cur->mapping.map_count : 0, r->node,
		                               mine, nmine, &map, &nmap);
		free_list(mine, r->nwanted);
		if (rc < 0)
			return rc;
	} else if (r->present) {
		map = calloc(r->nwanted + 1, sizeof *map);
		if (!map)
			return -ENOMEM;
		for (nmap = 0; nmap < r->nwanted; nmap++)
			if (!(map[nmap] = strdup(r->wanted[nmap]))) {
				free_list(map, nmap);
				return -ENOMEM;
			}
	}
	bool keep_mapping = r->present || (!r->exact && nmap > 0);
	if (!keep_mapping) {
		free_list(map, nmap);
		*act = cur->exists ? ACT_DELETE : ACT_NONE;
		return 0;
	}
	if (!r->present && !cur->exists) {
		free_list(map, nmap);
		return 0;
	}

	if (cur->exists) {
		if (pt_pve_mapping_copy(wanted, &cur->mapping) < 0) {
			free_list(map, nmap);
			return -ENOMEM;
		}
		free_list(wanted->map, wanted->map_count);
	} else if (!(wanted->id = strdup(r->name))) {
		free_list(map, nmap);
		return -ENOMEM;
	}
	wanted->map = map;
	wanted->map_count = nmap;
	if (r->description) {
		free(wanted->description);
		const char *d = json_string_value(r->description);
		wanted->description = *d ? strdup(d) : NULL;
		if (*d && !wanted->description)
			return -ENOMEM;
	}
	if (r->mdev >= 0)
		wanted->mdev = r->mdev;
	if (r->live_migration >= 0)
		wanted->live_migration = r->live_migration;

	if (!cur->exists) {
		*act = ACT_CREATE;
		return 0;
	}
	const struct pt_pve_mapping *c = &cur->mapping;
	/* Proxmox's default for both flags is 0: unset and 0 mean the same. */
	bool same = pt_pve_map_list_equal(c->map, c->map_count, wanted->map, wanted->map_count) &&
	            same_text(c->description, wanted->description) &&
	            (c->mdev > 0) == (wanted->mdev > 0) &&
	            (c->live_migration > 0) == (wanted->live_migration > 0);
	bool rewrite = hw_failing && r->present && !r->exact;
	*act = same && !rewrite ? ACT_NONE : ACT_UPDATE;
	if (*act == ACT_NONE) {
		/* Nothing to write: report the mapping exactly as stored. */
		pt_pve_mapping_release(wanted);
		return pt_pve_mapping_copy(wanted, c);
	}
	return 0;
}

/* --- writing ------------------------------------------------------------------------- */

struct argv_builder {
	const char **argv;
	size_t n;
	bool oom;
};

static void arg(struct argv_builder *b, const char *s)
{
	const char **grown = realloc(b->argv, (b->n + 2) * sizeof *grown);
	if (!grown) {
		b->oom = true;
		return;
	}
	b->argv = grown;
	b->argv[b->n++] = s;
	b->argv[b->n] = NULL;
}

/* The pvesh call for the action; strings borrowed from r, cur, wanted and api. */
static void build_command(struct run *r, enum action act, const struct current *cur,
                          const struct pt_pve_mapping *wanted, const char *api,
                          struct argv_builder *b)
{
	static const char *const flag_value[] = {"0", "1"};
	arg(b, r->pvesh);
	arg(b, act == ACT_CREATE ? "create" : act == ACT_UPDATE ? "set" : "delete");
	arg(b, act == ACT_CREATE ? API_BASE : api);
	if (act == ACT_DELETE)
		return;
	if (act == ACT_CREATE) {
		arg(b, "--id");
		arg(b, r->name);
	}
	for (size_t i = 0; i < wanted->map_count; i++) {
		arg(b, "--map");
		arg(b, wanted->map[i]);
	}
	if (r->description) {
		if (wanted->description) {
			arg(b, "--description");
			arg(b, wanted->description);
		} else if (act == ACT_UPDATE && cur->mapping.description) {
			arg(b, "--delete");
			arg(b, "description");
		}
	}
	if (r->mdev >= 0) {
		arg(b, "--mdev");
		arg(b, flag_value[r->mdev]);
	}
	if (r->live_migration >= 0) {
		arg(b, "--live-migration-capable");
		arg(b, flag_value[r->live_migration]);
	}
	if (act == ACT_UPDATE && cur->digest[0]) {
		arg(b, "--digest");
		arg(b, cur->digest);
	}
}

/* A failure another node caused: worth reading again and retrying. */
static bool lost_race(const char *err)
{
	return err &&
	       (strstr(err, "detected modified configuration") || strstr(err, "already defined") ||
	        strstr(err, "does not exist") || strstr(err, "got lock request timeout"));
}

/* Random back-off before retry number `attempt` (1, 2, ...): anywhere up to a cap
 * that doubles each time, so racing nodes spread out instead of colliding again. */
static void back_off(int attempt)
{
	long cap = 50L << (attempt < 6 ? attempt : 6);
	if (cap > 2000)
		cap = 2000;
	long ms = random() % (cap + 1);
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void add_diff(struct run *r, const struct current *cur, const struct pt_pve_mapping *wanted,
                     enum action act)
{
	struct pt_strbuf before = PT_STRBUF_INIT, after = PT_STRBUF_INIT;
	if (cur->exists)
		pt_pve_mapping_render(&cur->mapping, &before);
	if (act != ACT_DELETE && wanted->id)
		pt_pve_mapping_render(wanted, &after);
	pt_diff_add(r->m, PT_PVE_PCI_CFG, pt_strbuf_str(&before), pt_strbuf_str(&after));
	pt_strbuf_release(&before);
	pt_strbuf_release(&after);
}

static json_t *mapping_json(const struct pt_pve_mapping *m)
{
	if (!m->id)
		return json_null();
	json_t *obj = pt_pve_mapping_to_json(m, NULL, true);
	json_object_del(obj, "type");
	return obj;
}

static int run_module(struct run *r)
{
	if (read_options(r) < 0)
		return -1;
	if (r->exact && r->present)
		check_wanted_exact(r);
	_cleanup_free_ char *api = NULL;
	if (asprintf(&api, API_BASE "/%s", r->name) < 0)
		return pt_module_fail(r->m, "out of memory");

	int max_retries = (int)pt_param_int(r->m, "retries", 10);
	for (int attempt = 0;; attempt++) {
		struct current cur;
		if (read_current(r, &cur) < 0)
			return -1;
		struct pt_pve_mapping wanted;
		enum action act;
		if (plan(r, &cur, &wanted, &act) < 0) {
			current_release(&cur);
			pt_pve_mapping_release(&wanted);
			return pt_module_fail(r->m, "out of memory");
		}
		bool done = act == ACT_NONE || r->m->check_mode;
		struct argv_builder b = {0};
		struct pt_exec_result res = {0};
		bool ran = false;
		if (!done) {
			build_command(r, act, &cur, &wanted, api, &b);
			if (b.oom) {
				free(b.argv);
				current_release(&cur);
				pt_pve_mapping_release(&wanted);
				return pt_module_fail(r->m, "out of memory");
			}
			if (pvesh(r, b.argv, &res) < 0) {
				free(b.argv);
				current_release(&cur);
				pt_pve_mapping_release(&wanted);
				return -1;
			}
			ran = true;
			done = res.rc == 0 && !res.timed_out;
		}
		if (done) {
			if (ran) {
				json_t *cmd = json_array();
				for (size_t i = 0; b.argv[i]; i++)
					json_array_append_new(cmd, json_string(b.argv[i]));
				json_array_append_new(r->commands, cmd);
			}
			pt_result_set_changed(r->m, act != ACT_NONE);
			pt_result_set(r->m, "action", json_string(action_names[act]));
			pt_result_set(r->m, "retries", json_integer(attempt));
			pt_result_set(r->m, "mapping",
			              act == ACT_DELETE ? json_null() : mapping_json(&wanted));
			if (act != ACT_NONE)
				add_diff(r, &cur, &wanted, act);
		}
		int rc = 0;
		bool retry = !done && lost_race(res.err) && !res.timed_out;
		if (retry && attempt >= max_retries) {
			remember_failure(r, b.argv, &res);
			_cleanup_free_ char *line = first_error_line(res.err);
			rc = pt_module_fail(
			        r->m,
			        "gave up after %d retries: other nodes kept changing "
			        "/etc/pve/mapping/pci.cfg (last error: %s); raise retries",
			        attempt, line);
		} else if (!done && !retry) {
			rc = fail_pvesh(r, b.argv, &res);
		}
		free(b.argv);
		pt_exec_result_release(&res);
		current_release(&cur);
		pt_pve_mapping_release(&wanted);
		if (done || rc < 0)
			return rc;
		back_off(attempt + 1);
	}
}

int main(int argc, char **argv)
{
	struct pt_module m;
	if (pt_module_init(&m, MODULE_NAME, pve_pci_mapping_argspec_json, argc, argv) < 0)
		return pt_module_finish(&m);

	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	srandom((unsigned)getpid() ^ (unsigned)now.tv_nsec);

	struct run r = {.m = &m, .commands = json_array()};
	run_module(&r);

	pt_result_set(&m, "node", r.node ? json_string(r.node) : json_null());
	if (json_array_size(r.commands))
		pt_result_set(&m, "commands", json_incref(r.commands));
	if (r.failure) {
		const char *key;
		json_t *v;
		json_object_foreach (r.failure, key, v)
			pt_result_set(&m, key, json_incref(v));
	}
	json_decref(r.commands);
	json_decref(r.failure);
	free_list(r.wanted, r.nwanted);
	free_list(r.wanted_paths, r.nwanted);
	free(r.node);
	free(r.scan_error);
	if (r.host_scanned)
		pt_pci_host_release(&r.host);
	return pt_module_finish(&m);
}
