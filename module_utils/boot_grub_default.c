#include "boot_grub_default.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "strbuf.h"

/* ---- the lexer --------------------------------------------------------- */

enum construct { C_IF, C_LOOP, C_CASE, C_BRACE, C_PAREN };

enum mode {
	M_NORMAL,
	M_FOR_WORDS,    /* after for/select: the name and the word list */
	M_CASE_SUBJECT, /* after case: the word */
	M_CASE_IN,      /* expecting `in` */
	M_CASE_PATTERN, /* in a case body, expecting a pattern or esac */
	M_FUNC_NAME,    /* after `function` */
};

#define MAX_NEST     200 /* compound commands */
#define MAX_SUBST    64  /* $( ${ ` nesting inside one word */
#define MAX_HEREDOCS 16

/* Something that sets the variable, as found by the lexer. */
struct assign {
	unsigned line;
	size_t value_start, value_end; /* raw value bytes (after NAME=) */
	const char *unsafe;            /* why the module cannot follow it, or NULL */
};

struct heredoc {
	size_t delim_start, delim_end; /* the delimiter word, quotes still in */
	bool strip_tabs;
};

struct lexer {
	const char *s;
	size_t len;
	size_t i;
	unsigned line;
	const char *name; /* the variable looked for */
	size_t name_len;
	int subst_depth;

	enum construct stack[MAX_NEST];
	int depth;
	enum mode mode;
	bool cmd_pos;         /* the next word is where a command (or assignment) starts */
	bool funcdef_paren;   /* inside the () of `name()` */
	bool after_func_name; /* just after `function name` */
	int for_words;        /* words read after for/select */
	bool want_redir;      /* the next word is a redirection target */
	bool want_heredoc;    /* the next word is a here-document delimiter */
	bool heredoc_tabs;    /* ... of <<- */
	struct heredoc heredocs[MAX_HEREDOCS];
	int n_heredocs;

	/* The simple command being read. */
	bool cmd_has_name;
	bool cmd_has_words; /* anything at all (assignment, name) */
	bool cmd_conditional;
	size_t cmd_name_start, cmd_name_end;
	struct assign cmd_assigns[8];
	int cmd_n_assigns;

	struct assign *found; /* every setting of the variable, in order (owned) */
	size_t n_found;
	size_t cap_found;

	char *err; /* the first syntax problem (owned) */
	bool oom;
};

