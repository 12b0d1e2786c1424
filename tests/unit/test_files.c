/* module_utils/files: pt_file_write_atomic when the write fails part of the
 * way. Whatever fails — the data (a full file system, the file size limit),
 * the temporary file (a read-only directory), or the rename over the target (a
 * mount point, an immutable file) — the original file keeps every byte, no
 * temporary file or backup stays behind, no descriptor leaks, and the message
 * names the path and the errno text.
 *
 * Root (as CI runs) gets real file systems: each test mounts a small tmpfs in
 * a private mount namespace, so nothing is left mounted whatever happens.
 * Other users run the tests that need no mount and skip the rest. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "files.h"
#include "support/tmptree.h"

#define ORIGINAL "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n"

static bool can_mount; /* root, in a mount namespace of our own */

struct work {
	char dir[64];   /* the test's directory (a tmpfs mount point when mounted) */
	char file[128]; /* dir/grub, holding ORIGINAL */
	bool mounted;
};

/* The names in dir, sorted, joined by spaces (caller frees). */
static char *names_in(const char *dir)
{
	struct dirent **list = NULL;
	int n = scandir(dir, &list, NULL, alphasort);
	assert_true(n >= 0);
	size_t cap = 1;
	for (int i = 0; i < n; i++)
		cap += strlen(list[i]->d_name) + 1;
	char *out = calloc(1, cap);
	assert_non_null(out);
	for (int i = 0; i < n; i++) {
		if (strcmp(list[i]->d_name, ".") && strcmp(list[i]->d_name, "..")) {
			if (*out)
				strcat(out, " ");
			strcat(out, list[i]->d_name);
		}
		free(list[i]);
	}
	free(list);
	return out;
}

static int open_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static int setup(void **state)
{
	struct work *w = calloc(1, sizeof *w);
	if (!w)
		return -1;
	if (tmptree_make(w->dir, sizeof w->dir, "files") < 0) {
		free(w);
		return -1;
	}
	snprintf(w->file, sizeof w->file, "%s/grub", w->dir);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct work *w = *state;
	if (w->mounted)
		umount2(w->dir, MNT_DETACH);
	tmptree_remove(w->dir);
	free(w);
	return 0;
}

/* A tmpfs of `size` over the work directory, holding the original file. */
static void mount_tmpfs(struct work *w, const char *size)
{
	if (!can_mount)
		skip();
	char opts[64];
	snprintf(opts, sizeof opts, "size=%s,mode=0755", size);
	assert_int_equal(mount("tmpfs", w->dir, "tmpfs", 0, opts), 0);
	w->mounted = true;
	tmptree_write(w->file, ORIGINAL, strlen(ORIGINAL), 0640);
}

/* The write failed with `err`: the message names the path and the errno text,
 * the file holds ORIGINAL with its mode, and the directory holds `names`. */
