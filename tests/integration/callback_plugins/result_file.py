# Test helper: saves each task's raw module result (failed, diff, invocation and
# all, which the display callbacks strip) as JSON into $PT_RESULT_FILE. Used by
# tests/integration/lib.sh pt_adhoc and tests/e2e/run.sh; part of the tests, not
# of the collection.
import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "result_file"
    CALLBACK_NEEDS_ENABLED = True

    # The executor keeps the status apart from the result (the stock json
    # callback puts it back the same way).
    def _save(self, result, **status):
        path = os.environ.get("PT_RESULT_FILE")
        if path:
            data = dict(result._result)
            data.update(status)
            with open(path, "w") as f:
                json.dump(data, f)

    def v2_runner_on_ok(self, result):
        self._save(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._save(result, failed=True)

    def v2_runner_on_skipped(self, result):
        self._save(result, skipped=True)

    def v2_runner_on_unreachable(self, result):
        self._save(result, unreachable=True)
