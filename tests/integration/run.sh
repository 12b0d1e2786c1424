#!/usr/bin/env bash
# Integration tests: every tests/integration/targets/NAME/test.sh, each in a fresh
# work directory, against the installed collection (make install) and sandbox
# roots. Usage: run.sh [NAME...]. Prints one line per target as it finishes and a
# closing "integration: N passed, N failed"; exits non-zero when any failed (a
# target fails too when its log holds a deprecation warning). Logs go to
# build/integration/NAME.log, or to $PT_LOGS/NAME.log when PT_LOGS is set.
#
# PT_JOBS targets run at once (default: the number of CPUs). A target is mostly
# ansible-playbook, which leaves part of a core idle while it forks and waits on
# its worker, so two or more side by side finish sooner than one after another.
# The targets share nothing they write: each has its own work directory and
# sandbox roots; the node-side binary cache the action plugins fill is written
# with a rename, for several hosts at once. The slowest targets start first, so
# the run does not end waiting on one long target started last.
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

# The slowest targets first (each over two minutes on an idle 2-core machine);
# the rest keep their order.
slow=(role_readiness pve_pci_mapping role_verify role_pve2_systemd_boot role_pve1_grub
      role_regenerate role_inventory role_preflight fixtures pve_pci_mapping_text grub_iommu)
ordered=()
for t in "${slow[@]}"; do
	for u in "${targets[@]}"; do [ "$u" = "$t" ] && ordered+=("$t"); done
done
for u in "${targets[@]}"; do
	case " ${slow[*]} " in *" $u "*) ;; *) ordered+=("$u") ;; esac
done
jobs=${PT_JOBS:-$(nproc 2>/dev/null || echo 2)}
status_dir=$(mktemp -d "${TMPDIR:-/tmp}/pt-it-status.XXXXXX")

# run_target NAME: the target in its own work directory; writes PASS or FAIL to
# $status_dir/NAME and prints the target's line.
run_target() {
	local t=$1 script=$here/targets/$1/test.sh work start rc deprecated status
	if [ ! -f "$script" ]; then
		echo "no such target: $t" >&2
		echo FAIL >"$status_dir/$t"
		return
	fi
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
	if [ $rc -eq 0 ]; then status=PASS; rm -rf "$work"; else status=FAIL; fi
	echo "$status" >"$status_dir/$t"
	printf '%-4s %-32s %4ss\n' "$status" "$t" "$(( $(date +%s) - start ))"
}

t0=$(date +%s)
for t in "${ordered[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
	run_target "$t" &
done
wait

passed=0 failed=0 failed_names=()
for t in "${targets[@]}"; do
	if [ "$(cat "$status_dir/$t" 2>/dev/null)" = PASS ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1)); failed_names+=("$t")
	fi
done
rm -rf "$status_dir"
for t in "${failed_names[@]}"; do
	[ -f "$logs/$t.log" ] || continue
	echo "---- $t (log: ${logs#"$repo"/}/$t.log, last 60 lines)"
	tail -n 60 "$logs/$t.log"
done
echo "integration: $passed passed, $failed failed ($jobs at once, $(( $(date +%s) - t0 ))s)"
[ "$failed" -eq 0 ]
