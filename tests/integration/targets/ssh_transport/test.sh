# The modules over SSH (issue 13), against a throwaway sshd on 127.0.0.1 started
# and stopped here (tests/integration/sshd.sh), logging in as a non-root user and
# becoming root with sudo:
#   - ad hoc results over ssh, pipelining on (the action plugins' one-exec path)
#     and off (ansible-core's own path), equal the local connection's;
#   - the role's check run over ssh predicts what it predicts locally;
#   - SSH operations per task: one exec after the first task puts the binary,
#     no sftp/scp; pipelining off, ansible-core's six;
#   - the node's cache refuses a binary with the wrong owner, writable by others,
#     a symlink or the wrong sha256: it is put again and never run; a cache
#     directory it cannot trust means ansible-core's path, with a warning;
#   - no_log, module_defaults groups, delegate_to, ANSIBLE_KEEP_REMOTE_FILES,
#     and the user's own cache without become.
source "${PT_REPO:-$(cd "$(dirname "$0")/../../../.." && pwd)}/tests/integration/lib.sh"
source "$PT_REPO/tests/integration/sshd.sh"
trap pt_sshd_stop EXIT
pt_sshd_start || fail "cannot start sshd"
S=$PT_SSH_DIR
# The sandbox roots are read by the SSH user too (the no-become case).
chmod 0755 "$PT_WORK"

root=$PT_WORK/pve1
pt_root_from_host "$PT_FIXTURES/hosts/pve1-gtx1050ti.yml" "$root"
pt_stub "$root" update-grub update-initramfs proxmox-boot-tool modprobe
echo 2 >"$root/etc/record-cmd/proxmox-boot-tool.status.rc"
install -m 0755 "$PT_TOOLS/fake-pvesh" "$root/usr/bin/pvesh"
mkdir -p "$root/etc/pve/mapping"
pt_snapshot "$root" "$PT_WORK/fresh.sha"

coll=$(ansible-galaxy collection list homelab.passthrough --format json 2>/dev/null |
	$PY -c 'import json,sys; print(list(json.load(sys.stdin))[0])')
bins=$coll/homelab/passthrough/plugins/modules
[ -x "$bins/grub_iommu" ] || fail "installed binaries not found under $bins"
sha() { sha256sum <"$bins/$1" | cut -d' ' -f1; }
cache=/var/lib/homelab-passthrough/bin

# adhoc NAME HOST MODULE ARGS [options]: the module's raw result in $PT_WORK/NAME.json
# (normalized: keys sorted), ansible's output in $PT_WORK/NAME.out, the ssh log
# of this run alone in $PT_WORK/NAME.ssh.
adhoc() {
	local name=$1 host=$2 module=$3 args=$4; shift 4
	rm -f "$PT_WORK/$name.raw"
	: >"$S/ssh.log"
	PT_RESULT_FILE=$PT_WORK/$name.raw ANSIBLE_LOAD_CALLBACK_PLUGINS=1 \
		ANSIBLE_CALLBACK_PLUGINS=$PT_REPO/tests/integration/callback_plugins \
		ANSIBLE_CALLBACKS_ENABLED=result_file \
		ansible "$host" -i "$S/inventory.yml" -m "homelab.passthrough.$module" -a "$args" "$@" \
		>"$PT_WORK/$name.out" 2>&1 || true
	cp "$S/ssh.log" "$PT_WORK/$name.ssh"
	$PY -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1])), sort_keys=True, indent=1))' \
		"$PT_WORK/$name.raw" >"$PT_WORK/$name.json" ||
		{ cat "$PT_WORK/$name.out"; fail "ansible $module ($name)"; }
}
ops() { grep -c "^$1 " "$PT_WORK/$2.ssh" || true; }
same() {
	diff -u "$PT_WORK/$1.json" "$PT_WORK/$2.json" || fail "$2 differs from $1"
}

pvesh_args="name=gpu-gtx1050ti devices=0000:07:00 root=$root"
vfio_args="devices=0000:07:00 root=$root"
declare -A ARGS=([iommu_facts]="root=$root" [grub_iommu]="root=$root" [vfio_bind]=$vfio_args
	[pve_pci_mapping]=$pvesh_args)
