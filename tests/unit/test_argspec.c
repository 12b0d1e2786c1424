/* The runtime's validation against what ansible-core's AnsibleModule really
 * returned, 2.14 and 2.19 (tests/fixtures/argspec/ansible-2.1[49]-vectors.json,
 * measured by tests/tools/argspec-vectors.py), each with that version's rules,
 * plus the error paths of the args file. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "argspec.h"
#include "runtime.h"

#ifndef SOURCE_DIR
#define SOURCE_DIR "."
#endif

static const struct {
	const char *file;
	enum pt_ansible_rules rules;
} vector_files[] = {
        {SOURCE_DIR "/tests/fixtures/argspec/ansible-2.14-vectors.json", PT_ANSIBLE_2_14},
        {SOURCE_DIR "/tests/fixtures/argspec/ansible-2.19-vectors.json", PT_ANSIBLE_2_19},
};
#define N_VECTOR_FILES (sizeof vector_files / sizeof vector_files[0])
static json_t *vectors[N_VECTOR_FILES];

static int load_vectors(void **state)
{
	(void)state;
	for (size_t f = 0; f < N_VECTOR_FILES; f++) {
		json_error_t err;
		vectors[f] = json_load_file(vector_files[f].file, 0, &err);
		if (!vectors[f]) {
			fprintf(stderr, "cannot load vectors: %s\n", err.text);
			return -1;
		}
	}
	setenv("HOME", "/root", 1);
	return 0;
}

static int free_vectors(void **state)
{
	(void)state;
	for (size_t f = 0; f < N_VECTOR_FILES; f++)
		json_decref(vectors[f]);
	return 0;
}

/* Every case of one vectors file, validated with that version's rules. */
static void check_vectors(const json_t *vec, enum pt_ansible_rules rules, const char *file)
{
	json_t *spec = json_object_get(vec, "argument_spec");
	const char *module = json_string_value(json_object_get(vec, "module_name"));
	size_t i;
	json_t *c;
	size_t checked = 0;
	json_array_foreach (json_object_get(vec, "cases"), i, c) {
		const char *name = json_string_value(json_object_get(c, "case"));
		json_t *expected = json_object_get(c, "result");
		json_t *params = NULL;
		char *msg = NULL;
		int r = pt_argspec_validate_as(rules, spec, module, json_object_get(c, "input"),
		                               &params, &msg, NULL);
		if (json_is_true(json_object_get(expected, "failed"))) {
			const char *want = json_string_value(json_object_get(expected, "msg"));
			if (r != -EINVAL || !msg)
				fail_msg("%s, case %s: expected failure '%s', got success", file,
				         name, want);
			/* The list of valid booleans comes from a Python set: compare the
			 * text before it. */
			const char *cut = strstr(want, "Valid booleans include:");
			int diff =
			        cut ? strncmp(msg, want, (size_t)(cut - want)) : strcmp(msg, want);
			if (diff != 0)
				fail_msg("%s, case %s:\n want: %s\n got:  %s", file, name, want,
				         msg);
		} else {
			if (r != 0)
				fail_msg("%s, case %s: unexpected failure: %s", file, name, msg);
			json_t *masked = pt_argspec_mask_no_log(spec, params);
			json_t *want = json_object_get(json_object_get(expected, "invocation"),
			                               "module_args");
			if (!json_equal(masked, want)) {
				char *a = json_dumps(masked, JSON_SORT_KEYS),
				     *b = json_dumps(want, JSON_SORT_KEYS);
				fail_msg("%s, case %s:\n want: %s\n got:  %s", file, name, b, a);
			}
			json_decref(masked);
		}
		free(msg);
		json_decref(params);
		checked++;
	}
	assert_int_equal(checked, 25);
}

static void test_every_vector_2_14(void **state)
{
	(void)state;
	check_vectors(vectors[0], vector_files[0].rules, vector_files[0].file);
}

static void test_every_vector_2_19(void **state)
{
	(void)state;
	check_vectors(vectors[1], vector_files[1].rules, vector_files[1].file);
}

/* What 2.19.11's ArgumentSpecValidator gave beyond the 25 vectors (measured in
 * the Debian 13 root of make test-matrix): explicit nulls of defaulted options,
 * and ints read through decimal.Decimal. 2.14 keeps nulls and rejects these. */
