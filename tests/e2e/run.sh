#!/usr/bin/env bash
# End-to-end: the gpu_passthrough role against real Debian kernels under QEMU
# (TCG), real boot loaders, real initramfs-tools and real vfio-pci; the test
# doubles are pvesh (build/tools/fake-pvesh as /usr/bin/pvesh in the guest) and,
# on UEFI guests, proxmox-boot-tool (tests/e2e/guest/proxmox-boot-tool).
#
#   tests/e2e/run.sh PROFILE...     (make e2e; needs make install tools)
#
# PROFILE is VENDOR-DIST-BOOT: VENDOR intel (VT-d) or amd (AMD-Vi), DIST 12
# (Debian 12, Proxmox VE 8's base) or 13 (Debian 13, Proxmox VE 9's), BOOT bios
# (SeaBIOS, GRUB, /etc/default/grub) or uefi (OVMF, systemd-boot managed by
# proxmox-boot-tool, /etc/kernel/cmdline). A bare "intel" or "amd" means
# VENDOR-12-bios. No argument: intel-13-uefi amd-12-bios.
#
# Per profile: boot, facts, --check --diff (guest files unchanged), the real run
# (command line, update-grub or proxmox-boot-tool refresh, update-initramfs,
# reboot through ansible.builtin.reboot), checks after the reboot, a second run
# with changed=0, rollback.yml + reboot with the original drivers and files back.
# After the first profile, on the same guest: blacklisting the NIC's driver is
# refused. Last, the shared-group refusal on a live kernel (the "shared" vendor:
# GPU and NIC in one group), booted from the first profile's image.
# Prints a table (profile, step, expected, got, seconds); logs in build/e2e/.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# PT_E2E_OUT and PT_E2E_PORT let two runs go side by side.
out=${PT_E2E_OUT:-$repo/build/e2e}
rm -rf "$out"; mkdir -p "$out"
# --captures: per profile only boot, facts and the capture with its checks; the
# tarballs go to tests/fixtures/captures/e2e-PROFILE.tgz (make e2e-captures).
captures_only=no
if [ "${1:-}" = --captures ]; then captures_only=yes; shift; fi
profiles=()
for p in "${@:-intel-13-uefi amd-12-bios}"; do
	for q in $p; do
		case $q in
		intel | amd) q=$q-12-bios ;;
		esac
		case $q in
		intel-1[23]-bios | intel-1[23]-uefi | amd-1[23]-bios | amd-1[23]-uefi) profiles+=("$q") ;;
		*) echo "e2e: unknown profile '$q' (VENDOR-DIST-BOOT: intel|amd, 12|13, bios|uefi)" >&2; exit 2 ;;
		esac
	done
done
port=${PT_E2E_PORT:-2222}
export ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_HOST_KEY_CHECKING=False
export ANSIBLE_ROLES_PATH=$repo/roles ANSIBLE_DEPRECATION_WARNINGS=False
# ServerAlive: QEMU's user-mode network keeps the host side of a TCP connection
# open after the guest reboots (a real host answers with a reset), so an SSH
# master from before a reboot would hang ansible.builtin.reboot's boot-id check
# for ever (seen: a UEFI guest back in 2 minutes, the check stuck for 13). With
# keepalives the stale master gives up within 2 minutes (generous: a TCG guest
# under load can be slow to answer) and the check reconnects.
export ANSIBLE_SSH_ARGS="-o ControlMaster=auto -o ControlPersist=60s -o ServerAliveInterval=15 -o ServerAliveCountMax=8"

if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
	echo "e2e: 127.0.0.1:$port is already in use (another e2e run?); set PT_E2E_PORT" >&2
	exit 1
fi
ssh-keygen -q -t ed25519 -N '' -f "$out/id_ed25519"
disk=/dev/shm/homelab-passthrough-e2e-$port.img

rows=() failures=0
record() { # step expected got seconds
	local status=ok
	[ "$2" = "$3" ] || { status=FAIL; failures=$((failures + 1)); }
	rows+=("$(printf '%-14s %-44s %-22s %-22s %5ss %s' "$profile" "$1" "$2" "$3" "$4" "$status")")
	printf '%-14s %-44s %-22s %-22s %5ss %s\n' "$profile" "$1" "$2" "$3" "$4" "$status"
}
vm() { "$here/vm.sh" "$@"; }
gssh() { vm ssh "$out" "$port" "$@"; }
t0=0
tick() { t0=$(date +%s); }
secs() { echo $(( $(date +%s) - t0 )); }

