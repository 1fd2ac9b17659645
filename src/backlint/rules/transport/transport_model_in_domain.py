from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

import libcst as cst
import pathspec

from backlint.diagnostics import Severity
from backlint.engine.context import FileContext
from backlint.index.names import dotted_name
from backlint.index.routes import annotation_names
from backlint.index.transport import DEFAULT_SCHEMA_NAME_PATTERNS, TransportModel, transport_model
from backlint.rules.base import Condition, Example, FileRule, Option, OptionValue

if TYPE_CHECKING:
    from backlint.index.project import ProjectIndex

_VALIDATORS = frozenset(
    {
        "model_validate",
        "model_validate_json",
        "model_validate_strings",
        "model_construct",
        "parse_obj",
        "parse_raw",
        "construct",
        "from_orm",
    }
)
_MARKER = "{model}"

_SCHEMAS = """
from pydantic import BaseModel

class CreateUserRequest(BaseModel):
    name: str

class UserResponse(BaseModel):
    id: int

class UpdateUserRequest(BaseModel):
    name: str

class UserFilters(BaseModel):
    name: str | None = None

class CurrentUser(BaseModel):
    id: int

class Address(BaseModel):
    city: str

class UserOut(BaseModel):
    id: int
    address: Address
"""

_ROUTES = """
from fastapi import APIRouter, Depends
from users.schemas import (
    Address, CreateUserRequest, CurrentUser, UpdateUserRequest, UserFilters, UserOut,
    UserResponse,
)

router = APIRouter()

def current_user() -> CurrentUser: ...

@router.post("/users", response_model=UserResponse)
def create_user(body: CreateUserRequest, me: CurrentUser = Depends(current_user)):
    ...

@router.patch("/users/{uid}")
def rename_user(uid: int, body: UpdateUserRequest) -> UserResponse:
    ...

@router.get("/users")
def search_users(filters: UserFilters = Depends()) -> list[UserOut]:
    ...

@router.get("/users/{uid}/address")
def get_address(uid: int) -> Address:
    ...
"""

_USERS = (("users/schemas.py", _SCHEMAS), ("users/routes.py", _ROUTES), ("users/__init__.py", ""))


@dataclass(frozen=True)
class Use:
    """One way a function (or an import) depends on a class: ``kind`` is ``parameter``
    (``detail`` its name), ``return``, ``build`` (``detail`` the call, ``UserOut(...)``)
    or empty for an import; ``names`` are the qualified names it mentions."""

    names: tuple[str, ...]
    kind: str = ""
    detail: str = ""


def _describe(uses: list[Use]) -> str:
    """``parameters `a`, `b`, return type, builds it with `A(...)```: how code uses a model."""
    parts = []
    for kind, singular, plural in (
        ("parameter", "parameter", "parameters"),
        ("return", "return type", "return type"),
        ("build", "builds it with", "builds it with"),
    ):
        details = list(dict.fromkeys(use.detail for use in uses if use.kind == kind))
        if details:
            label = singular if len(details) == 1 else plural
            parts.append(" ".join([label, ", ".join(d for d in details if d)]).strip())
    return ", ".join(parts)


