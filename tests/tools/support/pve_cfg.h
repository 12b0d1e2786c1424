/* Layer: test code (tests/tools/support), over the pve_pci_mapping family's model
 * (module_utils/pve_mapping.h). Included by the fake-pvesh test double
 * (tests/tools/fake-pvesh.c), the unit test of the model
 * (tests/unit/test_pve_mapping.c) and the fuzz harness tests/fuzz/fuzz_pci_cfg.c;
 * never by module_utils: the module reads and writes mappings through pvesh, so
 * libpt.a holds none of this (and none of its messages).
 *
 * /etc/pve/mapping/pci.cfg as a file, as Proxmox's SectionConfig reads and writes
 * it: parsed as leniently as Proxmox parses it, with Proxmox's warnings, and
 * written back in exactly Proxmox's layout (docs/architecture.md, "The Proxmox PCI
 * mapping"). */
#ifndef PT_TEST_PVE_CFG_H
#define PT_TEST_PVE_CFG_H

#include <stdbool.h>
#include <stddef.h>

#include "pve_mapping.h"
#include "sha1.h"
#include "strbuf.h"

/* The whole file. */
struct pt_pve_config {
	struct pt_pve_mapping *sections; /* in file order (owned) */
	size_t count;
	char digest[PT_SHA1_HEX_LEN]; /* SHA-1 hex of the text that was parsed */
};

void pt_pve_config_release(struct pt_pve_config *cfg);

/* Parse the text of pci.cfg (text[0..len), need not be NUL-terminated) as Proxmox
 * does: any indentation, any key order, comments (`#`) anywhere, a missing final
 * blank line; invalid map entries and properties dropped, a section with a bad id
 * skipped, a repeated id replacing the earlier section (which moves to the later
 * place). Each of Proxmox's warnings is appended to warnings (if not NULL) as one
 * message ending in "\n", naming `filename`, the line and the section: the text
 * pvesh prints on its error output.
 * Fills cfg (release with pt_pve_config_release) including the digest. Returns 0,
 * or -ENOMEM (cfg is then empty). */
int pt_pve_config_parse(const char *text, size_t len, const char *filename,
                        struct pt_pve_config *cfg, struct pt_strbuf *warnings);

/* Render cfg exactly as Proxmox writes it. Returns 0 and appends to out; or
 * -EINVAL with *errmsg set to Proxmox's message (caller frees) when Proxmox's
 * writer would refuse the file (a broken section: "unknown section type ''");
 * -ENOMEM with *errmsg NULL. A message, not a struct pt_report: the test double
 * prints it as pvesh would, beside the messages of files.h, which take the same
 * shape. */
int pt_pve_config_render(const struct pt_pve_config *cfg, struct pt_strbuf *out, char **errmsg);

/* The section with this id (broken ones included), or NULL. Borrowed. */
struct pt_pve_mapping *pt_pve_config_find(const struct pt_pve_config *cfg, const char *id);

/* Put m into cfg, taking over what m holds (m is left empty, even on failure).
 * An existing section with the same id is replaced in place (as Proxmox keeps a
 * known id's position); a new id is appended. 0 or -ENOMEM. */
int pt_pve_config_put(struct pt_pve_config *cfg, struct pt_pve_mapping *m);

/* Remove the section with this id. True when there was one. */
bool pt_pve_config_remove(struct pt_pve_config *cfg, const char *id);

#endif
