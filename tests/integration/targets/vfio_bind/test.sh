# vfio_bind through Ansible on sandbox roots (update-initramfs stubbed): the seed
# pve1 with the user's own files (tests/fixtures/files) at the module's paths (check mode, diff, apply,
# idempotence, absent restoring every byte), the r8169 blacklist refusal, two
# identical GPUs bound by address, a GPU sharing its group with the NIC, the q35
# capture, a failed update-initramfs retried by the next run, a hung modprobe
# killed after modprobe_timeout, one file named twice (./, //, symlink, hard
# link) and a relative path refused, a continued last line in modprobe.d
# refused, k=v arguments ad hoc, and the docs. Run by tests/integration/run.sh
# after `make install tools`.
source "${PT_REPO:-$(cd "$(dirname "$0")/../../../.." && pwd)}/tests/integration/lib.sh"

# play NAME 'ARGS (a YAML/JSON mapping)' [ansible-playbook options]: one vfio_bind
# task; its registered result goes to $PT_WORK/NAME.json, the output to
# $PT_WORK/NAME.out. Failures are results too (ignore_errors), asserted on below.
play() {
	local name=$1 args=$2
	shift 2
	cat >"$PT_WORK/$name.yml" <<EOF
- hosts: localhost
  gather_facts: false
  tasks:
    - name: vfio_bind $name
      homelab.passthrough.vfio_bind: $args
      register: vb
      ignore_errors: true
    - name: keep the result
      ansible.builtin.copy:
        content: "{{ vb | to_nice_json }}"
        dest: "$PT_WORK/$name.json"
      check_mode: false
      diff: false
EOF
	pt_playbook "$PT_WORK/$name.yml" "$@" >/dev/null || { cat "$PT_WORK/play.out"; fail "playbook $name"; }
	cp "$PT_WORK/play.out" "$PT_WORK/$name.out"
}
# j NAME PYEXPR: a value from a play's result.
j() { pt_jq "$PT_WORK/$1.json" "$2"; }
ok() { assert_eq "$(j "$1" 'r.get("failed", False)')" "false" "$1 failed: $(j "$1" 'r.get("msg")')"; }
refused() { assert_eq "$(j "$1" 'r.get("failed", False)')" "true" "$1 should fail"; }
# The text to look for travels in the environment: no quoting games.
has_msg() {
	assert_eq "$(NEEDLE=$2 j "$1" '__import__("os").environ["NEEDLE"] in r.get("msg", "")')" "true" \
		"$1 msg lacks [$2]: $(j "$1" 'r.get("msg")')"
}
has_warning() {
	assert_eq "$(NEEDLE=$2 j "$1" 'any(__import__("os").environ["NEEDLE"] in w for w in r.get("warnings", []))')" \
		"true" "$1 warnings lack [$2]: $(j "$1" 'r.get("warnings")')"
}
FILES=$PT_FIXTURES/files
BEGIN='# BEGIN homelab.passthrough.vfio_bind: managed by Ansible (edits here are overwritten)'
END='# END homelab.passthrough.vfio_bind'

# ---------------------------------------------------------------------------------
note "pve1 with the user's own files at the module's paths"
pve1=$PT_WORK/pve1
pt_root_from_host "$PT_FIXTURES/hosts/pve1-gtx1050ti.yml" "$pve1"
pt_stub "$pve1" update-initramfs modprobe
cp "$FILES/modules/vfio-by-hand.modules" "$pve1/etc/modules"
cp "$FILES/modprobe.d/vfio-other-card.conf" "$pve1/etc/modprobe.d/vfio.conf"
cp "$FILES/modprobe.d/blacklist-gpu.conf" "$pve1/etc/modprobe.d/blacklist-gpu.conf"
cp "$FILES/modprobe.d/softdeps-and-ids.conf" "$pve1/etc/modprobe.d/router.conf"
pt_snapshot "$pve1" "$PT_WORK/pve1.pre"
ARGS="{devices: ['0000:07:00'], root: '$pve1'}"

