/* Layer: host I/O (reads the host under root). Included by device_evidence.c and
 * tests.
 *
 * The resets the kernel can do to a PCI function, from its sysfs attribute
 * /sys/bus/pci/devices/ADDR/reset_method (Linux 5.15 and later): the methods in
 * the order the kernel tries them, space-separated ("flr bus", "device_specific",
 * "pm"). A function with no usable reset has no such attribute (the kernel
 * hides it), so on 5.15 or later a missing attribute means "none"; before 5.15
 * the attribute did not exist and nothing can be told. Without a reset, a guest
 * that stops leaves the card in whatever state it was: the VM starts once,
 * then not again until the host reboots. */
#ifndef PT_HOST_RESET_METHOD_H
#define PT_HOST_RESET_METHOD_H

/* Check the text of a reset_method attribute: words of lower-case letters,
 * digits and '_' (the kernel's method names: flr, af_flr, pm, bus, cxl_bus,
 * acpi, device_specific, and names to come) separated by one space, ending in
 * one newline or none. Returns the number of methods (0 for an empty text) and
 * *methods, the words joined by single spaces (caller frees), or -EINVAL for
 * anything else (garbage: *methods NULL) or -ENOMEM. */
int pt_reset_methods_parse(const char *text, char **methods);

/* Whether kernel release "major.minor..." has the reset_method attribute: 1 for
 * 5.15 and later, 0 before, -EINVAL when release is NULL or not a version. */
int pt_reset_method_attribute_exists(const char *release);

/* The reset methods of the device at address (canonical, "0000:07:00.0")
 * under root, running kernel release. Returns the number of methods and
 * *methods (caller frees; "" when none), or a negative errno when it cannot be
 * told (*methods NULL):
 *   -ENODATA  no attribute and a kernel before 5.15, or release unknown;
 *   -EINVAL   the attribute holds something that is not a list of methods;
 *   -errno    the attribute exists but cannot be read (-EACCES, ...). */
int pt_reset_methods_read(const char *root, const char *address, const char *release,
                          char **methods);

#endif
