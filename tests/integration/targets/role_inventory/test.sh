#!/usr/bin/env bash
# The gpu_passthrough role with an inventory as a new user writes it from the
# docs: a mixed cluster of four sandbox nodes in one play.
#   amd      pve3 (RX 6800 on amdgpu, onboard audio on snd_hda_intel), the
#            devices as a plain string, the default blacklist: amdgpu is
#            blacklisted, not nouveau or nvidia, and snd_hda_intel is left out
#            with the reason (the blacklist follows the hardware);
#   nogpu    no gpu_passthrough_devices: "nothing to pass through", nothing
#            changed (by site.yml or rollback.yml), and the play goes on for
#            the others;
#   short    "0:7:0.1, 10de:1c82": a comma-separated string, as Ansible's list
#            type reads it, holding 0:7:0.1 (an address vfio_bind accepts, so
#            the role does too: it takes the selection from vfio_bind) and an ID;
#   hand     pve1 with "quiet intel_iommu=on" set by hand: apply adds iommu=pt,
#            rollback removes only that (the role's record on the node); a
#            renamed mapping takes this node's entry out of the old mapping.
source "$PT_REPO/tests/integration/lib.sh"

# GRUB sandbox roots with the recording stubs and the fake pvesh.
pt_role_sandbox "$PT_FIXTURES/hosts/pve3-rx6800.yml" "$PT_WORK/amd" grub
for node in nogpu short hand; do
	pt_role_sandbox "$PT_FIXTURES/hosts/pve1-gtx1050ti.yml" "$PT_WORK/$node" grub
done
sed -i 's/^GRUB_CMDLINE_LINUX_DEFAULT=.*/GRUB_CMDLINE_LINUX_DEFAULT="quiet intel_iommu=on"/' \
	"$PT_WORK/hand/etc/default/grub"
grep -qx 'GRUB_CMDLINE_LINUX_DEFAULT="quiet intel_iommu=on"' "$PT_WORK/hand/etc/default/grub" ||
	fail "could not set the hand-made command line"
cp -a "$PT_WORK/hand/etc" "$PT_WORK/hand.etc.orig"
pt_snapshot "$PT_WORK/nogpu" "$PT_WORK/nogpu.sha"

cat >"$PT_WORK/inventory.yml" <<INV
all:
  vars:
    ansible_connection: local
    ansible_python_interpreter: /usr/bin/python3
  children:
    pve:
      hosts:
        amd:
          gpu_passthrough_root: "$PT_WORK/amd"
          gpu_passthrough_devices: "0000:0b:00"
          gpu_passthrough_mapping_name: gpu-rx6800
        nogpu:
          gpu_passthrough_root: "$PT_WORK/nogpu"
        short:
          gpu_passthrough_root: "$PT_WORK/short"
          gpu_passthrough_devices: "0:7:0.1, 10de:1c82"
          gpu_passthrough_mapping_name: gpu-short
        hand:
          gpu_passthrough_root: "$PT_WORK/hand"
          gpu_passthrough_devices: ["0000:07:00"]
          gpu_passthrough_mapping_name: gpu-gtx1050ti
INV

# pt_play NAME PLAYBOOK [options]: output in $PT_WORK/NAME.out, exit status returned.
PT_PLAY_INVENTORY=(-i "$PT_WORK/inventory.yml")
cmdline() { sed -n 's/^GRUB_CMDLINE_LINUX_DEFAULT="\(.*\)"$/\1/p' "$PT_WORK/$1/etc/default/grub"; }
mapping() { FAKE_PVESH_ROOT=$PT_WORK/$1 "$PT_TOOLS/fake-pvesh" get /cluster/mapping/pci --output-format json; }

# --- the whole cluster, for real --------------------------------------------------
pt_play apply site.yml --diff || fail "site.yml on the mixed inventory failed"
for h in amd nogpu short hand; do
	grep -qE "^$h +:.* failed=0 " "$PT_WORK/apply.out" || fail "$h failed"
done

# amd: the string is one entry; the blacklist is the card's driver.
assert_contains "$PT_WORK/amd/etc/modprobe.d/vfio.conf" "options vfio-pci ids=1002:73bf,1002:ab28"
assert_contains "$PT_WORK/amd/etc/modprobe.d/blacklist-gpu.conf" "blacklist amdgpu"
for d in nouveau nvidia snd_hda_intel; do
	assert_not_contains "$PT_WORK/amd/etc/modprobe.d/blacklist-gpu.conf" "$d"
