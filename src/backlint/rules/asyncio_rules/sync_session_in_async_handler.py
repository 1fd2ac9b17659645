from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from backlint.diagnostics import Severity
from backlint.index.names import dotted_name
from backlint.rules.asyncio_rules.blocking_catalog import SYNC_SESSION_TYPES
from backlint.rules.base import Condition, Example, FileRule

if TYPE_CHECKING:
    from backlint.index.project import ProjectIndex

_ANNOTATED = frozenset({"typing.Annotated", "typing_extensions.Annotated"})
_DEPENDS = ("Depends", "Security")


@dataclass(frozen=True)
class SyncDependency:
    """The dependency ``qualified`` is a plain ``def``: it hands out a sync session.

    An ``async def`` dependency annotated ``Session`` yields an ``AsyncSession`` in all
    likelihood (a wrong annotation, not a blocking session), so it is not reported.
    A dependency the project cannot find (a library's) is taken at its annotation.
    """

    qualified: str

    def holds(self, project: ProjectIndex) -> bool:
        canonical = project.canonical(self.qualified)
        module, _, name = canonical.rpartition(".")
        facts = project.facts_of(module) if module else None
        return facts is None or name not in facts.async_functions


@dataclass(frozen=True)
class SyncSessionAlias:
    """The imported annotation ``qualified`` is ``Annotated[Session, Depends(dep)]``
    with a sync ``Session`` and a sync ``dep`` (``SessionDep`` in a ``deps.py``)."""

    qualified: str

    def holds(self, project: ProjectIndex) -> bool:
        binding = project.binding(self.qualified)
        if binding is None or binding.shape != "annotated":
            return False
        if binding.target not in SYNC_SESSION_TYPES:
            return False
        return not binding.detail or SyncDependency(binding.detail).holds(project)


_DB = """
from sqlalchemy.orm import Session

def get_db():
    with Session(engine) as session:
        yield session
"""


