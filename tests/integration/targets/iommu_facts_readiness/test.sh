#!/usr/bin/env bash
# iommu_facts' readiness verdicts (issue 16) on the fixture hosts made for its
# findings: the table `iommu_facts --root DIR` prints (each GPU's verdict, its
# findings with evidence and fix, --device for a selection), and the module
# through Ansible with the selection options (devices, bound_ids, after_reboot):
# the verdicts in the facts, the refusal of an address the host does not have,
# the e2e guests' captures, and the docs. The tables are kept in the log.
# Run by tests/integration/run.sh after `make all tools install`.
source "${PT_REPO:-$(cd "$(dirname "$0")/../../../.." && pwd)}/tests/integration/lib.sh"

bin=${PT_MODULES_DIR:-$PT_REPO/plugins/modules}
[ -x "$bin/iommu_facts" ] || fail "$bin/iommu_facts is missing: run make all"
declare -A HOSTS=(
	[bootfb]=uefi-bootfb-geforce.yml
	[noir]=no-interrupt-remapping.yml
	[vega]=vega10-no-reset.yml
	[builtin]=nvidia-built-in-initramfs.yml
	[stale]=cmdline-ids-conflict.yml
	[pve1]=pve1-gtx1050ti.yml
)
for h in "${!HOSTS[@]}"; do
	pt_root_from_host "$PT_FIXTURES/hosts/${HOSTS[$h]}" "$PT_WORK/$h"
	pt_snapshot "$PT_WORK/$h" "$PT_WORK/$h.sha"
done

# table NAME [options]: the table of host NAME in $PT_WORK/NAME.table, printed.
table() {
	local name=$1; shift
	note "iommu_facts --root $name $*"
	"$bin/iommu_facts" --root "$PT_WORK/$name" "$@" >"$PT_WORK/$name.table" || fail "iommu_facts --root $name $*"
	cat "$PT_WORK/$name.table"
}

# 1. The table: each GPU's verdict with its findings, evidence and fix.
table bootfb
t=$PT_WORK/bootfb.table
assert_contains "$t" "GPU 0000:01:00.0 NVIDIA Corporation GA104 [GeForce RTX 3070]: group 13, isolated (passes through alone)"
assert_contains "$t" "  readiness: needs_action"
assert_contains "$t" "  - boot-framebuffer (warning)"
assert_contains "$t" "    evidence: /proc/iomem: BOOTFB 0x6000000000-0x60007e8fff in BAR 1"
assert_contains "$t" "    fix: The firmware's framebuffer still claims memory in this boot GPU's"
assert_contains "$t" "         line (gpu_passthrough_framebuffer: auto does for the boot GPU, always"

table noir
t=$PT_WORK/noir.table
assert_contains "$t" "IOMMU enabled (Intel VT-d), 7 groups, default domain DMA, interrupt remapping off"
assert_contains "$t" "GPU 0000:03:00.0 NVIDIA Corporation TU117 [GeForce GTX 1650]: group 30, isolated (passes through alone)"
assert_contains "$t" "  readiness: blocked"
assert_contains "$t" "  - no-interrupt-remapping (blocking)"
assert_contains "$t" "    evidence: /proc/interrupts: interrupt remapping off"
assert_contains "$t" "         vfio_iommu_type1.allow_unsafe_interrupts=1 on the kernel command"

table vega
t=$PT_WORK/vega.table
assert_contains "$t" "  - no-reset (warning)"
assert_contains "$t" "    evidence: /sys/bus/pci/devices/0000:0a:00.0/reset_method: (no reset method)"
assert_contains "$t" "  - known-reset-bug (warning)"
assert_contains "$t" "    evidence: /sys/bus/pci/devices/0000:0a:00.0/device: 1002:687f (Vega 10)"
assert_contains "$t" "  unknown (not counted as fine): interrupt_remapping (/proc/interrupts)"

