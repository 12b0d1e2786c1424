/* module_utils/vfio_plan: what the boot configuration says for a selection, on
 * a host built by hand (two identical GPUs, one for the host and one for the
 * VM; a NIC already on vfio-pci; a USB controller whose driver's module has
 * another name) over a root with two installed kernels (Debian's 6.1 with
 * vfio_virqfd as a module and vfio-pci built in, Proxmox's 6.8). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "pci.h"
#include "support/tmptree.h"
#include "vfio_plan.h"
#include "report.h"

static char root[64];

/* root/rel with text, parent directories made */
static void put(const char *rel, const char *text)
{
	tmptree_put(root, rel, text);
}

/* root/rel as a symlink to target, parent directories made */
static void ln(const char *rel, const char *target)
{
	tmptree_link(root, rel, target);
}

static struct pt_pci_device devs[8];
static struct pt_pci_host host = {devs, 0};

static void add_dev(const char *addr, int vendor, int device, const char *driver,
                    const char *modalias)
{
	struct pt_pci_device *d = &devs[host.count++];
	memset(d, 0, sizeof *d);
	snprintf(d->address, sizeof d->address, "%s", addr);
	d->vendor_id = vendor;
	d->device_id = device;
	d->class_id = -1;
	d->iommu_group = (int)host.count;
	d->boot_vga = -1;
	d->driver = (char *)driver;
	d->modalias = (char *)modalias;
}

static int make_root(void **state)
{
	(void)state;
	assert_int_equal(tmptree_make(root, sizeof root, "vfio-plan"), 0);
	put("/lib/modules/6.1.0-18-amd64/modules.dep",
	    "kernel/drivers/vfio/vfio.ko:\nkernel/drivers/vfio/vfio_virqfd.ko:\n");
	put("/lib/modules/6.1.0-18-amd64/modules.builtin", "kernel/drivers/vfio/pci/vfio-pci.ko\n");
	put("/lib/modules/6.1.0-18-amd64/modules.alias",
	    "alias pci:v000010DEd*sv*sd*bc03sc*i* nvidia\n");
	put("/lib/modules/6.8.12-4-pve/modules.dep", "kernel/drivers/vfio/vfio.ko:\n");
	put("/lib/modules/6.8.12-4-pve/modules.alias",
	    "alias pci:v000010DEd*sv*sd*bc03sc*i* nouveau\n"
	    "alias pci:v000010DEd*sv*sd*bc03sc00i00* nvidiafb\n"
	    "alias pci:v*d*sv*sd*bc04sc03i* snd_hda_intel\n"
	    "alias pci:v000010DEd00002504sv*sd*bc*sc*i* vfio_pci\n");
	ln("/sys/bus/pci/drivers/xhci_hcd/module", "../../../../module/xhci_pci");

	host.count = 0;
	add_dev("0000:01:00.0", 0x10de, 0x2504, "nouveau",
	        "pci:v000010DEd00002504sv00001458sd0000404Fbc03sc00i00");
	add_dev("0000:01:00.1", 0x10de, 0x228e, "snd_hda_intel",
	        "pci:v000010DEd0000228Esv00001458sd0000404Fbc04sc03i00");
	add_dev("0000:02:00.0", 0x10de, 0x2504, NULL,
	        "pci:v000010DEd00002504sv00001458sd0000404Fbc03sc00i00");
	add_dev("0000:02:00.1", 0x10de, 0x228e, "snd-hda-intel",
	        "pci:v000010DEd0000228Esv00001458sd0000404Fbc04sc03i00");
	add_dev("0000:05:00.0", 0x10ec, 0x8168, "vfio-pci", NULL);
	add_dev("0000:06:00.0", 0x1b21, 0x1242, "xhci_hcd", NULL);
	return 0;
}

static int drop_root(void **state)
{
	(void)state;
	tmptree_remove(root);
	return 0;
}

static void expect_json(const json_t *v, const char *want)
{
	char *got = json_dumps(v, JSON_COMPACT);
	if (!got || strcmp(got, want) != 0)
		fail_msg("want %s\n got %s", want, got ? got : "(null)");
	free(got);
}

/* The plan for a selection given as a JSON object text. */
static void plan_for(const char *selection, bool present, struct pt_vfio_plan *plan,
                     struct pt_report *rep)
{
	json_t *sel = json_loads(selection, 0, NULL);
	assert_non_null(sel);
	assert_int_equal(pt_report_init(rep), 0);
	assert_int_equal(pt_vfio_plan_make(root, &host, sel, present, plan, rep), 0);
	json_decref(sel);
}

