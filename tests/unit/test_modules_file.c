/* module_utils/modules_file and vfio_modules: which vfio modules the installed kernels want in
 * /etc/modules, and the edit that adds only the missing ones and keeps the
 * user's own lines byte for byte (tests/fixtures/files/modules, and the corpus
 * when it is there). */
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

#include "files.h"
#include "modules_file.h"
#include "vfio_modules.h"
#include "support/corpus.h"
#include "support/tmptree.h"

#define OWNER "homelab.passthrough.vfio_bind"
#define BEGIN "# BEGIN " OWNER ": vfio modules, managed by Ansible (edits here are overwritten)\n"
#define END   "# END " OWNER "\n"

static char root[256];

/* name from the corpus (corpus/modules) or, with a "fixture:" prefix, from
 * tests/fixtures/files/modules. Caller frees. */
static char *corpus_text(const char *name)
{
	char path[512];
	if (strncmp(name, "fixture:", 8) == 0)
		snprintf(path, sizeof path, FIXTURES_DIR "/files/modules/%s", name + 8);
	else
		snprintf(path, sizeof path, "%s", corpus_path("modules", name));
	char *data = NULL;
	int r = pt_file_read(path, &data, NULL);
	if (r < 0)
		fail_msg("cannot read %s: %s", path, strerror(-r));
	return data;
}

static json_t *three(void)
{
	return json_pack("[s,s,s]", "vfio", "vfio_iommu_type1", "vfio_pci");
}

static json_t *four(void)
{
	return json_pack("[s,s,s,s]", "vfio", "vfio_iommu_type1", "vfio_pci", "vfio_virqfd");
}

/* Update text with wanted; the result, with the notes in *notes (new ref). */
static char *update(const char *text, const json_t *wanted, json_t **notes)
{
	char *out = NULL;
	struct pt_report err = {0};
	json_t *n = json_array();
	int r = pt_modules_file_update(text, wanted, OWNER, "/etc/modules", &out, n, &err);
	if (r < 0)
		fail_msg("update failed: %d %s", r, err.msg ? err.msg : "");
	if (notes)
		*notes = n;
	else
		json_decref(n);
	return out;
}

/* --- the kernel-aware list ---------------------------------------------------- */

static void expect_list(json_t *list, const char *want)
{
	char *got = json_dumps(list, JSON_COMPACT);
	if (strcmp(got, want) != 0)
		fail_msg("want %s, got %s", want, got);
	free(got);
}

static void test_list_from_states(void **state)
{
	(void)state;
	json_t *s = json_array();
	json_t *l = pt_vfio_modules_for_states(s);
	expect_list(l, "[\"vfio\",\"vfio_iommu_type1\",\"vfio_pci\"]");
	json_decref(l);
	json_decref(s);

	s = json_pack("[s,s]", "absent", "builtin");
	l = pt_vfio_modules_for_states(s);
	expect_list(l, "[\"vfio\",\"vfio_iommu_type1\",\"vfio_pci\"]");
	json_decref(l);
	json_decref(s);

	/* one installed kernel still ships it as a module: listed */
	s = json_pack("[s,s]", "absent", "module");
	l = pt_vfio_modules_for_states(s);
	expect_list(l, "[\"vfio\",\"vfio_iommu_type1\",\"vfio_pci\",\"vfio_virqfd\"]");
	json_decref(l);
	json_decref(s);
}

/* root/rel with text, its directories made */
static void put(const char *rel, const char *text)
{
	tmptree_put(root, rel, text);
}

static int make_root(void **state)
{
	(void)state;
	return tmptree_make(root, sizeof root, "modules") < 0 ? -1 : 0;
}

static int drop_root(void **state)
{
	(void)state;
	tmptree_remove(root);
	return 0;
}

/* Debian 12's 6.1 (vfio_virqfd.ko) */
static void kernel_61(void)
{
	put("/lib/modules/6.1.0-18-amd64/modules.dep",
	    "kernel/drivers/vfio/vfio.ko:\n"
	    "kernel/drivers/vfio/vfio_virqfd.ko:\n"
	    "kernel/drivers/vfio/vfio_iommu_type1.ko: kernel/drivers/vfio/vfio.ko\n"
	    "kernel/drivers/vfio/pci/vfio-pci-core.ko: kernel/drivers/vfio/vfio_virqfd.ko "
	    "kernel/drivers/vfio/vfio.ko\n"
	    "kernel/drivers/vfio/pci/vfio-pci.ko: kernel/drivers/vfio/pci/vfio-pci-core.ko\n");
	put("/lib/modules/6.1.0-18-amd64/modules.builtin", "kernel/drivers/pci/pcieport.ko\n");
}

