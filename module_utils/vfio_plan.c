#include "vfio_plan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "kmod.h"
#include "modules_file.h"
#include "vfio_driver.h"
#include "vfio_safety.h"

static bool has_string(const json_t *list, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach (list, i, v)
		if (!strcmp(json_string_value(v), s))
			return true;
	return false;
}

/* Append name normalised ('-' → '_') unless empty; sort_unique drops the
 * repeats afterwards, so a long list costs n log n, not a search per name. */
static void add_module(json_t *list, const char *name)
{
	char norm[128];
	pt_kmod_normalize(name, norm, sizeof norm);
	if (*norm)
		json_array_append_new(list, json_string(norm));
}

static int cmp_json_str(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a),
	              json_string_value(*(json_t *const *)b));
}

/* Sort an array of strings in place and drop repeats (left as it was when
 * out of memory). */
static void sort_unique(json_t *arr)
{
	size_t n = json_array_size(arr), w = 0;
	json_t **v = n > 1 ? calloc(n, sizeof *v) : NULL;
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(arr, i));
	qsort(v, n, sizeof *v, cmp_json_str);
	json_array_clear(arr);
	for (size_t i = 0; i < n; i++) {
		if (w && !cmp_json_str(&v[w - 1], &v[i]))
			json_decref(v[i]);
		else
			v[w++] = v[i];
	}
	for (size_t i = 0; i < w; i++)
		json_array_append_new(arr, v[i]);
	free(v);
}

/* Drivers that must not claim a device before vfio-pci: those the device's
 * modalias matches, and the one it has now. Not vfio-pci itself, nor the
 * modules that never drive an endpoint for a VM's card. */
static void add_softdep(json_t *deps, const char *name)
{
	char norm[128];
	pt_kmod_normalize(name, norm, sizeof norm);
	if (strcmp(norm, "vfio_pci") && strcmp(norm, "vfio_pci_core") && strcmp(norm, "pci_stub") &&
	    strcmp(norm, "pcieport"))
		add_module(deps, norm);
}

static int softdeps(const char *root, const struct pt_pci_host *host, const json_t *selected,
                    json_t *deps)
{
	_cleanup_json_ json_t *releases = pt_kmod_installed_releases(root);
	size_t nrel = json_array_size(releases);
	_cleanup_free_ struct pt_kmod_aliases **idx = calloc(nrel + 1, sizeof *idx);
	if (!releases || !idx)
		return -ENOMEM;
	/* modules.alias is read once per kernel, not once per device */
	for (size_t i = 0; i < nrel; i++)
		if (pt_kmod_aliases_load(root, json_string_value(json_array_get(releases, i)),
		                         &idx[i]) < 0)
			idx[i] = NULL;
	const char *addr;
	json_t *how;
	json_object_foreach ((json_t *)selected, addr, how) {
		const struct pt_pci_device *d = pt_pci_find(host, addr);
		if (!d)
			continue;
		for (size_t i = 0; i < nrel && d->modalias; i++) {
			_cleanup_json_ json_t *mods =
			        idx[i] ? pt_kmod_aliases_match(idx[i], d->modalias) : NULL;
			size_t k;
			json_t *mv;
			json_array_foreach (mods, k, mv)
				add_softdep(deps, json_string_value(mv));
		}
		if (d->driver && !pt_vfio_driver_is_vfio(d->driver)) {
			_cleanup_free_ char *mod = pt_safety_driver_module(root, d->driver);
			if (mod)
				add_softdep(deps, mod);
		}
	}
	for (size_t i = 0; i < nrel; i++)
		pt_kmod_aliases_free(idx[i]);
	sort_unique(deps);
	return 0;
}

/* An ID line takes every device with that ID, so a device whose ID another
 * device of the host shares (two identical cards, one for the host) goes by
 * address instead. */
