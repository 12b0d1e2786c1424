#!/usr/bin/env bash
# playbooks/facts.yml over two sandbox nodes: the seed's pve1 (GTX 1050 Ti alone
# in group 14) and a node whose GPU shares its group with the NIC. It prints each
# node's IOMMU groups and one table of every node's GPUs, and changes nothing.
source "$PT_REPO/tests/integration/lib.sh"

pt_root_from_host "$PT_FIXTURES/hosts/pve1-gtx1050ti.yml" "$PT_WORK/pve1"
pt_root_from_host "$PT_FIXTURES/hosts/gpu-shares-group-with-nic.yml" "$PT_WORK/shared"
pt_snapshot "$PT_WORK/pve1" "$PT_WORK/pve1.sha"
cat >"$PT_WORK/inventory.yml" <<INV
pve:
  vars:
    ansible_connection: local
    ansible_python_interpreter: /usr/bin/python3
  hosts:
    pve1:
      gpu_passthrough_root: "$PT_WORK/pve1"
    shared:
      gpu_passthrough_root: "$PT_WORK/shared"
INV
ansible-playbook -i "$PT_WORK/inventory.yml" "$PT_REPO/playbooks/facts.yml" >"$PT_WORK/facts.out" 2>&1 ||
	{ cat "$PT_WORK/facts.out"; fail "facts.yml failed"; }
cat "$PT_WORK/facts.out"
out=$PT_WORK/facts.out
assert_contains "$out" "kernel 6.8.12-4-pve, CPU virtualization vmx, IOMMU on (intel, 9 groups, DMA)"
assert_contains "$out" "group 14  0000:07:00.0 [10de:1c82] VGA compatible controller: NVIDIA Corporation GP107 [GeForce GTX 1050 Ti] (driver nouveau)"
assert_contains "$out" "          0000:07:00.1 [10de:0fb9] Audio device"
assert_contains "$out" "node         slot        id         group  driver         alone in its group     name"
grep -qE '"pve1 +0000:07:00 +10de:1c82 +14 +nouveau +yes +NVIDIA Corporation GP107 \[GeForce GTX 1050 Ti\]"' "$out" ||
	fail "no table row for pve1's GTX 1050 Ti"
grep -qE '"shared +0000:03:00 +10de:1c03 +10 +nouveau +NO ' "$out" || fail "no table row for the shared node's GPU"
assert_contains "$out" "shares its group with 0000:04:00.0"
grep -qE '^(pve1|shared) +: ok=[0-9]+ +changed=0 ' "$out" || fail "facts.yml changed something"
assert_tree_unchanged "$PT_WORK/pve1" "$PT_WORK/pve1.sha"
echo "PASS role_facts"