done
assert_contains "$PT_WORK/apply.out" "Blacklist (gpu_passthrough_blacklist_drivers: auto): amdgpu."
assert_contains "$PT_WORK/apply.out" "snd_hda_intel: left out: it also drives 0000:0e:00.4"
assert_not_contains "$PT_WORK/apply.out" "holds 0, 0, 0, 0"
assert_eq "$(cmdline amd)" "quiet iommu=pt" "amd: the kernel command line"

# nogpu: reported, untouched.
assert_contains "$PT_WORK/apply.out" "nogpu: nothing to pass through (gpu_passthrough_devices is empty)"
assert_tree_unchanged "$PT_WORK/nogpu" "$PT_WORK/nogpu.sha"
assert_eq "$(pt_stub_calls "$PT_WORK/nogpu")" "" "commands run on nogpu"
grep -qE '^nogpu +:.* changed=0 ' "$PT_WORK/apply.out" || fail "nogpu: changed tasks"

# short: 0:7:0.1 is the GPU's audio function, 10de:1c82 the GPU function.
assert_contains "$PT_WORK/short/etc/modprobe.d/vfio.conf" "options vfio-pci ids=10de:0fb9,10de:1c82"
mapping short >"$PT_WORK/short.json" || fail "pvesh get on short failed"
assert_contains "$PT_WORK/short.json" "path=0000:07:00,"

# hand: intel_iommu=on was there; the role added iommu=pt and recorded that.
assert_eq "$(cmdline hand)" "quiet intel_iommu=on iommu=pt" "hand: the kernel command line after apply"
record=$PT_WORK/hand/var/lib/homelab-passthrough/gpu_passthrough.json
assert_eq "$(pt_jq "$record" 'r["kernel_params"]')" '["iommu=pt"]' "hand: the recorded kernel parameters"
assert_eq "$(pt_jq "$record" 'r["mapping"]["name"]')" "gpu-gtx1050ti" "hand: the recorded mapping"

# --- hand: the mapping renamed -------------------------------------------------------
pt_play rename site.yml --diff --limit hand -e gpu_passthrough_mapping_name=gpu-nvidia ||
	fail "site.yml with the renamed mapping failed"
mapping hand >"$PT_WORK/hand.json" || fail "pvesh get on hand failed"
assert_eq "$(pt_jq "$PT_WORK/hand.json" '[m["id"] for m in r]')" '["gpu-nvidia"]' \
	"hand: the mappings after the rename (the old one had only this node)"
assert_contains "$PT_WORK/rename.out" "hand's entry left the mapping gpu-gtx1050ti"
assert_eq "$(pt_jq "$record" 'r["mapping"]["name"]')" "gpu-nvidia" "hand: the recorded mapping after the rename"
pt_play rename-again site.yml --limit hand -e gpu_passthrough_mapping_name=gpu-nvidia || fail "second run failed"
assert_eq "$(pt_play_recap_changed hand "$PT_WORK/rename-again.out")" 0 "changed tasks in the second run"

# --- hand: rollback -------------------------------------------------------------------
# nogpu takes part too: without devices and without a record of the role it
# has nothing to roll back (its hand-set parameters, if any, stay).
pt_play rollback rollback.yml --diff --limit hand,nogpu -e gpu_passthrough_mapping_name=gpu-nvidia ||
	fail "rollback failed"
assert_contains "$PT_WORK/rollback.out" "nogpu: nothing to pass through (gpu_passthrough_devices is empty) and no record of a change by the role"
assert_tree_unchanged "$PT_WORK/nogpu" "$PT_WORK/nogpu.sha"
assert_eq "$(cmdline hand)" "quiet intel_iommu=on" "hand: the kernel command line after the rollback"
assert_contains "$PT_WORK/rollback.out" "Removing only the kernel parameters the role added on hand"
diff -r --no-dereference -x pve "$PT_WORK/hand.etc.orig" "$PT_WORK/hand/etc" || fail "rollback left /etc different"
mapping hand >"$PT_WORK/hand.json" || fail "pvesh get on hand failed"
assert_eq "$(pt_jq "$PT_WORK/hand.json" 'r')" "[]" "hand: the mappings after the rollback"
pt_play rollback-again rollback.yml --limit hand -e gpu_passthrough_mapping_name=gpu-nvidia ||
	fail "second rollback failed"
assert_eq "$(pt_play_recap_changed hand "$PT_WORK/rollback-again.out")" 0 "changed tasks in the second rollback"
assert_eq "$(cmdline hand)" "quiet intel_iommu=on" "hand: the kernel command line after a second rollback"
echo "PASS role_inventory"