/* Proxmox's 6.8 (vfio_virqfd folded into vfio) */
static void kernel_68(void)
{
	put("/lib/modules/6.8.12-4-pve/modules.dep",
	    "kernel/drivers/vfio/vfio.ko:\n"
	    "kernel/drivers/vfio/vfio_iommu_type1.ko: kernel/drivers/vfio/vfio.ko\n"
	    "kernel/drivers/vfio/pci/vfio-pci.ko: kernel/drivers/vfio/pci/vfio-pci-core.ko\n");
	put("/lib/modules/6.8.12-4-pve/modules.builtin", "kernel/drivers/pci/pcieport.ko\n");
}

static void test_wanted_mixed_kernels(void **state)
{
	(void)state;
	kernel_61();
	kernel_68();
	json_t *kernels = NULL;
	json_t *l = pt_vfio_modules_wanted(root, &kernels);
	expect_list(l, "[\"vfio\",\"vfio_iommu_type1\",\"vfio_pci\",\"vfio_virqfd\"]");
	expect_list(kernels, "[{\"release\":\"6.1.0-18-amd64\",\"vfio_virqfd\":\"module\"},"
	                     "{\"release\":\"6.8.12-4-pve\",\"vfio_virqfd\":\"absent\"}]");
	json_decref(l);
	json_decref(kernels);
}

static void test_wanted_new_kernels_only(void **state)
{
	(void)state;
	kernel_68();
	json_t *l = pt_vfio_modules_wanted(root, NULL);
	expect_list(l, "[\"vfio\",\"vfio_iommu_type1\",\"vfio_pci\"]");
	json_decref(l);
}

static void test_wanted_no_kernels(void **state)
{
	(void)state;
	json_t *kernels = NULL;
	json_t *l = pt_vfio_modules_wanted(root, &kernels);
	expect_list(l, "[\"vfio\",\"vfio_iommu_type1\",\"vfio_pci\"]");
	expect_list(kernels, "[]");
	json_decref(l);
	json_decref(kernels);
}

/* --- the edit ------------------------------------------------------------------ */

static void test_line_loads(void **state)
{
	(void)state;
	assert_true(pt_modules_line_loads("vfio_pci", "vfio_pci"));
	assert_true(pt_modules_line_loads(" \tvfio-pci \r", "vfio_pci"));
	assert_true(pt_modules_line_loads("vfio_pci", "vfio-pci"));
	assert_false(pt_modules_line_loads("#vfio_pci", "vfio_pci"));
	assert_false(pt_modules_line_loads("; vfio_pci", "vfio_pci"));
	assert_false(pt_modules_line_loads("vfio_pci ids=10de:1b80", "vfio_pci"));
	assert_false(pt_modules_line_loads("vfio", "vfio_pci"));
	assert_false(pt_modules_line_loads("", "vfio"));
}

static void test_empty_file(void **state)
{
	(void)state;
	json_t *w = three();
	char *t = update("", w, NULL);
	assert_string_equal(t, BEGIN "vfio\nvfio_iommu_type1\nvfio_pci\n" END);
	char *again = update(t, w, NULL);
	assert_string_equal(again, t);
	char *back = update(t, NULL, NULL);
	assert_string_equal(back, "");
	free(t);
	free(again);
	free(back);
	json_decref(w);
}

static void test_block_follows_wanted(void **state)
{
	(void)state;
	json_t *w4 = four(), *w3 = three();
	char *t = update("# /etc/modules\nvfio\n", w4, NULL);
	assert_string_equal(t, "# /etc/modules\nvfio\n" BEGIN
	                       "vfio_iommu_type1\nvfio_pci\nvfio_virqfd\n" END);
	/* the old kernel went away: vfio_virqfd leaves the block */
	char *t2 = update(t, w3, NULL);
	assert_string_equal(t2, "# /etc/modules\nvfio\n" BEGIN "vfio_iommu_type1\nvfio_pci\n" END);
	/* the user listed the rest: the block goes */
	char *t3 =
	        update("# /etc/modules\nvfio\nvfio_pci\nvfio_iommu_type1\n" BEGIN "vfio_pci\n" END,
	               w3, NULL);
	assert_string_equal(t3, "# /etc/modules\nvfio\nvfio_pci\nvfio_iommu_type1\n");
	free(t);
	free(t2);
	free(t3);
	json_decref(w4);
	json_decref(w3);
}

