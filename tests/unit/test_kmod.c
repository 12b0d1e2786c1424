/* module_utils/kmod: loaded modules, how a kernel ships a module, and which
 * modules a device's modalias loads, on a root built here. */
#include <errno.h>
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
#include <jansson.h>

#include "kmod.h"
#include "support/tmptree.h"

static char root[256];

/* Write root/rel, creating its directory. */
static void put(const char *rel, const char *text)
{
	tmptree_put(root, rel, text);
}

/* Debian 12's 6.1 kernel (vfio_virqfd separate) and a 6.8 Proxmox kernel
 * (vfio_virqfd folded into vfio, vfio built in). /proc/modules as captured
 * from a q35 guest with the vfio modules loaded. */
static int make_root(void **state)
{
	(void)state;
	if (tmptree_make(root, sizeof root, "kmod") < 0)
		return -1;
	put("proc/modules",
	    "vfio_pci 16384 0 - Live 0xffffffffc025f000\n"
	    "vfio_pci_core 73728 1 vfio_pci, Live 0xffffffffc0244000\n"
	    "vfio_virqfd 16384 1 vfio_pci_core, Live 0xffffffffc023f000\n"
	    "vfio_iommu_type1 45056 0 - Live 0xffffffffc0233000\n"
	    "vfio 49152 3 vfio_pci,vfio_pci_core,vfio_iommu_type1, Live 0xffffffffc0226000\n"
	    "irqbypass 16384 1 vfio_pci_core, Live 0xffffffffc0221000\n");
	put("proc/sys/kernel/osrelease", "6.1.0-18-amd64\n");
	put("lib/modules/6.1.0-18-amd64/modules.dep",
	    "kernel/drivers/vfio/vfio.ko: kernel/drivers/vfio/vfio_virqfd.ko\n"
	    "kernel/drivers/vfio/vfio_virqfd.ko:\n"
	    "kernel/drivers/vfio/vfio_iommu_type1.ko: kernel/drivers/vfio/vfio.ko\n"
	    "kernel/drivers/vfio/pci/vfio-pci.ko: kernel/drivers/vfio/pci/vfio-pci-core.ko\n"
	    "kernel/drivers/gpu/drm/nouveau/nouveau.ko.xz: kernel/drivers/gpu/drm/drm.ko.xz\n");
	put("lib/modules/6.1.0-18-amd64/modules.builtin", "kernel/drivers/pci/pcieport.ko\n");
	put("lib/modules/6.1.0-18-amd64/modules.alias",
	    "# Aliases extracted from modules themselves.\n"
	    "alias usb:v0BDAp8153d*dc*dsc*dp*ic*isc*ip*in* r8152\n"
	    "alias pci:v*d*sv*sd*bc03sc00i00 vgaarb_probe\n"
	    "alias pci:v000010DEd*sv*sd*bc03sc*i* nouveau\n"
	    "alias pci:v000010ECd00008168sv*sd*bc*sc*i* r8169\n"
	    "alias pci:v000010DEd*sv*sd*bc04sc03i* snd_hda_intel\n"
	    "alias pci:v000010DEd*sv*sd*bc03sc00i00 nouveau\n"
	    "alias pci:v00001234d00001111sv*sd*bc*sc*i* bochs\n"
	    "alias pci:v000010DEd00001C82sv*sd*bc*sc*i* nvidiafb\n"
	    "alias pci:v*d*sv*sd*bc0Csc03i30 xhci_pci\n");
	put("lib/modules/6.8.12-4-pve/modules.dep",
	    "kernel/drivers/vfio/vfio_iommu_type1.ko:\n"
	    "kernel/drivers/vfio/pci/vfio-pci.ko: kernel/drivers/vfio/pci/vfio-pci-core.ko\n");
	put("lib/modules/6.8.12-4-pve/modules.builtin", "kernel/drivers/vfio/vfio.ko\n");
	/* a directory with no modules.dep is no installed kernel */
	put("lib/modules/5.15.0-old/modules.order", "");
	return 0;
}

static int drop_root(void **state)
{
	(void)state;
	tmptree_remove(root);
	return 0;
}

static void assert_json_list(json_t *list, const char *expected)
{
	char *text = json_dumps(list, JSON_COMPACT);
	if (strcmp(text, expected) != 0)
		fail_msg("want %s\n got %s", expected, text);
	free(text);
	json_decref(list);
}

static void test_normalize(void **state)
{
	(void)state;
	char out[32];
	pt_kmod_normalize("vfio-pci", out, sizeof out);
	assert_string_equal(out, "vfio_pci");
	pt_kmod_normalize("snd-hda-intel", out, 8);
	assert_string_equal(out, "snd_hda");
	pt_kmod_normalize("", out, sizeof out);
	assert_string_equal(out, "");
}

