/* fake-pvesh: a stand-in for Proxmox VE's `pvesh`, for the part the collection
 * uses: the cluster PCI resource mappings.
 *
 *     pvesh get    /cluster/mapping/pci             [--output-format json] [--check-node N]
 *     pvesh get    /cluster/mapping/pci/ID          [--output-format json]
 *     pvesh create /cluster/mapping/pci --id ID --map ENTRY [--map ENTRY...]
 *                  [--description TEXT] [--mdev 0|1] [--live-migration-capable 0|1]
 *     pvesh set    /cluster/mapping/pci/ID --map ENTRY [--map ENTRY...] [--description T]
 *                  [--mdev 0|1] [--live-migration-capable 0|1] [--delete LIST] [--digest HEX]
 *     pvesh delete /cluster/mapping/pci/ID
 *
 * Installed as /usr/bin/pvesh in a sandbox root and run chrooted there (the
 * module runs pvesh through pt_exec with its root), so every path below is inside
 * the sandbox. Outside a chroot, FAKE_PVESH_ROOT=DIR puts the files under DIR.
 *
 * What it keeps faithful to Proxmox VE 8/9 (pve-manager API2/Cluster/Mapping/PCI.pm,
 * pve-guest-common Mapping/PCI.pm, pve-common SectionConfig/JSONSchema/CLIHandler,
 * pve-cluster cfs_lock):
 *   - /etc/pve/mapping/pci.cfg read leniently and written in Proxmox's exact layout
 *     (tests/tools/support/pve_cfg.c over module_utils/pve_mapping.c), parse
 *     warnings on stderr;
 *   - the digest: SHA-1 hex of the whole file; a stale --digest is refused;
 *   - each write under a lock (flock on the directory /etc/pve/priv/lock/
 *     file-mapping_pci_cfg, Proxmox's lock name), 10 s to acquire, with Proxmox's
 *     "trying to acquire cfs lock" lines and timeout message;
 *   - messages and exit codes: schema errors as "400 Parameter verification
 *     failed." plus one line per parameter and a usage text, exit 255; API errors
 *     ("pci ID 'X' already defined", "mapping 'X' not found", "update hardware
 *     mapping failed: detected modified configuration - ...") exit 255; an unknown
 *     API path "No 'get' handler defined for '/x'" exit 1;
 *   - JSON output: compact with sorted keys, as pvesh's --output-format json.
 *   - text as Perl handles it: every argument decoded by the locale in the
 *     environment (LC_ALL, else LC_CTYPE, else LANG: a UTF-8 codeset decodes UTF-8,
 *     anything else is ASCII, each other byte becoming U+FFFD), pci.cfg written
 *     without an encoding layer (characters up to U+00FF as one Latin-1 byte; one
 *     character beyond turns the whole file into UTF-8, with Perl's "Wide
 *     character in print" warning), read as bytes, and each byte >= 0x80 printed
 *     by `get --output-format json` as the character of that value; blanks around
 *     a value trimmed when pci.cfg is read; maxLength counted in characters;
 *   - an older Proxmox VE on request: the knob file guest-common-version (or
 *     FAKE_PVESH_GUEST_COMMON_VERSION) below 5.1.7 makes --live-migration-capable
 *     an unknown option, as libpve-guest-common-perl before 5.1.7 (PVE 8.4) does.
 * Not modelled: permissions, proxying to other nodes, `check-node` hardware checks
 * (only the "No mapping for node" warning), yaml output; text output is a plain
 * key/value listing, not Proxmox's tables; exit codes of a `die` (Perl exits with
 * whatever errno holds then: 2 or 255 were both seen for the same kind of error);
 * whether the locale is installed (Perl falls back to C when it is not).
 * tests/tools/README.md says what was compared with the real code, and how.
 *
 * Test knobs (files inside the root, absent = off):
 *   /etc/fake-pvesh/get-delay-ms     sleep between reading pci.cfg and answering a get
 *   /etc/fake-pvesh/write-delay-ms   sleep while holding the lock, before writing
 *       (each holds "N" or "MIN-MAX" milliseconds, picked at random per call)
 *   /etc/fake-pvesh/lock-timeout-s   lock acquire timeout instead of Proxmox's 10 s
 *   /etc/fake-pvesh/guest-common-version   the libpve-guest-common-perl version to
 *       behave as ("5.1.6": no live-migration-capable); the environment variable
 *       FAKE_PVESH_GUEST_COMMON_VERSION wins over the file
 * Every call is logged to /var/log/fake-pvesh.log: "pvesh ARGS... => RC".
 *
 * Extra, for tests only: `pvesh x-reformat FILE` prints FILE as Proxmox would write
 * it back after parsing (warnings on stderr; exit 255 when Proxmox's writer would
 * refuse), so a test can check that a file round-trips byte for byte. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cleanup.h"
#include "files.h"
#include "pve_mapping.h"
#include "sha1.h"
#include "strbuf.h"
#include "support/pve_cfg.h"

#define LOCK_ID   "file-mapping_pci_cfg"
#define LOCK_DIR  "/etc/pve/priv/lock"
#define KNOB_DIR  "/etc/fake-pvesh"
#define LOG_FILE  "/var/log/fake-pvesh.log"
#define EXIT_DIE  255 /* what perl's die gives pvesh */
#define EXIT_PATH 1   /* pvesh: no handler for a path */

static const char *root_prefix = "";
static int saved_argc;
static char **saved_argv;

/* --- small helpers ----------------------------------------------------------- */

