#include "iommu_facts_run.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "files.h"
#include "iommu_facts_table.h"
#include "json_dump.h"
#include "runtime.h"
#include "strbuf.h"

int pt_iommu_facts_run(const struct pt_iommu_facts_opts *opts, struct pt_iommu_facts_result *res)
{
	*res = (struct pt_iommu_facts_result){0};
	if (pt_report_init(&res->report) < 0)
		return pt_report_fail(&res->report, -ENOMEM, "out of memory");
	return pt_iommu_facts(opts->root, &res->facts, &res->report);
}

void pt_iommu_facts_result_release(struct pt_iommu_facts_result *res)
{
	json_decref(res->facts);
	pt_report_release(&res->report);
	res->facts = NULL;
}

int pt_iommu_facts_opts_read(struct pt_module *m, struct pt_iommu_facts_opts *o)
{
	*o = (struct pt_iommu_facts_opts){
	        .root = pt_module_root(m), /* a directory: pt_module_init checked */
	        .check = m->check_mode,
	};
	return 0;
}

void pt_iommu_facts_result_to_module(struct pt_module *m, int ret,
                                     const struct pt_iommu_facts_result *res)
{
	/* the scan ran out of memory before it could say why: the module's own words */
	if (ret < 0 && !res->report.msg)
		pt_module_fail(m, "cannot gather the IOMMU facts");
	pt_report_to_module(m, &res->report, ret < 0);
	if (ret < 0)
		return;
	json_t *ansible_facts = json_object();
	json_object_set_new(ansible_facts, "iommu", json_incref(res->facts));
	pt_result_set(m, "ansible_facts", ansible_facts);
	pt_result_set_changed(m, false);
}

/* The facts on stdout, as the table or as JSON: 0, or 1 with the reason on stderr. */
static int print_facts(json_t *facts, bool json)
{
	if (json) {
		/* json_dumpf's text, written in one piece (json_dump.h) */
		_cleanup_free_ char *text = pt_json_dumps(facts, JSON_INDENT(2));
		if (!text) {
			fprintf(stderr, "iommu_facts: out of memory while printing the facts\n");
			return 1;
		}
		fputs(text, stdout);
		fputc('\n', stdout);
		return 0;
	}
	_cleanup_strbuf_ struct pt_strbuf table = PT_STRBUF_INIT;
	if (pt_iommu_facts_table(facts, &table) < 0) {
		fprintf(stderr, "iommu_facts: out of memory while printing the table\n");
		return 1;
	}
	fputs(pt_strbuf_str(&table), stdout);
	return 0;
}

int pt_iommu_facts_cli(int argc, char **argv, const char *usage)
{
	/* its own options start with "--"; --help, -h, "-" and an args file are
	 * every module binary's */
	if (argc < 2 || strncmp(argv[1], "--", 2) != 0 || !strcmp(argv[1], "--help"))
		return -1;
	struct pt_iommu_facts_opts opts = {.root = "/"};
	bool json = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage, stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--root") && i + 1 < argc) {
			opts.root = argv[++i];
		} else if (!strncmp(argv[i], "--root=", 7)) {
			opts.root = argv[i] + 7;
		} else if (!strcmp(argv[i], "--root")) {
			fprintf(stderr, "iommu_facts: --root needs a directory\n\n%s", usage);
			return 2;
		} else {
			fprintf(stderr, "iommu_facts: unknown argument '%s'\n\n%s", argv[i], usage);
			return 2;
		}
	}
	struct stat st;
	if (stat(opts.root, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "iommu_facts: root %s is not a directory\n", opts.root);
		return 1;
	}
	struct pt_iommu_facts_result res;
	pt_files_confine(opts.root); /* as the module does through the runtime */
	int rc = 0;
	if (pt_iommu_facts_run(&opts, &res) < 0) {
		fprintf(stderr, "iommu_facts: %s\n",
		        res.report.msg ? res.report.msg : "cannot gather the facts");
		rc = 1;
	} else {
		rc = print_facts(res.facts, json);
	}
	pt_iommu_facts_result_release(&res);
	pt_files_confine(NULL);
	return rc;
}
