/* mkroot: build a sandbox root that looks like a Linux host to libpci, to the
 * collection's modules and to the tools they run (update-grub stubs, ...).
 *
 *   mkroot HOST.yml OUTDIR                 from a host description
 *                                          (tests/fixtures/hosts/README.md)
 *   mkroot --capture CAPTURE.tgz OUTDIR    from a sysfs capture of a real kernel
 *                                          (tests/fixtures/captures/README.md)
 *   mkroot --synthetic NDEV NGROUPS OUTDIR a generated host for benchmarks
 *
 * Options before the mode: --catalogue FILE (the kernel module catalogue; default
 * tests/fixtures/kernel-modules.yml of the repository this binary was built in).
 *
 * OUTDIR is created; mkroot refuses an OUTDIR that exists and is not empty. The
 * tree holds sys/ (the PCI devices where the kernel puts them, with relative links
 * as in real sysfs so libpci's linux-sysfs method reads it through
 * sysfs.path=OUTDIR/sys/bus/pci), proc/, lib/modules/, dev/ (placeholders: empty
 * regular files, never device nodes), etc/ and boot/.
 *
 * A one-shot tool: it exits on the first error with a message naming the file,
 * line and problem, and leaves the memory it used to the exit. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>
#include <yaml.h>

#include "exec.h"
#include "files.h"
#include "strbuf.h"

/* --- failing helpers ------------------------------------------------------- */

static __attribute__((noreturn, format(printf, 1, 2))) void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("mkroot: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size ? size : 1);
	if (!p)
		die("out of memory");
	return p;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if (!d)
		die("out of memory");
	return d;
}

static __attribute__((format(printf, 1, 2))) char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		die("out of memory");
	return s;
}

/* A growable list of strings (borrowed or owned: the tool never frees them). */
struct strv {
	const char **v;
	size_t n;
};

static void strv_push(struct strv *sv, const char *s)
{
	sv->v = xrealloc(sv->v, (sv->n + 1) * sizeof *sv->v);
	sv->v[sv->n++] = s;
}

static bool strv_has(const struct strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return true;
	return false;
}

/* Module names compare with '-' and '_' as equal, as the kernel does. */
static char *modname(const char *name)
{
	char *s = xstrdup(name);
	for (char *p = s; *p; p++)
		if (*p == '-')
			*p = '_';
	return s;
}

/* --- writing under OUTDIR ---------------------------------------------------- */

static const char *g_out; /* OUTDIR, absolute, no trailing slash */

/* OUTDIR + rel (rel starts with '/'). */
static char *outpath(const char *rel)
{
	return xasprintf("%s%s", g_out, rel);
}

static void mkdirs_abs(const char *abs)
{
	char *p = xstrdup(abs);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			die("cannot create directory %s: %s", p, strerror(errno));
		*s = '/';
	}
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		die("cannot create directory %s: %s", p, strerror(errno));
	free(p);
}

static void mkdirs(const char *rel)
{
	char *abs = outpath(rel);
	mkdirs_abs(abs);
	free(abs);
}

static void parent_dirs(const char *abs)
{
	char *p = xstrdup(abs);
	char *slash = strrchr(p, '/');
	if (slash && slash != p) {
		*slash = '\0';
		mkdirs_abs(p);
	}
	free(p);
}

static void put_mode(const char *rel, const void *data, size_t len, mode_t mode)
{
	char *abs = outpath(rel);
	parent_dirs(abs);
	int fd = open(abs, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		die("cannot write %s: %s", abs, strerror(errno));
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("cannot write %s: %s", abs, strerror(errno));
		}
		p += n;
		len -= (size_t)n;
	}
	if (fchmod(fd, mode) < 0 || close(fd) < 0)
		die("cannot write %s: %s", abs, strerror(errno));
	free(abs);
}

static void put(const char *rel, const void *data, size_t len)
{
	put_mode(rel, data, len, 0644);
}

static __attribute__((format(printf, 2, 3))) void putf(const char *rel, const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		die("out of memory");
	put(rel, s, (size_t)n);
	free(s);
}

/* A symlink at rel whose text is target, verbatim. */
static void link_raw(const char *rel, const char *target)
{
	char *abs = outpath(rel);
	parent_dirs(abs);
	if (symlink(target, abs) < 0 && errno != EEXIST)
		die("cannot create link %s -> %s: %s", abs, target, strerror(errno));
	free(abs);
}

/* The path of `to` relative to directory `from_dir`; both absolute and clean. */
static char *relative_path(const char *from_dir, const char *to)
{
	size_t common = 0;
	for (size_t i = 0;; i++) {
		char a = from_dir[i], b = to[i];
		if ((a == '/' || a == '\0') && (b == '/' || b == '\0'))
			common = i;
		if (a != b || a == '\0')
			break;
	}
	struct pt_strbuf sb = PT_STRBUF_INIT;
	for (const char *p = from_dir + common; *p; p++)
		if (*p == '/')
			pt_strbuf_puts(&sb, "../");
	const char *rest = to + common;
	if (*rest == '/')
		rest++;
	pt_strbuf_puts(&sb, rest);
	if (sb.len && sb.data[sb.len - 1] == '/')
		sb.data[--sb.len] = '\0';
	if (sb.oom)
		die("out of memory");
	char *s = pt_strbuf_steal(&sb);
	return s ? s : xstrdup(".");
}

/* A symlink at rel pointing at target_rel (both root-relative, starting with
 * '/'), written as a relative link the way sysfs writes its links. */
static void link_rel(const char *rel, const char *target_rel)
{
	char *dir = xstrdup(rel);
	*strrchr(dir, '/') = '\0';
	char *text = relative_path(dir, target_rel);
	link_raw(rel, text);
	free(text);
	free(dir);
}

/* Empty regular files (sysfs write-only controls such as bind/unbind). */
static void touch(const char *rel)
{
	put(rel, "", 0);
}

/* --- YAML access --------------------------------------------------------------- */

struct ydoc {
	yaml_document_t doc;
	const char *file;
};

static void ydoc_load(struct ydoc *d, const char *file)
{
	FILE *f = fopen(file, "rb");
	if (!f)
		die("cannot read %s: %s", file, strerror(errno));
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser))
		die("out of memory");
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &d->doc))
		die("%s:%zu: YAML error: %s %s", file, parser.problem_mark.line + 1,
		    parser.problem ? parser.problem : "", parser.context ? parser.context : "");
	yaml_parser_delete(&parser);
	fclose(f);
	d->file = file;
	yaml_node_t *root = yaml_document_get_root_node(&d->doc);
	if (!root || root->type != YAML_MAPPING_NODE)
		die("%s: expected a mapping at the top", file);
}

static yaml_node_t *yroot(struct ydoc *d)
{
	return yaml_document_get_root_node(&d->doc);
}

static int yline(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

static yaml_node_t *yget(struct ydoc *d, yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(&d->doc, p->key);
		if (k && k->type == YAML_SCALAR_NODE &&
		    strcmp((char *)k->data.scalar.value, key) == 0)
			return yaml_document_get_node(&d->doc, p->value);
	}
	return NULL;
}

static bool yis_null(const yaml_node_t *n)
{
	if (!n)
		return true;
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	const char *v = (const char *)n->data.scalar.value;
	return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
	       !strcmp(v, "NULL");
}

static const char *yscalar(struct ydoc *d, yaml_node_t *n, const char *what)
{
	if (n->type != YAML_SCALAR_NODE)
		die("%s:%d: %s must be a single value", d->file, yline(n), what);
	return (const char *)n->data.scalar.value;
}

/* Refuse keys the format does not know: a typo in a fixture must not pass
 * silently as a missing attribute. */
static void check_keys(struct ydoc *d, yaml_node_t *map, const char *what,
                       const char *const allowed[])
{
	if (map->type != YAML_MAPPING_NODE)
		die("%s:%d: %s must be a mapping", d->file, yline(map), what);
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(&d->doc, p->key);
		const char *key = yscalar(d, k, "a key");
		bool ok = false;
		for (size_t i = 0; allowed[i] && !ok; i++)
			ok = strcmp(allowed[i], key) == 0;
		if (!ok) {
			struct pt_strbuf sb = PT_STRBUF_INIT;
			for (size_t i = 0; allowed[i]; i++)
				pt_strbuf_printf(&sb, "%s%s", i ? ", " : "", allowed[i]);
			die("%s:%d: unknown key '%s' in %s (known: %s)", d->file, yline(k), key,
			    what, pt_strbuf_str(&sb));
		}
	}
}

static const char *get_str(struct ydoc *d, yaml_node_t *map, const char *key, const char *def)
{
	yaml_node_t *n = yget(d, map, key);
	if (!n)
		return def;
	if (yis_null(n))
		return NULL;
	return yscalar(d, n, key);
}

static long parse_long(struct ydoc *d, yaml_node_t *n, const char *key)
{
	const char *v = yscalar(d, n, key);
	char *end;
	errno = 0;
	long x = strtol(v, &end, 0);
	if (errno || end == v || *end)
		die("%s:%d: %s must be a number (decimal or 0x hex), got '%s'", d->file, yline(n),
		    key, v);
	return x;
}

static long get_int(struct ydoc *d, yaml_node_t *map, const char *key, long def)
{
	yaml_node_t *n = yget(d, map, key);
	if (!n || yis_null(n))
		return def;
	return parse_long(d, n, key);
}

static bool get_bool(struct ydoc *d, yaml_node_t *map, const char *key, bool def)
{
	yaml_node_t *n = yget(d, map, key);
	if (!n || yis_null(n))
		return def;
	const char *v = yscalar(d, n, key);
	if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on") ||
	    !strcmp(v, "1"))
		return true;
	if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off") ||
	    !strcmp(v, "0"))
		return false;
	die("%s:%d: %s must be true or false, got '%s'", d->file, yline(n), key, v);
}

/* A sequence of scalars (a lone scalar counts as a one-item list). */
static struct strv node_list(struct ydoc *d, yaml_node_t *n, const char *key)
{
	struct strv sv = {0};
	if (!n || yis_null(n))
		return sv;
	if (n->type == YAML_SCALAR_NODE) {
		strv_push(&sv, yscalar(d, n, key));
		return sv;
	}
	if (n->type != YAML_SEQUENCE_NODE)
		die("%s:%d: %s must be a list", d->file, yline(n), key);
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top;
	     i++)
		strv_push(&sv, yscalar(d, yaml_document_get_node(&d->doc, *i), key));
	return sv;
}

static struct strv get_list(struct ydoc *d, yaml_node_t *map, const char *key)
{
	return node_list(d, yget(d, map, key), key);
}

/* Items of a sequence node as nodes. */
#define YSEQ_FOREACH(d, seq, item)                                                                 \
	for (yaml_node_item_t *it_ = (seq) ? (seq)->data.sequence.items.start : NULL;              \
	     (seq) && it_ < (seq)->data.sequence.items.top &&                                      \
	     ((item) = yaml_document_get_node(&(d)->doc, *it_), 1);                                \
	     it_++)

#define YMAP_FOREACH(d, map, k, v)                                                                 \
	for (yaml_node_pair_t *pr_ = (map) ? (map)->data.mapping.pairs.start : NULL;               \
	     (map) && pr_ < (map)->data.mapping.pairs.top &&                                       \
	     ((k) = yaml_document_get_node(&(d)->doc, pr_->key),                                   \
	     (v) = yaml_document_get_node(&(d)->doc, pr_->value), 1);                              \
	     pr_++)

static void expect_seq(struct ydoc *d, yaml_node_t *n, const char *key)
{
	if (n && n->type != YAML_SEQUENCE_NODE)
		die("%s:%d: %s must be a list", d->file, yline(n), key);
}

static void expect_map(struct ydoc *d, yaml_node_t *n, const char *key)
{
	if (n && n->type != YAML_MAPPING_NODE)
		die("%s:%d: %s must be a mapping", d->file, yline(n), key);
}

/* --- the kernel module catalogue ------------------------------------------------ */

struct kmod {
	const char *name; /* with '_' */
	const char *path; /* relative to /lib/modules/<release>/ */
	struct strv depends, aliases, drivers;
};

struct catalogue {
	struct ydoc doc;
	struct kmod *mods;
	size_t n;
	struct strv builtin_drivers;
	yaml_node_t *sets;
};

static struct catalogue g_cat;

static void catalogue_load(const char *file)
{
	struct ydoc *d = &g_cat.doc;
	ydoc_load(d, file);
	static const char *const top_keys[] = {"builtin_drivers", "modules", "sets", NULL};
	check_keys(d, yroot(d), "the catalogue", top_keys);
	g_cat.builtin_drivers = get_list(d, yroot(d), "builtin_drivers");
	g_cat.sets = yget(d, yroot(d), "sets");
	expect_map(d, g_cat.sets, "sets");
	yaml_node_t *mods = yget(d, yroot(d), "modules");
	expect_map(d, mods, "modules");
	yaml_node_t *k, *v;
	YMAP_FOREACH(d, mods, k, v)
	{
		static const char *const keys[] = {"path", "depends", "aliases", "drivers", NULL};
		check_keys(d, v, "a module", keys);
		g_cat.mods = xrealloc(g_cat.mods, (g_cat.n + 1) * sizeof *g_cat.mods);
		struct kmod *m = &g_cat.mods[g_cat.n++];
		m->name = modname(yscalar(d, k, "module name"));
		m->path = get_str(d, v, "path", NULL);
		if (!m->path)
			die("%s:%d: module %s has no path", d->file, yline(v), m->name);
		m->depends = get_list(d, v, "depends");
		m->aliases = get_list(d, v, "aliases");
		m->drivers = get_list(d, v, "drivers");
	}
}

static const struct kmod *catalogue_find(const char *name)
{
	char *n = modname(name);
	const struct kmod *found = NULL;
	for (size_t i = 0; i < g_cat.n && !found; i++)
		if (strcmp(g_cat.mods[i].name, n) == 0)
			found = &g_cat.mods[i];
	free(n);
	return found;
}

