#!/usr/bin/env bash
# iommu_facts against the tools people use today, on one generated root of 256 PCI
# devices in 64 IOMMU groups (build/tools/mkroot --synthetic), read through libpci's
# linux-sysfs method like a live host:
#   loop         the shell loop from the wikis: one `lspci -nns` per group member
#   iommu_facts  plugins/modules/iommu_facts --json --root ROOT (every fact it reports)
#   lspci -nnk   one lspci over the same root: the floor (it reports less)
#   module       the same facts as Ansible gets them (an args file, compact JSON)
# Prints the median wall time of each, its mean CPU time, the instructions it
# executes (valgrind's callgrind: the same count on a busy machine as on a quiet
# one), the ratios against the targets, and the size of each stripped module
# binary. A benchmark, not a test: it exits 0 whatever the numbers.
# `make bench` builds first (make all tools). Settings (environment):
#   BENCH_RUNS=21       runs of iommu_facts and of lspci
#   BENCH_LOOP_RUNS=3   runs of the shell loop (seconds each)
#   BENCH_DEVICES=256 BENCH_GROUPS=64
#   BENCH_TIMER=auto    auto (hyperfine when installed) | hyperfine | loop
#   BENCH_INSTRUCTIONS=auto  auto (when valgrind is installed) | no
set -u
repo=$(cd "$(dirname "$0")/.." && pwd)
runs=${BENCH_RUNS:-21}
loop_runs=${BENCH_LOOP_RUNS:-3}
ndev=${BENCH_DEVICES:-256}
ngroups=${BENCH_GROUPS:-64}
timer=${BENCH_TIMER:-auto}
count=${BENCH_INSTRUCTIONS:-auto}
py=/usr/bin/python3
mkroot=$repo/build/tools/mkroot
facts=$repo/plugins/modules/iommu_facts

if [ "$timer" = auto ]; then
	if command -v hyperfine >/dev/null; then timer=hyperfine; else timer=loop; fi
fi
if [ "$count" = auto ]; then
	if command -v valgrind >/dev/null; then count=callgrind; else count=no; fi
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
printf '{"root": "%s"}' "$root" >"$work/args.json"
cmd_module=("$facts" "$work/args.json")

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

