/* See corpus.h. */
#include "corpus.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/* SHARED_DIR/corpus, or $PT_SHARED/corpus when set (the environment wins, so a
 * built test can be pointed at another copy without rebuilding). */
static const char *corpus_root(const char *shared)
{
	static char root[PATH_MAX];
	const char *env = getenv("PT_SHARED");
	snprintf(root, sizeof root, "%s/corpus", env && *env ? env : shared);
	return root;
}

bool corpus_present_in(const char *shared)
{
	static bool noted;
	struct stat st;
	const char *root = corpus_root(shared);
	if (stat(root, &st) == 0 && S_ISDIR(st.st_mode))
		return true;
	const char *quiet = getenv("PT_CORPUS_NOTED");
	if (!noted && !(quiet && *quiet)) {
		printf("corpus layer skipped: %s is absent (set PT_SHARED, or SHARED= for make)\n",
		       root);
		fflush(stdout);
	}
	noted = true;
	return false;
}

const char *corpus_path_in(const char *shared, const char *folder, const char *name)
{
	static char path[PATH_MAX];
	if (!corpus_present_in(shared))
		return NULL;
	snprintf(path, sizeof path, "%s/%s%s%s", corpus_root(shared), folder, name ? "/" : "",
	         name ? name : "");
	return path;
}
