#include "pve_mapping_read.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

void pt_pve_current_release(struct pt_pve_current *cur)
{
	pt_pve_mapping_release(&cur->mapping);
	cur->exists = false;
	cur->digest[0] = '\0';
}

/* Whether the mapping list pvesh printed (JSON text) names `name`: -1 when the
 * text is not a list. */
static int listed(const char *text, const char *name)
{
	_cleanup_json_ json_t *arr = json_loads(text, 0, NULL);
	if (!json_is_array(arr))
		return -1;
	size_t i;
	json_t *item;
	json_array_foreach (arr, i, item) {
		const char *id = json_string_value(json_object_get(item, "id"));
		if (id && strcmp(id, name) == 0)
			return 1;
	}
	return 0;
}

/* Read once: 0 with cur filled, 1 when pvesh lists the mapping it could not get
 * (another node created it just now, or get failed for real: read again), or
 * -errno with *msg set. */
static int read_once(struct pt_pvesh *sh, const char *name, const char *api,
                     struct pt_pve_current *cur, char **msg)
{
	const char *get[] = {sh->path, "get", api, "--output-format", "json", NULL};
	struct pt_exec_result res;
	int rc = pt_pvesh_run(sh, get, &res, msg);
	if (rc < 0)
		return rc;
	if (res.rc == 0 && !res.timed_out) {
		json_error_t jerr;
		_cleanup_json_ json_t *obj = json_loads(res.out, 0, &jerr);
		_cleanup_free_ char *err = NULL;
		rc = obj ? pt_pve_mapping_from_json(obj, name, &cur->mapping, cur->digest, &err)
		         : -EINVAL;
		if (rc < 0) {
			pt_pvesh_keep_failure(sh, get, &res);
			rc = pt_pve_message(msg, -EINVAL,
			                    "pvesh get %s returned what is not a mapping: %s", api,
			                    err ? err : jerr.text);
		} else {
			pt_pvesh_pass_on_warnings(sh, res.err);
			cur->exists = true;
		}
		pt_exec_result_release(&res);
		return rc;
	}
	const char *list[] = {sh->path, "get", PT_PVESH_PCI_API, "--output-format", "json", NULL};
	struct pt_exec_result lres;
	rc = pt_pvesh_run(sh, list, &lres, msg);
	if (rc == 0) {
		int found = lres.rc == 0 ? listed(lres.out, name) : -1;
		if (found >= 0)
			pt_pvesh_pass_on_warnings(sh, lres.err);
		if (found < 0)
			rc = pt_pvesh_fail(sh, get, &res, msg);
		else if (found)
			pt_pvesh_keep_failure(sh, get, &res);
		rc = rc < 0 ? rc : found;
		pt_exec_result_release(&lres);
	}
	pt_exec_result_release(&res);
	return rc;
}

int pt_pve_current_read(struct pt_pvesh *sh, const char *name, struct pt_pve_current *cur,
                        char **msg)
{
	*msg = NULL;
	memset(cur, 0, sizeof *cur);
	pt_pve_mapping_release(&cur->mapping); /* leaves mdev and live_migration -1 */
	_cleanup_free_ char *api = NULL;
	if (asprintf(&api, PT_PVESH_PCI_API "/%s", name) < 0)
		return -ENOMEM;
	for (int attempt = 0; attempt < 5; attempt++) {
		int rc = read_once(sh, name, api, cur, msg);
		if (rc <= 0) {
			/* A read that worked in the end is no failure to report. */
			if (rc == 0) {
				json_decref(sh->failure);
				sh->failure = NULL;
			}
			return rc;
		}
		pt_pvesh_back_off(1);
	}
	/* pvesh lists the mapping but cannot read it: show that error. */
	const char *err = json_string_value(json_object_get(sh->failure, "stderr"));
	_cleanup_free_ char *line = pt_pvesh_error_line(err);
	return pt_pve_message(msg, -EIO,
	                      "pvesh get %s failed (rc %lld) although pvesh lists it: %s", api,
	                      json_integer_value(json_object_get(sh->failure, "rc")), line);
}