#    A selection from a shell: the slot's functions, judged together.
table builtin --device 0000:2d:00
t=$PT_WORK/builtin.table
assert_contains "$t" "Selected devices, judged before the reboot: blocked"
assert_contains "$t" "    evidence: /lib/modules/6.1.90-custom/modules.builtin line 1: kernel/drivers/gpu/drm/nouveau/nouveau.ko"
assert_contains "$t" "    evidence: /etc/initramfs-tools/modules line 5: nvidia NVreg_PreserveVideoMemoryAllocations=1"
assert_eq "$(grep -c '^  - driver-built-in (blocking)$' "$t")" 2 "builtin: the GPU's and the selection's driver-built-in"
table pve1 --device 07:00.0 --after-reboot
assert_contains "$PT_WORK/pve1.table" "Selected devices, judged after the reboot: blocked"
assert_contains "$PT_WORK/pve1.table" "    evidence: /sys/bus/pci/devices/0000:07:00.0/driver: nouveau"
#    one function of the card alone: its audio function is left in the group
assert_contains "$PT_WORK/pve1.table" "  - group-not-isolated (blocking)"
assert_contains "$PT_WORK/pve1.table" "    evidence: /sys/kernel/iommu_groups/14/devices: 0000:07:00.1"

#    The JSON is the same facts.
"$bin/iommu_facts" --json --root "$PT_WORK/noir" >"$PT_WORK/noir.json" || fail "iommu_facts --json"
assert_eq "$(pt_jq "$PT_WORK/noir.json" 'r["gpus"]["0000:03:00.0"]["readiness"]')" blocked "noir --json readiness"

# 2. Through Ansible: the GPUs' verdicts, and the selection's.
# facts NAME 'k=v ...': the module ad hoc on host NAME, the result in $PT_WORK/NAME.json.
facts() {
	local name=$1 args=$2
	note "iommu_facts root=$name $args"
	pt_adhoc iommu_facts "root=$PT_WORK/$name $args" >"$PT_WORK/$name.json"
	assert_eq "$(pt_jq "$PT_WORK/$name.json" 'r.get("failed", False)')" false "$name: failed"
}
f='r["ansible_facts"]["iommu"]'
# verdict NAME ADDRESS: "readiness id/severity ..." of a selected device.
verdict() {
	pt_jq "$PT_WORK/$1.json" "' '.join([$f['devices']['$2']['readiness']] + [x['id'] + '/' + x['severity'] for x in $f['devices']['$2']['findings']])"
}

facts bootfb "devices=0000:01:00"
assert_eq "$(pt_jq "$PT_WORK/bootfb.json" "$f['selection']")" \
	'{"devices": ["0000:01:00.0", "0000:01:00.1"], "bound_ids": ["10de:228b", "10de:2484"], "after_reboot": false, "readiness": "needs_action"}' \
	"bootfb selection"
assert_eq "$(verdict bootfb 0000:01:00.0)" "needs_action boot-framebuffer/warning" "bootfb GPU"
assert_eq "$(verdict bootfb 0000:01:00.1)" "ready" "bootfb audio"
assert_eq "$(pt_jq "$PT_WORK/bootfb.json" "$f['devices']['0000:01:00.0']['framebuffers']")" \
	'[{"name": "BOOTFB", "start": "0x6000000000", "end": "0x60007e8fff", "bar": 1, "source": "/proc/iomem"}]' "bootfb framebuffers"
assert_eq "$(pt_jq "$PT_WORK/bootfb.json" "$f['secure_boot']")" off "bootfb secure_boot"

facts noir "devices=0000:03:00"
assert_eq "$(pt_jq "$PT_WORK/noir.json" "$f['selection']['readiness']")" blocked "noir selection"
assert_eq "$(verdict noir 0000:03:00.0)" "blocked no-interrupt-remapping/blocking" "noir GPU"
assert_eq "$(pt_jq "$PT_WORK/noir.json" "$f['vfio']['allow_unsafe_interrupts']")" false "noir allow_unsafe_interrupts"
assert_eq "$(pt_jq "$PT_WORK/noir.json" "'readiness' in $f['devices']['0000:05:00.0']")" false "noir: the NIC is not selected"

