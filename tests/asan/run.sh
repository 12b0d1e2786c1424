#!/usr/bin/env bash
# make asan: the tests with AddressSanitizer (LeakSanitizer included) and
# UndefinedBehaviorSanitizer. Any sanitizer report fails the run.
#
#   tests/asan/run.sh [TARGET...]    TARGETs limit the integration part
#
# Needs `make asan-build all tools` (make asan does it). Four parts:
#   1. every unit test (build/asan/tests/test_*, sanitized), then the sanitized
#      mkroot (build/asan/bin/mkroot) on every host description and capture;
#   2. a second copy of the collection whose modules are the sanitized binaries
#      of build/asan/bin (plus the canary module, tests/asan/asan_canary.c), built
#      with ansible-galaxy and installed into build/asan/collections; ~/.ansible
#      and plugins/modules stay as `make install` and `make` left them;
#   3. the canary run through Ansible once per fault (leak, overflow, ubsan),
#      each of which must leave its report: proof that the options reach a
#      module started by Ansible and that its reports land where step 4 looks;
#   4. the integration suite (tests/integration/run.sh) with
#      ANSIBLE_COLLECTIONS_PATH=build/asan/collections, so every module any test
#      runs through Ansible is a sanitized one, and PT_MODULES_DIR=build/asan/bin
#      for the tests that start the binaries themselves (bad_input).
# Reports go to files (ASAN_OPTIONS/UBSAN_OPTIONS log_path), never to stderr, where
# a module's would be lost inside Ansible's result: build/asan/reports/{unit,
# integration}/. Logs: build/asan/unit/NAME.log, build/asan/integration/NAME.log.
#
# What is not sanitized: record-cmd and fake-pvesh (static: they run chrooted in
# sandbox roots, and ASan cannot link -static), the static build/tools/mkroot the
# tests call, the commands the modules run (pt_exec gives them a fixed
# environment), and the module binary tests/integration/stress/concurrency.sh
# starts itself (plugins/modules/pve_pci_mapping: it does not read PT_MODULES_DIR).
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
asan=$repo/build/asan
cd "$repo" || exit 2
start=$(date +%s)

die() { echo "asan: $*" >&2; exit 2; }
for f in "$asan"/bin/asan_canary "$repo"/build/tools/mkroot; do
	[ -x "$f" ] || die "$f is missing: run make asan (it builds everything this needs)"
done
symbolizer=$(command -v llvm-symbolizer || true)
[ -n "$symbolizer" ] || die "llvm-symbolizer is missing (apt-get install -y llvm): reports would have no file:line"

# LeakSanitizer stops the process's threads with ptrace at exit: under a tracer
# (strace, gdb, valgrind) it cannot, and fails every run.
if [ "$(awk '/^TracerPid:/ {print $2}' /proc/self/status)" != 0 ]; then
	die "running under a tracer: LeakSanitizer cannot work (run make asan untraced)"
fi

# sanitize DIR: the options for every sanitized process started from here on.
# Files are DIR/report.PID (clang's ASan runtime hosts UBSan: one log for both).
# Beyond the defaults: stack use after return and initialization order. Not
# strict_string_checks: it makes every string call scan the whole string, and
# bad_input's 1 MB /proc/cmdline then takes iommu_facts minutes instead of half a
# second (its 30 s limit kills it).
sanitize() {
	mkdir -p "$1"
	export ASAN_SYMBOLIZER_PATH=$symbolizer
	ASAN_OPTIONS="log_path=$1/report:detect_leaks=1"
	ASAN_OPTIONS+=":detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1"
	export ASAN_OPTIONS
	export UBSAN_OPTIONS="log_path=$1/report:print_stacktrace=1:halt_on_error=1"
}
reports() { find "$1" -type f 2>/dev/null | sort; }
# show_reports DIR: print every report under DIR (the first 80 lines of each).
show_reports() {
	local f
	for f in $(reports "$1"); do
		echo "---- ${f#"$repo"/}"
		head -n 80 "$f"
	done
}

failed=0
rm -rf "$asan/reports" "$asan/unit" "$asan/integration" "$asan/canary"
mkdir -p "$asan/unit" "$asan/integration"

