/* libFuzzer harness: the modprobe.d reader and the managed-block writer
 * (module_utils/modprobe_conf.h, conf_block.h, vfio_render.h) as vfio_bind
 * drives them.
 *
 * Input: a modprobe.d file, optionally followed by a NUL byte and parameter
 * lines, each one letter and a value: i<vendor:device>, s<softdep module>,
 * o<override address>, b<blacklisted module>, v (disable_vga). Values are cut
 * to the characters the module lets through its validation; without any the
 * block is the usual GPU one. Invariants:
 *   - the reader gives well-formed entries in line order for any text;
 *   - damaged markers are refused everywhere (find, apply, strip) with the path;
 *   - a file without the block comes back unchanged from strip and from
 *     removing the block (render(parse(x)) == x), and adding then removing the
 *     block gives the file back byte for byte (remove(add(x)) == x);
 *   - after adding, the block holds exactly the markers and the body, the
 *     bytes outside it are those of the file, applying the same body again
 *     changes nothing (editing twice equals editing once), and kmod reads the
 *     user's lines as before plus the body's lines;
 *   - a file whose line before the block continues a directive (an odd run
 *     of backslashes: kmod would join the BEGIN marker onto it) is refused,
 *     naming the file and that line, and nothing else is refused for that;
 *   - the vfio and the blacklist owners' blocks live side by side: adding or
 *     removing one leaves the other as it was;
 *   - the rendered bodies read back as what was asked for. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>

#include <jansson.h>

#include "conf_block.h"
#include "fuzz_check.h"
#include "modprobe_conf.h"
#include "vfio_render.h"

#define OWNER           "homelab.passthrough.vfio_bind"
#define OWNER_BLACKLIST OWNER "/blacklist"
#define HEADER          ": managed by Ansible (edits here are overwritten)"
#define PATH            "/etc/modprobe.d/vfio.conf"

static bool same(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static const char *str(const json_t *entry, const char *key)
{
	const char *s = json_string_value(json_object_get(entry, key));
	check(s != NULL);
	return s;
}

static bool has_blank(const char *s)
{
	return strpbrk(s, " \t") != NULL;
}

/* The reader's promises on any text. */
static json_t *read_checked(const char *text)
{
	json_t *lines = pt_modprobe_parse(text);
	check(json_is_array(lines));
	size_t physical = 1;
	for (const char *p = text; *p; p++)
		physical += *p == '\n';
	json_int_t prev = 0;
	size_t i;
	json_t *e;
	json_array_foreach (lines, i, e) {
		json_int_t line = json_integer_value(json_object_get(e, "line"));
		check(line > prev && (size_t)line <= physical);
		prev = line;
		const char *cmd = str(e, "command"), *mod = str(e, "module"), *t = str(e, "text");
		const char *args = str(e, "args");
		check(*cmd && !has_blank(cmd) && *cmd != '#');
		check(!has_blank(mod) && !strchr(mod, '-'));
		check(*t && *t != ' ' && *t != '\t' && *t != '#');
		size_t tl = strlen(t);
		check(!strchr(" \t\r", t[tl - 1]));
		check(!strstr(args, "  ") && args[0] != ' ');
	}
	return lines;
}

/* Entries a and b (arrays from the reader) say the same from ai and bi on, n of
 * them: same command, module and arguments. */
static bool entries_equal(const json_t *a, size_t ai, const json_t *b, size_t bi, size_t n)
{
	if (json_array_size(a) < ai + n || json_array_size(b) < bi + n)
		return false;
	for (size_t k = 0; k < n; k++) {
		const json_t *x = json_array_get(a, ai + k), *y = json_array_get(b, bi + k);
		if (strcmp(str(x, "command"), str(y, "command")) ||
		    strcmp(str(x, "module"), str(y, "module")) ||
		    strcmp(str(x, "args"), str(y, "args")))
			return false;
	}
	return true;
}

/* The bytes of the block the markers enclose, as apply writes them. */
static void check_block_bytes(const char *text, const char *owner, const char *body)
{
	struct pt_conf_block blk;
	struct pt_report msg = {0};
	check(pt_conf_block_find(text, owner, PATH, &blk, &msg) == 0 && blk.found);
	check(msg.error == 0);
	char *want = NULL;
	check(asprintf(&want, "# BEGIN %s%s\n%s# END %s%s", owner, HEADER, body, owner,
	               blk.end_has_newline ? "\n" : "") > 0);
	check(blk.end - blk.start == strlen(want));
	check(memcmp(text + blk.start, want, blk.end - blk.start) == 0);
	free(want);
}

/* Whether the modprobe.d check refuses owner's block after text (markers
 * sound; the marker goes at end), and that it refuses exactly when the line
 * before end ends in an odd run of backslashes (kmod's escaped newline) and
 * names the file and that line. A continued comment or blank line may pass:
 * then the reader must see the same lines as before (check_apply). */