note "check mode with diff: the same result as the real run, nothing written or run"
play check "$ARGS" --check --diff
ok check
assert_eq "$(j check 'r["changed"]')" "true" "check changed"
assert_eq "$(j check 'r["initramfs_updated"]')" "true" "check initramfs_updated"
assert_eq "$(j check 'r["ids"]')" '["10de:0fb9", "10de:1c82"]' "check ids"
assert_tree_unchanged "$pve1" "$PT_WORK/pve1.pre"
[ -z "$(pt_stub_calls "$pve1")" ] || fail "check mode ran: $(pt_stub_calls "$pve1")"
assert_contains "$PT_WORK/check.out" "+options vfio-pci ids=10de:0fb9,10de:1c82" "diff output lacks"
assert_contains "$PT_WORK/check.out" "+softdep nouveau pre: vfio-pci" "diff output lacks"
# paths as the host sees them, not the sandbox's (the headers, files[].path)
assert_contains "$PT_WORK/check.out" "before: /etc/modprobe.d/vfio.conf" "diff header lacks"
assert_contains "$PT_WORK/check.out" "after: /etc/modprobe.d/vfio.conf" "diff header lacks"
assert_not_contains "$PT_WORK/check.out" "before: $pve1" "diff header shows the sandbox"
assert_eq "$(j check '[f["path"] for f in r["files"]]')" \
	'["/etc/modprobe.d/vfio.conf", "/etc/modprobe.d/blacklist-gpu.conf", "/etc/modules"]' "files[].path"

note "apply"
play apply "$ARGS"
ok apply
assert_eq "$(j apply 'r["changed"]')" "true" "apply changed"
assert_eq "$(j apply 'r["files"]')" "$(j check 'r["files"]')" "check mode predicted the files"
assert_eq "$(j apply 'r["devices"]')" "$(j check 'r["devices"]')" "check mode predicted the devices"
assert_eq "$(j apply '[(d["address"], d["ids"], d["group"], d["driver_before"], d["mechanism"]) for d in r["devices"]]')" \
	'[["0000:07:00.0", "10de:1c82", 14, "nouveau", "ids"], ["0000:07:00.1", "10de:0fb9", 14, "snd_hda_intel", "ids"]]' \
	"apply devices"
assert_eq "$(j apply 'r["softdeps"]')" '["nouveau", "nvidiafb", "snd_hda_intel"]' "softdeps"
assert_eq "$(j apply 'r["reboot_required"]')" "true" "reboot_required"
has_warning apply "0000:07:00.0 is the boot VGA device"
# the user's ids= line in the same file and in another are pointed out
has_warning apply "vfio.conf line 1 (options vfio-pci ids=1002:73bf"
has_warning apply "router.conf line 4 (options vfio-pci ids=8086:15b8) also sets vfio-pci ids="
# the user's /etc/modules lists vfio_virqfd, which the 6.8 kernel does not ship
has_warning apply "etc/modules line 5 lists vfio_virqfd"
diff -u <(cat "$FILES/modprobe.d/vfio-other-card.conf"; printf '%s\n' "$BEGIN" \
	"options vfio-pci ids=10de:0fb9,10de:1c82" "softdep nouveau pre: vfio-pci" \
	"softdep nvidiafb pre: vfio-pci" "softdep snd_hda_intel pre: vfio-pci" "$END") \
	"$pve1/etc/modprobe.d/vfio.conf" || fail "vfio.conf"
# nothing to blacklist, and the user's vfio lines already load the modules
cmp "$FILES/modprobe.d/blacklist-gpu.conf" "$pve1/etc/modprobe.d/blacklist-gpu.conf" ||
	fail "blacklist-gpu.conf changed"
cmp "$FILES/modules/vfio-by-hand.modules" "$pve1/etc/modules" ||
	fail "/etc/modules changed"
assert_eq "$(pt_stub_calls "$pve1")" "update-initramfs -u -k all" "commands run"

