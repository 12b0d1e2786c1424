#!/usr/bin/env bash
# grub_iommu through Ansible on two sandbox roots, with update-grub and
# proxmox-boot-tool replaced by recording stubs:
#   pve1 (GRUB, Intel): check mode and diff, the real run, idempotence,
#     reboot_required against /proc/cmdline, iommu=soft replaced in place,
#     absent with a backup, a failing update-grub (and the next run, which
#     reruns it: the pending marker), a self-referencing file that
#     is refused and left alone, a grub.d drop-in that overrides the file;
#   pve2 (systemd-boot, AMD): detection through proxmox-boot-tool status (and
#     from files alone in check mode), /etc/kernel/cmdline edited with root=
#     kept, /etc/default/grub untouched, proxmox-boot-tool refresh (retried
#     after a failure), a cmdline without root= refused;
#   a playbook that asserts changed / not changed the ansible.posix way, and
#   the documentation through ansible-doc.
source "${PT_REPO:-$(cd "$(dirname "$0")/../../../.." && pwd)}/tests/integration/lib.sh"

M=grub_iommu
# run NAME JSON-ARGS [ansible options]: the module ad hoc; result in $PT_WORK/NAME.json
run() {
	local name=$1 args=$2
	shift 2
	pt_adhoc "$M" "$args" "$@" >"$PT_WORK/$name.json"
}
r() { pt_jq "$PT_WORK/$1.json" "$2"; }
calls() { pt_stub_calls "$1"; }
reset_calls() { rm -f "$1/var/log/record-cmd.log"; }
# host NAME DESC.yml BOOT: the sandbox root $PT_WORK/NAME (pt_boot_sandbox), with its
# /etc/default/grub kept as $PT_WORK/NAME-grub.orig and its snapshot as $PT_WORK/NAME.sha.
host() {
	pt_boot_sandbox "$2" "$PT_WORK/$1" "$3"
	cp "$PT_WORK/$1/etc/default/grub" "$PT_WORK/$1-grub.orig"
	pt_snapshot "$PT_WORK/$1" "$PT_WORK/$1.sha"
}
# check_plan NAME HOST KEY=VALUE...: the module in check mode with diff on host HOST
# (run NAME): it does not fail, its result holds each VALUE (assert_result), and it
# writes nothing and runs no command.
check_plan() {
	local name=$1 root=$PT_WORK/$2
	shift 2
	run "$name" "{\"root\": \"$root\"}" --check --diff
	assert_eq "$(r "$name" 'r.get("failed", False)')" "false" "$name failed: $(r "$name" 'r.get("msg")')"
	assert_result "$PT_WORK/$name.json" "$@"
	assert_tree_unchanged "$root" "$root.sha"
	assert_eq "$(calls "$root")" "" "commands run in check mode"
}

# ==== pve1: GRUB, Intel ======================================================
host pve1 "$PT_FIXTURES/hosts/pve1-gtx1050ti.yml" grub
pve1=$PT_WORK/pve1
grub=$pve1/etc/default/grub

note "pve1: check mode with diff predicts the change and touches nothing"
# the vendor from /proc/cpuinfo; the diff's paths as the host sees them, not the sandbox's
check_plan check pve1 changed=true bootloader=grub iommu_vendor=intel path=/etc/default/grub \
	cmdline="quiet intel_iommu=on iommu=pt" params_added='["intel_iommu=on", "iommu=pt"]' \
	reboot_required=true update_command=update-grub \
	diff.before_header=/etc/default/grub diff.after_header=/etc/default/grub
assert_eq "$(r check '"GRUB_CMDLINE_LINUX_DEFAULT=\"quiet intel_iommu=on iommu=pt\"\n" in r["diff"]["after"]')" \
	"true" "diff after"
assert_eq "$(r check 'r["diff"]["before"] == open(sys.argv[1].rsplit("/", 1)[0] + "/pve1-grub.orig").read()')" \
	"true" "diff before is the file"

note "pve1: the same in a playbook with --check --diff prints the diff"
cat >"$PT_WORK/check.yml" <<EOF
- hosts: localhost
  gather_facts: false
  tasks:
    - name: IOMMU parameters
      homelab.passthrough.grub_iommu:
        root: "$pve1"
