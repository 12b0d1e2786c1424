#!/bin/sh
# Capture what a booted Linux host shows of its PCI devices, IOMMU and the
# readiness evidence into OUT/capture.tgz (OUT: $1, default /tmp), in the layout
# tests/fixtures/captures/README.md describes and `mkroot --capture` reads back.
# Run as root on the host itself (the e2e guests run it before the role changes
# anything): /proc/iomem shows addresses to root only, config space past 64
# bytes too. POSIX sh and coreutils only; reads, never writes, outside OUT.
set -u
base=${1:-/tmp}
out=$base/capture
rm -rf "$out"
mkdir -p "$out/devices" "$out/files"

# Per device: its attributes as the kernel prints them, where its links point,
# the first 4 KiB of config space, the names that exist (LS).
for d in /sys/bus/pci/devices/*; do
	[ -e "$d" ] || continue
	a=${d##*/}
	t=$out/devices/$a
	mkdir -p "$t"
	readlink -f "$d" >"$t/REALPATH"
	for f in vendor device subsystem_vendor subsystem_device class revision boot_vga \
		numa_node reset_method driver_override modalias enable irq local_cpulist \
		current_link_speed current_link_width max_link_speed max_link_width \
		d3cold_allowed power_state label index resource sriov_totalvfs; do
		[ -r "$d/$f" ] && cat "$d/$f" >"$t/$f" 2>/dev/null
	done
	for l in iommu_group driver physfn firmware_node; do
		[ -L "$d/$l" ] && readlink "$d/$l" >"$t/LINK.$l"
	done
	[ -r "$d/config" ] && dd if="$d/config" of="$t/config" bs=4096 count=1 2>/dev/null
	[ -d "$d/mdev_supported_types" ] && ls "$d/mdev_supported_types" >"$t/mdev_supported_types.ls"
	ls "$d" >"$t/LS" 2>/dev/null
done

for g in /sys/kernel/iommu_groups/*; do
	[ -d "$g" ] || continue
	echo "${g##*/} $(cat "$g/type" 2>/dev/null) $(ls "$g/devices" | tr '\n' ' ')"
done >"$out/iommu_groups.txt"
ls -la /sys/kernel/iommu_groups >"$out/iommu_groups.ls" 2>&1
ls -la /sys/class/iommu >"$out/class_iommu.ls" 2>&1
ls /sys/bus/pci/drivers >"$out/pci_drivers" 2>&1

# The host: kernel, command line, CPU, modules, and the evidence the readiness
# verdict reads (the memory map, interrupt remapping, Secure Boot, vfio's
# unsafe-interrupts switch, the kernel's built-in drivers).
cat /proc/cmdline >"$out/cmdline"
uname -a >"$out/uname"
cat /etc/os-release >"$out/os-release" 2>/dev/null
grep -m1 -E '^vendor_id' /proc/cpuinfo >"$out/cpu"
grep -m1 -E '^model name' /proc/cpuinfo >>"$out/cpu"
grep -m1 '^flags' /proc/cpuinfo >>"$out/cpu"
cat /proc/modules >"$out/modules"
cat /proc/iomem >"$out/iomem"
# The boot parameters (x86): screen_info says where the firmware framebuffer
# was at boot, even after the card's driver took it over.
[ -r /sys/kernel/boot_params/data ] && cat /sys/kernel/boot_params/data >"$out/boot_params"
cat /proc/interrupts >"$out/interrupts"
(dmesg 2>&1 | grep -i -E 'iommu|dmar|amd-vi|vfio|remapping|efifb|simple-framebuffer|bootfb' | head -200) >"$out/dmesg-iommu"
lspci -nnk >"$out/lspci-nnk" 2>&1 || echo "no lspci" >"$out/lspci-nnk"
p=/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts
[ -r "$p" ] && cat "$p" >"$out/allow_unsafe_interrupts"
if [ -d /sys/firmware/efi ]; then
	echo uefi >"$out/firmware"
	sb=$(ls /sys/firmware/efi/efivars/SecureBoot-* 2>/dev/null | head -n 1)
	[ -n "$sb" ] && cat "$sb" >"$out/efivar-SecureBoot"
else
	echo bios >"$out/firmware"
fi

# The files that load drivers early or configure them, under files/ at their
# own paths: the initramfs module list, /etc/modules, modprobe.d and
# modules-load.d, and the running kernel's modules.builtin.
for f in /etc/initramfs-tools/modules /etc/modules /etc/modprobe.d/*.conf \
	/usr/lib/modprobe.d/*.conf /lib/modprobe.d/*.conf /etc/modules-load.d/*.conf \
	/usr/lib/modules-load.d/*.conf "/lib/modules/$(uname -r)/modules.builtin"; do
	[ -f "$f" ] || continue
	mkdir -p "$out/files${f%/*}"
	cat "$f" >"$out/files$f"
done

cd "$base" && tar -czf capture.tgz capture && rm -rf "$out"
echo "$base/capture.tgz"