/* The module that registers PCI driver `driver`; NULL for built-in drivers. */
static const struct kmod *catalogue_driver_module(const char *driver)
{
	if (strv_has(&g_cat.builtin_drivers, driver))
		return NULL;
	for (size_t i = 0; i < g_cat.n; i++)
		if (strv_has(&g_cat.mods[i].drivers, driver))
			return &g_cat.mods[i];
	return catalogue_find(driver);
}

/* Append the modules of catalogue set `name` to sv. */
static void catalogue_expand_set(const char *name, struct strv *sv, const char *where)
{
	yaml_node_t *set = yget(&g_cat.doc, g_cat.sets, name);
	if (!set)
		die("%s: no module set '%s' in %s", where, name, g_cat.doc.file);
	struct strv items = node_list(&g_cat.doc, set, name);
	for (size_t i = 0; i < items.n; i++)
		if (!strv_has(sv, items.v[i]))
			strv_push(sv, items.v[i]);
}

/* --- the host model ------------------------------------------------------------- */

struct dev {
	char addr[16]; /* "0000:07:00.0" */
	unsigned dom, bus, slot, fn;
	const char *parent_addr;
	struct dev *parent;
	int vendor, device, sub_vendor, sub_device;
	long class_code; /* 24 bits: class, subclass, prog-if */
	int revision;
	const char *driver;
	int group;    /* -1: none */
	int boot_vga; /* -1: decide (VGA class only) */
	bool reset_given;
	const char *reset_method; /* NULL: no attribute */
	const char *driver_override;
	int irq, numa_node;
	struct strv net;
	const char *label;
	int secondary_bus; /* -1: computed from the children */
	struct bar *bars;  /* `bars`; NULL: the default BAR 0 */
	size_t nbars;
	struct rebar *rebars; /* Resizable BAR capability entries */
	size_t nrebars;
	bool sriov; /* an SR-IOV capability with these counts */
	int sriov_total, sriov_num;
	int line;
	/* computed */
	char *path; /* root-relative sysfs directory */
	bool bridge, multifunction, path_busy;
	int sec, sub;
	unsigned index;
};

/* A memory BAR; prefetchable ones are 64-bit, as GPUs' are. */
struct bar {
	int index;
	unsigned long long start, size;
	bool prefetch;
};

/* One BAR of a Resizable BAR capability: sizes in MiB, powers of two. */
struct rebar {
	int bar;
	unsigned long long current_mb;
	struct strv supported_mb;
};

struct blockdev {
	const char *disk, *device, *model;
	int partitions;
	int line;
};

struct dmdev {
	const char *name, *dm;
	struct strv slaves;
	int line;
};

struct mnt {
	const char *source, *target, *fstype, *options;
};

struct alias_override {
	const char *module;
	struct strv patterns;
};

struct kernel {
	const char *release;
	struct strv modules, builtin;
	struct alias_override *aliases;
	size_t naliases;
};

struct entry {
	const char *path, *value; /* content, copy source or link target */
	mode_t mode;
};

struct host {
	const char *source; /* for messages */
	const char *base_dir;
	const char *hostname;
	const char *os_id, *os_version_id, *os_pretty, *os_name, *os_codename;
	bool proxmox;
	const char *pve_version;
	bool efi;
	bool secure_boot_given; /* write the SecureBoot variable */
	bool secure_boot;
	const char *fb_device; /* framebuffer: the device whose BAR holds it */
	int fb_bar;
	const char *fb_name;
	unsigned long long fb_size;
	unsigned long long fb_start; /* where write_iomem put it: the BAR's start */
	const char *cpu_vendor, *cpu_model;
	struct strv cpu_flags;
	bool cpu_flags_given;
	int cpu_count;
	const char *kernel_release, *cmdline, *iommu, *group_type;
	bool interrupt_remapping;
	struct strv loaded;
	struct kernel *kernels;
	size_t nkernels;
	const char *default_route;
	struct mnt *mounts;
	size_t nmounts;
	struct blockdev *blocks;
	size_t nblocks;
	struct dmdev *dms;
	size_t ndms;
	struct dev *devs;
	size_t ndevs;
	struct entry *files, *copies, *links;
	size_t nfiles, ncopies, nlinks;
	struct strv dirs, drivers;
};

#define PUSH(arr, n)                                                                               \
	((arr) = xrealloc(arr, ((n) + 1) * sizeof *(arr)), memset(&(arr)[n], 0, sizeof *(arr)),    \
	 &(arr)[(n)++])

static bool is_vga(const struct dev *v)
{
	return (v->class_code >> 8) == 0x0300;
}

static int parse_address(const char *text, struct dev *v)
{
	unsigned dom, bus, slot, fn;
	char tail;
	if (sscanf(text, "%4x:%2x:%2x.%1x%c", &dom, &bus, &slot, &fn, &tail) != 4 || slot > 31 ||
	    fn > 7)
		return -EINVAL;
	v->dom = dom;
	v->bus = bus;
	v->slot = slot;
	v->fn = fn;
	snprintf(v->addr, sizeof v->addr, "%04x:%02x:%02x.%x", dom, bus, slot, fn);
	return 0;
}

static void parse_ids(struct ydoc *d, yaml_node_t *n, int *a, int *b)
{
	const char *s = yscalar(d, n, "subsystem");
	unsigned x, y;
	char tail;
	if (sscanf(s, "%4x:%4x%c", &x, &y, &tail) != 2)
		die("%s:%d: subsystem must look like \"1462:8c96\", got '%s'", d->file, yline(n),
		    s);
	*a = (int)x;
	*b = (int)y;
}

static unsigned long long get_u64(struct ydoc *d, yaml_node_t *map, const char *key)
{
	yaml_node_t *n = yget(d, map, key);
	const char *v = n ? yscalar(d, n, key) : NULL;
	char *end = NULL;
	errno = 0;
	unsigned long long x = v ? strtoull(v, &end, 0) : 0;
	if (!v || errno || *end)
		die("%s:%d: %s must be a number", d->file, yline(n ? n : map), key);
	return x;
}

/* bars, rebar and sriov of a device (README: devices). */
static void parse_capabilities(struct ydoc *d, yaml_node_t *n, struct dev *v)
{
	yaml_node_t *list = yget(d, n, "bars"), *item;
	expect_seq(d, list, "bars");
	YSEQ_FOREACH(d, list, item)
	{
		static const char *const keys[] = {"bar", "start", "size", "prefetch", NULL};
		check_keys(d, item, "a BAR", keys);
		struct bar *b = PUSH(v->bars, v->nbars);
		b->index = (int)get_int(d, item, "bar", -1);
		b->start = get_u64(d, item, "start");
		b->size = get_u64(d, item, "size");
		b->prefetch = get_bool(d, item, "prefetch", false);
		if (b->index < 0 || b->index > 5 || (b->prefetch && b->index > 4) || !b->size ||
		    (b->size & (b->size - 1)) || (b->start & (b->size - 1)))
			die("%s:%d: a BAR needs bar 0..5 (0..4 when prefetch: 64-bit), and a size "
			    "that is a power of two with start aligned to it",
			    d->file, yline(item));
	}
	list = yget(d, n, "rebar");
	expect_seq(d, list, "rebar");
	YSEQ_FOREACH(d, list, item)
	{
		static const char *const keys[] = {"bar", "current_mb", "supported_mb", NULL};
		check_keys(d, item, "a rebar entry", keys);
		struct rebar *r = PUSH(v->rebars, v->nrebars);
		r->bar = (int)get_int(d, item, "bar", 0);
		r->current_mb = get_u64(d, item, "current_mb");
		r->supported_mb = get_list(d, item, "supported_mb");
		if (v->nrebars > 6 || r->current_mb == 0 || (r->current_mb & (r->current_mb - 1)))
			die("%s:%d: at most 6 rebar entries, current_mb a power of two", d->file,
			    yline(item));
	}
	yaml_node_t *sriov = yget(d, n, "sriov");
	if (sriov) {
		v->sriov = true;
		static const char *const keys[] = {"total_vfs", "num_vfs", NULL};
		expect_map(d, sriov, "sriov");
		check_keys(d, sriov, "sriov", keys);
		v->sriov_total = (int)get_int(d, sriov, "total_vfs", 0);
		v->sriov_num = (int)get_int(d, sriov, "num_vfs", 0);
	}
}

static void parse_device(struct ydoc *d, yaml_node_t *n, struct dev *v)
{
	static const char *const keys[] = {
	        "address",  "parent",    "vendor", "device",   "subsystem",     "class",
	        "revision", "driver",    "group",  "boot_vga", "reset_method",  "driver_override",
	        "irq",      "numa_node", "net",    "label",    "secondary_bus", "bars",
	        "rebar",    "sriov",     NULL};
	check_keys(d, n, "a device", keys);
	v->line = yline(n);
	const char *addr = get_str(d, n, "address", NULL);
	if (!addr || parse_address(addr, v) < 0)
		die("%s:%d: a device needs an address like \"0000:07:00.0\"", d->file, yline(n));
	v->parent_addr = get_str(d, n, "parent", NULL);
	v->vendor = (int)get_int(d, n, "vendor", -1);
	v->device = (int)get_int(d, n, "device", -1);
	v->class_code = get_int(d, n, "class", -1);
	if (v->vendor < 0 || v->device < 0 || v->class_code < 0)
		die("%s:%d: device %s needs vendor, device and class", d->file, yline(n), v->addr);
	const char *cls = get_str(d, n, "class", "");
	if (strncasecmp(cls, "0x", 2) != 0 || strlen(cls) != 8)
		die("%s:%d: class of %s must be 6 hex digits (class, subclass, prog-if), e.g. "
		    "0x030000",
		    d->file, yline(n), v->addr);
	yaml_node_t *sub = yget(d, n, "subsystem");
	if (sub && !yis_null(sub))
		parse_ids(d, sub, &v->sub_vendor, &v->sub_device);
	v->revision = (int)get_int(d, n, "revision", 0);
	v->driver = get_str(d, n, "driver", NULL);
	v->group = (int)get_int(d, n, "group", -1);
	v->boot_vga = (int)get_int(d, n, "boot_vga", -1);
	v->reset_given = yget(d, n, "reset_method") != NULL;
	v->reset_method = get_str(d, n, "reset_method", NULL);
	v->driver_override = get_str(d, n, "driver_override", NULL);
	v->irq = (int)get_int(d, n, "irq", -1);
	v->numa_node = (int)get_int(d, n, "numa_node", -1);
	v->net = get_list(d, n, "net");
	v->label = get_str(d, n, "label", NULL);
	v->secondary_bus = (int)get_int(d, n, "secondary_bus", -1);
	parse_capabilities(d, n, v);
}

static void parse_entries(struct ydoc *d, yaml_node_t *map, const char *key, struct entry **arr,
                          size_t *n)
{
	yaml_node_t *m = yget(d, map, key);
	if (!m || yis_null(m))
		return;
	expect_map(d, m, key);
	yaml_node_t *k, *v;
	YMAP_FOREACH(d, m, k, v)
	{
		struct entry *e = PUSH(*arr, *n);
		e->path = yscalar(d, k, key);
		if (e->path[0] != '/')
			die("%s:%d: %s paths must be absolute (inside the root), got '%s'", d->file,
			    yline(k), key, e->path);
		e->mode = 0644;
		if (v->type == YAML_MAPPING_NODE) {
			static const char *const keys[] = {"content", "mode", NULL};
			check_keys(d, v, "a file", keys);
			e->value = get_str(d, v, "content", "");
			const char *mode = get_str(d, v, "mode", "0644");
			e->mode = (mode_t)strtol(mode, NULL, 8);
		} else {
			e->value = yis_null(v) ? "" : yscalar(d, v, key);
		}
	}
}

static void parse_kernel(struct ydoc *d, yaml_node_t *n, struct kernel *k)
{
	static const char *const keys[] = {"release", "set", "modules", "builtin", "aliases", NULL};
	check_keys(d, n, "a kernel", keys);
	k->release = get_str(d, n, "release", NULL);
	if (!k->release)
		die("%s:%d: a kernel needs a release", d->file, yline(n));
	struct strv sets = get_list(d, n, "set");
	char *where = xasprintf("%s:%d", d->file, yline(n));
	for (size_t i = 0; i < sets.n; i++)
		catalogue_expand_set(sets.v[i], &k->modules, where);
	struct strv mods = get_list(d, n, "modules");
	for (size_t i = 0; i < mods.n; i++)
		if (!strv_has(&k->modules, mods.v[i]))
			strv_push(&k->modules, mods.v[i]);
	k->builtin = get_list(d, n, "builtin");
	yaml_node_t *al = yget(d, n, "aliases");
	expect_map(d, al, "aliases");
	yaml_node_t *mk, *mv;
	YMAP_FOREACH(d, al, mk, mv)
	{
		struct alias_override *o = PUSH(k->aliases, k->naliases);
		o->module = modname(yscalar(d, mk, "module name"));
		o->patterns = node_list(d, mv, "aliases");
	}
}

