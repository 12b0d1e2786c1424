#!/usr/bin/env bash
# Build (or reuse) the end-to-end test host: a Debian 12 disk image with real
# GRUB (installed by the guest itself on its first boot), initramfs-tools,
# openssh-server and python3. Prints the path of the cached image.
#
# The image is cached outside the repository, keyed by a hash of this script and
# tests/e2e/guest/, so a rerun starts in seconds. The run's SSH key is not in the
# image: the guest reads it from QEMU's fw_cfg at every boot.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache_root=${PT_E2E_CACHE:-/var/cache/homelab-passthrough/e2e}
key=$(cat "$0" "$here"/guest/* | sha256sum | cut -c1-16)
image=$cache_root/$key/disk.img
if [ -f "$image" ]; then echo "$image"; exit 0; fi

log() { echo "build-image: $*" >&2; }
# The Debian mirror this machine's apt uses (no host is named in the repository).
mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $3 ~ /^bookworm$/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$mirror" ] || { log "no Debian mirror found in /etc/apt"; exit 1; }

work=$(mktemp -d /var/tmp/pt-e2e-build.XXXXXX)
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs
start=$(date +%s)
log "debootstrap into $rootfs (a few minutes)"
debootstrap --variant=minbase \
	--include=linux-image-amd64,grub-pc,initramfs-tools,kmod,pciutils,openssh-server,python3,systemd-sysv,dbus,udev,zstd,iproute2,procps \
	bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }
log "debootstrap done in $(( $(date +%s) - start ))s"

echo pve1 >"$rootfs/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tpve1\n' >"$rootfs/etc/hosts"
echo 'LABEL=root / ext4 errors=remount-ro 0 1' >"$rootfs/etc/fstab"
cat >"$rootfs/etc/default/grub" <<'GRUB'
# If you change this file, run 'update-grub' afterwards to update
# /boot/grub/grub.cfg.

GRUB_DEFAULT=0
GRUB_TIMEOUT=1
GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`
GRUB_CMDLINE_LINUX_DEFAULT="quiet"
GRUB_CMDLINE_LINUX="console=ttyS0,115200"
GRUB_TERMINAL="serial console"
GRUB_SERIAL_COMMAND="serial --speed=115200"
GRUB
install -m 0755 "$here/guest/setup-grub.sh" "$rootfs/setup-grub.sh"
install -m 0644 "$here/guest/pt-ssh-key.service" "$rootfs/etc/systemd/system/pt-ssh-key.service"
install -m 0644 "$here/guest/20-wired.network" "$rootfs/etc/systemd/network/20-wired.network"
mkdir -p "$rootfs/etc/systemd/system/multi-user.target.wants"
ln -sf /etc/systemd/system/pt-ssh-key.service "$rootfs/etc/systemd/system/multi-user.target.wants/pt-ssh-key.service"
ln -sf /lib/systemd/system/systemd-networkd.service "$rootfs/etc/systemd/system/multi-user.target.wants/systemd-networkd.service"
mkdir -p "$rootfs/etc/ssh/sshd_config.d"
printf 'PermitRootLogin prohibit-password\nUseDNS no\n' >"$rootfs/etc/ssh/sshd_config.d/homelab-e2e.conf"
# A quiet console: no getty on the serial line fighting with the log.
rm -f "$rootfs"/etc/systemd/system/getty.target.wants/* 2>/dev/null || true

log "building the disk image"
truncate -s 3G "$work/disk.img"
echo 'start=2048, type=83, bootable' | sfdisk -q "$work/disk.img"
mkfs.ext4 -q -F -L root -E offset=1048576 -d "$rootfs" "$work/disk.img" 3144704k

log "first boot: the guest installs GRUB (about a minute)"
kernel=$(ls "$rootfs"/boot/vmlinuz-* | head -n1)
initrd=$(ls "$rootfs"/boot/initrd.img-* | head -n1)
timeout 600 qemu-system-x86_64 -accel tcg -cpu max -m 1536 -smp 2 -machine q35 -nographic -no-reboot \
	-kernel "$kernel" -initrd "$initrd" \
	-append "root=LABEL=root rw console=ttyS0 init=/setup-grub.sh panic=1" \
	-drive "file=$work/disk.img,if=virtio,format=raw,cache=unsafe" \
	-serial "file:$work/setup.log" -monitor none >/dev/null 2>&1 || true
grep -q PT-SETUP-OK "$work/setup.log" || { tail -n 40 "$work/setup.log" >&2; log "GRUB setup failed"; exit 1; }

mkdir -p "$(dirname "$image")"
mv "$work/disk.img" "$image.tmp" && mv "$image.tmp" "$image"
log "image ready in $(( $(date +%s) - start ))s: $image"
echo "$image"
