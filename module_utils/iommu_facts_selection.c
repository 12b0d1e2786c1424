/* The verdict of the selected devices (see iommu_facts_selection.h): the
 * selection read from the options, each device judged by readiness.c with
 * its own group's intruders, and the selection's summary. */
#include "iommu_facts_selection.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "readiness.h"

/* Mark the devices an entry of the devices option names in chosen (one flag
 * per scanned device). 0, or -EINVAL with the message in rep. */
static int choose(const struct pt_pci_host *host, const char *text, size_t index, bool *chosen,
                  struct pt_report *rep)
{
	char canon[PT_PCI_ADDR_LEN];
	int function = -1;
	if (!text || pt_pci_parse_address(text, canon, &function) < 0)
		return pt_report_fail(
		        rep, -EINVAL,
		        "devices[%zu]: '%s' is not a PCI address (0000:07:00.0 is one "
		        "function, 0000:07:00 every function of a slot)",
		        index, text ? text : "");
	bool found = false;
	for (size_t i = 0; i < host->count; i++) {
		const struct pt_pci_device *d = &host->devices[i];
		if (function >= 0 ? !strcmp(d->address, canon) : pt_pci_in_slot(d, canon)) {
			chosen[i] = true;
			found = true;
		}
	}
	if (!found)
		return pt_report_fail(rep, -EINVAL,
		                      "devices[%zu]: no PCI device %s %s on this host (iommu_facts "
		                      "without devices lists the host's devices)",
		                      index, function >= 0 ? "at" : "in slot", canon);
	return 0;
}

