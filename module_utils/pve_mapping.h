/* Layer: pve_pci_mapping family (pve_mapping_*, pvesh), its model, at the bottom
 * of the family: it includes base headers only. Included by the pve_mapping_*
 * files, by the pve tests and fuzz harnesses, and by the fake-pvesh test double
 * (tests/tools/fake-pvesh.c, tests/tools/support/pve_cfg).
 *
 * Proxmox VE cluster PCI resource mappings: the model of /etc/pve/mapping/pci.cfg
 * shared by the pve_pci_mapping module and the fake-pvesh test double.
 *
 * What it mirrors (pve-guest-common PVE/Mapping/PCI.pm, pve-common SectionConfig.pm
 * and JSONSchema.pm, pve-manager PVE/API2/Cluster/Mapping/PCI.pm):
 *   - a section of the file: the id alone on the header line, then "\tKEY VALUE"
 *     lines (one `map` line per entry), a blank line after it, in exactly
 *     Proxmox's layout (the diff shows it); the whole file, parsed and written, is
 *     test code (tests/tools/support/pve_cfg.h): the module goes through pvesh;
 *   - a map entry: the property string "id=10de:1c82,iommugroup=14,node=pve1,
 *     path=0000:07:00,subsystem-id=1462:8c96", checked against Proxmox's schema
 *     with Proxmox's messages;
 *   - the hardware check Proxmox runs at VM start ("hardware probably changed");
 *   - what `pvesh get ... --output-format json` returns.
 *
 * Nothing here prints, exits, or touches PCI hardware (callers pass what the host
 * reports), so the test double links it statically without libpci. Messages for
 * the user, Proxmox's included, travel in a struct pt_report (report.h). */
#ifndef PT_PVE_MAPPING_H
#define PT_PVE_MAPPING_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "report.h"
#include "strbuf.h"

#define PT_PVE_PCI_CFG "/etc/pve/mapping/pci.cfg"
/* The mapping flag live-migration-capable came with libpve-guest-common-perl 5.1.7
 * (debian/changelog, 2025-04-03: "mapping: pci: add 'live-migration-capable'
 * opt-in flag"), the version Proxmox VE 8.4 ships; older nodes' pvesh answer
 * "Unknown option: live-migration-capable" and "400 unable to parse option". */
#define PT_PVE_LM_OPTION        "live-migration-capable"
#define PT_PVE_LM_SINCE_PACKAGE "5.1.7"
#define PT_PVE_LM_SINCE_PVE     "8.4"
/* Longest description Proxmox accepts (mapping and map entry alike). */
#define PT_PVE_DESCRIPTION_MAX 4096
/* Room for a config digest: SHA-1 hex here; Proxmox allows up to 64 characters
 * (its Rust code uses SHA-256). */
#define PT_PVE_DIGEST_SIZE 65

/* One mapping: a section of pci.cfg. */
struct pt_pve_mapping {
	char *id;           /* the section id, e.g. "gpu-gtx1050ti" (owned) */
	char **map;         /* map entries as stored: property strings (owned) */
	size_t map_count;   /* entries in map */
	char *description;  /* NULL when absent (owned) */
	int mdev;           /* 1, 0, or -1 when absent */
	int live_migration; /* live-migration-capable: 1, 0, or -1 when absent */
	bool broken;        /* Proxmox's parser kept the id but no usable data (every map
	                       entry invalid): invisible to GET, and any write of the file
	                       fails with "unknown section type ''" until it is replaced */
};

/* One map entry, split into its properties. Every field is owned; NULL when absent. */
struct pt_pve_map_entry {
	char *node;         /* required: the cluster node name */
	char *path;         /* required: "0000:07:00" (whole slot), "0000:07:00.1", or
	                       several joined by ';' */
	char *id;           /* required: vendor:device, "10de:1c82" */
	char *subsystem_id; /* "1462:8c96" */
	char *iommugroup;   /* decimal text as stored, "14" */
	char *description;  /* per-node description */
};

/* --- text pvesh keeps --------------------------------------------------------- */

