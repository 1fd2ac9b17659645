"""The facts a worker learns about one file and sends to the project pass.

Plain frozen dataclasses: they cross process boundaries with pickle and are cheap to
compare, so the project pass is the same for every ``--jobs`` value.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from backlint.diagnostics import Span


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


@dataclass(frozen=True)
class BindingFact:
    """A module-level name and the shape of what it is bound to.

    ``shape`` is one of ``call`` (``target`` is the qualified callee), ``import``
    (``target`` is the qualified name imported), ``none``, ``list``, ``dict``, ``set`` or
    ``other``.
    """

    name: str
    shape: str
    target: str = ""


@dataclass(frozen=True)
class ClassFact:
    """A top-level class with its bases as qualified names (as far as the file can tell)."""

    name: str
    bases: tuple[str, ...]


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
