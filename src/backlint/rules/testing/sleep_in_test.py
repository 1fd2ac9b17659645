from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from backlint.diagnostics import Severity
from backlint.engine.context import FileContext
from backlint.engine.walker import iter_descendants
from backlint.index.testcode import TestFunction
from backlint.rules.base import Example, Option
from backlint.rules.dependencies.implicit_calls import shown_name
from backlint.rules.testing.protection import (
    CHECK_HELPERS,
    CallInTestRule,
    CallSite,
    Guards,
    kind_label,
)

SLEEPS = frozenset({"time.sleep", "asyncio.sleep", "anyio.sleep", "trio.sleep"})
_MAX_SHOWN = 24  # longer delay expressions are shown as ``...``


class SleepInTest(CallInTestRule):
    """
    ## What it does
    Flags a fixed wait in a test or fixture: `time.sleep(n)`, and `asyncio.sleep(n)`
    (also `anyio.sleep`, `trio.sleep`) with `n` other than a literal `0`, which only
    yields to other tasks.

    Not flagged:

    - a sleep inside a polling loop: a `while` loop with a condition, or any loop the
      test can leave early (`break`, `return`): that is the recommended fix;
    - a sleep the test patched (`mock.patch("time.sleep")`, `monkeypatch.setattr(time,
      "sleep", ...)`, `mocker.patch("app.worker.time.sleep")`);
    - tests marked with one of `allow-sleep-markers` (`integration`, `e2e`, `slow`) by
      `@pytest.mark.<name>` on the test or its class, a module or class `pytestmark`, or
      Django's `@tag("<name>")`.

    ## Why is this bad?
    A fixed sleep guesses how long something takes. Too short and the test fails on a
    busy CI machine; too long and every run pays for it, in every test that copies it.
    The test also says nothing about what it is waiting for.

    ## Example
    ```python
    def test_worker_drains_queue_after_start():
        start_worker()
        time.sleep(2)
        assert queue.empty()
    ```

    Use instead:
    ```python
    def test_worker_drains_queue_after_start():
        start_worker()
        wait_until(queue.empty, timeout=5)
    ```

    ## How to fix
    Wait for the condition itself: poll with a deadline (`while not cond(): sleep(0.05)`
    under a timeout, tenacity, `asyncio.wait_for`), join the thread or await the task.
    When the code waits on the clock (retries, expiry), inject a fake clock or freeze
    time and move it (`freezer.tick()`) instead of sleeping; note that freezing the
    clock does not make `time.sleep` return sooner, so it does not silence this rule.

    ## Calibration
    The real suites read (saleor, netbox, mealie, dispatch, plane, redash, CTFd, the
    FastAPI template) have almost no sleeps in tests: the two found are mealie's
    `time.sleep(0.25)` in a fixture "so we can test datetime filters", which a frozen
    clock moved between inserts would replace. Sleeps in polling loops are left alone
    since polling is this rule's advice; helpers are only checked with `check-helpers`.
    """

    code = "BL702"
    name = "sleep-in-test"
    summary = "A test sleeps for a fixed time instead of waiting for a condition."
    fix_text = "Poll with a timeout or inject a fake clock."
    severity = Severity.WARNING
    tags = ("tests", "AP-PY02")
    text_markers = ("sleep",)
    options = (
        CHECK_HELPERS,
        Option(
            "allow-sleep-markers",
            ("integration", "e2e", "slow"),
            "pytest markers (or Django tags) of tests that may sleep.",
        ),
    )
    invalid = (
        Example(
            """
            import time

            def test_worker_drains_queue_after_start():
                start_worker()
                time.sleep(2)
                assert queue.empty()
            """,
            path="tests/test_worker.py",
            expect=1,
        ),
        Example(
            """
            import asyncio
            import pytest

            @pytest.fixture
            async def server():
                task = asyncio.create_task(serve())
                await asyncio.sleep(0.5)
                yield task
            """,
            path="tests/conftest.py",
            expect=1,
        ),
        Example(
            """
            from time import sleep
            from django.test import TestCase

            class CacheExpiryTests(TestCase):
                def test_entry_expires_after_ttl(self):
                    cache.set("k", 1, timeout=1)
                    sleep(1.1)
                    self.assertIsNone(cache.get("k"))
            """,
            path="app/tests/test_cache.py",
            expect=1,
        ),
    )
    valid = (
        Example(
            """
            import asyncio

            async def test_worker_yields_to_other_tasks():
                await asyncio.sleep(0)
            """,
            path="tests/test_worker.py",
        ),
        Example(
            """
            import time
            import pytest

            @pytest.mark.integration
            def test_worker_drains_real_queue():
                start_worker()
                time.sleep(2)
            """,
            path="tests/test_worker.py",
        ),
        Example(
            """
            import time
            import pytest

            pytestmark = [pytest.mark.slow]

            def test_worker_drains_real_queue():
                time.sleep(2)
            """,
            path="tests/test_worker.py",
        ),
        Example(
            """
            import time

            def test_worker_drains_queue_after_start():
                start_worker()
                deadline = time.monotonic() + 5
                while not queue.empty() and time.monotonic() < deadline:
                    time.sleep(0.05)
                assert queue.empty()
            """,
            path="tests/test_worker.py",
        ),
        Example(
            """
            import time

            def test_retry_gives_up_after_three_attempts(monkeypatch):
                monkeypatch.setattr(time, "sleep", lambda seconds: None)
                assert fetch_with_retry() is None
                time.sleep(1)
            """,
            path="tests/test_retry.py",
        ),
        Example(
            """
            import time

            def wait_a_bit():
                time.sleep(1)
            """,
            path="tests/helpers.py",
        ),
    )

    def begin_file(self, ctx: FileContext) -> None:
        super().begin_file(ctx)
        self._polling: dict[int, bool] = {}

    def wanted(self, qualified: str) -> bool:
        return qualified in SLEEPS

    def check(self, function: TestFunction, sites: Sequence[CallSite], guards: Guards) -> None:
        if guards.markers & set(self.str_list_option("allow-sleep-markers")):
            return
        for site in sites:
            if site.patched or _yields(site.node) or any(map(self._is_polling, site.loops)):
                continue
            self.report(
                site.node,
                f"`{_shown(site)}` in {kind_label(function)} waits a fixed time instead of "
                "for a condition: slow, and flaky when the wait is too short",
                conditions=function.requires,
            )

    def _is_polling(self, loop: cst.For | cst.While) -> bool:
        key = id(loop)
        if key not in self._polling:
            self._polling[key] = _polls(loop)
        return self._polling[key]


