from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

import libcst as cst

from backlint.diagnostics import Severity
from backlint.engine.context import FileContext
from backlint.rules.base import Condition, Example, FileRule, Option, OptionValue
from backlint.rules.layers.common import (
    DATA_MODEL_ROOTS,
    ENUM_LIKE_ROOTS,
    NotDerivedFrom,
    in_framework,
    is_exception_name,
    is_schema_base,
)

PROTOCOL_BASES = frozenset({"typing.Protocol", "typing_extensions.Protocol"})
ABSTRACT_DECORATORS = frozenset(
    {
        "abc.abstractmethod",
        "abc.abstractproperty",
        "abc.abstractclassmethod",
        "abc.abstractstaticmethod",
    }
)
# Decorators that make a class a record of values rather than a component of a layer.
DATA_DECORATORS = frozenset(
    {
        "dataclasses.dataclass",
        "pydantic.dataclasses.dataclass",
        "attr.s",
        "attr.attrs",
        "attr.define",
        "attr.frozen",
        "attr.mutable",
        "attrs.define",
        "attrs.frozen",
        "attrs.mutable",
    }
)

# Dataclasses that validate like schemas; a plain ``@dataclass`` in a schemas package may
# be anything (plane's export field descriptors are).
SCHEMA_DECORATORS = frozenset({"pydantic.dataclasses.dataclass", "marshmallow_dataclass.dataclass"})

SCHEMA_NAME_PATTERNS = (
    r"^(Create|Update|Patch)\w+Request$",
    r"\w+(Request|Response|Payload|Schema)$",
    r"\w+Serializer$",
)

# Words a name often ends in instead of its layer's suffix: ``UserManager`` is
# suggested as ``UserService``, not ``UserManagerService``.
_STRIP = {
    "Service": ("Manager", "Handler", "Helper", "Controller", "Logic", "Svc", "Impl", "UseCase"),
    "Repository": ("Repo", "Dao", "DAO", "Store", "Storage", "Gateway", "Crud", "CRUD", "Impl"),
    "Error": ("Exception", "Exc", "Err"),
    "NotFoundError": ("Exception", "Exc", "Err", "Error"),
    "Port": ("Interface", "Protocol", "ABC", "Abc"),
}
# The literal suffix before ``$``: ``\w+(Request|Response)$`` or ``\w+Serializer$``.
# The words by which a module or its directory says it is a service or a repository.
_LAYER_WORDS = {
    "service": ("service", "services", "use_cases", "usecases"),
    "repository": ("repository", "repositories", "repos", "repo"),
}
# Aggregates of a layer (``AllRepositories``, a ``Services`` container) are not one of its
# components.
_AGGREGATE_SUFFIXES = ("Repositories", "Services")
_ENDS_IN = re.compile(r"(?:\(([A-Za-z|]+)\)|(?<=[+*)])([A-Za-z]+))\$$")


@dataclass(frozen=True)
class _Shape:
    """What the class statement itself says about the class."""

    bases: tuple[str, ...]
    is_protocol: bool
    is_abstract: bool
    is_data: bool
    is_schema_dataclass: bool  # ``@pydantic.dataclasses.dataclass`` and the like
    only_dunders: bool  # defines methods, all of them dunders: a sentinel or value type


