/* The libpci error trap (see libpci_call.h). */
#include "libpci_call.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static jmp_buf *trap;
static char trapped[512];

static _Noreturn void on_error(char *msg, ...)
{
	va_list ap;
	va_start(ap, msg);
	vsnprintf(trapped, sizeof trapped, msg, ap);
	va_end(ap);
	if (trap)
		longjmp(*trap, 1);
	abort(); /* outside pt_libpci_call: libpci must not get control back */
}

static void on_note(char *msg, ...)
{
	(void)msg;
}

struct pci_access *pt_libpci_alloc(void)
{
	struct pci_access *acc = pci_alloc();
	if (!acc)
		return NULL;
	acc->error = on_error;
	acc->warning = on_note;
	acc->debug = on_note;
	acc->method = PCI_ACCESS_SYS_BUS_PCI;
	return acc;
}

int pt_libpci_call(struct pci_access *acc, int (*fn)(struct pci_access *acc, void *ctx), void *ctx,
                   char *message, size_t size)
{
	jmp_buf jump;
	volatile int r = -EIO;
	if (setjmp(jump) == 0) {
		trap = &jump;
		r = fn(acc, ctx);
	} else if (size) {
		snprintf(message, size, "%s", trapped);
	}
	trap = NULL;
	return r;
}