static void host_parse(struct host *h, const char *file)
{
	static struct ydoc doc;
	struct ydoc *d = &doc;
	ydoc_load(d, file);
	yaml_node_t *r = yroot(d);
	static const char *const keys[] = {"hostname",
	                                   "os",
	                                   "proxmox",
	                                   "efi",
	                                   "secure_boot",
	                                   "framebuffer",
	                                   "cpu",
	                                   "kernel_release",
	                                   "cmdline",
	                                   "iommu",
	                                   "group_type",
	                                   "interrupt_remapping",
	                                   "loaded_modules",
	                                   "kernels",
	                                   "default_route",
	                                   "mounts",
	                                   "block",
	                                   "dm",
	                                   "devices",
	                                   "files",
	                                   "copy",
	                                   "dirs",
	                                   "links",
	                                   "drivers",
	                                   NULL};
	check_keys(d, r, "the host", keys);
	h->source = file;
	char *dir = xstrdup(file);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		strcpy(dir, ".");
	h->base_dir = dir;

	h->hostname = get_str(d, r, "hostname", NULL);
	yaml_node_t *os = yget(d, r, "os");
	if (os) {
		static const char *const os_keys[] = {"id",   "version_id", "pretty",
		                                      "name", "codename",   NULL};
		check_keys(d, os, "os", os_keys);
		h->os_id = get_str(d, os, "id", NULL);
		h->os_version_id = get_str(d, os, "version_id", NULL);
		h->os_pretty = get_str(d, os, "pretty", NULL);
		h->os_name = get_str(d, os, "name", NULL);
		h->os_codename = get_str(d, os, "codename", NULL);
	}
	yaml_node_t *pve = yget(d, r, "proxmox");
	if (pve && pve->type == YAML_MAPPING_NODE) {
		static const char *const pve_keys[] = {"version", NULL};
		check_keys(d, pve, "proxmox", pve_keys);
		h->proxmox = true;
		h->pve_version = get_str(d, pve, "version", NULL);
	} else {
		h->proxmox = get_bool(d, r, "proxmox", false);
	}
	h->efi = get_bool(d, r, "efi", false);
	h->secure_boot_given = yget(d, r, "secure_boot") != NULL;
	h->secure_boot = get_bool(d, r, "secure_boot", false);
	if (h->secure_boot_given && !h->efi)
		die("%s: secure_boot needs efi: true (a BIOS boot has no EFI variables)", file);
	yaml_node_t *fb = yget(d, r, "framebuffer");
	if (fb) {
		static const char *const fb_keys[] = {"device", "bar", "name", "size", NULL};
		expect_map(d, fb, "framebuffer");
		check_keys(d, fb, "framebuffer", fb_keys);
		h->fb_device = get_str(d, fb, "device", NULL);
		h->fb_bar = (int)get_int(d, fb, "bar", 0);
		h->fb_name = get_str(d, fb, "name", "BOOTFB");
		h->fb_size = yget(d, fb, "size") ? get_u64(d, fb, "size") : 0x300000;
		if (!h->fb_device)
			die("%s:%d: framebuffer needs the device whose BAR holds it", file,
			    yline(fb));
	}
	yaml_node_t *cpu = yget(d, r, "cpu");
	if (cpu) {
		static const char *const cpu_keys[] = {"vendor", "model", "flags", "count", NULL};
		check_keys(d, cpu, "cpu", cpu_keys);
		h->cpu_vendor = get_str(d, cpu, "vendor", NULL);
		h->cpu_model = get_str(d, cpu, "model", NULL);
		h->cpu_flags_given = yget(d, cpu, "flags") != NULL;
		h->cpu_flags = get_list(d, cpu, "flags");
		h->cpu_count = (int)get_int(d, cpu, "count", 2);
	}
	h->kernel_release = get_str(d, r, "kernel_release", NULL);
	h->cmdline = get_str(d, r, "cmdline", NULL);
	h->iommu = get_str(d, r, "iommu", NULL);
	h->group_type = get_str(d, r, "group_type", NULL);
	h->interrupt_remapping = get_bool(d, r, "interrupt_remapping", true);
	h->loaded = get_list(d, r, "loaded_modules");
	h->default_route = get_str(d, r, "default_route", NULL);
	h->dirs = get_list(d, r, "dirs");
	h->drivers = get_list(d, r, "drivers");

	yaml_node_t *n, *item;
	n = yget(d, r, "kernels");
	expect_seq(d, n, "kernels");
	YSEQ_FOREACH(d, n, item)
	parse_kernel(d, item, PUSH(h->kernels, h->nkernels));

	n = yget(d, r, "mounts");
	expect_seq(d, n, "mounts");
	YSEQ_FOREACH(d, n, item)
	{
		static const char *const mkeys[] = {"source", "target", "fstype", "options", NULL};
		check_keys(d, item, "a mount", mkeys);
		struct mnt *m = PUSH(h->mounts, h->nmounts);
		m->source = get_str(d, item, "source", NULL);
		m->target = get_str(d, item, "target", NULL);
		m->fstype = get_str(d, item, "fstype", NULL);
		m->options = get_str(d, item, "options", "rw,relatime");
		if (!m->source || !m->target || !m->fstype)
			die("%s:%d: a mount needs source, target and fstype", d->file, yline(item));
	}

	n = yget(d, r, "block");
	expect_seq(d, n, "block");
	YSEQ_FOREACH(d, n, item)
	{
		static const char *const bkeys[] = {"disk", "device", "partitions", "model", NULL};
		check_keys(d, item, "a block device", bkeys);
		struct blockdev *b = PUSH(h->blocks, h->nblocks);
		b->disk = get_str(d, item, "disk", NULL);
		b->device = get_str(d, item, "device", NULL);
		b->model = get_str(d, item, "model", NULL);
		b->partitions = (int)get_int(d, item, "partitions", 0);
		b->line = yline(item);
		if (!b->disk || !b->device)
			die("%s:%d: a block device needs disk and device", d->file, yline(item));
	}

	n = yget(d, r, "dm");
	expect_seq(d, n, "dm");
	YSEQ_FOREACH(d, n, item)
	{
		static const char *const dkeys[] = {"name", "dm", "slaves", NULL};
		check_keys(d, item, "a device-mapper device", dkeys);
		struct dmdev *m = PUSH(h->dms, h->ndms);
		m->name = get_str(d, item, "name", NULL);
		m->dm = get_str(d, item, "dm", NULL);
		m->slaves = get_list(d, item, "slaves");
		m->line = yline(item);
		if (!m->name || !m->dm || strncmp(m->dm, "dm-", 3) != 0)
			die("%s:%d: a dm entry needs name and dm (\"dm-0\")", d->file, yline(item));
	}

	n = yget(d, r, "devices");
	expect_seq(d, n, "devices");
	YSEQ_FOREACH(d, n, item)
	parse_device(d, item, PUSH(h->devs, h->ndevs));

	parse_entries(d, r, "files", &h->files, &h->nfiles);
	parse_entries(d, r, "copy", &h->copies, &h->ncopies);
	parse_entries(d, r, "links", &h->links, &h->nlinks);
}

/* Defaults for what a description leaves out. */
static void host_defaults(struct host *h)
{
	if (!h->hostname)
		h->hostname = "host";
	if (!h->os_id)
		h->os_id = "debian";
	if (!h->os_version_id)
		h->os_version_id = "12";
	if (!h->os_codename)
		h->os_codename = strcmp(h->os_version_id, "13") == 0 ? "trixie" : "bookworm";
	if (!h->os_name)
		h->os_name = "Debian GNU/Linux";
	if (!h->os_pretty)
		h->os_pretty =
		        xasprintf("%s %s (%s)", h->os_name, h->os_version_id, h->os_codename);
	if (h->proxmox && !h->pve_version)
		h->pve_version = "8.2.7";
	if (!h->cpu_vendor)
		h->cpu_vendor = "GenuineIntel";
	bool amd = strcmp(h->cpu_vendor, "AuthenticAMD") == 0;
	if (!h->cpu_model)
		h->cpu_model = amd ? "AMD EPYC 7302P 16-Core Processor"
		                   : "Intel(R) Core(TM) i5-9600K CPU @ 3.70GHz";
	if (!h->cpu_flags_given) {
		static const char *const common[] = {
		        "fpu",       "vme",       "de",          "pse",          "tsc",
		        "msr",       "pae",       "mce",         "cx8",          "apic",
		        "sep",       "mtrr",      "pge",         "mca",          "cmov",
		        "pat",       "pse36",     "clflush",     "mmx",          "fxsr",
		        "sse",       "sse2",      "ht",          "syscall",      "nx",
		        "pdpe1gb",   "rdtscp",    "lm",          "constant_tsc", "rep_good",
		        "nopl",      "xtopology", "nonstop_tsc", "cpuid",        "pni",
		        "pclmulqdq", "monitor",   "ssse3",       "fma",          "cx16",
		        "sse4_1",    "sse4_2",    "x2apic",      "movbe",        "popcnt",
		        "aes",       "xsave",     "avx",         "f16c",         "rdrand",
		        "lahf_lm",   "abm",       NULL};
		for (size_t i = 0; common[i]; i++)
			strv_push(&h->cpu_flags, common[i]);
		if (amd) {
			static const char *const f[] = {
			        "svm",       "extapic", "cr8_legacy",      "sse4a", "npt", "lbrv",
			        "nrip_save", "avic",    "v_vmsave_vmload", "vgif",  NULL};
			for (size_t i = 0; f[i]; i++)
				strv_push(&h->cpu_flags, f[i]);
		} else {
			static const char *const f[] = {
			        "vmx",          "est", "tm2",  "xtpr",   "pdcm", "tpr_shadow",
			        "flexpriority", "ept", "vpid", "ept_ad", NULL};
			for (size_t i = 0; f[i]; i++)
				strv_push(&h->cpu_flags, f[i]);
		}
	}
	if (h->cpu_count <= 0)
		h->cpu_count = 2;
	if (!h->kernel_release)
		h->kernel_release = h->nkernels ? h->kernels[0].release : "6.8.12-4-pve";
	if (!h->nkernels) {
		struct kernel *k = PUSH(h->kernels, h->nkernels);
		k->release = h->kernel_release;
		for (size_t i = 0; i < h->loaded.n; i++)
			strv_push(&k->modules, h->loaded.v[i]);
	}
	if (!h->cmdline)
		h->cmdline = xasprintf("BOOT_IMAGE=/boot/vmlinuz-%s root=/dev/sda1 ro quiet",
		                       h->kernel_release);
	if (!h->iommu)
		h->iommu = "intel";
	if (strcmp(h->iommu, "intel") && strcmp(h->iommu, "amd") && strcmp(h->iommu, "none"))
		die("%s: iommu must be intel, amd or none, got '%s'", h->source, h->iommu);
	if (!h->group_type)
		h->group_type = "DMA";
	if (strcmp(h->group_type, "identity") && strcmp(h->group_type, "DMA") &&
	    strcmp(h->group_type, "DMA-FQ"))
		die("%s: group_type must be identity, DMA or DMA-FQ, got '%s'", h->source,
		    h->group_type);
}

/* --- topology -------------------------------------------------------------------- */

static struct dev *find_dev(struct host *h, const char *addr)
{
	struct dev probe;
	if (parse_address(addr, &probe) < 0)
		return NULL;
	for (size_t i = 0; i < h->ndevs; i++)
		if (strcmp(h->devs[i].addr, probe.addr) == 0)
			return &h->devs[i];
	return NULL;
}

static const char *dev_path(struct dev *v)
{
	if (v->path)
		return v->path;
	if (v->path_busy)
		die("device %s: its parent chain loops", v->addr);
	v->path_busy = true;
	if (v->parent)
		v->path = xasprintf("%s/%s", dev_path(v->parent), v->addr);
	else
		v->path = xasprintf("/sys/devices/pci%04x:%02x/%s", v->dom, v->bus, v->addr);
	return v->path;
}

/* The highest bus number at or below bridge b. */
static int subordinate_of(struct host *h, struct dev *b)
{
	int max = b->sec;
	for (size_t i = 0; i < h->ndevs; i++) {
		struct dev *c = &h->devs[i];
		if (c->parent != b)
			continue;
		if ((int)c->bus > max)
			max = (int)c->bus;
		if (c->bridge) {
			int s = subordinate_of(h, c);
			if (s > max)
				max = s;
		}
	}
	return max;
}

static void host_topology(struct host *h)
{
	int max_bus = 0;
	for (size_t i = 0; i < h->ndevs; i++) {
		struct dev *v = &h->devs[i];
		v->index = (unsigned)i;
		v->bridge = (v->class_code >> 8) == 0x0604;
		v->sec = -1;
		if ((int)v->bus > max_bus)
			max_bus = (int)v->bus;
		for (size_t j = 0; j < i; j++)
			if (strcmp(h->devs[j].addr, v->addr) == 0)
				die("%s:%d: device %s is listed twice", h->source, v->line,
				    v->addr);
	}
	for (size_t i = 0; i < h->ndevs; i++) {
		struct dev *v = &h->devs[i];
		for (size_t j = 0; j < h->ndevs; j++) {
			struct dev *o = &h->devs[j];
			if (i != j && o->dom == v->dom && o->bus == v->bus && o->slot == v->slot)
				v->multifunction = true;
		}
		if (!v->parent_addr)
			continue;
		v->parent = find_dev(h, v->parent_addr);
		if (!v->parent)
			die("%s:%d: parent %s of %s is not a listed device", h->source, v->line,
			    v->parent_addr, v->addr);
		if (!v->parent->bridge)
			die("%s:%d: parent %s of %s is not a PCI bridge (class 0x0604xx)",
			    h->source, v->line, v->parent->addr, v->addr);
		if (v->parent->bus == v->bus)
			die("%s:%d: %s is on bus %02x, the same bus as its parent bridge %s; a "
			    "device "
			    "behind a bridge sits on the bridge's secondary bus",
			    h->source, v->line, v->addr, v->bus, v->parent->addr);
		if (v->parent->sec >= 0 && v->parent->sec != (int)v->bus)
			die("%s:%d: the devices behind bridge %s must share one bus (%02x and "
			    "%02x)",
			    h->source, v->line, v->parent->addr, v->parent->sec, v->bus);
		v->parent->sec = (int)v->bus;
	}
	for (size_t i = 0; i < h->ndevs; i++) {
		struct dev *v = &h->devs[i];
		if (!v->bridge)
			continue;
		if (v->secondary_bus >= 0) {
			if (v->sec >= 0 && v->sec != v->secondary_bus)
				die("%s:%d: secondary_bus of %s disagrees with its children's bus",
				    h->source, v->line, v->addr);
			v->sec = v->secondary_bus;
		} else if (v->sec < 0) {
			v->sec = ++max_bus; /* an empty slot still gets a bus number */
		}
	}
	for (size_t i = 0; i < h->ndevs; i++) {
		struct dev *v = &h->devs[i];
		if (v->bridge)
			v->sub = subordinate_of(h, v);
		dev_path(v);
	}
	/* The first VGA device is the boot display unless the description says. */
	bool have_boot = false;
	for (size_t i = 0; i < h->ndevs; i++)
		if (is_vga(&h->devs[i]) && h->devs[i].boot_vga == 1)
			have_boot = true;
	for (size_t i = 0; i < h->ndevs; i++) {
		struct dev *v = &h->devs[i];
		if (!is_vga(v) || v->boot_vga >= 0)
			continue;
		v->boot_vga = have_boot ? 0 : 1;
		have_boot = true;
	}
	if (strcmp(h->iommu, "none") == 0)
		for (size_t i = 0; i < h->ndevs; i++)
			if (h->devs[i].group >= 0)
				die("%s:%d: %s has IOMMU group %d but iommu is none", h->source,
				    h->devs[i].line, h->devs[i].addr, h->devs[i].group);
}

