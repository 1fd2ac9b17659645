from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from backlint.diagnostics import Severity
from backlint.engine.context import FileContext
from backlint.index.names import dotted_name
from backlint.rules.asyncio_rules.blocking_catalog import (
    BLOCKING_CALLS,
    BLOCKING_METHODS,
    SESSION_FACTORY_SUFFIX,
    SYNC_SESSION_METHODS,
    SYNC_SESSION_TYPES,
    matches_user_pattern,
)
from backlint.rules.base import FileRule, Option


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
        """
        import time
        async def h():
            time.sleep(1)
        """,
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
        self.patterns = self.str_list_option("blocking-calls")

    def applies_to(self, ctx: FileContext) -> bool:
        # Files without ``async`` cannot contain an async function: skip their walk.
        return "async" in ctx.text and super().applies_to(ctx)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        scope = _Scope(node.asynchronous is not None, node.name.value)
        for param in (*node.params.params, *node.params.kwonly_params, *node.params.posonly_params):
            if param.annotation is not None:
                qualified = self.ctx.qualified_name(_unquote(param.annotation.annotation))
                if qualified is not None:
                    scope.locals[param.name.value] = qualified
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
        if not scope.is_async or not isinstance(value, cst.Call):
            scope.locals.pop(name, None)
            return
        qualified = self._qualify(value.func)
        if qualified is not None:
            scope.locals[name] = qualified + "()"

    def _qualify(self, node: cst.BaseExpression) -> str | None:
        """Qualified name, reading local bindings first (``s.get`` with ``s = Session()``)."""
        root: cst.BaseExpression = node
        suffix: list[str] = []
        while isinstance(root, cst.Attribute):
            suffix.append(root.attr.value)
            root = root.value
        if isinstance(root, cst.Name):
            local = self.scopes[-1].locals.get(root.value)
            if local is not None:
                return ".".join([local, *reversed(suffix)])
        return self.ctx.qualified_name(node)

    def visit_Call(self, node: cst.Call) -> None:
        scope = self.scopes[-1]
        if not scope.is_async or id(node) in self.awaited:
            return
        qualified = self._qualify(node.func)
        if qualified is None:
            return
        suggestion = self._blocking(qualified)
        if suggestion is None:
            return
        shown = qualified.removeprefix("builtins.")
        self.report(
            node,
            f"Blocking call `{shown}` inside `async def {scope.name}` stalls the event loop; "
            f"use {suggestion}",
        )

    def _blocking(self, qualified: str) -> str | None:
        if qualified in BLOCKING_CALLS:
            return BLOCKING_CALLS[qualified]
        receiver, _, method = qualified.rpartition(".")
        known = BLOCKING_METHODS.get(receiver)
        if known is not None and method in known[0]:
            return known[1]
        is_session = receiver in SYNC_SESSION_TYPES or receiver.endswith(SESSION_FACTORY_SUFFIX)
        if is_session and method in SYNC_SESSION_METHODS:
            return "`AsyncSession` or a sync `def` handler"
        return matches_user_pattern(qualified, self.patterns)


def _unquote(annotation: cst.BaseExpression) -> cst.BaseExpression:
    """The type an annotation names: ``"Session"``, ``Session | None``, ``Optional[Session]``
    and ``Annotated[Session, Depends(get_db)]`` all give ``Session``."""
    if isinstance(annotation, cst.SimpleString):
        value = annotation.evaluated_value
        if isinstance(value, str):
            try:
                return _unquote(cst.parse_expression(value))
            except cst.ParserSyntaxError:
                return annotation
        return annotation
    if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
        return _unquote(annotation.left)
    if isinstance(annotation, cst.Subscript) and annotation.slice:
        wrapper = (dotted_name(annotation.value) or "").rsplit(".", 1)[-1]
        first = annotation.slice[0].slice
        if wrapper in ("Optional", "Annotated") and isinstance(first, cst.Index):
            return _unquote(first.value)
    return annotation
