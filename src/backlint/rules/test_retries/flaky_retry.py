from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst
import pathspec

from backlint.diagnostics import Applicability, Position, Severity, Span
from backlint.engine.context import FileContext, TextContext
from backlint.engine.walker import iter_children
from backlint.index.names import dotted_name
from backlint.index.testcode import TestFunction
from backlint.index.textfiles import PYTEST_CONFIG
from backlint.rules.base import Condition, Example, FileRule, Option, TextFinding, TextRule
from backlint.rules.test_retries.nondeterminism import listed, nondeterministic_calls, written
from backlint.rules.test_retries.rerun_options import find_rerun_options
from backlint.rules.testing.protection import (
    Guards,
    body_guards,
    class_guards,
    decorator_guards,
    parameter_names,
)

if TYPE_CHECKING:
    from backlint.index.project import ProjectIndex

FLAKY_MARKS = frozenset({"pytest.mark.flaky", "flaky.flaky", "flaky.flaky_decorator.flaky"})
RETRY_DECORATORS = frozenset({"tenacity.retry", "backoff.on_exception", "backoff.on_predicate"})
# Packages that define no project marks: a decorator imported from one needs no look at
# the project's bindings.
_LIBRARIES = frozenset(
    {
        "pytest",
        "_pytest",
        "pytest_django",
        "pytest_asyncio",
        "mock",
        "asynctest",
        "django",
        "rest_framework",
        "flask",
        "fastapi",
        "sqlalchemy",
        "freezegun",
        "time_machine",
        "hypothesis",
        "celery",
        "responses",
        "respx",
        "parameterized",
        "ddt",
        "tenacity",
        "backoff",
        "flaky",
        *sys.stdlib_module_names,
    }
)
_PYTESTMARK = "pytestmark"


def _retry_kind(qualified: str) -> str | None:
    """``reruns`` for a rerun mark, ``retries`` for a retry decorator, else None."""
    if qualified in FLAKY_MARKS:
        return "reruns"
    if qualified in RETRY_DECORATORS:
        return "retries"
    return None


@dataclass(frozen=True)
class IsRetryMark:
    """``qualified`` is a project module's name for a rerun mark or retry decorator
    (``unstable = pytest.mark.flaky(reruns=3)`` in ``tests/marks.py``)."""

    qualified: str

    def holds(self, project: ProjectIndex) -> bool:
        binding = project.binding(self.qualified)
        return (
            binding is not None
            and binding.shape in ("alias", "call", "import")
            and _retry_kind(binding.target) is not None
        )


@dataclass(frozen=True)
class _Retry:
    """A retry found in the file: how it is shown, its verb and its conditions."""

    shown: str  # as the message shows it, in Markdown: "`@flaky`"
    verb: str
    conditions: tuple[Condition, ...]


