/* module_utils/pve_mapping and sha1: the Proxmox VE PCI mapping model, and
 * pci.cfg as a file (tests/tools/support/pve_cfg, the fake pvesh's).
 *
 * pci.cfg texts here are written the way Proxmox writes them (docs/architecture.md,
 * "The Proxmox PCI mapping"; SectionConfig::write_config) and the way people and old tools leave
 * them (spaces, other key order, comments, no final blank line). The expected warnings are
 * Proxmox's own wording from SectionConfig::parse_config and JSONSchema. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pve_mapping.h"
#include "report.h"
#include "sha1.h"
#include "strbuf.h"
#include "../tools/support/pve_cfg.h"

#define CFG PT_PVE_PCI_CFG

/* The example of docs/architecture.md, byte for byte as Proxmox writes it. */
static const char proxmox_written[] =
        "rtx4090\n"
        "\tmap id=10de:2684,iommugroup=14,node=pve1,path=0000:01:00,subsystem-id=1458:40bf\n"
        "\tmap id=10de:2684,iommugroup=27,node=pve2,path=0000:41:00,subsystem-id=1458:40bf\n"
        "\tdescription RTX 4090 incl. audio function\n"
        "\n"
        "gpu-gtx1050ti\n"
        "\tmap id=10de:1c82,iommugroup=14,node=pve1,path=0000:07:00,subsystem-id=1462:8c96\n"
        "\tlive-migration-capable 0\n"
        "\tmdev 1\n"
        "\n";

/* Parse text, render it back; returns the rendering (caller frees) and the
 * warnings in *warnings (caller frees). */
static char *reformat(const char *text, char **warnings, char **render_error)
{
	struct pt_pve_config cfg;
	struct pt_strbuf w = PT_STRBUF_INIT, out = PT_STRBUF_INIT;
	assert_int_equal(pt_pve_config_parse(text, strlen(text), CFG, &cfg, &w), 0);
	char *err = NULL;
	int r = pt_pve_config_render(&cfg, &out, &err);
	pt_pve_config_release(&cfg);
	*warnings = pt_strbuf_steal(&w);
	if (render_error)
		*render_error = err;
	else
		free(err);
	if (r < 0) {
		pt_strbuf_release(&out);
		return NULL;
	}
	return pt_strbuf_steal(&out);
}

static void assert_reformats_to(const char *text, const char *expected, const char *warnings)
{
	char *w = NULL;
	char *out = reformat(text, &w, NULL);
	assert_non_null(out);
	assert_string_equal(out, expected);
	assert_string_equal(w, warnings);
	free(out);
	free(w);
}

/* ---- sha1 ------------------------------------------------------------------- */

