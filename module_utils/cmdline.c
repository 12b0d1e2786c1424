#include "cmdline.h"

#include <errno.h>
#include <stdint.h>
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

/* ---- folding ------------------------------------------------------------- */

/* FNV-1a, one byte at a time. */
static uint64_t hash_byte(uint64_t h, unsigned char c)
{
	return (h ^ c) * 0x100000001b3ULL;
}

static uint64_t token_hash(const struct pt_cmdline_token *t, bool by_value)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (const char *c = t->key; *c; c++)
		h = hash_byte(h, (unsigned char)dash_to_underscore(*c));
	if (by_value && t->value) {
		/* A name holds no NUL: this byte keeps "a" + "bc" from "ab" + "c". */
		h = hash_byte(h, 0);
		for (const char *c = t->value; *c; c++)
			h = hash_byte(h, (unsigned char)*c);
	}
	return h;
}

bool pt_cmdline_token_equal(const struct pt_cmdline_token *a, const struct pt_cmdline_token *b,
                            bool by_value)
{
	if (!pt_cmdline_key_equal(a->key, b->key))
		return false;
	if (!by_value || (!a->value && !b->value))
		return true;
	return a->value && b->value && strcmp(a->value, b->value) == 0;
}

/* An open-addressing table slot: a token's index and its hash. */
struct fold_slot {
	size_t index; /* SIZE_MAX: empty */
	uint64_t hash;
};

int pt_cmdline_fold(const struct pt_cmdline_token *const *tokens, size_t n, bool by_value,
                    size_t *first)
{
	/* At most half full, so that probe runs stay short. */
	size_t cap = 16;
	while (cap < 2 * n) {
		if (cap > SIZE_MAX / 4 / sizeof(struct fold_slot))
			return -ENOMEM;
		cap *= 2;
	}
	_cleanup_free_ struct fold_slot *table = malloc(cap * sizeof *table);
	if (!table)
		return -ENOMEM;
	for (size_t s = 0; s < cap; s++)
		table[s].index = SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		uint64_t h = token_hash(tokens[i], by_value);
		size_t s = (size_t)h & (cap - 1);
		while (table[s].index != SIZE_MAX &&
		       (table[s].hash != h ||
		        !pt_cmdline_token_equal(tokens[table[s].index], tokens[i], by_value)))
			s = (s + 1) & (cap - 1);
		if (table[s].index == SIZE_MAX)
			table[s] = (struct fold_slot){.index = i, .hash = h};
		first[i] = table[s].index;
	}
	return 0;
}

/* ---- editing ------------------------------------------------------------- */

/* The plan for one edit: per kernel token, keep (no replacement, not
 * dropped), drop, or replace with a new text; plus tokens to append. Items are
 * borrowed. */
struct plan {
	const char **replace; /* per token: replacement text, or NULL */
	bool *drop;           /* per token: removed */
	const char **append;  /* texts to append, in order */
	size_t n_append;
	bool changed;
};

static void plan_append(struct plan *p, const char *raw)
{
	/* append has room for every item, and each item is appended at most once. */
	p->append[p->n_append++] = raw;
	p->changed = true;
}

/* The kernel tokens of the text (kn of them) and the items' tokens in one
 * list, text first, folded by name and by name and value: what the ensure and
 * remove plans look things up in. Index x < kn is cl->tokens[x], x >= kn is
 * items[x - kn]. */
struct edit_index {
	size_t kn, n;
	const struct pt_cmdline_token **all; /* kn + n tokens (borrowed) */
	size_t *by_name;                     /* pt_cmdline_fold by name */
	size_t *by_value;                    /* pt_cmdline_fold by name and value */
	/* The key=value tokens of each name in a chain: the text's in text
	 * order, then the items' in item order. */
	size_t *head; /* per name (its by_name index): the first, or SIZE_MAX */
	size_t *next; /* per token: the next of its name, or SIZE_MAX */
};

static void edit_index_release(struct edit_index *ix)
{
	free(ix->all);
	free(ix->by_name);
	free(ix->by_value);
	free(ix->next);
	free(ix->head);
}

static int edit_index_build(struct edit_index *ix, const struct pt_cmdline *cl, size_t kn,
                            const struct pt_cmdline *items, size_t n)
{
	size_t total = kn + n, alloc = total ? total : 1;
	*ix = (struct edit_index){.kn = kn, .n = n};
	ix->all = calloc(alloc, sizeof *ix->all);
	ix->by_name = calloc(alloc, sizeof *ix->by_name);
	ix->by_value = calloc(alloc, sizeof *ix->by_value);
	ix->next = calloc(alloc, sizeof *ix->next);
	ix->head = calloc(alloc, sizeof *ix->head);
	_cleanup_free_ size_t *tail = calloc(alloc, sizeof *tail);
	if (!ix->all || !ix->by_name || !ix->by_value || !ix->next || !ix->head || !tail)
		return -ENOMEM;
	for (size_t x = 0; x < total; x++)
		ix->all[x] = x < kn ? &cl->tokens[x] : &items[x - kn].tokens[0];
	if (pt_cmdline_fold(ix->all, total, false, ix->by_name) < 0 ||
	    pt_cmdline_fold(ix->all, total, true, ix->by_value) < 0)
		return -ENOMEM;
	for (size_t x = 0; x < total; x++) {
		ix->head[x] = ix->next[x] = SIZE_MAX;
		if (!ix->all[x]->value)
			continue;
		size_t name = ix->by_name[x];
		if (ix->head[name] == SIZE_MAX)
			ix->head[name] = x;
		else
			ix->next[tail[name]] = x;
		tail[name] = x;
	}
	return 0;
}

