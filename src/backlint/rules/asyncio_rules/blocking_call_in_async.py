from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from backlint.diagnostics import Applicability, Severity
from backlint.engine.context import FileContext
from backlint.rules.asyncio_rules.blocking_catalog import PATH_INSTANCE
from backlint.rules.asyncio_rules.blocking_match import (
    bind,
    call_suggestion,
    lists_paths,
    module_paths,
    parameter_types,
    qualify,
)
from backlint.rules.asyncio_rules.entry_points import SCRIPT_PATHS_OPTION, EntryPoints, script_spec
from backlint.rules.base import Example, FileRule, Option
from backlint.rules.fixes import NodeFix, add_import

AWAIT_SLEEP = "Use `await asyncio.sleep(...)`"
# In test code the loop serves the test alone: sleeping, files and subprocesses only make
# it slower. Calls to a server (HTTP, sockets, mail, databases) can deadlock against an
# app served on the same loop, so they are still reported there.
_LOCAL_IN_TESTS = (
    "time.sleep",
    "builtins.open",
    "builtins.input",
    "io.open",
    "os.",
    "shutil.",
    "subprocess.",
    "pathlib.",
    "zipfile.",
    "tarfile.",
)


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
    Flags a blocking call made directly inside an `async def`:

    - `time.sleep`, `input`, `subprocess`, `os.system`/`popen`;
    - HTTP: `requests` and sync `httpx` calls (module functions and
      `Session()`/`Client()` methods), `urllib.request.urlopen`, `urllib3`, the
      synchronous `websocket-client` (`websocket.create_connection`,
      `WebSocket().connect`/`send`/`recv`) and `websockets.sync.client.connect`,
      `http.client` connections, and `pywebpush.webpush`;
    - mail and sockets: `smtplib.SMTP(...)`/`SMTP_SSL(...)` (they connect) and their
      `send_message`/`sendmail`/`login`/...; `socket.create_connection`, DNS lookups
      (`getaddrinfo`, `gethostbyname`, ...) and `socket()` connect/send/recv;
    - files: `open`, `shutil` copies, moves, `rmtree` and archives
      (`make_archive`/`unpack_archive`), `zipfile.ZipFile(path)`/`tarfile.open(path)` and
      their `extractall`/`extract`/`write`/`add` (a zip file in an `io.BytesIO` is not a
      file), and the file methods of a `pathlib.Path` (`read_text`, `write_bytes`,
      `open`, `unlink`, `mkdir`, ...);
    - databases: `sqlite3.connect` and `execute`/`commit`/`fetch*` on its connections and
      cursors, and the I/O methods of a synchronous SQLAlchemy/SQLModel `Session` (a
      parameter annotated `Session`, or a name bound to `SessionLocal()`).

    Paths and clients are tracked like sessions: a parameter annotated `Path`, a name
    bound to `Path(...)`, `Path(a) / b`, `p.parent`, `p.joinpath(...)`, a module constant
    such as `MEDIA = Path(__file__).parent / "media"`, and the loop variable of
    `for f in folder.iterdir()`. `exists()`/`stat()` are left out: one cheap system call.

    Only the innermost function counts: a call inside a nested `def`, a `lambda` or a
    class body is not in the async function (so
    `await asyncio.to_thread(lambda: open(p).read())` is fine), and passing a callable
    by reference (`asyncio.to_thread(requests.get, url)`) is not a call. A chain such as
    `tarfile.open(p).extractall()` is reported once.

    ## What it leaves alone
    Async code that is not on the hot path of the loop serving requests:

    - startup and shutdown: a lifespan (any function whose name contains `lifespan`),
      hooks named `startup`/`shutdown`/`on_startup`/`startup_event`/..., functions passed
      as `lifespan=`, `on_startup=[...]`/`on_shutdown=[...]` or to
      `add_event_handler("startup", ...)`, and `@app.on_event("startup")`/
      `@app.before_serving`-style hooks: they delay the start, not a request;
    - scripts and commands: files under `script-paths` (`scripts/`, `bin/`, Django
      `management/commands/`, `__main__.py`, `manage.py`, `cli.py`, `cli/`), and files
      that serve nothing (no route handler, no application object, no `uvicorn.run`)
      and run as a program (`if __name__ == "__main__":`), start their own loop
      (`asyncio.run(...)`, `run_until_complete`) or define click/typer commands;
    - in test code, sleeps (`sleep-in-test`, BL702, owns them), file I/O and
      subprocesses: a test's loop serves the test alone, and they only slow it down.
      Calls to a server (HTTP, sockets, mail, databases) are still reported there, as
      they can deadlock against an app served on the same loop.

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

    ## Calibration
    Probed on mealie, dispatch and polar (every blocking-looking call in an `async def`
    body, read by hand): the misses on request paths were a DNS lookup in mealie's safe
    HTTP transport and file writes through `Path` objects; the findings outside them
    were polar's maintenance scripts and mealie's lifespan waiting for the database.
    """

    code = "BL501"
    name = "blocking-call-in-async"
    summary = "A blocking call inside `async def` stalls the event loop."
    fix_text = (
        "Use the async equivalent (`httpx.AsyncClient`, `asyncio.sleep`, `AsyncSession`, "
        "`anyio.open_file`) or `await asyncio.to_thread(fn, ...)`."
    )
    severity = Severity.ERROR
    # Below the precision bar on code it was not tuned on (docs/precision.md): it runs
    # when selected by its code or name, or with `preview = true`.
    default_enabled = False
    preview = True
    autofix = "unsafe (`time.sleep` only)"
    tags = ("performance", "AP-PY10", "PQG-6")
    options = (
        Option(
            "blocking-calls",
            (),
            "Extra blocking calls as `pattern -> suggestion` entries; the pattern is an "
            "fnmatch pattern over qualified names (`mylib.fetch_*`).",
        ),
        SCRIPT_PATHS_OPTION,
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
        # Mail, DNS and a synchronous websocket client.
        Example(
            """
            import smtplib
            import socket
            import websocket
            from pywebpush import webpush
            from websockets.sync.client import connect
            async def notify(msg, host, subscription):
                with smtplib.SMTP_SSL(host) as smtp:
                    smtp.login("user", "secret")
                    smtp.send_message(msg)
                socket.gethostbyname(host)
                ws = websocket.create_connection("wss://push.example.com")
                ws.send(msg.as_string())
                webpush(subscription_info=subscription, data="ping")
                with connect("wss://events.example.com") as events:
                    return events.recv()
            """,
            expect=9,
        ),
        # SQLite, archives (one finding per chain).
        Example(
            """
            import shutil
            import sqlite3
            import tarfile
            import zipfile
            async def export(db_path, folder, dest):
                conn = sqlite3.connect(db_path)
                rows = conn.execute("select * from t").fetchall()
                shutil.make_archive(dest, "zip", folder)
                with zipfile.ZipFile(dest + ".zip") as archive:
                    archive.extractall(folder)
                tarfile.open(dest + ".tar").extractall(folder)
                return rows
            """,
            expect=6,
        ),
        # Paths: a parameter, a module constant, derived paths and a loop variable.
        Example(
            """
            from pathlib import Path
            MEDIA = Path(__file__).parent / "media"
            async def save(folder: Path, name: str, data: bytes):
                (MEDIA / name).write_bytes(data)
                target = Path(folder) / "cache" / name
                target.parent.mkdir(parents=True, exist_ok=True)
                for old in folder.iterdir():
                    old.unlink()
                return folder.joinpath(name).read_text()
            """,
            expect=4,
        ),
        # A test that blocks on something other than a sleep.
        Example(
            """
            import requests
            async def test_health(live_server):
                assert requests.get(live_server.url).ok
            """,
            path="tests/test_health.py",
        ),
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
        # A zip file in memory is compression, not file I/O; `exists` is one stat.
        """
        import io
        import zipfile
        from pathlib import Path
        async def pack(files: dict[str, bytes], folder: Path) -> bytes:
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as archive:
                for name, data in files.items():
                    archive.writestr(name, data)
            return buffer.getvalue() if folder.exists() else b""
        """,
        # Startup and shutdown hooks.
        Example(
            """
            import time
            from contextlib import asynccontextmanager
            from fastapi import FastAPI
            from app.db import connect

            @asynccontextmanager
            async def lifespan(app):
                while not connect():
                    time.sleep(1)
                yield

            async def warm_up():
                time.sleep(1)

            app = FastAPI(lifespan=lifespan, on_startup=[warm_up])

            @app.on_event("shutdown")
            async def close():
                time.sleep(1)
            """,
            path="app/main.py",
        ),
        # A hook registered from another module, by its conventional name.
        Example(
            """
            import time
            async def startup_event():
                time.sleep(1)
            """,
            path="app/core/events.py",
        ),
        # Scripts: by location, by a main guard, by their own loop.
        Example(
            """
            import time
            async def backfill():
                time.sleep(1)
            """,
            path="server/scripts/backfill.py",
        ),
        Example(
            """
            import asyncio
            from pathlib import Path
            async def run(path: Path):
                return path.read_text()
            if __name__ == "__main__":
                asyncio.run(run(Path("events.json")))
            """,
            path="app/tools/reingest.py",
        ),
        Example(
            """
            import asyncio
            import typer
            cli = typer.Typer()
            async def _cleanup(path):
                return open(path).read()
            @cli.command()
            def cleanup(path: str) -> None:
                asyncio.run(_cleanup(path))
            """,
            path="app/tools/cleanup.py",
        ),
        # A sleep in a test is BL702's; files only slow a test down.
        Example(
            """
            import time
            from pathlib import Path
            async def test_worker_drains_queue(worker, tmp_path: Path):
                worker.start()
                time.sleep(0.1)
                assert (tmp_path / "out.json").read_text() == open("expected.json").read()
            """,
            path="tests/test_worker.py",
        ),
    )

    def begin_file(self, ctx: FileContext) -> None:
        super().begin_file(ctx)
        self.scopes: list[_Scope] = [_Scope(False, "<module>")]
        self.awaited: set[int] = set()
        self.statement_values: set[int] = set()  # expressions that are a whole statement
        self.patterns = self.str_list_option("blocking-calls")
        self.entry_points = EntryPoints(ctx, script_spec(self.str_list_option("script-paths")))
        self.module_paths = module_paths(ctx.tree, ctx.names)

    def applies_to(self, ctx: FileContext) -> bool:
        # Files without ``async`` cannot contain an async function: skip their walk.
        return "async" in ctx.text and super().applies_to(ctx)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        is_async = node.asynchronous is not None and not self.entry_points.off_hot_path(node)
        scope = _Scope(is_async, node.name.value)
        scope.locals.update(self.module_paths)
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

    def visit_For(self, node: cst.For) -> None:
        """``for f in folder.iterdir():`` binds ``f`` to a path."""
        if not isinstance(node.target, cst.Name):
            return
        scope = self.scopes[-1]
        if lists_paths(node.iter, scope.locals, self.ctx.names):
            scope.locals[node.target.value] = PATH_INSTANCE
        else:
            scope.locals.pop(node.target.value, None)

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
        if self.ctx.is_test and qualified.startswith(_LOCAL_IN_TESTS):
            return  # it only slows the test down; a sleep in a test is BL702's
        suggestion = self._suggestion(node, qualified, scope)
        if suggestion is None or self._receiver_blocks(node, scope):
            return
        shown = qualified.removeprefix("builtins.")
        self.report(
            node,
            f"Blocking call `{shown}` inside `async def {scope.name}` stalls the event loop; "
            f"use {suggestion}",
            fix=self._sleep_fix(node) if qualified == "time.sleep" else None,
        )

    def _suggestion(self, node: cst.Call, qualified: str, scope: _Scope) -> str | None:
        return call_suggestion(node, qualified, scope.locals, self.ctx.names, self.patterns)

    def _receiver_blocks(self, node: cst.Call, scope: _Scope) -> bool:
        """``tarfile.open(p).extractall()``: the receiver's own call is the finding, one
        per chain is enough."""
        if not isinstance(node.func, cst.Attribute):
            return False
        receiver = node.func.value
        if not isinstance(receiver, cst.Call):
            return False
        qualified = qualify(receiver.func, scope.locals, self.ctx.names)
        return qualified is not None and self._suggestion(receiver, qualified, scope) is not None

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
