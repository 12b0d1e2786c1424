/* module_utils/conf_block, modprobe_conf and vfio_render: the managed block
 * (every file of tests/fixtures/files/modprobe.d and modules, and of the corpus
 * when it is there, comes back byte for byte), modprobe.d parsing as kmod
 * reads it, the vfio.conf and blacklist renderers, and the conflicting lines
 * elsewhere in modprobe.d. */
#include <dirent.h>
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

#include "conf_block.h"
#include "files.h"
#include "modprobe_conf.h"
#include "support/corpus.h"
#include "support/tmptree.h"
#include "vfio_render.h"

#define FILES FIXTURES_DIR "/files"

#define OWNER  "homelab.passthrough.vfio_bind"
#define HEADER ": managed by Ansible"

static char root[256];

/* Every file of folder dir, sorted; NULL-terminated, caller frees. */
static char **folder_files(const char *dir)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	assert_true(n > 2);
	char **out = calloc((size_t)n + 1, sizeof *out);
	int k = 0;
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.' &&
		    asprintf(&out[k], "%s/%s", dir, names[i]->d_name) >= 0)
			k++;
		free(names[i]);
	}
	free(names);
	return out;
}

static void free_list(char **v)
{
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

/* --- the managed block -------------------------------------------------------- */

static void test_block_new_file(void **state)
{
	(void)state;
	struct pt_report err = {0};
	char *t = pt_conf_block_apply("", OWNER, HEADER, "softdep nouveau pre: vfio-pci\n", "f",
	                              &err);
	assert_string_equal(t, "# BEGIN " OWNER HEADER "\n"
	                       "softdep nouveau pre: vfio-pci\n"
	                       "# END " OWNER "\n");
	char *back = pt_conf_block_apply(t, OWNER, HEADER, NULL, "f", &err);
	assert_string_equal(back, "");
	free(t);
	free(back);
	/* NULL text is an absent file */
	t = pt_conf_block_apply(NULL, OWNER, HEADER, "x\n", "f", &err);
	assert_string_equal(t, "# BEGIN " OWNER HEADER "\nx\n# END " OWNER "\n");
	free(t);
	assert_null(err.msg);
	assert_int_equal(err.error, 0);
}

static void test_block_body_without_newline(void **state)
{
	(void)state;
	char *t = pt_conf_block_apply("a\n", OWNER, "", "blacklist x", "f", NULL);
	assert_string_equal(t, "a\n# BEGIN " OWNER "\nblacklist x\n# END " OWNER "\n");
	free(t);
}

static void test_block_missing_final_newline(void **state)
{
	(void)state;
	const char *orig = "options vfio-pci ids=1002:164c disable_vga=1";
	char *t = pt_conf_block_apply(orig, OWNER, "", "softdep amdgpu pre: vfio-pci\n", "f", NULL);
	assert_string_equal(t, "options vfio-pci ids=1002:164c disable_vga=1\n"
	                       "# BEGIN " OWNER "\n"
	                       "softdep amdgpu pre: vfio-pci\n"
	                       "# END " OWNER);
	/* a new body keeps the file without a final newline */
	char *t2 = pt_conf_block_apply(t, OWNER, "", "a\nb\n", "f", NULL);
	assert_string_equal(t2, "options vfio-pci ids=1002:164c disable_vga=1\n"
	                        "# BEGIN " OWNER "\na\nb\n# END " OWNER);
	char *back = pt_conf_block_apply(t2, OWNER, "", "", "f", NULL);
	assert_string_equal(back, orig);
	free(t);
	free(t2);
	free(back);
}

static void test_block_replaced_in_place(void **state)
{
	(void)state;
	const char *text = "# top\n# BEGIN " OWNER ": old header\nold\n# END " OWNER "\n# tail\n";
	char *t = pt_conf_block_apply(text, OWNER, HEADER, "new\n", "f", NULL);
	assert_string_equal(t, "# top\n# BEGIN " OWNER HEADER "\nnew\n# END " OWNER "\n# tail\n");
	char *back = pt_conf_block_apply(t, OWNER, HEADER, NULL, "f", NULL);
	assert_string_equal(back, "# top\n# tail\n");
	free(t);
	free(back);
}

static void test_block_owners_are_distinct(void **state)
{
	(void)state;
	char *a = pt_conf_block_apply("", OWNER "/blacklist", "", "blacklist radeon\n", "f", NULL);
	char *b = pt_conf_block_apply(a, OWNER, "", "softdep radeon pre: vfio-pci\n", "f", NULL);
	struct pt_conf_block blk;
	assert_int_equal(pt_conf_block_find(b, OWNER "/blacklist", "f", &blk, NULL), 0);
	assert_true(blk.found);
	assert_int_equal(blk.begin_line, 1);
	assert_int_equal(blk.end_line, 3);
	assert_int_equal(pt_conf_block_find(b, OWNER, "f", &blk, NULL), 0);
	assert_true(blk.found);
	assert_int_equal(blk.begin_line, 4);
	char *c = pt_conf_block_strip(b, OWNER);
	assert_string_equal(c, a);
	free(a);
	free(b);
	free(c);
	/* a longer name that merely starts with the owner is not a marker */
	assert_int_equal(pt_conf_block_find("# BEGIN " OWNER "x\n", OWNER, "f", &blk, NULL), 0);
	assert_false(blk.found);
}

static void test_block_damaged(void **state)
{
	(void)state;
	struct pt_report err = {0};
	struct pt_conf_block blk;
	assert_int_equal(
	        pt_conf_block_find("a\n# BEGIN " OWNER "\nb\n", OWNER, "/etc/x.conf", &blk, &err),
	        -EINVAL);
	assert_int_equal(err.error, -EINVAL);
	assert_non_null(strstr(err.msg, "/etc/x.conf"));
	assert_non_null(strstr(err.msg, "line 2: BEGIN marker without END"));
	pt_report_release(&err);
	assert_null(pt_conf_block_apply("# END " OWNER "\n", OWNER, "", "x\n", "/etc/y", &err));
	assert_non_null(strstr(err.msg, "line 1: END marker without BEGIN"));
	pt_report_release(&err);
	const char *twice =
	        "# BEGIN " OWNER "\n# END " OWNER "\n# BEGIN " OWNER "\n# END " OWNER "\n";
	assert_null(pt_conf_block_apply(twice, OWNER, "", NULL, "/etc/z", &err));
	assert_non_null(strstr(err.msg, "line 3: a second BEGIN marker"));
	pt_report_release(&err);
	assert_null(pt_conf_block_strip("# BEGIN " OWNER "\n", OWNER));
}

/* Add, update and remove the block on every file of dir: the user's bytes
 * stay, the block is where expected, and removal gives the original back. A file
 * named refused must be refused instead by kmod's continuation check, with message
 * in the error: its last line continues onto whatever follows. refused NULL: no
 * continuation check (/etc/modules is read line by line, without continuation). */
static void roundtrip_folder(const char *dir, int min, const char *refused, const char *message)
{
	char **files = folder_files(dir);
	int count = 0;
	for (char **f = files; *f; f++, count++) {
		char *orig = tmptree_read(*f);
		struct pt_report err = {0};
		const char *base = strrchr(*f, '/') + 1;
		if (refused) {
			/* modprobe.d: kmod's continuation check first, as vfio_bind does */
			int r = pt_modprobe_check_continuation(orig, OWNER, *f, &err);
			if (strcmp(base, refused) == 0) {
				if (r != -EINVAL || !err.msg || !strstr(err.msg, message))
					fail_msg("%s: want a refusal with [%s], got %s", *f,
					         message, err.msg ? err.msg : "none");
				pt_report_release(&err);
				free(orig);
				continue;
			}
			if (r != 0)
				fail_msg("%s: %s", *f, err.msg);
		}
		char *a = pt_conf_block_apply(orig, OWNER, HEADER,
		                              "options vfio-pci ids=10de:1c82\n", *f, &err);
		if (!a)
			fail_msg("%s: %s", *f, err.msg);
		/* the original is a prefix of the result, up to its last byte */
		assert_memory_equal(a, orig, strlen(orig));
		char *again = pt_conf_block_apply(a, OWNER, HEADER,
		                                  "options vfio-pci ids=10de:1c82\n", *f, &err);
		assert_string_equal(again, a);
		char *b = pt_conf_block_apply(a, OWNER, HEADER, "softdep nouveau pre: vfio-pci\n",
		                              *f, &err);
		char *back = pt_conf_block_apply(b, OWNER, HEADER, NULL, *f, &err);
		if (strcmp(back, orig) != 0)
			fail_msg("%s does not come back byte for byte", *f);
		/* the final-newline state of the file never changes */
		size_t lo = strlen(orig), lb = strlen(b);
		bool orig_nl = lo == 0 || orig[lo - 1] == '\n';
		assert_int_equal(orig_nl, b[lb - 1] == '\n');
		free(orig);
		free(a);
		free(again);
		free(b);
		free(back);
		pt_report_release(&err);
	}
	if (count < min)
		fail_msg("%s: %d files, want at least %d", dir, count, min);
	free_list(files);
}

static void test_block_roundtrip_fixtures_modprobe(void **state)
{
	(void)state;
	roundtrip_folder(FILES "/modprobe.d", 8, "continued-last-line.conf", "ends in a backslash");
}

static void test_block_roundtrip_fixtures_modules(void **state)
{
	(void)state;
	roundtrip_folder(FILES "/modules", 5, NULL, NULL);
}

static void test_block_roundtrip_corpus_modprobe(void **state)
{
	(void)state;
	roundtrip_folder(corpus_path("modprobe", NULL), 10, NULL, NULL);
}

static void test_block_roundtrip_corpus_modules(void **state)
{
	(void)state;
	roundtrip_folder(corpus_path("modules", NULL), 10, NULL, NULL);
}

/* --- parsing -------------------------------------------------------------------- */

static json_t *entry(json_t *lines, size_t i)
{
	json_t *e = json_array_get(lines, i);
	assert_non_null(e);
	return e;
}

static const char *field(json_t *e, const char *k)
{
	return json_string_value(json_object_get(e, k));
}

static void test_parse_lines(void **state)
{
	(void)state;
	json_t *l = pt_modprobe_parse("# comment\n"
	                              "   \n"
	                              "options  vfio-pci\tids=10de:1c82,10de:0fb9   disable_vga=1\n"
	                              "  softdep snd-hda-intel pre: vfio-pci\n"
	                              "install vfio-pci /bin/echo a \\\n"
	                              "  b\n"
	                              "blacklist nouveau");
	assert_int_equal(json_array_size(l), 4);
	assert_string_equal(field(entry(l, 0), "command"), "options");
	assert_string_equal(field(entry(l, 0), "module"), "vfio_pci");
	assert_string_equal(field(entry(l, 0), "args"), "ids=10de:1c82,10de:0fb9 disable_vga=1");
	assert_int_equal(json_integer_value(json_object_get(entry(l, 0), "line")), 3);
	assert_string_equal(field(entry(l, 1), "module"), "snd_hda_intel");
	assert_string_equal(field(entry(l, 1), "args"), "pre: vfio-pci");
	assert_string_equal(field(entry(l, 2), "command"), "install");
	assert_string_equal(field(entry(l, 2), "args"), "/bin/echo a b");
	assert_int_equal(json_integer_value(json_object_get(entry(l, 2), "line")), 5);
	assert_string_equal(field(entry(l, 3), "module"), "nouveau");
	assert_int_equal(json_integer_value(json_object_get(entry(l, 3), "line")), 7);
	json_decref(l);
}

static json_t *parse_file(const char *path)
{
	char *text = tmptree_read(path);
	json_t *l = pt_modprobe_parse(text);
	free(text);
	assert_non_null(l);
	return l;
}

static json_t *parse_corpus(const char *name)
{
	return parse_file(corpus_path("modprobe", name));
}

static json_t *parse_fixture(const char *name)
{
	char path[512];
	snprintf(path, sizeof path, FILES "/modprobe.d/%s", name);
	return parse_file(path);
}

static void test_parse_fixtures(void **state)
{
	(void)state;
	/* options and softdeps; module names as kmod spells them (_ for -) */
	json_t *l = parse_fixture("vfio-ids.conf");
	assert_int_equal(json_array_size(l), 3);
	assert_string_equal(field(entry(l, 0), "module"), "vfio_pci");
	assert_string_equal(field(entry(l, 0), "args"), "ids=10de:1c82,10de:0fb9 disable_vga=1");
	assert_int_equal(json_integer_value(json_object_get(entry(l, 0), "line")), 2);
	assert_string_equal(field(entry(l, 2), "command"), "softdep");
	json_decref(l);
	/* a directive continued over two lines is one, at its first line */
	l = parse_fixture("continued-middle.conf");
	assert_int_equal(json_array_size(l), 2);
	assert_string_equal(field(entry(l, 0), "args"), "ids=1002:73bf,1002:ab28");
	assert_int_equal(json_integer_value(json_object_get(entry(l, 0), "line")), 3);
	assert_string_equal(field(entry(l, 1), "command"), "blacklist");
	json_decref(l);
	/* commented lines are not lines; an empty file has none */
	l = parse_fixture("comments-only.conf");
	assert_int_equal(json_array_size(l), 0);
	json_decref(l);
	l = parse_fixture("empty.conf");
	assert_int_equal(json_array_size(l), 0);
	json_decref(l);
	/* alias keeps its first word as module; install keeps its command */
	l = parse_fixture("kvm-options.conf");
	assert_int_equal(json_array_size(l), 4);
	assert_string_equal(field(entry(l, 2), "command"), "alias");
	assert_string_equal(field(entry(l, 3), "command"), "install");
	assert_string_equal(field(entry(l, 3), "args"), "/bin/false");
	json_decref(l);
}

static void test_parse_corpus(void **state)
{
	(void)state;
	/* 001: several options lines for vfio-pci; the commented ones are not lines */
	json_t *l = parse_corpus("001-iroger-ASRock-TRX40-proxmox.conf");
	assert_int_equal(json_array_size(l), 5);
	assert_string_equal(field(entry(l, 4), "args"), "ids=14e4:43a0");
	json_decref(l);
	/* 009: the typo is kept as written */
	l = parse_corpus("009-smartperson-ubuntu-x570-qemu-setup.conf");
	assert_int_equal(json_array_size(l), 2);
	assert_string_equal(field(entry(l, 1), "args"), "diable_vga=1");
	json_decref(l);
	/* 011: only a commented line */
	l = parse_corpus("011-Alkeryn-dotfiles_root.conf");
	assert_int_equal(json_array_size(l), 0);
	json_decref(l);
	/* 015: alias lines keep their first word as module */
	l = parse_corpus("015-hdinc-dotfiles.conf");
	assert_int_equal(json_array_size(l), 4);
	assert_string_equal(field(entry(l, 2), "command"), "alias");
	assert_string_equal(field(entry(l, 3), "module"), "lbm_nouveau");
	json_decref(l);
}

/* A last line that continues would take the BEGIN marker into the user's
 * directive (kmod joins before it looks for comments): refused, naming the file
 * and the line; harmless joins (a comment, a blank line) and an even run of
 * backslashes (an escaped backslash) are not. */
static void test_continuation(void **state)
{
	(void)state;
	static const char *const refused[][2] = {
	        {"options snd-hda-intel model=auto \\\n", "line 1 ends in a backslash"},
	        {"# x\noptions snd-hda-intel \\", "line 2 ends in a backslash"},
	        {"install a /bin/true \\\\\\\n", "line 1 "},
	        {"options a \\\n# looks like a comment \\\n", "line 2 "},
	        {"   \\\n  blacklist a \\\n", "line 2 "},
	        /* the block in place behind such a line: kmod has joined its marker */
	        {"softdep a \\\n# BEGIN " OWNER HEADER "\nblacklist b\n# END " OWNER "\n",
	         "line 1 "},
	};
	static const char *const allowed[] = {
	        NULL,
	        "",
	        "options a b\n",
	        "options a \\\\\n",
	        "options a \\\n  b=1\n",
	        "options a \\\n\n",
	        "# a comment \\\n",
	        "   \\\n",
	        "options a \\\r\n",
	        "\r\\\n",
	        /* the block ends the file: whatever follows it is ours */
	        "options a\n# BEGIN " OWNER HEADER "\nblacklist b\n# END " OWNER "\n",
	};
	struct pt_report msg = {0};
	for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
		assert_int_equal(pt_modprobe_check_continuation(refused[i][0], OWNER,
		                                                "/etc/modprobe.d/x.conf", &msg),
		                 -EINVAL);
		assert_int_equal(msg.error, -EINVAL);
		if (!msg.msg || !strstr(msg.msg, refused[i][1]) ||
		    !strstr(msg.msg, "/etc/modprobe.d/x.conf line ") ||
		    !strstr(msg.msg, "modprobe would join the next line onto it") ||
		    !strstr(msg.msg, "remove the trailing backslash"))
			fail_msg("case %zu: want [%s] in [%s]", i, refused[i][1],
			         msg.msg ? msg.msg : "(null)");
		pt_report_release(&msg);
	}
	for (size_t i = 0; i < sizeof allowed / sizeof *allowed; i++) {
		int r = pt_modprobe_check_continuation(allowed[i], OWNER, "/x.conf", &msg);
		if (r != 0)
			fail_msg("case %zu refused: %s", i, msg.msg ? msg.msg : "(null)");
		assert_null(msg.msg);
		assert_int_equal(msg.error, 0);
	}
	/* damaged markers are reported as such */
	assert_int_equal(
	        pt_modprobe_check_continuation("# END " OWNER "\n", OWNER, "/x.conf", &msg),
	        -EINVAL);
	assert_non_null(strstr(msg.msg, "is damaged"));
	pt_report_release(&msg);
	/* without a report: the answer alone */
	assert_int_equal(pt_modprobe_check_continuation("options a \\\n", OWNER, "/x.conf", NULL),
	                 -EINVAL);

	/* the reader agrees: an even run of backslashes ends the line */
	json_t *l = pt_modprobe_parse("options a \\\\\nblacklist b\noptions c \\\\\\\n d\n");
	assert_int_equal(json_array_size(l), 3);
	assert_string_equal(field(entry(l, 0), "text"), "options a \\\\");
	assert_string_equal(field(entry(l, 1), "command"), "blacklist");
	assert_string_equal(field(entry(l, 2), "args"), "\\\\ d");
	json_decref(l);
}