static void lx_error(struct lexer *lx, unsigned line, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void lx_error(struct lexer *lx, unsigned line, const char *fmt, ...)
{
	if (lx->err || lx->oom)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	/* Every message names a line: add it when the text does not. */
	if (msg && !strstr(msg, "line ")) {
		if (asprintf(&lx->err, "%s on line %u", msg, line) < 0)
			lx->err = NULL;
		free(msg);
	} else {
		lx->err = msg;
	}
	if (!lx->err)
		lx->oom = true;
}

static bool lx_failed(const struct lexer *lx)
{
	return lx->err || lx->oom;
}

static char peek(const struct lexer *lx, size_t off)
{
	return lx->i + off < lx->len ? lx->s[lx->i + off] : '\0';
}

static void advance(struct lexer *lx, size_t n)
{
	for (size_t k = 0; k < n && lx->i < lx->len; k++)
		if (lx->s[lx->i++] == '\n')
			lx->line++;
}

static void skip_dquote(struct lexer *lx);
static void skip_cmdsubst(struct lexer *lx);
static void skip_param(struct lexer *lx, bool in_dquote);
static void skip_backtick(struct lexer *lx);

static bool enter_subst(struct lexer *lx)
{
	if (++lx->subst_depth > MAX_SUBST) {
		lx_error(lx, lx->line, "expansions are nested too deeply");
		return false;
	}
	return true;
}

static void skip_squote(struct lexer *lx)
{
	unsigned start = lx->line;
	advance(lx, 1);
	while (lx->i < lx->len && lx->s[lx->i] != '\'')
		advance(lx, 1);
	if (lx->i >= lx->len)
		lx_error(lx, start, "a single quote opened on line %u is never closed", start);
	else
		advance(lx, 1);
}

/* At `$`: skip an expansion if one starts here, else the lone `$`. */
static void skip_dollar(struct lexer *lx, bool in_dquote)
{
	if (peek(lx, 1) == '(')
		skip_cmdsubst(lx);
	else if (peek(lx, 1) == '{')
		skip_param(lx, in_dquote);
	else
		advance(lx, 1);
}

static void skip_dquote(struct lexer *lx)
{
	unsigned start = lx->line;
	if (!enter_subst(lx))
		return;
	advance(lx, 1);
	while (lx->i < lx->len && !lx_failed(lx)) {
		char c = lx->s[lx->i];
		if (c == '"') {
			advance(lx, 1);
			lx->subst_depth--;
			return;
		}
		if (c == '\\')
			advance(lx, 2);
		else if (c == '$')
			skip_dollar(lx, true);
		else if (c == '`')
			skip_backtick(lx);
		else
			advance(lx, 1);
	}
	lx_error(lx, start, "a double quote opened on line %u is never closed", start);
}

static void skip_backtick(struct lexer *lx)
{
	unsigned start = lx->line;
	advance(lx, 1);
	while (lx->i < lx->len && lx->s[lx->i] != '`')
		advance(lx, lx->s[lx->i] == '\\' ? 2 : 1);
	if (lx->i >= lx->len)
		lx_error(lx, start, "a backquote opened on line %u is never closed", start);
	else
		advance(lx, 1);
}

/* At `$(` (or `$((`): skip to the matching parenthesis. */
static void skip_cmdsubst(struct lexer *lx)
{
	unsigned start = lx->line;
	if (!enter_subst(lx))
		return;
	advance(lx, 2);
	int parens = 1;
	bool word_start = true;
	while (lx->i < lx->len && !lx_failed(lx)) {
		char c = lx->s[lx->i];
		bool blank = c == ' ' || c == '\t' || c == '\n' || c == ';' || c == '(' ||
		             c == '|' || c == '&';
		if (c == '(') {
			parens++;
			advance(lx, 1);
		} else if (c == ')') {
			advance(lx, 1);
			if (--parens == 0) {
				lx->subst_depth--;
				return;
			}
		} else if (c == '\'') {
			skip_squote(lx);
		} else if (c == '"') {
			skip_dquote(lx);
		} else if (c == '\\') {
			advance(lx, 2);
		} else if (c == '`') {
			skip_backtick(lx);
		} else if (c == '$' && peek(lx, 1) == '{') {
			skip_param(lx, false);
		} else if (c == '#' && word_start) {
			while (lx->i < lx->len && lx->s[lx->i] != '\n')
				advance(lx, 1);
		} else {
			advance(lx, 1);
		}
		word_start = blank;
	}
	lx_error(lx, start, "a $( opened on line %u is never closed", start);
}

/* At `${`: skip to the matching brace. */
static void skip_param(struct lexer *lx, bool in_dquote)
{
	unsigned start = lx->line;
	if (!enter_subst(lx))
		return;
	advance(lx, 2);
	while (lx->i < lx->len && !lx_failed(lx)) {
		char c = lx->s[lx->i];
		if (c == '}') {
			advance(lx, 1);
			lx->subst_depth--;
			return;
		}
		if (c == '\\')
			advance(lx, 2);
		else if (c == '\'' && !in_dquote)
			skip_squote(lx);
		else if (c == '"')
			skip_dquote(lx);
		else if (c == '$')
			skip_dollar(lx, in_dquote);
		else if (c == '`')
			skip_backtick(lx);
		else
			advance(lx, 1);
	}
	lx_error(lx, start, "a ${ opened on line %u is never closed", start);
}

static bool is_meta(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == ';' || c == '&' || c == '|' || c == '(' ||
	       c == ')' || c == '<' || c == '>';
}

/* Skip one word starting at lx->i; returns its end. */
static size_t scan_word(struct lexer *lx)
{
	while (lx->i < lx->len && !lx_failed(lx)) {
		char c = lx->s[lx->i];
		if (is_meta(c))
			break;
		if (c == '\\' && lx->i + 1 >= lx->len)
			lx_error(lx, lx->line,
			         "the file ends with a backslash that escapes nothing");
		else if (c == '\\')
			advance(lx, 2);
		else if (c == '\'')
			skip_squote(lx);
		else if (c == '"')
			skip_dquote(lx);
		else if (c == '$')
			skip_dollar(lx, false);
		else if (c == '`')
			skip_backtick(lx);
		else
			advance(lx, 1);
	}
	return lx->i;
}

static bool word_is(const struct lexer *lx, size_t start, size_t end, const char *kw)
{
	size_t n = strlen(kw);
	return end - start == n && memcmp(lx->s + start, kw, n) == 0;
}

static bool is_ident_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_ident_char(char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

/* Length of the identifier at the start of word, 0 when none. */
static size_t ident_len(const struct lexer *lx, size_t start, size_t end)
{
	if (start >= end || !is_ident_start(lx->s[start]))
		return 0;
	size_t k = start + 1;
	while (k < end && is_ident_char(lx->s[k]))
		k++;
	return k - start;
}

/* The word starts with the variable's name followed by `=` or `+=`: returns
 * 1 for `=`, 2 for `+=`, 0 otherwise. */
static int sets_name(const struct lexer *lx, size_t start, size_t end)
{
	size_t n = ident_len(lx, start, end);
	if (n != lx->name_len || memcmp(lx->s + start, lx->name, n) != 0)
		return 0;
	if (start + n < end && lx->s[start + n] == '=')
		return 1;
	if (start + n + 1 < end && lx->s[start + n] == '+' && lx->s[start + n + 1] == '=')
		return 2;
	return 0;
}

/* The variable's name appears in the word as a whole identifier. */
static bool mentions_name(const struct lexer *lx, size_t start, size_t end)
{
	for (size_t k = start; k + lx->name_len <= end; k++) {
		if (memcmp(lx->s + k, lx->name, lx->name_len) != 0)
			continue;
		bool before = k > start && is_ident_char(lx->s[k - 1]);
		bool after = k + lx->name_len < end && is_ident_char(lx->s[k + lx->name_len]);
		if (!before && !after)
			return true;
	}
	return false;
}

static void record(struct lexer *lx, unsigned line, size_t vstart, size_t vend, const char *unsafe)
{
	if (lx->n_found == lx->cap_found) {
		size_t cap = lx->cap_found ? lx->cap_found * 2 : 8;
		struct assign *p = realloc(lx->found, cap * sizeof *p);
		if (!p) {
			lx->oom = true;
			return;
		}
		lx->found = p;
		lx->cap_found = cap;
	}
	lx->found[lx->n_found++] = (struct assign){line, vstart, vend, unsafe};
}

/* The simple command ends (at an operator, newline, or a keyword that closes a
 * compound command). `conditional_end`: it is followed by && || | or &. */
static void end_command(struct lexer *lx, bool conditional_end)
{
	bool conditional = lx->cmd_conditional || conditional_end;
	for (int k = 0; k < lx->cmd_n_assigns; k++) {
		struct assign a = lx->cmd_assigns[k];
		if (!a.unsafe) {
			if (lx->cmd_has_name)
				a.unsafe = "sets it only for the command that follows on that line";
			else if (lx->depth > 0)
				a.unsafe =
				        "sets it inside an if/case/loop/function/subshell block, "
				        "so whether and when it applies depends on how the "
				        "script runs";
			else if (conditional)
				a.unsafe = "sets it conditionally (after && or ||, in a pipeline "
				           "or in the background)";
		}
		record(lx, a.line, a.value_start, a.value_end, a.unsafe);
	}
	lx->cmd_n_assigns = 0;
	lx->cmd_has_name = false;
	lx->cmd_has_words = false;
	lx->cmd_conditional = false;
}

static void push(struct lexer *lx, enum construct c)
{
	if (lx->depth >= MAX_NEST) {
		lx_error(lx, lx->line, "compound commands are nested too deeply");
		return;
	}
	lx->stack[lx->depth++] = c;
}

static const char *construct_closer(enum construct c)
{
	switch (c) {
	case C_IF:
		return "fi";
	case C_LOOP:
		return "done";
	case C_CASE:
		return "esac";
	case C_BRACE:
		return "}";
	case C_PAREN:
		return ")";
	}
	return "?";
}

static void pop(struct lexer *lx, enum construct c, const char *what)
{
	if (lx->depth == 0 || lx->stack[lx->depth - 1] != c) {
		if (lx->depth == 0)
			lx_error(lx, lx->line, "`%s` on line %u closes nothing", what, lx->line);
		else
			lx_error(lx, lx->line, "`%s` on line %u where `%s` was expected", what,
			         lx->line, construct_closer(lx->stack[lx->depth - 1]));
		return;
	}
	lx->depth--;
}

/* Words after these commands may change the variable in ways the module cannot
 * follow. */
static bool is_risky_command(const struct lexer *lx)
{
	static const char *const risky[] = {"unset", "read",    "eval",      "export",  "readonly",
	                                    "local", "declare", "typeset",   "getopts", "printf",
	                                    "let",   "mapfile", "readarray", NULL};
	for (const char *const *r = risky; *r; r++)
		if (word_is(lx, lx->cmd_name_start, lx->cmd_name_end, *r))
			return true;
	return false;
}

static void on_argument(struct lexer *lx, size_t start, size_t end, unsigned line)
{
	if (!lx->cmd_has_name || !is_risky_command(lx) || !mentions_name(lx, start, end))
		return;
	/* `export NAME` alone only exports the value already set: harmless. */
	if (word_is(lx, lx->cmd_name_start, lx->cmd_name_end, "export") &&
	    word_is(lx, start, end, lx->name))
		return;
	if (word_is(lx, lx->cmd_name_start, lx->cmd_name_end, "export") &&
	    sets_name(lx, start, end))
		record(lx, line, 0, 0,
		       "sets it with `export NAME=...`; write a plain assignment NAME=\"...\" "
		       "(grub-mkconfig exports it itself)");
	else
		record(lx, line, 0, 0,
		       "passes it to a command (unset, read, eval, export, ...) that may change "
		       "it");
}

static void on_word(struct lexer *lx, size_t start, size_t end, unsigned line)
{
	lx->after_func_name = false;
	if (lx->want_heredoc) {
		lx->want_heredoc = false;
		if (lx->n_heredocs >= MAX_HEREDOCS) {
			lx_error(lx, line, "too many here-documents on line %u", line);
			return;
		}
		lx->heredocs[lx->n_heredocs++] = (struct heredoc){start, end, lx->heredoc_tabs};
		return;
	}
	if (lx->want_redir) {
		lx->want_redir = false;
		return;
	}
	/* A file descriptor number before a redirection: 2>/dev/null. */
	if (lx->i < lx->len && (lx->s[lx->i] == '<' || lx->s[lx->i] == '>')) {
		bool digits = true;
		for (size_t k = start; k < end; k++)
			digits = digits && lx->s[k] >= '0' && lx->s[k] <= '9';
		if (digits)
			return;
	}
	switch (lx->mode) {
	case M_FOR_WORDS:
		if (lx->for_words++ == 0) {
			/* The loop variable: the loop assigns it. */
			if (word_is(lx, start, end, lx->name))
				record(lx, line, 0, 0, "is the variable of a for loop");
			return;
		}
		if (word_is(lx, start, end, "do")) {
			lx->mode = M_NORMAL;
			lx->cmd_pos = true;
			break; /* handled as the keyword below */
		}
		return;
	case M_CASE_SUBJECT:
		lx->mode = M_CASE_IN;
		return;
	case M_CASE_IN:
		if (!word_is(lx, start, end, "in"))
			lx_error(lx, line, "`case` without `in` on line %u", line);
		lx->mode = M_CASE_PATTERN;
		return;
	case M_CASE_PATTERN:
		if (word_is(lx, start, end, "esac")) {
			pop(lx, C_CASE, "esac");
			lx->mode = M_NORMAL;
			lx->cmd_pos = false;
			lx->cmd_has_name = true; /* what follows are redirections */
		}
		return; /* a pattern word */
	case M_FUNC_NAME:
		lx->mode = M_NORMAL;
		lx->cmd_pos = true;
		lx->after_func_name = true;
		return;
	case M_NORMAL:
		break;
	}

	if (lx->cmd_pos && lx->cmd_n_assigns == 0 && !lx->cmd_has_name) {
		static const char *const openers[] = {"if", "while", "until", NULL};
		for (const char *const *k = openers; *k; k++)
			if (word_is(lx, start, end, *k)) {
				end_command(lx, false);
				push(lx, **k == 'i' ? C_IF : C_LOOP);
				return;
			}
		if (word_is(lx, start, end, "then") || word_is(lx, start, end, "else") ||
		    word_is(lx, start, end, "elif") || word_is(lx, start, end, "do") ||
		    word_is(lx, start, end, "!")) {
			end_command(lx, false);
			return;
		}
		if (word_is(lx, start, end, "fi") || word_is(lx, start, end, "done") ||
		    word_is(lx, start, end, "}") || word_is(lx, start, end, "esac")) {
			end_command(lx, false);
			if (word_is(lx, start, end, "fi"))
				pop(lx, C_IF, "fi");
			else if (word_is(lx, start, end, "done"))
				pop(lx, C_LOOP, "done");
			else if (word_is(lx, start, end, "esac"))
				pop(lx, C_CASE, "esac");
			else
				pop(lx, C_BRACE, "}");
			lx->cmd_pos = false;
			lx->cmd_has_name = true; /* what follows are redirections */
			lx->mode = M_NORMAL;
			return;
		}
		if (word_is(lx, start, end, "{")) {
			end_command(lx, false);
			push(lx, C_BRACE);
			return;
		}
		if (word_is(lx, start, end, "for") || word_is(lx, start, end, "select")) {
			end_command(lx, false);
			push(lx, C_LOOP);
			lx->mode = M_FOR_WORDS;
			lx->for_words = 0;
			lx->cmd_pos = false;
			return;
		}
		if (word_is(lx, start, end, "case")) {
			end_command(lx, false);
			push(lx, C_CASE);
			lx->mode = M_CASE_SUBJECT;
			lx->cmd_pos = false;
			return;
		}
		if (word_is(lx, start, end, "function")) {
			end_command(lx, false);
			lx->mode = M_FUNC_NAME;
			lx->cmd_pos = false;
			return;
		}
	}

	if (lx->cmd_pos) {
		int kind = sets_name(lx, start, end);
		size_t id = ident_len(lx, start, end);
		bool assignment = id && start + id < end &&
		                  (lx->s[start + id] == '=' ||
		                   (lx->s[start + id] == '+' && start + id + 1 < end &&
		                    lx->s[start + id + 1] == '='));
		if (assignment) {
			lx->cmd_has_words = true;
			if (kind && lx->cmd_n_assigns < (int)(sizeof lx->cmd_assigns /
			                                      sizeof lx->cmd_assigns[0])) {
				lx->cmd_assigns[lx->cmd_n_assigns++] = (struct assign){
				        line, start + lx->name_len + 1, end,
				        kind == 2 ? "appends to it with +=, which POSIX sh (and "
				                    "grub-mkconfig's /bin/sh) does not have"
				                  : NULL};
			} else if (kind) {
				record(lx, line, 0, 0, "sets it many times in one command");
			}
			return;
		}
		/* The command name. */
		lx->cmd_has_name = true;
		lx->cmd_has_words = true;
		lx->cmd_name_start = start;
		lx->cmd_name_end = end;
		lx->cmd_pos = false;
		return;
	}
	on_argument(lx, start, end, line);
}

/* Read the bodies of the here-documents opened on the line that just ended. */
static void read_heredocs(struct lexer *lx)
{
	for (int h = 0; h < lx->n_heredocs && !lx_failed(lx); h++) {
		struct heredoc *d = &lx->heredocs[h];
		/* The delimiter with its quotes and backslashes removed. */
		char delim[256];
		size_t n = 0;
		for (size_t k = d->delim_start; k < d->delim_end && n + 1 < sizeof delim; k++)
			if (lx->s[k] != '\'' && lx->s[k] != '"' && lx->s[k] != '\\')
				delim[n++] = lx->s[k];
		delim[n] = '\0';
		unsigned start = lx->line;
		bool closed = false;
		while (lx->i < lx->len && !closed) {
			size_t b = lx->i;
			while (lx->i < lx->len && lx->s[lx->i] != '\n')
				lx->i++;
			size_t e = lx->i;
			if (lx->i < lx->len) {
				lx->i++;
				lx->line++;
			}
			if (d->strip_tabs)
				while (b < e && lx->s[b] == '\t')
					b++;
			closed = e - b == n && memcmp(lx->s + b, delim, n) == 0;
		}
		if (!closed)
			lx_error(lx, start,
			         "a here-document opened on line %u never ends (no `%s` line)",
			         start - 1, delim);
	}
	lx->n_heredocs = 0;
}

static void on_operator(struct lexer *lx)
{
	char c = lx->s[lx->i], d = peek(lx, 1);
	unsigned line = lx->line;
	if (c == '\n') {
		if (lx->want_heredoc || lx->want_redir)
			lx_error(lx, line, "a redirection on line %u has no target", line);
		advance(lx, 1);
		if (lx->mode == M_CASE_SUBJECT || lx->mode == M_CASE_IN ||
		    lx->mode == M_CASE_PATTERN || lx->mode == M_FUNC_NAME) {
			read_heredocs(lx);
			return;
		}
		if (lx->mode == M_FOR_WORDS)
			lx->mode = M_NORMAL;
		/* An empty line (or one after && || |) ends no command. */
		if (lx->cmd_has_words || lx->cmd_has_name || lx->cmd_n_assigns)
			end_command(lx, false);
		lx->cmd_pos = true;
		read_heredocs(lx);
		return;
	}
	if (c == ';' && d == ';') {
		advance(lx, 2);
		end_command(lx, false);
		if (lx->depth > 0 && lx->stack[lx->depth - 1] == C_CASE)
			lx->mode = M_CASE_PATTERN;
		else
			lx_error(lx, line, "`;;` outside a case on line %u", line);
		lx->cmd_pos = true;
		return;
	}
	if (c == ';') {
		advance(lx, 1);
		end_command(lx, false);
		if (lx->mode == M_FOR_WORDS)
			lx->mode = M_NORMAL;
		lx->cmd_pos = true;
		return;
	}
	if (c == '|' && lx->mode == M_CASE_PATTERN) {
		advance(lx, 1); /* a|b) */
		return;
	}
	if (c == '&' || c == '|') {
		bool twice = d == c;
		advance(lx, twice ? 2 : 1);
		if (c == '|' && d == '&')
			advance(lx, 1); /* bash |& */
		/* A pipeline or & runs the command in a subshell; && and || leave the
		 * command before them alone but make the one after conditional. */
		end_command(lx, !twice);
		lx->cmd_conditional = !(c == '&' && !twice);
		lx->cmd_pos = true;
		return;
	}
	if (c == '(') {
		advance(lx, 1);
		if (lx->mode == M_CASE_PATTERN)
			return; /* (pattern) */
		if (lx->after_func_name ||
		    (lx->cmd_has_name && !lx->cmd_pos && lx->cmd_n_assigns == 0)) {
			lx->after_func_name = false;
			/* name() — a function definition: the body follows. */
			lx->funcdef_paren = true;
			return;
		}
		end_command(lx, false);
		push(lx, C_PAREN);
		lx->cmd_pos = true;
		return;
	}
	if (c == ')') {
		advance(lx, 1);
		if (lx->funcdef_paren) {
			lx->funcdef_paren = false;
			lx->cmd_has_name = false; /* the name was not a command */
			lx->cmd_has_words = false;
			lx->cmd_pos = true;
			return;
		}
		if (lx->mode == M_CASE_PATTERN) {
			lx->mode = M_NORMAL;
			lx->cmd_pos = true;
			return;
		}
		end_command(lx, false);
		pop(lx, C_PAREN, ")");
		lx->cmd_pos = false;
		lx->cmd_has_name = true; /* what follows are redirections */
		return;
	}
	/* Redirections: < > >> <> >| <& >& << <<- */
	if (c == '<' && d == '<') {
		advance(lx, 2);
		lx->heredoc_tabs = peek(lx, 0) == '-';
		if (lx->heredoc_tabs)
			advance(lx, 1);
		lx->want_heredoc = true;
		return;
	}
	advance(lx, 1);
	if (d == '>' || d == '&' || d == '|' || (c == '<' && d == '>'))
		advance(lx, 1);
	lx->want_redir = true;
}

static void lex(struct lexer *lx)
{
	lx->cmd_pos = true;
	while (lx->i < lx->len && !lx_failed(lx)) {
		char c = lx->s[lx->i];
		if (c == ' ' || c == '\t') {
			advance(lx, 1);
			continue;
		}
		if (c == '\\' && peek(lx, 1) == '\n') {
			advance(lx, 2);
			continue;
		}
		if (c == '#') {
			while (lx->i < lx->len && lx->s[lx->i] != '\n')
				advance(lx, 1);
			continue;
		}
		if (is_meta(c)) {
			on_operator(lx);
			continue;
		}
		unsigned line = lx->line;
		size_t start = lx->i;
		size_t end = scan_word(lx);
		if (!lx_failed(lx))
			on_word(lx, start, end, line);
	}
	if (lx_failed(lx))
		return;
	if (lx->want_heredoc || lx->want_redir)
		lx_error(lx, lx->line, "a redirection at the end of the file has no target");
	if (lx->cmd_conditional && !lx->cmd_has_words && !lx->cmd_has_name && !lx->cmd_n_assigns)
		lx_error(lx, lx->line, "the file ends after &&, || or | with no command");
	end_command(lx, false);
	read_heredocs(lx);
	if (!lx_failed(lx) && lx->depth > 0)
		lx_error(lx, lx->line, "the file ends inside a block: `%s` is missing",
		         construct_closer(lx->stack[lx->depth - 1]));
	else if (!lx_failed(lx) && lx->mode != M_NORMAL && lx->mode != M_FOR_WORDS)
		lx_error(lx, lx->line, "the file ends inside a case or function header");
}

/* ---- the value -------------------------------------------------------- */

struct decoded {
	struct pt_strbuf value;
	size_t *map; /* raw offset per decoded byte, plus the end */
	size_t cap;
	enum pt_boot_grub_quote quote;
	const char *problem; /* static text, or NULL */
	bool self_reference;
	bool multiline;
};

static int map_push(struct decoded *d, size_t off)
{
	if (d->value.len + 1 >= d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		size_t *p = realloc(d->map, cap * sizeof *p);
		if (!p)
			return -ENOMEM;
		d->map = p;
		d->cap = cap;
	}
	d->map[d->value.len] = off;
	return 0;
}

static int put(struct decoded *d, char c, size_t off)
{
	if (map_push(d, off) < 0)
		return -ENOMEM;
	return pt_strbuf_putc(&d->value, c);
}

/* At s[k] == '$': note what it expands. Returns how many bytes a lone `$` is
 * (1) or 0 when an expansion starts here (and sets the problem). */
static size_t dollar(const char *s, size_t k, size_t end, const char *name, struct decoded *d)
{
	char n = k + 1 < end ? s[k + 1] : '\0';
	size_t nl = strlen(name);
	if (n == '(') {
		d->problem = "runs a command ($(...))";
		return 0;
	}
	bool braced = n == '{';
	size_t id = k + 1 + (braced ? 1 : 0);
	if (id < end && is_ident_start(s[id])) {
		size_t e = id;
		while (e < end && is_ident_char(s[e]))
			e++;
		if (e - id == nl && memcmp(s + id, name, nl) == 0) {
			d->self_reference = true;
			d->problem = "refers to itself";
		} else if (!d->problem) {
			d->problem = "expands another variable";
		}
		return 0;
	}
	if (braced || (n && strchr("0123456789@*#?$!-", n))) {
		if (!d->problem)
			d->problem = "expands a shell parameter";
		return 0;
	}
	return 1; /* a literal dollar sign */
}

static int decode(const char *s, size_t start, size_t end, const char *name, struct decoded *d)
{
	int parts = 0, kinds = 0; /* kinds: 1 unquoted, 2 single, 4 double */
	size_t k = start;
	/* Where text appended to the value goes: after the last byte of its last
	 * part, inside that part's quotes. */
	size_t content_end = start;
	while (k < end) {
		char c = s[k];
		if (c == '\'') {
			parts++;
			kinds |= 2;
			for (k++; k < end && s[k] != '\''; k++) {
				if (s[k] == '\n')
					d->multiline = true;
				if (put(d, s[k], k) < 0)
					return -ENOMEM;
			}
			content_end = k;
			k++;
		} else if (c == '"') {
			parts++;
			kinds |= 4;
			for (k++; k < end && s[k] != '"';) {
				char e = s[k];
				if (e == '\\' && k + 1 < end && strchr("$`\"\\\n", s[k + 1])) {
					if (s[k + 1] == '\n')
						d->multiline = true;
					else if (put(d, s[k + 1], k) < 0)
						return -ENOMEM;
					k += 2;
					continue;
				}
				if (e == '`') {
					d->problem = "runs a command (`...`)";
					return 0;
				}
				if (e == '$' && dollar(s, k, end, name, d) == 0)
					return 0;
				if (e == '\n')
					d->multiline = true;
				if (put(d, e, k) < 0)
					return -ENOMEM;
				k++;
			}
			content_end = k;
			k++;
		} else {
			if (!(kinds & 1))
				parts++;
			kinds |= 1;
			if (c == '\\') {
				if (k + 1 < end && s[k + 1] == '\n')
					d->multiline = true;
				else if (k + 1 < end && put(d, s[k + 1], k) < 0)
					return -ENOMEM;
				k += 2;
				content_end = k;
				continue;
			}
			if (c == '`') {
				d->problem = "runs a command (`...`)";
				return 0;
			}
			if (c == '$' && dollar(s, k, end, name, d) == 0)
				return 0;
			if (c == '\r') {
				d->problem = "ends in a carriage return (the file has DOS line "
				             "endings; convert it with dos2unix)";
				return 0;
			}
			if (c == '~') {
				d->problem =
				        "holds an unquoted ~, which the shell expands to a home "
				        "directory";
				return 0;
			}
			if (put(d, c, k) < 0)
				return -ENOMEM;
			k++;
			content_end = k;
		}
	}
	if (map_push(d, content_end) < 0)
		return -ENOMEM;
	if (d->multiline && !d->problem)
		d->problem = "spans several lines";
	if (kinds == 0 || kinds == 1)
		d->quote = PT_BOOT_GRUB_QUOTE_NONE;
	else if (kinds == 2 && parts == 1)
		d->quote = PT_BOOT_GRUB_QUOTE_SINGLE;
	else if (kinds == 4 && parts == 1)
		d->quote = PT_BOOT_GRUB_QUOTE_DOUBLE;
	else
		d->quote = PT_BOOT_GRUB_QUOTE_MIXED;
	return 0;
}

/* ---- the public side -------------------------------------------------- */

void pt_boot_grub_default_release(struct pt_boot_grub_default *g)
{
	if (!g)
		return;
	free(g->name);
	free(g->label);
	free(g->value);
	free(g->problem);
	free(g->map);
	memset(g, 0, sizeof *g);
}

int pt_boot_grub_default_parse(const char *text, size_t len, const char *name, const char *label,
                               struct pt_boot_grub_default *g, struct pt_report *rep)
{
	memset(g, 0, sizeof *g);
	g->text = text;
	g->len = len;
	g->name = strdup(name);
	g->label = strdup(label);
	if (!g->name || !g->label)
		return -ENOMEM;
	if (memchr(text, '\0', len))
		return pt_report_fail(
		        rep, -EINVAL,
		        "%s holds a NUL byte: it is not a text file the module can edit", label);

	struct lexer lx = {
	        .s = text, .len = len, .line = 1, .name = name, .name_len = strlen(name)};
	lex(&lx);
	int r = 0;
	if (lx.oom) {
		r = -ENOMEM;
		goto out;
	}
	if (lx.err) {
		r = pt_report_fail(
		        rep, -EINVAL,
		        "%s does not parse as a shell script (%s), so the module cannot tell "
		        "where %s is set; check it with `sh -n %s`, fix it, and run again",
		        label, lx.err, name, label);
		goto out;
	}
	for (size_t k = 0; k < lx.n_found; k++)
		if (lx.found[k].unsafe) {
			r = pt_report_fail(
			        rep, -EINVAL,
			        "%s: line %u %s; the module only edits a plain top-level "
			        "assignment %s=\"...\". Set %s once, outside any block, and run "
			        "again (or edit the file by hand)",
			        label, lx.found[k].line, lx.found[k].unsafe, name, name);
			goto out;
		}
	g->n_set = (unsigned)lx.n_found;
	if (lx.n_found == 0)
		goto out;
	const struct assign *last = &lx.found[lx.n_found - 1];
	g->line = last->line;
	g->first_line = lx.found[0].line;
	g->value_start = last->value_start;
	g->value_end = last->value_end;

	struct decoded d = {.value = PT_STRBUF_INIT};
	r = decode(text, last->value_start, last->value_end, name, &d);
	if (r < 0 || d.value.oom) {
		pt_strbuf_release(&d.value);
		free(d.map);
		r = -ENOMEM;
		goto out;
	}
	g->quote = d.quote;
	g->self_reference = d.self_reference;
	if (d.problem) {
		const char *advice =
		        d.self_reference ? "write the whole value in this one assignment, e.g. "
		                           "%s=\"quiet\", and run again"
		                         : "write the value as plain text in one pair of double "
		                           "quotes, e.g. %s=\"quiet\", and run again";
		_cleanup_free_ char *fix = NULL;
		if (asprintf(&fix, advice, name) < 0) {
			fix = NULL;
		}
		int n = asprintf(&g->problem,
		                 "%s: %s on line %u %s (%.*s); the module cannot tell "
		                 "what it adds up to, so it will not edit it: %s",
		                 label, name, last->line, d.problem,
		                 (int)(last->value_end - last->value_start > 80
		                               ? 80
		                               : last->value_end - last->value_start),
		                 text + last->value_start, fix ? fix : "");
		if (n < 0)
			g->problem = NULL;
		pt_strbuf_release(&d.value);
		free(d.map);
		r = g->problem && fix ? 0 : -ENOMEM;
		goto out;
	}
	if (d.quote == PT_BOOT_GRUB_QUOTE_MIXED) {
		int n = asprintf(
		        &g->problem,
		        "%s: %s on line %u mixes quoting styles (%.*s); write the value in "
		        "one pair of double quotes and run again",
		        label, name, last->line,
		        (int)(last->value_end - last->value_start > 80
		                      ? 80
		                      : last->value_end - last->value_start),
		        text + last->value_start);
		if (n < 0) {
			g->problem = NULL;
			r = -ENOMEM;
		}
	}
	g->value = d.value.data ? pt_strbuf_steal(&d.value) : strdup("");
	g->map = d.map;
	if (!g->value)
		r = -ENOMEM;
out:
	free(lx.found);
	free(lx.err);
	return r;
}

/* Characters that need no quoting in an unquoted assignment value. */
static bool plain_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       strchr("-_.,:/=+@%^", c);
}

static void put_dquoted(struct pt_strbuf *sb, const char *s, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		if (strchr("\"$`\\", s[k]))
			pt_strbuf_putc(sb, '\\');
		pt_strbuf_putc(sb, s[k]);
	}
}

