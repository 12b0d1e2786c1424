# Copyright: homelab.passthrough contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""homelab.passthrough.pve_pci_mapping: the binary module in one exec per task when the
connection pipelines (plugins/plugin_utils/binary_module.py says how)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.homelab.passthrough.plugins.plugin_utils.binary_module import BinaryModuleAction


class ActionModule(BinaryModuleAction):
    pass
