/* Kernel command line tokens (module_utils/cmdline.h): splitting as the kernel
 * does, and the ensure/remove edits grub_iommu makes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmdline.h"

/* ---- splitting ---------------------------------------------------------- */

static void test_split_proc_cmdline(void **state)
{
	(void)state;
	struct pt_cmdline cl;
	assert_int_equal(pt_cmdline_parse("BOOT_IMAGE=/boot/vmlinuz-6.8.12-4-pve "
	                                  "root=/dev/mapper/pve-root ro quiet\n",
	                                  &cl),
	                 0);
	assert_int_equal(cl.n, 4);
	assert_string_equal(cl.tokens[0].key, "BOOT_IMAGE");
	assert_string_equal(cl.tokens[0].value, "/boot/vmlinuz-6.8.12-4-pve");
	assert_string_equal(cl.tokens[1].raw, "root=/dev/mapper/pve-root");
	assert_string_equal(cl.tokens[2].key, "ro");
	assert_null(cl.tokens[2].value);
	assert_string_equal(cl.tokens[3].raw, "quiet");
	assert_false(cl.tokens[3].for_init);
	/* Offsets point at the raw text. */
	size_t at = strlen("BOOT_IMAGE=/boot/vmlinuz-6.8.12-4-pve ");
	assert_int_equal(cl.tokens[1].start, at);
	assert_int_equal(cl.tokens[1].end, at + strlen("root=/dev/mapper/pve-root"));
	pt_cmdline_release(&cl);
}

static void test_split_quotes(void **state)
{
	(void)state;
	struct pt_cmdline cl;
	/* grub/031: one parameter that holds a space. */
	assert_int_equal(pt_cmdline_parse("quiet acpi_osi=\"!Windows 2012\" splash", &cl), 0);
	assert_int_equal(cl.n, 3);
	assert_string_equal(cl.tokens[1].raw, "acpi_osi=\"!Windows 2012\"");
	assert_string_equal(cl.tokens[1].key, "acpi_osi");
	assert_string_equal(cl.tokens[1].value, "!Windows 2012");
	pt_cmdline_release(&cl);

	/* A token that starts with a quote loses it and its closing quote. */
	assert_int_equal(pt_cmdline_parse("\"a=b c\" \"flag word\"", &cl), 0);
	assert_int_equal(cl.n, 2);
	assert_string_equal(cl.tokens[0].key, "a");
	assert_string_equal(cl.tokens[0].value, "b c");
	assert_string_equal(cl.tokens[1].key, "flag word");
	assert_null(cl.tokens[1].value);
	pt_cmdline_release(&cl);

	/* An unterminated quote runs to the end, as in the kernel. */
	assert_int_equal(pt_cmdline_parse("x a=\"b c -- d", &cl), 0);
	assert_int_equal(cl.n, 2);
	assert_string_equal(cl.tokens[1].value, "b c -- d");
	assert_true(cl.unclosed);
	pt_cmdline_release(&cl);
	assert_int_equal(pt_cmdline_parse("a=\"b c\" d", &cl), 0);
	assert_false(cl.unclosed);
	pt_cmdline_release(&cl);

	/* A lone quote value is empty. */
	assert_int_equal(pt_cmdline_parse("a=\"", &cl), 0);
	assert_string_equal(cl.tokens[0].value, "");
	pt_cmdline_release(&cl);
}

static void test_split_equals(void **state)
{
	(void)state;
	struct pt_cmdline cl;
	/* The first '=' splits; a leading '=' does not (kernel next_arg). Values
	 * hold further '=' and ','. */
	assert_int_equal(pt_cmdline_parse("a==b =x root=ZFS=rpool/ROOT/pve-1 "
	                                  "rd.luks.options=tries=4,discard empty=",
	                                  &cl),
	                 0);
	assert_int_equal(cl.n, 5);
	assert_string_equal(cl.tokens[0].key, "a");
	assert_string_equal(cl.tokens[0].value, "=b");
	assert_string_equal(cl.tokens[1].key, "=x");
	assert_null(cl.tokens[1].value);
	assert_string_equal(cl.tokens[2].value, "ZFS=rpool/ROOT/pve-1");
	assert_string_equal(cl.tokens[3].key, "rd.luks.options");
	assert_string_equal(cl.tokens[3].value, "tries=4,discard");
	assert_string_equal(cl.tokens[4].value, "");
	pt_cmdline_release(&cl);
}