int pt_boot_grub_default_set(const struct pt_boot_grub_default *g, const char *value, char **out,
                             size_t *out_len, struct pt_report *rep)
{
	*out = NULL;
	if (g->problem)
		return pt_report_fail(rep, -EINVAL, "%s", g->problem);
	struct pt_strbuf sb = PT_STRBUF_INIT;
	size_t vlen = strlen(value);
	/* NOLINTNEXTLINE(bugprone-branch-clone): kept apart from "unchanged" below */
	if (!g->line && !*value) {
		/* Unset is empty to the shell already. */
		pt_strbuf_append(&sb, g->text, g->len);
	} else if (!g->line) {
		/* Unset: one assignment at the end. */
		pt_strbuf_append(&sb, g->text, g->len);
		if (g->len && g->text[g->len - 1] != '\n')
			pt_strbuf_putc(&sb, '\n');
		/* A line that ends in an odd run of backslashes continues on the next
		 * one: end it with a second newline, or the assignment joins it. */
		size_t k = sb.len - (sb.len ? 1 : 0), run = 0;
		while (k > 0 && sb.data[k - 1] == '\\') {
			k--;
			run++;
		}
		if (run % 2)
			pt_strbuf_putc(&sb, '\n');
		pt_strbuf_printf(&sb, "%s=\"", g->name);
		put_dquoted(&sb, value, vlen);
		pt_strbuf_puts(&sb, "\"\n");
	} else if (strcmp(value, g->value) == 0) {
		pt_strbuf_append(&sb, g->text, g->len);
	} else {
		const char *old = g->value;
		size_t olen = strlen(old);
		/* Only the stretch that differs is rewritten. */
		size_t p = 0;
		while (p < olen && p < vlen && old[p] == value[p])
			p++;
		size_t s = 0;
		while (s < olen - p && s < vlen - p && old[olen - 1 - s] == value[vlen - 1 - s])
			s++;
		/* A backslash just before the stretch may pair with what the stretch
		 * begins with: rewrite it too. */
		while (p > 0 && old[p - 1] == '\\')
			p--;
		const char *mid = value + p;
		size_t mlen = vlen - s - p;
		enum pt_boot_grub_quote q = g->quote;
		bool fits = true;
		for (size_t k = 0; k < mlen && fits; k++) {
			if (q == PT_BOOT_GRUB_QUOTE_NONE)
				fits = plain_char(mid[k]);
			else if (q == PT_BOOT_GRUB_QUOTE_SINGLE)
				fits = mid[k] != '\'';
		}
		pt_strbuf_append(&sb, g->text, g->value_start);
		if (fits) {
			size_t raw_p = g->map[p], raw_s = g->map[olen - s];
			pt_strbuf_append(&sb, g->text + g->value_start, raw_p - g->value_start);
			if (q == PT_BOOT_GRUB_QUOTE_DOUBLE)
				put_dquoted(&sb, mid, mlen);
			else
				pt_strbuf_append(&sb, mid, mlen);
			pt_strbuf_append(&sb, g->text + raw_s, g->value_end - raw_s);
		} else {
			pt_strbuf_putc(&sb, '"');
			put_dquoted(&sb, value, vlen);
			pt_strbuf_putc(&sb, '"');
		}
		pt_strbuf_append(&sb, g->text + g->value_end, g->len - g->value_end);
	}
	if (sb.oom) {
		pt_strbuf_release(&sb);
		return -ENOMEM;
	}
	*out_len = sb.len;
	*out = sb.data ? pt_strbuf_steal(&sb) : strdup("");
	return *out ? 0 : -ENOMEM;
}
