#!/usr/bin/env bash
# The Proxmox test double on its own (build/tools/fake-pvesh, see tests/pve/README.md):
# pci.cfg written byte for byte as Proxmox writes it, lenient reading, the digest,
# the lock, and every message and exit code the pve_pci_mapping module relies on.
# Runs the double chrooted into a sandbox root, as the module does.
source "${PT_REPO:-$(cd "$(dirname "$0")/../../../.." && pwd)}/tests/integration/lib.sh"

ROOT=$PT_WORK/root
CFG=$ROOT/etc/pve/mapping/pci.cfg
mkdir -p "$ROOT/usr/bin" "$ROOT/etc/pve/mapping"
install -m 0755 "$PT_TOOLS/fake-pvesh" "$ROOT/usr/bin/pvesh"

# pvesh ARGS...: run the double; sets $rc, stdout in $OUT, stderr in $ERR.
OUT=$PT_WORK/out ERR=$PT_WORK/err
pvesh() { set +e; chroot "$ROOT" /usr/bin/pvesh "$@" >"$OUT" 2>"$ERR"; rc=$?; set -e; }
expect_rc() { [ "$rc" = "$1" ] || { cat "$OUT" "$ERR" >&2; fail "pvesh $2: rc $rc, expected $1"; }; }
expect_err() { assert_contains "$ERR" "$1" "stderr of the last pvesh lacks"; }
expect_err_exact() { diff -u <(printf '%s' "$1") "$ERR" || fail "stderr differs"; }
expect_file() { diff -u <(printf '%s' "$1") "$CFG" || fail "pci.cfg differs"; }
sha1() { if [ -f "$CFG" ]; then sha1sum "$CFG" | cut -d' ' -f1; else printf '' | sha1sum | cut -d' ' -f1; fi; }
json() { pt_jq "$OUT" "$1"; }

E1='id=10de:1c82,iommugroup=14,node=pve1,path=0000:07:00,subsystem-id=1462:8c96'
E2='id=10de:1c82,iommugroup=9,node=pve2,path=0000:02:00,subsystem-id=1462:8c96'

note "an empty cluster: list, missing mapping"
pvesh get /cluster/mapping/pci --output-format json
expect_rc 0 "get list"; assert_eq "$(cat "$OUT")" "[]"
pvesh get /cluster/mapping/pci/gpu --output-format json
expect_rc 255 "get missing"; expect_err_exact "mapping 'gpu' not found
"
[ -s "$OUT" ] && fail "get of a missing mapping printed on stdout"
# Proxmox sets no length limit on a mapping ID, and neither does the double.
long=g$(printf 'x%.0s' $(seq 1 4999))
pvesh get "/cluster/mapping/pci/$long" --output-format json
expect_rc 255 "get missing (long id)"; expect_err_exact "mapping '$long' not found
"

note "create writes Proxmox's layout"
pvesh create /cluster/mapping/pci --id gpu --map "$E1" --description "GTX 1050 Ti" --mdev 0
expect_rc 0 create; [ -s "$OUT" ] && fail "create printed something"
expect_file "gpu
	map $E1
	description GTX 1050 Ti
	mdev 0

"
pvesh create /cluster/mapping/pci --id gpu --map "$E2"
expect_rc 255 "create existing"
expect_err_exact "create hardware mapping failed: pci ID 'gpu' already defined
"

note "get: data and digest (SHA-1 of the whole file), compact sorted JSON"
pvesh get /cluster/mapping/pci/gpu --output-format json
expect_rc 0 get
D1=$(sha1)
assert_eq "$(cat "$OUT")" "{\"description\":\"GTX 1050 Ti\",\"digest\":\"$D1\",\"map\":[\"$E1\"],\"mdev\":0,\"type\":\"pci\"}"
pvesh get /cluster/mapping/pci --output-format json
assert_eq "$(json 'r[0]["id"]')" gpu
assert_eq "$(json 'r[0]["digest"]')" "$D1"
pvesh get /cluster/mapping/pci --output-format json --check-node pve9
assert_eq "$(json 'r[0]["checks"][0]["message"]')" "No mapping for node pve9."
pvesh get /cluster/mapping/pci/gpu --output-format json-pretty
assert_eq "$(pt_jq "$OUT" 'r["map"][0]')" "$E1"