static void test_split_blanks_and_init(void **state)
{
	(void)state;
	struct pt_cmdline cl;
	assert_int_equal(pt_cmdline_parse("", &cl), 0);
	assert_int_equal(cl.n, 0);
	assert_int_equal(cl.init_start, 0);
	pt_cmdline_release(&cl);

	assert_int_equal(pt_cmdline_parse(" \t\n\r\f\v ", &cl), 0);
	assert_int_equal(cl.n, 0);
	pt_cmdline_release(&cl);

	assert_int_equal(pt_cmdline_parse("\tquiet\n\nsplash  ", &cl), 0);
	assert_int_equal(cl.n, 2);
	assert_string_equal(cl.tokens[1].raw, "splash");
	pt_cmdline_release(&cl);

	/* After a lone `--` the parameters belong to init. */
	const char *text = "quiet -- single iommu=pt";
	assert_int_equal(pt_cmdline_parse(text, &cl), 0);
	assert_int_equal(cl.n, 3);
	assert_false(cl.tokens[0].for_init);
	assert_true(cl.tokens[1].for_init);
	assert_true(cl.tokens[2].for_init);
	assert_int_equal(cl.init_start, 6);
	assert_null(pt_cmdline_find(&cl, "iommu"));
	char *r = pt_cmdline_render(&cl);
	assert_string_equal(r, "quiet -- single iommu=pt");
	free(r);
	pt_cmdline_release(&cl);
}

static void test_keys(void **state)
{
	(void)state;
	/* The kernel treats '-' and '_' alike in parameter names. */
	assert_true(pt_cmdline_key_equal("vfio-pci.ids", "vfio_pci.ids"));
	assert_true(pt_cmdline_key_equal("intel_iommu", "intel-iommu"));
	assert_false(pt_cmdline_key_equal("iommu", "intel_iommu"));
	assert_false(pt_cmdline_key_equal("iommu", "iommu2"));
	assert_false(pt_cmdline_key_equal("Quiet", "quiet"));

	struct pt_cmdline cl;
	assert_int_equal(pt_cmdline_parse("vfio_pci.ids=1002:7480 vfio-pci.ids=x quiet", &cl), 0);
	const struct pt_cmdline_token *t = pt_cmdline_find(&cl, "vfio-pci.ids");
	assert_non_null(t);
	assert_string_equal(t->value, "1002:7480");
	assert_null(pt_cmdline_find(&cl, "nomodeset"));
	char *r = pt_cmdline_render(&cl);
	assert_string_equal(r, "vfio_pci.ids=1002:7480 vfio-pci.ids=x quiet");
	free(r);
	pt_cmdline_release(&cl);

	assert_true(pt_cmdline_is_one_token("iommu=pt"));
	assert_true(pt_cmdline_is_one_token("acpi_osi=\"!Windows 2012\""));
	assert_true(pt_cmdline_is_one_token(" nomodeset "));
	assert_false(pt_cmdline_is_one_token("intel_iommu=on iommu=pt"));
	assert_false(pt_cmdline_is_one_token(""));
	assert_false(pt_cmdline_is_one_token("--"));
	assert_false(pt_cmdline_is_one_token("a -- b"));
	assert_false(pt_cmdline_is_one_token("\""));
	assert_false(pt_cmdline_is_one_token("a=\"b"));
}

/* ---- edits -------------------------------------------------------------- */

