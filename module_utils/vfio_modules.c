#include "vfio_modules.h"

#include <string.h>

#include "cleanup.h"
#include "kmod.h"

static const char *const base_modules[] = {"vfio", "vfio_iommu_type1", "vfio_pci", NULL};

json_t *pt_vfio_modules_for_states(const json_t *virqfd_states)
{
	json_t *list = json_array();
	if (!list)
		return NULL;
	for (const char *const *m = base_modules; *m; m++)
		json_array_append_new(list, json_string(*m));
	size_t i;
	json_t *s;
	json_array_foreach (virqfd_states, i, s) {
		if (json_string_value(s) && strcmp(json_string_value(s), "module") == 0) {
			json_array_append_new(list, json_string("vfio_virqfd"));
			break;
		}
	}
	if (json_array_size(list) < 3) {
		json_decref(list);
		return NULL;
	}
	return list;
}

json_t *pt_vfio_modules_wanted(const char *root, json_t **kernels)
{
	if (kernels)
		*kernels = NULL;
	_cleanup_json_ json_t *releases = pt_kmod_installed_releases(root);
	_cleanup_json_ json_t *states = json_array();
	_cleanup_json_ json_t *report = json_array();
	if (!releases || !states || !report)
		return NULL;
	size_t i;
	json_t *r;
	json_array_foreach (releases, i, r) {
		const char *rel = json_string_value(r);
		enum pt_kmod_state st = pt_kmod_state(root, rel, "vfio_virqfd");
		const char *word = st == PT_KMOD_MODULE    ? "module"
		                   : st == PT_KMOD_BUILTIN ? "builtin"
		                                           : "absent";
		json_array_append_new(states, json_string(word));
		json_t *kernel = json_object();
		json_object_set_new(kernel, "release", json_string(rel));
		json_object_set_new(kernel, "vfio_virqfd", json_string(word));
		json_array_append_new(report, kernel);
	}
	json_t *list = pt_vfio_modules_for_states(states);
	if (list && kernels)
		*kernels = PT_STEAL(report);
	return list;
}