EOF
pt_playbook "$PT_WORK/check.yml" --check --diff >/dev/null || fail "check playbook failed"
assert_contains "$PT_WORK/play.out" '+GRUB_CMDLINE_LINUX_DEFAULT="quiet intel_iommu=on iommu=pt"'
assert_contains "$PT_WORK/play.out" '-GRUB_CMDLINE_LINUX_DEFAULT="quiet"'
assert_contains "$PT_WORK/play.out" "changed: [localhost]"
assert_tree_unchanged "$pve1" "$PT_WORK/pve1.sha"

note "pve1: the real run edits one line and runs update-grub"
run real "{\"root\": \"$pve1\"}"
assert_eq "$(r real 'r.get("failed", False)')" "false" "real run failed: $(r real 'r.get("msg")')"
assert_eq "$(r real 'r["changed"]')" "true" "changed"
assert_eq "$(r real 'r["cmdline"]')" "quiet intel_iommu=on iommu=pt" "cmdline"
assert_eq "$(r real 'r["reboot_required"]')" "true" "reboot_required"
assert_eq "$(r real 'r["rc"]')" "0" "update-grub rc"
assert_eq "$(r real '"backup_file" in r')" "false" "no backup asked"
assert_eq "$(calls "$pve1")" "$(printf 'proxmox-boot-tool status\nupdate-grub')" "commands"
diff "$PT_WORK/pve1-grub.orig" "$grub" >"$PT_WORK/grub.diff" && fail "file not changed"
assert_eq "$(grep -c '^[<>]' "$PT_WORK/grub.diff")" "2" "changed lines"
assert_contains "$PT_WORK/grub.diff" '> GRUB_CMDLINE_LINUX_DEFAULT="quiet intel_iommu=on iommu=pt"'
# The check-mode prediction was the real result.
assert_eq "$(r check 'r["diff"]["after"]')" "$(cat "$grub")" "check mode predicted the file"

note "pve1: a second run changes nothing and runs nothing"
reset_calls "$pve1"
cp "$grub" "$PT_WORK/grub.after"
run again "{\"root\": \"$pve1\"}"
assert_eq "$(r again 'r["changed"]')" "false" "second run changed"
assert_eq "$(r again 'r["params_added"] + r["params_removed"]')" "[]" "second run params"
assert_eq "$(r again 'r["reboot_required"]')" "true" "still not booted with them"
assert_eq "$(calls "$pve1")" "proxmox-boot-tool status" "second run commands"
cmp -s "$grub" "$PT_WORK/grub.after" || fail "second run rewrote the file"

note "pve1: booted with the parameters, nothing is left to reboot for"
echo "BOOT_IMAGE=/boot/vmlinuz-6.8.12-4-pve root=/dev/mapper/pve-root ro quiet intel_iommu=on iommu=pt" \
	>"$pve1/proc/cmdline"
run booted "{\"root\": \"$pve1\"}"
assert_eq "$(r booted 'r["changed"]')" "false" "changed"
assert_eq "$(r booted 'r["reboot_required"]')" "false" "reboot_required after the reboot"

note "pve1: iommu=soft becomes iommu=pt in place; extra params keep their order"
sed -i 's/^GRUB_CMDLINE_LINUX_DEFAULT=.*/GRUB_CMDLINE_LINUX_DEFAULT="quiet iommu=soft splash"/' "$grub"
run soft "{\"root\": \"$pve1\", \"params\": [\"video=efifb:off\"], \"update\": false}"
assert_eq "$(r soft 'r["changed"]')" "true" "changed"
assert_eq "$(r soft 'r["cmdline"]')" "quiet iommu=pt splash intel_iommu=on video=efifb:off" "cmdline"
assert_eq "$(r soft 'r["params_removed"]')" '["iommu=soft"]' "params_removed"
assert_eq "$(r soft 'r["params_added"]')" '["iommu=pt", "intel_iommu=on", "video=efifb:off"]' "params_added"
assert_eq "$(r soft 'r["reboot_required"]')" "true" "video=efifb:off is not booted yet"
assert_eq "$(r soft '"update_command" in r or "rc" in r')" "false" "update: false runs nothing"
assert_contains "$grub" 'GRUB_CMDLINE_LINUX_DEFAULT="quiet iommu=pt splash intel_iommu=on video=efifb:off"'

