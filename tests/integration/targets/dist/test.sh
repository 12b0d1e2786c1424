#!/usr/bin/env bash
# The collection as a user installs it: the tarball `make dist` built, installed
# with ansible-galaxy into an empty collections path (nothing of the checkout on
# any Ansible path: no roles path, no playbook beside it), then
#   - the tarball holds the four built modules (executables) and their docs, the
#     role, the playbooks, and no build output or test scratch;
#   - an ad hoc iommu_facts from the installed copy on the seed's pve1;
#   - the role's check mode from the installed copy (the collection's own
#     playbook homelab.passthrough.site) on a sandbox pve1: it predicts the
#     changes and writes nothing.
source "$PT_REPO/tests/integration/lib.sh"

version=$(sed -n 's/^version: *//p' "$PT_REPO/galaxy.yml")
tarball=$PT_REPO/homelab-passthrough-$version.tar.gz
[ -f "$tarball" ] || fail "$tarball is missing: run make dist"

note "the tarball's contents"
tar -tzf "$tarball" | sort >"$PT_WORK/contents"
for m in iommu_facts grub_iommu vfio_bind pve_pci_mapping; do
	grep -qx "plugins/modules/$m" "$PT_WORK/contents" || fail "plugins/modules/$m is not in the tarball"
	grep -qx "plugins/modules/$m.yml" "$PT_WORK/contents" || fail "plugins/modules/$m.yml is not in the tarball"
done
for f in README.md SECURITY.md meta/runtime.yml playbooks/site.yml playbooks/facts.yml \
	playbooks/rollback.yml roles/gpu_passthrough/tasks/main.yml \
	roles/gpu_passthrough/meta/argument_specs.yml; do
	grep -qx "$f" "$PT_WORK/contents" || fail "$f is not in the tarball"
done
# Build outputs and test scratch stay out; of tests/, only ansible-test's ignore files.
if grep -E '^(build|bench|\.ci|\.git|\.cache)/|\.(o|a|tar\.gz)$|^tests/(output|[^/]+/.*)' "$PT_WORK/contents" |
	grep -vE '^tests/sanity/(ignore-[0-9.]+\.txt)?$' >"$PT_WORK/unwanted"; then
	cat "$PT_WORK/unwanted"
	fail "the tarball holds build outputs or test files"
fi

note "installed into an empty collections path"
export ANSIBLE_COLLECTIONS_PATH=$PT_WORK/collections
unset ANSIBLE_ROLES_PATH
ansible-galaxy collection install -p "$ANSIBLE_COLLECTIONS_PATH" "$tarball" >"$PT_WORK/install.out" 2>&1 ||
	{ cat "$PT_WORK/install.out"; fail "ansible-galaxy collection install"; }
cat "$PT_WORK/install.out"
installed=$ANSIBLE_COLLECTIONS_PATH/ansible_collections/homelab/passthrough
for m in iommu_facts grub_iommu vfio_bind pve_pci_mapping; do
	[ -x "$installed/plugins/modules/$m" ] || fail "installed $m is not executable"
	assert_eq "$(od -An -c -N4 "$installed/plugins/modules/$m" | tr -d ' ')" '177ELF' "installed $m is not a program"
done

note "ad hoc iommu_facts from the installed collection"
pt_root_from_host "$PT_FIXTURES/hosts/pve1-gtx1050ti.yml" "$PT_WORK/pve1"
pt_adhoc iommu_facts "root=$PT_WORK/pve1" >"$PT_WORK/facts.json"
assert_eq "$(pt_jq "$PT_WORK/facts.json" 'r.get("failed", False)')" false "iommu_facts failed"
assert_eq "$(pt_jq "$PT_WORK/facts.json" 'r["ansible_facts"]["iommu"]["enabled"]')" true "IOMMU on pve1"
assert_eq "$(pt_jq "$PT_WORK/facts.json" 'sorted(r["ansible_facts"]["iommu"]["gpus"])')" '["0000:07:00.0"]' "pve1's GPU"
assert_eq "$(pt_jq "$PT_WORK/facts.json" 'r["ansible_facts"]["iommu"]["gpus"]["0000:07:00.0"]["iommu_group"]')" 14 \
	"pve1's GPU group"

note "the role's check mode from the installed collection (homelab.passthrough.site)"
root=$PT_WORK/root
pt_role_sandbox "$PT_FIXTURES/hosts/pve1-gtx1050ti.yml" "$root" grub
pt_snapshot "$root" "$PT_WORK/fresh.sha"
# The example inventory, copied away from the checkout.
cp "$PT_REPO/inventory/example.yml" "$PT_WORK/inventory.yml"
(cd "$PT_WORK" && ansible-playbook -i inventory.yml -e ansible_connection=local -e "gpu_passthrough_root=$root" \
	homelab.passthrough.site --check --diff) >"$PT_WORK/check.out" 2>&1 ||
	{ cat "$PT_WORK/check.out"; fail "check run from the installed collection failed"; }
cat "$PT_WORK/check.out"
assert_tree_unchanged "$root" "$PT_WORK/fresh.sha"
assert_eq "$(pt_stub_calls "$root")" "" "commands run in check mode"
assert_eq "$(pt_play_recap_changed pve1 "$PT_WORK/check.out")" 3 "changed tasks in check mode"
assert_contains "$PT_WORK/check.out" '+GRUB_CMDLINE_LINUX_DEFAULT="quiet intel_iommu=on iommu=pt"'
assert_contains "$PT_WORK/check.out" "+options vfio-pci ids=10de:0fb9,10de:1c82"
assert_contains "$PT_WORK/check.out" "Check mode: the changes shown above are not made"
assert_not_contains "$PT_WORK/check.out" "$PT_REPO/roles"
echo "PASS dist"
