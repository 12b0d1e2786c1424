#!/usr/bin/env bash
# `make run` (after `make install tools`): the collection's main job, shown on
#   1. this machine: its own IOMMU facts (iommu_facts run from the shell);
#   2. the bundled example: playbooks/site.yml with inventory/example.yml against
#      a sandbox root built from the seed host pve1 (GeForce GTX 1050 Ti at
#      0000:07:00, GRUB, Proxmox VE 8): first --check --diff (what would change),
#      then for real, then again (nothing left to change), then the files and the
#      mapping it produced.
# The sandbox is a directory that looks like pve1's / to the modules
# (gpu_passthrough_root): the boot and initramfs commands in it are recording
# stubs, pvesh is the fake from tests/tools/fake-pvesh.c, and nothing outside it
# is touched. It stays in build/example/ for a look afterwards.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
tools=$repo/build/tools
work=$repo/build/example
root=$work/pve1
cd "$repo"

export ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3 ANSIBLE_RETRY_FILES_ENABLED=0
export ANSIBLE_LOCALHOST_WARNING=False ANSIBLE_DEPRECATION_WARNINGS=False
export ANSIBLE_DISPLAY_SKIPPED_HOSTS=False

bold() { if [ -t 1 ]; then printf '\033[1m%s\033[0m\n' "$*"; else printf '%s\n' "$*"; fi; }
section() { echo; bold "=== $* ==="; echo; }
step() { echo; bold "--- $*"; echo; }
die() { echo "make run: $*" >&2; exit 1; }

for f in plugins/modules/iommu_facts "$tools/mkroot" "$tools/record-cmd" "$tools/fake-pvesh"; do
	[ -x "$f" ] || die "$f is missing: run 'make install tools' first"
done
ansible-doc homelab.passthrough.grub_iommu >/dev/null 2>&1 ||
	die "the collection is not installed: run 'make install' first"

# --- 1 ---------------------------------------------------------------------
section "1. This machine: IOMMU groups and GPUs (plugins/modules/iommu_facts)"
plugins/modules/iommu_facts --root / || die "iommu_facts failed on this machine"

# --- 2 ---------------------------------------------------------------------
section "2. The bundled example: the seed host pve1 in a sandbox root"

rm -rf "$work"
mkdir -p "$work"
"$tools/mkroot" tests/fixtures/hosts/pve1-gtx1050ti.yml "$root" >/dev/null
mkdir -p "$root/usr/sbin" "$root/usr/bin" "$root/etc/record-cmd"
for cmd in update-grub update-initramfs proxmox-boot-tool modprobe; do
	install -m 0755 "$tools/record-cmd" "$root/usr/sbin/$cmd"
done
# pve1 boots with plain GRUB: proxmox-boot-tool does not manage its ESP.
echo 2 >"$root/etc/record-cmd/proxmox-boot-tool.status.rc"
echo "E: /etc/kernel/proxmox-boot-uuids does not exist." >"$root/etc/record-cmd/proxmox-boot-tool.status.err"
install -m 0755 "$tools/fake-pvesh" "$root/usr/bin/pvesh"

cat <<EOF
Sandbox root: build/example/pve1 (from tests/fixtures/hosts/pve1-gtx1050ti.yml)
  GeForce GTX 1050 Ti 10de:1c82 at 0000:07:00.0 (nouveau) + HDMI audio 10de:0fb9 at
  0000:07:00.1, alone in IOMMU group 14; r8169 NIC with the default route in group 13.
  update-grub, update-initramfs, proxmox-boot-tool and modprobe are recording stubs;
  pvesh is a fake that keeps /etc/pve/mapping/pci.cfg the way Proxmox VE does.
Inventory: inventory/example.yml (pve1: gpu_passthrough_devices ["0000:07:00"],
  mapping gpu-gtx1050ti), run locally with gpu_passthrough_root pointing at the sandbox.
EOF

play() {
	ansible-playbook -i inventory/example.yml -e ansible_connection=local \
		-e "gpu_passthrough_root=$root" "$@"
}
# The play recap's changed= count for pve1.
recap_changed() { sed -n 's/^pve1 *:.* changed=\([0-9]*\).*/\1/p' "$1" | tail -n 1; }

step "2a. What would change: ansible-playbook playbooks/site.yml --check --diff"
play playbooks/site.yml --check --diff | tee "$work/check.out"
[ -z "$(cat "$root/var/log/record-cmd.log" 2>/dev/null)" ] ||
	die "the check run ran commands in the sandbox: $(cat "$root/var/log/record-cmd.log")"

step "2b. For real: ansible-playbook playbooks/site.yml"
play playbooks/site.yml | tee "$work/apply.out"

step "2c. Again: nothing left to change"
ANSIBLE_DISPLAY_OK_HOSTS=False play playbooks/site.yml | tee "$work/again.out"
[ "$(recap_changed "$work/again.out")" = 0 ] || die "the second run changed something (see above)"
echo "Second run: changed=0."

step "2d. The result in the sandbox"
echo "/etc/default/grub (the effective line):"
grep '^GRUB_CMDLINE_LINUX_DEFAULT=' "$root/etc/default/grub" | sed 's/^/    /'
for f in /etc/modprobe.d/vfio.conf /etc/modprobe.d/blacklist-gpu.conf /etc/modules; do
	echo
	echo "$f:"
	sed 's/^/    /' "$root$f"
done
echo
echo "The Proxmox PCI mapping (pvesh get /cluster/mapping/pci/gpu-gtx1050ti):"
FAKE_PVESH_ROOT=$root "$tools/fake-pvesh" get /cluster/mapping/pci/gpu-gtx1050ti --output-format json |
	/usr/bin/python3 -m json.tool | sed 's/^/    /'
echo
echo "/etc/pve/mapping/pci.cfg:"
sed 's/^/    /' "$root/etc/pve/mapping/pci.cfg"
echo
echo "Commands run in the sandbox over the three runs (recorded by the stubs; the check run runs none,"
echo "the second real run only asks proxmox-boot-tool which boot loader is in use):"
sed 's/^/    /' "$root/var/log/record-cmd.log"
grep -v ' get ' "$root/var/log/fake-pvesh.log" | sed 's/^/    /' || true
cat <<EOF

On a real node the role would now reboot it (gpu_passthrough_reboot_policy: auto) and
check that 0000:07:00.0 and 0000:07:00.1 come up on vfio-pci. A VM then gets the card
with: qm set VMID --machine q35 --hostpci0 mapping=gpu-gtx1050ti,pcie=1
Undo: ansible-playbook -i inventory/example.yml playbooks/rollback.yml
EOF
