/* Layer: boot family (grub_iommu). Included by boot_cmdline_plan.c,
 * boot_grub_warnings.h and the tests and fuzz harness of the format.
 *
 * /etc/default/grub (and the drop-ins in /etc/default/grub.d): find where a variable such
 * as GRUB_CMDLINE_LINUX_DEFAULT gets its value, read that value, and write a new
 * one touching nothing else.
 *
 * These files are shell scripts that grub-mkconfig sources, so the parser is a
 * small POSIX sh lexer: quotes, escapes, $(...), `...`, ${...}, comments,
 * here-documents, line continuations, and compound commands (if, case, loops,
 * { }, ( ), functions) — enough to tell a plain top-level assignment from one
 * that only runs sometimes. It evaluates nothing.
 *
 * What can be edited: the last top-level assignment `NAME=VALUE` that is a
 * command on its own (not `NAME=x cmd`, not after && or ||, not in a pipeline)
 * and whose VALUE is a literal in one quoting style: "double", 'single' or
 * unquoted, on one line. Everything else about the variable is refused with the
 * line and what to do: an assignment inside an if/case/loop/function body or a
 * subshell, `export NAME=`, `NAME+=`, unset/read/eval of it, a value that refers
 * to itself ("$NAME foo"), to other variables, or runs commands ($(...), `...`),
 * a value spanning lines, mixed quoting. The rest of the file may use any shell
 * feature: it is skipped over, byte for byte. */
#ifndef PT_BOOT_GRUB_DEFAULT_H
#define PT_BOOT_GRUB_DEFAULT_H

#include <stdbool.h>
#include <stddef.h>

#include "report.h"

enum pt_boot_grub_quote {
	PT_BOOT_GRUB_QUOTE_NONE,   /* NAME=value (or NAME=) */
	PT_BOOT_GRUB_QUOTE_SINGLE, /* NAME='value' */
	PT_BOOT_GRUB_QUOTE_DOUBLE, /* NAME="value" */
	PT_BOOT_GRUB_QUOTE_MIXED,  /* NAME="a"'b' and other concatenations */
};

struct pt_boot_grub_default {
	const char *text;    /* the parsed file (borrowed from the caller) */
	size_t len;          /* its length */
	char *name;          /* the variable (owned) */
	char *label;         /* the file's name for messages (owned) */
	unsigned n_set;      /* top-level assignments of name */
	unsigned line;       /* line of the last one, the one that takes effect; 0: unset */
	unsigned first_line; /* line of the first one */
	char *value;         /* its value as the shell sees it (owned); NULL when unset or
	                        when the value is not a literal */
	char *problem;       /* why the effective value cannot be edited (owned), or NULL */
	bool self_reference; /* the effective value expands $name itself */
	enum pt_boot_grub_quote quote; /* quoting of the effective value */
	size_t value_start; /* the effective value's bytes in text: [value_start, value_end) */
	size_t value_end;
	size_t *map; /* raw offset of each byte of value, plus one for its end (owned) */
};

/* Parse text[0..len) (a NUL must follow it) looking for variable name. label
 * names the file in messages ("/etc/default/grub").
 * Returns 0 with g filled in — including when the effective value cannot be
 * edited, which sets g->problem — or -EINVAL with the failure recorded in rep
 * when the file cannot be analysed (unterminated quote, unbalanced if/fi, a NUL
 * byte) or sets the variable somewhere the module cannot follow (inside a
 * block, conditionally, with export/+=/read/unset/eval); -ENOMEM. Release g
 * with pt_boot_grub_default_release in every case. */
int pt_boot_grub_default_parse(const char *text, size_t len, const char *name, const char *label,
                               struct pt_boot_grub_default *g, struct pt_report *rep);
void pt_boot_grub_default_release(struct pt_boot_grub_default *g);

/* The file with name's value replaced by value (the command line as the shell
 * should see it). Only the bytes of the effective value change, and within it
 * only the part that differs: quoting style is kept (an unquoted value that
 * needs quotes, or a single-quoted one that would hold a quote, becomes double-
 * quoted). When the variable is unset, one line `NAME="value"` is appended (after
 * a newline if the file lacks a final one). An unchanged value (or "" for an
 * unset variable) gives the text back as it was. Returns 0 with *out (caller
 * frees, NUL-terminated) and *out_len; -EINVAL with g->problem recorded in rep
 * as the failure when it is set; -ENOMEM. */
int pt_boot_grub_default_set(const struct pt_boot_grub_default *g, const char *value, char **out,
                             size_t *out_len, struct pt_report *rep);

#endif
