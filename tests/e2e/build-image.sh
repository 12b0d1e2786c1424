#!/usr/bin/env bash
# build-image.sh [DIST [BOOT]]
#
# Build (or reuse) an end-to-end test host and print the path of its cached disk
# image. DIST: 12 (Debian 12 bookworm, Proxmox VE 8's base; the default) or 13
# (Debian 13 trixie, Proxmox VE 9's base). BOOT:
#   bios  real GRUB (grub-pc) on an MBR disk, installed by the guest itself on
#         its first boot; the command line in /etc/default/grub (the default)
#   uefi  a GPT disk with an EFI system partition that is not mounted, managed by
#         the proxmox-boot-tool stand-in (guest/proxmox-boot-tool) the way
#         Proxmox VE manages systemd-boot hosts: systemd-boot (Debian's package)
#         on the ESP, the command line in /etc/kernel/cmdline, loader entries
#         written by `proxmox-boot-tool refresh`. Booted with OVMF (Debian's
#         ovmf package); its variable store (vars.fd) is cached beside the disk.
#         GRUB's tools and /etc/default/grub are there too, unused, as on a
#         Proxmox VE host that boots systemd-boot.
# Both: initramfs-tools with MODULES=dep, openssh-server, python3.
#
# Images are cached outside the repository, keyed by a hash of this script,
# tests/e2e/guest/ and the arguments, so a rerun starts in seconds. The run's SSH
# key is not in the image: the guest reads it from QEMU's fw_cfg at every boot.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dist=${1:-12} boot=${2:-bios}
case $dist in
12) suite=bookworm ;;
13) suite=trixie ;;
*) echo "build-image: unknown distribution '$dist' (12 or 13)" >&2; exit 2 ;;
esac
case $boot in bios | uefi) ;; *) echo "build-image: unknown boot '$boot' (bios or uefi)" >&2; exit 2 ;; esac
cache_root=${PT_E2E_CACHE:-/var/cache/homelab-passthrough/e2e}
key=$( (cat "$0" "$here"/guest/*; echo "$dist $boot") | sha256sum | cut -c1-16)
image=$cache_root/debian$dist-$boot-$key/disk.img
if [ -f "$image" ]; then echo "$image"; exit 0; fi

log() { echo "build-image ($dist $boot): $*" >&2; }
# OVMF's split images: code read-only, variables writable (boot entries persist).
ovmf_code=/usr/share/OVMF/OVMF_CODE_4M.fd ovmf_vars=/usr/share/OVMF/OVMF_VARS_4M.fd
if [ "$boot" = uefi ] && [ ! -f "$ovmf_code" ]; then
	log "no $ovmf_code: install Debian's ovmf package (make deps-e2e)"; exit 1
fi
# The Debian mirror this machine's apt uses (no host is named in the repository).
mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $3 ~ /^bookworm$/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$mirror" ] || { log "no Debian mirror found in /etc/apt"; exit 1; }

work=$(mktemp -d /var/tmp/pt-e2e-build.XXXXXX)
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs
start=$(date +%s)
pkgs=linux-image-amd64,initramfs-tools,kmod,pciutils,openssh-server,python3,systemd-sysv,dbus,udev,zstd,iproute2,procps
if [ "$boot" = bios ]; then
	pkgs=$pkgs,grub-pc
else
	# The EFI binary package named, not left to systemd-boot's "signed | plain"
	# alternative: debootstrap takes the first, a virtual package, and fails.
	pkgs=$pkgs,systemd-boot,systemd-boot-efi,dosfstools,util-linux,grub2-common,grub-efi-amd64-bin
	[ "$dist" = 12 ] || pkgs=$pkgs,systemd-boot-tools
fi
# debootstrap's result is cached on its own (keyed by suite and packages), so a
# failed first boot or a change to the guest files does not repeat it: on a
# busy 2-core machine it takes 15-20 minutes.
base=$cache_root/rootfs-$suite-$(echo "$pkgs" | sha256sum | cut -c1-16).tar
if [ -f "$base" ]; then
	log "unpacking the cached debootstrap result $base"
	mkdir "$rootfs" && tar -C "$rootfs" -xpf "$base"
else
	log "debootstrap $suite into $rootfs (a few minutes)"
	debootstrap --variant=minbase --include="$pkgs" \
		"$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }
	log "debootstrap done in $(( $(date +%s) - start ))s"
	mkdir -p "$cache_root"
	tar -C "$rootfs" -cpf "$base.tmp" . && mv "$base.tmp" "$base"
fi

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
install -m 0755 "$here/guest/setup-$boot.sh" "$rootfs/setup-boot.sh"
install -m 0644 "$here/guest/pt-ssh-key.service" "$rootfs/etc/systemd/system/pt-ssh-key.service"
install -m 0644 "$here/guest/20-wired.network" "$rootfs/etc/systemd/network/20-wired.network"
mkdir -p "$rootfs/etc/systemd/system/multi-user.target.wants"
ln -sf /etc/systemd/system/pt-ssh-key.service "$rootfs/etc/systemd/system/multi-user.target.wants/pt-ssh-key.service"
ln -sf /lib/systemd/system/systemd-networkd.service "$rootfs/etc/systemd/system/multi-user.target.wants/systemd-networkd.service"
mkdir -p "$rootfs/etc/ssh/sshd_config.d"
printf 'PermitRootLogin prohibit-password\nUseDNS no\n' >"$rootfs/etc/ssh/sshd_config.d/homelab-e2e.conf"
# A quiet console: no getty on the serial line fighting with the log.
rm -f "$rootfs"/etc/systemd/system/getty.target.wants/* 2>/dev/null || true
if [ "$boot" = uefi ]; then
	# What proxmox-kernel-helper installs: the tool, the kernel hook that
	# `refresh` runs, and the initramfs hook that copies every rebuilt initrd
	# to the ESPs (update-initramfs run by hand or by a module, not from a
	# kernel package's own hook).
	install -m 0755 "$here/guest/proxmox-boot-tool" "$rootfs/usr/sbin/proxmox-boot-tool"
	mkdir -p "$rootfs/etc/kernel/postinst.d" "$rootfs/etc/kernel/postrm.d" "$rootfs/etc/initramfs/post-update.d"
	printf '#!/bin/sh\nexec /usr/sbin/proxmox-boot-tool refresh\n' >"$rootfs/etc/kernel/postinst.d/zz-proxmox-boot"
	printf '#!/bin/sh\nexec /usr/sbin/proxmox-boot-tool refresh\n' >"$rootfs/etc/kernel/postrm.d/zz-proxmox-boot"
	printf '#!/bin/sh\n[ -n "$INITRAMFS_TOOLS_KERNEL_HOOK" ] || exec /usr/sbin/proxmox-boot-tool refresh --hook zz-proxmox-boot\n' \
		>"$rootfs/etc/initramfs/post-update.d/proxmox-boot-sync"
	chmod 0755 "$rootfs/etc/kernel/postinst.d/zz-proxmox-boot" "$rootfs/etc/kernel/postrm.d/zz-proxmox-boot" \
		"$rootfs/etc/initramfs/post-update.d/proxmox-boot-sync"
	# Proxmox VE's installer writes the whole command line here, root= first.
	# no_timer_check: under TCG on a busy machine 6.12's check of the timer
	# through the remapped IO-APIC (VT-d with interrupt remapping) can fail
	# and panic the guest at boot.
	echo 'root=LABEL=root ro console=ttyS0,115200 no_timer_check quiet' >"$rootfs/etc/kernel/cmdline"
fi

log "building the disk image"
if [ "$boot" = bios ]; then
	truncate -s 3G "$work/disk.img"
	echo 'start=2048, type=83, bootable' | sfdisk -q "$work/disk.img"
	mkfs.ext4 -q -F -L root -E offset=1048576 -d "$rootfs" "$work/disk.img" 3144704k
else
	# GPT: a 512 MiB ESP (formatted by the guest), then the root filesystem.
	truncate -s 3584M "$work/disk.img"
	printf 'label: gpt\nstart=2048, size=1048576, type=U\nstart=1050624, type=L\n' | sfdisk -q "$work/disk.img"
	mkfs.ext4 -q -F -L root -E offset=$((1050624 * 512)) -d "$rootfs" "$work/disk.img" 3143680k
	cp "$ovmf_vars" "$work/vars.fd"
fi

log "first boot: the guest installs its boot loader (a minute or two)"
kernel=$(ls "$rootfs"/boot/vmlinuz-* | head -n1)
initrd=$(ls "$rootfs"/boot/initrd.img-* | head -n1)
firmware=()
[ "$boot" = uefi ] && firmware=(-drive "if=pflash,format=raw,readonly=on,file=$ovmf_code"
	-drive "if=pflash,format=raw,file=$work/vars.fd")
timeout 900 qemu-system-x86_64 -accel tcg -cpu max -m 1536 -smp 2 -machine q35 -nographic -no-reboot \
	"${firmware[@]}" -kernel "$kernel" -initrd "$initrd" \
	-append "root=LABEL=root rw console=ttyS0 init=/setup-boot.sh panic=1" \
	-drive "file=$work/disk.img,if=virtio,format=raw,cache=unsafe" \
	-serial "file:$work/setup.log" -monitor none >/dev/null 2>&1 || true
grep -q PT-SETUP-OK "$work/setup.log" || { tail -n 60 "$work/setup.log" >&2; log "boot loader setup failed"; exit 1; }

dir=$(dirname "$image")
mkdir -p "$dir"
[ "$boot" = uefi ] && cp "$work/vars.fd" "$dir/vars.fd"
cp "$work/setup.log" "$dir/setup.log"
mv "$work/disk.img" "$image.tmp" && mv "$image.tmp" "$image"
log "image ready in $(( $(date +%s) - start ))s: $image"
echo "$image"
