# iommu_facts through Ansible: ad hoc with k=v arguments, a playbook in check
# mode, the refusal of an unknown option, a libpci failure as a failed task, and
# the docs. Run by tests/integration/run.sh after `make install tools`.
source "${PT_REPO:-$(cd "$(dirname "$0")/../../../.." && pwd)}/tests/integration/lib.sh"

# The seed host, in a directory whose name has a space (k=v quoting).
pve1="$PT_WORK/pve1 root"
pt_root_from_host "$PT_FIXTURES/hosts/pve1-gtx1050ti.yml" "$pve1"
pt_snapshot "$pve1" "$PT_WORK/pve1.sha"
shared=$PT_WORK/shared
pt_root_from_host "$PT_FIXTURES/hosts/gpu-shares-group-with-nic.yml" "$shared"
off=$PT_WORK/off
pt_root_from_host "$PT_FIXTURES/hosts/datacenter-gpu-iommu-off.yml" "$off"

note "ad hoc on pve1 (root='...' as a k=v string)"
pt_adhoc iommu_facts "root='$pve1'" >"$PT_WORK/pve1.json"
r=$PT_WORK/pve1.json
assert_eq "$(pt_jq "$r" 'r.get("failed", False)')" "false" "failed"
assert_eq "$(pt_jq "$r" 'r["changed"]')" "false" "changed"
f='r["ansible_facts"]["iommu"]'
g="$f[\"gpus\"][\"0000:07:00.0\"]"
assert_eq "$(pt_jq "$r" "$f[\"enabled\"]")" "true" "enabled"
assert_eq "$(pt_jq "$r" "$f[\"vendor\"]")" "intel" "vendor"
assert_eq "$(pt_jq "$r" "$f[\"cpu_virtualization\"]")" "vmx" "cpu_virtualization"
assert_eq "$(pt_jq "$r" "$f[\"kernel\"]")" "6.8.12-4-pve" "kernel"
assert_eq "$(pt_jq "$r" "$f[\"default_domain\"]")" "DMA" "default_domain"
assert_eq "$(pt_jq "$r" "$f[\"vfio\"][\"virqfd_separate\"]")" "false" "virqfd_separate"
assert_eq "$(pt_jq "$r" "$g[\"iommu_group\"]")" "14" "GPU group"
assert_eq "$(pt_jq "$r" "$g[\"functions\"]")" '["0000:07:00.0", "0000:07:00.1"]' "GPU functions"
assert_eq "$(pt_jq "$r" "$g[\"isolated\"]")" "true" "GPU isolated"
assert_eq "$(pt_jq "$r" "$g[\"intruders\"]")" "[]" "GPU intruders"
assert_eq "$(pt_jq "$r" "$g[\"driver\"]")" "nouveau" "GPU driver"
assert_eq "$(pt_jq "$r" "$g[\"vendor_id\"] + ':' + $g[\"device_id\"]")" "10de:1c82" "GPU IDs"
assert_eq "$(pt_jq "$r" "$g[\"subsystem_vendor_id\"] + ':' + $g[\"subsystem_device_id\"]")" \
	"1462:8c96" "GPU subsystem"
assert_eq "$(pt_jq "$r" "$f[\"groups\"][\"13\"][\"devices\"]")" '["0000:06:00.0"]' "NIC group"
assert_eq "$(pt_jq "$r" "$f[\"devices\"][\"0000:07:00.1\"][\"iommu_group\"]")" "14" "audio group"
assert_eq "$(pt_jq "$r" "r[\"invocation\"][\"module_args\"][\"root\"]")" "$pve1" "echoed root"
assert_tree_unchanged "$pve1" "$PT_WORK/pve1.sha"

note "ad hoc on a GPU that shares its group with the NIC"
pt_adhoc iommu_facts "root=$shared" >"$PT_WORK/shared.json"
r=$PT_WORK/shared.json
assert_eq "$(pt_jq "$r" "[v['isolated'] for v in $f['gpus'].values()]")" "[false]" "isolated"
assert_eq "$(pt_jq "$r" "'0000:04:00.0' in list($f['gpus'].values())[0]['intruders']")" "true" \
	"NIC among the intruders"

note "ad hoc with the IOMMU off: a 3D controller on nvidia, no groups"
pt_adhoc iommu_facts "root=$off" >"$PT_WORK/off.json"
r=$PT_WORK/off.json
assert_eq "$(pt_jq "$r" "$f['enabled']")" "false" "enabled"
assert_eq "$(pt_jq "$r" "$f['groups']")" "{}" "groups"
assert_eq "$(pt_jq "$r" "[(v['class_id'], v['driver']) for v in $f['gpus'].values()]")" \
	'[["0302", "nvidia"]]' "3D controller"

