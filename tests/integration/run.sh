#!/usr/bin/env bash
# Integration tests: every tests/integration/targets/NAME/test.sh, each in a fresh
# work directory, against the installed collection (make install) and sandbox
# roots. Usage: run.sh [NAME...]. Prints one line per target and a closing
# "integration: N passed, N failed"; exits non-zero when any failed (a target
# fails too when its log holds a deprecation warning). Logs go to
# build/integration/NAME.log, or to $PT_LOGS/NAME.log when PT_LOGS is set.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
logs=${PT_LOGS:-$repo/build/integration}
export PT_REPO=$repo
mkdir -p "$logs"

if [ $# -gt 0 ]; then targets=("$@"); else
	targets=()
	for d in "$here"/targets/*/; do targets+=("$(basename "$d")"); done
fi

passed=0 failed=0 failed_names=()
for t in "${targets[@]}"; do
	script=$here/targets/$t/test.sh
	[ -f "$script" ] || { echo "no such target: $t" >&2; failed=$((failed + 1)); continue; }
	work=$(mktemp -d "${TMPDIR:-/tmp}/pt-it-$t.XXXXXX")
	start=$(date +%s)
	# A deprecation warning fails the target too (lib.sh keeps them on): in its
	# log, or in the output files the target kept in its work directory.
	rc=0
	(cd "$work" && PT_WORK=$work PT_TARGET_DIR=$here/targets/$t bash "$script") >"$logs/$t.log" 2>&1 || rc=$?
	if deprecated=$(grep -rIl 'DEPRECATION WARNING' "$logs/$t.log" "$work"); then
		{ echo "FAIL: deprecation warnings in:"; echo "$deprecated"
		  grep -rIh -A3 'DEPRECATION WARNING' "$logs/$t.log" "$work" | sort -u; } >>"$logs/$t.log"
		rc=1
	fi
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1)); status=PASS
		rm -rf "$work"
	else
		failed=$((failed + 1)); status=FAIL; failed_names+=("$t")
	fi
	printf '%-4s %-32s %4ss\n' "$status" "$t" "$(( $(date +%s) - start ))"
done
for t in "${failed_names[@]}"; do
	echo "---- $t (log: ${logs#"$repo"/}/$t.log, last 60 lines)"
	tail -n 60 "$logs/$t.log"
done
echo "integration: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
