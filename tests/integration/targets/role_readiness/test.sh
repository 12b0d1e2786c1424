#!/usr/bin/env bash
# The gpu_passthrough role and the readiness verdict (issue 16), on sandbox roots
# of the fixture hosts made for its findings (tests/fixtures/hosts/README.md):
#   - the preflight shows each selected device's verdict and findings before any
#     change, and refuses a blocked device in check mode and for real with the
#     finding's id and fix, writing nothing and running nothing;
#   - gpu_passthrough_force naming the finding lets the run go ahead; its names
#     are checked (argument_specs' choices, and the two no force can pass);
#   - needs_action findings are shown and do not stop the run;
#   - gpu_passthrough_framebuffer: auto adds initcall_blacklist=sysfb_init only
#     for the boot GPU with the firmware framebuffer in its BAR, always and never
#     override, and rollback takes it away again;
#   - the verify stage, after the reboot, names the finding that explains a
#     device that is not on vfio-pci.
source "$PT_REPO/tests/integration/lib.sh"

# sandbox NAME HOST.yml: the role's sandbox root (lib.sh: stubbed commands, a GRUB
# host, the fake pvesh on Proxmox VE hosts), a GRUB file where the description has
# none, and a snapshot of it in $PT_WORK/NAME.sha.
sandbox() {
	local dir=$PT_WORK/$1
	pt_role_sandbox "$2" "$dir" grub
	[ -f "$dir/etc/default/grub" ] || install -D -m 0644 "$PT_FIXTURES/files/debian12-default-grub" "$dir/etc/default/grub"
	pt_snapshot "$dir" "$PT_WORK/$1.sha"
}
# refused NAME: the run failed, and nothing in the sandbox was written or run.
refused() {
	local name=$1
	grep -q "failed=1" "$PT_WORK/$name.out" || fail "$name: the run did not fail"
	assert_tree_unchanged "$PT_WORK/$name" "$PT_WORK/$name.sha"
	assert_eq "$(pt_stub_calls "$PT_WORK/$name")" "" "$name: commands run"
}
# site NAME ROLE-VARS-JSON [options]: playbooks/site.yml (lib.sh's pt_play) on
# sandbox NAME, as host NAME of group pve; output in $PT_WORK/NAME.out; exit
# status returned.
site() {
	local name=$1 vars=$2; shift 2
	printf 'pve:\n  hosts:\n    %s:\n      ansible_connection: local\n      ansible_python_interpreter: /usr/bin/python3\n      gpu_passthrough_root: "%s"\n' \
		"$name" "$PT_WORK/$name" >"$PT_WORK/$name.inv.yml"
	PT_PLAY_INVENTORY=(-i "$PT_WORK/$name.inv.yml" -e "$vars")
	pt_play "$name" site.yml "$@"
}
hosts=$PT_FIXTURES/hosts

# 1. No interrupt remapping: blocked, in check mode and for real, before anything
#    is written; the message names the finding, its evidence and its fix.
for mode in check real; do
	name=noir-$mode
	sandbox "$name" "$hosts/no-interrupt-remapping.yml"
	opts=(); [ $mode = check ] && opts=(--check --diff)
	site "$name" '{"gpu_passthrough_devices": ["0000:03:00"]}' "${opts[@]}" && fail "$name: not refused"
	refused "$name"
	assert_contains "$PT_WORK/$name.out" '"0000:03:00.0 [10de:1f82] TU117 [GeForce GTX 1650]: blocked",'
	assert_contains "$PT_WORK/$name.out" '"  no-interrupt-remapping (blocking): /proc/interrupts: interrupt remapping off. Fix: The platform does not remap interrupts'
	assert_contains "$PT_WORK/$name.out" '"  no-interrupt-remapping (blocking): /proc/interrupts: interrupt remapping off. Fix: as above"'
	assert_contains "$PT_WORK/$name.out" "Refuse devices the readiness check blocks"
	assert_contains "$PT_WORK/$name.out" "0000:03:00.0, 0000:03:00.1 are blocked by no-interrupt-remapping (/proc/interrupts: interrupt remapping off)."
	assert_contains "$PT_WORK/$name.out" "Turn it on in the firmware (VT-d or AMD-Vi, x2APIC"
	assert_contains "$PT_WORK/$name.out" "set gpu_passthrough_force: [no-interrupt-remapping]"
	assert_contains "$PT_WORK/$name.out" "Nothing has been changed."
	# before the command line stage: grub_iommu was never asked
	assert_not_contains "$PT_WORK/$name.out" "TASK [homelab.passthrough.gpu_passthrough : Work out which kernel parameters"
