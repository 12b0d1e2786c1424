/* reset_method (see host_reset_method.h). The attribute appeared in Linux 5.15
 * (drivers/pci/pci.c, reset_method_show), and is only visible for a function
 * with at least one method (pci_dev_reset_method_attr_is_visible). */
#include "host_reset_method.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "host_files.h"

#define MAX_METHOD_NAME 32 /* "device_specific" is the longest today */

static bool is_method_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

int pt_reset_methods_parse(const char *text, char **methods)
{
	*methods = NULL;
	if (!text)
		return -EINVAL;
	size_t len = strlen(text);
	if (len && text[len - 1] == '\n')
		len--;
	int count = 0;
	size_t word = 0; /* length of the word being read */
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (is_method_char(c)) {
			if (++word > MAX_METHOD_NAME)
				return -EINVAL;
			if (word == 1)
				count++;
		} else if (c == ' ' && word && i + 1 < len) {
			word = 0;
		} else {
			return -EINVAL; /* two blanks, a leading or trailing one, any other byte */
		}
	}
	*methods = strndup(text, len);
	return *methods ? count : -ENOMEM;
}

int pt_reset_method_attribute_exists(const char *release)
{
	int major, minor;
	if (!release || sscanf(release, "%d.%d", &major, &minor) != 2)
		return -EINVAL;
	return major > 5 || (major == 5 && minor >= 15);
}

int pt_reset_methods_read(const char *root, const char *address, const char *release,
                          char **methods)
{
	*methods = NULL;
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = pt_host_read(root, &text, &len, "/sys/bus/pci/devices/%s/reset_method", address);
	if (r == -ENOENT) {
		/* hidden when there is no method, or absent on an older kernel */
		if (pt_reset_method_attribute_exists(release) != 1)
			return -ENODATA;
		*methods = strdup("");
		return *methods ? 0 : -ENOMEM;
	}
	if (r < 0)
		return r;
	if (strlen(text) != len)
		return -EINVAL; /* a NUL byte inside: not the kernel's text */
	return pt_reset_methods_parse(text, methods);
}
