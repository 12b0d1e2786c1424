#!/usr/bin/env bash
# The role, the playbooks and the inventory are yamllint-clean and pass
# ansible-lint's production profile (settings: .yamllint, .ansible-lint).
# ansible-lint resolves the role's modules through the installed collection
# (make install). It is run on the role and on the playbooks separately:
# ansible-lint 6.13, given the whole project or several paths at once, skips the
# role's task files.
source "$PT_REPO/tests/integration/lib.sh"
cd "$PT_REPO" || fail "no repository at $PT_REPO"

for tool in yamllint ansible-lint; do
	command -v "$tool" >/dev/null || fail "$tool is not installed (apt-get install -y yamllint ansible-lint)"
done
note "yamllint"
yamllint -s -c .yamllint roles/gpu_passthrough playbooks inventory .yamllint .ansible-lint ||
	fail "yamllint found problems"
# lint PATH...: ansible-lint's production profile on PATHs, with no failure
# and no warning.
lint() {
	note "ansible-lint --profile production $*"
	local rc=0
	ansible-lint --nocolor -p --profile production "$@" >"$PT_WORK/lint.out" 2>&1 || rc=$?
	cat "$PT_WORK/lint.out"
	[ $rc -eq 0 ] || fail "ansible-lint found problems in $*"
	# 6.13 (Debian 12) says "Passed with production profile: 0 failure(s), 0
	# warning(s) ..."; 25.x (Debian 13) "Passed: 0 failure(s), 0 warning(s) on N
	# files. Profile 'production' was required, and it passed."
	grep -qE "^Passed with production profile: 0 failure\(s\), 0 warning\(s\)|^Passed: 0 failure\(s\), 0 warning\(s\) .*Profile 'production' was required, and it passed" \
		"$PT_WORK/lint.out" || fail "ansible-lint did not pass $* with the production profile and no warning"
}
lint roles/gpu_passthrough
lint playbooks inventory
echo "PASS role_lint"