static bool refused_continued(const char *text, const char *owner, size_t end)
{
	struct pt_report msg = {0};
	bool refused = pt_modprobe_check_continuation(text, owner, PATH, &msg) < 0;
	size_t n = end && text[end - 1] == '\n' ? end - 1 : end, run = 0, line = 1;
	while (run < n && text[n - 1 - run] == '\\')
		run++;
	for (size_t i = 0; i < n; i++)
		line += text[i] == '\n';
	if (refused) {
		char want[64];
		snprintf(want, sizeof want, "%s line %zu ends in a backslash", PATH, line);
		check(run % 2 == 1 && msg.error == -EINVAL && msg.msg && strstr(msg.msg, want) &&
		      strstr(msg.msg, owner));
	} else {
		check(msg.error == 0 && msg.msg == NULL);
	}
	pt_report_release(&msg);
	return refused;
}

/* Add or replace owner's block with body (not empty) in text, whose markers are
 * sound, and check everything the header promises about it. */
static void check_apply(const char *text, const char *owner, const char *body)
{
	struct pt_report msg = {0};
	struct pt_conf_block before;
	check(pt_conf_block_find(text, owner, PATH, &before, &msg) == 0);
	char *stripped = pt_conf_block_strip(text, owner);
	check(stripped != NULL);
	if (!before.found)
		check(strcmp(stripped, text) == 0);

	char *added = pt_conf_block_apply(text, owner, HEADER, body, PATH, &msg);
	check(added != NULL && msg.error == 0);
	check_block_bytes(added, owner, body);

	/* Outside the block: the same bytes. */
	char *outside = pt_conf_block_strip(added, owner);
	check(same(outside, stripped));
	/* Editing twice equals editing once. */
	char *again = pt_conf_block_apply(added, owner, HEADER, body, PATH, &msg);
	check(same(again, added));
	/* Removing the block (an empty body or NULL) is strip. */
	char *removed = pt_conf_block_apply(added, owner, HEADER, "", PATH, &msg);
	check(same(removed, stripped));
	free(removed);
	removed = pt_conf_block_apply(added, owner, HEADER, NULL, PATH, &msg);
	check(same(removed, stripped));

	/* kmod reads the user's lines as before, then the block's, unless the
	 * line before the block continues a directive: that file is refused (a
	 * refusal that lets a case through here breaks this check). */
	bool refused = refused_continued(text, owner, before.found ? before.start : strlen(text));
	if (!before.found && !refused) {
		json_t *user = read_checked(text), *mine = read_checked(body),
		       *all = read_checked(added);
		size_t nu = json_array_size(user), nm = json_array_size(mine);
		check(json_array_size(all) == nu + nm);
		check(entries_equal(all, 0, user, 0, nu));
		check(entries_equal(all, nu, mine, 0, nm));
		json_decref(user);
		json_decref(mine);
		json_decref(all);
	}
	free(removed);
	free(again);
	free(outside);
	free(added);
	free(stripped);
	check(msg.error == 0);
	pt_report_release(&msg);
}

/* Keep the characters a validated ID, address or module name may hold. */
static char *value_of(const char *param)
{
	char *v = strndup(param + 1, 64);
	check(v != NULL);
	size_t w = 0;
	for (char *p = v; *p; p++)
		if (isalnum((unsigned char)*p) || strchr("_.:-", *p))
			v[w++] = *p;
	v[w] = '\0';
	return v;
}

static void add_value(json_t *list, const char *param)
{
	char *v = value_of(param);
	if (*v)
		json_array_append_new(list, json_string(v));
	free(v);
}

