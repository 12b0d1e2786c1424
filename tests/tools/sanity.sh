#!/usr/bin/env bash
# ansible-test sanity on the tree a user installs: TARBALL (make dist) unpacked
# into an empty ansible_collections/homelab/passthrough in a scratch directory,
# with the ansible-test and python3 found on PATH (Debian 12's 2.14 on the host,
# Debian 13's 2.19 in the matrix root).
#
# Every sanity test runs except the ones ansible-test can only run in a virtual
# environment it fills from PyPI (each has a requirements file,
# ansible_test/_data/requirements/sanity.NAME.txt): they need the network, and the
# tests must pass offline. Which those are is read from the installed
# ansible-test, so a new version's list applies by itself. The skipped tests are
# named on one line.
#
# Usage: sanity.sh TARBALL. Exits non-zero when a test fails.
set -euo pipefail
tarball=$(realpath "${1:?usage: sanity.sh TARBALL}")
py=${PT_PYTHON:-/usr/bin/python3}
command -v ansible-test >/dev/null || { echo "sanity: ansible-test is not installed (ansible-core)" >&2; exit 1; }

data=$("$py" -c 'import ansible_test, os; print(os.path.join(os.path.dirname(ansible_test.__file__), "_data", "requirements"))')
skip=()
for f in "$data"/sanity.*.txt; do
	name=${f##*/sanity.}
	name=${name%.txt}
	case $name in *.*) continue ;; esac # e.g. import.plugin: a part of import
	skip+=("$name")
done
# pslint needs PowerShell; it skips itself when pwsh is missing, and this
# collection has no PowerShell.
pyver=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')

# Not under TMPDIR: it may lie inside a git checkout, and ansible-test then asks
# git (which does not know the unpacked tree) for the files to test.
work=$(mktemp -d /tmp/pt-sanity.XXXXXX)
trap 'rm -rf "$work"' EXIT
tree=$work/ansible_collections/homelab/passthrough
mkdir -p "$tree"
tar -xzf "$tarball" -C "$tree"
cd "$tree"
# Only the tests this ansible-test has, for a collection (integration-aliases,
# mypy are ansible-core's own).
known=" $(ansible-test sanity --list-tests 2>/dev/null | tr '\n' ' ') "
kept=()
for s in "${skip[@]}"; do [[ $known == *" $s "* ]] && kept+=("$s"); done
skip=("${kept[@]}")

version=$(ansible-test --version | awk '{print $NF}')
echo "sanity: ansible-test $version, Python $pyver, on the tree of ${tarball##*/}"
echo "sanity: left out (they install their requirements from PyPI): ${skip[*]}"
args=()
for s in "${skip[@]}"; do args+=(--skip-test "$s"); done
# C.UTF-8 is what a minimal Debian has; ansible-test warns about it and goes on.
ansible-test sanity --python "$pyver" --color no "${args[@]}" 2>&1 |
	grep -v 'Using locale "C.UTF-8"\|Reviewing previous 1 warning'
