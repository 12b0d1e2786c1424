/* record-cmd: a recording stand-in for host commands inside sandbox roots
 * (update-grub, proxmox-boot-tool, update-initramfs, modprobe, ...).
 *
 * Installed under a sandbox root with the name of the command it replaces; the
 * modules run it chrooted, so every path below is inside the sandbox:
 *   - appends one line "NAME ARG1 ARG2 ..." to /var/log/record-cmd.log;
 *   - prints /etc/record-cmd/NAME.SUBCOMMAND.out or /etc/record-cmd/NAME.out to
 *     stdout, and the matching .err file to stderr, when present;
 *   - exits with the number in the matching .rc file (default 0);
 *   - first sleeps the number of seconds in the matching .sleep file, when
 *     present (after logging the call): a command that hangs, for timeouts.
 * SUBCOMMAND is argv[1] (e.g. "status" for proxmox-boot-tool status).
 * Static, so it needs nothing else inside the sandbox. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void copy_to(const char *path, FILE *out)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		fwrite(buf, 1, n, out);
	fclose(f);
}

/* The first of NAME.SUB.ext and NAME.ext that exists, or NULL. */
static const char *pick(const char *name, const char *sub, const char *ext, char *buf, size_t size)
{
	if (sub) {
		snprintf(buf, size, "/etc/record-cmd/%s.%s.%s", name, sub, ext);
		if (access(buf, R_OK) == 0)
			return buf;
	}
	snprintf(buf, size, "/etc/record-cmd/%s.%s", name, ext);
	return access(buf, R_OK) == 0 ? buf : NULL;
}

int main(int argc, char **argv)
{
	const char *slash = strrchr(argv[0], '/');
	const char *name = slash ? slash + 1 : argv[0];
	const char *sub = argc > 1 ? argv[1] : NULL;

	mkdir("/var", 0755);
	mkdir("/var/log", 0755);
	FILE *log = fopen("/var/log/record-cmd.log", "a");
	if (log) {
		fputs(name, log);
		for (int i = 1; i < argc; i++)
			fprintf(log, " %s", argv[i]);
		fputc('\n', log);
		fclose(log);
	}

	char path[512];
	const char *p;
	if ((p = pick(name, sub, "sleep", path, sizeof path))) {
		FILE *f = fopen(p, "r");
		unsigned seconds = 0;
		if (f) {
			if (fscanf(f, "%u", &seconds) != 1)
				seconds = 0;
			fclose(f);
		}
		while (seconds > 0)
			seconds = sleep(seconds);
	}
	if ((p = pick(name, sub, "out", path, sizeof path)))
		copy_to(p, stdout);
	if ((p = pick(name, sub, "err", path, sizeof path)))
		copy_to(p, stderr);
	int rc = 0;
	if ((p = pick(name, sub, "rc", path, sizeof path))) {
		FILE *f = fopen(p, "r");
		if (f) {
			if (fscanf(f, "%d", &rc) != 1)
				rc = 1;
			fclose(f);
		}
	}
	return rc;
}
