# Copyright: homelab.passthrough contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run one of this collection's native binary modules in one exec per task.

ansible-core never pipelines a binary module: every task costs a mkdir of a
remote tmp dir, two file puts (the binary and its args), a chmod, the exec and an
rm. The action plugins of the four modules (plugins/action/NAME.py) run through
BinaryModuleAction instead, which, when the connection pipelines (the same
conditions ansible-core uses for Python modules), sends one command:

  check the cached binary (see below) and `exec` it with `-`, the JSON args on
  stdin; or print CACHE_MISS and exit with MISS_RC when the check fails.

On a miss a second command carries the args line and then the binary on stdin,
writes the binary into a fresh directory, checks its sha256, renames the
directory into place and runs it. So the first task on a host and build costs two
execs and every later one (in the run and in later runs) one.

The cache: /var/lib/homelab-passthrough/bin/SHA256/NAME when the executing user
(after become) is root, ~/.ansible/homelab-passthrough/bin/SHA256/NAME otherwise.
Before each run the command checks every component of that path, from / down:
no symlink, nothing writable by group or others, the cache's own directories and
the binary owned by the executing user and everything above them by that user or
root, the binary a regular file whose sha256 is the one the controller computed
from the collection's binary. Any failure is a miss: the binary is put again, the
cached file is never run. When the cache cannot be made safe (a parent owned by
another user, no sha256sum on the node), the task falls back to ansible-core's
own path, as it does whenever pipelining is off or impossible (async,
ANSIBLE_KEEP_REMOTE_FILES, become su, a connection that cannot pipeline).

Everything put into a command line is quoted (shlex.quote) or is a hex digest
or a module name checked against a fixed pattern; the args travel on stdin only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import re
import shlex

from ansible import constants as C
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.utils.unsafe_proxy import wrap_var
from ansible.utils.vars import merge_hash
from ansible.vars.clean import remove_internal_keys

try:  # ansible-core 2.19 and later: module args and results go through a serialization profile
    from ansible.module_utils.common.json import Direction, get_module_encoder
except ImportError:  # up to 2.18
    Direction = get_module_encoder = None

display = Display()

CACHE_MISS = "HOMELAB_PASSTHROUGH_CACHE_MISS"
CACHE_FAIL = "HOMELAB_PASSTHROUGH_CACHE_FAIL"
MISS_RC = 97
FAIL_RC = 98
ROOT_CACHE = "/var/lib/homelab-passthrough/bin"
USER_CACHE = ".ansible/homelab-passthrough/bin"  # under the executing user's $HOME

# The shell text both commands start with: $u the executing user's effective uid
# (from /proc/self/status: no process started for it), $c the cache directory,
# and safe PATH, which returns 0 when every component of PATH passes the rules
# above, else 1 with the first failing one in $why ("uid mode path", or stat's
# message). Every process costs time on a busy node, so the checks start two:
# one stat for all the components, one sha256sum.
_PRELUDE = r"""u=
while read -r k r e _; do [ "$k" = Uid: ] && { u=$e; break; }; done </proc/self/status
[ -n "$u" ] || u=$(id -u) || exit 1
if [ "$u" = 0 ]; then c=%(root_cache)s; else c=${HOME:-/nonexistent}/%(user_cache)s; fi
case $c in /*) ;; *) echo "%(fail)s the cache directory $c is not absolute"; exit %(fail_rc)d ;; esac
safe() {
	p=$1
	set --
	while [ -n "$p" ]; do set -- "$@" "$p"; p=${p%%/*}; done
	s=$(LC_ALL=C stat -c '%%u %%A %%n' -- "$@" / 2>&1) || { why=$s; return 1; }
	while read -r o m n; do
		why="$o $m $n"
		case $m in ?????w*|????????w*) return 1 ;; esac
		case $n in
		"$c" | "$c"/*) [ "$o" = "$u" ] || return 1 ;;
		*) [ "$o" = 0 ] || [ "$o" = "$u" ] || return 1 ;;
		esac
	done <<EOF
$s
EOF
	why=
}
sum() { h=$(sha256sum <"$1") && [ "${h%%%% *}" = %(sha)s ]; }
"""

# One exec: run the cached binary when it passes every check, else report a miss.
_RUN = r"""f=$c/%(sha)s/%(name)s
if [ ! -f "$f" ]; then why=missing
elif ! safe "$f"; then why="unsafe: $why"
elif sum "$f"; then %(env)s exec "$f" -
else why="wrong sha256"; fi
echo "%(miss)s $why"
exit %(miss_rc)d
"""

