#!/usr/bin/env bash
# The e2e profiles side by side, one tests/e2e/run.sh each (make e2e E2E_JOBS=N;
# CI runs its two profiles this way): each guest is one QEMU/TCG process, which
# keeps one core busy, so on a 2-core machine two profiles take about as long
# as the slower one instead of the sum. The first profile also runs the
# refusals (the NIC's driver on its guest, then the shared-group guest); the
# others leave them out (PT_E2E_REFUSALS=no). Each run has its own output
# folder (build/e2e-PROFILE) and SSH port. Prints each run's table after it,
# and the failed ones' logs; exits non-zero when any run failed.
#
#   tests/e2e/parallel.sh PROFILE...    (needs make install tools, as run.sh)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
[ $# -gt 0 ] || set -- intel-13-uefi amd-12-bios
# The images first, each once (two runs must not build the same one at once).
builds=()
for p in "$@"; do
	rest=${p#*-}
	case $p in intel | amd) rest=12-bios ;; esac
	case " ${builds[*]} " in *" $rest "*) continue ;; esac
	builds+=("$rest")
	mkdir -p "$repo/build"
	"$here/build-image.sh" "${rest%-*}" "${rest#*-}" >/dev/null 2>"$repo/build/e2e-image-$rest.log" &
done
wait || true
port=${PT_E2E_PORT:-2222}
pids=() names=() refusals=yes
for p in "$@"; do
	out=$repo/build/e2e-$p
	mkdir -p "$out"
	PT_E2E_OUT=$out PT_E2E_PORT=$port PT_E2E_REFUSALS=$refusals \
		"$here/run.sh" "$p" >"$repo/build/e2e-$p.log" 2>&1 &
	pids+=("$!") names+=("$p")
	port=$((port + 1)) refusals=no
done
failed=0
for i in "${!pids[@]}"; do
	wait "${pids[$i]}" || failed=$((failed + 1))
	echo "==== e2e profile ${names[$i]} (build/e2e-${names[$i]}.log)"
	cat "$repo/build/e2e-${names[$i]}.log"
done
echo "e2e: ${#pids[@]} runs side by side, $failed failed"
[ "$failed" -eq 0 ]
