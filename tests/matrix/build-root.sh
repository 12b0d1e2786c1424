#!/usr/bin/env bash
# Build (or reuse) the Debian 13 (trixie) controller root for `make test-matrix`:
# debootstrap --variant=minbase plus Debian 13's ansible-core, ansible-lint and
# yamllint, python3, and what the built modules and the tests need at run time
# (libpci3 through pciutils, e2fsprogs for chattr), and for the SSH transport
# target a server and client with sudo (openssh-server, openssh-client, sudo) and
# its login user pt-ssh, made here so the test finds it and the cached root is
# not changed by a run. Prints the root's path.
# python3-cffi-backend is named because debootstrap does not resolve virtual
# packages: python3-cryptography (ansible-core needs it) depends on
# python3-cffi-backend-api-min/-max, which only python3-cffi-backend provides.
#
# The root is cached outside the repository under
# /var/cache/homelab-passthrough/matrix/<hash of this script>, so a rerun starts
# at once; change the package list here and a new root is built.
set -euo pipefail
cache_root=${PT_MATRIX_CACHE:-/var/cache/homelab-passthrough/matrix}
key=$(sha256sum <"$0" | cut -c1-16)
root=$cache_root/$key/root
if [ -f "$root/.pt-matrix-ready" ]; then echo "$root"; exit 0; fi

log() { echo "build-root: $*" >&2; }
command -v debootstrap >/dev/null || { log "debootstrap is not installed (make deps-e2e)"; exit 1; }
# The Debian mirror this machine's apt uses (no host is named in the repository).
mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $3 ~ /^bookworm$/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$mirror" ] || { log "no Debian mirror found in /etc/apt"; exit 1; }

mkdir -p "$cache_root"
work=$(mktemp -d "$cache_root/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
start=$(date +%s)
log "debootstrap trixie into $work/root (a few minutes)"
debootstrap --variant=minbase \
	--include=ansible-core,ansible-lint,yamllint,python3,python3-cffi-backend,pciutils,libpci3,e2fsprogs,openssh-server,openssh-client,sudo \
	trixie "$work/root" "$mirror" >"$work/debootstrap.log" 2>&1 || { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }
chroot "$work/root" useradd -m -s /bin/sh pt-ssh
# Nothing of apt's download cache is needed to run the tests.
rm -rf "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"*_Packages
dpkg-query --admindir="$work/root/var/lib/dpkg" -W -f='${Package} ${Version}\n' \
	ansible-core ansible-lint yamllint python3 libpci3 >&2
touch "$work/root/.pt-matrix-ready"
mkdir -p "$(dirname "$root")"
mv "$work/root" "$root"
log "root ready in $(( $(date +%s) - start ))s: $root"
echo "$root"