# The miss: stdin is the JSON args on one line, then the binary.
_INSTALL = r"""IFS= read -r a || { echo "%(fail)s no arguments on stdin"; exit %(fail_rc)d; }
umask 077
d=$c/%(sha)s
f=$d/%(name)s
die() { [ -n "${t:-}" ] && rm -rf "$t"; echo "%(fail)s $*"; exit %(fail_rc)d; }
mkdir -p "$c" || die "cannot create $c"
safe "$c" || die "$c is not safe: $why"
t=$(mktemp -d "$c/.new.XXXXXX") || die "cannot create a directory in $c"
cat >"$t/%(name)s" || die "cannot write $t"
sum "$t/%(name)s" || die "the binary sent does not have the expected sha256"
chmod 0700 "$t/%(name)s" "$t" || die "cannot chmod $t"
if ! { [ -f "$f" ] && safe "$f" && sum "$f"; }; then
	rm -rf "$d"
	mv -T "$t" "$d" 2>/dev/null || [ -d "$d" ] || die "cannot rename $t to $d"
fi
rm -rf "$t"
t=
safe "$f" || die "$f is not safe after writing it: $why"
sum "$f" || die "$f does not have the expected sha256 after writing it"
printf '%%s\n' "$a" | %(env)s exec "$f" -
"""

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class BinaryModuleAction(ActionBase):
    """The action of one of this collection's binary modules (the module is the
    task's action, as for ansible.builtin.normal)."""

    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        # As ansible.builtin.normal does: the module handles check mode and async.
        self._supports_check_mode = True
        self._supports_async = True
        result = super(BinaryModuleAction, self).run(tmp, task_vars)
        del tmp
        if result.get("skipped"):
            return result
        if result.get("invocation", {}).get("module_args"):
            del result["invocation"]["module_args"]
        wrap_async = self._task.async_val and not self._connection.has_native_async
        data = None
        if self._fast_path_possible(wrap_async):
            data = self._execute_cached(task_vars or {})
        if data is None:
            # ansible-core's own path for a binary module, unchanged.
            data = self._execute_module(task_vars=task_vars, wrap_async=wrap_async)
        result = merge_hash(result, data)
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def _fast_path_possible(self, wrap_async):
        """Pipelining as ansible-core would allow it for a Python module (on, the
        connection able, no async, no KEEP_REMOTE_FILES, become not su), on a
        POSIX shell."""
        if wrap_async or C.DEFAULT_KEEP_REMOTE_FILES:
            return False
        if getattr(self._connection._shell, "SHELL_FAMILY", None) != "sh":
            return False
        return self._is_pipelining_enabled("new", wrap_async)

    def _execute_cached(self, task_vars):
        """The module's result through the cache, or None to take the normal path."""
        module_name = self._task.action
        module_args = self._task.args
        self._update_module_args(module_name, module_args, task_vars)
        configured = self._configure_module(
            module_name=module_name, module_args=module_args, task_vars=task_vars)
        if len(configured) == 2:
            # ansible-core 2.19 and later: (_BuiltModule, path)
            built, path = configured
            style, binary, profile = built.module_style, built.b_module_data, built.serialization_profile
        else:
            # up to 2.18: (style, shebang, data, path)
            style, _shebang, binary, path = configured
            profile = None
        short = path.rsplit("/", 1)[-1] if path else ""
        if style != "binary" or not _NAME.match(short):
            display.vvv("homelab.passthrough: %s is not a binary module here; normal path" % path)
            return None
        sha = hashlib.sha256(binary).hexdigest()
        fields = {
            "sha": sha,
            "name": short,
            "env": self._compute_environment_string(),
            "root_cache": shlex.quote(ROOT_CACHE),
            "user_cache": shlex.quote(USER_CACHE),
            "miss": CACHE_MISS,
            "fail": CACHE_FAIL,
            "miss_rc": MISS_RC,
            "fail_rc": FAIL_RC,
        }
        prelude = _PRELUDE % fields
        args = self._module_args_json(module_args, profile)
        display.vvv("homelab.passthrough: running %s from the node's cache (sha256 %s)" % (short, sha))
        res = self._low_level_execute_command(prelude + _RUN % fields, sudoable=True, in_data=args)
        if res.get("rc") == MISS_RC and res.get("stdout", "").startswith(CACHE_MISS):
            why = res["stdout"][len(CACHE_MISS):].strip()
            display.vvv("homelab.passthrough: cache miss (%s): sending %s (%d bytes)" % (why, short, len(binary)))
            res = self._low_level_execute_command(
                prelude + _INSTALL % fields, sudoable=True, in_data=args + b"\n" + binary)
            if res.get("rc") == FAIL_RC and res.get("stdout", "").startswith(CACHE_FAIL):
                why = res["stdout"][len(CACHE_FAIL):].strip()
                display.warning("homelab.passthrough: cannot cache %s on the node (%s); "
                                "running it the way ansible-core runs binary modules" % (short, why))
                return None
        if res.get("rc") in (126, 127) and not res.get("stdout", "").strip():
            # exec refused (a noexec mount, a missing loader): the normal path
            # may still work from ansible-core's remote tmp.
            display.warning("homelab.passthrough: the cached %s could not be run (%s); running it "
                            "the way ansible-core runs binary modules" % (short, res.get("stderr", "").strip()))
            return None
        return self._module_result(res, profile)

    @staticmethod
    def _module_args_json(module_args, profile=None):
        """The args as ansible-core writes a binary module's args file (with the
        module's serialization profile's encoder from 2.19 on), on one line."""
        if profile is not None and get_module_encoder is not None:
            encoder = get_module_encoder(profile, Direction.CONTROLLER_TO_MODULE)
            return json.dumps(module_args, cls=encoder).encode("utf-8")
        return json.dumps(module_args).encode("utf-8")

    def _module_result(self, res, profile=None):
        """What _execute_module does with a module's output, for this path: up to
        2.18 the result is parsed and marked unsafe; from 2.19 the profile's
        decoder parses it and decides what is trusted."""
        if profile is not None:
            data = self._parse_returned_data(res, profile)
        else:
            data = self._parse_returned_data(res)
        data.pop("_ansible_suppress_tmpdir_delete", None)
        remove_internal_keys(data)
        return data if profile is not None else wrap_var(data)