static void assert_untouched(const struct work *w, int r, struct pt_report *rep, int err,
                             const char *names)
{
	assert_int_equal(r, -err);
	assert_int_equal(rep->error, -err);
	assert_non_null(rep->msg);
	assert_non_null(strstr(rep->msg, w->file));
	assert_non_null(strstr(rep->msg, strerror(err)));
	pt_report_release(rep);
	char *now = tmptree_read(w->file);
	assert_string_equal(now, ORIGINAL);
	free(now);
	struct stat st;
	assert_int_equal(stat(w->file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	char *in_dir = names_in(w->dir);
	assert_string_equal(in_dir, names);
	free(in_dir);
}

/* 32 KiB of new text: more than a few pages, so a full disk stops it midway. */
static char *big_text(void)
{
	size_t n = 32 * 1024;
	char *s = malloc(n + 1);
	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		s[i] = i % 64 == 63 ? '\n' : 'a' + (char)(i % 26);
	s[n] = '\0';
	return s;
}

/* The baseline: a write replaces the text, keeps the mode, leaves nothing. */
static void test_write_replaces(void **state)
{
	struct work *w = *state;
	tmptree_write(w->file, ORIGINAL, strlen(ORIGINAL), 0640);
	struct pt_report rep = {0};
	int fds = open_fds();
	const char *text = "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet iommu=pt\"\n";
	assert_int_equal(pt_file_write_atomic(w->file, text, strlen(text), NULL, NULL, &rep), 0);
	assert_null(rep.msg);
	assert_int_equal(rep.error, 0);
	char *now = tmptree_read(w->file);
	assert_string_equal(now, text);
	free(now);
	struct stat st;
	assert_int_equal(stat(w->file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	char *names = names_in(w->dir);
	assert_string_equal(names, "grub");
	free(names);
	assert_int_equal(open_fds(), fds);
}

/* A file system that fills up while the new text is written. */
static void test_full_file_system(void **state)
{
	struct work *w = *state;
	mount_tmpfs(w, "64k");
	/* Fill it, then free two pages: the write gets 8 KiB in, then ENOSPC. */
	char filler[256];
	snprintf(filler, sizeof filler, "%s/filler", w->dir);
	int fd = open(filler, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	char block[4096];
	memset(block, 'x', sizeof block);
	off_t size = 0;
	ssize_t n;
	while ((n = write(fd, block, sizeof block)) > 0)
		size += n;
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(ftruncate(fd, size - 8192), 0);
	close(fd);

	char *text = big_text(), *backup = NULL;
	struct pt_report rep = {0};
	int fds = open_fds();
	struct pt_write_opts opts = {.mode_if_new = 0644, .backup = false};
	int r = pt_file_write_atomic(w->file, text, strlen(text), &opts, &backup, &rep);
	assert_untouched(w, r, &rep, ENOSPC, "filler grub");
	assert_null(backup);
	assert_int_equal(open_fds(), fds);
	free(text);
}

/* The file size limit (RLIMIT_FSIZE) stops the write midway with EFBIG: the
 * same failure without a mount, for any user. */
static void test_file_size_limit(void **state)
{
	struct work *w = *state;
	tmptree_write(w->file, ORIGINAL, strlen(ORIGINAL), 0640);
	char *text = big_text();
	struct pt_report rep = {0};
	int fds = open_fds();
	struct rlimit old, lim;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 4096;
	void (*was)(int) = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	int r = pt_file_write_atomic(w->file, text, strlen(text), NULL, NULL, &rep);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, was);
	assert_untouched(w, r, &rep, EFBIG, "grub");
	assert_int_equal(open_fds(), fds);
	free(text);
}

/* A read-only file system: not even the temporary file can be made. */
static void test_read_only_directory(void **state)
{
	struct work *w = *state;
	mount_tmpfs(w, "64k");
	assert_int_equal(mount("tmpfs", w->dir, "tmpfs", MS_REMOUNT | MS_RDONLY, NULL), 0);
	struct pt_report rep = {0};
	int fds = open_fds();
	const char *text = "new\n";
	int r = pt_file_write_atomic(w->file, text, strlen(text), NULL, NULL, &rep);
	/* The message names the directory the temporary file was to go in. */
	assert_int_equal(r, -EROFS);
	assert_non_null(rep.msg);
	assert_non_null(strstr(rep.msg, w->dir));
	assert_non_null(strstr(rep.msg, strerror(EROFS)));
	pt_report_release(&rep);
	char *now = tmptree_read(w->file);
	assert_string_equal(now, ORIGINAL);
	free(now);
	char *names = names_in(w->dir);
	assert_string_equal(names, "grub");
	free(names);
	assert_int_equal(open_fds(), fds);
}

/* A read-only directory for a user the permissions stop (not root). */
static void test_unwritable_directory(void **state)
{
	struct work *w = *state;
	if (geteuid() == 0)
		skip(); /* root writes anyway; test_read_only_directory covers it */
	tmptree_write(w->file, ORIGINAL, strlen(ORIGINAL), 0640);
	assert_int_equal(chmod(w->dir, 0555), 0);
	struct pt_report rep = {0};
	int r = pt_file_write_atomic(w->file, "new\n", 4, NULL, NULL, &rep);
	chmod(w->dir, 0755);
	assert_int_equal(r, -EACCES);
	assert_non_null(rep.msg);
	assert_non_null(strstr(rep.msg, strerror(EACCES)));
	pt_report_release(&rep);
	char *now = tmptree_read(w->file);
	assert_string_equal(now, ORIGINAL);
	free(now);
}

/* The rename fails: the target is a mount point (a file bind-mounted on
 * itself), so the new text is complete in the temporary file but cannot
 * replace the target. The temporary file and the backup must go. */
static void test_rename_fails_on_mount_point(void **state)
{
	struct work *w = *state;
	mount_tmpfs(w, "64k");
	assert_int_equal(mount(w->file, w->file, "none", MS_BIND, NULL), 0);
	char *backup = NULL;
	struct pt_report rep = {0};
	int fds = open_fds();
	struct pt_write_opts opts = {.mode_if_new = 0644, .backup = true};
	const char *text = "new\n";
	int r = pt_file_write_atomic(w->file, text, strlen(text), &opts, &backup, &rep);
	assert_null(backup);
	assert_untouched(w, r, &rep, EBUSY, "grub");
	assert_int_equal(open_fds(), fds);
	assert_int_equal(umount2(w->file, 0), 0);
}

/* The rename fails: the target is immutable (chattr +i). */
static void test_rename_fails_on_immutable_file(void **state)
{
	struct work *w = *state;
	mount_tmpfs(w, "64k");
	int fd = open(w->file, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	int flags = 0;
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0) {
		close(fd);
		skip(); /* a kernel whose tmpfs has no inode flags */
	}
	flags |= FS_IMMUTABLE_FL;
	assert_int_equal(ioctl(fd, FS_IOC_SETFLAGS, &flags), 0);
	struct pt_report rep = {0};
	int fds = open_fds();
	const char *text = "new\n";
	int r = pt_file_write_atomic(w->file, text, strlen(text), NULL, NULL, &rep);
	int after = open_fds();
	flags &= ~FS_IMMUTABLE_FL;
	assert_int_equal(ioctl(fd, FS_IOC_SETFLAGS, &flags), 0);
	close(fd);
	assert_untouched(w, r, &rep, EPERM, "grub");
	assert_int_equal(after, fds);
}

/* A directory where the file should be is refused before anything is made. */
static void test_target_is_a_directory(void **state)
{
	struct work *w = *state;
	assert_int_equal(mkdir(w->file, 0755), 0);
	struct pt_report rep = {0};
	int r = pt_file_write_atomic(w->file, "new\n", 4, NULL, NULL, &rep);
	assert_int_equal(r, -EINVAL);
	assert_non_null(rep.msg);
	assert_non_null(strstr(rep.msg, w->file));
	assert_non_null(strstr(rep.msg, "not a regular file"));
	pt_report_release(&rep);
	char *names = names_in(w->dir);
	assert_string_equal(names, "grub");
	free(names);
	names = names_in(w->file);
	assert_string_equal(names, "");
	free(names);
}

/* Through a symlink (followed): a failure leaves the link and its target. */
static void test_symlink_target_on_full_file_system(void **state)
{
	struct work *w = *state;
	mount_tmpfs(w, "64k");
	char link[256], filler[256];
	snprintf(link, sizeof link, "%s/grub.link", w->dir);
	snprintf(filler, sizeof filler, "%s/filler", w->dir);
	assert_int_equal(symlink(w->file, link), 0);
	int fd = open(filler, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	char block[4096];
	memset(block, 'x', sizeof block);
	while (write(fd, block, sizeof block) > 0)
		;
	close(fd);
	char *text = big_text();
	struct pt_report rep = {0};
	int r = pt_file_write_atomic(link, text, strlen(text), NULL, NULL, &rep);
	char target[256] = "";
	ssize_t n = readlink(link, target, sizeof target - 1);
	assert_true(n > 0);
	target[n] = '\0';
	assert_string_equal(target, w->file);
	assert_untouched(w, r, &rep, ENOSPC, "filler grub grub.link");
	free(text);
}

/* pt_file_remove's reasons come in the caller's report: a path outside the
 * confinement root is refused there; an absent file is no failure; a caller
 * that needs no reason passes NULL. */
static void test_remove_reports_in_report(void **state)
{
	struct work *w = *state;
	tmptree_write(w->file, ORIGINAL, strlen(ORIGINAL), 0640);
	struct pt_report rep = {0};
	pt_files_confine(w->dir);
	int r = pt_file_remove("/nonexistent-dir-of-the-test/grub", false, NULL, &rep);
	assert_int_equal(r, -EXDEV);
	assert_int_equal(rep.error, -EXDEV);
	assert_non_null(strstr(rep.msg, "refusing to remove outside root:"));
	pt_report_release(&rep);

	char absent[256];
	snprintf(absent, sizeof absent, "%s/absent", w->dir);
	assert_int_equal(pt_file_remove(absent, false, NULL, &rep), 0);
	assert_int_equal(rep.error, 0);
	assert_null(rep.msg);
	assert_int_equal(pt_file_remove(w->file, false, NULL, NULL), 0);
	pt_files_confine(NULL);
	char *names = names_in(w->dir);
	assert_string_equal(names, "");
	free(names);
}

int main(void)
{
	/* Mounts made in a namespace of our own vanish with the process, even
	 * when a test fails between its mount and its teardown. */
	if (geteuid() == 0 && unshare(CLONE_NEWNS) == 0 &&
	    mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) == 0)
		can_mount = true;
	else
		fprintf(stderr, "test_files: not root or no mount namespace: the tests that mount "
		                "a file system are skipped\n");
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_write_replaces, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_full_file_system, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_file_size_limit, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_read_only_directory, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_unwritable_directory, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_rename_fails_on_mount_point, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_rename_fails_on_immutable_file, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_target_is_a_directory, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_symlink_target_on_full_file_system, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_remove_reports_in_report, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
