/* libFuzzer harness: the args file and argument validation (module_utils/
 * runtime.h, argspec.h), as every module starts.
 *
 * Input: the bytes of the args file Ansible writes. Each input goes through
 * pt_module_init (the file is a memfd, read back through /proc/self/fd) with
 * the generated spec of every module (build/gen/NAME_argspec.h) and the spec of
 * the ansible-core 2.14 vectors (tests/fixtures/argspec: it
 * has no_log, aliases, float, dict and required options). Invariants:
 *   - init succeeds or fails, never crashes; a failure is a result with
 *     failed=true and a non-empty msg, a success has params; the options are
 *     echoed (invocation.module_args) exactly when they passed validation;
 *   - the result is one JSON object that serialises and reads back;
 *   - validated params hold every option of the spec (and nothing the spec does not
 *     name), each value of its declared type (elements and suboptions too) and
 *     within its choices;
 *   - invocation.module_args shows the same keys, with no_log values masked;
 *   - validating the params again gives the same params (coercion is
 *     idempotent: parse twice equals parse once). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <unistd.h>

#include <jansson.h>

#include "argspec.h"
#include "fuzz_check.h"
#include "runtime.h"

#include "grub_iommu_argspec.h"
#include "iommu_facts_argspec.h"
#include "pve_pci_mapping_argspec.h"
#include "vfio_bind_argspec.h"

#ifndef SOURCE_DIR
#define SOURCE_DIR "."
#endif

struct spec {
	const char *module;
	const char *json;
};

static struct spec specs[8];
static size_t n_specs;
static char *vectors_spec; /* the vectors' argument_spec as JSON text (owned) */
static int args_fd = -1;
static char args_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	specs[n_specs++] = (struct spec){"homelab.passthrough.grub_iommu", grub_iommu_argspec_json};
	specs[n_specs++] = (struct spec){"homelab.passthrough.vfio_bind", vfio_bind_argspec_json};
	specs[n_specs++] =
	        (struct spec){"homelab.passthrough.pve_pci_mapping", pve_pci_mapping_argspec_json};
	specs[n_specs++] =
	        (struct spec){"homelab.passthrough.iommu_facts", iommu_facts_argspec_json};
	json_t *vectors = json_load_file(
	        SOURCE_DIR "/tests/fixtures/argspec/ansible-2.14-vectors.json", 0, NULL);
	json_t *spec = json_object_get(vectors, "argument_spec");
	if (json_is_object(spec)) {
		vectors_spec = json_dumps(spec, JSON_COMPACT);
		if (vectors_spec)
			specs[n_specs++] =
			        (struct spec){"homelab.passthrough.example", vectors_spec};
	}
	json_decref(vectors);
	args_fd = memfd_create("args", MFD_CLOEXEC);
	check(args_fd >= 0);
	snprintf(args_path, sizeof args_path, "/proc/self/fd/%d", args_fd);
	return 0;
}

static const char *type_of(const json_t *opt)
{
	const char *t = json_string_value(json_object_get(opt, "type"));
	return t ? t : "str";
}

static void check_value(const json_t *opt, const char *type, const json_t *v);

/* Every option of spec in params, each of its type and choices; no key the
 * spec does not know (aliases are kept as given). */
static void check_level(const json_t *spec, const json_t *params)
{
	check(json_is_object(params));
	const char *name;
	json_t *opt;
	json_object_foreach ((json_t *)spec, name, opt) {
		json_t *v = json_object_get(params, name);
		check(v != NULL);
		if (json_is_null(v))
			continue;
		check_value(opt, type_of(opt), v);
		json_t *choices = json_object_get(opt, "choices");
		if (json_is_array(choices)) {
			bool ok = true;
			if (json_is_array(v)) {
				size_t i;
				json_t *item;
				json_array_foreach (v, i, item) {
					bool found = false;
					size_t k;
					json_t *c;
					json_array_foreach (choices, k, c)
						found |= json_equal(c, item);
					ok &= found;
				}
			} else {
				ok = false;
				size_t k;
				json_t *c;
				json_array_foreach (choices, k, c)
					ok |= json_equal(c, v);
			}
			check(ok);
		}
	}
	const char *key;
	json_t *v;
	json_object_foreach ((json_t *)params, key, v) {
		bool known = json_object_get(spec, key) != NULL;
		json_object_foreach ((json_t *)spec, name, opt) {
			size_t i;
			json_t *alias;
			json_array_foreach (json_object_get(opt, "aliases"), i, alias)
				known |= strcmp(json_string_value(alias), key) == 0;
		}
		check(known);
	}
}

