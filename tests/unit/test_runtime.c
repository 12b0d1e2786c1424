/* The runtime's handling of bad input that the module tables
 * (tests/bad-input/) found: text that is not UTF-8 in messages, warnings and
 * diffs, args files that are JSON but not an object, an empty or relative root. */
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

#include "runtime.h"

static const char spec_json[] = "{\"root\":{\"type\":\"path\",\"default\":\"/\"},"
                                "\"name\":{\"type\":\"str\"}}";

/* pt_json_text(in) must give exactly want (UTF-8). */
static void expect_text(const char *in, const char *want)
{
	json_t *j = pt_json_text(in);
	assert_non_null(j);
	assert_string_equal(json_string_value(j), want);
	json_decref(j);
}

static void test_json_text(void **state)
{
	(void)state;
	assert_null(pt_json_text(NULL));
	expect_text("", "");
	expect_text("plain ASCII", "plain ASCII");
	expect_text("caf\xc3\xa9 \xf0\x9f\x98\x80", "caf\xc3\xa9 \xf0\x9f\x98\x80");
	/* Latin-1, as an old /etc/default/grub comment may hold it */
	expect_text("Gr\xfc\xdf"
	            "e",
	            "Gr\xef\xbf\xbd\xef\xbf\xbd"
	            "e");
	/* an overlong '/', a UTF-16 surrogate, beyond U+10FFFF: one U+FFFD per byte */
	expect_text("a\xc0\xaf"
	            "b",
	            "a\xef\xbf\xbd\xef\xbf\xbd"
	            "b");
	expect_text("\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	expect_text("\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	/* a sequence cut short by the end of the text */
	expect_text("x\xe2\x82", "x\xef\xbf\xbd\xef\xbf\xbd");
}

static json_t *init_text(const char *args, struct pt_module *m)
{
	json_error_t err;
	json_t *a = json_loads(args, JSON_DECODE_ANY, &err);
	assert_non_null(a);
	pt_module_init_json(m, "homelab.passthrough.example", spec_json, a);
	json_decref(a);
	return pt_module_result(m);
}

static void test_messages_survive_bad_bytes(void **state)
{
	(void)state;
	struct pt_module m;
	json_decref(init_text("{\"_ansible_diff\":true}", &m));
	pt_warn(&m, "%s line 3 holds \xe9t\xe9", "/etc/default/grub");
	pt_diff_add(&m, "/etc/default/grub",
	            "# Gr\xfc\xdf"
	            "e\n",
	            "# Gr\xfc\xdf"
	            "e\nX=1\n");
	pt_module_fail(&m, "cannot parse \"%s\"", "quiet \xe9t\xe9");
	json_t *r = pt_module_result(&m);
	assert_string_equal(json_string_value(json_object_get(r, "msg")),
	                    "cannot parse \"quiet \xef\xbf\xbdt\xef\xbf\xbd\"");
	json_t *w = json_object_get(r, "warnings");
	assert_int_equal(json_array_size(w), 1);
	assert_string_equal(json_string_value(json_array_get(w, 0)),
	                    "/etc/default/grub line 3 holds \xef\xbf\xbdt\xef\xbf\xbd");
	json_t *d = json_object_get(r, "diff");
	assert_true(json_is_object(d));
	assert_string_equal(json_string_value(json_object_get(d, "after")),
	                    "# Gr\xef\xbf\xbd\xef\xbf\xbd"
	                    "e\nX=1\n");
	assert_string_equal(json_string_value(json_object_get(d, "after_header")),
	                    "/etc/default/grub");
	json_decref(r);
	pt_module_release(&m);
}

static void test_failed_always_has_msg(void **state)
{
	(void)state;
	struct pt_module m;
	json_decref(init_text("{}", &m));
	m.failed = true; /* as if a path failed the run without pt_module_fail */
	json_t *r = pt_module_result(&m);
	assert_true(json_is_true(json_object_get(r, "failed")));
	assert_non_null(strstr(json_string_value(json_object_get(r, "msg")), "internal error"));
	json_decref(r);
	pt_module_release(&m);
}

/* Run pt_module_init on a file holding text; returns the result's msg (or NULL). */
static char *init_file(const char *text)
{
	char path[] = "/tmp/pt-runtime-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	struct pt_module m;
	char *argv[] = {"mod", path, NULL};
	pt_module_init(&m, "homelab.passthrough.example", spec_json, 2, argv);
	unlink(path);
	json_t *r = pt_module_result(&m);
	const char *msg = json_string_value(json_object_get(r, "msg"));
	char *copy = msg ? strdup(msg) : NULL;
	json_decref(r);
	pt_module_release(&m);
	return copy;
}

static void test_args_file_not_an_object(void **state)
{
	(void)state;
	static const char *const scalars[] = {"\"root\"", "42", "null", "true", " [] "};
	for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++) {
		char *msg = init_file(scalars[i]);
		assert_non_null(msg);
		assert_non_null(strstr(msg, "must hold a JSON object"));
		free(msg);
	}
	char *msg = init_file("{\"root\": \"/\"} trailing");
	assert_non_null(strstr(msg, "is not valid JSON"));
	free(msg);
	msg = init_file("{\"root\": \"/\"}");
	assert_null(msg);
}

