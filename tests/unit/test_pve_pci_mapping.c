/* pve_pci_mapping: the library behind the module (module_utils/pve_mapping_*.h,
 * pvesh.h, pve_pci_mapping_run.h) on sandbox roots built by mkroot from tests/fixtures/hosts (the
 * seed pve1 with its GTX 1050 Ti at 0000:07:00, a datacenter GPU with the IOMMU off), with the
 * fake-pvesh test double (tests/pve/README.md) as pvesh: the options' checks, the wanted entries
 * read from the hardware, the plan and its pvesh command, and whole runs (check mode, create,
 * no-op, removal, a failing pvesh). The plan is also checked on its own, on mappings written out
 * here. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "exec.h"
#include "files.h"
#include "pve_mapping.h"
#include "pve_mapping_hw.h"
#include "pve_mapping_plan.h"
#include "pve_mapping_read.h"
#include "pve_mapping_opts.h"
#include "pve_mapping_wanted.h"
#include "pve_pci_mapping_run.h"
#include "pvesh.h"
#include "report.h"
#include "support/tmptree.h"

#ifndef SOURCE_DIR
#define SOURCE_DIR "."
#endif

#define NAME "gpu-gtx1050ti"
/* pve1's card as a whole slot and as its function 0, pve2's and pve3's cards. */
#define E1  "id=10de:1c82,iommugroup=14,node=pve1,path=0000:07:00,subsystem-id=1462:8c96"
#define E1F "id=10de:1c82,iommugroup=14,node=pve1,path=0000:07:00.0,subsystem-id=1462:8c96"
#define E2  "id=10de:1c82,iommugroup=9,node=pve2,path=0000:02:00,subsystem-id=1462:8c96"
#define E3  "id=10de:1c82,iommugroup=31,node=pve3,path=0000:81:00,subsystem-id=1462:8c96"
/* pve1's audio function. */
#define A1 "id=10de:0fb9,iommugroup=14,node=pve1,path=0000:07:00.1,subsystem-id=1462:8c96"

static char base[256];
static char root[300];

/* --- fixtures ------------------------------------------------------------------ */

static char *under(const char *path)
{
	static char buf[4][700];
	static int next;
	char *out = buf[next++ % 4];
	snprintf(out, sizeof buf[0], "%s%s", root, path);
	return out;
}

/* A root from tests/fixtures/hosts/HOST.yml with fake-pvesh as /usr/bin/pvesh. */
static void host(const char *name)
{
	snprintf(root, sizeof root, "%s/root", base);
	char yml[600];
	snprintf(yml, sizeof yml, SOURCE_DIR "/tests/fixtures/hosts/%s.yml", name);
	const char *const mkroot[] = {SOURCE_DIR "/build/tools/mkroot", yml, root, NULL};
	tmptree_run(mkroot);
	const char *const mkdir[] = {"/bin/mkdir", "-p", under("/usr/bin"),
	                             under("/etc/pve/mapping"), NULL};
	tmptree_run(mkdir);
	const char *const install[] = {
	        "/usr/bin/install",      "-m", "0755", SOURCE_DIR "/build/tools/fake-pvesh",
	        under("/usr/bin/pvesh"), NULL};
	tmptree_run(install);
}

static int make_base(void **state)
{
	(void)state;
	return tmptree_make(base, sizeof base, "pve-pci-mapping") < 0 ? -1 : 0;
}

static int drop_base(void **state)
{
	(void)state;
	tmptree_remove(base);
	return 0;
}

/* The module's defaults for mapping NAME on this root. */
static struct pt_pve_pci_mapping_opts request(void)
{
	return (struct pt_pve_pci_mapping_opts){.root = root,
	                                        .pvesh = "/usr/bin/pvesh",
	                                        .name = NAME,
	                                        .present = true,
	                                        .timeout = 60,
	                                        .retries = 10,
	                                        .mdev = -1,
	                                        .live_migration = -1};
}

static char *cfg_text(void)
{
	char *text = NULL;
	return pt_file_read(under(PT_PVE_PCI_CFG), &text, NULL) == 0 ? text : NULL;
}

static void write_cfg(const char *text)
{
	tmptree_put(root, PT_PVE_PCI_CFG, text);
}

/* A current mapping NAME holding the given entries (NULL-terminated). */
static void current(struct pt_pve_current *cur, const char *const *entries)
{
	memset(cur, 0, sizeof *cur);
	cur->mapping.mdev = cur->mapping.live_migration = -1;
	if (!entries)
		return;
	cur->exists = true;
	cur->mapping.id = strdup(NAME);
	for (size_t i = 0; entries[i]; i++)
		assert_int_equal(pt_pve_mapping_add_map(&cur->mapping, entries[i]), 0);
	strcpy(cur->digest, "0123456789abcdef0123456789abcdef01234567");
}

/* Wanted entries as given (stored form), paths taken from them. */
static void wanted(struct pt_pve_wanted *w, const char *const *entries)
{
	memset(w, 0, sizeof *w);
	while (entries && entries[w->count])
		w->count++;
	w->entries = calloc(w->count + 1, sizeof *w->entries);
	w->paths = calloc(w->count + 1, sizeof *w->paths);
	if (!entries)
		return;
	for (size_t i = 0; i < w->count; i++) {
		struct pt_pve_map_entry e;
		assert_int_equal(pt_pve_map_entry_parse(entries[i], "", &e, NULL), 0);
		w->entries[i] = strdup(entries[i]);
		w->paths[i] = strdup(e.path);
		pt_pve_map_entry_release(&e);
	}
}

