#include "pve_mapping_read.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "strbuf.h"

void pt_pve_current_release(struct pt_pve_current *cur)
{
	pt_pve_mapping_release(&cur->mapping);
	cur->exists = false;
	cur->digest[0] = '\0';
}

/* pvesh's error output without its "mapping 'NAME' not found" line: the warnings
 * about pci.cfg it printed on the way. Caller frees; NULL when out of memory. */
static char *without_answer(const char *err, const char *name)
{
	_cleanup_free_ char *answer = NULL;
	if (asprintf(&answer, "mapping '%s' not found", name) < 0)
		return NULL;
	size_t n = strlen(answer);
	struct pt_strbuf sb = PT_STRBUF_INIT;
	for (const char *p = err ? err : ""; *p;) {
		size_t len = strcspn(p, "\n");
		if (!(len == n && memcmp(p, answer, n) == 0))
			pt_strbuf_printf(&sb, "%.*s\n", (int)len, p);
		p += len + (p[len] ? 1 : 0);
	}
	return pt_strbuf_steal(&sb);
}

int pt_pve_current_read(struct pt_pvesh *sh, const char *name, struct pt_pve_current *cur)
{
	memset(cur, 0, sizeof *cur);
	pt_pve_mapping_release(&cur->mapping); /* leaves mdev and live_migration -1 */
	_cleanup_free_ char *api = NULL;
	if (asprintf(&api, PT_PVESH_PCI_API "/%s", name) < 0)
		return -ENOMEM;
	const char *get[] = {sh->path, "get", api, "--output-format", "json", NULL};
	struct pt_exec_result res;
	int rc = pt_pvesh_run(sh, get, &res);
	if (rc < 0)
		return rc;
	if (res.rc == 0 && !res.timed_out) {
		json_error_t jerr;
		_cleanup_json_ json_t *obj = json_loads(res.out, 0, &jerr);
		struct pt_report why; /* why it is not a mapping, put into words below */
		pt_report_init(&why);
		rc = obj ? pt_pve_mapping_from_json(obj, name, &cur->mapping, cur->digest, &why)
		         : -EINVAL;
		if (rc < 0) {
			pt_pvesh_keep_failure(sh, get, &res);
			rc = pt_report_fail(sh->rep, -EINVAL,
			                    "pvesh get %s returned what is not a mapping: %s", api,
			                    why.msg ? why.msg : jerr.text);
		} else {
			pt_pvesh_pass_on_warnings(sh, res.err);
			cur->exists = true;
		}
		pt_report_release(&why);
	} else if (pt_pvesh_no_such_mapping(&res, name)) {
		/* Proxmox's own answer, and nothing else, means there is none: a call
		 * that did not run or failed otherwise says nothing about the mapping. */
		_cleanup_free_ char *warnings = without_answer(res.err, name);
		pt_pvesh_pass_on_warnings(sh, warnings);
	} else {
		rc = pt_pvesh_fail(sh, get, &res);
	}
	pt_exec_result_release(&res);
	if (rc == 0) {
		/* A read that worked is no failure to report, whatever came before. */
		json_decref(sh->failure);
		sh->failure = NULL;
	}
	return rc;
}
