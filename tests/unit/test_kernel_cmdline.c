/* /etc/kernel/cmdline (module_utils/boot_kernel_cmdline.h) over every file of
 * tests/fixtures/files/kernel-cmdline and, when the corpus is there
 * (support/corpus.h), of corpus/kernel-cmdline: the one-line files are edited
 * (checked with the way proxmox-boot-tool reads the file: its get_first_line in
 * /bin/sh), the others refused with the reason. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "boot_kernel_cmdline.h"
#include "cmdline.h"
#include "exec.h"
#include "files.h"
#include "support/corpus.h"
#include "support/reports.h"
#include "support/tmptree.h"

/* A file and what the module must do with it. */
struct cmdline_case {
	const char *file;
	const char *refusal; /* a piece of the message, or NULL: editable */
};

/* Every file of tests/fixtures/files/kernel-cmdline. */
static const struct cmdline_case fixtures[] = {
        {"zfs-root.cmdline", NULL},
        {"zfs-already-on.cmdline", NULL},
        {"no-final-newline.cmdline", NULL},
        {"trailing-blank-lines.cmdline", NULL},
        {"quoted-value.cmdline", NULL}, /* a quoted value with a space is one parameter */
        {"two-lines.cmdline", "1 more line (from line 2)"},
        {"comment-first.cmdline", "starts with a # comment"},
        {"no-root.cmdline", "has no root= parameter"},
        {NULL, NULL},
};

/* Every corpus file. */
static const struct cmdline_case corpus[] = {
        {"001-AdrianLSY-Proxmox-setup.cmdline", NULL},
        {"002-clukawski-archlinux-root.cmdline", NULL}, /* root= with no value: still root= */
        {"003-karabaja4-arch.cmdline", NULL},
        {"004-ByteMatrix123-config-ryzen-7840hs.cmdline", "2 more lines (from line 2)"},
        {"005-Kimiblock-moeOS.config.cmdline", "has no root= parameter"},
        {"006-michaelmnemonic-configuration.cmdline", NULL},
        {"007-iDigitalFlame-Spaceport.cmdline", "starts with a # comment"},
        {"008-colinxs-goliath-etc.cmdline", NULL},
        {"009-wolfhechel-etc.cmdline", "more lines (from line 2)"},
        {"010-theRealCarneiro-etc.cmdline", NULL},
        {NULL, NULL},
};

static char workdir[64];

static int setup(void **state)
{
	(void)state;
	return tmptree_make(workdir, sizeof workdir, "kcmdline") < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	tmptree_remove(workdir);
	return 0;
}

/* The command line proxmox-boot-tool takes from the file: the first line, read
 * the way its get_first_line does. Caller frees. */
static char *first_line_as_proxmox_reads_it(const char *data, size_t len)
{
	char path[256];
	snprintf(path, sizeof path, "%s/cmdline", workdir);
	tmptree_write(path, data, len, 0644);
	const char *const argv[] = {
	        "/bin/sh",
	        "-c",
	        "while IFS= read -r line || [ -n \"$line\" ]; do break; done < \"$1\"; "
	        "printf %s \"$line\"",
	        "sh",
	        path,
	        NULL};
	struct pt_exec_result res;
	assert_int_equal(pt_exec("/", argv, 30, &res), 0);
	assert_int_equal(res.rc, 0);
	char *out = res.out;
	res.out = NULL;
	pt_exec_result_release(&res);
	return out;
}

