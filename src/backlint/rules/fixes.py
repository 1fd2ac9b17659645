"""How a per-file rule describes an automatic fix: edits anchored on libcst nodes.

A rule does not know where its nodes are (positions are computed after the walk, and only
for what is reported; see ``engine/positions.py``), so it describes each edit relative
to a node: replace it, or insert text before or after it. The engine turns a
``NodeFix`` into a ``diagnostics.Fix`` with concrete ranges when it positions the
finding. Replacement text should come from ``FileContext.tree.code_for_node`` or be
written literally; either way the fix must keep everything else on the line as it was.

Keep edits small: two fixes whose edits overlap cannot be applied in the same pass (the
second waits for the next round of ``--fix``), while identical edits (the same import
added by two fixes) are applied once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import libcst as cst

from backlint.diagnostics import Applicability
from backlint.rules.syntax import is_docstring

# ``lines`` removes the whole lines ``node`` covers, indentation and line break included
# (a decorator, a statement on lines of its own); ``content`` is then empty.
EditMode = Literal["replace", "before", "after", "lines"]


@dataclass(frozen=True)
class NodeEdit:
    """Replace ``node``, insert ``content`` before or after it, or remove its lines.

    ``top_level`` is the index in ``Module.body`` of the statement holding ``node``; it
    lets the engine render only that statement to find the node (None: the whole module).
    """

    node: cst.CSTNode
    content: str
    mode: EditMode
    top_level: int | None
    # For ``replace``: the range ends where this later node ends (several statements).
    through: cst.CSTNode | None = None


@dataclass(frozen=True)
class NodeFix:
    """An automatic fix whose edits are still anchored on nodes."""

    message: str
    edits: tuple[NodeEdit, ...]
    applicability: Applicability


def top_level_index(module: cst.Module, statement: cst.CSTNode) -> int | None:
    """The index of ``statement`` in ``module.body``, if it is a top-level statement."""
    for index, candidate in enumerate(module.body):
        if candidate is statement:
            return index
    return None


def _is_future_import(statement: cst.BaseStatement) -> bool:
    if not isinstance(statement, cst.SimpleStatementLine):
        return False
    first = statement.body[0]
    return (
        isinstance(first, cst.ImportFrom)
        and isinstance(first.module, cst.Name)
        and first.module.value == "__future__"
    )


def _is_import(statement: cst.BaseStatement) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and isinstance(
        statement.body[0], (cst.Import, cst.ImportFrom)
    )


def add_import(module: cst.Module, line: str) -> NodeEdit | None:
    """An edit adding the import ``line`` (``import asyncio``) to ``module``.

    It goes before the first top-level import that is not ``from __future__``, or else
    before the first statement after the docstring and ``__future__`` imports: the spot
    an import sorter (ruff's ``I001``) then only reorders within the block. None for a
    module with nothing but a docstring and ``__future__`` imports.
    """
    body: Sequence[cst.BaseStatement] = module.body
    first_code: int | None = None
    for index, statement in enumerate(body):
        if (index == 0 and is_docstring(statement)) or _is_future_import(statement):
            continue
        if first_code is None:
            first_code = index
        if _is_import(statement):
            return NodeEdit(statement, line + module.default_newline, "before", index)
    if first_code is None:
        return None
    return NodeEdit(body[first_code], line + module.default_newline, "before", first_code)
