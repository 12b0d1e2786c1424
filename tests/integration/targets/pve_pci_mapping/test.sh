# pve_pci_mapping through Ansible against the Proxmox test double (fake-pvesh,
# tests/pve/README.md) in a sandbox root of the seed host pve1: GTX 1050 Ti
# 10de:1c82 (subsystem 1462:8c96) at 0000:07:00.0, audio 10de:0fb9 at 07:00.1,
# both in IOMMU group 14. Create, no-op, check and diff mode, other nodes' entries
# kept, exact mode, removal, description and flags, validation and limits, the
# hardware mismatch warning, pvesh failures (a get that did not run included), and
# 16 nodes at once (direct and with forks).
source "${PT_REPO:-$(cd "$(dirname "$0")/../../../.." && pwd)}/tests/integration/lib.sh"

ROOT=$PT_WORK/pve1
pt_pvesh_sandbox "$PT_FIXTURES/hosts/pve1-gtx1050ti.yml" "$ROOT"
CFG=$ROOT/etc/pve/mapping/pci.cfg
LOG=$ROOT/var/log/fake-pvesh.log
NAME=gpu-gtx1050ti
E1='id=10de:1c82,iommugroup=14,node=pve1,path=0000:07:00,subsystem-id=1462:8c96'
E1F='id=10de:1c82,iommugroup=14,node=pve1,path=0000:07:00.0,subsystem-id=1462:8c96'
E2='id=10de:1c82,iommugroup=9,node=pve2,path=0000:02:00,subsystem-id=1462:8c96'
E3='id=10de:1c82,iommugroup=31,node=pve3,path=0000:81:00,subsystem-id=1462:8c96'

# task OUT 'yaml options' [ansible-playbook options]: the module once on the
# sandbox (pt_task): the result goes to $PT_WORK/OUT.json.
task() { pt_task pve_pci_mapping "$ROOT" "$@"; }
r() { pt_jq "$PT_WORK/$1.json" "$2"; }
# writes: how many create/set/delete calls pvesh has seen.
writes() { grep -cE '^pvesh (create|set|delete) ' "$LOG" 2>/dev/null || true; }
expect_file() { diff -u <(printf '%s' "$1") "$CFG" || fail "pci.cfg differs"; }
# pvesh ARGS: the double directly, as another node would change the file.
pvesh() { chroot "$ROOT" /usr/bin/pvesh "$@"; }
digest() { pvesh get /cluster/mapping/pci/$NAME --output-format json | $PY -c 'import json,sys; print(json.load(sys.stdin)["digest"])'; }

note "check mode on a new mapping: predicts the create, writes nothing"
task check_create "name: $NAME
devices: ['0000:07:00']
description: GTX 1050 Ti" --check --diff
assert_eq "$(r check_create 'r["changed"]')" true
assert_eq "$(r check_create 'r["action"]')" create
assert_eq "$(r check_create 'r["mapping"]["map"]')" "[\"$E1\"]"
assert_eq "$(r check_create 'r["diff"]["after"]')" "$(printf '%s\n\tmap %s\n\tdescription GTX 1050 Ti' "$NAME" "$E1")"
assert_contains "$PT_WORK/play.out" "+	map $E1"
[ -e "$CFG" ] && fail "check mode wrote pci.cfg"
assert_eq "$(writes)" 0 "pvesh writes in check mode"

note "create: id, subsystem-id and iommugroup come from the hardware"
task create "name: $NAME
devices: ['0000:07:00']
description: GTX 1050 Ti"
assert_eq "$(r create 'r["changed"]')" true
assert_eq "$(r create 'r["action"]')" create
assert_eq "$(r create 'r["node"]')" pve1
assert_eq "$(r create 'r["retries"]')" 0
assert_eq "$(r create 'r["commands"][0][:5]')" '["/usr/bin/pvesh", "create", "/cluster/mapping/pci", "--id", "gpu-gtx1050ti"]'
expect_file "$NAME
	map $E1
	description GTX 1050 Ti

"

note "second run: nothing to do (check mode agrees)"
task again "name: $NAME
devices: ['0000:07:00']
description: GTX 1050 Ti"
assert_eq "$(r again 'r["changed"]')" false
assert_eq "$(r again 'r["action"]')" none
assert_eq "$(r again 'r["mapping"]["map"]')" "[\"$E1\"]"
task again_check "name: $NAME
devices: ['07:00']" --check --diff
assert_eq "$(r again_check 'r["changed"]')" false
assert_eq "$(writes)" 1 "pvesh writes after a no-op"