done

#    Forced: the check run goes ahead, the finding still shown, marked forced.
sandbox noir-forced "$hosts/no-interrupt-remapping.yml"
site noir-forced '{"gpu_passthrough_devices": ["0000:03:00"], "gpu_passthrough_force": ["no-interrupt-remapping"]}' --check --diff ||
	fail "noir-forced: gpu_passthrough_force did not let the check run go ahead"
assert_tree_unchanged "$PT_WORK/noir-forced" "$PT_WORK/noir-forced.sha"
assert_contains "$PT_WORK/noir-forced.out" "no-interrupt-remapping (blocking, forced by gpu_passthrough_force): /proc/interrupts"
assert_contains "$PT_WORK/noir-forced.out" '+options vfio-pci ids=10de:10fa,10de:1f82'

# 2. The force list is checked: a name that is no finding (argument_specs'
#    choices), and the findings no force passes.
sandbox force-typo "$hosts/no-interrupt-remapping.yml"
site force-typo '{"gpu_passthrough_devices": ["0000:03:00"], "gpu_passthrough_force": ["no-remapping"]}' --check &&
	fail "force-typo: an unknown finding id was accepted"
refused force-typo
assert_contains "$PT_WORK/force-typo.out" "value of gpu_passthrough_force must be one or more of: group-not-isolated, no-interrupt-remapping, driver-built-in"
assert_contains "$PT_WORK/force-typo.out" "Got no match for: no-remapping"
sandbox force-group "$hosts/pve1-gtx1050ti.yml"
site force-group '{"gpu_passthrough_devices": ["0000:07:00"], "gpu_passthrough_force": ["group-not-isolated"]}' --check &&
	fail "force-group: group-not-isolated was accepted in gpu_passthrough_force"
refused force-group
assert_contains "$PT_WORK/force-group.out" "gpu_passthrough_force names group-not-isolated, which no force can pass"

# 3. A driver built into the kernel (blocked) and loaded early by two files
#    (warnings): forced past the first, the warnings are shown and the check run
#    goes on.
sandbox builtin "$hosts/nvidia-built-in-initramfs.yml"
site builtin '{"gpu_passthrough_devices": ["0000:2d:00"]}' --check --diff && fail "builtin: not refused"
refused builtin
assert_contains "$PT_WORK/builtin.out" "0000:2d:00.0 is blocked by driver-built-in (/lib/modules/6.1.90-custom/modules.builtin line 1: kernel/drivers/gpu/drm/nouveau/nouveau.ko). nouveau is built into the running kernel"
assert_contains "$PT_WORK/builtin.out" "set gpu_passthrough_force: [driver-built-in]"
site builtin '{"gpu_passthrough_devices": ["0000:2d:00"], "gpu_passthrough_force": ["driver-built-in"]}' --check --diff ||
	fail "builtin: forced check run failed"
assert_tree_unchanged "$PT_WORK/builtin" "$PT_WORK/builtin.sha"
assert_contains "$PT_WORK/builtin.out" '"  driver-loaded-early (warning): /etc/initramfs-tools/modules line 5: nvidia NVreg_PreserveVideoMemoryAllocations=1. Fix: /etc/initramfs-tools/modules loads nvidia in the initramfs'
assert_contains "$PT_WORK/builtin.out" '"  driver-loaded-early (warning): /etc/modules-load.d/nvidia.conf line 1: nvidia. Fix:'
assert_contains "$PT_WORK/builtin.out" '"  unknown (not counted as fine): interrupt_remapping"'

