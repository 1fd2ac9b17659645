from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

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
from backlint.rules.handlers.layers import REPOSITORY, SERVICE, HasLayer
from backlint.rules.handlers.metrics import Metrics, measure

if TYPE_CHECKING:
    from backlint.index.routes import Handler

_FASTAPI = (
    "from fastapi import APIRouter, Depends\n"
    "from sqlalchemy.orm import Session\n"
    "router = APIRouter()\n"
)
# The project's handlers delegate to a service layer: a route module imports one.
_SERVICE_LAYER = (("app/services/orders.py", "def place(db, order):\n    ...\n"),)


def _routes(code: str, layered: bool = True) -> str:
    """A snippet of a routes module with its FastAPI imports and router, importing the
    project's service layer unless ``layered`` is false."""
    header = _FASTAPI + ("from app.services import orders\n" if layered else "")
    return header + textwrap.dedent(code)


class RouteHandlerDataAccess(FileRule):
    """
    ## What it does
    Reports a route handler that talks to persistence itself where the project has a
    layer for that, or that runs a whole use case with its transaction. Persistence
    calls are:

    - `query`/`execute`/`exec`/`scalars`/`get`/`add`/`delete`/`merge`/`refresh`/
      `flush`/`commit`/`rollback` on a SQLAlchemy or SQLModel `Session`/`AsyncSession`.
      The receiver's type decides: a parameter annotated `Session` (also through
      `Annotated[Session, Depends(...)]`, aliases such as `SessionDep`/`DbSession` and
      `NewType`s such as `AsyncSession = NewType("AsyncSession", AsyncReadSession)`,
      even when they are defined in another module), a parameter injected with
      `Depends(get_db)`, a name bound to `SessionLocal()` or `Session(engine)`, a
      `scoped_session`, or Flask-SQLAlchemy's `db.session`;
    - Django's `Model.objects.<method>(...)`, Flask-SQLAlchemy's
      `Model.query.<method>(...)`, and `save()`/`delete()` on a Django model instance
      (fetched with `Model.objects.get(...)`, `.first()`, `get_object_or_404(...)`,
      `self.get_object()` or a loop over `Model.objects...`, or `save()` on a
      `Model(...)` the handler built);
    - any public method of a `*Repository` object, known by its type (annotation, a
      binding to `XRepository(...)` or to a classmethod constructor such as
      `XRepository.from_session(session)`, or a call on the spot), whatever the
      variable is called.

    When it reports depends on what the project gives the handler to delegate to,
    decided once per run from what the route modules import: a module with the
    `service` or `repository` role, a `crud`/`services`/`repositories` module, a
    `*_service`/`*_repository` name or a project `*Service`/`*Repository` class that is
    not an ORM model (a `GithubRepository` table is a word of the domain):

    - **session and ORM calls** are reported when the project has a service or
      repository layer: the handler bypasses it;
    - **repository calls** are reported when the project has a service layer and the
      handler writes through the repository (`create*`, `update*`, `delete*`, `save*`,
      `add*`, `remove*`, `archive*`, `record*`, `mark*`...): the use case belongs in
      the service. Reading through a repository (`get_by_id`, `paginate`) is a query
      a handler may make;
    - **a transaction script** is reported in any project: several persistence calls
      (session, ORM or repository), at least one of them a write (`commit` counts),
      mixed with the handler's own logic (a loop, a decision on domain state or two
      branches, as BL101 counts them). It is one finding, and its message says so.

    Not reported: one query, or a CRUD handler that fetches, changes and commits, in a
    project without a service or repository layer (a Flask or Django project built
    that way: moving its queries is a redesign, not a fix); a handler whose only
    persistence calls end the request's transaction (`commit`, `rollback`, `flush`,
    `refresh` after calling services: the unit of work of one request); a connection check
    (`session.execute(select(1))`, `text("SELECT 1")`); `get_object_or_404` and
    `get_list_or_404` (with the query passed to them) and Flask-SQLAlchemy's
    `first_or_404()`/`get_or_404()`, which map "not found" to HTTP; Django's cached
    content-type lookups (`ContentType.objects.get_for_model`). DRF hooks such as
    `get_queryset` and `perform_create` are not handlers, and DRF's
    `serializer.save()` is not a persistence call. Test code is not checked.

    ## Why is this bad?
    A handler that queries and commits itself ties the HTTP layer to the schema and the
    ORM: the same query ends up copied across endpoints, transactions are committed
    halfway through a use case, and the logic can only be tested with a database behind
    an HTTP client. Where the project has services and repositories, such a handler
    goes around them; calling a repository's writes from the handler skips the service,
    where the use case (and its transaction) belongs.

    ## Example
    ```python
    from app.services import orders

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

    The layer condition was calibrated on Flask (redash, CTFd) and Django (plane,
    netbox) projects that query the ORM from every view by design: reporting each of
    those views (550 findings) told their maintainers nothing they could act on, while
    the transaction scripts among them (bulk updates, invitations, archiving with side
    effects) are the views a reviewer would move into a service.
    """

    code = "BL102"
    name = "route-handler-data-access"
    summary = "A route handler calls the session, the ORM or a repository directly."
    fix_text = (
        "Move the query into a repository method called from a `{Resource}Service`; "
        "inject the service into the handler."
    )
    severity = Severity.WARNING
    # Below the precision bar on code it was not tuned on (docs/precision.md): it runs
    # when selected by its code or name, or with `preview = true`.
    default_enabled = False
    preview = True
    tags = ("architecture", "AP-PY01", "PQG-3")
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
            files=_SERVICE_LAYER,
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
            files=_SERVICE_LAYER,
        ),
        # An ``Annotated`` alias defined in another module; ``crud`` is the layer.
        Example(
            """
            from fastapi import APIRouter
            from app import crud
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
                ("app/crud.py", "def create_item(session, item):\n    ...\n"),
            ),
        ),
        # A ``NewType`` of a ``NewType`` of ``AsyncSession``, in another module.
        Example(
            """
            from fastapi import APIRouter, Depends
            from app.db import AsyncSession, get_db
            from app.orders.service import order_service
            router = APIRouter()
            @router.get("/health/orders")
            async def count(session: AsyncSession = Depends(get_db)):
                return await session.scalar(select(func.count(Order.id)))
            """,
            path="app/routes.py",
            files=(
                (
                    "app/db.py",
                    "from typing import NewType\n"
                    "from sqlalchemy.ext.asyncio import AsyncSession as _AsyncSession\n"
                    'AsyncReadSession = NewType("AsyncReadSession", _AsyncSession)\n'
                    'AsyncSession = NewType("AsyncSession", AsyncReadSession)\n',
                ),
            ),
        ),
        # A transaction script in a Django project without a service layer: queries,
        # a loop deciding on each order, ``save()`` on each instance.
        Example(
            """
            from django.http import JsonResponse
            def hold_large_orders(request):
                held = 0
                for order in Order.objects.filter(owner=request.user):
                    if order.total > 1000:
                        order.status = "held"
                        order.save()
                return JsonResponse({"held": Order.objects.filter(status="held").count()})
            """,
            path="shop/views.py",
            files=(
                ("shop/urls.py", "from shop import views\npath('h/', views.hold_large_orders)\n"),
            ),
        ),
        # A repository's write called from the handler, in a project with services.
        Example(
            _routes(
                """
            from app.orders.repository import OrderRepository
            @router.post("/orders/{order_id}/archive")
            def archive(order_id: int, db: Session = Depends(get_db)):
                return OrderRepository(db).archive(order_id)
            """
            ),
            path="app/routes.py",
            files=_SERVICE_LAYER,
        ),
        # ``XRepository.from_session(session)`` builds a repository; the type decides.
        Example(
            _routes(
                """
            from app.orders.repository import OrderRepository
            @router.post("/orders/{order_id}/note")
            async def note(order_id: int, text: str, db: Session = Depends(get_db)):
                records = OrderRepository.from_session(db)
                order = await records.get_by_id(order_id)
                return await records.update(order, update_dict={"note": text})
            """
            ),
            path="app/routes.py",
            files=_SERVICE_LAYER,
        ),
        Example(
            _routes(
                """
            from app.db import SessionLocal
            @router.post("/carts/purge")
            def purge():
                with SessionLocal() as s:
                    s.execute(text("delete from carts where expired"))
            """
            ),
            path="app/routes.py",
            files=_SERVICE_LAYER,
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
        # A Django project without a service layer queries the ORM from its views.
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
        # So does a Flask one, fetching, deleting and committing.
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
            files=_SERVICE_LAYER,
        ),
        # Committing the request's unit of work after calling the service.
        Example(
            _routes(
                """
            @router.post("/orders")
            def create(body: CreateOrder, db: Session = Depends(get_db)):
                order = orders.place(db, body)
                db.commit()
                return order
            """
            ),
            path="app/routes.py",
            files=_SERVICE_LAYER,
        ),
        # Reading through a repository, and a connection check.
        Example(
            _routes(
                """
            from app.repositories import OrderRepository
            @router.get("/orders/{id}")
            def get_order(id: int, data: OrderRepository = Depends()):
                return data.get(id)
            @router.get("/health")
            def health(db: Session = Depends(get_db)):
                db.execute(select(1))
            """
            ),
            path="app/routes.py",
            files=_SERVICE_LAYER,
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
            from app.services import users
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
            files=_SERVICE_LAYER,
        ),
    )

    def applies_to(self, ctx: FileContext) -> bool:
        return bool(ctx.handlers) and super().applies_to(ctx)

    def begin_file(self, ctx: FileContext) -> None:
        super().begin_file(ctx)
        self._finder: DataAccessFinder | None = None
        self._aliases: dict[str, cst.BaseExpression] = {}

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        handler = self.ctx.handlers.get(id(node))
        if handler is None:
            return
        if self._finder is None:
            tree = self.ctx.tree
            self._aliases = module_aliases(tree)
            self._finder = DataAccessFinder(self.ctx, self._aliases, class_annotations(tree))
        accesses = self._finder.find(handler)
        if not accesses:
            return
        if _transaction_script(accesses, measure(handler, self.ctx, self._aliases)):
            self._report(handler, accesses, "script", ())
            return
        data = [access for access in accesses if access.kind != "repository"]
        repository = [access for access in accesses if access.kind == "repository"]
        if data and not all(access.control for access in data):
            self._report(handler, data, "data", (HasLayer(frozenset({SERVICE, REPOSITORY})),))
        if any(access.write for access in repository):
            self._report(handler, repository, "repository", (HasLayer(frozenset({SERVICE})),))

    def _report(
        self,
        handler: Handler,
        accesses: list[Access],
        kind: str,
        layer: tuple[Condition, ...],
    ) -> None:
        listed = listing([access.shown for access in accesses])
        conditions: list[Condition] = [*handler.requires, *layer]
        if any(access.conditions for access in accesses):
            calls = tuple((access.shown, access.conditions) for access in accesses)
            conditions.append(SomeCallIsAccess(calls, listed))
        # Anchor on a call that is data access whatever the project pass decides.
        anchor = next((a for a in accesses if not a.conditions), accesses[0])
        self.report(anchor.node, _message(handler.qualname, kind, listed), conditions=conditions)


def _transaction_script(accesses: list[Access], metrics: Metrics) -> bool:
    """Several persistence calls, one of them a write, mixed with the handler's own
    logic (a loop, a decision on domain state or two branches): a use case with its
    transaction, written in the handler."""
    if len({access.shown for access in accesses}) < 2:
        return False
    if not any(access.write for access in accesses):
        return False
    return metrics.loops > 0 or metrics.domain_branches > 0 or metrics.branches >= 2


def _message(handler: str, kind: str, listed: str) -> str:
    if kind == "repository":
        return (
            f"Route handler `{handler}` calls repository method {listed} directly: "
            "a service should own the use case and call the repository"
        )
    if kind == "script":
        return (
            f"Route handler `{handler}` mixes persistence ({listed}) with its own logic: "
            "the use case and its transaction belong in a service"
        )
    return (
        f"Route handler `{handler}` calls {listed} directly: "
        "data access belongs in a repository behind a service"
    )
