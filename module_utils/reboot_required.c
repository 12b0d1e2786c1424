#include "reboot_required.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "files.h"

/* Does the running command line cl satisfy want, one parsed item? same_key is
 * how many key=value items name want's key. */
static bool satisfied(const struct pt_cmdline *cl, const struct pt_cmdline_token *want,
                      size_t same_key, bool present)
{
	const struct pt_cmdline_token *last = NULL;
	bool any_same = false;
	for (size_t k = 0; k < cl->n; k++) {
		const struct pt_cmdline_token *t = &cl->tokens[k];
		if (t->for_init || !pt_cmdline_key_equal(t->key, want->key))
			continue;
		if (!present)
			return false;
		if (!want->value && !t->value)
			any_same = true;
		if (want->value && t->value) {
			last = t;
			if (strcmp(t->value, want->value) == 0)
				any_same = true;
		}
	}
	if (!present || !want->value)
		return !present || any_same;
	if (same_key > 1)
		return any_same;
	return last && strcmp(last->value, want->value) == 0;
}

int pt_reboot_required_cmdline(const char *running, const struct pt_iommu_request *req)
{
	struct pt_cmdline cl;
	if (pt_cmdline_parse(running, &cl) < 0)
		return -ENOMEM;
	size_t n = 0;
	_cleanup_free_ const char **items = pt_iommu_params_wanted(req, &cl, true, &n);
	_cleanup_free_ struct pt_cmdline *parsed = items ? calloc(n + 1, sizeof *parsed) : NULL;
	int required = parsed ? 0 : -ENOMEM;
	/* An item that is not one token (only when out of memory: the params
	 * were checked) is left out, as it cannot be compared. */
	for (size_t i = 0; parsed && i < n; i++)
		pt_cmdline_parse(items[i], &parsed[i]);
	for (size_t i = 0; parsed && i < n && !required; i++) {
		if (parsed[i].n != 1)
			continue;
		const struct pt_cmdline_token *want = &parsed[i].tokens[0];
		size_t same_key = 0;
		for (size_t j = 0; j < n; j++)
			if (parsed[j].n == 1 && parsed[j].tokens[0].value &&
			    pt_cmdline_key_equal(parsed[j].tokens[0].key, want->key))
				same_key++;
		required = !satisfied(&cl, want, same_key, req->present);
	}
	for (size_t i = 0; parsed && i < n; i++)
		pt_cmdline_release(&parsed[i]);
	pt_cmdline_release(&cl);
	return required;
}

int pt_reboot_required(const char *root, const struct pt_iommu_request *req)
{
	_cleanup_free_ char *path = pt_path_join(root, "/proc/cmdline");
	_cleanup_free_ char *text = NULL;
	if (!path)
		return -ENOMEM;
	int e = pt_file_read(path, &text, NULL);
	return e < 0 ? e : pt_reboot_required_cmdline(text, req);
}
