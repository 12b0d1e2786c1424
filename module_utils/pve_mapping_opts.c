#include "pve_mapping_opts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "exec.h"
#include "files.h"
#include "pve_mapping.h"

char *pt_pve_local_node(const char *root, struct pt_report *rep)
{
	char buf[256] = "";
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ char *line = NULL;
	if (strcmp(root, "/") == 0) {
		if (gethostname(buf, sizeof buf - 1) < 0)
			buf[0] = '\0';
	} else {
		path = pt_path_join(root, "/etc/hostname");
		line = path ? pt_file_read_line(path) : NULL;
		if (line)
			snprintf(buf, sizeof buf, "%s", line);
	}
	/* Proxmox's node name is the host name up to the first dot. */
	buf[strcspn(buf, ". \t")] = '\0';
	if (buf[0])
		return strdup(buf);
	if (strcmp(root, "/") != 0 && !line)
		pt_report_fail(rep, -EINVAL,
		               "cannot tell the local node name (%s is missing or unreadable); "
		               "set the node option",
		               path ? path : "/etc/hostname");
	else
		pt_report_fail(rep, -EINVAL,
		               "cannot tell the local node name (the host name is empty); set the "
		               "node option");
	return NULL;
}

int pt_pve_opts_check(const struct pt_pve_pci_mapping_opts *o, char **node, struct pt_report *rep)
{
	*node = NULL;
	size_t length = pt_pve_text_chars(o->name);
	if (length > PT_PVE_NAME_MAX)
		return pt_report_fail(rep, -EINVAL,
		                      "name is %zu characters long; the module allows at most %d "
		                      "(Proxmox sets no limit, but the ID goes into every VM "
		                      "config, ACL path and API call that uses the mapping): "
		                      "choose a shorter name",
		                      length, PT_PVE_NAME_MAX);
	if (!pt_pve_valid_configid(o->name))
		return pt_report_fail(rep, -EINVAL,
		                      "name '%s' is not a valid Proxmox mapping ID: it must start "
		                      "with a letter, hold only letters, digits, '-' and '_', and "
		                      "be at least 2 characters long",
		                      o->name);
	if (o->node) {
		*node = strdup(o->node);
	} else {
		*node = pt_pve_local_node(o->root, rep);
		if (!*node)
			return -EINVAL;
	}
	if (!*node)
		return -ENOMEM;
	if (!pt_pve_valid_node(*node))
		return pt_report_fail(rep, -EINVAL,
		                      "node '%s' is not a valid Proxmox node name: letters, digits "
		                      "and '-', not starting or ending with '-'",
		                      *node);
	const char *desc = o->description;
	if (desc && strpbrk(desc, "\r\n"))
		return pt_report_fail(rep, -EINVAL,
		                      "description must be one line: Proxmox keeps it on one "
		                      "line of /etc/pve/mapping/pci.cfg");
	if (desc) {
		int rc = pt_pve_text_check("description", desc, rep);
		if (rc < 0)
			return rc;
	}
	/* Proxmox counts characters, and checks what it is given (blanks included). */
	if (desc && pt_pve_text_chars(desc) > PT_PVE_DESCRIPTION_MAX)
		return pt_report_fail(rep, -EINVAL,
		                      "description is %zu characters long; Proxmox allows %d",
		                      pt_pve_text_chars(desc), PT_PVE_DESCRIPTION_MAX);
	if (o->retries < 0)
		return pt_report_fail(rep, -EINVAL, "retries must be 0 or more");
	if (o->exact && o->devices)
		return pt_report_fail(rep, -EINVAL,
		                      "devices is only used with map_mode=node; with "
		                      "map_mode=exact give every entry in map");
	if (!o->exact && o->map)
		return pt_report_fail(rep, -EINVAL,
		                      "map is only used with map_mode=exact; with "
		                      "map_mode=node list this node's devices in devices");
	if (!pt_exec_available(o->root, o->pvesh)) {
		_cleanup_free_ char *where = pt_path_join(o->root, o->pvesh);
		return pt_report_fail(rep, -ENOENT,
		                      "pvesh is not at %s: this does not look like a Proxmox VE "
		                      "node (package pve-manager); set pvesh to its path",
		                      where ? where : o->pvesh);
	}
	return 0;
}
