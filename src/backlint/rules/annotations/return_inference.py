"""What return annotation BL602 can add, and how safely.

``-> None`` is *safe* for a function that cannot return anything else: no
``return <value>``, no ``yield``, not a stub (a body of ``...``), a body that does not
simply raise (that is ``NoReturn``), and no decorator whose library may read the
annotation at run time (FastAPI takes it as the response model; click, typer,
``singledispatch`` and validators read it too). Only decorators known to ignore
annotations keep it safe; any other decorator, or a function a router calls, makes it
*unsafe*. A function returning literals of one type (``return True`` / ``return False``)
gets that type as an unsafe fix. Everything else gets no fix.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from backlint.diagnostics import Applicability
from backlint.engine.walker import iter_descendants
from backlint.index.names import ImportTable
from backlint.rules.syntax import (
    has_compound_statement,
    is_none,
    is_string_expression,
    simple_statements,
)

# Decorators that never read the function's annotations.
_NEUTRAL_DECORATORS = frozenset(
    {
        "builtins.staticmethod",
        "builtins.classmethod",
        "builtins.property",
        "functools.cache",
        "functools.lru_cache",
        "functools.cached_property",
        "typing.override",
        "typing_extensions.override",
    }
)
# ``@<property>.setter`` and friends.
_PROPERTY_PARTS = frozenset({"setter", "getter", "deleter"})

_LITERAL_TYPES: dict[type[cst.CSTNode], str] = {
    cst.Integer: "int",
    cst.Float: "float",
    cst.SimpleString: "str",
    cst.ConcatenatedString: "str",
    cst.FormattedString: "str",
}


@dataclass(frozen=True)
class ReturnFix:
    annotation: str
    applicability: Applicability


def return_fix(
    node: cst.FunctionDef,
    names: ImportTable,
    *,
    routed: bool,
    safe_decorators: frozenset[str] = frozenset(),
) -> ReturnFix | None:
    """The annotation BL602 offers for ``node``; ``routed`` if a router calls it;
    ``safe_decorators`` are qualified names the project knows ignore annotations."""
    simple = simple_statements(node.body)
    if _is_stub(node.body) or any(isinstance(small, cst.Raise) for small in simple):
        return None  # a stub, or a body that always raises (``NoReturn``)
    values: list[cst.BaseExpression] = []
    for child in iter_descendants(node.body, into_functions=False):
        if isinstance(child, cst.Yield):
            return None  # a generator: its type names what it yields
        if isinstance(child, cst.Return) and child.value is not None and not is_none(child.value):
            values.append(child.value)
    if values:
        inferred = _literal_type(values)
        return None if inferred is None else ReturnFix(inferred, Applicability.UNSAFE)
    neutral = _NEUTRAL_DECORATORS | safe_decorators
    safe = not routed and all(_is_neutral(d.decorator, names, neutral) for d in node.decorators)
    return ReturnFix("None", Applicability.SAFE if safe else Applicability.UNSAFE)


def _is_stub(body: cst.BaseSuite) -> bool:
    """A body of ``...`` (after a docstring): a protocol or interface method."""
    if has_compound_statement(body):
        return False
    simple = simple_statements(body)
    ellipses = [s for s in simple if isinstance(s, cst.Expr) and isinstance(s.value, cst.Ellipsis)]
    return bool(ellipses) and all(
        small in ellipses or is_string_expression(small) for small in simple
    )


def _literal_type(values: list[cst.BaseExpression]) -> str | None:
    found: set[str] = set()
    for value in values:
        if isinstance(value, cst.Name) and value.value in ("True", "False"):
            found.add("bool")
        elif type(value) in _LITERAL_TYPES:
            found.add(_LITERAL_TYPES[type(value)])
        else:
            return None
    return found.pop() if len(found) == 1 else None


def _is_neutral(decorator: cst.BaseExpression, names: ImportTable, neutral: frozenset[str]) -> bool:
    target = decorator.func if isinstance(decorator, cst.Call) else decorator
    if isinstance(target, cst.Attribute) and target.attr.value in _PROPERTY_PARTS:
        return isinstance(target.value, cst.Name)
    return names.qualified_name(target) in neutral