for m in iommu_facts grub_iommu vfio_bind pve_pci_mapping; do
	note "$m: local, ssh with pipelining on and off (become root): the same result"
	adhoc "$m-local" localhost "$m" "${ARGS[$m]}" -c local --check --diff
	ANSIBLE_PIPELINING=1 adhoc "$m-local-pipe" localhost "$m" "${ARGS[$m]}" -c local --check --diff
	ANSIBLE_PIPELINING=1 adhoc "$m-pipe" node "$m" "${ARGS[$m]}" -b --check --diff
	ANSIBLE_PIPELINING=0 adhoc "$m-nopipe" node "$m" "${ARGS[$m]}" -b --check --diff
	assert_eq "$(pt_jq "$PT_WORK/$m-local.json" 'r.get("failed", False)')" false "$m failed locally"
	same "$m-local" "$m-local-pipe"
	same "$m-local" "$m-pipe"
	same "$m-local" "$m-nopipe"
	assert_eq "$(ops ssh "$m-pipe")" 1 "$m: ssh runs with pipelining (cache warm from the local run)"
	assert_eq "$(ops sftp "$m-pipe")$(ops scp "$m-pipe")" 00 "$m: file transfers with pipelining"
	[ "$(ops ssh "$m-nopipe")" -ge 4 ] || fail "$m without pipelining: $(ops ssh "$m-nopipe") ssh runs"
done
assert_tree_unchanged "$root" "$PT_WORK/fresh.sha"

note "a failed task is the same failure over ssh"
adhoc bad-local localhost grub_iommu "root=$root bogus=1" -c local
ANSIBLE_PIPELINING=1 adhoc bad-pipe node grub_iommu "root=$root bogus=1" -b
same bad-local bad-pipe
assert_eq "$(pt_jq "$PT_WORK/bad-pipe.json" 'r["failed"]')" true "bogus failed"

# --- SSH operations per task ---------------------------------------------------
note "SSH operations per task: a play of 10 tasks, cold cache then warm"
cat >"$PT_WORK/ten.yml" <<EOF
- hosts: node
  gather_facts: false
  become: true
  tasks:
$(for i in 1 2 3 4 5; do
	printf '    - homelab.passthrough.grub_iommu: {root: "%s"}\n' "$root"
	printf '    - homelab.passthrough.iommu_facts: {root: "%s"}\n' "$root"
done)
EOF
rm -rf "${cache:?}/$(sha grub_iommu)" "${cache:?}/$(sha iommu_facts)"
: >"$S/ssh.log"
ANSIBLE_PIPELINING=1 ansible-playbook -i "$S/inventory.yml" "$PT_WORK/ten.yml" --check \
	>"$PT_WORK/ten-cold.out" 2>&1 || { cat "$PT_WORK/ten-cold.out"; fail "cold play"; }
cp "$S/ssh.log" "$PT_WORK/ten-cold.ssh"
cat "$PT_WORK/ten-cold.ssh"
# 10 tasks, 2 modules put once each: 12 ssh runs, no transfer by sftp or scp.
assert_eq "$(ops ssh ten-cold)" 12 "ssh runs, cold cache"
assert_eq "$(ops sftp ten-cold)$(ops scp ten-cold)" 00 "transfers, cold cache"
: >"$S/ssh.log"
ANSIBLE_PIPELINING=1 ansible-playbook -i "$S/inventory.yml" "$PT_WORK/ten.yml" --check \
	>"$PT_WORK/ten-warm.out" 2>&1 || { cat "$PT_WORK/ten-warm.out"; fail "warm play"; }
cp "$S/ssh.log" "$PT_WORK/ten-warm.ssh"
assert_eq "$(ops ssh ten-warm)" 10 "ssh runs, warm cache: one per task"
assert_eq "$(ops sftp ten-warm)$(ops scp ten-warm)" 00 "transfers, warm cache"
: >"$S/ssh.log"
ANSIBLE_PIPELINING=0 ansible-playbook -i "$S/inventory.yml" "$PT_WORK/ten.yml" --check \
	>"$PT_WORK/ten-off.out" 2>&1 || { cat "$PT_WORK/ten-off.out"; fail "play without pipelining"; }
