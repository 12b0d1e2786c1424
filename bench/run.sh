#!/usr/bin/env bash
# iommu_facts against the tools people use today, on one generated root of 256 PCI
# devices in 64 IOMMU groups (build/tools/mkroot --synthetic), read through libpci's
# linux-sysfs method like a live host:
#   loop         the shell loop from the wikis: one `lspci -nns` per group member
#   iommu_facts  plugins/modules/iommu_facts --json --root ROOT (every fact it reports)
#   lspci -nnk   one lspci over the same root: the floor (it reports less)
# Prints the median of each, the ratios against the targets, and the size of each
# stripped module binary. A benchmark, not a test: it exits 0 whatever the numbers.
# `make bench` builds first (make all tools). Settings (environment):
#   BENCH_RUNS=21       runs of iommu_facts and of lspci
#   BENCH_LOOP_RUNS=3   runs of the shell loop (seconds each)
#   BENCH_DEVICES=256 BENCH_GROUPS=64
#   BENCH_TIMER=auto    auto (hyperfine when installed) | hyperfine | loop
set -u
repo=$(cd "$(dirname "$0")/.." && pwd)
runs=${BENCH_RUNS:-21}
loop_runs=${BENCH_LOOP_RUNS:-3}
ndev=${BENCH_DEVICES:-256}
ngroups=${BENCH_GROUPS:-64}
timer=${BENCH_TIMER:-auto}
py=/usr/bin/python3
mkroot=$repo/build/tools/mkroot
facts=$repo/plugins/modules/iommu_facts

if [ "$timer" = auto ]; then
	if command -v hyperfine >/dev/null; then timer=hyperfine; else timer=loop; fi
fi
[ -x "$mkroot" ] || {
	echo "bench: $mkroot is missing: run make tools (make bench does)"
	exit 0
}