note "description and flags; check mode and diff first"
pt_snapshot "$ROOT" "$PT_WORK/before-flags.sha"
task flags_check "name: $NAME
devices: ['0000:07:00']
description: GTX 1050 Ti incl. audio
mdev: true
live_migration_capable: false" --check --diff
assert_eq "$(r flags_check 'r["changed"]')" true
assert_eq "$(r flags_check 'r["action"]')" update
assert_contains "$PT_WORK/play.out" "-	description GTX 1050 Ti"
assert_contains "$PT_WORK/play.out" "+	description GTX 1050 Ti incl. audio"
assert_contains "$PT_WORK/play.out" "+	mdev 1"
assert_tree_unchanged "$ROOT" "$PT_WORK/before-flags.sha"
task flags "name: $NAME
devices: ['0000:07:00']
description: GTX 1050 Ti incl. audio
mdev: true
live_migration_capable: false"
assert_eq "$(r flags 'r["changed"]')" true
assert_eq "$(r flags 'r["mapping"]["mdev"]')" 1
assert_eq "$(r flags 'r["mapping"]["live-migration-capable"]')" 0
assert_contains "$PT_WORK/flags.json" '"--digest"'
expect_file "$NAME
	map $E1
	description GTX 1050 Ti incl. audio
	live-migration-capable 0
	mdev 1

"
task flags_again "name: $NAME
devices: ['0000:07:00']
mdev: true"
assert_eq "$(r flags_again 'r["changed"]')" false
task no_description "name: $NAME
devices: ['0000:07:00']
description: ''
mdev: false"
assert_eq "$(r no_description 'r["changed"]')" true
assert_eq "$(r no_description '"description" in r["commands"][0] and "--delete" in r["commands"][0]')" true
expect_file "$NAME
	map $E1
	live-migration-capable 0
	mdev 0

"

note "other nodes' entries stay, in place and byte for byte, when this node's changes"
pvesh set /cluster/mapping/pci/$NAME --map "$E2" --map "$E1" --map "$E3" --digest "$(digest)"
task one_node "name: $NAME
devices: ['0000:07:00.0']"
assert_eq "$(r one_node 'r["changed"]')" true
assert_eq "$(r one_node 'r["mapping"]["map"]')" "[\"$E2\", \"$E1F\", \"$E3\"]"
expect_file "$NAME
	map $E2
	map $E1F
	map $E3
	live-migration-capable 0
	mdev 0

"
# A per-node description set in the web interface survives the module.
pvesh set /cluster/mapping/pci/$NAME --map "$E2" --map "description=spare card,$E1F" --map "$E3" --digest "$(digest)"
task keep_entry_description "name: $NAME
devices: ['0000:07:00.0']"
assert_eq "$(r keep_entry_description 'r["changed"]')" false
# Another spelling of the same entries (key order, hex case) is no change either.
pvesh set /cluster/mapping/pci/$NAME --map "$E2" --map "node=pve1,path=0000:07:00.0,id=10de:1c82,subsystem-id=1462:8c96,iommugroup=14,description=spare card" --map "$E3" --digest "$(digest)"
task same_semantics "name: $NAME
devices: ['0000:07:00.0']"
assert_eq "$(r same_semantics 'r["changed"]')" false

note "the hardware mismatch warning: reported, corrected with state=present"
pvesh set /cluster/mapping/pci/$NAME --map "$E2" --map "id=10de:1c82,iommugroup=13,node=pve1,path=0000:07:00.0,subsystem-id=1462:8c96" --map "$E3" --digest "$(digest)"
task hw_check "name: $NAME
devices: ['0000:07:00.0']" --check
assert_eq "$(r hw_check 'r["changed"]')" true
assert_contains "$PT_WORK/hw_check.json" "hardware probably changed"
assert_contains "$PT_WORK/hw_check.json" "'iommugroup' does not match for 'gpu-gtx1050ti' (14 != 13)"
task hw_fix "name: $NAME
devices: ['0000:07:00.0']"
assert_eq "$(r hw_fix 'r["changed"]')" true
assert_contains "$PT_WORK/hw_fix.json" "the entry is corrected from the hardware"
assert_eq "$(r hw_fix 'r["mapping"]["map"][1]')" "$E1F"
# Upper-case IDs pass the schema but fail Proxmox's check at VM start: rewritten.
pvesh set /cluster/mapping/pci/$NAME --map "$E2" --map "id=10DE:1C82,iommugroup=14,node=pve1,path=0000:07:00.0,subsystem-id=1462:8C96" --map "$E3" --digest "$(digest)"
task hw_case "name: $NAME
devices: ['0000:07:00.0']"
assert_eq "$(r hw_case 'r["changed"]')" true
assert_contains "$PT_WORK/hw_case.json" "'id' does not match for 'gpu-gtx1050ti' (10de:1c82 != 10DE:1C82)"
assert_eq "$(r hw_case 'r["mapping"]["map"][1]')" "$E1F"

