#include "cmdline.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "strbuf.h"

/* The kernel's isspace() for the command line. */
static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static void token_release(struct pt_cmdline_token *t)
{
	free(t->raw);
	free(t->key);
	free(t->value);
}

void pt_cmdline_release(struct pt_cmdline *cl)
{
	if (!cl)
		return;
	for (size_t i = 0; i < cl->n; i++)
		token_release(&cl->tokens[i]);
	free(cl->tokens);
	cl->tokens = NULL;
	cl->n = 0;
	cl->init_start = 0;
	cl->unclosed = false;
}

/* One token starting at text[start] (not a blank). Fills t, returns the offset
 * just past it. Mirrors next_arg() in the kernel's lib/cmdline.c. */
static size_t scan_token(const char *text, size_t start, struct pt_cmdline_token *t, int *err,
                         bool *unclosed)
{
	bool quoted = text[start] == '"';
	size_t body = start + (quoted ? 1 : 0);
	bool in_quote = quoted;
	size_t equals = 0; /* 0: none (a '=' as the body's first byte does not count) */
	size_t i = body;
	for (; text[i]; i++) {
		if (is_blank(text[i]) && !in_quote)
			break;
		if (!equals && text[i] == '=' && i > body)
			equals = i;
		if (text[i] == '"')
			in_quote = !in_quote;
	}
	size_t end = i;
	*unclosed = in_quote;
	size_t key_end = equals ? equals : end;
	size_t val_start = equals ? equals + 1 : end, val_end = end;
	if (equals && val_start < end && text[val_start] == '"') {
		val_start++;
		if (val_end > val_start && text[val_end - 1] == '"')
			val_end--;
	}
	if (quoted && end > body && text[end - 1] == '"') {
		if (equals) {
			if (val_end == end && val_end > val_start)
				val_end--;
		} else if (key_end > body) {
			key_end--;
		}
	}
	t->start = start;
	t->end = end;
	t->raw = strndup(text + start, end - start);
	t->key = strndup(text + body, key_end > body ? key_end - body : 0);
	t->value = equals ? strndup(text + val_start, val_end - val_start) : NULL;
	if (!t->raw || !t->key || (equals && !t->value))
		*err = -ENOMEM;
	return end;
}

int pt_cmdline_parse(const char *text, struct pt_cmdline *cl)
{
	memset(cl, 0, sizeof *cl);
	size_t cap = 0, len = strlen(text);
	bool for_init = false;
	cl->init_start = len;
	for (size_t i = 0;;) {
		while (text[i] && is_blank(text[i]))
			i++;
		if (!text[i])
			break;
		struct pt_cmdline_token t = {0};
		int err = 0;
		size_t next = scan_token(text, i, &t, &err, &cl->unclosed);
		if (err < 0) {
			token_release(&t);
			pt_cmdline_release(cl);
			return err;
		}
		if (!for_init && !t.value && strcmp(t.key, "--") == 0) {
			/* The kernel hands everything after a lone "--" to init. */
			for_init = true;
			cl->init_start = i;
			token_release(&t);
			i = next;
			continue;
		}
		t.for_init = for_init;
		if (cl->n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct pt_cmdline_token *p = realloc(cl->tokens, ncap * sizeof *p);
			if (!p) {
				token_release(&t);
				pt_cmdline_release(cl);
				return -ENOMEM;
			}
			cl->tokens = p;
			cap = ncap;
		}
		cl->tokens[cl->n++] = t;
		i = next;
	}
	return 0;
}

char *pt_cmdline_render(const struct pt_cmdline *cl)
{
	struct pt_strbuf sb = PT_STRBUF_INIT;
	bool init_written = false;
	for (size_t i = 0; i < cl->n; i++) {
		if (sb.len)
			pt_strbuf_putc(&sb, ' ');
		if (cl->tokens[i].for_init && !init_written) {
			pt_strbuf_puts(&sb, "-- ");
			init_written = true;
		}
		pt_strbuf_puts(&sb, cl->tokens[i].raw);
	}
	if (sb.oom) {
		pt_strbuf_release(&sb);
		return NULL;
	}
	return sb.data ? pt_strbuf_steal(&sb) : strdup("");
}

static char dash_to_underscore(char c)
{
	return c == '-' ? '_' : c;
}

bool pt_cmdline_key_equal(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (dash_to_underscore(*a) != dash_to_underscore(*b))
			return false;
	return *a == *b;
}

const struct pt_cmdline_token *pt_cmdline_find(const struct pt_cmdline *cl, const char *key)
{
	for (size_t i = 0; i < cl->n; i++)
		if (!cl->tokens[i].for_init && pt_cmdline_key_equal(cl->tokens[i].key, key))
			return &cl->tokens[i];
	return NULL;
}

bool pt_cmdline_is_one_token(const char *text)
{
	struct pt_cmdline cl;
	if (pt_cmdline_parse(text, &cl) < 0)
		return false;
	bool one =
	        cl.n == 1 && cl.init_start == strlen(text) && cl.tokens[0].key[0] && !cl.unclosed;
	pt_cmdline_release(&cl);
	return one;
}

