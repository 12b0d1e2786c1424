/* Layer: host I/O. Included by the facts (iommu.c) and the vfio family
 * (vfio_plan, vfio_modules, vfio_render, vfio_safety).
 *
 * Kernel modules as a root sees them: loaded ones (/proc/modules), installed
 * kernels (/lib/modules/<release>/modules.dep and modules.builtin) and which
 * modules a device's modalias would load (modules.alias), and which module a
 * PCI driver belongs to (/sys/bus/pci/drivers). Module names compare with '-'
 * and '_' as equal, as the kernel does. */
#ifndef PT_KMOD_H
#define PT_KMOD_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

enum pt_kmod_state {
	PT_KMOD_ABSENT = 0, /* not shipped by that kernel */
	PT_KMOD_MODULE,     /* a loadable .ko listed in modules.dep */
	PT_KMOD_BUILTIN,    /* compiled in (modules.builtin) */
};

/* How kernel `release` under root ships module `name`. */
enum pt_kmod_state pt_kmod_state(const char *root, const char *release, const char *name);

/* The names in <root>/proc/modules, in file order. New reference: a JSON array
 * of strings (empty when the file is missing). */
json_t *pt_kmod_loaded_modules(const char *root);

/* True when `name` is listed in <root>/proc/modules. */
bool pt_kmod_loaded(const char *root, const char *name);

/* The release of the running kernel (<root>/proc/sys/kernel/osrelease, else
 * uname when root is "/"). Caller frees; NULL when unknown. */
char *pt_kmod_running_release(const char *root);

/* Installed kernels: the directories under <root>/lib/modules that hold a
 * modules.dep, sorted. New reference: a JSON array of strings (maybe empty). */
json_t *pt_kmod_installed_releases(const char *root);

/* Modules whose modules.alias patterns match modalias (fnmatch, as modprobe
 * does), in file order, without duplicates, names with '_' as in the alias file.
 * New reference: a JSON array of strings (empty when none or no alias file). */
json_t *pt_kmod_modules_for_alias(const char *root, const char *release, const char *modalias);

/* The same lookup for many devices: modules.alias read and indexed once.
 * pt_kmod_aliases_load gives 0 and an index (empty when the kernel has no
 * alias file) that the caller releases with pt_kmod_aliases_free, or -errno.
 * pt_kmod_aliases_match answers as pt_kmod_modules_for_alias (new reference). */
struct pt_kmod_aliases;
int pt_kmod_aliases_load(const char *root, const char *release, struct pt_kmod_aliases **out);
json_t *pt_kmod_aliases_match(const struct pt_kmod_aliases *aliases, const char *modalias);
void pt_kmod_aliases_free(struct pt_kmod_aliases *aliases);

/* The kernel module behind a PCI driver name: the basename of
 * <root>/sys/bus/pci/drivers/<driver>/module (i801_smbus is i2c_i801's), else
 * the driver name itself (a built-in driver has no module link); normalised
 * ('-' → '_'). A driver name that is not a single path component is taken as
 * it is. Caller frees; NULL when driver is NULL or memory runs out. */
char *pt_kmod_driver_module(const char *root, const char *driver);

/* Normalise a module name: '-' becomes '_'. Writes into out (size bytes). */
void pt_kmod_normalize(const char *name, char *out, size_t size);

#endif