note "pve1: absent with a backup removes the keys, whatever their values"
cp "$grub" "$PT_WORK/grub.before-absent"
reset_calls "$pve1"
run absent "{\"root\": \"$pve1\", \"state\": \"absent\", \"params\": [\"video\"], \"backup\": true}"
assert_eq "$(r absent 'r["changed"]')" "true" "changed"
assert_eq "$(r absent 'r["cmdline"]')" "quiet splash" "cmdline"
assert_eq "$(r absent 'sorted(r["params_removed"])')" '["intel_iommu=on", "iommu=pt", "video=efifb:off"]' \
	"params_removed"
assert_eq "$(r absent 'r["reboot_required"]')" "true" "the running kernel still has them"
backup=$(r absent 'r["backup_file"]')
case "$backup" in /etc/default/grub.*~) ;; *) fail "backup_file: $backup" ;; esac
cmp -s "$pve1$backup" "$PT_WORK/grub.before-absent" || fail "the backup is not the old file"
assert_eq "$(calls "$pve1")" "$(printf 'proxmox-boot-tool status\nupdate-grub')" "commands"
run absent2 "{\"root\": \"$pve1\", \"state\": \"absent\", \"params\": [\"video\"], \"backup\": true}"
assert_eq "$(r absent2 'r["changed"]')" "false" "absent twice"
assert_eq "$(r absent2 '"backup_file" in r')" "false" "no backup when nothing changed"

note "pve1: a failing update-grub fails the task; the file stays edited"
echo 1 >"$pve1/etc/record-cmd/update-grub.rc"
echo "/usr/sbin/grub-probe: error: failed to get canonical path of overlay." \
	>"$pve1/etc/record-cmd/update-grub.err"
run failing "{\"root\": \"$pve1\"}"
assert_eq "$(r failing 'r["failed"]')" "true" "failed"
assert_eq "$(r failing 'r["changed"]')" "true" "changed (the file was written)"
assert_eq "$(r failing 'r["rc"]')" "1" "rc"
assert_eq "$(r failing '"failed to get canonical path" in r["stderr"]')" "true" "stderr"
assert_eq "$(r failing '"not regenerated" in r["msg"] and "update-grub" in r["msg"]')" "true" \
	"message: $(r failing 'r["msg"]')"
assert_contains "$grub" 'GRUB_CMDLINE_LINUX_DEFAULT="quiet splash intel_iommu=on iommu=pt"'
assert_eq "$(r failing '"run the task again" in r["msg"]')" "true" "message: $(r failing 'r["msg"]')"
marker=$pve1/var/lib/homelab-passthrough/grub_iommu.update-pending
[ -f "$marker" ] || fail "no pending marker after the failed update-grub"
rm -f "$pve1/etc/record-cmd/update-grub.rc" "$pve1/etc/record-cmd/update-grub.err"

note "pve1: the failed update-grub is not forgotten: check mode predicts the rerun"
reset_calls "$pve1"
cp "$grub" "$PT_WORK/grub.pending"
pt_snapshot "$pve1" "$PT_WORK/pending.sha"
run pcheck "{\"root\": \"$pve1\"}" --check --diff
assert_eq "$(r pcheck 'r.get("failed", False)')" "false" "failed: $(r pcheck 'r.get("msg")')"
assert_eq "$(r pcheck 'r["changed"]')" "true" "a pending regeneration is a change"
assert_eq "$(r pcheck 'r["regenerate_pending"]')" "true" "regenerate_pending"
assert_eq "$(r pcheck 'r["update_command"]')" "update-grub" "update_command"
assert_eq "$(r pcheck 'r["params_added"] + r["params_removed"]')" "[]" "the file is already right"
assert_eq "$(r pcheck '"diff" in r')" "false" "no file diff"
assert_tree_unchanged "$pve1" "$PT_WORK/pending.sha"
assert_eq "$(calls "$pve1")" "" "commands in check mode"

note "pve1: the next real run reruns update-grub and removes the marker"
run pending "{\"root\": \"$pve1\"}"
assert_eq "$(r pending 'r.get("failed", False)')" "false" "failed: $(r pending 'r.get("msg")')"
assert_eq "$(r pending 'r["changed"]')" "true" "changed"
assert_eq "$(r pending 'r["regenerate_pending"]')" "true" "regenerate_pending"
assert_eq "$(r pending 'r["rc"]')" "0" "update-grub rc"
assert_eq "$(calls "$pve1")" "$(printf 'proxmox-boot-tool status\nupdate-grub')" "commands"
[ ! -e "$marker" ] || fail "the marker outlived a successful update-grub"
cmp -s "$grub" "$PT_WORK/grub.pending" || fail "the file changed on the rerun"
reset_calls "$pve1"
run settled "{\"root\": \"$pve1\"}"
assert_eq "$(r settled 'r["changed"]')" "false" "changed after the rerun"
assert_eq "$(r settled 'r["regenerate_pending"]')" "false" "regenerate_pending after the rerun"
assert_eq "$(calls "$pve1")" "proxmox-boot-tool status" "no update-grub once it succeeded"

