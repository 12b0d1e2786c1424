#!/usr/bin/env bash
# Run the same pvesh calls against Proxmox VE's real Perl code and against
# fake-pvesh, and compare exit code, stdout, stderr and pci.cfg's bytes after each
# call. See tests/tools/README.md.
#
# usage: run.sh PVE_COMMON PVE_GUEST_COMMON PVE_MANAGER [FAKE]
#   the three arguments are git clones of github.com/proxmox/pve-common,
#   pve-guest-common and pve-manager (their HEAD is used, unmodified); FAKE is the
#   built fake-pvesh (default: build/tools/fake-pvesh of this tree).
# Needs Debian's Perl libraries: libjson-perl libencode-locale-perl
# libdevel-cycle-perl libnet-ip-perl libstring-shellquote-perl libclone-perl
# libtimedate-perl libfilesys-df-perl libhttp-message-perl libyaml-libyaml-perl
# liburi-perl libanyevent-perl liblinux-inotify2-perl.
# Only pmxcfs file access (PVE::Cluster), permissions (PVE::RPCEnvironment), the
# node name (PVE::INotify) and the API routing down to /cluster/mapping are
# stubbed (stubs/); the rest is the repositories' code, copied to a scratch
# directory outside this tree. The old-version run takes pve-guest-common at the
# tag before 5.1.7 (no live-migration-capable).
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
[ $# -ge 3 ] || { sed -n 5,10p "$0" >&2; exit 2; }
common=$1 guest=$2 manager=$3
FAKE=${4:-$repo/build/tools/fake-pvesh}
scratch=$(mktemp -d "${TMPDIR:-/tmp}/pvesh-compare.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
git -C "$common" archive HEAD src | tar -x -C "$scratch" --transform 's,^src,common,'
git -C "$guest" archive HEAD src | tar -x -C "$scratch" --transform 's,^src,guest,'
old=$(git -C "$guest" log --format=%H --grep='^bump version to 5.1.6' -1)
git -C "$guest" archive "$old" src | tar -x -C "$scratch" --transform 's,^src,guest-old,'
git -C "$manager" archive HEAD PVE bin/pvesh | tar -x -C "$scratch" --transform 's,^PVE,manager/PVE,;s,^bin,manager/bin,'
echo "pve-common $(git -C "$common" rev-parse HEAD)"
echo "pve-guest-common $(git -C "$guest" rev-parse HEAD) (old: $old)"
echo "pve-manager $(git -C "$manager" rev-parse HEAD)"
real() { perl -I"$here/stubs" -I"$scratch/manager" -I"$scratch/guest" -I"$scratch/common" "$scratch/manager/bin/pvesh" "$@"; }
real_old() { perl -I"$here/stubs-old" -I"$here/stubs" -I"$scratch/manager" -I"$scratch/guest-old" -I"$scratch/common" "$scratch/manager/bin/pvesh" "$@"; }

pass=0 fail=0 rcdiff=0
# scenario NAME LOCALE [old] CALL...: each CALL is a string of pvesh arguments
scenario() {
	local name=$1 loc=$2 realfn=real fakever=
	shift 2
	if [ "${1:-}" = old ]; then realfn=real_old fakever=5.1.6; shift; fi
	local R F out_r= out_f= c
	R=$(mktemp -d "$scratch/r.XXXX") F=$(mktemp -d "$scratch/f.XXXX")
	mkdir -p "$R/mapping" "$F/etc/pve/mapping"
	for c in "$@"; do
		eval "set -- $c"
		out_r+="$(PVE_ETC=$R LC_ALL=$loc LANG=$loc $realfn "$@" 2>"$R/err"; echo "rc=$?"
			grep -v setlogsock "$R/err" | sed 's,at /.*/PVE/File.pm,at PVE/File.pm,')"$'\n'
		out_f+="$(FAKE_PVESH_ROOT=$F FAKE_PVESH_GUEST_COMMON_VERSION=$fakever LC_ALL=$loc LANG=$loc \
			"$FAKE" "$@" 2>"$F/err"; echo "rc=$?"
			sed 's,at /.*/PVE/File.pm,at PVE/File.pm,' "$F/err")"$'\n'
		out_r+="$(od -An -c "$R/mapping/pci.cfg" 2>/dev/null)"$'\n'
		out_f+="$(od -An -c "$F/etc/pve/mapping/pci.cfg" 2>/dev/null)"$'\n'
	done
	if [ "$out_r" == "$out_f" ]; then
		pass=$((pass + 1)); echo "same:      $name ($loc)"
	elif [ "$(echo "$out_r" | sed 's/^rc=[1-9][0-9]*$/rc=non-zero/')" == \
		"$(echo "$out_f" | sed 's/^rc=[1-9][0-9]*$/rc=non-zero/')" ]; then
		# A die's exit code is Perl's: errno at that moment, else 255. Not modelled.
		rcdiff=$((rcdiff + 1)); echo "same but the non-zero exit codes: $name ($loc)"
		diff <(echo "$out_r" | grep '^rc=') <(echo "$out_f" | grep '^rc=') | grep '^[<>]' | paste -sd' ' | sed 's/^/    /'
	else
		fail=$((fail + 1)); echo "DIFFERENT: $name ($loc)"
		diff <(echo "$out_r") <(echo "$out_f") | sed 's/^/    /' | head -20
	fi
}
M="--map 'id=10de:1c82,iommugroup=14,node=pve1,path=0000:07:00,subsystem-id=1462:8c96'"
G="get /cluster/mapping/pci/gpu --output-format json"
C="create /cluster/mapping/pci --id gpu $M"
for loc in C C.UTF-8; do
	scenario "ascii create and get" $loc "$C --description 'GTX 1050 Ti'" "$G"
	scenario "latin-1 description" $loc "$C --description 'für Grüße'" "$G"
	scenario "euro sign" $loc "$C --description 'Preis 5 €'" "$G"
	scenario "blanks around" $loc "$C --description '  padded  '" "$G"
	scenario "blanks only" $loc "$C --description '   '" "$G"
	scenario "no-break space at the end" $loc "$C --description 'x '" "$G"
	scenario "map entry description" $loc "create /cluster/mapping/pci --id gpu --map 'description=  Grün  ,id=10de:1c82,node=pve1,path=0000:07:00'" "$G"
	scenario "a wide character rewrites other sections" $loc "$C --description 'für'" \
		"create /cluster/mapping/pci --id other --map 'id=10de:1c82,node=pve2,path=0000:08:00' --description 'Preis €'" "$G"
	scenario "set, delete, digest" $loc "$C --description 'x'" "set /cluster/mapping/pci/gpu $M --delete description --mdev 1" "$G" \
		"set /cluster/mapping/pci/gpu $M --digest 0000" "set /cluster/mapping/pci/nope $M"
	scenario "errors" $loc "get /cluster/mapping/pci/nope --output-format json" \
		"create /cluster/mapping/pci --id gpu --map 'id=10de:1c82,node=pve1,path=0000:07:0'" \
		"$C --bogus 1" "$C" "$C" "delete /cluster/mapping/pci/gpu" "get /cluster/mapping/pci --output-format json"
	scenario "4096 two-byte characters" $loc "$C --description '$(printf 'ü%.0s' $(seq 4096))'" \
		"set /cluster/mapping/pci/gpu $M --description '$(printf 'ü%.0s' $(seq 4097))'"
	scenario "live-migration-capable" $loc "$C --live-migration-capable 1" "$G"
	scenario "live-migration-capable before 5.1.7" $loc old "$C --live-migration-capable 1" "$C" \
		"set /cluster/mapping/pci/gpu $M --live-migration-capable 0"
done
echo "pvesh-compare: $pass same, $rcdiff same but the non-zero exit codes, $fail different"
[ "$fail" -eq 0 ]