# 4. needs_action is shown and does not stop the run: a Vega 10 without reset,
#    a stale vfio-pci.ids= on the command line, a Polaris card under Secure Boot.
sandbox vega "$hosts/vega10-no-reset.yml"
site vega '{"gpu_passthrough_devices": ["0000:0a:00"]}' --check --diff || fail "vega: check run failed"
assert_contains "$PT_WORK/vega.out" '"0000:0a:00.0 [1002:687f] Vega 10 XL/XT [Radeon RX Vega 56/64]: needs_action",'
assert_contains "$PT_WORK/vega.out" '"  no-reset (warning): /sys/bus/pci/devices/0000:0a:00.0/reset_method: (no reset method). Fix: The kernel has no way to reset this device'
assert_contains "$PT_WORK/vega.out" '"  known-reset-bug (warning): /sys/bus/pci/devices/0000:0a:00.0/device: 1002:687f (Vega 10). Fix: Vega 10 GPUs do not come back'
assert_not_contains "$PT_WORK/vega.out" "blocked by"

sandbox stale "$hosts/cmdline-ids-conflict.yml"
site stale '{"gpu_passthrough_devices": ["0000:07:00"]}' --check --diff || fail "stale: check run failed"
assert_contains "$PT_WORK/stale.out" '"0000:07:00.0 [10de:1c82] GP107 [GeForce GTX 1050 Ti]: needs_action",'
assert_contains "$PT_WORK/stale.out" '"  cmdline-ids-conflict (warning): /proc/cmdline: vfio-pci.ids=10de:1c81,10de:0fb9. Fix: The running kernel command line gives vfio-pci its own ids= list, and it is not the one being bound (10de:0fb9,10de:1c82)'

sandbox sb "$hosts/secure-boot-polaris.yml"
site sb '{"gpu_passthrough_devices": ["0000:01:00"]}' --check --diff || fail "sb: check run failed"
assert_contains "$PT_WORK/sb.out" "known-reset-bug (warning): /sys/bus/pci/devices/0000:01:00.0/device: 1002:67df (Polaris 10)"
assert_contains "$PT_WORK/sb.out" "Secure Boot is on: the kernel refuses the unsigned vendor-reset DKMS module"
#    The boot GPU is the iGPU, not the selected card: auto adds nothing.
assert_not_contains "$PT_WORK/sb.out" "initcall_blacklist"
#    always adds it whatever the hardware says.
site sb '{"gpu_passthrough_devices": ["0000:01:00"], "gpu_passthrough_framebuffer": "always"}' --check --diff ||
	fail "sb: framebuffer always failed"
assert_contains "$PT_WORK/sb.out" '+GRUB_CMDLINE_LINUX_DEFAULT="quiet intel_iommu=on iommu=pt initcall_blacklist=sysfb_init"'
assert_tree_unchanged "$PT_WORK/sb" "$PT_WORK/sb.sha"

# 5. The boot GPU with BOOTFB in its BAR: auto adds initcall_blacklist=sysfb_init
#    and says why; never leaves it out and says what that means; the real run
#    records it and rollback removes it again, byte for byte.
sandbox bootfb "$hosts/uefi-bootfb-geforce.yml"
site bootfb '{"gpu_passthrough_devices": ["0000:01:00"]}' --check --diff || fail "bootfb: check run failed"
assert_contains "$PT_WORK/bootfb.out" '"  boot-framebuffer (warning): /proc/iomem: BOOTFB 0x6000000000-0x60007e8fff in BAR 1. Fix:'
assert_contains "$PT_WORK/bootfb.out" "0000:01:00.0 (BOOTFB in BAR 1): the boot GPU, with the firmware's framebuffer in its BAR (boot-framebuffer). gpu_passthrough_framebuffer auto adds initcall_blacklist=sysfb_init"
assert_contains "$PT_WORK/bootfb.out" '+GRUB_CMDLINE_LINUX_DEFAULT="quiet intel_iommu=on iommu=pt initcall_blacklist=sysfb_init"'
assert_tree_unchanged "$PT_WORK/bootfb" "$PT_WORK/bootfb.sha"
site bootfb '{"gpu_passthrough_devices": ["0000:01:00"], "gpu_passthrough_framebuffer": "never"}' --check --diff ||
	fail "bootfb: framebuffer never failed"