/* What survives a description's trip through pvesh (compared against the real
 * code: pve-common JSONSchema.pm, SectionConfig.pm, File.pm and CLIFormatter.pm):
 *   - pvesh decodes its arguments by the locale (the module runs it in C.UTF-8) and
 *     writes pci.cfg without an encoding layer, so characters up to U+00FF are
 *     stored as one Latin-1 byte each; one character above U+00FF anywhere in the
 *     file turns the whole file into UTF-8 (Perl's "Wide character in print"),
 *     which changes every other non-ASCII byte in it;
 *   - `pvesh get --output-format json` prints each byte of the file as the
 *     character of that value (JSON with utf8 on undecoded bytes), so a Latin-1
 *     byte comes back as the character it stood for;
 *   - SectionConfig trims blanks (Perl's \s on bytes: space, \t, \n, \r, \f, \v)
 *     around a value when it reads the file; a description of blanks only is read
 *     as no value at all (with a warning on every read);
 *   - maxLength (4096) counts characters, not bytes. */

/* The highest character that round-trips through pvesh. */
#define PT_PVE_TEXT_MAX_CHAR 0xff

/* s (UTF-8) without the blanks Proxmox drops around a value in pci.cfg. Caller
 * frees; NULL when out of memory. */
char *pt_pve_text_trim(const char *s);

/* Characters in s (UTF-8), as Proxmox's maxLength counts them; 0 for NULL. */
size_t pt_pve_text_chars(const char *s);

/* Check text given for option `what` ("description", "map[0].description")
 * against what survives pvesh. Returns 0; or -EINVAL with rep's failure naming
 * the first character above U+00FF, its position (1-based, in characters) and why,
 * or saying the text is not UTF-8. */
int pt_pve_text_check(const char *what, const char *s, struct pt_report *rep);

/* --- lifetime ---------------------------------------------------------------- */

/* An empty mapping: no id, no entries, no description, both flags absent (-1).
 * What pt_pve_mapping_release leaves behind too. */
void pt_pve_mapping_init(struct pt_pve_mapping *m);
void pt_pve_mapping_release(struct pt_pve_mapping *m);
void pt_pve_map_entry_release(struct pt_pve_map_entry *e);

/* Deep copy of src into dst (dst is overwritten, not released). 0 or -ENOMEM. */
int pt_pve_mapping_copy(struct pt_pve_mapping *dst, const struct pt_pve_mapping *src);

/* Append one entry (copied) to m->map. 0 or -ENOMEM. */
int pt_pve_mapping_add_map(struct pt_pve_mapping *m, const char *entry);

/* --- a section of pci.cfg --------------------------------------------------- */

/* Render one section as Proxmox writes it (header, properties, blank line), for
 * diffs. Broken sections render as their header only. 0 or -ENOMEM. */
int pt_pve_mapping_render(const struct pt_pve_mapping *m, struct pt_strbuf *out);

/* --- schema ------------------------------------------------------------------ */

/* Proxmox's pve-configid: [a-z][a-z0-9_-]+, case-insensitive. */
bool pt_pve_valid_configid(const char *s);
/* Proxmox's pve-node: [a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])? */
bool pt_pve_valid_node(const char *s);
/* vendor:device as Proxmox's map `id` and `subsystem-id`: 4+4 hex digits, any case. */
bool pt_pve_valid_pci_id(const char *s);
/* Proxmox's map `path`: [a-f0-9]{4,}:[a-f0-9]{2}:[a-f0-9]{2}(\.[a-f0-9])?, several
 * joined by ';' — domain mandatory, lowercase hex. */
bool pt_pve_valid_path(const char *s);
/* An integer as Proxmox's schema takes it: [+-]?[0-9]+ */
bool pt_pve_valid_integer(const char *s);

/* Parse and check a map entry property string as Proxmox's API does
 * (parse_property_string + the map format). On success returns 0 and fills e
 * (release with pt_pve_map_entry_release). When the entry is invalid returns
 * -EINVAL and leaves e empty; rep's failure is then the error text Proxmox
 * records for the value at `path` ("map[0]", or "" inside pci.cfg), e.g.
 * "invalid format - format error\nmap[0].path: value does not match the regex
 * pattern\n". rep may be NULL: the module only asks whether an entry parses, often
 * (every comparison of two entries), and then no message is made. -ENOMEM. */
int pt_pve_map_entry_parse(const char *text, const char *path, struct pt_pve_map_entry *e,
                           struct pt_report *rep);

