from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from backlint.diagnostics import Applicability, Severity
from backlint.engine.context import FileContext
from backlint.rules.asyncio_rules.blocking_match import (
    bind,
    blocking_suggestion,
    parameter_types,
    qualify,
)
from backlint.rules.base import Example, FileRule, Option
from backlint.rules.fixes import NodeFix, add_import

AWAIT_SLEEP = "Use `await asyncio.sleep(...)`"


@dataclass
class _Scope:
    """One function, lambda or class body: whether it is async, and its local bindings."""

    is_async: bool
    name: str
    # Local name -> qualified name of what it holds: ``s = requests.Session()`` gives
    # ``requests.Session()``; a parameter annotated ``Session`` gives the annotation.
    locals: dict[str, str] = field(default_factory=dict)


class BlockingCallInAsync(FileRule):
    """
    ## What it does
    Flags a blocking call made directly inside an `async def`: `time.sleep`, `requests`
    and sync `httpx` calls (module functions and `Session()`/`Client()` methods), `open`,
    `subprocess`, `pathlib.Path` file I/O, `input`, and the I/O methods of a synchronous
    SQLAlchemy/SQLModel `Session` (a parameter annotated `Session`, or a name bound to
    `SessionLocal()`).

    Only the innermost function counts: a call inside a nested `def`, a `lambda` or a
    class body is not in the async function (so
    `await asyncio.to_thread(lambda: open(p).read())` is fine), and passing a callable
    by reference (`asyncio.to_thread(requests.get, url)`) is not a call.

    ## Why is this bad?
    An event loop runs one thing at a time. A blocking call stops every other request
    the worker is serving until it returns: one slow upstream makes the whole service
    slow, and timeouts pile up under load.

    ## Example
    ```python
    async def refresh(order_id: int) -> None:
        time.sleep(1)
        requests.post(URL, json={"id": order_id})
    ```

    Use instead:
    ```python
    async def refresh(order_id: int, http: httpx.AsyncClient) -> None:
        await asyncio.sleep(1)
        await http.post(URL, json={"id": order_id})
    ```

    ## How to fix
    Use the async equivalent (`asyncio.sleep`, `httpx.AsyncClient`, `AsyncSession`,
    `anyio.open_file`), or move the call to a thread with
    `await asyncio.to_thread(fn, ...)`. Add your own blocking functions with the
    `blocking-calls` option (`"mylib.fetch_* -> mylib.afetch"`, fnmatch patterns).
    """

    code = "BL501"
    name = "blocking-call-in-async"
    summary = "A blocking call inside `async def` stalls the event loop."
    fix_text = (
        "Use the async equivalent (`httpx.AsyncClient`, `asyncio.sleep`, `AsyncSession`, "
        "`anyio.open_file`) or `await asyncio.to_thread(fn, ...)`."
    )
    severity = Severity.ERROR
    autofix = "unsafe (`time.sleep` only)"
    tags = ("performance", "AP-PY10")
    options = (
        Option(
            "blocking-calls",
            (),
            "Extra blocking calls as `pattern -> suggestion` entries; the pattern is an "
            "fnmatch pattern over qualified names (`mylib.fetch_*`).",
        ),
    )
    invalid = (
        Example(
            """
            import time
            async def h():
                time.sleep(1)
            """,
            fixed="""
            import asyncio
            import time
            async def h():
                await asyncio.sleep(1)
            """,
        ),
        Example(
            """
            \"""Polling.\"""
            from __future__ import annotations

            import asyncio
            from time import sleep

            async def h(delay: float):
                sleep(delay)  # wait
                sleep(delay)
                x = sleep(delay)
            """,
            expect=3,
            fixed="""
            \"""Polling.\"""
            from __future__ import annotations

            import asyncio
            from time import sleep

            async def h(delay: float):
                await asyncio.sleep(delay)  # wait
                await asyncio.sleep(delay)
                x = sleep(delay)
            """,
        ),
        """
        import requests
        async def h(u):
            requests.Session().get(u)
        """,
        """
        from sqlalchemy.orm import Session
        async def h(s: Session):
            s.execute(q)
        """,
        """
        import httpx
        async def h(u):
            with httpx.Client() as client:
                return client.get(u)
        """,
        """
        async def h(p):
            with open(p) as f:
                return f.read()
        """,
        """
        import requests
        async def h(u):
            return requests.request("GET", u)
        """,
    )
    valid = (
        """
        import asyncio, requests
        async def h(u):
            await asyncio.to_thread(requests.get, u)
        """,
        """
        import asyncio
        async def h(p):
            await asyncio.to_thread(lambda: open(p).read())
        """,
        """
        from sqlalchemy.orm import Session
        def h(s: Session):
            s.execute(q)
        """,
        """
        from sqlalchemy.ext.asyncio import AsyncSession
        async def h(s: AsyncSession):
            await s.execute(q)
        """,
        """
        import time
        async def outer():
            def inner():
                time.sleep(1)
            return inner
        """,
        """
        import asyncio
        async def h():
            await asyncio.sleep(1)
        """,
    )

    def begin_file(self, ctx: FileContext) -> None:
        super().begin_file(ctx)
        self.scopes: list[_Scope] = [_Scope(False, "<module>")]
        self.awaited: set[int] = set()
        self.statement_values: set[int] = set()  # expressions that are a whole statement
        self.patterns = self.str_list_option("blocking-calls")

    def applies_to(self, ctx: FileContext) -> bool:
        # Files without ``async`` cannot contain an async function: skip their walk.
        return "async" in ctx.text and super().applies_to(ctx)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        scope = _Scope(node.asynchronous is not None, node.name.value)
        scope.locals.update(parameter_types(node, self.ctx.names))
        self.scopes.append(scope)

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.scopes.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.scopes.append(_Scope(False, "<lambda>"))

    def leave_Lambda(self, node: cst.Lambda) -> None:
        self.scopes.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.scopes.append(_Scope(False, node.name.value))

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self.scopes.pop()

    def visit_Expr(self, node: cst.Expr) -> None:
        self.statement_values.add(id(node.value))

    def visit_Await(self, node: cst.Await) -> None:
        self.awaited.add(id(node.expression))

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            self._bind(node.targets[0].target.value, node.value)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None and isinstance(node.asname.name, cst.Name):
            self._bind(node.asname.name.value, node.item)

    def _bind(self, name: str, value: cst.BaseExpression) -> None:
        scope = self.scopes[-1]
        if scope.is_async:
            bind(scope.locals, name, value, self.ctx.names)
        else:
            scope.locals.pop(name, None)

    def visit_Call(self, node: cst.Call) -> None:
        scope = self.scopes[-1]
        if not scope.is_async or id(node) in self.awaited:
            return
        qualified = qualify(node.func, scope.locals, self.ctx.names)
        if qualified is None:
            return
        suggestion = blocking_suggestion(qualified, self.patterns)
        if suggestion is None:
            return
        shown = qualified.removeprefix("builtins.")
        self.report(
            node,
            f"Blocking call `{shown}` inside `async def {scope.name}` stalls the event loop; "
            f"use {suggestion}",
            fix=self._sleep_fix(node) if qualified == "time.sleep" else None,
        )

    def _sleep_fix(self, node: cst.Call) -> NodeFix | None:
        """``time.sleep(x)`` → ``await asyncio.sleep(x)`` (unsafe), for a call that is a
        statement of its own, so ``await`` cannot change how the expression groups."""
        names = self.ctx.names
        if id(node) not in self.statement_values or len(node.args) != 1:
            return None
        if node.args[0].keyword is not None or node.args[0].star:
            return None
        # trio and anyio code sleeps with its own library's ``sleep``.
        if names.imports_from("trio") or names.imports_from("anyio"):
            return None
        call = self.replace(node.func, "await asyncio.sleep")
        if names.imported("asyncio") == "asyncio":
            return self.fix(AWAIT_SLEEP, call, applicability=Applicability.UNSAFE)
        if names.is_bound("asyncio"):
            return None  # ``asyncio`` names something else here
        add = add_import(self.ctx.tree, "import asyncio")
        return self.fix(AWAIT_SLEEP, call, add, applicability=Applicability.UNSAFE)
