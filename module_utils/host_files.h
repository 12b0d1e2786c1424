/* Layer: host I/O (reads the host under root). Included by the host_* readers
 * (host_iomem, host_reset_method, host_secure_boot, host_early_load,
 * host_pci_caps, host_conf_dirs) and tests.
 *
 * The two reads every evidence reader makes: a file of the host, and the
 * names in a directory of the host, both under root and through files.h, so
 * that links in a sandbox root stay inside it. */
#ifndef PT_HOST_FILES_H
#define PT_HOST_FILES_H

#include <stdbool.h>
#include <stddef.h>

/* Read the host file whose path (absolute, as the host names it) is fmt
 * formatted, under root ("/" for the live host): pt_file_read's answers (0 and
 * *data, caller frees; -ENOENT when absent; -errno), or -ENOMEM. */
int pt_host_read(const char *root, char **data, size_t *len, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* The names in the host directory dir under root that keep accepts (NULL: all
 * but "." and ".."), sorted. Returns their count and *names (a NULL-terminated
 * array; caller frees with pt_host_names_free; NULL when there are none), 0
 * when dir is absent or no directory, -errno when it exists but cannot be
 * listed, -ENOMEM. */
int pt_host_list_dir(const char *root, const char *dir, bool (*keep)(const char *name),
                     char ***names);

void pt_host_names_free(char **names);

#endif
