/* pve_pci_mapping's limits, and how it reads pvesh's answers (issue 8):
 * - the mapping ID's length (Proxmox sets no limit; the module allows 128);
 * - the same device (node and paths) twice in map, refused naming both entries;
 * - an argument vector too large for one execve (an argument over the kernel's
 *   MAX_ARG_STRLEN, or all of them over the argument space), refused before pvesh
 *   runs and alike in check mode and in the real run;
 * - a pvesh get that did not run (not executable, killed, timed out, arguments
 *   too long) or failed otherwise is a failure naming the command and its error
 *   output, never "there is no such mapping": only Proxmox's own answer is.
 * The runs go against sandbox roots holding only what they need: fake-pvesh
 * (tests/pve/README.md) or record-cmd (canned exit codes and error output) as
 * /usr/bin/pvesh. The entries are for other nodes than the local one (pve1), so
 * no hardware is read. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <valgrind/valgrind.h>

#include "exec.h"
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

#define NAME "gpu"
#define API  PT_PVESH_PCI_API "/" NAME
#define GET  "/usr/bin/pvesh get " API " --output-format json"

static char base[256];
static char root[300];

/* root/rel; four at a time. */
static const char *under(const char *rel)
{
	static char buf[4][700];
	static int next;
	char *out = buf[next++ % 4];
	snprintf(out, sizeof buf[0], "%s%s", root, rel);
	return out;
}

/* build/tools/TOOL as /usr/bin/pvesh in the root. */
static void pvesh_is(const char *tool)
{
	char src[600];
	snprintf(src, sizeof src, SOURCE_DIR "/build/tools/%s", tool);
	const char *const install[] = {"/usr/bin/install",      "-m", "0755", src,
	                               under("/usr/bin/pvesh"), NULL};
	tmptree_run(install);
}

/* A root with an empty /etc/pve/mapping and fake-pvesh as pvesh. */
static int make_root(void **state)
{
	(void)state;
	int r = tmptree_make(base, sizeof base, "pve-mapping-limits");
	if (r < 0)
		return r;
	snprintf(root, sizeof root, "%s/root", base);
	tmptree_mkdirs(under("/usr/bin"));
	tmptree_mkdirs(under("/etc/pve/mapping"));
	pvesh_is("fake-pvesh");
	return 0;
}

static int drop_root(void **state)
{
	(void)state;
	return tmptree_remove(base);
}

/* The module's defaults for mapping NAME on this root, as node pve1. */
static struct pt_pve_pci_mapping_opts request(void)
{
	return (struct pt_pve_pci_mapping_opts){.root = root,
	                                        .pvesh = "/usr/bin/pvesh",
	                                        .name = NAME,
	                                        .node = "pve1",
	                                        .present = true,
	                                        .exact = true,
	                                        .timeout = 60,
	                                        .retries = 10,
	                                        .mdev = -1,
	                                        .live_migration = -1};
}

static void assert_contains(const char *text, const char *part)
{
	if (!text || !strstr(text, part))
		fail_msg("\"%s\" not in \"%s\"", part, text ? text : "(null)");
}

/* Under valgrind a child whose execve fails cannot go on (valgrind's own rule: it
 * stops the child instead of returning the error), so the checks that need the
 * kernel to refuse an execve run only outside it. */
