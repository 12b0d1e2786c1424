#!/usr/bin/env bash
# 16 pve_pci_mapping runs started at the same instant, for 16 different nodes,
# against one mapping in one sandbox cluster file (the fake pvesh, with random
# delays inside its reads and its locked writes so that the runs interleave).
# Every run must succeed, all 16 entries must be in the file, and the file must
# parse without a warning and round-trip through the double byte for byte.
#
#   concurrency.sh [RUNS]     default 1; `make stress` runs it 20 times
#
# Prints one line per run with the retries the 16 modules needed (total and the
# most any one needed) and a closing summary. Exit status 0 only when every run
# passed. Needs the module and the tools built (make all tools) and root (chroot).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
MODULE=${PT_MODULES_DIR:-$REPO/plugins/modules}/pve_pci_mapping
TOOLS=$REPO/build/tools
HOST=$REPO/tests/fixtures/hosts/pve1-gtx1050ti.yml
NODES=${NODES:-16}
RUNS=${1:-1}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pt-stress.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

for f in "$MODULE" "$TOOLS/fake-pvesh" "$TOOLS/mkroot"; do
	[ -x "$f" ] || { echo "concurrency: $f is missing: run make all tools" >&2; exit 2; }
done

fail() { echo "FAIL: $*" >&2; exit 1; }

grand_total=0 grand_max=0 worst_run=0
for run in $(seq 1 "$RUNS"); do
	dir=$WORK/run$run root=$WORK/run$run/root
	mkdir -p "$dir"
	"$TOOLS/mkroot" "$HOST" "$root" >/dev/null
	mkdir -p "$root/usr/bin" "$root/etc/pve/mapping" "$root/etc/fake-pvesh"
	install -m 0755 "$TOOLS/fake-pvesh" "$root/usr/bin/pvesh"
	# Real pmxcfs reads and writes take milliseconds; so do these.
	echo 0-15 >"$root/etc/fake-pvesh/get-delay-ms"
	echo 2-10 >"$root/etc/fake-pvesh/write-delay-ms"

	go=$dir/go
	mkfifo "$go"
	for i in $(seq 1 "$NODES"); do
		printf '{"name": "gpu-gtx1050ti", "devices": ["0000:07:00"], "node": "node%d", "root": "%s", "description": "GTX 1050 Ti", "_ansible_check_mode": false, "_ansible_diff": true}\n' \
			"$i" "$root" >"$dir/args$i.json"
		# Each waits at the FIFO; opening its write end releases them all at once.
		( read -r _ <"$go" || true; exec "$MODULE" "$dir/args$i.json" >"$dir/out$i.json" 2>"$dir/err$i" ) &
	done
	sleep 0.2
	exec 3>"$go"
	exec 3>&-
	wait

	total=0 max=0
	for i in $(seq 1 "$NODES"); do
		line=$(/usr/bin/python3 - "$dir/out$i.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
if r.get("failed"):
    print("FAILED " + r.get("msg", "?"))
else:
    print("%s %d %s" % (r["action"], r["retries"], r["changed"]))
PY
)
		case $line in
		FAILED*) fail "run $run node$i: ${line#FAILED }" ;;
		"create 0 True" | "update "*" True") ;;
		*) fail "run $run node$i: unexpected result: $line" ;;
		esac
		n=$(echo "$line" | cut -d' ' -f2)
		total=$((total + n))
		[ "$n" -gt "$max" ] && max=$n
	done

	cfg=$root/etc/pve/mapping/pci.cfg
	for i in $(seq 1 "$NODES"); do
		grep -q "	map id=10de:1c82,iommugroup=14,node=node$i,path=0000:07:00,subsystem-id=1462:8c96\$" "$cfg" ||
			fail "run $run: the entry of node$i is missing from pci.cfg"
	done
	entries=$(grep -c '^	map ' "$cfg")
	[ "$entries" -eq "$NODES" ] || fail "run $run: $entries map entries, expected $NODES"
	chroot "$root" /usr/bin/pvesh x-reformat /etc/pve/mapping/pci.cfg >"$dir/reformat" 2>"$dir/reformat.err" ||
		fail "run $run: pci.cfg does not parse: $(cat "$dir/reformat.err")"
	[ -s "$dir/reformat.err" ] && fail "run $run: warnings parsing pci.cfg: $(cat "$dir/reformat.err")"
	cmp -s "$dir/reformat" "$cfg" || fail "run $run: pci.cfg does not round-trip through the double"
	chroot "$root" /usr/bin/pvesh get /cluster/mapping/pci --output-format json >"$dir/list"
	n=$(/usr/bin/python3 -c 'import json,sys; l=json.load(open(sys.argv[1])); print(len(l), len(l[0]["map"]))' "$dir/list")
	[ "$n" = "1 $NODES" ] || fail "run $run: pvesh lists '$n' (mappings, entries)"

	printf 'run %2d: %d nodes ok, retries total %3d, max %2d\n' "$run" "$NODES" "$total" "$max"
	grand_total=$((grand_total + total))
	[ "$max" -gt "$grand_max" ] && grand_max=$max
	[ "$total" -gt "$worst_run" ] && worst_run=$total
	rm -rf "$dir"
done
echo "concurrency: $RUNS run(s) of $NODES nodes passed; retries total $grand_total" \
	"(most in one run $worst_run, most for one module $grand_max)"