static void check_value(const json_t *opt, const char *type, const json_t *v)
{
	if (!strcmp(type, "str") || !strcmp(type, "path"))
		check(json_is_string(v));
	else if (!strcmp(type, "bool"))
		check(json_is_boolean(v));
	else if (!strcmp(type, "int")) /* Python's bool is an int */
		check(json_is_integer(v) || json_is_boolean(v));
	else if (!strcmp(type, "float"))
		check(json_is_real(v));
	else if (!strcmp(type, "dict"))
		check(json_is_object(v));
	else if (!strcmp(type, "list"))
		check(json_is_array(v));
	const json_t *sub = json_object_get(opt, "options");
	const char *elements = json_string_value(json_object_get(opt, "elements"));
	if (json_is_array(v) && elements) {
		size_t i;
		json_t *item;
		json_array_foreach (v, i, item) {
			check_value(NULL, elements, item);
			if (sub && json_is_object(item))
				check_level(sub, item);
		}
	} else if (sub && json_is_object(v)) {
		check_level(sub, v);
	}
}

/* params without the nulls validation filled in for unset options (at every
 * level of the spec), i.e. what a user could have passed to get them. */
static json_t *without_nulls(const json_t *spec, const json_t *params)
{
	json_t *out = json_deep_copy(params);
	check(out != NULL);
	const char *name;
	json_t *opt;
	json_object_foreach ((json_t *)spec, name, opt) {
		json_t *v = json_object_get(out, name);
		/* Only the nulls validation filled in go: a null given for an option
		 * with a default stays null (AnsibleModule applies defaults only to
		 * absent options), and so does one given for a required option. */
		if (json_is_null(v) && !json_object_get(opt, "default") &&
		    !json_is_true(json_object_get(opt, "required")))
			json_object_del(out, name);
		json_t *sub = json_object_get(opt, "options");
		if (!sub || !v)
			continue;
		if (json_is_object(v)) {
			json_object_set_new(out, name, without_nulls(sub, v));
		} else if (json_is_array(v)) {
			size_t i;
			json_t *item;
			json_array_foreach (v, i, item)
				if (json_is_object(item))
					json_array_set_new(v, i, without_nulls(sub, item));
		}
	}
	return out;
}

/* Validated options: every option of its type and choices, shown with no_log
 * values masked, and validating them again gives them back. */
static void check_params(const struct spec *s, const json_t *spec, const json_t *params,
                         const json_t *shown)
{
	check_level(spec, params);
	check(json_object_size(shown) == json_object_size(params));
	const char *name;
	json_t *opt;
	json_object_foreach ((json_t *)spec, name, opt) {
		json_t *v = json_object_get(params, name);
		const char *masked = json_string_value(json_object_get(shown, name));
		if (json_is_true(json_object_get(opt, "no_log")) && !json_is_null(v))
			check(masked && !strcmp(masked, PT_NO_LOG_MASK));
	}

	json_t *input = without_nulls(spec, params), *again = NULL;
	char *msg = NULL;
	int r = pt_argspec_validate(spec, s->module, input, &again, &msg, NULL);
	if (r != 0 || !json_equal(again, params)) {
		char *a = json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS);
		char *b = again ? json_dumps(again, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		fprintf(stderr, "first: %s\nagain: %s\nmsg: %s\n", a, b ? b : "-", msg ? msg : "-");
		free(a);
		free(b);
	}
	check(r == 0);
	check(json_equal(again, params));
	json_decref(again);
	json_decref(input);
	free(msg);
}

static void one_spec(const struct spec *s, bool is_object)
{
	struct pt_module m;
	char *argv[] = {"module", args_path, NULL};
	int r = pt_module_init(&m, s->module, s->json, 2, argv);
	check(r == 0 || r == -1);
	check(m.failed == (r < 0));
	check(r < 0 || is_object);

	json_t *result = pt_module_result(&m);
	check(json_is_object(result));
	char *text = json_dumps(result, JSON_COMPACT);
	check(text != NULL);
	json_t *back = json_loads(text, 0, NULL);
	check(json_equal(back, result));
	json_decref(back);
	free(text);

	if (r < 0) {
		const char *msg = json_string_value(json_object_get(result, "msg"));
		check(json_is_true(json_object_get(result, "failed")));
		check(msg != NULL && *msg);
	} else {
		check(!json_object_get(result, "failed") && m.params);
	}
	/* The options are echoed once they passed validation, also when the run
	 * fails after it (e.g. an empty root), as AnsibleModule does. */
	json_t *shown = json_object_get(json_object_get(result, "invocation"), "module_args");
	check((shown != NULL) == (m.params != NULL));
	if (m.params)
		check_params(s, m.spec, m.params, shown);
	json_decref(result);
	pt_module_release(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check(ftruncate(args_fd, 0) == 0);
	check(pwrite(args_fd, data, size, 0) == (ssize_t)size);
	json_t *args = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	bool is_object = json_is_object(args);
	json_decref(args);
	for (size_t i = 0; i < n_specs; i++)
		one_spec(&specs[i], is_object);
	return 0;
}