note "set: stale digest refused, right digest accepted, map replaced whole"
pvesh set /cluster/mapping/pci/gpu --map "$E2" --digest 0123456789abcdef0123456789abcdef01234567
expect_rc 255 "set stale"
expect_err_exact "update hardware mapping failed: detected modified configuration - file changed by other user? Try again.
"
assert_eq "$(sha1)" "$D1" "a refused set changed the file"
pvesh set /cluster/mapping/pci/gpu --map "$E1" --map "$E2" --digest "$D1" --mdev --live-migration-capable 1
expect_rc 0 "set"
expect_file "gpu
	map $E1
	map $E2
	description GTX 1050 Ti
	live-migration-capable 1
	mdev 1

"
pvesh set /cluster/mapping/pci/gpu --map "$E2" --digest "$D1"
expect_rc 255 "set with the digest before the last change"
expect_err "detected modified configuration"
pvesh set /cluster/mapping/pci/gpu --map "$E2" --delete description,mdev --mdev=0
expect_rc 255 "set and delete"
expect_err_exact "update hardware mapping failed: cannot set and delete property 'mdev' at the same time!
"
pvesh set /cluster/mapping/pci/gpu --map "$E2" --delete description --delete mdev
expect_rc 0 "set --delete"
expect_file "gpu
	map $E2
	live-migration-capable 1

"

note "set: Proxmox's refusals"
pvesh set /cluster/mapping/pci/nope --map "$E1"
expect_rc 255 "set missing"; expect_err_exact "update hardware mapping failed: pci ID 'nope' does not exist
"
pvesh set /cluster/mapping/pci/gpu --description x
expect_rc 255 "set without map"; expect_err_exact "update hardware mapping failed: missing value for required option 'map'
"
pvesh set /cluster/mapping/pci/gpu --map "$E1" --delete map
expect_rc 255 "delete map"; expect_err_exact "update hardware mapping failed: unable to delete required option 'map'
"
pvesh set /cluster/mapping/pci/gpu --map "$E1" --delete color
expect_rc 255 "delete unknown"; expect_err_exact "update hardware mapping failed: no such option 'color'
"
pvesh set /cluster/mapping/pci/gpu --map "$E1" --description "two
lines"
expect_rc 255 "line feed"; expect_err_exact "update hardware mapping failed: property contains a line feed
"
pvesh create /cluster/mapping/pci --id lf --map "$E1" --description "two
lines"
expect_rc 255 "line feed on create"; expect_err_exact "property contains a line feed
"

note "schema errors: 400, one line per parameter, usage, rc 255"
pvesh create /cluster/mapping/pci --id 1gpu --map "id=10de:1c82,node=pve1,path=07:00.0" --map "node=-x,path=0000:07:00,id=10de:1c82"
expect_rc 255 "schema"
expect_err "400 Parameter verification failed."
expect_err "id: invalid format - invalid configuration ID '1gpu'"
expect_err "map[0]: invalid format - format error"
expect_err "map[0].path: value does not match the regex pattern"
expect_err "map[1].node: invalid format - value does not look like a valid node name"
# (Proxmox prints the parameters in hash order; the double sorts them)
expect_err_exact "400 Parameter verification failed.
id: invalid format - invalid configuration ID '1gpu'

map[0]: invalid format - format error
map[0].path: value does not match the regex pattern

map[1]: invalid format - format error
map[1].node: invalid format - value does not look like a valid node name


pvesh create <api_path> --id <string> --map <array> [OPTIONS] [FORMAT_OPTIONS]
"
pvesh create /cluster/mapping/pci --id gpu2
expect_rc 255 "create without map"; expect_err "map: property is missing and it is not optional"
pvesh create /cluster/mapping/pci --id gpu2 --map "$E1,color=red"
expect_rc 255 "bad key"; expect_err "map[0]: invalid format - invalid key in comma-separated list property: color"
pvesh create /cluster/mapping/pci --id gpu2 --map "$E1" --mdev maybe
expect_rc 255 "bad boolean"; expect_err "400 unable to parse boolean option"
pvesh create /cluster/mapping/pci --id gpu2 --map "$E1" --color red
expect_rc 255 "unknown option"; expect_err "Unknown option: color"; expect_err "400 unable to parse option"
pvesh get /cluster/mapping/pci/gpu --output-format xml
expect_rc 255 "bad output format"; expect_err "output-format: value 'xml' does not have a value in the enumeration 'text, json, json-pretty, yaml'"
pvesh get /cluster/mapping/pci/g.p.u
expect_rc 255 "bad id in path"; expect_err "id: invalid format - invalid configuration ID 'g.p.u'"
pvesh get /cluster/mapping/usb
expect_rc 1 "unknown path"; expect_err_exact "No 'get' handler defined for '/cluster/mapping/usb'
"
pvesh create /cluster/mapping/pci/gpu --map "$E1"
expect_rc 1 "create on an item"; expect_err "No 'create' handler defined for '/cluster/mapping/pci/gpu'"
pvesh set /cluster/mapping/pci --map "$E1"
expect_rc 1 "set on the list"; expect_err "No 'set' handler defined"
pvesh get
expect_rc 255 "no path"; expect_err "400 not enough arguments"
[ "$(sha1)" = "$(sha1)" ]

