/* The /etc/default/grub editor (module_utils/boot_grub_default.h) over every file of
 * tests/fixtures/files/grub (one per shape the editor meets: each quoting style,
 * continued lines, shell around the variable, and the shapes it must refuse) and
 * Debian 12's stock file, checked against /bin/sh itself: `sh -n` accepts the
 * result and sourcing it gives the value the model says. The drop-ins of
 * tests/fixtures/files/grub.d as grub_iommu reads them. Then the cases it must
 * refuse, each with its message. When the corpus is there (support/corpus.h),
 * every file of corpus/grub too. */
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

#include "boot_grub_default.h"
#include "cmdline.h"
#include "exec.h"
#include "files.h"
#include "support/corpus.h"
#include "support/reports.h"
#include "support/tmptree.h"

#define VAR         "GRUB_CMDLINE_LINUX_DEFAULT"
#define FILES       FIXTURES_DIR "/files"
#define DEBIAN_GRUB FILES "/debian12-default-grub"

/* Files the editor must refuse, with a piece of the message; every other file
 * of the folder must be edited. */
struct refusal_case {
	const char *file;
	const char *message;
};

/* None of the 33 real files of the corpus needs refusing today. */
static const struct refusal_case corpus_refusals[] = {
        {NULL, NULL},
};

/* tests/fixtures/files/grub: the shapes the module refuses, naming the line. */
static const struct refusal_case fixture_refusals[] = {
        {"self-reference.grub", "refers to itself"},
        {"value-continued.grub", "spans several lines"},
        {"mixed-quoting.grub", "mixes quoting styles"},
        {"conditional.grub", "block"},
        {"command-substitution.grub", "runs a command"},
        {NULL, NULL},
};

static char workdir[64];

static int setup(void **state)
{
	(void)state;
	if (tmptree_make(workdir, sizeof workdir, "grub") < 0)
		return -1;
	/* Sourced files run with cwd here, whatever they do. */
	return chdir(workdir);
}

static int teardown(void **state)
{
	(void)state;
	tmptree_remove(workdir);
	return 0;
}

/* /bin/sh -n FILE: 0 when the syntax is fine. */
static int sh_syntax(const char *path)
{
	const char *const argv[] = {"/bin/sh", "-n", path, NULL};
	struct pt_exec_result res;
	int r = pt_exec("/", argv, 30, &res);
	int rc = r < 0 ? -1 : res.rc;
	if (rc != 0)
		fprintf(stderr, "sh -n %s: %s\n", path, res.err ? res.err : "");
	pt_exec_result_release(&res);
	return rc;
}

/* What /bin/sh says the variable is after sourcing path. External commands are
 * out of reach (PATH=/nonexistent): `lsb_release`, `sed` and the like fail
 * harmlessly, as they would in an empty environment. Caller frees. */
static char *sh_value(const char *path, const char *name)
{
	char script[256];
	snprintf(script, sizeof script,
	         "PATH=/nonexistent; . \"$1\" >/dev/null 2>&1; printf %%s \"$%s\"", name);
	const char *const argv[] = {"/bin/sh", "-c", script, "sh", path, NULL};
	struct pt_exec_result res;
	int r = pt_exec("/", argv, 30, &res);
	assert_int_equal(r, 0);
	char *out = res.out;
	res.out = NULL;
	pt_exec_result_release(&res);
	return out;
}

/* The lines of text as offsets: fills starts[] (up to max), returns the count. */
static size_t split_lines(const char *text, size_t len, size_t *starts, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < len && n < max;) {
		starts[n++] = i;
		const char *nl = memchr(text + i, '\n', len - i);
		i = nl ? (size_t)(nl - text) + 1 : len;
	}
	return n;
}

static bool line_equal(const char *a, size_t alen, const size_t *as, size_t an, size_t ai,
                       const char *b, size_t blen, const size_t *bs, size_t bn, size_t bi)
{
	size_t ae = ai + 1 < an ? as[ai + 1] : alen;
	size_t be = bi + 1 < bn ? bs[bi + 1] : blen;
	return ae - as[ai] == be - bs[bi] && memcmp(a + as[ai], b + bs[bi], ae - as[ai]) == 0;
}