work=$(mktemp -d "${TMPDIR:-/tmp}/pt-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
"$mkroot" --synthetic "$ndev" "$ngroups" "$root" >/dev/null || {
	echo "bench: mkroot --synthetic failed"
	exit 0
}

# The three commands. The loop is the one people paste today, pointed at the root,
# kept in a script file so that hyperfine and the fallback timer run it the same
# way; the two programs run directly (no shell start-up in their times).
sysfs="sysfs.path=$root/sys/bus/pci"
printf '%s\n' \
	"for d in $root/sys/kernel/iommu_groups/*/devices/*; do n=\${d#*/iommu_groups/}; echo \"IOMMU Group \${n%%/*}: \$(lspci -A linux-sysfs -O $sysfs -nns \${d##*/})\"; done" \
	>"$work/loop.sh"
cmd_loop=(bash "$work/loop.sh")
cmd_facts=("$facts" --json --root "$root")
cmd_lspci=(lspci -A linux-sysfs -O "$sysfs" -nnk)

# Sanity: each command does what it is timed for (a wrong root would time errors).
have_facts=1
[ -x "$facts" ] || have_facts=0
loop_lines=$("${cmd_loop[@]}" 2>/dev/null | grep -c '^IOMMU Group')
lspci_lines=$("${cmd_lspci[@]}" 2>/dev/null | grep -c '^[0-9a-f]')
facts_devices="n/a (no $facts yet)"
if [ $have_facts = 1 ]; then
	facts_devices=$("${cmd_facts[@]}" 2>/dev/null |
		$py -c 'import json,sys; print(len(json.load(sys.stdin)["devices"]))' 2>/dev/null ||
		echo "no valid JSON:")
fi

# measure NAME RUNS CMD...: "WALL CPU": the median wall time of CMD and (with
# hyperfine) its mean user+system CPU time, in milliseconds; CPU time barely moves
# when other jobs load the machine, wall time does.
measure() {
	local name=$1 n=$2
	shift 2
	if [ "$timer" = hyperfine ]; then
		local q="" a
		for a in "$@"; do q+="${q:+ }$(printf %q "$a")"; done
		# One warm-up run fills the page cache; the loop is slow enough for one.
		local warmup=2
		[ "$name" = loop ] && warmup=1
		hyperfine -N --style none --warmup "$warmup" --runs "$n" --export-json "$work/$name.json" \
			"$q" >/dev/null 2>"$work/$name.err" || {
			echo nan nan
			return
		}
		$py -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("%.3f %.3f" % (r["median"]*1000, (r["user"]+r["system"])*1000))' \
			"$work/$name.json"
	else
		local i t0 t1 times=()
		"$@" >/dev/null 2>&1 # warm-up
		for ((i = 0; i < n; i++)); do
			t0=$(date +%s%N)
			"$@" >/dev/null 2>&1
			t1=$(date +%s%N)
			times+=($(((t1 - t0) / 1000)))
		done
		printf '%s\n' "${times[@]}" | sort -n |
			$py -c 'import sys; v=[int(x) for x in sys.stdin]; print("%.3f nan" % (v[len(v)//2]/1000))'
	fi
}

echo "homelab.passthrough benchmark: $ndev devices in $ngroups IOMMU groups (mkroot --synthetic)"
echo "timer: $timer; medians of $loop_runs loop runs and $runs runs of the others"
echo "sanity: the loop printed $loop_lines lines, lspci listed $lspci_lines devices," \
	"iommu_facts reported $facts_devices devices"
echo

t_loop=$(measure loop "$loop_runs" "${cmd_loop[@]}")
t_lspci=$(measure lspci "$runs" "${cmd_lspci[@]}")
t_facts="n/a n/a"
[ $have_facts = 1 ] && t_facts=$(measure facts "$runs" "${cmd_facts[@]}")

# shellcheck disable=SC2086 # each holds two numbers
$py - $t_loop $t_facts $t_lspci <<'EOF'
import sys

def num(s):
    try:
        v = float(s)
        return v if v == v else None
    except ValueError:
        return None

loop, loop_cpu, facts, facts_cpu, lspci, lspci_cpu = (num(x) for x in sys.argv[1:7])

def ms(v):
    return "%10.2f ms" % v if v is not None else "%13s" % "n/a"

print("%-44s %13s %13s" % ("command", "median wall", "mean CPU"))
print("%-44s %s %s" % ("shell loop (lspci -nns per group member)", ms(loop), ms(loop_cpu)))
print("%-44s %s %s" % ("iommu_facts --json --root ROOT", ms(facts), ms(facts_cpu)))
print("%-44s %s %s" % ("lspci -nnk, once (the floor)", ms(lspci), ms(lspci_cpu)))
print()

def ratio(a, b):
    return a / b if a is not None and b else None

def row(name, wall, cpu, target, ok):
    cell = lambda r: "%12.2fx" % r if r is not None else "%13s" % "n/a"
    verdict = "n/a" if wall is None else ("met" if ok(wall) else "NOT MET")
    print("%-28s %s %s   target %-8s %s" % (name, cell(wall), cell(cpu), target, verdict))

print("%-28s %13s %13s" % ("ratio", "wall", "CPU"))
row("loop / iommu_facts", ratio(loop, facts), ratio(loop_cpu, facts_cpu), ">= 100x",
    lambda r: r >= 100)
row("iommu_facts / lspci -nnk", ratio(facts, lspci), ratio(facts_cpu, lspci_cpu), "<= 1.0x",
    lambda r: r <= 1.0)
EOF

echo
printf '%-40s %12s   %s\n' "stripped module binary" "size" "target < 100 KB"
for b in "$repo"/plugins/modules/*; do
	case $b in *.yml | */.gitkeep) continue ;; esac
	[ -f "$b" ] || continue
	size=$(stat -c %s "$b")
	verdict=met
	[ "$size" -lt 102400 ] || verdict="NOT MET"
	printf '%-40s %9.1f KB   %s\n' "plugins/modules/$(basename "$b")" \
		"$(echo "$size" | awk '{printf "%.1f", $1/1024}')" "$verdict"
done
exit 0