note "pve1: with update: false a pending marker is a warning, not a change"
mkdir -p "${marker%/*}" && echo pending >"$marker"
run pnoupdate "{\"root\": \"$pve1\", \"update\": false}" --check
assert_eq "$(r pnoupdate 'r["changed"]')" "false" "changed"
assert_eq "$(r pnoupdate 'r["regenerate_pending"]')" "true" "regenerate_pending"
assert_eq "$(r pnoupdate 'any("has not succeeded since" in w and "update-grub" in w for w in r.get("warnings", []))')" \
	"true" "warning: $(r pnoupdate 'r.get("warnings")')"
rm -f "$marker"

note "pve1: a self-referencing value is refused with its line; the file stays"
printf 'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT quiet"\n' >"$grub"
pt_snapshot "$pve1" "$PT_WORK/selfref.sha"
reset_calls "$pve1"
run selfref "{\"root\": \"$pve1\"}"
assert_eq "$(r selfref 'r["failed"]')" "true" "failed"
msg=$(r selfref 'r["msg"]')
for want in "/etc/default/grub" "line 2" "refers to itself"; do
	case "$msg" in *"$want"*) ;; *) fail "message lacks [$want]: $msg" ;; esac
done
assert_tree_unchanged "$pve1" "$PT_WORK/selfref.sha"
assert_eq "$(calls "$pve1" | grep -c update-grub || true)" "0" "update-grub after a refusal"

note "pve1: a grub.d drop-in that sets the variable is named in a warning"
cp "$PT_WORK/pve1-grub.orig" "$grub"
cp "$PT_FIXTURES/files/grub.d/50-cloud-settings.cfg" "$pve1/etc/default/grub.d/50-cloudimg-settings.cfg"
run dropin "{\"root\": \"$pve1\", \"update\": false}"
assert_eq "$(r dropin 'r["changed"]')" "true" "changed"
assert_eq "$(r dropin 'any("50-cloudimg-settings.cfg" in w and "line 12" in w for w in r.get("warnings", []))')" \
	"true" "drop-in warning: $(r dropin 'r.get("warnings")')"
assert_eq "$(r dropin 'any("proxmox-ve.cfg" in w for w in r.get("warnings", []))')" "false" \
	"proxmox-ve.cfg does not set it"

note "pve1: warnings for amd_iommu=on and GRUB_CMDLINE_LINUX (tests/fixtures/files/grub)"
rm "$pve1/etc/default/grub.d/50-cloudimg-settings.cfg"
cp "$PT_FIXTURES/files/grub/amd-duplicate-iommu.grub" "$grub"
run amd "{\"root\": \"$pve1\", \"iommu\": \"amd\"}" --check
assert_eq "$(r amd 'r["params_removed"]')" '["iommu=1"]' "the second iommu= goes"
assert_eq "$(r amd 'r["params_added"]')" '[]' "nothing added on AMD"
assert_eq "$(r amd 'any("amd_iommu=on" in w and "not a valid value" in w for w in r["warnings"])')" \
	"true" "amd_iommu warning: $(r amd 'r.get("warnings")')"
cp "$PT_FIXTURES/files/grub/both-variables.grub" "$grub"
run linux "{\"root\": \"$pve1\", \"state\": \"absent\"}" --check
assert_eq "$(r linux 'r["cmdline"]')" "quiet nomodeset" "cmdline"
assert_eq "$(r linux 'any(w.startswith("GRUB_CMDLINE_LINUX in /etc/default/grub (line 7) also holds intel_iommu=on, iommu=pt") for w in r["warnings"])')" \
	"true" "GRUB_CMDLINE_LINUX warning: $(r linux 'r.get("warnings")')"
run linux2 "{\"root\": \"$pve1\"}" --check
assert_eq "$(r linux2 'r["changed"]')" "false" "both variables already have them"
assert_eq "$(r linux2 'not r.get("warnings")')" "true" "same values in both variables: no warning"