static void test_2_19_nulls_and_ints(void **state)
{
	(void)state;
	json_t *spec = pt_argspec_load(
	        "{\"s\":{\"type\":\"str\",\"default\":\"x\"},\"p\":{\"type\":\"path\",\"default\":"
	        "\"/x\"},"
	        "\"i\":{\"type\":\"int\",\"default\":5},\"b\":{\"type\":\"bool\",\"default\":false}"
	        ","
	        "\"l\":{\"type\":\"list\",\"default\":[]},\"n\":{\"type\":\"int\"}}");
	static const struct {
		const char *input, *want_msg, *want_params;
	} cases[] = {
	        {"{\"s\":null,\"p\":null}", NULL, "{\"s\":\"\",\"p\":\"\"}"},
	        {"{\"i\":null}",
	         "argument 'i' is of type NoneType and we were unable to convert to int: "
	         "\"None\" cannot be converted to an int",
	         NULL},
	        {"{\"b\":null}",
	         "argument 'b' is of type NoneType and we were unable to convert to bool: "
	         "<class 'NoneType'> cannot be converted to a bool",
	         NULL},
	        {"{\"l\":null}",
	         "argument 'l' is of type NoneType and we were unable to convert to list: "
	         "<class 'NoneType'> cannot be converted to a list",
	         NULL},
	        {"{\"n\":null}", NULL, "{\"n\":null}"},
	        {"{\"n\":\"7.0\"}", NULL, "{\"n\":7}"},
	        {"{\"n\":7.0}", NULL, "{\"n\":7}"},
	        {"{\"n\":\"7e0\"}", NULL, "{\"n\":7}"},
	        {"{\"n\":\" 7 \"}", NULL, "{\"n\":7}"},
	        {"{\"n\":\"1_000\"}", NULL, "{\"n\":1000}"},
	        {"{\"n\":\"0x10\"}",
	         "argument 'n' is of type str and we were unable to convert to int: "
	         "\"'0x10'\" cannot be converted to an int",
	         NULL},
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		json_t *input = json_loads(cases[k].input, 0, NULL), *params = NULL;
		char *msg = NULL;
		int r = pt_argspec_validate_as(PT_ANSIBLE_2_19, spec, "m", input, &params, &msg,
		                               NULL);
		if (cases[k].want_msg) {
			if (r != -EINVAL || !msg || strcmp(msg, cases[k].want_msg) != 0)
				fail_msg("%s:\n want: %s\n got:  %s", cases[k].input,
				         cases[k].want_msg, msg ? msg : "(success)");
		} else {
			if (r != 0)
				fail_msg("%s: unexpected failure: %s", cases[k].input, msg);
			json_t *want = json_loads(cases[k].want_params, 0, NULL);
			const char *key;
			json_t *v;
			json_object_foreach (want, key, v) {
				if (!json_equal(json_object_get(params, key), v))
					fail_msg("%s: %s differs", cases[k].input, key);
			}
			json_decref(want);
		}
		/* 2.14: the null stays, the decimal text is refused */
		json_t *p14 = NULL;
		char *m14 = NULL;
		int r14 =
		        pt_argspec_validate_as(PT_ANSIBLE_2_14, spec, "m", input, &p14, &m14, NULL);
		if (strstr(cases[k].input, "null"))
			assert_int_equal(r14, 0);
		free(m14);
		json_decref(p14);
		free(msg);
		json_decref(params);
		json_decref(input);
	}
	json_decref(spec);
}

static void test_rules_for_version(void **state)
{
	(void)state;
	assert_int_equal(pt_ansible_rules_for("2.14.18"), PT_ANSIBLE_2_14);
	assert_int_equal(pt_ansible_rules_for("2.18.3"), PT_ANSIBLE_2_14);
	assert_int_equal(pt_ansible_rules_for("2.19.11"), PT_ANSIBLE_2_19);
	assert_int_equal(pt_ansible_rules_for("2.20.0"), PT_ANSIBLE_2_19);
	assert_int_equal(pt_ansible_rules_for(NULL), PT_ANSIBLE_2_19);
	assert_int_equal(pt_ansible_rules_for("devel"), PT_ANSIBLE_2_19);
}

