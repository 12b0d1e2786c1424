#include "boot_reboot_required.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "files.h"

/* The running command line's kernel parameters (kn of them) and the wanted
 * items in one list, folded by name and by name and value, so that a long
 * params list is compared in linear time. Index x < kn is a running token. */
struct wanted_index {
	size_t kn, total;
	const struct pt_cmdline_token **all; /* borrowed */
	size_t *by_name, *by_value;          /* pt_cmdline_fold */
	size_t *last;     /* per name: its last key=value occurrence in the running
	                     command line (the one the kernel keeps), or SIZE_MAX */
	size_t *n_values; /* per name: the different values items ask for */
};

static void wanted_index_release(struct wanted_index *ix)
{
	free(ix->all);
	free(ix->by_name);
	free(ix->by_value);
	free(ix->last);
	free(ix->n_values);
}

/* items: the parsed wanted items, n of them; those that are not one token
 * (only when out of memory: the params were checked) are left out, as they
 * cannot be compared. */
static int wanted_index_build(struct wanted_index *ix, const struct pt_cmdline *cl,
                              const struct pt_cmdline *items, size_t n)
{
	size_t kn = 0;
	while (kn < cl->n && !cl->tokens[kn].for_init)
		kn++;
	size_t alloc = kn + n + 1;
	*ix = (struct wanted_index){.kn = kn};
	ix->all = calloc(alloc, sizeof *ix->all);
	ix->by_name = calloc(alloc, sizeof *ix->by_name);
	ix->by_value = calloc(alloc, sizeof *ix->by_value);
	ix->last = calloc(alloc, sizeof *ix->last);
	ix->n_values = calloc(alloc, sizeof *ix->n_values);
	_cleanup_free_ bool *counted = calloc(alloc, sizeof *counted);
	if (!ix->all || !ix->by_name || !ix->by_value || !ix->last || !ix->n_values || !counted)
		return -ENOMEM;
	for (size_t k = 0; k < kn; k++)
		ix->all[ix->total++] = &cl->tokens[k];
	for (size_t i = 0; i < n; i++)
		if (items[i].n == 1)
			ix->all[ix->total++] = &items[i].tokens[0];
	if (pt_cmdline_fold(ix->all, ix->total, false, ix->by_name) < 0 ||
	    pt_cmdline_fold(ix->all, ix->total, true, ix->by_value) < 0)
		return -ENOMEM;
	for (size_t x = 0; x < ix->total; x++)
		ix->last[x] = SIZE_MAX;
	for (size_t x = 0; x < ix->total; x++) {
		if (!ix->all[x]->value)
			continue;
		size_t name = ix->by_name[x];
		if (x < kn)
			ix->last[name] = x;
		else if (!counted[ix->by_value[x]]) {
			counted[ix->by_value[x]] = true;
			ix->n_values[name]++;
		}
	}
	return 0;
}

/* Does the running command line satisfy the wanted item at x? */
static bool satisfied(const struct wanted_index *ix, size_t x, bool present)
{
	const struct pt_cmdline_token *want = ix->all[x];
	size_t name = ix->by_name[x];
	if (!present) /* any occurrence of the name still counts */
		return name >= ix->kn;
	/* A flag is there or not; so is each of several values of one key. */
	if (!want->value || ix->n_values[name] > 1)
		return ix->by_value[x] < ix->kn;
	/* One value: the occurrence the kernel keeps must have it. */
	size_t last = ix->last[name];
	return last != SIZE_MAX && strcmp(ix->all[last]->value, want->value) == 0;
}

int pt_boot_reboot_required_cmdline(const char *running, const struct pt_boot_iommu_request *req)
{
	struct pt_cmdline cl;
	if (pt_cmdline_parse(running, &cl) < 0)
		return -ENOMEM;
	size_t n = 0;
	_cleanup_free_ const char **items = pt_boot_iommu_params_wanted(req, &cl, true, &n);
	_cleanup_free_ struct pt_cmdline *parsed = items ? calloc(n + 1, sizeof *parsed) : NULL;
	struct wanted_index ix = {0};
	int required = parsed ? 0 : -ENOMEM;
	for (size_t i = 0; parsed && i < n; i++)
		pt_cmdline_parse(items[i], &parsed[i]);
	if (parsed)
		required = wanted_index_build(&ix, &cl, parsed, n);
	for (size_t x = ix.kn; required == 0 && x < ix.total; x++)
		required = !satisfied(&ix, x, req->present);
	wanted_index_release(&ix);
	for (size_t i = 0; parsed && i < n; i++)
		pt_cmdline_release(&parsed[i]);
	pt_cmdline_release(&cl);
	return required;
}

int pt_boot_reboot_required(const char *root, const struct pt_boot_iommu_request *req)
{
	_cleanup_free_ char *path = pt_path_join(root, "/proc/cmdline");
	_cleanup_free_ char *text = NULL;
	if (!path)
		return -ENOMEM;
	int e = pt_file_read(path, &text, NULL);
	return e < 0 ? e : pt_boot_reboot_required_cmdline(text, req);
}