def _polls(loop: cst.For | cst.While) -> bool:
    """A loop that waits for something: ``while <condition>``, or one it can leave early."""
    if isinstance(loop, cst.While) and not _always_true(loop.test):
        return True
    return any(
        isinstance(node, (cst.Break, cst.Return))
        for node in iter_descendants(loop.body, into_functions=False)
    )


def _always_true(test: cst.BaseExpression) -> bool:
    if isinstance(test, cst.Name):
        return test.value == "True"
    return isinstance(test, cst.Integer) and test.value != "0"


def _delay(node: cst.Call) -> cst.BaseExpression | None:
    for arg in node.args:
        if arg.keyword is None and not arg.star:
            return arg.value
    return next((arg.value for arg in node.args if arg.keyword is not None), None)


def _yields(node: cst.Call) -> bool:
    """``sleep(0)``: a yield to other tasks or threads, not a wait."""
    delay = _delay(node)
    if isinstance(delay, (cst.Integer, cst.Float)):
        return float(delay.value.replace("_", "")) == 0
    return False


def _shown(site: CallSite) -> str:
    """``time.sleep(2)``, ``asyncio.sleep(DELAY)``, ``time.sleep(...)``."""
    name = shown_name(site.node.func, site.qualified)
    delay = _delay(site.node)
    written = "" if delay is None else cst.Module([]).code_for_node(delay)
    if len(written) > _MAX_SHOWN:
        written = "..."
    return f"{name}({written})"
