from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

from backlint.diagnostics import Severity
from backlint.engine.context import FileContext
from backlint.index.names import dotted_name
from backlint.rules.asyncio_rules.blocking_match import (
    bind,
    call_suggestion,
    module_paths,
    parameter_types,
)
from backlint.rules.asyncio_rules.entry_points import SCRIPT_PATHS_OPTION, EntryPoints, script_spec
from backlint.rules.asyncio_rules.indirect_chain import blocking_chain, project_callee
from backlint.rules.base import Example, FileRule, Option

if TYPE_CHECKING:
    from backlint.index.project import ProjectIndex

_MARKER = "{chain}"


@dataclass(frozen=True)
class ReachesBlockingCall:
    """The project function ``callee`` is a plain ``def`` whose body, or the body of a
    project function it calls, makes a blocking call; the message learns the chain."""

    callee: str
    patterns: tuple[str, ...]

    def holds(self, project: ProjectIndex) -> bool:
        return blocking_chain(project, self.callee, self.patterns) is not None

    def refine(self, message: str, project: ProjectIndex) -> str:
        chain = blocking_chain(project, self.callee, self.patterns)
        return message if chain is None else message.replace(_MARKER, chain.describe())


@dataclass
class _Frame:
    """One function, lambda or class body being walked."""

    is_async: bool
    name: str
    # Local name -> qualified type (``svc = ReportService()``, ``svc: ReportService``).
    local: dict[str, str] = field(default_factory=dict)
    # For a top-level class: its qualified name. For one of its methods: the class,
    # which is what ``self.x()`` refers to.
    owner: str | None = None
    is_class: bool = False
    handlers: int = 0  # depth of ``except`` blocks: error paths, not the default one


_REPORTS = """
import time

def _fetch(report_id):
    time.sleep(1)
    return {"id": report_id}

def load_report(report_id):
    return _fetch(report_id)
"""


