# The result of every module on every fixture host, byte for byte: each case runs
# one module binary directly (`NAME ARGS_FILE`, as Ansible does on the node) on a
# sandbox root of a fixture host (tests/fixtures/hosts/*.yml, its commands
# stubbed, the fake pvesh installed) and compares its stdout, normalised (see
# compare.py: the root's path and backup names' pid and time, nothing else), with
# the stored snapshot tests/fixtures/snapshots/MODULE/HOST.CASE.json, and its exit
# code with tests/fixtures/snapshots/exit-codes. A real run gets a fresh copy of
# the root and runs a second time on it, a snapshot too (HOST.CASE.again.json: the
# idempotent run). The cases are in cases.sh. This is what proves that a
# refactor changed no result.
#
# SNAPSHOT_UPDATE=1 (make snapshots-update) writes the snapshots instead of
# comparing and removes the ones no case makes any more. Regenerating is
# legitimate only for a deliberate change of behaviour, reviewed in the diff of
# tests/fixtures/snapshots (tests/fixtures/snapshots/README.md).
# PT_MODULES_DIR runs another build of the modules (make asan's).
source "${PT_REPO:-$(cd "$(dirname "$0")/../../../.." && pwd)}/tests/integration/lib.sh"

bin=${PT_MODULES_DIR:-$PT_REPO/plugins/modules}
here=${PT_TARGET_DIR:-$(cd "$(dirname "$0")" && pwd)}
SNAP=$PT_FIXTURES/snapshots
for m in iommu_facts grub_iommu vfio_bind pve_pci_mapping; do
	[ -x "$bin/$m" ] || fail "$bin/$m is missing: run make all"
done
for t in mkroot record-cmd fake-pvesh; do
	[ -x "$PT_TOOLS/$t" ] || fail "$PT_TOOLS/$t is missing: run make tools"
done
# The modules' environment must not vary with the caller's.
export LC_ALL=C

# The roots: $scratch/hosts/HOST, each host's pristine root, which check-mode
# cases run on (they write nothing), and $scratch/runs/N, a fresh copy for each
# real case. A copy takes 0.07 s on a tmpfs and up to a second on the disk of a
# busy CI machine (for some 60 copies), so $scratch is in /dev/shm when it is a
# tmpfs that lets the stubs run (they are executed chrooted from the root), else
# the work directory; removed when the test ends. The results stay in the work
# directory. compare.py normalises these root paths to <ROOT>: $scratch as the
# kernel names it (a module resolving a path prints the resolved one), and plain,
# so that it appears in the JSON as it is spelled (jansson escapes nothing in it).
work=$PT_WORK
results=$work/results
mkdir -p "$results"
: >"$results/exit-codes"
scratch=$work
if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] && shm=$(mktemp -d /dev/shm/pt-snapshots.XXXXXX); then
	trap 'rm -rf "$shm"' EXIT
	printf '#!/bin/sh\n' >"$shm/exec-test" && chmod +x "$shm/exec-test"
	"$shm/exec-test" 2>/dev/null && scratch=$shm # not mounted noexec
fi
scratch=$(cd -P "$scratch" && pwd)
[[ $scratch =~ ^[A-Za-z0-9._/+-]+$ ]] || fail "scratch directory $scratch: use a plain TMPDIR (letters, digits, ._/+-)"
templates=$scratch/hosts
root= # the current case's root

# The hosts, by the short name each case uses, and each one's root: mkroot's,
# with the commands the modules run replaced by recording stubs (update-grub,
# proxmox-boot-tool, update-initramfs, modprobe) and pvesh by the Proxmox double.
declare -A HOSTS=(
	[pve1]=pve1-gtx1050ti.yml
	[pve2]=pve2-systemd-boot.yml
	[pve3]=pve3-rx6800.yml
	[twin]=two-identical-gpus.yml
	[shared]=gpu-shares-group-with-nic.yml
	[dcoff]=datacenter-gpu-iommu-off.yml
	[deb12]=debian12-vfio-virqfd.yml
)
template() {
	local host=$1 dir=$templates/$1
	pt_root_from_host "$PT_FIXTURES/hosts/${HOSTS[$host]}" "$dir"
	pt_stub "$dir" update-grub proxmox-boot-tool update-initramfs modprobe
	if [ "$host" = pve2 ]; then
		# systemd-boot: proxmox-boot-tool manages the ESP (as on the real host)
		cat >"$dir/etc/record-cmd/proxmox-boot-tool.status.out" <<-'OUT'
			Re-executing '/usr/sbin/proxmox-boot-tool' in new private mount namespace..
			System currently booted with uefi
			5D1B-6C2A is configured with: uefi (versions: 6.8.12-4-pve)
		OUT
	else
		# GRUB: proxmox-boot-tool manages no ESP
		echo 2 >"$dir/etc/record-cmd/proxmox-boot-tool.status.rc"
		echo "E: /etc/kernel/proxmox-boot-uuids does not exist." \
			>"$dir/etc/record-cmd/proxmox-boot-tool.status.err"
	fi
	mkdir -p "$dir/etc/pve/mapping"
	install -m 0755 "$PT_TOOLS/fake-pvesh" "$dir/usr/bin/pvesh"
}
mkdir "$templates" "$scratch/runs"
for h in "${!HOSTS[@]}"; do
	template "$h"
	pt_snapshot "$templates/$h" "$work/$h.pristine"
done

