/* libFuzzer harness: what `pvesh get /cluster/mapping/pci[/ID] --output-format json`
 * prints, as the pve_pci_mapping module reads it.
 *
 * Any bytes must be refused cleanly or read into a mapping; a mapping read must
 * survive pt_pve_mapping_to_json and being read again unchanged, and its section
 * must render (the diff text) without trouble. A list is read entry by entry, as
 * the module looks for its id in it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pve_mapping.h"
#include "strbuf.h"

static void check(int cond)
{
	if (!cond)
		abort();
}

static void one(const json_t *obj)
{
	struct pt_pve_mapping m, again;
	char digest[PT_PVE_DIGEST_SIZE], digest2[PT_PVE_DIGEST_SIZE];
	char *err = NULL;
	if (pt_pve_mapping_from_json(obj, "fuzz", &m, digest, &err) < 0) {
		free(err);
		return;
	}
	check(m.id != NULL);
	json_t *back = pt_pve_mapping_to_json(&m, digest, true);
	if (back) {
		if (pt_pve_mapping_from_json(back, NULL, &again, digest2, &err) == 0) {
			check(strcmp(digest, digest2) == 0);
			check(again.map_count == m.map_count);
			check(again.mdev == m.mdev && again.live_migration == m.live_migration);
			check(pt_pve_map_list_equal(m.map, m.map_count, again.map,
			                            again.map_count));
			pt_pve_mapping_release(&again);
		} else {
			/* Text that is not UTF-8 cannot come from jansson's own parser. */
			free(err);
		}
		json_decref(back);
	}
	struct pt_strbuf out = PT_STRBUF_INIT;
	check(pt_pve_mapping_render(&m, &out) == 0 || out.oom);
	pt_strbuf_release(&out);
	for (size_t i = 0; i < m.map_count; i++) {
		struct pt_pve_map_entry e;
		char *msg = NULL;
		if (pt_pve_map_entry_parse(m.map[i], "map[0]", &e, &msg) == 0) {
			char *text = pt_pve_map_entry_format(&e);
			check(text && pt_pve_map_text_equal(text, m.map[i]));
			free(text);
			pt_pve_map_entry_release(&e);
		} else {
			check(msg != NULL);
			free(msg);
		}
		char *node = pt_pve_map_text_node(m.map[i]);
		free(node);
	}
	pt_pve_mapping_release(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
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
