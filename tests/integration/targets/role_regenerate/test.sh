#!/usr/bin/env bash
# The gpu_passthrough role when the boot configuration is not regenerated
# (issue 12, item 5), on a sandbox root of the seed host pve1 with recording
# stubs:
#   1. update-grub fails once: the play fails, the file stays edited;
#   2. update-grub works again: the next play reruns it (grub_iommu's pending
#      marker) instead of finding the file right and moving on;
#   3. a /boot/grub/grub.cfg whose linux lines lack the parameters (what a
#      failed or skipped update-grub leaves): the verify stage fails before the
#      reboot, naming the file, the line and what to run;
#   4. a grub.cfg that carries them (its recovery entry aside) passes;
#   5. the same for systemd-boot (pve2) with loader entries on a mounted ESP.
# The stub does not write grub.cfg, so the test writes it as update-grub would.
source "$PT_REPO/tests/integration/lib.sh"

root=$PT_WORK/pve1
pt_role_sandbox "$PT_FIXTURES/hosts/pve1-gtx1050ti.yml" "$root" grub
marker=$root/var/lib/homelab-passthrough/grub_iommu.update-pending

# site NAME [options]: playbooks/site.yml with the example inventory (pve1) against the
# sandbox; output in $PT_WORK/NAME.out, the play's exit status returned.
site() {
	local name=$1; shift
	note "site.yml: $name $*"
	ansible-playbook -i "$PT_REPO/inventory/example.yml" -e ansible_connection=local \
		-e "gpu_passthrough_root=$root" "$PT_REPO/playbooks/site.yml" "$@" >"$PT_WORK/$name.out" 2>&1
	local rc=$?
	cat "$PT_WORK/$name.out"
	return $rc
}
update_grub_runs() { pt_stub_count "$root" update-grub; }
# grub_cfg DEFAULT: a grub.cfg as update-grub writes it, two kernels, a
# recovery entry and memtest86+, with DEFAULT as GRUB_CMDLINE_LINUX_DEFAULT.
grub_cfg() {
	mkdir -p "$root/boot/grub"
	cat >"$root/boot/grub/grub.cfg" <<CFG
### BEGIN /etc/grub.d/10_linux ###
menuentry 'Proxmox VE GNU/Linux' --class proxmox --class gnu-linux --class gnu --class os {
	load_video
	insmod gzio
	echo	'Loading Linux 6.8.12-4-pve ...'
	linux	/boot/vmlinuz-6.8.12-4-pve root=/dev/mapper/pve-root ro  $1
	initrd	/boot/initrd.img-6.8.12-4-pve
}
submenu 'Advanced options for Proxmox VE GNU/Linux' {
	menuentry 'Proxmox VE GNU/Linux, with Linux 6.8.12-4-pve (recovery mode)' {
		linux	/boot/vmlinuz-6.8.12-4-pve root=/dev/mapper/pve-root ro single
		initrd	/boot/initrd.img-6.8.12-4-pve
	}
	menuentry 'Proxmox VE GNU/Linux, with Linux 6.5.13-6-pve' {
		linux	/boot/vmlinuz-6.5.13-6-pve root=/dev/mapper/pve-root ro  $1
		initrd	/boot/initrd.img-6.5.13-6-pve
	}
}
### END /etc/grub.d/10_linux ###
### BEGIN /etc/grub.d/20_memtest86+ ###
menuentry 'Memory test (memtest86+x64.bin)' {
	insmod part_gpt
	linux16	/boot/memtest86+x64.bin
}
### END /etc/grub.d/20_memtest86+ ###
CFG
}

# 1. update-grub fails after /etc/default/grub was edited.
echo 1 >"$root/etc/record-cmd/update-grub.rc"
echo "/usr/sbin/grub-probe: error: failed to get canonical path of overlay." \
	>"$root/etc/record-cmd/update-grub.err"
site fails && fail "the play passed although update-grub failed"
assert_contains "$PT_WORK/fails.out" "update-grub failed (rc 1"
assert_contains "$PT_WORK/fails.out" "run the task again (it reruns update-grub until it succeeds)"
assert_contains "$root/etc/default/grub" 'GRUB_CMDLINE_LINUX_DEFAULT="quiet intel_iommu=on iommu=pt"'
[ -f "$marker" ] || fail "no pending marker after the failed update-grub"
assert_eq "$(update_grub_runs)" "1" "update-grub runs so far"

# 2. It works again: the next play reruns it, although the file is right.
rm "$root/etc/record-cmd/update-grub.rc" "$root/etc/record-cmd/update-grub.err"
site check --check --diff || fail "the check run after the failure failed"
assert_eq "$(grep -A1 -F "TASK [homelab.passthrough.gpu_passthrough : Set the IOMMU parameters on the kernel command line (state present)]" \
	"$PT_WORK/check.out" | sed -n 2p)" "changed: [pve1]" "check mode predicts the rerun of update-grub"