@dataclass(frozen=True)
class UsesTransportModel:
    """One of the ``uses`` mentions a transport model.

    The message template holds ``{model}``, which ``refine`` replaces with each transport
    model found: its name, how the code uses it, its module and why it is one. The
    finding is low confidence when the file is a vendor adapter (``adapter-globs``) or
    every model found is only named like a schema or defined in an adapter package.
    """

    uses: tuple[Use, ...]
    patterns: tuple[str, ...]
    allowed: tuple[str, ...]
    adapter_globs: tuple[str, ...] = ()
    in_adapter: bool = False

    def _found(self, project: ProjectIndex) -> list[tuple[TransportModel, list[Use]]]:
        found: dict[str, tuple[TransportModel, list[Use]]] = {}
        for use in self.uses:
            for name in use.names:
                model = transport_model(project, name, self.patterns)
                if model is None or {model.name, model.canonical} & set(self.allowed):
                    continue
                found.setdefault(model.canonical, (model, []))[1].append(use)
        sure = [item for item in found.values() if not self._doubtful(item[0], project)]
        return sure or list(found.values())

    def _doubtful(self, model: TransportModel, project: ProjectIndex) -> bool:
        # Matched on the module's dotted path, which does not depend on where backlint runs.
        where = model.module.replace(".", "/") + ".py"
        adapters = _adapters(project, self.adapter_globs)
        return model.confidence == "low" or adapters.match_file(where)

    def holds(self, project: ProjectIndex) -> bool:
        return bool(self._found(project))

    def confidence(self, project: ProjectIndex) -> str:
        found = self._found(project)
        if self.in_adapter or all(self._doubtful(model, project) for model, _ in found):
            return "low"
        return "high"

    def refine(self, message: str, project: ProjectIndex) -> str:
        found = self._found(project)
        described = []
        for model, uses in found:
            how = _describe(uses)
            how = f" ({how})" if how else ""
            described.append(f"`{model.name}`{how} from `{model.module}`, {model.reason}")
        noun = "transport model" if len(described) == 1 else "transport models"
        return message.replace(_MARKER, f"{noun} {'; '.join(described)}")


def _adapters(project: ProjectIndex, globs: tuple[str, ...]) -> pathspec.GitIgnoreSpec:
    return project.memo(("BL401-adapters", globs), lambda: pathspec.GitIgnoreSpec.from_lines(globs))


@dataclass(frozen=True)
class DefinesNoTransportModel:
    """The module defines no transport model itself.

    A ``models.py`` is a domain module by name only; in many FastAPI projects it also
    holds the request/response schemas, and then it is a schema module too, where
    composing one schema from another is the point.
    """

    module: str
    patterns: tuple[str, ...]

    def holds(self, project: ProjectIndex) -> bool:
        return project.memo(("BL401-schema-module", self.module), self._compute(project))

    def _compute(self, project: ProjectIndex) -> Callable[[], bool]:
        def compute() -> bool:
            facts = project.facts_of(self.module)
            if facts is None:
                return True
            return not any(
                transport_model(project, f"{self.module}.{fact.name}", self.patterns)
                for fact in facts.classes
            )

        return compute


