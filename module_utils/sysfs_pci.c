#include "sysfs_pci.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "cleanup.h"
#include "files.h"
#include "root_path.h"

static bool is_pci_address(const char *s, size_t n)
{
	if (n != 12 || s[4] != ':' || s[7] != ':' || s[10] != '.' || s[11] < '0' || s[11] > '7')
		return false;
	for (size_t i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

int pt_sysfs_pci_address(const char *root, const char *sysfs_path, char out[PT_PCI_ADDR_LEN])
{
	_cleanup_free_ char *real = pt_root_realpath(root, sysfs_path);
	if (!real)
		return -ENOENT;
	_cleanup_free_ char *full = pt_path_join(root, real);
	if (!full || !pt_path_exists(full))
		return -ENOENT;
	/* deepest PCI address: walk the components from the end */
	size_t end = strlen(real);
	while (end > 0) {
		size_t start = end;
		while (start > 0 && real[start - 1] != '/')
			start--;
		if (is_pci_address(real + start, end - start)) {
			for (size_t i = 0; i < 12; i++)
				out[i] = (char)tolower((unsigned char)real[start + i]);
			out[12] = '\0';
			return 0;
		}
		end = start ? start - 1 : 0;
	}
	return -ENOENT;
}
