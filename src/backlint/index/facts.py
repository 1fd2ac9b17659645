"""The facts a worker learns about one file and sends to the project pass.

Plain frozen dataclasses: they cross process boundaries with pickle and are cheap to
compare, so the project pass is the same for every ``--jobs`` value.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Protocol

from backlint.diagnostics import Span


class Requirement(Protocol):
    """A fact only the project pass can check (same shape as a rule's ``Condition``).

    ``project`` is the ``ProjectIndex``; it is typed loosely because facts sit below the
    index (the index imports this module, not the other way round).
    """

    def holds(self, project: Any) -> bool: ...


class ImportKind(str, enum.Enum):
    """How an import runs (rules.md §2)."""

    RUNTIME = "runtime"  # at module top level: runs when the module is imported
    DEFERRED = "deferred"  # inside a function: runs when the function is called
    TYPE_CHECKING = "type_checking"  # under ``if TYPE_CHECKING:`` (or ``if False:``)
    GUARDED = "guarded"  # inside ``try: ... except ImportError:``


@dataclass(frozen=True)
class ImportFact:
    """One imported module (``import a.b``) or one name (``from a import b``).

    ``module`` is absolute (relative imports are resolved against the file's package);
    ``name`` is the imported name for ``from`` imports, empty for plain imports. The
    project pass decides whether ``module.name`` is a submodule.
    """

    module: str
    name: str
    kind: ImportKind
    span: Span
    line_text: str
    suppressed_codes: frozenset[str] | None  # codes of the noqa comment on the line; empty = bare
    # At module level after a statement that defines a name: placed there on purpose (a
    # package creating its Flask blueprint, then importing the submodules that use it).
    late: bool = False
    # The function (``Class.method``) a deferred import is in; empty for other imports.
    function: str = ""


@dataclass(frozen=True)
class BindingFact:
    """A module-level name and the shape of what it is bound to.

    ``shape`` is one of ``call`` (``target`` is the qualified callee), ``import``
    (``target`` is the qualified name imported), ``alias`` (another name),
    ``annotated`` (``Annotated[T, Depends(dep)]``: ``target`` is ``T`` and ``detail`` the
    dependency, a FastAPI dependency alias), ``none``, ``list``, ``dict``, ``set`` or
    ``other``. For ``X = NewType("X", T)`` (a ``call`` of ``typing.NewType``),
    ``detail`` is the qualified ``T``.
    """

    name: str
    shape: str
    target: str = ""
    detail: str = ""


@dataclass(frozen=True)
class ClassFact:
    """A top-level class with its bases as qualified names (as far as the file can tell).

    ``table`` says the class statement passes ``table=True`` (a SQLModel table: a
    persistence class). ``fields`` are the qualified names its annotated class attributes
    mention (``items: list[Line]`` gives ``Line``'s name). ``behaviour`` names its public
    methods other than validators, serializers, class and static methods: what a domain
    class does, which a pure request or response shape does not.
    """

    name: str
    bases: tuple[str, ...]
    table: bool = False
    fields: tuple[str, ...] = ()
    behaviour: tuple[str, ...] = ()
    # What its decorators call, qualified: ``strawberry.type`` for ``@strawberry.type`` and
    # for ``@strawberry.type(name="X")``.
    decorators: tuple[str, ...] = ()


@dataclass(frozen=True)
class RouteFact:
    """A route handler found in the file (rules.md §2 "Route handlers").

    ``handler`` is the function's name, or ``Class.method`` for a view method.
    ``requires`` holds what the file could not decide alone (that an imported ``router``
    is an ``APIRouter``, that a base class is a DRF view); the handler counts only if
    all of it holds. ``models`` are the qualified names its signature and decorator
    mention: request bodies, ``response_model=``, the return annotation (parameters a
    dependency provides are not part of the request and are left out).
    """

    handler: str
    framework: str
    models: tuple[str, ...]
    requires: tuple[Requirement, ...] = ()
    responses: tuple[str, ...] = ()  # those of ``models`` it returns (``response_model=``)


@dataclass(frozen=True)
class FileFacts:
    """Everything the project pass needs to know about one file."""

    path: str
    module: str
    is_package: bool  # an ``__init__.py``: relative imports resolve against itself
    is_test: bool
    roles: frozenset[str]  # candidate roles: the project pass picks the final one
    imports: tuple[ImportFact, ...]
    bindings: tuple[BindingFact, ...]
    classes: tuple[ClassFact, ...]
    lines: int
    routes: tuple[RouteFact, ...] = ()
    # Modules ``from x import *`` re-exports: names not found here may come from them.
    star_imports: tuple[str, ...] = ()
    # Top-level ``async def`` functions (a dependency that yields an ``AsyncSession``).
    async_functions: tuple[str, ...] = ()
    # Top-level packages imported at runtime (``sqlalchemy`` for ``from sqlalchemy.orm
    # import Session``): an ORM import makes a ``models.py`` a ``model`` file.
    packages: frozenset[str] = frozenset()
    # Qualified names of the views a Django ``urls.py`` routes to.
    url_views: tuple[str, ...] = ()
    # Qualified names the file's persistence code reads or writes: the signatures and
    # generic type arguments of its repository classes (``UserRepository``,
    # ``RepositoryGeneric[UserOut, UserRow]``), and of every function in a ``repository``
    # file (``index/persistence.py``).
    persisted: tuple[str, ...] = ()
    # ``(app label, migration name)`` of each Django migration a class of the file lists
    # in ``replaces = [...]`` (a squashed migration names the ones it replaces).
    replaces: tuple[tuple[str, str], ...] = ()