inventory() { # devices blacklist
	cat >"$out/inventory.yml" <<INV
all:
  children:
    pve:
      hosts:
        pve1:
          ansible_host: 127.0.0.1
          ansible_port: $port
          ansible_user: root
          ansible_ssh_private_key_file: $out/id_ed25519
          ansible_ssh_common_args: "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
          ansible_python_interpreter: /usr/bin/python3
          gpu_passthrough_devices: $1
          gpu_passthrough_mapping_name: gpu-e2e
          gpu_passthrough_mapping_description: QEMU VGA incl. audio function
          gpu_passthrough_blacklist_drivers: $2
          gpu_passthrough_reboot_timeout: 600
INV
}
play() { # log playbook [args]
	local log=$1; shift
	ansible-playbook -i "$out/inventory.yml" "$@" >"$out/$log" 2>&1
}
recap() { # log → "changed=N failed=N"
	sed -n 's/^pve1 *: .*changed=\([0-9]*\).*failed=\([0-9]*\).*/changed=\1 failed=\2/p' "$out/$1" | tail -n1
}
# The files the role may change; on UEFI guests also the loader entries and
# loader.conf on the ESP, read in a private mount namespace. Not -o ro: systemd
# automounts the ESP at /efi, and vfat refuses a read-only mount of a superblock
# that is mounted read-write ("already mounted on /efi").
config_hashes() {
	gssh 'sha256sum /etc/default/grub /etc/kernel/cmdline /etc/modules /boot/grub/grub.cfg $(ls /etc/modprobe.d/* 2>/dev/null) 2>/dev/null; ls /etc/modprobe.d /etc/initramfs-tools/scripts/init-top 2>/dev/null
		[ -e /dev/disk/by-label/ESP ] && unshare -m sh -c "mount -o noatime /dev/disk/by-label/ESP /mnt && cd /mnt && sha256sum loader/loader.conf loader/entries/*"' | sort
}
esp_options() { # the options lines of the ESP's loader entries
	gssh 'unshare -m sh -c "mount -o noatime /dev/disk/by-label/ESP /mnt && sed -n \"s/^options *//p\" /mnt/loader/entries/*.conf"'
}
has_params() { # "WORD..." "TEXT": yes when TEXT holds every WORD as a whole token
	local p got=yes
	local text
	text=" $(printf '%s' "$2" | tr '\n\t' '  ') "
	for p in $1; do case $text in *" $p "*) ;; *) got=no ;; esac; done
	echo "$got"
}
drivers() { gssh 'for f in 0000:01:00.0 0000:01:00.1; do basename "$(readlink /sys/bus/pci/devices/$f/driver)"; done' | tr '\n' ' ' | sed 's/ $//'; }

# The Proxmox double: pvesh keeps /etc/pve/mapping/pci.cfg (on a real node
# /etc/pve is the cluster filesystem; without it pvesh fails like pmxcfs down).
install_pvesh() {
	scp -q -P "$port" -i "$out/id_ed25519" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		"$repo/build/tools/fake-pvesh" root@127.0.0.1:/usr/bin/pvesh
	gssh mkdir -p /etc/pve/mapping
}

