/* Layer: vfio family (vfio_bind). Included by vfio_files.c, and the tests and
 * fuzz harness of modprobe.d (test_modprobe_conf.c, fuzz_modprobe_conf.c).
 *
 * What vfio_bind writes into its two modprobe.d blocks (conf_block.h): the
 * options, softdep and install lines that hand the selected devices to
 * vfio-pci at boot, and the blacklist. The modprobe.d format itself (how kmod
 * reads these lines) is modprobe_conf.h's. */
#ifndef PT_VFIO_RENDER_H
#define PT_VFIO_RENDER_H

#include <stdbool.h>

#include <jansson.h>

/* The modprobe.d lines for handing devices to vfio-pci at boot. */
struct pt_vfio_conf {
	const json_t *ids;       /* "vendor:device" strings for options vfio-pci ids= (borrowed) */
	bool disable_vga;        /* add disable_vga=1 to the options line */
	const json_t *softdeps;  /* modules that must wait for vfio-pci (borrowed) */
	const json_t *overrides; /* addresses bound by driver_override at boot (borrowed) */
};

/* The body of the managed block for conf_path: `options vfio-pci ids=<sorted
 * unique ids>[ disable_vga=1]` (or `options vfio-pci disable_vga=1` without
 * ids; no options line when neither), one `softdep <module> pre: vfio-pci` per
 * sorted unique module, and for overrides an `install vfio-pci` command that
 * writes vfio-pci to each address's driver_override before vfio-pci loads
 * (see pt_vfio_render_install_line). "" when there is nothing to say. Caller
 * frees; NULL when out of memory. IDs and names are copied as given: callers
 * pass them validated and lowercase. */
char *pt_vfio_render_conf(const struct pt_vfio_conf *conf);

/* The install command that binds `overrides` by address at boot:
 *   install vfio-pci for d in ADDR...; do f=/sys/bus/pci/devices/$d/driver_override;
 *   [ -w "$f" ] && echo vfio-pci > "$f"; done; exec /sbin/modprobe --ignore-install
 *   vfio-pci $CMDLINE_OPTS
 * (one line). kmod runs it with /bin/sh whenever vfio-pci is about to load, and
 * the softdeps make every driver that could claim the devices load vfio-pci
 * first. Caller frees; NULL when out of memory or overrides is empty. */
char *pt_vfio_render_install_line(const json_t *overrides);

/* The body for blacklist_path: one `blacklist <module>` per module, sorted,
 * names normalised ('-' → '_') and unique. "" for an empty list. Caller frees. */
char *pt_vfio_render_blacklist(const json_t *modules);

#endif
