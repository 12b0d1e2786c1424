"""Compare (or, with --update, store) the snapshot test's results in one process.

Usage: compare.py SCRATCH RESULTS SNAPSHOTS [--update]

RESULTS holds what test.sh ran: ID.json (a module's stdout, as printed), ID.err
(its stderr) and `exit-codes` ("ID RC" per case, in the order they ran).
SNAPSHOTS is tests/fixtures/snapshots: ID.json per case and `exit-codes`.
Prints one MISMATCH line per difference, with a readable diff naming the case,
then a summary; exits 1 when anything differs.

What normalisation replaces, and nothing else (the rest is compared byte for
byte, as printed):
- the sandbox root's path, SCRATCH/hosts/HOST or SCRATCH/runs/N (test.sh): in
  a new temporary directory each run, wherever it appears
  (invocation.module_args.root, messages naming files under the root) -> <ROOT>;
- the suffix of a backup file's name, PATH.<pid>.<YYYY-MM-DD@HH:MM:SS>~ (the name
  Ansible's backup_local gives; module_utils/files.c): the module's process id
  and the local time of the run -> PATH.<PID>.<TIMESTAMP>~.
"""

import difflib
import json
import os
import re
import sys

BACKUP_SUFFIX = re.compile(rb"\.[0-9]+\.[0-9]{4}-[0-9]{2}-[0-9]{2}@[0-9]{2}:[0-9]{2}:[0-9]{2}~")


def normalise(raw, roots):
    out = roots.sub(b"<ROOT>", raw)
    return BACKUP_SUFFIX.sub(b".<PID>.<TIMESTAMP>~", out)


def pretty(raw):
    """The result re-indented with its key order kept, for a diff a person reads."""
    try:
        return json.dumps(json.loads(raw), indent=2, ensure_ascii=False).splitlines()
    except ValueError as e:
        return raw.decode(errors="replace").splitlines() + ["(not one JSON object: %s)" % e]


def explain(case, want, got):
    lines = list(difflib.unified_diff(pretty(want), pretty(got), case + " (snapshot)",
                                      case + " (now)", lineterm=""))
    if not lines:
        # Same JSON, other bytes (spacing, escapes, the final newline): show them.
        at = next((i for i in range(min(len(want), len(got))) if want[i] != got[i]),
                  min(len(want), len(got)))
        lines = ["same JSON, different bytes from offset %d:" % at,
                 "  snapshot: %r" % want[max(0, at - 40):at + 40],
                 "  now:      %r" % got[max(0, at - 40):at + 40]]
    return "\n".join(lines)


def cases_in(snapshots):
    found = set()
    for top, _, files in os.walk(snapshots):
        for f in files:
            if f.endswith(".json"):
                found.add(os.path.relpath(os.path.join(top, f), snapshots)[:-len(".json")])
    return found


def main():
    scratch, results, snapshots = sys.argv[1:4]
    roots = re.compile(re.escape(scratch.encode()) + rb"/(?:hosts/[a-z0-9]+|runs/[0-9]+)")
    update = "--update" in sys.argv[4:]
    with open(os.path.join(results, "exit-codes"), "rb") as f:
        codes = f.read()
    cases = [line.split(b" ")[0].decode() for line in codes.splitlines()]
    problems = 0

    def mismatch(text):
        nonlocal problems
        problems += 1
        print("MISMATCH " + text)

    for case in cases:
        with open(os.path.join(results, case + ".err"), "rb") as f:
            err = f.read()
        if err:
            # A module's diagnostics never go anywhere but its result.
            mismatch("%s: the module wrote to stderr:\n%s" % (case, err.decode(errors="replace")))
        with open(os.path.join(results, case + ".json"), "rb") as f:
            got = normalise(f.read(), roots)
        path = os.path.join(snapshots, case + ".json")
        if update:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(got)
            continue
        try:
            with open(path, "rb") as f:
                want = f.read()
        except FileNotFoundError:
            mismatch("%s: no snapshot %s (SNAPSHOT_UPDATE=1 writes it)" % (case, path))
            continue
        if want != got:
            mismatch("%s: the result differs from its snapshot\n%s" % (case, explain(case, want, got)))

    codes_path = os.path.join(snapshots, "exit-codes")
    stale = sorted(cases_in(snapshots) - set(cases))
    if update:
        with open(codes_path, "wb") as f:
            f.write(codes)
        for case in stale:
            os.remove(os.path.join(snapshots, case + ".json"))
            print("removed the stale snapshot %s.json" % case)
        print("snapshots: %d written" % len(cases))
        return 0 if problems == 0 else 1
    try:
        with open(codes_path, "rb") as f:
            want_codes = f.read()
    except FileNotFoundError:
        want_codes = b""
    if want_codes != codes:
        diff = difflib.unified_diff(want_codes.decode().splitlines(), codes.decode().splitlines(),
                                    "exit codes (snapshot)", "exit codes (now)", lineterm="")
        mismatch("exit codes (case, exit code):\n" + "\n".join(diff))
    for case in stale:
        mismatch("%s: the snapshot %s.json belongs to no case (a case renamed or removed?)"
                 % (case, case))
    print("snapshots: %d cases, %d mismatches" % (len(cases), problems))
    return 0 if problems == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