/* --- rendering ------------------------------------------------------------------ */

static void test_render_vfio(void **state)
{
	(void)state;
	json_t *ids = json_pack("[s,s,s]", "10de:1c82", "10de:0fb9", "10de:1c82");
	json_t *deps = json_pack("[s,s,s]", "snd-hda-intel", "nouveau", "snd_hda_intel");
	json_t *none = json_array();
	struct pt_vfio_conf c = {
	        .ids = ids, .disable_vga = false, .softdeps = deps, .overrides = none};
	char *t = pt_vfio_render_conf(&c);
	assert_string_equal(t, "options vfio-pci ids=10de:0fb9,10de:1c82\n"
	                       "softdep nouveau pre: vfio-pci\n"
	                       "softdep snd_hda_intel pre: vfio-pci\n");
	free(t);
	c.disable_vga = true;
	t = pt_vfio_render_conf(&c);
	assert_non_null(strstr(t, "options vfio-pci ids=10de:0fb9,10de:1c82 disable_vga=1\n"));
	free(t);
	c.ids = none;
	c.softdeps = none;
	t = pt_vfio_render_conf(&c);
	assert_string_equal(t, "options vfio-pci disable_vga=1\n");
	free(t);
	c.disable_vga = false;
	t = pt_vfio_render_conf(&c);
	assert_string_equal(t, "");
	free(t);
	json_decref(ids);
	json_decref(deps);
	json_decref(none);
}