assert_eq "$(update_grub_runs)" "1" "check mode ran update-grub"
[ -f "$marker" ] || fail "check mode removed the marker"
site rerun || fail "the play after the failure failed"
assert_eq "$(update_grub_runs)" "2" "update-grub was not rerun (the failure was forgotten)"
[ ! -e "$marker" ] || fail "the marker outlived a successful update-grub"
assert_contains "$PT_WORK/rerun.out" "No /boot/grub/grub.cfg under $root: the generated boot configuration was not checked"

# 3. A grub.cfg from before the change: verify fails, before any reboot.
grub_cfg "quiet"
site stale && fail "a grub.cfg without the parameters passed verification"
assert_eq "$(update_grub_runs)" "2" "update-grub ran without a reason"
assert_contains "$PT_WORK/stale.out" "Require the generated boot configuration to carry the parameters"
# (the message as Ansible prints it, in JSON: its quotes escaped)
assert_contains "$PT_WORK/stale.out" '/boot/grub/grub.cfg: \"/boot/vmlinuz-6.8.12-4-pve root=/dev/mapper/pve-root ro quiet\" lacks intel_iommu, iommu'
assert_contains "$PT_WORK/stale.out" '/boot/grub/grub.cfg: \"/boot/vmlinuz-6.5.13-6-pve root=/dev/mapper/pve-root ro quiet\" lacks intel_iommu, iommu'
assert_contains "$PT_WORK/stale.out" "update-grub failed or did not run after the file was changed"
assert_contains "$PT_WORK/stale.out" "Run update-grub on the node"
assert_not_contains "$PT_WORK/stale.out" 'ro single\" lacks' "the recovery entry was checked"
assert_not_contains "$PT_WORK/stale.out" 'memtest86+x64.bin\" lacks' "memtest86+ was checked"

# 4. Regenerated: every non-recovery entry has them.
grub_cfg "quiet intel_iommu=on iommu=pt"
site fresh || fail "a regenerated grub.cfg failed verification"
assert_not_contains "$PT_WORK/fresh.out" "the generated boot configuration was not checked"
grep -q '^pve1 *:.* changed=0 ' "$PT_WORK/fresh.out" || fail "the settled host should need no change"
# 5. systemd-boot (pve2): the loader entries on a mounted ESP are checked the
#    same way, from their options lines.
root2=$PT_WORK/pve2
pt_role_sandbox "$PT_FIXTURES/hosts/pve2-systemd-boot.yml" "$root2" systemd-boot
entries=$root2/boot/efi/loader/entries
mkdir -p "$entries"
# entry OPTIONS: the loader entry proxmox-boot-tool refresh writes
entry() {
	printf 'title    Proxmox Virtual Environment\nversion  6.8.12-4-pve\noptions  %s\nlinux    /EFI/proxmox/6.8.12-4-pve/vmlinuz-6.8.12-4-pve\ninitrd   /EFI/proxmox/6.8.12-4-pve/initrd.img-6.8.12-4-pve\n' \
		"$1" >"$entries/proxmox-6.8.12-4-pve.conf"
}
cat >"$PT_WORK/pve2.yml" <<INV
pve:
  hosts:
    pve2:
      ansible_connection: local
      ansible_python_interpreter: /usr/bin/python3
      gpu_passthrough_root: "$root2"
      gpu_passthrough_devices: ["0000:0d:00"]
      gpu_passthrough_mapping_name: gpu-rx6600
      gpu_passthrough_blacklist_drivers: [amdgpu]
INV
site2() {
	local name=$1
	note "site.yml on pve2: $name"
	ansible-playbook -i "$PT_WORK/pve2.yml" "$PT_REPO/playbooks/site.yml" >"$PT_WORK/$name.out" 2>&1
	local rc=$?
	cat "$PT_WORK/$name.out"
	return $rc
}
entry "root=ZFS=rpool/ROOT/pve-1 boot=zfs"
site2 sdstale && fail "loader entries without the parameters passed verification"
assert_contains "$PT_WORK/sdstale.out" '/boot/efi/loader/entries/proxmox-6.8.12-4-pve.conf: \"root=ZFS=rpool/ROOT/pve-1 boot=zfs\" lacks iommu'
assert_contains "$PT_WORK/sdstale.out" "proxmox-boot-tool refresh failed or did not run after the file was changed"
entry "root=ZFS=rpool/ROOT/pve-1 boot=zfs iommu=pt"
site2 sdfresh || fail "loader entries with the parameters failed verification"
assert_not_contains "$PT_WORK/sdfresh.out" "the generated boot configuration was not checked"
echo "role_regenerate: all checks passed"
