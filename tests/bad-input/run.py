#!/usr/bin/python3
"""Hostile and bad input, table-driven: tests/bad-input/<module>.yml.

For every case of every table: build the case's sandbox root, write the args
file, run plugins/modules/<module> ARGS_FILE directly (no Ansible), and check

  - the run ends on its own within the case's timeout, not by a signal;
  - exit code 0 or 1, stdout exactly one JSON object (UTF-8), exit 1 exactly
    when "failed" is true, and a failed result carries a non-empty msg;
  - stderr holds no sanitizer report (ASan/UBSan/LSan builds);
  - nothing outside the sandbox root changed (the case directory minus root/);
  - in check mode, nothing inside the root changed either (var/log aside);
  - the case's own expectations (failed, msg, result values, files).

One line per case, then "bad-input: N passed, N failed (...)"; XFAIL cases count
as passed, and the parenthesis says how many there were.
A case marked `xfail: REASON` documents a known bug: it is expected to miss its
expectations (XFAIL) and the suite stays green; when it meets them (XPASS) the
bug is fixed and the mark should go (--strict makes an XPASS fail the run).

The table format is described in tests/bad-input/README.md.

usage: run.py [--modules DIR] [--tools DIR] [--strict] [--keep] [-j N] [-k TEXT] [TABLE.yml ...]
"""
import argparse
import copy
import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "SUMMARY: UndefinedBehaviorSanitizer", "SUMMARY: AddressSanitizer")
CASE_KEYS = {"name", "args", "raw", "raw_encoding", "host", "check_mode", "diff", "setup",
             "expect", "unchanged", "timeout", "xfail", "inject_root"}
SETUP_KEYS = {"remove", "dirs", "files", "copy", "links", "install", "fifos"}
EXPECT_KEYS = {"failed", "msg", "msg_exact", "result", "result_contains", "warning",
               "files_contain", "links", "absent", "present"}


class CaseError(Exception):
    """A case did not meet an expectation or an invariant."""


# --- values ------------------------------------------------------------------------

def expand(value):
    """Generators for values too big to write out: {$repeat: S, times: N} is S*N,
    {$list: V, times: N} is [V]*N, {$format: "p%d", times: N} is ["p0", ...]."""
    if isinstance(value, dict):
        if "$repeat" in value:
            return value["$repeat"] * value["times"]
        if "$list" in value:
            return [expand(value["$list"]) for _ in range(value["times"])]
        if "$format" in value:
            return [value["$format"] % i for i in range(value["times"])]
        return {k: expand(v) for k, v in value.items()}
    if isinstance(value, list):
        return [expand(v) for v in value]
    return value


def subst(value, marks):
    """Replace @ROOT@, @WORK@ (and other marks) in every string of value."""
    if isinstance(value, str):
        for k, v in marks.items():
            value = value.replace(k, v)
        return value
    if isinstance(value, dict):
        return {subst(k, marks): subst(v, marks) for k, v in value.items()}
    if isinstance(value, list):
        return [subst(v, marks) for v in value]
    return value


def short(text, n=160):
    text = text if isinstance(text, str) else json.dumps(text, ensure_ascii=False)
    return text if len(text) <= n else text[:n] + "... (%d chars)" % len(text)


def dig(obj, path):
    """obj at a path: "devices.0.address", or with slashes when a key holds dots
    ("ansible_facts/iommu/devices/0000:07:00.0/driver"). KeyError when absent."""
    for part in path.split("/" if "/" in path else ".") if path else []:
        if isinstance(obj, list):
            obj = obj[int(part)]
        elif isinstance(obj, dict) and part in obj:
            obj = obj[part]
        else:
            raise KeyError(path)
    return obj


# --- trees -------------------------------------------------------------------------

def snapshot(top, skip=()):
    """{relative path: what it is} for everything under top, links not followed."""
    state = {}
    if not os.path.lexists(top):
        return state
    for dirpath, dirnames, filenames in os.walk(top):
        rel_dir = os.path.relpath(dirpath, top)
        dirnames[:] = [d for d in dirnames
                       if os.path.normpath(os.path.join(rel_dir, d)) not in skip]
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            rel = os.path.normpath(os.path.join(rel_dir, name))
            if rel in skip:
                continue
            state[rel] = file_state(full)
    return state


