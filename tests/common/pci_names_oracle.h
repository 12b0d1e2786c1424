/* libpci as the oracle of module_utils/pci_names: the names it gives for a
 * host's IDs from a pci.ids file, compared with the ones pt_pci_names_fill put
 * into the host. Shared by tests/unit/test_pci_names.c (which fails the cmocka
 * test on a difference) and tests/fuzz/fuzz_pci_names.c (which aborts), and
 * linked into both builds (mk/config.mk: UNIT_SUPPORT; mk/fuzz.mk: FUZZ_COMMON).
 * No cmocka here: it says what differs and leaves the verdict to its caller. */
#ifndef PT_TEST_PCI_NAMES_ORACLE_H
#define PT_TEST_PCI_NAMES_ORACLE_H

#include <pci/pci.h>

#include "pci.h"

/* What libpci calls when it cannot go on (struct pci_access's error): it must
 * not return. */
typedef void (*pci_names_oracle_error_fn)(char *msg, ...) PCI_NONRET;

/* Loads file with libpci as pci.c asks it (hwdb off) and looks up every
 * device's vendor, device and class name (PCI_LOOKUP_NO_NUMBERS; a vendor for
 * IDs >= 0, a device for a vendor and device >= 0, a class for a class >= 0,
 * else none) against the names in host. error replaces libpci's error handler
 * when not NULL (libpci's own prints and exits). Returns NULL when every name
 * is the same byte for byte (or absent on both sides), else a message naming
 * the first that differs, e.g. `vendor of 10de:1c82 class 0300: pci_names "x",
 * libpci "y"`, which the caller frees. */
char *pci_names_oracle_differs(const char *file, const struct pt_pci_host *host,
                               pci_names_oracle_error_fn error);

#endif