class LayerClassNaming(FileRule):
    """
    ## What it does
    Checks the names of the top-level classes of layer modules against the suffix of
    their layer:

    - `service` modules: services end in `Service` (`UserService`);
    - `repository` modules: repositories end in `Repository`; a concrete implementation
      of a `*RepositoryPort` starts with one of `implementation-prefixes`
      (`SqlAlchemyUserRepository`, `InMemoryUserRepository`);
    - `schemas` modules: every class matches one of `schema-name-patterns`
      (`CreateUserRequest`, `UserResponse`, `…Payload`, `…Schema`, `…Serializer`);
    - `exceptions` modules: every class ends in `Error` (`PaymentError`), or in
      `NotFoundError` when its name says `NotFound` (`UserNotFoundError`);
    - `domain` modules: `Protocol`s and abstract classes end in `Port` (`ClockPort`).

    A class is abstract if it subclasses `abc.ABC`, declares `metaclass=ABCMeta` or has
    `@abstractmethod` members; a metaclass it inherits from a library base (pydantic
    models are `ABCMeta` instances) does not make it one.

    Left alone: private classes (`_Helper`), nested classes (`class Meta:`,
    `class Config:`), enums, `TypedDict`s and `NamedTuple`s, mixins (`*Mixin`), and test
    code. Exception names are only checked in `exceptions` modules, where pep8-naming's
    N818 does not already look; `NotFoundError` alone (a generic base) and `*Warning`
    classes are accepted there.

    Layer modules also hold classes that are not the layer's components, and those are
    not checked either (choices made on mealie, netbox, dispatch, CTFd and plane):

    - in service and repository modules: dataclasses and attrs classes, pydantic and
      ORM models, exceptions, subclasses of framework classes (Django, DRF,
      django-tables2, GraphQL, Flask, SQLAlchemy: netbox's `ipam/tables/services.py`
      holds tables of IPAM services), sentinels whose only methods are dunders,
      aggregates (`AllRepositories`), and `Protocol` ports in service modules;
    - in service and repository packages, modules of subpackages
      (`services/migrations/tandoor.py`, `services/event_bus_service/publisher.py`):
      they hold the collaborators of a service (parsers, exporters, strategies). A
      module is checked when its name says its layer (`service.py`,
      `user_service.py`, `repository_foods.py`) or it sits directly in `services/`,
      `use_cases/`, `repositories/` or `repos/`; implementations of a
      `*RepositoryPort` are checked in every repository module;
    - in schemas modules, only schemas: classes whose bases reach pydantic, SQLModel,
      msgspec, Ninja, marshmallow or DRF serializers (through the project's own base
      classes and re-exports), and pydantic dataclasses. Fields, validators, encoders
      and plain dataclasses beside them are not schemas; nor is a shared base named
      `Base…`/`…Base`.

    ## Why is this bad?
    When every layer names its classes the same way, a reader knows from
    `OrderService` or `SqlAlchemyOrderRepository` what the class does, which layer it
    belongs to and what it may depend on, and a search for `*Repository` finds all the
    storage code. A `UserManager` in a service module, or an exception called
    `UserNotFound`, makes every reader check.

    ## Example
    ```python
    # users/service.py
    class UserManager:
        def register(self, command: RegisterUser) -> User: ...

    # users/exceptions.py
    class UserNotFound(Exception): ...
    ```

    Use instead:
    ```python
    # users/service.py
    class UserService:
        def register(self, command: RegisterUser) -> User: ...

    # users/exceptions.py
    class UserNotFoundError(Exception): ...
    ```

    ## How to fix
    Rename the class to `{Resource}{Suffix}`, with the suffix the message names, and
    update its imports; there is no autofix because a rename crosses modules. This rule
    is off by default: enable it where the team has adopted these names.

    `Serializer` is among the default schema patterns because it is the name Django REST
    framework gives a schema. Base classes are followed through the modules of the run:
    when a pre-commit run checks one file whose base lives in an unchecked module, the
    base is not known and the class is judged by its own statement.
    """

    code = "BL612"
    name = "layer-class-naming"
    summary = "A class in a layer module does not end in its layer's suffix."
    fix_text = "Rename to `{Resource}{Suffix}`, with the suffix the message names."
    severity = Severity.INFO
    default_enabled = False
    tags = ("naming", "PQG-1")
    roles = frozenset({"service", "repository", "schemas", "exceptions", "domain"})
    include_tests = False
    options = (
        Option(
            "implementation-prefixes",
            ("SqlAlchemy", "InMemory"),
            "Prefixes a concrete implementation of a `*RepositoryPort` starts with.",
        ),
        Option(
            "schema-name-patterns",
            SCHEMA_NAME_PATTERNS,
            "Regular expressions (searched in the class name) that schema classes match.",
        ),
    )
    invalid = (
        Example("class UserManager:\n    def get(self): ...\n", path="users/service.py"),
        Example("class UserNotFound(Exception): ...\n", path="users/exceptions.py"),
        Example("class InvalidToken(Exception): ...\n", path="users/exceptions.py"),
        Example("class UserStore:\n    def add(self, user): ...\n", path="users/repository.py"),
        Example(
            "from users.ports import UserRepositoryPort\n"
            "class PostgresUserRepository(UserRepositoryPort): ...\n",
            path="users/repository.py",
        ),
        Example(
            "from pydantic import BaseModel\nclass UserOut(BaseModel): ...\n",
            path="users/schemas.py",
        ),
        Example(
            "from typing import Protocol\nclass Clock(Protocol):\n    def now(self): ...\n",
            path="users/domain.py",
        ),
        Example(
            "from abc import ABC\nclass Mailer(ABC): ...\n",
            path="users/domain.py",
        ),
        Example(
            "import abc\nclass Mailer(metaclass=abc.ABCMeta): ...\n",
            path="users/domain.py",
        ),
        Example(
            "from abc import abstractmethod\n"
            "class Mailer:\n    @abstractmethod\n    def send(self): ...\n",
            path="users/domain.py",
        ),
    )
    valid = (
        Example("class UserService:\n    def get(self): ...\n", path="users/service.py"),
        Example(
            "from users.ports import UserRepositoryPort\n"
            "class InMemoryUserRepository(UserRepositoryPort): ...\n",
            path="users/repository.py",
        ),
        Example(
            "from pydantic import BaseModel\nclass CreateUserRequest(BaseModel): ...\n",
            path="users/schemas.py",
        ),
        Example(
            "from pydantic import BaseModel\n"
            "class UserSchema(BaseModel):\n    class Config:\n        orm_mode = True\n",
            path="users/schemas.py",
        ),
        Example(
            "class UserNotFoundError(Exception): ...\nclass NotFoundError(Exception): ...\n",
            path="users/exceptions.py",
        ),
        Example("class _Helper: ...\n", path="users/service.py"),
        Example(
            "import enum\nfrom typing import TypedDict, NamedTuple\n"
            "class Status(str, enum.Enum):\n    ACTIVE = 'active'\n"
            "class Row(TypedDict):\n    id: int\n"
            "class Pair(NamedTuple):\n    a: int\n",
            path="users/service.py",
        ),
        Example(
            "from dataclasses import dataclass\n@dataclass\nclass RegisterUser:\n    name: str\n",
            path="users/service.py",
        ),
        Example(
            "from app.base import AppModel\nclass UserCreated(AppModel): ...\n",
            path="users/service.py",
            files=(
                ("app/base.py", "from pydantic import BaseModel\nclass AppModel(BaseModel): ...\n"),
            ),
        ),
        Example(
            "from app.base import Kind\nclass UserKind(Kind): ...\n",
            path="users/schemas.py",
            files=(("app/base.py", "from enum import Enum\nclass Kind(Enum): ...\n"),),
        ),
        Example(
            "from typing import Protocol\nclass ClockPort(Protocol):\n    def now(self): ...\n"
            "class User:\n    name: str\n",
            path="users/domain.py",
        ),
        Example(
            "from pydantic import BaseModel\nclass User(BaseModel):\n    name: str\n",
            path="users/domain.py",
        ),
        Example("class UserManager: ...\n", path="tests/users/service.py"),
        Example("class UserManager: ...\n", path="users/helpers.py"),
        Example(
            "class UserManager: ...  # noqa: BL612\n",
            path="users/service.py",
        ),
    )

    def __init__(self, settings: Mapping[str, OptionValue] | None = None) -> None:
        super().__init__(settings)
        self._schema_patterns = [
            re.compile(p) for p in self.str_list_option("schema-name-patterns")
        ]
        self._schema_suffixes = _suffixes(self.str_list_option("schema-name-patterns"))
        self._depth = 0
        self._role = ""
        self._names_layer = False

    def begin_file(self, ctx: FileContext) -> None:
        super().begin_file(ctx)
        self._depth = 0
        # A ``models.py`` may be a domain or a Django model file; findings on a model file
        # are dropped by the project pass, so check it as domain.
        roles = ctx.candidate_roles & self.roles if self.roles else frozenset()
        self._role = "domain" if "domain" in roles else next(iter(roles), "")
        self._names_layer = _names_layer(ctx.relative, self._role)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._depth += 1

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._depth -= 1

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if self._depth == 0:
            self._check(node)
        self._depth += 1

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._depth -= 1

    def _check(self, node: cst.ClassDef) -> None:
        name = node.name.value
        if name.startswith("_") or name.endswith("Mixin"):
            return
        shape = self._shape(node)
        if any(base in ENUM_LIKE_ROOTS for base in shape.bases):
            return
        verdict = self._verdict(name, shape)
        if verdict is None:
            return
        message, roots, exceptions = verdict
        # A schema module also holds validators, fields and encoders: only classes that
        # are schemas (by their bases, or as pydantic dataclasses) are checked there.
        schema = self._role == "schemas" and not (
            shape.is_schema_dataclass or any(is_schema_base(b) for b in shape.bases)
        )
        frameworks = self._role in ("service", "repository")
        conditions: list[Condition] = []
        if (roots or exceptions or schema) and any(
            not b.startswith("builtins.") for b in shape.bases
        ):
            # A base from another module may make it an enum, a model or an exception.
            conditions.append(
                NotDerivedFrom(self.ctx.module, name, roots, exceptions, schema, frameworks)
            )
        elif schema:
            return
        self.report(node.name, message, conditions=conditions)

    def _verdict(self, name: str, shape: _Shape) -> tuple[str, frozenset[str], bool] | None:
        """The message when the name is wrong, with what the class must not derive from."""
        role = self._role
        if role in ("service", "repository"):
            if shape.is_data or shape.only_dunders or (role == "service" and shape.is_protocol):
                return None
            if any(
                b in DATA_MODEL_ROOTS or is_exception_name(b) or in_framework(b)
                for b in shape.bases
            ):
                return None
            message = self._component_message(role, name, shape)
            return (message, ENUM_LIKE_ROOTS | DATA_MODEL_ROOTS, True) if message else None
        if role == "schemas":
            if any(is_exception_name(b) for b in shape.bases):
                return None
            # A shared base (``RecipeBase``) is neither a request nor a response.
            if name.startswith("Base") or name.endswith("Base"):
                return None
            if any(p.search(name) for p in self._schema_patterns):
                return None
            return (
                f"Class `{name}` in a schemas module should end in {self._schema_suffixes}",
                ENUM_LIKE_ROOTS,
                True,
            )
        if role == "exceptions":
            message = _exception_message(name)
            return (message, ENUM_LIKE_ROOTS, False) if message else None
        if role == "domain" and (shape.is_protocol or shape.is_abstract):
            if name.endswith("Port"):
                return None
            kind = "Protocol" if shape.is_protocol else "Abstract class"
            return (
                f"{kind} `{name}` in a domain module should end in `Port` "
                f"(for example `{_suggest(name, 'Port')}`)",
                frozenset(),
                False,
            )
        return None

    def _component_message(self, role: str, name: str, shape: _Shape) -> str | None:
        if role == "repository":
            port = next((b for b in shape.bases if b.rsplit(".", 1)[-1].endswith("Port")), None)
            if port is not None and not (shape.is_protocol or shape.is_abstract):
                return self._implementation_message(name, port.rsplit(".", 1)[-1])
        if not self._names_layer or name.endswith(_AGGREGATE_SUFFIXES):
            # A module in a subpackage of ``services/`` (``services/migrations/tandoor.py``)
            # holds the services' collaborators: parsers, exporters, strategies.
            return None
        if role == "service":
            if name.endswith(("Service", "ServiceBase")):
                return None
            return (
                f"Class `{name}` in a service module should end in `Service` "
                f"(for example `{_suggest(name, 'Service')}`)"
            )
        if name.endswith(("Repository", "RepositoryBase")):
            return None
        return (
            f"Class `{name}` in a repository module should end in `Repository` "
            f"(for example `{_suggest(name, 'Repository')}`)"
        )

    def _implementation_message(self, name: str, port: str) -> str | None:
        """A concrete ``*Port`` implementation; only repository ports have a naming rule."""
        if "Repository" not in port:
            return None
        prefixes = self.str_list_option("implementation-prefixes")
        if any(name.startswith(p) for p in prefixes) and name.endswith("Repository"):
            return None
        resource = port.removesuffix("Port").removesuffix("Repository") or "Resource"
        names = " or ".join(f"`{p}…Repository`" for p in prefixes) or "`…Repository`"
        example = f"{prefixes[0] if prefixes else ''}{resource}Repository"
        return (
            f"Class `{name}` implements `{port}` and should be named {names} "
            f"(for example `{example}`)"
        )

    def _shape(self, node: cst.ClassDef) -> _Shape:
        bases: list[str] = []
        for arg in node.bases:
            value = arg.value.value if isinstance(arg.value, cst.Subscript) else arg.value
            qualified = self.ctx.qualified_name(value)
            if qualified is not None:
                bases.append(qualified)
        is_abstract = any(
            arg.keyword is not None
            and arg.keyword.value == "metaclass"
            and self.ctx.qualified_name(arg.value) == "abc.ABCMeta"
            for arg in node.keywords
        )
        is_abstract = is_abstract or "abc.ABC" in bases or self._has_abstract_member(node)
        methods = [m.name.value for m in _body(node) if isinstance(m, cst.FunctionDef)]
        decorators = [self._decorator_name(d) for d in node.decorators]
        return _Shape(
            tuple(bases),
            is_protocol=any(b in PROTOCOL_BASES for b in bases),
            is_abstract=is_abstract,
            is_data=any(name in DATA_DECORATORS for name in decorators),
            is_schema_dataclass=any(name in SCHEMA_DECORATORS for name in decorators),
            only_dunders=bool(methods)
            and all(m.startswith("__") and m.endswith("__") for m in methods)
            and all(b.startswith("builtins.") for b in bases),
        )

    def _has_abstract_member(self, node: cst.ClassDef) -> bool:
        return any(
            isinstance(statement, cst.FunctionDef)
            and any(self._decorator_name(d) in ABSTRACT_DECORATORS for d in statement.decorators)
            for statement in _body(node)
        )

    def _decorator_name(self, decorator: cst.Decorator) -> str | None:
        target = decorator.decorator
        if isinstance(target, cst.Call):
            target = target.func
        return self.ctx.qualified_name(target)