/* "10de:1c82" in any case into out, lower case; false when s is no such ID. */
static bool id_form(const char *s, char out[10])
{
	if (!s || strlen(s) != 9 || s[4] != ':')
		return false;
	for (size_t i = 0; i < 9; i++) {
		if (i == 4) {
			out[i] = ':';
			continue;
		}
		if (!isxdigit((unsigned char)s[i]))
			return false;
		out[i] = (char)tolower((unsigned char)s[i]);
	}
	out[9] = '\0';
	return true;
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The IDs vfio-pci is given: the option's, checked and in lower case, else
 * the selected devices' own; sorted, unique. NULL with the message in rep. */
static json_t *bound_ids(const struct pt_pci_host *host, const bool *chosen, const json_t *given,
                         struct pt_report *rep)
{
	_cleanup_json_ json_t *set = json_object();
	if (!set)
		return NULL;
	char id[10];
	if (given && !json_is_null(given)) {
		size_t i;
		json_t *e;
		json_array_foreach (given, i, e) {
			if (!id_form(json_string_value(e), id)) {
				pt_report_fail(
				        rep, -EINVAL,
				        "bound_ids[%zu]: '%s' is not a vendor:device ID (4 hex "
				        "digits each, as in 10de:1c82)",
				        i, json_is_string(e) ? json_string_value(e) : "?");
				return NULL;
			}
			json_object_set_new(set, id, json_true());
		}
	} else {
		for (size_t i = 0; i < host->count; i++) {
			const struct pt_pci_device *d = &host->devices[i];
			if (!chosen[i] || d->vendor_id < 0 || d->device_id < 0)
				continue;
			pt_pci_id_string(d->vendor_id, d->device_id, id, sizeof id);
			json_object_set_new(set, id, json_true());
		}
	}
	size_t n = json_object_size(set), k = 0;
	_cleanup_free_ const char **keys = calloc(n ? n : 1, sizeof *keys);
	json_t *list = json_array();
	const char *key;
	json_t *value;
	json_object_foreach (set, key, value)
		if (keys)
			keys[k++] = key;
	if (keys)
		qsort(keys, n, sizeof *keys, compare_strings);
	for (k = 0; keys && list && k < n; k++)
		json_array_append_new(list, json_string(keys[k]));
	if (!keys || json_array_size(list) != n) {
		json_decref(list);
		pt_report_fail(rep, -ENOMEM, "out of memory while judging the selected devices");
		return NULL;
	}
	return list;
}

/* {isolated, intruders} of device d: the selection's intruders in d's group. */
static json_t *group_of(const struct pt_pci_host *host, const struct pt_pci_device *d,
                        const json_t *intruders)
{
	if (d->iommu_group < 0)
		return json_pack("{s:n, s:[]}", "isolated", "intruders");
	json_t *mine = json_array();
	size_t i;
	json_t *a;
	json_array_foreach (intruders, i, a) {
		const struct pt_pci_device *other = pt_pci_find(host, json_string_value(a));
		if (other && other->iommu_group == d->iommu_group)
			json_array_append(mine, a);
	}
	return mine ? json_pack("{s:b, s:o}", "isolated", json_array_size(mine) == 0, "intruders",
	                        mine)
	            : NULL;
}

static int rank(const char *readiness)
{
	if (!readiness)
		return -1;
	return !strcmp(readiness, "blocked") ? 2 : !strcmp(readiness, "needs_action") ? 1 : 0;
}

int pt_iommu_facts_judge(json_t *facts, const struct pt_pci_host *host,
                         const struct pt_iommu_facts_opts *opts, struct pt_report *rep)
{
	_cleanup_free_ bool *chosen = calloc(host->count ? host->count : 1, sizeof *chosen);
	_cleanup_free_ const char **addresses =
	        calloc(host->count ? host->count : 1, sizeof *addresses);
	if (!chosen || !addresses)
		return pt_report_fail(rep, -ENOMEM,
		                      "out of memory while judging the selected devices");
	size_t i;
	json_t *e;
	json_array_foreach (opts->devices, i, e) {
		int r = choose(host, json_string_value(e), i, chosen, rep);
		if (r < 0)
			return r;
	}
	_cleanup_json_ json_t *ids = bound_ids(host, chosen, opts->bound_ids, rep);
	if (!ids)
		return rep->error ? rep->error : -ENOMEM;

	size_t n = 0;
	_cleanup_json_ json_t *selected = json_array();
	for (i = 0; i < host->count; i++)
		if (chosen[i]) {
			addresses[n++] = host->devices[i].address;
			json_array_append_new(selected, json_string(host->devices[i].address));
		}
	_cleanup_json_ json_t *intruders = pt_iommu_intruders(host, addresses, n);
	if (!selected || json_array_size(selected) != n || !intruders)
		return pt_report_fail(rep, -ENOMEM,
		                      "out of memory while judging the selected devices");

	json_t *devices = json_object_get(facts, "devices");
	const char *worst = NULL;
	for (i = 0; i < host->count; i++) {
		if (!chosen[i])
			continue;
		const struct pt_pci_device *d = &host->devices[i];
		_cleanup_json_ json_t *group = group_of(host, d, intruders);
		json_t *device = json_object_get(devices, d->address);
		struct pt_readiness_input in = {
		        .address = d->address,
		        .device = device,
		        .host = facts,
		        .group = group,
		        .bound_ids = ids,
		        .after_reboot = opts->after_reboot,
		};
		_cleanup_json_ json_t *verdict = group ? pt_readiness_evaluate(&in) : NULL;
		if (!verdict || json_object_update(device, verdict) < 0)
			return pt_report_fail(rep, -ENOMEM,
			                      "out of memory while judging the selected devices");
		const char *readiness = json_string_value(json_object_get(verdict, "readiness"));
		if (rank(readiness) > rank(worst))
			worst = readiness;
	}
	json_t *selection = json_pack("{s:O, s:O, s:b, s:s?}", "devices", selected, "bound_ids",
	                              ids, "after_reboot", opts->after_reboot, "readiness", worst);
	if (!selection || json_object_set_new(facts, "selection", selection) < 0)
		return pt_report_fail(rep, -ENOMEM,
		                      "out of memory while judging the selected devices");
	return 0;
}
