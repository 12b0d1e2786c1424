#!/usr/bin/env bash
# `make test-matrix`: the controller side again under Debian 13's ansible-core
# (2.19), against the modules and test tools built on this Debian 12 machine and
# the tarball `make dist` built here, as a Proxmox VE 9 user's controller runs them.
#
# In the Debian 13 root (tests/matrix/build-root.sh, cached), entered with chroot,
# with the repository bind-mounted at its own path (and ../shared beside it when
# present, read-only):
#   1. the tarball installed with Debian 13's ansible-galaxy into build/matrix/collections;
#   2. the integration targets that run ansible-core (tests/integration/run.sh: the
#      modules ad hoc and in plays, the role targets, failure injection, the dist
#      tarball, ansible-lint and yamllint of Debian 13);
#      any deprecation warning fails its target (run.sh checks every log);
#   3. AnsibleModule 2.19 on the 25 argspec inputs (tests/tools/argspec-vectors.py)
#      must give tests/fixtures/argspec/ansible-2.19-vectors.json, which the unit
#      test holds the C runtime to;
#   4. ansible-test sanity 2.19 on the tarball's tree (tests/tools/sanity.sh).
# Scratch (HOME, TMPDIR, logs) lives in build/matrix/, so the cached root stays as
# it was built. Runs one at a time per root (a lock beside it).
# Usage: run.sh [TARGET...]  (integration targets; default: all)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
version=$(sed -n 's/^version: *//p' galaxy.yml)
tarball=$repo/homelab-passthrough-$version.tar.gz
[ -f "$tarball" ] || { echo "test-matrix: $tarball is missing (make dist)" >&2; exit 1; }
[ -x build/tools/mkroot ] || { echo "test-matrix: build/tools is missing (make tools)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "test-matrix: needs root (debootstrap, chroot, mounts)" >&2; exit 1; }

start=$(date +%s)
root=$(tests/matrix/build-root.sh)
echo "test-matrix: Debian 13 root ready after $(( $(date +%s) - start ))s: $root"

exec 9>"$(dirname "$root")/lock"
flock 9
# A run killed outright (SIGKILL, a lost session) leaves its mounts inside the
# root; under the lock nobody else uses them, so take them down before mounting.
if mountpoint -q "$root"; then umount -R "$root" 2>/dev/null || umount -R -l "$root"; fi

run=$repo/build/matrix
rm -rf "$run"
mkdir -p "$run/home" "$run/tmp" "$run/collections" "$run/integration"

mounts=()
cleanup() {
	local i
	for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
		umount -R "${mounts[i]}" 2>/dev/null || umount -R -l "${mounts[i]}" 2>/dev/null || true
	done
}
trap cleanup EXIT
bind() { # bind SRC DEST [ro]
	mkdir -p "$2"
	mount --rbind "$1" "$2"
	mount --make-rslave "$2"
	mounts+=("$2")
	if [ "${3:-}" = ro ]; then mount -o remount,bind,ro "$2"; fi
}
# The root a mount point of its own: inside the chroot, unshare --propagation
# (the failure_injection target) needs / to be one.
bind "$root" "$root"
mount -t proc proc "$root/proc"
mounts+=("$root/proc")
bind /dev "$root/dev"
bind "$repo" "$root$repo"
shared=$(cd "$repo/../shared" 2>/dev/null && pwd || true)
[ -n "$shared" ] && bind "$shared" "$root$shared" ro

# The run inside: a clean environment, Debian 13's tools on PATH.
inside() {
	chroot "$root" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
		HOME="$run/home" TMPDIR="$run/tmp" LANG=C.UTF-8 LC_ALL=C.UTF-8 \
		ANSIBLE_COLLECTIONS_PATH="$run/collections" PT_LOGS="$run/integration" \
		PT_MATRIX=1 bash -c "cd '$repo' && $1"
}

failed=0
step() { echo "test-matrix: $1 ($(( $(date +%s) - t0 ))s)"; }

t0=$(date +%s)
inside 'ansible --version | head -n 1; ansible-lint --version 2>/dev/null | head -n 1; yamllint --version'
inside "ansible-galaxy collection install --force -p '$run/collections' '$tarball' >'$run/install.log' 2>&1" ||
	{ cat "$run/install.log"; exit 1; }
step "tarball installed with Debian 13's ansible-galaxy"

t0=$(date +%s)
# Every target but the ones that never call ansible-core (they run the built
# programs directly, the same binaries as in make test): fixtures, fake_pvesh,
# bad_input, snapshots, quiet_build (which also needs a compiler the root has
# not). That keeps the run lean for CI. ssh_transport runs here
# too (the root has sshd and sudo): the action plugins' one-exec path depends on
# ansible-core's internals, so it is tested under both controllers.
if [ $# -eq 0 ]; then
	for d in tests/integration/targets/*/; do
		t=$(basename "$d")
		case " fixtures fake_pvesh bad_input snapshots quiet_build " in *" $t "*) continue ;; esac
		set -- "$@" "$t"
	done
fi
targets=$(printf "'%s' " "$@")
inside "tests/integration/run.sh $targets" || failed=1
step "integration"

t0=$(date +%s)
if inside "python3 tests/tools/argspec-vectors.py tests/fixtures/argspec/ansible-2.14-vectors.json >'$run/ansible-2.19-vectors.json'" &&
	/usr/bin/python3 tests/tools/argspec-vectors.py --compare tests/fixtures/argspec/ansible-2.19-vectors.json "$run/ansible-2.19-vectors.json"; then
	step "argspec: AnsibleModule 2.19 gives tests/fixtures/argspec/ansible-2.19-vectors.json"
else
	echo "test-matrix: AnsibleModule 2.19 no longer gives tests/fixtures/argspec/ansible-2.19-vectors.json;" \
		"the new measurement is $run/ansible-2.19-vectors.json" >&2
	failed=1
fi

t0=$(date +%s)
inside "tests/tools/sanity.sh '$tarball'" || failed=1
step "ansible-test sanity"

total=$(( $(date +%s) - start ))
if [ $failed = 0 ]; then echo "test-matrix: passed in ${total}s"; else echo "test-matrix: FAILED after ${total}s" >&2; fi
exit $failed