/* The rendered bodies read back as what was asked for. */
static void check_bodies(const struct pt_vfio_conf *conf, const char *vfio_body,
                         const json_t *blacklist, const char *black_body)
{
	json_t *lines = read_checked(vfio_body);
	size_t i;
	json_t *e;
	json_array_foreach (lines, i, e) {
		const char *cmd = str(e, "command"), *mod = str(e, "module");
		check(!strcmp(cmd, "options") || !strcmp(cmd, "softdep") ||
		      !strcmp(cmd, "install"));
		if (strcmp(cmd, "softdep") != 0)
			check(!strcmp(mod, "vfio_pci"));
		else
			check(!strcmp(str(e, "args"), "pre: vfio-pci"));
	}
	check(json_array_size(lines) <= 2 + json_array_size(conf->softdeps));
	json_decref(lines);

	lines = read_checked(black_body);
	const char *prev = "";
	json_array_foreach (lines, i, e) {
		check(!strcmp(str(e, "command"), "blacklist") && !*str(e, "args"));
		check(strcmp(prev, str(e, "module")) < 0);
		prev = str(e, "module");
	}
	check(json_array_size(lines) <= json_array_size(blacklist));
	json_decref(lines);

	char *install = pt_vfio_render_install_line(conf->overrides);
	check((install != NULL) == (json_array_size(conf->overrides) > 0));
	if (install) {
		lines = read_checked(install);
		check(json_array_size(lines) == 1);
		check(!strcmp(str(json_array_get(lines, 0), "command"), "install"));
		check(!strcmp(str(json_array_get(lines, 0), "module"), "vfio_pci"));
		check(strstr(vfio_body, install) != NULL);
		json_decref(lines);
		free(install);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in;
	if (fuzz_input_split(data, size, 16, &in) < 0)
		return 0;
	json_t *ids = json_array(), *softdeps = json_array(), *overrides = json_array(),
	       *blacklist = json_array();
	bool disable_vga = false;
	for (size_t i = 0; i < in.n_param; i++) {
		switch (in.param[i][0]) {
		case 'i':
			add_value(ids, in.param[i]);
			break;
		case 's':
			add_value(softdeps, in.param[i]);
			break;
		case 'o':
			add_value(overrides, in.param[i]);
			break;
		case 'b':
			add_value(blacklist, in.param[i]);
			break;
		case 'v':
			disable_vga = true;
			break;
		}
	}
	if (in.n_param == 0) {
		json_array_append_new(ids, json_string("10de:1c82"));
		json_array_append_new(ids, json_string("10de:0fb9"));
		json_array_append_new(softdeps, json_string("nouveau"));
		json_array_append_new(softdeps, json_string("snd_hda_intel"));
		json_array_append_new(blacklist, json_string("nouveau"));
	}
	struct pt_vfio_conf conf = {.ids = ids,
	                            .disable_vga = disable_vga,
	                            .softdeps = softdeps,
	                            .overrides = overrides};
	char *body = pt_vfio_render_conf(&conf);
	char *black = pt_vfio_render_blacklist(blacklist);
	check(body != NULL && black != NULL);
	check(!*body || body[strlen(body) - 1] == '\n');
	check(!*black || black[strlen(black) - 1] == '\n');
	check_bodies(&conf, body, blacklist, black);

	json_decref(read_checked(in.text));

	struct pt_conf_block blk;
	struct pt_report msg = {0};
	int r = pt_conf_block_find(in.text, OWNER, PATH, &blk, &msg);
	if (r < 0) {
		/* Damaged markers: refused by every entry point, with the path. */
		check(r == -EINVAL && msg.error == -EINVAL && msg.msg && strstr(msg.msg, PATH) &&
		      strstr(msg.msg, OWNER));
		pt_report_release(&msg);
		check(pt_conf_block_strip(in.text, OWNER) == NULL);
		check(pt_conf_block_apply(in.text, OWNER, HEADER, body, PATH, &msg) == NULL);
		check(msg.error == -EINVAL && msg.msg && strstr(msg.msg, PATH));
		pt_report_release(&msg);
	} else {
		check(msg.error == 0 && msg.msg == NULL);
		check(!blk.found ||
		      (blk.start < blk.end && blk.end <= in.len && blk.begin_line < blk.end_line));
		if (*body) {
			check_apply(in.text, OWNER, body);
		} else {
			char *removed =
			        pt_conf_block_apply(in.text, OWNER, HEADER, body, PATH, &msg);
			char *stripped = pt_conf_block_strip(in.text, OWNER);
			check(same(removed, stripped));
			free(removed);
			free(stripped);
		}
	}

	/* The two owners' blocks side by side. */
	struct pt_conf_block b1, b2;
	if (*body && *black && pt_conf_block_find(in.text, OWNER, PATH, &b1, NULL) == 0 &&
	    pt_conf_block_find(in.text, OWNER_BLACKLIST, PATH, &b2, NULL) == 0) {
		char *one = pt_conf_block_apply(in.text, OWNER, HEADER, body, PATH, &msg);
		check(one != NULL);
		check_apply(one, OWNER_BLACKLIST, black);
		char *both = pt_conf_block_apply(one, OWNER_BLACKLIST, HEADER, black, PATH, &msg);
		check(both != NULL);
		check_block_bytes(both, OWNER, body);
		if (!b2.found) {
			char *back = pt_conf_block_strip(both, OWNER_BLACKLIST);
			check(same(back, one));
			free(back);
		}
		free(both);
		free(one);
	}
	pt_report_release(&msg);

	free(body);
	free(black);
	json_decref(ids);
	json_decref(softdeps);
	json_decref(overrides);
	json_decref(blacklist);
	fuzz_input_release(&in);
	return 0;
}
