#include "vfio_plan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "json_text.h"
#include "kmod.h"
#include "strbuf.h"
#include "vfio_driver.h"
#include "vfio_modules.h"
#include "vfio_select.h"

/* Append name normalised ('-' → '_') unless empty; pt_json_strings_sort
 * drops the repeats afterwards, so a long list costs n log n, not a search per
 * name. */
static void add_module(json_t *list, const char *name)
{
	char norm[128];
	pt_kmod_normalize(name, norm, sizeof norm);
	if (*norm)
		json_array_append_new(list, json_string(norm));
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
			_cleanup_free_ char *mod = pt_kmod_driver_module(root, d->driver);
			if (mod)
				add_softdep(deps, mod);
		}
	}
	for (size_t i = 0; i < nrel; i++)
		pt_kmod_aliases_free(idx[i]);
	pt_json_strings_sort(deps, true);
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
	pt_json_strings_sort(ids, true);
	pt_json_strings_sort(overrides, true);
}

int pt_vfio_plan_make(const char *root, const struct pt_pci_host *host, const json_t *selected,
                      bool present, struct pt_vfio_plan *plan, struct pt_report *rep)
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
		return pt_report_fail(rep, -ENOMEM, "out of memory");
	if (!present)
		return 0;
	mechanisms(host, selected, plan->ids, plan->overrides);
	if (softdeps(root, host, selected, plan->softdeps) < 0)
		return pt_report_fail(rep, -ENOMEM, "out of memory");
	size_t i;
	json_t *k;
	json_array_foreach (plan->kernels, i, k) {
		const char *rel = json_string_value(json_object_get(k, "release"));
		if (rel && pt_kmod_state(root, rel, "vfio_pci") == PT_KMOD_BUILTIN)
			pt_report_warn(
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
	return pt_json_strings_has(plan->overrides, address) ? "driver_override" : "ids";
}

int pt_vfio_plan_check_blacklist(const json_t *drivers, struct pt_report *rep)
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
			return pt_report_fail(
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
	pt_json_strings_sort(out, true);
	return out;
}

bool pt_vfio_plan_blacklist_is_auto(const json_t *drivers)
{
	const char *only = json_string_value(json_array_get(drivers, 0));
	return json_array_size(drivers) == 1 && only && !strcmp(only, "auto");
}

bool pt_vfio_plan_blacklist_has_auto(const json_t *drivers)
{
	return pt_json_strings_has(drivers, "auto");
}

/* modules.alias of every installed kernel, each read once. */
struct alias_set {
	size_t n;
	struct pt_kmod_aliases **idx; /* n entries; NULL where a kernel's file is unreadable */
};

static int aliases_open(const char *root, struct alias_set *a)
{
	_cleanup_json_ json_t *releases = pt_kmod_installed_releases(root);
	a->n = json_array_size(releases);
	a->idx = calloc(a->n + 1, sizeof *a->idx);
	if (!releases || !a->idx)
		return -ENOMEM;
	for (size_t i = 0; i < a->n; i++)
		if (pt_kmod_aliases_load(root, json_string_value(json_array_get(releases, i)),
		                         &a->idx[i]) < 0)
			a->idx[i] = NULL;
	return 0;
}

static void aliases_close(struct alias_set *a)
{
	for (size_t i = 0; a->idx && i < a->n; i++)
		pt_kmod_aliases_free(a->idx[i]);
	free(a->idx);
	a->idx = NULL;
}

/* Set module → how in out, "bound" winning over "matches"; vfio-pci and the
 * modules that never drive an endpoint are no candidates (as in add_softdep). */
static int note_module(json_t *out, const char *name, const char *how)
{
	char norm[128];
	pt_kmod_normalize(name, norm, sizeof norm);
	if (!*norm || !strcmp(norm, "vfio_pci") || !strcmp(norm, "vfio_pci_core") ||
	    !strcmp(norm, "pci_stub") || !strcmp(norm, "pcieport"))
		return 0;
	const char *had = json_string_value(json_object_get(out, norm));
	if (had && !strcmp(had, "bound"))
		return 0;
	return json_object_set_new(out, norm, json_string(how));
}

/* The modules that would drive d at boot: object module → "bound" (its driver
 * now) or "matches" (a modules.alias pattern matches its modalias). New
 * reference; NULL when out of memory. */
static json_t *device_modules(const char *root, const struct alias_set *a,
                              const struct pt_pci_device *d)
{
	json_t *out = json_object();
	for (size_t i = 0; out && i < a->n && d->modalias; i++) {
		_cleanup_json_ json_t *mods =
		        a->idx[i] ? pt_kmod_aliases_match(a->idx[i], d->modalias) : NULL;
		size_t k;
		json_t *mv;
		json_array_foreach (mods, k, mv)
			if (note_module(out, json_string_value(mv), "matches") < 0)
				goto oom;
	}
	if (out && d->driver && !pt_vfio_driver_is_vfio(d->driver)) {
		_cleanup_free_ char *mod = pt_kmod_driver_module(root, d->driver);
		if (!mod || note_module(out, mod, "bound") < 0)
			goto oom;
	}
	return out;
oom:
	json_decref(out);
	return NULL;
}

/* Append "ADDRESS" to the string list under key in obj (made on first use). */
static int append_to(json_t *obj, const char *key, const char *addr)
{
	json_t *list = json_object_get(obj, key);
	if (!list && json_object_set_new(obj, key, list = json_array()) < 0)
		return -ENOMEM;
	return json_array_append_new(list, json_string(addr));
}

static char *join_addrs(const json_t *list)
{
	struct pt_strbuf sb = PT_STRBUF_INIT;
	size_t i;
	json_t *v;
	json_array_foreach (list, i, v)
		pt_strbuf_printf(&sb, "%s%s", i ? ", " : "", json_string_value(v));
	if (sb.oom) {
		pt_strbuf_release(&sb);
		return NULL;
	}
	char *s = strdup(pt_strbuf_str(&sb));
	pt_strbuf_release(&sb);
	return s;
}

/* Why a candidate was chosen: "drives 0000:0b:00.0; matches the modalias of
 * 0000:0b:00.1". Caller frees; NULL when out of memory. */
static char *chosen_reason(const json_t *bound, const json_t *matches)
{
	_cleanup_free_ char *b = bound ? join_addrs(bound) : NULL;
	_cleanup_free_ char *m = matches ? join_addrs(matches) : NULL;
	char *out = NULL;
	if ((bound && !b) || (matches && !m) ||
	    asprintf(&out, "%s%s%s%s%s", b ? "drives " : "", b ? b : "", b && m ? "; " : "",
	             m ? "matches the modalias of " : "", m ? m : "") < 0)
		return NULL;
	return out;
}

int pt_vfio_plan_blacklist_auto(const char *root, const struct pt_pci_host *host,
                                const json_t *selected, json_t **chosen, json_t **choice)
{
	*chosen = json_array();
	*choice = json_array();
	struct alias_set a = {0};
	/* module → {bound: [addr], matches: [addr]} for the selected devices;
	 * module → the first device that keeps it ("0000:0e:00.4 ..." text) */
	_cleanup_json_ json_t *wanted = json_object();
	_cleanup_json_ json_t *kept = json_object();
	_cleanup_json_ json_t *names = json_array();
	int e = -ENOMEM;
	if (!*chosen || !*choice || !wanted || !kept || !names || aliases_open(root, &a) < 0)
		goto out;
	for (size_t k = 0; k < host->count; k++) {
		const struct pt_pci_device *d = &host->devices[k];
		bool sel = json_object_get(selected, d->address) != NULL;
		_cleanup_json_ json_t *mods = device_modules(root, &a, d);
		if (!mods)
			goto out;
		const char *mod;
		json_t *how;
		json_object_foreach (mods, mod, how) {
			if (sel) {
				json_t *w = json_object_get(wanted, mod);
				if (!w && json_object_set_new(wanted, mod, w = json_object()) < 0)
					goto out;
				if (append_to(w, json_string_value(how), d->address) < 0)
					goto out;
				continue;
			}
			if (json_object_get(kept, mod))
				continue;
			_cleanup_free_ char *what = pt_vfio_describe(d);
			_cleanup_free_ char *why = NULL;
			if (asprintf(&why,
			             "left out: it %s %s (%s), which stays with the host, and a "
			             "blacklisted driver would not load for it at the next boot",
			             strcmp(json_string_value(how), "bound") ? "also matches the "
			                                                       "modalias of"
			                                                     : "also drives",
			             d->address, what ? what : "?") < 0 ||
			    json_object_set_new(kept, mod, json_string(why)) < 0)
				goto out;
		}
	}
	/* name order: the result and the file are stable from run to run */
	const char *mod;
	json_t *w;
	json_object_foreach (wanted, mod, w)
		if (json_array_append_new(names, json_string(mod)) < 0)
			goto out;
	pt_json_strings_sort(names, true);
	size_t i;
	json_t *n;
	json_array_foreach (names, i, n) {
		const char *name = json_string_value(n);
		json_t *why_kept = json_object_get(kept, name);
		_cleanup_free_ char *why = NULL;
		if (!why_kept) {
			w = json_object_get(wanted, name);
			why = chosen_reason(json_object_get(w, "bound"),
			                    json_object_get(w, "matches"));
			if (!why || json_array_append_new(*chosen, json_string(name)) < 0)
				goto out;
		}
		json_t *entry =
		        json_pack("{s:s, s:b, s:s}", "driver", name, "blacklisted", !why_kept,
		                  "reason", why_kept ? json_string_value(why_kept) : why);
		if (!entry || json_array_append_new(*choice, entry) < 0)
			goto out;
	}
	e = 0;
out:
	aliases_close(&a);
	if (e < 0) {
		json_decref(*chosen);
		json_decref(*choice);
		*chosen = *choice = NULL;
	}
	return e;
}