def tree_diff(before, after):
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    return ", ".join(changed[:8]) + (" and %d more" % (len(changed) - 8) if len(changed) > 8 else "")


def file_state(path):
    """What path is, links not followed: its content's hash for a regular file
    (FIFOs and devices are never opened: that could block)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return "absent"
    if stat.S_ISLNK(st.st_mode):
        return "link " + os.readlink(path)
    if not stat.S_ISREG(st.st_mode):
        return "type %o" % stat.S_IFMT(st.st_mode)
    with open(path, "rb") as f:
        return "file " + hashlib.sha256(f.read()).hexdigest()


def work_parent():
    """Where the sandbox roots go: $PT_BADINPUT_TMP, else /dev/shm when it allows
    executables (a root is copied for every case; tmpfs makes that ~20 times
    faster than a disk), else the usual temporary directory."""
    if os.environ.get("PT_BADINPUT_TMP"):
        return os.environ["PT_BADINPUT_TMP"]
    try:
        st = os.statvfs("/dev/shm")
        if not st.f_flag & os.ST_NOEXEC and os.access("/dev/shm", os.W_OK | os.X_OK) \
                and st.f_bavail * st.f_frsize > 512 << 20:
            return "/dev/shm"
    except OSError:
        pass
    return None


class Runner:
    def __init__(self, opts):
        self.opts = opts
        self.work = tempfile.mkdtemp(prefix="pt-bad-input.", dir=work_parent())
        self.cache = {}  # host fixture -> pristine root built by mkroot
        self.lock = threading.Lock()
        self.counts = {"PASS": 0, "FAIL": 0, "XFAIL": 0, "XPASS": 0}
        self.failures = []

    def close(self):
        if self.opts.keep:
            print("bad-input: work directory kept: %s" % self.work)
        else:
            shutil.rmtree(self.work, ignore_errors=True)

    # --- roots -------------------------------------------------------------------

    def pristine(self, host):
        with self.lock:
            return self._pristine(host)

    def _pristine(self, host):
        if host not in self.cache:
            desc = os.path.join(REPO, "tests", "fixtures", "hosts", host + ".yml")
            dest = os.path.join(self.work, "pristine", host)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            p = subprocess.run([os.path.join(self.opts.tools, "mkroot"), desc, dest],
                               capture_output=True, text=True)
            if p.returncode != 0:
                raise CaseError("mkroot %s failed: %s" % (desc, p.stderr.strip()))
            self.cache[host] = dest
        return self.cache[host]

    @staticmethod
    def inside(root, path):
        """A case's path: one under @WORK@ (the case directory, root's parent)
        as given, any other inside root."""
        case_dir = os.path.dirname(root)
        if path.startswith(case_dir + "/") or path == case_dir:
            return path
        return os.path.join(root, path.lstrip("/"))

    def apply_setup(self, root, setup):
        # copies first: a case may copy a file and then remove or replace its
        # directory (a directory symlink out of the root)
        for dest, src in setup.get("copy", {}).items():
            full = self.inside(root, dest)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            shutil.copy2(self.inside(root, src), full)
        for path in setup.get("remove", []):
            full = self.inside(root, path)
            if os.path.isdir(full) and not os.path.islink(full):
                shutil.rmtree(full)
            elif os.path.lexists(full):
                os.unlink(full)
        for path in setup.get("dirs", []):
            os.makedirs(self.inside(root, path), exist_ok=True)
        for path, text in setup.get("files", {}).items():
            full = self.inside(root, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            if os.path.lexists(full):
                os.unlink(full)
            # {latin1: "..."}: the text's \x80-\xff become those bytes (not UTF-8)
            data = text["latin1"].encode("latin-1") if isinstance(text, dict) \
                else text.encode("utf-8")
            with open(full, "wb") as f:
                f.write(data)
        for path, target in setup.get("links", {}).items():
            full = self.inside(root, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            if os.path.isdir(full) and not os.path.islink(full):
                shutil.rmtree(full)
            elif os.path.lexists(full):
                os.unlink(full)
            os.symlink(target, full)
        for path in setup.get("fifos", []):
            full = self.inside(root, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            os.mkfifo(full)
        for path, tool in setup.get("install", {}).items():
            full = self.inside(root, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            shutil.copy2(os.path.join(self.opts.tools, tool), full)
            os.chmod(full, 0o755)

    # --- one case ----------------------------------------------------------------

    def run_case(self, module, case, case_dir):
        """Run one case in case_dir; raises CaseError when it misses an expectation."""
        root = os.path.join(case_dir, "root")
        marks = {"@ROOT@": root, "@WORK@": case_dir}
        host = case.get("host")
        if host:
            # cp -a: several times faster than shutil.copytree for these trees
            subprocess.run(["cp", "-a", self.pristine(host), root], check=True)
        os.makedirs(os.path.join(case_dir, "outside"), exist_ok=True)
        try:
            self.apply_setup(root, subst(expand(case.get("setup", {})), marks))
        except OSError as e:
            raise CaseError("setup failed: %s" % e)

        args_path = os.path.join(case_dir, "args.json")
        if "raw" in case:
            raw = expand(case["raw"])  # a text, or a list of pieces to join
            text = subst(raw if isinstance(raw, str) else "".join(raw), marks)
            data = text.encode(case.get("raw_encoding", "utf-8"))
        else:
            args = subst(expand(case.get("args", {})), marks)
            if not isinstance(args, dict):
                raise CaseError("args must be a mapping (use raw for other args files)")
            if case.get("inject_root", True) and "root" not in args:
                args["root"] = root
            args.setdefault("_ansible_check_mode", bool(case.get("check_mode")))
            # The tables hold ansible-core 2.14's wording of argument errors; a
            # module without a controller version follows the newest
            # (module_utils/argspec.h), so say which controller this is.
            args.setdefault("_ansible_version", "2.14.18")
            if case.get("diff"):
                args.setdefault("_ansible_diff", True)
            data = json.dumps(args, ensure_ascii=False).encode("utf-8")
        with open(args_path, "wb") as f:
            f.write(data)

        skip = {"root", "args.json"}
        outside_before = snapshot(case_dir, skip)
        # A raw args file in check mode, or one the module must refuse, changes nothing.
        check_mode = bool(case.get("check_mode"))
        if "raw" in case:
            try:
                parsed = json.loads(data.decode("utf-8"))
                check_mode = not isinstance(parsed, dict) or parsed.get("_ansible_check_mode") is True
            except (ValueError, RecursionError):
                check_mode = True
        root_before = snapshot(root, {"var/log"}) if check_mode else None
        watched = {p: file_state(self.inside(root, subst(p, marks)))
                   for p in case.get("unchanged", [])}

        binary = os.path.join(self.opts.modules, module)
        start = time.monotonic()
        # Its own session, so that a hung run is killed with whatever it started.
        proc = subprocess.Popen([binary, args_path], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, cwd=case_dir,
                                start_new_session=True)
        # PT_TIMEOUT_SCALE: sanitized builds (tests/asan/run.sh) run slower.
        timeout = case.get("timeout", 60) * float(os.environ.get("PT_TIMEOUT_SCALE", "1"))
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise CaseError("still running after %gs (killed)" % timeout)
        elapsed = time.monotonic() - start
        stderr = err.decode("utf-8", "replace")

        # --- invariants: every case, whatever its expectations
        if proc.returncode < 0:
            raise CaseError("killed by signal %s; stderr: %s"
                            % (signal.Signals(-proc.returncode).name, short(stderr, 400)))
        for mark in SANITIZER_MARKS:
            if mark in stderr:
                raise CaseError("sanitizer report on stderr: %s" % short(stderr, 600))
        if proc.returncode not in (0, 1):
            raise CaseError("exit code %d (want 0 or 1); stderr: %s"
                            % (proc.returncode, short(stderr, 300)))
        try:
            result = json.loads(out.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise CaseError("stdout is not exactly one JSON object (%s): %s"
                            % (e, short(out.decode("utf-8", "replace"), 300)))
        if not isinstance(result, dict):
            raise CaseError("stdout is JSON but not an object: %s" % short(result))
        failed = result.get("failed") is True
        if failed != (proc.returncode == 1):
            raise CaseError("exit code %d but failed=%s" % (proc.returncode, failed))
        msg = result.get("msg")
        if failed and (not isinstance(msg, str) or not msg.strip()):
            raise CaseError("failed without a msg: %s" % short(result, 300))
        outside_after = snapshot(case_dir, skip)
        if outside_after != outside_before:
            raise CaseError("files OUTSIDE the root changed: %s"
                            % tree_diff(outside_before, outside_after))
        if check_mode:
            root_after = snapshot(root, {"var/log"})
            if root_after != root_before:
                raise CaseError("check mode changed files in the root: %s"
                                % tree_diff(root_before, root_after))

        # --- the case's expectations
        exp = subst(case.get("expect", {}), marks)
        got = "failed=%s msg=%s" % (failed, short(msg if msg is not None else "(none)"))
        if "failed" in exp and exp["failed"] != failed:
            raise CaseError("want failed=%s, got %s" % (exp["failed"], got))
        if "msg_exact" in exp and msg != exp["msg_exact"]:
            raise CaseError("want msg exactly %r, got %s" % (short(exp["msg_exact"]), got))
        if "msg" in exp:
            wants = exp["msg"] if isinstance(exp["msg"], list) else [exp["msg"]]
            if not isinstance(msg, str) or not any(w in msg for w in wants):
                raise CaseError("want msg containing %s, got %s"
                                % (" or ".join(repr(w) for w in wants), got))
        if "warning" in exp:
            warnings = result.get("warnings") or []
            if not any(exp["warning"] in w for w in warnings):
                raise CaseError("want a warning containing %r, got %s"
                                % (exp["warning"], short(warnings, 300)))
        for path, want in (exp.get("result") or {}).items():
            try:
                value = dig(result, path)
            except (KeyError, IndexError, ValueError):
                raise CaseError("result has no %s (%s)" % (path, got))
            if value != want:
                raise CaseError("want result %s = %s, got %s"
                                % (path, short(want), short(value)))
        for path, needle in (exp.get("result_contains") or {}).items():
            try:
                value = dig(result, path)
            except (KeyError, IndexError, ValueError):
                raise CaseError("result has no %s (%s)" % (path, got))
            if not isinstance(value, str) or needle not in value:
                raise CaseError("want result %s containing %r, got %s"
                                % (path, needle, short(value)))
        for path, needle in (exp.get("files_contain") or {}).items():
            full = self.inside(root, path)
            try:
                with open(full, "rb") as f:
                    content = f.read().decode("utf-8", "replace")
            except OSError as e:
                raise CaseError("cannot read %s: %s" % (path, e))
            if needle not in content:
                raise CaseError("%s lacks %r" % (path, needle))
        for path, target in (exp.get("links") or {}).items():
            full = self.inside(root, path)
            if not os.path.islink(full) or os.readlink(full) != target:
                raise CaseError("%s is no longer a link to %s (%s)"
                                % (path, target, file_state(full)))
        for path in exp.get("absent") or []:
            if os.path.lexists(self.inside(root, path)):
                raise CaseError("%s exists" % path)
        for path in exp.get("present") or []:
            if not os.path.lexists(self.inside(root, path)):
                raise CaseError("%s does not exist" % path)
        for path, before in watched.items():
            now = file_state(self.inside(root, subst(path, marks)))
            if now != before:
                raise CaseError("%s changed (%s -> %s)" % (path, before[:12], now[:12]))
        return got, elapsed

    # --- tables ------------------------------------------------------------------

    def run_table(self, path):
        """Every case of one table, several at a time (cases are independent: each
        has its own directory); results are printed in table order."""
        with open(path) as f:
            table = yaml.safe_load(f)
        module = table["module"]
        defaults = table.get("defaults", {})
        names = set()
        jobs = []
        for i, raw_case in enumerate(table["cases"]):
            case = copy.deepcopy(defaults)
            setup = case.pop("setup", {})
            for k, v in raw_case.items():
                case[k] = v
            # setup merges: the table's first, then the case's
            merged = copy.deepcopy(setup)
            for k, v in (raw_case.get("setup") or {}).items():
                if isinstance(v, dict):
                    merged.setdefault(k, {}).update(v)
                else:
                    merged[k] = merged.get(k, []) + list(v)
            case["setup"] = merged
            name = raw_case.get("name") or "case %d" % i
            label = "%s: %s" % (module, name)
            problems = [k for k in raw_case if k not in CASE_KEYS]
            problems += [k for k in merged if k not in SETUP_KEYS]
            problems += [k for k in (raw_case.get("expect") or {}) if k not in EXPECT_KEYS]
            if name in names:
                problems.append("duplicate name")
            names.add(name)
            if self.opts.k and self.opts.k not in label:
                continue
            case_dir = os.path.join(self.work, "%s-%03d" % (module, i))
            jobs.append((module, label, case, raw_case.get("xfail"), problems, case_dir))
        with ThreadPoolExecutor(max_workers=self.opts.jobs) as pool:
            for label, status, detail in pool.map(self.execute, jobs):
                self.counts[status] += 1
                if status == "FAIL" or (status == "XPASS" and self.opts.strict):
                    self.failures.append(label)
                print("%-5s %s%s" % (status, label,
                                     "" if status == "PASS" and not self.opts.verbose
                                     else "\n      " + detail), flush=True)

    def execute(self, job):
        module, label, case, xfail, problems, case_dir = job
        os.makedirs(case_dir)
        try:
            if problems:
                raise CaseError("bad table entry: unknown or repeated %s" % ", ".join(problems))
            got, elapsed = self.run_case(module, case, case_dir)
            if xfail:
                status, detail = "XPASS", ("meets its expectations now: the bug is fixed, "
                                           "remove the xfail mark (%s)" % xfail)
            else:
                status, detail = "PASS", "%.2fs" % elapsed
        except CaseError as e:
            status, detail = ("XFAIL", "%s -- %s" % (xfail, e)) if xfail else ("FAIL", str(e))
        except Exception as e:  # a bug in this runner or the table: say which case
            status, detail = "FAIL", "runner error: %s: %s" % (type(e).__name__, e)
        if not self.opts.keep:
            shutil.rmtree(case_dir, ignore_errors=True)
        return label, status, detail


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("tables", nargs="*", help="tables to run (default: every *.yml here)")
    ap.add_argument("--modules", default=os.environ.get("PT_MODULES_DIR",
                                                        os.path.join(REPO, "plugins", "modules")),
                    help="directory of the module binaries (default: plugins/modules, "
                         "or $PT_MODULES_DIR, e.g. a sanitizer build)")
    ap.add_argument("--tools", default=os.path.join(REPO, "build", "tools"),
                    help="mkroot, record-cmd and fake-pvesh (make tools)")
    ap.add_argument("--strict", action="store_true",
                    help="an XPASS (a case marked xfail that now passes) fails the run")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("-k", help="only the cases whose 'module: name' contains this text")
    ap.add_argument("-v", "--verbose", action="store_true", help="timing for passing cases")
    ap.add_argument("-j", "--jobs", type=int, default=max(2, os.cpu_count() or 1),
                    help="cases run at a time (default: the number of CPUs, at least 2)")
    opts = ap.parse_args()
    tables = opts.tables or sorted(os.path.join(HERE, f) for f in os.listdir(HERE)
                                   if f.endswith(".yml"))
    runner = Runner(opts)
    try:
        for t in tables:
            runner.run_table(t)
    finally:
        runner.close()
    c = runner.counts
    passed = c["PASS"] + c["XFAIL"] + (0 if opts.strict else c["XPASS"])
    print("bad-input: %d passed, %d failed (passed: %d as expected, %d xfail = known bugs, "
          "%d xpass)" % (passed, len(runner.failures), c["PASS"], c["XFAIL"], c["XPASS"]))
    return 1 if runner.failures else 0


if __name__ == "__main__":
    sys.exit(main())