note "idempotence: the second run changes nothing and runs nothing"
play again "$ARGS"
ok again
assert_eq "$(j again 'r["changed"]')" "false" "second run changed"
assert_eq "$(j again 'r["initramfs_updated"]')" "false" "second run initramfs"
assert_eq "$(pt_stub_calls "$pve1")" "update-initramfs -u -k all" "commands run"
play again_check "$ARGS" --check --diff
assert_eq "$(j again_check 'r["changed"]')" "false" "check after apply changed"

note "absent gives every file back byte for byte"
play absent "{state: absent, root: '$pve1'}" --diff
ok absent
assert_eq "$(j absent 'r["changed"]')" "true" "absent changed"
assert_contains "$PT_WORK/absent.out" "-options vfio-pci ids=10de:0fb9,10de:1c82" "absent diff lacks"
assert_tree_unchanged "$pve1" "$PT_WORK/pve1.pre"
play absent_again "{state: absent, root: '$pve1'}"
assert_eq "$(j absent_again 'r["changed"]')" "false" "absent twice changed"

note "the seed's lost network: blacklisting r8169 is refused, in check mode too"
for mode in real check; do
	opt=(); [ $mode = check ] && opt=(--check)
	play "r8169_$mode" "{devices: ['0000:07:00'], blacklist_drivers: [r8169], root: '$pve1'}" "${opt[@]}"
	refused "r8169_$mode"
	has_msg "r8169_$mode" "refusing to blacklist r8169: it drives 0000:06:00.0"
	has_msg "r8169_$mode" "Remove r8169 from blacklist_drivers"
	has_msg "r8169_$mode" "force: true"
	assert_eq "$(j "r8169_$mode" 'r["changed"]')" "false" "refusal changed"
	assert_tree_unchanged "$pve1" "$PT_WORK/pve1.pre"
done
note "and the NIC itself, and the NVMe under /"
play nic "{devices: ['06:00.0'], root: '$pve1'}"
refused nic
has_msg nic "0000:06:00.0 (Realtek"
has_msg nic "carries the default route on enp6s0"
play nvme "{ids: ['144d:a808'], root: '$pve1'}"
refused nvme
has_msg nvme "backs the filesystem mounted on / (/dev/mapper/pve-root, disk nvme0n1)"
note "IDs that do not match the hardware: the error lists what the host has"
play wrong_ids "{ids: ['10de:1b80', '10de:10f0'], root: '$pve1'}"
refused wrong_ids
has_msg wrong_ids "no PCI device with ID 10de:1b80 on this host"
has_msg wrong_ids "Its display controllers: 0000:07:00.0 10de:1c82 NVIDIA Corporation GP107 [GeForce GTX 1050 Ti] (group 14)"
assert_tree_unchanged "$pve1" "$PT_WORK/pve1.pre"

# ---------------------------------------------------------------------------------
note "two identical GPUs: the VM's card by address, the host's card untouched"
twin=$PT_WORK/twin
pt_root_from_host "$PT_FIXTURES/hosts/two-identical-gpus.yml" "$twin"
pt_stub "$twin" update-initramfs
play twin "{devices: ['0000:02:00'], root: '$twin'}"
ok twin
assert_eq "$(j twin '[(d["address"], d["mechanism"]) for d in r["devices"]]')" \
	'[["0000:02:00.0", "driver_override"], ["0000:02:00.1", "driver_override"]]' "twin mechanisms"
