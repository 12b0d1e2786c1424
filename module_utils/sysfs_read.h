/* Layer: host I/O. Included by pci.c and iommu.c (the facts' many small
 * reads), and by its unit test.
 *
 * Small sysfs attributes read through a directory already opened under the
 * confinement root, instead of resolving each file's whole path again: a
 * facts run reads some thousand of them. */
#ifndef PT_SYSFS_READ_H
#define PT_SYSFS_READ_H

/* The first line of the file rel ("boot_vga", or "14/type") below dir, as
 * pt_file_read_line(path) gives it, where path is the full path of that same
 * file and dir a directory opened with pt_file_open: cut at the newline,
 * trailing blanks removed. The file is read through dir when no symbolic link
 * lies on the way (then it is the file path resolves to); otherwise, or when
 * dir is negative, by path, whose links pt_file_read follows inside root.
 * Caller frees; NULL when missing or unreadable. */
char *pt_sysfs_read_at(int dir, const char *rel, const char *path);

#endif