static void test_sha1_vectors(void **state)
{
	(void)state;
	char hex[PT_SHA1_HEX_LEN];
	pt_sha1_hex("", 0, hex);
	assert_string_equal(hex, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	pt_sha1_hex("abc", 3, hex);
	assert_string_equal(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
	const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	pt_sha1_hex(two_blocks, strlen(two_blocks), hex);
	assert_string_equal(hex, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");

	/* A million 'a', fed in uneven pieces across block boundaries. */
	char chunk[997];
	memset(chunk, 'a', sizeof chunk);
	struct pt_sha1 ctx;
	pt_sha1_init(&ctx);
	size_t left = 1000000;
	for (size_t step = 1; left; step = step * 7 % 997 + 1) {
		size_t n = step < left ? step : left;
		pt_sha1_update(&ctx, chunk, n);
		left -= n;
	}
	uint8_t md[PT_SHA1_LEN];
	pt_sha1_final(&ctx, md);
	static const uint8_t million_a[PT_SHA1_LEN] = {0x34, 0xaa, 0x97, 0x3c, 0xd4, 0xc4, 0xda,
	                                               0xa4, 0xf6, 0x1e, 0xeb, 0x2b, 0xdb, 0xad,
	                                               0x27, 0x31, 0x65, 0x34, 0x01, 0x6f};
	assert_memory_equal(md, million_a, PT_SHA1_LEN);

	/* Lengths around the padding edge (55, 56, 63, 64 bytes) agree with one-shot. */
	for (size_t len = 54; len <= 66; len++) {
		char buf[80];
		memset(buf, 'x', len);
		char one[PT_SHA1_HEX_LEN], parts[PT_SHA1_HEX_LEN];
		pt_sha1_hex(buf, len, one);
		pt_sha1_init(&ctx);
		pt_sha1_update(&ctx, buf, len / 2);
		pt_sha1_update(&ctx, buf + len / 2, len - len / 2);
		pt_sha1_final(&ctx, md);
		for (int i = 0; i < PT_SHA1_LEN; i++)
			snprintf(parts + 2 * i, 3, "%02x", md[i]);
		assert_string_equal(one, parts);
	}
	/* 55 'x' is the longest message that pads within one block. */
	memset(chunk, 'x', 56);
	pt_sha1_hex(chunk, 56, hex);
	assert_int_equal(strlen(hex), 40);
}

/* ---- pci.cfg ------------------------------------------------------------------ */

static void test_proxmox_file_round_trips(void **state)
{
	(void)state;
	assert_reformats_to(proxmox_written, proxmox_written, "");

	struct pt_pve_config cfg;
	assert_int_equal(
	        pt_pve_config_parse(proxmox_written, strlen(proxmox_written), CFG, &cfg, NULL), 0);
	char hex[PT_SHA1_HEX_LEN];
	pt_sha1_hex(proxmox_written, strlen(proxmox_written), hex);
	assert_string_equal(cfg.digest, hex);
	assert_int_equal(cfg.count, 2);
	assert_string_equal(cfg.sections[0].id, "rtx4090");
	assert_int_equal(cfg.sections[0].map_count, 2);
	assert_string_equal(cfg.sections[0].description, "RTX 4090 incl. audio function");
	assert_int_equal(cfg.sections[0].mdev, -1);
	assert_int_equal(cfg.sections[1].mdev, 1);
	assert_int_equal(cfg.sections[1].live_migration, 0);
	assert_non_null(pt_pve_config_find(&cfg, "gpu-gtx1050ti"));
	assert_null(pt_pve_config_find(&cfg, "GPU-GTX1050TI"));
	pt_pve_config_release(&cfg);
}

static void test_empty_and_missing_file(void **state)
{
	(void)state;
	assert_reformats_to("", "", "");
	assert_reformats_to("\n\n\n", "", "");
	assert_reformats_to("# only a comment\n", "", "");
	struct pt_pve_config cfg;
	assert_int_equal(pt_pve_config_parse("", 0, CFG, &cfg, NULL), 0);
	assert_string_equal(cfg.digest, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	assert_int_equal(cfg.count, 0);
	pt_pve_config_release(&cfg);
}

static void test_lenient_layout(void **state)
{
	(void)state;
	/* Spaces instead of a tab, keys in another order, trailing blanks, a comment
	 * inside a section, several blank lines, no final blank line. */
	const char *messy = "\n\n# GPUs\nrtx4090   \n"
	                    "  description RTX 4090 incl. audio function   \n"
	                    "    # the second node\n"
	                    " map id=10de:2684,iommugroup=14,node=pve1,path=0000:01:00,"
	                    "subsystem-id=1458:40bf\n"
	                    "\t \tmap  id=10de:2684,iommugroup=27,node=pve2,path=0000:41:00,"
	                    "subsystem-id=1458:40bf\n"
	                    "\n\n\n"
	                    "gpu-gtx1050ti\n"
	                    "\tmdev 1\n"
	                    "\tlive-migration-capable 0\n"
	                    "\tmap id=10de:1c82,iommugroup=14,node=pve1,path=0000:07:00,"
	                    "subsystem-id=1462:8c96";
	assert_reformats_to(messy, proxmox_written, "");
}

static void test_invalid_map_entry_dropped(void **state)
{
	(void)state;
	const char *text = "gpu\n"
	                   "\tmap id=10de:1c82,node=pve1,path=0000:07:00\n"
	                   "\tmap id=10de:1c82,node=pve2,path=07:00.0\n"
	                   "\tmap id=10DE:1C82,node=-pve3,path=0000:07:00,iommugroup=x\n"
	                   "\tmap id=10de:1c82,node=pve4,path=0000:07:00,color=red\n"
	                   "\tmap id=10de:1c82,node=pve5,node=pve6,path=0000:07:00\n"
	                   "\tmap node=pve7,path=0000:07:00\n"
	                   "\tmap just-a-word\n"
	                   "\tmap path=\n"
	                   "\n";
	const char *expected = "gpu\n\tmap id=10de:1c82,node=pve1,path=0000:07:00\n\n";
	const char *warnings =
	        "file " CFG " line 3 (section 'gpu') - unable to parse value of 'map': invalid "
	        "format - format error\npath: value does not match the regex pattern\n\n"
	        "file " CFG " line 4 (section 'gpu') - unable to parse value of 'map': invalid "
	        "format - format error\niommugroup: type check ('integer') failed - got 'x'\n"
	        "node: invalid format - value does not look like a valid node name\n\n\n"
	        "file " CFG " line 5 (section 'gpu') - unable to parse value of 'map': invalid "
	        "format - invalid key in comma-separated list property: color\n\n"
	        "file " CFG " line 6 (section 'gpu') - unable to parse value of 'map': invalid "
	        "format - duplicate key in comma-separated list property: node\n\n"
	        "file " CFG " line 7 (section 'gpu') - unable to parse value of 'map': invalid "
	        "format - format error\nid: property is missing and it is not optional\n\n"
	        "file " CFG " line 8 (section 'gpu') - unable to parse value of 'map': invalid "
	        "format - value without key, but schema does not define a default key\n\n"
	        "file " CFG " line 9 (section 'gpu') - unable to parse value of 'map': invalid "
	        "format - missing key in comma-separated list property\n\n";
	assert_reformats_to(text, expected, warnings);
}

static void test_section_without_valid_entry(void **state)
{
	(void)state;
	/* Proxmox keeps the id with no data: invisible, and its writer then fails. */
	const char *text = "good\n\tmap id=10de:1c82,node=pve1,path=0000:07:00\n\n"
	                   "bad\n\tmap id=10de:1c82,node=pve1,path=7:00\n\tdescription x\n";
	char *w = NULL, *err = NULL;
	char *out = reformat(text, &w, &err);
	assert_null(out);
	assert_string_equal(err, "unknown section type ''");
	assert_string_equal(w, "file " CFG " line 5 (section 'bad') - unable to parse value of "
	                       "'map': invalid format - format error\npath: value does not match "
	                       "the regex pattern\n\n"
	                       "file " CFG " line 6 (skip section 'bad'): missing value for "
	                       "required option 'map'\n");
	free(w);
	free(err);

	struct pt_pve_config cfg;
	assert_int_equal(pt_pve_config_parse(text, strlen(text), CFG, &cfg, NULL), 0);
	struct pt_pve_mapping *bad = pt_pve_config_find(&cfg, "bad");
	assert_non_null(bad);
	assert_true(bad->broken);
	assert_int_equal(bad->map_count, 0);
	assert_null(bad->description);
	/* Replacing it (as a create does) makes the file writable again, in place. */
	struct pt_pve_mapping m = {.mdev = -1, .live_migration = -1};
	m.id = strdup("bad");
	assert_int_equal(pt_pve_mapping_add_map(&m, "id=10de:1c82,node=pve1,path=0000:08:00"), 0);
	assert_int_equal(pt_pve_config_put(&cfg, &m), 0);
	assert_null(m.id);
	struct pt_strbuf out2 = PT_STRBUF_INIT;
	assert_int_equal(pt_pve_config_render(&cfg, &out2, &err), 0);
	assert_string_equal(pt_strbuf_str(&out2),
	                    "good\n\tmap id=10de:1c82,node=pve1,path=0000:07:00\n\n"
	                    "bad\n\tmap id=10de:1c82,node=pve1,path=0000:08:00\n\n");
	pt_strbuf_release(&out2);
	pt_pve_config_release(&cfg);
}

static void test_duplicate_id_last_wins(void **state)
{
	(void)state;
	const char *text = "gpu\n\tmap id=10de:1c82,node=pve1,path=0000:07:00\n\n"
	                   "nic\n\tmap id=8086:10d3,node=pve1,path=0000:04:00.0\n\n"
	                   "gpu\n\tmap id=10de:1c82,node=pve2,path=0000:08:00\n\n";
	assert_reformats_to(text,
	                    "nic\n\tmap id=8086:10d3,node=pve1,path=0000:04:00.0\n\n"
	                    "gpu\n\tmap id=10de:1c82,node=pve2,path=0000:08:00\n\n",
	                    "");
}

static void test_bad_ids_and_stray_lines(void **state)
{
	(void)state;
	const char *text = "1gpu\n\tmap id=10de:1c82,node=pve1,path=0000:07:00\n\n"
	                   "g\n\tmap id=10de:1c82,node=pve1,path=0000:07:00\n\n"
	                   "pci: gpu\n"
	                   "\n"
	                   "gpu\n"
	                   "\tmap id=10de:1c82,node=pve1,path=0000:07:00\n"
	                   "nic\n"
	                   "\tcolor red\n"
	                   "\tid gpu\n"
	                   "\ttype pci\n"
	                   "\tdescription one\n"
	                   "\tdescription two\n"
	                   "\tmdev yes\n"
	                   "\tlive-migration-capable\n"
	                   "\tmap\n"
	                   "   \n";
	const char *warnings =
	        "file " CFG " line 1 (skip section '1gpu'): invalid configuration ID '1gpu'\n"
	        "file " CFG " line 4 (skip section 'g'): invalid configuration ID 'g'\n"
	        "file " CFG " line 7 - ignore config line: pci: gpu\n"
	        "file " CFG " line 11 (section 'gpu') - ignore config line: nic\n"
	        "file " CFG " line 12 (section 'gpu') - unable to parse value of 'color': unknown "
	        "property type\n"
	        "file " CFG " line 13 (section 'gpu') - unable to parse value of 'id': unexpected "
	        "property 'id'\n"
	        "file " CFG " line 16 (section 'gpu') - unable to parse value of 'description': "
	        "duplicate attribute\n"
	        "file " CFG " line 17 (section 'gpu') - unable to parse value of 'mdev': type "
	        "check ('boolean') failed - got 'yes'\n"
	        "file " CFG " line 19 (section 'gpu') - unable to parse value of 'map': got "
	        "undefined value\n"
	        "file " CFG " line 20 (section 'gpu') - ignore config line:    \n";
	assert_reformats_to(text,
	                    "gpu\n\tmap id=10de:1c82,node=pve1,path=0000:07:00\n"
	                    "\tdescription one\n\tlive-migration-capable 1\n\n",
	                    warnings);
}

static void test_crlf_and_zero_line(void **state)
{
	(void)state;
	/* A line "0" is false to Perl: it ends a section like a blank line. */
	assert_reformats_to("a0\n\tmap id=10de:1c82,node=pve1,path=0000:07:00\n0\n\tmdev 1\n",
	                    "a0\n\tmap id=10de:1c82,node=pve1,path=0000:07:00\n\n",
	                    "file " CFG " line 4 - ignore config line: \tmdev 1\n");
	/* CRLF: "\r" lines are not blank to Proxmox, so sections run together. */
	char *w = NULL;
	char *out = reformat("a1\r\n\tmap id=10de:1c82,node=pve1,path=0000:07:00\r\n\r\nb1\r\n", &w,
	                     NULL);
	assert_string_equal(out, "a1\n\tmap id=10de:1c82,node=pve1,path=0000:07:00\n\n");
	assert_non_null(strstr(w, "line 3 (section 'a1') - ignore config line: \r"));
	assert_non_null(strstr(w, "line 4 (section 'a1') - ignore config line: b1\r"));
	free(out);
	free(w);
}

static void test_render_section(void **state)
{
	(void)state;
	struct pt_pve_mapping m = {.mdev = -1, .live_migration = -1};
	m.id = strdup("gpu");
	m.description = strdup("");
	assert_int_equal(pt_pve_mapping_add_map(&m, "id=10de:1c82,node=pve1,path=0000:07:00"), 0);
	m.live_migration = 1;
	struct pt_strbuf out = PT_STRBUF_INIT;
	assert_int_equal(pt_pve_mapping_render(&m, &out), 0);
	/* An empty description is not written, as Proxmox skips empty values. */
	assert_string_equal(pt_strbuf_str(&out), "gpu\n\tmap id=10de:1c82,node=pve1,"
	                                         "path=0000:07:00\n\tlive-migration-capable 1\n\n");
	pt_strbuf_release(&out);

	struct pt_pve_mapping copy;
	assert_int_equal(pt_pve_mapping_copy(&copy, &m), 0);
	assert_string_equal(copy.map[0], m.map[0]);
	assert_int_equal(copy.live_migration, 1);
	pt_pve_mapping_release(&copy);
	pt_pve_mapping_release(&m);
	assert_int_equal(m.mdev, -1);
}

static void test_config_put_remove(void **state)
{
	(void)state;
	struct pt_pve_config cfg;
	assert_int_equal(
	        pt_pve_config_parse(proxmox_written, strlen(proxmox_written), CFG, &cfg, NULL), 0);
	struct pt_pve_mapping m = {.mdev = -1, .live_migration = -1};
	m.id = strdup("nic");
	assert_int_equal(pt_pve_mapping_add_map(&m, "id=8086:10d3,node=pve1,path=0000:04:00.0"), 0);
	assert_int_equal(pt_pve_config_put(&cfg, &m), 0);
	assert_int_equal(cfg.count, 3);
	assert_string_equal(cfg.sections[2].id, "nic");
	assert_true(pt_pve_config_remove(&cfg, "rtx4090"));
	assert_false(pt_pve_config_remove(&cfg, "rtx4090"));
	assert_int_equal(cfg.count, 2);
	assert_string_equal(cfg.sections[0].id, "gpu-gtx1050ti");
	assert_string_equal(cfg.sections[1].id, "nic");
	pt_pve_config_release(&cfg);
}

/* ---- schema and entries --------------------------------------------------------- */

static void test_validators(void **state)
{
	(void)state;
	assert_true(pt_pve_valid_configid("gpu-gtx1050ti"));
	assert_true(pt_pve_valid_configid("GPU_1"));
	assert_true(pt_pve_valid_configid("ab"));
	assert_false(pt_pve_valid_configid("a"));
	assert_false(pt_pve_valid_configid("1gpu"));
	assert_false(pt_pve_valid_configid("gpu.1"));
	assert_false(pt_pve_valid_configid(""));
	assert_false(pt_pve_valid_configid(NULL));

	assert_true(pt_pve_valid_node("pve1"));
	assert_true(pt_pve_valid_node("p"));
	assert_true(pt_pve_valid_node("PVE-node-2"));
	assert_false(pt_pve_valid_node("-pve"));
	assert_false(pt_pve_valid_node("pve-"));
	assert_false(pt_pve_valid_node("pve1.example.com"));
	assert_false(pt_pve_valid_node("pve_1"));
	assert_false(pt_pve_valid_node(""));

	assert_true(pt_pve_valid_pci_id("10de:1c82"));
	assert_true(pt_pve_valid_pci_id("10DE:1C82"));
	assert_false(pt_pve_valid_pci_id("10de1c82"));
	assert_false(pt_pve_valid_pci_id("0x10de:0x1c82"));
	assert_false(pt_pve_valid_pci_id("10de:1c8"));

	assert_true(pt_pve_valid_path("0000:07:00"));
	assert_true(pt_pve_valid_path("0000:07:00.1"));
	assert_true(pt_pve_valid_path("10000:07:00.1"));
	assert_true(pt_pve_valid_path("0000:07:00;0000:08:00.0"));
	assert_false(pt_pve_valid_path("07:00.0"));
	assert_false(pt_pve_valid_path("0000:07:00.0;"));
	assert_false(pt_pve_valid_path("0000:0A:00.0"));
	assert_false(pt_pve_valid_path("0000:07:00:1"));
	assert_false(pt_pve_valid_path("0000:07:00.g"));
	assert_false(pt_pve_valid_path(""));

	assert_true(pt_pve_valid_integer("14"));
	assert_true(pt_pve_valid_integer("-1"));
	assert_true(pt_pve_valid_integer("+014"));
	assert_false(pt_pve_valid_integer("1.0"));
	assert_false(pt_pve_valid_integer(""));
}

static void test_entry_parse_and_format(void **state)
{
	(void)state;
	struct pt_pve_map_entry e;
	struct pt_report rep;
	pt_report_init(&rep);
	assert_int_equal(pt_pve_map_entry_parse("subsystem-id=1462:8c96,path=0000:07:00,node=pve1,"
	                                        "iommugroup=14,id=10de:1c82,description=GTX",
	                                        "map[0]", &e, &rep),
	                 0);
	assert_null(rep.msg);
	pt_report_release(&rep);
	assert_string_equal(e.node, "pve1");
	assert_string_equal(e.path, "0000:07:00");
	assert_string_equal(e.id, "10de:1c82");
	assert_string_equal(e.subsystem_id, "1462:8c96");
	assert_string_equal(e.iommugroup, "14");
	assert_string_equal(e.description, "GTX");
	char *text = pt_pve_map_entry_format(&e);
	/* Sorted as the web interface writes it. */
	assert_string_equal(text, "description=GTX,id=10de:1c82,iommugroup=14,node=pve1,"
	                          "path=0000:07:00,subsystem-id=1462:8c96");
	free(text);
	free(e.description);
	e.description = NULL;
	text = pt_pve_map_entry_format(&e);
	assert_string_equal(
	        text,
	        "id=10de:1c82,iommugroup=14,node=pve1,path=0000:07:00,subsystem-id=1462:8c96");
	free(text);
	pt_pve_map_entry_release(&e);

	/* Blank parts are skipped; "=" inside a value is fine. */
	assert_int_equal(pt_pve_map_entry_parse(" ,id=10de:1c82,,node=n,path=0000:07:00,"
	                                        "description=a=b,",
	                                        "", &e, NULL),
	                 0);
	assert_string_equal(e.description, "a=b");
	pt_pve_map_entry_release(&e);

	/* Proxmox's path pattern writes "\\." in a double-quoted Perl string, which
	 * leaves "." — any character: the API takes 0000:07:00:1. The module's own
	 * check does not. */
	assert_int_equal(
	        pt_pve_map_entry_parse("id=10de:1c82,node=n,path=0000:07:00:1", "", &e, NULL), 0);
	pt_pve_map_entry_release(&e);
}

static void test_entry_errors(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		const char *error;
	} cases[] = {
	        {"id=10de:1c82,node=pve1,path=7:00",
	         "invalid format - format error\nmap[2].path: value does not match the regex "
	         "pattern\n"},
	        {"", "invalid format - format error\n"
	             "map[2].id: property is missing and it is not optional\n"
	             "map[2].node: property is missing and it is not optional\n"
	             "map[2].path: property is missing and it is not optional\n"},
	        {"id=10de:1c8,subsystem-id=x,node=pve_1,path=0000:07:00,iommugroup=1.5",
	         "invalid format - format error\n"
	         "map[2].id: value does not match the regex pattern\n"
	         "map[2].iommugroup: type check ('integer') failed - got '1.5'\n"
	         "map[2].node: invalid format - value does not look like a valid node name\n\n"
	         "map[2].subsystem-id: value does not match the regex pattern\n"},
	        {"id=10de:1c82,node=pve1,path=0000:07:00,foo=1",
	         "invalid format - invalid key in comma-separated list property: foo\n"},
	        {"id=10de:1c82,id=10de:1c82",
	         "invalid format - duplicate key in comma-separated list property: id\n"},
	        {"pve1", "invalid format - value without key, but schema does not define a "
	                 "default key\n"},
	        {"=pve1", "invalid format - missing key in comma-separated list property\n"},
	        {"node=", "invalid format - missing key in comma-separated list property\n"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct pt_pve_map_entry e;
		struct pt_report rep;
		pt_report_init(&rep);
		assert_int_equal(pt_pve_map_entry_parse(cases[i].text, "map[2]", &e, &rep),
		                 -EINVAL);
		assert_string_equal(rep.msg, cases[i].error);
		assert_null(e.node);
		pt_report_release(&rep);
		/* Without a report, only the answer. */
		assert_int_equal(pt_pve_map_entry_parse(cases[i].text, "map[2]", &e, NULL),
		                 -EINVAL);
		assert_null(e.node);
	}
	/* A description of 4097 characters is too long. */
	char long_desc[4200];
	int n = snprintf(long_desc, sizeof long_desc,
	                 "id=10de:1c82,node=a,path=0000:07:00,"
	                 "description=");
	memset(long_desc + n, 'x', 4097);
	long_desc[n + 4097] = '\0';
	struct pt_pve_map_entry e;
	struct pt_report rep;
	pt_report_init(&rep);
	assert_int_equal(pt_pve_map_entry_parse(long_desc, "", &e, &rep), -EINVAL);
	assert_string_equal(rep.msg,
	                    "invalid format - format error\ndescription: value may only be "
	                    "4096 characters long\n");
	pt_report_release(&rep);
}

static void test_semantic_equality(void **state)
{
	(void)state;
	const char *base = "id=10de:1c82,iommugroup=14,node=pve1,path=0000:07:00,"
	                   "subsystem-id=1462:8c96";
	assert_true(pt_pve_map_text_equal(base, "node=pve1,path=0000:07:00,id=10DE:1C82,"
	                                        "subsystem-id=1462:8C96,iommugroup=014"));
	assert_false(pt_pve_map_text_equal(base, "id=10de:1c82,iommugroup=14,node=pve1,"
	                                         "path=0000:07:00.0,subsystem-id=1462:8c96"));
	assert_false(pt_pve_map_text_equal(base, "id=10de:1c82,iommugroup=14,node=PVE1,"
	                                         "path=0000:07:00,subsystem-id=1462:8c96"));
	assert_false(pt_pve_map_text_equal(base, "id=10de:1c82,node=pve1,path=0000:07:00,"
	                                         "subsystem-id=1462:8c96"));
	assert_false(pt_pve_map_text_equal(base, "id=10de:1c82,iommugroup=13,node=pve1,"
	                                         "path=0000:07:00,subsystem-id=1462:8c96"));
	assert_false(pt_pve_map_text_equal(base,
	                                   "description=x,id=10de:1c82,iommugroup=14,"
	                                   "node=pve1,path=0000:07:00,subsystem-id=1462:8c96"));
	/* Entries Proxmox would not accept compare as text. */
	assert_true(pt_pve_map_text_equal("junk", "junk"));
	assert_false(pt_pve_map_text_equal("junk", base));

	char *a[] = {"id=10de:1c82,node=pve1,path=0000:07:00",
	             "id=10de:1c82,node=pve2,path=0000:08:00",
	             "id=10de:1c82,node=pve1,path=0000:07:00"};
	char *b[] = {"node=pve2,path=0000:08:00,id=10de:1c82",
	             "id=10de:1c82,node=pve1,path=0000:07:00",
	             "path=0000:07:00,node=pve1,id=10DE:1C82"};
	char *c[] = {"id=10de:1c82,node=pve1,path=0000:07:00",
	             "id=10de:1c82,node=pve2,path=0000:08:00",
	             "id=10de:1c82,node=pve2,path=0000:08:00"};
	assert_true(pt_pve_map_list_equal(a, 3, b, 3));
	assert_false(pt_pve_map_list_equal(a, 3, c, 3));
	assert_false(pt_pve_map_list_equal(a, 2, b, 3));
	assert_true(pt_pve_map_list_equal(NULL, 0, NULL, 0));

	char *node = pt_pve_map_text_node(base);
	assert_string_equal(node, "pve1");
	free(node);
	assert_null(pt_pve_map_text_node("id=10de:1c82"));
}

/* ---- the hardware check ---------------------------------------------------------- */

/* The seed host: GTX 1050 Ti at 07:00.0, its audio at 07:00.1, group 14; a device
 * without subsystem IDs at 08:00.0 in no group. */
static int seed_lookup(void *ctx, const char *address, struct pt_pve_hw_function *out)
{
	(void)ctx;
	if (strcmp(address, "0000:07:00.0") == 0) {
		strcpy(out->id, "10de:1c82");
		strcpy(out->subsystem_id, "1462:8c96");
		out->iommugroup = 14;
	} else if (strcmp(address, "0000:07:00.1") == 0) {
		strcpy(out->id, "10de:0fb9");
		strcpy(out->subsystem_id, "1462:8c96");
		out->iommugroup = 14;
	} else if (strcmp(address, "0000:08:00.0") == 0) {
		strcpy(out->id, "1234:5678");
		out->subsystem_id[0] = '\0';
		out->iommugroup = -1;
	} else {
		return -ENOENT;
	}
	return 0;
}

/* Proxmox's message for entry (caller frees), NULL when it passes. */
static char *check(const char *entry)
{
	struct pt_pve_map_entry e;
	assert_int_equal(pt_pve_map_entry_parse(entry, "", &e, NULL), 0);
	struct pt_report rep;
	pt_report_init(&rep);
	int r = pt_pve_map_entry_check_hw("gpu", &e, seed_lookup, NULL, &rep);
	pt_pve_map_entry_release(&e);
	assert_true(r == 0 ? rep.msg == NULL : rep.msg != NULL);
	char *msg = rep.msg ? strdup(rep.msg) : NULL;
	pt_report_release(&rep);
	return msg;
}

static void test_hardware_check(void **state)
{
	(void)state;
	static const struct {
		const char *entry;
		const char *msg; /* NULL: passes */
	} cases[] = {
	        {"id=10de:1c82,iommugroup=14,node=pve1,path=0000:07:00,subsystem-id=1462:8c96",
	         NULL},
	        {"id=10de:0fb9,iommugroup=14,node=pve1,path=0000:07:00.1,subsystem-id=1462:8c96",
	         NULL},
	        {"id=10de:1c83,iommugroup=14,node=pve1,path=0000:07:00,subsystem-id=1462:8c96",
	         "'id' does not match for 'gpu' (10de:1c82 != 10de:1c83)"},
	        /* Proxmox compares the text: upper case and leading zeros fail at VM start. */
	        {"id=10DE:1C82,iommugroup=14,node=pve1,path=0000:07:00,subsystem-id=1462:8c96",
	         "'id' does not match for 'gpu' (10de:1c82 != 10DE:1C82)"},
	        {"id=10de:1c82,iommugroup=014,node=pve1,path=0000:07:00,subsystem-id=1462:8c96",
	         "'iommugroup' does not match for 'gpu' (14 != 014)"},
	        {"id=10de:1c82,iommugroup=13,node=pve1,path=0000:07:00,subsystem-id=1462:8c96",
	         "'iommugroup' does not match for 'gpu' (14 != 13)"},
	        {"id=10de:1c82,iommugroup=14,node=pve1,path=0000:07:00",
	         "missing expected property 'subsystem-id' for device '0000:07:00.0'"},
	        {"id=10de:1c82,node=pve1,path=0000:07:00,subsystem-id=1462:8c96",
	         "missing expected property 'iommugroup' for device '0000:07:00.0'"},
	        {"id=1234:5678,node=pve1,path=0000:08:00", NULL},
	        {"id=1234:5678,iommugroup=3,node=pve1,path=0000:08:00",
	         "unexpected property 'iommugroup' configured for device '0000:08:00.0'"},
	        {"id=1234:5678,node=pve1,path=0000:08:00,subsystem-id=1462:8c96",
	         "unexpected property 'subsystem-id' configured for device '0000:08:00.0'"},
	        {"id=10de:1c82,iommugroup=14,node=pve1,path=0000:09:00",
	         "pci device '0000:09:00.0' not found"},
	        /* Several paths: the group only for the first, the IDs for each. */
	        {"id=10de:1c82,iommugroup=14,node=pve1,path=0000:07:00;0000:07:00.1,"
	         "subsystem-id=1462:8c96",
	         "'id' does not match for 'gpu' (10de:0fb9 != 10de:1c82)"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *msg = check(cases[i].entry);
		if (cases[i].msg)
			assert_string_equal(msg, cases[i].msg);
		else
			assert_null(msg);
		free(msg);
	}
}

/* ---- merging --------------------------------------------------------------------- */

static void test_merge_node(void **state)
{
	(void)state;
	char *existing[] = {
	        "id=10de:1c82,node=pve2,path=0000:02:00", "id=10de:1c82,node=pve1,path=0000:07:00",
	        "id=10de:1c82,node=pve3,path=0000:03:00", "id=10de:1c82,node=pve1,path=0000:08:00"};
	char *wanted[] = {"id=10de:1c82,iommugroup=14,node=pve1,path=0000:07:00"};
	char **out = NULL;
	size_t n = 0;
	assert_int_equal(pt_pve_map_merge_node(existing, 4, "pve1", wanted, 1, &out, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(out[0], existing[0]);
	assert_string_equal(out[1], wanted[0]);
	assert_string_equal(out[2], existing[2]);
	for (size_t i = 0; i < n; i++)
		free(out[i]);
	free(out);

	/* A new node goes to the end; removing a node's entries keeps the others. */
	assert_int_equal(pt_pve_map_merge_node(existing, 4, "pve9", wanted, 1, &out, &n), 0);
	assert_int_equal(n, 5);
	assert_string_equal(out[4], wanted[0]);
	for (size_t i = 0; i < n; i++)
		free(out[i]);
	free(out);
	assert_int_equal(pt_pve_map_merge_node(existing, 4, "pve1", NULL, 0, &out, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(out[0], existing[0]);
	assert_string_equal(out[1], existing[2]);
	for (size_t i = 0; i < n; i++)
		free(out[i]);
	free(out);
	assert_int_equal(pt_pve_map_merge_node(NULL, 0, "pve1", wanted, 1, &out, &n), 0);
	assert_int_equal(n, 1);
	free(out[0]);
	free(out);
}

/* ---- pvesh JSON ------------------------------------------------------------------ */

static void test_json_round_trip(void **state)
{
	(void)state;
	struct pt_pve_config cfg;
	assert_int_equal(
	        pt_pve_config_parse(proxmox_written, strlen(proxmox_written), CFG, &cfg, NULL), 0);
	json_t *obj = pt_pve_mapping_to_json(&cfg.sections[1], cfg.digest, false);
	char *text = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
	char expected[512];
	snprintf(expected, sizeof expected,
	         "{\"digest\":\"%s\",\"live-migration-capable\":0,\"map\":[\"id=10de:1c82,"
	         "iommugroup=14,node=pve1,path=0000:07:00,subsystem-id=1462:8c96\"],\"mdev\":1,"
	         "\"type\":\"pci\"}",
	         cfg.digest);
	assert_string_equal(text, expected);
	free(text);

	struct pt_pve_mapping m;
	char digest[PT_PVE_DIGEST_SIZE];
	assert_int_equal(pt_pve_mapping_from_json(obj, "gpu-gtx1050ti", &m, digest, NULL), 0);
	assert_string_equal(m.id, "gpu-gtx1050ti");
	assert_string_equal(digest, cfg.digest);
	assert_int_equal(m.mdev, 1);
	assert_int_equal(m.live_migration, 0);
	assert_null(m.description);
	assert_int_equal(m.map_count, 1);
	pt_pve_mapping_release(&m);
	json_decref(obj);

	obj = pt_pve_mapping_to_json(&cfg.sections[0], cfg.digest, true);
	assert_string_equal(json_string_value(json_object_get(obj, "id")), "rtx4090");
	json_decref(obj);
	pt_pve_config_release(&cfg);
}

static void test_json_lenient_and_errors(void **state)
{
	(void)state;
	struct pt_pve_mapping m;
	char digest[PT_PVE_DIGEST_SIZE];
	json_t *obj = json_loads("{\"id\":\"gpu\",\"map\":[],\"mdev\":true,"
	                         "\"live-migration-capable\":\"0\",\"extra\":{},\"checks\":[]}",
	                         0, NULL);
	assert_int_equal(pt_pve_mapping_from_json(obj, NULL, &m, digest, NULL), 0);
	assert_string_equal(m.id, "gpu");
	assert_int_equal(m.mdev, 1);
	assert_int_equal(m.live_migration, 0);
	assert_string_equal(digest, "");
	pt_pve_mapping_release(&m);
	json_decref(obj);

	static const char *const bad[] = {
	        "[]",
	        "{\"map\":\"id=10de:1c82\"}",
	        "{\"map\":[1]}",
	        "{\"description\":5}",
	        "{\"mdev\":\"maybe\"}",
	        "{\"id\":7}",
	        "{\"digest\":\"0123456789012345678901234567890123456789012345678901234567890123456"
	        "789\"}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		obj = json_loads(bad[i], 0, NULL);
		assert_non_null(obj);
		struct pt_report rep;
		pt_report_init(&rep);
		assert_int_equal(pt_pve_mapping_from_json(obj, "gpu", &m, digest, &rep), -EINVAL);
		assert_non_null(rep.msg);
		pt_report_release(&rep);
		json_decref(obj);
	}
	/* Bytes that are not UTF-8 come out as Latin-1, as from Perl's encoder. */
	struct pt_pve_mapping latin = {.mdev = -1, .live_migration = -1};
	latin.id = strdup("gpu");
	latin.description = strdup("caf\xe9");
	obj = pt_pve_mapping_to_json(&latin, NULL, false);
	assert_string_equal(json_string_value(json_object_get(obj, "description")), "caf\xc3\xa9");
	json_decref(obj);
	pt_pve_mapping_release(&latin);
}

/* What survives pvesh (fails before: there was no such check; "€" was sent and
 * came back as three other characters, every run). */
static void test_text_rules(void **state)
{
	(void)state;
	struct pt_report rep;
	pt_report_init(&rep);
	assert_int_equal(pt_pve_text_check("description", "für Grüße, 5 °C ÿ", &rep), 0);
	assert_null(rep.msg);
	assert_int_equal(pt_pve_text_check("description", "Preis 5 €", &rep), -EINVAL);
	assert_non_null(
	        strstr(rep.msg, "description: character 9, '€' (U+20AC), cannot be stored"));
	pt_report_release(&rep);
	pt_report_init(&rep);
	assert_int_equal(pt_pve_text_check("map[2].description", "ok \xf0\x9f\x98\x80", &rep),
	                 -EINVAL);
	assert_non_null(strstr(rep.msg, "map[2].description: character 4, '\xf0\x9f\x98\x80' "
	                                "(U+1F600)"));
	pt_report_release(&rep);
	pt_report_init(&rep);
	assert_int_equal(pt_pve_text_check("description", "bad \xfc", &rep), -EINVAL);
	assert_non_null(strstr(rep.msg, "description is not UTF-8 text (byte 5)"));
	pt_report_release(&rep);
	/* Perl's \s on bytes: ASCII blanks only, not U+00A0 */
	char *t = pt_pve_text_trim(" \t\f\vpadded \xc2\xa0 \r\n");
	assert_string_equal(t, "padded \xc2\xa0");
	free(t);
	t = pt_pve_text_trim("   ");
	assert_string_equal(t, "");
	free(t);
	assert_int_equal(pt_pve_text_chars("für"), 3);
	assert_int_equal(pt_pve_text_chars(NULL), 0);
	/* maxLength counts characters: 4096 two-byte characters are fine */
	struct pt_strbuf sb = PT_STRBUF_INIT;
	for (int i = 0; i < PT_PVE_DESCRIPTION_MAX; i++)
		pt_strbuf_puts(&sb, "ü");
	struct pt_pve_map_entry e;
	char *entry = NULL;
	assert_true(asprintf(&entry, "description=%s,id=10de:1c82,node=pve1,path=0000:07:00",
	                     pt_strbuf_str(&sb)) > 0);
	assert_int_equal(pt_pve_map_entry_parse(entry, "map[0]", &e, NULL), 0);
	pt_pve_map_entry_release(&e);
	free(entry);
	pt_strbuf_puts(&sb, "ü");
	assert_true(asprintf(&entry, "description=%s,id=10de:1c82,node=pve1,path=0000:07:00",
	                     pt_strbuf_str(&sb)) > 0);
	pt_report_init(&rep);
	assert_int_equal(pt_pve_map_entry_parse(entry, "map[0]", &e, &rep), -EINVAL);
	assert_non_null(
	        strstr(rep.msg, "map[0].description: value may only be 4096 characters long"));
	pt_report_release(&rep);
	free(entry);
	pt_strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_sha1_vectors),
	        cmocka_unit_test(test_proxmox_file_round_trips),
	        cmocka_unit_test(test_empty_and_missing_file),
	        cmocka_unit_test(test_lenient_layout),
	        cmocka_unit_test(test_invalid_map_entry_dropped),
	        cmocka_unit_test(test_section_without_valid_entry),
	        cmocka_unit_test(test_duplicate_id_last_wins),
	        cmocka_unit_test(test_bad_ids_and_stray_lines),
	        cmocka_unit_test(test_crlf_and_zero_line),
	        cmocka_unit_test(test_render_section),
	        cmocka_unit_test(test_config_put_remove),
	        cmocka_unit_test(test_validators),
	        cmocka_unit_test(test_entry_parse_and_format),
	        cmocka_unit_test(test_entry_errors),
	        cmocka_unit_test(test_semantic_equality),
	        cmocka_unit_test(test_hardware_check),
	        cmocka_unit_test(test_merge_node),
	        cmocka_unit_test(test_json_round_trip),
	        cmocka_unit_test(test_json_lenient_and_errors),
	        cmocka_unit_test(test_text_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
