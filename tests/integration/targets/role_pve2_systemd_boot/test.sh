#!/usr/bin/env bash
# The gpu_passthrough role on a sandbox root of pve2: Proxmox VE 8 on AMD EPYC,
# ZFS root on UEFI, booted by systemd-boot through proxmox-boot-tool, so the
# kernel command line lives in /etc/kernel/cmdline and /etc/default/grub must
# stay untouched. RX 6600 (+ audio) at 0000:0d:00 in group 20. The cluster
# already has a mapping gpu-rx6600 with another node's entry (pve3), which the
# role must keep. Covers: check mode predicts the real run and writes nothing;
# converge; second run unchanged; rollback gives every file back byte for byte,
# pci.cfg included (only pve2's entry goes).
source "$PT_REPO/tests/integration/lib.sh"

root=$PT_WORK/root
pt_role_sandbox "$PT_FIXTURES/hosts/pve2-systemd-boot.yml" "$root" systemd-boot
mkdir -p "$root/etc/pve/mapping"
printf 'gpu-rx6600\n\tmap id=1002:73ff,iommugroup=22,node=pve3,path=0000:0e:00,subsystem-id=1da2:e445\n\tdescription RX 6600 for VMs\n\nnic-x710\n\tmap id=8086:1572,iommugroup=30,node=pve3,path=0000:41:00.0\n\n' \
	>"$root/etc/pve/mapping/pci.cfg"
pt_snapshot "$root" "$PT_WORK/fresh.sha"
cp -a "$root/etc" "$PT_WORK/etc.orig"

cat >"$PT_WORK/inventory.yml" <<INV
pve:
  hosts:
    pve2:
      ansible_connection: local
      ansible_python_interpreter: /usr/bin/python3
      gpu_passthrough_root: "$root"
      gpu_passthrough_devices: ["0000:0d:00"]
      gpu_passthrough_mapping_name: gpu-rx6600
      gpu_passthrough_blacklist_drivers: [amdgpu]
INV

# pt_play NAME PLAYBOOK [options]: output in $PT_WORK/NAME.out, exit status returned.
PT_PLAY_INVENTORY=(-i "$PT_WORK/inventory.yml")
recap_changed() { pt_play_recap_changed pve2 "$PT_WORK/$1.out"; }
calls() { pt_stub_count "$root" "$1"; }

# --- check mode ----------------------------------------------------------------
pt_play check site.yml --check --diff || fail "check run failed"
assert_tree_unchanged "$root" "$PT_WORK/fresh.sha"
assert_eq "$(pt_stub_calls "$root")" "" "commands run in check mode"
assert_eq "$(recap_changed check)" 3 "changed tasks in check mode"
assert_contains "$PT_WORK/check.out" "+++ after: /etc/kernel/cmdline"
assert_not_contains "$PT_WORK/check.out" "/etc/default/grub"

# --- converge ----------------------------------------------------------------------
pt_play apply site.yml --diff || fail "real run failed"
pt_play_predicted check apply
grep -q '^## ' "$PT_WORK/apply.changes" || fail "no changed task found in the real run's output"

# AMD: no intel_iommu=on (and never amd_iommu=on), only iommu=pt; root= kept.
assert_eq "$(cat "$root/etc/kernel/cmdline")" "root=ZFS=rpool/ROOT/pve-1 boot=zfs iommu=pt" "/etc/kernel/cmdline"
cmp "$PT_WORK/etc.orig/default/grub" "$root/etc/default/grub" || fail "/etc/default/grub changed on a systemd-boot host"
assert_contains "$root/etc/modprobe.d/vfio.conf" "options vfio-pci ids=1002:73ff,1002:ab28"
assert_contains "$root/etc/modprobe.d/vfio.conf" "softdep amdgpu pre: vfio-pci"
assert_contains "$root/etc/modprobe.d/blacklist-gpu.conf" "blacklist amdgpu"
assert_not_contains "$root/etc/modprobe.d/blacklist-gpu.conf" "nouveau"
assert_eq "$(calls 'proxmox-boot-tool refresh')" 1 "proxmox-boot-tool refresh runs"
assert_eq "$(calls update-grub)" 0 "update-grub runs"
assert_eq "$(calls 'update-initramfs -u -k all')" 1 "update-initramfs runs"
FAKE_PVESH_ROOT=$root "$PT_TOOLS/fake-pvesh" get /cluster/mapping/pci/gpu-rx6600 --output-format json >"$PT_WORK/mapping.json" ||
	fail "pvesh get gpu-rx6600 failed"
assert_eq "$(pt_jq "$PT_WORK/mapping.json" 'sorted(r["map"])')" \
	'["id=1002:73ff,iommugroup=20,node=pve2,path=0000:0d:00,subsystem-id=1da2:e445", "id=1002:73ff,iommugroup=22,node=pve3,path=0000:0e:00,subsystem-id=1da2:e445"]' \
	"gpu-rx6600 map entries"
assert_eq "$(pt_jq "$PT_WORK/mapping.json" 'r["description"]')" "RX 6600 for VMs" "description kept"
assert_contains "$PT_WORK/apply.out" "0000:0d:00.0, 0000:0d:00.1 go to vfio-pci at the next boot"
assert_contains "$PT_WORK/apply.out" "kernel command line (systemd-boot, /etc/kernel/cmdline)"

# --- idempotence -------------------------------------------------------------------------
pt_play again site.yml --diff || fail "second run failed"
assert_eq "$(recap_changed again)" 0 "changed tasks in the second run"
assert_eq "$(calls 'proxmox-boot-tool refresh')" 1 "proxmox-boot-tool refresh runs after the second run"

# --- rollback ----------------------------------------------------------------------------
pt_snapshot "$root" "$PT_WORK/applied.sha"
pt_play rollback-check rollback.yml --check --diff || fail "rollback check run failed"
assert_tree_unchanged "$root" "$PT_WORK/applied.sha"
pt_play rollback rollback.yml --diff || fail "rollback failed"
pt_play_predicted rollback-check rollback "rollback check mode predicted other changes than the rollback made"
# Everything back byte for byte, the cluster mapping file included: pve3's
# entry and the other mapping stay, pve2's entry is gone.
diff -r --no-dereference -x priv "$PT_WORK/etc.orig" "$root/etc" || fail "rollback left /etc different"
# Only the role's record stays, emptied (roles/gpu_passthrough/tasks/record.yml).
assert_eq "$(tr -d ' \n' <"$root/var/lib/homelab-passthrough/gpu_passthrough.json")" '{"kernel_params":[]}' \
	"the record after the rollback"
pt_snapshot "$root" "$PT_WORK/rolledback.sha"
grep -v ' \./var/lib/homelab-passthrough/gpu_passthrough\.json$' "$PT_WORK/rolledback.sha" >"$PT_WORK/rolledback.cmp"
diff -u "$PT_WORK/fresh.sha" "$PT_WORK/rolledback.cmp" || fail "rollback left files different from the fresh host"
assert_eq "$(calls 'proxmox-boot-tool refresh')" 2 "proxmox-boot-tool refresh runs after the rollback"

pt_play rollback-again rollback.yml || fail "second rollback failed"
assert_eq "$(recap_changed rollback-again)" 0 "changed tasks in the second rollback"
echo "PASS role_pve2_systemd_boot"
