#include "conf_block.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "report.h"
#include "strbuf.h"

/* Does the line [s, eol) start with "# <word> <owner>" and end the owner there? */
static bool is_marker(const char *s, const char *eol, const char *word, const char *owner)
{
	size_t wl = strlen(word), ol = strlen(owner);
	if ((size_t)(eol - s) < 2 + wl + 1 + ol)
		return false;
	if (s[0] != '#' || s[1] != ' ' || strncmp(s + 2, word, wl) != 0 || s[2 + wl] != ' ')
		return false;
	const char *o = s + 2 + wl + 1;
	if (strncmp(o, owner, ol) != 0)
		return false;
	const char *after = o + ol;
	return after == eol || *after == ' ' || *after == ':' || *after == '\r';
}

static int damaged(struct pt_report *rep, const char *path, const char *owner, int line,
                   const char *what)
{
	if (rep)
		pt_report_fail(rep, -EINVAL,
		               "%s: the block managed by %s is damaged (line %d: %s); restore the "
		               "marker line or delete the block by hand, then run the task again",
		               path ? path : "(text)", owner, line, what);
	return -EINVAL;
}

int pt_conf_block_find(const char *text, const char *owner, const char *path,
                       struct pt_conf_block *blk, struct pt_report *rep)
{
	memset(blk, 0, sizeof *blk);
	bool open = false;
	int line = 0;
	for (const char *s = text; *s;) {
		const char *eol = strchr(s, '\n');
		bool nl = eol != NULL;
		if (!eol)
			eol = s + strlen(s);
		line++;
		if (is_marker(s, eol, "BEGIN", owner)) {
			if (open || blk->found)
				return damaged(rep, path, owner, line, "a second BEGIN marker");
			open = true;
			blk->start = (size_t)(s - text);
			blk->begin_line = line;
		} else if (is_marker(s, eol, "END", owner)) {
			if (!open)
				return damaged(rep, path, owner, line, "END marker without BEGIN");
			open = false;
			blk->found = true;
			blk->end = (size_t)(eol - text) + (nl ? 1 : 0);
			blk->end_line = line;
			blk->end_has_newline = nl;
		}
		s = nl ? eol + 1 : eol;
	}
	if (open)
		return damaged(rep, path, owner, blk->begin_line, "BEGIN marker without END");
	return 0;
}

char *pt_conf_block_apply(const char *text, const char *owner, const char *header, const char *body,
                          const char *path, struct pt_report *rep)
{
	struct pt_conf_block blk;
	if (!text)
		text = "";
	if (pt_conf_block_find(text, owner, path, &blk, rep) < 0)
		return NULL;
	bool remove = !body || !*body;
	_cleanup_strbuf_ struct pt_strbuf sb = PT_STRBUF_INIT;
	size_t len = strlen(text);

	if (remove) {
		if (!blk.found)
			return strdup(text);
		size_t start = blk.start;
		/* The newline we put before a block appended to a file without a
		 * final newline goes with it. */
		if (!blk.end_has_newline && start > 0 && text[start - 1] == '\n')
			start--;
		pt_strbuf_append(&sb, text, start);
		pt_strbuf_append(&sb, text + blk.end, len - blk.end);
		pt_strbuf_puts(&sb, ""); /* an empty result is still a string */
	} else {
		bool final_newline;
		size_t head, tail;
		if (blk.found) {
			head = blk.start;
			tail = blk.end;
			final_newline = blk.end_has_newline;
		} else {
			head = tail = len;
			final_newline = len == 0 || text[len - 1] == '\n';
		}
		pt_strbuf_append(&sb, text, head);
		if (!blk.found && !final_newline)
			pt_strbuf_putc(&sb, '\n');
		pt_strbuf_printf(&sb, "# BEGIN %s%s\n", owner, header ? header : "");
		pt_strbuf_puts(&sb, body);
		if (body[strlen(body) - 1] != '\n')
			pt_strbuf_putc(&sb, '\n');
		pt_strbuf_printf(&sb, "# END %s%s", owner, final_newline ? "\n" : "");
		pt_strbuf_append(&sb, text + tail, len - tail);
	}
	if (sb.oom) {
		if (rep)
			pt_report_fail(rep, -ENOMEM, "out of memory");
		return NULL;
	}
	return pt_strbuf_steal(&sb);
}

char *pt_conf_block_strip(const char *text, const char *owner)
{
	return pt_conf_block_apply(text, owner, NULL, NULL, NULL, NULL);
}