static void test_state_per_kernel(void **state)
{
	(void)state;
	const char *old = "6.1.0-18-amd64", *pve = "6.8.12-4-pve";
	assert_int_equal(pt_kmod_state(root, old, "vfio_virqfd"), PT_KMOD_MODULE);
	assert_int_equal(pt_kmod_state(root, pve, "vfio_virqfd"), PT_KMOD_ABSENT);
	assert_int_equal(pt_kmod_state(root, old, "vfio"), PT_KMOD_MODULE);
	assert_int_equal(pt_kmod_state(root, pve, "vfio"), PT_KMOD_BUILTIN);
	/* '-' and '_' alike, compressed modules too */
	assert_int_equal(pt_kmod_state(root, old, "vfio_pci"), PT_KMOD_MODULE);
	assert_int_equal(pt_kmod_state(root, old, "vfio-pci"), PT_KMOD_MODULE);
	assert_int_equal(pt_kmod_state(root, old, "nouveau"), PT_KMOD_MODULE);
	assert_int_equal(pt_kmod_state(root, old, "pcieport"), PT_KMOD_BUILTIN);
	/* a prefix is not a match */
	assert_int_equal(pt_kmod_state(root, old, "vfio_pci_core_x"), PT_KMOD_ABSENT);
	assert_int_equal(pt_kmod_state(root, old, "vfio_iommu"), PT_KMOD_ABSENT);
	assert_int_equal(pt_kmod_state(root, old, "drm"), PT_KMOD_ABSENT); /* only a dependency */
	assert_int_equal(pt_kmod_state(root, "9.9.9", "vfio"), PT_KMOD_ABSENT);
	assert_int_equal(pt_kmod_state(root, "../../etc", "vfio"), PT_KMOD_ABSENT);
	assert_int_equal(pt_kmod_state(root, NULL, "vfio"), PT_KMOD_ABSENT);
}

static void test_loaded(void **state)
{
	(void)state;
	assert_true(pt_kmod_loaded(root, "vfio_pci"));
	assert_true(pt_kmod_loaded(root, "vfio-pci"));
	assert_true(pt_kmod_loaded(root, "vfio"));
	assert_false(pt_kmod_loaded(root, "vfio_p"));
	assert_false(pt_kmod_loaded(root, "nouveau"));
	assert_json_list(pt_kmod_loaded_modules(root),
	                 "[\"vfio_pci\",\"vfio_pci_core\",\"vfio_virqfd\",\"vfio_iommu_type1\","
	                 "\"vfio\",\"irqbypass\"]");
	assert_json_list(pt_kmod_loaded_modules("/nonexistent-root"), "[]");
	assert_false(pt_kmod_loaded("/nonexistent-root", "vfio"));
}

static void test_releases(void **state)
{
	(void)state;
	char *rel = pt_kmod_running_release(root);
	assert_string_equal(rel, "6.1.0-18-amd64");
	free(rel);
	assert_null(pt_kmod_running_release("/nonexistent-root"));
	rel = pt_kmod_running_release("/");
	assert_non_null(rel);
	free(rel);
	assert_json_list(pt_kmod_installed_releases(root), "[\"6.1.0-18-amd64\",\"6.8.12-4-pve\"]");
	assert_json_list(pt_kmod_installed_releases("/nonexistent-root"), "[]");
}

static void test_modules_for_alias(void **state)
{
	(void)state;
	const char *rel = "6.1.0-18-amd64";
	/* the GTX 1050 Ti: wildcard-vendor and vendor patterns, in file order,
	 * nouveau once */
	assert_json_list(
	        pt_kmod_modules_for_alias(root, rel,
	                                  "pci:v000010DEd00001C82sv00001462sd00008C96bc03sc00i00"),
	        "[\"vgaarb_probe\",\"nouveau\",\"nvidiafb\"]");
	assert_json_list(
	        pt_kmod_modules_for_alias(root, rel,
	                                  "pci:v000010DEd00000FB9sv00001462sd00008C96bc04sc03i00"),
	        "[\"snd_hda_intel\"]");
	assert_json_list(
	        pt_kmod_modules_for_alias(root, rel,
	                                  "pci:v000010ECd00008168sv00001462sd00007B86bc02sc00i00"),
	        "[\"r8169\"]");
	assert_json_list(
	        pt_kmod_modules_for_alias(root, rel,
	                                  "pci:v00008086d000010D3sv00008086sd0000A01Fbc02sc00i00"),
	        "[]");
	assert_json_list(pt_kmod_modules_for_alias(root, rel, ""), "[]");
	assert_json_list(pt_kmod_modules_for_alias(root, rel, NULL), "[]");
	/* a kernel without modules.alias */
	assert_json_list(pt_kmod_modules_for_alias(root, "6.8.12-4-pve",
	                                           "pci:v000010ECd00008168sv*sd*bc02sc00i00"),
	                 "[]");
	assert_json_list(pt_kmod_modules_for_alias(root, NULL, "pci:v000010ECd00008168"), "[]");

	/* the reusable index gives the same answers */
	struct pt_kmod_aliases *a = NULL;
	assert_int_equal(pt_kmod_aliases_load(root, rel, &a), 0);
	assert_json_list(
	        pt_kmod_aliases_match(a, "pci:v00001234d00001111sv00001AF4sd00001100bc03sc00i00"),
	        "[\"vgaarb_probe\",\"bochs\"]");
	assert_json_list(
	        pt_kmod_aliases_match(a, "pci:v00001B36d0000000Dsv00001AF4sd00001100bc0Csc03i30"),
	        "[\"xhci_pci\"]");
	pt_kmod_aliases_free(a);
	pt_kmod_aliases_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_normalize),
	        cmocka_unit_test(test_state_per_kernel),
	        cmocka_unit_test(test_loaded),
	        cmocka_unit_test(test_releases),
	        cmocka_unit_test(test_modules_for_alias),
	};
	return cmocka_run_group_tests(tests, make_root, drop_root);
}
