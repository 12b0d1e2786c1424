/* Layer: base (text only, no I/O). Included by the readers of the kernel's
 * /proc tables: host_net.c (/proc/net/route, /proc/net/ipv6_route) and
 * host_block.c (/proc/self/mounts, /proc/swaps).
 *
 * The kernel writes those tables as lines of fields separated by blanks; one
 * splitter for all of them, so that they all read a line the same way. */
#ifndef PT_PROC_FIELDS_H
#define PT_PROC_FIELDS_H

/* Split line in place into up to max fields separated by blanks (space, tab,
 * CR): fields[i] point into line. Returns how many were found (at most max;
 * what follows the last one is not looked at). */
int pt_proc_fields(char *line, char **fields, int max);

#endif
