#!/usr/bin/env bash
# Run libFuzzer harnesses (built by make into build/fuzz/) for a bounded time.
#
#   run.sh [--smoke] SECONDS NAME...
#
# Each harness runs for SECONDS on its corpus: build/fuzz/corpus/NAME (the
# inputs earlier runs found; new ones are written there), or with --smoke a
# fresh build/fuzz/smoke/NAME, so the smoke run starts from the seeds alone
# and takes the same time every time. Seeds, read in place and never written:
# tests/fuzz/corpus/NAME, and every folder tests/fuzz/NAME.seeds lists (one a
# line, # comments; relative to the repository when it starts with ./, else to
# $SHARED, by default ../shared next to the repository: the corpus layer, which
# is optional — when $SHARED/corpus is absent its folders are left out, said in
# one line). tests/fuzz/NAME.dict,
# when present, is the harness's libFuzzer dictionary (words of its format).
#
# Prints one line per harness: executions, libFuzzer's final coverage (cov:
# edges, ft: features) and corpus size; the full output is build/fuzz/NAME.log.
# A crash, leak, sanitizer report, broken invariant or timeout fails the
# harness: its report is printed, the input is kept as build/fuzz/NAME-crash-*
# (or -leak-, -timeout-, -oom-) for `build/fuzz/NAME FILE` to replay, and the
# script exits 1 after running the others.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
shared=${SHARED:-$repo/../shared}
out=$repo/build/fuzz

smoke=0
if [ "${1:-}" = --smoke ]; then
	smoke=1
	shift
fi
[ $# -ge 2 ] || { echo "usage: $0 [--smoke] SECONDS NAME..." >&2; exit 2; }
seconds=$1
shift

# The seed folders of harness $1, one per line.
seed_dirs() {
	local name=$1 line dir
	[ -d "$here/corpus/$name" ] && echo "$here/corpus/$name"
	[ -f "$here/$name.seeds" ] || return 0
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line%%#*}
		line=$(echo "$line" | tr -d '[:space:]')
		[ -n "$line" ] || continue
		case $line in
		./*) dir=$repo/${line#./} ;;
		*)
			dir=$shared/$line
			[ -d "$shared/corpus" ] || continue # the corpus layer is absent: said once
			;;
		esac
		if [ -d "$dir" ]; then echo "$dir"; else echo "run.sh: $name: no seed folder $dir" >&2; fi
	done <"$here/$name.seeds"
}

if [ -d "$shared/corpus" ]; then
	echo "corpus layer: seeds from $shared/corpus too"
else
	echo "corpus layer skipped: $shared/corpus is absent (SHARED=DIR to add its seeds)"
fi

failed=()
for name in "$@"; do
	bin=$out/$name
	log=$out/$name.log
	[ -x "$bin" ] || { echo "FAIL $name: $bin is not built (make $bin)"; failed+=("$name"); continue; }
	if [ $smoke = 1 ]; then
		corpus=$out/smoke/$name
		rm -rf "$corpus"
	else
		corpus=$out/corpus/$name
	fi
	mkdir -p "$corpus"
	mapfile -t seeds < <(seed_dirs "$name")
	stamp=$out/.$name.started # to tell this run's crash inputs from older ones
	touch "$stamp"
	# -timeout: one input taking longer is a finding (a hang); -rss_limit_mb
	# likewise for memory. Leaks are reported (LeakSanitizer) and fail too.
	dict=()
	[ -f "$here/$name.dict" ] && dict=(-dict="$here/$name.dict")
	"$bin" -max_total_time="$seconds" -print_final_stats=1 -timeout=20 -rss_limit_mb=2048 \
		"${dict[@]}" -artifact_prefix="$out/$name-" "$corpus" "${seeds[@]}" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	# The last status line: "#N DONE cov: C ft: F corp: U/S ..." (or the last
	# progress line when the run stopped early).
	status=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
	cov=$(echo "$status" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$status" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$status" | sed -n 's/.* corp: \([^ ]*\).*/\1/p')
	if [ $rc -eq 0 ]; then
		printf 'PASS %-22s %4ss  execs=%-9s cov=%-6s ft=%-6s corpus=%s\n' "$name" "$seconds" \
			"${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}"
	else
		printf 'FAIL %-22s rc=%s after execs=%s (log: %s)\n' "$name" "$rc" "${execs:-?}" "$log"
		# The report: from the sanitizer's or the harness's first line on.
		first=$(grep -n -m1 -E '^==[0-9]+==|invariant failed|runtime error|ERROR: libFuzzer' "$log" |
			cut -d: -f1)
		if [ -n "$first" ]; then sed -n "$first,\$p" "$log" | head -n 60; else tail -n 30 "$log"; fi
		# Replay with `build/fuzz/NAME FILE` (a file: a folder given first
		# would receive libFuzzer's new inputs).
		find "$out" -maxdepth 1 -type f -name "$name-*" -newer "$stamp" | sed 's/^/  input: /'
		failed+=("$name")
	fi
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz: ${#failed[@]} of $# harnesses failed: ${failed[*]}"
	exit 1
fi
echo "fuzz: $# harnesses passed"