static void mechanisms(const struct pt_pci_host *host, const json_t *selected, json_t *ids,
                       json_t *overrides)
{
	const char *addr;
	json_t *how;
	json_object_foreach ((json_t *)selected, addr, how) {
		const struct pt_pci_device *d = pt_pci_find(host, addr);
		bool shared = !d || d->vendor_id < 0 || d->device_id < 0;
		for (size_t k = 0; !shared && k < host->count; k++) {
			const struct pt_pci_device *o = &host->devices[k];
			shared = o->vendor_id == d->vendor_id && o->device_id == d->device_id &&
			         !json_object_get(selected, o->address);
		}
		if (shared) {
			json_array_append_new(overrides, json_string(addr));
		} else {
			char id[16];
			pt_pci_id_string(d->vendor_id, d->device_id, id, sizeof id);
			json_array_append_new(ids, json_string(id));
		}
	}
	sort_unique(ids);
	sort_unique(overrides);
}

int pt_vfio_plan_make(const char *root, const struct pt_pci_host *host, const json_t *selected,
                      bool present, struct pt_vfio_plan *plan, struct pt_vfio_report *rep)
{
	plan->ids = json_array();
	plan->overrides = json_array();
	plan->softdeps = json_array();
	plan->kernels = NULL;
	plan->modules = pt_vfio_modules_wanted(root, &plan->kernels);
	if (!plan->kernels)
		plan->kernels = json_array();
	if (!present) {
		json_decref(plan->modules);
		plan->modules = json_array();
	}
	if (!plan->ids || !plan->overrides || !plan->softdeps || !plan->modules || !plan->kernels)
		return pt_vfio_report_fail(rep, -ENOMEM, "out of memory");
	if (!present)
		return 0;
	mechanisms(host, selected, plan->ids, plan->overrides);
	if (softdeps(root, host, selected, plan->softdeps) < 0)
		return pt_vfio_report_fail(rep, -ENOMEM, "out of memory");
	size_t i;
	json_t *k;
	json_array_foreach (plan->kernels, i, k) {
		const char *rel = json_string_value(json_object_get(k, "release"));
		if (rel && pt_kmod_state(root, rel, "vfio_pci") == PT_KMOD_BUILTIN)
			pt_vfio_report_warn(
			        rep,
			        "kernel %s has vfio-pci built in: the options, softdep and install "
			        "lines in modprobe.d do not apply to it; when booting it, put "
			        "vfio-pci.ids= on the kernel command line instead",
			        rel);
	}
	return 0;
}

void pt_vfio_plan_release(struct pt_vfio_plan *plan)
{
	json_decref(plan->ids);
	json_decref(plan->overrides);
	json_decref(plan->softdeps);
	json_decref(plan->modules);
	json_decref(plan->kernels);
	*plan = (struct pt_vfio_plan){0};
}

const char *pt_vfio_plan_mechanism(const struct pt_vfio_plan *plan, const char *address)
{
	return has_string(plan->overrides, address) ? "driver_override" : "ids";
}

int pt_vfio_plan_check_blacklist(const json_t *drivers, struct pt_vfio_report *rep)
{
	size_t i;
	json_t *v;
	json_array_foreach (drivers, i, v) {
		const char *name = json_string_value(v);
		size_t len = name ? strlen(name) : 0;
		bool ok = len > 0 && len <= 55 &&
		          strspn(name, "abcdefghijklmnopqrstuvwxyz"
		                       "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		                       "0123456789_-") == len;
		if (!ok)
			return pt_vfio_report_fail(
			        rep, -EINVAL,
			        "blacklist_drivers[%zu] is not a kernel module name (letters, "
			        "digits, '_' and '-', at most 55): give driver names such as "
			        "nouveau",
			        i);
	}
	return 0;
}

json_t *pt_vfio_plan_blacklist(const json_t *drivers)
{
	json_t *out = json_array();
	size_t i;
	json_t *v;
	json_array_foreach (drivers, i, v)
		add_module(out, json_string_value(v));
	sort_unique(out);
	return out;
}
