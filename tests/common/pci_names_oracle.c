/* libpci as the oracle of pci_names (pci_names_oracle.h says what it promises). */
#include "pci_names_oracle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void quiet(char *msg, ...)
{
	(void)msg;
}

/* What pci.c gets from libpci for flags and the IDs, as a string or NULL. */
static const char *libpci_name(struct pci_access *acc, char buf[256], int flags, int a, int b)
{
	return pci_lookup_name(acc, buf, 256, flags | PCI_LOOKUP_NO_NUMBERS, a, b);
}

/* NULL when got and want are the same name, else the message (caller frees). */
static char *differs(const char *what, const struct pt_pci_device *d, const char *got,
                     const char *want)
{
	if (!got == !want && (!got || strcmp(got, want) == 0))
		return NULL;
	char *message = NULL;
	if (asprintf(&message, "%s of %04x:%04x class %04x: pci_names \"%s\", libpci \"%s\"", what,
	             (unsigned)d->vendor_id, (unsigned)d->device_id, (unsigned)d->class_id,
	             got ? got : "(null)", want ? want : "(null)") < 0)
		return strdup(what);
	return message;
}

/* The first of d's names that differs from libpci's, or NULL. */
static char *device_differs(struct pci_access *acc, const struct pt_pci_device *d)
{
	char buf[256];
	char *message = differs("vendor", d, d->vendor_name,
	                        d->vendor_id >= 0
	                                ? libpci_name(acc, buf, PCI_LOOKUP_VENDOR, d->vendor_id, 0)
	                                : NULL);
	if (message)
		return message;
	message = differs(
	        "device", d, d->device_name,
	        d->vendor_id >= 0 && d->device_id >= 0
	                ? libpci_name(acc, buf, PCI_LOOKUP_DEVICE, d->vendor_id, d->device_id)
	                : NULL);
	if (message)
		return message;
	return differs("class", d, d->class_name,
	               d->class_id >= 0 ? libpci_name(acc, buf, PCI_LOOKUP_CLASS, d->class_id, 0)
	                                : NULL);
}

char *pci_names_oracle_differs(const char *file, const struct pt_pci_host *host,
                               pci_names_oracle_error_fn error)
{
	struct pci_access *acc = pci_alloc();
	if (!acc)
		return strdup("pci_alloc failed");
	if (error)
		acc->error = error;
	acc->warning = quiet;
	acc->debug = quiet;
	pci_set_name_list_path(acc, (char *)file, 0);
	acc->id_lookup_mode = PCI_LOOKUP_NO_HWDB;
	char *message = NULL;
	for (size_t i = 0; i < host->count && !message; i++)
		message = device_differs(acc, &host->devices[i]);
	pci_cleanup(acc);
	return message;
}
