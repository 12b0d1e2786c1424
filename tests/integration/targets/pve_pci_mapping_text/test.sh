# pve_pci_mapping and text, through Ansible against fake-pvesh, which handles text
# as the real pvesh does (tests/tools/README.md): descriptions with non-ASCII
# characters and with blanks around them converge (a second run reports no
# change); a character pvesh cannot give back is refused, in check mode too;
# live_migration_capable on a Proxmox VE older than 8.4 fails naming the version;
# the result's msg says what happened in words, and the diff is headed as the
# mapping's section of pci.cfg.
source "${PT_REPO:-$(cd "$(dirname "$0")/../../../.." && pwd)}/tests/integration/lib.sh"

ROOT=$PT_WORK/pve1
pt_pvesh_sandbox "$PT_FIXTURES/hosts/pve1-gtx1050ti.yml" "$ROOT"
mkdir -p "$ROOT/etc/fake-pvesh"
CFG=$ROOT/etc/pve/mapping/pci.cfg
LOG=$ROOT/var/log/fake-pvesh.log
E1='id=10de:1c82,iommugroup=14,node=pve1,path=0000:07:00,subsystem-id=1462:8c96'

# task OUT 'yaml options' [ansible-playbook options]: the module once on the
# sandbox (pt_task): the result goes to $PT_WORK/OUT.json.
task() { pt_task pve_pci_mapping "$ROOT" "$@"; }
r() { pt_jq "$PT_WORK/$1.json" "$2"; }
# msg_has OUT TEXT: the result's msg contains TEXT
msg_has() { local m; m=$(r "$1" 'r.get("msg", "")'); [[ "$m" == *"$2"* ]] || fail "$1: msg [$m] lacks [$2]"; }
writes() { grep -cE '^pvesh (create|set|delete) ' "$LOG" 2>/dev/null || true; }
# converges OUT 'options': a real run that changes, then one that does not (and
# check mode agrees), with exactly one write.
converges() {
	local before
	before=$(writes)
	task "$1" "$2"
	assert_eq "$(r "$1" 'r.get("failed", False)')" false "$1 failed: $(r "$1" 'r.get("msg")')"
	assert_eq "$(r "$1" 'r["changed"]')" true "$1 changes"
	task "$1_again" "$2"
	assert_eq "$(r "$1_again" 'r["changed"]')" false "$1: a second run changes nothing"
	task "$1_check" "$2" --check
	assert_eq "$(r "$1_check" 'r["changed"]')" false "$1: check mode after it"
	assert_eq "$(writes)" "$((before + 1))" "$1: pvesh writes"
}

note "non-ASCII descriptions (up to U+00FF) are stored as Proxmox stores them and converge"
converges latin1 "name: gpu-text
devices: ['0000:07:00']
description: 'Grafikkarte für VMs, 5 °C kühler'"
grep -q "$(printf '^\tdescription Grafikkarte f\xfcr VMs, 5 \xb0C k\xfchler$')" "$CFG" || { od -c "$CFG" | head -20; fail "pci.cfg should hold the description as pvesh writes it (Latin-1)"; }
assert_eq "$(r latin1_again 'r["mapping"]["description"]')" "Grafikkarte für VMs, 5 °C kühler"

note "blanks around a description: compared as Proxmox reads them back"
converges padded "name: gpu-text
devices: ['0000:07:00']
description: '  padded  '"
assert_eq "$(r padded_again 'r["mapping"]["description"]')" "padded"
assert_eq "$(r padded 'r["msg"]')" "updated mapping gpu-text: description set to 'padded'"
converges blanks "name: gpu-text
devices: ['0000:07:00']
description: '   '"
assert_eq "$(r blanks_again 'r["mapping"].get("description")')" null

note "map-entry descriptions in exact mode"
converges exact "name: gpu-exact
map_mode: exact
map:
  - {node: pve1, path: '0000:07:00', description: 'Lüfter leise'}
  - {node: pve2, path: '0000:02:00', id: '10de:1c82', description: 'zweite Karte'}"
assert_eq "$(r exact 'r["msg"]')" "created mapping gpu-exact with 2 entries (node pve1, pve2)"

note "a character beyond U+00FF is refused, in check mode too, naming it"
pt_snapshot "$ROOT" "$PT_WORK/before-euro.sha"
for mode in check real; do
	task "euro_$mode" "name: gpu-text
devices: ['0000:07:00']
description: 'Preis 5 €'" $([ $mode = check ] && echo --check)
	assert_eq "$(r "euro_$mode" 'r["failed"]')" true
	msg_has "euro_$mode" "description: character 9, '€' (U+20AC), cannot be stored"
done
task euro_map "name: gpu-exact
map_mode: exact
map:
  - {node: pve1, path: '0000:07:00', description: 'naïve ✓'}" --check
msg_has euro_map "map[0].description: character 7, '✓' (U+2713), cannot be stored"
assert_tree_unchanged "$ROOT" "$PT_WORK/before-euro.sha"

note "live_migration_capable on Proxmox VE before 8.4"
echo 5.1.6 >"$ROOT/etc/fake-pvesh/guest-common-version"
task oldpve "name: gpu-text
devices: ['0000:07:00']
live_migration_capable: true"
assert_eq "$(r oldpve 'r["failed"]')" true
assert_eq "$(r oldpve 'r["msg"]')" 'live_migration_capable needs Proxmox VE 8.4 or later (libpve-guest-common-perl 5.1.7), and this node'"'"'s pvesh does not know --live-migration-capable ("Unknown option: live-migration-capable"); upgrade the node or leave live_migration_capable unset'
rm "$ROOT/etc/fake-pvesh/guest-common-version"
converges newpve "name: gpu-text
devices: ['0000:07:00']
live_migration_capable: true"

note "create: the msg in words, the diff headed as the section"
task create "name: gpu-words
devices: ['0000:07:00']
description: GTX 1050 Ti" --diff
assert_eq "$(r create 'r["msg"]')" "created mapping gpu-words with node pve1's entry 0000:07:00 (10de:1c82, IOMMU group 14)"
assert_eq "$(r create 'r["diff"]["before_header"]')" "/etc/pve/mapping/pci.cfg [gpu-words]"
assert_eq "$(r create 'r["diff"]["after_header"]')" "/etc/pve/mapping/pci.cfg [gpu-words]"
assert_contains "$PT_WORK/play.out" "+++ after: /etc/pve/mapping/pci.cfg [gpu-words]"
task again "name: gpu-words
devices: ['0000:07:00']
description: GTX 1050 Ti"
assert_eq "$(r again 'r["msg"]')" "no change: mapping gpu-words already has node pve1's entry 0000:07:00 (10de:1c82, IOMMU group 14)"
task upd_check "name: gpu-words
devices: ['0000:07:00']
description: GTX 1050 Ti incl. audio
mdev: true" --check
assert_eq "$(r upd_check 'r["msg"]')" "would update mapping gpu-words: description set to 'GTX 1050 Ti incl. audio'; mdev set to 1"

note "removal in words"
task remove "name: gpu-exact
map_mode: exact
state: absent"
assert_eq "$(r remove 'r["msg"]')" "removed mapping gpu-exact"
task remove_again "name: gpu-exact
map_mode: exact
state: absent"
assert_eq "$(r remove_again 'r["msg"]')" "no change: there is no mapping gpu-exact"
echo "pve_pci_mapping_text: all checks passed"