note "delete: gone, and fine when already absent"
pvesh create /cluster/mapping/pci --id nic --map "id=8086:10d3,node=pve1,path=0000:04:00.0"
expect_rc 0 "create nic"
pvesh delete /cluster/mapping/pci/gpu
expect_rc 0 delete
pvesh delete /cluster/mapping/pci/gpu
expect_rc 0 "delete absent"
expect_file "nic
	map id=8086:10d3,node=pve1,path=0000:04:00.0

"

note "round trip: a file Proxmox wrote comes back byte for byte"
cat >"$CFG" <<'CFGEOF'
rtx4090
	map id=10de:2684,iommugroup=14,node=pve1,path=0000:01:00,subsystem-id=1458:40bf
	map id=10de:2684,iommugroup=27,node=pve2,path=0000:41:00,subsystem-id=1458:40bf
	description RTX 4090 incl. audio function

gpu-gtx1050ti
	map id=10de:1c82,iommugroup=14,node=pve1,path=0000:07:00,subsystem-id=1462:8c96
	live-migration-capable 0
	mdev 1

nic
	map id=8086:10d3,node=pve1,path=0000:04:00.0

CFGEOF
cp "$CFG" "$PT_WORK/written.cfg"
pvesh x-reformat /etc/pve/mapping/pci.cfg
expect_rc 0 reformat; cmp "$OUT" "$PT_WORK/written.cfg" || fail "reformat changed a Proxmox-written file"
[ -s "$ERR" ] && fail "warnings on a Proxmox-written file: $(cat "$ERR")"
D=$(sha1)
pvesh set /cluster/mapping/pci/nic --map "id=8086:10d3,node=pve1,path=0000:04:00.0" --digest "$D"
expect_rc 0 "no-op set"
cmp "$CFG" "$PT_WORK/written.cfg" || fail "a set with the same values changed other bytes"

note "lenient reading, canonical writing, warnings on stderr"
printf '# edited by hand\nrtx4090  \n  description RTX 4090 incl. audio function\n map id=10de:2684,iommugroup=14,node=pve1,path=0000:01:00,subsystem-id=1458:40bf\n    map id=10de:2684,iommugroup=27,node=pve2,path=0000:41:00,subsystem-id=1458:40bf\n\tmap id=10de:2684,node=pve3,path=41:00.0\n\ngpu-gtx1050ti\n\tmdev 1\n\tlive-migration-capable 0\n\tmap id=10de:1c82,iommugroup=14,node=pve1,path=0000:07:00,subsystem-id=1462:8c96\n\nnic\n\tmap id=8086:10d3,node=pve1,path=0000:04:00.0' >"$CFG"
pvesh get /cluster/mapping/pci/rtx4090 --output-format json
expect_rc 0 "get lenient"
expect_err_exact "file /etc/pve/mapping/pci.cfg line 6 (section 'rtx4090') - unable to parse value of 'map': invalid format - format error
path: value does not match the regex pattern

"
assert_eq "$(json 'len(r["map"])')" 2
pvesh set /cluster/mapping/pci/nic --map "id=8086:10d3,node=pve1,path=0000:04:00.0" --digest "$(sha1)"
expect_rc 0 "set on a lenient file"
cmp "$CFG" "$PT_WORK/written.cfg" || { diff -u "$PT_WORK/written.cfg" "$CFG"; fail "rewrite is not Proxmox's layout"; }

note "a section left without a valid entry: hidden, and every write fails"
printf 'good\n\tmap id=10de:1c82,node=pve1,path=0000:07:00\n\nbad\n\tmap id=10de:1c82,node=pve1,path=7:00\n' >"$CFG"
pvesh get /cluster/mapping/pci --output-format json
expect_rc 0 "list with a broken section"; assert_eq "$(json '[m["id"] for m in r]')" '["good"]'
expect_err "(skip section 'bad'): missing value for required option 'map'"
pvesh get /cluster/mapping/pci/bad
expect_rc 255 "get broken"; expect_err "mapping 'bad' not found"
pvesh set /cluster/mapping/pci/good --map "id=10de:1c82,node=pve2,path=0000:07:00"
expect_rc 255 "write with a broken section"; expect_err "update hardware mapping failed: unknown section type ''"
pvesh delete /cluster/mapping/pci/bad
expect_rc 255 "delete broken"; expect_err "delete pci mapping failed: unknown section type ''"
pvesh create /cluster/mapping/pci --id bad --map "id=10de:1c82,node=pve1,path=0000:08:00"
expect_rc 0 "create over a broken section"
expect_file "good
	map id=10de:1c82,node=pve1,path=0000:07:00