#define MAX_LINES 4096

/* Only line `line` (1-based) differs between before and after, or (line 0) after
 * is before plus one appended assignment. */
static void assert_only_target_changed(const char *name, const char *before, size_t blen,
                                       const char *after, size_t alen, unsigned line)
{
	static size_t bs[MAX_LINES], as[MAX_LINES];
	size_t bn = split_lines(before, blen, bs, MAX_LINES);
	size_t an = split_lines(after, alen, as, MAX_LINES);
	if (line == 0) {
		bool newline = blen == 0 || before[blen - 1] == '\n';
		assert_true(alen > blen);
		if (memcmp(after, before, blen) != 0)
			fail_msg("%s: the text before the appended line changed", name);
		const char *rest = after + blen;
		if (!newline) {
			assert_int_equal(*rest, '\n');
			rest++;
		}
		if (strncmp(rest, VAR "=\"", strlen(VAR) + 2) != 0 || after[alen - 1] != '\n' ||
		    memchr(rest, '\n', alen - (size_t)(rest - after)) != after + alen - 1)
			fail_msg("%s: not one appended assignment line: [%s]", name, rest);
		return;
	}
	if (an != bn)
		fail_msg("%s: %zu lines became %zu", name, bn, an);
	for (size_t i = 0; i < bn; i++) {
		bool same = line_equal(before, blen, bs, bn, i, after, alen, as, an, i);
		if (i + 1 == line && same)
			fail_msg("%s: line %u did not change", name, line);
		if (i + 1 != line && !same)
			fail_msg("%s: line %zu changed, only line %u should", name, i + 1, line);
	}
}

/* Ensure (or remove) the IOMMU parameters in one file and check everything the
 * issue asks. */
static void check_file(const char *name, const char *text, size_t len, enum pt_cmdline_op op,
                       const struct refusal_case *refusals)
{
	for (size_t i = 0; refusals && refusals[i].file; i++)
		if (strcmp(refusals[i].file, name) == 0) {
			struct pt_boot_grub_default g;
			struct pt_report rep = {0};
			int r = pt_boot_grub_default_parse(text, len, VAR, name, &g,
			                                   reports_fresh(&rep));
			const char *msg = r < 0 ? rep.msg : g.problem;
			if (!msg || !strstr(msg, refusals[i].message) || !strstr(msg, "line "))
				fail_msg("%s: expected a refusal with [%s] and the line, got: %s",
				         name, refusals[i].message, msg ? msg : "(none)");
			pt_report_release(&rep);
			pt_boot_grub_default_release(&g);
			return;
		}

	char path[512];
	snprintf(path, sizeof path, "%s/%s", workdir, "grub");

	struct pt_boot_grub_default g;
	struct pt_report rep = {0};
	int r = pt_boot_grub_default_parse(text, len, VAR, name, &g, reports_fresh(&rep));
	if (r != 0 || g.problem)
		fail_msg("%s: refused: %s", name, rep.msg ? rep.msg : g.problem);

	/* The model reads the value the shell sees. */
	tmptree_write(path, text, len, 0644);
	char *sh_before = sh_value(path, VAR);
	const char *model_before = g.value ? g.value : "";
	if (strcmp(sh_before, model_before) != 0)
		fail_msg("%s: sh reads [%s], the model [%s]", name, sh_before, model_before);
	free(sh_before);

	const char *items_present[] = {"intel_iommu=on", "iommu=pt"};
	const char *items_absent[] = {"intel_iommu", "iommu"};
	const char **items = op == PT_CMDLINE_ENSURE ? items_present : items_absent;
	char *value = NULL;
	assert_int_equal(pt_cmdline_edit(model_before, op, items, 2, &value, NULL), 0);

	char *out = NULL;
	size_t out_len = 0;
	assert_int_equal(pt_boot_grub_default_set(&g, value, &out, &out_len, reports_fresh(&rep)),
	                 0);
	if (strcmp(value, model_before) == 0) {
		/* Nothing to do: not a byte moves (no assignment appended either). */
		if (out_len != len || memcmp(out, text, len) != 0)
			fail_msg("%s: unchanged value but the file changed", name);
	} else {
		assert_only_target_changed(name, text, len, out, out_len, g.line);
	}

	/* sh accepts it and reads the new value. */
	tmptree_write(path, out, out_len, 0644);
	if (sh_syntax(path) != 0)
		fail_msg("%s: sh -n rejects the result", name);
	char *sh_after = sh_value(path, VAR);
	if (strcmp(sh_after, value) != 0)
		fail_msg("%s: sh reads [%s] after the edit, want [%s]", name, sh_after, value);
	struct pt_cmdline cl;
	assert_int_equal(pt_cmdline_parse(sh_after, &cl), 0);
	if (op == PT_CMDLINE_ENSURE) {
		const struct pt_cmdline_token *t = pt_cmdline_find(&cl, "intel_iommu");
		assert_non_null(t);
		assert_string_equal(t->value, "on");
		t = pt_cmdline_find(&cl, "iommu");
		assert_non_null(t);
		assert_string_equal(t->value, "pt");
	} else {
		assert_null(pt_cmdline_find(&cl, "intel_iommu"));
		assert_null(pt_cmdline_find(&cl, "iommu"));
	}
	pt_cmdline_release(&cl);
	free(sh_after);

	/* A second edit is a no-op. */
	struct pt_boot_grub_default g2;
	assert_int_equal(
	        pt_boot_grub_default_parse(out, out_len, VAR, name, &g2, reports_fresh(&rep)), 0);
	assert_null(g2.problem);
	char *value2 = NULL;
	assert_int_equal(pt_cmdline_edit(g2.value ? g2.value : "", op, items, 2, &value2, NULL), 0);
	if (g2.value)
		assert_string_equal(value2, g2.value);
	char *out2 = NULL;
	size_t out2_len = 0;
	assert_int_equal(
	        pt_boot_grub_default_set(&g2, value2, &out2, &out2_len, reports_fresh(&rep)), 0);
	if (out2_len != out_len || memcmp(out2, out, out_len) != 0)
		fail_msg("%s: the second edit changed the file again", name);
	free(out2);
	free(value2);
	pt_boot_grub_default_release(&g2);

	free(out);
	free(value);
	pt_boot_grub_default_release(&g);
	pt_report_release(&rep);
}

