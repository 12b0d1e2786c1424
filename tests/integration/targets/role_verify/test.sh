#!/usr/bin/env bash
# The gpu_passthrough role's reboot and verify stages as they behave on a real
# node, played on sandbox roots of pve1 "after the reboot". A sandbox is never
# rebooted and is verified from its configuration files; these tests override
# the role's internal decisions with extra vars (which win over the role's vars
# and set_fact) to reach the live-host paths:
#   __gpu_passthrough_verify=live   check the live binding, as after a reboot;
#   __gpu_passthrough_sandbox=false treat the sandbox as the host itself.
# Covers: the card came up on vfio-pci (pass); the GPU driver still holds it
# (fail, naming the driver and what to do); the IOMMU still off although the
# kernel has the parameters (fail: the firmware); and the reboot handler being
# notified on a live host (it refuses to reboot the control node over a local
# connection, which is what stops it here).
source "$PT_REPO/tests/integration/lib.sh"

# sandbox NAME HOST.yml: a GRUB sandbox root with stubbed commands and the fake pvesh.
sandbox() { pt_role_sandbox "$2" "$PT_WORK/$1" grub; }
# site NAME EXTRA-VARS-JSON [options]: playbooks/site.yml with the example
# inventory (pve1) against sandbox NAME; output in $PT_WORK/NAME.out.
site() {
	local name=$1 vars=$2; shift 2
	note "site.yml on $name with $vars $*"
	ansible-playbook -i "$PT_REPO/inventory/example.yml" -e ansible_connection=local \
		-e "gpu_passthrough_root=$PT_WORK/$name" -e "$vars" "$PT_REPO/playbooks/site.yml" "$@" \
		>"$PT_WORK/$name.out" 2>&1
	local rc=$?
	cat "$PT_WORK/$name.out"
	return $rc
}
seed=$PT_FIXTURES/hosts/pve1-gtx1050ti.yml
live='{"__gpu_passthrough_verify": "live"}'

# The seed host, configured by the role (files written, not rebooted yet).
sandbox before "$seed"
site before '{}' || fail "configuring the seed host failed"

# 1. Booted with the new setup: the kernel has the parameters, vfio-pci holds
#    both functions. /etc is the one the role wrote.
sed -e 's|^cmdline: "\(.*\)"|cmdline: "\1 intel_iommu=on iommu=pt"|' \
	-e '/0000:07:00\.[01]/s/driver: [a-z_]*/driver: vfio-pci/' \
	-e 's/^loaded_modules: \[/loaded_modules: [vfio_pci, vfio_pci_core, vfio_iommu_type1, vfio, /' \
	"$seed" >"$PT_WORK/booted.yml"
sandbox booted "$PT_WORK/booted.yml"
cp -a "$PT_WORK/before/etc/." "$PT_WORK/booted/etc/"
site booted "$live" || fail "live verification of a correctly booted host failed"
grep -q '^pve1 *:.* changed=0 ' "$PT_WORK/booted.out" || fail "the booted host should need no change"
assert_contains "$PT_WORK/booted.out" "0000:07:00.0, 0000:07:00.1 are on vfio-pci now"
# Left to itself the role sees nothing pending either: no reboot reason.
site booted '{"__gpu_passthrough_sandbox": false, "gpu_passthrough_install_pciutils": false}' ||
	fail "the booted host as a live host failed"
assert_contains "$PT_WORK/booted.out" "are on vfio-pci now"
assert_not_contains "$PT_WORK/booted.out" "Rebooting pve1"

# 2. Rebooted, but nouveau got the card first (the initramfs was not rebuilt,
#    say) and the audio function has no driver at all.
sed -e 's|^cmdline: "\(.*\)"|cmdline: "\1 intel_iommu=on iommu=pt"|' \
	-e '/0000:07:00\.1/s/driver: [a-z_]*, //' "$seed" >"$PT_WORK/stuck.yml"
sandbox stuck "$PT_WORK/stuck.yml"
cp -a "$PT_WORK/before/etc/." "$PT_WORK/stuck/etc/"
site stuck "$live" && fail "a GPU still on nouveau passed verification"
assert_contains "$PT_WORK/stuck.out" "Require every selected function on vfio-pci"
assert_contains "$PT_WORK/stuck.out" "0000:07:00.0 [10de:1c82] (GP107 [GeForce GTX 1050 Ti]) is not on vfio-pci: nouveau still holds it although it is blacklisted"
assert_contains "$PT_WORK/stuck.out" "Run update-initramfs -u -k all"
assert_contains "$PT_WORK/stuck.out" "0000:07:00.1 [10de:0fb9]"
assert_contains "$PT_WORK/stuck.out" "no driver holds it: vfio-pci did not load at boot"

#    Without a blacklist the advice is the softdep and the initramfs.
site stuck '{"__gpu_passthrough_verify": "live", "gpu_passthrough_blacklist_drivers": []}' &&
	fail "a GPU still on nouveau passed verification (no blacklist)"
assert_contains "$PT_WORK/stuck.out" "nouveau still holds it: it loaded before vfio-pci"
assert_contains "$PT_WORK/stuck.out" "(softdep nouveau pre: vfio-pci): run update-initramfs -u -k all and reboot"

# 3. Rebooted with the parameters, but the IOMMU stays off: the firmware.
sed -e 's|^cmdline: "\(.*\)"|cmdline: "\1 intel_iommu=on iommu=pt"|' \
	-e 's/^iommu: intel/iommu: none/' -e 's/, group: [0-9]*//' "$seed" >"$PT_WORK/nofw.yml"
sandbox nofw "$PT_WORK/nofw.yml"
cp -a "$PT_WORK/before/etc/." "$PT_WORK/nofw/etc/"
site nofw "$live" && fail "a host with the IOMMU off passed verification"
assert_contains "$PT_WORK/nofw.out" "Require the IOMMU to be on"
assert_contains "$PT_WORK/nofw.out" "The IOMMU of pve1 is still off"
assert_contains "$PT_WORK/nofw.out" "enable VT-d in the firmware setup"

# 4. A live host that needs a reboot, policy auto: the reboot is scheduled and
#    the throttled handler runs. Over a local connection ansible.builtin.reboot
#    refuses to reboot the control node: that refusal is the expected end here.
#    With policy never the same host only gets the reminder.
sandbox pending "$seed"
site pending '{"__gpu_passthrough_sandbox": false, "gpu_passthrough_install_pciutils": false}' &&
	fail "the reboot handler should have refused the local connection"
assert_contains "$PT_WORK/pending.out" "Rebooting pve1: the running kernel command line lacks what /etc/default/grub now sets"
assert_contains "$PT_WORK/pending.out" "RUNNING HANDLER [homelab.passthrough.gpu_passthrough : Reboot the node to apply the passthrough settings]"
assert_contains "$PT_WORK/pending.out" "would reboot the control node"
site pending '{"__gpu_passthrough_sandbox": false, "gpu_passthrough_install_pciutils": false, "gpu_passthrough_reboot_policy": "never"}' ||
	fail "policy never failed"
assert_contains "$PT_WORK/pending.out" "gpu_passthrough_reboot_policy is never"
assert_not_contains "$PT_WORK/pending.out" "RUNNING HANDLER"
assert_contains "$PT_WORK/pending.out" "go to vfio-pci at the next boot (configuration checked; the live binding is not, until the reboot)"
echo "PASS role_verify"