class FlakyRetryMasksNondeterminism(FileRule, TextRule):
    """
    ## What it does
    Flags retries of failing tests in test code: decorators that resolve to
    `pytest.mark.flaky` (pytest-rerunfailures and pytest-retry, with any arguments) or to
    `flaky` of the `flaky` package, on a test or a test class; a `pytestmark` of a module
    or a test class that contains such a mark; a `pytest.param(..., marks=...)` case with
    one; and `tenacity.retry`, `backoff.on_exception` or `backoff.on_predicate` on a test.
    A mark bound to a name first (`unstable = pytest.mark.flaky(reruns=3)`, in the same
    file or in another module of the project) is recognised where it is used. When the
    retried test itself makes calls that BL701/BL702 report (a clock read or a random
    draw that an assertion compares exactly, a fixed sleep of the test), the message
    names them as the likely cause; calls those rules leave alone (a generated id, a
    clock read handed to the code, a sleep in a fake or a polling loop) are not named.

    The same retries switched on for the whole suite in the `addopts` of the pytest
    configuration (`pyproject.toml`, `pytest.ini`, `setup.cfg`, `tox.ini`) are reported
    too: `--reruns N`, `--retries N`, `--force-flaky` and `--max-runs N`, but not
    `--reruns 0`, `--retries 0` or `--max-runs 1`, which retry nothing, nor the options
    that only tune a retry (`--reruns-delay`, `--only-rerun`): one finding per retry
    policy is enough.

    ## Why is this bad?
    A test that fails now and then is telling you about nondeterminism: in the test (a
    real clock, an unseeded random value, a sleep that is too short) or in the code (a
    race, an ordering assumption). A retry makes the suite green without removing the
    cause, so the failure comes back in production or grows until the retries are not
    enough, and every retried test slows the suite down.

    ## Example
    ```python
    @pytest.mark.flaky(reruns=3)
    def test_sync_completes():
        start_sync()
        time.sleep(2)
        assert sync_status() == "done"
    ```

    Use instead:
    ```python
    def test_sync_completes(fake_clock):
        start_sync(clock=fake_clock)
        fake_clock.advance(seconds=2)
        assert sync_status() == "done"
    ```

    ## How to fix
    Remove the retry and fix the nondeterminism: freeze or inject the clock, seed or
    inject the random generator, use fixed ids, and poll with a timeout instead of
    sleeping (see BL701 and BL702). Suites that talk to real external systems can list
    their paths in `allow-paths` (`tests/e2e/**`); a single retry kept on purpose takes a
    waiver with a ticket on its line: `# backlint: allow BL721 PROJ-123`.

    An **unsafe** automatic fix removes a retry decorator (the line it is on). It does not
    change the code, but a test that was being retried may then fail the build, so it
    waits for `--unsafe-fixes`. Retries in `pytestmark`, `pytest.param` marks and
    `addopts` are left to you.

    Calibration: `pytest.mark.flaky` is reported whatever its arguments, since every
    form of it reruns a failing test. Retry decorators (`tenacity`, `backoff`) are only
    reported on tests, because on a helper they usually implement polling, which is the
    fix. Marks on fixtures and helpers, and a `pytestmark` in a module without tests
    (a `conftest.py`), are not reported: pytest ignores them. A finding on a multi-line
    `pytestmark` covers its first line, where the waiver goes. The causes named in the
    message are decided as BL701 and BL702 decide them, with their default options, on
    the retried tests' bodies: a message that blamed `uuid4()` used for unique test data,
    or a clock read only handed to the code, sent reviewers after a cause the test does
    not have. None of the nine real projects used for calibration retries tests, and the
    rule reports nothing on them.
    """

    code = "BL721"
    name = "flaky-retry-masks-nondeterminism"
    summary = "A test is retried until it passes instead of having its nondeterminism fixed."
    fix_text = "Remove the retry; fix the nondeterminism (see BL701/BL702)."
    severity = Severity.ERROR
    # Below the precision bar on code it was not tuned on (docs/precision.md): it runs
    # when selected by its code or name, or with `preview = true`.
    default_enabled = False
    preview = True
    autofix = "unsafe (retry decorators)"
    tags = ("testing", "reliability", "PQG-4")
    include_tests = True
    options = (
        Option(
            "allow-paths",
            (),
            "Test files where retries are accepted (gitignore-style globs, e.g. `tests/e2e/**`).",
        ),
    )
    invalid = (
        Example(
            """
            import pytest

            @pytest.mark.flaky(reruns=3)
            def test_sync_completes():
                ...
            """,
            path="tests/test_sync.py",
            expect=1,
        ),
        Example(
            """
            import pytest

            class TestSync:
                # the nightly job is slow
                @pytest.mark.flaky(reruns=3)  # PROJ-7
                @pytest.mark.slow
                def test_sync_completes(self):
                    ...
            """,
            path="tests/test_sync.py",
            expect=1,
            fixed="""
            import pytest

            class TestSync:
                # the nightly job is slow
                @pytest.mark.slow
                def test_sync_completes(self):
                    ...
            """,
        ),
        Example(
            """
            import pytest

            pytestmark = pytest.mark.flaky(retries=2)

            def test_export():
                ...
            """,
            path="tests/test_export.py",
            expect=1,
        ),
        # The message names the sleep; the clock read only feeds the code under test.
        Example(
            """
            import time
            from datetime import datetime
            from flaky import flaky

            @flaky(max_runs=3)
            def test_worker_drains_queue():
                start = datetime.now()
                time.sleep(2)
                assert drained_since(start)
            """,
            path="tests/test_worker.py",
            expect=1,
        ),
        Example(
            """
            import pytest
            from tenacity import retry, stop_after_attempt

            class TestUpload:
                pytestmark = [pytest.mark.slow, pytest.mark.flaky]

                @retry(stop=stop_after_attempt(3))
                def test_upload(self):
                    ...
            """,
            path="tests/test_upload.py",
            expect=2,
        ),
        # A mark named in another module of the project.
        Example(
            """
            from tests.marks import unstable

            @unstable
            def test_search():
                ...
            """,
            path="tests/test_search.py",
            files=(("tests/marks.py", "import pytest\nunstable = pytest.mark.flaky(reruns=2)\n"),),
            expect=1,
        ),
    )
    valid = (
        Example(
            """
            import pytest

            @pytest.mark.slow
            def test_big_import():
                ...

            @pytest.mark.parametrize("n", [1, 2])
            def test_x(n):
                ...
            """,
            path="tests/test_import.py",
        ),
        # Polling in a helper is the fix, not a retry of the test.
        Example(
            """
            from tenacity import retry, stop_after_delay

            @retry(stop=stop_after_delay(5))
            def wait_until_ready(client):
                assert client.get("/health").status_code == 200

            def test_ready(client):
                wait_until_ready(client)
            """,
            path="tests/test_health.py",
        ),
        Example(
            """
            from tests.marks import slow

            @slow
            def test_search():
                ...
            """,
            path="tests/test_search.py",
            files=(("tests/marks.py", "import pytest\nslow = pytest.mark.slow\n"),),
        ),
        # Not test code.
        Example(
            """
            import backoff

            @backoff.on_exception(backoff.expo, ConnectionError, max_tries=5)
            def test_connection(url):
                ...
            """,
            path="app/services/health.py",
        ),
    )

    text_kinds = frozenset({PYTEST_CONFIG})

    def check_text(self, ctx: TextContext) -> Iterator[TextFinding]:
        """Rerun options in the ``addopts`` of a pytest configuration file."""
        for line, start, end, option in find_rerun_options(ctx.name, ctx.text):
            yield TextFinding(
                Span(Position(line, start), Position(line, end)),
                f"`{option}` in the pytest options of `{ctx.name}` reruns failing tests "
                "until they pass: the whole suite hides its nondeterminism instead of "
                "fixing it",
            )

    def applies_to(self, ctx: FileContext) -> bool:
        if not ctx.is_test or self._allowed.match_file(ctx.relative):
            return False
        return super().applies_to(ctx)

    @property
    def _allowed(self) -> pathspec.GitIgnoreSpec:
        spec = getattr(self, "_allow_spec", None)
        if spec is None:
            spec = pathspec.GitIgnoreSpec.from_lines(self.str_list_option("allow-paths"))
            self._allow_spec = spec
        return spec

    def begin_file(self, ctx: FileContext) -> None:
        super().begin_file(ctx)
        self._scopes: list[cst.CSTNode] = []

    # -- where we are --

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._scopes.pop()

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self._scopes.pop()

    # -- decorators of tests and test classes --

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._scopes.append(node)
        test = self.ctx.test_functions.get(id(node))
        if test is None or test.kind != "test":
            return
        subject = f"test `{test.qualname}`"
        for decorator in node.decorators:
            retry = self._retry(decorator.decorator, f"`@{written(decorator.decorator)}`")
            if retry is not None:
                self._report(decorator, retry, subject, [test], test.requires, removable=True)
            for mark in _param_marks(decorator.decorator):
                retry = self._retry(mark, f"`{written(mark)}`", marks_only=True)
                if retry is not None:
                    self._report(mark, retry, f"a parametrized case of {subject}", [test], ())

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        top = not self._scopes
        self._scopes.append(node)
        tests = self._tests(node) if top else []
        if not tests:
            return
        for decorator in node.decorators:
            retry = self._retry(decorator.decorator, f"`@{written(decorator.decorator)}`")
            if retry is not None:
                subject = f"every test of `{node.name.value}`"
                self._report(decorator, retry, subject, tests, tests[0].requires, removable=True)

    # -- pytestmark --

    def visit_Assign(self, node: cst.Assign) -> None:
        if any(_is_pytestmark(target.target) for target in node.targets):
            self._pytestmark(node, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None and _is_pytestmark(node.target):
            self._pytestmark(node, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if _is_pytestmark(node.target):
            self._pytestmark(node, node.value)

    def _pytestmark(self, node: cst.BaseSmallStatement, value: cst.BaseExpression) -> None:
        requires: tuple[Condition, ...] = ()
        if not self._scopes:
            # A module without tests (a ``conftest.py``: pytest ignores its pytestmark)
            # reruns nothing.
            tests = [t for t in self.ctx.test_functions.values() if t.kind == "test"]
            if not tests:
                return
            subject = "every test of this module"
        elif len(self._scopes) == 1 and isinstance(self._scopes[0], cst.ClassDef):
            owner = self._scopes[0]
            tests = self._tests(owner)
            if not tests:
                return
            subject, requires = f"every test of `{owner.name.value}`", tests[0].requires
        else:
            return  # a local variable of a function: no mark
        for mark in _elements(value):
            retry = self._retry(mark, f"`{written(mark)}` in `pytestmark`", marks_only=True)
            if retry is not None:
                self._report(node, retry, subject, tests, requires, first_line=True)
                return

    # -- helpers --

    def _tests(self, node: cst.ClassDef) -> list[TestFunction]:
        return [
            t for t in self.ctx.test_functions.values() if t.class_node is node and t.kind == "test"
        ]

    def _retry(
        self, expression: cst.BaseExpression, shown: str, *, marks_only: bool = False
    ) -> _Retry | None:
        """What ``expression`` is when it retries a test: a rerun mark or a retry
        decorator, directly, through a module-level name of this file, or through a
        name imported from a project module (then checked in the project pass)."""
        callee = expression.func if isinstance(expression, cst.Call) else expression
        qualified = self.ctx.qualified_name(callee)
        written_name = dotted_name(callee)
        if qualified is None or written_name is None:
            return None
        kind = _retry_kind(qualified)
        binding = self.ctx.bindings.get(written_name)
        if kind is None and binding is not None and binding.shape in ("alias", "call"):
            kind = _retry_kind(binding.target)
        if kind is not None:
            if marks_only and kind != "reruns":
                return None
            return _Retry(shown, kind, ())
        head = written_name.split(".", 1)[0]
        imported = self.ctx.names.imported(head)
        if imported is None or imported.split(".", 1)[0] in _LIBRARIES:
            return None
        return _Retry(shown, "reruns", (IsRetryMark(qualified),))

    def _report(
        self,
        node: cst.CSTNode,
        retry: _Retry,
        subject: str,
        tests: Sequence[TestFunction],
        requires: Sequence[Condition],
        *,
        first_line: bool = False,
        removable: bool = False,
    ) -> None:
        """Report a retry; ``removable`` for a decorator, which the (unsafe) fix deletes."""
        message = f"{retry.shown} {retry.verb} {subject} until it passes"
        causes, culprit = self._causes(tests)
        if causes:
            who = "the test" if len(tests) == 1 else f"`{culprit}`"
            message += (
                f", and {who} calls {listed(causes)} (BL701/BL702): the retry hides that "
                "nondeterminism instead of fixing it"
            )
        else:
            message += ": a retry hides intermittent failures instead of fixing their cause"
        conditions = (*requires, *retry.conditions)
        fix = None
        if removable:
            # Unsafe: the code is unchanged, but a test that was retried may now fail CI.
            fix = self.fix(
                f"Remove {retry.shown}",
                self.remove_lines(node),
                applicability=Applicability.UNSAFE,
            )
        self.report(node, message, conditions=conditions, first_line=first_line, fix=fix)

    def _causes(self, tests: Sequence[TestFunction]) -> tuple[list[str], str]:
        """The calls BL701/BL702 report in the first test that has some, and its name."""
        names = self.ctx.names
        module = body_guards(self.ctx.tree.body, names)
        for test in tests:
            guards = module.merge(decorator_guards(test.node.decorators, names))
            if test.class_node is not None:
                guards = guards.merge(class_guards(test.class_node, names))
            guards = guards.merge(Guards(fixtures=parameter_names(test.node)))
            found = nondeterministic_calls(test, names, guards)
            if found:
                return found, test.qualname
        return [], ""


def _is_pytestmark(target: cst.BaseExpression) -> bool:
    return isinstance(target, cst.Name) and target.value == _PYTESTMARK


def _elements(value: cst.BaseExpression) -> list[cst.BaseExpression]:
    """``[a, b]`` or ``(a, b)`` gives ``[a, b]``; a single mark gives itself."""
    if isinstance(value, (cst.List, cst.Tuple)):
        return [e.value for e in value.elements if isinstance(e, cst.Element)]
    return [value]


def _param_marks(expression: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
    """The marks of ``pytest.param(..., marks=...)`` cases inside a ``parametrize``."""
    if not isinstance(expression, cst.Call):
        return
    stack: list[cst.CSTNode] = list(expression.args)
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Arg) and node.keyword is not None and node.keyword.value == "marks":
            yield from _elements(node.value)
            continue
        stack.extend(iter_children(node))