struct edit_case {
	const char *text;
	enum pt_cmdline_op op;
	const char *items[4];
	const char *want;
	const char *added;   /* the added tokens joined with '|' */
	const char *removed; /* the removed ones */
};

static char *joined(char **list, size_t n)
{
	size_t len = 1;
	for (size_t i = 0; i < n; i++)
		len += strlen(list[i]) + 1;
	char *s = calloc(1, len);
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(s, "|");
		strcat(s, list[i]);
	}
	return s;
}

static const struct edit_case cases[] = {
        /* The module's own parameters. */
        {"quiet",
         PT_CMDLINE_ENSURE,
         {"intel_iommu=on", "iommu=pt"},
         "quiet intel_iommu=on iommu=pt",
         "intel_iommu=on|iommu=pt",
         ""},
        {"",
         PT_CMDLINE_ENSURE,
         {"intel_iommu=on", "iommu=pt"},
         "intel_iommu=on iommu=pt",
         "intel_iommu=on|iommu=pt",
         ""},
        {"quiet intel_iommu=on iommu=pt",
         PT_CMDLINE_ENSURE,
         {"intel_iommu=on", "iommu=pt"},
         "quiet intel_iommu=on iommu=pt",
         "",
         ""},
        /* key=value replaces in place, never a second one. */
        {"quiet iommu=soft splash",
         PT_CMDLINE_ENSURE,
         {"iommu=pt"},
         "quiet iommu=pt splash",
         "iommu=pt",
         "iommu=soft"},
        {"iommu=soft quiet iommu=nopt",
         PT_CMDLINE_ENSURE,
         {"iommu=pt"},
         "iommu=pt quiet",
         "iommu=pt",
         "iommu=soft|iommu=nopt"},
        /* grub/004: the wanted value is there already; the other goes. */
        {"resume=UUID=b6 iommu=1 amd_iommu=on iommu=pt x",
         PT_CMDLINE_ENSURE,
         {"iommu=pt"},
         "resume=UUID=b6 amd_iommu=on iommu=pt x",
         "",
         "iommu=1"},
        /* A flag is added once. */
        {"quiet", PT_CMDLINE_ENSURE, {"quiet"}, "quiet", "", ""},
        {"quiet",
         PT_CMDLINE_ENSURE,
         {"nomodeset", "nomodeset"},
         "quiet nomodeset",
         "nomodeset",
         ""},
        /* A flag does not satisfy key=value, nor the reverse. */
        {"iommu", PT_CMDLINE_ENSURE, {"iommu=pt"}, "iommu iommu=pt", "iommu=pt", ""},
        {"quiet=1", PT_CMDLINE_ENSURE, {"quiet"}, "quiet=1 quiet", "quiet", ""},
        /* Several values for one key (grub/020's video=). */
        {"video=vesafb:off quiet video=simplefb:off",
         PT_CMDLINE_ENSURE,
         {"video=efifb:off", "video=vesafb:off"},
         "video=vesafb:off quiet video=efifb:off",
         "video=efifb:off",
         "video=simplefb:off"},
        {"video=efifb:off video=vesafb:off",
         PT_CMDLINE_ENSURE,
         {"video=vesafb:off", "video=efifb:off"},
         "video=efifb:off video=vesafb:off",
         "",
         ""},
        /* '-' and '_' alike; the value decides, the spelling stays when equal. */
        {"vfio_pci.ids=1002:7480 quiet",
         PT_CMDLINE_ENSURE,
         {"vfio-pci.ids=1002:7480"},
         "vfio_pci.ids=1002:7480 quiet",
         "",
         ""},
        {"vfio_pci.ids=1002:7480 quiet",
         PT_CMDLINE_ENSURE,
         {"vfio-pci.ids=10de:1c82,10de:0fb9"},
         "vfio-pci.ids=10de:1c82,10de:0fb9 quiet",
         "vfio-pci.ids=10de:1c82,10de:0fb9",
         "vfio_pci.ids=1002:7480"},
        /* Quoted values compare unquoted. */
        {"quiet acpi_osi=\"!Windows 2012\"",
         PT_CMDLINE_ENSURE,
         {"acpi_osi=\"!Windows 2012\""},
         "quiet acpi_osi=\"!Windows 2012\"",
         "",
         ""},
        {"quiet acpi_osi=\"!Windows 2012\"",
         PT_CMDLINE_ENSURE,
         {"acpi_osi=Linux"},
         "quiet acpi_osi=Linux",
         "acpi_osi=Linux",
         "acpi_osi=\"!Windows 2012\""},
        /* Blanks that are not touched stay. */
        {"  quiet\tsplash  ",
         PT_CMDLINE_ENSURE,
         {"iommu=pt"},
         "  quiet\tsplash iommu=pt  ",
         "iommu=pt",
         ""},
        {"root=ZFS=rpool/ROOT/pve-1 boot=zfs ",
         PT_CMDLINE_ENSURE,
         {"iommu=pt"},
         "root=ZFS=rpool/ROOT/pve-1 boot=zfs iommu=pt ",
         "iommu=pt",
         ""},
        /* Nothing is added after `--` (that is init's). */
        {"quiet -- single",
         PT_CMDLINE_ENSURE,
         {"iommu=pt"},
         "quiet iommu=pt -- single",
         "iommu=pt",
         ""},
        {"-- single", PT_CMDLINE_ENSURE, {"iommu=pt"}, "iommu=pt -- single", "iommu=pt", ""},
        {"quiet -- iommu=soft",
         PT_CMDLINE_ENSURE,
         {"iommu=pt"},
         "quiet iommu=pt -- iommu=soft",
         "iommu=pt",
         ""},
        /* Removal: every occurrence of the key, whatever the value. */
        {"quiet intel_iommu=on iommu=pt splash",
         PT_CMDLINE_REMOVE,
         {"intel_iommu", "iommu=pt"},
         "quiet splash",
         "",
         "intel_iommu=on|iommu=pt"},
        {"iommu=pt", PT_CMDLINE_REMOVE, {"iommu"}, "", "", "iommu=pt"},
        {"iommu=pt quiet", PT_CMDLINE_REMOVE, {"iommu"}, "quiet", "", "iommu=pt"},
        {"a b  c d", PT_CMDLINE_REMOVE, {"b", "c"}, "a d", "", "b|c"},
        {"iommu iommu=pt x iommu=soft",
         PT_CMDLINE_REMOVE,
         {"iommu"},
         "x",
         "",
         "iommu|iommu=pt|iommu=soft"},
        {"vfio-pci.ids=1 quiet",
         PT_CMDLINE_REMOVE,
         {"vfio_pci.ids"},
         "quiet",
         "",
         "vfio-pci.ids=1"},
        {"quiet", PT_CMDLINE_REMOVE, {"iommu", "intel_iommu"}, "quiet", "", ""},
        {"quiet -- iommu=pt", PT_CMDLINE_REMOVE, {"iommu"}, "quiet -- iommu=pt", "", ""},
        {"iommu=pt -- x", PT_CMDLINE_REMOVE, {"iommu"}, " -- x", "", "iommu=pt"},
};