static void test_render_overrides(void **state)
{
	(void)state;
	json_t *ids = json_array();
	json_t *deps = json_pack("[s]", "nouveau");
	json_t *ov = json_pack("[s,s]", "0000:02:00.1", "0000:02:00.0");
	struct pt_vfio_conf c = {.ids = ids, .softdeps = deps, .overrides = ov};
	char *t = pt_vfio_render_conf(&c);
	const char *install = "install vfio-pci for d in 0000:02:00.0 0000:02:00.1; do "
	                      "f=/sys/bus/pci/devices/$d/driver_override; [ -w \"$f\" ] && "
	                      "echo vfio-pci > \"$f\"; done; exec /sbin/modprobe "
	                      "--ignore-install vfio-pci $CMDLINE_OPTS\n";
	assert_non_null(strstr(t, install));
	assert_null(strstr(t, "options vfio-pci"));
	assert_non_null(strstr(t, "softdep nouveau pre: vfio-pci\n"));
	/* the install command is one logical line for kmod, every other line a comment */
	json_t *l = pt_modprobe_parse(t);
	assert_int_equal(json_array_size(l), 2);
	assert_string_equal(field(entry(l, 1), "command"), "install");
	assert_string_equal(field(entry(l, 1), "module"), "vfio_pci");
	json_decref(l);
	free(t);
	json_t *empty = json_array();
	assert_null(pt_vfio_render_install_line(empty));
	json_decref(empty);
	json_decref(ids);
	json_decref(deps);
	json_decref(ov);
}