static void test_identical_cards_go_by_address(void **state)
{
	(void)state;
	struct pt_vfio_plan plan;
	struct pt_report rep;
	plan_for("{\"0000:02:00.0\": \"address\", \"0000:02:00.1\": \"group\"}", true, &plan, &rep);
	/* the host keeps a card with the same IDs: an ids= line would take it too */
	expect_json(plan.ids, "[]");
	expect_json(plan.overrides, "[\"0000:02:00.0\",\"0000:02:00.1\"]");
	assert_string_equal(pt_vfio_plan_mechanism(&plan, "0000:02:00.1"), "driver_override");
	/* every kernel's aliases and the drivers bound now; never vfio-pci itself */
	expect_json(plan.softdeps, "[\"nouveau\",\"nvidia\",\"nvidiafb\",\"snd_hda_intel\"]");
	expect_json(plan.modules, "[\"vfio\",\"vfio_iommu_type1\",\"vfio_pci\",\"vfio_virqfd\"]");
	expect_json(plan.kernels, "[{\"release\":\"6.1.0-18-amd64\",\"vfio_virqfd\":\"module\"},"
	                          "{\"release\":\"6.8.12-4-pve\",\"vfio_virqfd\":\"absent\"}]");
	assert_int_equal(json_array_size(rep.warnings), 1);
	assert_non_null(strstr(json_string_value(json_array_get(rep.warnings, 0)),
	                       "kernel 6.1.0-18-amd64 has vfio-pci built in"));
	pt_vfio_plan_release(&plan);
	pt_report_release(&rep);
}

static void test_both_cards_go_by_id(void **state)
{
	(void)state;
	struct pt_vfio_plan plan;
	struct pt_report rep;
	plan_for(
	        "{\"0000:01:00.0\": \"id\", \"0000:01:00.1\": \"group\", \"0000:02:00.0\": \"id\", "
	        "\"0000:02:00.1\": \"group\"}",
	        true, &plan, &rep);
	expect_json(plan.ids, "[\"10de:228e\",\"10de:2504\"]");
	expect_json(plan.overrides, "[]");
	assert_string_equal(pt_vfio_plan_mechanism(&plan, "0000:01:00.0"), "ids");
	pt_vfio_plan_release(&plan);
	pt_report_release(&rep);
}

static void test_driver_modules(void **state)
{
	(void)state;
	struct pt_vfio_plan plan;
	struct pt_report rep;
	/* the NIC is on vfio-pci already; xhci_hcd's module is xhci_pci */
	plan_for("{\"0000:05:00.0\": \"address\", \"0000:06:00.0\": \"address\"}", true, &plan,
	         &rep);
	expect_json(plan.softdeps, "[\"xhci_pci\"]");
	expect_json(plan.ids, "[\"10ec:8168\",\"1b21:1242\"]");
	pt_vfio_plan_release(&plan);
	pt_report_release(&rep);
}

static void test_absent(void **state)
{
	(void)state;
	struct pt_vfio_plan plan;
	struct pt_report rep;
	plan_for("{\"0000:02:00.0\": \"address\"}", false, &plan, &rep);
	expect_json(plan.ids, "[]");
	expect_json(plan.overrides, "[]");
	expect_json(plan.softdeps, "[]");
	expect_json(plan.modules, "[]");
	/* the kernels are still reported */
	assert_int_equal(json_array_size(plan.kernels), 2);
	assert_int_equal(json_array_size(rep.warnings), 0);
	pt_vfio_plan_release(&plan);
	pt_report_release(&rep);
}

static void test_blacklist(void **state)
{
	(void)state;
	json_t *in = json_loads("[\"nvidia-drm\", \"nouveau\", \"nvidia_drm\", \"\", \"amdgpu\"]",
	                        0, NULL);
	json_t *out = pt_vfio_plan_blacklist(in);
	expect_json(out, "[\"amdgpu\",\"nouveau\",\"nvidia_drm\"]");
	json_decref(out);
	json_decref(in);
	out = pt_vfio_plan_blacklist(NULL);
	expect_json(out, "[]");
	json_decref(out);
}

