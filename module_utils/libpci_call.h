/* Layer: host I/O (reads the host under root). Included by host_pci_caps.c and
 * tests; pci.c keeps a copy of the same trap (libpci_error, its longjmp) until
 * it calls this instead.
 *
 * libpci reports an error through a callback that must not return: by default
 * it prints and exits, which a module must never do (its one JSON object would
 * be lost). Here the callback records libpci's message and jumps back to
 * pt_libpci_call, which returns -EIO. The callbacks carry no user pointer, so
 * the jump target lives in this file: one call at a time per process, which is
 * all a module does. */
#ifndef PT_LIBPCI_CALL_H
#define PT_LIBPCI_CALL_H

#include <stddef.h>

#include <pci/pci.h>

/* A libpci access using the linux-sysfs method, its error callback set to the
 * trap and its warnings and debug output dropped (a missing optional attribute
 * is not news). NULL when out of memory. The caller sets its parameters
 * (sysfs.path), runs its calls through pt_libpci_call and releases it with
 * pci_cleanup. */
struct pci_access *pt_libpci_alloc(void);

/* Run fn(acc, ctx), every libpci call of it inside. Returns fn's value, or -EIO
 * when libpci reported an error: its message is then in message (size bytes,
 * NUL-terminated). fn must hold no memory that only it would free when libpci
 * jumps out of it: allocate before the call, or store into ctx at once. After
 * the call a libpci error aborts (libpci does not expect its handler to
 * return); make every libpci call through here. */
int pt_libpci_call(struct pci_access *acc, int (*fn)(struct pci_access *acc, void *ctx), void *ctx,
                   char *message, size_t size);

#endif
