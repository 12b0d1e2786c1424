#!/usr/bin/env bash
# The gpu_passthrough role on a sandbox root of the seed host pve1 (GRUB, Intel,
# GTX 1050 Ti at 0000:07:00), driven by playbooks/site.yml and rollback.yml with
# the example inventory, as a user would run them:
#   - --check --diff on the fresh host writes nothing, runs no command, and shows
#     exactly the changes (tasks and diffs) the real run then makes;
#   - the real run writes the seed's files and creates the mapping gpu-gtx1050ti;
#   - a second run changes nothing;
#   - rollback.yml gives every original file back byte for byte, and a second
#     rollback changes nothing.
source "$PT_REPO/tests/integration/lib.sh"

root=$PT_WORK/root
pt_role_sandbox "$PT_FIXTURES/hosts/pve1-gtx1050ti.yml" "$root" grub
pt_snapshot "$root" "$PT_WORK/fresh.sha"
cp -a "$root/etc" "$PT_WORK/etc.orig"

# pt_play NAME PLAYBOOK [options]: the playbook with the example inventory against
# the sandbox; output in $PT_WORK/NAME.out, exit status returned.
PT_PLAY_INVENTORY=(-i "$PT_REPO/inventory/example.yml" -e ansible_connection=local
	-e "gpu_passthrough_root=$root")
recap_changed() { pt_play_recap_changed pve1 "$PT_WORK/$1.out"; }
calls() { pt_stub_count "$root" "$1"; }

# --- check mode on the fresh host -------------------------------------------
pt_play check site.yml --check --diff || fail "check run failed"
assert_tree_unchanged "$root" "$PT_WORK/fresh.sha"
assert_eq "$(pt_stub_calls "$root")" "" "commands run in check mode"
assert_not_contains "$root/var/log/fake-pvesh.log" "pvesh create"
assert_eq "$(recap_changed check)" 3 "changed tasks in check mode"
assert_contains "$PT_WORK/check.out" '+GRUB_CMDLINE_LINUX_DEFAULT="quiet intel_iommu=on iommu=pt"'
assert_contains "$PT_WORK/check.out" "+options vfio-pci ids=10de:0fb9,10de:1c82"
assert_contains "$PT_WORK/check.out" "+	map id=10de:1c82,iommugroup=14,node=pve1,path=0000:07:00,subsystem-id=1462:8c96"
assert_contains "$PT_WORK/check.out" "Check mode: the changes shown above are not made"

# --- the real run -------------------------------------------------------------
pt_play apply site.yml --diff || fail "real run failed"
pt_play_predicted check apply
grep -q '^## ' "$PT_WORK/apply.changes" || fail "no changed task found in the real run's output"

grep -qx 'GRUB_CMDLINE_LINUX_DEFAULT="quiet intel_iommu=on iommu=pt"' "$root/etc/default/grub" ||
	fail "GRUB_CMDLINE_LINUX_DEFAULT not set: $(grep GRUB_CMDLINE_LINUX_DEFAULT "$root/etc/default/grub")"
assert_eq "$(diff "$PT_WORK/etc.orig/default/grub" "$root/etc/default/grub" | grep -c '^[<>]')" 2 \
	"lines changed in /etc/default/grub"
assert_contains "$root/etc/modprobe.d/vfio.conf" "options vfio-pci ids=10de:0fb9,10de:1c82"
assert_contains "$root/etc/modprobe.d/vfio.conf" "softdep nouveau pre: vfio-pci"
assert_contains "$root/etc/modprobe.d/vfio.conf" "softdep snd_hda_intel pre: vfio-pci"
assert_contains "$root/etc/modprobe.d/blacklist-gpu.conf" "blacklist nouveau"
assert_contains "$root/etc/modprobe.d/blacklist-gpu.conf" "blacklist nvidia"
for m in vfio vfio_iommu_type1 vfio_pci; do
	grep -qx "$m" "$root/etc/modules" || fail "/etc/modules lacks $m"