static void test_edits(void **state)
{
	(void)state;
	for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
		const struct edit_case *k = &cases[c];
		size_t n = 0;
		while (n < 4 && k->items[n])
			n++;
		char *out = NULL;
		struct pt_cmdline_change chg;
		int r = pt_cmdline_edit(k->text, k->op, k->items, n, &out, &chg);
		if (r != 0)
			fail_msg("case %zu [%s]: rc %d", c, k->text, r);
		if (strcmp(out, k->want) != 0)
			fail_msg("case %zu [%s]:\n want [%s]\n got  [%s]", c, k->text, k->want,
			         out);
		char *a = joined(chg.added, chg.n_added), *d = joined(chg.removed, chg.n_removed);
		if (strcmp(a, k->added) != 0 || strcmp(d, k->removed) != 0)
			fail_msg("case %zu [%s]: added [%s] removed [%s], want [%s] [%s]", c,
			         k->text, a, d, k->added, k->removed);
		free(a);
		free(d);
		pt_cmdline_change_release(&chg);

		/* Editing twice is editing once. */
		char *again = NULL;
		assert_int_equal(pt_cmdline_edit(out, k->op, k->items, n, &again, &chg), 0);
		if (strcmp(again, out) != 0)
			fail_msg("case %zu [%s]: second edit changed [%s] into [%s]", c, k->text,
			         out, again);
		assert_int_equal(chg.n_added + chg.n_removed, 0);
		pt_cmdline_change_release(&chg);
		free(again);
		free(out);
	}
}