note "pve1: set twice, the last assignment is edited, with a warning"
printf '# first\nGRUB_CMDLINE_LINUX_DEFAULT="splash"\nGRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\n' >"$grub"
run twice "{\"root\": \"$pve1\"}" --check --diff
assert_eq "$(r twice 'r["cmdline"]')" "quiet intel_iommu=on iommu=pt" "cmdline"
assert_eq "$(r twice 'r["diff"]["after"]')" \
	"$(printf '# first\nGRUB_CMDLINE_LINUX_DEFAULT="splash"\nGRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX_DEFAULT="quiet intel_iommu=on iommu=pt"')" \
	"only the last assignment changes"
assert_eq "$(r twice 'any("set 2 times" in w and "line 2" in w and "line 4" in w for w in r["warnings"])')" \
	"true" "warning: $(r twice 'r.get("warnings")')"

note "pve1: iommu auto without /proc/cpuinfo fails and says what to set"
mv "$pve1/proc/cpuinfo" "$PT_WORK/cpuinfo"
run nocpu "{\"root\": \"$pve1\"}" --check
assert_eq "$(r nocpu 'r["failed"]')" "true" "failed"
assert_eq "$(r nocpu '"set iommu to intel, amd or none" in r["msg"]')" "true" "message: $(r nocpu 'r["msg"]')"
mv "$PT_WORK/cpuinfo" "$pve1/proc/cpuinfo"

# ==== pve2: systemd-boot, AMD ================================================
host pve2 "$PT_FIXTURES/hosts/pve2-systemd-boot.yml" systemd-boot
pve2=$PT_WORK/pve2
cmdline=$pve2/etc/kernel/cmdline

note "pve2: check mode finds systemd-boot from files alone"
# AMD: no amd_iommu=on
check_plan sdcheck pve2 bootloader=systemd-boot path=/etc/kernel/cmdline iommu_vendor=amd \
	cmdline="root=ZFS=rpool/ROOT/pve-1 boot=zfs iommu=pt" params_added='["iommu=pt"]' \
	update_command="proxmox-boot-tool refresh" diff.before_header=/etc/kernel/cmdline \
	diff.after="root=ZFS=rpool/ROOT/pve-1 boot=zfs iommu=pt"

note "pve2: the real run asks proxmox-boot-tool, edits /etc/kernel/cmdline, refreshes"
run sdreal "{\"root\": \"$pve2\"}"
assert_eq "$(r sdreal 'r.get("failed", False)')" "false" "failed: $(r sdreal 'r.get("msg")')"
assert_eq "$(r sdreal 'r["changed"]')" "true" "changed"
assert_eq "$(r sdreal 'r["bootloader"]')" "systemd-boot" "bootloader"
assert_eq "$(r sdreal '"proxmox-boot-tool status" in r["bootloader_reason"]')" "true" "reason"
assert_eq "$(r sdreal 'r["reboot_required"]')" "true" "reboot_required"
assert_eq "$(cat "$cmdline")" "root=ZFS=rpool/ROOT/pve-1 boot=zfs iommu=pt" "/etc/kernel/cmdline"
assert_eq "$(tail -c1 "$cmdline" | od -An -c | tr -d ' ')" '\n' "final newline kept"
cmp -s "$pve2/etc/default/grub" "$PT_WORK/pve2-grub.orig" || fail "/etc/default/grub changed on systemd-boot"
assert_eq "$(calls "$pve2")" "$(printf 'proxmox-boot-tool status\nproxmox-boot-tool refresh')" "commands"

note "pve2: idempotent; a playbook says changed, then not changed"
reset_calls "$pve2"
cat >"$PT_WORK/twice.yml" <<EOF
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Framebuffer off too
      homelab.passthrough.grub_iommu:
        root: "$pve2"
        params: [video=efifb:off]
      register: first
    - name: Again
      homelab.passthrough.grub_iommu:
        root: "$pve2"
        params: [video=efifb:off]
      register: second
    - name: Changed once, then not
      ansible.builtin.assert:
        that:
          - first is changed
          - second is not changed
          - second.cmdline == "root=ZFS=rpool/ROOT/pve-1 boot=zfs iommu=pt video=efifb:off"
          - second.reboot_required