static void test_render_blacklist(void **state)
{
	(void)state;
	json_t *m = json_pack("[s,s,s]", "nouveau", "snd-hda-intel", "nouveau");
	char *t = pt_vfio_render_blacklist(m);
	assert_string_equal(t, "blacklist nouveau\nblacklist snd_hda_intel\n");
	free(t);
	json_decref(m);
	m = json_array();
	t = pt_vfio_render_blacklist(m);
	assert_string_equal(t, "");
	free(t);
	json_decref(m);
}

/* --- conflicts ------------------------------------------------------------------ */

static int make_root(void **state)
{
	(void)state;
	return tmptree_make(root, sizeof root, "modprobe") < 0 ? -1 : 0;
}

static int drop_root(void **state)
{
	(void)state;
	tmptree_remove(root);
	return 0;
}

/* root/rel with text, its directories made */
static void put(const char *rel, const char *text)
{
	tmptree_put(root, rel, text);
}

static void put_file(const char *rel, const char *path)
{
	char *text = tmptree_read(path);
	put(rel, text);
	free(text);
}

static void put_corpus(const char *rel, const char *name)
{
	put_file(rel, corpus_path("modprobe", name));
}

static void put_fixture(const char *rel, const char *name)
{
	char path[512];
	snprintf(path, sizeof path, FILES "/modprobe.d/%s", name);
	put_file(rel, path);
}