static void check_editable(const char *name, const char *text, size_t len, enum pt_cmdline_op op)
{
	struct pt_boot_kernel_cmdline k;
	struct pt_report rep = {0};
	if (pt_boot_kernel_cmdline_parse(text, len, name, &k, reports_fresh(&rep)) != 0)
		fail_msg("%s: refused: %s", name, rep.msg);
	char *read = first_line_as_proxmox_reads_it(text, len);
	assert_string_equal(read, k.line);
	free(read);

	const char *present[] = {"intel_iommu=on", "iommu=pt"};
	const char *absent[] = {"intel_iommu", "iommu"};
	char *line = NULL;
	assert_int_equal(pt_cmdline_edit(k.line, op, op == PT_CMDLINE_ENSURE ? present : absent, 2,
	                                 &line, NULL),
	                 0);
	char *out = NULL;
	size_t out_len;
	assert_int_equal(
	        pt_boot_kernel_cmdline_set(&k, line, name, &out, &out_len, reports_fresh(&rep)), 0);

	/* Only the first line changed; what follows it (newline or not) stays. */
	size_t tail = len - k.line_end;
	assert_true(out_len >= tail);
	assert_memory_equal(out + out_len - tail, text + k.line_end, tail);
	read = first_line_as_proxmox_reads_it(out, out_len);
	assert_string_equal(read, line);
	free(read);

	/* root= and the other parameters stay, in order. */
	struct pt_cmdline before, after;
	assert_int_equal(pt_cmdline_parse(k.line, &before), 0);
	assert_int_equal(pt_cmdline_parse(line, &after), 0);
	assert_non_null(pt_cmdline_find(&after, "root"));
	size_t j = 0;
	for (size_t i = 0; i < before.n; i++) {
		const char *key = before.tokens[i].key;
		if (pt_cmdline_key_equal(key, "intel_iommu") || pt_cmdline_key_equal(key, "iommu"))
			continue;
		while (j < after.n && strcmp(after.tokens[j].raw, before.tokens[i].raw) != 0)
			j++;
		if (j == after.n)
			fail_msg("%s: %s lost or moved", name, before.tokens[i].raw);
	}
	if (op == PT_CMDLINE_ENSURE) {
		assert_string_equal(pt_cmdline_find(&after, "intel_iommu")->value, "on");
		assert_string_equal(pt_cmdline_find(&after, "iommu")->value, "pt");
	} else {
		assert_null(pt_cmdline_find(&after, "intel_iommu"));
		assert_null(pt_cmdline_find(&after, "iommu"));
	}
	pt_cmdline_release(&before);
	pt_cmdline_release(&after);

	/* A second edit is a no-op. */
	struct pt_boot_kernel_cmdline k2;
	assert_int_equal(pt_boot_kernel_cmdline_parse(out, out_len, name, &k2, reports_fresh(&rep)),
	                 0);
	char *line2 = NULL;
	assert_int_equal(pt_cmdline_edit(k2.line, op, op == PT_CMDLINE_ENSURE ? present : absent, 2,
	                                 &line2, NULL),
	                 0);
	assert_string_equal(line2, k2.line);
	char *out2 = NULL;
	size_t out2_len;
	assert_int_equal(
	        pt_boot_kernel_cmdline_set(&k2, line2, name, &out2, &out2_len, reports_fresh(&rep)),
	        0);
	assert_int_equal(out2_len, out_len);
	assert_memory_equal(out2, out, out_len);
	free(out2);
	free(line2);
	pt_boot_kernel_cmdline_release(&k2);

	free(out);
	free(line);
	pt_report_release(&rep);
	pt_boot_kernel_cmdline_release(&k);
}

/* Every case of the table against its file in dir; every file of dir must have
 * a case (a new fixture cannot go unchecked). */
static void check_folder(const char *dir, const struct cmdline_case *cases)
{
	size_t n_cases = 0;
	for (size_t i = 0; cases[i].file; i++, n_cases++) {
		char path[512];
		snprintf(path, sizeof path, "%s/%s", dir, cases[i].file);
		char *text = NULL;
		size_t len = 0;
		if (pt_file_read(path, &text, &len) < 0)
			fail_msg("cannot read %s", path);
		if (!cases[i].refusal) {
			check_editable(cases[i].file, text, len, PT_CMDLINE_ENSURE);
			check_editable(cases[i].file, text, len, PT_CMDLINE_REMOVE);
		} else {
			struct pt_boot_kernel_cmdline k;
			struct pt_report rep = {0};
			int r = pt_boot_kernel_cmdline_parse(text, len, "/etc/kernel/cmdline", &k,
			                                     reports_fresh(&rep));
			if (r != -EINVAL || !rep.msg || !strstr(rep.msg, cases[i].refusal) ||
			    !strstr(rep.msg, "/etc/kernel/cmdline"))
				fail_msg("%s: expected a refusal with [%s], got rc %d: %s",
				         cases[i].file, cases[i].refusal, r,
				         rep.msg ? rep.msg : "");
			pt_report_release(&rep);
			pt_boot_kernel_cmdline_release(&k);
		}
		free(text);
	}
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	if (n < 0)
		fail_msg("cannot read %s", dir);
	size_t files = 0;
	for (int i = 0; i < n; i++) {
		files += names[i]->d_name[0] != '.';
		free(names[i]);
	}
	free(names);
	if (files != n_cases)
		fail_msg("%s holds %zu files, the table %zu", dir, files, n_cases);
}

