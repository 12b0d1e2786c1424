#!/usr/bin/env bash
# Failure injection through Ansible: writes that fail part of the way, and
# commands that hang.
#
# The target files of grub_iommu (/etc/default/grub) and vfio_bind
# (/etc/modprobe.d/vfio.conf, /etc/modules) live on a small tmpfs, or are
# mount points, inside a sandbox root:
#   - a full file system (the new text gets 8 KiB in, then ENOSPC),
#   - a read-only file system (remounted ro: no temporary file can be made),
#   - a rename that fails (the target bind-mounted on itself: EBUSY; an
#     immutable target, chattr +i: EPERM), with backup on;
# each time the task fails naming the path and the errno text, the file keeps
# every byte, no temporary file or backup stays in the directory, and no
# command runs. Then a command that hangs (the record-cmd stub with a .sleep
# file) is killed after the module's timeout option and reported: grub_iommu
# `timeout` (update-grub, and proxmox-boot-tool status during detection),
# vfio_bind `initramfs_timeout` (update-initramfs), pve_pci_mapping `timeout`
# (pvesh).
#
# Needs root (mount). The test re-runs itself in a mount namespace of its own
# (unshare -m), so its mounts vanish with it; a trap unmounts them as well.

if [ -z "${PT_FI_NAMESPACE:-}" ] && [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
	export PT_FI_NAMESPACE=1
	exec unshare --mount --propagation private bash "$0" "$@"
fi
source "${PT_REPO:-$(cd "$(dirname "$0")/../../../.." && pwd)}/tests/integration/lib.sh"
[ "$(id -u)" = 0 ] || fail "failure injection mounts file systems: run it as root"

# --- mounts, undone on every exit path ---------------------------------------
MOUNTS=()
cleanup() {
	local i
	for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
		chattr -i "${MOUNTS[i]}"/* 2>/dev/null || true
		umount -l "${MOUNTS[i]}" 2>/dev/null || true
	done
	return 0
}
trap cleanup EXIT
# on_tmpfs DIR: DIR becomes a 256 KiB tmpfs holding what it held.
on_tmpfs() {
	local dir=$1 keep=$PT_WORK/keep.$$
	rm -rf "$keep" && cp -a "$dir" "$keep"
	mount -t tmpfs -o size=256k,mode=0755 tmpfs "$dir" || fail "mount tmpfs on $dir"
	MOUNTS+=("$dir")
	cp -a "$keep/." "$dir/" || fail "copy into the tmpfs"
	rm -rf "$keep"
}
# fill DIR: fill DIR's file system, then free 8 KiB (two pages).
fill() {
	dd if=/dev/zero of="$1/filler" bs=4k 2>/dev/null || true
	truncate -s -8K "$1/filler"
}
# bind_self FILE: FILE bind-mounted on itself (a rename over it gets EBUSY).
bind_self() {
	mount --bind "$1" "$1" || fail "bind mount $1"
	MOUNTS+=("$1")
}
# pad FILE: about 40 KiB of comment lines at the end, so that a write of the
# new text spans many pages and a full file system stops it midway.
pad() {
	local i
	for ((i = 0; i < 640; i++)); do
		printf '# padding line %03d: the write must fail in the middle of this file\n' "$i"
	done >>"$1"
}

# --- running and checking -----------------------------------------------------
# run NAME MODULE JSON-ARGS: the module ad hoc; result in $PT_WORK/NAME.json,
# seconds taken in $PT_WORK/NAME.secs.
run() {
	local name=$1 module=$2 args=$3 start=$SECONDS
	pt_adhoc "$module" "$args" >"$PT_WORK/$name.json"
	echo $((SECONDS - start)) >"$PT_WORK/$name.secs"
}
r() { pt_jq "$PT_WORK/$1.json" "$2"; }
# failed_with NAME TEXT...: the task failed and its msg holds every TEXT.
failed_with() {
	local name=$1 t
	shift
	assert_eq "$(r "$name" 'r.get("failed", False)')" true "$name should fail: $(r "$name" 'r.get("msg")')"
	for t in "$@"; do
		assert_eq "$(NEEDLE=$t r "$name" '__import__("os").environ["NEEDLE"] in r.get("msg", "")')" true \
			"$name msg lacks [$t]: $(r "$name" 'r.get("msg")')"
	done
}
# intact FILE COPY: FILE holds the bytes of COPY.
intact() { cmp -s "$1" "$2" || fail "$1 changed: $(diff "$2" "$1" | head -5)"; }
# only_in DIR 'NAMES': DIR holds exactly NAMES (no temporary file, no backup).
only_in() { assert_eq "$(ls -A "$1" | tr '\n' ' ' | sed 's/ $//')" "$2" "entries of $1"; }
# took NAME MAX: the run took under MAX seconds.
took() {
	local s
	s=$(cat "$PT_WORK/$1.secs")
	[ "$s" -lt "$2" ] || fail "$1 took ${s}s (the timeout did not stop the command)"
}

# ==== grub_iommu =============================================================
pve1=$PT_WORK/pve1
pt_root_from_host "$PT_FIXTURES/hosts/pve1-gtx1050ti.yml" "$pve1"
pt_stub "$pve1" update-grub proxmox-boot-tool
echo 2 >"$pve1/etc/record-cmd/proxmox-boot-tool.status.rc" # a plain GRUB host
grub=$pve1/etc/default/grub
pad "$grub"
cp "$grub" "$PT_WORK/grub.orig"
on_tmpfs "$pve1/etc/default"
G="{\"root\": \"$pve1\", \"backup\": true}"

note "grub_iommu: the file system fills up while the new file is written"
fill "$pve1/etc/default"
run full grub_iommu "{\"root\": \"$pve1\"}"
failed_with full "$grub" "No space left on device" "left as it was"
assert_eq "$(r full 'r["changed"]')" false "changed"
intact "$grub" "$PT_WORK/grub.orig"
only_in "$pve1/etc/default" "filler grub grub.d"

note "grub_iommu: ... or while the backup is written"
run fullb grub_iommu "$G"
failed_with fullb "cannot write backup $grub." "No space left on device" "left as it was"
intact "$grub" "$PT_WORK/grub.orig"
only_in "$pve1/etc/default" "filler grub grub.d"
assert_eq "$(pt_stub_calls "$pve1" | grep -c update-grub)" 0 "update-grub after a failed write"
rm "$pve1/etc/default/filler"

note "grub_iommu: a read-only file system"
mount -o remount,ro "$pve1/etc/default"
run ro grub_iommu "{\"root\": \"$pve1\"}"
failed_with ro "temporary file in $pve1/etc/default" "Read-only file system"
intact "$grub" "$PT_WORK/grub.orig"
only_in "$pve1/etc/default" "grub grub.d"
mount -o remount,rw "$pve1/etc/default"

note "grub_iommu: the rename over the file fails (a mount point): no backup left"
bind_self "$grub"
run busy grub_iommu "$G"
failed_with busy "$grub" "Device or resource busy"
intact "$grub" "$PT_WORK/grub.orig"
only_in "$pve1/etc/default" "grub grub.d"
umount "$grub"

note "grub_iommu: the rename over the file fails (immutable)"
if chattr +i "$grub" 2>/dev/null; then
	run immutable grub_iommu "$G"
	chattr -i "$grub"
	failed_with immutable "$grub" "Operation not permitted"
	intact "$grub" "$PT_WORK/grub.orig"
	only_in "$pve1/etc/default" "grub grub.d"
else
	note "(skipped: this kernel's tmpfs has no immutable flag)"
fi
assert_eq "$(pt_stub_calls "$pve1" | grep -c update-grub)" 0 "update-grub after failed writes"

note "grub_iommu: without a failure the same task writes (the injections were the cause)"
run works grub_iommu "$G"
assert_eq "$(r works 'r.get("failed", False)')" false "works: $(r works 'r.get("msg")')"
assert_eq "$(r works 'r["changed"]')" true "changed"
assert_contains "$grub" 'GRUB_CMDLINE_LINUX_DEFAULT="quiet intel_iommu=on iommu=pt"'

note "grub_iommu: update-grub hangs and is killed after timeout"
echo 60 >"$pve1/etc/record-cmd/update-grub.sleep"
run hang grub_iommu "{\"root\": \"$pve1\", \"params\": [\"pcie_aspm=off\"], \"timeout\": 2}"
failed_with hang "update-grub" "killed after 2 seconds" "not regenerated"
took hang 30
assert_eq "$(pt_stub_calls "$pve1" | tail -n 1)" "update-grub" "update-grub was run"
rm "$pve1/etc/record-cmd/update-grub.sleep"

note "grub_iommu: proxmox-boot-tool status hangs during detection: killed, files decide"
echo 60 >"$pve1/etc/record-cmd/proxmox-boot-tool.status.sleep"
run detect grub_iommu "{\"root\": \"$pve1\", \"timeout\": 2, \"update\": false}"
assert_eq "$(r detect 'r.get("failed", False)')" false "detect: $(r detect 'r.get("msg")')"
assert_eq "$(r detect 'r["bootloader"]')" grub "bootloader from the files"
assert_eq "$(r detect 'any("proxmox-boot-tool status" in w for w in r.get("warnings", []))')" true \
	"warning about the killed status: $(r detect 'r.get("warnings")')"
took detect 30
rm "$pve1/etc/record-cmd/proxmox-boot-tool.status.sleep"

# ==== vfio_bind ================================================================
vb=$PT_WORK/vb
pt_root_from_host "$PT_FIXTURES/hosts/pve1-gtx1050ti.yml" "$vb"
pt_stub "$vb" update-initramfs modprobe
conf=$vb/etc/modprobe.d/vfio.conf
cp "$PT_FIXTURES/files/modprobe.d/vfio-other-card.conf" "$conf"
pad "$conf"
cp "$conf" "$PT_WORK/vfio.conf.orig"
cp "$vb/etc/modules" "$PT_WORK/modules.orig"
on_tmpfs "$vb/etc/modprobe.d"
V="{\"root\": \"$vb\", \"devices\": [\"0000:07:00\"], \"backup\": true}"
VD="pve-blacklist.conf vfio.conf"

note "vfio_bind: modprobe.d fills up while vfio.conf is written"
fill "$vb/etc/modprobe.d"
run vfull vfio_bind "{\"root\": \"$vb\", \"devices\": [\"0000:07:00\"]}"
failed_with vfull "$conf" "No space left on device"
intact "$conf" "$PT_WORK/vfio.conf.orig"
intact "$vb/etc/modules" "$PT_WORK/modules.orig"
only_in "$vb/etc/modprobe.d" "filler $VD"
assert_eq "$(pt_stub_calls "$vb")" "" "commands after a failed write"
rm "$vb/etc/modprobe.d/filler"

note "vfio_bind: modprobe.d read-only"
mount -o remount,ro "$vb/etc/modprobe.d"
run vro vfio_bind "{\"root\": \"$vb\", \"devices\": [\"0000:07:00\"]}"
failed_with vro "temporary file in $vb/etc/modprobe.d" "Read-only file system"
intact "$conf" "$PT_WORK/vfio.conf.orig"
only_in "$vb/etc/modprobe.d" "$VD"
mount -o remount,rw "$vb/etc/modprobe.d"

note "vfio_bind: the rename over vfio.conf fails (a mount point)"
bind_self "$conf"
run vbusy vfio_bind "$V"
failed_with vbusy "$conf" "Device or resource busy"
intact "$conf" "$PT_WORK/vfio.conf.orig"
only_in "$vb/etc/modprobe.d" "$VD"
umount "$conf"
assert_eq "$(pt_stub_calls "$vb")" "" "commands after failed writes"

note "vfio_bind: /etc/modules cannot be replaced after vfio.conf was: both said"
bind_self "$vb/etc/modules"
ls -A "$vb/etc" >"$PT_WORK/etc.before"
run vmod vfio_bind "$V"
failed_with vmod "$vb/etc/modules" "Device or resource busy" "already written" "$conf"
intact "$vb/etc/modules" "$PT_WORK/modules.orig"
ls -A "$vb/etc" | diff "$PT_WORK/etc.before" - || fail "files left in /etc"
assert_eq "$(pt_stub_calls "$vb")" "" "update-initramfs after a failed write"
umount "$vb/etc/modules"

note "vfio_bind: update-initramfs hangs and is killed after initramfs_timeout"
echo 60 >"$vb/etc/record-cmd/update-initramfs.sleep"
run vhang vfio_bind "{\"root\": \"$vb\", \"devices\": [\"0000:07:00\"], \"initramfs_timeout\": 2}"
failed_with vhang "update-initramfs" "2 s" "killed"
took vhang 30
assert_eq "$(pt_stub_calls "$vb")" "update-initramfs -u -k all" "update-initramfs was run"

# ==== pve_pci_mapping ==========================================================
pm=$PT_WORK/pm
pt_root_from_host "$PT_FIXTURES/hosts/pve1-gtx1050ti.yml" "$pm"
mkdir -p "$pm/usr/bin" "$pm/etc/record-cmd"
install -m 0755 "$PT_TOOLS/record-cmd" "$pm/usr/bin/pvesh"
echo 60 >"$pm/etc/record-cmd/pvesh.sleep"

note "pve_pci_mapping: pvesh hangs and is stopped after timeout"
run phang pve_pci_mapping "{\"root\": \"$pm\", \"name\": \"gpu\", \"devices\": [\"0000:07:00\"], \"timeout\": 2}"
failed_with phang "pvesh" "after 2 seconds" "timeout"
took phang 30
[ -e "$pm/etc/pve/mapping/pci.cfg" ] && fail "pci.cfg written after a hung pvesh"

note "failure injection: all checks passed"
