/* libFuzzer harness: the /etc/kernel/cmdline editor (module_utils/boot_kernel_cmdline.h)
 * as grub_iommu drives it on systemd-boot hosts.
 *
 * Input: the file, optionally followed by a NUL byte and up to eight parameter
 * items, one per line (without them the items are intel_iommu=on iommu=pt).
 * The whole input (NUL included) must be refused as not text. Invariants on the
 * file: a refusal names the file; an accepted file's first line is the line
 * read; writing that line back gives the file byte for byte (render(parse(x))
 * == x); ensuring and removing the items changes the first line only (every
 * byte after it stays), is refused exactly when the new line has no root=,
 * gives a file that parses to the new line, and editing that file again gives
 * it back unchanged (editing twice equals editing once). */
#include <errno.h>
#include <stdbool.h>

#include "boot_kernel_cmdline.h"
#include "cmdline.h"
#include "fuzz_check.h"

#define LABEL "/etc/kernel/cmdline"

/* What pt_boot_kernel_cmdline_parse/set promise to insist on: a root= with a value. */
static bool has_root(const char *line)
{
	struct pt_cmdline cl;
	check(pt_cmdline_parse(line, &cl) == 0);
	const struct pt_cmdline_token *t = pt_cmdline_find(&cl, "root");
	bool found = t && t->value;
	pt_cmdline_release(&cl);
	return found;
}

static void check_refusal(int r, const struct pt_report *rep)
{
	check(r == -EINVAL);
	check(rep->msg != NULL && strstr(rep->msg, LABEL) != NULL);
}

static void check_edit(const struct pt_boot_kernel_cmdline *k, enum pt_cmdline_op op,
                       const char *const items[], size_t n)
{
	char *line = NULL, *out = NULL;
	size_t out_len = 0;
	int r = pt_cmdline_edit(k->line, op, items, n, &line, NULL);
	if (r < 0) {
		/* Only an unclosed quote with tokens to append (grub_iommu refuses it). */
		struct pt_cmdline cl;
		check(r == -EINVAL && pt_cmdline_parse(k->line, &cl) == 0);
		check(cl.unclosed && op == PT_CMDLINE_ENSURE);
		pt_cmdline_release(&cl);
		return;
	}
	struct pt_report rep;
	pt_report_init(&rep);
	r = pt_boot_kernel_cmdline_set(k, line, LABEL, &out, &out_len, &rep);
	if (!has_root(line)) {
		check(out == NULL);
		check_refusal(r, &rep);
		pt_report_release(&rep);
		free(line);
		return;
	}
	check(r == 0 && rep.msg == NULL && out != NULL);
	size_t line_len = strlen(line), tail = k->len - k->line_end;
	check(out_len == line_len + tail && strlen(out) == out_len);
	check(memcmp(out, line, line_len) == 0);
	check(memcmp(out + line_len, k->text + k->line_end, tail) == 0);

	/* The new file reads back as the new line, and a second edit is a no-op. */
	struct pt_boot_kernel_cmdline k2;
	check(pt_boot_kernel_cmdline_parse(out, out_len, LABEL, &k2, &rep) == 0 && rep.msg == NULL);
	check(strcmp(k2.line, line) == 0);
	char *line2 = NULL, *out2 = NULL;
	size_t out2_len = 0;
	struct pt_cmdline_change chg;
	check(pt_cmdline_edit(k2.line, op, items, n, &line2, &chg) == 0);
	check(strcmp(line2, line) == 0 && chg.n_added == 0 && chg.n_removed == 0);
	pt_cmdline_change_release(&chg);
	check(pt_boot_kernel_cmdline_set(&k2, line2, LABEL, &out2, &out2_len, &rep) == 0);
	check(out2_len == out_len && memcmp(out2, out, out_len) == 0);
	free(out2);
	free(line2);
	pt_boot_kernel_cmdline_release(&k2);
	pt_report_release(&rep);
	free(out);
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in;
	if (fuzz_input_split(data, size, 8, &in) < 0)
		return 0;
	struct pt_boot_kernel_cmdline k;
	struct pt_report rep;

	/* A file with a NUL byte is not text. */
	if (in.len < size) {
		pt_report_init(&rep);
		check_refusal(pt_boot_kernel_cmdline_parse(in.buf, size, LABEL, &k, &rep), &rep);
		pt_report_release(&rep);
		pt_boot_kernel_cmdline_release(&k);
	}

	pt_report_init(&rep);
	int r = pt_boot_kernel_cmdline_parse(in.text, in.len, LABEL, &k, &rep);
	if (r < 0) {
		check_refusal(r, &rep);
		pt_report_release(&rep);
		pt_boot_kernel_cmdline_release(&k);
		fuzz_input_release(&in);
		return 0;
	}
	check(rep.msg == NULL && k.line != NULL);
	check(k.line_end <= in.len && strlen(k.line) == k.line_end);
	check(memcmp(k.line, in.text, k.line_end) == 0 && !strchr(k.line, '\n'));
	check(k.line_end == in.len || in.text[k.line_end] == '\n');
	check(has_root(k.line));

	/* render(parse(x)) == x */
	char *out = NULL;
	size_t out_len = 0;
	check(pt_boot_kernel_cmdline_set(&k, k.line, LABEL, &out, &out_len, &rep) == 0);
	check(out_len == in.len && memcmp(out, in.text, in.len) == 0);
	free(out);

	const char *items[8];
	size_t n = 0;
	for (size_t i = 0; i < in.n_param; i++)
		if (pt_cmdline_is_one_token(in.param[i]))
			items[n++] = in.param[i];
	if (n == 0) {
		items[n++] = "intel_iommu=on";
		items[n++] = "iommu=pt";
	}
	check_edit(&k, PT_CMDLINE_ENSURE, items, n);
	check_edit(&k, PT_CMDLINE_REMOVE, items, n);

	pt_report_release(&rep);
	pt_boot_kernel_cmdline_release(&k);
	fuzz_input_release(&in);
	return 0;
}
