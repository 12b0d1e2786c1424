#!/usr/bin/env bash
# vm.sh start PROFILE DISK DIR PORT | stop DIR | wait-ssh DIR [SECONDS]
#
# Start the e2e guest under QEMU (TCG) with one of the hardware profiles, stop it,
# or wait until its SSH answers. DIR holds the run's files: the SSH key
# (id_ed25519, made once per run by run.sh), qemu.pid (the loop that restarts
# QEMU after each guest reboot), qemu.child.pid (QEMU itself), qemu.stop (set by
# stop, so the loop starts no QEMU again), serial-PROFILE.log, qemu-PROFILE.err.
#
# PROFILE is VENDOR[-DIST-BOOT] (intel-13-uefi, amd-12-bios, ...; run.sh names
# them). BOOT uefi boots OVMF (Debian's ovmf package) from pflash, its variable
# store the file DISK with .vars.fd for .img (a copy per run, as the disk is);
# otherwise SeaBIOS. DIST does not change the machine.
#
# Vendors (all q35, the "GPU" a multifunction device on a PCIe root port: VGA at
# function 0 and ich9-intel-hda at function 1, one IOMMU group like a GeForce and
# its HDMI audio; the NIC an e1000e carrying SSH through a user-mode forward on
# 127.0.0.1):
#   intel   Intel VT-d (intel-iommu, interrupt remapping)
#   amd     AMD-Vi (EPYC CPU, amd-iommu)
#   shared  Intel VT-d, but the "GPU" and the NIC (e1000) sit behind one
#           conventional PCI bridge: one IOMMU group, which the role must refuse
set -euo pipefail

ssh_opts() {
	local dir=$1 port=$2
	echo "-i $dir/id_ed25519 -p $port -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=5 -o BatchMode=yes"
}

cmd=$1; shift
case $cmd in
start)
	profile=$1 disk=$2 dir=$3 port=$4
	vendor=${profile%%-*}
	firmware=()
	case $profile in
	*-uefi)
		firmware=(-drive "if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd"
			-drive "if=pflash,format=raw,file=${disk%.img}.vars.fd") ;;
	esac
	# -no-reboot: a reboot in the guest ends QEMU, and the loop below starts it
	# again on the same disk and variable store, so every reboot is a cold boot.
	# A warm reset under TCG once hung OVMF for good (nothing on the serial line
	# after "reboot: Restarting system", the UEFI guest never back). The serial
	# log is appended to, so it keeps every boot.
	common=(-accel tcg -m 1536 -smp 2 -display none -monitor none "${firmware[@]}"
		-drive "file=$disk,if=virtio,format=raw,cache=unsafe"
		-fw_cfg "name=opt/homelab/authorized_keys,file=$dir/id_ed25519.pub"
		-netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$port-:22"
		-chardev "file,id=serial0,path=$dir/serial-$profile.log,append=on" -serial chardev:serial0
		-no-reboot -pidfile "$dir/qemu.child.pid")
	gpu=(-device pcie-root-port,id=rp1,chassis=1,slot=1
		-device VGA,bus=rp1,addr=0.0,multifunction=on
		-device ich9-intel-hda,bus=rp1,addr=0.1)
	case $vendor in
	intel)
		machine=(-cpu max -machine q35,kernel-irqchip=split
			-device intel-iommu,intremap=on -device e1000e,netdev=n0 "${gpu[@]}") ;;
	amd)
		machine=(-cpu EPYC -machine q35 -device amd-iommu -device e1000e,netdev=n0 "${gpu[@]}") ;;
	shared)
		machine=(-cpu max -machine q35,kernel-irqchip=split -device intel-iommu,intremap=on
			-device pcie-pci-bridge,id=br1
			-device VGA,bus=br1,addr=1.0 -device e1000,netdev=n0,bus=br1,addr=2.0) ;;
	*) echo "unknown vendor in profile $profile" >&2; exit 2 ;;
	esac
	rm -f "$dir/qemu.stop" "$dir/qemu.child.pid"
	# The loop runs on its own (setsid, no terminal, its output in files), so
	# whoever started it does not wait on it; qemu.pid is the loop's pid. QEMU's
	# own warnings (TCG lacks some EPYC CPUID bits) go to qemu-PROFILE.err.
	setsid bash -c '
		while :; do
			qemu-system-x86_64 "$@" || exit 0 # killed or failed: no restart
			[ -e "'"$dir"'/qemu.stop" ] && exit 0
		done' qemu-loop "${common[@]}" "${machine[@]}" \
		</dev/null >>"$dir/qemu-$profile.err" 2>&1 &
	echo $! >"$dir/qemu.pid"
	# Started when QEMU has written its pid (it fails at once on a bad option).
	for _ in $(seq 50); do [ -s "$dir/qemu.child.pid" ] && break; sleep 0.1; done
	[ -s "$dir/qemu.child.pid" ] || { echo "QEMU did not start (qemu-$profile.err)" >&2; exit 1; }
	;;
stop)
	dir=$1
	touch "$dir/qemu.stop"
	for f in qemu.pid qemu.child.pid; do # the loop first, so it starts no QEMU again
		[ -f "$dir/$f" ] || continue
		pid=$(cat "$dir/$f")
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
		kill -9 "$pid" 2>/dev/null || true
		rm -f "$dir/$f"
	done
	;;
wait-ssh)
	dir=$1 port=$2 limit=${3:-240}
	start=$(date +%s)
	# shellcheck disable=SC2046
	until ssh $(ssh_opts "$dir" "$port") root@127.0.0.1 true 2>/dev/null; do
		if [ $(( $(date +%s) - start )) -ge "$limit" ]; then
			echo "no SSH after ${limit}s" >&2; exit 1
		fi
		sleep 3
	done
	;;
ssh)
	dir=$1 port=$2; shift 2
	# shellcheck disable=SC2046
	exec ssh $(ssh_opts "$dir" "$port") root@127.0.0.1 "$@"
	;;
*) echo "usage: vm.sh start|stop|wait-ssh|ssh ..." >&2; exit 2 ;;
esac