/* check_file on every file of dir (at least min of them, so that a folder
 * that lost its files cannot pass by checking nothing). */
static void for_each_file(const char *dir, enum pt_cmdline_op op,
                          const struct refusal_case *refusals, int min)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	if (n < 0)
		fail_msg("cannot read %s", dir);
	int done = 0;
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			char path[512];
			snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
			char *text = NULL;
			size_t len = 0;
			assert_int_equal(pt_file_read(path, &text, &len), 0);
			check_file(names[i]->d_name, text, len, op, refusals);
			free(text);
			done++;
		}
		free(names[i]);
	}
	free(names);
	if (done < min)
		fail_msg("%s: %d files, want at least %d", dir, done, min);
	/* Every refusal named is a file of the folder. */
	for (size_t i = 0; refusals[i].file; i++) {
		char path[512];
		snprintf(path, sizeof path, "%s/%s", dir, refusals[i].file);
		if (access(path, R_OK) != 0)
			fail_msg("%s: no such fixture", path);
	}
}

static void test_fixtures_ensure(void **state)
{
	(void)state;
	for_each_file(FILES "/grub", PT_CMDLINE_ENSURE, fixture_refusals, 20);
}

static void test_fixtures_remove(void **state)
{
	(void)state;
	for_each_file(FILES "/grub", PT_CMDLINE_REMOVE, fixture_refusals, 20);
}

static void test_corpus_ensure(void **state)
{
	(void)state;
	for_each_file(corpus_path("grub", NULL), PT_CMDLINE_ENSURE, corpus_refusals, 33);
}

static void test_corpus_remove(void **state)
{
	(void)state;
	for_each_file(corpus_path("grub", NULL), PT_CMDLINE_REMOVE, corpus_refusals, 33);
}

