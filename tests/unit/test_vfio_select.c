/* module_utils/vfio_select: which devices a vfio_bind run takes, on a host built
 * by hand (two identical GPUs, one for the host and one for the VM; a slot
 * that holds a bridge and an endpoint; a NIC; a USB controller in no IOMMU
 * group), and the vendor:device parser. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "pci.h"
#include "report.h"
#include "vfio_select.h"

/* A host by hand, sorted by address, like pt_pci_scan gives it. */
static struct pt_pci_device devs[10];
static struct pt_pci_host host = {devs, 0};

static void add_dev(const char *addr, int vendor, int device, int class_id, int group,
                    const char *driver, bool bridge, const char *name)
{
	struct pt_pci_device *d = &devs[host.count++];
	memset(d, 0, sizeof *d);
	snprintf(d->address, sizeof d->address, "%s", addr);
	d->vendor_id = vendor;
	d->device_id = device;
	d->class_id = class_id;
	d->iommu_group = group;
	d->boot_vga = -1;
	d->is_bridge = bridge;
	d->driver = (char *)driver;
	d->vendor_name = name ? (char *)"NVIDIA Corporation" : NULL;
	d->device_name = (char *)name;
}

static int make_host(void **state)
{
	(void)state;
	host.count = 0;
	add_dev("0000:00:01.0", 0x8086, 0x1901, 0x0604, 1, "pcieport", true, NULL);
	add_dev("0000:01:00.0", 0x10de, 0x2504, 0x0300, 12, "nouveau", false, "GA106 [RTX 3060]");
	add_dev("0000:01:00.1", 0x10de, 0x228e, 0x0403, 12, "snd_hda_intel", false, NULL);
	add_dev("0000:02:00.0", 0x10de, 0x2504, 0x0300, 13, "nouveau", false, "GA106 [RTX 3060]");
	add_dev("0000:02:00.1", 0x10de, 0x228e, 0x0403, 13, "snd_hda_intel", false, NULL);
	add_dev("0000:03:00.0", 0x1b21, 0x1182, 0x0604, 14, "pcieport", true, NULL);
	add_dev("0000:03:00.1", 0x1b21, 0x0612, 0x0106, 14, "ahci", false, NULL);
	add_dev("0000:05:00.0", 0x10ec, 0x8168, 0x0200, 15, "r8169", false, NULL);
	add_dev("0000:06:00.0", 0x1b21, 0x1242, 0x0c03, -1, "xhci_hcd", false, NULL);
	return 0;
}

/* Select with devices/ids given as JSON texts (NULL: not given). Returns the
 * errno-style result; *out is the selection dumped ("" when none), *msg the
 * failure message or "", *warnings the warnings dumped. Caller frees. */
struct outcome {
	int ret;
	char *selected;
	char *msg;
	char *warnings;
};

static struct outcome pick(const char *devices, const char *ids, bool present, bool group)
{
	json_t *d = devices ? json_loads(devices, 0, NULL) : NULL;
	json_t *i = ids ? json_loads(ids, 0, NULL) : NULL;
	json_t *sel = NULL;
	struct pt_report rep;
	assert_int_equal(pt_report_init(&rep), 0);
	struct outcome o;
	o.ret = pt_vfio_select(&host, d, i, present, group, &sel, &rep);
	if (o.ret < 0)
		assert_null(sel);
	o.selected = sel ? json_dumps(sel, JSON_COMPACT) : strdup("");
	o.msg = strdup(rep.msg ? rep.msg : "");
	o.warnings = json_dumps(rep.warnings, JSON_COMPACT);
	json_decref(sel);
	json_decref(d);
	json_decref(i);
	pt_report_release(&rep);
	return o;
}

static void release(struct outcome *o)
{
	free(o->selected);
	free(o->msg);
	free(o->warnings);
}

static void test_parse_id(void **state)
{
	(void)state;
	int v = 0, d = 0;
	assert_int_equal(pt_vfio_parse_id("10de:1c82", &v, &d), 0);
	assert_int_equal(v, 0x10de);
	assert_int_equal(d, 0x1c82);
	assert_int_equal(pt_vfio_parse_id("10DE:1C8a", &v, &d), 0);
	assert_int_equal(d, 0x1c8a);
	static const char *const bad[] = {"10de-1c82", "10de:1c8",  "10de:1c821",
	                                  "+1de:1c82", " 1de:1c82", "10de:1c8g",
	                                  "10de:",     "",          "0x10:1c82"};
	for (size_t k = 0; k < sizeof bad / sizeof *bad; k++)
		assert_int_equal(pt_vfio_parse_id(bad[k], &v, &d), -EINVAL);
	assert_int_equal(pt_vfio_parse_id(NULL, &v, &d), -EINVAL);
}

