"""What a per-file rule may know about the file it is looking at."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import libcst as cst

from backlint.index.facts import BindingFact
from backlint.index.names import ImportTable
from backlint.index.routes import Handler
from backlint.index.testcode import TestFunction
from backlint.source import split_lines


@dataclass
class FileContext:
    """The file under analysis: path, module, role, source, tree and import table.

    ``candidate_roles`` holds the roles the file may have (two for a ``models.py`` that is
    either a domain module or a Django model module); the project pass drops findings of
    rules whose roles do not include the final one.
    """

    path: str  # display path
    relative: str  # path relative to the project root, with ``/``: what globs match
    module: str
    is_package: bool
    is_test: bool
    candidate_roles: frozenset[str]
    text: str
    tree: cst.Module
    names: ImportTable
    bindings: Mapping[str, BindingFact]
    top_level: int | None = field(default=None)  # index of the top-level statement being walked
    # The file's route handlers by ``id()`` of their ``FunctionDef`` (``index/routes.py``).
    # A handler whose ``requires`` is not empty is only a candidate until the project
    # pass checks it: rules attach ``handler.requires`` to their findings as conditions.
    handlers: Mapping[int, Handler] = field(default_factory=dict)
    # In test files: every top-level function and method of a top-level class, by
    # ``id()`` of its ``FunctionDef``, as a test, fixture or helper (``index/testcode.py``).
    test_functions: Mapping[int, TestFunction] = field(default_factory=dict)

    @cached_property
    def lines(self) -> list[str]:
        return split_lines(self.text)

    @property
    def is_stub(self) -> bool:
        return self.relative.endswith(".pyi")

    def qualified_name(self, node: cst.BaseExpression) -> str | None:
        return self.names.qualified_name(node)


@dataclass(frozen=True)
class TextContext:
    """A non-Python file a ``TextRule`` reads: its kind (``index/textfiles.py``) and text."""

    path: str  # display path
    relative: str  # path relative to the project root, with ``/``
    kind: str
    text: str

    @cached_property
    def lines(self) -> list[str]:
        return split_lines(self.text)

    @property
    def name(self) -> str:
        return self.relative.rsplit("/", 1)[-1]