static void test_debian_default(void **state)
{
	(void)state;
	char *text = NULL;
	size_t len = 0;
	if (pt_file_read(DEBIAN_GRUB, &text, &len) < 0)
		fail_msg("cannot read %s", DEBIAN_GRUB);
	check_file("debian-default-grub", text, len, PT_CMDLINE_ENSURE, NULL);
	check_file("debian-default-grub", text, len, PT_CMDLINE_REMOVE, NULL);
	/* The stock value is "quiet": exactly what the edit gives. */
	struct pt_boot_grub_default g;
	struct pt_report rep = {0};
	char *out = NULL;
	size_t out_len;
	assert_int_equal(pt_boot_grub_default_parse(text, len, VAR, "/etc/default/grub", &g,
	                                            reports_fresh(&rep)),
	                 0);
	assert_string_equal(g.value, "quiet");
	assert_int_equal(g.quote, PT_BOOT_GRUB_QUOTE_DOUBLE);
	assert_int_equal(pt_boot_grub_default_set(&g, "quiet intel_iommu=on iommu=pt", &out,
	                                          &out_len, reports_fresh(&rep)),
	                 0);
	assert_non_null(strstr(out, "\n" VAR "=\"quiet intel_iommu=on iommu=pt\"\n"));
	free(out);
	pt_boot_grub_default_release(&g);
	pt_report_release(&rep);
	free(text);
}

/* ---- synthetic cases ---------------------------------------------------- */

struct edit_case {
	const char *text;
	const char *value; /* new value */
	const char *want;  /* the file after */
	unsigned n_set;
};