/* One name's key=value items: the values wanted become exactly the text's
 * occurrences of the name (see PT_CMDLINE_ENSURE). unmatched has room for n. */
static void plan_ensure_name(const struct edit_index *ix, size_t name, bool *matched,
                             size_t *unmatched, struct plan *p)
{
	size_t kn = ix->kn, nw = 0;
	/* The values wanted, first spelling of each: an occurrence already in
	 * the text with that value stays (the first one, if several). */
	for (size_t x = ix->head[name]; x != SIZE_MAX; x = ix->next[x]) {
		if (x < kn)
			continue;
		size_t same = ix->by_value[x];
		if (same < kn && !matched[same])
			matched[same] = true;
		else if (same == x)
			unmatched[nw++] = x;
		/* else a value asked for before */
	}
	/* Other occurrences of the name take the missing values in order; those
	 * left over go. */
	size_t next = 0;
	for (size_t x = ix->head[name]; x < kn; x = ix->next[x]) {
		if (matched[x])
			continue;
		if (next < nw)
			p->replace[x] = ix->all[unmatched[next++]]->raw;
		else
			p->drop[x] = true;
		p->changed = true;
	}
	for (; next < nw; next++)
		plan_append(p, ix->all[unmatched[next]]->raw);
}

static int plan_ensure(const struct edit_index *ix, struct plan *p)
{
	size_t kn = ix->kn, total = kn + ix->n;
	_cleanup_free_ bool *done = calloc(total ? total : 1, sizeof *done);
	_cleanup_free_ bool *matched = calloc(kn ? kn : 1, sizeof *matched);
	_cleanup_free_ size_t *unmatched = calloc(ix->n ? ix->n : 1, sizeof *unmatched);
	if (!done || !matched || !unmatched)
		return -ENOMEM;
	for (size_t x = kn; x < total; x++) {
		if (!ix->all[x]->value) {
			/* The first flag of its name, none in the text: append it. */
			if (ix->by_value[x] == x)
				plan_append(p, ix->all[x]->raw);
			continue;
		}
		/* A name's values are planned together, where the first asks. */
		size_t name = ix->by_name[x];
		if (!done[name]) {
			done[name] = true;
			plan_ensure_name(ix, name, matched, unmatched, p);
		}
	}
	return 0;
}

static int plan_remove(const struct edit_index *ix, struct plan *p)
{
	size_t kn = ix->kn, total = kn + ix->n;
	_cleanup_free_ bool *asked = calloc(total ? total : 1, sizeof *asked);
	if (!asked)
		return -ENOMEM;
	for (size_t x = kn; x < total; x++)
		asked[ix->by_name[x]] = true;
	for (size_t k = 0; k < kn; k++)
		if (asked[ix->by_name[k]]) {
			p->drop[k] = true;
			p->changed = true;
		}
	return 0;
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

/* A copy of s into list[(*n)++]; list has room. */
static int list_put(char **list, size_t *n, const char *s)
{
	list[*n] = strdup(s);
	if (!list[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

static int record_changes(const struct pt_cmdline *cl, size_t kn, const struct plan *p,
                          struct pt_cmdline_change *chg)
{
	size_t n_added = p->n_append, n_removed = 0;
	for (size_t k = 0; k < kn; k++) {
		n_added += p->replace[k] != NULL;
		n_removed += p->replace[k] || p->drop[k];
	}
	chg->added = calloc(n_added ? n_added : 1, sizeof *chg->added);
	chg->removed = calloc(n_removed ? n_removed : 1, sizeof *chg->removed);
	if (!chg->added || !chg->removed)
		return -ENOMEM;
	for (size_t k = 0; k < kn; k++) {
		if (p->replace[k]) {
			if (list_put(chg->removed, &chg->n_removed, cl->tokens[k].raw) < 0 ||
			    list_put(chg->added, &chg->n_added, p->replace[k]) < 0)
				return -ENOMEM;
		} else if (p->drop[k]) {
			if (list_put(chg->removed, &chg->n_removed, cl->tokens[k].raw) < 0)
				return -ENOMEM;
		}
	}
	for (size_t a = 0; a < p->n_append; a++)
		if (list_put(chg->added, &chg->n_added, p->append[a]) < 0)
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
	struct edit_index ix;
	r = edit_index_build(&ix, &cl, kn, parsed, n);
	if (r == 0)
		r = op == PT_CMDLINE_ENSURE ? plan_ensure(&ix, &p) : plan_remove(&ix, &p);
	edit_index_release(&ix);
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