/* --- writing a host --------------------------------------------------------------- */

static void write_le16(uint8_t *p, unsigned v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
}

static void write_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (v >> (8 * i)) & 0xff;
}

static uint32_t bar_base(const struct dev *v)
{
	return 0xd0000000u + v->index * 0x100000u;
}

static char *modalias_of(const struct dev *v)
{
	return xasprintf("pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X", v->vendor, v->device,
	                 v->sub_vendor, v->sub_device, (unsigned)(v->class_code >> 16) & 0xff,
	                 (unsigned)(v->class_code >> 8) & 0xff, (unsigned)v->class_code & 0xff);
}

/* The BAR a device description gives for index i, or NULL. */
static const struct bar *find_bar(const struct dev *v, int i)
{
	for (size_t k = 0; k < v->nbars; k++)
		if (v->bars[k].index == i)
			return &v->bars[k];
	return NULL;
}

/* IORESOURCE_MEM (0x200) and SIZEALIGN (0x40000); prefetchable 64-bit ones add
 * PREFETCH (0x2000), MEM_64 (0x100000) and the BAR's type bits (0xc), as the
 * kernel shows them in `resource`. */
static unsigned long long bar_flags(const struct bar *b)
{
	return b->prefetch ? 0x14220cULL : 0x40200ULL;
}

static unsigned log2_of(unsigned long long x)
{
	unsigned n = 0;
	while (x > 1) {
		x >>= 1;
		n++;
	}
	return n;
}

static bool is_pcie(const struct dev *v)
{
	return v->nrebars || v->sriov;
}

/* A PCI Express capability at 0x40 and the extended capabilities from 0x100:
 * Resizable BAR (0x15), then SR-IOV (0x10). */
static void write_pcie_caps(const struct dev *v, uint8_t *c)
{
	c[0x06] |= 0x10; /* status: capability list */
	c[0x34] = 0x40;
	c[0x40] = 0x10; /* PCI Express, version 2, endpoint */
	c[0x42] = 0x02;
	unsigned at = 0x100, sriov_at = v->nrebars ? 0x140 : 0x100;
	if (v->nrebars) {
		uint32_t next = v->sriov ? sriov_at : 0;
		write_le32(c + at, 0x15u | (1u << 16) | (next << 20));
		for (size_t i = 0; i < v->nrebars; i++) {
			const struct rebar *r = &v->rebars[i];
			uint32_t sizes = 0;
			for (size_t k = 0; k < r->supported_mb.n; k++) {
				unsigned long long mb = strtoull(r->supported_mb.v[k], NULL, 0);
				if (!mb || (mb & (mb - 1)) || log2_of(mb) > 27)
					die("device %s: rebar sizes must be powers of two from 1 "
					    "to "
					    "134217728 MiB, got '%s'",
					    v->addr, r->supported_mb.v[k]);
				sizes |= 1u << (log2_of(mb) + 4);
			}
			uint32_t ctrl = (uint32_t)(r->bar & 7) | (log2_of(r->current_mb) << 8);
			if (i == 0)
				ctrl |= (uint32_t)v->nrebars << 5;
			write_le32(c + at + 4 + 8 * i, sizes);
			write_le32(c + at + 8 + 8 * i, ctrl);
		}
	}
	if (v->sriov) {
		write_le32(c + sriov_at, 0x10u | (1u << 16));
		write_le16(c + sriov_at + 0x0c, (unsigned)v->sriov_total);
		write_le16(c + sriov_at + 0x0e, (unsigned)v->sriov_total);
		write_le16(c + sriov_at + 0x10, (unsigned)v->sriov_num);
	}
}

/* Configuration space that agrees with the attributes: IDs, class, header
 * type (1 for bridges, with their bus numbers), subsystem, the BARs, IRQ; 256
 * bytes, or 4 KiB with capabilities (a PCI Express device read as root). */
static void write_config(const struct dev *v, const char *dir)
{
	uint8_t c[4096] = {0};
	write_le16(c + 0x00, (unsigned)v->vendor);
	write_le16(c + 0x02, (unsigned)v->device);
	write_le16(c + 0x04, v->driver || v->bridge ? 0x0007 : 0x0003);
	c[0x08] = (uint8_t)v->revision;
	c[0x09] = v->class_code & 0xff;
	c[0x0a] = (v->class_code >> 8) & 0xff;
	c[0x0b] = (v->class_code >> 16) & 0xff;
	c[0x0c] = 0x10;
	c[0x0e] = (v->bridge ? 1 : 0) | (v->multifunction ? 0x80 : 0);
	if (v->bridge) {
		c[0x18] = (uint8_t)v->bus;
		c[0x19] = (uint8_t)v->sec;
		c[0x1a] = (uint8_t)v->sub;
		c[0x1c] = 0xf0; /* I/O, memory and prefetchable windows closed */
		write_le16(c + 0x20, 0xfff0);
		write_le16(c + 0x24, 0xfff1);
		write_le16(c + 0x26, 0x0001);
	} else {
		if (!v->nbars)
			write_le32(c + 0x10, bar_base(v));
		for (size_t i = 0; i < v->nbars; i++) {
			const struct bar *b = &v->bars[i];
			uint8_t *reg = c + 0x10 + 4 * b->index;
			write_le32(reg, (uint32_t)b->start | (b->prefetch ? 0xcu : 0u));
			if (b->prefetch)
				write_le32(reg + 4, (uint32_t)(b->start >> 32));
		}
		write_le16(c + 0x2c, (unsigned)v->sub_vendor);
		write_le16(c + 0x2e, (unsigned)v->sub_device);
	}
	c[0x3c] = (uint8_t)(v->irq & 0xff);
	c[0x3d] = 1;
	if (is_pcie(v))
		write_pcie_caps(v, c);
	char *rel = xasprintf("%s/config", dir);
	put(rel, c, is_pcie(v) ? sizeof c : 256);
	free(rel);
}

static void write_resource(const struct dev *v, const char *dir)
{
	struct pt_strbuf sb = PT_STRBUF_INIT;
	int lines = v->bridge ? 17 : 13;
	for (int i = 0; i < lines; i++) {
		const struct bar *b = v->bridge ? NULL : find_bar(v, i);
		if (b)
			pt_strbuf_printf(&sb, "0x%016llx 0x%016llx 0x%016llx\n", b->start,
			                 b->start + b->size - 1, bar_flags(b));
		else if (i == 0 && !v->bridge && !v->nbars)
			pt_strbuf_printf(&sb, "0x%016llx 0x%016llx 0x%016llx\n",
			                 (unsigned long long)bar_base(v),
			                 (unsigned long long)bar_base(v) + 0x3fff, 0x40200ull);
		else
			pt_strbuf_puts(&sb, "0x0000000000000000 0x0000000000000000 "
			                    "0x0000000000000000\n");
	}
	char *rel = xasprintf("%s/resource", dir);
	put(rel, sb.data, sb.len);
	free(rel);
	pt_strbuf_release(&sb);
}