static const struct edit_case edits[] = {
        {"X=\"quiet\"\n", "quiet iommu=pt", "X=\"quiet iommu=pt\"\n", 1},
        {"X='quiet'\n", "quiet iommu=pt", "X='quiet iommu=pt'\n", 1},
        /* An unquoted value that now needs quotes gets double quotes. */
        {"X=quiet\n", "quiet iommu=pt", "X=\"quiet iommu=pt\"\n", 1},
        {"X=quiet\n", "quiet,iommu=pt", "X=quiet,iommu=pt\n", 1},
        {"X=\n", "iommu=pt", "X=iommu=pt\n", 1},
        {"X=''\n", "iommu=pt", "X='iommu=pt'\n", 1},
        {"X=\"\"\n", "iommu=pt", "X=\"iommu=pt\"\n", 1},
        /* A quote inside a single-quoted value: double quotes instead. */
        {"X='quiet'\n", "quiet a='b'", "X=\"quiet a='b'\"\n", 1},
        {"X='quiet'\n", "quiet a=\"b c\"", "X='quiet a=\"b c\"'\n", 1},
        /* grub/031: escaped quotes stay as written. */
        {"X=\"quiet acpi_osi=\\\"!Windows 2012\\\"\"", "quiet acpi_osi=\"!Windows 2012\" iommu=pt",
         "X=\"quiet acpi_osi=\\\"!Windows 2012\\\" iommu=pt\"", 1},
        {"X=\"a\\$b\"\n", "a$b iommu=pt", "X=\"a\\$b iommu=pt\"\n", 1},
        {"X=\"a\\qb c\"\n", "a\\qb iommu=pt c", "X=\"a\\qb iommu=pt c\"\n", 1},
        {"X=\"a\\\\\"\n", "a\\ b", "X=\"a\\\\ b\"\n", 1},
        {"X=\"quiet\" # keep this\n", "quiet iommu=pt", "X=\"quiet iommu=pt\" # keep this\n", 1},
        {"X=\"quiet\"; Y=1 X2=3\n", "", "X=\"\"; Y=1 X2=3\n", 1},
        {"X=\"a\" Y=\"b\"\n", "a c", "X=\"a c\" Y=\"b\"\n", 1},
        /* Set twice: the last one is edited. */
        {"X=\"a\"\nX=\"b\"\n", "b c", "X=\"a\"\nX=\"b c\"\n", 2},
        {"#X=\"old\"\nX=\"a\"\n#X=\"older\"\n", "a c", "#X=\"old\"\nX=\"a c\"\n#X=\"older\"\n", 1},
        /* Names that only look alike. */
        {"X_XEN=\"a\"\nXX=1\n", "iommu=pt", "X_XEN=\"a\"\nXX=1\nX=\"iommu=pt\"\n", 0},
        {"Y=1", "iommu=pt", "Y=1\nX=\"iommu=pt\"\n", 0},
        {"", "iommu=pt", "X=\"iommu=pt\"\n", 0},
        {"Y=1 \\\n", "iommu=pt", "Y=1 \\\n\nX=\"iommu=pt\"\n", 0},
        {"Y=1\\\\\n", "iommu=pt", "Y=1\\\\\nX=\"iommu=pt\"\n", 0},
        {"Y=\"a\" # c", "iommu=pt", "Y=\"a\" # c\nX=\"iommu=pt\"\n", 0},
        /* Shell features elsewhere are fine. */
        {"if true; then Y=1; fi\nX=\"a\"\n", "b", "if true; then Y=1; fi\nX=\"b\"\n", 1},
        {"f() { Y=1; }\nf\nX=\"a\"\n", "b", "f() { Y=1; }\nf\nX=\"b\"\n", 1},
        {"cat <<EOF >/dev/null\nX=\"evil\"\nEOF\nX=\"a\"\n", "b",
         "cat <<EOF >/dev/null\nX=\"evil\"\nEOF\nX=\"b\"\n", 1},
        {"cat <<-'EOF'\n\tX=$(x)\n\tEOF\nX=a\n", "b", "cat <<-'EOF'\n\tX=$(x)\n\tEOF\nX=b\n", 1},
        {"Y=\"line\nX=\\\"bad\\\"\n\"\nX=\"a\"\n", "b", "Y=\"line\nX=\\\"bad\\\"\n\"\nX=\"b\"\n",
         1},
        {"case $Y in\n a|b) Y=1 ;;\n (c) Y=2\nesac\nX=\"a\"\n", "b",
         "case $Y in\n a|b) Y=1 ;;\n (c) Y=2\nesac\nX=\"b\"\n", 1},
        {"Z=$(echo \"$(echo ')')\")\nX='a'\n", "b", "Z=$(echo \"$(echo ')')\")\nX='b'\n", 1},
        {"for i in 1 2; do Y=$i; done\nwhile false; do :; done\nX=a\n", "b",
         "for i in 1 2; do Y=$i; done\nwhile false; do :; done\nX=b\n", 1},
        {"X=\"a\"\nexport X\nY=\"$X\"\n", "b", "X=\"b\"\nexport X\nY=\"$X\"\n", 1},
        {"Y=1 \\\n  Z=2\nX=\"a\"\n", "b", "Y=1 \\\n  Z=2\nX=\"b\"\n", 1},
        {"GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`\nX=\"a\"\n", "b",
         "GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`\nX=\"b\"\n", 1},
        {"true && Y=1 || Z=2\nX=\"a\"\n", "b", "true && Y=1 || Z=2\nX=\"b\"\n", 1},
        {"X=\"a\" &&\ntrue\n", "b", "X=\"b\" &&\ntrue\n", 1},
};