# --- 1. unit tests ------------------------------------------------------------
unit_pass=0 unit_fail=0 unit_start=$(date +%s)
for src in "$repo"/tests/unit/test_*.c; do
	n=$(basename "$src" .c) t=$asan/tests/$(basename "$src" .c)
	[ -x "$t" ] || die "${t#"$repo"/} is missing: run make asan"
	dir=$asan/reports/unit/$n t0=$(date +%s)
	sanitize "$dir"
	if "$t" >"$asan/unit/$n.log" 2>&1 && [ -z "$(reports "$dir")" ]; then
		unit_pass=$((unit_pass + 1)) status=PASS
	else
		unit_fail=$((unit_fail + 1)) status=FAIL
	fi
	printf '%-4s unit %-27s %4ss\n' "$status" "$n" "$(($(date +%s) - t0))"
	if [ $status = FAIL ]; then
		if [ -n "$(reports "$dir")" ]; then show_reports "$dir"; else tail -n 40 "$asan/unit/$n.log"; fi
	fi
done
echo "asan unit: $unit_pass passed, $unit_fail failed ($(($(date +%s) - unit_start))s)"
[ "$unit_fail" -eq 0 ] || failed=1

# --- 1b. mkroot: every host description and capture, and its refusals ------------
# mkroot is a one-shot tool that leaves the memory it used to the exit (its header
# says so): leaks are not checked, everything else is.
dir=$asan/reports/mkroot work=$asan/mkroot
rm -rf "$work"
mkdir -p "$work"
sanitize "$dir"
export ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0"
mk_ok=0 mk_bad=0
# mk EXPECTED-RC ARGS...: run the sanitized mkroot, count a wrong exit status.
mk() {
	local want=$1 rc=0; shift
	PT_REPO=$repo "$asan/bin/mkroot" "$@" >>"$work/log" 2>&1 || rc=$?
	if [ "$rc" = "$want" ]; then mk_ok=$((mk_ok + 1)); else
		mk_bad=$((mk_bad + 1))
		echo "FAIL mkroot $*: exit status $rc, expected $want"
	fi
}
for h in "$repo"/tests/fixtures/hosts/*.yml; do mk 0 "$h" "$work/$(basename "$h" .yml)"; done
for c in "$repo"/tests/fixtures/captures/*.tgz; do
	[ -f "$c" ] && mk 0 --capture "$c" "$work/$(basename "$c" .tgz)"
done
mk 0 --synthetic 64 16 "$work/synthetic"
printf 'devices: [\n' >"$work/broken.yml"
mk 1 "$work/broken.yml" "$work/broken"
mk 1 "$work/no-such-host.yml" "$work/none"
mk 1 --synthetic 0 0 "$work/zero"
unset ASAN_OPTIONS UBSAN_OPTIONS
if [ -n "$(reports "$dir")" ]; then show_reports "$dir"; mk_bad=$((mk_bad + 1)); fi
echo "asan mkroot: $mk_ok runs as expected, $mk_bad failed, $(reports "$dir" | wc -l) report(s)"
[ "$mk_bad" -eq 0 ] || failed=1
rm -rf "$work"

# --- 2. the sanitized collection ------------------------------------------------
stage=$asan/collection colls=$asan/collections
rm -rf "$stage" "$colls" "$asan"/homelab-passthrough-*.tar.gz
mkdir -p "$stage/plugins/modules"
# Everything `make install` would package (galaxy.yml's build_ignore applies again
# in the build below), except the modules, which come from build/asan/bin.
for e in "$repo"/* "$repo"/.[!.]*; do
	[ -e "$e" ] || continue
	case $(basename "$e") in
	build | tests | bench | .git | plugins | *.tar.gz) ;;
	*) cp -a "$e" "$stage/" ;;
	esac
done
for e in "$repo"/plugins/*; do
	[ "$(basename "$e")" = modules ] || cp -a "$e" "$stage/plugins/"
done
modules=()
for src in "$repo"/modules/*.c; do
	m=$(basename "$src" .c)
	[ -x "$asan/bin/$m" ] || die "build/asan/bin/$m is missing: run make asan"
	cp "$asan/bin/$m" "$stage/plugins/modules/$m"
	cp "$repo/modules/$m.yml" "$stage/plugins/modules/$m.yml"
	modules+=("$m")
done
cp "$asan/bin/asan_canary" "$stage/plugins/modules/asan_canary"
{
	ansible-galaxy collection build --force --output-path "$asan" "$stage" &&
		ansible-galaxy collection install --force -p "$colls" "$asan"/homelab-passthrough-*.tar.gz
} >"$asan/collection.log" 2>&1 || { cat "$asan/collection.log"; die "cannot build or install the sanitized collection"; }
installed=$colls/ansible_collections/homelab/passthrough/plugins/modules
for m in "${modules[@]}" asan_canary; do
	nm "$installed/$m" 2>/dev/null | grep -q ' __asan_init' ||
		die "$installed/$m is not a sanitized binary"
done
echo "asan: sanitized collection (${modules[*]}) in ${colls#"$repo"/}"

# Ansible as tests/integration/lib.sh sets it up, the collection from build/asan only.
export ANSIBLE_COLLECTIONS_PATH=$colls
export ANSIBLE_NOCOLOR=1 ANSIBLE_LOCALHOST_WARNING=False ANSIBLE_INVENTORY_UNPARSED_WARNING=False
export ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3 ANSIBLE_GATHERING=explicit

# --- 3. the canary: a report made inside a module run by Ansible is seen --------
# fault text-in-report
canary_ok=1
while read -r fault expect; do
	dir=$asan/canary/$fault
	sanitize "$dir"
	ansible localhost -c local -m homelab.passthrough.asan_canary -a "mode=$fault" \
		>"$dir.out" 2>&1 || true
	if ! grep -rqF -- "$expect" "$dir"; then
		echo "FAIL canary $fault: no report with [$expect] under ${dir#"$repo"/}"
		cat "$dir.out"
		canary_ok=0
	elif ! grep -rq 'asan_canary.c:[0-9]' "$dir"; then
		echo "FAIL canary $fault: the report has no file:line (symbolizer)"
		show_reports "$dir"
		canary_ok=0
	fi
done <<'EOF'
leak LeakSanitizer: detected memory leaks
overflow heap-buffer-overflow
ubsan signed integer overflow
EOF
# and a clean run leaves nothing
dir=$asan/canary/none
sanitize "$dir"
ansible localhost -c local -m homelab.passthrough.asan_canary -a mode=none >"$dir.out" 2>&1 ||
	{ cat "$dir.out"; echo "FAIL canary none: the module failed"; canary_ok=0; }
[ -z "$(reports "$dir")" ] || { show_reports "$dir"; echo "FAIL canary none: a report"; canary_ok=0; }
if [ $canary_ok = 1 ]; then
	echo "asan canary: leak, overflow and ubsan reports seen from a module run by Ansible"
else
	echo "asan canary: FAILED: a sanitizer report from a module would go unseen"
	failed=1
fi

# --- 4. the integration suite against the sanitized collection -----------------
dir=$asan/reports/integration
sanitize "$dir"
it_start=$(date +%s)
# A case's timeout says "finishes quickly" (near-linear work on 100000 items):
# sanitized code runs three to five times slower, so the cases get four times
# their time here (tests/bad-input/run.py); quadratic work still overruns it.
PT_TIMEOUT_SCALE=4 PT_LOGS=$asan/integration PT_MODULES_DIR=$asan/bin "$repo/tests/integration/run.sh" "$@"
it_rc=$?
it_reports=$(reports "$dir" | wc -l)
if [ "$it_reports" -gt 0 ]; then
	show_reports "$dir"
	echo "asan integration: $it_reports sanitizer report(s) in ${dir#"$repo"/}"
	failed=1
fi
[ $it_rc -eq 0 ] || failed=1
echo "asan integration: suite $([ $it_rc -eq 0 ] && echo passed || echo FAILED)," \
	"$it_reports sanitizer report(s) ($(($(date +%s) - it_start))s)"

echo "asan: $([ $failed -eq 0 ] && echo passed || echo FAILED) in $(($(date +%s) - start))s"
exit $failed