# The guest as its kernel shows it, for the readiness verdict (issue 16):
# capture.sh's tarball (build/e2e/capture-PROFILE.tgz; make e2e-captures
# keeps them as tests/fixtures/captures/e2e-PROFILE.tgz), the root mkroot builds
# from it, and iommu_facts on that root compared with what the module said on
# the guest itself ($out/facts.json, just gathered).
capture_guest() { # profile
	scp -q -P "$port" -i "$out/id_ed25519" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		"$here/capture.sh" root@127.0.0.1:/tmp/pt-capture.sh &&
		gssh 'sh /tmp/pt-capture.sh /tmp >/dev/null && cat /tmp/capture.tgz && rm -f /tmp/capture.tgz /tmp/pt-capture.sh' \
			>"$out/capture-$1.tgz"
}
check_evidence() { # profile bootmode
	local root=$out/root-$1 fb want_fb reset_kernel
	capture_guest "$1"
	record "capture of sysfs, /proc/iomem, reset_method" yes "$([ -s "$out/capture-$1.tgz" ] && echo yes || echo no)" 0
	rm -rf "$root"
	"$repo/build/tools/mkroot" --capture "$out/capture-$1.tgz" "$root" >"$out/mkroot-$1.log" 2>&1
	printf '{"root": "%s"}\n' "$root" >"$out/capture-args-$1.json"
	"$repo/plugins/modules/iommu_facts" "$out/capture-args-$1.json" >"$out/capture-facts-$1.json" 2>"$out/capture-facts-$1.err"
	"$here/evidence.py" "$out/facts.json" >"$out/evidence-guest-$1.json" 2>&1
	"$here/evidence.py" "$out/capture-facts-$1.json" >"$out/evidence-capture-$1.json" 2>&1
	diff -u "$out/evidence-guest-$1.json" "$out/evidence-capture-$1.json" >"$out/evidence-$1.diff"
	record "its root gives iommu_facts the same evidence" same "$([ -s "$out/evidence-$1.diff" ] && echo differs || echo same)" 0
	# What the guest's kernel shows and the facts say: the QEMU VGA is the boot
	# GPU; OVMF booted the kernel on its GOP framebuffer in BAR 0, which
	# bochs-drm has taken over since (so /proc/iomem names bochs-drm there and
	# only the boot parameters tell: "EFI framebuffer at boot"), SeaBIOS' text
	# mode has none; the reset methods are the kernel's own list.
	want_fb="boot_vga none"; [ "$2" = uefi ] && want_fb="boot_vga EFI@0"
	fb=$(/usr/bin/python3 -c 'import json,sys; f=json.load(open(sys.argv[1]))["functions"]["0000:01:00.0"]
print(("boot_vga" if f["boot_vga"] else "not_boot_vga") + " " + (" ".join("%s@%s" % (b["name"].split()[0], b["bar"]) for b in f["framebuffers"] or []) or "none"))' \
		"$out/evidence-guest-$1.json" 2>/dev/null)
	record "VGA: boot GPU, firmware framebuffer in BAR" "$want_fb" "${fb:-error}" 0
	reset_kernel=$(gssh cat /sys/bus/pci/devices/0000:01:00.0/reset_method)
	record "reset_methods as the kernel lists them" "${reset_kernel:-none}" \
		"$(/usr/bin/python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["functions"]["0000:01:00.0"]["reset_methods"]) or "none")' "$out/evidence-guest-$1.json" 2>/dev/null)" 0
}

image_for() { # profile → the cached image of its distribution and boot (built if needed)
	local rest=${1#*-}
	"$here/build-image.sh" "${rest%-*}" "${rest#*-}"
}
boot() { # vm-profile image
	vm stop "$out"
	cp --sparse=always "$2" "$disk"
	case $1 in *-uefi) cp "$(dirname "$2")/vars.fd" "${disk%.img}.vars.fd" ;; esac
	vm start "$1" "$disk" "$out" "$port" && vm wait-ssh "$out" "$port" 600
}

run_profile() { # profile first(yes|no)
	profile=$1
	local vendor=${1%%-*} rest=${1#*-} dist bootmode image
	dist=${rest%-*} bootmode=${rest#*-}
	tick; image=$(image_for "$profile")
	record "image ready (cached or built)" yes "$([ -n "$image" ] && echo yes || echo no)" "$(secs)"
	[ -n "$image" ] || { echo "e2e: building the image for $profile failed" >&2; return; }
	tick; boot "$profile" "$image"; record "boot, SSH answers" yes "$([ $? -eq 0 ] && echo yes || echo no)" "$(secs)"
	local kver
	kver=$(gssh uname -r)
	record "Debian $dist guest, kernel $kver" "$dist" "$(gssh '. /etc/os-release; echo $VERSION_ID')" 0
	if [ "$bootmode" = uefi ]; then
		# systemd-boot records itself in the LoaderInfo EFI variable.
		record "booted by systemd-boot (UEFI)" yes \
			"$(gssh 'tr -d "\\000" </sys/firmware/efi/efivars/LoaderInfo-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f 2>/dev/null' | grep -q systemd-boot && echo yes || echo no)" 0
		record "proxmox-boot-tool status: uefi" yes \
			"$(gssh proxmox-boot-tool status 2>/dev/null | grep -q 'is configured with: uefi' && echo yes || echo no)" 0
	else
		record "booted by GRUB (BIOS)" yes "$(gssh '[ ! -d /sys/firmware/efi ] && grep -q BOOT_IMAGE= /proc/cmdline' && echo yes || echo no)" 0
	fi
	install_pvesh
	inventory '["0000:01:00"]' '[]'

	tick
	rm -f "$out/facts.json"
	PT_RESULT_FILE=$out/facts.json ANSIBLE_LOAD_CALLBACK_PLUGINS=1 ANSIBLE_CALLBACKS_ENABLED=result_file \
		ANSIBLE_CALLBACK_PLUGINS=$repo/tests/integration/callback_plugins \
		ansible -i "$out/inventory.yml" pve1 -m homelab.passthrough.iommu_facts >"$out/$profile-facts.log" 2>&1
	got=$(/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["ansible_facts"]["iommu"]; g=d["gpus"].get("0000:01:00.0",{}); print("%s,%s,%s" % (d["enabled"], len(g.get("functions",[])), g.get("isolated")))' "$out/facts.json" 2>/dev/null)
	record "iommu_facts: enabled, GPU functions, isolated" "True,2,True" "${got:-error}" "$(secs)"
	tick; check_evidence "$profile" "$bootmode"
	if [ "$captures_only" = yes ]; then
		cp "$out/capture-$profile.tgz" "$repo/tests/fixtures/captures/e2e-$profile.tgz"
		vm stop "$out"
		return
	fi

	before=$(config_hashes)
	local grub_before
	grub_before=$(gssh sha256sum /etc/default/grub)
	tick; play "$profile-check.log" "$repo/playbooks/site.yml" --check --diff
	record "site.yml --check --diff succeeds" 0 "$?" "$(secs)"
	record "check mode left the guest's files as they were" same "$([ "$before" = "$(config_hashes)" ] && echo same || echo changed)" 0

	tick; play "$profile-site.log" "$repo/playbooks/site.yml"
	record "site.yml (edit, update-grub, initramfs, reboot)" 0 "$?" "$(secs)"
	want="iommu=pt"; [ "$vendor" = intel ] && want="intel_iommu=on iommu=pt"
	record "/proc/cmdline carries: $want" yes "$(has_params "$want" "$(gssh cat /proc/cmdline)")" 0
	if [ "$bootmode" = uefi ]; then
		record "/etc/kernel/cmdline carries them" yes "$(has_params "$want" "$(gssh head -n1 /etc/kernel/cmdline)")" 0
		record "ESP loader entries carry them" yes "$(has_params "$want" "$(esp_options)")" 0
		record "/etc/default/grub untouched, no grub.cfg" yes \
			"$([ "$grub_before" = "$(gssh sha256sum /etc/default/grub)" ] && gssh '[ ! -e /boot/grub/grub.cfg ]' && echo yes || echo no)" 0
	fi
	# gpu_passthrough_framebuffer auto: the boot GPU with the firmware's
	# framebuffer in its BAR (the UEFI guests) gets initcall_blacklist=sysfb_init,
	# and after the reboot no firmware framebuffer claims memory any more.
	local fb_param=no; [ "$bootmode" = uefi ] && fb_param=yes
	record "initcall_blacklist=sysfb_init (framebuffer auto)" "$fb_param" \
		"$(has_params initcall_blacklist=sysfb_init "$(gssh cat /proc/cmdline)")" 0
	record "/proc/iomem: no firmware framebuffer left" none \
		"$(gssh "grep -E 'BOOTFB|efifb|simple-framebuffer|vesafb' /proc/iomem | sed 's/^ *//' | tr '\\n' ';'" | sed 's/;$//' | grep . || echo none)" 0
	record "IOMMU groups exist" yes "$(gssh 'ls /sys/kernel/iommu_groups | grep -q . && echo yes || echo no')" 0
	record "both GPU functions on vfio-pci" "vfio-pci vfio-pci" "$(drivers)" 0
	record "SSH over the NIC after the reboot" yes "$(gssh true && echo yes || echo no)" 0
	group=$(gssh 'basename $(readlink /sys/bus/pci/devices/0000:01:00.0/iommu_group)')
	record "mapping gpu-e2e in pci.cfg with the group" yes \
		"$(gssh cat /etc/pve/mapping/pci.cfg | grep -q "iommugroup=$group,node=pve1,path=0000:01:00" && echo yes || echo no)" 0

	tick; play "$profile-site2.log" "$repo/playbooks/site.yml"
	record "second run" "changed=0 failed=0" "$(recap "$profile-site2.log")" "$(secs)"

	tick; play "$profile-rollback.log" "$repo/playbooks/rollback.yml"
	record "rollback.yml (and reboot)" 0 "$?" "$(secs)"
	record "functions back on their drivers" "bochs-drm snd_hda_intel" "$(drivers)" 0
	record "original files restored" same "$([ "$before" = "$(config_hashes)" ] && echo same || echo changed)" 0
	[ "$bootmode" = uefi ] && record "/proc/cmdline without them again" no "$(has_params "$want" "$(gssh cat /proc/cmdline)")" 0
	# The guest is as it was before the run: refuse to blacklist its NIC's
	# driver here rather than boot another guest for it.
	if [ "$2" = yes ]; then
		inventory '["0000:01:00"]' '["e1000e"]'
		tick; play blacklist-nic.log "$repo/playbooks/site.yml"
		local rc=$?
		record "blacklisting e1000e (the NIC's driver) refused" "refused" "$([ $rc -ne 0 ] && grep -q e1000e "$out/blacklist-nic.log" && echo refused || echo "rc=$rc")" "$(secs)"
		record "guest reachable, files unchanged" "yes" "$(gssh true && [ "$before" = "$(config_hashes)" ] && echo yes || echo no)" 0
	fi
	vm stop "$out"
}

run_refusals() { # image of the first profile
	profile=shared-${profiles[0]#*-}
	tick; boot "$profile" "$1"; record "boot (GPU and NIC behind one bridge)" 0 "$?" "$(secs)"
	install_pvesh
	gpu=$(gssh "lspci -Dn -d 1234:1111 | cut -d' ' -f1")
	before=$(config_hashes)
	inventory "[\"$gpu\"]" '[]'
	tick; play shared-site.log "$repo/playbooks/site.yml"
	rc=$?
	record "shared group refused" "refused" "$([ $rc -ne 0 ] && grep -q -i 'group' "$out/shared-site.log" && echo refused || echo "rc=$rc")" "$(secs)"
	record "guest reachable, files unchanged" "yes" "$(gssh true && [ "$before" = "$(config_hashes)" ] && echo yes || echo no)" 0
	vm stop "$out"
}

trap 'vm stop "$out"; rm -f "$disk" "${disk%.img}.vars.fd"' EXIT
start=$(date +%s)
printf '%-14s %-44s %-22s %-22s %6s\n' profile step expected got time
# Build the missing images side by side (debootstrap waits on the network and
# dpkg as much as on the CPU); the profiles then find them in the cache.
pstart=$(date +%s)
builds=()
for p in "${profiles[@]}"; do
	rest=${p#*-}
	case " ${builds[*]} " in *" $rest "*) continue ;; esac
	builds+=("$rest")
	"$here/build-image.sh" "${rest%-*}" "${rest#*-}" >/dev/null 2>"$out/image-$rest.log" &
done
wait
echo "e2e: images for ${builds[*]} ready in $(( $(date +%s) - pstart ))s (cached ones take a second)"
first=${PT_E2E_REFUSALS:-yes}
for p in "${profiles[@]}"; do
	pstart=$(date +%s)
	run_profile "$p" "$first"
	echo "e2e: profile $p took $(( $(date +%s) - pstart ))s"
	first=no
done
# PT_E2E_REFUSALS=no leaves the refusals out (a second run beside this one,
# tests/e2e/parallel.sh, need not boot the shared-group guest again).
if [ "${PT_E2E_REFUSALS:-yes}" != no ] && [ "$captures_only" = no ]; then
	pstart=$(date +%s)
	run_refusals "$(image_for "${profiles[0]}")"
	echo "e2e: the shared-group refusal took $(( $(date +%s) - pstart ))s"
fi
echo
echo "e2e: ${#rows[@]} checks in $(( $(date +%s) - start ))s; logs in build/e2e/"
passed=$(( ${#rows[@]} - failures ))
if [ "$failures" -gt 0 ]; then
	for f in "$out"/*.log "$out"/qemu-*.err; do [ -f "$f" ] && { echo "---- $f"; tail -n 40 "$f"; }; done
	for f in "$out"/serial-*.log; do echo "---- $f (last 30 lines)"; tail -n 30 "$f"; done
fi
echo "e2e: $passed passed, $failures failed"
[ "$failures" -eq 0 ]