static void test_synthetic_edits(void **state)
{
	(void)state;
	for (size_t c = 0; c < sizeof edits / sizeof *edits; c++) {
		const struct edit_case *k = &edits[c];
		struct pt_boot_grub_default g;
		struct pt_report rep = {0};
		char *out = NULL;
		size_t out_len;
		int r = pt_boot_grub_default_parse(k->text, strlen(k->text), "X", "test", &g,
		                                   reports_fresh(&rep));
		if (r != 0 || g.problem)
			fail_msg("case %zu: refused: %s", c, rep.msg ? rep.msg : g.problem);
		assert_int_equal(g.n_set, k->n_set);
		assert_int_equal(
		        pt_boot_grub_default_set(&g, k->value, &out, &out_len, reports_fresh(&rep)),
		        0);
		if (strcmp(out, k->want) != 0)
			fail_msg("case %zu:\n want [%s]\n got  [%s]", c, k->want, out);
		assert_int_equal(out_len, strlen(out));

		/* The shell agrees. */
		char path[512];
		snprintf(path, sizeof path, "%s/case", workdir);
		tmptree_write(path, out, out_len, 0644);
		if (sh_syntax(path) != 0)
			fail_msg("case %zu: sh -n rejects [%s]", c, out);
		char *sh = sh_value(path, "X");
		if (strcmp(sh, k->value) != 0)
			fail_msg("case %zu: sh reads [%s], want [%s]", c, sh, k->value);
		free(sh);
		pt_boot_grub_default_release(&g);

		/* Same value again: the same bytes. */
		assert_int_equal(pt_boot_grub_default_parse(out, out_len, "X", "test", &g,
		                                            reports_fresh(&rep)),
		                 0);
		assert_string_equal(g.value, k->value);
		char *out2 = NULL;
		assert_int_equal(pt_boot_grub_default_set(&g, k->value, &out2, &out_len,
		                                          reports_fresh(&rep)),
		                 0);
		assert_string_equal(out2, out);
		free(out2);
		free(out);
		pt_boot_grub_default_release(&g);
		pt_report_release(&rep);
	}
}

struct refusal {
	const char *text;
	bool problem_only; /* parse succeeds, the value cannot be edited */
	const char *msg1, *msg2;
};

static const struct refusal refusals[] = {
        {"X=\"$X iommu=pt\"\n", true, "refers to itself", "line 1"},
        {"Y=1\nX=\"${X} quiet\"\n", true, "refers to itself", "line 2"},
        {"X=\"$(cat /etc/x)\"\n", true, "runs a command", "line 1"},
        {"X=\"`cat /etc/x`\"\n", true, "runs a command", "line 1"},
        {"X=`cat /etc/x`\n", true, "runs a command", "line 1"},
        {"X=\"$OTHER quiet\"\n", true, "expands another variable", "line 1"},
        {"X=\"$1 quiet\"\n", true, "expands a shell parameter", "line 1"},
        {"X=\"quiet \\\nsplash\"\n", true, "spans several lines", "line 1"},
        {"X=\"quiet\nsplash\"\n", true, "spans several lines", "line 1"},
        {"X=\"a\"'b'\n", true, "mixes quoting styles", "line 1"},
        {"X=~/x\n", true, "~", "line 1"},
        {"X=\"a\"\r\n", true, "carriage return", "dos2unix"},
        {"if true; then\n  X=\"a\"\nfi\n", false, "line 2", "block"},
        {"f() {\nX=\"a\"\n}\n", false, "line 2", "block"},
        {"function f {\nX=\"a\"\n}\n", false, "line 2", "block"},
        {"(X=\"a\")\n", false, "line 1", "block"},
        {"case $Y in a) X=1;; esac\n", false, "line 1", "block"},
        {"X=\"a\"\n[ -f /x ] && X=\"b\"\n", false, "line 2", "conditionally"},
        {"[ -f /x ] ||\n X=\"b\"\n", false, "line 2", "conditionally"},
        {"X=b | cat\n", false, "line 1", "conditionally"},
        {"X=b &\n", false, "line 1", "conditionally"},
        {"export X=\"a\"\n", false, "line 1", "export"},
        {"X+=\" a\"\n", false, "line 1", "+="},
        {"X=\"a\"\nunset X\n", false, "line 2", "unset"},
        {"read X </dev/null\n", false, "line 1", "command"},
        {"eval \"X=a\"\n", false, "line 1", "command"},
        {"X=\"a\" true\n", false, "line 1", "only for the command"},
        {"for X in a b; do :; done\n", false, "line 1", "for loop"},
        {"X=\"a\n", false, "does not parse", "line 1"},
        {"Y='a\nX=b\n", false, "does not parse", "single quote"},
        {"Y=$(a\n", false, "does not parse", "$("},
        {"Y=${a\n", false, "does not parse", "${"},
        {"Y=`a\n", false, "does not parse", "backquote"},
        {"fi\n", false, "does not parse", "closes nothing"},
        {"if true; then\nX=a\n", false, "does not parse", "`fi` is missing"},
        {"{ true; )\n", false, "does not parse", "where `}` was expected"},
        {"cat <<EOF\nX=1\n", false, "does not parse", "here-document"},
        {"echo >\n", false, "does not parse", "redirection"},
        {"true &&\n", false, "does not parse", "ends after &&"},
        {"Y=1\\", false, "does not parse", "ends with a backslash"},
        {"X=\"a\"\0\n", false, "NUL", "not a text file"},
};