class SyncSessionInAsyncHandler(FileRule):
    """
    ## What it does
    Flags a parameter of an `async def` route handler that receives a synchronous
    SQLAlchemy or SQLModel `Session` through FastAPI's dependency injection:
    `db: Session = Depends(get_db)`, `db: Annotated[Session, Depends(get_db)]`, or an
    alias of that (`SessionDep`), also when the alias is defined in another module.

    A dependency that is itself `async def` is not reported: it yields an
    `AsyncSession`, and only the annotation is wrong.

    ## Why is this bad?
    Every query through a sync session blocks the thread it runs on. FastAPI runs a
    plain `def` handler in a thread pool, where that is fine; an `async def` handler
    runs on the event loop, so each query stops every other request the worker serves.
    The slowdown only shows under load, as latency spikes and timeouts.

    ## Example
    ```python
    @router.get("/orders/{order_id}")
    async def get_order(order_id: int, db: Session = Depends(get_db)) -> OrderOut:
        return db.get(Order, order_id)
    ```

    Use instead:
    ```python
    @router.get("/orders/{order_id}")
    async def get_order(order_id: int, db: AsyncSession = Depends(get_async_db)) -> OrderOut:
        return await db.get(Order, order_id)
    ```
    or keep the session and make the handler a plain `def`.

    ## How to fix
    Use `AsyncSession` (with an async engine and an `async def` dependency), or make
    the handler a plain `def` so FastAPI runs it in its thread pool. The queries
    themselves are reported by `blocking-call-in-async` (BL501).
    """

    code = "BL502"
    name = "sync-session-in-async-handler"
    summary = "An `async def` handler receives a synchronous database session."
    fix_text = "Use `AsyncSession` or make the handler `def`."
    severity = Severity.ERROR
    # Below the precision bar on code it was not tuned on (docs/precision.md): it runs
    # when selected by its code or name, or with `preview = true`.
    default_enabled = False
    preview = True
    tags = ("performance", "AP-PY10", "PQG-6")
    include_tests = False
    invalid = (
        """
        from fastapi import APIRouter, Depends
        from sqlalchemy.orm import Session
        router = APIRouter()

        def get_db():
            yield Session()

        @router.get("/items")
        async def items(s: Session = Depends(get_db)):
            return s.execute(q)
        """,
        """
        from typing import Annotated
        from fastapi import Depends, FastAPI
        from sqlmodel import Session
        from app.db import get_db
        app = FastAPI()

        @app.post("/items")
        async def create(db: Annotated[Session, Depends(get_db)]) -> None:
            ...
        """,
        # The alias lives in another module, the router in a third.
        Example(
            """
            from app.deps import SessionDep
            from app.routing import router

            @router.get("/users")
            async def users(session: SessionDep) -> list[str]:
                return []
            """,
            path="app/routes/users.py",
            files=(
                ("app/db.py", _DB),
                (
                    "app/deps.py",
                    "from typing import Annotated\nfrom fastapi import Depends\n"
                    "from sqlalchemy.orm import Session\nfrom app.db import get_db\n\n"
                    "SessionDep = Annotated[Session, Depends(get_db)]\n",
                ),
                ("app/routing.py", "from fastapi import APIRouter\nrouter = APIRouter()\n"),
            ),
            expect=1,
        ),
    )
    valid = (
        # A sync handler runs in FastAPI's thread pool.
        """
        from fastapi import APIRouter, Depends
        from sqlalchemy.orm import Session
        router = APIRouter()

        @router.get("/items")
        def items(s: Session = Depends(get_db)):
            return s.execute(q)
        """,
        """
        from fastapi import APIRouter, Depends
        from sqlalchemy.ext.asyncio import AsyncSession
        router = APIRouter()

        @router.get("/items")
        async def items(s: AsyncSession = Depends(get_db)):
            return await s.execute(q)
        """,
        # An async dependency hands out an AsyncSession whatever the annotation says.
        """
        from fastapi import APIRouter, Depends
        from sqlalchemy.orm import Session
        router = APIRouter()

        async def get_db():
            async with async_session() as session:
                yield session

        @router.get("/items")
        async def items(s: Session = Depends(get_db)):
            return await s.execute(q)
        """,
        # Not a route handler.
        """
        from sqlalchemy.orm import Session

        async def rebuild(s: Session) -> None:
            ...
        """,
        Example(
            """
            from app.deps import AsyncSessionDep
            from fastapi import APIRouter
            router = APIRouter()

            @router.get("/users")
            async def users(session: AsyncSessionDep) -> list[str]:
                return []
            """,
            path="app/routes/users.py",
            files=(
                (
                    "app/deps.py",
                    "from typing import Annotated\nfrom fastapi import Depends\n"
                    "from sqlalchemy.ext.asyncio import AsyncSession\n\n"
                    "async def get_db():\n    yield AsyncSession()\n\n"
                    "AsyncSessionDep = Annotated[AsyncSession, Depends(get_db)]\n",
                ),
            ),
        ),
    )

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        handler = self.ctx.handlers.get(id(node))
        if handler is None or node.asynchronous is None:
            return
        for param in (*node.params.posonly_params, *node.params.params, *node.params.kwonly_params):
            conditions = self._sync_session(param)
            if conditions is None:
                continue
            self.report(
                param,
                f"`async def {node.name.value}` receives a synchronous database session as "
                f"`{param.name.value}`: every query blocks the event loop",
                conditions=(*handler.requires, *conditions),
            )

    def _sync_session(self, param: cst.Param) -> tuple[Condition, ...] | None:
        """The conditions under which ``param`` is an injected sync session, or None."""
        if param.annotation is None:
            return None
        annotation = param.annotation.annotation
        if isinstance(annotation, cst.Subscript):
            qualified = self.ctx.qualified_name(annotation.value)
            if qualified not in _ANNOTATED or not annotation.slice:
                return None
            first = annotation.slice[0].slice
            if not isinstance(first, cst.Index):
                return None
            parts = [e.slice.value for e in annotation.slice[1:] if isinstance(e.slice, cst.Index)]
            return self._declared(
                first.value, next(filter(None, map(self._dependency, parts)), None)
            )
        if param.default is not None:
            return self._declared(annotation, self._dependency(param.default))
        if isinstance(annotation, cst.Name):
            binding = self.ctx.bindings.get(annotation.value)
            if binding is not None and binding.shape == "annotated":
                if binding.target not in SYNC_SESSION_TYPES:
                    return None
                return (SyncDependency(binding.detail),) if binding.detail else ()
            imported = self.ctx.names.imported(annotation.value)
            if imported is not None:
                return (SyncSessionAlias(imported),)
        return None

    def _declared(
        self, declared: cst.BaseExpression, dependency: str | None
    ) -> tuple[Condition, ...] | None:
        if dependency is None or self.ctx.qualified_name(declared) not in SYNC_SESSION_TYPES:
            return None
        return (SyncDependency(dependency),) if dependency else ()

    def _dependency(self, expression: cst.BaseExpression) -> str | None:
        """``Depends(get_db)`` gives the qualified ``get_db``; ``Depends()`` gives ``""``."""
        if not isinstance(expression, cst.Call):
            return None
        callee = dotted_name(expression.func) or ""
        if callee.rsplit(".", 1)[-1] not in _DEPENDS:
            return None
        if not expression.args:
            return ""
        return self.ctx.qualified_name(expression.args[0].value) or ""
