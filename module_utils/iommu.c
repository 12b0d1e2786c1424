/* ansible_facts.iommu: assembled from the PCI scan (pci.c), the module files
 * (kmod.c) and a few /proc and /sys files. Every source may be missing in a
 * root: each field then reads null, and nothing here fails except the PCI
 * scan itself. */
#include "iommu.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "cmdline.h"
#include "files.h"
#include "json_text.h"
#include "kmod.h"
#include "sysfs_read.h"

/* ---- small JSON helpers -------------------------------------------------- */

/* Host text need not be UTF-8 (a byte in /proc/cmdline): pt_json_text keeps it. */
static json_t *string_or_null(const char *s)
{
	return s ? pt_json_text(s) : json_null();
}

/* The low `digits` hex digits of v, lower case ("10de"); null when v < 0.
 * By hand: snprintf was a tenth of a run's cost (seven IDs per device). */
static json_t *hex_or_null(int v, int digits)
{
	if (v < 0)
		return json_null();
	static const char hex[] = "0123456789abcdef";
	char buf[8];
	for (int i = digits - 1; i >= 0; i--, v >>= 4)
		buf[i] = hex[v & 0xf];
	return json_stringn_nocheck(buf, (size_t)digits);
}

/* "10de" for a 16-bit ID, null when unknown. */
static json_t *hex4_or_null(int v)
{
	return hex_or_null(v, 4);
}

/* A canonical address ("0000:07:00.0"): ASCII by construction. */
static json_t *address_string(const char *address)
{
	return json_stringn_nocheck(address, strnlen(address, PT_PCI_ADDR_LEN - 1));
}

/* A member under a key that is ASCII by construction (a literal, an address,
 * a group number): no UTF-8 check of the key at every set. */
static void set(json_t *object, const char *key, json_t *value)
{
	json_object_set_new_nocheck(object, key, value);
}

static json_t *int_or_null(int v)
{
	return v < 0 ? json_null() : json_integer(v);
}

/* Read <root>/<rel> whole; NULL when missing. Caller frees. */
static char *read_root_file(const char *root, const char *rel)
{
	_cleanup_free_ char *path = pt_path_join(root, rel);
	char *data = NULL;
	if (!path || pt_file_read(path, &data, NULL) < 0)
		return NULL;
	return data;
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names in a directory (without . and ..), sorted. Returns the count, or -1
 * when the directory cannot be opened; *names is then NULL. Free with
 * free_names. */
static ssize_t list_dir(const char *path, char ***names)
{
	*names = NULL;
	DIR *dir = opendir(path);
	if (!dir)
		return -1;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(dir))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char **grown = realloc(*names, ncap * sizeof **names);
			if (!grown)
				break;
			*names = grown;
			cap = ncap;
		}
		char *copy = strdup(e->d_name);
		if (copy)
			(*names)[n++] = copy;
	}
	closedir(dir);
	if (n)
		qsort(*names, n, sizeof **names, compare_strings);
	return (ssize_t)n;
}