note "state=absent in node mode: this node's entries go, the others stay"
task remove_node "name: $NAME
state: absent" --diff
assert_eq "$(r remove_node 'r["action"]')" update
assert_eq "$(r remove_node 'r["mapping"]["map"]')" "[\"$E2\", \"$E3\"]"
assert_contains "$PT_WORK/play.out" "-	map $E1F"
task remove_node_again "name: $NAME
state: absent"
assert_eq "$(r remove_node_again 'r["changed"]')" false

note "exact mode: the whole list; the local entry's IDs read from the hardware"
task exact "name: $NAME
map_mode: exact
map:
  - {node: pve1, path: '0000:07:00'}
  - {node: pve2, path: '0000:02:00', id: '10de:1c82', subsystem_id: '1462:8c96', iommugroup: 9}"
assert_eq "$(r exact 'r["changed"]')" true
assert_eq "$(r exact 'r["mapping"]["map"]')" "[\"$E1\", \"$E2\"]"
expect_file "$NAME
	map $E1
	map $E2
	live-migration-capable 0
	mdev 0

"
task exact_again "name: $NAME
map_mode: exact
map:
  - {node: pve2, path: '0000:02:00', id: '10DE:1C82', subsystem_id: '1462:8C96', iommugroup: 9}
  - {node: pve1, path: '0000:07:00', id: '10de:1c82', subsystem_id: '1462:8c96', iommugroup: 14}"
assert_eq "$(r exact_again 'r["changed"]')" false
task exact_wrong_hw "name: $NAME
map_mode: exact
map:
  - {node: pve1, path: '0000:07:00.1', id: '10de:1c82', iommugroup: 14}" --check
assert_contains "$PT_WORK/exact_wrong_hw.json" "does not match the hardware: 'id' does not match for 'gpu-gtx1050ti' (10de:0fb9 != 10de:1c82)"

note "exact mode state=absent removes the mapping; again is a no-op"
task delete "name: $NAME
map_mode: exact
state: absent" --diff
assert_eq "$(r delete 'r["action"]')" delete
assert_eq "$(r delete 'r["mapping"]')" null
assert_eq "$(r delete 'r["commands"]')" '[["/usr/bin/pvesh", "delete", "/cluster/mapping/pci/gpu-gtx1050ti"]]'
expect_file ""
task delete_again "name: $NAME
map_mode: exact
state: absent"
assert_eq "$(r delete_again 'r["changed"]')" false
# The last node leaving takes the mapping with it.
task create2 "name: $NAME
devices: ['0000:07:00']"
task remove_last "name: $NAME
state: absent"
assert_eq "$(r remove_last 'r["action"]')" delete

note "ad hoc, k=v: a single function, flags as strings"
out=$PT_WORK/adhoc.json
pt_adhoc pve_pci_mapping "name=audio devices=0000:07:00.1 mdev=yes root=$ROOT" >"$out"
assert_eq "$(pt_jq "$out" 'r["changed"]')" true
assert_eq "$(pt_jq "$out" 'r["mapping"]["map"]')" '["id=10de:0fb9,iommugroup=14,node=pve1,path=0000:07:00.1,subsystem-id=1462:8c96"]'
assert_eq "$(pt_jq "$out" 'r["mapping"]["mdev"]')" 1

