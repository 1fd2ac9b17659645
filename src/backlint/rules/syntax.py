"""Small questions about libcst nodes that several rules (and their fixes) ask."""

from __future__ import annotations

import libcst as cst

_STRINGS = (cst.SimpleString, cst.ConcatenatedString)


def is_named(node: cst.CSTNode, name: str) -> bool:
    """Whether ``node`` is the plain name ``name``."""
    return isinstance(node, cst.Name) and node.value == name


def is_none(node: cst.CSTNode) -> bool:
    return is_named(node, "None")


def is_string_expression(small: cst.BaseSmallStatement) -> bool:
    """A string standing as a statement: a docstring, or a comment written as a string."""
    return isinstance(small, cst.Expr) and isinstance(small.value, _STRINGS)


def is_docstring(statement: cst.BaseStatement) -> bool:
    """A statement line holding nothing but strings (a docstring, where it is first)."""
    return isinstance(statement, cst.SimpleStatementLine) and all(
        is_string_expression(small) for small in statement.body
    )


def simple_statements(block: cst.BaseSuite) -> list[cst.BaseSmallStatement]:
    """The small statements directly in ``block`` (not in its ``if``/``for``/... blocks)."""
    if isinstance(block, cst.SimpleStatementSuite):
        return list(block.body)
    found: list[cst.BaseSmallStatement] = []
    for statement in block.body:
        if isinstance(statement, cst.SimpleStatementLine):
            found.extend(statement.body)
    return found


def has_compound_statement(block: cst.BaseSuite) -> bool:
    """Whether ``block`` holds an ``if``, ``for``, ``with``, ``def``... directly."""
    return isinstance(block, cst.IndentedBlock) and not all(
        isinstance(statement, cst.SimpleStatementLine) for statement in block.body
    )