static void test_refusals(void **state)
{
	(void)state;
	for (size_t c = 0; c < sizeof refusals / sizeof *refusals; c++) {
		const struct refusal *k = &refusals[c];
		size_t len = strlen(k->text);
		if (strstr(k->msg1, "NUL"))
			len += 2; /* the NUL and the newline after it */
		struct pt_boot_grub_default g;
		struct pt_report rep = {0};
		int r = pt_boot_grub_default_parse(k->text, len, "X", "/etc/default/grub", &g,
		                                   reports_fresh(&rep));
		const char *msg;
		if (k->problem_only) {
			if (r != 0 || !g.problem)
				fail_msg("case %zu [%s]: expected a value problem, got rc %d %s", c,
				         k->text, r, rep.msg ? rep.msg : "");
			msg = g.problem;
			/* Setting refuses with the same message. */
			struct pt_report rep2 = {0};
			char *out = NULL;
			size_t out_len;
			assert_int_equal(pt_boot_grub_default_set(&g, "x", &out, &out_len,
			                                          reports_fresh(&rep2)),
			                 -EINVAL);
			assert_null(out);
			assert_string_equal(rep2.msg, g.problem);
			pt_report_release(&rep2);
		} else {
			if (r != -EINVAL || !rep.msg)
				fail_msg("case %zu [%s]: expected a refusal, got rc %d", c, k->text,
				         r);
			msg = rep.msg;
		}
		if (!strstr(msg, k->msg1) || !strstr(msg, k->msg2))
			fail_msg("case %zu [%s]: message lacks [%s] or [%s]: %s", c, k->text,
			         k->msg1, k->msg2, msg);
		/* Every message names the file. */
		if (!strstr(msg, "/etc/default/grub"))
			fail_msg("case %zu: message does not name the file: %s", c, msg);
		pt_report_release(&rep);
		pt_boot_grub_default_release(&g);
	}
}

/* What grub_iommu asks of drop-ins (tests/fixtures/files/grub.d): one that sets
 * the variable outright overrides /etc/default/grub, one that appends to it
 * refers to itself, and the others do not set it. */
static void test_dropins(void **state)
{
	(void)state;
	static const struct {
		const char *file;
		unsigned n_set, line;
		bool self_reference;
	} dropins[] = {
	        {"50-cloud-settings.cfg", 1, 12, false},
	        {"60-append-console.cfg", 1, 2, true},
	        {"70-linux-only.cfg", 0, 0, false},
	        {"pve-distributor.cfg", 0, 0, false},
	};
	for (size_t i = 0; i < sizeof dropins / sizeof *dropins; i++) {
		char path[512];
		snprintf(path, sizeof path, FILES "/grub.d/%s", dropins[i].file);
		char *text = NULL;
		size_t len;
		assert_int_equal(pt_file_read(path, &text, &len), 0);
		struct pt_boot_grub_default g;
		struct pt_report rep = {0};
		if (pt_boot_grub_default_parse(text, len, VAR, dropins[i].file, &g,
		                               reports_fresh(&rep)) != 0)
			fail_msg("%s: %s", dropins[i].file, rep.msg);
		if (g.n_set != dropins[i].n_set || g.line != dropins[i].line ||
		    g.self_reference != dropins[i].self_reference)
			fail_msg("%s: n_set %u line %u self %d", dropins[i].file, g.n_set, g.line,
			         g.self_reference);
		/* An appending drop-in cannot be edited, and says why. */
		assert_true(!dropins[i].self_reference || g.problem);
		pt_boot_grub_default_release(&g);
		pt_report_release(&rep);
		free(text);
	}

	/* 70-linux-only.cfg sets the other variable, found on its own. */
	char *text = NULL;
	size_t len;
	assert_int_equal(pt_file_read(FILES "/grub.d/70-linux-only.cfg", &text, &len), 0);
	struct pt_boot_grub_default g;
	struct pt_report rep = {0};
	assert_int_equal(pt_boot_grub_default_parse(text, len, "GRUB_CMDLINE_LINUX", "70", &g,
	                                            reports_fresh(&rep)),
	                 0);
	assert_int_equal(g.n_set, 1);
	assert_string_equal(g.value, "intel_iommu=on iommu=pt");
	pt_boot_grub_default_release(&g);
	free(text);

	/* shell-features.grub: GRUB_CMDLINE_XEN_DEFAULT and ..._XEN_REPLACE_DEFAULT are
	 * other variables, the here-document and the quoted text no assignments. */
	assert_int_equal(pt_file_read(FILES "/grub/shell-features.grub", &text, &len), 0);
	assert_int_equal(pt_boot_grub_default_parse(text, len, VAR, "shell-features", &g,
	                                            reports_fresh(&rep)),
	                 0);
	assert_int_equal(g.n_set, 1);
	assert_int_equal(g.line, 17);
	assert_string_equal(g.value, "quiet");
	pt_boot_grub_default_release(&g);
	pt_report_release(&rep);
	free(text);
}

