/* libFuzzer harness: kernel command line tokens (module_utils/cmdline.h).
 *
 * Input: the first line is a command line, each further line (up to eight) an
 * item for ensure and remove. Invariants: tokens point at their raw text, in
 * order; the normalised rendering parses back to the same tokens; an edit with
 * no items changes nothing; editing twice equals editing once; after ensure
 * every item is there, after remove none of their keys is; the items given
 * twice edit as the items once (long lists are folded); pt_cmdline_fold agrees
 * with the definition of equal parameters, pair by pair. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "fuzz_check.h"

static void check_tokens(const char *text, const struct pt_cmdline *cl)
{
	size_t prev_end = 0;
	for (size_t i = 0; i < cl->n; i++) {
		const struct pt_cmdline_token *t = &cl->tokens[i];
		check(t->start >= prev_end && t->end > t->start);
		check(strlen(t->raw) == t->end - t->start);
		check(memcmp(text + t->start, t->raw, t->end - t->start) == 0);
		check(t->key != NULL);
		check(t->for_init == (t->start > cl->init_start));
		prev_end = t->end;
	}
}

static void check_render(const struct pt_cmdline *cl)
{
	char *r = pt_cmdline_render(cl);
	check(r != NULL);
	struct pt_cmdline again;
	check(pt_cmdline_parse(r, &again) == 0);
	check(again.n == cl->n);
	for (size_t i = 0; i < cl->n; i++) {
		check(strcmp(again.tokens[i].raw, cl->tokens[i].raw) == 0);
		check(strcmp(again.tokens[i].key, cl->tokens[i].key) == 0);
		check((again.tokens[i].value == NULL) == (cl->tokens[i].value == NULL));
		check(!cl->tokens[i].value ||
		      strcmp(again.tokens[i].value, cl->tokens[i].value) == 0);
		check(again.tokens[i].for_init == cl->tokens[i].for_init);
	}
	pt_cmdline_release(&again);
	free(r);
}

/* After ensure: each flag item is there as a flag, each key=value item's value
 * is one of the values of its key. */
static void check_present(const char *text, const char *const items[], size_t n)
{
	struct pt_cmdline cl;
	check(pt_cmdline_parse(text, &cl) == 0);
	for (size_t i = 0; i < n; i++) {
		struct pt_cmdline item;
		check(pt_cmdline_parse(items[i], &item) == 0 && item.n == 1);
		const struct pt_cmdline_token *w = &item.tokens[0];
		int found = 0;
		for (size_t k = 0; k < cl.n && !found; k++) {
			const struct pt_cmdline_token *t = &cl.tokens[k];
			if (t->for_init || !pt_cmdline_key_equal(t->key, w->key))
				continue;
			found = w->value ? t->value && strcmp(t->value, w->value) == 0 : !t->value;
		}
		check(found);
		pt_cmdline_release(&item);
	}
	pt_cmdline_release(&cl);
}

static void check_absent(const char *text, const char *const items[], size_t n)
{
	struct pt_cmdline cl;
	check(pt_cmdline_parse(text, &cl) == 0);
	for (size_t i = 0; i < n; i++) {
		struct pt_cmdline item;
		check(pt_cmdline_parse(items[i], &item) == 0 && item.n == 1);
		for (size_t k = 0; k < cl.n; k++)
			check(cl.tokens[k].for_init ||
			      !pt_cmdline_key_equal(cl.tokens[k].key, item.tokens[0].key));
		pt_cmdline_release(&item);
	}
	pt_cmdline_release(&cl);
}

/* first[i] is the first token equal to token i, by name and by name and value:
 * the hash table must agree with comparing every pair. */
static void check_fold(const struct pt_cmdline *cl)
{
	const struct pt_cmdline_token **t = calloc(cl->n + 1, sizeof *t);
	size_t *first = calloc(cl->n + 1, sizeof *first);
	check(t != NULL && first != NULL);
	for (size_t i = 0; i < cl->n; i++)
		t[i] = &cl->tokens[i];
	for (int by_value = 0; by_value < 2; by_value++) {
		check(pt_cmdline_fold(t, cl->n, by_value, first) == 0);
		for (size_t i = 0; i < cl->n; i++) {
			size_t j = 0;
			while (!pt_cmdline_token_equal(t[j], t[i], by_value))
				j++;
			check(first[i] == j);
		}
	}
	free(first);
	free(t);
}

static bool same_list(char **a, size_t na, char **b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return true;
}

/* The items twice over (items, then items again) edit as the items once. */
static void check_repeated(const char *text, enum pt_cmdline_op op, const char *const items[],
                           size_t n, const char *out, const struct pt_cmdline_change *chg)
{
	const char *twice[16];
	for (size_t i = 0; i < n; i++)
		twice[i] = twice[n + i] = items[i];
	char *out2 = NULL;
	struct pt_cmdline_change chg2;
	check(pt_cmdline_edit(text, op, twice, 2 * n, &out2, &chg2) == 0);
	check(strcmp(out2, out) == 0);
	check(same_list(chg2.added, chg2.n_added, chg->added, chg->n_added));
	check(same_list(chg2.removed, chg2.n_removed, chg->removed, chg->n_removed));
	pt_cmdline_change_release(&chg2);
	free(out2);
}

static void check_edit(const char *text, enum pt_cmdline_op op, const char *const items[], size_t n)
{
	char *out = NULL;
	struct pt_cmdline_change chg;
	int r = pt_cmdline_edit(text, op, items, n, &out, &chg);
	if (r == -EINVAL) {
		/* Only an unclosed quote with something to append. */
		struct pt_cmdline cl;
		check(pt_cmdline_parse(text, &cl) == 0);
		check(cl.unclosed && op == PT_CMDLINE_ENSURE);
		pt_cmdline_release(&cl);
		check(out == NULL);
		return;
	}
	check(r == 0 && out != NULL);
	if (chg.n_added == 0 && chg.n_removed == 0)
		check(strcmp(out, text) == 0);
	if (op == PT_CMDLINE_ENSURE)
		check_present(out, items, n);
	else
		check_absent(out, items, n);
	check_repeated(text, op, items, n, out, &chg);
	/* Editing twice equals editing once. */
	char *again = NULL;
	struct pt_cmdline_change chg2;
	check(pt_cmdline_edit(out, op, items, n, &again, &chg2) == 0);
	check(strcmp(again, out) == 0);
	check(chg2.n_added == 0 && chg2.n_removed == 0);
	pt_cmdline_change_release(&chg2);
	pt_cmdline_change_release(&chg);
	free(again);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';

	/* Split into the command line and the items. */
	const char *items[8];
	size_t n = 0;
	char *nl = strchr(buf, '\n');
	if (nl) {
		*nl = '\0';
		for (char *p = nl + 1; p && n < 8;) {
			char *e = strchr(p, '\n');
			if (e)
				*e = '\0';
			if (pt_cmdline_is_one_token(p))
				items[n++] = p;
			p = e ? e + 1 : NULL;
		}
	}

	struct pt_cmdline cl;
	check(pt_cmdline_parse(buf, &cl) == 0);
	check_tokens(buf, &cl);
	check_render(&cl);
	check_fold(&cl);
	pt_cmdline_release(&cl);

	char *same = NULL;
	check(pt_cmdline_edit(buf, PT_CMDLINE_ENSURE, NULL, 0, &same, NULL) == 0);
	check(strcmp(same, buf) == 0);
	free(same);

	check_edit(buf, PT_CMDLINE_ENSURE, items, n);
	check_edit(buf, PT_CMDLINE_REMOVE, items, n);
	free(buf);
	return 0;
}