static void attr(const char *dir, const char *name, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void attr(const char *dir, const char *name, const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		die("out of memory");
	char *rel = xasprintf("%s/%s", dir, name);
	put(rel, s, (size_t)n);
	free(rel);
	free(s);
}

static const char *iommu_name(const struct host *h)
{
	return strcmp(h->iommu, "amd") == 0 ? "ivhd0" : "dmar0";
}

static void write_device(struct host *h, struct dev *v)
{
	const char *dir = v->path;
	char *alias = modalias_of(v);
	int irq = v->irq >= 0 ? v->irq : 16 + (int)(v->index % 16);
	v->irq = irq;
	attr(dir, "vendor", "0x%04x\n", v->vendor);
	attr(dir, "device", "0x%04x\n", v->device);
	attr(dir, "subsystem_vendor", "0x%04x\n", v->sub_vendor);
	attr(dir, "subsystem_device", "0x%04x\n", v->sub_device);
	attr(dir, "class", "0x%06lx\n", v->class_code);
	attr(dir, "revision", "0x%02x\n", v->revision);
	attr(dir, "irq", "%d\n", irq);
	attr(dir, "modalias", "%s\n", alias);
	attr(dir, "driver_override", "%s\n", v->driver_override ? v->driver_override : "(null)");
	attr(dir, "numa_node", "%d\n", v->numa_node);
	attr(dir, "enable", "%d\n", v->driver ? 1 : 0);
	attr(dir, "local_cpulist", "0-%d\n", h->cpu_count - 1);
	attr(dir, "d3cold_allowed", "1\n");
	attr(dir, "power_state", "D0\n");
	attr(dir, "msi_bus", "1\n");
	attr(dir, "broken_parity_status", "0\n");
	if (v->label)
		attr(dir, "label", "%s\n", v->label);
	if (is_vga(v))
		attr(dir, "boot_vga", "%d\n", v->boot_vga);
	const char *reset = v->reset_method;
	if (!v->reset_given && v->parent && !v->bridge)
		reset = "bus"; /* a function behind a bridge can at least be reset by the bus */
	if (reset) /* "": every method disabled (echo > reset_method), shown as an empty line */
		attr(dir, "reset_method", "%s\n", reset);
	if (v->bridge) {
		attr(dir, "secondary_bus_number", "%d\n", v->sec);
		attr(dir, "subordinate_bus_number", "%d\n", v->sub);
		char *bus = xasprintf("%s/pci_bus/%04x:%02x", dir, v->dom, v->sec);
		mkdirs(bus);
		free(bus);
	}
	struct pt_strbuf ev = PT_STRBUF_INIT;
	if (v->driver)
		pt_strbuf_printf(&ev, "DRIVER=%s\n", v->driver);
	pt_strbuf_printf(&ev, "PCI_CLASS=%lX\nPCI_ID=%04X:%04X\nPCI_SUBSYS_ID=%04X:%04X\n",
	                 v->class_code, v->vendor, v->device, v->sub_vendor, v->sub_device);
	pt_strbuf_printf(&ev, "PCI_SLOT_NAME=%s\nMODALIAS=%s\n", v->addr, alias);
	attr(dir, "uevent", "%s", pt_strbuf_str(&ev));
	pt_strbuf_release(&ev);
	write_config(v, dir);
	write_resource(v, dir);

	char *l = xasprintf("%s/subsystem", dir);
	link_rel(l, "/sys/bus/pci");
	free(l);
	l = xasprintf("/sys/bus/pci/devices/%s", v->addr);
	link_rel(l, dir);
	free(l);
	if (v->group >= 0) {
		char *g = xasprintf("/sys/kernel/iommu_groups/%d", v->group);
		l = xasprintf("%s/iommu_group", dir);
		link_rel(l, g);
		free(l);
		l = xasprintf("%s/devices/%s", g, v->addr);
		link_rel(l, dir);
		free(l);
		free(g);
		char *iommu = xasprintf("/sys/devices/virtual/iommu/%s", iommu_name(h));
		l = xasprintf("%s/iommu", dir);
		link_rel(l, iommu);
		free(l);
		l = xasprintf("%s/devices/%s", iommu, v->addr);
		link_rel(l, dir);
		free(l);
		free(iommu);
	}
	if (v->driver) {
		char *drv = xasprintf("/sys/bus/pci/drivers/%s", v->driver);
		l = xasprintf("%s/driver", dir);
		link_rel(l, drv);
		free(l);
		l = xasprintf("%s/%s", drv, v->addr);
		link_rel(l, dir);
		free(l);
		free(drv);
	}
	free(alias);
}

/* A PCI driver directory with its control files and, for a driver in a module,
 * the module link that tells which module to blacklist for it. */
static void write_driver(const char *name)
{
	char *d = xasprintf("/sys/bus/pci/drivers/%s", name);
	static const char *const files[] = {"bind",      "unbind", "new_id",
	                                    "remove_id", "uevent", NULL};
	for (size_t i = 0; files[i]; i++) {
		char *f = xasprintf("%s/%s", d, files[i]);
		touch(f);
		free(f);
	}
	const struct kmod *m = catalogue_driver_module(name);
	if (m) {
		char *mod = xasprintf("/sys/module/%s", m->name);
		char *l = xasprintf("%s/module", d);
		link_rel(l, mod);
		free(l);
		l = xasprintf("%s/drivers/pci:%s", mod, name);
		link_rel(l, d);
		free(l);
		free(mod);
	}
	free(d);
}

static void write_groups(struct host *h)
{
	mkdirs("/sys/kernel/iommu_groups");
	mkdirs("/sys/class/iommu");
	if (strcmp(h->iommu, "none") == 0)
		return;
	const char *name = iommu_name(h);
	char *dir = xasprintf("/sys/devices/virtual/iommu/%s", name);
	char *l = xasprintf("/sys/class/iommu/%s", name);
	link_rel(l, dir);
	free(l);
	/* The capability registers as the kernel shows them; ecap bit 3 (IR) and the
	 * AMD feature bit 3 (XTSup stands in) say whether interrupts are remapped. */
	if (strcmp(h->iommu, "intel") == 0) {
		char *s = xasprintf("%s/intel-iommu", dir);
		attr(s, "version", "1:0\n");
		attr(s, "address", "fed90000\n");
		attr(s, "cap", "d2008c40660462\n");
		attr(s, "ecap", "%s\n", h->interrupt_remapping ? "f050da" : "f050d2");
		free(s);
	} else {
		char *s = xasprintf("%s/amd-iommu", dir);
		attr(s, "cap", "190b0000\n");
		attr(s, "features", "%s\n", h->interrupt_remapping ? "58f77ef22294ade" : "0");
		free(s);
	}
	free(dir);
	for (size_t i = 0; i < h->ndevs; i++) {
		int g = h->devs[i].group;
		if (g < 0)
			continue;
		char *gd = xasprintf("/sys/kernel/iommu_groups/%d", g);
		attr(gd, "type", "%s\n", h->group_type);
		attr(gd, "reserved_regions", "0x00000000fee00000 0x00000000feefffff msi\n");
		free(gd);
	}
}

static const char *mac_of(const struct dev *v, size_t k)
{
	static char buf[32];
	snprintf(buf, sizeof buf, "52:54:00:%02x:%02x:%02x", v->bus, (v->slot << 3) | v->fn,
	         (unsigned)k);
	return buf;
}

static void write_net(struct host *h)
{
	int ifindex = 2;
	mkdirs("/sys/devices/virtual/net/lo");
	attr("/sys/devices/virtual/net/lo", "ifindex", "1\n");
	attr("/sys/devices/virtual/net/lo", "operstate", "unknown\n");
	attr("/sys/devices/virtual/net/lo", "address", "00:00:00:00:00:00\n");
	link_rel("/sys/class/net/lo", "/sys/devices/virtual/net/lo");
	bool route_found = !h->default_route;
	for (size_t i = 0; i < h->ndevs; i++) {
		struct dev *v = &h->devs[i];
		for (size_t k = 0; k < v->net.n; k++) {
			const char *ifn = v->net.v[k];
			if (h->default_route && strcmp(ifn, h->default_route) == 0)
				route_found = true;
			char *d = xasprintf("%s/net/%s", v->path, ifn);
			attr(d, "address", "%s\n", mac_of(v, k));
			attr(d, "addr_len", "6\n");
			attr(d, "operstate", "up\n");
			attr(d, "carrier", "1\n");
			attr(d, "ifindex", "%d\n", ifindex);
			attr(d, "iflink", "%d\n", ifindex);
			attr(d, "type", "1\n");
			attr(d, "mtu", "1500\n");
			attr(d, "flags", "0x1003\n");
			attr(d, "uevent", "INTERFACE=%s\nIFINDEX=%d\n", ifn, ifindex);
			char *l = xasprintf("%s/device", d);
			link_rel(l, v->path);
			free(l);
			l = xasprintf("/sys/class/net/%s", ifn);
			link_rel(l, d);
			free(l);
			free(d);
			ifindex++;
		}
	}
	if (!route_found)
		die("%s: default_route %s is not an interface of any device (devices[].net)",
		    h->source, h->default_route);
}

/* Block devices: name -> sysfs directory, for dm slaves. */
struct blk {
	const char *name;
	char *path;
};
static struct blk *g_blk;
static size_t g_nblk;

static void block_node(const char *name, const char *path, unsigned major, unsigned minor,
                       const char *devtype, int partn)
{
	attr(path, "dev", "%u:%u\n", major, minor);
	attr(path, "ro", "0\n");
	attr(path, "size", "%llu\n", partn ? 1048576ull * (unsigned)partn : 976773168ull);
	if (partn) {
		attr(path, "partition", "%d\n", partn);
		attr(path, "start", "%llu\n", 2048ull + 2097152ull * (unsigned)(partn - 1));
	} else {
		attr(path, "removable", "0\n");
		attr(path, "queue/rotational", "0\n");
	}
	attr(path, "uevent", "MAJOR=%u\nMINOR=%u\nDEVNAME=%s\nDEVTYPE=%s\n%s", major, minor, name,
	     devtype, partn ? "" : "DISKSEQ=1\n");
	char *l = xasprintf("/sys/class/block/%s", name);
	link_rel(l, path);
	free(l);
	l = xasprintf("/sys/dev/block/%u:%u", major, minor);
	link_rel(l, path);
	free(l);
	l = xasprintf("/dev/%s", name);
	touch(l);
	free(l);
	struct blk *b = PUSH(g_blk, g_nblk);
	b->name = name;
	b->path = xstrdup(path);
}

/* The first len bytes of s with every "--" made "-". */
static char *undouble_dashes(const char *s, size_t len)
{
	char *out = xasprintf("%.*s", (int)len, s);
	char *w = out;
	for (const char *r = out; *r; r++) {
		*w++ = *r;
		if (r[0] == '-' && r[1] == '-')
			r++;
	}
	*w = '\0';
	return out;
}

static void write_block(struct host *h)
{
	unsigned nvme_minor = 0, sd_index = 0;
	int ata = 0;
	mkdirs("/sys/block");
	mkdirs("/sys/class/block");
	for (size_t i = 0; i < h->nblocks; i++) {
		struct blockdev *b = &h->blocks[i];
		struct dev *v = find_dev(h, b->device);
		if (!v)
			die("%s:%d: block device %s: %s is not a listed device", h->source, b->line,
			    b->disk, b->device);
		char *disk = NULL;
		unsigned major, minor;
		int ctrl, ns;
		char tail;
		if (sscanf(b->disk, "nvme%dn%d%c", &ctrl, &ns, &tail) == 2) {
			char *c = xasprintf("%s/nvme/nvme%d", v->path, ctrl);
			attr(c, "model", "%s\n",
			     b->model ? b->model : "Samsung SSD 970 EVO Plus 500GB");
			attr(c, "serial", "S4EVNX0M%06d\n", ctrl);
			attr(c, "transport", "pcie\n");
			char *l = xasprintf("%s/device", c);
			link_rel(l, v->path);
			free(l);
			l = xasprintf("/sys/class/nvme/nvme%d", ctrl);
			link_rel(l, c);
			free(l);
			disk = xasprintf("%s/%s", c, b->disk);
			free(c);
			major = 259;
			minor = nvme_minor++;
		} else if (strncmp(b->disk, "sd", 2) == 0) {
			char *t = xasprintf("%s/ata%d/host%d/target%d:0:0/%d:0:0:0", v->path,
			                    ata + 1, ata, ata, ata);
			attr(t, "model", "%s\n", b->model ? b->model : "Samsung SSD 860");
			attr(t, "vendor", "ATA     \n");
			disk = xasprintf("%s/block/%s", t, b->disk);
			free(t);
			ata++;
			major = 8;
			minor = 16 * sd_index++;
		} else {
			die("%s:%d: block disk names are nvmeXnY or sdX, got '%s'", h->source,
			    b->line, b->disk);
		}
		block_node(b->disk, disk, major, minor, "disk", 0);
		char *l = xasprintf("/sys/block/%s", b->disk);
		link_rel(l, disk);
		free(l);
		bool digit_end =
		        b->disk[strlen(b->disk) - 1] >= '0' && b->disk[strlen(b->disk) - 1] <= '9';
		for (int p = 1; p <= b->partitions; p++) {
			char *name = xasprintf("%s%s%d", b->disk, digit_end ? "p" : "", p);
			char *pd = xasprintf("%s/%s", disk, name);
			block_node(name, pd, major,
			           major == 259 ? nvme_minor++ : minor + (unsigned)p, "partition",
			           p);
			free(pd);
		}
		free(disk);
	}
	for (size_t i = 0; i < h->ndms; i++) {
		struct dmdev *m = &h->dms[i];
		unsigned n = (unsigned)atoi(m->dm + 3);
		char *d = xasprintf("/sys/devices/virtual/block/%s", m->dm);
		block_node(m->dm, d, 253, n, "disk", 0);
		attr(d, "dm/name", "%s\n", m->name);
		attr(d, "dm/uuid", "LVM-%032u\n", n);
		attr(d, "dm/suspended", "0\n");
		mkdirs(xasprintf("%s/slaves", d));
		mkdirs(xasprintf("%s/holders", d));
		char *l = xasprintf("/sys/block/%s", m->dm);
		link_rel(l, d);
		free(l);
		for (size_t s = 0; s < m->slaves.n; s++) {
			const char *sp = NULL;
			for (size_t k = 0; k < g_nblk && !sp; k++)
				if (strcmp(g_blk[k].name, m->slaves.v[s]) == 0)
					sp = g_blk[k].path;
			if (!sp)
				die("%s:%d: dm %s: slave %s is not a block device or partition",
				    h->source, m->line, m->name, m->slaves.v[s]);
			l = xasprintf("%s/slaves/%s", d, m->slaves.v[s]);
			link_rel(l, sp);
			free(l);
			l = xasprintf("%s/holders/%s", sp, m->dm);
			link_rel(l, d);
			free(l);
		}
		l = xasprintf("/dev/mapper/%s", m->name);
		char *target = xasprintf("../%s", m->dm);
		link_raw(l, target);
		free(l);
		/* LVM's /dev/VG/LV link: the dm name is VG-LV with each '-' inside the
		 * names doubled ("pve-vm--100--disk--0" is VG pve, LV vm-100-disk-0). */
		const char *dash = m->name;
		while ((dash = strchr(dash, '-')) && dash[1] == '-')
			dash += 2;
		if (dash && dash != m->name && dash[1]) {
			char *vg = undouble_dashes(m->name, (size_t)(dash - m->name));
			char *lv = undouble_dashes(dash + 1, strlen(dash + 1));
			l = xasprintf("/dev/%s/%s", vg, lv);
			link_raw(l, target);
			free(l);
			free(lv);
			free(vg);
		}
		free(target);
		free(d);
	}
}

static void write_cpuinfo(struct host *h)
{
	bool amd = strcmp(h->cpu_vendor, "AuthenticAMD") == 0;
	struct pt_strbuf sb = PT_STRBUF_INIT;
	struct pt_strbuf flags = PT_STRBUF_INIT;
	for (size_t i = 0; i < h->cpu_flags.n; i++)
		pt_strbuf_printf(&flags, "%s%s", i ? " " : "", h->cpu_flags.v[i]);
	for (int cpu = 0; cpu < h->cpu_count; cpu++) {
		pt_strbuf_printf(
		        &sb,
		        "processor\t: %d\nvendor_id\t: %s\ncpu family\t: %d\nmodel\t\t: %d\n"
		        "model name\t: %s\nstepping\t: %d\nmicrocode\t: 0x%x\n"
		        "cpu MHz\t\t: 3700.000\ncache size\t: 9216 KB\nphysical id\t: 0\n"
		        "siblings\t: %d\ncore id\t\t: %d\ncpu cores\t: %d\napicid\t\t: %d\n"
		        "initial apicid\t: %d\nfpu\t\t: yes\nfpu_exception\t: yes\n"
		        "cpuid level\t: 22\nwp\t\t: yes\nflags\t\t: %s\nbugs\t\t:\n"
		        "bogomips\t: 7399.70\nclflush size\t: 64\ncache_alignment\t: 64\n"
		        "address sizes\t: %s\npower management:\n\n",
		        cpu, h->cpu_vendor, amd ? 23 : 6, amd ? 49 : 158, h->cpu_model,
		        amd ? 0 : 12, amd ? 0x830107a : 0xf8, h->cpu_count, cpu, h->cpu_count, cpu,
		        cpu, pt_strbuf_str(&flags),
		        amd ? "43 bits physical, 48 bits virtual"
		            : "39 bits physical, 48 bits virtual");
	}
	put("/proc/cpuinfo", sb.data, sb.len);
	pt_strbuf_release(&sb);
	pt_strbuf_release(&flags);
}

static unsigned name_hash(const char *s)
{
	unsigned x = 2166136261u;
	for (; *s; s++)
		x = (x ^ (unsigned char)*s) * 16777619u;
	return x;
}

/* /proc/modules and /sys/module/<name> for loaded modules. */
static void write_loaded_modules(const struct strv *loaded)
{
	struct pt_strbuf sb = PT_STRBUF_INIT;
	for (size_t i = 0; i < loaded->n; i++) {
		char *n = modname(loaded->v[i]);
		pt_strbuf_printf(&sb, "%s %u 0 - Live 0x0000000000000000\n", n,
		                 16384u * (1 + name_hash(n) % 64));
		char *d = xasprintf("/sys/module/%s", n);
		attr(d, "initstate", "live\n");
		attr(d, "refcnt", "0\n");
		free(d);
		free(n);
	}
	put("/proc/modules", sb.data ? sb.data : "", sb.len);
	pt_strbuf_release(&sb);
}

/* /proc/iomem as root reads it: RAM, the root bus's two memory windows (below
 * 4 GiB and above 256 GiB) with every device's memory BARs in them, named by
 * the device, and the firmware framebuffer (`framebuffer`) inside its BAR. */
struct iomem_bar {
	unsigned long long start, end;
	const struct dev *v;
	int index;
};

static int compare_iomem_bar(const void *a, const void *b)
{
	const struct iomem_bar *x = a, *y = b;
	return (x->start > y->start) - (x->start < y->start);
}

#define WINDOW32_START 0xc0000000ULL
#define WINDOW32_END   0xfebfffffULL
#define WINDOW64_START 0x4000000000ULL
#define WINDOW64_END   0x7fffffffffULL

static void iomem_window(struct pt_strbuf *sb, const struct host *h, const struct iomem_bar *bars,
                         size_t n, unsigned long long lo, unsigned long long hi)
{
	pt_strbuf_printf(sb, "%08llx-%08llx : PCI Bus 0000:00\n", lo, hi);
	for (size_t i = 0; i < n; i++) {
		if (bars[i].start < lo || bars[i].start > hi)
			continue;
		pt_strbuf_printf(sb, "  %08llx-%08llx : %s\n", bars[i].start, bars[i].end,
		                 bars[i].v->addr);
		if (h->fb_device && !strcmp(bars[i].v->addr, h->fb_device) &&
		    bars[i].index == h->fb_bar)
			pt_strbuf_printf(sb, "    %08llx-%08llx : %s\n", bars[i].start,
			                 bars[i].start + h->fb_size - 1, h->fb_name);
	}
}

/* /sys/kernel/boot_params/data for a host with a firmware framebuffer: the
 * kernel's boot parameters (4 KiB, zero but for screen_info) saying it booted on
 * the UEFI GOP framebuffer where write_iomem put the claim (lfb_size in bytes,
 * the mode the size fits: 1920x1080 or 1024x768 at 32 bits). */
static void write_boot_params(const struct host *h)
{
	unsigned char data[4096] = {0};
	bool full_hd = h->fb_size >= 1920ULL * 1080 * 4;
	unsigned width = full_hd ? 1920 : 1024, height = full_hd ? 1080 : 768;
	data[0x0f] = 0x70; /* VIDEO_TYPE_EFI */
	write_le16(data + 0x12, width);
	write_le16(data + 0x14, height);
	write_le16(data + 0x16, 32);
	write_le32(data + 0x18, (uint32_t)h->fb_start);
	write_le32(data + 0x1c, (uint32_t)h->fb_size);
	write_le16(data + 0x24, width * 4);
	if (h->fb_start >> 32) {
		write_le32(data + 0x36, 1u << 1); /* VIDEO_CAPABILITY_64BIT_BASE */
		write_le32(data + 0x3a, (uint32_t)(h->fb_start >> 32));
	}
	put_mode("/sys/kernel/boot_params/data", data, sizeof data, 0400);
}

static void write_iomem(struct host *h)
{
	struct iomem_bar *bars = NULL;
	size_t n = 0;
	bool fb_found = false;
	for (size_t i = 0; i < h->ndevs; i++) {
		const struct dev *v = &h->devs[i];
		for (int b = 0; b < 6 && !v->bridge; b++) {
			const struct bar *given = find_bar(v, b);
			if (!given && (b || v->nbars))
				continue;
			struct iomem_bar *e = PUSH(bars, n);
			e->start = given ? given->start : bar_base(v);
			e->end = given ? given->start + given->size - 1 : bar_base(v) + 0x3fff;
			e->v = v;
			e->index = b;
			bool in32 = e->start >= WINDOW32_START && e->end <= WINDOW32_END;
			bool in64 = e->start >= WINDOW64_START && e->end <= WINDOW64_END;
			if (!in32 && !in64 && !given) {
				n--; /* a synthetic host's default BARs past the window: left out */
				continue;
			}
			if (!in32 && !in64)
				die("%s:%d: BAR %d of %s lies outside the bus windows %llx-%llx "
				    "and "
				    "%llx-%llx",
				    h->source, v->line, b, v->addr, WINDOW32_START, WINDOW32_END,
				    WINDOW64_START, WINDOW64_END);
			if (h->fb_device && !strcmp(v->addr, h->fb_device) && b == h->fb_bar) {
				fb_found = true;
				h->fb_start = e->start;
				if (h->fb_size > e->end - e->start + 1)
					die("%s: the framebuffer is larger than BAR %d of %s",
					    h->source, b, v->addr);
			}
		}
	}
	if (h->fb_device && !fb_found)
		die("%s: framebuffer: %s has no BAR %d", h->source, h->fb_device, h->fb_bar);
	if (n)
		qsort(bars, n, sizeof *bars, compare_iomem_bar);
	for (size_t i = 1; i < n; i++)
		if (bars[i].start <= bars[i - 1].end)
			die("%s: BAR %d of %s overlaps BAR %d of %s", h->source, bars[i].index,
			    bars[i].v->addr, bars[i - 1].index, bars[i - 1].v->addr);
	struct pt_strbuf sb = PT_STRBUF_INIT;
	pt_strbuf_puts(&sb, "00000000-00000fff : Reserved\n"
	                    "00001000-0009fbff : System RAM\n"
	                    "000a0000-000bffff : PCI Bus 0000:00\n"
	                    "000f0000-000fffff : System ROM\n"
	                    "00100000-7fffffff : System RAM\n");
	iomem_window(&sb, h, bars, n, WINDOW32_START, WINDOW32_END);
	pt_strbuf_puts(&sb, "fec00000-fec003ff : IOAPIC 0\n"
	                    "fee00000-fee00fff : Local APIC\n"
	                    "100000000-47fffffff : System RAM\n");
	iomem_window(&sb, h, bars, n, WINDOW64_START, WINDOW64_END);
	put("/proc/iomem", sb.data, sb.len);
	pt_strbuf_release(&sb);
	free(bars);
	if (h->fb_device)
		write_boot_params(h);
}

static void write_proc(struct host *h)
{
	putf("/proc/cmdline", "%s\n", h->cmdline);
	putf("/proc/sys/kernel/osrelease", "%s\n", h->kernel_release);
	putf("/proc/sys/kernel/hostname", "%s\n", h->hostname);
	putf("/proc/version",
	     "Linux version %s (build@%s) (gcc (Debian 12.2.0-14) 12.2.0, GNU ld (GNU Binutils "
	     "for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC\n",
	     h->kernel_release, strstr(h->kernel_release, "pve") ? "proxmox" : "debian");
	write_cpuinfo(h);
	write_loaded_modules(&h->loaded);
	write_iomem(h);

	/* The kernel pads every /proc/net/route line to 127 columns. */
	struct pt_strbuf sb = PT_STRBUF_INIT;
	pt_strbuf_printf(&sb, "%-127s\n",
	                 "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU"
	                 "\tWindow\tIRTT");
	if (h->default_route) {
		char *line = xasprintf("%s\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0",
		                       h->default_route);
		pt_strbuf_printf(&sb, "%-127s\n", line);
		free(line);
		line = xasprintf("%s\t0001A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0",
		                 h->default_route);
		pt_strbuf_printf(&sb, "%-127s\n", line);
		free(line);
	}
	put("/proc/net/route", sb.data, sb.len);
	pt_strbuf_release(&sb);

	pt_strbuf_puts(&sb, "sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0\n"
	                    "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n"
	                    "udev /dev devtmpfs rw,nosuid,relatime,mode=755 0 0\n"
	                    "tmpfs /run tmpfs rw,nosuid,nodev,noexec,relatime,mode=755 0 0\n");
	for (size_t i = 0; i < h->nmounts; i++) {
		struct mnt *m = &h->mounts[i];
		pt_strbuf_printf(&sb, "%s %s %s %s 0 0\n", m->source, m->target, m->fstype,
		                 m->options);
	}
	if (h->efi)
		pt_strbuf_puts(&sb, "efivarfs /sys/firmware/efi/efivars efivarfs "
		                    "rw,nosuid,nodev,noexec,relatime 0 0\n");
	put("/proc/mounts", sb.data, sb.len);
	put("/proc/self/mounts", sb.data, sb.len);
	pt_strbuf_release(&sb);
}

/* /lib/modules/<release>/modules.{dep,alias,builtin} and /boot placeholders. */
static void write_kernel(const struct kernel *k, const char *where)
{
	struct pt_strbuf dep = PT_STRBUF_INIT, alias = PT_STRBUF_INIT, builtin = PT_STRBUF_INIT;
	pt_strbuf_puts(&alias, "# Aliases extracted from modules themselves.\n");
	struct strv names = {0};
	for (size_t i = 0; i < k->modules.n; i++)
		strv_push(&names, modname(k->modules.v[i]));
	for (size_t i = 0; i < names.n; i++) {
		const struct kmod *m = catalogue_find(names.v[i]);
		if (!m)
			die("%s: kernel %s: module %s is not in %s; add it there (path, aliases)",
			    where, k->release, names.v[i], g_cat.doc.file);
		pt_strbuf_printf(&dep, "%s:", m->path);
		for (size_t j = 0; j < m->depends.n; j++) {
			if (!strv_has(&names, m->depends.v[j]))
				continue;
			pt_strbuf_printf(&dep, " %s", catalogue_find(m->depends.v[j])->path);
		}
		pt_strbuf_putc(&dep, '\n');
		const struct strv *pats = &m->aliases;
		for (size_t j = 0; j < k->naliases; j++)
			if (strcmp(k->aliases[j].module, m->name) == 0)
				pats = &k->aliases[j].patterns;
		for (size_t j = 0; j < pats->n; j++)
			pt_strbuf_printf(&alias, "alias %s %s\n", pats->v[j], m->name);
	}
	for (size_t j = 0; j < k->naliases; j++)
		if (!strv_has(&names, k->aliases[j].module))
			die("%s: kernel %s: aliases for %s, which the kernel does not list in "
			    "modules",
			    where, k->release, k->aliases[j].module);
	for (size_t i = 0; i < k->builtin.n; i++) {
		const struct kmod *m = catalogue_find(k->builtin.v[i]);
		char *n = modname(k->builtin.v[i]);
		if (m)
			pt_strbuf_printf(&builtin, "%s\n", m->path);
		else
			pt_strbuf_printf(&builtin, "kernel/drivers/%s.ko\n", n);
		free(n);
	}
	char *d = xasprintf("/lib/modules/%s", k->release);
	char *f = xasprintf("%s/modules.dep", d);
	put(f, dep.data ? dep.data : "", dep.len);
	free(f);
	f = xasprintf("%s/modules.alias", d);
	put(f, alias.data, alias.len);
	free(f);
	f = xasprintf("%s/modules.builtin", d);
	put(f, builtin.data ? builtin.data : "", builtin.len);
	free(f);
	free(d);
	f = xasprintf("/boot/vmlinuz-%s", k->release);
	touch(f);
	free(f);
	f = xasprintf("/boot/initrd.img-%s", k->release);
	touch(f);
	free(f);
	f = xasprintf("/boot/config-%s", k->release);
	putf(f, "CONFIG_VFIO=m\nCONFIG_VFIO_PCI=m\nCONFIG_VFIO_IOMMU_TYPE1=m\n");
	free(f);
	pt_strbuf_release(&dep);
	pt_strbuf_release(&alias);
	pt_strbuf_release(&builtin);
}

static void write_os(const char *hostname, const char *id, const char *version_id, const char *name,
                     const char *pretty, const char *codename)
{
	putf("/etc/hostname", "%s\n", hostname);
	putf("/etc/hosts",
	     "127.0.0.1 localhost.localdomain localhost\n"
	     "192.168.1.10 %s.lan %s\n\n"
	     "::1     ip6-localhost ip6-loopback\n",
	     hostname, hostname);
	putf("/etc/os-release",
	     "PRETTY_NAME=\"%s\"\nNAME=\"%s\"\nVERSION_ID=\"%s\"\nVERSION=\"%s (%s)\"\n"
	     "VERSION_CODENAME=%s\nID=%s\nHOME_URL=\"https://www.debian.org/\"\n"
	     "SUPPORT_URL=\"https://www.debian.org/support\"\n"
	     "BUG_REPORT_URL=\"https://bugs.debian.org/\"\n",
	     pretty, name, version_id, version_id, codename, codename, id);
	mkdirs("/tmp");
	char *tmp = outpath("/tmp");
	chmod(tmp, 01777);
	free(tmp);
	mkdirs("/var/tmp");
	mkdirs("/var/log");
}

/* The repository this binary was built in: build/tools/mkroot -> ../../ */
static char *g_repo;
static char *g_shared;

static void find_dirs(void)
{
	const char *env = getenv("PT_REPO");
	if (env && *env) {
		g_repo = xstrdup(env);
	} else {
		char exe[PATH_MAX];
		ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
		if (n < 0)
			die("cannot find my own path: %s", strerror(errno));
		exe[n] = '\0';
		for (int i = 0; i < 3; i++) {
			char *s = strrchr(exe, '/');
			if (s)
				*s = '\0';
		}
		g_repo = xstrdup(exe);
	}
	env = getenv("PT_SHARED");
	g_shared = env && *env ? xstrdup(env) : xasprintf("%s/../shared", g_repo);
}

/* "shared:corpus/x" (../shared), "repo:tests/x" (the repository), or a path
 * relative to the host description's directory. */
static char *copy_source(const struct host *h, const char *spec)
{
	if (strncmp(spec, "shared:", 7) == 0)
		return xasprintf("%s/%s", g_shared, spec + 7);
	if (strncmp(spec, "repo:", 5) == 0)
		return xasprintf("%s/%s", g_repo, spec + 5);
	if (spec[0] == '/')
		return xstrdup(spec);
	return xasprintf("%s/%s", h->base_dir, spec);
}

static void write_etc(struct host *h)
{
	write_os(h->hostname, h->os_id, h->os_version_id, h->os_name, h->os_pretty, h->os_codename);
	if (h->proxmox) {
		putf("/etc/pve/.version", "{\"version\":1,\"vmlist\":1,\"nodes\":{\"%s\":1}}\n",
		     h->hostname);
		char *node = xasprintf("/etc/pve/nodes/%s/qemu-server", h->hostname);
		mkdirs(node);
		free(node);
		char *target = xasprintf("nodes/%s", h->hostname);
		link_raw("/etc/pve/local", target);
		free(target);
		putf("/usr/share/perl5/PVE/pvecfg.pm",
		     "package PVE::pvecfg;\n\nuse strict;\nuse warnings;\n\n"
		     "sub package { return 'pve-manager'; }\n\nsub version { return '%s'; }\n\n"
		     "sub release { return '%.3s'; }\n\n1;\n",
		     h->pve_version, h->pve_version);
	}
	if (h->efi) {
		putf("/sys/firmware/efi/fw_platform_size", "64\n");
		mkdirs("/sys/firmware/efi/efivars");
	}
	if (h->secure_boot_given) {
		/* efivarfs: the attributes (non-volatile, boot and runtime access), then
		 * the value */
		const unsigned char var[5] = {0x06, 0, 0, 0, (unsigned char)h->secure_boot};
		put("/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c",
		    var, sizeof var);
	}
	mkdirs("/sys/firmware/acpi");
	for (size_t i = 0; i < h->dirs.n; i++) {
		if (h->dirs.v[i][0] != '/')
			die("%s: dirs must be absolute paths, got '%s'", h->source, h->dirs.v[i]);
		mkdirs(h->dirs.v[i]);
	}
	for (size_t i = 0; i < h->ncopies; i++) {
		char *src = copy_source(h, h->copies[i].value);
		char *data;
		size_t len;
		int rc = pt_file_read(src, &data, &len);
		if (rc < 0)
			die("%s: copy %s from %s: %s", h->source, h->copies[i].path, src,
			    strerror(-rc));
		put_mode(h->copies[i].path, data, len, h->copies[i].mode);
		free(data);
		free(src);
	}
	for (size_t i = 0; i < h->nfiles; i++)
		put_mode(h->files[i].path, h->files[i].value, strlen(h->files[i].value),
		         h->files[i].mode);
	for (size_t i = 0; i < h->nlinks; i++)
		link_raw(h->links[i].path, h->links[i].value);
}

static void write_host(struct host *h)
{
	host_defaults(h);
	host_topology(h);
	mkdirs("/sys/bus/pci/devices");
	mkdirs("/sys/bus/pci/drivers");
	touch("/sys/bus/pci/drivers_probe");
	touch("/sys/bus/pci/rescan");
	putf("/sys/bus/pci/drivers_autoprobe", "1\n");
	mkdirs("/sys/module");
	write_groups(h);
	struct strv drivers = {0};
	for (size_t i = 0; i < h->ndevs; i++) {
		write_device(h, &h->devs[i]);
		if (h->devs[i].driver && !strv_has(&drivers, h->devs[i].driver))
			strv_push(&drivers, h->devs[i].driver);
	}
	for (size_t i = 0; i < h->drivers.n; i++)
		if (!strv_has(&drivers, h->drivers.v[i]))
			strv_push(&drivers, h->drivers.v[i]);
	/* vfio-pci registers its driver when the module is loaded. */
	for (size_t i = 0; i < h->loaded.n; i++) {
		char *n = modname(h->loaded.v[i]);
		if (strcmp(n, "vfio_pci") == 0 && !strv_has(&drivers, "vfio-pci"))
			strv_push(&drivers, "vfio-pci");
		free(n);
	}
	for (size_t i = 0; i < drivers.n; i++)
		write_driver(drivers.v[i]);
	write_net(h);
	write_block(h);
	write_proc(h);
	for (size_t i = 0; i < h->nkernels; i++)
		write_kernel(&h->kernels[i], h->source);
	write_etc(h);
}

/* --- synthetic hosts (benchmarks) -------------------------------------------------- */

struct synth_kind {
	int vendor, device, sub_vendor, sub_device;
	long class_code;
	const char *driver;
};

/* Real IDs (names resolve through pci.ids), one slot's functions per row. */
static const struct synth_kind synth_slots[][4] = {
        {{0x10de, 0x1c82, 0x1462, 0x8c96, 0x030000, "nouveau"},
         {0x10de, 0x0fb9, 0x1462, 0x8c96, 0x040300, "snd_hda_intel"},
         {0x10de, 0x1ad8, 0x1462, 0x8c96, 0x0c0330, "xhci_hcd"},
         {0x10de, 0x1ad9, 0x1462, 0x8c96, 0x0c8000, NULL}},
        {{0x8086, 0x1521, 0x15d9, 0x1521, 0x020000, "igb"},
         {0x8086, 0x1521, 0x15d9, 0x1521, 0x020000, "igb"},
         {0x8086, 0x1521, 0x15d9, 0x1521, 0x020000, "igb"},
         {0x8086, 0x1521, 0x15d9, 0x1521, 0x020000, "igb"}},
        {{0x1002, 0x73ff, 0x1da2, 0xe445, 0x030000, "amdgpu"},
         {0x1002, 0xab28, 0x1da2, 0xab28, 0x040300, "snd_hda_intel"},
         {0x144d, 0xa808, 0x144d, 0xa801, 0x010802, "nvme"},
         {0x1000, 0x0097, 0x1000, 0x3090, 0x010700, "mpt3sas"}},
        {{0x10de, 0x20b0, 0x10de, 0x134f, 0x030200, NULL},
         {0x15b3, 0x1017, 0x15b3, 0x0020, 0x020000, "mlx5_core"},
         {0x8086, 0x10fb, 0x8086, 0x000c, 0x020000, "ixgbe"},
         {0x10ec, 0x8168, 0x1462, 0x7b17, 0x020000, "r8169"}},
};

static void synthetic_host(struct host *h, long ndev, long ngroups)
{
	if (ngroups < 1 || ngroups > 248 || ndev < ngroups || ndev / ngroups > 257)
		die("--synthetic wants 1-248 groups and 1-257 devices per group (got %ld devices "
		    "in %ld groups)",
		    ndev, ngroups);
	h->source = "--synthetic";
	h->base_dir = ".";
	h->hostname = "synthetic";
	h->proxmox = true;
	h->kernel_release = "6.8.12-4-pve";
	h->cmdline = "BOOT_IMAGE=/boot/vmlinuz-6.8.12-4-pve root=/dev/mapper/pve-root ro quiet "
	             "intel_iommu=on iommu=pt";
	h->iommu = "intel";
	h->group_type = "DMA";
	struct kernel *k = PUSH(h->kernels, h->nkernels);
	k->release = h->kernel_release;
	catalogue_expand_set("vfio-6.8", &k->modules, "--synthetic");
	strv_push(&h->loaded, "kvm_intel");
	strv_push(&h->loaded, "kvm");
	for (long g = 0; g < ngroups; g++) {
		long size = ndev / ngroups + (g < ndev % ngroups ? 1 : 0);
		unsigned bus = (unsigned)g + 1;
		/* The port's address, not a pointer: PUSH moves h->devs. */
		char *port_addr = NULL;
		if (size > 1) {
			struct dev *port = PUSH(h->devs, h->ndevs);
			char addr[16];
			snprintf(addr, sizeof addr, "0000:00:%02x.%x", (unsigned)(1 + g / 8),
			         (unsigned)(g % 8));
			parse_address(addr, port);
			bool amd = g % 2;
			port->vendor = amd ? 0x1022 : 0x8086;
			port->device = amd ? 0x1483 : 0x1901;
			port->class_code = 0x060400;
			port->driver = "pcieport";
			port->group = (int)g;
			port->boot_vga = -1;
			port->irq = port->numa_node = port->secondary_bus = -1;
			port_addr = xstrdup(port->addr);
			size--;
		}
		const struct synth_kind *row = synth_slots[g % 4];
		for (long e = 0; e < size; e++) {
			struct dev *v = PUSH(h->devs, h->ndevs);
			char addr[16];
			snprintf(addr, sizeof addr, "0000:%02x:%02x.%x", bus, (unsigned)(e / 8),
			         (unsigned)(e % 8));
			parse_address(addr, v);
			const struct synth_kind *kd = &row[e % 4];
			v->vendor = kd->vendor;
			v->device = kd->device;
			v->sub_vendor = kd->sub_vendor;
			v->sub_device = kd->sub_device;
			v->class_code = kd->class_code;
			v->revision = 0xa1;
			v->driver = kd->driver;
			v->group = (int)g;
			v->boot_vga = -1;
			v->irq = v->numa_node = v->secondary_bus = -1;
			v->parent_addr = port_addr;
			if (kd->class_code == 0x020000 && kd->driver) {
				const char *ifn = xasprintf("enp%us0f%u", bus, v->fn);
				strv_push(&v->net, ifn);
				if (!h->default_route)
					h->default_route = ifn;
			}
			const struct kmod *m =
			        kd->driver ? catalogue_driver_module(kd->driver) : NULL;
			if (m && !strv_has(&k->modules, m->name)) {
				strv_push(&k->modules, m->name);
				strv_push(&h->loaded, m->name);
			}
		}
	}
}

/* --- captures ---------------------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* noinline: inlined, GCC 12 mistakes the result for a pointer to the local. */
static __attribute__((noinline)) char *read_or_die(const char *path, size_t *len)
{
	char *data = NULL;
	int rc = pt_file_read(path, &data, len);
	if (rc < 0)
		die("cannot read %s: %s", path, strerror(-rc));
	return data;
}

static char *first_line(char *s)
{
	s[strcspn(s, "\n")] = '\0';
	return s;
}

/* mdev_supported_types.ls (newer captures): one directory per type name. */
static void capture_mdev_types(const char *cdir, const char *realpath_)
{
	char *p = xasprintf("%s/mdev_supported_types.ls", cdir);
	char *data = read_or_die(p, NULL);
	free(p);
	char *save;
	for (char *t = strtok_r(data, "\n", &save); t; t = strtok_r(NULL, "\n", &save)) {
		if (!*t || strchr(t, '/') || t[0] == '.')
			continue;
		char *d = xasprintf("%s/mdev_supported_types/%s", realpath_, t);
		mkdirs(d);
		free(d);
	}
	free(data);
}

/* Lay out one captured device: its attributes byte for byte, its links as the
 * kernel had them, and the links sysfs keeps elsewhere that point at it. */
static void capture_device(const char *cdir, const char *addr, struct strv *drivers,
                           struct strv *iommu_users)
{
	char *p = xasprintf("%s/REALPATH", cdir);
	char *realpath_ = first_line(read_or_die(p, NULL));
	free(p);
	if (strncmp(realpath_, "/sys/devices/", 13) != 0)
		die("%s: REALPATH %s is not under /sys/devices", cdir, realpath_);
	mkdirs(realpath_);
	DIR *dir = opendir(cdir);
	if (!dir)
		die("cannot read %s: %s", cdir, strerror(errno));
	struct dirent *e;
	bool has_iommu_link = false;
	bool bridge = false;
	while ((e = readdir(dir))) {
		const char *n = e->d_name;
		if (n[0] == '.' || !strcmp(n, "REALPATH") || !strcmp(n, "LS"))
			continue;
		if (!strcmp(n, "mdev_supported_types.ls")) {
			capture_mdev_types(cdir, realpath_);
			continue;
		}
		char *src = xasprintf("%s/%s", cdir, n);
		size_t len;
		char *data = read_or_die(src, &len);
		free(src);
		if (strncmp(n, "LINK.", 5) == 0) {
			const char *what = n + 5;
			/* firmware_node points into ACPI, which the capture does not hold. */
			if (!strcmp(what, "iommu_group") || !strcmp(what, "driver") ||
			    !strcmp(what, "physfn")) {
				char *l = xasprintf("%s/%s", realpath_, what);
				link_raw(l, first_line(data));
				free(l);
				if (!strcmp(what, "driver")) {
					const char *slash = strrchr(data, '/');
					char *name = xstrdup(slash ? slash + 1 : data);
					strv_push(drivers, name);
					l = xasprintf("/sys/bus/pci/drivers/%s/%s", name, addr);
					link_rel(l, realpath_);
					free(l);
				}
			}
		} else {
			char *rel = xasprintf("%s/%s", realpath_, n);
			put(rel, data, len);
			free(rel);
			if (!strcmp(n, "class") && strncmp(data, "0x0604", 6) == 0)
				bridge = true;
		}
		free(data);
	}
	closedir(dir);
	p = xasprintf("%s/LS", cdir);
	char *ls = NULL;
	if (pt_file_read(p, &ls, NULL) == 0) {
		for (char *line = strtok(ls, "\n"); line; line = strtok(NULL, "\n"))
			if (!strcmp(line, "iommu"))
				has_iommu_link = true;
	}
	free(ls);
	free(p);
	if (has_iommu_link)
		strv_push(iommu_users, xasprintf("%s\t%s", addr, realpath_));
	if (bridge) {
		/* Derived from the captured config space, as the kernel derives them. */
		p = xasprintf("%s/config", cdir);
		size_t len = 0;
		char *cfg = NULL;
		if (pt_file_read(p, &cfg, &len) == 0 && len >= 0x1b) {
			attr(realpath_, "secondary_bus_number", "%u\n", (unsigned char)cfg[0x19]);
			attr(realpath_, "subordinate_bus_number", "%u\n", (unsigned char)cfg[0x1a]);
		}
		free(cfg);
		free(p);
	}
	char *l = xasprintf("%s/subsystem", realpath_);
	link_rel(l, "/sys/bus/pci");
	free(l);
	l = xasprintf("/sys/bus/pci/devices/%s", addr);
	link_rel(l, realpath_);
	free(l);
	free(realpath_);
}

static void capture_cpuinfo(const char *cap)
{
	char *p = xasprintf("%s/cpu", cap);
	char *data = read_or_die(p, NULL);
	free(p);
	struct host h = {0};
	h.cpu_count = 2;
	h.cpu_flags_given = true;
	for (char *line = strtok(data, "\n"); line; line = strtok(NULL, "\n")) {
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		char *val = colon + 1;
		while (*val == ' ')
			val++;
		if (!strncmp(line, "vendor_id", 9))
			h.cpu_vendor = xstrdup(val);
		else if (!strncmp(line, "model name", 10))
			h.cpu_model = xstrdup(val);
		else if (!strncmp(line, "flags", 5))
			for (char *f = strtok_r(val, " ", &colon); f;
			     f = strtok_r(NULL, " ", &colon))
				strv_push(&h.cpu_flags, xstrdup(f));
	}
	if (!h.cpu_vendor)
		h.cpu_vendor = "GenuineIntel";
	if (!h.cpu_model)
		h.cpu_model = "QEMU TCG CPU version 2.5+";
	write_cpuinfo(&h);
	free(data);
}

/* One KEY=value of an os-release text, quotes taken off; NULL when absent. */
static char *os_release_value(const char *text, const char *key)
{
	size_t klen = strlen(key);
	for (const char *line = text; line && *line;
	     line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		if (strncmp(line, key, klen) != 0 || line[klen] != '=')
			continue;
		const char *v = line + klen + 1;
		size_t n = strcspn(v, "\n");
		if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
			v++;
			n -= 2;
		}
		return xasprintf("%.*s", (int)n, v);
	}
	return NULL;
}

