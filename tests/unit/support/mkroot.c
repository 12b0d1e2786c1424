/* The sandbox roots of the unit tests (mkroot.h says what each function
 * promises). */
#include "mkroot.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tmptree.h"

int mkroot_group_setup_in(void **state, char *workdir, size_t size, const char *name,
                          const char *source_dir)
{
	*state = workdir;
	if (tmptree_make(workdir, size, name) < 0)
		return -1;
	char tool[PATH_MAX];
	snprintf(tool, sizeof tool, "%s/build/tools/mkroot", source_dir);
	if (access(tool, X_OK) != 0) {
		fprintf(stderr, "%s is missing: run `make tools` first\n", tool);
		return -1;
	}
	setenv("PT_REPO", source_dir, 1);
	return 0;
}

int mkroot_group_teardown(void **state)
{
	tmptree_remove(*state);
	return 0;
}