EOF
pt_playbook "$PT_WORK/twice.yml" --diff >/dev/null || { cat "$PT_WORK/play.out"; fail "playbook failed"; }
assert_contains "$PT_WORK/play.out" "+root=ZFS=rpool/ROOT/pve-1 boot=zfs iommu=pt video=efifb:off"
assert_eq "$(calls "$pve2" | grep -c -x 'proxmox-boot-tool refresh')" "1" "one refresh for two runs"

note "pve2: a failed proxmox-boot-tool refresh is retried by the next run"
reset_calls "$pve2"
echo 1 >"$pve2/etc/record-cmd/proxmox-boot-tool.refresh.rc"
run sdfail "{\"root\": \"$pve2\", \"params\": [\"video=efifb:off\", \"nomodeset\"]}"
assert_eq "$(r sdfail 'r["failed"]')" "true" "failed"
assert_eq "$(r sdfail '"proxmox-boot-tool refresh failed" in r["msg"]')" "true" "message: $(r sdfail 'r["msg"]')"
rm "$pve2/etc/record-cmd/proxmox-boot-tool.refresh.rc"
run sdpcheck "{\"root\": \"$pve2\", \"params\": [\"video=efifb:off\", \"nomodeset\"]}" --check
assert_eq "$(r sdpcheck '[r["changed"], r["regenerate_pending"], r["update_command"]]')" \
	'[true, true, "proxmox-boot-tool refresh"]' "check mode predicts the rerun"
reset_calls "$pve2"
run sdretry "{\"root\": \"$pve2\", \"params\": [\"video=efifb:off\", \"nomodeset\"]}"
assert_eq "$(r sdretry '[r.get("failed", False), r["changed"], r["regenerate_pending"]]')" \
	'[false, true, true]' "the rerun: $(r sdretry 'r.get("msg")')"
assert_eq "$(calls "$pve2")" "$(printf 'proxmox-boot-tool status\nproxmox-boot-tool refresh')" "commands"
run sdsettled "{\"root\": \"$pve2\", \"params\": [\"video=efifb:off\", \"nomodeset\"]}"
assert_eq "$(r sdsettled '[r["changed"], r["regenerate_pending"]]')" '[false, false]' "settled"

note "pve2: a cmdline without root= is refused and left alone"
echo "boot=zfs quiet" >"$cmdline"
pt_snapshot "$pve2" "$PT_WORK/noroot.sha"
run noroot "{\"root\": \"$pve2\"}"
assert_eq "$(r noroot 'r["failed"]')" "true" "failed"
assert_eq "$(r noroot '"root=" in r["msg"] and "/etc/kernel/cmdline" in r["msg"]')" "true" \
	"message: $(r noroot 'r["msg"]')"
assert_tree_unchanged "$pve2" "$PT_WORK/noroot.sha"

note "pve2: bootloader: grub edits /etc/default/grub when told to"
echo "root=ZFS=rpool/ROOT/pve-1 boot=zfs" >"$cmdline"
run forced "{\"root\": \"$pve2\", \"bootloader\": \"grub\", \"update\": false}" --check
assert_eq "$(r forced 'r["bootloader"]')" "grub" "bootloader"
assert_eq "$(r forced 'r["bootloader_reason"]')" "set by the bootloader option" "reason"
assert_eq "$(r forced 'r["path"]')" "/etc/default/grub" "path"

note "bad options are refused with AnsibleModule's words"
run badopt "{\"root\": \"$pve2\", \"state\": \"gone\"}"
assert_eq "$(r badopt 'r["failed"]')" "true" "failed"
assert_eq "$(r badopt '"value of state must be one of: present, absent" in r["msg"]')" "true" \
	"message: $(r badopt 'r["msg"]')"
run twoparams "{\"root\": \"$pve2\", \"params\": [\"intel_iommu=on iommu=pt\"]}"
assert_eq "$(r twoparams 'r["failed"]')" "true" "failed"
assert_eq "$(r twoparams '"own list item" in r["msg"]')" "true" "message: $(r twoparams 'r["msg"]')"

note "ansible-doc renders the sidecar"
ansible-doc homelab.passthrough.grub_iommu >"$PT_WORK/doc.txt" 2>&1 || { cat "$PT_WORK/doc.txt"; fail "ansible-doc"; }
assert_contains "$PT_WORK/doc.txt" "passthrough_mode"
assert_contains "$PT_WORK/doc.txt" "reboot_required"
echo "grub_iommu: all checks passed"