static void test_damaged_block(void **state)
{
	(void)state;
	json_t *w = three();
	char *out = NULL;
	struct pt_report err = {0};
	assert_int_equal(pt_modules_file_update("vfio\n" BEGIN "vfio_pci\n", w, OWNER,
	                                        "/etc/modules", &out, NULL, &err),
	                 -EINVAL);
	assert_null(out);
	assert_int_equal(err.error, -EINVAL);
	assert_non_null(strstr(err.msg, "/etc/modules"));
	assert_non_null(strstr(err.msg, "line 2"));
	pt_report_release(&err);
	json_decref(w);
}

/* What each corpus file becomes with the three modules and with four. */
struct corpus_case {
	const char *file;
	const char *added3; /* block body for [vfio, vfio_iommu_type1, vfio_pci] */
	const char *added4; /* ... plus vfio_virqfd */
	int notes3, notes4; /* how many notes each run gives */
};

static const struct corpus_case cases[] = {
        /* all four listed, no final newline: vfio_virqfd is noted when unwanted */
        {"001-iroger-ASRock-TRX40-proxmox.modules", "", "", 1, 0},
        {"002-spongeyperson-pveserver-dotfiles.modules", "", "", 1, 0},
        {"003-HackInTheBox-proxmox_config.modules", "", "", 1, 0},
        /* the three, no final newline */
        {"004-DStait-gpu-passthrough.modules", "", "vfio_virqfd\n", 0, 0},
        /* #vfio_virqfd is a comment */
        {"005-JoonaHa-Single-GPU-VFIO-Win10.modules", "", "vfio_virqfd\n", 0, 0},
        /* vfio_pci with parameters loads nothing */
        {"006-MikeRamos58-vfio-setup.modules", "vfio_pci\n", "vfio_pci\nvfio_virqfd\n", 1, 1},
        {"007-sekadau-online-passthrough-proxmox.modules", "", "", 1, 0},
        /* the one-liner: everything missing */
        {"008-smartperson-ubuntu-x570-qemu-setup.modules", "vfio\nvfio_iommu_type1\nvfio_pci\n",
         "vfio\nvfio_iommu_type1\nvfio_pci\nvfio_virqfd\n", 1, 1},
        {"009-jorisplusplus-Passthrough.modules", "", "vfio_virqfd\n", 0, 0},
        /* vfio-pci spelled with a dash; `vfio_pci ids=""` as the unterminated last line */
        {"010-portellam-deploy-VFIO.modules", "", "", 2, 1},
};

/* The repository's own files (empty.modules: test_empty_file's case). */
static const struct corpus_case fixture_cases[] = {
        /* Debian's file: comments only, everything missing */
        {"fixture:debian-default.modules", "vfio\nvfio_iommu_type1\nvfio_pci\n",
         "vfio\nvfio_iommu_type1\nvfio_pci\nvfio_virqfd\n", 0, 0},
        /* all four by hand: vfio_virqfd is noted when the kernels do not want it */
        {"fixture:vfio-by-hand.modules", "", "", 1, 0},
        /* `vfio-pci ids=...` names no module systemd-modules-load can load */
        {"fixture:with-parameters.modules", "vfio\nvfio_iommu_type1\nvfio_pci\n",
         "vfio\nvfio_iommu_type1\nvfio_pci\nvfio_virqfd\n", 1, 1},
        /* two of them, no final newline */
        {"fixture:no-final-newline.modules", "vfio_iommu_type1\n",
         "vfio_iommu_type1\nvfio_virqfd\n", 0, 0},
};

static void check_case(const struct corpus_case *c, json_t *wanted, const char *added, int notes)
{
	char *orig = corpus_text(c->file);
	json_t *n = NULL;
	char *t = update(orig, wanted, &n);
	if ((int)json_array_size(n) != notes) {
		char *d = json_dumps(n, JSON_INDENT(1));
		fail_msg("%s: want %d notes, got %s", c->file, notes, d);
	}
	json_decref(n);
	if (!*added) {
		if (strcmp(t, orig) != 0)
			fail_msg("%s: changed although nothing is missing", c->file);
	} else {
		/* the original, then the block with exactly the missing modules */
		size_t lo = strlen(orig);
		bool nl = orig[lo - 1] == '\n';
		assert_memory_equal(t, orig, lo);
		char *want = NULL;
		assert_true(asprintf(&want, "%s%s" BEGIN "%s# END " OWNER "%s", orig,
		                     nl ? "" : "\n", added, nl ? "\n" : "") > 0);
		if (strcmp(t, want) != 0)
			fail_msg("%s:\nwant:\n%s\ngot:\n%s", c->file, want, t);
		free(want);
	}
	/* idempotent, and absent gives the file back byte for byte */
	char *again = update(t, wanted, NULL);
	assert_string_equal(again, t);
	char *back = update(t, NULL, NULL);
	if (strcmp(back, orig) != 0)
		fail_msg("%s does not come back byte for byte", c->file);
	free(orig);
	free(t);
	free(again);
	free(back);
}