/* The conflicting lines, from the repository's own files: ids= lines in other
 * files (a continued one at its first line), the user's own line outside the
 * block of vfio.conf, install lines; not a file modprobe never reads. */
static void test_conflicts_fixtures(void **state)
{
	(void)state;
	put_fixture("/etc/modprobe.d/passthrough.conf", "vfio-ids.conf");
	put_fixture("/etc/modprobe.d/pve-blacklist.conf", "blacklist-gpu.conf");
	put_fixture("/lib/modprobe.d/old.conf", "continued-middle.conf");
	put_fixture("/etc/modprobe.d/kvm.conf", "kvm-options.conf");
	put_fixture("/etc/modprobe.d/vfio.conf.dpkg-old", "vfio-ids.conf");
	char *own_text = pt_conf_block_apply("blacklist vfio_pci\n", OWNER, "",
	                                     "options vfio-pci ids=10de:1c82\n", "own", NULL);
	put("/etc/modprobe.d/vfio.conf", own_text);
	free(own_text);
	put("/usr/lib/modprobe.d/kvm.conf", "options vfio-pci ids=dead:beef\n");

	char own[512];
	snprintf(own, sizeof own, "%s/etc/modprobe.d/vfio.conf", root);
	json_t *found = json_array();
	assert_int_equal(pt_modprobe_find_conflicts(root, own, OWNER, found), 0);
	char *dump = json_dumps(found, JSON_COMPACT);
	size_t ids = 0, blacklist = 0, other = 0;
	size_t i;
	json_t *e;
	json_array_foreach (found, i, e) {
		const char *k = field(e, "kind");
		if (!strcmp(k, "ids"))
			ids++;
		else if (!strcmp(k, "blacklist"))
			blacklist++;
		else
			other++;
		assert_null(strstr(field(e, "path"), "dpkg-old"));
		assert_null(strstr(field(e, "path"), "/usr/lib/"));
	}
	if (ids != 2 || blacklist != 1 || other != 0)
		fail_msg("unexpected conflicts: %s", dump);
	json_t *first = json_array_get(found, 0);
	assert_non_null(strstr(field(first, "path"), "/etc/modprobe.d/passthrough.conf"));
	assert_int_equal(json_integer_value(json_object_get(first, "line")), 2);
	assert_string_equal(field(first, "text"),
	                    "options vfio-pci ids=10de:1c82,10de:0fb9 disable_vga=1");
	free(dump);
	json_decref(found);
}

