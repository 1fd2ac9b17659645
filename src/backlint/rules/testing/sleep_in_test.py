from __future__ import annotations

from collections.abc import Iterator, Sequence

import libcst as cst

from backlint.diagnostics import Severity
from backlint.engine.context import FileContext
from backlint.engine.walker import iter_children, iter_descendants
from backlint.index.testcode import TestFunction
from backlint.rules.base import Example, Option
from backlint.rules.dependencies.implicit_calls import shown_name
from backlint.rules.testing.flow import is_assertion_call
from backlint.rules.testing.protection import (
    CHECK_HELPERS,
    CallInTestRule,
    CallSite,
    Guards,
    kind_label,
)
from backlint.rules.testing.verdicts import SLEEPS, delay, in_fake, polls, yields

_NO_CALL_ASSERTIONS = frozenset({"assert_not_called", "assert_not_awaited"})
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
      Django's `@tag("<name>")`;
    - a sleep inside a fake the test hands to the code under test (`side_effect=slow`,
      `return_value={"job": slow_task}`, an event listener, a decorated task, a method of
      a class the test defines): it simulates a slow collaborator, the code waits and the
      test does not. A nested function the test calls itself
      (`asyncio.create_task(publish())`) or starts in a thread is the test's own wait
      and is flagged.

    A sleep after which the test only checks that something did *not* happen (a mock
    not called: `assert_not_called()`, `assert not m.called`, `call_count == 0`; a value
    unchanged since before the sleep) gets its own message: a wait that is too short
    does not make such a test fail, it makes it pass without proving anything.

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
    FastAPI template, polar) have few sleeps in tests: mealie's `time.sleep(0.25)` in a
    fixture "so we can test datetime filters", which a frozen clock moved between
    inserts would replace; polar's waits for a watchdog thread, half of them before
    `assert_not_called()`; and polar's fakes (`slow_task` handed to a task registry,
    `slow_agent` as a `side_effect`, a query listener) that simulate slowness for a
    timeout test, which are not waits. Sleeps in polling loops are left alone since
    polling is this rule's advice; helpers are only checked with `check-helpers`.
    """

    code = "BL702"
    name = "sleep-in-test"
    summary = "A test sleeps for a fixed time instead of waiting for a condition."
    fix_text = "Poll with a timeout or inject a fake clock."
    severity = Severity.WARNING
    # Below the precision bar on code it was not tuned on (docs/precision.md): it runs
    # when selected by its code or name, or with `preview = true`.
    default_enabled = False
    preview = True
    tags = ("tests", "AP-PY02", "PQG-4")
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
        # A coroutine of the test itself, started by the test.
        Example(
            """
            import asyncio

            async def test_subscriber_receives_published_message(redis):
                async def publish_after_subscribe():
                    await asyncio.sleep(0.1)
                    await redis.publish("channel", "msg")

                task = asyncio.create_task(publish_after_subscribe())
                messages = [m async for m in subscribe(redis, "channel", limit=1)]
                await task
                assert messages == ["msg"]
            """,
            path="tests/test_stream.py",
            expect=1,
        ),
        # Proves that nothing happened: its own message.
        Example(
            """
            import time
            from unittest.mock import patch

            def test_healthy_loop_triggers_no_dump(watchdog):
                with patch.object(Watchdog, "dump") as dump:
                    watchdog.start()
                    time.sleep(0.3)
                    watchdog.stop()
                    dump.assert_not_called()
            """,
            path="tests/test_watchdog.py",
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
        # Fakes that simulate a slow collaborator for a timeout test.
        Example(
            """
            import asyncio
            import time
            from unittest.mock import patch

            async def test_timeout_returns_error(mocker):
                async def slow_agent(url):
                    await asyncio.sleep(999)

                mocker.patch("app.collect.run_agent", side_effect=slow_agent)
                assert (await collect("https://example.com")).error == "timeout"

            def test_slow_queries_stay_in_budget(engine):
                class SlowCursor:
                    def execute(self, sql):
                        time.sleep(0.075)

                def count_queries(*args):
                    time.sleep(0.075)

                listen(engine, "before_cursor_execute", count_queries)
                assert seed(engine, cursor=SlowCursor()) is True
            """,
            path="tests/test_timeouts.py",
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
        waits = [
            site
            for site in sites
            if not (
                site.patched
                or yields(site.node)
                or any(map(self._is_polling, site.loops))
                or in_fake(site.nested, function.node)
            )
        ]
        negative = _negative_waits(function.node, [site.node for site in waits])
        for site in waits:
            if id(site.node) in negative:
                message = (
                    f"`{_shown(site)}` in {kind_label(function)} waits a fixed time before "
                    "checking that something did not happen: when the wait is too short the "
                    "check passes without proving anything, and every run pays for the wait"
                )
            else:
                message = (
                    f"`{_shown(site)}` in {kind_label(function)} waits a fixed time instead "
                    "of for a condition: slow, and flaky when the wait is too short"
                )
            self.report(site.node, message, conditions=function.requires)

    def _is_polling(self, loop: cst.For | cst.While) -> bool:
        key = id(loop)
        if key not in self._polling:
            self._polling[key] = polls(loop)
        return self._polling[key]


def _negative_waits(test: cst.FunctionDef, sleeps: Sequence[cst.Call]) -> frozenset[int]:
    """The sleeps after which every check of the test (up to the next sleep) says that
    something did *not* happen: a mock not called (``assert_not_called()``, ``assert not
    m.called``, ``call_count == 0``) or a value unchanged since before the sleep
    (``assert seat.revoked_at == first_revoked_at``)."""
    wanted = {id(call) for call in sleeps}
    found: set[int] = set()
    current: int | None = None
    bound: set[str] = set()  # names assigned so far
    before: set[str] = set()  # names assigned before the current sleep
    checks: list[bool] = []

    def close() -> None:
        if current is not None and checks and all(checks):
            found.add(current)

    for statement in _small_statements(test.body):
        sleep = next((id(n) for n in iter_descendants(statement) if id(n) in wanted), None)
        if sleep is not None:
            close()
            current, checks = sleep, []
            before = set(bound)
        if current is not None:
            checks += [_says_nothing_happened(c, before) for c in _checks(statement)]
        bound |= _assigned(statement)
    close()
    return frozenset(found)


def _small_statements(body: cst.CSTNode) -> Iterator[cst.BaseSmallStatement]:
    """The simple statements of a body in source order, through compound statements but
    not into nested functions or classes."""
    for child in iter_children(body):
        if isinstance(child, (cst.FunctionDef, cst.ClassDef)):
            continue
        if isinstance(child, cst.BaseSmallStatement):
            yield child
        else:
            yield from _small_statements(child)


def _checks(statement: cst.BaseSmallStatement) -> list[cst.CSTNode]:
    """The assertions of a statement: an ``assert``, or calls named ``assert*``."""
    if isinstance(statement, cst.Assert):
        return [statement]
    return [
        node
        for node in iter_descendants(statement)
        if isinstance(node, cst.Call) and is_assertion_call(node)
    ]


def _says_nothing_happened(check: cst.CSTNode, before: set[str]) -> bool:
    if isinstance(check, cst.Assert):
        test = check.test
    else:
        assert isinstance(check, cst.Call)
        name = check.func.attr.value if isinstance(check.func, cst.Attribute) else ""
        if name in _NO_CALL_ASSERTIONS:
            return True
        arguments = [arg.value for arg in check.args if arg.keyword is None]
        if name == "assertFalse" and arguments:
            return _reads_called(arguments[0])
        if name == "assertEqual" and len(arguments) == 2:
            return _unchanged(arguments[0], arguments[1], before) or any(
                _is_zero(a) and _reads_call_count(b) for a, b in (arguments, arguments[::-1])
            )
        return False
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return _reads_called(test.expression)
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        target = test.comparisons[0]
        if not isinstance(target.operator, (cst.Equal, cst.Is)):
            return False
        left, right = test.left, target.comparator
        return _unchanged(left, right, before) or any(
            _is_zero(a) and _reads_call_count(b) for a, b in ((left, right), (right, left))
        )
    return False


def _reads_called(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Attribute) and node.attr.value in ("called", "await_count")


def _reads_call_count(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Attribute) and node.attr.value in ("call_count", "await_count")


def _is_zero(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Integer) and node.value == "0"


def _unchanged(left: cst.BaseExpression, right: cst.BaseExpression, before: set[str]) -> bool:
    """``x.stamp == first_stamp``: a value read again, equal to one kept from before."""
    return any(
        isinstance(kept, cst.Name) and kept.value in before and not isinstance(read, cst.Name)
        for kept, read in ((left, right), (right, left))
    )


def _assigned(statement: cst.BaseSmallStatement) -> set[str]:
    targets: list[cst.BaseExpression] = []
    if isinstance(statement, cst.Assign):
        targets = [target.target for target in statement.targets]
    elif isinstance(statement, (cst.AnnAssign, cst.AugAssign)):
        targets = [statement.target]
    return {target.value for target in targets if isinstance(target, cst.Name)}


def _shown(site: CallSite) -> str:
    """``time.sleep(2)``, ``asyncio.sleep(DELAY)``, ``time.sleep(...)``."""
    name = shown_name(site.node.func, site.qualified)
    given = delay(site.node)
    written = "" if given is None else cst.Module([]).code_for_node(given)
    if len(written) > _MAX_SHOWN:
        written = "..."
    return f"{name}({written})"