void pt_cmdline_change_release(struct pt_cmdline_change *chg)
{
	if (!chg)
		return;
	for (size_t i = 0; i < chg->n_added; i++)
		free(chg->added[i]);
	for (size_t i = 0; i < chg->n_removed; i++)
		free(chg->removed[i]);
	free(chg->added);
	free(chg->removed);
	memset(chg, 0, sizeof *chg);
}

static int list_push(char ***list, size_t *n, const char *s)
{
	char **p = realloc(*list, (*n + 1) * sizeof *p);
	if (!p)
		return -ENOMEM;
	*list = p;
	p[*n] = strdup(s);
	if (!p[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

/* The plan for one edit: per kernel token, keep (NULL, keep=true), drop, or
 * replace with a new text; plus tokens to append. Items are borrowed. */
struct plan {
	const char **replace; /* per token: replacement text, or NULL */
	bool *drop;           /* per token: removed */
	const char **append;  /* texts to append, in order */
	size_t n_append;
	bool changed;
};

static int plan_append(struct plan *p, const char *raw, size_t cap)
{
	if (p->n_append >= cap)
		return -EINVAL;
	p->append[p->n_append++] = raw;
	p->changed = true;
	return 0;
}

static bool appended_already(const struct plan *p, const struct pt_cmdline *items, size_t n,
                             const char *key, bool flag)
{
	for (size_t a = 0; a < p->n_append; a++)
		for (size_t j = 0; j < n; j++)
			if (p->append[a] == items[j].tokens[0].raw &&
			    pt_cmdline_key_equal(items[j].tokens[0].key, key) &&
			    (items[j].tokens[0].value == NULL) == flag)
				return true;
	return false;
}

static int plan_ensure(const struct pt_cmdline *cl, size_t kn, const struct pt_cmdline *items,
                       size_t n, struct plan *p)
{
	_cleanup_free_ bool *group_done = calloc(n ? n : 1, sizeof *group_done);
	_cleanup_free_ bool *matched = calloc(kn ? kn : 1, sizeof *matched);
	_cleanup_free_ size_t *unmatched_w = calloc(n ? n : 1, sizeof *unmatched_w);
	if (!group_done || !matched || !unmatched_w)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct pt_cmdline_token *w = &items[i].tokens[0];
		if (!w->value) {
			bool present = false;
			for (size_t k = 0; k < kn && !present; k++)
				present = !cl->tokens[k].value &&
				          pt_cmdline_key_equal(cl->tokens[k].key, w->key);
			if (!present && !appended_already(p, items, n, w->key, true))
				if (plan_append(p, w->raw, n) < 0)
					return -EINVAL;
			continue;
		}
		if (group_done[i])
			continue;
		/* The values wanted for this name, first spelling of each value. */
		size_t nw = 0;
		for (size_t j = i; j < n; j++) {
			const struct pt_cmdline_token *x = &items[j].tokens[0];
			if (!x->value || !pt_cmdline_key_equal(x->key, w->key))
				continue;
			group_done[j] = true;
			bool dup = false;
			for (size_t q = i; q < j && !dup; q++) {
				const struct pt_cmdline_token *y = &items[q].tokens[0];
				dup = y->value && pt_cmdline_key_equal(y->key, w->key) &&
				      strcmp(y->value, x->value) == 0;
			}
			if (dup)
				continue;
			/* Already present with this value: that occurrence stays. */
			bool found = false;
			for (size_t k = 0; k < kn && !found; k++) {
				const struct pt_cmdline_token *o = &cl->tokens[k];
				if (!matched[k] && o->value &&
				    pt_cmdline_key_equal(o->key, x->key) &&
				    strcmp(o->value, x->value) == 0) {
					matched[k] = true;
					found = true;
				}
			}
			if (!found)
				unmatched_w[nw++] = j;
		}
		/* Other occurrences of the name take the missing values in order;
		 * those left over go. */
		size_t next = 0;
		for (size_t k = 0; k < kn; k++) {
			const struct pt_cmdline_token *o = &cl->tokens[k];
			if (matched[k] || !o->value || !pt_cmdline_key_equal(o->key, w->key))
				continue;
			if (next < nw)
				p->replace[k] = items[unmatched_w[next++]].tokens[0].raw;
			else
				p->drop[k] = true;
			p->changed = true;
		}
		for (; next < nw; next++)
			if (plan_append(p, items[unmatched_w[next]].tokens[0].raw, n) < 0)
				return -EINVAL;
	}
	return 0;
}

static void plan_remove(const struct pt_cmdline *cl, size_t kn, const struct pt_cmdline *items,
                        size_t n, struct plan *p)
{
	for (size_t k = 0; k < kn; k++)
		for (size_t i = 0; i < n; i++)
			if (pt_cmdline_key_equal(cl->tokens[k].key, items[i].tokens[0].key)) {
				p->drop[k] = true;
				p->changed = true;
				break;
			}
}

/* Write the text the plan describes, keeping every byte it does not touch. */
static int plan_render(const char *text, const struct pt_cmdline *cl, size_t kn,
                       const struct plan *p, struct pt_strbuf *sb)
{
	size_t len = strlen(text);
	if (kn == 0) {
		/* Nothing to keep: the new tokens go where the kernel part ends. */
		size_t at = cl->init_start;
		pt_strbuf_append(sb, text, at);
		for (size_t a = 0; a < p->n_append; a++) {
			if (a)
				pt_strbuf_putc(sb, ' ');
			pt_strbuf_puts(sb, p->append[a]);
		}
		if (at < len && p->n_append)
			pt_strbuf_putc(sb, ' ');
		pt_strbuf_puts(sb, text + at);
		return sb->oom ? -ENOMEM : 0;
	}
	pt_strbuf_append(sb, text, cl->tokens[0].start);
	bool any = false;
	for (size_t k = 0; k < kn; k++) {
		if (p->drop[k])
			continue;
		if (any) {
			/* The blanks that preceded this token in the original. */
			size_t from = cl->tokens[k - 1].end;
			pt_strbuf_append(sb, text + from, cl->tokens[k].start - from);
		}
		if (p->replace[k])
			pt_strbuf_puts(sb, p->replace[k]);
		else
			pt_strbuf_append(sb, text + cl->tokens[k].start,
			                 cl->tokens[k].end - cl->tokens[k].start);
		any = true;
	}
	for (size_t a = 0; a < p->n_append; a++) {
		if (any || a)
			pt_strbuf_putc(sb, ' ');
		pt_strbuf_puts(sb, p->append[a]);
	}
	pt_strbuf_puts(sb, text + cl->tokens[kn - 1].end);
	return sb->oom ? -ENOMEM : 0;
}

static int record_changes(const struct pt_cmdline *cl, size_t kn, const struct plan *p,
                          struct pt_cmdline_change *chg)
{
	for (size_t k = 0; k < kn; k++) {
		if (p->replace[k]) {
			if (list_push(&chg->removed, &chg->n_removed, cl->tokens[k].raw) < 0 ||
			    list_push(&chg->added, &chg->n_added, p->replace[k]) < 0)
				return -ENOMEM;
		} else if (p->drop[k]) {
			if (list_push(&chg->removed, &chg->n_removed, cl->tokens[k].raw) < 0)
				return -ENOMEM;
		}
	}
	for (size_t a = 0; a < p->n_append; a++)
		if (list_push(&chg->added, &chg->n_added, p->append[a]) < 0)
			return -ENOMEM;
	return 0;
}

int pt_cmdline_edit(const char *text, enum pt_cmdline_op op, const char *const items[], size_t n,
                    char **out, struct pt_cmdline_change *chg)
{
	*out = NULL;
	if (chg)
		memset(chg, 0, sizeof *chg);
	int r = 0;
	struct pt_cmdline cl;
	r = pt_cmdline_parse(text, &cl);
	if (r < 0)
		return r;
	struct pt_cmdline *parsed = calloc(n ? n : 1, sizeof *parsed);
	size_t n_parsed = 0;
	struct plan p = {0};
	size_t kn = 0; /* kernel tokens come first: those before `--` */
	while (kn < cl.n && !cl.tokens[kn].for_init)
		kn++;
	p.replace = calloc(kn ? kn : 1, sizeof *p.replace);
	p.drop = calloc(kn ? kn : 1, sizeof *p.drop);
	p.append = calloc(n ? n : 1, sizeof *p.append);
	if (!parsed || !p.replace || !p.drop || !p.append) {
		r = -ENOMEM;
		goto out;
	}
	for (; n_parsed < n; n_parsed++) {
		r = pt_cmdline_parse(items[n_parsed], &parsed[n_parsed]);
		if (r < 0)
			goto out;
		if (!pt_cmdline_is_one_token(items[n_parsed])) {
			n_parsed++;
			r = -EINVAL;
			goto out;
		}
	}
	if (op == PT_CMDLINE_ENSURE)
		r = plan_ensure(&cl, kn, parsed, n, &p);
	else
		plan_remove(&cl, kn, parsed, n, &p);
	if (r == 0 && cl.unclosed && p.n_append)
		r = -EINVAL; /* appended tokens would land inside the unclosed one */
	if (r < 0)
		goto out;
	if (!p.changed) {
		*out = strdup(text);
		r = *out ? 0 : -ENOMEM;
		goto out;
	}
	struct pt_strbuf sb = PT_STRBUF_INIT;
	r = plan_render(text, &cl, kn, &p, &sb);
	if (r == 0 && chg)
		r = record_changes(&cl, kn, &p, chg);
	if (r < 0) {
		pt_strbuf_release(&sb);
		goto out;
	}
	*out = sb.data ? pt_strbuf_steal(&sb) : strdup("");
	if (!*out)
		r = -ENOMEM;
out:
	if (r < 0 && chg)
		pt_cmdline_change_release(chg);
	for (size_t i = 0; i < n_parsed; i++)
		pt_cmdline_release(&parsed[i]);
	free(parsed);
	free(p.replace);
	free(p.drop);
	free(p.append);
	pt_cmdline_release(&cl);
	return r;
}
