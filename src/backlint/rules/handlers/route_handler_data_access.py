from __future__ import annotations

import textwrap

import libcst as cst

from backlint.diagnostics import Severity
from backlint.engine.context import FileContext
from backlint.rules.base import Condition, Example, FileRule
from backlint.rules.handlers.common import module_aliases
from backlint.rules.handlers.data_access import (
    Access,
    DataAccessFinder,
    SomeCallIsAccess,
    class_annotations,
    listing,
)

_FASTAPI = (
    "from fastapi import APIRouter, Depends\n"
    "from sqlalchemy.orm import Session\n"
    "router = APIRouter()\n"
)


def _routes(code: str) -> str:
    """A snippet of a routes module with its FastAPI imports and router."""
    return _FASTAPI + textwrap.dedent(code)


class RouteHandlerDataAccess(FileRule):
    """
    ## What it does
    Reports a route handler that talks to persistence itself:

    - `query`/`execute`/`exec`/`scalars`/`get`/`add`/`delete`/`merge`/`refresh`/
      `flush`/`commit`/`rollback` on a SQLAlchemy or SQLModel `Session`/`AsyncSession`.
      The receiver's type decides: a parameter annotated `Session` (also through
      `Annotated[Session, Depends(...)]` and aliases such as `SessionDep`/`DbSession`,
      even when they are defined in another module), a parameter injected with
      `Depends(get_db)`, a name bound to `SessionLocal()` or `Session(engine)`, a
      `scoped_session`, or Flask-SQLAlchemy's `db.session`;
    - Django's `Model.objects.<method>(...)` and Flask-SQLAlchemy's
      `Model.query.<method>(...)`;
    - any public method of a `*Repository` object, known by its type (annotation or a
      binding to `XRepository(...)`, or `XRepository(db).method()` on the spot),
      whatever the variable is called.

    One finding per handler (two when it also calls a repository), at its first
    persistence call; the message names every call. `get_object_or_404` and
    `get_list_or_404` (with the query passed to them) and Flask-SQLAlchemy's
    `first_or_404()`/`get_or_404()` map "not found" to HTTP and are not reported, nor
    are Django's cached content-type lookups (`ContentType.objects.get_for_model`).
    DRF hooks such as `get_queryset` and `perform_create` are not handlers, and DRF's
    `serializer.save()` is not a persistence call. Test code is not checked.

    ## Why is this bad?
    A handler that queries and commits itself ties the HTTP layer to the schema and the
    ORM: the same query ends up copied across endpoints, transactions are committed
    halfway through a use case, and the logic can only be tested with a database behind
    an HTTP client. Calling a repository from the handler skips the service, where the
    use case (and its transaction) belongs.

    ## Example
    ```python
    @router.get("/orders")
    def list_orders(db: Session = Depends(get_db)):
        return db.query(Order).filter(Order.open).all()
    ```

    Use instead:
    ```python
    @router.get("/orders")
    def list_orders(orders: OrderService = Depends(order_service)):
        return [OrderResponse.from_domain(o) for o in orders.open_orders()]
    ```

    ## How to fix
    Move the query into a repository method and call it from a service; inject the
    service into the handler. Django views can move the queryset into a model manager
    or a service function.

    Reporting once per handler (at its first persistence call) rather than once per
    call keeps a handler that does `add`, `commit`, `refresh` to one finding: the fix is
    the same for all of them, and on Flask and Django code the per-call count was three
    to five times the number of handlers. `get`, `merge`, `refresh`, `rollback`,
    `exec` (SQLModel) and `add_all` count as session calls along with the spec's
    `query/execute/scalars/add/commit/flush/delete`: each is an ORM round trip or a
    transaction decision. A session is also recognised when its type cannot be read:
    a parameter injected with `Depends(get_db)`/`Depends(get_session)`, and
    `self.session` on a class-based view whose base class declares it elsewhere (not
    for `get`, which too many objects have).
    """

    code = "BL102"
    name = "route-handler-data-access"
    summary = "A route handler calls the session, the ORM or a repository directly."
    fix_text = (
        "Move the query into a repository method called from a `{Resource}Service`; "
        "inject the service into the handler."
    )
    severity = Severity.WARNING
    tags = ("architecture", "AP-PY01")
    include_tests = False
    invalid = (
        Example(
            _routes(
                """
            @router.post("/orders")
            async def create(o: CreateOrder, db: Session = Depends(get_db)):
                db.add(Order(total=o.total)); db.commit()
            """
            ),
            path="app/routes.py",
            expect=1,
        ),
        Example(
            _routes(
                """
            @router.get("/orders")
            def list_orders(db=Depends(get_db)):
                return db.query(Order).all()
            """
            ),
            path="app/routes.py",
        ),
        # An ``Annotated`` alias defined in another module.
        Example(
            """
            from fastapi import APIRouter
            from app.deps import SessionDep
            router = APIRouter()
            @router.get("/items")
            def read_items(session: SessionDep):
                return session.exec(select(Item)).all()
            """,
            path="app/routes.py",
            files=(
                (
                    "app/deps.py",
                    "from typing import Annotated\n"
                    "from fastapi import Depends\n"
                    "from sqlmodel import Session\n"
                    "SessionDep = Annotated[Session, Depends(get_db)]\n",
                ),
            ),
        ),
        Example(
            """
            from django.http import JsonResponse
            def order_list(request):
                orders = Order.objects.filter(owner=request.user).order_by("-id")
                return JsonResponse({"orders": [o.id for o in orders]})
            """,
            path="shop/views.py",
            files=(("shop/urls.py", "from shop import views\npath('o/', views.order_list)\n"),),
        ),
        Example(
            """
            from flask import Blueprint
            from app.models import db
            bp = Blueprint("users", __name__)
            @bp.route("/users/<int:uid>", methods=["DELETE"])
            def delete_user(uid):
                db.session.delete(User.query.get(uid))
                db.session.commit()
                return "", 204
            """,
            path="app/views.py",
            files=(
                ("app/models.py", "from flask_sqlalchemy import SQLAlchemy\ndb = SQLAlchemy()\n"),
            ),
            expect=1,
        ),
        Example(
            _routes(
                """
            from app.orders.repository import OrderRepository
            @router.get("/orders")
            def list_orders(customer_id: int, db: Session = Depends(get_db)):
                return OrderRepository(db).list_for_customer(customer_id)
            """
            ),
            path="app/routes.py",
        ),
        # The receiver's type decides, whatever the variable is called.
        Example(
            """
            from fastapi import APIRouter, Depends
            from app.repositories import OrderRepository
            router = APIRouter()
            store = OrderRepository()
            @router.get("/orders/{id}")
            def get_order(id: int, data: OrderRepository = Depends()):
                return data.get(id) or store.get(id)
            """,
            path="app/routes.py",
        ),
        Example(
            _routes(
                """
            from app.db import SessionLocal
            @router.post("/ping")
            def ping():
                with SessionLocal() as s:
                    s.execute(text("select 1"))
            """
            ),
            path="app/routes.py",
        ),
    )
    valid = (
        # ``get_object_or_404`` is a shortcut that maps "not found" to HTTP.
        Example(
            """
            from django.shortcuts import get_object_or_404, render
            def detail(request, pk):
                order = get_object_or_404(Order.objects.select_related("owner"), pk=pk)
                return render(request, "order.html", {"order": order})
            """,
            path="shop/views.py",
            files=(("shop/urls.py", "from shop import views\npath('o/', views.detail)\n"),),
        ),
        Example(
            _routes(
                """
            @router.get("/orders/{id}")
            def get_order(id: int, svc: OrderService = Depends(get_svc)):
                return svc.get(id)
            """
            ),
            path="app/routes.py",
        ),
        # A "session" alias that is an HTTP client session, not a database one.
        Example(
            """
            from fastapi import APIRouter
            from app.deps import HttpSession
            router = APIRouter()
            @router.get("/weather")
            async def weather(http: HttpSession):
                return await http.get(WEATHER_URL)
            """,
            path="app/routes.py",
            files=(
                (
                    "app/deps.py",
                    "from typing import Annotated\n"
                    "from aiohttp import ClientSession\n"
                    "from fastapi import Depends\n"
                    "HttpSession = Annotated[ClientSession, Depends(http_client)]\n",
                ),
            ),
        ),
        # DRF hooks are not handlers; ``serializer.save()`` is DRF's own persistence.
        """
        from rest_framework import viewsets
        class OrderViewSet(viewsets.ModelViewSet):
            def get_queryset(self):
                return Order.objects.filter(owner=self.request.user)
            def perform_create(self, serializer):
                serializer.save(owner=self.request.user)
        """,
        # Not a handler: a repository is where queries belong.
        """
        from sqlalchemy.orm import Session
        class OrderRepository:
            def get(self, db: Session, id: int):
                return db.query(Order).get(id)
        """,
        # Flask-SQLAlchemy's ``first_or_404`` is a fetch-or-404 shortcut.
        Example(
            """
            from flask import Blueprint
            bp = Blueprint("users", __name__)
            @bp.route("/users/<name>")
            def show(name):
                return render(User.query.filter_by(name=name).first_or_404())
            """,
            path="app/views.py",
        ),
        # Test code is not checked.
        Example(
            _routes(
                """
            @router.get("/fake")
            def fake(db: Session = Depends(get_db)):
                return db.query(Order).all()
            """
            ),
            path="tests/test_routes.py",
        ),
    )

    def applies_to(self, ctx: FileContext) -> bool:
        return bool(ctx.handlers) and super().applies_to(ctx)

    def begin_file(self, ctx: FileContext) -> None:
        super().begin_file(ctx)
        self._finder: DataAccessFinder | None = None

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        handler = self.ctx.handlers.get(id(node))
        if handler is None:
            return
        if self._finder is None:
            tree = self.ctx.tree
            self._finder = DataAccessFinder(self.ctx, module_aliases(tree), class_annotations(tree))
        groups: dict[str, list[Access]] = {}
        for access in self._finder.find(handler):
            # Session and ORM calls read as one finding; repository calls as another.
            key = "repository" if access.kind == "repository" else "data"
            groups.setdefault(key, []).append(access)
        for kind, accesses in groups.items():
            listed = listing([access.shown for access in accesses])
            conditions: list[Condition] = list(handler.requires)
            if any(access.conditions for access in accesses):
                calls = tuple((access.shown, access.conditions) for access in accesses)
                conditions.append(SomeCallIsAccess(calls, listed))
            # Anchor on a call that is data access whatever the project pass decides.
            anchor = next((a for a in accesses if not a.conditions), accesses[0])
            self.report(
                anchor.node, _message(handler.qualname, kind, listed), conditions=conditions
            )


def _message(handler: str, kind: str, listed: str) -> str:
    if kind == "repository":
        return (
            f"Route handler `{handler}` calls repository method {listed} directly: "
            "a service should own the use case and call the repository"
        )
    return (
        f"Route handler `{handler}` calls {listed} directly: "
        "data access belongs in a repository behind a service"
    )