bad
	map id=10de:1c82,node=pve1,path=0000:08:00

"

note "the lock: Proxmox's wait lines and timeout"
mkdir -p "$ROOT/etc/fake-pvesh"
echo 2 >"$ROOT/etc/fake-pvesh/lock-timeout-s"
pvesh get /cluster/mapping/pci --output-format json  # creates nothing; the lock dir comes with the first write
mkdir -p "$ROOT/etc/pve/priv/lock/file-mapping_pci_cfg"
flock "$ROOT/etc/pve/priv/lock/file-mapping_pci_cfg" sleep 4 &
holder=$!
sleep 0.3
pvesh delete /cluster/mapping/pci/good
expect_rc 255 "lock timeout"
expect_err_exact "trying to acquire cfs lock 'file-mapping_pci_cfg' ...
delete pci mapping failed: cfs-lock 'file-mapping_pci_cfg' error: got lock request timeout
"
wait "$holder"
rm "$ROOT/etc/fake-pvesh/lock-timeout-s"
pvesh delete /cluster/mapping/pci/good
expect_rc 0 "delete after the lock is free"

note "no cluster filesystem"
mv "$ROOT/etc/pve" "$ROOT/etc/pve.off"
pvesh get /cluster/mapping/pci --output-format json
expect_rc 255 "no /etc/pve"; expect_err "Connection refused"
pvesh delete /cluster/mapping/pci/bad
expect_rc 255 "no /etc/pve write"; expect_err "pve cluster filesystem not online."
mv "$ROOT/etc/pve.off" "$ROOT/etc/pve"

note "concurrency: one digest, 20 writers, exactly one wins; 20 creates all land"
rm -f "$CFG"
pvesh create /cluster/mapping/pci --id race --map "$E1"
D=$(sha1)
echo 5-20 >"$ROOT/etc/fake-pvesh/write-delay-ms"
for i in $(seq 1 20); do
	chroot "$ROOT" /usr/bin/pvesh set /cluster/mapping/pci/race --map "$E1" \
		--map "id=10de:1c82,node=n$i,path=0000:07:00" --digest "$D" >"$PT_WORK/set$i.out" 2>&1 &
done
wait
won=0 lost=0
for i in $(seq 1 20); do
	if [ -s "$PT_WORK/set$i.out" ]; then
		assert_contains "$PT_WORK/set$i.out" "detected modified configuration - file changed by other user? Try again."
		lost=$((lost + 1))
	else won=$((won + 1)); fi
done
assert_eq "$won/$lost" "1/19" "writers that won/lost with one digest"
for i in $(seq 1 20); do
	chroot "$ROOT" /usr/bin/pvesh create /cluster/mapping/pci --id "m$i" --map "id=10de:1c82,node=n$i,path=0000:07:00" >"$PT_WORK/c$i.out" 2>&1 &
done
wait
rm "$ROOT/etc/fake-pvesh/write-delay-ms"
pvesh get /cluster/mapping/pci --output-format json
assert_eq "$(json 'len(r)')" 21
pvesh x-reformat /etc/pve/mapping/pci.cfg
cmp "$OUT" "$CFG" || fail "the file written under contention does not round-trip"
[ -s "$ERR" ] && fail "warnings after concurrent writes: $(cat "$ERR")"