assert_contains "$PT_WORK/bootfb.out" "but gpu_passthrough_framebuffer is never: the guest may get a black screen"
assert_contains "$PT_WORK/bootfb.out" '+GRUB_CMDLINE_LINUX_DEFAULT="quiet intel_iommu=on iommu=pt"'
assert_not_contains "$PT_WORK/bootfb.out" "+GRUB_CMDLINE_LINUX_DEFAULT=\"quiet intel_iommu=on iommu=pt initcall_blacklist"
cp "$PT_WORK/bootfb/etc/default/grub" "$PT_WORK/bootfb.grub.before"
site bootfb '{"gpu_passthrough_devices": ["0000:01:00"]}' || fail "bootfb: real run failed"
assert_contains "$PT_WORK/bootfb/etc/default/grub" 'GRUB_CMDLINE_LINUX_DEFAULT="quiet intel_iommu=on iommu=pt initcall_blacklist=sysfb_init"'
assert_contains "$PT_WORK/bootfb/var/lib/homelab-passthrough/gpu_passthrough.json" "initcall_blacklist=sysfb_init"
site bootfb '{"gpu_passthrough_devices": ["0000:01:00"]}' || fail "bootfb: second run failed"
grep -q '^bootfb *:.* changed=0 ' "$PT_WORK/bootfb.out" || fail "bootfb: the second run changed something"
site bootfb '{"gpu_passthrough_devices": ["0000:01:00"], "gpu_passthrough_state": "absent"}' || fail "bootfb: rollback failed"
cmp "$PT_WORK/bootfb.grub.before" "$PT_WORK/bootfb/etc/default/grub" || fail "bootfb: rollback left /etc/default/grub changed"

# 6. After the reboot: the seed host with nouveau listed in the initramfs modules
#    (a warning before the change), configured by the role, rebooted with the new
#    command line, and nouveau still holds the card. The verify stage (live, as in
#    role_verify) fails and names the finding that explains it.
sandbox early "$hosts/pve1-gtx1050ti.yml"
install -D -m 0644 /dev/stdin "$PT_WORK/early/etc/initramfs-tools/modules" <<<"nouveau"
site early '{"gpu_passthrough_devices": ["0000:07:00"]}' || fail "early: configuring the host failed"
assert_contains "$PT_WORK/early.out" '"  driver-loaded-early (warning): /etc/initramfs-tools/modules line 1: nouveau. Fix: /etc/initramfs-tools/modules loads nouveau in the initramfs'
sed -e 's|^cmdline: "\(.*\)"|cmdline: "\1 intel_iommu=on iommu=pt"|' "$hosts/pve1-gtx1050ti.yml" >"$PT_WORK/early-booted.yml"
sandbox booted "$PT_WORK/early-booted.yml"
cp -a "$PT_WORK/early/etc/." "$PT_WORK/booted/etc/"
cp -a "$PT_WORK/early/var/lib/." "$PT_WORK/booted/var/lib/"
site booted '{"gpu_passthrough_devices": ["0000:07:00"], "__gpu_passthrough_verify": "live"}' &&
	fail "booted: a card still on nouveau passed verification"
assert_contains "$PT_WORK/booted.out" "Show the readiness of each selected device after the reboot"
assert_contains "$PT_WORK/booted.out" '"  not-on-vfio-yet (blocking): /sys/bus/pci/devices/0000:07:00.0/driver: nouveau. Fix: After the reboot the device is on nouveau, not on vfio-pci.'
assert_contains "$PT_WORK/booted.out" "Require every selected function on vfio-pci"
assert_contains "$PT_WORK/booted.out" "0000:07:00.0 [10de:1c82] (GP107 [GeForce GTX 1050 Ti]) is not on vfio-pci: nouveau still holds it although it is blacklisted"
assert_contains "$PT_WORK/booted.out" ". The readiness check explains it: driver-loaded-early (/etc/initramfs-tools/modules line 1: nouveau): /etc/initramfs-tools/modules loads nouveau in the initramfs, before vfio-pci can claim the device."
echo "PASS role_readiness"