note "validation: one clear message, pvesh never asked to write"
before=$(writes)
bad() { # bad OUT 'options' 'expected text in msg'
	task "$1" "$2"
	assert_eq "$(r "$1" 'r.get("failed")')" true "$1 should fail"
	assert_contains "$PT_WORK/$1.json" "$3" "message of $1 lacks"
}
bad bad_name "name: 1gpu
devices: ['0000:07:00']" "name '1gpu' is not a valid Proxmox mapping ID"
bad bad_node "name: $NAME
node: -pve1
devices: ['0000:07:00']" "node '-pve1' is not a valid Proxmox node name"
bad bad_address "name: $NAME
devices: ['gpu0']" "devices[0] 'gpu0' is not a PCI address"
bad no_device "name: $NAME
devices: ['0000:09:00']" "there is no device 0000:09:00.0 (function 0 of slot 0000:09:00)"
bad twice "name: $NAME
devices: ['0000:07:00', '07:00']" "0000:07:00 is listed twice in devices"
bad no_devices "name: $NAME" "devices is required with state=present and map_mode=node"
bad exact_path "name: $NAME
map_mode: exact
map: [{node: pve1, path: '07:00.0', id: '10de:1c82'}]" "map[0].path '07:00.0' is not a path Proxmox accepts"
bad exact_id "name: $NAME
map_mode: exact
map: [{node: pve2, path: '0000:02:00'}, {node: pve3, path: '0000:03:00', id: '10de-1c82', description: 'a,b'}]" "map[0] (node pve2) needs id"
assert_contains "$PT_WORK/exact_id.json" "map[1].id '10de-1c82' is not a vendor:device ID"
assert_contains "$PT_WORK/exact_id.json" "map[1].description must not contain commas"
bad map_in_node_mode "name: $NAME
devices: ['0000:07:00']
map: [{node: pve1, path: '0000:07:00'}]" "map is only used with map_mode=exact"
bad devices_in_exact "name: $NAME
map_mode: exact
devices: ['0000:07:00']
map: [{node: pve1, path: '0000:07:00'}]" "devices is only used with map_mode=node"
bad two_lines "name: $NAME
devices: ['0000:07:00']
description: \"two\\nlines\"" "description must be one line"
bad no_pvesh "name: $NAME
devices: ['0000:07:00']
pvesh: /usr/sbin/pvesh" "pvesh is not at $ROOT/usr/sbin/pvesh"
bad unknown_option "name: $NAME
devices: ['0000:07:00']
colour: red" "Unsupported parameters"
bad exact_missing_node "name: $NAME
map_mode: exact
map: [{path: '0000:07:00'}]" "missing required arguments: node"
assert_eq "$(writes)" "$before" "pvesh writes after refused options"

note "a failing pvesh: the result carries rc, stderr and the command"
printf 'broken\n\tmap id=10de:1c82,node=pve1,path=7:00\n' >"$CFG"
task pvesh_fails "name: $NAME
devices: ['0000:07:00']"
assert_eq "$(r pvesh_fails 'r["failed"]')" true
assert_eq "$(r pvesh_fails 'r["rc"]')" 255
assert_eq "$(r pvesh_fails 'r["cmd"][:3]')" '["/usr/bin/pvesh", "create", "/cluster/mapping/pci"]'
assert_contains "$PT_WORK/pvesh_fails.json" "create hardware mapping failed: unknown section type ''"
assert_contains "$PT_WORK/pvesh_fails.json" "failed (rc 255)"
# pvesh's warnings about the file reach the user.
assert_contains "$PT_WORK/pvesh_fails.json" "pvesh: file /etc/pve/mapping/pci.cfg line 2 (section 'broken')"
rm "$CFG"

note "limits: a name over 128 characters, the same device twice in map"
before=$(writes)
bad long_name "name: g$(printf 'x%.0s' $(seq 1 128))
devices: ['0000:07:00']" "name is 129 characters long; the module allows at most 128"
bad repeat "name: $NAME
map_mode: exact
map: [{node: pve2, path: '0000:02:00', id: '10de:1c82'}, {node: pve3, path: '0000:02:00', id: '10de:1c82'}, {node: pve2, path: '0000:02:00', id: '10de:1c82', iommugroup: 9}]" "map[2] repeats map[0]: both are node pve2's device at 0000:02:00"
assert_eq "$(writes)" "$before" "pvesh writes after refused limits"

note "a pvesh get that did not run is a failure, never 'no such mapping'"
install -m 0755 "$PT_TOOLS/record-cmd" "$ROOT/usr/bin/pvesh"
mkdir -p "$ROOT/etc/record-cmd"
echo 126 >"$ROOT/etc/record-cmd/pvesh.get.rc"
echo "cannot execute the command" >"$ROOT/etc/record-cmd/pvesh.get.err"
task not_run "name: $NAME
devices: ['0000:07:00']" --check
assert_eq "$(r not_run 'r["failed"]')" true
assert_eq "$(r not_run 'r.get("action")')" null
assert_eq "$(r not_run 'r["rc"]')" 126
assert_eq "$(r not_run 'r["msg"]')" "/usr/bin/pvesh get /cluster/mapping/pci/$NAME --output-format json could not be executed (rc 126): cannot execute the command"
echo 255 >"$ROOT/etc/record-cmd/pvesh.get.rc"
echo "ipcc_send_rec[1] failed: Connection refused" >"$ROOT/etc/record-cmd/pvesh.get.err"
task get_fails "name: $NAME
devices: ['0000:07:00']"
assert_eq "$(r get_fails 'r["failed"]')" true
assert_contains "$PT_WORK/get_fails.json" "failed (rc 255): ipcc_send_rec[1] failed: Connection refused"
grep -qE '^pvesh (create|set|delete)' "$ROOT/var/log/record-cmd.log" && fail "pvesh wrote after a failed get"
rm -r "$ROOT/etc/record-cmd"
install -m 0755 "$PT_TOOLS/fake-pvesh" "$ROOT/usr/bin/pvesh"

