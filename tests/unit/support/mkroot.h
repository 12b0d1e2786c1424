/* The sandbox roots the unit tests stand on, built by build/tools/mkroot (made
 * by `make tools`) from the host descriptions and captures of tests/fixtures.
 * Linked into every build/tests/test_* (mk/config.mk: UNIT_SUPPORT).
 *
 * A test group that builds roots calls mkroot_group_setup from its cmocka group
 * setup (one fresh work directory for its roots, and a clear stop when the tool
 * is not built yet) and has mkroot_group_teardown as its group teardown. */
#ifndef PT_TEST_MKROOT_H
#define PT_TEST_MKROOT_H

#include <stddef.h>

#ifndef SOURCE_DIR
#define SOURCE_DIR "."
#endif

/* The tool, in the tree the test was built from: a string literal, for argv. */
#define MKROOT SOURCE_DIR "/build/tools/mkroot"

/* For a cmocka group setup, with the group's state: makes the work directory
 * /tmp/pt-test-NAME.XXXXXX into workdir (a buffer of size bytes the caller owns;
 * tmptree_make) and makes it the group's state, for mkroot_group_teardown;
 * checks that source_dir/build/tools/mkroot is there to run (when not, says on
 * stderr "... is missing: run `make tools` first"); and sets PT_REPO=source_dir,
 * through which mkroot finds the kernel module catalogue and the repo: sources
 * of a host description. Returns 0, or -1 when the test group cannot run. */
int mkroot_group_setup_in(void **state, char *workdir, size_t size, const char *name,
                          const char *source_dir);

/* The same for a workdir array, with the SOURCE_DIR the test was built with
 * (support objects are built without it). */
#define mkroot_group_setup(state, workdir, name)                                                   \
	mkroot_group_setup_in(state, workdir, sizeof(workdir), name, SOURCE_DIR)

/* The cmocka group teardown after mkroot_group_setup: removes the work directory
 * (the group's state) and all below it. Returns 0. */
int mkroot_group_teardown(void **state);

#endif
