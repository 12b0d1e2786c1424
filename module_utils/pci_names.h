/* Layer: host I/O, internal to pci.c. Included by pci.c, and by its unit test
 * and fuzz harness.
 *
 * Vendor, device and class names of scanned PCI devices from the PCI ID
 * database (pci.ids), read in one pass over the file for just the IDs the
 * devices have.
 *
 * The names are the strings libpci's pci_lookup_name gives with
 * PCI_LOOKUP_NO_NUMBERS and the udev hwdb off, byte for byte: libpci builds a
 * hash of all ~35,000 entries first, which costs more than the rest of a
 * whole iommu_facts run. The reader only answers for a file it can vouch for
 * (the grammar libpci accepts, sorted so that no entry can be a duplicate,
 * plain text); for any other file it says so and the caller asks libpci, whose
 * answer (or error) then stands. Internal to pci.c. */
#ifndef PT_PCI_NAMES_H
#define PT_PCI_NAMES_H

#include "pci.h"

/* pt_pci_names_fill's answer when the file is not one it vouches for (gzip
 * data, a line libpci would reject, entries out of order, a block type it does
 * not read, a missing or unreadable file): nothing was filled. */
#define PT_PCI_NAMES_ASK_LIBPCI 1

/* Set vendor_name, device_name and class_name of every device in host from
 * ids_file, as libpci would (NULL where the database has no name; devices
 * whose IDs are unknown get none). Returns 0, PT_PCI_NAMES_ASK_LIBPCI, or
 * -ENOMEM (names set so far stay in host for pt_pci_host_release). */
int pt_pci_names_fill(const char *ids_file, struct pt_pci_host *host);

#endif
