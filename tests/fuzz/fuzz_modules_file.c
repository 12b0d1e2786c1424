/* libFuzzer harness: the /etc/modules editor (module_utils/modules_file.h) as
 * vfio_bind drives it.
 *
 * Input: an /etc/modules file, optionally followed by a NUL byte and parameter
 * lines: k<state> gives one installed kernel's vfio_virqfd state ("module",
 * "builtin", "absent"), w<name> a module to want instead of the vfio list,
 * "absent" removes the block. Without parameters the wanted list is the one
 * for a current kernel (vfio, vfio_iommu_type1, vfio_pci). Invariants:
 *   - damaged markers are refused with the path, and nothing is produced;
 *   - every byte outside the block stays (the text without the block is the
 *     same before and after), with state absent the result is exactly that;
 *   - afterwards every wanted module is loaded by some line, the block lists
 *     exactly the wanted modules no user line loads, in order, and there is no
 *     block when the user's lines load them all;
 *   - updating the result again changes nothing (editing twice equals editing
 *     once), and removing a block that was added gives the file back byte for
 *     byte (remove(add(x)) == x);
 *   - the wanted list for kernel states is the vfio trio, plus vfio_virqfd when
 *     some kernel has it as a module. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>

#include <jansson.h>

#include "conf_block.h"
#include "fuzz_check.h"
#include "modules_file.h"
#include "vfio_modules.h"

#define OWNER "homelab.passthrough.vfio_bind"
#define PATH  "/etc/modules"

static bool same(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* Does some line of text load name? */
static bool some_line_loads(const char *text, const char *name)
{
	bool found = false;
	char *copy = strdup(text);
	check(copy != NULL);
	for (char *line = copy, *next; line && !found; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		found = pt_modules_line_loads(line, name);
	}
	free(copy);
	return found;
}

/* The lines between the markers of owner's block in text (a copy), or NULL. */
static char *block_body(const char *text)
{
	struct pt_conf_block blk;
	check(pt_conf_block_find(text, OWNER, PATH, &blk, NULL) == 0);
	if (!blk.found)
		return NULL;
	const char *b = strchr(text + blk.start, '\n');
	check(b != NULL);
	b++;
	const char *e = text + blk.end;
	/* back over the END line */
	if (e > b && e[-1] == '\n')
		e--;
	while (e > b && e[-1] != '\n')
		e--;
	return strndup(b, (size_t)(e - b));
}

static void check_wanted_for_states(const json_t *states, const json_t *wanted)
{
	static const char *const trio[] = {"vfio", "vfio_iommu_type1", "vfio_pci"};
	bool module = false;
	size_t i;
	json_t *s;
	json_array_foreach (states, i, s)
		module |= same(json_string_value(s), "module");
	check(json_array_size(wanted) == 3 + module);
	for (i = 0; i < 3; i++)
		check(same(json_string_value(json_array_get(wanted, i)), trio[i]));
	if (module)
		check(same(json_string_value(json_array_get(wanted, 3)), "vfio_virqfd"));
}

static char *name_of(const char *param)
{
	char *v = strndup(param + 1, 64);
	check(v != NULL);
	size_t w = 0;
	for (char *p = v; *p; p++)
		if (isalnum((unsigned char)*p) || *p == '_' || *p == '-')
			v[w++] = *p;
	v[w] = '\0';
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in;
	if (fuzz_input_split(data, size, 8, &in) < 0)
		return 0;
	json_t *states = json_array(), *names = json_array(), *notes = json_array();
	bool absent = false;
	for (size_t i = 0; i < in.n_param; i++) {
		const char *p = in.param[i];
		if (!strcmp(p, "absent")) {
			absent = true;
		} else if (p[0] == 'k') {
			json_array_append_new(states, json_string(p + 1));
		} else if (p[0] == 'w') {
			char *n = name_of(p);
			if (*n)
				json_array_append_new(names, json_string(n));
			free(n);
		}
	}
	json_t *wanted = pt_vfio_modules_for_states(states);
	check(wanted != NULL);
	check_wanted_for_states(states, wanted);
	if (json_array_size(names)) {
		json_decref(wanted);
		wanted = json_incref(names);
	}

	struct pt_conf_block blk;
	char *out = NULL;
	struct pt_report msg = {0};
	int damaged = pt_conf_block_find(in.text, OWNER, PATH, &blk, &msg);
	pt_report_release(&msg);
	int r = pt_modules_file_update(in.text, absent ? NULL : wanted, OWNER, PATH, &out, notes,
	                               &msg);
	if (damaged < 0) {
		check(r == -EINVAL && out == NULL && msg.error == -EINVAL && msg.msg &&
		      strstr(msg.msg, PATH));
		pt_report_release(&msg);
		goto done;
	}
	check(r == 0 && out != NULL && msg.error == 0 && msg.msg == NULL);

	/* Every byte outside the block stays. */
	char *before = pt_conf_block_strip(in.text, OWNER),
	     *after = pt_conf_block_strip(out, OWNER);
	check(same(before, after));
	if (absent) {
		check(same(out, before));
	} else {
		size_t i;
		json_t *w;
		json_array_foreach (wanted, i, w)
			check(some_line_loads(out, json_string_value(w)));
		/* The block: the wanted modules the user's lines leave out, in order. */
		size_t cap = 1;
		json_array_foreach (wanted, i, w)
			cap += strlen(json_string_value(w)) + 1;
		char *expect = calloc(cap, 1);
		check(expect != NULL);
		json_array_foreach (wanted, i, w)
			if (!some_line_loads(before, json_string_value(w))) {
				strcat(expect, json_string_value(w));
				strcat(expect, "\n");
			}
		char *body = block_body(out);
		if (*expect)
			check(same(body, expect));
		else
			check(body == NULL);
		free(body);
		free(expect);
	}
	size_t i;
	json_t *n;
	json_array_foreach (notes, i, n)
		check(json_string_value(n) && strstr(json_string_value(n), PATH));

	/* Editing twice equals editing once. */
	char *again = NULL;
	check(pt_modules_file_update(out, absent ? NULL : wanted, OWNER, PATH, &again, NULL,
	                             &msg) == 0);
	check(same(again, out));
	free(again);

	/* remove(add(x)) == x */
	if (!blk.found) {
		char *removed = NULL;
		check(pt_modules_file_update(out, NULL, OWNER, PATH, &removed, NULL, &msg) == 0);
		check(same(removed, in.text));
		free(removed);
	}
	free(before);
	free(after);
	free(out);
	pt_report_release(&msg);
done:
	json_decref(wanted);
	json_decref(states);
	json_decref(names);
	json_decref(notes);
	fuzz_input_release(&in);
	return 0;
}
