# Shared helpers for tests/integration/targets/*/test.sh (sourced, bash).
# Every helper fails the test (exit 1) with a message when its check fails.
set -euo pipefail

PT_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PT_TOOLS=$PT_REPO/build/tools
PT_FIXTURES=$PT_REPO/tests/fixtures
PT_WORK=${PT_WORK:-$(mktemp -d)}
PY=/usr/bin/python3

export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 ANSIBLE_RETRY_FILES_ENABLED=0
export ANSIBLE_LOCALHOST_WARNING=False ANSIBLE_INVENTORY_UNPARSED_WARNING=False
# Deprecation warnings stay on: run.sh fails a target whose log holds one, so
# what the next ansible-core removes is seen while both versions still run it.
export ANSIBLE_DEPRECATION_WARNINGS=True ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3
export ANSIBLE_HOST_KEY_CHECKING=False ANSIBLE_GATHERING=explicit
export ANSIBLE_ROLES_PATH=$PT_REPO/roles

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "--- $*"; }

# pt_root_from_host DESC.yml DIR: a sandbox root from a host description.
pt_root_from_host() { "$PT_TOOLS/mkroot" "$1" "$2" >/dev/null || fail "mkroot $1"; }

# pt_stub ROOT NAME...: install the recording stub as /usr/sbin/NAME in ROOT.
pt_stub() {
	local root=$1; shift
	mkdir -p "$root/usr/sbin" "$root/usr/bin" "$root/etc/record-cmd"
	for n in "$@"; do install -m 0755 "$PT_TOOLS/record-cmd" "$root/usr/sbin/$n"; done
}
# pt_stub_calls ROOT: what the stubs recorded, one command per line.
pt_stub_calls() { cat "$1/var/log/record-cmd.log" 2>/dev/null || true; }

# pt_adhoc MODULE 'k=v ...' [ansible options]: run a module ad hoc on localhost;
# prints the module's raw result as JSON on stdout, whatever its status (saved
# by the test callback tests/integration/callback_plugins/result_file.py).
pt_adhoc() {
	local module=$1 args=$2; shift 2
	rm -f "$PT_WORK/adhoc.json"
	# ansible exits non-zero when the module fails: the result is still wanted.
	PT_RESULT_FILE=$PT_WORK/adhoc.json ANSIBLE_LOAD_CALLBACK_PLUGINS=1 \
		ANSIBLE_CALLBACK_PLUGINS=$PT_REPO/tests/integration/callback_plugins \
		ANSIBLE_CALLBACKS_ENABLED=result_file \
		ansible localhost -c local -m "homelab.passthrough.$module" -a "$args" "$@" \
		>"$PT_WORK/adhoc.out" 2>"$PT_WORK/adhoc.err" || true
	$PY -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))))' "$PT_WORK/adhoc.json" \
		|| { cat "$PT_WORK/adhoc.out" "$PT_WORK/adhoc.err" >&2; fail "ansible ad hoc $module"; }
}

# pt_jq JSONFILE PYEXPR: evaluate a Python expression over the JSON as `r`.
pt_jq() { $PY -c 'import json,sys; r=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print(json.dumps(v) if not isinstance(v,str) else v)' "$1" "$2"; }

# pt_playbook PLAYBOOK [options]: ansible-playbook on localhost; output in $PT_WORK/play.out.
pt_playbook() {
	ansible-playbook -i localhost, -c local "$@" >"$PT_WORK/play.out" 2>&1
	local rc=$?
	cat "$PT_WORK/play.out"
	return $rc
}
# pt_play_recap_changed HOST OUTFILE: HOST's changed= count in the recap of the
# ansible-playbook run whose output is OUTFILE.
pt_play_recap_changed() { sed -n "s/^$1 *:.* changed=\([0-9]*\).*/\1/p" "$2" | tail -n 1; }
# pt_play_changes OUTFILE: each changed task of the ansible-playbook run whose
# output is OUTFILE, with the diff it printed (warnings, which Ansible prints once
# per run, left out): what a --check --diff run predicted, to compare with the
# real run's.
pt_play_changes() {
	$PY - "$1" <<'PYEOF'
import re, sys
task, block, in_warning = None, [], False
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    m = re.match(r"^TASK \[(.*)\] \*+$", line)
    if m:
        task, block, in_warning = m.group(1), [], False
    elif task is None:
        continue
    elif line.startswith("[WARNING]"):
        in_warning = True
    elif in_warning and not line.startswith(("--- before", "changed: [", "ok: [")):
        continue
    elif line.startswith("changed: ["):
        print("## " + task)
        print("\n".join(block))
    else:
        in_warning = False
        block.append(line)
PYEOF
}

assert_eq() { [ "$1" = "$2" ] || fail "${3:-values differ}: expected [$2], got [$1]"; }
assert_contains() { grep -qF -- "$2" "$1" || fail "${3:-$1 lacks} [$2]"; }
assert_not_contains() { ! grep -qF -- "$2" "$1" || fail "${3:-$1 holds} [$2]"; }
# assert_tree_unchanged DIR SNAPSHOT: nothing under DIR changed since pt_snapshot.
# Files by content; symlinks by target (sysfs roots link to directories).
pt_snapshot() {
	(cd "$1" && {
		find . -path ./var/log -prune -o -type f -print0 | sort -z | xargs -0 -r sha256sum
		find . -path ./var/log -prune -o -type l -printf '%p -> %l\n' | sort
	}) >"$2"
}
assert_tree_unchanged() {
	pt_snapshot "$1" "$2.now"
	diff -u "$2" "$2.now" || fail "files under $1 changed"
}