static char *in_root(const char *path)
{
	char *p = NULL;
	if (asprintf(&p, "%s%s", root_prefix, path) < 0) {
		fputs("fake-pvesh: out of memory\n", stderr);
		exit(EXIT_DIE);
	}
	return p;
}

static void log_call(int rc)
{
	_cleanup_free_ char *var = in_root("/var");
	_cleanup_free_ char *dir = in_root("/var/log");
	mkdir(var, 0755);
	mkdir(dir, 0755);
	_cleanup_free_ char *path = in_root(LOG_FILE);
	struct pt_strbuf sb = PT_STRBUF_INIT;
	pt_strbuf_puts(&sb, "pvesh");
	for (int i = 1; i < saved_argc; i++)
		pt_strbuf_printf(&sb, " %s", saved_argv[i]);
	pt_strbuf_printf(&sb, " => %d\n", rc);
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0) {
		/* One write per line: concurrent callers do not interleave inside a line. */
		(void)!write(fd, pt_strbuf_str(&sb), sb.len);
		close(fd);
	}
	pt_strbuf_release(&sb);
}

static int finish(int rc)
{
	fflush(stdout);
	log_call(rc);
	return rc;
}

/* Print Proxmox's message for a plain `die` and return its exit code. */
static int die_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int die_msg(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	return finish(EXIT_DIE);
}

/* A knob file's milliseconds: "N" or "MIN-MAX" (random in between). 0 when absent. */
static long knob_ms(const char *name)
{
	_cleanup_free_ char *rel = NULL;
	if (asprintf(&rel, KNOB_DIR "/%s", name) < 0)
		return 0;
	_cleanup_free_ char *path = in_root(rel);
	_cleanup_free_ char *text = pt_file_read_line(path);
	if (!text)
		return 0;
	long lo = 0, hi = 0;
	int n = sscanf(text, "%ld-%ld", &lo, &hi);
	if (n < 1 || lo < 0)
		return 0;
	if (n < 2 || hi <= lo)
		return lo;
	return lo + random() % (hi - lo + 1);
}

