/* libFuzzer harness: /etc/pve/mapping/pci.cfg as Proxmox parses it.
 *
 * Any bytes must parse without crashing or leaking; whatever Proxmox's writer
 * accepts must come back unchanged through a second parse (no warnings, same
 * rendering), and every map entry kept must pass the entry parser and survive
 * being formatted and parsed again as an equal entry. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "pve_mapping.h"
#include "strbuf.h"
#include "../tools/support/pve_cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pt_pve_config cfg;
	struct pt_strbuf warnings = PT_STRBUF_INIT, out = PT_STRBUF_INIT;
	if (pt_pve_config_parse((const char *)data, size, PT_PVE_PCI_CFG, &cfg, &warnings) < 0)
		return 0;
	char hex[PT_SHA1_HEX_LEN];
	pt_sha1_hex(data, size, hex);
	check(strcmp(hex, cfg.digest) == 0);

	for (size_t i = 0; i < cfg.count; i++) {
		const struct pt_pve_mapping *m = &cfg.sections[i];
		check(m->broken || m->map_count > 0);
		for (size_t j = 0; j < m->map_count; j++) {
			struct pt_pve_map_entry e, again;
			check(pt_pve_map_entry_parse(m->map[j], "", &e, NULL) == 0);
			char *text = pt_pve_map_entry_format(&e);
			check(text != NULL);
			check(pt_pve_map_entry_parse(text, "", &again, NULL) == 0);
			check(pt_pve_map_entry_equal(&e, &again));
			check(pt_pve_map_text_equal(m->map[j], text));
			free(text);
			pt_pve_map_entry_release(&e);
			pt_pve_map_entry_release(&again);
		}
	}

	char *err = NULL;
	if (pt_pve_config_render(&cfg, &out, &err) == 0) {
		struct pt_pve_config second;
		struct pt_strbuf w2 = PT_STRBUF_INIT, out2 = PT_STRBUF_INIT;
		check(pt_pve_config_parse(out.data ? out.data : "", out.len, PT_PVE_PCI_CFG,
		                          &second, &w2) == 0);
		check(w2.len == 0);
		char *err2 = NULL;
		check(pt_pve_config_render(&second, &out2, &err2) == 0);
		check(out.len == out2.len &&
		      memcmp(pt_strbuf_str(&out), pt_strbuf_str(&out2), out.len) == 0);
		pt_strbuf_release(&w2);
		pt_strbuf_release(&out2);
		pt_pve_config_release(&second);
	}
	free(err);
	pt_strbuf_release(&warnings);
	pt_strbuf_release(&out);
	pt_pve_config_release(&cfg);
	return 0;
}
