#!/usr/bin/env python3
"""Print the readiness evidence of one GPU slot from iommu_facts' result, one
canonical JSON document, so two results can be compared byte for byte.

    evidence.py RESULT.json [ADDRESS]     (ADDRESS: the GPU, default 0000:01:00.0)

RESULT.json is the module's result (its stdout, or what the e2e's result_file
callback saved): {"ansible_facts": {"iommu": ...}}. What is printed is what the
readiness verdict is made of: per host, the command line, interrupt remapping,
Secure Boot and vfio's unsafe-interrupts switch; per function of the GPU, boot_vga,
reset_methods, framebuffers, capabilities, driver and group; the GPU's readiness,
findings and unknowns. Exits 1 when the result holds no such GPU.
"""
import json
import sys

HOST = ("kernel", "interrupt_remapping", "secure_boot", "default_domain")
FUNCTION = ("boot_vga", "reset_methods", "framebuffers", "capabilities", "driver", "iommu_group")
GPU = ("readiness", "findings", "unknown", "isolated", "functions")


def main():
    facts = json.load(open(sys.argv[1]))["ansible_facts"]["iommu"]
    address = sys.argv[2] if len(sys.argv) > 2 else "0000:01:00.0"
    gpu = facts.get("gpus", {}).get(address)
    if gpu is None:
        print("no GPU %s in %s" % (address, sys.argv[1]), file=sys.stderr)
        return 1
    devices = facts.get("devices", {})
    out = {
        "host": {k: facts.get(k) for k in HOST},
        "cmdline": facts.get("cmdline", {}).get("string"),
        "allow_unsafe_interrupts": facts.get("vfio", {}).get("allow_unsafe_interrupts"),
        "functions": {f: {k: devices.get(f, {}).get(k) for k in FUNCTION} for f in gpu.get("functions", [])},
        "gpu": {k: gpu.get(k) for k in GPU},
    }
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
