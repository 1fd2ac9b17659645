from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

import libcst as cst
import pathspec

from backlint.diagnostics import Severity
from backlint.engine.context import FileContext
from backlint.index.names import dotted_name
from backlint.index.routes import annotation_names
from backlint.index.transport import DEFAULT_SCHEMA_NAME_PATTERNS, TransportModel, transport_model
from backlint.rules.base import Condition, Example, FileRule, Option

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
"""


@dataclass(frozen=True)
class MentionsTransportModel:
    """One of ``names`` is a transport model; the message learns which and where."""

    names: tuple[str, ...]
    patterns: tuple[str, ...]
    allowed: tuple[str, ...]

    def _found(self, project: ProjectIndex) -> list[TransportModel]:
        found = []
        for name in self.names:
            model = transport_model(project, name, self.patterns)
            if model is not None and not {model.name, model.canonical} & set(self.allowed):
                found.append(model)
        return found

    def holds(self, project: ProjectIndex) -> bool:
        return bool(self._found(project))

    def refine(self, message: str, project: ProjectIndex) -> str:
        shown = ", ".join(
            f"`{model.name}` (from `{model.canonical.rpartition('.')[0]}`, {model.reason})"
            for model in self._found(project)
        )
        return message.replace(_MARKER, shown)


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
    Flags service and domain code that depends on a transport model: a Pydantic class
    that describes an HTTP request or response. It reports each parameter or return
    annotation that mentions one (inside `Optional[...]`, `X | None`, `list[...]` and
    string annotations too), each construction or `model_validate` call, and the
    import of one that is only used some other way.

    A Pydantic class is a transport model when it is defined in a `schemas` or
    `routes` module, when a route handler of the project takes or returns it (body
    parameter, return annotation, `response_model=`), or when its name matches
    `schema-name-patterns` (`CreateUserRequest`, `UserResponse`, `OrderPayload`,
    `ItemSchema`). Pydantic classes defined in a `domain` module are domain values and
    never count. Models are resolved through the project's imports, re-exports and base
    classes, so `class CreateUser(UserBase)` two modules away is recognised, and
    pydantic need not be installed.

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
    checked; when only its name suggests a domain module, the Pydantic classes it
    defines still count as transport models if route handlers use them or their names
    say so. Explicit domain modules (`domain.py`, `domain/`, `entities.py`) vouch for
    their Pydantic classes.

    Calibration: private functions (`_to_response`) are not checked by default, because
    a private mapping helper next to the service is the usual first step of the fix;
    constructions are only considered for callees spelled with a capital letter (class
    names), which keeps the check cheap and quiet on ordinary function calls.
    """

    code = "BL401"
    name = "transport-model-in-domain"
    summary = "Service or domain code depends on an HTTP request/response model."
    fix_text = (
        "Accept a domain command/value object (`CreateUser`) and map "
        "`CreateUserRequest → CreateUser` in the route."
    )
    severity = Severity.WARNING
    tags = ("architecture", "AP-PY04")
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
            "check-private-functions",
            False,
            "Also check functions whose name starts with `_`.",
        ),
    )
    invalid = (
        Example(
            """
            from users.schemas import CreateUserRequest, UserResponse

            class UserService:
                def create(self, req: CreateUserRequest) -> UserResponse:
                    ...
            """,
            path="users/service.py",
            files=(("users/schemas.py", _SCHEMAS), ("users/__init__.py", "")),
            expect=2,
        ),
        Example(
            """
            from typing import Optional
            from users.schemas import UpdateUserRequest

            def rename(uid: int, body: Optional["UpdateUserRequest"]) -> None:
                ...
            """,
            path="users/service.py",
            files=(("users/schemas.py", _SCHEMAS),),
            expect=1,
        ),
        Example(
            """
            from users.schemas import UserResponse

            def view(u):
                return UserResponse.model_validate(u)
            """,
            path="users/service.py",
            files=(("users/schemas.py", _SCHEMAS),),
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
        # Only referenced by isinstance: reported at the import.
        Example(
            """
            from typing import TYPE_CHECKING
            if TYPE_CHECKING:
                from users.schemas import UserResponse

            def is_response(x) -> bool:
                return isinstance(x, UserResponse)
            """,
            path="users/domain.py",
            files=(("users/schemas.py", _SCHEMAS),),
            expect=1,
        ),
        Example(
            """
            from users.schemas import UserResponse

            def build(user_id: int) -> list[UserResponse | None]:
                return [UserResponse(id=user_id)]
            """,
            path="users/services/build.py",
            files=(("users/schemas.py", _SCHEMAS),),
            expect=2,
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
            files=(("users/schemas.py", _SCHEMAS),),
        ),
        Example(
            """
            from users.schemas import CreateUserRequest

            def _to_cmd(r: CreateUserRequest):
                ...
            """,
            path="users/service.py",
            files=(("users/schemas.py", _SCHEMAS),),
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
            files=(("users/schemas.py", _SCHEMAS),),
        ),
    )

    def applies_to(self, ctx: FileContext) -> bool:
        if not super().applies_to(ctx):
            return False
        return not self._mappers.match_file(ctx.relative)

    @property
    def _mappers(self) -> pathspec.GitIgnoreSpec:
        spec = getattr(self, "_mapper_spec", None)
        if spec is None:
            spec = pathspec.GitIgnoreSpec.from_lines(self.str_list_option("mapper-globs"))
            self._mapper_spec = spec
        return spec

    def begin_file(self, ctx: FileContext) -> None:
        super().begin_file(ctx)
        self._functions: list[str] = []
        self._classes: list[str] = []
        self._used: set[str] = set()  # qualified names already checked by (1) or (2)
        self._imports: list[tuple[str, cst.ImportAlias]] = []
        self._patterns = self.str_list_option("schema-name-patterns")
        self._allowed = self.str_list_option("allowed-models")

    def _conditions(self, names: list[str]) -> tuple[Condition, ...]:
        mentions = MentionsTransportModel(tuple(names), self._patterns, self._allowed)
        if PurePosixPath(self.ctx.relative).name == "models.py":
            return (mentions, DefinesNoTransportModel(self.ctx.module, self._patterns))
        return (mentions,)

    def _skipped(self, name: str) -> bool:
        private = name.startswith("_") and not (name.startswith("__") and name.endswith("__"))
        return private and not self.option("check-private-functions")

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._classes.append(node.name.value)
        # Deriving a class from a shared Pydantic base is not a use of a transport model.
        for base in node.bases:
            qualified = self.ctx.qualified_name(base.value)
            if qualified is not None:
                self._used.add(qualified)

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self._classes.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        name = node.name.value
        self._functions.append(name)
        if self._skipped(name) or any(self._skipped(c) for c in self._classes):
            # A private mapping helper may use the model: its import is not reported.
            self._used.update(self._names_in_signature(node))
            return
        what = f"`{'.'.join([*self._classes, name])}`"
        params = (*node.params.posonly_params, *node.params.params, *node.params.kwonly_params)
        for param in params:
            if param.annotation is not None:
                self._check_annotation(
                    param.annotation.annotation,
                    f"{what} takes transport model {_MARKER} as parameter `{param.name.value}`",
                )
        for star in (node.params.star_arg, node.params.star_kwarg):
            if isinstance(star, cst.Param) and star.annotation is not None:
                self._check_annotation(
                    star.annotation.annotation,
                    f"{what} takes transport model {_MARKER} as parameter `{star.name.value}`",
                )
        if node.returns is not None:
            self._check_annotation(
                node.returns.annotation, f"{what} returns transport model {_MARKER}"
            )

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._functions.pop()

    def _names_in_signature(self, node: cst.FunctionDef) -> set[str]:
        annotations = [
            param.annotation.annotation
            for param in (*node.params.posonly_params, *node.params.params)
            if param.annotation is not None
        ]
        if node.returns is not None:
            annotations.append(node.returns.annotation)
        return {name for a in annotations for name in annotation_names(a, self.ctx.names)}

    def _check_annotation(self, annotation: cst.BaseExpression, message: str) -> None:
        names = [n for n in annotation_names(annotation, self.ctx.names) if _may_be_project(n)]
        if names:
            self._used.update(names)
            self.report(annotation, message, conditions=self._conditions(names))

    def visit_Call(self, node: cst.Call) -> None:
        private = bool(self._functions) and self._skipped(self._functions[-1])
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
        if private:
            return
        where = f" in `{self._functions[-1]}`" if self._functions else ""
        shown = f"`{dotted}.{validator}`" if validator else f"`{dotted}(...)`"
        self.report(
            node,
            f"{shown}{where} builds transport model {_MARKER} in service/domain code",
            conditions=self._conditions([qualified]),
        )

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            local = alias.evaluated_alias or alias.evaluated_name
            if "." in local or not local[:1].isupper():
                continue
            qualified = self.ctx.names.imported(local)
            if qualified is not None and _may_be_project(qualified):
                self._imports.append((qualified, alias))

    def end_file(self) -> None:
        for qualified, alias in self._imports:
            if qualified in self._used:
                continue
            self.report(
                alias,
                f"Import of transport model {_MARKER} into service/domain code",
                conditions=self._conditions([qualified]),
            )


def _may_be_project(qualified: str) -> bool:
    """Leave out names that cannot be project classes (builtins, the standard library)."""
    head = qualified.split(".", 1)[0]
    return head not in sys.stdlib_module_names and head not in ("builtins", "pydantic")
