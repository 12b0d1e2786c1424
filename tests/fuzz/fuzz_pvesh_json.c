/* libFuzzer harness: what `pvesh get /cluster/mapping/pci[/ID] --output-format json`
 * prints, as the pve_pci_mapping module reads it.
 *
 * Any bytes must be refused cleanly or read into a mapping; a mapping read must
 * survive pt_pve_mapping_to_json and being read again unchanged, and its section
 * must render (the diff text) without trouble. A list (what the index call
 * prints) is read entry by entry.
 *
 * The same bytes are also read as the error output of a failed get: they are
 * Proxmox's "no such mapping" answer exactly when one line is "mapping 'fuzz' not
 * found" and pvesh ran (never with rc 126/127, a signal or a timeout), and the
 * failure message built from them is always there. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "exec.h"
#include "fuzz_check.h"
#include "pve_mapping.h"
#include "pvesh.h"
#include "strbuf.h"

static void one(const json_t *obj)
{
	struct pt_pve_mapping m, again;
	char digest[PT_PVE_DIGEST_SIZE], digest2[PT_PVE_DIGEST_SIZE];
	struct pt_report rep;
	pt_report_init(&rep);
	int rc = pt_pve_mapping_from_json(obj, "fuzz", &m, digest, &rep);
	pt_report_release(&rep);
	if (rc < 0)
		return;
	check(m.id != NULL);
	json_t *back = pt_pve_mapping_to_json(&m, digest, true);
	if (back) {
		pt_report_init(&rep);
		if (pt_pve_mapping_from_json(back, NULL, &again, digest2, &rep) == 0) {
			check(strcmp(digest, digest2) == 0);
			check(again.map_count == m.map_count);
			check(again.mdev == m.mdev && again.live_migration == m.live_migration);
			check(pt_pve_map_list_equal(m.map, m.map_count, again.map,
			                            again.map_count));
			pt_pve_mapping_release(&again);
		}
		/* (Failing is fine: text that is not UTF-8 cannot come from jansson's own
		 * parser.) */
		pt_report_release(&rep);
		json_decref(back);
	}
	struct pt_strbuf out = PT_STRBUF_INIT;
	check(pt_pve_mapping_render(&m, &out) == 0 || out.oom);
	pt_strbuf_release(&out);
	for (size_t i = 0; i < m.map_count; i++) {
		struct pt_pve_map_entry e;
		pt_report_init(&rep);
		if (pt_pve_map_entry_parse(m.map[i], "map[0]", &e, &rep) == 0) {
			char *text = pt_pve_map_entry_format(&e);
			check(text && pt_pve_map_text_equal(text, m.map[i]));
			free(text);
			pt_pve_map_entry_release(&e);
		} else {
			check(rep.msg != NULL);
		}
		pt_report_release(&rep);
		char *node = pt_pve_map_text_node(m.map[i]);
		free(node);
	}
	pt_pve_mapping_release(&m);
}

/* Whether text (NUL-terminated) has the line `line`: "\n" + text + "\n" holds
 * "\n" + line + "\n". */
static bool has_line(const char *text, const char *line)
{
	char *framed = NULL, *needle = NULL;
	check(asprintf(&framed, "\n%s\n", text) >= 0 && asprintf(&needle, "\n%s\n", line) >= 0);
	bool found = strstr(framed, needle) != NULL;
	free(framed);
	free(needle);
	return found;
}

static void as_error_output(const uint8_t *data, size_t size)
{
	char *err = strndup((const char *)data, size);
	check(err != NULL);
	struct pt_exec_result res = {.rc = 255, .err = err};
	check(pt_pvesh_no_such_mapping(&res, "fuzz") == has_line(err, "mapping 'fuzz' not found"));
	const int no_answer[] = {126, 127, 137};
	for (size_t i = 0; i < sizeof no_answer / sizeof no_answer[0]; i++) {
		res.rc = no_answer[i];
		check(!pt_pvesh_no_such_mapping(&res, "fuzz"));
	}
	res.rc = 255;
	res.timed_out = true;
	check(!pt_pvesh_no_such_mapping(&res, "fuzz"));
	const char *const argv[] = {"/usr/bin/pvesh", "get", "/cluster/mapping/pci/fuzz", NULL};
	struct pt_report rep;
	struct pt_pvesh sh = {.root = "/", .path = argv[0], .timeout = 1, .rep = &rep};
	for (int rc = 0; rc < 3; rc++) {
		res.rc = rc == 0 ? 255 : rc == 1 ? 126 : 137;
		res.timed_out = rc == 2;
		pt_report_init(&rep);
		check(pt_pvesh_fail(&sh, argv, &res) == -EIO || !rep.msg);
		check(!rep.msg ||
		      strncmp(rep.msg, "/usr/bin/pvesh get /cluster/mapping/pci/fuzz ", 45) == 0);
		pt_report_release(&rep);
		pt_pvesh_release(&sh);
	}
	free(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	as_error_output(data, size);
	json_t *root = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (!root)
		return 0;
	if (json_is_array(root)) {
		size_t i;
		json_t *item;
		json_array_foreach (root, i, item)
			one(item);
	} else {
		one(root);
	}
	json_decref(root);
	return 0;
}