note "an unknown option is refused with AnsibleModule's words"
pt_adhoc iommu_facts "root=$off bogus=1" >"$PT_WORK/bogus.json"
r=$PT_WORK/bogus.json
assert_eq "$(pt_jq "$r" 'r["failed"]')" "true" "failed"
assert_eq "$(pt_jq "$r" 'r["msg"]')" \
	"Unsupported parameters for (homelab.passthrough.iommu_facts) module: bogus. Supported parameters include: after_reboot, bound_ids, devices, root." \
	"unknown option message"

note "a broken sysfs is a failed task with libpci's message, not a MODULE FAILURE"
broken=$PT_WORK/broken
cp -a "$off" "$broken"
rm "$broken/sys/bus/pci/devices/0000:3b:00.0/vendor"
pt_adhoc iommu_facts "root=$broken" >"$PT_WORK/broken.json"
r=$PT_WORK/broken.json
assert_eq "$(pt_jq "$r" 'r["failed"]')" "true" "failed"
assert_eq "$(pt_jq "$r" '"libpci" in r["msg"] and "0000:3b:00.0/vendor" in r["msg"]')" "true" "msg"
assert_eq "$(pt_jq "$r" '"MODULE FAILURE" in r["msg"]')" "false" "no MODULE FAILURE"

note "the live host (whatever it has): facts, never a failure"
pt_adhoc iommu_facts "" >"$PT_WORK/live.json"
assert_eq "$(pt_jq "$PT_WORK/live.json" 'r.get("failed", False)')" "false" "live failed"
assert_eq "$(pt_jq "$PT_WORK/live.json" 'isinstance(r["ansible_facts"]["iommu"]["devices"], dict)')" \
	"true" "live devices"

note "a playbook in check mode asserting on the facts"
cat >"$PT_WORK/play.yml" <<EOF
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Gather IOMMU facts
      homelab.passthrough.iommu_facts:
        root: "$pve1"
      register: gathered

    - name: The seed host's GPU passes through alone
      ansible.builtin.assert:
        that:
          - gathered is not changed
          - ansible_facts.iommu.enabled
          - ansible_facts.iommu.vendor == 'intel'
          - ansible_facts.iommu.gpus['0000:07:00.0'].iommu_group == 14
          - ansible_facts.iommu.gpus['0000:07:00.0'].isolated
          - ansible_facts.iommu.gpus['0000:07:00.0'].intruders == []
          - ansible_facts.iommu.gpus['0000:07:00.0'].functions == ['0000:07:00.0', '0000:07:00.1']
          - ansible_facts.iommu.groups['14'].devices | length == 2
          - ansible_facts.iommu.devices['0000:06:00.0'].driver == 'r8169'
          - ansible_facts.iommu.devices['0000:07:00.0'].boot_vga
          - "'nouveau' in ansible_facts.iommu.devices['0000:07:00.0'].modules"
          - ansible_facts.iommu.cmdline.params == {}
          - not ansible_facts.iommu.vfio.virqfd_separate

    - name: Facts are also variables (INJECT_FACTS_AS_VARS)
      ansible.builtin.assert:
        that: iommu.gpus | length == 1
EOF
pt_playbook "$PT_WORK/play.yml" --check || fail "playbook in check mode"
assert_contains "$PT_WORK/play.out" "ok=3" "three tasks ok"
assert_contains "$PT_WORK/play.out" "changed=0" "nothing changed"
assert_contains "$PT_WORK/play.out" "failed=0" "nothing failed"
assert_tree_unchanged "$pve1" "$PT_WORK/pve1.sha"

note "ansible-doc shows the docs"
ansible-doc homelab.passthrough.iommu_facts >"$PT_WORK/doc.txt" 2>&1 || fail "ansible-doc"
ansible-doc -s homelab.passthrough.iommu_facts >"$PT_WORK/doc-s.txt" 2>&1 || fail "ansible-doc -s"
assert_contains "$PT_WORK/doc-s.txt" \
	"Gather IOMMU, IOMMU group, PCI device and GPU facts for PCI passthrough" "short description"
for field in enabled vendor cpu_virtualization kernel cmdline default_domain \
	interrupt_remapping vfio virqfd_separate groups devices gpus functions isolated \
	intruders boot_vga reset_methods subsystem_vendor_id; do
	assert_contains "$PT_WORK/doc.txt" "- $field" "RETURN field $field"
done
assert_contains "$PT_WORK/doc.txt" "RETURN VALUES" "RETURN section"

note "iommu_facts: all checks passed"