facts vega "devices=0000:0a:00"
assert_eq "$(verdict vega 0000:0a:00.0)" "needs_action no-reset/warning known-reset-bug/warning" "vega GPU"
assert_eq "$(pt_jq "$PT_WORK/vega.json" "$f['devices']['0000:0a:00.0']['reset_methods']")" "[]" "vega reset_methods"
assert_eq "$(pt_jq "$PT_WORK/vega.json" "$f['gpus']['0000:0a:00.0']['readiness']")" needs_action "vega gpus[] readiness"

#    bound_ids: the command line's stale list against the IDs being bound.
facts stale "devices=0000:07:00"
assert_eq "$(verdict stale 0000:07:00.0)" "needs_action cmdline-ids-conflict/warning" "stale, bound_ids left out"
facts stale "devices=0000:07:00 bound_ids=10de:1c81,10de:0fb9"
assert_eq "$(verdict stale 0000:07:00.0)" "ready" "stale, bound_ids as the command line has them"

#    after_reboot: not on vfio-pci is blocking then.
facts pve1 "devices=0000:07:00 after_reboot=true"
assert_eq "$(verdict pve1 0000:07:00.0)" "blocked not-on-vfio-yet/blocking" "pve1 after the reboot"
assert_eq "$(pt_jq "$PT_WORK/pve1.json" "$f['selection']['after_reboot']")" true "pve1 after_reboot echoed"

#    An address the host does not have, an ID that is none: refused, named.
pt_adhoc iommu_facts "root=$PT_WORK/pve1 devices=0000:09:00" >"$PT_WORK/missing.json"
assert_eq "$(pt_jq "$PT_WORK/missing.json" 'r["failed"]')" true "missing device: failed"
assert_eq "$(pt_jq "$PT_WORK/missing.json" 'r["msg"]')" \
	"devices[0]: no PCI device in slot 0000:09:00 on this host (iommu_facts without devices lists the host's devices)" \
	"missing device: msg"
pt_adhoc iommu_facts "root=$PT_WORK/pve1 devices=0000:07:00 bound_ids=nvidia" >"$PT_WORK/badid.json"
assert_eq "$(pt_jq "$PT_WORK/badid.json" 'r["msg"]')" \
	"bound_ids[0]: 'nvidia' is not a vendor:device ID (4 hex digits each, as in 10de:1c82)" "bad bound_ids: msg"

for h in "${!HOSTS[@]}"; do assert_tree_unchanged "$PT_WORK/$h" "$PT_WORK/$h.sha"; done

# 3. playbooks/facts.yml shows each GPU's readiness with its findings' ids.
printf 'pve:\n  hosts:\n    bootfb:\n      ansible_connection: local\n      gpu_passthrough_root: "%s"\n' \
	"$PT_WORK/bootfb" >"$PT_WORK/facts.inv.yml"
ansible-playbook -i "$PT_WORK/facts.inv.yml" "$PT_REPO/playbooks/facts.yml" >"$PT_WORK/facts.out" 2>&1 ||
	{ cat "$PT_WORK/facts.out"; fail "playbooks/facts.yml"; }
cat "$PT_WORK/facts.out"
assert_contains "$PT_WORK/facts.out" "readiness needs_action: boot-framebuffer"

# 4. The e2e guests as their kernels showed them (tests/fixtures/captures/e2e-*,
#    made by `make e2e-captures` before the role ran). The UEFI guest booted on
#    OVMF's framebuffer in the VGA's BAR 0; bochs-drm has taken it over, so
#    /proc/iomem names bochs-drm there, and the finding comes from the boot
#    parameters, naming the driver. The BIOS guest booted in text mode: ready.
for c in e2e-intel-13-uefi e2e-amd-12-bios; do
	"$PT_TOOLS/mkroot" --capture "$PT_FIXTURES/captures/$c.tgz" "$PT_WORK/$c" >/dev/null || fail "mkroot --capture $c"