static void test_edit_refuses_bad_items(void **state)
{
	(void)state;
	char *out = (char *)1;
	struct pt_cmdline_change chg;
	const char *two[] = {"intel_iommu=on iommu=pt"};
	assert_int_equal(pt_cmdline_edit("quiet", PT_CMDLINE_ENSURE, two, 1, &out, &chg), -EINVAL);
	assert_null(out);
	assert_int_equal(chg.n_added, 0);
	const char *none[] = {"  "};
	assert_int_equal(pt_cmdline_edit("quiet", PT_CMDLINE_REMOVE, none, 1, &out, NULL), -EINVAL);
	const char *init[] = {"--"};
	assert_int_equal(pt_cmdline_edit("quiet", PT_CMDLINE_ENSURE, init, 1, &out, NULL), -EINVAL);
	/* Appending after an unclosed quote would put the new token inside it;
	 * replacing in place and removing are fine. */
	const char *pt[] = {"iommu=pt"};
	assert_int_equal(pt_cmdline_edit("quiet a=\"b", PT_CMDLINE_ENSURE, pt, 1, &out, NULL),
	                 -EINVAL);
	assert_int_equal(pt_cmdline_edit("iommu=soft a=\"b", PT_CMDLINE_ENSURE, pt, 1, &out, NULL),
	                 0);
	assert_string_equal(out, "iommu=pt a=\"b");
	free(out);
	assert_int_equal(pt_cmdline_edit("iommu=soft a=\"b", PT_CMDLINE_REMOVE, pt, 1, &out, NULL),
	                 0);
	assert_string_equal(out, "a=\"b");
	free(out);
	/* No items: nothing changes. */
	assert_int_equal(pt_cmdline_edit(" quiet ", PT_CMDLINE_ENSURE, NULL, 0, &out, &chg), 0);
	assert_string_equal(out, " quiet ");
	free(out);
}

/* ---- folding and long lists ---------------------------------------------- */

static void test_fold(void **state)
{
	(void)state;
	struct pt_cmdline cl;
	assert_int_equal(pt_cmdline_parse("a-b=1 a_b=1 a_b a-b=2 A_b a_b= x", &cl), 0);
	const struct pt_cmdline_token *t[7];
	for (size_t i = 0; i < 7; i++)
		t[i] = &cl.tokens[i];
	size_t first[7];
	/* By name: '-' and '_' alike, case matters, flag or value alike. */
	assert_int_equal(pt_cmdline_fold(t, 7, false, first), 0);
	const size_t by_name[] = {0, 0, 0, 0, 4, 0, 6};
	assert_memory_equal(first, by_name, sizeof by_name);
	/* By name and value: a flag is not an empty value. */
	assert_int_equal(pt_cmdline_fold(t, 7, true, first), 0);
	const size_t by_value[] = {0, 0, 2, 3, 4, 5, 6};
	assert_memory_equal(first, by_value, sizeof by_value);
	assert_int_equal(pt_cmdline_fold(t, 0, true, first), 0);
	pt_cmdline_release(&cl);
}

