#!/usr/bin/env bash
# The gpu_passthrough role's preflight stage: everything that can stop a run
# stops it before the first file is written, in check mode and for real, with a
# message that names the problem and the way out. And the two situations that
# are not problems: a host whose IOMMU is still off (groups are checked after
# the reboot) and a host without Proxmox VE (the mapping is skipped).
source "$PT_REPO/tests/integration/lib.sh"

# sandbox NAME HOST.yml: a GRUB sandbox root with stubbed commands and, on a
# Proxmox VE node, the fake pvesh; and a snapshot of it in $PT_WORK/NAME.sha.
sandbox() {
	pt_role_sandbox "$2" "$PT_WORK/$1" grub
	pt_snapshot "$PT_WORK/$1" "$PT_WORK/$1.sha"
}
# refused NAME: the run failed, and nothing in the sandbox was written or run.
refused() {
	local name=$1
	grep -q "failed=1" "$PT_WORK/$name.out" || fail "$name: the run did not fail"
	assert_tree_unchanged "$PT_WORK/$name" "$PT_WORK/$name.sha"
	assert_eq "$(pt_stub_calls "$PT_WORK/$name")" "" "$name: commands run"
	! grep -qE 'pvesh (create|set|delete)' "$PT_WORK/$name/var/log/fake-pvesh.log" 2>/dev/null ||
		fail "$name: pvesh wrote"
}

# site NAME ROLE-VARS-JSON [options]: playbooks/site.yml on sandbox NAME, as
# host NAME of group pve; output in $PT_WORK/NAME.out; exit status returned.
site() {
	local name=$1 vars=$2; shift 2
	note "site.yml on $name with $vars $*"
	printf 'pve:\n  hosts:\n    %s:\n      ansible_connection: local\n      ansible_python_interpreter: /usr/bin/python3\n      gpu_passthrough_root: "%s"\n' \
		"$name" "$PT_WORK/$name" >"$PT_WORK/$name.inv.yml"
	ansible-playbook -i "$PT_WORK/$name.inv.yml" -e "$vars" "$PT_REPO/playbooks/site.yml" "$@" \
		>"$PT_WORK/$name.out" 2>&1
	local rc=$?
	cat "$PT_WORK/$name.out"
	return $rc
}

# 1. The GPU shares IOMMU group 10 with the host's only NIC (eno1, default route).
for mode in check real; do
	name=shared-$mode
	sandbox "$name" "$PT_FIXTURES/hosts/gpu-shares-group-with-nic.yml"
	opts=(); [ $mode = check ] && opts=(--check --diff)
	site "$name" '{"gpu_passthrough_devices": ["0000:03:00"]}' "${opts[@]}" && fail "$name: not refused"
	refused "$name"
	assert_contains "$PT_WORK/$name.out" "Refuse devices whose IOMMU group is not isolated"
	assert_contains "$PT_WORK/$name.out" "0000:03:00.0 is in IOMMU group 10 together with 0000:04:00.0"
	assert_contains "$PT_WORK/$name.out" "[8086:10d3], driver e1000e"
	assert_contains "$PT_WORK/$name.out" "Nothing has been changed."
done

# 2. A device the host does not have: the message lists the host's GPUs.
sandbox missing "$PT_FIXTURES/hosts/pve1-gtx1050ti.yml"
site missing '{"gpu_passthrough_devices": ["0000:09:00"]}' && fail "missing device not refused"
refused missing
# vfio_bind's own message (the role does not resolve addresses itself).
assert_contains "$PT_WORK/missing.out" "no PCI endpoint at 0000:09:00 on this host"
assert_contains "$PT_WORK/missing.out" "0000:07:00.0 10de:1c82 NVIDIA Corporation GP107 [GeForce GTX 1050 Ti] (group 14)"
assert_contains "$PT_WORK/missing.out" "Nothing has been changed."

# 3. Neither an address nor an ID.
sandbox invalid "$PT_FIXTURES/hosts/pve1-gtx1050ti.yml"
site invalid '{"gpu_passthrough_devices": ["GTX 1050 Ti"]}' && fail "invalid entry not refused"
refused invalid
assert_contains "$PT_WORK/invalid.out" "for gpu_passthrough_devices GTX 1050 Ti: devices[0]: 'GTX 1050 Ti' is not a PCI address"

