/* libFuzzer harness: the /etc/default/grub editor (module_utils/boot_grub_default.h).
 *
 * A first byte 0 or 1 picks the variable (0: GRUB_CMDLINE_LINUX_DEFAULT, 1: X,
 * so that short inputs reach the editing paths) and the rest is the file; any
 * other first byte starts the file itself, for GRUB_CMDLINE_LINUX_DEFAULT (so
 * the files of tests/fixtures/files/grub, and of the corpus when it is there,
 * are seeds as they are). Any bytes must
 * parse or be refused without crashing or leaking. When the file is editable:
 * setting the value it already has gives the file back byte for byte
 * (render(parse(x)) == x); ensuring intel_iommu=on iommu=pt (and removing them)
 * changes nothing before the value and nothing after it, gives a file that
 * parses to exactly the new value, and editing that file again changes nothing
 * (editing twice equals editing once). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot_grub_default.h"
#include "cmdline.h"
#include "fuzz_check.h"

static void check_edit(const struct pt_boot_grub_default *g, const char *name,
                       enum pt_cmdline_op op)
{
	const char *present[] = {"intel_iommu=on", "iommu=pt"};
	const char *absent[] = {"intel_iommu", "iommu"};
	const char *old = g->value ? g->value : "";
	char *value = NULL;
	int r = pt_cmdline_edit(old, op, op == PT_CMDLINE_ENSURE ? present : absent, 2, &value,
	                        NULL);
	if (r < 0) {
		/* An unclosed quote in the value; the module refuses it. */
		struct pt_cmdline cl;
		check(pt_cmdline_parse(old, &cl) == 0 && cl.unclosed);
		pt_cmdline_release(&cl);
		return;
	}
	struct pt_report rep;
	pt_report_init(&rep);
	char *out = NULL;
	size_t out_len = 0;
	check(pt_boot_grub_default_set(g, value, &out, &out_len, &rep) == 0);
	check(strlen(out) == out_len);

	/* Only the value's bytes changed (or one assignment was appended). */
	if (g->line) {
		size_t tail = g->len - g->value_end;
		check(out_len >= g->value_start + tail);
		check(memcmp(out, g->text, g->value_start) == 0);
		check(memcmp(out + out_len - tail, g->text + g->value_end, tail) == 0);
	} else {
		check(out_len >= g->len && memcmp(out, g->text, g->len) == 0);
	}

	/* The result holds the new value, and editing it again is a no-op. */
	struct pt_boot_grub_default g2;
	check(pt_boot_grub_default_parse(out, out_len, name, "fuzz", &g2, &rep) == 0);
	check(g2.problem == NULL);
	if (g->line || value[0]) {
		check(g2.value != NULL && strcmp(g2.value, value) == 0);
		check(g2.n_set == (g->n_set ? g->n_set : 1));
	}
	char *value2 = NULL;
	check(pt_cmdline_edit(g2.value ? g2.value : "", op,
	                      op == PT_CMDLINE_ENSURE ? present : absent, 2, &value2, NULL) == 0);
	check(strcmp(value2, g2.value ? g2.value : "") == 0);
	char *out2 = NULL;
	size_t out2_len = 0;
	check(pt_boot_grub_default_set(&g2, value2, &out2, &out2_len, &rep) == 0);
	check(out2_len == out_len && memcmp(out2, out, out_len) == 0);
	free(out2);
	free(value2);
	pt_boot_grub_default_release(&g2);
	pt_report_release(&rep);
	free(out);
	free(value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *name = data[0] == 1 ? "X" : "GRUB_CMDLINE_LINUX_DEFAULT";
	size_t skip = data[0] <= 1 ? 1 : 0, len = size - skip;
	char *text = malloc(len + 1);
	if (!text)
		return 0;
	memcpy(text, data + skip, len);
	text[len] = '\0';

	struct pt_boot_grub_default g;
	struct pt_report rep;
	pt_report_init(&rep);
	int r = pt_boot_grub_default_parse(text, len, name, "fuzz", &g, &rep);
	check(r == 0 || (r < 0 && rep.msg != NULL));
	if (r == 0 && !g.problem) {
		check(g.n_set == 0 || g.line >= g.first_line);
		check(g.line == 0 ||
		      (g.value && g.value_start <= g.value_end && g.value_end <= len));
		/* render(parse(x)) == x */
		char *out = NULL;
		size_t out_len = 0;
		check(pt_boot_grub_default_set(&g, g.value ? g.value : "", &out, &out_len, &rep) ==
		      0);
		check(out_len == len && memcmp(out, text, len) == 0);
		free(out);
		if (g.quote != PT_BOOT_GRUB_QUOTE_MIXED) {
			check_edit(&g, name, PT_CMDLINE_ENSURE);
			check_edit(&g, name, PT_CMDLINE_REMOVE);
		}
	} else if (r == 0) {
		char *out = NULL;
		check(pt_boot_grub_default_set(&g, "x", &out, NULL, &rep) < 0 && out == NULL);
	}
	pt_report_release(&rep);
	pt_boot_grub_default_release(&g);
	free(text);
	return 0;
}