/* Compare an edit with items repeated times times against the edit with the
 * items once: long lists are folded, they mean what the list without repeats
 * means. */
static void check_repeated(const char *text, enum pt_cmdline_op op, const char *const *items,
                           size_t n, size_t times, const char *want)
{
	const char **many = calloc(n * times, sizeof *many);
	assert_non_null(many);
	for (size_t i = 0; i < n * times; i++)
		many[i] = items[i % n];
	char *once_out = NULL, *many_out = NULL;
	struct pt_cmdline_change once_chg, many_chg;
	assert_int_equal(pt_cmdline_edit(text, op, items, n, &once_out, &once_chg), 0);
	assert_int_equal(pt_cmdline_edit(text, op, many, n * times, &many_out, &many_chg), 0);
	assert_string_equal(once_out, want);
	assert_string_equal(many_out, want);
	char *a1 = joined(once_chg.added, once_chg.n_added);
	char *a2 = joined(many_chg.added, many_chg.n_added);
	char *r1 = joined(once_chg.removed, once_chg.n_removed);
	char *r2 = joined(many_chg.removed, many_chg.n_removed);
	assert_string_equal(a1, a2);
	assert_string_equal(r1, r2);
	free(a1);
	free(a2);
	free(r1);
	free(r2);
	pt_cmdline_change_release(&once_chg);
	pt_cmdline_change_release(&many_chg);
	free(once_out);
	free(many_out);
	free(many);
}

static void test_edit_many_items(void **state)
{
	(void)state;
	const char *text = "a=1 b a=2 c=3 -- a=9";
	const char *items[] = {"a=2", "a-x", "b", "c=4", "a=5", "a=2", "x"};
	check_repeated(text, PT_CMDLINE_ENSURE, items, 7, 10000, "a=5 b a=2 c=4 a-x x -- a=9");
	check_repeated(text, PT_CMDLINE_REMOVE, items, 7, 10000, " -- a=9");
	const char *flag[] = {"nomodeset"};
	check_repeated("quiet", PT_CMDLINE_ENSURE, flag, 1, 100000, "quiet nomodeset");

	/* Many different parameters: each appended once, in order. */
	enum { N = 20000 };
	char(*names)[8] = calloc(N, sizeof *names);
	const char **many = calloc(2 * N, sizeof *many);
	assert_non_null(names);
	assert_non_null(many);
	for (size_t i = 0; i < N; i++) {
		snprintf(names[i], sizeof names[i], "f%zu", i);
		many[i] = many[N + i] = names[i];
	}
	char *out = NULL;
	struct pt_cmdline_change chg;
	assert_int_equal(pt_cmdline_edit("quiet", PT_CMDLINE_ENSURE, many, 2 * N, &out, &chg), 0);
	assert_int_equal(chg.n_added, N);
	assert_string_equal(chg.added[N - 1], "f19999");
	assert_memory_equal(out, "quiet f0 f1 f2 ", strlen("quiet f0 f1 f2 "));
	pt_cmdline_change_release(&chg);
	char *back = NULL;
	assert_int_equal(pt_cmdline_edit(out, PT_CMDLINE_REMOVE, many, N, &back, &chg), 0);
	assert_string_equal(back, "quiet");
	assert_int_equal(chg.n_removed, N);
	pt_cmdline_change_release(&chg);
	free(back);
	free(out);
	free(many);
	free(names);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_split_proc_cmdline),
	        cmocka_unit_test(test_split_quotes),
	        cmocka_unit_test(test_split_equals),
	        cmocka_unit_test(test_split_blanks_and_init),
	        cmocka_unit_test(test_keys),
	        cmocka_unit_test(test_edits),
	        cmocka_unit_test(test_edit_refuses_bad_items),
	        cmocka_unit_test(test_fold),
	        cmocka_unit_test(test_edit_many_items),
	};
	return cmocka_run_group_tests_name("cmdline", tests, NULL, NULL);
}
