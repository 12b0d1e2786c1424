#!/usr/bin/env bash
# What a task costs over SSH (issue 13): plays of 20 identical tasks against a
# sandbox root of the seed host pve1, through a throwaway sshd on 127.0.0.1
# (tests/integration/sshd.sh: started and stopped here, throwaway keys, nothing
# else listens), logged in as root, each module paired with the nearest builtin:
#   iommu_facts      vs ansible.builtin.command: lspci -nnk (over the same root)
#   grub_iommu       vs ansible.builtin.lineinfile of GRUB_CMDLINE_LINUX_DEFAULT
#   vfio_bind        vs ansible.builtin.copy of vfio.conf
#   pve_pci_mapping  vs ansible.builtin.command: pvesh get /cluster/mapping/pci
#                       (the fake pvesh over the same root)
# all in check mode, each with pipelining on and off; plus the floor (20 debug
# tasks: no SSH at all) and 20 `ansible.builtin.raw: true` (one SSH exec and
# nothing else: the limit for any task that runs something on the node); and the
# whole role (site.yml --check) on the sandbox root. Runs are paired: each round
# runs every play once, in the same order; the median of BENCH_SSH_RUNS rounds
# is reported, as the per-task cost over the floor ((median - floor) / 20) and
# the ratios module/builtin and module/raw. The binaries are cached on the node
# by an untimed play first. A benchmark, not a test: exits 0 whatever the
# numbers. Settings: BENCH_SSH_RUNS=3 rounds, BENCH_SSH_TASKS=20 tasks per play.
set -u
repo=$(cd "$(dirname "$0")/.." && pwd)
runs=${BENCH_SSH_RUNS:-3}
ntasks=${BENCH_SSH_TASKS:-20}
tools=$repo/build/tools
py=/usr/bin/python3
export ANSIBLE_NOCOLOR=1 ANSIBLE_HOST_KEY_CHECKING=False ANSIBLE_GATHERING=explicit
export ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_LOCALHOST_WARNING=False
export ANSIBLE_ROLES_PATH=$repo/roles

ansible-doc homelab.passthrough.grub_iommu >/dev/null 2>&1 || {
	echo "bench-ssh: the collection is not installed (make bench-ssh installs it)"
	exit 0
}
# shellcheck source=../tests/integration/sshd.sh
source "$repo/tests/integration/sshd.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/pt-bench-ssh.XXXXXX")
trap 'pt_sshd_stop; rm -rf "$work"' EXIT
trap 'exit 1' INT TERM
pt_sshd_start || { echo "bench-ssh: cannot start sshd"; exit 0; }
S=$PT_SSH_DIR

root=$work/pve1
"$tools/mkroot" "$repo/tests/fixtures/hosts/pve1-gtx1050ti.yml" "$root" >/dev/null || {
	echo "bench-ssh: mkroot failed (make bench-ssh builds the tools)"
	exit 0
}
mkdir -p "$root/usr/bin" "$root/etc/pve/mapping" "$root/usr/sbin" "$root/etc/record-cmd"
install -m 0755 "$tools/fake-pvesh" "$root/usr/bin/pvesh"
for c in update-grub update-initramfs proxmox-boot-tool modprobe; do
	install -m 0755 "$tools/record-cmd" "$root/usr/sbin/$c"
done
echo 2 >"$root/etc/record-cmd/proxmox-boot-tool.status.rc"
sysfs="sysfs.path=$root/sys/bus/pci"

# play NAME TASK_YAML: a play of $ntasks copies of the task (one line of YAML).
play() {
	{
		printf -- '- hosts: node_root\n  gather_facts: false\n  tasks:\n'
		for _ in $(seq "$ntasks"); do printf '    - %s\n' "$2"; done
	} >"$work/$1.yml"
}
play floor 'ansible.builtin.debug: {msg: x}'
# raw and command skip themselves in check mode (raw reaches no node at all), so
# the tasks that only read say check_mode: false: they run as a user's would.
play raw '{ansible.builtin.raw: "true", check_mode: false}'
play iommu_facts "homelab.passthrough.iommu_facts: {root: \"$root\"}"
play lspci "{ansible.builtin.command: lspci -A linux-sysfs -O $sysfs -nnk, check_mode: false}"
play grub_iommu "homelab.passthrough.grub_iommu: {root: \"$root\"}"
play lineinfile "ansible.builtin.lineinfile: {path: \"$root/etc/default/grub\", regexp: '^GRUB_CMDLINE_LINUX_DEFAULT=', line: 'GRUB_CMDLINE_LINUX_DEFAULT=\"quiet intel_iommu=on iommu=pt\"'}"
play vfio_bind "homelab.passthrough.vfio_bind: {root: \"$root\", devices: [\"0000:07:00\"]}"
play copy "ansible.builtin.copy: {dest: \"$root/etc/modprobe.d/vfio.conf\", content: \"options vfio-pci ids=10de:0fb9,10de:1c82\\\\n\"}"
play pve_pci_mapping "homelab.passthrough.pve_pci_mapping: {root: \"$root\", name: gpu-gtx1050ti, devices: [\"0000:07:00\"]}"
play pvesh "{ansible.builtin.command: $root/usr/bin/pvesh get /cluster/mapping/pci --output-format json, check_mode: false}"
# the fake reads the sandbox when not chrooted
sed -i "s|^- hosts: node_root|- hosts: node_root\n  environment: {FAKE_PVESH_ROOT: \"$root\"}|" "$work/pvesh.yml"

