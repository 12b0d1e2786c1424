#!/bin/sh
# First boot of the e2e image (QEMU direct kernel boot, init=/setup-boot.sh):
# the guest installs its own boot loader, so every later boot goes through real
# GRUB. Then it powers off.
set -e
mountpoint -q /proc || mount -t proc proc /proc
mountpoint -q /sys || mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mount -o remount,rw /
grub-install --target=i386-pc /dev/vda
update-grub
# Later initramfs rebuilds (the role's) only need this machine's modules: under
# TCG, MODULES=most takes about 15 minutes, MODULES=dep about 2.
sed -i 's/^MODULES=.*/MODULES=dep/' /etc/initramfs-tools/initramfs.conf
rm -f /setup-boot.sh
sync
echo PT-SETUP-OK
mount -o remount,ro / || true
echo o > /proc/sysrq-trigger
sleep 30
