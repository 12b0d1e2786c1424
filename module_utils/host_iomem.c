/* /proc/iomem and a device's BARs (see host_iomem.h).
 *
 * The kernel prints /proc/iomem (kernel/resource.c, r_show) as one line per
 * resource, two spaces of indentation per level of nesting, then START-END in
 * hex (zero-padded to the width of the address space), " : " and the name. A
 * child lies within its parent. Anything else is not that file. */
#include "host_iomem.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "host_files.h"

#define IORESOURCE_MEM 0x00000200ULL /* include/linux/ioport.h */
#define MAX_DEPTH      32            /* deeper than any machine nests its resources */

void pt_iomem_release(struct pt_iomem *iomem)
{
	if (!iomem)
		return;
	for (size_t i = 0; i < iomem->count; i++)
		free(iomem->ranges[i].name);
	free(iomem->ranges);
	iomem->ranges = NULL;
	iomem->count = 0;
}

/* 1..16 hex digits at *p into *value; the pointer moves past them. false when
 * there are none or more than 16. */
static bool read_hex(const char **p, unsigned long long *value)
{
	unsigned long long v = 0;
	int n = 0;
	while (isxdigit((unsigned char)**p)) {
		if (++n > 16)
			return false;
		int c = tolower((unsigned char)**p);
		v = v * 16 + (unsigned)(c <= '9' ? c - '0' : c - 'a' + 10);
		(*p)++;
	}
	*value = v;
	return n > 0;
}

/* One line (without its newline, len bytes) into r. false when it is not a
 * resource line. */
static bool parse_line(const char *line, size_t len, struct pt_iomem_range *r)
{
	size_t spaces = 0;
	while (spaces < len && line[spaces] == ' ')
		spaces++;
	if (spaces % 2)
		return false;
	_cleanup_free_ char *copy = strndup(line + spaces, len - spaces);
	if (!copy)
		return false;
	const char *p = copy;
	if (!read_hex(&p, &r->start) || *p++ != '-' || !read_hex(&p, &r->end) ||
	    strncmp(p, " : ", 3) != 0 || r->start > r->end)
		return false;
	r->depth = (unsigned)(spaces / 2);
	r->name = strdup(p + 3);
	return r->name != NULL;
}

int pt_iomem_parse(const char *text, struct pt_iomem *out)
{
	memset(out, 0, sizeof *out);
	if (!text)
		return -EINVAL;
	size_t lines = 0;
	for (const char *c = text; *c; c++)
		lines += *c == '\n';
	if (*text && text[strlen(text) - 1] != '\n')
		return -EINVAL; /* cut short: the kernel ends every line */
	if (!lines)
		return -ENODATA;
	out->ranges = calloc(lines, sizeof *out->ranges);
	if (!out->ranges)
		return -ENOMEM;

	/* parents[d]: the range a line at depth d + 1 must lie in */
	const struct pt_iomem_range *parents[MAX_DEPTH] = {NULL};
	bool any_address = false;
	for (const char *line = text; *line;) {
		const char *eol = strchr(line, '\n');
		struct pt_iomem_range *r = &out->ranges[out->count];
		if (!parse_line(line, (size_t)(eol - line), r)) {
			pt_iomem_release(out);
			return -EINVAL;
		}
		out->count++;
		if (r->depth >= MAX_DEPTH || (r->depth > 0 && !parents[r->depth - 1])) {
			pt_iomem_release(out);
			return -EINVAL;
		}
		const struct pt_iomem_range *up = r->depth ? parents[r->depth - 1] : NULL;
		if (up && (r->start < up->start || r->end > up->end)) {
			pt_iomem_release(out);
			return -EINVAL;
		}
		parents[r->depth] = r;
		for (unsigned d = r->depth + 1; d < MAX_DEPTH; d++)
			parents[d] = NULL;
		any_address |= r->start || r->end;
		line = eol + 1;
	}
	return any_address ? 0 : -ENODATA;
}

int pt_iomem_read(const char *root, struct pt_iomem *out)
{
	memset(out, 0, sizeof *out);
	_cleanup_free_ char *text = NULL;
	int r = pt_host_read(root, &text, NULL, "/proc/iomem");
	return r < 0 ? r : pt_iomem_parse(text, out);
}

bool pt_iomem_is_framebuffer(const char *name)
{
	static const char *const exact[] = {"BOOTFB", "efifb", "vesafb", "simplefb", "simpledrm"};
	if (!name)
		return false;
	for (size_t i = 0; i < sizeof exact / sizeof *exact; i++)
		if (strcmp(name, exact[i]) == 0)
			return true;
	return strncmp(name, "simple-framebuffer", strlen("simple-framebuffer")) == 0;
}

/* "0x... 0x... 0x..." (one line, len bytes) into bar. */
static bool parse_bar(const char *line, size_t len, struct pt_pci_bar *bar)
{
	_cleanup_free_ char *copy = strndup(line, len);
	if (!copy)
		return false;
	unsigned long long v[3];
	const char *p = copy;
	for (int i = 0; i < 3; i++) {
		if (i && *p++ != ' ')
			return false;
		if (p[0] != '0' || (p[1] != 'x' && p[1] != 'X'))
			return false;
		p += 2;
		if (!read_hex(&p, &v[i]))
			return false;
	}
	if (*p || v[0] > v[1])
		return false;
	*bar = (struct pt_pci_bar){v[0], v[1], v[2]};
	return true;
}

int pt_pci_bars_parse(const char *text, struct pt_pci_bars *out)
{
	memset(out, 0, sizeof *out);
	for (const char *line = text; line && *line && out->lines < PT_PCI_STD_BARS;) {
		const char *eol = strchr(line, '\n');
		if (!eol || !parse_bar(line, (size_t)(eol - line), &out->bar[out->lines]))
			break; /* garbage, or a last line cut short */
		out->lines++;
		line = eol + 1;
	}
	out->complete = out->lines == PT_PCI_STD_BARS;
	return out->complete ? 0 : -EINVAL;
}

int pt_pci_bars_read(const char *root, const char *address, struct pt_pci_bars *out)
{
	memset(out, 0, sizeof *out);
	_cleanup_free_ char *text = NULL;
	int r = pt_host_read(root, &text, NULL, "/sys/bus/pci/devices/%s/resource", address);
	return r < 0 ? r : pt_pci_bars_parse(text, out);
}

bool pt_pci_bar_is_memory(const struct pt_pci_bar *bar)
{
	return (bar->flags & IORESOURCE_MEM) && bar->end > bar->start;
}

int pt_pci_bar_overlapping(const struct pt_pci_bars *bars, unsigned long long start,
                           unsigned long long end)
{
	for (size_t b = 0; b < bars->lines; b++) {
		const struct pt_pci_bar *bar = &bars->bar[b];
		if (pt_pci_bar_is_memory(bar) && end >= bar->start && start <= bar->end)
			return (int)b;
	}
	return -1;
}

int pt_iomem_framebuffers_in_bars(const struct pt_iomem *iomem, const struct pt_pci_bars *bars,
                                  struct pt_framebuffer_hit *hits, size_t max)
{
	size_t found = 0;
	for (size_t i = 0; i < iomem->count; i++) {
		const struct pt_iomem_range *r = &iomem->ranges[i];
		if (!pt_iomem_is_framebuffer(r->name))
			continue;
		int b = pt_pci_bar_overlapping(bars, r->start, r->end);
		if (b < 0)
			continue;
		if (found < max)
			hits[found] = (struct pt_framebuffer_hit){r->name, r->start, r->end, b};
		found++;
	}
	if (!found && !bars->complete)
		return -ENODATA;
	return (int)found;
}