class IndirectBlockingCallInAsync(FileRule):
    """
    ## What it does
    Flags a call, made directly inside an `async def` and not awaited, to a plain `def`
    of the project that blocks: its body, or the body of a project function it calls
    directly, makes a call that `blocking-call-in-async` (BL501) flags (`time.sleep`,
    `requests.get`, `open`, a sync SQLAlchemy `Session` method, ...). The message names
    the chain of functions down to the blocking call.

    Functions are found through the project's imports and re-exports, in any module:
    `load_report()` imported from another module, `ReportService.load()`,
    `svc.load()` with `svc = ReportService()` or `svc: ReportService`, a module-level
    instance, and `self.load()` in a method (methods of project base classes too). As
    in BL501, only the innermost function counts (a nested `def`, a `lambda` or a class
    body is not the async function) and passing a function by reference
    (`await asyncio.to_thread(load_report, 1)`) is not a call.

    ## Why is this bad?
    A blocking call hidden one or two calls down stalls the event loop as surely as one
    written in the handler, and nothing in the handler shows it: every other request
    the worker serves waits for it.

    ## Example
    ```python
    # app/reports.py
    def load_report(report_id: int) -> dict:
        return requests.get(f"{URL}/{report_id}").json()

    # app/routes.py
    async def export(report_id: int) -> dict:
        return load_report(report_id)
    ```

    Use instead:
    ```python
    async def export(report_id: int) -> dict:
        return await asyncio.to_thread(load_report, report_id)
    ```

    ## How to fix
    Run the function in a thread (`await asyncio.to_thread(fn, ...)`, or
    `run_in_threadpool` in Starlette), make the handler a plain `def` (FastAPI runs it
    in a threadpool), or make the callee async all the way down. Add your own blocking
    functions with `blocking-calls`, in BL501's format.

    ## What it leaves alone
    - Calls on a branch that does not run by default are no evidence: the body of
      `if settings.X:`, `if DEBUG:` or `if flag:` / `if flag is not None:` where `flag`
      is a parameter defaulting to `False`, `None` or `0` (and the `else` of
      `if not flag:`), and `except` blocks. A call the async function itself makes in
      an `except` block (a fallback on failure) is not reported either.
    - Test code: a test's event loop serves no one else.
    - As in BL501, startup and shutdown hooks (lifespans, `on_event("startup")`) and
      scripts and commands (`script-paths`, `if __name__ == "__main__":`,
      `asyncio.run(...)`, click/typer commands) are not on the serving loop's hot path.

    This rule is in preview and off by default: it follows calls two levels deep only,
    does not look into class constructors (`__init__`) or calls through attributes it
    cannot type (`self.repo.get()`), and a branch that depends on the call's arguments
    (rather than on a default or a setting) still counts.

    Calibration (mealie, dispatch, full-stack-fastapi-template): inside the callee, a
    name bound to the result of a project function annotated `-> Session` counts as a
    sync session, as a parameter annotated `Session` does in BL501; this found
    dispatch's Slack endpoints querying the database through a helper. The same return
    annotations type `get_service().load()`. Calls that BL501 already reports (a
    `blocking-calls` pattern matching a project function) are left to it.
    """

    code = "BL503"
    name = "indirect-blocking-call-in-async"
    summary = "An `async def` calls a project function that blocks the event loop."
    fix_text = (
        "Call it through `await asyncio.to_thread(fn, ...)`, make the caller a sync `def`, "
        "or make the callee async."
    )
    severity = Severity.WARNING
    include_tests = False
    default_enabled = False
    preview = True
    tags = ("performance", "AP-PY10", "PQG-6")
    options = (
        Option(
            "blocking-calls",
            (),
            "Extra blocking calls as `pattern -> suggestion` entries, as in BL501's option "
            "of the same name (fnmatch patterns over qualified names).",
        ),
        SCRIPT_PATHS_OPTION,
    )
    invalid = (
        # A branch taken by default still counts (``auto_unlink=True``).
        Example(
            """
            import shutil
            from contextlib import contextmanager

            @contextmanager
            def temporary_path(path, auto_unlink=True):
                try:
                    yield path
                finally:
                    if auto_unlink:
                        shutil.rmtree(path)

            async def upload(path):
                with temporary_path(path) as folder:
                    return folder
            """,
            expect=1,
        ),
        # ``time.sleep`` two calls deep, in the same module.
        Example(
            """
            import time

            def _fetch(report_id):
                time.sleep(1)

            def load_report(report_id):
                return _fetch(report_id)

            async def export(report_id):
                return load_report(report_id)
            """,
            expect=1,
        ),
        # A function of another module, reached through a package re-export.
        Example(
            """
            from app.reports import load_report

            async def export(report_id):
                data = load_report(report_id)
                return data
            """,
            files=(
                ("app/reports/__init__.py", "from app.reports.core import load_report\n"),
                ("app/reports/core.py", _REPORTS),
            ),
            expect=1,
        ),
        # Methods: through an instance, a parameter's type and ``self``.
        Example(
            """
            import requests

            class ReportService:
                def load(self, report_id):
                    return requests.get(f"/reports/{report_id}").json()

                async def export(self, report_id):
                    return self.load(report_id)

            async def export(report_id, service: ReportService):
                first = ReportService().load(report_id)
                return first, service.load(report_id)
            """,
            expect=3,
        ),
        # A sync SQLAlchemy session used by a helper.
        Example(
            """
            from sqlalchemy.orm import Session

            def count_users(session: Session) -> int:
                return session.scalar(q)

            async def stats(session):
                return {"users": count_users(session)}
            """,
            expect=1,
        ),
    )
    valid = (
        # The blocking call only runs when a setting or an optional argument asks for it.
        Example(
            """
            import time
            from app.core.config import settings

            def _audit(order_id):
                if settings.AUDIT_EXPORTS:
                    time.sleep(1)
                return order_id

            def load_report(report_id, debug=False, dump_to=None):
                if debug:
                    time.sleep(1)
                if dump_to is not None:
                    open(dump_to, "w").write(str(report_id))
                return _audit(report_id)

            async def export(report_id):
                return load_report(report_id)
            """,
        ),
        # Error paths: a retry in the callee, a fallback in the caller.
        Example(
            """
            import time
            from pathlib import Path

            def load_fallback():
                return Path("policy.md").read_text()

            def load_rates(client):
                try:
                    return client.rates()
                except ConnectionError:
                    time.sleep(1)

            async def policy(download, client):
                rates = load_rates(client)
                try:
                    return await download(), rates
                except OSError:
                    return load_fallback(), rates
            """,
        ),
        # Test code.
        Example(
            """
            import time

            def wait():
                time.sleep(1)

            async def test_worker():
                wait()
            """,
            path="tests/test_worker.py",
        ),
        # Startup: the lifespan waits for the database before serving.
        Example(
            """
            import time
            from contextlib import asynccontextmanager

            def wait_for_db():
                time.sleep(1)

            @asynccontextmanager
            async def lifespan_fn(app):
                wait_for_db()
                yield
            """,
            path="app/app.py",
        ),
        # The callee is async: calling it makes a coroutine, it does not run its body.
        Example(
            """
            import time

            async def load_report(report_id):
                time.sleep(1)

            async def export(report_id):
                task = load_report(report_id)
                return await task
            """,
        ),
        # Passed by reference to a thread.
        Example(
            """
            import asyncio
            from app.reports import load_report

            async def export(report_id):
                return await asyncio.to_thread(load_report, report_id)
            """,
            files=(("app/reports.py", _REPORTS),),
        ),
        # The blocking call is three calls deep.
        Example(
            """
            import time

            def _sleep():
                time.sleep(1)

            def _fetch():
                _sleep()

            def load_report():
                _fetch()

            async def export():
                load_report()
            """,
        ),
        # Pure computation.
        Example(
            """
            def total(items):
                return sum(item.price * item.quantity for item in items)

            async def checkout(items):
                return total(items)
            """,
        ),
        # Nested def, lambda and a sync caller: not a call made by the async function.
        Example(
            """
            import asyncio
            from app.reports import load_report

            async def export(report_id):
                def later():
                    return load_report(report_id)
                return await asyncio.to_thread(lambda: load_report(report_id)), later

            def export_sync(report_id):
                return load_report(report_id)
            """,
            files=(("app/reports.py", _REPORTS),),
        ),
        # The blocking call is in a function the callee only defines.
        Example(
            """
            import time

            def make_waiter():
                def wait():
                    time.sleep(1)
                return wait

            async def handler():
                waiter = make_waiter()
                return waiter
            """,
        ),
    )

    def begin_file(self, ctx: FileContext) -> None:
        super().begin_file(ctx)
        self._frames: list[_Frame] = [_Frame(False, "<module>")]
        self._awaited: set[int] = set()
        self._patterns = self.str_list_option("blocking-calls")
        self._entry_points = EntryPoints(ctx, script_spec(self.str_list_option("script-paths")))
        self._module_paths = module_paths(ctx.tree, ctx.names)

    def applies_to(self, ctx: FileContext) -> bool:
        # Files without ``async`` cannot contain an async function: skip their walk.
        return "async" in ctx.text and super().applies_to(ctx)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        parent = self._frames[-1]
        owner = parent.owner if parent.is_class else None
        is_async = node.asynchronous is not None and not self._entry_points.off_hot_path(node)
        frame = _Frame(is_async, node.name.value, owner=owner)
        frame.local.update(self._module_paths)
        frame.local.update(parameter_types(node, self.ctx.names))
        self._frames.append(frame)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._frames.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._frames.append(_Frame(False, "<lambda>"))

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._frames.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        # Only top-level classes can be found again by name in the project pass.
        top = len(self._frames) == 1 and bool(self.ctx.module)
        owner = f"{self.ctx.module}.{node.name.value}" if top else None
        self._frames.append(_Frame(False, node.name.value, owner=owner, is_class=True))

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._frames.pop()

    def visit_Await(self, node: cst.Await) -> None:
        self._awaited.add(id(node.expression))

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self._frames[-1].handlers += 1

    def leave_ExceptHandler(self, original_node: cst.ExceptHandler) -> None:
        self._frames[-1].handlers -= 1

    def leave_Assign(self, original_node: cst.Assign) -> None:
        targets = original_node.targets
        frame = self._frames[-1]
        if frame.is_async and len(targets) == 1 and isinstance(targets[0].target, cst.Name):
            bind(frame.local, targets[0].target.value, original_node.value, self.ctx.names)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        frame = self._frames[-1]
        if frame.is_async and node.asname is not None and isinstance(node.asname.name, cst.Name):
            bind(frame.local, node.asname.name.value, node.item, self.ctx.names)

    def visit_Call(self, node: cst.Call) -> None:
        frame = self._frames[-1]
        if not frame.is_async or frame.handlers or id(node) in self._awaited:
            return
        callee = project_callee(node.func, frame.local, self.ctx.names, frame.owner)
        blocks = callee is not None and (
            call_suggestion(node, callee, frame.local, self.ctx.names, self._patterns) is not None
        )
        if callee is None or blocks:
            return  # not a project function, or BL501's finding
        shown = dotted_name(node.func) or self._written(node.func, callee)
        self.report(
            node,
            f"`{shown}()` inside `async def {frame.name}` blocks the event loop: "
            f"it calls {_MARKER}",
            conditions=(ReachesBlockingCall(callee, self._patterns),),
        )

    def _written(self, func: cst.BaseExpression, callee: str) -> str:
        """The callee as written (``ReportService().load``) when it is short."""
        code = self.ctx.tree.code_for_node(func).strip()
        return code if len(code) <= 60 and "\n" not in code else callee.rsplit(".", 1)[-1]