/* The host's identity: the captured os-release when it names the system (newer
 * captures), else Debian 12, which every older capture is (they ran in an
 * initramfs, whose os-release read failed). */
static void capture_os(const char *cap, const char *hostname)
{
	char *p = xasprintf("%s/os-release", cap);
	char *text = NULL;
	char *id = NULL;
	if (pt_file_read(p, &text, NULL) == 0 && (id = os_release_value(text, "ID"))) {
		char *version = os_release_value(text, "VERSION_ID");
		char *name = os_release_value(text, "NAME");
		char *pretty = os_release_value(text, "PRETTY_NAME");
		char *codename = os_release_value(text, "VERSION_CODENAME");
		if (id && version && name && pretty && codename)
			write_os(hostname, id, version, name, pretty, codename);
		else
			die("%s: ID, VERSION_ID, NAME, PRETTY_NAME or VERSION_CODENAME is missing",
			    p);
		free(id);
		free(version);
		free(name);
		free(pretty);
		free(codename);
	} else {
		write_os(hostname, "debian", "12", "Debian GNU/Linux",
		         "Debian GNU/Linux 12 (bookworm)", "bookworm");
	}
	free(text);
	free(p);
}

/* capture/NAME, when the capture has it, byte for byte at REL in the root. */
static void capture_copy(const char *cap, const char *name, const char *rel)
{
	char *p = xasprintf("%s/%s", cap, name);
	char *data = NULL;
	size_t len = 0;
	if (pt_file_read(p, &data, &len) == 0)
		put(rel, data, len);
	free(data);
	free(p);
}