# instructions [CALLGRIND OPTION...] -- CMD...: the instructions CMD executes in
# user space, as callgrind counts them ("nan" when it cannot). The count does not
# move when other jobs load the machine; system calls count as one instruction
# each, whatever the kernel spends on them.
instructions() {
	local opts=()
	while [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	shift
	valgrind --tool=callgrind --callgrind-out-file=/dev/null "${opts[@]}" "$@" 2>&1 >/dev/null |
		sed -n 's/^==[0-9]*== Collected : \([0-9]*\)$/\1/p' | tail -n 1 | grep . || echo nan
}

# The loop's count: one of its lspci runs (the first group member's) times the
# number of members. Leaves out bash's own work (a subshell per device): a floor.
i_loop=nan i_facts=nan i_module=nan i_lspci=nan i_fallback=nan i_fallback_module=nan
if [ "$count" = callgrind ]; then
	first=$(find "$root/sys/kernel/iommu_groups" -mindepth 3 -maxdepth 3 -path '*/devices/*' |
		sort | head -n 1)
	i_one=$(instructions -- lspci -A linux-sysfs -O "$sysfs" -nns "${first##*/}")
	[ "$i_one" != nan ] && i_loop=$((i_one * loop_lines))
	i_lspci=$(instructions -- "${cmd_lspci[@]}")
	if [ $have_facts = 1 ]; then
		i_facts=$(instructions -- "${cmd_facts[@]}")
		i_module=$(instructions -- "${cmd_module[@]}")
		# valgrind 3.19 does not know openat2, so under callgrind the module takes
		# its fallback for kernels before 5.6 and resolves paths under root in user
		# space, which a live run leaves to the kernel. That share is counted on a
		# copy linked with its symbols (the same objects) and shown apart.
		syms=$work/iommu_facts.syms
		libdir=$(pkg-config --variable=libdir jansson 2>/dev/null || echo /usr/lib/x86_64-linux-gnu)
		if "${CC:-cc}" -Wl,--gc-sections -Wl,-z,noseparate-code -Wl,--as-needed -o "$syms" \
			"$repo/build/obj/modules/iommu_facts.o" "$repo/build/libpt.a" \
			"$libdir/libjansson.a" -lpci 2>/dev/null; then
			toggle=--toggle-collect=pt_path_resolve_under
			i_fallback=$(instructions "$toggle" -- "$syms" --json --root "$root")
			i_fallback_module=$(instructions "$toggle" -- "$syms" "$work/args.json")
		fi
	fi
fi

echo "homelab.passthrough benchmark: $ndev devices in $ngroups IOMMU groups (mkroot --synthetic)"
echo "timer: $timer; medians of $loop_runs loop runs and $runs runs of the others;" \
	"instructions: $count"
echo "sanity: the loop printed $loop_lines lines, lspci listed $lspci_lines devices," \
	"iommu_facts reported $facts_devices devices"
echo

t_loop=$(measure loop "$loop_runs" "${cmd_loop[@]}")
t_lspci=$(measure lspci "$runs" "${cmd_lspci[@]}")
t_facts="n/a n/a"
t_module="n/a n/a"
if [ $have_facts = 1 ]; then
	t_facts=$(measure facts "$runs" "${cmd_facts[@]}")
	t_module=$(measure module "$runs" "${cmd_module[@]}")
fi

# shellcheck disable=SC2086 # each t_ holds two numbers
$py - $t_loop $t_facts $t_lspci $t_module $i_loop $i_facts $i_lspci $i_module \
	$i_fallback $i_fallback_module "$loop_lines" <<'EOF'
import sys

def num(s):
    try:
        v = float(s)
        return v if v == v else None
    except ValueError:
        return None

(loop, loop_cpu, facts, facts_cpu, lspci, lspci_cpu, module, module_cpu, i_loop, i_facts_raw,
 i_lspci, i_module_raw, i_fallback, i_fallback_module, members) = (num(x) for x in sys.argv[1:16])

def less(a, b):
    return a - b if a is not None and b is not None else a

# iommu_facts' counts without the fallback only valgrind makes it take
i_facts = less(i_facts_raw, i_fallback)
i_module = less(i_module_raw, i_fallback_module)

def ms(v):
    return "%10.2f ms" % v if v is not None else "%13s" % "n/a"

def mi(v):
    return "%11.1f M" % (v / 1e6) if v is not None else "%13s" % "n/a"

print("%-44s %13s %13s %13s" % ("command", "median wall", "mean CPU", "instructions"))
print("%-44s %s %s %s" % ("shell loop (lspci -nns per group member)", ms(loop), ms(loop_cpu),
                          mi(i_loop)))
print("%-44s %s %s %s" % ("iommu_facts --json --root ROOT", ms(facts), ms(facts_cpu),
                          mi(i_facts)))
print("%-44s %s %s %s" % ("iommu_facts ARGS_FILE (as Ansible runs it)", ms(module),
                          ms(module_cpu), mi(i_module)))
print("%-44s %s %s %s" % ("lspci -nnk, once (the floor)", ms(lspci), ms(lspci_cpu), mi(i_lspci)))
if i_loop is not None and members:
    print("  loop instructions: one lspci -nns run x %d members (bash's own work left out)"
          % members)
if i_fallback is not None:
    print("  iommu_facts instructions leave out %.1f M (--json) and %.1f M (args file) of"
          % (i_fallback / 1e6, i_fallback_module / 1e6 if i_fallback_module else 0))
    print("  user-space path resolution that only valgrind causes (it lacks openat2); with"
          " them: %.1f M and %.1f M"
          % (i_facts_raw / 1e6 if i_facts_raw else 0, i_module_raw / 1e6 if i_module_raw else 0))
elif i_facts_raw is not None:
    print("  iommu_facts instructions include the user-space path resolution that only"
          " valgrind causes")
    print("  (it lacks openat2): no copy with symbols could be linked to count it apart")
print()

def ratio(a, b):
    return a / b if a is not None and b else None

def row(name, wall, cpu, instr, target, ok):
    cell = lambda r: "%12.2fx" % r if r is not None else "%13s" % "n/a"
    verdict = lambda r: "n/a" if r is None or ok is None else ("met" if ok(r) else "NOT MET")
    print("%-28s %s %s %s   %-8s %-8s %s" % (name, cell(wall), cell(cpu), cell(instr), target,
                                            verdict(wall), verdict(instr)))

print("%-28s %13s %13s %13s   %-8s %-8s %s" % ("ratio", "wall", "CPU", "instructions", "target",
                                              "(wall)", "(instr.)"))
row("loop / iommu_facts", ratio(loop, facts), ratio(loop_cpu, facts_cpu), ratio(i_loop, i_facts),
    ">= 100x", lambda r: r >= 100)
row("iommu_facts / lspci -nnk", ratio(facts, lspci), ratio(facts_cpu, lspci_cpu),
    ratio(i_facts, i_lspci), "<= 1.0x", lambda r: r <= 1.0)
row("module / lspci -nnk", ratio(module, lspci), ratio(module_cpu, lspci_cpu),
    ratio(i_module, i_lspci), "", None)
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
