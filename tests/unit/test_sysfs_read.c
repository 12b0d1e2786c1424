/* module_utils/sysfs_read: pt_sysfs_read_at(dir, rel, path) answers exactly as
 * pt_file_read_line(path) does, under a confinement root, for plain files and
 * for every way a hostile root can differ from sysfs (links inside and out of
 * it, a linked directory on the way, a FIFO, a directory, a missing file, a
 * first line longer than the shortcut's buffer). Run natively this takes the
 * openat2 path; under valgrind, which lacks openat2, the O_NOFOLLOW walk. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cleanup.h"
#include "files.h"
#include "sysfs_read.h"
#include "support/tmptree.h"

static char root[256];

#define GROUPS "sys/kernel/iommu_groups/"

static void put_group(const char *rel, const char *text)
{
	char where[128];
	snprintf(where, sizeof where, GROUPS "%s", rel);
	tmptree_put(root, where, text);
}

static void link_group(const char *rel, const char *target)
{
	char where[128];
	snprintf(where, sizeof where, GROUPS "%s", rel);
	tmptree_link(root, where, target);
}

static int setup(void **state)
{
	(void)state;
	if (tmptree_make(root, sizeof root, "sysfs-read") < 0)
		return -1;
	put_group("1/type", "DMA-FQ\n");
	put_group("2/type", "identity \t\r\nsecond line\n");
	put_group("3/type", "");
	link_group("4", "1");                    /* a linked group directory */
	link_group("5/type", "../1/type");       /* a link to a file inside root */
	link_group("6/type", "/etc/group-type"); /* absolute: taken under root */
	link_group("7/type", "../../../../../../../../etc/group-type"); /* .. stops at root */
	tmptree_put(root, "etc/group-type", "blocked\n");
	char path[1024];
	snprintf(path, sizeof path, "%s/" GROUPS "8/type", root);
	tmptree_mkdirs(path); /* a directory where a file should be */
	snprintf(path, sizeof path, "%s/" GROUPS "9", root);
	tmptree_mkdirs(path);
	snprintf(path, sizeof path, "%s/" GROUPS "9/type", root);
	if (mkfifo(path, 0644) < 0)
		return -1;
	static char big[6000];
	memset(big, 'x', sizeof big - 2);
	big[sizeof big - 2] = '\n';
	big[sizeof big - 1] = '\0';
	big[4500] = '\n'; /* the first line ends past the shortcut's buffer */
	put_group("10/type", big);
	put_group("11/type", "trailing blanks   \t");
	link_group("12", "/sys/kernel/iommu_groups/1"); /* absolute link to a directory */
	link_group("13", "missing");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pt_files_confine(NULL);
	return tmptree_remove(root);
}

static void assert_same_as_by_path(int dir, const char *rel)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/" GROUPS "%s", root, rel);
	_cleanup_free_ char *want = pt_file_read_line(path);
	_cleanup_free_ char *got = pt_sysfs_read_at(dir, rel, path);
	if (!want != !got || (want && strcmp(want, got) != 0))
		fail_msg("%s: pt_sysfs_read_at \"%.40s\", pt_file_read_line \"%.40s\"", rel,
		         got ? got : "(null)", want ? want : "(null)");
}

static void test_as_by_path(void **state)
{
	(void)state;
	static const char *const rels[] = {"1/type",  "2/type",  "3/type",  "4/type",  "5/type",
	                                   "6/type",  "7/type",  "8/type",  "9/type",  "10/type",
	                                   "11/type", "12/type", "13/type", "14/type", "1/none"};
	pt_files_confine(root);
	char base[512];
	snprintf(base, sizeof base, "%s/sys/kernel/iommu_groups", root);
	_cleanup_close_ int dir = pt_file_open(base, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(dir >= 0);
	for (size_t i = 0; i < sizeof rels / sizeof *rels; i++) {
		assert_same_as_by_path(dir, rels[i]);
		assert_same_as_by_path(-EBADF, rels[i]); /* no directory: by path */
	}
	pt_files_confine(NULL);
	for (size_t i = 0; i < sizeof rels / sizeof *rels; i++)
		assert_same_as_by_path(dir, rels[i]);

	/* the answers themselves, for the record */
	pt_files_confine(root);
	char path[1024];
	snprintf(path, sizeof path, "%s/1/type", base);
	_cleanup_free_ char *plain = pt_sysfs_read_at(dir, "1/type", path);
	assert_string_equal(plain, "DMA-FQ");
	snprintf(path, sizeof path, "%s/6/type", base);
	_cleanup_free_ char *absolute = pt_sysfs_read_at(dir, "6/type", path);
	assert_string_equal(absolute, "blocked");
	snprintf(path, sizeof path, "%s/9/type", base);
	assert_null(pt_sysfs_read_at(dir, "9/type", path)); /* a FIFO: no hang, no text */
	pt_files_confine(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_as_by_path),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