static const char *g_capture_files; /* capture/files, for copy_captured_file */

static int copy_captured_file(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag != FTW_F)
		return 0;
	size_t len = 0;
	char *data = read_or_die(path, &len);
	put(path + strlen(g_capture_files), data, len);
	free(data);
	return 0;
}

/* What newer captures (tests/e2e/guest/capture.sh) add, each optional so older
 * captures still build: the memory map, the interrupts table, the firmware and
 * its Secure Boot variable, vfio's unsafe-interrupts switch, and capture/files/
 * (the initramfs module list, modprobe.d, modules-load.d, modules.builtin) laid
 * over what the root has so far. */
static void capture_extras(const char *cap)
{
	capture_copy(cap, "iomem", "/proc/iomem");
	capture_copy(cap, "interrupts", "/proc/interrupts");
	capture_copy(cap, "boot_params", "/sys/kernel/boot_params/data");
	capture_copy(cap, "allow_unsafe_interrupts",
	             "/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts");
	char *p = xasprintf("%s/firmware", cap);
	char *fw = NULL;
	if (pt_file_read(p, &fw, NULL) == 0 && !strncmp(fw, "uefi", 4)) {
		putf("/sys/firmware/efi/fw_platform_size", "64\n");
		mkdirs("/sys/firmware/efi/efivars");
		capture_copy(cap, "efivar-SecureBoot",
		             "/sys/firmware/efi/efivars/"
		             "SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c");
	}
	free(fw);
	free(p);
	char *files = xasprintf("%s/files", cap);
	struct stat st;
	if (stat(files, &st) == 0 && S_ISDIR(st.st_mode)) {
		g_capture_files = files;
		nftw(files, copy_captured_file, 16, FTW_PHYS);
		g_capture_files = NULL;
	}
	free(files);
}