def _body(node: cst.ClassDef) -> Sequence[cst.BaseStatement]:
    return node.body.body if isinstance(node.body, cst.IndentedBlock) else ()


def _names_layer(relative: str, role: str) -> bool:
    """Whether the module's name says its layer (``service.py``, ``user_service.py``,
    ``repository_foods.py``), or it sits directly in a layer directory (``services/users.py``).

    A module in a subpackage (``services/migrations/tandoor.py``,
    ``services/event_bus_service/publisher.py``) is one of a service's collaborators.
    """
    words = _LAYER_WORDS.get(role, ())
    path = PurePosixPath(relative)
    stem = path.stem
    return path.parent.name in words or any(
        stem == w or stem.endswith("_" + w) or stem.startswith(w + "_") for w in words
    )


def _exception_message(name: str) -> str | None:
    if "NotFound" in name:
        if name.endswith("NotFoundError"):
            return None
        return (
            f"Exception `{name}` should end in `NotFoundError` "
            f"(for example `{_suggest(name, 'NotFoundError')}`)"
        )
    if name.endswith(("Error", "Warning")):
        return None
    return (
        f"Class `{name}` in an exceptions module should end in `Error` "
        f"(for example `{_suggest(name, 'Error')}`)"
    )


def _suggest(name: str, suffix: str) -> str:
    """``UserManager`` → ``UserService``; ``UserNotFound`` → ``UserNotFoundError``."""
    stem = name
    if suffix in ("Service", "Repository") and suffix in name and name != suffix:
        # ``RepositoryFoods`` → ``FoodsRepository``; ``GroupRepositoryGeneric`` →
        # ``GroupGenericRepository``.
        return name.replace(suffix, "", 1) + suffix
    for word in _STRIP.get(suffix, ()):
        if stem.endswith(word) and len(stem) > len(word):
            stem = stem.removesuffix(word)
            break
    if suffix == "NotFoundError":
        stem = stem.removesuffix("NotFound")
    return stem + suffix


def _suffixes(patterns: Sequence[str]) -> str:
    """The suffixes the patterns require, for the message: "`Request`, ... or `Schema`"."""
    found: list[str] = []
    for pattern in patterns:
        match = _ENDS_IN.search(pattern)
        if match is None:
            listed = ", ".join(f"`{p}`" for p in patterns)
            return f"a name matching one of {listed}"
        for suffix in (match.group(1) or match.group(2)).split("|"):
            if suffix and suffix not in found:
                found.append(suffix)
    quoted = [f"`{s}`" for s in found]
    if len(quoted) < 2:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]