static void test_conflicts(void **state)
{
	(void)state;
	put_corpus("/etc/modprobe.d/passthrough.conf", "001-iroger-ASRock-TRX40-proxmox.conf");
	put_corpus("/etc/modprobe.d/pve-blacklist.conf", "002-iroger-ASRock-TRX40-proxmox.conf");
	put_corpus("/lib/modprobe.d/old.conf", "003-mikumeow-PVE_BAK.conf");
	/* not a .conf: modprobe does not read it */
	put_corpus("/etc/modprobe.d/vfio.conf.dpkg-old", "010-AdrianLSY-Proxmox-setup.conf");
	/* our own file: a user line outside the block counts, the block does not */
	char *own_text = pt_conf_block_apply("blacklist vfio_pci\n", OWNER, "",
	                                     "options vfio-pci ids=10de:1c82\n"
	                                     "install vfio-pci /bin/true\n",
	                                     "own", NULL);
	put("/etc/modprobe.d/vfio.conf", own_text);
	free(own_text);
	put("/etc/modprobe.d/zz.conf", "install vfio_pci /sbin/something\n");
	/* masked by /etc/modprobe.d/zz.conf of the same name: kmod never reads it */
	put("/usr/lib/modprobe.d/zz.conf", "options vfio-pci ids=dead:beef\n");

	char own[512];
	snprintf(own, sizeof own, "%s/etc/modprobe.d/vfio.conf", root);
	json_t *found = json_array();
	assert_int_equal(pt_modprobe_find_conflicts(root, own, OWNER, found), 0);
	char *dump = json_dumps(found, JSON_COMPACT);
	/* 001: five ids lines; vfio.conf: the user's blacklist line; zz: install;
	 * 003 in /lib: one ids line */
	size_t ids = 0, blacklist = 0, install = 0;
	size_t i;
	json_t *e;
	json_array_foreach (found, i, e) {
		const char *k = field(e, "kind");
		ids += !strcmp(k, "ids");
		blacklist += !strcmp(k, "blacklist");
		install += !strcmp(k, "install");
		assert_null(strstr(field(e, "path"), "dpkg-old"));
	}
	if (ids != 6 || blacklist != 1 || install != 1)
		fail_msg("unexpected conflicts: %s", dump);
	json_t *first = json_array_get(found, 0);
	assert_non_null(strstr(field(first, "path"), "/etc/modprobe.d/passthrough.conf"));
	assert_int_equal(json_integer_value(json_object_get(first, "line")), 2);
	assert_string_equal(field(first, "text"), "options vfio-pci ids=1002:66af,1002:ab20 "
	                                          "disable_vga=1");
	free(dump);
	json_decref(found);
}

