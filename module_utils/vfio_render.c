#include "vfio_render.h"

#include <stdlib.h>
#include <string.h>

#include "kmod.h"
#include "strbuf.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The strings of a JSON array, sorted, duplicates dropped; normalised when asked.
 * *n gets the count. Caller frees the array and each string. */
static char **sorted_unique(const json_t *arr, bool normalize, size_t *n)
{
	size_t count = json_array_size(arr), k = 0;
	char **v = calloc(count + 1, sizeof *v);
	if (!v)
		return NULL;
	for (size_t i = 0; i < count; i++) {
		const char *s = json_string_value(json_array_get(arr, i));
		if (!s || !*s)
			continue;
		v[k] = strdup(s);
		if (!v[k]) {
			for (size_t j = 0; j < k; j++)
				free(v[j]);
			free(v);
			return NULL;
		}
		if (normalize) /* in place: the name keeps its length */
			pt_kmod_normalize(v[k], v[k], strlen(v[k]) + 1);
		k++;
	}
	qsort(v, k, sizeof *v, cmp_str);
	size_t w = 0;
	for (size_t i = 0; i < k; i++) {
		if (w && strcmp(v[w - 1], v[i]) == 0) {
			free(v[i]);
			continue;
		}
		v[w++] = v[i];
	}
	v[w] = NULL;
	*n = w;
	return v;
}

static void free_strv(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

char *pt_vfio_render_install_line(const json_t *overrides)
{
	size_t n = 0;
	char **addr = sorted_unique(overrides, false, &n);
	if (!addr)
		return NULL;
	if (n == 0) {
		free_strv(addr);
		return NULL;
	}
	struct pt_strbuf sb = PT_STRBUF_INIT;
	pt_strbuf_puts(&sb, "install vfio-pci for d in");
	for (size_t i = 0; i < n; i++)
		pt_strbuf_printf(&sb, " %s", addr[i]);
	pt_strbuf_puts(&sb, "; do f=/sys/bus/pci/devices/$d/driver_override; "
	                    "[ -w \"$f\" ] && echo vfio-pci > \"$f\"; done; "
	                    "exec /sbin/modprobe --ignore-install vfio-pci $CMDLINE_OPTS");
	free_strv(addr);
	if (sb.oom) {
		pt_strbuf_release(&sb);
		return NULL;
	}
	return pt_strbuf_steal(&sb);
}

char *pt_vfio_render_conf(const struct pt_vfio_conf *conf)
{
	size_t nids = 0, ndeps = 0;
	char **ids = sorted_unique(conf->ids, false, &nids);
	char **deps = sorted_unique(conf->softdeps, true, &ndeps);
	struct pt_strbuf sb = PT_STRBUF_INIT;
	char *install = NULL;
	if (!ids || !deps)
		goto out;
	if (nids) {
		pt_strbuf_puts(&sb, "options vfio-pci ids=");
		for (size_t i = 0; i < nids; i++)
			pt_strbuf_printf(&sb, "%s%s", i ? "," : "", ids[i]);
		pt_strbuf_puts(&sb, conf->disable_vga ? " disable_vga=1\n" : "\n");
	} else if (conf->disable_vga) {
		pt_strbuf_puts(&sb, "options vfio-pci disable_vga=1\n");
	}
	for (size_t i = 0; i < ndeps; i++)
		pt_strbuf_printf(&sb, "softdep %s pre: vfio-pci\n", deps[i]);
	if (json_array_size(conf->overrides)) {
		install = pt_vfio_render_install_line(conf->overrides);
		if (!install)
			goto out;
		pt_strbuf_puts(&sb,
		               "# These devices share their vendor:device ID with a device the "
		               "host keeps,\n# so they are bound by address (driver_override) "
		               "before vfio-pci loads.\n");
		pt_strbuf_printf(&sb, "%s\n", install);
	}
	pt_strbuf_puts(&sb, "");
out:
	free_strv(ids);
	free_strv(deps);
	free(install);
	if (!ids || !deps || sb.oom || (json_array_size(conf->overrides) && !install)) {
		pt_strbuf_release(&sb);
		return NULL;
	}
	return pt_strbuf_steal(&sb);
}

char *pt_vfio_render_blacklist(const json_t *modules)
{
	size_t n = 0;
	char **mods = sorted_unique(modules, true, &n);
	if (!mods)
		return NULL;
	struct pt_strbuf sb = PT_STRBUF_INIT;
	for (size_t i = 0; i < n; i++)
		pt_strbuf_printf(&sb, "blacklist %s\n", mods[i]);
	pt_strbuf_puts(&sb, "");
	free_strv(mods);
	if (sb.oom) {
		pt_strbuf_release(&sb);
		return NULL;
	}
	return pt_strbuf_steal(&sb);
}