static void test_fixtures(void **state)
{
	(void)state;
	check_folder(FIXTURES_DIR "/files/kernel-cmdline", fixtures);
}

static void test_corpus(void **state)
{
	(void)state;
	check_folder(corpus_path("kernel-cmdline", NULL), corpus);
}

static void test_synthetic(void **state)
{
	(void)state;
	struct pt_boot_kernel_cmdline k;
	struct pt_report rep = {0};
	char *out = NULL;
	size_t out_len;

	/* Trailing empty lines are fine and stay. */
	const char *t = "root=ZFS=rpool/ROOT/pve-1 boot=zfs\n\n \n";
	assert_int_equal(pt_boot_kernel_cmdline_parse(t, strlen(t), "c", &k, reports_fresh(&rep)),
	                 0);
	assert_string_equal(k.line, "root=ZFS=rpool/ROOT/pve-1 boot=zfs");
	assert_int_equal(pt_boot_kernel_cmdline_set(&k,
	                                            "root=ZFS=rpool/ROOT/pve-1 boot=zfs iommu=pt",
	                                            "c", &out, &out_len, reports_fresh(&rep)),
	                 0);
	assert_string_equal(out, "root=ZFS=rpool/ROOT/pve-1 boot=zfs iommu=pt\n\n \n");
	free(out);
	/* The new line must keep root= and be one line. */
	assert_int_equal(pt_boot_kernel_cmdline_set(&k, "boot=zfs iommu=pt", "c", &out, &out_len,
	                                            reports_fresh(&rep)),
	                 -EINVAL);
	assert_non_null(strstr(rep.msg, "root="));
	pt_report_release(&rep);
	assert_int_equal(pt_boot_kernel_cmdline_set(&k, "root=x\nquiet", "c", &out, &out_len,
	                                            reports_fresh(&rep)),
	                 -EINVAL);
	assert_non_null(strstr(rep.msg, "newline"));
	pt_report_release(&rep);
	pt_boot_kernel_cmdline_release(&k);

	/* No final newline: none added. */
	t = "root=/dev/sda1 ro";
	assert_int_equal(pt_boot_kernel_cmdline_parse(t, strlen(t), "c", &k, reports_fresh(&rep)),
	                 0);
	assert_int_equal(pt_boot_kernel_cmdline_set(&k, "root=/dev/sda1 ro quiet", "c", &out,
	                                            &out_len, reports_fresh(&rep)),
	                 0);
	assert_string_equal(out, "root=/dev/sda1 ro quiet");
	free(out);
	pt_boot_kernel_cmdline_release(&k);

	static const struct {
		const char *text;
		size_t len;
		const char *msg;
	} bad[] = {
	        {"", 0, "is empty"},
	        {"  \n", 3, "is empty"},
	        {"\nroot=x\n", 8, "1 more line (from line 2)"},
	        {"root=x\n# comment\n", 17, "1 more line (from line 2)"},
	        {"# root=x\n", 9, "# comment"},
	        {"cryptroot=x ro\n", 15, "has no root="},
	        {"root\n", 5, "has no root="},
	        {"root=x\0\n", 8, "NUL"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		int r = pt_boot_kernel_cmdline_parse(bad[i].text, bad[i].len, "/etc/kernel/cmdline",
		                                     &k, reports_fresh(&rep));
		if (r != -EINVAL || !rep.msg || !strstr(rep.msg, bad[i].msg))
			fail_msg("bad case %zu: want [%s], got rc %d: %s", i, bad[i].msg, r,
			         rep.msg ? rep.msg : "");
		pt_report_release(&rep);
		pt_boot_kernel_cmdline_release(&k);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_fixtures),
	        cmocka_unit_test(test_synthetic),
	};
	const struct CMUnitTest corpus_tests[] = {
	        cmocka_unit_test(test_corpus),
	};
	int rc = cmocka_run_group_tests_name("kernel_cmdline", tests, setup, teardown);
	if (corpus_present())
		rc += cmocka_run_group_tests_name("kernel_cmdline corpus", corpus_tests, setup,
		                                  teardown);
	return rc;
}