cp "$S/ssh.log" "$PT_WORK/ten-off.ssh"
echo "pipelining off: $(ops ssh ten-off) ssh runs, $(ops sftp ten-off) sftp runs for 10 tasks"
[ "$(ops sftp ten-off)" -ge 20 ] || fail "pipelining off should take ansible-core's path (2 puts per task)"

# --- the cache's refusals -------------------------------------------------------
g=$cache/$(sha grub_iommu)
marker=$PT_WORK/ran-the-impostor
impostor() { printf '#!/bin/sh\ntouch %s\necho "{\\"changed\\": true}"\n' "$marker" >"$1"; chmod 0700 "$1"; }
# refused NAME WHY: the run refused the cached file for WHY, put the binary
# again and ran it: the same result as locally, a genuine root-owned 0700 file.
refused() {
	ANSIBLE_PIPELINING=1 adhoc "$1" node grub_iommu "root=$root" -b --check --diff -vvv
	grep -F "cache miss ($2" "$PT_WORK/$1.out" || { grep -F "cache miss" "$PT_WORK/$1.out"; fail "$1: no miss for [$2]"; }
	same grub_iommu-local "$1"
	[ ! -e "$marker" ] || fail "$1: the refused file was run"
	cmp -s "$bins/grub_iommu" "$g/grub_iommu" || fail "$1: the cached file is not the binary"
	assert_eq "$(stat -c '%U %a' "$g/grub_iommu" "$g" | tr '\n' ' ')" "root 700 root 700 " "$1: cached owner/mode"
	assert_eq "$(ops ssh "$1")" 2 "$1: ssh runs (check, then put and run)"
}
note "refused: the cached binary owned by another user"
chown "$PT_SSH_USER" "$g/grub_iommu"
refused owner "unsafe: $(id -u "$PT_SSH_USER") -rwx------ $g/grub_iommu"
note "refused: the cached binary writable by others, its directory writable by the group"
chmod o+w "$g/grub_iommu"
refused other-writable "unsafe: 0 -rwx----w- $g/grub_iommu"
chmod g+w "$g"
refused dir-writable "unsafe: 0 drwx-w---- $g"
note "refused: another program in its place (wrong sha256), never run"
impostor "$g/grub_iommu"
refused wrong-hash "wrong sha256"
note "refused: a symlink to another program, never run"
impostor "$PT_WORK/impostor"
rm "$g/grub_iommu"
ln -s "$PT_WORK/impostor" "$g/grub_iommu"
refused symlink "unsafe: 0 lrwxrwxrwx $g/grub_iommu"
note "a cache directory owned by another user: ansible-core's path, with a warning"
chown "$PT_SSH_USER" "$cache"
ANSIBLE_PIPELINING=1 adhoc untrusted node grub_iommu "root=$root" -b --check --diff
chown root "$cache"
assert_contains "$PT_WORK/untrusted.out" "cannot cache grub_iommu on the node"
# ansible-core 2.19 also files an action plugin's warning in the task's result
# (2.14 only prints it): the module's own result is what must be the same.
$PY - "$PT_WORK/untrusted.json" "$PT_WORK/untrusted-result.json" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
w = [x for x in r.get("warnings", []) if "cannot cache grub_iommu on the node" not in x]
if w:
    r["warnings"] = w
else:
    r.pop("warnings", None)
json.dump(r, open(sys.argv[2], "w"), indent=1, sort_keys=True)
open(sys.argv[2], "a").write("\n")
PYEOF
same grub_iommu-local untrusted-result
[ "$(ops sftp untrusted)" -ge 2 ] || fail "untrusted cache: not ansible-core's path"

# --- what else Ansible gives a module ------------------------------------------
note "no become: the SSH user's own cache in its home"
ANSIBLE_PIPELINING=1 adhoc user node iommu_facts "root=$root"
same iommu_facts-local user
home=$(getent passwd "$PT_SSH_USER" | cut -d: -f6)
assert_eq "$(stat -c '%U %a' "$home/.ansible/homelab-passthrough/bin/$(sha iommu_facts)/iommu_facts")" \
	"$PT_SSH_USER 700" "user cache owner/mode"