/* blacklist_drivers=auto for a selection given as a JSON object text. */
static void auto_for(const char *selection, const char *want_chosen, json_t **choice)
{
	json_t *sel = json_loads(selection, 0, NULL);
	json_t *chosen = NULL;
	assert_non_null(sel);
	assert_int_equal(pt_vfio_plan_blacklist_auto(root, &host, sel, &chosen, choice), 0);
	expect_json(chosen, want_chosen);
	json_decref(chosen);
	json_decref(sel);
}

static const char *reason_of(const json_t *choice, const char *driver, bool *blacklisted)
{
	size_t i;
	json_t *e;
	json_array_foreach (choice, i, e)
		if (!strcmp(json_string_value(json_object_get(e, "driver")), driver)) {
			*blacklisted = json_is_true(json_object_get(e, "blacklisted"));
			return json_string_value(json_object_get(e, "reason"));
		}
	fail_msg("%s is not in the choice", driver);
	return NULL;
}

static void test_blacklist_auto(void **state)
{
	(void)state;
	json_t *choice = NULL;
	bool on = false;
	/* the VM's card while the host keeps its twin on nouveau: every candidate
	 * (nouveau and nvidiafb by modalias, nvidia in the 6.1 kernel, snd_hda_intel
	 * bound to the audio function) also drives or matches a device the host
	 * keeps, so nothing is blacklisted, and each says which device kept it */
	auto_for("{\"0000:02:00.0\": \"address\", \"0000:02:00.1\": \"group\"}", "[]", &choice);
	assert_int_equal(json_array_size(choice), 4);
	const char *why = reason_of(choice, "nouveau", &on);
	assert_false(on);
	assert_non_null(strstr(why, "left out: it also drives 0000:01:00.0"));
	why = reason_of(choice, "nvidia", &on);
	assert_false(on);
	assert_non_null(strstr(why, "left out: it also matches the modalias of 0000:01:00.0"));
	why = reason_of(choice, "snd_hda_intel", &on);
	assert_non_null(strstr(why, "left out: it also drives 0000:01:00.1"));
	json_decref(choice);

	/* both cards: nothing on the host needs those drivers any more */
	auto_for(
	        "{\"0000:01:00.0\": \"id\", \"0000:01:00.1\": \"group\", \"0000:02:00.0\": \"id\", "
	        "\"0000:02:00.1\": \"group\"}",
	        "[\"nouveau\",\"nvidia\",\"nvidiafb\",\"snd_hda_intel\"]", &choice);
	why = reason_of(choice, "nouveau", &on);
	assert_true(on);
	assert_string_equal(why, "drives 0000:01:00.0; matches the modalias of 0000:02:00.0");
	why = reason_of(choice, "snd_hda_intel", &on);
	assert_true(on);
	/* "snd-hda-intel" as bound is the same module */
	assert_string_equal(why, "drives 0000:01:00.1, 0000:02:00.1");
	json_decref(choice);

	/* the NIC already on vfio-pci brings nothing; xhci_hcd is taken as its
	 * module xhci_pci; vfio_pci's own alias is never a candidate */
	auto_for("{\"0000:05:00.0\": \"address\", \"0000:06:00.0\": \"address\"}", "[\"xhci_pci\"]",
	         &choice);
	expect_json(choice, "[{\"driver\":\"xhci_pci\",\"blacklisted\":true,\"reason\":\"drives "
	                    "0000:06:00.0\"}]");
	json_decref(choice);

	json_t *alone = json_pack("[s]", "auto");
	assert_true(pt_vfio_plan_blacklist_is_auto(alone));
	json_decref(alone);
	json_t *mixed = json_pack("[s,s]", "auto", "nouveau");
	assert_false(pt_vfio_plan_blacklist_is_auto(mixed));
	assert_true(pt_vfio_plan_blacklist_has_auto(mixed));
	json_decref(mixed);
	assert_false(pt_vfio_plan_blacklist_is_auto(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_identical_cards_go_by_address, make_root,
	                                        drop_root),
	        cmocka_unit_test_setup_teardown(test_both_cards_go_by_id, make_root, drop_root),
	        cmocka_unit_test_setup_teardown(test_driver_modules, make_root, drop_root),
	        cmocka_unit_test_setup_teardown(test_absent, make_root, drop_root),
	        cmocka_unit_test(test_blacklist),
	        cmocka_unit_test_setup_teardown(test_blacklist_auto, make_root, drop_root),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
