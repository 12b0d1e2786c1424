/* The reset-bug table (see gpu_reset_quirks.h): one row per device ID, sorted
 * by ID for a binary search. */
#include "gpu_reset_quirks.h"

#include <stdlib.h>

enum family {
	POLARIS_10,
	POLARIS_11,
	POLARIS_12,
	VEGA_10,
	VEGA_20,
	ARCTURUS,
	NAVI_10,
	NAVI_12,
	NAVI_14
};

static const char *const family_names[] = {
        [POLARIS_10] = "Polaris 10", [POLARIS_11] = "Polaris 11",
        [POLARIS_12] = "Polaris 12", [VEGA_10] = "Vega 10",
        [VEGA_20] = "Vega 20",       [ARCTURUS] = "Arcturus (Instinct MI100)",
        [NAVI_10] = "Navi 10",       [NAVI_12] = "Navi 12",
        [NAVI_14] = "Navi 14",
};

struct quirk {
	unsigned short device;
	enum family family;
};

static const struct quirk quirks[] = {
        {0x66a0, VEGA_20},    {0x66a1, VEGA_20},    {0x66a2, VEGA_20},    {0x66a3, VEGA_20},
        {0x66a4, VEGA_20},    {0x66a7, VEGA_20},    {0x66af, VEGA_20},    {0x67c0, POLARIS_10},
        {0x67c1, POLARIS_10}, {0x67c2, POLARIS_10}, {0x67c4, POLARIS_10}, {0x67c7, POLARIS_10},
        {0x67c8, POLARIS_10}, {0x67c9, POLARIS_10}, {0x67ca, POLARIS_10}, {0x67cc, POLARIS_10},
        {0x67cf, POLARIS_10}, {0x67d0, POLARIS_10}, {0x67df, POLARIS_10}, {0x67e0, POLARIS_11},
        {0x67e1, POLARIS_11}, {0x67e3, POLARIS_11}, {0x67e7, POLARIS_11}, {0x67e8, POLARIS_11},
        {0x67e9, POLARIS_11}, {0x67eb, POLARIS_11}, {0x67ef, POLARIS_11}, {0x67ff, POLARIS_11},
        {0x6860, VEGA_10},    {0x6861, VEGA_10},    {0x6862, VEGA_10},    {0x6863, VEGA_10},
        {0x6864, VEGA_10},    {0x6867, VEGA_10},    {0x6868, VEGA_10},    {0x6869, VEGA_10},
        {0x686a, VEGA_10},    {0x686b, VEGA_10},    {0x686c, VEGA_10},    {0x686d, VEGA_10},
        {0x686e, VEGA_10},    {0x686f, VEGA_10},    {0x687f, VEGA_10},    {0x6980, POLARIS_12},
        {0x6981, POLARIS_12}, {0x6985, POLARIS_12}, {0x6986, POLARIS_12}, {0x6987, POLARIS_12},
        {0x6995, POLARIS_12}, {0x6997, POLARIS_12}, {0x699f, POLARIS_12}, {0x6fdf, POLARIS_10},
        {0x7310, NAVI_10},    {0x7312, NAVI_10},    {0x7318, NAVI_10},    {0x7319, NAVI_10},
        {0x731a, NAVI_10},    {0x731b, NAVI_10},    {0x731e, NAVI_10},    {0x731f, NAVI_10},
        {0x7340, NAVI_14},    {0x7341, NAVI_14},    {0x7347, NAVI_14},    {0x734f, NAVI_14},
        {0x7360, NAVI_12},    {0x7362, NAVI_12},    {0x738c, ARCTURUS},
};

static int compare_device(const void *key, const void *elem)
{
	unsigned want = *(const unsigned *)key;
	unsigned have = ((const struct quirk *)elem)->device;
	return (want > have) - (want < have);
}

const char *pt_gpu_reset_quirk_family(unsigned vendor, unsigned device)
{
	if (vendor != PT_PCI_VENDOR_AMD_ATI)
		return NULL;
	const struct quirk *q = bsearch(&device, quirks, sizeof quirks / sizeof *quirks,
	                                sizeof *quirks, compare_device);
	return q ? family_names[q->family] : NULL;
}

unsigned pt_gpu_reset_quirk_count(void)
{
	return (unsigned)(sizeof quirks / sizeof *quirks);
}
