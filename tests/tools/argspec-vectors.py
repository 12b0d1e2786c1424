#!/usr/bin/env python3
"""Measure what this machine's ansible-core AnsibleModule does with arguments.

Usage: argspec-vectors.py REFERENCE.json > ansible-X.Y-vectors.json
       argspec-vectors.py --compare EXPECTED.json MEASURED.json

REFERENCE.json is a vectors file (tests/fixtures/argspec/ansible-2.14-vectors.json):
its argument_spec, module_name and the input of each case are reused; every case is
run again through the AnsibleModule of the ansible-core that `python3` imports here
(a module process per case, arguments given the way ansible-core gives them: an
args file holding ANSIBLE_MODULE_ARGS), and the file is printed again with each
case's result replaced by what that AnsibleModule printed: on success the coerced
`params` (and the `invocation` ansible-core adds), on failure `failed` and `msg`.
`ansible_version` records the version measured.

--compare exits non-zero, naming the cases, when MEASURED's results differ from
EXPECTED's; the list of valid booleans in the bool error comes from a Python set,
so its order is not compared, nor is the patch release measured.

Run it under each controller version (tests/matrix/run.sh does it in the
Debian 13 root) to re-measure; the C runtime's unit test (tests/unit/test_argspec.c)
checks the modules' validation against every file this produces.
"""
import json
import os
import subprocess
import sys
import tempfile

# The module each case runs: the spec comes from the environment, the result is
# AnsibleModule's own output (exit_json/fail_json), unchanged.
MODULE = r'''
import json, os
from ansible.module_utils.basic import AnsibleModule
spec = json.loads(os.environ["PT_ARGSPEC"])
m = AnsibleModule(argument_spec=spec, supports_check_mode=True)
m.exit_json(changed=False, params=m.params)
'''

# Keys each result keeps: the ones the reference vectors hold. Anything else a
# version adds around them (e.g. warnings about internal keys) is not validation.
KEEP_OK = ("changed", "invocation", "params")
KEEP_FAILED = ("failed", "msg")


def run_case(spec, module_name, args, workdir):
    import ansible.release
    module_args = dict(args)
    module_args.update({
        "_ansible_module_name": module_name,
        "_ansible_check_mode": False,
        "_ansible_no_log": False,
        "_ansible_debug": False,
        "_ansible_diff": False,
        "_ansible_verbosity": 0,
        "_ansible_version": ansible.release.__version__,
        "_ansible_keep_remote_files": False,
        "_ansible_remote_tmp": workdir,
        "_ansible_tmpdir": workdir,
        "_ansible_selinux_special_fs": [],
        "_ansible_shell_executable": "/bin/sh",
        "_ansible_socket": None,
        "_ansible_syslog_facility": "LOG_USER",
        "_ansible_string_conversion_action": "warn",
    })
    # Only the internal keys this version's controller sends: AnsibleModule 2.19
    # rejects the ones it dropped (_ansible_string_conversion_action) as
    # unsupported parameters.
    from ansible.module_utils.common.parameters import PASS_VARS
    for key in [k for k in module_args if k.startswith("_ansible_")]:
        if key[len("_ansible_"):] not in PASS_VARS:
            del module_args[key]
    args_file = os.path.join(workdir, "args")
    with open(args_file, "w", encoding="utf-8") as f:
        json.dump({"ANSIBLE_MODULE_ARGS": module_args}, f)
    module_file = os.path.join(workdir, "example.py")
    with open(module_file, "w", encoding="utf-8") as f:
        f.write(MODULE)
    env = dict(os.environ, PT_ARGSPEC=json.dumps(spec), HOME="/root", LC_ALL="C.UTF-8")
    proc = subprocess.run([sys.executable, module_file, args_file], env=env, cwd=workdir,
                          capture_output=True, text=True, check=False)
    try:
        result = json.loads(proc.stdout)
    except ValueError:
        raise SystemExit("case %r: no JSON from AnsibleModule:\n%s\n%s"
                         % (args, proc.stdout, proc.stderr))
    keep = KEEP_FAILED if result.get("failed") else KEEP_OK
    return {k: result[k] for k in keep if k in result}


def normalized(result):
    """RESULT with the unordered tail of the bool error message cut off."""
    msg = result.get("msg")
    if isinstance(msg, str) and "Valid booleans include:" in msg:
        result = dict(result, msg=msg.split("Valid booleans include:")[0])
    return result


def compare(expected_path, measured_path):
    with open(expected_path, encoding="utf-8") as f:
        expected = json.load(f)
    with open(measured_path, encoding="utf-8") as f:
        measured = json.load(f)
    want = {c["case"]: (c["input"], normalized(c["result"])) for c in expected["cases"]}
    got = {c["case"]: (c["input"], normalized(c["result"])) for c in measured["cases"]}
    differ = sorted(k for k in want.keys() | got.keys() if want.get(k) != got.get(k))
    for k in differ:
        print("argspec vectors: case %s differs:\n  expected %s\n  measured %s"
              % (k, json.dumps(want.get(k)), json.dumps(got.get(k))), file=sys.stderr)
    return 1 if differ else 0


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--compare":
        raise SystemExit(compare(sys.argv[2], sys.argv[3]))
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    import ansible.release
    with open(sys.argv[1], encoding="utf-8") as f:
        ref = json.load(f)
    out = {
        "ansible_version": ansible.release.__version__,
        "argument_spec": ref["argument_spec"],
        "module_name": ref["module_name"],
        "cases": [],
    }
    with tempfile.TemporaryDirectory(prefix="pt-argspec-") as workdir:
        for case in ref["cases"]:
            out["cases"].append({
                "case": case["case"],
                "input": case["input"],
                "result": run_case(ref["argument_spec"], ref["module_name"], case["input"], workdir),
            })
    json.dump(out, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