static void test_slot_and_group(void **state)
{
	(void)state;
	/* a slot takes every function */
	struct outcome o = pick("[\"0000:02:00\"]", NULL, true, true);
	assert_int_equal(o.ret, 0);
	assert_string_equal(o.selected,
	                    "{\"0000:02:00.0\":\"address\",\"0000:02:00.1\":\"address\"}");
	release(&o);
	/* one function brings its group along, in address order */
	o = pick("[\"02:00.1\"]", NULL, true, true);
	assert_int_equal(o.ret, 0);
	assert_string_equal(o.selected,
	                    "{\"0000:02:00.0\":\"group\",\"0000:02:00.1\":\"address\"}");
	release(&o);
	o = pick("[\"02:00.1\"]", NULL, true, false);
	assert_string_equal(o.selected, "{\"0000:02:00.1\":\"address\"}");
	release(&o);
	/* a slot's bridge stays with the host, and its group's bridge does not join */
	o = pick("[\"0000:03:00\"]", NULL, true, true);
	assert_int_equal(o.ret, 0);
	assert_string_equal(o.selected, "{\"0000:03:00.1\":\"address\"}");
	release(&o);
	/* a device in no group is selected on its own */
	o = pick("[\"0000:06:00.0\"]", NULL, true, true);
	assert_string_equal(o.selected, "{\"0000:06:00.0\":\"address\"}");
	release(&o);
}

static void test_by_id(void **state)
{
	(void)state;
	/* an ID takes both identical cards (and their groups come along) */
	struct outcome o = pick(NULL, "[\"10DE:2504\"]", true, true);
	assert_int_equal(o.ret, 0);
	assert_string_equal(o.selected, "{\"0000:01:00.0\":\"id\",\"0000:01:00.1\":\"group\","
	                                "\"0000:02:00.0\":\"id\",\"0000:02:00.1\":\"group\"}");
	release(&o);
	/* named twice: the first way it came in is the one reported */
	o = pick("[\"0000:02:00.0\"]", "[\"10de:228e\"]", true, false);
	assert_string_equal(o.selected, "{\"0000:01:00.1\":\"id\",\"0000:02:00.0\":\"address\","
	                                "\"0000:02:00.1\":\"id\"}");
	release(&o);
}

static void test_refusals(void **state)
{
	(void)state;
	struct outcome o = pick("[\"0000:03:00.0\"]", NULL, true, true);
	assert_int_equal(o.ret, -EINVAL);
	assert_string_equal(o.msg, "devices[0]: 0000:03:00.0 is a PCI bridge, and vfio-pci takes "
	                           "endpoints only; select the devices behind it");
	release(&o);
	o = pick("[\"0000:02:00.0\", \"7:0.9\"]", NULL, true, true);
	assert_int_equal(o.ret, -EINVAL);
	assert_non_null(
	        strstr(o.msg, "devices[1]: '7:0.9' is not a PCI address; use 0000:07:00.0"));
	release(&o);
	o = pick(NULL, "[\"10de:2504\", \"10de-1c82\"]", true, true);
	assert_int_equal(o.ret, -EINVAL);
	assert_non_null(strstr(o.msg, "ids[1]: '10de-1c82' is not a vendor:device ID pair"));
	release(&o);
	o = pick("[]", "[]", true, true);
	assert_int_equal(o.ret, -EINVAL);
	assert_non_null(strstr(o.msg, "nothing to hand to vfio-pci: give devices"));
	release(&o);
}

static void test_not_on_this_host(void **state)
{
	(void)state;
	struct outcome o = pick("[\"0000:0a:00\", \"0000:02:00\"]", "[\"10de:1b80\"]", true, true);
	assert_int_equal(o.ret, -EINVAL);
	assert_string_equal(o.selected, "");
	assert_string_equal(
	        o.msg, "no PCI endpoint at 0000:0a:00 on this host; no PCI device with ID "
	               "10de:1b80 on this host. Its display controllers: 0000:01:00.0 10de:2504 "
	               "NVIDIA Corporation GA106 [RTX 3060] (group 12); 0000:02:00.0 10de:2504 "
	               "NVIDIA Corporation GA106 [RTX 3060] (group 13). Its other 10de devices: "
	               "0000:01:00.1 10de:228e class 0x0403 device 10de:228e (group 12); "
	               "0000:02:00.1 10de:228e class 0x0403 device 10de:228e (group 13). Check "
	               "the addresses with `lspci -D` and the IDs with `lspci -nn`; addresses are "
	               "the safer choice.");
	release(&o);
	/* absent: the card may be gone already; what is there is still given back,
	 * and groups are not followed */
	o = pick("[\"0000:0a:00.0\", \"0000:02:00.0\"]", NULL, false, true);
	assert_int_equal(o.ret, 0);
	assert_string_equal(o.selected, "{\"0000:02:00.0\":\"address\"}");
	assert_string_equal(o.warnings,
	                    "[\"no PCI device at 0000:0a:00.0 on this host; nothing to give "
	                    "back for it\"]");
	release(&o);
	/* absent with nothing named: an empty selection */
	o = pick(NULL, NULL, false, true);
	assert_int_equal(o.ret, 0);
	assert_string_equal(o.selected, "{}");
	release(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_parse_id),
	        cmocka_unit_test_setup(test_slot_and_group, make_host),
	        cmocka_unit_test_setup(test_by_id, make_host),
	        cmocka_unit_test_setup(test_refusals, make_host),
	        cmocka_unit_test_setup(test_not_on_this_host, make_host),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