static void check_cases(const struct corpus_case *list, size_t n)
{
	json_t *w3 = three(), *w4 = four();
	for (size_t i = 0; i < n; i++) {
		check_case(&list[i], w3, list[i].added3, list[i].notes3);
		check_case(&list[i], w4, list[i].added4, list[i].notes4);
	}
	json_decref(w3);
	json_decref(w4);
}

static void test_fixtures(void **state)
{
	(void)state;
	check_cases(fixture_cases, sizeof fixture_cases / sizeof fixture_cases[0]);
}

static void test_corpus(void **state)
{
	(void)state;
	check_cases(cases, sizeof cases / sizeof cases[0]);
}

/* systemd-modules-load reads /etc/modules one line at a time, with no
 * continuation (unlike modprobe.d): a last line that ends in a backslash does
 * not take the block's first line with it, so the block goes after it as
 * after any other line, and that line loads nothing it did not before. */
static void test_no_continuation(void **state)
{
	(void)state;
	json_t *w = three();
	char *t = update("vfio_pci \\\n", w, NULL);
	assert_string_equal(t, "vfio_pci \\\n" BEGIN "vfio\nvfio_iommu_type1\nvfio_pci\n" END);
	char *back = update(t, NULL, NULL);
	assert_string_equal(back, "vfio_pci \\\n");
	assert_false(pt_modules_line_loads("vfio_pci \\", "vfio_pci"));
	free(t);
	free(back);
	json_decref(w);
}

static void test_notes_name_the_line(void **state)
{
	(void)state;
	char *orig = corpus_text("fixture:with-parameters.modules");
	json_t *w = three();
	json_t *n = NULL;
	char *t = update(orig, w, &n);
	const char *msg = json_string_value(json_array_get(n, 0));
	if (!msg || !strstr(msg, "/etc/modules line 4 (vfio-pci ids=10de:1c82)") ||
	    !strstr(msg, "loads nothing"))
		fail_msg("note: %s", msg ? msg : "(none)");
	json_decref(n);
	free(t);
	free(orig);

	orig = corpus_text("fixture:vfio-by-hand.modules");
	t = update(orig, w, &n);
	msg = json_string_value(json_array_get(n, 0));
	if (!msg || !strstr(msg, "/etc/modules line 5 lists vfio_virqfd"))
		fail_msg("note: %s", msg ? msg : "(none)");
	json_decref(n);
	free(t);
	free(orig);
	json_decref(w);
}

static void test_notes_name_the_line_corpus(void **state)
{
	(void)state;
	char *orig = corpus_text("008-smartperson-ubuntu-x570-qemu-setup.modules");
	json_t *w = three();
	json_t *n = NULL;
	char *t = update(orig, w, &n);
	const char *msg = json_string_value(json_array_get(n, 0));
	assert_non_null(strstr(msg, "/etc/modules line 6 (vfio vfio_iommu_type1 vfio_pci "
	                            "ids=1002:731f,1002:ab38)"));
	assert_non_null(strstr(msg, "loads nothing"));
	json_decref(n);
	free(t);
	free(orig);

	orig = corpus_text("001-iroger-ASRock-TRX40-proxmox.modules");
	t = update(orig, w, &n);
	msg = json_string_value(json_array_get(n, 0));
	assert_non_null(strstr(msg, "/etc/modules line 9 lists vfio_virqfd"));
	json_decref(n);
	free(t);
	free(orig);
	json_decref(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_list_from_states),
	        cmocka_unit_test_setup_teardown(test_wanted_mixed_kernels, make_root, drop_root),
	        cmocka_unit_test_setup_teardown(test_wanted_new_kernels_only, make_root, drop_root),
	        cmocka_unit_test_setup_teardown(test_wanted_no_kernels, make_root, drop_root),
	        cmocka_unit_test(test_line_loads),
	        cmocka_unit_test(test_empty_file),
	        cmocka_unit_test(test_block_follows_wanted),
	        cmocka_unit_test(test_damaged_block),
	        cmocka_unit_test(test_fixtures),
	        cmocka_unit_test(test_no_continuation),
	        cmocka_unit_test(test_notes_name_the_line),
	};
	const struct CMUnitTest corpus_tests[] = {
	        cmocka_unit_test(test_corpus),
	        cmocka_unit_test(test_notes_name_the_line_corpus),
	};
	int rc = cmocka_run_group_tests_name("modules_file", tests, NULL, NULL);
	if (corpus_present())
		rc += cmocka_run_group_tests_name("modules_file corpus", corpus_tests, NULL, NULL);
	return rc;
}