class TransportModelInDomain(FileRule):
    """
    ## What it does
    Flags service and domain functions that depend on a transport model: a Pydantic
    class that a route handler of the project takes as its request or returns as its
    response. A function is reported once, at its name, and the message names every
    transport model it uses, how (a parameter, the return type, a construction or
    `model_validate` call), the module that defines it and the route handler that makes
    it a transport model. Annotations are read inside `Optional[...]`, `X | None`,
    `list[...]` and strings. A model the module only uses some other way (`isinstance`,
    an attribute) is reported at its import, once per import statement.

    A Pydantic class is a transport model when a route handler of the run takes it (a
    body or query-model parameter) or returns it (`response_model=`, the return
    annotation), or when it is defined in a `routes` module. Models are resolved through
    the project's imports, re-exports and base classes, so `class CreateUser(UserBase)`
    two modules away is recognised, and pydantic need not be installed.

    It leaves alone what is not an HTTP payload, or is evidently more than one:
    - classes of a `schemas` module that no route handler uses: e-mail template props,
      message-queue payloads and LLM output shapes live in such modules too;
    - classes only *named* like a schema (`schema-name-patterns`: `UserResponse`,
      `OrderPayload`): a low-confidence finding, shown with `include-low-confidence`;
    - domain and persistence classes, even when a route handler returns them: a
      `table=True` SQLModel; a class the persistence code takes, returns or is
      parametrised with (a `repository` file, a module under `crud`, `db`, `repos`,
      `dal`, or a class named like `UserRepository`, `RepositoryGeneric[UserOut, Row]`,
      `CRUDBase`), and the classes nested in its fields; a class with behaviour of its
      own (a public method other than validators, serializers and `to_*`/`from_*`
      conversions);
    - what a route handler gets from a dependency (`user: User = Depends(current_user)`):
      that is not part of the request;
    - vendor adapters (`adapter-globs`, by default `integrations/`), which speak the
      vendor's protocol: their findings, and those about models defined there, are low
      confidence;
    - Pydantic classes defined in a `domain` module, settings classes, mapper modules,
      route handlers that live in a service module, and private functions.

    ## Why is this bad?
    The request and response shapes belong to the HTTP API. Once a service accepts
    `CreateUserRequest`, every change to the API contract (a renamed field, a new
    optional value) ripples into business code, the service cannot be called from a
    CLI, a worker or a test without faking an HTTP payload, and validation rules of the
    transport end up deciding business behaviour.

    ## Example
    ```python
    # users/service.py
    from users.schemas import CreateUserRequest, UserResponse

    class UserService:
        def create(self, req: CreateUserRequest) -> UserResponse:
            user = self.repo.add(User(name=req.name))
            return UserResponse.model_validate(user)
    ```

    Use instead:
    ```python
    # users/service.py
    class UserService:
        def create(self, cmd: CreateUser) -> User:
            return self.repo.add(User(name=cmd.name))

    # users/routes.py
    @router.post("/users", response_model=UserResponse)
    def create(req: CreateUserRequest, svc: UserService = Depends(get_service)):
        return UserResponse.model_validate(svc.create(CreateUser(name=req.name)))
    ```

    ## How to fix
    Define a domain command or value object (`CreateUser`) and map the request to it in
    the route handler; return domain objects and map them to the response there too.
    Modules that exist to do this mapping (`mapper-globs`, by default `mappers.py` and
    `assemblers.py`) are not checked, and `allowed-models` lists models the team
    accepts in services.

    A `models.py` is a domain module by default only because of its name. When it
    defines transport models itself (FastAPI projects often keep their request and
    response schemas beside the tables there), it is a schema module too and is not
    checked. Explicit domain modules (`domain.py`, `domain/`, `entities.py`) vouch for
    their Pydantic classes.

    Calibration: private functions (`_to_response`) are not checked by default, because
    a private mapping helper next to the service is the usual first step of the fix;
    constructions are only considered for callees spelled with a capital letter (class
    names), which keeps the check cheap and quiet on ordinary function calls. The route
    registry only knows the handlers of the files checked, so a run over a few files
    (pre-commit) sees fewer transport models than a run over the project.
    """

    code = "BL401"
    name = "transport-model-in-domain"
    summary = "Service or domain code depends on an HTTP request/response model."
    fix_text = (
        "Accept a domain command/value object (`CreateUser`) and map "
        "`CreateUserRequest → CreateUser` in the route."
    )
    severity = Severity.WARNING
    # Below the precision bar on code it was not tuned on (docs/precision.md): it runs
    # when selected by its code or name, or with `preview = true`.
    default_enabled = False
    preview = True
    tags = ("architecture", "AP-PY04", "PQG-3")
    roles = frozenset({"service", "domain"})
    include_tests = False
    options = (
        Option(
            "schema-name-patterns",
            DEFAULT_SCHEMA_NAME_PATTERNS,
            "Regular expressions: a Pydantic class whose name matches one is a transport "
            "model wherever it is defined (except in domain modules).",
        ),
        Option(
            "mapper-globs",
            ("**/mappers.py", "**/assemblers.py"),
            "Files that map between transport and domain models; not checked.",
        ),
        Option(
            "allowed-models",
            (),
            "Transport models accepted in services, by class name or qualified name.",
        ),
        Option(
            "adapter-globs",
            ("**/integrations/**",),
            "Packages of adapters that speak a vendor's protocol: their findings, and those "
            "about models defined there, are low confidence (shown with "
            "`include-low-confidence`).",
        ),
        Option(
            "check-private-functions",
            False,
            "Also check functions whose name starts with `_`.",
        ),
    )
    invalid = (
        # One finding per function, naming both models and the handler behind each.
        Example(
            """
            from users.schemas import CreateUserRequest, UserResponse

            class UserService:
                def create(self, req: CreateUserRequest) -> UserResponse:
                    return UserResponse.model_validate(self.repo.add(req.name))
            """,
            path="users/service.py",
            files=_USERS,
            expect=1,
        ),
        Example(
            """
            from typing import Optional
            from users.schemas import UpdateUserRequest

            def rename(uid: int, body: Optional["UpdateUserRequest"]) -> None:
                ...
            """,
            path="users/service.py",
            files=_USERS,
            expect=1,
        ),
        Example(
            """
            from users.schemas import UserResponse

            def view(u):
                return UserResponse.model_validate(u)
            """,
            path="users/service.py",
            files=_USERS,
            expect=1,
        ),
        # A function building the response five times is one finding.
        Example(
            """
            from users.schemas import UserResponse

            def build(ids: list[int]) -> list[UserResponse | None]:
                if not ids:
                    return [UserResponse(id=0)]
                first = UserResponse(id=ids[0])
                rest = [UserResponse(id=i) for i in ids[1:]]
                return [first, *rest, UserResponse(id=-1), UserResponse(id=-2)]
            """,
            path="users/services/build.py",
            files=_USERS,
            expect=1,
        ),
        # Defined two modules away, re-exported by a package, named like a domain class:
        # a transport model because a route handler takes it as its body.
        Example(
            """
            from app.api import NewOrder

            def place(order: NewOrder) -> None:
                ...
            """,
            path="app/services/orders.py",
            files=(
                ("app/api/__init__.py", "from app.api.payloads import NewOrder\n"),
                (
                    "app/api/payloads.py",
                    "from app.api.base import Base\n\nclass NewOrder(Base):\n    sku: str\n",
                ),
                (
                    "app/api/base.py",
                    "import pydantic\n\nclass Base(pydantic.BaseModel):\n    pass\n",
                ),
                (
                    "app/web/orders_api.py",
                    "from fastapi import APIRouter\nfrom app.api import NewOrder\n"
                    "router = APIRouter()\n\n@router.post('/orders')\n"
                    "def create(body: NewOrder) -> None:\n    ...\n",
                ),
            ),
            expect=1,
        ),
        # Only referenced by isinstance: reported at the import, once per statement.
        Example(
            """
            from typing import TYPE_CHECKING
            if TYPE_CHECKING:
                from users.schemas import CreateUserRequest, UpdateUserRequest

            def is_request(x) -> bool:
                return isinstance(x, (CreateUserRequest, UpdateUserRequest))
            """,
            path="users/domain.py",
            files=_USERS,
            expect=1,
        ),
        # A query model the handler builds with `Depends()` is part of the request.
        Example(
            """
            from users.schemas import UserFilters

            def search(filters: UserFilters) -> list[int]:
                ...
            """,
            path="users/service.py",
            files=_USERS,
            expect=1,
        ),
    )
    valid = (
        Example(
            """
            from users.domain import CreateUser, User

            def create(cmd: CreateUser) -> User:
                ...
            """,
            path="users/service.py",
            files=(
                (
                    "users/domain.py",
                    "from pydantic import BaseModel\n\nclass CreateUser(BaseModel):\n"
                    "    name: str\n\nclass User(BaseModel):\n    id: int\n",
                ),
            ),
        ),
        # Pydantic classes in domain modules are domain values, whatever their name.
        Example(
            """
            from pydantic import BaseModel

            class Money(BaseModel):
                amount: int

            class PriceResponse(BaseModel):
                value: Money

            def total(items: list[Money]) -> PriceResponse:
                return PriceResponse(value=Money(amount=1))
            """,
            path="billing/domain.py",
        ),
        Example(
            """
            from users.domain import CreateUser
            from users.schemas import CreateUserRequest

            def to_cmd(r: CreateUserRequest) -> CreateUser:
                return CreateUser(name=r.name)
            """,
            path="users/mappers.py",
            files=_USERS,
        ),
        Example(
            """
            from users.schemas import CreateUserRequest

            def _to_cmd(r: CreateUserRequest):
                ...
            """,
            path="users/service.py",
            files=_USERS,
        ),
        # Settings classes are Pydantic but not transport models.
        Example(
            """
            from app.settings import AppSettings

            def configure(settings: AppSettings) -> None:
                ...
            """,
            path="app/services/setup.py",
            files=(
                (
                    "app/settings.py",
                    "from pydantic_settings import BaseSettings\n\n"
                    "class AppSettings(BaseSettings):\n    debug: bool = False\n",
                ),
            ),
        ),
        # A dataclass named like a response is not Pydantic.
        Example(
            """
            from dataclasses import dataclass

            @dataclass
            class QuoteResponse:
                total: int

            def quote() -> QuoteResponse:
                return QuoteResponse(total=1)
            """,
            path="app/services/quotes.py",
        ),
        Example(
            """
            from users.schemas import CreateUserRequest

            def create(req: CreateUserRequest) -> None:
                ...
            """,
            path="users/routes.py",
            files=_USERS,
        ),
        # E-mail template props in a schemas module: no route handler uses them.
        Example(
            """
            from app.email.schemas import WelcomeEmailProps

            def send_welcome(email: str) -> None:
                enqueue("welcome", WelcomeEmailProps(email=email, url="https://x"))
            """,
            path="app/services/mail.py",
            files=(
                (
                    "app/email/schemas.py",
                    "from pydantic import BaseModel\n\nclass WelcomeEmailProps(BaseModel):\n"
                    "    email: str\n    url: str\n",
                ),
            ),
        ),
        # Only its name says "payload", and no route handler uses it: low confidence,
        # not shown by default (a message-queue payload).
        Example(
            """
            from app.events import OrderPaidPayload

            def publish(order_id: int) -> OrderPaidPayload:
                return OrderPaidPayload(order_id=order_id)
            """,
            path="app/services/events.py",
            files=(
                (
                    "app/events.py",
                    "from pydantic import BaseModel\n\nclass OrderPaidPayload(BaseModel):\n"
                    "    order_id: int\n",
                ),
            ),
        ),
        # The repository layer is parametrised with `UserOut` and nests `Address` in it:
        # the application's stored shape, although route handlers return both.
        Example(
            """
            from users.schemas import Address, UserOut

            class UserService:
                def get(self, uid: int) -> UserOut:
                    return self.repo.get(uid)

                def move(self, user: UserOut, to: Address) -> UserOut:
                    return self.repo.update(user.model_copy(update={"address": to}))
            """,
            path="users/service.py",
            files=(
                *_USERS,
                (
                    "users/repos.py",
                    "from app.db import RepositoryGeneric, UserRow\n"
                    "from users.schemas import UserOut\n\n"
                    "class UserRepository(RepositoryGeneric[UserOut, UserRow]):\n"
                    "    pass\n",
                ),
            ),
        ),
        # The CRUD module writes `UserCreate` (the FastAPI template's layout).
        Example(
            """
            from app import crud
            from app.models import UserCreate

            def sign_up(session, data: UserCreate) -> None:
                crud.create_user(session, data)
            """,
            path="app/services/signup.py",
            files=(
                (
                    "app/models.py",
                    "from sqlmodel import SQLModel\n\nclass UserCreate(SQLModel):\n"
                    "    email: str\n\nclass User(SQLModel, table=True):\n"
                    "    id: int\n    email: str\n",
                ),
                (
                    "app/crud.py",
                    "from app.models import User, UserCreate\n\n"
                    "def create_user(session, user_create: UserCreate) -> User:\n    ...\n",
                ),
                (
                    "app/api/routes/users.py",
                    "from fastapi import APIRouter\nfrom app.models import User, UserCreate\n"
                    "router = APIRouter()\n\n@router.post('/users')\n"
                    "def create(body: UserCreate) -> User:\n    ...\n",
                ),
            ),
        ),
        # A `table=True` SQLModel is a table, even when a handler returns it.
        Example(
            """
            from app.models import User

            def rename(user: User, name: str) -> User:
                user.name = name
                return user
            """,
            path="app/services/users.py",
            files=(
                (
                    "app/models.py",
                    "from sqlmodel import SQLModel\n\nclass User(SQLModel, table=True):\n"
                    "    id: int\n    name: str\n",
                ),
                (
                    "app/routes.py",
                    "from fastapi import APIRouter\nfrom app.models import User\n"
                    "router = APIRouter()\n\n@router.get('/users/{uid}')\n"
                    "def get(uid: int) -> User:\n    ...\n",
                ),
            ),
        ),
        # A class with behaviour of its own is a domain class the API also returns.
        Example(
            """
            from shop.schemas import Cart

            def checkout(cart: Cart) -> int:
                return cart.total()
            """,
            path="shop/service.py",
            files=(
                (
                    "shop/schemas.py",
                    "from pydantic import BaseModel\n\nclass Cart(BaseModel):\n"
                    "    prices: list[int]\n\n    def total(self) -> int:\n"
                    "        return sum(self.prices)\n",
                ),
                (
                    "shop/routes.py",
                    "from fastapi import APIRouter\nfrom shop.schemas import Cart\n"
                    "router = APIRouter()\n\n@router.get('/cart')\n"
                    "def get_cart() -> Cart:\n    ...\n",
                ),
            ),
        ),
        # What a dependency gives a handler is not part of the request.
        Example(
            """
            from users.schemas import CurrentUser

            def audit(user: CurrentUser) -> None:
                ...
            """,
            path="users/service.py",
            files=_USERS,
        ),
        # A vendor adapter speaks the vendor's protocol: low confidence.
        Example(
            """
            from app.integrations.plain.schemas import CardsRequest, CardsResponse

            class PlainService:
                def cards(self, request: CardsRequest) -> CardsResponse:
                    return CardsResponse(cards=[])
            """,
            path="app/integrations/plain/service.py",
            files=(
                (
                    "app/integrations/plain/schemas.py",
                    "from pydantic import BaseModel\n\nclass CardsRequest(BaseModel):\n"
                    "    email: str\n\nclass CardsResponse(BaseModel):\n    cards: list[str]\n",
                ),
                (
                    "app/integrations/plain/endpoints.py",
                    "from fastapi import APIRouter\n"
                    "from app.integrations.plain.schemas import CardsRequest, CardsResponse\n"
                    "router = APIRouter()\n\n@router.post('/plain/cards')\n"
                    "def cards(body: CardsRequest) -> CardsResponse:\n    ...\n",
                ),
            ),
        ),
    )

    def __init__(self, settings: Mapping[str, OptionValue] | None = None) -> None:
        super().__init__(settings)
        self._specs: dict[str, pathspec.GitIgnoreSpec] = {}  # compiled glob options

    def applies_to(self, ctx: FileContext) -> bool:
        if not super().applies_to(ctx):
            return False
        return not self._spec("mapper-globs").match_file(ctx.relative)

    def _spec(self, option: str) -> pathspec.GitIgnoreSpec:
        if option not in self._specs:
            self._specs[option] = pathspec.GitIgnoreSpec.from_lines(self.str_list_option(option))
        return self._specs[option]

    def begin_file(self, ctx: FileContext) -> None:
        super().begin_file(ctx)
        self._classes: list[str] = []
        # The module, then each enclosing class body or function being walked.
        self._scopes: list[_Scope] = [_Scope("Module-level code", None, skipped=False)]
        self._used: set[str] = set()  # qualified names used in signatures or calls
        self._imports: list[tuple[cst.ImportFrom, list[str]]] = []
        self._patterns = self.str_list_option("schema-name-patterns")
        self._allowed = self.str_list_option("allowed-models")
        self._in_adapter = self._spec("adapter-globs").match_file(ctx.relative)

    def _conditions(self, uses: list[Use]) -> tuple[Condition, ...]:
        mentions = UsesTransportModel(
            tuple(uses),
            self._patterns,
            self._allowed,
            self.str_list_option("adapter-globs"),
            self._in_adapter,
        )
        if PurePosixPath(self.ctx.relative).name == "models.py":
            return (mentions, DefinesNoTransportModel(self.ctx.module, self._patterns))
        return (mentions,)

    def _private(self, name: str) -> bool:
        private = name.startswith("_") and not (name.startswith("__") and name.endswith("__"))
        return private and not self.option("check-private-functions")

    # Scopes: one finding per function (or class body, or the module's own code).

    def _enter(self, name: str, anchor: cst.CSTNode | None, skipped: bool) -> _Scope:
        scope = _Scope(name, anchor, skipped or self._scopes[-1].skipped)
        self._scopes.append(scope)
        return scope

    def _leave(self) -> None:
        self._report_scope(self._scopes.pop())

    def _report_scope(self, scope: _Scope) -> None:
        anchor = scope.anchor or scope.first
        if scope.skipped or not scope.uses or anchor is None:
            return
        self.report(
            anchor,
            f"{scope.name} depends on {_MARKER}",
            conditions=self._conditions(scope.uses),
        )

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._classes.append(node.name.value)
        self._enter(
            f"The body of class `{'.'.join(self._classes)}`", None, self._private(node.name.value)
        )
        # Deriving a class from a shared Pydantic base is not a use of a transport model.
        for base in node.bases:
            qualified = self.ctx.qualified_name(base.value)
            if qualified is not None:
                self._used.add(qualified)

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self._leave()
        self._classes.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        name = node.name.value
        # A route handler in a service module may take and return transport models.
        skipped = self._private(name) or id(node) in self.ctx.handlers
        what = ".".join([*self._classes, name])
        scope = self._enter(f"`{what}`", node.name, skipped)
        params = node.params
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            if param.annotation is not None:
                self._use(scope, param.annotation.annotation, f"`{param.name.value}`")
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param) and star.annotation is not None:
                self._use(scope, star.annotation.annotation, f"`{star.name.value}`")
        if node.returns is not None:
            self._use(scope, node.returns.annotation, "", kind="return")

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._leave()

    def _use(
        self,
        scope: _Scope,
        annotation: cst.BaseExpression,
        detail: str,
        kind: str = "parameter",
    ) -> None:
        names = [n for n in annotation_names(annotation, self.ctx.names) if _may_be_project(n)]
        if names:
            self._used.update(names)
            scope.uses.append(Use(tuple(names), kind, detail))

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        validator = ""
        if isinstance(func, cst.Attribute) and func.attr.value in _VALIDATORS:
            validator = func.attr.value
            func = func.value
        dotted = dotted_name(func)
        if dotted is None or not dotted.rsplit(".", 1)[-1][:1].isupper():
            return
        qualified = self.ctx.qualified_name(func)
        if qualified is None or not _may_be_project(qualified):
            return
        self._used.add(qualified)
        scope = self._scopes[-1]
        scope.first = scope.first or node
        shown = f"`{dotted}.{validator}`" if validator else f"`{dotted}(...)`"
        scope.uses.append(Use((qualified,), "build", shown))

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar):
            return
        names = []
        for alias in node.names:
            local = alias.evaluated_alias or alias.evaluated_name
            if "." in local or not local[:1].isupper():
                continue
            qualified = self.ctx.names.imported(local)
            if qualified is not None and _may_be_project(qualified):
                names.append(qualified)
        if names:
            self._imports.append((node, names))

    def end_file(self) -> None:
        self._report_scope(self._scopes[0])
        # A model referenced only some other way (``isinstance``, an attribute): one
        # finding per import statement, naming the models it imports.
        for node, names in self._imports:
            unused = [name for name in names if name not in self._used]
            if unused:
                self.report(
                    node,
                    f"Service/domain code imports {_MARKER}",
                    first_line=True,
                    conditions=self._conditions([Use((name,)) for name in unused]),
                )


@dataclass
class _Scope:
    """A function, class body or module being walked, with the uses found in it."""

    name: str  # how the message names it
    anchor: cst.CSTNode | None  # where its finding goes; None: at its first construction
    skipped: bool  # private, a route handler, or inside one: not reported
    uses: list[Use] = field(default_factory=list)
    first: cst.CSTNode | None = None


def _may_be_project(qualified: str) -> bool:
    """Leave out names that cannot be project classes (builtins, the standard library)."""
    head = qualified.split(".", 1)[0]
    return head not in sys.stdlib_module_names and head not in ("builtins", "pydantic")