static bool exec_may_fail(void)
{
	return !RUNNING_ON_VALGRIND;
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* The calls fake-pvesh has logged, "" when none. Caller frees. */
static char *pvesh_log(void)
{
	return exists(under("/var/log/fake-pvesh.log"))
	               ? tmptree_read(under("/var/log/fake-pvesh.log"))
	               : strdup("");
}

/* --- the mapping ID ----------------------------------------------------------------- */

static char *repeated(const char *unit, size_t times)
{
	size_t n = strlen(unit);
	char *s = malloc(n * times + 1);
	assert_non_null(s);
	for (size_t i = 0; i < times; i++)
		memcpy(s + i * n, unit, n);
	s[n * times] = '\0';
	return s;
}

static void test_name_length(void **state)
{
	(void)state;
	struct pt_pve_pci_mapping_opts req = request();
	req.exact = false;
	char *node = NULL;
	struct pt_report rep;

	/* At the limit: fine. */
	char *name = repeated("g", PT_PVE_NAME_MAX);
	req.name = name;
	pt_report_init(&rep);
	assert_int_equal(pt_pve_opts_check(&req, &node, &rep), 0);
	assert_null(rep.msg);
	pt_report_release(&rep);
	free(node);
	free(name);

	/* One over: the option, the length and the limit, and what to do. */
	name = repeated("g", PT_PVE_NAME_MAX + 1);
	req.name = name;
	pt_report_init(&rep);
	assert_int_equal(pt_pve_opts_check(&req, &node, &rep), -EINVAL);
	assert_string_equal(rep.msg, "name is 129 characters long; the module allows at most 128 "
	                             "(Proxmox sets no limit, but the ID goes into every VM "
	                             "config, ACL path and API call that uses the mapping): "
	                             "choose a shorter name");
	assert_null(node);
	pt_report_release(&rep);
	free(name);

	/* Characters, not bytes; checked before the pattern, so a huge name is never
	 * echoed back. */
	name = repeated("\xc3\xbc", PT_PVE_NAME_MAX + 1);
	req.name = name;
	pt_report_init(&rep);
	assert_int_equal(pt_pve_opts_check(&req, &node, &rep), -EINVAL);
	assert_contains(rep.msg, "name is 129 characters long");
	pt_report_release(&rep);
	free(name);
	name = repeated("g", 1024 * 1024);
	req.name = name;
	pt_report_init(&rep);
	assert_int_equal(pt_pve_opts_check(&req, &node, &rep), -EINVAL);
	assert_contains(rep.msg, "name is 1048576 characters long; the module allows at most 128");
	assert_true(strlen(rep.msg) < 300);
	pt_report_release(&rep);

	/* A whole run in check mode stops there: pvesh is not even asked. */
	json_t *devices = json_loads("[\"0000:07:00\"]", 0, NULL);
	req.devices = devices;
	req.check = true;
	struct pt_pve_pci_mapping_result out;
	assert_true(pt_pve_pci_mapping_run(&req, &out) < 0);
	assert_contains(out.report.msg, "name is 1048576 characters long");
	assert_int_equal(json_object_size(out.report.facts), 0);
	char *log = pvesh_log();
	assert_string_equal(log, "");
	free(log);
	pt_pve_pci_mapping_result_release(&out);
	json_decref(devices);
	free(name);
}

/* --- the same device twice in map ------------------------------------------------------ */

/* One entry of the map option. */
struct item {
	const char *node, *path, *id;
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The map option for these items. New reference. */
static json_t *map_of(const struct item *items, size_t n)
{
	json_t *map = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(map, json_pack("{s:s,s:s,s:s}", "node", items[i].node, "path",
		                                     items[i].path, "id", items[i].id));
	return map;
}

/* pt_pve_wanted_build for map_mode=exact with this map (borrowed): its return
 * code; *count the entries built, *msg its failure's message (caller frees; NULL
 * when none). */
static int build_map(json_t *map, size_t *count, char **msg)
{
	struct pt_pve_pci_mapping_opts req = request();
	req.map = map;
	struct pt_pve_hw hw;
	pt_pve_hw_init(&hw, root);
	struct pt_pve_wanted w;
	struct pt_report rep;
	pt_report_init(&rep);
	int rc = pt_pve_wanted_build(&req, "pve1", &hw, &w, &rep);
	*count = w.count;
	*msg = rep.msg ? strdup(rep.msg) : NULL;
	pt_pve_wanted_release(&w);
	pt_pve_hw_release(&hw);
	pt_report_release(&rep);
	return rc;
}

/* The items build into as many entries. */
static void expect_fine(const struct item *items, size_t n)
{
	json_t *map = map_of(items, n);
	size_t count = 0;
	char *msg = NULL;
	assert_int_equal(build_map(map, &count, &msg), 0);
	assert_null(msg);
	assert_int_equal(count, n);
	json_decref(map);
}

/* The items are refused with this message. */
static void expect_refused(const struct item *items, size_t n, const char *message)
{
	json_t *map = map_of(items, n);
	size_t count = 0;
	char *msg = NULL;
	assert_int_equal(build_map(map, &count, &msg), -EINVAL);
	assert_string_equal(msg, message);
	free(msg);
	json_decref(map);
}

#define GPU "10de:1c82"

static void test_map_repeats(void **state)
{
	(void)state;
	/* Different devices: another path on the node, the same path on another node,
	 * a whole slot and its function 0. */
	const struct item different[] = {{"pve2", "0000:0a:00.0", GPU},
	                                 {"pve2", "0000:0b:00.0", GPU},
	                                 {"pve3", "0000:0a:00.0", GPU},
	                                 {"pve2", "0000:0c:00", GPU},
	                                 {"pve2", "0000:0c:00.0", GPU}};
	expect_fine(different, COUNT(different));

	/* Two groups: the repeat with the lowest index is named, with the entry it
	 * repeats, and how many repeats there are. */
	const struct item two_groups[] = {{"pve2", "0000:0a:00.0", GPU},
	                                  {"pve2", "0000:0b:00.0", GPU},
	                                  {"pve2", "0000:0b:00.0", GPU},
	                                  {"pve2", "0000:0a:00.0", GPU}};
	expect_refused(two_groups, COUNT(two_groups),
	               "map[2] repeats map[1]: both are node pve2's device at 0000:0b:00.0, "
	               "which makes the mapping ambiguous; give each node's device once (2 "
	               "entries repeat an earlier one)");

	/* The device is node and path: other IDs do not make it another one. */
	const struct item other_id[] = {{"pve2", "0000:0a:00.0", GPU},
	                                {"pve2", "0000:0a:00.0", "10de:1c83"}};
	expect_refused(other_id, COUNT(other_id),
	               "map[1] repeats map[0]: both are node pve2's device at 0000:0a:00.0, "
	               "which makes the mapping ambiguous; give each node's device once");

	/* Alternatives in another order, or one of them twice: the same paths. */
	const struct item reordered[] = {{"pve2", "0000:0a:00.0;0000:0b:00.0", GPU},
	                                 {"pve2", "0000:0b:00.0;0000:0a:00.0", GPU}};
	expect_refused(reordered, COUNT(reordered),
	               "map[1] repeats map[0]: both are node pve2's device at "
	               "0000:0b:00.0;0000:0a:00.0, which makes the mapping ambiguous; give "
	               "each node's device once");
	const struct item twice_inside[] = {{"pve2", "0000:0a:00.0", GPU},
	                                    {"pve2", "0000:0a:00.0;0000:0a:00.0", GPU}};
	expect_refused(twice_inside, COUNT(twice_inside),
	               "map[1] repeats map[0]: both are node pve2's device at "
	               "0000:0a:00.0;0000:0a:00.0, which makes the mapping ambiguous; give "
	               "each node's device once");

	/* Schema problems are told first, all at once. */
	const struct item schema[] = {{"pve2", "0000:0A:00.0", GPU},
	                              {"pve2", "0000:0a:00.0", GPU},
	                              {"pve2", "0000:0a:00.0", GPU}};
	json_t *map = map_of(schema, COUNT(schema));
	size_t count = 0;
	char *msg = NULL;
	assert_int_equal(build_map(map, &count, &msg), -EINVAL);
	assert_contains(msg, "map[0].path '0000:0A:00.0' is not a path Proxmox accepts");
	assert_null(strstr(msg, "repeats"));
	free(msg);
	json_decref(map);

	/* 100000 times the same entry: one message, quickly. */
	struct item *many = calloc(100000, sizeof *many);
	assert_non_null(many);
	for (size_t i = 0; i < 100000; i++)
		many[i] = (struct item){"pve2", "0000:0a:00.0", GPU};
	expect_refused(many, 100000,
	               "map[1] repeats map[0]: both are node pve2's device at 0000:0a:00.0, "
	               "which makes the mapping ambiguous; give each node's device once (99999 "
	               "entries repeat an earlier one)");
	free(many);
}

/* --- one execve's limits --------------------------------------------------------------- */

/* An argv of /bin/true and arguments of `each` bytes (the last one shorter) whose
 * pt_pvesh_argspace total is exactly `total`. Free with free_args. */
static char **args_of_total(size_t total, size_t each)
{
	const char *const base_argv[] = {"/bin/true", NULL};
	struct pt_pvesh_argspace space;
	pt_pvesh_argspace(base_argv, &space);
	size_t left = total - space.total, n = 1;
	char **argv = calloc(left / each + 3, sizeof *argv);
	assert_non_null(argv);
	argv[0] = strdup("/bin/true");
	while (left > 0) {
		size_t take = left - sizeof(char *) - 1 > each ? each : left - sizeof(char *) - 1;
		argv[n] = malloc(take + 1);
		assert_non_null(argv[n]);
		memset(argv[n], 'a', take);
		argv[n][take] = '\0';
		left -= take + 1 + sizeof(char *);
		n++;
	}
	return argv;
}

static void free_args(char **argv)
{
	for (size_t i = 0; argv[i]; i++)
		free(argv[i]);
	free(argv);
}

static void test_argspace(void **state)
{
	(void)state;
	struct pt_pvesh_argspace space;
	const char *const small[] = {"/usr/bin/pvesh", "get", API, NULL};
	assert_int_equal(pt_pvesh_argspace(small, &space), 0);
	assert_int_equal(space.longest, 2);
	assert_int_equal(space.longest_len, strlen(API));
	assert_int_equal(space.arg_max, 32 * 4096 - 1);
	assert_true(space.total_max >= 32 * 4096 - 4096 &&
	            space.total_max <= 6 * 1024 * 1024 - 4096);
	assert_true(space.total > strlen(API) + pt_exec_env_bytes());

	/* One argument: up to MAX_ARG_STRLEN with its NUL. */
	char *arg = repeated("a", space.arg_max);
	const char *const one[] = {"/bin/true", arg, NULL};
	assert_int_equal(pt_pvesh_argspace(one, &space), 0);
	struct pt_exec_result res;
	assert_int_equal(pt_exec(NULL, one, 30, &res), 0);
	assert_int_equal(res.rc, 0);
	pt_exec_result_release(&res);
	free(arg);
	arg = repeated("a", space.arg_max + 1);
	const char *const over[] = {"/bin/true", arg, NULL};
	assert_int_equal(pt_pvesh_argspace(over, &space), -E2BIG);
	assert_int_equal(space.longest, 1);
	assert_int_equal(space.longest_len, space.arg_max + 1);
	/* The kernel agrees: the child cannot execute it, and that is no answer. */
	if (exec_may_fail()) {
		assert_int_equal(pt_exec(NULL, over, 30, &res), 0);
		assert_int_equal(res.rc, 126);
		assert_true(pt_pvesh_did_not_run(&res));
		pt_exec_result_release(&res);
	}
	free(arg);

	/* All of them: exactly at the limit runs; a byte more is refused, and a page
	 * past the margin the kernel refuses too. */
	char **argv = args_of_total(space.total_max, 100000);
	assert_int_equal(pt_pvesh_argspace((const char *const *)argv, &space), 0);
	assert_int_equal(space.total, space.total_max);
	assert_int_equal(pt_exec(NULL, (const char *const *)argv, 30, &res), 0);
	assert_int_equal(res.rc, 0);
	pt_exec_result_release(&res);
	free_args(argv);
	argv = args_of_total(space.total_max + 1, 100000);
	assert_int_equal(pt_pvesh_argspace((const char *const *)argv, &space), -E2BIG);
	assert_true(space.longest_len <= space.arg_max);
	free_args(argv);
	argv = args_of_total(space.total_max + 2 * 4096 + 1, 100000);
	if (exec_may_fail()) {
		assert_int_equal(pt_exec(NULL, (const char *const *)argv, 30, &res), 0);
		assert_int_equal(res.rc, 126);
		pt_exec_result_release(&res);
	}
	free_args(argv);

	/* The command in messages: as it is when short, cut when huge, cut between
	 * UTF-8 characters. */
	char *cmd = pt_pvesh_cmdline(small);
	assert_string_equal(cmd, "/usr/bin/pvesh get " API);
	free(cmd);
	arg = repeated("g", 300);
	const char *const long_arg[] = {"/usr/bin/pvesh", "get", arg, NULL};
	cmd = pt_pvesh_cmdline(long_arg);
	assert_string_equal(cmd, "/usr/bin/pvesh get gggggggggggggggggggggggggggggggggggggggggggggg"
	                         "gggggggggggggg...(300 bytes)");
	free(cmd);
	free(arg);
	const char *many[60];
	for (int i = 0; i < 59; i++)
		many[i] = "--map";
	many[59] = NULL;
	cmd = pt_pvesh_cmdline(many);
	assert_contains(cmd, "--map ... (59 arguments in all)");
	free(cmd);
	assert_int_equal(pt_pvesh_cut("\xc3\xa9\xc3\xa9", 3), 2);
	assert_int_equal(pt_pvesh_cut("\xc3\xa9\xc3\xa9", 4), 4);
	assert_int_equal(pt_pvesh_cut("abc", 60), 3);
}

/* A map of `count` entries for node pve2, each at its own path and about `size`
 * bytes long (a description makes up the length). New reference. */
static json_t *big_map(size_t count, size_t size)
{
	char *desc = repeated("d", size > 60 ? size - 60 : 1);
	json_t *map = json_array();
	for (size_t i = 0; i < count; i++) {
		char path[32];
		snprintf(path, sizeof path, "%04zx:%02zx:00.0", i / 256, i % 256);
		json_array_append_new(map, json_pack("{s:s,s:s,s:s,s:s}", "node", "pve2", "path",
		                                     path, "id", "10de:1c82", "description", desc));
	}
	free(desc);
	return map;
}

static void test_command_too_large(void **state)
{
	(void)state;
	const char *const probe[] = {"/usr/bin/pvesh", NULL};
	struct pt_pvesh_argspace space;
	pt_pvesh_argspace(probe, &space);
	/* Entries of about 4 KiB: enough of them to pass the argument space. */
	size_t count = space.total_max / 4096 + 16;

	struct pt_pve_pci_mapping_opts req = request();
	json_t *map = big_map(count, 4096);
	req.map = map;
	struct pt_pve_pci_mapping_result out;
	char expect[200];
	snprintf(expect, sizeof expect,
	         "the mapping is too large for one pvesh call: pvesh create with %zu map "
	         "entries takes ",
	         count);

	/* Check mode refuses what the real run could not do, from the same command. */
	req.check = true;
	assert_int_equal(pt_pve_pci_mapping_run(&req, &out), -E2BIG);
	assert_contains(out.report.msg, expect);
	assert_contains(out.report.msg, "split the devices into several mappings");
	assert_int_equal(json_object_size(out.report.facts), 0);
	pt_pve_pci_mapping_result_release(&out);
	req.check = false;
	assert_int_equal(pt_pve_pci_mapping_run(&req, &out), -E2BIG);
	assert_contains(out.report.msg, expect);
	assert_int_equal(json_array_size(out.commands), 0);
	pt_pve_pci_mapping_result_release(&out);
	char *log = pvesh_log();
	assert_null(strstr(log, "pvesh create"));
	assert_contains(log, "pvesh get " API " --output-format json => 255");
	free(log);
	assert_false(exists(under(PT_PVE_PCI_CFG)));
	json_decref(map);

	/* Half as many fit: check mode predicts the create, the real run does it. */
	map = big_map(count / 2, 4096);
	req.map = map;
	req.check = true;
	assert_int_equal(pt_pve_pci_mapping_run(&req, &out), 0);
	assert_int_equal(out.action, PT_PVE_CREATE);
	pt_pve_pci_mapping_result_release(&out);
	req.check = false;
	assert_int_equal(pt_pve_pci_mapping_run(&req, &out), 0);
	assert_int_equal(out.action, PT_PVE_CREATE);
	assert_int_equal(json_array_size(out.commands), 1);
	pt_pve_pci_mapping_result_release(&out);
	json_decref(map);

	/* One entry over MAX_ARG_STRLEN: named by its place in the map list. */
	struct pt_pve_plan plan = {.action = PT_PVE_CREATE};
	plan.target.id = strdup(NAME);
	plan.target.mdev = plan.target.live_migration = -1;
	char *node = repeated("n", 140000);
	char *entry = NULL;
	assert_true(asprintf(&entry, "id=10de:1c82,node=%s,path=0000:0a:00.0", node) > 0);
	assert_int_equal(pt_pve_mapping_add_map(&plan.target, "id=10de:1c82,node=pve2,path=0000:"
	                                                      "0b:00.0"),
	                 0);
	assert_int_equal(pt_pve_mapping_add_map(&plan.target, entry), 0);
	struct pt_pve_current cur = {0};
	cur.mapping.mdev = cur.mapping.live_migration = -1;
	const char **argv = pt_pve_plan_command(&req, &plan, &cur, API);
	assert_non_null(argv);
	struct pt_report rep;
	pt_report_init(&rep);
	assert_int_equal(pt_pve_plan_command_check(argv, &rep), -E2BIG);
	assert_string_equal(rep.msg,
	                    "the mapping is too large for one pvesh call: its map entry 1 "
	                    "('id=10de:1c82,node=nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
	                    "...') is 140036 bytes long, and one argument can be at most "
	                    "131071 bytes (the kernel's MAX_ARG_STRLEN); shorten it");
	pt_report_release(&rep);
	free(argv);
	pt_pve_plan_release(&plan);
	free(entry);
	free(node);
}

/* --- pvesh that did not run, or failed otherwise ---------------------------------------- */

static void test_did_not_run(void **state)
{
	(void)state;
	struct pt_exec_result res = {.rc = 255, .err = "mapping 'gpu' not found\n"};
	assert_false(pt_pvesh_did_not_run(&res));
	assert_true(pt_pvesh_no_such_mapping(&res, "gpu"));
	assert_false(pt_pvesh_no_such_mapping(&res, "gp"));
	assert_false(pt_pvesh_no_such_mapping(&res, "gpu2"));
	assert_false(pt_pvesh_no_such_mapping(&res, NULL));
	/* After pvesh's warnings about pci.cfg, as its last line. */
	res.err = "file /etc/pve/mapping/pci.cfg line 2 (section 'x') - unable to parse "
	          "value\nmapping 'gpu' not found\n";
	assert_true(pt_pvesh_no_such_mapping(&res, "gpu"));
	/* Part of another message is not the answer. */
	res.err = "error: mapping 'gpu' not found in cache\n";
	assert_false(pt_pvesh_no_such_mapping(&res, "gpu"));
	res.err = "mapping 'gpu' not found\n";
	/* Not executed, killed, or stopped: no answer, whatever it printed. */
	const int no_answer[] = {126, 127, 129, 137, 143, 192};
	for (size_t i = 0; i < sizeof no_answer / sizeof no_answer[0]; i++) {
		res.rc = no_answer[i];
		assert_true(pt_pvesh_did_not_run(&res));
		assert_false(pt_pvesh_no_such_mapping(&res, "gpu"));
	}
	res.rc = 255;
	res.timed_out = true;
	assert_true(pt_pvesh_did_not_run(&res));
	assert_false(pt_pvesh_no_such_mapping(&res, "gpu"));
	res.timed_out = false;
	/* pvesh's own exit codes: it ran. */
	const int answer[] = {0, 1, 2, 22, 128, 193, 255};
	for (size_t i = 0; i < sizeof answer / sizeof answer[0]; i++) {
		res.rc = answer[i];
		assert_false(pt_pvesh_did_not_run(&res));
	}
	res.rc = 0;
	assert_false(pt_pvesh_no_such_mapping(&res, "gpu"));
}

/* pt_pve_current_read of NAME through this root's pvesh. Returns its code; rep
 * (initialised here; release it) and the failure kept as the read left them
 * (release sh). */
static int read_mapping(struct pt_pvesh *sh, const char *name, struct pt_pve_current *cur,
                        struct pt_report *rep, int timeout)
{
	pt_report_init(rep);
	*sh = (struct pt_pvesh){
	        .root = root, .path = "/usr/bin/pvesh", .timeout = timeout, .rep = rep};
	return pt_pve_current_read(sh, name, cur);
}

/* record-cmd as pvesh: `pvesh get` exits rc, printing err on stderr. */
static void canned_get(int rc, const char *err, int sleep_s)
{
	pvesh_is("record-cmd");
	char text[32];
	snprintf(text, sizeof text, "%d\n", rc);
	tmptree_put(root, "/etc/record-cmd/pvesh.get.rc", text);
	tmptree_put(root, "/etc/record-cmd/pvesh.get.err", err);
	snprintf(text, sizeof text, "%d\n", sleep_s);
	tmptree_put(root, "/etc/record-cmd/pvesh.get.sleep", text);
}

/* The read fails with message msg_part and keeps the call with exit code rc. */
static void expect_failure(int timeout, const char *msg_part, int rc)
{
	struct pt_pvesh sh;
	struct pt_pve_current cur;
	struct pt_report rep;
	assert_true(read_mapping(&sh, NAME, &cur, &rep, timeout) < 0);
	assert_contains(rep.msg, msg_part);
	assert_false(cur.exists);
	assert_non_null(sh.failure);
	assert_int_equal(json_integer_value(json_object_get(sh.failure, "rc")), rc);
	assert_string_equal(
	        json_string_value(json_array_get(json_object_get(sh.failure, "cmd"), 1)), "get");
	pt_report_release(&rep);
	pt_pvesh_release(&sh);
}

/* The read says there is no mapping, with these warnings (JSON text). */
static void expect_absent(const char *warnings_json)
{
	struct pt_pvesh sh;
	struct pt_pve_current cur;
	struct pt_report rep;
	assert_int_equal(read_mapping(&sh, NAME, &cur, &rep, 60), 0);
	assert_null(rep.msg);
	assert_false(cur.exists);
	assert_null(sh.failure);
	char *text = json_dumps(rep.warnings, 0);
	assert_string_equal(text, warnings_json);
	free(text);
	pt_pve_current_release(&cur);
	pt_pvesh_release(&sh);
	pt_report_release(&rep);
}

static void test_read_answers(void **state)
{
	(void)state;
	/* fake-pvesh, as Proxmox: no mapping; then one Proxmox cannot use, whose
	 * warning reaches the user without the answer line; then one there is. */
	expect_absent("[]");
	tmptree_put(root, PT_PVE_PCI_CFG, "broken\n\tmap id=10de:1c82,node=pve1,path=7:00\n");
	struct pt_pvesh sh;
	struct pt_pve_current cur;
	struct pt_report rep;
	assert_int_equal(read_mapping(&sh, NAME, &cur, &rep, 60), 0);
	assert_false(cur.exists);
	char *text = json_dumps(rep.warnings, 0);
	assert_string_equal(text, "[\"pvesh: file /etc/pve/mapping/pci.cfg line 2 (section "
	                          "'broken') - unable to parse value of 'map': invalid format - "
	                          "format error\", \"pvesh: path: value does not match the "
	                          "regex pattern\", \"pvesh: file /etc/pve/mapping/pci.cfg line "
	                          "2 (skip section 'broken'): missing value for required option "
	                          "'map'\"]");
	free(text);
	pt_pve_current_release(&cur);
	pt_pvesh_release(&sh);
	pt_report_release(&rep);
	tmptree_put(root, PT_PVE_PCI_CFG,
	            NAME "\n\tmap id=10de:1c82,node=pve2,path=0000:0a:00.0\n\n");
	assert_int_equal(read_mapping(&sh, NAME, &cur, &rep, 60), 0);
	assert_true(cur.exists);
	assert_int_equal(cur.mapping.map_count, 1);
	pt_pve_current_release(&cur);
	pt_pvesh_release(&sh);
	pt_report_release(&rep);

	/* An ID over one argument's limit never reaches execve: said why, not absent. */
	char *name = repeated("g", 200000);
	assert_int_equal(read_mapping(&sh, name, &cur, &rep, 60), -E2BIG);
	assert_contains(rep.msg, "cannot run /usr/bin/pvesh get /cluster/mapping/pci/gggggg");
	assert_contains(rep.msg, "...(200021 bytes) --output-format json: argument 2 is 200021 "
	                         "bytes long, and the kernel takes at most 131071 in one argument");
	assert_false(cur.exists);
	free(name);
	pt_pvesh_release(&sh);
	pt_report_release(&rep);
	char *log = pvesh_log();
	assert_null(strstr(log, "gggggggg"));
	free(log);

	/* A pvesh that is no program: the kernel cannot execute it (rc 126). */
	if (exec_may_fail()) {
		tmptree_write(under("/usr/bin/pvesh"), "not a program\n", 14, 0755);
		expect_failure(
		        60, GET " could not be executed (rc 126): cannot execute the command", 126);
	}

	/* record-cmd with canned answers. Proxmox's answer for this ID: absent. */
	canned_get(255, "mapping 'gpu' not found\n", 0);
	expect_absent("[]");
	/* Not found (rc 127), killed, stopped: failures, whatever they printed. */
	canned_get(127, "mapping 'gpu' not found\n", 0);
	expect_failure(60, GET " could not be executed (rc 127): mapping 'gpu' not found", 127);
	canned_get(137, "", 0);
	expect_failure(60, GET " was killed by signal 9 (rc 137): (no error output)", 137);
	canned_get(255, "mapping 'gpu' not found\n", 3);
	expect_failure(1,
	               GET " was stopped after 1 seconds (timeout option): killed after 1 "
	                   "seconds (timeout)",
	               137);
	/* pvesh ran and failed otherwise: its error, not "absent". */
	canned_get(255, "ipcc_send_rec[1] failed: Connection refused\n", 0);
	expect_failure(60, GET " failed (rc 255): ipcc_send_rec[1] failed: Connection refused",
	               255);
	canned_get(255, "mapping 'gpu2' not found\n", 0);
	expect_failure(60, GET " failed (rc 255): mapping 'gpu2' not found", 255);
	canned_get(1, "No 'get' handler defined for '" API "'\n", 0);
	expect_failure(60, GET " failed (rc 1): No 'get' handler defined", 1);

	/* The bug this fixes: a get that did not run while the list works was taken
	 * for "no such mapping", and check mode predicted a create. */
	canned_get(126, "cannot execute the command\n", 0);
	tmptree_put(root, "/etc/record-cmd/pvesh.out", "[]\n");
	struct pt_pve_pci_mapping_opts req = request();
	const struct item one[] = {{"pve2", "0000:0a:00.0", GPU}};
	json_t *map = map_of(one, COUNT(one));
	req.map = map;
	req.check = true;
	struct pt_pve_pci_mapping_result out;
	assert_true(pt_pve_pci_mapping_run(&req, &out) < 0);
	assert_string_equal(out.report.msg, GET " could not be executed (rc 126): cannot execute "
	                                        "the command");
	assert_int_equal(json_integer_value(json_object_get(out.report.facts, "rc")), 126);
	pt_pve_pci_mapping_result_release(&out);
	json_decref(map);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_name_length, make_root, drop_root),
	        cmocka_unit_test_setup_teardown(test_map_repeats, make_root, drop_root),
	        cmocka_unit_test(test_argspace),
	        cmocka_unit_test_setup_teardown(test_command_too_large, make_root, drop_root),
	        cmocka_unit_test(test_did_not_run),
	        cmocka_unit_test_setup_teardown(test_read_answers, make_root, drop_root),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
