/* Layer: host I/O. Included by vfio_safety.c (the default_route rule) and its
 * tests.
 *
 * The running host's network as a root shows it: which interfaces carry a
 * default route (the host's way in and out), and which PCI devices are under
 * an interface, followed through bridges, bonds and VLANs down to their ports.
 * What vfio_bind must not hand over is decided in vfio_safety.c; this file
 * only reads. Every path is read under root: <root>/proc/net and
 * <root>/sys/class/net, links followed inside root. */
#ifndef PT_HOST_NET_H
#define PT_HOST_NET_H

#include <jansson.h>

/* Interfaces that carry a default route: IPv4 entries of <root>/proc/net/route
 * with destination and mask 0 and the route up; IPv6 entries of
 * <root>/proc/net/ipv6_route with ::/0, up, not a reject route, not on lo.
 * New reference: array of unique names in file order, IPv4 first (empty when
 * none or unreadable); NULL when out of memory. */
json_t *pt_net_default_interfaces(const char *root);

/* The PCI devices under a network interface. A physical interface has a
 * device link (sysfs_pci.h); a bridge (brif/), a bond or a VLAN (lower_* links)
 * is followed to its ports, in name order, at most 8 levels deep and each
 * interface once. Appends {address, interface} (interface: the port whose
 * device it is) to out. Returns 0 or -ENOMEM. */
int pt_net_interface_devices(const char *root, const char *iface, json_t *out);

#endif