note "ANSIBLE_KEEP_REMOTE_FILES: ansible-core's path, files kept"
ANSIBLE_KEEP_REMOTE_FILES=1 ANSIBLE_PIPELINING=1 adhoc keep node grub_iommu "root=$root" -b --check --diff
same grub_iommu-local keep
[ "$(ops sftp keep)" -ge 2 ] || fail "KEEP_REMOTE_FILES: not ansible-core's path"
rm -rf "$home"/.ansible/tmp/ansible-tmp-*

note "no_log, module_defaults (action group), delegate_to, diff over ssh with pipelining"
cat >"$PT_WORK/misc.yml" <<EOF
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/homelab.passthrough.passthrough:
      root: "$root"
  tasks:
    - name: Delegated to the node over ssh, root from the group defaults
      homelab.passthrough.grub_iommu:
      delegate_to: node
      become: true
      register: delegated
    - name: Secret
      homelab.passthrough.grub_iommu:
      delegate_to: node
      become: true
      no_log: true
      register: secret
    - ansible.builtin.assert:
        that:
          # the sandbox's line (the node's own / has another or none)
          - delegated.cmdline_before == "quiet"
          - delegated.cmdline == "quiet intel_iommu=on iommu=pt"
EOF
: >"$S/ssh.log"
ANSIBLE_PIPELINING=1 ansible-playbook -v -i "$S/inventory.yml" "$PT_WORK/misc.yml" --check --diff \
	>"$PT_WORK/misc.out" 2>&1 || { cat "$PT_WORK/misc.out"; fail "misc play"; }
cat "$PT_WORK/misc.out"
assert_eq "$(grep -c '^ssh ' "$S/ssh.log")" 2 "misc: ssh runs for 2 delegated tasks"
assert_contains "$PT_WORK/misc.out" '+GRUB_CMDLINE_LINUX_DEFAULT="quiet intel_iommu=on iommu=pt"'
# -v shows the first task's result and only "censored" for the no_log one
assert_eq "$(grep -c '"cmdline_before": "quiet"' "$PT_WORK/misc.out")" 1 "results shown"
assert_contains "$PT_WORK/misc.out" '"censored": "the output has been hidden'
assert_eq "$(sed -n '/TASK \[Secret\]/,/TASK/p' "$PT_WORK/misc.out" | grep -c 'GRUB_CMDLINE')" 0 \
	"no_log task's diff shown"

# --- the role ---------------------------------------------------------------------
note "the role's check run: over ssh (pipelining on and off, become) as locally"
role() {
	local name=$1; shift
	ansible-playbook -i "$PT_REPO/inventory/example.yml" -e "gpu_passthrough_root=$root" \
		"$PT_REPO/playbooks/site.yml" --check --diff "$@" >"$PT_WORK/$name.out" 2>&1 ||
		{ cat "$PT_WORK/$name.out"; fail "role $name"; }
	pt_play_changes "$PT_WORK/$name.out" >"$PT_WORK/$name.changes"
	grep -q '^## ' "$PT_WORK/$name.changes" || fail "role $name: no change predicted"
}
role role-local -e ansible_connection=local
ANSIBLE_PIPELINING=1 role role-pipe -e "@$S/vars.yml"
ANSIBLE_PIPELINING=0 role role-nopipe -e "@$S/vars.yml"
diff -u "$PT_WORK/role-local.changes" "$PT_WORK/role-pipe.changes" || fail "role over ssh (pipelining) differs"
diff -u "$PT_WORK/role-local.changes" "$PT_WORK/role-nopipe.changes" || fail "role over ssh differs"
for r in role-local role-pipe role-nopipe; do
	sed -n '/PLAY RECAP/,$p' "$PT_WORK/$r.out" | grep '^pve1' | sed 's/  */ /g'
done | uniq | wc -l | grep -qx 1 || fail "the role's recaps differ"
assert_tree_unchanged "$root" "$PT_WORK/fresh.sha"