static void test_conflicts_none(void **state)
{
	(void)state;
	json_t *found = json_array();
	assert_int_equal(pt_modprobe_find_conflicts(root, NULL, OWNER, found), 0);
	assert_int_equal(json_array_size(found), 0);
	put_fixture("/etc/modprobe.d/a.conf", "comments-only.conf");
	put_fixture("/etc/modprobe.d/b.conf", "vfio-ids.conf");
	assert_int_equal(pt_modprobe_find_conflicts(root, NULL, OWNER, found), 0);
	/* only comments in a; b sets ids once */
	assert_int_equal(json_array_size(found), 1);
	json_decref(found);
}

static void test_conflicts_none_corpus(void **state)
{
	(void)state;
	json_t *found = json_array();
	put_corpus("/etc/modprobe.d/a.conf", "011-Alkeryn-dotfiles_root.conf");
	put_corpus("/etc/modprobe.d/b.conf", "009-smartperson-ubuntu-x570-qemu-setup.conf");
	assert_int_equal(pt_modprobe_find_conflicts(root, NULL, OWNER, found), 0);
	/* 011 is only a comment; 009 sets ids once */
	assert_int_equal(json_array_size(found), 1);
	json_decref(found);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_block_new_file),
	        cmocka_unit_test(test_block_body_without_newline),
	        cmocka_unit_test(test_block_missing_final_newline),
	        cmocka_unit_test(test_block_replaced_in_place),
	        cmocka_unit_test(test_block_owners_are_distinct),
	        cmocka_unit_test(test_block_damaged),
	        cmocka_unit_test(test_block_roundtrip_fixtures_modprobe),
	        cmocka_unit_test(test_block_roundtrip_fixtures_modules),
	        cmocka_unit_test(test_parse_lines),
	        cmocka_unit_test(test_parse_fixtures),
	        cmocka_unit_test(test_continuation),
	        cmocka_unit_test(test_render_vfio),
	        cmocka_unit_test(test_render_overrides),
	        cmocka_unit_test(test_render_blacklist),
	        cmocka_unit_test_setup_teardown(test_conflicts_fixtures, make_root, drop_root),
	        cmocka_unit_test_setup_teardown(test_conflicts_none, make_root, drop_root),
	};
	const struct CMUnitTest corpus_tests[] = {
	        cmocka_unit_test(test_block_roundtrip_corpus_modprobe),
	        cmocka_unit_test(test_block_roundtrip_corpus_modules),
	        cmocka_unit_test(test_parse_corpus),
	        cmocka_unit_test_setup_teardown(test_conflicts, make_root, drop_root),
	        cmocka_unit_test_setup_teardown(test_conflicts_none_corpus, make_root, drop_root),
	};
	int rc = cmocka_run_group_tests_name("modprobe_conf", tests, NULL, NULL);
	if (corpus_present())
		rc += cmocka_run_group_tests_name("modprobe_conf corpus", corpus_tests, NULL, NULL);
	return rc;
}
