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
# pt_stub_count ROOT 'COMMAND ARGS': how many times the stubs recorded exactly that line.
pt_stub_count() { pt_stub_calls "$1" | grep -c -x -- "$2" || true; }

# pt_boot_tool_status ROOT BOOT: what the proxmox-boot-tool stub in ROOT answers to
# `status`, as the real tool does on a node that boots with BOOT:
#   grub          a plain GRUB host: the tool manages no ESP (exit 2, and its message);
#   systemd-boot  ZFS on UEFI (pve2): one ESP, configured with uefi.
pt_boot_tool_status() {
	local dir=$1/etc/record-cmd
	case $2 in
	grub)
		echo 2 >"$dir/proxmox-boot-tool.status.rc"
		echo "E: /etc/kernel/proxmox-boot-uuids does not exist." >"$dir/proxmox-boot-tool.status.err"
		;;
	systemd-boot)
		cat >"$dir/proxmox-boot-tool.status.out" <<'OUT'
Re-executing '/usr/sbin/proxmox-boot-tool' in new private mount namespace..
System currently booted with uefi
5D1B-6C2A is configured with: uefi (versions: 6.8.12-4-pve)
OUT
		;;
	*) fail "pt_boot_tool_status: boot loader $2 is neither grub nor systemd-boot" ;;
	esac
}

# pt_boot_sandbox DESC.yml DIR BOOT: a sandbox root from a host description whose
# boot commands are recording stubs: update-grub, and proxmox-boot-tool answering
# as pt_boot_tool_status BOOT says.
pt_boot_sandbox() {
	pt_root_from_host "$1" "$2"
	pt_stub "$2" update-grub proxmox-boot-tool
	pt_boot_tool_status "$2" "$3"
}

# pt_role_sandbox DESC.yml DIR BOOT: a sandbox root for the role: pt_boot_sandbox's,
# with update-initramfs and modprobe stubbed too and, on a Proxmox VE node (one with
# /etc/pve), the fake pvesh.
pt_role_sandbox() {
	pt_boot_sandbox "$@"
	pt_stub "$2" update-initramfs modprobe
	if [ -d "$2/etc/pve" ]; then install -m 0755 "$PT_TOOLS/fake-pvesh" "$2/usr/bin/pvesh"; fi
}

# pt_pvesh_sandbox DESC.yml DIR: a sandbox root from a host description whose pvesh
# is the fake one (tests/pve/README.md), with /etc/pve/mapping to write in.
pt_pvesh_sandbox() {
	pt_root_from_host "$1" "$2"
	mkdir -p "$2/usr/bin" "$2/etc/pve/mapping"
	install -m 0755 "$PT_TOOLS/fake-pvesh" "$2/usr/bin/pvesh"
}

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

# pt_task MODULE ROOT OUT 'YAML options' [ansible-playbook options]: the module once
# in a playbook on localhost, with the options (YAML lines) and root: ROOT; its
# registered result goes to $PT_WORK/OUT.json (a failed module's too: ignore_errors),
# the play's output to $PT_WORK/play.out. Fails the test when the playbook fails.
pt_task() {
	local module=$1 root=$2 out=$PT_WORK/$3.json opts=$4
	shift 4
	{
		printf -- '- hosts: localhost\n  gather_facts: false\n  tasks:\n'
		printf -- '    - homelab.passthrough.%s:\n' "$module"
		printf '%s\n' "$opts" | sed 's/^/        /'
		printf -- '        root: %s\n' "$root"
		printf -- '      register: r\n      ignore_errors: true\n'
		printf -- '    - ansible.builtin.copy: {content: "{{ r | to_json }}", dest: "%s"}\n' "$out"
		printf -- '      check_mode: false\n      diff: false\n'
	} >"$PT_WORK/play.yml"
	pt_playbook "$PT_WORK/play.yml" "$@" >/dev/null || { cat "$PT_WORK/play.out"; fail "playbook failed"; }
}

# pt_playbook PLAYBOOK [options]: ansible-playbook on localhost; output in $PT_WORK/play.out.
pt_playbook() {
	ansible-playbook -i localhost, -c local "$@" >"$PT_WORK/play.out" 2>&1
	local rc=$?
	cat "$PT_WORK/play.out"
	return $rc
}
# pt_play NAME PLAYBOOK [options]: the repository's playbooks/PLAYBOOK with the
# inventory options the target keeps in the array PT_PLAY_INVENTORY (the inventory
# and the extra vars that point it at its sandboxes); the output goes to
# $PT_WORK/NAME.out and is printed, the exit status is returned.
pt_play() {
	local name=$1 playbook=$2; shift 2
	note "ansible-playbook $playbook $*"
	ansible-playbook "${PT_PLAY_INVENTORY[@]}" "$PT_REPO/playbooks/$playbook" "$@" >"$PT_WORK/$name.out" 2>&1
	local rc=$?
	cat "$PT_WORK/$name.out"
	return $rc
}
# pt_play_predicted CHECK RUN [MESSAGE]: the pt_play run RUN made exactly the
# changes (tasks and their diffs) that the check-mode run CHECK predicted; both
# lists are kept in $PT_WORK/CHECK.changes and $PT_WORK/RUN.changes.
pt_play_predicted() {
	pt_play_changes "$PT_WORK/$1.out" >"$PT_WORK/$1.changes"
	pt_play_changes "$PT_WORK/$2.out" >"$PT_WORK/$2.changes"
	diff -u "$PT_WORK/$1.changes" "$PT_WORK/$2.changes" ||
		fail "${3:-check mode predicted other changes than the real run made}"
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
# assert_result JSONFILE KEY=VALUE...: each KEY of the result in JSONFILE (a dotted
# path into nested objects: diff.after_header) holds VALUE, compared as
# "$(pt_jq JSONFILE 'r[...]')" gives it: strings as they are, other values as JSON,
# trailing newlines left out. Names every key that differs.
assert_result() {
	local file=$1; shift
	$PY - "$file" "$@" <<'PYEOF' || fail "$file: the result differs"
import json, sys
r = json.load(open(sys.argv[1]))
differs = False
for arg in sys.argv[2:]:
    key, want = arg.split("=", 1)
    v = r
    for k in key.split("."):
        v = v[k]
    got = (v if isinstance(v, str) else json.dumps(v)).rstrip("\n")
    if got != want:
        print(f"FAIL: {key}: expected [{want}], got [{got}]", file=sys.stderr)
        differs = True
sys.exit(differs)
PYEOF
}
# assert_contains FILE TEXT [MESSAGE] (and assert_not_contains): TEXT is one line;
# grep would take each line of a longer one as a pattern of its own, so that
# a text of two lines passes when either is there: refused.
one_line() { case $1 in *$'\n'*) fail "assert_contains takes one line, not [$1]" ;; esac; }
assert_contains() { one_line "$2"; grep -qF -- "$2" "$1" || fail "${3:-$1 lacks} [$2]"; }
assert_not_contains() { one_line "$2"; ! grep -qF -- "$2" "$1" || fail "${3:-$1 holds} [$2]"; }
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