static void free_names(char **names, ssize_t n)
{
	for (ssize_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* ---- the group helpers ------------------------------------------------------ */

bool pt_iommu_is_gpu(const struct pt_pci_device *dev)
{
	return dev && dev->class_id >= 0 && (dev->class_id >> 8) == 0x03;
}

json_t *pt_iommu_group_devices(const struct pt_pci_host *host, int group)
{
	json_t *list = json_array();
	if (!list || group < 0)
		return list;
	/* host->devices is sorted by address, so the list is too */
	for (size_t i = 0; i < host->count; i++)
		if (host->devices[i].iommu_group == group)
			json_array_append_new(list, address_string(host->devices[i].address));
	return list;
}

json_t *pt_iommu_slot_functions(const struct pt_pci_host *host, const char *slot)
{
	json_t *list = json_array();
	/* pt_pci_in_slot's test, with the slot's length checked once */
	if (!list || !slot || strlen(slot) != 10)
		return list;
	for (size_t i = 0; i < host->count; i++) {
		const char *a = host->devices[i].address;
		if (a[10] == '.' && !memcmp(a, slot, 10))
			json_array_append_new(list, address_string(a));
	}
	return list;
}

static bool selected(const char *address, const char *const addresses[], size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (addresses[i] && !strcmp(addresses[i], address))
			return true;
	return false;
}

/* Whether one of the selected devices is in group g; groups[k] is the group
 * of addresses[k] (-1: not scanned, or in no group). */
static bool group_selected(int g, const int *groups, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (groups[k] == g)
			return true;
	return false;
}

json_t *pt_iommu_intruders(const struct pt_pci_host *host, const char *const addresses[], size_t n)
{
	json_t *list = json_array();
	if (!list)
		return NULL;
	/* The selection's groups, looked up once rather than once per device. */
	int few[8];
	_cleanup_free_ int *many = n > 8 ? calloc(n, sizeof *many) : NULL;
	int *groups = n > 8 ? many : few;
	if (!groups) {
		json_decref(list);
		return NULL;
	}
	for (size_t k = 0; k < n; k++) {
		const struct pt_pci_device *s = pt_pci_find(host, addresses[k]);
		groups[k] = s ? s->iommu_group : -1;
	}
	/* Devices are sorted, so one pass yields sorted, unique addresses. */
	for (size_t i = 0; i < host->count; i++) {
		const struct pt_pci_device *d = &host->devices[i];
		if (d->iommu_group < 0 || !pt_pci_is_endpoint(d) ||
		    !group_selected(d->iommu_group, groups, n) ||
		    selected(d->address, addresses, n))
			continue;
		json_array_append_new(list, address_string(d->address));
	}
	return list;
}

/* ---- kernel command line ------------------------------------------------- */

/* Parameters that decide or describe IOMMU and passthrough behaviour. Names
 * as the kernel reads them ('_' for '-'). A trailing '*' matches a prefix. */
static const char *const iommu_params[] = {
        "intel_iommu",
        "amd_iommu",
        "amd_iommu_*",
        "iommu",
        "iommu.*",
        "ivrs_*",
        "intremap",
        "nointremap",
        "vfio.*",
        "vfio_pci.*",
        "vfio_iommu_type1.*",
        "pcie_acs_override",
        "video",
        "initcall_blacklist",
        "nomodeset",
        "nofb",
        "modprobe.blacklist",
        "module_blacklist",
        "kvm.ignore_msrs",
        "kvm.report_ignored_msrs",
        "pci",
};

static bool is_iommu_param(const char *name)
{
	for (size_t i = 0; i < sizeof iommu_params / sizeof *iommu_params; i++) {
		const char *p = iommu_params[i];
		size_t n = strlen(p);
		if (p[n - 1] == '*' ? !strncmp(name, p, n - 1) : !strcmp(name, p))
			return true;
	}
	return false;
}

json_t *pt_iommu_cmdline_params(const char *cmdline)
{
	json_t *params = json_object();
	struct pt_cmdline cl;
	if (!params || !cmdline || pt_cmdline_parse(cmdline, &cl) < 0)
		return params;
	for (size_t i = 0; i < cl.n; i++) {
		const struct pt_cmdline_token *t = &cl.tokens[i];
		if (t->for_init || !t->key)
			continue;
		char name[256];
		pt_kmod_normalize(t->key, name, sizeof name);
		if (!is_iommu_param(name))
			continue;
		json_t *value = t->value ? pt_json_text(t->value) : json_true();
		json_t *seen = json_object_get(params, name);
		if (!seen) {
			json_object_set_new(params, name, value);
		} else if (json_is_array(seen)) {
			json_array_append_new(seen, value);
		} else {
			json_t *list = json_array();
			json_array_append(list, seen);
			json_array_append_new(list, value);
			json_object_set_new(params, name, list);
		}
	}
	pt_cmdline_release(&cl);
	return params;
}

/* ---- CPU, IOMMU units, interrupts ---------------------------------------- */

/* The value of the first "key : value" line of /proc/cpuinfo named key. */
static const char *cpuinfo_value(const char *cpuinfo, const char *key, size_t *len)
{
	size_t klen = strlen(key);
	for (const char *line = cpuinfo; line && *line;) {
		const char *eol = strchr(line, '\n');
		size_t n = eol ? (size_t)(eol - line) : strlen(line);
		if (n > klen && !strncmp(line, key, klen) &&
		    (line[klen] == ' ' || line[klen] == '\t' || line[klen] == ':')) {
			const char *colon = memchr(line, ':', n);
			if (colon) {
				const char *v = colon + 1;
				while (*v == ' ' || *v == '\t')
					v++;
				*len = (size_t)(line + n - v);
				return v;
			}
		}
		line = eol ? eol + 1 : NULL;
	}
	return NULL;
}

static bool has_word(const char *text, size_t len, const char *word)
{
	size_t w = strlen(word);
	for (size_t i = 0; i + w <= len; i++) {
		if ((i == 0 || text[i - 1] == ' ' || text[i - 1] == '\t') &&
		    !strncmp(text + i, word, w) &&
		    (i + w == len || text[i + w] == ' ' || text[i + w] == '\t'))
			return true;
	}
	return false;
}

struct cpu_facts {
	const char *vendor;         /* "intel", "amd" or NULL */
	const char *virtualization; /* "vmx", "svm" or NULL */
};

static struct cpu_facts read_cpu(const char *root)
{
	struct cpu_facts cpu = {NULL, NULL};
	_cleanup_free_ char *info = read_root_file(root, "/proc/cpuinfo");
	if (!info)
		return cpu;
	size_t len = 0;
	const char *v = cpuinfo_value(info, "vendor_id", &len);
	if (v && len >= 12 && !strncmp(v, "GenuineIntel", 12))
		cpu.vendor = "intel";
	else if (v && len >= 12 &&
	         (!strncmp(v, "AuthenticAMD", 12) || !strncmp(v, "HygonGenuine", 12)))
		cpu.vendor = "amd";
	const char *flags = cpuinfo_value(info, "flags", &len);
	if (flags && has_word(flags, len, "vmx"))
		cpu.virtualization = "vmx";
	else if (flags && has_word(flags, len, "svm"))
		cpu.virtualization = "svm";
	return cpu;
}

/* The IOMMU units the kernel registered: dmar* (Intel VT-d), ivhd* (AMD-Vi).
 * Returns how many there are; *vendor is set from their names. */
static ssize_t read_iommu_units(const char *root, const char **vendor)
{
	*vendor = NULL;
	_cleanup_free_ char *path = pt_path_join(root, "/sys/class/iommu");
	char **names = NULL;
	ssize_t n = path ? list_dir(path, &names) : -1;
	for (ssize_t i = 0; i < n && !*vendor; i++) {
		if (!strncmp(names[i], "dmar", 4))
			*vendor = "intel";
		else if (!strncmp(names[i], "ivhd", 4))
			*vendor = "amd";
	}
	free_names(names, n);
	return n < 0 ? 0 : n;
}

/* Interrupt remapping, without dmesg. /proc/interrupts is definite: with
 * remapping on, the interrupt chips are named IR-IO-APIC, IR-PCI-MSI...; the
 * same chips without the prefix mean off. Failing that, on Intel the kernel
 * turns remapping on when every DMAR unit has the IR capability (ecap bit 3)
 * unless the command line says intremap=off (or nointremap). Null otherwise
 * (AMD-Vi shows no such bit). */
static json_t *read_interrupt_remapping(const char *root, json_t *params)
{
	_cleanup_free_ char *text = read_root_file(root, "/proc/interrupts");
	if (text && (strstr(text, " IR-IO-APIC") || strstr(text, " IR-PCI-MSI")))
		return json_true();
	if (text && (strstr(text, " IO-APIC") || strstr(text, " PCI-MSI")))
		return json_false();

	_cleanup_free_ char *base = pt_path_join(root, "/sys/class/iommu");
	char **names = NULL;
	ssize_t n = base ? list_dir(base, &names) : -1;
	int units = 0, capable = 0;
	for (ssize_t i = 0; i < n; i++) {
		if (strncmp(names[i], "dmar", 4) != 0)
			continue;
		_cleanup_free_ char *path = NULL;
		if (asprintf(&path, "%s/%s/intel-iommu/ecap", base, names[i]) < 0)
			continue;
		_cleanup_free_ char *ecap = pt_file_read_line(path);
		if (!ecap)
			continue;
		char *end = NULL;
		unsigned long long bits = strtoull(ecap, &end, 16);
		if (end == ecap)
			continue;
		units++;
		capable += (bits & 0x8) != 0;
	}
	free_names(names, n);
	if (!units)
		return json_null();
	const char *intremap = json_string_value(json_object_get(params, "intremap"));
	if ((intremap && !strcmp(intremap, "off")) || json_object_get(params, "nointremap"))
		return json_false();
	return json_boolean(capable == units);
}

/* ---- VFIO ----------------------------------------------------------------- */

static const char *const vfio_modules[] = {"vfio", "vfio_iommu_type1", "vfio_pci", "vfio_pci_core",
                                           "vfio_virqfd"};

/* Whether vfio_virqfd is a module of its own for this kernel: from its
 * modules.dep when installed; else from the version (merged into vfio.ko in
 * Linux 6.2); null when neither says. */
static json_t *virqfd_separate(const char *root, const char *release)
{
	if (!release)
		return json_null();
	_cleanup_free_ char *rel = NULL;
	if (asprintf(&rel, "/lib/modules/%s/modules.dep", release) < 0)
		return json_null();
	_cleanup_free_ char *dep = pt_path_join(root, rel);
	if (dep && pt_path_exists(dep))
		return json_boolean(pt_kmod_state(root, release, "vfio_virqfd") == PT_KMOD_MODULE);
	int major = 0, minor = 0;
	if (sscanf(release, "%d.%d", &major, &minor) != 2)
		return json_null();
	return json_boolean(major < 6 || (major == 6 && minor < 2));
}

static json_t *vfio_facts(const char *root, const char *release, json_t *loaded_all)
{
	json_t *vfio = json_object();
	json_t *loaded = json_array();
	json_t *modules = json_object();
	size_t i;
	json_t *v;
	json_array_foreach (loaded_all, i, v) {
		const char *name = json_string_value(v);
		if (name && (!strncmp(name, "vfio", 4) || !strcmp(name, "irqbypass")))
			json_array_append(loaded, v);
	}
	for (i = 0; i < sizeof vfio_modules / sizeof *vfio_modules; i++) {
		const char *name = vfio_modules[i];
		bool on = false;
		json_t *l;
		size_t k;
		json_array_foreach (loaded, k, l)
			if (!strcmp(json_string_value(l), name))
				on = true;
		/* built into the running kernel: always there */
		if (!on && release && pt_kmod_state(root, release, name) == PT_KMOD_BUILTIN)
			on = true;
		set(modules, name, json_boolean(on));
	}
	set(vfio, "loaded", loaded);
	set(vfio, "modules", modules);
	set(vfio, "virqfd_separate", virqfd_separate(root, release));
	return vfio;
}

/* ---- groups ---------------------------------------------------------------- */

static bool parse_group_number(const char *s, int *n)
{
	if (!*s)
		return false;
	char *end = NULL;
	long v = strtol(s, &end, 10);
	if (*end || v < 0 || v > 0x7fffffff)
		return false;
	*n = (int)v;
	return true;
}

static int compare_ints(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

static void add_sorted_unique(json_t *list, const char *address)
{
	size_t i;
	json_t *v;
	json_array_foreach (list, i, v) {
		int c = strcmp(json_string_value(v), address);
		if (c == 0)
			return;
		if (c > 0) {
			json_array_insert_new(list, i, json_string(address));
			return;
		}
	}
	json_array_append_new(list, json_string(address));
}

/* groups: {"14": {type, devices}} from /sys/kernel/iommu_groups, completed
 * with the groups the PCI devices point at (a device may name a group whose
 * directory a partial copy of sysfs lacks). Sets *default_domain (borrowed
 * from the result) to the type most groups have. */
static json_t *group_facts(const char *root, const struct pt_pci_host *host,
                           const char **default_domain)
{
	json_t *groups = json_object();
	*default_domain = NULL;
	_cleanup_free_ char *base = pt_path_join(root, "/sys/kernel/iommu_groups");
	char **names = NULL;
	ssize_t n = base ? list_dir(base, &names) : -1;

	size_t count = 0, cap = (n > 0 ? (size_t)n : 0) + host->count;
	_cleanup_free_ int *ids = cap ? calloc(cap, sizeof *ids) : NULL;
	for (ssize_t i = 0; i < n && ids; i++) {
		int g;
		if (parse_group_number(names[i], &g))
			ids[count++] = g;
	}
	free_names(names, n);
	for (size_t i = 0; i < host->count && ids; i++) {
		int g = host->devices[i].iommu_group;
		bool known = g < 0;
		for (size_t k = 0; k < count && !known; k++)
			known = ids[k] == g;
		if (!known)
			ids[count++] = g;
	}
	if (count)
		qsort(ids, count, sizeof *ids, compare_ints);

	/* The groups' files by their paths under base, and the type files
	 * through base opened once (sysfs_read.h): resolving every type file's
	 * path from root again was a tenth of a run. */
	_cleanup_close_ int base_dir =
	        base ? pt_file_open(base, O_PATH | O_DIRECTORY | O_CLOEXEC) : -ENOMEM;
	size_t path_size = base ? strlen(base) + 32 : 0;
	_cleanup_free_ char *path = base ? malloc(path_size) : NULL;
	for (size_t i = 0; i < count; i++) {
		char key[16];
		snprintf(key, sizeof key, "%d", ids[i]);
		_cleanup_free_ char *type = NULL;
		if (path) {
			snprintf(path, path_size, "%s/%d/type", base, ids[i]);
			/* the same file, relative to base: "<id>/type" */
			type = pt_sysfs_read_at(base_dir, path + strlen(base) + 1, path);
		}
		if (type && !*type) {
			free(type);
			type = NULL;
		}

		json_t *devices = pt_iommu_group_devices(host, ids[i]);
		char **members = NULL;
		ssize_t m = -1;
		if (path) {
			snprintf(path, path_size, "%s/%d/devices", base, ids[i]);
			m = list_dir(path, &members);
		}
		for (ssize_t k = 0; k < m; k++)
			add_sorted_unique(devices, members[k]);
		free_names(members, m);

		json_t *group = json_object();
		set(group, "type", string_or_null(type));
		set(group, "devices", devices);
		set(groups, key, group);
	}

	/* The default domain: the type most groups have (ties: the first seen). */
	size_t n_groups = json_object_size(groups), t = 0, best = 0;
	_cleanup_free_ const char **types = calloc(n_groups ? n_groups : 1, sizeof *types);
	const char *key;
	json_t *g;
	json_object_foreach (groups, key, g)
		if (types && t < n_groups)
			types[t++] = json_string_value(json_object_get(g, "type"));
	for (size_t i = 0; i < t; i++) {
		if (!types[i])
			continue;
		size_t same = 0;
		for (size_t k = 0; k < t; k++)
			same += types[k] && !strcmp(types[k], types[i]);
		if (same > best) {
			best = same;
			*default_domain = types[i];
		}
	}
	return groups;
}

/* The IDs and the names of a device, in the order both the device and the gpu
 * entries show them. */
static void set_ids(json_t *o, const struct pt_pci_device *d)
{
	set(o, "vendor_id", hex4_or_null(d->vendor_id));
	set(o, "device_id", hex4_or_null(d->device_id));
	set(o, "subsystem_vendor_id", hex4_or_null(d->subsys_vendor_id));
	set(o, "subsystem_device_id", hex4_or_null(d->subsys_device_id));
	set(o, "class_id", hex4_or_null(d->class_id));
}

static void set_names(json_t *o, const struct pt_pci_device *d)
{
	set(o, "class_name", string_or_null(d->class_name));
	set(o, "vendor_name", string_or_null(d->vendor_name));
	set(o, "device_name", string_or_null(d->device_name));
}

/* ---- devices and GPUs ------------------------------------------------------- */

static json_t *reset_methods(const char *text)
{
	if (!text)
		return json_null();
	json_t *list = json_array();
	_cleanup_free_ char *copy = strdup(text);
	char *save = NULL;
	for (char *w = copy ? strtok_r(copy, " \t", &save) : NULL; w;
	     w = strtok_r(NULL, " \t", &save))
		json_array_append_new(list, json_string(w));
	return list;
}

static json_t *device_facts(const struct pt_pci_device *d, const struct pt_kmod_aliases *aliases)
{
	json_t *o = json_object();
	set_ids(o, d);
	set(o, "revision", hex_or_null(d->revision < 0 ? -1 : d->revision & 0xff, 2));
	set_names(o, d);
	set(o, "driver", string_or_null(d->driver));
	set(o, "driver_override", string_or_null(d->driver_override));
	set(o, "modalias", string_or_null(d->modalias));
	set(o, "modules", d->modalias ? pt_kmod_aliases_match(aliases, d->modalias) : json_array());
	set(o, "iommu_group", int_or_null(d->iommu_group));
	set(o, "boot_vga", d->boot_vga < 0 ? json_null() : json_boolean(d->boot_vga));
	set(o, "reset_methods", reset_methods(d->reset_methods));
	set(o, "parent", string_or_null(d->parent));
	set(o, "is_bridge", json_boolean(d->is_bridge));
	return o;
}

/* One entry of gpus: the display function `gpu` and its slot. */
static json_t *gpu_facts(const struct pt_pci_host *host, const struct pt_pci_device *gpu,
                         bool iommu_enabled)
{
	char slot[PT_PCI_ADDR_LEN];
	snprintf(slot, sizeof slot, "%.10s", gpu->address);
	json_t *functions = pt_iommu_slot_functions(host, slot);

	size_t n = json_array_size(functions);
	_cleanup_free_ const char **addresses = calloc(n ? n : 1, sizeof *addresses);
	json_t *groups = json_array();
	for (size_t i = 0; i < n && addresses; i++) {
		addresses[i] = json_string_value(json_array_get(functions, i));
		const struct pt_pci_device *f = pt_pci_find(host, addresses[i]);
		if (!f || f->iommu_group < 0)
			continue;
		bool seen = false;
		size_t k;
		json_t *v;
		json_array_foreach (groups, k, v)
			seen |= json_integer_value(v) == f->iommu_group;
		if (!seen)
			json_array_append_new(groups, json_integer(f->iommu_group));
	}
	json_t *intruders = addresses ? pt_iommu_intruders(host, addresses, n) : json_array();

	json_t *o = json_object();
	set_ids(o, gpu);
	set_names(o, gpu);
	set(o, "slot", json_stringn_nocheck(slot, strlen(slot)));
	set(o, "functions", functions);
	set(o, "iommu_group", int_or_null(gpu->iommu_group));
	set(o, "iommu_groups", groups);
	/* Without groups there is nothing to hand over whole: unknown. */
	bool grouped = iommu_enabled && gpu->iommu_group >= 0;
	set(o, "isolated", grouped ? json_boolean(json_array_size(intruders) == 0) : json_null());
	set(o, "intruders", intruders);
	set(o, "driver", string_or_null(gpu->driver));
	set(o, "boot_vga", gpu->boot_vga < 0 ? json_null() : json_boolean(gpu->boot_vga));
	return o;
}

/* gpus keyed by the slot's first display function (function 0 on every real
 * card); the other functions of the slot are listed in it, not repeated. */
static json_t *gpus_facts(const struct pt_pci_host *host, bool iommu_enabled)
{
	json_t *gpus = json_object();
	char last_slot[PT_PCI_ADDR_LEN] = "";
	for (size_t i = 0; i < host->count; i++) {
		const struct pt_pci_device *d = &host->devices[i];
		if (!pt_iommu_is_gpu(d) || !strncmp(d->address, last_slot, 10))
			continue;
		snprintf(last_slot, sizeof last_slot, "%.10s", d->address);
		set(gpus, d->address, gpu_facts(host, d, iommu_enabled));
	}
	return gpus;
}

/* ---- assembly ---------------------------------------------------------------- */

static char *trimmed(char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\0'))
		s[--n] = '\0';
	return s;
}

json_t *pt_iommu_facts_from_scan(const char *root, const struct pt_pci_host *host)
{
	json_t *facts = json_object();
	if (!facts)
		return NULL;
	_cleanup_free_ char *release = pt_kmod_running_release(root);
	_cleanup_free_ char *cmdline = trimmed(read_root_file(root, "/proc/cmdline"));
	struct cpu_facts cpu = read_cpu(root);
	const char *unit_vendor = NULL;
	ssize_t units = read_iommu_units(root, &unit_vendor);

	const char *default_domain = NULL;
	json_t *groups = group_facts(root, host, &default_domain);
	bool enabled = json_object_size(groups) > 0 || units > 0;
	const char *vendor = unit_vendor ? unit_vendor : (enabled ? cpu.vendor : NULL);

	set(facts, "enabled", json_boolean(enabled));
	set(facts, "vendor", string_or_null(vendor));
	set(facts, "cpu_virtualization", string_or_null(cpu.virtualization));
	set(facts, "kernel", string_or_null(release));

	json_t *cl = json_object();
	json_t *params = pt_iommu_cmdline_params(cmdline);
	set(cl, "string", string_or_null(cmdline));
	set(cl, "params", params);
	set(facts, "cmdline", cl);

	set(facts, "default_domain", string_or_null(default_domain));
	set(facts, "interrupt_remapping", read_interrupt_remapping(root, params));

	json_t *loaded = pt_kmod_loaded_modules(root);
	set(facts, "vfio", vfio_facts(root, release, loaded));
	json_decref(loaded);

	set(facts, "groups", groups);

	struct pt_kmod_aliases *aliases = NULL;
	if (release)
		pt_kmod_aliases_load(root, release, &aliases);
	json_t *devices = json_object();
	for (size_t i = 0; i < host->count; i++)
		set(devices, host->devices[i].address, device_facts(&host->devices[i], aliases));
	pt_kmod_aliases_free(aliases);
	set(facts, "devices", devices);

	set(facts, "gpus", gpus_facts(host, enabled));
	return facts;
}

int pt_iommu_facts(const char *root, json_t **facts, struct pt_report *rep)
{
	*facts = NULL;
	struct pt_pci_host host;
	int r = pt_pci_scan(root, &host, rep);
	if (r < 0)
		return r;
	*facts = pt_iommu_facts_from_scan(root, &host);
	pt_pci_host_release(&host);
	if (!*facts)
		return pt_report_fail(rep, -ENOMEM,
		                      "out of memory while gathering the IOMMU facts");
	return 0;
}