static void test_empty_root_refused(void **state)
{
	(void)state;
	struct pt_module m;
	json_t *r = init_text("{\"root\": \"\"}", &m);
	assert_true(m.failed);
	assert_string_equal(json_string_value(json_object_get(r, "msg")),
	                    "root is an empty string; give the directory that holds the host's "
	                    "file system, or / for the host itself");
	json_decref(r);
	pt_module_release(&m);

	/* null means the default for a 2.14 controller, */
	r = init_text("{\"root\": null, \"_ansible_version\": \"2.14.18\"}", &m);
	assert_false(m.failed);
	assert_string_equal(pt_module_root(&m), "/");
	json_decref(r);
	pt_module_release(&m);

	/* and "" for 2.19's AnsibleModule (a defaulted str/path option's null is
	 * converted), which is refused like any empty root. */
	r = init_text("{\"root\": null, \"_ansible_version\": \"2.19.11\"}", &m);
	assert_true(m.failed);
	assert_non_null(strstr(json_string_value(json_object_get(r, "msg")), "root is an empty"));
	json_decref(r);
	pt_module_release(&m);
}

/* A relative root would be taken from the directory the module runs in. */
static void test_relative_root_refused(void **state)
{
	(void)state;
	static const char *const relative[] = {"sandbox", "./sandbox", "../x", " /"};
	for (size_t i = 0; i < sizeof relative / sizeof relative[0]; i++) {
		char args[64];
		snprintf(args, sizeof args, "{\"root\": \"%s\"}", relative[i]);
		struct pt_module m;
		json_t *r = init_text(args, &m);
		assert_true(m.failed);
		char want[256];
		snprintf(want, sizeof want,
		         "root '%s' is not an absolute path: give the directory that holds the "
		         "host's file system, starting with / (or / for the host itself)",
		         relative[i]);
		assert_string_equal(json_string_value(json_object_get(r, "msg")), want);
		json_decref(r);
		pt_module_release(&m);
	}
	/* "." is as relative as the rest: the working directory is no host */
	struct pt_module m;
	json_t *r = init_text("{\"root\": \".\"}", &m);
	assert_true(m.failed);
	json_decref(r);
	pt_module_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_json_text),
	        cmocka_unit_test(test_messages_survive_bad_bytes),
	        cmocka_unit_test(test_failed_always_has_msg),
	        cmocka_unit_test(test_args_file_not_an_object),
	        cmocka_unit_test(test_empty_root_refused),
	        cmocka_unit_test(test_relative_root_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