static const char spec_json[] =
        "{\"state\":{\"type\":\"str\",\"choices\":[\"present\",\"absent\"],\"default\":\"present\"}"
        ","
        "\"token\":{\"type\":\"str\",\"no_log\":true},"
        "\"retries\":{\"type\":\"int\",\"default\":\"3\"},"
        "\"map\":{\"type\":\"list\",\"elements\":\"dict\",\"options\":{"
        "\"node\":{\"type\":\"str\",\"required\":true},\"iommugroup\":{\"type\":\"int\"}}}}";

static char *run_init(const char *args_text, json_t **result)
{
	char path[] = "/tmp/pt-args-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, args_text, strlen(args_text)), (ssize_t)strlen(args_text));
	close(fd);
	struct pt_module m;
	char *argv[] = {"mod", path, NULL};
	pt_module_init(&m, "homelab.passthrough.example", spec_json, 2, argv);
	unlink(path);
	*result = pt_module_result(&m);
	pt_module_release(&m);
	const char *msg = json_string_value(json_object_get(*result, "msg"));
	return msg ? strdup(msg) : NULL;
}

static void test_args_file_errors(void **state)
{
	(void)state;
	json_t *r;
	char *msg = run_init("not json", &r);
	assert_non_null(strstr(msg, "is not valid JSON"));
	assert_true(json_is_true(json_object_get(r, "failed")));
	free(msg);
	json_decref(r);

	msg = run_init("[1,2]", &r);
	assert_non_null(strstr(msg, "must hold a JSON object"));
	free(msg);
	json_decref(r);

	msg = run_init("", &r);
	assert_non_null(strstr(msg, "is not valid JSON"));
	free(msg);
	json_decref(r);

	struct pt_module m;
	char *argv[] = {"mod", "/nonexistent/args", NULL};
	assert_int_equal(pt_module_init(&m, "x", spec_json, 2, argv), -1);
	r = pt_module_result(&m);
	assert_non_null(strstr(json_string_value(json_object_get(r, "msg")), "No such file"));
	json_decref(r);
	pt_module_release(&m);

	assert_int_equal(pt_module_init(&m, "x", spec_json, 1, argv), -1);
	assert_true(m.failed);
	pt_module_release(&m);
}

static void test_internal_keys_and_masking(void **state)
{
	(void)state;
	json_t *r;
	char *msg = run_init("{\"token\":\"s3cret\",\"_ansible_check_mode\":true,"
	                     "\"_ansible_diff\":true,\"_ansible_future_key\":1}",
	                     &r);
	assert_null(msg);
	json_t *args = json_object_get(json_object_get(r, "invocation"), "module_args");
	assert_string_equal(json_string_value(json_object_get(args, "token")), PT_NO_LOG_MASK);
	/* a default given as a string is coerced like user input */
	assert_int_equal(json_integer_value(json_object_get(args, "retries")), 3);
	assert_null(json_object_get(args, "_ansible_future_key"));
	char *text = json_dumps(r, 0);
	assert_null(strstr(text, "s3cret"));
	free(text);
	json_decref(r);
}

