#include "iommu_facts_run.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "device_evidence.h"
#include "files.h"
#include "iommu_facts_selection.h"
#include "iommu_facts_table.h"
#include "json_dump.h"
#include "readiness.h"
#include "runtime.h"
#include "strbuf.h"

/* The facts of one scan, with the evidence (device_evidence.h), each GPU's
 * verdict and the selection's (readiness.h, iommu_facts_selection.h). */
static int gather(const struct pt_iommu_facts_opts *opts, const struct pt_pci_host *host,
                  struct pt_iommu_facts_result *res)
{
	res->facts = pt_iommu_facts_from_scan(opts->root, host);
	if (!res->facts)
		return pt_report_fail(&res->report, -ENOMEM,
		                      "out of memory while gathering the IOMMU facts");
	int r = pt_evidence_add(opts->root, host, res->facts, &res->report);
	if (r == 0 && pt_readiness_add_to_gpus(res->facts) < 0)
		r = pt_report_fail(&res->report, -ENOMEM,
		                   "out of memory while judging the GPUs' readiness");
	if (r == 0)
		r = pt_iommu_facts_judge(res->facts, host, opts, &res->report);
	return r;
}

int pt_iommu_facts_run(const struct pt_iommu_facts_opts *opts, struct pt_iommu_facts_result *res)
{
	*res = (struct pt_iommu_facts_result){0};
	if (pt_report_init(&res->report) < 0)
		return pt_report_fail(&res->report, -ENOMEM, "out of memory");
	struct pt_pci_host host;
	int r = pt_pci_scan(opts->root, &host, &res->report);
	if (r < 0)
		return r;
	r = gather(opts, &host, res);
	pt_pci_host_release(&host);
	if (r < 0) {
		json_decref(res->facts);
		res->facts = NULL;
	}
	return r;
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
	        .devices = pt_param(m, "devices"),
	        .bound_ids = pt_param(m, "bound_ids"),
	        .after_reboot = pt_param_bool(m, "after_reboot", false),
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
	_cleanup_json_ json_t *devices = json_array();
	if (!devices) {
		fprintf(stderr, "iommu_facts: out of memory\n");
		return 1;
	}
	struct pt_iommu_facts_opts opts = {.root = "/", .devices = devices};
	bool json = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage, stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--after-reboot")) {
			opts.after_reboot = true;
		} else if (!strcmp(argv[i], "--device") && i + 1 < argc) {
			/* bytes that are no UTF-8 are no address either */
			i++;
			if (json_array_append_new(devices, json_string(argv[i])) < 0) {
				fprintf(stderr, "iommu_facts: --device %s is not a PCI address\n",
				        argv[i]);
				return 2;
			}
		} else if (!strcmp(argv[i], "--device")) {
			fprintf(stderr, "iommu_facts: --device needs a PCI address\n\n%s", usage);
			return 2;
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