done
# Proxmox VE 8's 6.8 kernel has vfio_virqfd inside vfio.ko.
assert_not_contains "$root/etc/modules" "vfio_virqfd"
printf 'gpu-gtx1050ti\n\tmap id=10de:1c82,iommugroup=14,node=pve1,path=0000:07:00,subsystem-id=1462:8c96\n\tdescription GeForce GTX 1050 Ti incl. audio function\n\n' >"$PT_WORK/pci.cfg.want"
cmp "$PT_WORK/pci.cfg.want" "$root/etc/pve/mapping/pci.cfg" || fail "pci.cfg differs: $(cat -A "$root/etc/pve/mapping/pci.cfg")"
assert_eq "$(calls update-grub)" 1 "update-grub runs"
assert_eq "$(calls 'update-initramfs -u -k all')" 1 "update-initramfs runs"
assert_eq "$(calls 'proxmox-boot-tool refresh')" 0 "proxmox-boot-tool refresh runs"
# The sandbox is never rebooted; verify checks the configuration instead.
assert_contains "$PT_WORK/apply.out" "which is never rebooted"
assert_contains "$PT_WORK/apply.out" "0000:07:00.0, 0000:07:00.1 go to vfio-pci at the next boot (configuration checked"
assert_not_contains "$PT_WORK/apply.out" "RUNNING HANDLER"

# What the role added, recorded on the node for the rollback.
assert_contains "$root/var/lib/homelab-passthrough/gpu_passthrough.json" '"intel_iommu=on"'
assert_contains "$root/var/lib/homelab-passthrough/gpu_passthrough.json" '"iommu=pt"'
assert_contains "$root/var/lib/homelab-passthrough/gpu_passthrough.json" '"name": "gpu-gtx1050ti"'

# --- idempotence ------------------------------------------------------------------
pt_play again site.yml --diff || fail "second run failed"
assert_eq "$(recap_changed again)" 0 "changed tasks in the second run"
assert_eq "$(calls update-grub)" 1 "update-grub runs after the second run"
assert_eq "$(calls 'update-initramfs -u -k all')" 1 "update-initramfs runs after the second run"

# --- rollback -------------------------------------------------------------------------
pt_snapshot "$root" "$PT_WORK/applied.sha"
pt_play rollback-check rollback.yml --check --diff || fail "rollback check run failed"
assert_tree_unchanged "$root" "$PT_WORK/applied.sha"
assert_eq "$(recap_changed rollback-check)" 3 "changed tasks in the rollback check run"

pt_play rollback rollback.yml --diff || fail "rollback failed"
pt_play_predicted rollback-check rollback "rollback check mode predicted other changes than the rollback made"
# Every original file is back, byte for byte; the files the role created are
# gone. Proxmox keeps an empty pci.cfg once its last mapping is deleted.
diff -r --no-dereference -x pve "$PT_WORK/etc.orig" "$root/etc" || fail "rollback left /etc different"
[ ! -s "$root/etc/pve/mapping/pci.cfg" ] || fail "pci.cfg still holds: $(cat "$root/etc/pve/mapping/pci.cfg")"
# The role's record stays, emptied, so that a second rollback knows there is
# nothing left to remove (roles/gpu_passthrough/tasks/record.yml).
assert_eq "$(tr -d ' \n' <"$root/var/lib/homelab-passthrough/gpu_passthrough.json")" '{"kernel_params":[]}' \
	"the record after the rollback"
pt_snapshot "$root" "$PT_WORK/rolledback.sha"
grep -v -e ' \./etc/pve/mapping/pci\.cfg$' -e ' \./var/lib/homelab-passthrough/gpu_passthrough\.json$' \
	"$PT_WORK/rolledback.sha" >"$PT_WORK/rolledback.cmp"
diff -u "$PT_WORK/fresh.sha" "$PT_WORK/rolledback.cmp" || fail "rollback left files different from the fresh host"
assert_eq "$(calls update-grub)" 2 "update-grub runs after the rollback"

pt_play rollback-again rollback.yml || fail "second rollback failed"
assert_eq "$(recap_changed rollback-again)" 0 "changed tasks in the second rollback"
echo "PASS role_pve1_grub"