note "retries run out while another node keeps changing the file: said so"
pvesh create /cluster/mapping/pci --id $NAME --map "$E1"
mkdir -p "$ROOT/etc/fake-pvesh"
echo 400 >"$ROOT/etc/fake-pvesh/get-delay-ms"
touch "$PT_WORK/churn"
pvesh create /cluster/mapping/pci --id churn --map "$E2"
(
	i=0
	while [ -e "$PT_WORK/churn" ]; do
		i=$((i + 1))
		pvesh set /cluster/mapping/pci/churn --map "$E2" --description "change $i"
		sleep 0.05
	done
) &
churn=$!
sets() { grep -c "^pvesh set /cluster/mapping/pci/$NAME " "$LOG" || true; }
sets_before=$(sets)
task gave_up "name: $NAME
devices: ['0000:07:00.0']
retries: 2"
rm "$PT_WORK/churn"
wait "$churn"
rm "$ROOT/etc/fake-pvesh/get-delay-ms"
assert_eq "$(r gave_up 'r["failed"]')" true
assert_contains "$PT_WORK/gave_up.json" "gave up after 2 retries: other nodes kept changing /etc/pve/mapping/pci.cfg"
assert_eq "$(r gave_up 'r["rc"]')" 255
assert_contains "$PT_WORK/gave_up.json" "detected modified configuration - file changed by other user? Try again."
assert_eq "$(($(sets) - sets_before))" 3 "set attempts (1 + 2 retries)"
pvesh delete /cluster/mapping/pci/$NAME
pvesh delete /cluster/mapping/pci/churn

note "16 nodes at once, module binaries started together (see tests/integration/stress)"
"$PT_REPO/tests/integration/stress/concurrency.sh" 1

note "16 nodes at once through Ansible, forks=16"
inv=$PT_WORK/inventory.ini
{ echo "[pve]"; for i in $(seq 1 16); do echo "node$i ansible_connection=local"; done; } >"$inv"
cat >"$PT_WORK/cluster.yml" <<PLAY
- hosts: pve
  gather_facts: false
  tasks:
    - homelab.passthrough.pve_pci_mapping:
        name: cluster-gpu
        node: "{{ inventory_hostname }}"
        devices: ['0000:07:00']
        root: $ROOT
      register: r
    - ansible.builtin.assert:
        that:
          - (r is changed) == (expect_changed | bool)
          - r.action in (['create', 'update'] if expect_changed | bool else ['none'])
PLAY
ansible-playbook -i "$inv" -f 16 -e expect_changed=true "$PT_WORK/cluster.yml" >"$PT_WORK/cluster.out" 2>&1 ||
	{ cat "$PT_WORK/cluster.out"; fail "the 16-node play failed"; }
assert_contains "$PT_WORK/cluster.out" "ok=2    changed=1"
for i in $(seq 1 16); do
	grep -q "node=node$i," "$CFG" || fail "node$i's entry is missing"
done
assert_eq "$(grep -c '^	map ' "$CFG")" 16 "map entries after 16 nodes"
pvesh x-reformat /etc/pve/mapping/pci.cfg >"$PT_WORK/reformat" 2>"$PT_WORK/reformat.err"
cmp "$PT_WORK/reformat" "$CFG" || fail "pci.cfg does not round-trip after 16 nodes"
[ -s "$PT_WORK/reformat.err" ] && fail "pci.cfg warnings: $(cat "$PT_WORK/reformat.err")"
ansible-playbook -i "$inv" -f 16 -e expect_changed=false "$PT_WORK/cluster.yml" >"$PT_WORK/cluster2.out" 2>&1 ||
	{ cat "$PT_WORK/cluster2.out"; fail "the second 16-node run is not a no-op"; }
assert_contains "$PT_WORK/cluster2.out" "ok=2    changed=0"

note "the docs render"
ansible-doc homelab.passthrough.pve_pci_mapping >"$PT_WORK/doc.txt" 2>&1 || { cat "$PT_WORK/doc.txt"; fail "ansible-doc"; }
assert_contains "$PT_WORK/doc.txt" "map_mode"
echo "pve_pci_mapping: all checks passed"
