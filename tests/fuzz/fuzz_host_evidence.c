/* libFuzzer harness: the readers of the readiness evidence on any bytes, as a
 * hostile or broken root can hand them over: /proc/iomem (host_iomem), a
 * device's resource file, reset_method (host_reset_method), the SecureBoot
 * variable (host_secure_boot) and the shell text of an install line
 * (host_early_load). No crash, no leak, and what parses obeys the format:
 * every range within its parent and start <= end; at most six BARs, complete
 * only with six; reset methods that parse come back the same when parsed
 * again. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "host_early_load.h"
#include "host_iomem.h"
#include "host_reset_method.h"
#include "host_secure_boot.h"

static void iomem(const char *text)
{
	struct pt_iomem m;
	int r = pt_iomem_parse(text, &m);
	check(r == 0 || r == -EINVAL || r == -ENODATA || r == -ENOMEM);
	if (r == -EINVAL)
		check(m.count == 0);
	for (size_t i = 0; i < m.count; i++) {
		check(m.ranges[i].start <= m.ranges[i].end);
		check(m.ranges[i].name != NULL);
		check(i > 0 || m.ranges[i].depth == 0);
		if (i)
			check(m.ranges[i].depth <= m.ranges[i - 1].depth + 1);
	}
	struct pt_pci_bars bars;
	int b = pt_pci_bars_parse(text, &bars);
	check(bars.lines <= PT_PCI_STD_BARS);
	check((b == 0) == bars.complete && bars.complete == (bars.lines == PT_PCI_STD_BARS));
	struct pt_framebuffer_hit hits[4];
	int n = pt_iomem_framebuffers_in_bars(&m, &bars, hits, 4);
	check(n >= 0 || (n == -ENODATA && !bars.complete));
	for (int i = 0; i < n && i < 4; i++)
		check(pt_iomem_is_framebuffer(hits[i].name) && hits[i].bar >= 0 && hits[i].bar < 6);
	pt_iomem_release(&m);
}

static void reset_methods(const char *text)
{
	char *methods = NULL;
	int r = pt_reset_methods_parse(text, &methods);
	check(r >= 0 || r == -EINVAL || r == -ENOMEM);
	if (r >= 0) {
		char *again = NULL;
		check(pt_reset_methods_parse(methods, &again) == r);
		check(strcmp(methods, again) == 0);
		free(again);
	} else {
		check(methods == NULL);
	}
	free(methods);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in; /* the text up to a NUL byte, as the readers see a file */
	if (fuzz_input_split(data, size, 0, &in) < 0)
		return 0;
	iomem(in.text);
	reset_methods(in.text);
	enum pt_secure_boot sb = pt_secure_boot_parse(data, size);
	check(sb == PT_SECURE_BOOT_UNKNOWN || size == 5);
	char loads[8][64];
	size_t n = 0;
	pt_install_loaded_modules(in.text, loads, 8, &n);
	check(n <= 8);
	for (size_t i = 0; i < n; i++)
		check(memchr(loads[i], '\0', sizeof loads[i]) != NULL &&
		      strchr(loads[i], '-') == NULL);
	fuzz_input_release(&in);
	return 0;
}