/* The same questions on two real files of the corpus: grub/026 sets the variable
 * outright (it overrides 025); grub/009's GRUB_CMDLINE_XEN_DEFAULT is another
 * variable. */
static void test_corpus_dropins(void **state)
{
	(void)state;
	char *text = NULL;
	size_t len;
	assert_int_equal(
	        pt_file_read(corpus_path("grub", "026-matsuu-isucon12q.grub"), &text, &len), 0);
	struct pt_boot_grub_default g;
	struct pt_report rep = {0};
	assert_int_equal(pt_boot_grub_default_parse(text, len, VAR, "50-cloudimg-settings.cfg", &g,
	                                            reports_fresh(&rep)),
	                 0);
	assert_int_equal(g.n_set, 1);
	assert_int_equal(g.line, 11);
	assert_false(g.self_reference);
	pt_boot_grub_default_release(&g);
	free(text);

	const char *append = VAR "=\"$" VAR " init=/lib/systemd/systemd\"\n";
	assert_int_equal(pt_boot_grub_default_parse(append, strlen(append), VAR, "init.cfg", &g,
	                                            reports_fresh(&rep)),
	                 0);
	assert_int_equal(g.n_set, 1);
	assert_true(g.self_reference);
	assert_non_null(g.problem);
	pt_boot_grub_default_release(&g);

	assert_int_equal(
	        pt_file_read(corpus_path("grub", "009-Davizuco-virtualizacion.grub"), &text, &len),
	        0);
	assert_int_equal(pt_boot_grub_default_parse(text, len, VAR, "009", &g, reports_fresh(&rep)),
	                 0);
	assert_int_equal(g.n_set, 1);
	assert_string_equal(g.value, "quiet");
	pt_boot_grub_default_release(&g);
	assert_int_equal(pt_boot_grub_default_parse(text, len, "GRUB_CMDLINE_LINUX", "009", &g,
	                                            reports_fresh(&rep)),
	                 0);
	assert_int_equal(g.n_set, 1);
	assert_string_equal(g.value, "");
	pt_boot_grub_default_release(&g);
	pt_report_release(&rep);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_fixtures_ensure), cmocka_unit_test(test_fixtures_remove),
	        cmocka_unit_test(test_debian_default),  cmocka_unit_test(test_synthetic_edits),
	        cmocka_unit_test(test_refusals),        cmocka_unit_test(test_dropins),
	};
	const struct CMUnitTest corpus_tests[] = {
	        cmocka_unit_test(test_corpus_ensure),
	        cmocka_unit_test(test_corpus_remove),
	        cmocka_unit_test(test_corpus_dropins),
	};
	int rc = cmocka_run_group_tests_name("grub_default", tests, setup, teardown);
	if (corpus_present())
		rc += cmocka_run_group_tests_name("grub_default corpus", corpus_tests, setup,
		                                  teardown);
	return rc;
}