/* The extracted capture, removed at exit on every path (die() included). */
static char *g_tmp;

static void remove_tmp(void)
{
	if (g_tmp)
		nftw(g_tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void build_capture(const char *tgz)
{
	const char *tmpbase = getenv("TMPDIR");
	char *tmp = xasprintf("%s/mkroot.XXXXXX", tmpbase && *tmpbase ? tmpbase : "/tmp");
	if (!mkdtemp(tmp))
		die("cannot create a temporary directory: %s", strerror(errno));
	g_tmp = tmp;
	atexit(remove_tmp);
	const char *argv[] = {"tar", "-xzf", tgz, "-C", tmp, "--no-same-owner", NULL};
	struct pt_exec_result res;
	int rc = pt_exec(NULL, argv, 120, &res);
	if (rc < 0 || res.rc != 0) {
		fprintf(stderr, "%s", res.err ? res.err : "");
		die("cannot extract %s (tar rc %d)", tgz, res.rc);
	}
	pt_exec_result_release(&res);
	char *cap = xasprintf("%s/capture", tmp);
	char *devdir = xasprintf("%s/devices", cap);

	mkdirs("/sys/bus/pci/devices");
	mkdirs("/sys/bus/pci/drivers");
	touch("/sys/bus/pci/drivers_probe");
	touch("/sys/bus/pci/rescan");
	putf("/sys/bus/pci/drivers_autoprobe", "1\n");
	mkdirs("/sys/kernel/iommu_groups");
	mkdirs("/sys/class/iommu");
	mkdirs("/sys/class/net");
	mkdirs("/sys/block");
	mkdirs("/sys/module");

	struct strv drivers = {0}, iommu_users = {0};
	DIR *dir = opendir(devdir);
	if (!dir)
		die("%s holds no capture/devices directory", tgz);
	struct dirent *e;
	size_t ndev = 0;
	while ((e = readdir(dir))) {
		if (e->d_name[0] == '.')
			continue;
		struct dev probe;
		if (parse_address(e->d_name, &probe) < 0)
			die("%s: capture/devices/%s is not a PCI address", tgz, e->d_name);
		char *cdir = xasprintf("%s/%s", devdir, e->d_name);
		capture_device(cdir, probe.addr, &drivers, &iommu_users);
		free(cdir);
		ndev++;
	}
	closedir(dir);

	/* PCI drivers the kernel had registered, bound or not. */
	char *p = xasprintf("%s/pci_drivers", cap);
	char *data = NULL;
	if (pt_file_read(p, &data, NULL) == 0)
		for (char *line = strtok(data, "\n"); line; line = strtok(NULL, "\n"))
			if (*line && !strchr(line, ' ') && !strchr(line, '/'))
				strv_push(&drivers, xstrdup(line));
	free(p);
	free(data);
	struct strv seen = {0};
	for (size_t i = 0; i < drivers.n; i++)
		if (!strv_has(&seen, drivers.v[i])) {
			strv_push(&seen, drivers.v[i]);
			write_driver(drivers.v[i]);
		}

	/* iommu_groups.txt: "<group> <type> <address>..." */
	p = xasprintf("%s/iommu_groups.txt", cap);
	data = read_or_die(p, NULL);
	free(p);
	char *save;
	for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *s2;
		char *gid = strtok_r(line, " ", &s2);
		char *type = strtok_r(NULL, " ", &s2);
		if (!gid || !type || strspn(gid, "0123456789") != strlen(gid))
			continue;
		char *gd = xasprintf("/sys/kernel/iommu_groups/%s", gid);
		attr(gd, "type", "%s\n", type);
		attr(gd, "reserved_regions", "0x00000000fee00000 0x00000000feefffff msi\n");
		for (char *a = strtok_r(NULL, " ", &s2); a; a = strtok_r(NULL, " ", &s2)) {
			char *l = xasprintf("%s/devices/%s", gd, a);
			char *target = xasprintf("/sys/bus/pci/devices/%s", a);
			char *abs = outpath(target);
			char real[PATH_MAX];
			if (!realpath(abs, real))
				die("%s: group %s lists %s, which the capture does not hold", tgz,
				    gid, a);
			link_rel(l, real + strlen(g_out));
			free(abs);
			free(target);
			free(l);
		}
		free(gd);
	}
	free(data);

	/* class_iommu.ls: "... dmar0 -> ../../devices/virtual/iommu/dmar0" */
	p = xasprintf("%s/class_iommu.ls", cap);
	data = read_or_die(p, NULL);
	free(p);
	for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *arrow = strstr(line, " -> ");
		if (!arrow)
			continue;
		*arrow = '\0';
		char *name = strrchr(line, ' ');
		name = name ? name + 1 : line;
		const char *target = arrow + 4;
		if (strncmp(target, "../../devices/", 14) != 0)
			continue;
		char *l = xasprintf("/sys/class/iommu/%s", name);
		link_raw(l, target);
		free(l);
		char *tdir = xasprintf("/sys/%s", target + 6);
		mkdirs(tdir);
		for (size_t i = 0; i < iommu_users.n; i++) {
			char *tab = strchr(iommu_users.v[i], '\t');
			char *dev_addr =
			        xasprintf("%.*s", (int)(tab - iommu_users.v[i]), iommu_users.v[i]);
			l = xasprintf("%s/iommu", tab + 1);
			link_rel(l, tdir);
			free(l);
			l = xasprintf("%s/devices/%s", tdir, dev_addr);
			link_rel(l, tab + 1);
			free(l);
			free(dev_addr);
		}
		free(tdir);
	}
	free(data);

	/* /proc and the installed kernel. */
	p = xasprintf("%s/cmdline", cap);
	data = read_or_die(p, NULL);
	put("/proc/cmdline", data, strlen(data));
	free(data);
	free(p);
	p = xasprintf("%s/uname", cap);
	data = first_line(read_or_die(p, NULL));
	free(p);
	char sysname[64], node[256], release[256];
	if (sscanf(data, "%63s %255s %255s", sysname, node, release) != 3)
		die("%s: capture/uname does not hold a kernel release", tgz);
	const char *version = strstr(data, release) + strlen(release);
	putf("/proc/sys/kernel/osrelease", "%s\n", release);
	putf("/proc/version", "Linux version %s (debian-kernel@lists.debian.org)%s\n", release,
	     version);
	free(data);
	p = xasprintf("%s/modules", cap);
	size_t len;
	data = read_or_die(p, &len);
	free(p);
	put("/proc/modules", data, len);
	for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' ');
		if (!sp)
			continue;
		*sp = '\0';
		char *d = xasprintf("/sys/module/%s", line);
		attr(d, "initstate", "live\n");
		free(d);
	}
	free(data);
	capture_cpuinfo(cap);
	/* The capture knows no routes: the header alone, padded as the kernel pads it. */
	char *hdr = xasprintf("%-127s\n", "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse"
	                                  "\tMetric\tMask\t\tMTU\tWindow\tIRTT");
	put("/proc/net/route", hdr, strlen(hdr));
	free(hdr);
	static const char mounts[] = "sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0\n"
	                             "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n"
	                             "udev /dev devtmpfs rw,nosuid,relatime,mode=755 0 0\n"
	                             "/dev/root / ext4 rw,relatime 0 0\n";
	put("/proc/mounts", mounts, sizeof mounts - 1);
	put("/proc/self/mounts", mounts, sizeof mounts - 1);
	p = xasprintf("%s/dmesg-iommu", cap);
	data = NULL;
	if (pt_file_read(p, &data, &len) == 0)
		put("/var/log/dmesg", data, len);
	free(data);
	free(p);

	struct kernel k = {0};
	k.release = release;
	catalogue_expand_set("debian-6.1-qemu", &k.modules, tgz);
	write_kernel(&k, tgz);

	/* The capture's name stands for the host name (its uname says "(none)"). */
	const char *base = strrchr(tgz, '/');
	base = base ? base + 1 : tgz;
	char *hostname = xstrdup(base);
	char *dot = strchr(hostname, '.');
	if (dot)
		*dot = '\0';
	putf("/proc/sys/kernel/hostname", "%s\n", hostname);
	capture_os(cap, hostname);
	struct host h = {.source = tgz, .base_dir = "."};
	struct entry copies[] = {
	        {"/etc/default/grub", "repo:tests/fixtures/files/debian12-default-grub", 0644},
	        {"/etc/modules", "repo:tests/fixtures/files/debian12-etc-modules", 0644},
	};
	h.copies = copies;
	h.ncopies = 2;
	h.hostname = hostname;
	mkdirs("/etc/modprobe.d");
	for (size_t i = 0; i < h.ncopies; i++) {
		char *src = copy_source(&h, copies[i].value);
		char *cdata;
		size_t clen;
		int rc2 = pt_file_read(src, &cdata, &clen);
		if (rc2 < 0)
			die("copy %s: %s", src, strerror(-rc2));
		put(copies[i].path, cdata, clen);
		free(cdata);
		free(src);
	}
	free(hostname);
	capture_extras(cap);

	free(cap);
	free(devdir);
	if (!ndev)
		die("%s: the capture holds no devices", tgz);
}

/* --- main --------------------------------------------------------------------------- */

static void prepare_outdir(const char *dir)
{
	DIR *d = opendir(dir);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)))
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				die("%s exists and is not empty; give a new or empty directory",
				    dir);
		closedir(d);
	} else if (errno != ENOENT) {
		die("cannot use %s: %s", dir, strerror(errno));
	}
	char *abs = dir[0] == '/' ? xstrdup(dir) : NULL;
	if (!abs) {
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof cwd))
			die("cannot find the current directory: %s", strerror(errno));
		abs = xasprintf("%s/%s", cwd, dir);
	}
	size_t n = strlen(abs);
	while (n > 1 && abs[n - 1] == '/')
		abs[--n] = '\0';
	mkdirs_abs(abs);
	g_out = abs;
}

static void usage(FILE *f)
{
	fputs("usage: mkroot [--catalogue FILE] HOST.yml OUTDIR\n"
	      "       mkroot [--catalogue FILE] --capture CAPTURE.tgz OUTDIR\n"
	      "       mkroot [--catalogue FILE] --synthetic NDEVICES NGROUPS OUTDIR\n"
	      "Builds a sandbox root (sys/, proc/, lib/modules/, dev/, etc/) in OUTDIR, which\n"
	      "must be new or empty. Host description format: tests/fixtures/hosts/README.md.\n",
	      f);
}

static long parse_count(const char *s, const char *what)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (end == s || *end || v <= 0)
		die("%s must be a positive number, got '%s'", what, s);
	return v;
}

int main(int argc, char **argv)
{
	int i = 1;
	const char *catalogue = NULL;
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc > 2 && !strcmp(argv[1], "--catalogue")) {
		catalogue = argv[2];
		i = 3;
	}
	find_dirs();
	char *default_cat = xasprintf("%s/tests/fixtures/kernel-modules.yml", g_repo);
	catalogue_load(catalogue ? catalogue : default_cat);
	int rest = argc - i;
	if (rest == 3 && !strcmp(argv[i], "--capture")) {
		prepare_outdir(argv[i + 2]);
		build_capture(argv[i + 1]);
	} else if (rest == 4 && !strcmp(argv[i], "--synthetic")) {
		long ndev = parse_count(argv[i + 1], "NDEVICES");
		long ngroups = parse_count(argv[i + 2], "NGROUPS");
		struct host h = {0};
		synthetic_host(&h, ndev, ngroups);
		prepare_outdir(argv[i + 3]);
		write_host(&h);
	} else if (rest == 2 && argv[i][0] != '-') {
		struct host h = {0};
		host_parse(&h, argv[i]);
		prepare_outdir(argv[i + 1]);
		write_host(&h);
	} else {
		usage(stderr);
		return 2;
	}
	printf("%s\n", g_out);
	return 0;
}