# Preparations a case may name (run on its fresh root, before the module):
# user_files: the seed host's user's own files at vfio_bind's paths (as in the
# vfio_bind target); grub FILE: tests/fixtures/files/grub/FILE as /etc/default/grub;
# cmdline FILE: tests/fixtures/files/kernel-cmdline/FILE as /etc/kernel/cmdline;
# fails CMD.SUB: that stubbed command fails (rc 1, a line on stderr);
# vfio_pci_driver: vfio-pci loaded (its driver directory in sysfs); on_vfio ADDR:
# that function bound to vfio-pci by driver_override, as the kernel shows it;
# module NAME 'ARGS': a module's real run done first (the state a case starts
# from: a mapping created, the parameters already on), its result not kept.
user_files() {
	local files=$PT_FIXTURES/files
	cp "$files/modules/vfio-by-hand.modules" "$root/etc/modules"
	cp "$files/modprobe.d/vfio-other-card.conf" "$root/etc/modprobe.d/vfio.conf"
	cp "$files/modprobe.d/blacklist-gpu.conf" "$root/etc/modprobe.d/blacklist-gpu.conf"
	cp "$files/modprobe.d/softdeps-and-ids.conf" "$root/etc/modprobe.d/router.conf"
}
grub() { cp "$PT_FIXTURES/files/grub/$1" "$root/etc/default/grub"; }
cmdline() { cp "$PT_FIXTURES/files/kernel-cmdline/$1" "$root/etc/kernel/cmdline"; }
fails() {
	echo 1 >"$root/etc/record-cmd/$1.rc"
	echo "E: $1 failed (injected by the snapshot test)" >"$root/etc/record-cmd/$1.err"
}
vfio_pci_driver() {
	mkdir -p "$root/sys/bus/pci/drivers/vfio-pci"
	: >"$root/sys/bus/pci/drivers/vfio-pci/unbind"
}
on_vfio() {
	vfio_pci_driver
	ln -sfn ../../../../bus/pci/drivers/vfio-pci "$root/sys/bus/pci/devices/$1/driver"
	echo vfio-pci >"$root/sys/bus/pci/devices/$1/driver_override"
}
module() {
	args_file "$2" real >"$work/prep.json"
	"$bin/$1" "$work/prep.json" >"$work/prep.out" 2>&1 || { cat "$work/prep.out"; fail "preparation: $1 $2"; }
}

# args_file 'ARGS' MODE: the args file's JSON: "root" first (unless ARGS names
# one: <ROOT> there is the root), then ARGS' keys as written, then the internal
# keys of MODE (check, diff, check+diff, real).
args_file() {
	local args=$1 mode=$2 inner extra=
	inner=${args#\{}
	inner=${inner%\}}
	case $mode in
	real) ;;
	check) extra='"_ansible_check_mode": true' ;;
	diff) extra='"_ansible_diff": true' ;;
	check+diff) extra='"_ansible_check_mode": true, "_ansible_diff": true' ;;
	*) fail "unknown mode $mode" ;;
	esac
	local parts=()
	[[ $args == *'"root"'* ]] || parts+=('"root": "<ROOT>"')
	[[ $inner =~ [^[:space:]] ]] && parts+=("$inner")
	[ -n "$extra" ] && parts+=("$extra")
	local IFS=,
	local text="{${parts[*]}}"
	printf '%s\n' "${text//<ROOT>/$root}"
}

declare -A ran_ids=()
# run_case ID MODULE: run the module on $root with $work/args.json; its stdout,
# stderr and exit code go to $results for compare.py.
run_case() {
	local id=$1 module=$2 rc=0
	[ -z "${ran_ids[$id]:-}" ] || fail "two cases named $id"
	ran_ids[$id]=1
	[ -d "$results/$module" ] || mkdir "$results/$module"
	"$bin/$module" "$work/args.json" >"$results/$id.json" 2>"$results/$id.err" || rc=$?
	echo "$id $rc" >>"$results/exit-codes"
}

# snap MODULE HOST CASE MODE 'ARGS' ['PREPARATION']: one case. MODE is check or
# check+diff (nothing is written: one run on the host's pristine root), or real
# or diff (a fresh copy of the root, the preparation, the run, and the same run
# again: CASE and CASE.again). A check-mode case with a preparation gets a fresh
# copy too. The copies go 16 at a time (one rm for many: forks are what a busy
# machine makes slow).
copies=0
snap() {
	local module=$1 host=$2 name=$3 mode=$4 args=$5 prep=${6:-}
	local id=$module/$host.$name
	[ -n "${HOSTS[$host]:-}" ] || fail "$id: no host named $host"
	root=$templates/$host
	if [ -n "$prep" ] || [[ $mode != check* ]]; then
		copies=$((copies + 1))
		if [ $((copies % 16)) = 0 ]; then
			rm -rf "$scratch/runs"
			mkdir "$scratch/runs"
		fi
		root=$scratch/runs/$copies
		cp -a "$templates/$host" "$root"
		[ -z "$prep" ] || eval "$prep"
	fi
	args_file "$args" "$mode" >"$work/args.json"
	run_case "$id" "$module"
	case $mode in
	real | diff) run_case "$id.again" "$module" ;;
	esac
}

start=$SECONDS
source "$here/cases.sh"
ran=$((SECONDS - start))

# Check mode wrote nothing: every pristine root is as mkroot and the stubs left it
# (but for /var/log: the stand-ins log what ran, and check mode runs pvesh get).
for h in "${!HOSTS[@]}"; do
	assert_tree_unchanged "$templates/$h" "$work/$h.pristine"
done

update=()
[ "${SNAPSHOT_UPDATE:-0}" = 1 ] && update=(--update)
rc=0
$PY "$here/compare.py" "$scratch" "$results" "$SNAP" "${update[@]}" || rc=$?
note "$(wc -l <"$results/exit-codes") module runs in $ran s"
[ $rc -eq 0 ] || fail "results differ from tests/fixtures/snapshots (MISMATCH above; a deliberate change of behaviour: make snapshots-update, and review the diff)"
