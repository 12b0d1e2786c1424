#include "pve_mapping_request.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "exec.h"
#include "files.h"
#include "pve_mapping.h"

char *pt_pve_local_node(const char *root, char **why)
{
	char buf[256] = "";
	*why = NULL;
	if (strcmp(root, "/") == 0) {
		if (gethostname(buf, sizeof buf - 1) < 0)
			buf[0] = '\0';
	} else {
		_cleanup_free_ char *path = pt_path_join(root, "/etc/hostname");
		_cleanup_free_ char *line = path ? pt_file_read_line(path) : NULL;
		if (line)
			snprintf(buf, sizeof buf, "%s", line);
		else
			pt_pve_message(why, 0, "%s is missing or unreadable",
			               path ? path : "/etc/hostname");
	}
	/* Proxmox's node name is the host name up to the first dot. */
	buf[strcspn(buf, ". \t")] = '\0';
	if (!buf[0]) {
		if (!*why)
			*why = strdup("the host name is empty");
		return NULL;
	}
	return strdup(buf);
}

/* Characters in s (UTF-8: bytes that do not continue a character), 0 for NULL. */
static size_t utf8_length(const char *s)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++)
		n += (*p & 0xc0) != 0x80;
	return n;
}

int pt_pve_request_check(const struct pt_pve_request *req, char **node, char **msg)
{
	*node = NULL;
	*msg = NULL;
	size_t length = utf8_length(req->name);
	if (length > PT_PVE_NAME_MAX)
		return pt_pve_message(msg, -EINVAL,
		                      "name is %zu characters long; the module allows at most %d "
		                      "(Proxmox sets no limit, but the ID goes into every VM "
		                      "config, ACL path and API call that uses the mapping): "
		                      "choose a shorter name",
		                      length, PT_PVE_NAME_MAX);
	if (!pt_pve_valid_configid(req->name))
		return pt_pve_message(msg, -EINVAL,
		                      "name '%s' is not a valid Proxmox mapping ID: it must start "
		                      "with a letter, hold only letters, digits, '-' and '_', and "
		                      "be at least 2 characters long",
		                      req->name);
	if (req->node) {
		*node = strdup(req->node);
	} else {
		_cleanup_free_ char *why = NULL;
		*node = pt_pve_local_node(req->root, &why);
		if (!*node)
			return pt_pve_message(msg, -EINVAL,
			                      "cannot tell the local node name (%s); set the node "
			                      "option",
			                      why ? why : "unknown reason");
	}
	if (!*node)
		return -ENOMEM;
	if (!pt_pve_valid_node(*node))
		return pt_pve_message(msg, -EINVAL,
		                      "node '%s' is not a valid Proxmox node name: letters, digits "
		                      "and '-', not starting or ending with '-'",
		                      *node);
	const char *desc = req->description;
	if (desc && strpbrk(desc, "\r\n"))
		return pt_pve_message(msg, -EINVAL,
		                      "description must be one line: Proxmox keeps it on one "
		                      "line of /etc/pve/mapping/pci.cfg");
	if (desc) {
		int rc = pt_pve_text_check("description", desc, msg);
		if (rc < 0)
			return rc;
	}
	/* Proxmox counts characters, and checks what it is given (blanks included). */
	if (desc && pt_pve_text_chars(desc) > PT_PVE_DESCRIPTION_MAX)
		return pt_pve_message(msg, -EINVAL,
		                      "description is %zu characters long; Proxmox allows %d",
		                      pt_pve_text_chars(desc), PT_PVE_DESCRIPTION_MAX);
	if (req->retries < 0)
		return pt_pve_message(msg, -EINVAL, "retries must be 0 or more");
	if (req->exact && req->devices)
		return pt_pve_message(msg, -EINVAL,
		                      "devices is only used with map_mode=node; with "
		                      "map_mode=exact give every entry in map");
	if (!req->exact && req->map)
		return pt_pve_message(msg, -EINVAL,
		                      "map is only used with map_mode=exact; with "
		                      "map_mode=node list this node's devices in devices");
	if (!pt_exec_available(req->root, req->pvesh)) {
		_cleanup_free_ char *where = pt_path_join(req->root, req->pvesh);
		return pt_pve_message(msg, -ENOENT,
		                      "pvesh is not at %s: this does not look like a Proxmox VE "
		                      "node (package pve-manager); set pvesh to its path",
		                      where ? where : req->pvesh);
	}
	return 0;
}