static void sleep_ms(long ms)
{
	if (ms <= 0)
		return;
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* --- text as Perl holds it ------------------------------------------------------- */

/* Inside the fake every text is what Perl holds: a string of characters, kept here
 * as their UTF-8 encoding. pci.cfg's bytes are characters 0-255 (Perl reads the file
 * undecoded); arguments are decoded by the locale. */

static void put_char(struct pt_strbuf *sb, unsigned long c)
{
	if (c < 0x80) {
		pt_strbuf_putc(sb, (char)c);
	} else if (c < 0x800) {
		pt_strbuf_putc(sb, (char)(0xc0 | (c >> 6)));
		pt_strbuf_putc(sb, (char)(0x80 | (c & 0x3f)));
	} else if (c < 0x10000) {
		pt_strbuf_putc(sb, (char)(0xe0 | (c >> 12)));
		pt_strbuf_putc(sb, (char)(0x80 | ((c >> 6) & 0x3f)));
		pt_strbuf_putc(sb, (char)(0x80 | (c & 0x3f)));
	} else {
		pt_strbuf_putc(sb, (char)(0xf0 | (c >> 18)));
		pt_strbuf_putc(sb, (char)(0x80 | ((c >> 12) & 0x3f)));
		pt_strbuf_putc(sb, (char)(0x80 | ((c >> 6) & 0x3f)));
		pt_strbuf_putc(sb, (char)(0x80 | (c & 0x3f)));
	}
}

/* The UTF-8 character at s[0..n): its code point and length, or -1 when malformed. */
static long utf8_at(const unsigned char *s, size_t n, size_t *len)
{
	size_t need = s[0] < 0x80             ? 1
	              : (s[0] & 0xe0) == 0xc0 ? 2
	              : (s[0] & 0xf0) == 0xe0 ? 3
	              : (s[0] & 0xf8) == 0xf0 ? 4
	                                      : 0;
	if (!need || need > n)
		return -1;
	long c = need == 1 ? s[0] : s[0] & (0x7f >> need);
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		c = (c << 6) | (s[i] & 0x3f);
	}
	static const long min[] = {0, 0, 0x80, 0x800, 0x10000};
	if (c < min[need] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*len = need;
	return c;
}

/* Perl takes the codeset from LC_ALL, else LC_CTYPE, else LANG. */
static bool locale_is_utf8(void)
{
	const char *names[] = {"LC_ALL", "LC_CTYPE", "LANG"};
	const char *l = NULL;
	for (int i = 0; i < 3 && !(l && *l); i++)
		l = getenv(names[i]);
	const char *dot = l ? strchr(l, '.') : NULL;
	if (!dot)
		return false;
	size_t n = strcspn(++dot, "@");
	return (n == 5 && strncasecmp(dot, "utf-8", 5) == 0) ||
	       (n == 4 && strncasecmp(dot, "utf8", 4) == 0);
}

/* decode('locale', ARG): a UTF-8 locale decodes UTF-8 (a malformed byte becomes
 * U+FFFD); any other is ASCII, where every byte >= 0x80 becomes U+FFFD. Caller
 * frees. */
static char *decode_arg(const char *arg)
{
	bool utf8 = locale_is_utf8();
	struct pt_strbuf sb = PT_STRBUF_INIT;
	const unsigned char *p = (const unsigned char *)arg;
	size_t n = strlen(arg);
	for (size_t i = 0; i < n;) {
		size_t len = 1;
		long c = p[i] < 0x80 ? p[i] : utf8 ? utf8_at(p + i, n - i, &len) : -1;
		put_char(&sb, c < 0 ? 0xfffd : (unsigned long)c);
		i += c < 0 ? 1 : len;
	}
	return pt_strbuf_steal(&sb);
}

/* pci.cfg's bytes as Perl holds them undecoded: one character per byte. */
static char *bytes_to_chars(const char *bytes, size_t len)
{
	struct pt_strbuf sb = PT_STRBUF_INIT;
	for (size_t i = 0; i < len; i++)
		put_char(&sb, (unsigned char)bytes[i]);
	return pt_strbuf_steal(&sb);
}

/* What print to a file without an encoding layer writes for chars[0..len): one
 * byte per character when all are below 256; else the UTF-8 of the whole string
 * (and Perl's warning). Appends to out. */
static void chars_to_file(const char *chars, size_t len, struct pt_strbuf *out)
{
	const unsigned char *p = (const unsigned char *)chars;
	bool wide = false;
	for (size_t i = 0; i < len && !wide;) {
		size_t n = 1;
		long c = utf8_at(p + i, len - i, &n);
		wide = c > 0xff;
		i += n;
	}
	if (wide) {
		fputs("Wide character in print at /usr/share/perl5/PVE/File.pm line 75.\n", stderr);
		pt_strbuf_append(out, chars, len);
		return;
	}
	for (size_t i = 0; i < len;) {
		size_t n = 1;
		long c = utf8_at(p + i, len - i, &n);
		pt_strbuf_putc(out, (char)(c < 0 ? p[i] : c));
		i += n;
	}
}

/* --- the options ------------------------------------------------------------------- */

enum kind { STR, ARRAY, BOOL, LIST };

struct optdef {
	const char *name;
	enum kind kind;
};

/* The methods pvesh maps to on our paths. */
enum method { M_INDEX, M_READ, M_CREATE, M_UPDATE, M_DELETE };

static const struct optdef std_opts[] = {
        {"output-format", STR}, {"noborder", BOOL},       {"noheader", BOOL},
        {"quiet", BOOL},        {"human-readable", BOOL}, {"noproxy", BOOL},
};
static const struct optdef index_opts[] = {{"check-node", STR}};
static const struct optdef create_opts[] = {
        {"id", STR},
        {"map", ARRAY},
        {"description", STR},
        {"mdev", BOOL},
        {"live-migration-capable", BOOL},
};
static const struct optdef update_opts[] = {
        {"map", ARRAY},   {"description", STR}, {"mdev", BOOL}, {"live-migration-capable", BOOL},
        {"delete", LIST}, {"digest", STR},
};

struct opts {
	json_t *values; /* option name -> string, or array of strings for ARRAY */
};

static const struct optdef *find_opt(enum method m, const char *name, size_t n, bool *ambiguous)
{
	const struct optdef *tables[2] = {std_opts, NULL};
	size_t sizes[2] = {sizeof std_opts / sizeof std_opts[0], 0};
	if (m == M_INDEX) {
		tables[1] = index_opts;
		sizes[1] = 1;
	} else if (m == M_CREATE) {
		tables[1] = create_opts;
		sizes[1] = sizeof create_opts / sizeof create_opts[0];
	} else if (m == M_UPDATE) {
		tables[1] = update_opts;
		sizes[1] = sizeof update_opts / sizeof update_opts[0];
	}
	/* Getopt::Long: an exact name, or an unambiguous abbreviation. */
	const struct optdef *prefix_hit = NULL;
	int prefix_hits = 0;
	for (int t = 0; t < 2; t++) {
		for (size_t i = 0; i < sizes[t]; i++) {
			const struct optdef *d = &tables[t][i];
			if (strlen(d->name) == n && strncmp(d->name, name, n) == 0)
				return d;
			if (strncmp(d->name, name, n) == 0) {
				prefix_hit = d;
				prefix_hits++;
			}
		}
	}
	*ambiguous = prefix_hits > 1;
	return prefix_hits == 1 ? prefix_hit : NULL;
}

static const char *method_cmd(enum method m)
{
	static const char *const names[] = {"get", "get", "create", "set", "delete"};
	return names[m];
}

/* The short usage CLIHandler appends to a parameter error: one line, naming the
 * required options (compared with pvesh from pve-manager on the real code). */
static void print_usage(enum method m)
{
	if (m == M_CREATE)
		fputs("pvesh create <api_path> --id <string> --map <array> [OPTIONS] "
		      "[FORMAT_OPTIONS]\n",
		      stderr);
	else
		fprintf(stderr, "pvesh %s <api_path> [OPTIONS] [FORMAT_OPTIONS]\n", method_cmd(m));
}

/* A parameter exception: code 400, the message, then the usage (as CLIHandler
 * appends it to parameter errors). */
static int param_error(enum method m, const char *msg, json_t *errors)
{
	fprintf(stderr, "400 %s", msg);
	const char *key;
	json_t *v;
	/* Proxmox prints its error hash in hash order; sorted here for stable tests. */
	size_t n = json_object_size(errors);
	const char **keys = calloc(n ? n : 1, sizeof *keys);
	size_t i = 0;
	json_object_foreach (errors, key, v) {
		if (keys)
			keys[i++] = key;
	}
	if (keys) {
		for (size_t a = 0; a < i; a++)
			for (size_t b = a + 1; b < i; b++)
				if (strcmp(keys[a], keys[b]) > 0) {
					const char *t = keys[a];
					keys[a] = keys[b];
					keys[b] = t;
				}
		for (size_t a = 0; a < i; a++)
			fprintf(stderr, "%s: %s\n", keys[a],
			        json_string_value(json_object_get(errors, keys[a])));
		free(keys);
	}
	print_usage(m);
	return finish(EXIT_DIE);
}

static int parse_boolean(const char *s)
{
	static const char *const yes[] = {"1", "on", "yes", "true"};
	static const char *const no[] = {"0", "off", "no", "false"};
	for (int i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

/* Whether the emulated libpve-guest-common-perl has live-migration-capable: from
 * 5.1.7 on. The version comes from FAKE_PVESH_GUEST_COMMON_VERSION or the knob
 * file; none means the newest. */
static bool knows_live_migration(void)
{
	const char *env = getenv("FAKE_PVESH_GUEST_COMMON_VERSION");
	_cleanup_free_ char *path = in_root(KNOB_DIR "/guest-common-version");
	_cleanup_free_ char *file = env && *env ? NULL : pt_file_read_line(path);
	const char *v = env && *env ? env : file;
	int major = 0, minor = 0, patch = 0;
	if (!v || sscanf(v, "%d.%d.%d", &major, &minor, &patch) < 1)
		return true;
	return major > 5 || (major == 5 && (minor > 1 || (minor == 1 && patch >= 7)));
}

/* Getopt::Long with Proxmox's definitions: "--name value", "--name=value", "-name";
 * booleans take an optional value; arrays repeat; the rest are positional. Returns
 * 0, or the exit code after printing the error. */
static int parse_options(enum method m, int argc, char **argv, json_t *values, json_t *positional)
{
	bool options_done = false;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (options_done || a[0] != '-' || a[1] == '\0') {
			_cleanup_free_ char *arg = decode_arg(a);
			json_array_append_new(positional, json_string(arg ? arg : ""));
			continue;
		}
		if (strcmp(a, "--") == 0) {
			options_done = true;
			continue;
		}
		const char *name = a + (a[1] == '-' ? 2 : 1);
		const char *eq = strchr(name, '=');
		size_t n = eq ? (size_t)(eq - name) : strlen(name);
		bool ambiguous = false;
		const struct optdef *d = find_opt(m, name, n, &ambiguous);
		if (d && strcmp(d->name, "live-migration-capable") == 0 && !knows_live_migration())
			d = NULL;
		if (!d) {
			fprintf(stderr, "%s option: %.*s\n", ambiguous ? "Ambiguous" : "Unknown",
			        (int)n, name);
			return param_error(m, "unable to parse option\n", NULL);
		}
		const char *value = eq ? eq + 1 : NULL;
		if (!value && d->kind == BOOL) {
			/* ":s": the next argument, unless it looks like an option. */
			if (i + 1 < argc && !(argv[i + 1][0] == '-' && argv[i + 1][1]))
				value = argv[++i];
			else
				value = "";
		}
		if (!value) {
			if (i + 1 >= argc) {
				fprintf(stderr, "Option %s requires an argument\n", d->name);
				return param_error(m, "unable to parse option\n", NULL);
			}
			value = argv[++i];
		}
		_cleanup_free_ char *decoded = decode_arg(value);
		json_t *text = json_string(decoded ? decoded : "");
		if (d->kind == ARRAY || d->kind == LIST) {
			json_t *arr = json_object_get(values, d->name);
			if (!arr) {
				arr = json_array();
				json_object_set_new(values, d->name, arr);
			}
			json_array_append_new(arr, text);
		} else {
			json_object_set_new(values, d->name, text);
		}
	}
	/* After Getopt: booleans parsed, -list formats joined with commas. */
	const char *key;
	json_t *v;
	void *tmp;
	json_object_foreach_safe(values, tmp, key, v)
	{
		bool ambiguous;
		const struct optdef *d = find_opt(m, key, strlen(key), &ambiguous);
		if (d && d->kind == BOOL) {
			const char *s = json_string_value(v);
			int b = *s ? parse_boolean(s) : 1;
			if (b < 0)
				return param_error(m, "unable to parse boolean option\n", NULL);
			json_object_set_new(values, key, json_integer(b));
		} else if (d && d->kind == LIST) {
			struct pt_strbuf sb = PT_STRBUF_INIT;
			size_t i;
			json_t *item;
			json_array_foreach (v, i, item) {
				pt_strbuf_printf(&sb, "%s%s", i ? "," : "",
				                 json_string_value(item));
			}
			json_object_set_new(values, key, json_string(pt_strbuf_str(&sb)));
			pt_strbuf_release(&sb);
		}
	}
	return 0;
}

static const char *opt_str(json_t *values, const char *key)
{
	return json_string_value(json_object_get(values, key));
}

static int opt_bool(json_t *values, const char *key)
{
	json_t *v = json_object_get(values, key);
	return v ? (int)json_integer_value(v) : -1;
}

static void add_error(json_t *errors, const char *path, const char *msg)
{
	json_object_set_new(errors, path, json_string(msg));
}

/* Proxmox's split_list: separators are ; , whitespace and NUL. */
static json_t *split_list(const char *s)
{
	json_t *out = json_array();
	const char *p = s;
	while (*p) {
		size_t n = strcspn(p, ";, \t\n\r\f\v");
		if (n)
			json_array_append_new(out, json_stringn(p, n));
		p += n;
		if (*p)
			p++;
	}
	return out;
}

/* The method's schema, as JSONSchema::validate checks it. */
static void validate(enum method m, json_t *values, const char *path_id, json_t *errors)
{
	const char *fmt = opt_str(values, "output-format");
	if (fmt && strcmp(fmt, "text") && strcmp(fmt, "json") && strcmp(fmt, "json-pretty") &&
	    strcmp(fmt, "yaml")) {
		_cleanup_free_ char *msg = NULL;
		if (asprintf(&msg,
		             "value '%s' does not have a value in the enumeration 'text, json, "
		             "json-pretty, yaml'",
		             fmt) >= 0)
			add_error(errors, "output-format", msg);
	}
	const char *id = m == M_CREATE ? opt_str(values, "id") : path_id;
	if (m != M_INDEX) {
		if (!id) {
			add_error(errors, "id", "property is missing and it is not optional");
		} else if (!pt_pve_valid_configid(id)) {
			_cleanup_free_ char *msg = NULL;
			if (asprintf(&msg, "invalid format - invalid configuration ID '%s'\n",
			             id) >= 0)
				add_error(errors, "id", msg);
		}
	}
	const char *node = opt_str(values, "check-node");
	if (node && !pt_pve_valid_node(node))
		add_error(errors, "check-node",
		          "invalid format - value does not look like a valid node name\n");
	json_t *map = json_object_get(values, "map");
	if (m == M_CREATE && !map)
		add_error(errors, "map", "property is missing and it is not optional");
	size_t i;
	json_t *item;
	json_array_foreach (map, i, item) {
		char path[32];
		snprintf(path, sizeof path, "map[%zu]", i);
		struct pt_pve_map_entry e;
		struct pt_report why; /* Proxmox's error text for this entry */
		pt_report_init(&why);
		if (pt_pve_map_entry_parse(json_string_value(item), path, &e, &why) == 0)
			pt_pve_map_entry_release(&e);
		else if (why.msg)
			add_error(errors, path, why.msg);
		pt_report_release(&why);
	}
	const char *desc = opt_str(values, "description");
	if (desc && pt_pve_text_chars(desc) > PT_PVE_DESCRIPTION_MAX)
		add_error(errors, "description", "value may only be 4096 characters long");
	const char *digest = opt_str(values, "digest");
	if (digest && strlen(digest) > 64)
		add_error(errors, "digest", "value may only be 64 characters long");
	const char *del = opt_str(values, "delete");
	if (del) {
		if (strlen(del) > 4096) {
			add_error(errors, "delete", "value may only be 4096 characters long");
		} else {
			json_t *list = split_list(del);
			json_array_foreach (list, i, item) {
				const char *one = json_string_value(item);
				if (pt_pve_valid_configid(one))
					continue;
				_cleanup_free_ char *msg = NULL;
				if (asprintf(&msg,
				             "invalid format - invalid configuration ID '%s'\n",
				             one) >= 0)
					add_error(errors, "delete", msg);
				break;
			}
			json_decref(list);
		}
	}
}

/* --- pci.cfg under the lock ---------------------------------------------------------- */

static int read_config(struct pt_pve_config *cfg)
{
	_cleanup_free_ char *pve = in_root("/etc/pve");
	struct stat st;
	if (stat(pve, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fputs("ipcc_send_rec[1] failed: Connection refused\n", stderr);
		return -ENOTCONN;
	}
	_cleanup_free_ char *path = in_root(PT_PVE_PCI_CFG);
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = pt_file_read(path, &text, &len);
	if (r == -ENOENT) {
		/* Proxmox parses a missing file as empty (digest of ""). */
		len = 0;
	} else if (r < 0) {
		fprintf(stderr, "unable to read %s - %s\n", PT_PVE_PCI_CFG, strerror(-r));
		return r;
	}
	struct pt_strbuf warnings = PT_STRBUF_INIT;
	_cleanup_free_ char *chars = bytes_to_chars(text ? text : "", len);
	if (!chars)
		return -ENOMEM;
	r = pt_pve_config_parse(chars, strlen(chars), PT_PVE_PCI_CFG, cfg, &warnings);
	/* Proxmox's digest is of the file's bytes. */
	if (r == 0)
		pt_sha1_hex(text ? text : "", len, cfg->digest);
	fputs(pt_strbuf_str(&warnings), stderr);
	pt_strbuf_release(&warnings);
	return r;
}

static int write_config(const struct pt_pve_config *cfg, char **errmsg)
{
	struct pt_strbuf out = PT_STRBUF_INIT;
	int r = pt_pve_config_render(cfg, &out, errmsg);
	if (r < 0) {
		pt_strbuf_release(&out);
		return r;
	}
	_cleanup_free_ char *path = in_root(PT_PVE_PCI_CFG);
	struct pt_write_opts wo = {.mode_if_new = 0640, .backup = false, .mkdirs = true};
	struct pt_strbuf bytes = PT_STRBUF_INIT;
	chars_to_file(pt_strbuf_str(&out), out.len, &bytes);
	pt_strbuf_release(&out);
	if (bytes.oom) {
		pt_strbuf_release(&bytes);
		return -ENOMEM;
	}
	_cleanup_report_ struct pt_report wrep = {0};
	r = pt_file_write_atomic(path, pt_strbuf_str(&bytes), bytes.len, &wo, NULL, &wrep);
	*errmsg = PT_STEAL(wrep.msg);
	pt_strbuf_release(&bytes);
	return r;
}

/* cfs_lock_file: returns the locked fd, or -1 with *errmsg set to Proxmox's text. */
static int take_lock(char **errmsg)
{
	_cleanup_free_ char *pve = in_root("/etc/pve");
	_cleanup_free_ char *dir = in_root(LOCK_DIR);
	_cleanup_free_ char *lock = in_root(LOCK_DIR "/" LOCK_ID);
	struct stat st;
	if (stat(pve, &st) < 0 || !S_ISDIR(st.st_mode)) {
		if (asprintf(errmsg, "cfs-lock '%s' error: pve cluster filesystem not online.\n",
		             LOCK_ID) < 0)
			*errmsg = NULL;
		return -1;
	}
	_cleanup_free_ char *priv = in_root("/etc/pve/priv");
	mkdir(priv, 0700);
	mkdir(dir, 0755);
	mkdir(lock, 0755);
	int fd = open(lock, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if (asprintf(errmsg, "cfs-lock '%s' error: %s\n", LOCK_ID, strerror(errno)) < 0)
			*errmsg = NULL;
		return -1;
	}
	long timeout_s = knob_ms("lock-timeout-s");
	if (timeout_s <= 0)
		timeout_s = 10;
	long waited_ms = 0;
	long last_report_s = 0;
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (waited_ms + 100 >= timeout_s * 1000) {
			close(fd);
			if (asprintf(errmsg, "cfs-lock '%s' error: got lock request timeout\n",
			             LOCK_ID) < 0)
				*errmsg = NULL;
			return -1;
		}
		if ((waited_ms + 100) / 1000 > last_report_s) {
			last_report_s = (waited_ms + 100) / 1000;
			fprintf(stderr, "trying to acquire cfs lock '%s' ...\n", LOCK_ID);
		}
		sleep_ms(100);
		waited_ms += 100;
	}
	return fd;
}

/* --- the API methods ---------------------------------------------------------------------- */

static int print_result(json_t *values, json_t *data)
{
	const char *fmt = opt_str(values, "output-format");
	if (opt_bool(values, "quiet") == 1)
		return 0;
	if (!fmt || strcmp(fmt, "text") == 0) {
		/* Not Proxmox's table layout: key and value per line. */
		json_t *items = json_is_array(data) ? data : NULL;
		size_t n = items ? json_array_size(items) : 1;
		for (size_t i = 0; i < n; i++) {
			json_t *obj = items ? json_array_get(items, i) : data;
			const char *k;
			json_t *v;
			json_object_foreach (obj, k, v) {
				_cleanup_free_ char *s =
				        json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
				printf("%s: %s\n", k, json_is_string(v) ? json_string_value(v) : s);
			}
			if (items)
				putchar('\n');
		}
		return 0;
	}
	if (strcmp(fmt, "yaml") == 0) {
		fputs("fake-pvesh: --output-format yaml is not implemented\n", stderr);
		return -ENOTSUP;
	}
	size_t flags = JSON_SORT_KEYS | JSON_ENCODE_ANY |
	               (strcmp(fmt, "json-pretty") == 0 ? JSON_INDENT(3) : JSON_COMPACT);
	_cleanup_free_ char *text = json_dumps(data, flags);
	if (!text)
		return -ENOMEM;
	printf("%s\n", text);
	return 0;
}

static int do_index(json_t *values)
{
	struct pt_pve_config cfg;
	if (read_config(&cfg) < 0)
		return finish(EXIT_DIE);
	sleep_ms(knob_ms("get-delay-ms"));
	const char *check_node = opt_str(values, "check-node");
	json_t *list = json_array();
	for (size_t i = 0; i < cfg.count; i++) {
		const struct pt_pve_mapping *m = &cfg.sections[i];
		if (m->broken)
			continue;
		json_t *obj = pt_pve_mapping_to_json(m, cfg.digest, true);
		if (check_node) {
			bool found = false;
			for (size_t j = 0; j < m->map_count && !found; j++) {
				_cleanup_free_ char *node = pt_pve_map_text_node(m->map[j]);
				found = node && strcmp(node, check_node) == 0;
			}
			json_t *checks = json_array();
			if (!found) {
				_cleanup_free_ char *msg = NULL;
				if (asprintf(&msg, "No mapping for node %s.", check_node) >= 0)
					json_array_append_new(checks,
					                      json_pack("{s:s,s:s}", "severity",
					                                "warning", "message", msg));
			}
			json_object_set_new(obj, "checks", checks);
		}
		json_array_append_new(list, obj);
	}
	int r = print_result(values, list);
	json_decref(list);
	pt_pve_config_release(&cfg);
	return finish(r < 0 ? EXIT_DIE : 0);
}

static int do_read(json_t *values, const char *id)
{
	struct pt_pve_config cfg;
	if (read_config(&cfg) < 0)
		return finish(EXIT_DIE);
	sleep_ms(knob_ms("get-delay-ms"));
	const struct pt_pve_mapping *m = pt_pve_config_find(&cfg, id);
	if (!m || m->broken) {
		pt_pve_config_release(&cfg);
		return die_msg("mapping '%s' not found\n", id);
	}
	json_t *obj = pt_pve_mapping_to_json(m, cfg.digest, false);
	int r = print_result(values, obj);
	json_decref(obj);
	pt_pve_config_release(&cfg);
	return finish(r < 0 ? EXIT_DIE : 0);
}

static bool has_line_feed(const char *s)
{
	return s && strpbrk(s, "\r\n") != NULL;
}

/* SectionConfig::check_config with skipSchemaCheck: only line feeds are left to find
 * (the schema already ran). NULL when fine. */
static const char *check_config(json_t *values)
{
	json_t *map = json_object_get(values, "map");
	size_t i;
	json_t *item;
	json_array_foreach (map, i, item) {
		if (has_line_feed(json_string_value(item)))
			return "property contains a line feed\n";
	}
	if (has_line_feed(opt_str(values, "description")))
		return "property contains a line feed\n";
	return NULL;
}

/* The body of a locked write: 0, or the error text (caller frees) in *err. */
typedef int (*locked_fn)(struct pt_pve_config *cfg, json_t *values, const char *id, char **err);

static int run_locked(const char *errprefix, locked_fn fn, json_t *values, const char *id)
{
	_cleanup_free_ char *err = NULL;
	int fd = take_lock(&err);
	if (fd < 0)
		return die_msg("%s: %s", errprefix, err ? err : "cfs-lock error\n");
	struct pt_pve_config cfg;
	int r = read_config(&cfg);
	if (r < 0) {
		close(fd);
		return finish(EXIT_DIE);
	}
	r = fn(&cfg, values, id, &err);
	if (r == 0) {
		sleep_ms(knob_ms("write-delay-ms"));
		_cleanup_free_ char *werr = NULL;
		if (write_config(&cfg, &werr) < 0) {
			if (asprintf(&err, "%s\n", werr ? werr : "write failed") < 0)
				err = NULL;
			r = -1;
		}
	}
	pt_pve_config_release(&cfg);
	close(fd); /* releases the lock */
	if (r < 0)
		return die_msg("%s: %s", errprefix, err ? err : "out of memory\n");
	return finish(0);
}

static int fill_mapping(struct pt_pve_mapping *m, json_t *values)
{
	json_t *map = json_object_get(values, "map");
	size_t i;
	json_t *item;
	json_array_foreach (map, i, item) {
		if (pt_pve_mapping_add_map(m, json_string_value(item)) < 0)
			return -ENOMEM;
	}
	const char *desc = opt_str(values, "description");
	if (desc) {
		free(m->description);
		if (!(m->description = strdup(desc)))
			return -ENOMEM;
	}
	if (opt_bool(values, "mdev") >= 0)
		m->mdev = opt_bool(values, "mdev");
	if (opt_bool(values, "live-migration-capable") >= 0)
		m->live_migration = opt_bool(values, "live-migration-capable");
	return 0;
}

static int create_locked(struct pt_pve_config *cfg, json_t *values, const char *id, char **err)
{
	const struct pt_pve_mapping *old = pt_pve_config_find(cfg, id);
	if (old && !old->broken)
		return asprintf(err, "pci ID '%s' already defined\n", id) < 0 ? -ENOMEM : -EEXIST;
	struct pt_pve_mapping m = {.mdev = -1, .live_migration = -1};
	if (!(m.id = strdup(id)) || fill_mapping(&m, values) < 0) {
		pt_pve_mapping_release(&m);
		return -ENOMEM;
	}
	return pt_pve_config_put(cfg, &m);
}

static int update_locked(struct pt_pve_config *cfg, json_t *values, const char *id, char **err)
{
	const char *digest = opt_str(values, "digest");
	if (digest && *digest && strcmp(digest, cfg->digest) != 0)
		return asprintf(err, "detected modified configuration - file changed by other "
		                     "user? Try again.\n") < 0
		               ? -ENOMEM
		               : -ESTALE;
	struct pt_pve_mapping *m = pt_pve_config_find(cfg, id);
	if (!m || m->broken)
		return asprintf(err, "pci ID '%s' does not exist\n", id) < 0 ? -ENOMEM : -ENOENT;
	const char *problem = check_config(values);
	if (!problem && !json_object_get(values, "map"))
		problem = "missing value for required option 'map'\n";
	if (problem)
		return asprintf(err, "%s", problem) < 0 ? -ENOMEM : -EINVAL;
	/* SectionConfig::delete_from_config */
	const char *del = opt_str(values, "delete");
	json_t *list = del ? split_list(del) : json_array();
	size_t i;
	json_t *item;
	int r = 0;
	json_array_foreach (list, i, item) {
		const char *k = json_string_value(item);
		bool optional = strcmp(k, "description") == 0 || strcmp(k, "mdev") == 0 ||
		                strcmp(k, "live-migration-capable") == 0;
		if (!optional && strcmp(k, "map") != 0)
			r = asprintf(err, "no such option '%s'\n", k);
		else if (!optional)
			r = asprintf(err, "unable to delete required option '%s'\n", k);
		else if (json_object_get(values, k))
			r = asprintf(err, "cannot set and delete property '%s' at the same time!\n",
			             k);
		else if (strcmp(k, "description") == 0) {
			free(m->description);
			m->description = NULL;
			continue;
		} else if (strcmp(k, "mdev") == 0) {
			m->mdev = -1;
			continue;
		} else {
			m->live_migration = -1;
			continue;
		}
		json_decref(list);
		return r < 0 ? -ENOMEM : -EINVAL;
	}
	json_decref(list);
	/* The map list is always replaced whole. */
	for (size_t j = 0; j < m->map_count; j++)
		free(m->map[j]);
	free(m->map);
	m->map = NULL;
	m->map_count = 0;
	return fill_mapping(m, values);
}

static int delete_locked(struct pt_pve_config *cfg, json_t *values, const char *id, char **err)
{
	(void)values;
	(void)err;
	const struct pt_pve_mapping *m = pt_pve_config_find(cfg, id);
	if (m && !m->broken)
		pt_pve_config_remove(cfg, id);
	return 0;
}

/* --- x-reformat ------------------------------------------------------------------------- */

static int do_reformat(const char *file)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = pt_file_read(file, &text, &len);
	if (r < 0)
		return die_msg("cannot read %s: %s\n", file, strerror(-r));
	struct pt_strbuf warnings = PT_STRBUF_INIT, out = PT_STRBUF_INIT;
	struct pt_pve_config cfg;
	_cleanup_free_ char *chars = bytes_to_chars(text, len);
	if (!chars)
		return die_msg("out of memory\n");
	r = pt_pve_config_parse(chars, strlen(chars), PT_PVE_PCI_CFG, &cfg, &warnings);
	fputs(pt_strbuf_str(&warnings), stderr);
	pt_strbuf_release(&warnings);
	if (r < 0)
		return die_msg("out of memory\n");
	_cleanup_free_ char *err = NULL;
	r = pt_pve_config_render(&cfg, &out, &err);
	pt_pve_config_release(&cfg);
	if (r < 0) {
		pt_strbuf_release(&out);
		return die_msg("%s\n", err ? err : "out of memory");
	}
	struct pt_strbuf bytes = PT_STRBUF_INIT;
	chars_to_file(pt_strbuf_str(&out), out.len, &bytes);
	pt_strbuf_release(&out);
	fwrite(pt_strbuf_str(&bytes), 1, bytes.len, stdout);
	pt_strbuf_release(&bytes);
	return finish(0);
}

/* --- main --------------------------------------------------------------------------------- */

/* Split an API path into its parts, in place: returns the number of parts (at most
 * 5; -1 for more). A part may be as long as the argument is: Proxmox sets no limit
 * on a mapping ID, so neither does the double. */
static int split_path(char *path, char *parts[5])
{
	int n = 0;
	char *p = path;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		size_t len = strcspn(p, "/");
		if (n == 5)
			return -1;
		parts[n++] = p;
		p += len;
		if (*p)
			*p++ = '\0';
	}
	return n;
}

