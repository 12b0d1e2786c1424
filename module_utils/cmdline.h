/* Layer: base (no Ansible types, no host I/O). Anyone may include it: the boot
 * family edits the boot loader's command line with it, and the IOMMU facts
 * (iommu.c) read /proc/cmdline with it; so it keeps its plain name rather than
 * the boot_ prefix.
 *
 * Kernel command line tokens: split as the kernel splits /proc/cmdline and the
 * boot loader's options, and edited in place.
 *
 * Splitting follows the kernel's own parser (lib/cmdline.c next_arg): blanks
 * (space, tab, newline, CR, FF, VT) separate parameters; a double quote toggles
 * a quoted stretch in which blanks do not separate; `key=value` is split at the
 * first '=' that is not the token's first byte; a value that starts with a quote
 * loses that quote and a closing quote at the end of the token; a token that
 * starts with a quote loses it and a closing quote. Everything after a lone `--`
 * belongs to init, not to the kernel.
 *
 * Parameter names compare with '-' and '_' as equal (pt_cmdline_key_equal),
 * because the kernel does (kernel/params.c parameq): `vfio-pci.ids=` and
 * `vfio_pci.ids=` set the same parameter. Values compare byte for byte.
 *
 * Edits keep every byte they do not own: the blanks between tokens, quoting of
 * untouched tokens, leading and trailing blanks. */
#ifndef PT_CMDLINE_H
#define PT_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>

struct pt_cmdline_token {
	char *raw;     /* the token as written, quotes included (owned) */
	char *key;     /* the parameter name, quotes removed (owned) */
	char *value;   /* the value, quotes removed; NULL for a flag (owned) */
	size_t start;  /* byte offset of raw in the parsed text */
	size_t end;    /* offset just past raw */
	bool for_init; /* after `--`: passed to init, not a kernel parameter */
};

struct pt_cmdline {
	struct pt_cmdline_token *tokens; /* in text order (owned) */
	size_t n;                        /* number of tokens */
	size_t init_start;               /* offset of the `--` token, or the text length if none */
	bool unclosed;                   /* a double quote is never closed: the last token runs to
	                                    the end of the text, whatever follows */
};

/* Split text (NUL-terminated) into tokens. 0, or -ENOMEM (cl is then empty).
 * Release with pt_cmdline_release. The `--` separator itself is not a token. */
int pt_cmdline_parse(const char *text, struct pt_cmdline *cl);
void pt_cmdline_release(struct pt_cmdline *cl);

/* The tokens' raw text joined with single spaces (a normalised command line).
 * Caller frees; NULL on allocation failure. */
char *pt_cmdline_render(const struct pt_cmdline *cl);

/* Parameter names equal, with '-' and '_' counted as the same character. */
bool pt_cmdline_key_equal(const char *a, const char *b);

/* Two tokens are the same parameter: equal names (as above) and, when
 * by_value, the same value too (both without a value counts as the same). The
 * equality pt_cmdline_fold groups by. */
bool pt_cmdline_token_equal(const struct pt_cmdline_token *a, const struct pt_cmdline_token *b,
                            bool by_value);

/* The first kernel parameter (not after `--`) named key, or NULL. Borrowed. */
const struct pt_cmdline_token *pt_cmdline_find(const struct pt_cmdline *cl, const char *key);

/* True when text holds exactly one token, with its quotes closed, and nothing
 * for init: what a single `params` item must be. */
bool pt_cmdline_is_one_token(const char *text);

/* How much of its command line the x86 kernel keeps: COMMAND_LINE_SIZE, the
 * final NUL included (arch/x86/include/asm/setup.h). The boot loader hands the
 * kernel at most this many bytes; what does not fit never reaches it. */
#define PT_CMDLINE_KERNEL_SIZE 2048

/* Fold equal parameters, in one pass over a hash table, so that long lists
 * cost linear time (expected) rather than a comparison of every pair: first[i]
 * is the smallest j with tokens[j] equal to tokens[i] (i itself for the first
 * of its kind). Equal means the same name ('-' and '_' alike) and, with
 * by_value, the same value too (a flag, whose value is NULL, equals only a flag).
 * tokens are borrowed; first has n elements. 0, or -ENOMEM. */
int pt_cmdline_fold(const struct pt_cmdline_token *const *tokens, size_t n, bool by_value,
                    size_t *first);

enum pt_cmdline_op {
	/* Make each parameter present. A flag is appended when no flag of that
	 * name exists. `key=value` items are grouped by name: the values wanted
	 * for a name become exactly the occurrences of that name — occurrences
	 * whose value is already wanted stay where they are, the others are
	 * rewritten in place to the missing values (first occurrence first),
	 * surplus occurrences are removed, and values still missing are appended.
	 * So `iommu=pt` turns `iommu=soft` into `iommu=pt` and never adds a
	 * second `iommu=`. */
	PT_CMDLINE_ENSURE,
	/* Remove every occurrence of each item's name (`key` or `key=value`: the
	 * value is ignored), flag or not. */
	PT_CMDLINE_REMOVE,
};

/* What an edit did. Strings are tokens as written (owned). */
struct pt_cmdline_change {
	char **added; /* tokens written: appended or replacing another */
	size_t n_added;
	char **removed; /* tokens taken out or replaced */
	size_t n_removed;
};

/* Apply op with items[0..n) to text. On success returns 0 and *out (caller
 * frees) holds the new text — equal to text when nothing changed — and chg
 * (if not NULL) what changed; release chg with pt_cmdline_change_release.
 * Appended tokens go after the last kernel parameter (before `--` and before
 * trailing blanks), separated by one space. -ENOMEM on allocation failure,
 * -EINVAL when an item is not exactly one token, or when text has an unclosed
 * quote (cl.unclosed) and tokens would have to be appended: they would end up
 * inside that last token. Items that repeat one another count once, and the
 * time grows linearly with the text and the items (they are folded with
 * pt_cmdline_fold, not compared pair by pair). */
int pt_cmdline_edit(const char *text, enum pt_cmdline_op op, const char *const items[], size_t n,
                    char **out, struct pt_cmdline_change *chg);
void pt_cmdline_change_release(struct pt_cmdline_change *chg);

#endif
