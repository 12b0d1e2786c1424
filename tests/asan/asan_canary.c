/* asan_canary: a module that exists only in the collection `make asan` installs
 * into build/asan/collections, built with the same sanitizer flags as the real
 * modules. tests/asan/run.sh runs it through Ansible (connection local) before the
 * integration suite, once per mode, and expects the matching report in the report
 * directory: proof that the sanitizer options reach a module started by Ansible and
 * that its reports land where the run looks for them. Without that proof a clean
 * run would mean nothing.
 *
 *     mode=leak       a block allocated and dropped (LeakSanitizer, at exit)
 *     mode=overflow   a write one byte past a heap block (AddressSanitizer)
 *     mode=ubsan      a signed integer overflow (UndefinedBehaviorSanitizer)
 *     anything else   a clean run
 *
 * It prints one JSON object as a module does, before the fault. */
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* volatile: the compiler must neither fold the faults away nor keep the lost block
 * reachable from a register. */
static void *volatile dropped;

int main(int argc, char **argv)
{
	const char *mode = "none";
	json_t *args = argc > 1 ? json_load_file(argv[1], 0, NULL) : NULL;
	if (json_is_string(json_object_get(args, "mode")))
		mode = json_string_value(json_object_get(args, "mode"));
	json_t *result = json_pack("{s:b, s:s}", "changed", 0, "mode", mode);
	char *text = result ? json_dumps(result, JSON_COMPACT) : NULL;
	puts(text ? text : "{\"failed\": true, \"msg\": \"asan_canary: out of memory\"}");
	free(text);
	json_decref(result);
	fflush(stdout);

	int rc = 0;
	if (strcmp(mode, "leak") == 0) {
		dropped = malloc(4242);
		dropped = NULL;
	} else if (strcmp(mode, "overflow") == 0) {
		char *p = malloc(16);
		volatile int i = 16;
		if (p)
			p[i] = 1;
		free(p);
	} else if (strcmp(mode, "ubsan") == 0) {
		volatile int big = INT_MAX, one = 1;
		int sum = big + one; /* UBSan stops the process here */
		rc = sum < 0 ? 0 : 3;
	}
	json_decref(args);
	return rc;
}