note "text as the real pvesh handles it (outputs recorded from Proxmox's code, tests/tools/README.md)"
T=$PT_WORK/text
mkdir -p "$T/usr/bin" "$T/etc/pve/mapping"
install -m 0755 "$PT_TOOLS/fake-pvesh" "$T/usr/bin/pvesh"
TCFG=$T/etc/pve/mapping/pci.cfg
# tpvesh LOCALE ARGS...: the double in that locale (sets rc, OUT, ERR)
tpvesh() { local l=$1; shift; set +e; LC_ALL=$l LANG=$l chroot "$T" /usr/bin/pvesh "$@" >"$OUT" 2>"$ERR"; rc=$?; set -e; }
tdesc() { tpvesh C.UTF-8 get /cluster/mapping/pci/"$1" --output-format json; expect_rc 0 "get $1"; $PY -c 'import json,sys; print(ascii(json.load(open(sys.argv[1])).get("description")))' "$OUT"; }
# under C every byte of a non-ASCII character becomes U+FFFD (EF BF BD) before it is stored
tpvesh C create /cluster/mapping/pci --id tc --map "$E1" --description 'für'
expect_rc 0 "create under C"; expect_err "Wide character in print"
grep -q "$(printf '\tdescription f\xef\xbf\xbd\xef\xbf\xbdr$')" "$TCFG" || fail "under C, pci.cfg should hold U+FFFD twice for ü"
assert_eq "$(tdesc tc)" "'f\\xef\\xbf\\xbd\\xef\\xbf\\xbdr'" "JSON re-encodes each stored byte"
# under a UTF-8 locale characters up to U+00FF are stored as Latin-1 and come back
tpvesh C.UTF-8 create /cluster/mapping/pci --id tu --map "$E2" --description 'für Grüße °'
expect_rc 0 "create under C.UTF-8"; [ -s "$ERR" ] && fail "unexpected stderr: $(cat "$ERR")"
grep -q "$(printf '\tdescription f\xfcr Gr\xfc\xdfe \xb0$')" "$TCFG" || fail "pci.cfg should hold Latin-1"
assert_eq "$(tdesc tu)" "'f\\xfcr Gr\\xfc\\xdfe \\xb0'"
# one character beyond U+00FF: the whole file becomes UTF-8, other sections' bytes too
tpvesh C.UTF-8 create /cluster/mapping/pci --id te --map "id=10de:1c82,node=pve3,path=0000:81:00" --description 'Preis €'
expect_rc 0 "create with €"; expect_err "Wide character in print"
assert_eq "$(tdesc te)" "'Preis \\xe2\\x82\\xac'"
assert_eq "$(tdesc tu)" "'f\\xc3\\xbcr Gr\\xc3\\xbc\\xc3\\x9fe \\xc2\\xb0'" "another section after a wide character"
# blanks around a value are dropped when pci.cfg is read; blanks only read as none
tpvesh C.UTF-8 set /cluster/mapping/pci/tu --map "$E2" --description '  padded  '
expect_rc 0 "set padded"
grep -q "$(printf '^\tdescription   padded  $')" "$TCFG" || fail "the blanks are written"
assert_eq "$(tdesc tu)" "'padded'"
tpvesh C.UTF-8 set /cluster/mapping/pci/tu --map "$E2" --description '   '
expect_rc 0 "set blanks"
tpvesh C.UTF-8 get /cluster/mapping/pci/tu --output-format json
expect_err "(section 'tu') - unable to parse value of 'description': got undefined value"
assert_eq "$(json '"description" in r')" false
# a no-break space (U+00A0) is no blank to Perl's \s on bytes
tpvesh C.UTF-8 set /cluster/mapping/pci/tu --map "$E2" --description "x$(printf '\xc2\xa0')"
assert_eq "$(tdesc tu)" "'x\\xa0'"
# maxLength counts characters
tpvesh C.UTF-8 set /cluster/mapping/pci/tu --map "$E2" --description "$(printf 'ü%.0s' $(seq 4096))"
expect_rc 0 "4096 characters of two bytes"
tpvesh C.UTF-8 set /cluster/mapping/pci/tu --map "$E2" --description "$(printf 'ü%.0s' $(seq 4097))"
expect_rc 255 "4097 characters"; expect_err "description: value may only be 4096 characters long"

note "an older Proxmox VE (libpve-guest-common-perl before 5.1.7) has no live-migration-capable"
mkdir -p "$ROOT/etc/fake-pvesh"
echo 5.1.6 >"$ROOT/etc/fake-pvesh/guest-common-version"
pvesh create /cluster/mapping/pci --id lm --map "$E1" --live-migration-capable 1
expect_rc 255 "old version"; expect_err_exact "Unknown option: live-migration-capable
400 unable to parse option
pvesh create <api_path> --id <string> --map <array> [OPTIONS] [FORMAT_OPTIONS]
"
echo 5.1.7 >"$ROOT/etc/fake-pvesh/guest-common-version"
pvesh create /cluster/mapping/pci --id lm --map "$E1" --live-migration-capable 1
expect_rc 0 "5.1.7 knows it"
rm "$ROOT/etc/fake-pvesh/guest-common-version"

note "every call is logged"
assert_contains "$ROOT/var/log/fake-pvesh.log" "pvesh delete /cluster/mapping/pci/good => 0"
assert_contains "$ROOT/var/log/fake-pvesh.log" "pvesh get /cluster/mapping/pci/gpu --output-format json => 255"
echo "fake_pvesh: all checks passed"
