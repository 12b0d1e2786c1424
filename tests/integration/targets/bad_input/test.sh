#!/usr/bin/env bash
# Hostile and bad input (issue 8, item 4): every case of every table in
# tests/bad-input/*.yml, run against the module binaries directly (no Ansible:
# a case takes milliseconds). Each case must end in one JSON object with one
# clear result, never a crash, a hang or a write outside its sandbox root; cases
# marked xfail document known bugs (see the tables) and keep the suite green.
# PT_MODULES_DIR points the runner at other binaries (e.g. a sanitizer build).
source "${PT_REPO:-$(cd "$(dirname "$0")/../../../.." && pwd)}/tests/integration/lib.sh"

for f in "$PT_REPO/plugins/modules/iommu_facts" "$PT_TOOLS/mkroot" "$PT_TOOLS/record-cmd" \
	"$PT_TOOLS/fake-pvesh"; do
	[ -x "$f" ] || fail "$f is missing: run make all tools"
done
$PY -c 'import yaml' 2>/dev/null || fail "python3-yaml is missing (apt-get install -y python3-yaml)"

note "tests/bad-input/run.py"
$PY "$PT_REPO/tests/bad-input/run.py" --tools "$PT_TOOLS" || fail "bad-input cases failed"
echo "PASS bad_input"
