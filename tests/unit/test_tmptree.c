/* tests/unit/support/tmptree: the helpers every other unit test builds its trees
 * with. What matters most is what tmptree_remove leaves alone: sandbox roots hold
 * links to absolute paths (/usr/lib, ...), and removing a root must never reach
 * through one into the host. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

#include "support/tmptree.h"

static char root[64];

static int make_root(void **state)
{
	(void)state;
	return tmptree_make(root, sizeof root, "tmptree") < 0 ? -1 : 0;
}

static int drop_root(void **state)
{
	(void)state;
	return tmptree_remove(root);
}

static char *under(const char *rel)
{
	static char path[PATH_MAX];
	snprintf(path, sizeof path, "%s%s", root, rel);
	return path;
}

static void test_make(void **state)
{
	(void)state;
	char dir[64];
	assert_int_equal(tmptree_make(dir, sizeof dir, "tmptree-make"), 0);
	assert_non_null(strstr(dir, "/tmp/pt-test-tmptree-make."));
	struct stat st;
	assert_int_equal(stat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(tmptree_remove(dir), 0);
	assert_int_equal(stat(dir, &st), -1);
	/* gone already: not an error */
	assert_int_equal(tmptree_remove(dir), 0);

	char small[16];
	assert_int_equal(tmptree_make(small, sizeof small, "tmptree-make"), -ENAMETOOLONG);
	assert_string_equal(small, "");
}

/* put and link join root and rel with one slash, make the directories above,
 * and replace what is there; read gives back every byte. */
static void test_put_link_read(void **state)
{
	(void)state;
	tmptree_put(root, "/a/b/c.txt", "one\n");
	tmptree_put(root, "a/b/d.txt", "two\n");
	char with_slash[80];
	snprintf(with_slash, sizeof with_slash, "%s/", root);
	tmptree_put(with_slash, "//a/e.txt", "three\n");
	char *t = tmptree_read(under("/a/b/c.txt"));
	assert_string_equal(t, "one\n");
	free(t);
	t = tmptree_read(under("/a/b/d.txt"));
	assert_string_equal(t, "two\n");
	free(t);
	t = tmptree_read(under("/a/e.txt"));
	assert_string_equal(t, "three\n");
	free(t);
	tmptree_put(root, "/a/b/c.txt", "1");
	t = tmptree_read(under("/a/b/c.txt"));
	assert_string_equal(t, "1");
	free(t);

	/* larger than one read */
	size_t n = 100000;
	char *big = malloc(n + 1);
	assert_non_null(big);
	for (size_t i = 0; i < n; i++)
		big[i] = (char)('a' + i % 26);
	big[n] = '\0';
	tmptree_put(root, "/big", big);
	t = tmptree_read(under("/big"));
	assert_string_equal(t, big);
	free(t);
	free(big);

	tmptree_link(root, "/l/to-b", "../a/b");
	t = tmptree_read(under("/l/to-b/d.txt"));
	assert_string_equal(t, "two\n");
	free(t);
	tmptree_link(root, "/l/to-b", "../a");
	char target[16] = "";
	assert_int_equal(readlink(under("/l/to-b"), target, sizeof target - 1), 4);
	assert_string_equal(target, "../a");

	/* mkdirs through a link to a directory, and over existing ones */
	tmptree_mkdirs(under("/l/to-b/b/new/deeper"));
	struct stat st;
	assert_int_equal(stat(under("/a/b/new/deeper"), &st), 0);
	tmptree_mkdirs(under("/a/b/new/deeper"));
}

/* write: the bytes given (NULs too), the mode asked for when new, truncation
 * keeping the mode when not. */
static void test_write(void **state)
{
	(void)state;
	mode_t old = umask(022);
	tmptree_write(under("/w"), "a\0b", 3, 0640);
	struct stat st;
	assert_int_equal(stat(under("/w"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(st.st_size, 3);
	tmptree_write(under("/w"), "xy", 2, 0600);
	assert_int_equal(stat(under("/w"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	char *t = tmptree_read(under("/w"));
	assert_string_equal(t, "xy");
	free(t);
	tmptree_put(root, "/p", "");
	assert_int_equal(stat(under("/p"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(st.st_size, 0);
	umask(old);
}

/* Links are removed, never followed: the directory and the file they point to,
 * outside the tree, stay with all they hold. */
static void test_remove_keeps_link_targets(void **state)
{
	(void)state;
	char outside[64], tree[64];
	assert_int_equal(tmptree_make(outside, sizeof outside, "tmptree-outside"), 0);
	assert_int_equal(tmptree_make(tree, sizeof tree, "tmptree-tree"), 0);
	tmptree_put(outside, "/keep/file", "keep\n");
	char keep_dir[128], keep_file[128];
	snprintf(keep_dir, sizeof keep_dir, "%s/keep", outside);
	snprintf(keep_file, sizeof keep_file, "%s/keep/file", outside);
	tmptree_link(tree, "/usr/lib", keep_dir);
	tmptree_link(tree, "/etc/file", keep_file);
	tmptree_link(tree, "/etc/dangling", "/nonexistent/path");
	tmptree_put(tree, "/etc/own", "own\n");
	/* a directory nobody may read: no obstacle to root; for anyone else the
	 * one error, reported, with the rest removed all the same */
	char closed[128];
	snprintf(closed, sizeof closed, "%s/closed", tree);
	tmptree_put(tree, "/closed/inner/file", "x");
	assert_int_equal(chmod(closed, 0), 0);

	int r = tmptree_remove(tree);
	if (geteuid() != 0) {
		assert_int_equal(r, -EACCES);
		assert_int_equal(chmod(closed, 0700), 0);
		r = tmptree_remove(tree);
	}
	assert_int_equal(r, 0);
	struct stat st;
	assert_int_equal(lstat(tree, &st), -1);
	char *t = tmptree_read(keep_file);
	assert_string_equal(t, "keep\n");
	free(t);
	assert_int_equal(tmptree_remove(outside), 0);
}

/* A tree deeper than PATH_MAX bytes of path: removed all the same. */
static void test_remove_deep(void **state)
{
	(void)state;
	char name[201];
	memset(name, 'd', 200);
	name[200] = '\0';
	assert_int_equal(chdir(root), 0);
	int depth = 0;
	for (; depth < 30; depth++) {
		assert_int_equal(mkdir(name, 0755), 0);
		assert_int_equal(chdir(name), 0);
	}
	int fd = open("leaf", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chdir("/"), 0);
	char top[PATH_MAX];
	snprintf(top, sizeof top, "%s/%s", root, name);
	assert_int_equal(tmptree_remove(top), 0);
	struct stat st;
	assert_int_equal(lstat(top, &st), -1);
}

/* run: a tool that exits 0 passes; its files land where it was told. */
static void test_run(void **state)
{
	(void)state;
	const char *const argv[] = {"/bin/mkdir", "-p", under("/made/by/tool"), NULL};
	tmptree_run(argv);
	struct stat st;
	assert_int_equal(stat(under("/made/by/tool"), &st), 0);
	assert_true(S_ISDIR(st.st_mode));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_make),
	        cmocka_unit_test(test_put_link_read),
	        cmocka_unit_test(test_write),
	        cmocka_unit_test(test_remove_keeps_link_targets),
	        cmocka_unit_test(test_remove_deep),
	        cmocka_unit_test(test_run),
	};
	return cmocka_run_group_tests(tests, make_root, drop_root);
}