# 4. Blacklisting the NIC's driver (the seed's r8169 story): vfio_bind's own
#    safety check, run as a dry run in preflight, stops the run before GRUB is
#    touched.
sandbox blacklist "$PT_FIXTURES/hosts/pve1-gtx1050ti.yml"
site blacklist '{"gpu_passthrough_devices": ["0000:07:00"], "gpu_passthrough_blacklist_drivers": ["nouveau", "r8169"]}' &&
	fail "blacklisting r8169 not refused"
refused blacklist
assert_contains "$PT_WORK/blacklist.out" "Check the VFIO setup without applying it"
assert_contains "$PT_WORK/blacklist.out" "r8169"
assert_contains "$PT_WORK/blacklist.out" "0000:06:00.0"

# 5. A CPU without VT-x.
sed 's/^cpu: .*/cpu: {vendor: GenuineIntel, model: "Old CPU", flags: [fpu, sse2]}/' \
	"$PT_FIXTURES/hosts/pve1-gtx1050ti.yml" >"$PT_WORK/novmx.yml"
sandbox novmx "$PT_WORK/novmx.yml"
site novmx '{"gpu_passthrough_devices": ["0000:07:00"]}' && fail "CPU without vmx not refused"
refused novmx
assert_contains "$PT_WORK/novmx.out" "shows neither vmx (Intel VT-x) nor svm"

# 6. Role input is validated against meta/argument_specs.yml.
sandbox spec "$PT_FIXTURES/hosts/pve1-gtx1050ti.yml"
site spec '{"gpu_passthrough_devices": ["0000:07:00"], "gpu_passthrough_reboot_policy": "sometimes"}' &&
	fail "bad reboot policy accepted"
refused spec
assert_contains "$PT_WORK/spec.out" "gpu_passthrough_reboot_policy must be one of: auto, never, always"

# 7. Not problems. By vendor:device ID: the card's audio function comes along
#    (same IOMMU group, other function of the selected GPU) and the mapping
#    gets the whole slot.
sandbox byid "$PT_FIXTURES/hosts/pve1-gtx1050ti.yml"
site byid '{"gpu_passthrough_devices": ["10de:1c82"], "gpu_passthrough_mapping_name": "gpu-gtx1050ti"}' --check --diff ||
	fail "selection by ID failed"
assert_tree_unchanged "$PT_WORK/byid" "$PT_WORK/byid.sha"
assert_contains "$PT_WORK/byid.out" "+options vfio-pci ids=10de:0fb9,10de:1c82"
assert_contains "$PT_WORK/byid.out" "path=0000:07:00,"

#    The IOMMU still off, and no Proxmox VE: the groups are checked after the
#    reboot, the mapping stage is skipped with a warning, the rest goes ahead.
sed -e 's/^iommu: intel/iommu: none/' -e '/^proxmox:/d' -e 's/, group: [0-9]*//' \
	"$PT_FIXTURES/hosts/pve1-gtx1050ti.yml" >"$PT_WORK/plain.yml"
sandbox plain "$PT_WORK/plain.yml"
site plain '{"gpu_passthrough_devices": ["0000:07:00"]}' --check --diff || fail "IOMMU-off check run failed"
assert_tree_unchanged "$PT_WORK/plain" "$PT_WORK/plain.sha"
assert_contains "$PT_WORK/plain.out" "is off right now (no IOMMU groups)"
assert_contains "$PT_WORK/plain.out" "this is not a Proxmox VE node, so the cluster PCI mapping"
assert_contains "$PT_WORK/plain.out" '+GRUB_CMDLINE_LINUX_DEFAULT="quiet intel_iommu=on iommu=pt"'
assert_not_contains "$PT_WORK/plain.out" "+++ after: /etc/pve/mapping/pci.cfg"
grep -q '^plain *:.* changed=2 ' "$PT_WORK/plain.out" || fail "plain: expected 2 changed tasks (cmdline, vfio)"
echo "PASS role_preflight"