done
assert_contains "$PT_WORK/e2e-intel-13-uefi/proc/iomem" "c0000000-c0ffffff : bochs-drm"
table e2e-intel-13-uefi
t=$PT_WORK/e2e-intel-13-uefi.table
assert_contains "$t" "IOMMU enabled (Intel VT-d), 6 groups, default domain DMA-FQ, interrupt remapping on"
assert_contains "$t" "GPU 0000:01:00.0 unknown device: group 5, isolated (passes through alone)"
assert_contains "$t" "  - boot-framebuffer (warning)"
assert_contains "$t" "    evidence: /sys/kernel/boot_params/data: EFI framebuffer at boot (1280x800x32) 0xc0000000-0xc03e7fff in BAR 0 (bochs-drm has it now; it returns when vfio-pci has the card)"
facts e2e-intel-13-uefi "devices=0000:01:00"
assert_eq "$(verdict e2e-intel-13-uefi 0000:01:00.0)" "needs_action boot-framebuffer/warning" "e2e UEFI GPU"
assert_eq "$(pt_jq "$PT_WORK/e2e-intel-13-uefi.json" "$f['devices']['0000:01:00.0']['framebuffers']")" \
	'[{"name": "EFI framebuffer at boot (1280x800x32)", "start": "0xc0000000", "end": "0xc03e7fff", "bar": 0, "source": "/sys/kernel/boot_params/data"}]' \
	"e2e UEFI framebuffers"
assert_eq "$(pt_jq "$PT_WORK/e2e-intel-13-uefi.json" "$f['devices']['0000:01:00.0']['reset_methods']")" '["bus"]' "e2e UEFI reset_methods"
assert_eq "$(pt_jq "$PT_WORK/e2e-intel-13-uefi.json" "$f['secure_boot']")" off "e2e UEFI secure_boot"
#    After the role's run the framebuffer at boot cannot come back: the command
#    line keeps sysfb from registering it, or vfio-pci has the card (what the
#    e2e guest shows after its reboot). No finding then.
"$PT_TOOLS/mkroot" --capture "$PT_FIXTURES/captures/e2e-intel-13-uefi.tgz" "$PT_WORK/e2e-sysfb-off" >/dev/null || fail "mkroot"
sed -i 's/$/ initcall_blacklist=sysfb_init/' "$PT_WORK/e2e-sysfb-off/proc/cmdline"
"$PT_TOOLS/mkroot" --capture "$PT_FIXTURES/captures/e2e-intel-13-uefi.tgz" "$PT_WORK/e2e-on-vfio" >/dev/null || fail "mkroot"
dev=$(readlink -f "$PT_WORK/e2e-on-vfio/sys/bus/pci/devices/0000:01:00.0")
mkdir -p "$PT_WORK/e2e-on-vfio/sys/bus/pci/drivers/vfio-pci"
ln -sfn ../../../../bus/pci/drivers/vfio-pci "$dev/driver"
for c in e2e-sysfb-off e2e-on-vfio; do
	facts "$c" "devices=0000:01:00"
	assert_eq "$(pt_jq "$PT_WORK/$c.json" "$f['devices']['0000:01:00.0']['framebuffers']")" '[]' "$c: framebuffers"
	assert_eq "$(verdict "$c" 0000:01:00.0)" "ready" "$c: the GPU"
done
table e2e-amd-12-bios
t=$PT_WORK/e2e-amd-12-bios.table
assert_contains "$t" "interrupt remapping on"
assert_contains "$t" "GPU 0000:01:00.0 unknown device: group 5, isolated (passes through alone)"
assert_contains "$t" "  readiness: ready (nothing found)"
facts e2e-amd-12-bios "devices=0000:01:00"
assert_eq "$(pt_jq "$PT_WORK/e2e-amd-12-bios.json" "$f['devices']['0000:01:00.0']['framebuffers']")" '[]' "e2e BIOS framebuffers"
assert_eq "$(pt_jq "$PT_WORK/e2e-amd-12-bios.json" "$f['secure_boot']")" not-efi "e2e BIOS secure_boot"

# 5. The docs name the options and the new fields.
ansible-doc homelab.passthrough.iommu_facts >"$PT_WORK/doc.txt" 2>&1 || fail "ansible-doc"
for field in devices bound_ids after_reboot secure_boot allow_unsafe_interrupts framebuffers \
	capabilities driver_load readiness findings unknown selection; do
	assert_contains "$PT_WORK/doc.txt" "$field" "docs: $field"
done
echo "PASS iommu_facts_readiness"