static void assert_map(const struct pt_pve_mapping *m, const char *const *expected)
{
	size_t n = 0;
	while (expected[n])
		n++;
	assert_int_equal(m->map_count, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(m->map[i], expected[i]);
}

static void assert_warning(const json_t *warnings, const char *text)
{
	size_t i;
	json_t *w;
	json_array_foreach (warnings, i, w)
		if (strstr(json_string_value(w), text))
			return;
	char *all = json_dumps(warnings, 0);
	fail_msg("no warning with \"%s\" in %s", text, all);
}

static void assert_contains(const char *text, const char *part)
{
	if (!text || !strstr(text, part))
		fail_msg("\"%s\" not in \"%s\"", part, text ? text : "(null)");
}

/* --- pvesh ------------------------------------------------------------------------ */

/* --- text and words ----------------------------------------------------------------- */

/* pvesh runs in a UTF-8 locale: under C it would turn each byte of a non-ASCII
 * character into U+FFFD (fails before: the environment said LC_ALL=C). */
static void test_pvesh_locale(void **state)
{
	(void)state;
	const char *env[] = {"/usr/bin/env", NULL};
	struct pt_exec_result res;
	assert_int_equal(pt_exec_in_locale(NULL, env, 30, PT_PVESH_LOCALE, &res), 0);
	assert_non_null(strstr(res.out, "LC_ALL=C.UTF-8\n"));
	assert_non_null(strstr(res.out, "LANG=C.UTF-8\n"));
	pt_exec_result_release(&res);
	/* other callers keep C */
	assert_int_equal(pt_exec(NULL, env, 30, &res), 0);
	assert_non_null(strstr(res.out, "LC_ALL=C\n"));
	pt_exec_result_release(&res);
	assert_int_equal(pt_exec_in_locale(NULL, env, 30, "C=x", &res), -EINVAL);
	pt_exec_result_release(&res);
	assert_int_equal(pt_exec_env_bytes_in_locale(PT_PVESH_LOCALE),
	                 pt_exec_env_bytes() + 2 * strlen(".UTF-8"));
}

/* The old Proxmox's answer to --live-migration-capable. */
static void test_unknown_option(void **state)
{
	(void)state;
	const char *err = "Unknown option: live-migration-capable\n400 unable to parse option\n"
	                  "pvesh set <api_path> [OPTIONS] [FORMAT_OPTIONS]\n";
	assert_true(pt_pvesh_unknown_option(err, "live-migration-capable"));
	assert_false(pt_pvesh_unknown_option(err, "mdev"));
	assert_false(pt_pvesh_unknown_option("Unknown option: live-migration-capablex\n",
	                                     "live-migration-capable"));
	assert_false(pt_pvesh_unknown_option(NULL, "mdev"));
}

/* A description with blanks around it is what Proxmox reads back without them
 * (fails before: the plan compared "  padded  " with "padded" and updated each
 * run); blanks only remove it. */
static void test_plan_trimmed_description(void **state)
{
	(void)state;
	struct pt_pve_pci_mapping_opts req = request();
	struct pt_pve_current cur;
	struct pt_pve_wanted w;
	struct pt_pve_plan plan;
	current(&cur, (const char *[]){E1, NULL});
	cur.mapping.description = strdup("padded");
	wanted(&w, (const char *[]){E1, NULL});
	req.description = "  padded \t";
	assert_int_equal(pt_pve_plan_make(&req, "pve1", &w, &cur, false, &plan), 0);
	assert_int_equal(plan.action, PT_PVE_NONE);
	pt_pve_plan_release(&plan);
	req.description = " \t ";
	assert_int_equal(pt_pve_plan_make(&req, "pve1", &w, &cur, false, &plan), 0);
	assert_int_equal(plan.action, PT_PVE_UPDATE);
	assert_null(plan.target.description);
	const char **argv = pt_pve_plan_command(&req, &plan, &cur, PT_PVESH_PCI_API "/" NAME);
	assert_non_null(argv);
	bool deletes = false;
	for (size_t i = 0; argv[i]; i++)
		deletes |=
		        strcmp(argv[i], "--delete") == 0 && strcmp(argv[i + 1], "description") == 0;
	assert_true(deletes);
	free(argv);
	pt_pve_plan_release(&plan);
	/* a new description is sent as it will be read back */
	req.description = "  new  ";
	assert_int_equal(pt_pve_plan_make(&req, "pve1", &w, &cur, false, &plan), 0);
	assert_string_equal(plan.target.description, "new");
	pt_pve_plan_release(&plan);
	pt_pve_wanted_release(&w);
	pt_pve_current_release(&cur);
}

static void assert_words(const struct pt_pve_pci_mapping_opts *req, const char *const *have,
                         const char *have_desc, const char *const *want, bool check_mode,
                         const char *expected)
{
	struct pt_pve_current cur;
	struct pt_pve_wanted w;
	struct pt_pve_plan plan;
	current(&cur, have);
	if (have_desc)
		cur.mapping.description = strdup(have_desc);
	wanted(&w, want);
	assert_int_equal(pt_pve_plan_make(req, "pve1", &w, &cur, false, &plan), 0);
	struct pt_pve_pci_mapping_opts o = *req;
	o.check = check_mode;
	char *words = pt_pve_plan_describe(&o, "pve1", &cur, &plan);
	assert_string_equal(words, expected);
	free(words);
	pt_pve_plan_release(&plan);
	pt_pve_wanted_release(&w);
	pt_pve_current_release(&cur);
}

/* The result's msg in words (fails before: there was no msg; the role printed
 * "Mapping NAME (none): ..."). */
static void test_plan_in_words(void **state)
{
	(void)state;
	struct pt_pve_pci_mapping_opts req = request();
	const char *const mine[] = {E1, NULL};
	assert_words(&req, NULL, NULL, mine, false,
	             "created mapping " NAME " with node pve1's entry 0000:07:00 (10de:1c82, "
	             "IOMMU group 14)");
	assert_words(&req, NULL, NULL, mine, true,
	             "would create mapping " NAME " with node pve1's entry 0000:07:00 "
	             "(10de:1c82, IOMMU group 14)");
	assert_words(&req, (const char *[]){E2, E1, NULL}, NULL, mine, false,
	             "no change: mapping " NAME " already has node pve1's entry 0000:07:00 "
	             "(10de:1c82, IOMMU group 14)");
	assert_words(&req, (const char *[]){E2, NULL}, NULL, (const char *[]){E1, A1, NULL}, false,
	             "updated mapping " NAME ": node pve1's entries 0000:07:00 (10de:1c82, IOMMU "
	             "group 14), 0000:07:00.1 (10de:0fb9, IOMMU group 14) set, other nodes' "
	             "entries kept");
	req.description = "GTX";
	req.mdev = 1;
	assert_words(&req, mine, "old", mine, false,
	             "updated mapping " NAME ": description set to 'GTX'; mdev set to 1");
	req = request();
	req.present = false;
	assert_words(&req, (const char *[]){E2, E1, NULL}, NULL, NULL, false,
	             "updated mapping " NAME ": node pve1's entries removed, other nodes' "
	             "entries kept");
	assert_words(&req, mine, NULL, NULL, true,
	             "would remove mapping " NAME ": node pve1's entries were the last in it");
	assert_words(&req, (const char *[]){E2, NULL}, NULL, NULL, false,
	             "no change: mapping " NAME " has no entry for node pve1");
	assert_words(&req, NULL, NULL, NULL, false, "no change: there is no mapping " NAME);
	req = request();
	req.exact = true;
	assert_words(&req, NULL, NULL, (const char *[]){E1, E2, E3, NULL}, false,
	             "created mapping " NAME " with 3 entries (node pve1, pve2, pve3)");
	req.present = false;
	assert_words(&req, mine, NULL, NULL, false, "removed mapping " NAME);
}

static void test_error_line_and_race(void **state)
{
	(void)state;
	char *line = pt_pvesh_error_line("trying to acquire cfs lock 'file-mapping_pci' ...\n\n"
	                                 "update hardware mapping failed: detected modified "
	                                 "configuration\nsecond line\n");
	assert_string_equal(line,
	                    "update hardware mapping failed: detected modified configuration");
	free(line);
	line = pt_pvesh_error_line(NULL);
	assert_string_equal(line, "(no error output)");
	free(line);
	line = pt_pvesh_error_line("\n\n");
	assert_string_equal(line, "(no error output)");
	free(line);

	assert_true(pt_pvesh_lost_race("update hardware mapping failed: detected modified "
	                               "configuration - file changed by other user? Try again.\n"));
	assert_true(pt_pvesh_lost_race("create hardware mapping failed: pci ID 'gpu' already "
	                               "defined\n"));
	assert_true(pt_pvesh_lost_race("got lock request timeout\n"));
	assert_false(pt_pvesh_lost_race("unknown section type ''\n"));
	assert_false(pt_pvesh_lost_race(NULL));
	assert_string_equal(pt_pve_action_name(PT_PVE_UPDATE), "update");
}

/* --- the request ------------------------------------------------------------------ */

/* Check req: the return code, the node reported, and a part of the message. */
static void check(const struct pt_pve_pci_mapping_opts *req, int expect_rc, const char *node,
                  const char *msg_part)
{
	char *got_node = NULL;
	struct pt_report rep;
	pt_report_init(&rep);
	int rc = pt_pve_opts_check(req, &got_node, &rep);
	assert_int_equal(rc, expect_rc);
	if (node)
		assert_string_equal(got_node, node);
	else
		assert_null(got_node);
	if (msg_part)
		assert_contains(rep.msg, msg_part);
	else
		assert_null(rep.msg);
	free(got_node);
	pt_report_release(&rep);
}

static void test_request_checks(void **state)
{
	(void)state;
	host("pve1-gtx1050ti");
	struct pt_pve_pci_mapping_opts req = request();
	check(&req, 0, "pve1", NULL); /* from <root>/etc/hostname */

	req.name = "1gpu";
	check(&req, -EINVAL, NULL, "name '1gpu' is not a valid Proxmox mapping ID");
	req = request();
	req.node = "-pve1";
	check(&req, -EINVAL, "-pve1", "node '-pve1' is not a valid Proxmox node name");
	req = request();
	req.description = "two\nlines";
	check(&req, -EINVAL, "pve1", "description must be one line");
	req = request();
	req.retries = -1;
	check(&req, -EINVAL, "pve1", "retries must be 0 or more");

	json_t *list = json_array();
	req = request();
	req.exact = true;
	req.devices = list;
	check(&req, -EINVAL, "pve1", "devices is only used with map_mode=node");
	req = request();
	req.map = list;
	check(&req, -EINVAL, "pve1", "map is only used with map_mode=exact");
	json_decref(list);

	req = request();
	req.pvesh = "/usr/sbin/pvesh";
	char where[700];
	snprintf(where, sizeof where, "pvesh is not at %s/usr/sbin/pvesh", root);
	check(&req, -ENOENT, "pve1", where);

	unlink(under("/etc/hostname"));
	req = request();
	snprintf(where, sizeof where,
	         "cannot tell the local node name (%s/etc/hostname is missing or unreadable); "
	         "set the node option",
	         root);
	check(&req, -EINVAL, NULL, where);
	req.node = "pve1";
	check(&req, 0, "pve1", NULL);
}

/* --- the wanted entries ------------------------------------------------------------- */

/* Build the wanted entries for req on pve1 into rep (fresh: initialised here;
 * release it); returns the code. */
static int build(const struct pt_pve_pci_mapping_opts *req, struct pt_pve_wanted *w,
                 struct pt_report *rep)
{
	pt_report_init(rep);
	struct pt_pve_hw hw;
	pt_pve_hw_init(&hw, root);
	int rc = pt_pve_wanted_build(req, "pve1", &hw, w, rep);
	pt_pve_hw_release(&hw);
	return rc;
}

static void expect_devices_error(const char *devices, const char *msg_part)
{
	struct pt_pve_pci_mapping_opts req = request();
	json_t *list = json_loads(devices, 0, NULL);
	req.devices = list;
	struct pt_pve_wanted w;
	struct pt_report rep;
	assert_true(build(&req, &w, &rep) < 0);
	assert_contains(rep.msg, msg_part);
	pt_report_release(&rep);
	pt_pve_wanted_release(&w);
	json_decref(list);
}

static void test_wanted_from_devices(void **state)
{
	(void)state;
	host("pve1-gtx1050ti");
	struct pt_pve_pci_mapping_opts req = request();
	json_t *list = json_loads("[\"0000:07:00\", \"07:00.1\"]", 0, NULL);
	req.devices = list;
	struct pt_pve_wanted w;
	struct pt_report rep;
	assert_int_equal(build(&req, &w, &rep), 0);
	assert_null(rep.msg);
	assert_int_equal(w.count, 2);
	assert_string_equal(w.entries[0], E1);
	assert_string_equal(w.paths[0], "0000:07:00");
	assert_string_equal(w.entries[1], A1);
	assert_string_equal(w.paths[1], "0000:07:00.1");
	assert_int_equal(json_array_size(rep.warnings), 0);
	pt_report_release(&rep);
	pt_pve_wanted_release(&w);
	json_decref(list);

	/* state=absent in map_mode=node: no entries, devices not even looked at. */
	req = request();
	req.present = false;
	list = json_loads("[\"gpu0\"]", 0, NULL);
	req.devices = list;
	assert_int_equal(build(&req, &w, &rep), 0);
	assert_int_equal(w.count, 0);
	assert_int_equal(json_array_size(rep.warnings), 0);
	pt_report_release(&rep);
	pt_pve_wanted_release(&w);
	json_decref(list);

	expect_devices_error("[]", "devices is required with state=present and map_mode=node");
	expect_devices_error("[\"gpu0\"]", "devices[0] 'gpu0' is not a PCI address: write "
	                                   "0000:07:00 for a whole slot");
	expect_devices_error("[\"0000:07:00\", \"07:00\"]",
	                     "devices[1] '07:00': 0000:07:00 is listed twice in devices");
	char text[800];
	snprintf(text, sizeof text,
	         "devices[0] '0000:09:00': there is no device 0000:09:00.0 (function 0 of slot "
	         "0000:09:00) in %s/sys/bus/pci/devices; check the address with `lspci -D`",
	         root);
	expect_devices_error("[\"0000:09:00\"]", text);
	expect_devices_error("[\"0000:07:00.7\"]", "there is no device 0000:07:00.7 in");
}

static void test_wanted_from_map(void **state)
{
	(void)state;
	host("pve1-gtx1050ti");
	struct pt_pve_pci_mapping_opts req = request();
	req.exact = true;
	/* The local entry without id is completed from the hardware; the other stays. */
	json_t *map =
	        json_loads("[{\"node\": \"pve1\", \"path\": \"0000:07:00\"},"
	                   " {\"node\": \"pve2\", \"path\": \"0000:02:00\", \"id\": "
	                   "\"10de:1c82\", \"subsystem_id\": \"1462:8c96\", \"iommugroup\": 9,"
	                   " \"description\": \"spare\"}]",
	                   0, NULL);
	req.map = map;
	struct pt_pve_wanted w;
	struct pt_report rep;
	assert_int_equal(build(&req, &w, &rep), 0);
	assert_int_equal(w.count, 2);
	assert_string_equal(w.entries[0], E1);
	assert_string_equal(w.entries[1], "description=spare," E2);
	assert_int_equal(json_array_size(rep.warnings), 0);
	pt_report_release(&rep);
	pt_pve_wanted_release(&w);
	json_decref(map);

	/* An entry for this node that does not match the hardware: a warning. */
	map = json_loads("[{\"node\": \"pve1\", \"path\": \"0000:07:00.1\", \"id\": \"10de:1c82\", "
	                 "\"iommugroup\": 14}]",
	                 0, NULL);
	req.map = map;
	assert_int_equal(build(&req, &w, &rep), 0);
	assert_warning(rep.warnings, "map[0] for this node (pve1) does not match the hardware: "
	                             "'id' does not match for 'gpu-gtx1050ti' (10de:0fb9 != "
	                             "10de:1c82); Proxmox will refuse to start VMs with it");
	pt_report_release(&rep);
	pt_pve_wanted_release(&w);
	json_decref(map);

	/* Every schema problem in one message, in order. */
	map = json_loads("[{\"node\": \"pve2\", \"path\": \"0000:02:00\"},"
	                 " {\"node\": \"pve3\", \"path\": \"07:00.0\", \"id\": \"10de-1c82\","
	                 " \"description\": \"a,b\"},"
	                 " {\"node\": \"pve1\", \"path\": \"0000:07:00.0;0000:08:00.0\"}]",
	                 0, NULL);
	req.map = map;
	assert_true(build(&req, &w, &rep) < 0);
	assert_string_equal(
	        rep.msg,
	        "map[0] (node pve2) needs id: Proxmox requires the vendor:device ID, and the "
	        "module reads it from the hardware only for the local node (pve1); "
	        "map[1].path '07:00.0' is not a path Proxmox accepts: write the domain and "
	        "lowercase hex, 0000:07:00 (whole slot) or 0000:07:00.0 (one function), "
	        "several joined by ';'; map[1].id '10de-1c82' is not a vendor:device ID like "
	        "10de:1c82; map[1].description must not contain commas or line breaks "
	        "(Proxmox splits map entries at commas); map[2] (node pve1) needs id when "
	        "path lists several devices");
	pt_report_release(&rep);
	pt_pve_wanted_release(&w);
	json_decref(map);

	/* state=present needs a map; state=absent does not. */
	req.map = NULL;
	assert_true(build(&req, &w, &rep) < 0);
	assert_contains(rep.msg, "map is required with state=present and map_mode=exact");
	pt_report_release(&rep);
	req.present = false;
	assert_int_equal(build(&req, &w, &rep), 0);
	assert_int_equal(w.count, 0);
	pt_report_release(&rep);
}

static void test_wanted_iommu_off(void **state)
{
	(void)state;
	host("datacenter-gpu-iommu-off");
	struct pt_pve_pci_mapping_opts req = request();
	json_t *list = json_loads("[\"0000:3b:00\"]", 0, NULL);
	req.devices = list;
	struct pt_pve_wanted w;
	struct pt_report rep;
	assert_int_equal(build(&req, &w, &rep), 0);
	assert_int_equal(w.count, 1);
	assert_string_equal(w.entries[0],
	                    "id=10de:20b0,node=pve1,path=0000:3b:00,subsystem-id=10de:134f");
	assert_warning(rep.warnings, "devices[0] '0000:3b:00': device 0000:3b:00.0 is in no IOMMU "
	                             "group, so the IOMMU looks off");
	pt_report_release(&rep);
	pt_pve_wanted_release(&w);
	json_decref(list);
}

/* --- the plan ------------------------------------------------------------------------- */

/* Plan req with the wanted entries against the current ones (NULL: no mapping). */
static enum pt_pve_action plan_of(const struct pt_pve_pci_mapping_opts *req,
                                  const char *const *want, const char *const *have, bool hw_failing,
                                  struct pt_pve_plan *plan)
{
	struct pt_pve_current cur;
	struct pt_pve_wanted w;
	current(&cur, have);
	wanted(&w, want);
	assert_int_equal(pt_pve_plan_make(req, "pve1", &w, &cur, hw_failing, plan), 0);
	pt_pve_wanted_release(&w);
	pt_pve_current_release(&cur);
	return plan->action;
}

static void test_plan_node_mode(void **state)
{
	(void)state;
	struct pt_pve_pci_mapping_opts req = request();
	struct pt_pve_plan plan;

	req.description = "GTX 1050 Ti";
	assert_int_equal(plan_of(&req, (const char *[]){E1, NULL}, NULL, false, &plan),
	                 PT_PVE_CREATE);
	assert_string_equal(plan.target.id, NAME);
	assert_map(&plan.target, (const char *[]){E1, NULL});
	assert_string_equal(plan.target.description, "GTX 1050 Ti");
	pt_pve_plan_release(&plan);

	/* This node's entry is replaced in place; the others stay as stored. */
	req = request();
	const char *stale = "id=10de:1c82,iommugroup=13,node=pve1,path=0000:07:00.0";
	assert_int_equal(plan_of(&req, (const char *[]){E1F, NULL},
	                         (const char *[]){E2, stale, E3, NULL}, false, &plan),
	                 PT_PVE_UPDATE);
	assert_map(&plan.target, (const char *[]){E2, E1F, E3, NULL});
	pt_pve_plan_release(&plan);

	/* Another spelling of the same entry, with a per-entry description set in the web
	 * interface: nothing to do, and the mapping is reported as stored. */
	const char *spelled = "node=pve1,path=0000:07:00.0,id=10DE:1C82,subsystem-id=1462:8c96,"
	                      "iommugroup=014,description=spare card";
	assert_int_equal(plan_of(&req, (const char *[]){E1F, NULL},
	                         (const char *[]){E2, spelled, NULL}, false, &plan),
	                 PT_PVE_NONE);
	assert_map(&plan.target, (const char *[]){E2, spelled, NULL});
	pt_pve_plan_release(&plan);
	/* ... unless that entry fails Proxmox's check at VM start: then it is rewritten,
	 * keeping its description. */
	assert_int_equal(plan_of(&req, (const char *[]){E1F, NULL},
	                         (const char *[]){E2, spelled, NULL}, true, &plan),
	                 PT_PVE_UPDATE);
	assert_map(&plan.target, (const char *[]){E2, "description=spare card," E1F, NULL});
	pt_pve_plan_release(&plan);

	/* Unset flags and 0 mean the same to Proxmox. */
	req.mdev = 0;
	assert_int_equal(
	        plan_of(&req, (const char *[]){E1, NULL}, (const char *[]){E1, NULL}, false, &plan),
	        PT_PVE_NONE);
	pt_pve_plan_release(&plan);
	req.mdev = 1;
	assert_int_equal(
	        plan_of(&req, (const char *[]){E1, NULL}, (const char *[]){E1, NULL}, false, &plan),
	        PT_PVE_UPDATE);
	assert_int_equal(plan.target.mdev, 1);
	pt_pve_plan_release(&plan);

	/* state=absent: this node's entries go; the last one takes the mapping along. */
	req = request();
	req.present = false;
	assert_int_equal(plan_of(&req, NULL, (const char *[]){E2, E1, NULL}, false, &plan),
	                 PT_PVE_UPDATE);
	assert_map(&plan.target, (const char *[]){E2, NULL});
	pt_pve_plan_release(&plan);
	assert_int_equal(plan_of(&req, NULL, (const char *[]){E1, NULL}, false, &plan),
	                 PT_PVE_DELETE);
	pt_pve_plan_release(&plan);
	assert_int_equal(plan_of(&req, NULL, (const char *[]){E2, NULL}, false, &plan),
	                 PT_PVE_NONE);
	pt_pve_plan_release(&plan);
	assert_int_equal(plan_of(&req, NULL, NULL, false, &plan), PT_PVE_NONE);
	assert_null(plan.target.id);
	pt_pve_plan_release(&plan);
}

static void test_plan_exact_and_commands(void **state)
{
	(void)state;
	struct pt_pve_pci_mapping_opts req = request();
	req.exact = true;
	struct pt_pve_plan plan;
	assert_int_equal(plan_of(&req, (const char *[]){E2, E1, NULL},
	                         (const char *[]){E1, E3, NULL}, false, &plan),
	                 PT_PVE_UPDATE);
	assert_map(&plan.target, (const char *[]){E2, E1, NULL});
	pt_pve_plan_release(&plan);
	/* Order does not count. */
	assert_int_equal(plan_of(&req, (const char *[]){E2, E1, NULL},
	                         (const char *[]){E1, E2, NULL}, false, &plan),
	                 PT_PVE_NONE);
	pt_pve_plan_release(&plan);

	/* The commands: create with --id, set with the whole list and the digest, delete. */
	req = request();
	req.description = "";
	req.mdev = 1;
	req.live_migration = 0;
	const char *api = PT_PVESH_PCI_API "/" NAME;
	struct pt_pve_current cur;
	struct pt_pve_wanted w;
	current(&cur, NULL);
	wanted(&w, (const char *[]){E1, NULL});
	assert_int_equal(pt_pve_plan_make(&req, "pve1", &w, &cur, false, &plan), 0);
	const char **argv = pt_pve_plan_command(&req, &plan, &cur, api);
	char *cmd = pt_exec_cmdline(argv);
	assert_string_equal(cmd, "/usr/bin/pvesh create /cluster/mapping/pci --id " NAME
	                         " --map " E1 " --mdev 1 --live-migration-capable 0");
	free(cmd);
	free(argv);
	pt_pve_plan_release(&plan);
	pt_pve_current_release(&cur);

	current(&cur, (const char *[]){E2, E1, NULL});
	cur.mapping.description = strdup("old");
	assert_int_equal(pt_pve_plan_make(&req, "pve1", &w, &cur, false, &plan), 0);
	assert_int_equal(plan.action, PT_PVE_UPDATE);
	argv = pt_pve_plan_command(&req, &plan, &cur, api);
	cmd = pt_exec_cmdline(argv);
	assert_string_equal(cmd, "/usr/bin/pvesh set /cluster/mapping/pci/" NAME " --map " E2
	                         " --map " E1 " --delete description --mdev 1 "
	                         "--live-migration-capable 0 --digest "
	                         "0123456789abcdef0123456789abcdef01234567");
	free(cmd);
	free(argv);
	pt_pve_plan_release(&plan);
	pt_pve_current_release(&cur);
	pt_pve_wanted_release(&w);

	req = request();
	req.exact = true;
	req.present = false;
	current(&cur, (const char *[]){E1, NULL});
	wanted(&w, NULL);
	assert_int_equal(pt_pve_plan_make(&req, "pve1", &w, &cur, false, &plan), 0);
	assert_int_equal(plan.action, PT_PVE_DELETE);
	argv = pt_pve_plan_command(&req, &plan, &cur, api);
	cmd = pt_exec_cmdline(argv);
	assert_string_equal(cmd, "/usr/bin/pvesh delete /cluster/mapping/pci/" NAME);
	free(cmd);
	free(argv);
	pt_pve_plan_release(&plan);
	pt_pve_current_release(&cur);
	pt_pve_wanted_release(&w);
}

static void test_check_existing(void **state)
{
	(void)state;
	host("pve1-gtx1050ti");
	struct pt_pve_pci_mapping_opts req = request();
	struct pt_pve_hw hw;
	pt_pve_hw_init(&hw, root);
	struct pt_pve_current cur;
	current(&cur, (const char *[]){E2,
	                               "id=10de:1c82,iommugroup=13,node=pve1,path=0000:07:00.0,"
	                               "subsystem-id=1462:8c96",
	                               NULL});
	struct pt_report rep;
	pt_report_init(&rep);
	assert_true(pt_pve_plan_check_existing(&req, "pve1", &cur, &hw, &rep));
	assert_int_equal(json_array_size(rep.warnings), 1);
	assert_warning(rep.warnings,
	               "mapping 'gpu-gtx1050ti': the entry for node pve1 at 0000:07:00.0 fails "
	               "Proxmox's check at VM start ('iommugroup' does not match for "
	               "'gpu-gtx1050ti' (14 != 13)), hardware probably changed; the entry is "
	               "corrected from the hardware");
	/* Warned once: later reads of the same run pass NULL. */
	assert_true(pt_pve_plan_check_existing(&req, "pve1", &cur, &hw, NULL));
	assert_int_equal(json_array_size(rep.warnings), 1);
	/* Other nodes' entries are not this host's hardware. */
	assert_false(pt_pve_plan_check_existing(&req, "pve3", &cur, &hw, &rep));
	pt_pve_current_release(&cur);
	current(&cur, (const char *[]){E1, E2, NULL});
	assert_false(pt_pve_plan_check_existing(&req, "pve1", &cur, &hw, &rep));
	assert_int_equal(json_array_size(rep.warnings), 1);
	pt_pve_current_release(&cur);
	pt_report_release(&rep);
	pt_pve_hw_release(&hw);
}

/* --- whole runs against fake-pvesh ------------------------------------------------------ */

/* One whole run of req, in check mode or not, into res (release it). */
static int run(struct pt_pve_pci_mapping_opts req, bool check,
               struct pt_pve_pci_mapping_result *res)
{
	req.check = check;
	return pt_pve_pci_mapping_run(&req, res);
}

/* The run's diff of the mapping's section: its "before" or "after" text, NULL when
 * there is no diff. Borrowed from res. */
static const char *diff_text(const struct pt_pve_pci_mapping_result *res, const char *side)
{
	return json_string_value(json_object_get(json_array_get(res->report.diffs, 0), side));
}

/* Another node's entry and the mapping's description hold Latin-1 text (as pvesh
 * stores ü): this node's run passes them back and they stay byte for byte, and a
 * second run changes nothing (fails before: pvesh ran under LC_ALL=C, which turned
 * each byte of ü into U+FFFD in every entry the run passed back). */
static void test_sync_keeps_other_text(void **state)
{
	(void)state;
	host("pve1-gtx1050ti");
	write_cfg(NAME "\n\tmap description=L\xfc"
	               "fter," E2 "\n\tdescription f\xfcr\n\n");
	json_t *devices = json_loads("[\"0000:07:00\"]", 0, NULL);
	struct pt_pve_pci_mapping_opts req = request();
	req.devices = devices;
	struct pt_pve_pci_mapping_result out;
	assert_int_equal(run(req, false, &out), 0);
	assert_int_equal(out.action, PT_PVE_UPDATE);
	pt_pve_pci_mapping_result_release(&out);
	char *text = cfg_text();
	assert_string_equal(text, NAME "\n\tmap description=L\xfc"
	                               "fter," E2 "\n\tmap " E1 "\n\tdescription f\xfcr\n\n");
	free(text);
	assert_int_equal(run(req, false, &out), 0);
	assert_int_equal(out.action, PT_PVE_NONE);
	assert_string_equal(json_string_value(json_object_get(out.mapping, "description")),
	                    "f\xc3\xbcr");
	pt_pve_pci_mapping_result_release(&out);
	/* A description to set with the same characters: stored as Latin-1, then no change. */
	req.description = "  Grüße  ";
	assert_int_equal(run(req, false, &out), 0);
	assert_int_equal(out.action, PT_PVE_UPDATE);
	pt_pve_pci_mapping_result_release(&out);
	assert_int_equal(run(req, false, &out), 0);
	assert_int_equal(out.action, PT_PVE_NONE);
	pt_pve_pci_mapping_result_release(&out);
	text = cfg_text();
	assert_non_null(strstr(text, "\tdescription Gr\xfc\xdf"
	                             "e\n"));
	free(text);
	json_decref(devices);
}

static void test_sync_create_noop_remove(void **state)
{
	(void)state;
	host("pve1-gtx1050ti");
	json_t *devices = json_loads("[\"0000:07:00\"]", 0, NULL);
	struct pt_pve_pci_mapping_opts req = request();
	req.devices = devices;
	req.description = "GTX 1050 Ti";
	struct pt_pve_pci_mapping_result out;

	/* Check mode predicts the create and writes nothing. */
	assert_int_equal(run(req, true, &out), 0);
	assert_int_equal(out.action, PT_PVE_CREATE);
	assert_string_equal(out.node, "pve1");
	assert_string_equal(diff_text(&out, "path"), PT_PVE_PCI_CFG " [" NAME "]");
	assert_string_equal(diff_text(&out, "before"), "");
	assert_string_equal(diff_text(&out, "after"),
	                    NAME "\n\tmap " E1 "\n\tdescription GTX 1050 Ti\n\n");
	assert_int_equal(json_array_size(out.commands), 0);
	assert_int_equal(json_object_size(out.report.facts), 0);
	assert_string_equal(
	        json_string_value(json_array_get(json_object_get(out.mapping, "map"), 0)), E1);
	assert_null(json_object_get(out.mapping, "type"));
	assert_false(pt_path_exists(under(PT_PVE_PCI_CFG)));
	pt_pve_pci_mapping_result_release(&out);

	/* The real run writes what check mode predicted. */
	assert_int_equal(run(req, false, &out), 0);
	assert_int_equal(out.action, PT_PVE_CREATE);
	assert_int_equal(out.retries, 0);
	assert_int_equal(json_array_size(out.commands), 1);
	assert_string_equal(json_string_value(json_array_get(json_array_get(out.commands, 0), 1)),
	                    "create");
	char *text = cfg_text();
	assert_string_equal(text, NAME "\n\tmap " E1 "\n\tdescription GTX 1050 Ti\n\n");
	free(text);
	pt_pve_pci_mapping_result_release(&out);

	/* Again: nothing to do, no diff, the mapping as stored. */
	assert_int_equal(run(req, false, &out), 0);
	assert_int_equal(out.action, PT_PVE_NONE);
	assert_int_equal(json_array_size(out.report.diffs), 0);
	assert_int_equal(json_array_size(out.commands), 0);
	assert_string_equal(json_string_value(json_object_get(out.mapping, "description")),
	                    "GTX 1050 Ti");
	pt_pve_pci_mapping_result_release(&out);

	/* state=absent: the last node's entries take the mapping along. */
	req = request();
	req.present = false;
	assert_int_equal(run(req, false, &out), 0);
	assert_int_equal(out.action, PT_PVE_DELETE);
	assert_true(json_is_null(out.mapping));
	assert_string_equal(diff_text(&out, "after"), "");
	text = cfg_text();
	assert_string_equal(text, "");
	free(text);
	pt_pve_pci_mapping_result_release(&out);
	assert_int_equal(run(req, false, &out), 0);
	assert_int_equal(out.action, PT_PVE_NONE);
	assert_true(json_is_null(out.mapping));
	pt_pve_pci_mapping_result_release(&out);
	json_decref(devices);
}

static void test_sync_failures(void **state)
{
	(void)state;
	host("pve1-gtx1050ti");
	json_t *devices = json_loads("[\"0000:07:00\"]", 0, NULL);
	struct pt_pve_pci_mapping_opts req = request();
	req.devices = devices;
	struct pt_pve_pci_mapping_result out;

	/* A section Proxmox cannot write back: pvesh's refusal, its warnings, the call. */
	write_cfg("broken\n\tmap id=10de:1c82,node=pve1,path=7:00\n");
	assert_true(run(req, false, &out) < 0);
	assert_contains(out.report.msg, "/usr/bin/pvesh create /cluster/mapping/pci --id " NAME);
	assert_contains(out.report.msg, "failed (rc 255): file /etc/pve/mapping/pci.cfg line 2");
	assert_contains(json_string_value(json_object_get(out.report.facts, "stderr")),
	                "create hardware mapping failed: unknown section type ''");
	assert_int_equal(json_integer_value(json_object_get(out.report.facts, "rc")), 255);
	assert_string_equal(
	        json_string_value(json_array_get(json_object_get(out.report.facts, "cmd"), 1)),
	        "create");
	assert_warning(out.report.warnings, "pvesh: file /etc/pve/mapping/pci.cfg line 2 (section "
	                                    "'broken')");
	assert_string_equal(out.node, "pve1");
	pt_pve_pci_mapping_result_release(&out);

	/* pvesh get prints something that is not a mapping (the recording stub as
	 * pvesh, with canned output): said so, with the call in the result. */
	const char *const stub[] = {
	        "/usr/bin/install",      "-m", "0755", SOURCE_DIR "/build/tools/record-cmd",
	        under("/usr/bin/pvesh"), NULL};
	tmptree_run(stub);
	tmptree_put(root, "/etc/record-cmd/pvesh.get.out", "[1]\n");
	assert_true(run(req, true, &out) < 0);
	assert_string_equal(out.report.msg,
	                    "pvesh get /cluster/mapping/pci/" NAME " returned what is "
	                    "not a mapping: pvesh returned a list where a mapping "
	                    "object was expected");
	assert_int_equal(json_integer_value(json_object_get(out.report.facts, "rc")), 0);
	assert_string_equal(json_string_value(json_object_get(out.report.facts, "stdout")),
	                    "[1]\n");
	pt_pve_pci_mapping_result_release(&out);
	json_decref(devices);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_error_line_and_race),
	        cmocka_unit_test(test_pvesh_locale),
	        cmocka_unit_test(test_unknown_option),
	        cmocka_unit_test(test_plan_trimmed_description),
	        cmocka_unit_test(test_plan_in_words),
	        cmocka_unit_test_setup_teardown(test_request_checks, make_base, drop_base),
	        cmocka_unit_test_setup_teardown(test_wanted_from_devices, make_base, drop_base),
	        cmocka_unit_test_setup_teardown(test_wanted_from_map, make_base, drop_base),
	        cmocka_unit_test_setup_teardown(test_wanted_iommu_off, make_base, drop_base),
	        cmocka_unit_test(test_plan_node_mode),
	        cmocka_unit_test(test_plan_exact_and_commands),
	        cmocka_unit_test_setup_teardown(test_check_existing, make_base, drop_base),
	        cmocka_unit_test_setup_teardown(test_sync_create_noop_remove, make_base, drop_base),
	        cmocka_unit_test_setup_teardown(test_sync_keeps_other_text, make_base, drop_base),
	        cmocka_unit_test_setup_teardown(test_sync_failures, make_base, drop_base),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