# run NAME PIPELINING: one timed ansible-playbook run (--check); prints seconds.
run() {
	local name=$1 pipe=$2 start end
	local extra=("$work/$name.yml")
	[ "$name" = role ] && extra=(-i "$repo/inventory/example.yml" -e "gpu_passthrough_root=$root"
		-e "@$S/vars.yml" -e ansible_user=root -e ansible_become=false "$repo/playbooks/site.yml")
	start=$(date +%s%N)
	ANSIBLE_PIPELINING=$pipe ansible-playbook -i "$S/inventory.yml" "${extra[@]}" --check \
		>"$work/$name-$pipe.out" 2>&1 || {
		echo "bench-ssh: $name (pipelining $pipe) failed:" >&2
		tail -n 20 "$work/$name-$pipe.out" >&2
	}
	end=$(date +%s%N)
	echo "$(((end - start) / 1000000))"
}

cases=("floor 0" "raw 0")
for p in 1 0; do
	for n in iommu_facts lspci grub_iommu lineinfile vfio_bind copy pve_pci_mapping pvesh role; do
		cases+=("$n $p")
	done
done

echo "bench-ssh: sshd on 127.0.0.1:$PT_SSH_PORT, $ntasks tasks per play, $runs rounds (load: $(cut -d' ' -f1-3 /proc/loadavg))"
echo "warm-up (caches the binaries on the node and opens the SSH master; not timed)"
{
	printf -- '- hosts: node_root\n  gather_facts: false\n  tasks:\n'
	for n in iommu_facts grub_iommu vfio_bind pve_pci_mapping; do
		sed -n 4p "$work/$n.yml"
	done
} >"$work/warm.yml"
run warm 1 >/dev/null
: >"$work/times"
for r in $(seq "$runs"); do
	for c in "${cases[@]}"; do
		# shellcheck disable=SC2086
		echo "$c $(run $c)" >>"$work/times"
	done
	echo "round $r of $runs done (load: $(cut -d' ' -f1-3 /proc/loadavg))"
done

$py - "$work/times" "$ntasks" <<'PYEOF'
import statistics, sys
from collections import defaultdict
times = defaultdict(list)
for line in open(sys.argv[1]):
    name, pipe, ms = line.split()
    times[(name, pipe)].append(int(ms) / 1000)
n = int(sys.argv[2])
med = {k: statistics.median(v) for k, v in times.items()}
floor = med[("floor", "0")]
raw = (med[("raw", "0")] - floor) / n
print()
print("%-34s %9s %14s" % ("play (%d tasks, --check)" % n, "median", "per task - floor"))
for (name, pipe), m in med.items():
    label = name if name in ("floor", "raw") else "%s, pipelining %s" % (name, "on" if pipe == "1" else "off")
    if name == "role":
        print("%-34s %8.2fs %14s" % ("role site.yml, pipelining " + ("on" if pipe == "1" else "off"), m, ""))
    else:
        print("%-34s %8.2fs %12.0f ms" % (label, m, (m - floor) / n * 1000))
print()
print("ratios of the per-task cost over the floor (raw: %.0f ms per task):" % (raw * 1000))
print("%-18s %-11s %12s %12s" % ("module", "pipelining", "/ builtin", "/ raw"))
for mod, builtin in (("iommu_facts", "lspci"), ("grub_iommu", "lineinfile"),
                     ("vfio_bind", "copy"), ("pve_pci_mapping", "pvesh")):
    for pipe in ("1", "0"):
        m = (med[(mod, pipe)] - floor) / n
        b = (med[(builtin, pipe)] - floor) / n
        print("%-18s %-11s %11.2fx %11.2fx%s" % (
            mod, "on" if pipe == "1" else "off", m / b, m / raw,
            ("  (target 1.2x: %s)" % ("met" if m / raw <= 1.2 else "missed")) if pipe == "1" else ""))
PYEOF
exit 0