/* The property string of e with its `key=value` parts sorted, as Proxmox's web
 * interface writes it ("id=...,iommugroup=...,node=...,path=...,subsystem-id=...").
 * Absent fields are left out. Caller frees; NULL on allocation failure. */
char *pt_pve_map_entry_format(const struct pt_pve_map_entry *e);

/* Semantic equality of two map entries: key order does not matter, hex digits
 * (ids, paths) compare case-insensitively, iommugroup numerically. A whole slot
 * ("0000:07:00") and its function 0 ("0000:07:00.0") are different mappings and
 * never equal. */
bool pt_pve_map_entry_equal(const struct pt_pve_map_entry *a, const struct pt_pve_map_entry *b);

/* Semantic equality of two stored entries (property strings): parsed and compared
 * with pt_pve_map_entry_equal; entries that do not parse compare as text. */
bool pt_pve_map_text_equal(const char *a, const char *b);

/* Semantic equality of two map lists, ignoring entry order (as multisets). */
bool pt_pve_map_list_equal(char *const *a, size_t na, char *const *b, size_t nb);

/* The node named in a stored entry (parsed leniently: the first node=...), or NULL.
 * Caller frees. */
char *pt_pve_map_text_node(const char *entry);

/* --- the hardware check ------------------------------------------------------ */

/* What the host reports for one PCI function, as Proxmox reads it from sysfs. */
struct pt_pve_hw_function {
	char id[10];           /* "10de:1c82" (lowercase) */
	char subsystem_id[10]; /* "1462:8c96"; "" when the device has none */
	int iommugroup;        /* -1 when in no IOMMU group */
};

/* Look up the function at a canonical address "dddd:bb:ss.f". Return 0 and fill
 * out, or -ENOENT when there is no such device. */
typedef int (*pt_pve_hw_lookup_fn)(void *ctx, const char *address, struct pt_pve_hw_function *out);

/* Proxmox's check at VM start (PVE::Mapping::PCI::assert_valid without the mdev
 * part): for each path of the entry — a whole slot checked as its function .0 —
 * id, subsystem-id and (first path only) iommugroup must be what the hardware
 * says. Returns 0 when the entry passes; -EINVAL with rep's failure set to
 * Proxmox's message ("'id' does not match for 'gpu' (10de:1c82 != 10de:1c83)",
 * "pci device '0000:07:00.0' not found", ...); -ENOMEM. */
int pt_pve_map_entry_check_hw(const char *mapping_id, const struct pt_pve_map_entry *e,
                              pt_pve_hw_lookup_fn lookup, void *ctx, struct pt_report *rep);

/* --- merging ----------------------------------------------------------------- */

/* The map list for "set this node's entries, keep every other node's": entries of
 * other nodes stay as stored and in their order; the node's entries are replaced
 * by `wanted` (stored strings, copied), placed where the node's first entry was,
 * or at the end. Returns 0 with *out (array of owned strings; free each and the
 * array) and *nout set; -ENOMEM. */
int pt_pve_map_merge_node(char *const *existing, size_t nexisting, const char *node,
                          char *const *wanted, size_t nwanted, char ***out, size_t *nout);

/* --- pvesh JSON ---------------------------------------------------------------- */

/* What `pvesh get /cluster/mapping/pci/ID --output-format json` prints for m:
 * {description, digest, live-migration-capable, map, mdev, type: "pci"} with the
 * absent ones left out; with_id adds "id" as the list call does. New reference;
 * NULL on allocation failure. */
json_t *pt_pve_mapping_to_json(const struct pt_pve_mapping *m, const char *digest, bool with_id);

/* Read one mapping from pvesh's JSON (an object as above; `id` taken from the
 * object when present, else from the id argument, which may be NULL). Lenient
 * about types Proxmox may print (booleans as 1/0, true/false or "1"/"0"; unknown
 * keys ignored). Fills m (release with pt_pve_mapping_release) and, when digest
 * is not NULL, copies the digest ("" when none). Returns 0, or -EINVAL with rep's
 * failure saying why obj is not such an object; -ENOMEM. */
int pt_pve_mapping_from_json(const json_t *obj, const char *id, struct pt_pve_mapping *m,
                             char digest[PT_PVE_DIGEST_SIZE], struct pt_report *rep);

#endif
