# The command line of the four module binaries, one convention (issue 12, item 12):
# --help: usage on stdout, exit 0; no argument, an unknown option or two
# arguments: usage on stderr, exit 2, nothing on stdout; `-`: the JSON args from
# stdin, the same result as the args file; an args file: the module runs.
# iommu_facts keeps --root/--json and follows the same convention.
source "${PT_REPO:-$(cd "$(dirname "$0")/../../../.." && pwd)}/tests/integration/lib.sh"

bin=${PT_MODULES_DIR:-$PT_REPO/plugins/modules}
root=$PT_WORK/pve1
pt_root_from_host "$PT_FIXTURES/hosts/pve1-gtx1050ti.yml" "$root"

# run NAME ARGS...: exit code in $rc, stdout in $PT_WORK/out, stderr in $PT_WORK/err
run() {
	local name=$1; shift
	rc=0
	"$bin/$name" "$@" <"${STDIN:-/dev/null}" >"$PT_WORK/out" 2>"$PT_WORK/err" || rc=$?
}

for m in grub_iommu iommu_facts vfio_bind pve_pci_mapping; do
	note "$m --help / -h: usage on stdout, exit 0"
	for h in --help -h; do
		run "$m" "$h"
		assert_eq "$rc" 0 "$m $h exit code"
		assert_eq "$(head -c $((7 + ${#m})) "$PT_WORK/out")" "usage: $m" "$m $h first words"
		assert_contains "$PT_WORK/out" "$m -"
		assert_eq "$(tail -c 1 "$PT_WORK/out" | od -An -c | tr -d ' ')" '\n' "$m $h ends a line"
		assert_eq "$(wc -c <"$PT_WORK/err")" 0 "$m $h stderr bytes"
	done

	note "$m: no argument, unknown options, two arguments: usage on stderr, exit 2"
	for args in "" "--bogus" "--root" "-x" "a b"; do
		# shellcheck disable=SC2086 # word splitting wanted: "a b" is two arguments
		run "$m" $args
		assert_eq "$rc" 2 "$m [$args] exit code"
		assert_eq "$(wc -c <"$PT_WORK/out")" 0 "$m [$args] stdout bytes"
		assert_contains "$PT_WORK/err" "usage: $m"
		assert_eq "$(tail -c 1 "$PT_WORK/err" | od -An -c | tr -d ' ')" '\n' "$m [$args] ends a line"
	done

	note "$m: - reads the args from stdin, the same result as the args file"
	case $m in
	vfio_bind) extra=', "devices": ["0000:07:00"]' ;;
	pve_pci_mapping) extra=', "name": "gpu", "devices": ["0000:07:00"]' ;;
	*) extra= ;;
	esac
	printf '{"root": "%s", "_ansible_check_mode": true%s}\n' "$root" "$extra" >"$PT_WORK/args.json"
	run "$m" "$PT_WORK/args.json"
	file_rc=$rc
	cp "$PT_WORK/out" "$PT_WORK/file.out"
	STDIN=$PT_WORK/args.json run "$m" -
	assert_eq "$rc" "$file_rc" "$m - exit code"
	cmp -s "$PT_WORK/out" "$PT_WORK/file.out" || { diff "$PT_WORK/file.out" "$PT_WORK/out"; fail "$m - result"; }
	assert_eq "$($PY -c 'import json,sys; print(type(json.load(open(sys.argv[1]))).__name__)' "$PT_WORK/out")" \
		dict "$m - one JSON object"

	note "$m: - with no JSON on stdin is one failed JSON result naming stdin"
	printf 'not json' >"$PT_WORK/bad.json"
	STDIN=$PT_WORK/bad.json run "$m" -
	assert_eq "$rc" 1 "$m - bad JSON exit code"
	assert_eq "$(pt_jq "$PT_WORK/out" 'r["failed"]')" true "$m - bad JSON failed"
	assert_contains "$PT_WORK/out" "the argument text on stdin is not valid JSON"
done

note "iommu_facts keeps its own options: --root DIR (table), --json"
run iommu_facts --root "$root"
assert_eq "$rc" 0 "iommu_facts --root exit code"
assert_contains "$PT_WORK/out" "GPU 0000:07:00.0"
run iommu_facts --json --root "$root"
assert_eq "$rc" 0 "iommu_facts --json exit code"
assert_eq "$(pt_jq "$PT_WORK/out" 'r["vendor"]')" intel "iommu_facts --json vendor"