static void test_suboptions(void **state)
{
	(void)state;
	json_t *r;
	char *msg = run_init("{\"map\":[{\"iommugroup\":\"14\"}]}", &r);
	assert_string_equal(msg, "missing required arguments: node found in map");
	free(msg);
	json_decref(r);

	/* No controller version: the newest rules (2.19's wording). */
	msg = run_init("{\"map\":[{\"node\":\"pve1\",\"iommugroup\":\"x\"}]}", &r);
	assert_string_equal(msg, "argument 'iommugroup' is of type str found in 'map'. and we "
	                         "were unable to convert to int: \"'x'\" cannot be converted to "
	                         "an int");
	free(msg);
	json_decref(r);

	/* A 2.14 controller gets 2.14's wording. */
	msg = run_init("{\"_ansible_version\":\"2.14.18\","
	               "\"map\":[{\"node\":\"pve1\",\"iommugroup\":\"x\"}]}",
	               &r);
	assert_string_equal(
	        msg, "argument 'iommugroup' is of type <class 'str'> found in 'map'. and we "
	             "were unable to convert to int: <class 'str'> cannot be converted to an int");
	free(msg);
	json_decref(r);

	msg = run_init("{\"map\":[{\"node\":\"pve1\",\"bogus\":1}]}", &r);
	assert_string_equal(msg, "Unsupported parameters for (homelab.passthrough.example) module: "
	                         "map.bogus. Supported parameters include: iommugroup, node.");
	free(msg);
	json_decref(r);

	msg = run_init("{\"map\":[{\"node\":\"pve1\",\"iommugroup\":\"14\"}]}", &r);
	assert_null(msg);
	json_t *entry = json_array_get(
	        json_object_get(json_object_get(json_object_get(r, "invocation"), "module_args"),
	                        "map"),
	        0);
	assert_int_equal(json_integer_value(json_object_get(entry, "iommugroup")), 14);
	json_decref(r);
}

static void test_bool_words(void **state)
{
	(void)state;
	const char *yes[] = {"yes", "YES", "On", "1", "true", "t", "y", " True "};
	const char *no[] = {"no", "Off", "0", "false", "F", "n"};
	for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
		assert_int_equal(pt_parse_bool(yes[i]), 1);
	for (size_t i = 0; i < sizeof no / sizeof *no; i++)
		assert_int_equal(pt_parse_bool(no[i]), 0);
	assert_int_equal(pt_parse_bool("maybe"), -1);
	assert_int_equal(pt_parse_bool(""), -1);
}

/* Expected values from ansible-core 2.14's ModuleArgumentSpecValidator on the
 * same spec and input: the last alias wins, a warning per alias given while the
 * option already held a value, suboption levels first. */
static void test_alias_warnings(void **state)
{
	(void)state;
	json_t *spec =
	        pt_argspec_load("{\"name\":{\"type\":\"str\",\"aliases\":[\"id\",\"key\"]},"
	                        "\"map\":{\"type\":\"list\",\"elements\":\"dict\",\"options\":{"
	                        "\"node\":{\"type\":\"str\",\"aliases\":[\"host\"]}}}}");
	json_t *input = json_loads("{\"name\":\"a\",\"id\":\"b\",\"key\":\"c\","
	                           "\"map\":[{\"node\":\"x\",\"host\":\"y\"}]}",
	                           0, NULL);
	json_t *warnings = json_array(), *params = NULL;
	char *msg = NULL;
	assert_int_equal(pt_argspec_validate(spec, "m", input, &params, &msg, warnings), 0);
	assert_string_equal(json_string_value(json_object_get(params, "name")), "c");
	assert_int_equal(json_array_size(warnings), 3);
	assert_string_equal(json_string_value(json_array_get(warnings, 0)),
	                    "Both option map[0].node and its alias map[0].host are set.");
	assert_string_equal(json_string_value(json_array_get(warnings, 1)),
	                    "Both option name and its alias id are set.");
	assert_string_equal(json_string_value(json_array_get(warnings, 2)),
	                    "Both option name and its alias key are set.");
	json_decref(params);
	json_decref(input);

	/* one alias alone: no warning */
	json_t *quiet = json_array();
	input = json_loads("{\"id\":\"b\"}", 0, NULL);
	assert_int_equal(pt_argspec_validate(spec, "m", input, &params, &msg, quiet), 0);
	assert_int_equal(json_array_size(quiet), 0);
	json_decref(params);
	json_decref(input);
	json_decref(quiet);
	json_decref(warnings);
	json_decref(spec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_every_vector_2_14),
	        cmocka_unit_test(test_every_vector_2_19),
	        cmocka_unit_test(test_2_19_nulls_and_ints),
	        cmocka_unit_test(test_rules_for_version),
	        cmocka_unit_test(test_args_file_errors),
	        cmocka_unit_test(test_internal_keys_and_masking),
	        cmocka_unit_test(test_suboptions),
	        cmocka_unit_test(test_bool_words),
	        cmocka_unit_test(test_alias_warnings),
	};
	return cmocka_run_group_tests_name("argspec", tests, load_vectors, free_vectors);
}