int main(int argc, char **argv)
{
	saved_argc = argc;
	saved_argv = argv;
	const char *env_root = getenv("FAKE_PVESH_ROOT");
	if (env_root)
		root_prefix = env_root;
	srandom((unsigned)getpid() ^ (unsigned)time(NULL));

	if (argc < 2) {
		fputs("ERROR: no command specified\nUSAGE: pvesh <COMMAND> [ARGS] [OPTIONS]\n",
		      stderr);
		return finish(EXIT_DIE);
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "x-reformat") == 0 && argc == 3)
		return do_reformat(argv[2]);
	bool known = strcmp(cmd, "get") == 0 || strcmp(cmd, "set") == 0 ||
	             strcmp(cmd, "create") == 0 || strcmp(cmd, "delete") == 0;
	if (!known) {
		fprintf(stderr,
		        "ERROR: unknown command 'pvesh %s'\nUSAGE: pvesh <COMMAND> [ARGS] "
		        "[OPTIONS]\n",
		        cmd);
		return finish(EXIT_DIE);
	}
	if (argc < 3) {
		fputs("400 not enough arguments\n", stderr);
		fprintf(stderr, "pvesh %s <api_path> [OPTIONS] [FORMAT_OPTIONS]\n", cmd);
		return finish(EXIT_DIE);
	}
	/* pvesh looks the handler up from the word after the command. */
	const char *api_path = argv[2];
	_cleanup_free_ char *path_copy = strdup(api_path);
	char *parts[5];
	int nparts = path_copy ? split_path(path_copy, parts) : -1;
	bool is_pci = nparts >= 3 && strcmp(parts[0], "cluster") == 0 &&
	              strcmp(parts[1], "mapping") == 0 && strcmp(parts[2], "pci") == 0;
	enum method m;
	const char *id = NULL;
	if (is_pci && nparts == 3 && strcmp(cmd, "get") == 0) {
		m = M_INDEX;
	} else if (is_pci && nparts == 3 && strcmp(cmd, "create") == 0) {
		m = M_CREATE;
	} else if (is_pci && nparts == 4 && strcmp(cmd, "create") != 0) {
		m = strcmp(cmd, "get") == 0   ? M_READ
		    : strcmp(cmd, "set") == 0 ? M_UPDATE
		                              : M_DELETE;
		id = parts[3];
	} else {
		fprintf(stderr, "No '%s' handler defined for '%s'\n", cmd, api_path);
		return finish(EXIT_PATH);
	}

	_cleanup_json_ json_t *values = json_object();
	_cleanup_json_ json_t *positional = json_array();
	int r = parse_options(m, argc - 2, argv + 2, values, positional);
	if (r)
		return r;
	if (json_array_size(positional) != 1) {
		fputs(json_array_size(positional) ? "400 too many arguments\n"
		                                  : "400 not enough arguments\n",
		      stderr);
		print_usage(m);
		return finish(EXIT_DIE);
	}
	_cleanup_json_ json_t *errors = json_object();
	validate(m, values, id, errors);
	if (json_object_size(errors))
		return param_error(m, "Parameter verification failed.\n", errors);

	switch (m) {
	case M_INDEX:
		return do_index(values);
	case M_READ:
		return do_read(values, id);
	case M_CREATE: {
		const char *problem = check_config(values);
		if (problem)
			return die_msg("%s", problem);
		return run_locked("create hardware mapping failed", create_locked, values,
		                  opt_str(values, "id"));
	}
	case M_UPDATE:
		return run_locked("update hardware mapping failed", update_locked, values, id);
	default:
		return run_locked("delete pci mapping failed", delete_locked, values, id);
	}
}
