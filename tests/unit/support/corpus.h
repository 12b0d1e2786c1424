/* The fixture layers the unit tests read.
 *
 * tests/fixtures (in the repository) is always there: the argspec vectors, the
 * sysfs captures, the host descriptions and the hand-written files of every
 * shape the editors handle (tests/fixtures/files/). The tests that read them
 * always run.
 *
 * The corpus (real files from public repositories, kept outside the repository:
 * SHARED_DIR/corpus as the Makefile passes it, or $PT_SHARED/corpus) is an extra
 * layer. When it is absent, its tests are skipped, and the first call that finds
 * it missing prints one line saying so — unless PT_CORPUS_NOTED is set in the
 * environment (make unit sets it after printing that line itself once for the
 * whole run). */
#ifndef PT_TEST_CORPUS_H
#define PT_TEST_CORPUS_H

#include <stdbool.h>

#ifndef SOURCE_DIR
#define SOURCE_DIR "."
#endif
#ifndef SHARED_DIR
#define SHARED_DIR "../shared"
#endif

/* The repository's fixtures: a string literal, for concatenation. */
#define FIXTURES_DIR SOURCE_DIR "/tests/fixtures"

/* The corpus folder `folder` ("grub", "modprobe", ...) joined as
 * CORPUS/folder/name (name may be NULL: the folder itself), into a static buffer
 * that the next call overwrites; NULL when the corpus is absent (then the one
 * line described above is printed). */
#define corpus_path(folder, name) corpus_path_in(SHARED_DIR, folder, name)

/* Whether the corpus is there (prints the line as corpus_path does when not). */
#define corpus_present() corpus_present_in(SHARED_DIR)

/* The same with the shared folder given (the macros pass the SHARED_DIR the test
 * was built with; support objects are built without it). */
const char *corpus_path_in(const char *shared, const char *folder, const char *name);
bool corpus_present_in(const char *shared);

#endif
