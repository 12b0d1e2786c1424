#!/bin/sh
# First boot of the UEFI e2e image (OVMF, QEMU direct kernel boot,
# init=/setup-boot.sh): the guest sets up its ESP the way the Proxmox VE installer
# does on a systemd-boot host (format it, `proxmox-boot-tool init`, `refresh`), so
# every later boot goes OVMF -> systemd-boot -> the loader entry written from
# /etc/kernel/cmdline. Then it powers off.
set -e
mountpoint -q /proc || mount -t proc proc /proc
mountpoint -q /sys || mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mountpoint -q /run || mount -t tmpfs tmpfs /run
mount -o remount,rw /
[ -d /sys/firmware/efi ] || { echo "not booted with UEFI"; exit 1; }
mountpoint -q /sys/firmware/efi/efivars || mount -t efivarfs efivarfs /sys/firmware/efi/efivars
# No udev here (its coldplug under TCG on a busy machine outlasts any timeout):
# the stand-in finds the ESP with blkid when /dev/disk/by-uuid is missing, and
# bootctl reads the partition type with libblkid itself.
mkfs.vfat -F 32 -n ESP /dev/vda1
# bootctl checks the ESP's partition type; the stand-in checked it with blkid
# already, so a bootctl that would ask udev instead need not.
SYSTEMD_RELAX_ESP_CHECKS=1 proxmox-boot-tool init /dev/vda1
# Later initramfs rebuilds (the role's) only need this machine's modules: under
# TCG, MODULES=most takes about 15 minutes, MODULES=dep about 2.
sed -i 's/^MODULES=.*/MODULES=dep/' /etc/initramfs-tools/initramfs.conf
proxmox-boot-tool refresh
proxmox-boot-tool status
rm -f /setup-boot.sh
sync
echo PT-SETUP-OK
mount -o remount,ro / || true
echo o > /proc/sysrq-trigger
sleep 30