assert_eq "$(j twin 'r["ids"]')" "[]" "twin ids"
conf=$twin/etc/modprobe.d/vfio.conf
assert_not_contains "$conf" "options vfio-pci ids=" "twin: an ids= line would take the host's card"
assert_not_contains "$conf" "0000:01:00" "twin: the host's card is named"
assert_contains "$conf" 'install vfio-pci for d in 0000:02:00.0 0000:02:00.1; do f=/sys/bus/pci/devices/$d/driver_override; [ -w "$f" ] && echo vfio-pci > "$f"; done; exec /sbin/modprobe --ignore-install vfio-pci $CMDLINE_OPTS'
assert_contains "$conf" "softdep nouveau pre: vfio-pci"
# the install command is valid sh (kmod runs it with /bin/sh): try it in a copy of sysfs
sys=$PT_WORK/twin-sys
mkdir -p "$sys/0000:01:00.0" "$sys/0000:02:00.0" "$sys/0000:02:00.1"
for d in "$sys"/*; do echo "(null)" >"$d/driver_override"; done
cmd=$(sed -n 's/^install vfio-pci //p' "$conf")
cmd=${cmd//\/sys\/bus\/pci\/devices/$sys}
cmd=${cmd/exec \/sbin\/modprobe --ignore-install vfio-pci \$CMDLINE_OPTS/true}
sh -c "$cmd" || fail "the install command does not run under sh"
assert_eq "$(cat "$sys/0000:02:00.0/driver_override") $(cat "$sys/0000:02:00.1/driver_override")" \
	"vfio-pci vfio-pci" "install command: the VM's functions"
assert_eq "$(cat "$sys/0000:01:00.0/driver_override")" "(null)" "install command: the host's card"
play twin_again "{devices: ['0000:02:00'], root: '$twin'}"
assert_eq "$(j twin_again 'r["changed"]')" "false" "twin second run"

# ---------------------------------------------------------------------------------
note "a GPU that shares its IOMMU group with the NIC carrying the default route"
shared=$PT_WORK/shared
pt_root_from_host "$PT_FIXTURES/hosts/gpu-shares-group-with-nic.yml" "$shared"
pt_stub "$shared" update-initramfs
pt_snapshot "$shared" "$PT_WORK/shared.pre"
play shared "{devices: ['0000:03:00'], root: '$shared'}"
refused shared
has_msg shared "0000:04:00.0 (Intel Corporation 82574L Gigabit Network Connection) carries the default route on eno1"
has_msg shared "through include_group"
play shared_nogroup "{devices: ['0000:03:00'], include_group: false, root: '$shared'}" --check
refused shared_nogroup
has_msg shared_nogroup "0000:03:00.0 is in IOMMU group 10 with 0000:04:00.0"
assert_tree_unchanged "$shared" "$PT_WORK/shared.pre"
[ -z "$(pt_stub_calls "$shared")" ] || fail "a refusal ran a command"

# ---------------------------------------------------------------------------------
note "the q35 capture (a real 6.1 kernel's sysfs): VGA + audio in group 7"
q35=$PT_WORK/q35
"$PT_TOOLS/mkroot" --capture "$PT_FIXTURES/captures/qemu-q35-intel-vtd.tgz" "$q35" >/dev/null ||
	fail "mkroot --capture"
pt_stub "$q35" update-initramfs
play q35 "{devices: ['0000:01:00'], root: '$q35'}" --diff
ok q35
assert_eq "$(j q35 'r["ids"]')" '["1234:1111", "8086:293e"]' "q35 ids"
assert_eq "$(j q35 'r["softdeps"]')" '["bochs", "snd_hda_intel"]' "q35 softdeps"
assert_eq "$(j q35 '[d["group"] for d in r["devices"]]')" "[7, 7]" "q35 groups"
assert_eq "$(j q35 'r["modules"]')" '["vfio", "vfio_iommu_type1", "vfio_pci", "vfio_virqfd"]' \
	"q35: Debian 12's 6.1 ships vfio_virqfd"
grep -qx "vfio_virqfd" "$q35/etc/modules" || fail "q35: vfio_virqfd not in /etc/modules"
play q35_again "{devices: ['0000:01:00'], root: '$q35'}"
assert_eq "$(j q35_again 'r["changed"]')" "false" "q35 second run"

# ---------------------------------------------------------------------------------
note "update-initramfs fails after the files are written: the next run retries it"
ir=$PT_WORK/initramfs
pt_root_from_host "$PT_FIXTURES/hosts/pve1-gtx1050ti.yml" "$ir"
pt_stub "$ir" update-initramfs
marker=$ir/var/lib/homelab-passthrough/vfio_bind.initramfs-pending
IR="{devices: ['0000:07:00'], root: '$ir'}"
echo 1 >"$ir/etc/record-cmd/update-initramfs.rc"
echo "E: mkinitramfs failure cpio 141" >"$ir/etc/record-cmd/update-initramfs.err"
play ir1 "$IR"
refused ir1
has_msg ir1 "update-initramfs -u -k all failed (rc 1): E: mkinitramfs failure cpio 141"
has_msg ir1 "run the task again (it reruns update-initramfs until it succeeds)"
assert_eq "$(j ir1 'r["changed"]')" "true" "the files were written"
assert_contains "$ir/etc/modprobe.d/vfio.conf" "options vfio-pci ids=10de:0fb9,10de:1c82"
[ -f "$marker" ] || fail "no pending-rebuild marker after the failed update-initramfs"
rm "$ir/etc/record-cmd/update-initramfs.rc" "$ir/etc/record-cmd/update-initramfs.err"
pt_snapshot "$ir" "$PT_WORK/ir.pre"
play ir_check "$IR" --check --diff
ok ir_check
assert_eq "$(j ir_check '[r["changed"], r["initramfs_pending"], r["initramfs_updated"], r["reboot_required"]]')" \
	"[true, true, true, true]" "check mode predicts the rerun"
assert_eq "$(j ir_check '[f["changed"] for f in r["files"]]')" "[false, false, false]" "no file changes"
assert_tree_unchanged "$ir" "$PT_WORK/ir.pre"
play ir2 "$IR"
ok ir2
assert_eq "$(j ir2 '[r["changed"], r["initramfs_pending"], r["initramfs_updated"]]')" \
	"[true, true, true]" "the second run reruns update-initramfs"
assert_eq "$(j ir2 'r["files"]')" "$(j ir_check 'r["files"]')" "check mode predicted the files"
[ -e "$marker" ] && fail "the marker stays after update-initramfs succeeded"
assert_eq "$(pt_stub_calls "$ir")" "$(printf 'update-initramfs -u -k all\nupdate-initramfs -u -k all')" \
	"update-initramfs ran twice"
play ir3 "$IR"
ok ir3
assert_eq "$(j ir3 '[r["changed"], r["initramfs_pending"], r["initramfs_updated"]]')" \
	"[false, false, false]" "the third run is a no-op"
assert_eq "$(pt_stub_calls "$ir" | wc -l)" "2" "the third run ran nothing"
note "and the same for state=absent"
echo 1 >"$ir/etc/record-cmd/update-initramfs.rc"
play ir_absent1 "{state: absent, root: '$ir'}"
refused ir_absent1
[ -f "$marker" ] || fail "no marker after state=absent's failed update-initramfs"
[ -e "$ir/etc/modprobe.d/vfio.conf" ] && fail "absent: vfio.conf should be gone"
rm "$ir/etc/record-cmd/update-initramfs.rc"
play ir_absent2 "{state: absent, root: '$ir'}"
ok ir_absent2
assert_eq "$(j ir_absent2 '[r["changed"], r["initramfs_updated"]]')" "[true, true]" "absent reruns"
play ir_absent3 "{state: absent, root: '$ir'}"
assert_eq "$(j ir_absent3 'r["changed"]')" "false" "absent: the next run is a no-op"
assert_eq "$(pt_stub_calls "$ir" | wc -l)" "4" "update-initramfs runs"

# ---------------------------------------------------------------------------------
note "bind_now: a modprobe vfio-pci that hangs is killed after modprobe_timeout"
mh=$PT_WORK/modprobe-hang
pt_root_from_host "$PT_FIXTURES/hosts/pve1-gtx1050ti.yml" "$mh"
pt_stub "$mh" update-initramfs modprobe
echo 60 >"$mh/etc/record-cmd/modprobe.sleep"
start=$(date +%s)
play mhang "{devices: ['0000:07:00'], bind_now: true, modprobe_timeout: 2, root: '$mh'}"
took=$(($(date +%s) - start))
refused mhang
has_msg mhang "modprobe vfio-pci did not finish within 2 s and was killed"
has_msg mhang "raise modprobe_timeout"
[ "$took" -lt 30 ] || fail "the hung modprobe took $took s"
assert_eq "$(pt_stub_calls "$mh")" "$(printf 'update-initramfs -u -k all\nmodprobe vfio-pci')" "commands"
assert_contains "$mh/etc/modprobe.d/vfio.conf" "options vfio-pci ids=" "the persistent part is written"

# ---------------------------------------------------------------------------------
note "one file named twice: refused before anything is written, however it is spelled"
sf=$PT_WORK/samefile
pt_root_from_host "$PT_FIXTURES/hosts/pve1-gtx1050ti.yml" "$sf"
pt_stub "$sf" update-initramfs
printf '# mine\n' >"$sf/etc/modprobe.d/vfio.conf"
ln "$sf/etc/modprobe.d/vfio.conf" "$sf/etc/modprobe.d/hard.conf"
ln -s modprobe.d "$sf/etc/gpu.d"
pt_snapshot "$sf" "$PT_WORK/sf.pre"
for spelling in /etc/modprobe.d/./vfio.conf //etc/modprobe.d/vfio.conf /etc/gpu.d/vfio.conf \
	/etc/modprobe.d/hard.conf; do
	play same "{devices: ['0000:07:00'], blacklist_drivers: [nvidiafb], blacklist_path: '$spelling', root: '$sf'}"
	refused same
	has_msg same "conf_path /etc/modprobe.d/vfio.conf and blacklist_path $spelling are the same file"
	assert_tree_unchanged "$sf" "$PT_WORK/sf.pre"
done
play relpath "{devices: ['0000:07:00'], conf_path: 'etc/modprobe.d/vfio.conf', root: '$sf'}"
refused relpath
has_msg relpath "conf_path 'etc/modprobe.d/vfio.conf' is not an absolute path"

note "a conf_path whose last line continues a directive is refused, in check mode too"
printf 'options snd-hda-intel model=auto \\\n' >"$sf/etc/modprobe.d/vfio.conf"
pt_snapshot "$sf" "$PT_WORK/sf.pre"
for mode in check real; do
	opt=(); [ $mode = check ] && opt=(--check)
	play "cont_$mode" "{devices: ['0000:07:00'], root: '$sf'}" "${opt[@]}"
	refused "cont_$mode"
	has_msg "cont_$mode" "$sf/etc/modprobe.d/vfio.conf line 1 ends in a backslash, so modprobe would join the next line onto it"
	has_msg "cont_$mode" "remove the trailing backslash"
	assert_tree_unchanged "$sf" "$PT_WORK/sf.pre"
done
[ -z "$(pt_stub_calls "$sf")" ] || fail "a refusal ran a command"

# ---------------------------------------------------------------------------------
note "ad hoc with k=v strings: a comma list of IDs, check mode"
pt_adhoc vfio_bind "ids=10de:1c82,10de:0fb9 root=$pve1" --check >"$PT_WORK/adhoc.json"
assert_eq "$(pt_jq "$PT_WORK/adhoc.json" 'r.get("failed", False)')" "false" "ad hoc failed"
assert_eq "$(pt_jq "$PT_WORK/adhoc.json" '[d["selected_by"] for d in r["devices"]]')" '["id", "id"]' "ad hoc"
assert_tree_unchanged "$pve1" "$PT_WORK/pve1.pre"

note "the docs render"
ansible-doc homelab.passthrough.vfio_bind >"$PT_WORK/doc.txt" 2>&1 || { cat "$PT_WORK/doc.txt"; fail "ansible-doc"; }
assert_contains "$PT_WORK/doc.txt" "driver_override"
assert_contains "$PT_WORK/doc.txt" "blacklist_drivers"
note "vfio_bind: all passed"
