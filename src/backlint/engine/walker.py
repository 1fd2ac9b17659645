"""One batched traversal of a libcst tree for every interested rule.

libcst's own ``visit`` dispatches through ``on_visit`` for every node, whitespace included,
and costs about two thirds of the parse itself. This walker is an explicit-stack loop
over the fields that can hold syntax nodes (whitespace, commas and parentheses are
skipped), and calls only the rules that declared a hook for the node's type. Children are
visited in source order for the cases rules rely on (decorators before the body, the
``try`` body before its handlers).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from functools import cache

import libcst as cst

Hook = Callable[[cst.CSTNode], object]

# Fields that only hold formatting: never interesting to a rule, and the bulk of the nodes.
_FORMATTING_FIELDS = frozenset(
    {
        "whitespace_before",
        "whitespace_after",
        "whitespace_before_colon",
        "whitespace_after_colon",
        "whitespace_before_params",
        "whitespace_after_def",
        "whitespace_after_name",
        "whitespace_after_class",
        "whitespace_before_args",
        "whitespace_after_args",
        "whitespace_after_at",
        "whitespace_after_as",
        "whitespace_before_as",
        "whitespace_after_await",
        "whitespace_after_for",
        "whitespace_before_in",
        "whitespace_after_in",
        "whitespace_after_if",
        "whitespace_after_import",
        "whitespace_after_from",
        "whitespace_after_star",
        "whitespace_after_lambda",
        "whitespace_after_param",
        "whitespace_before_indicator",
        "whitespace_after_indicator",
        "whitespace_before_value",
        "whitespace_after_value",
        "whitespace_after_except",
        "whitespace_after_case",
        "whitespace_after_match",
        "whitespace_after_del",
        "whitespace_after_global",
        "whitespace_after_nonlocal",
        "whitespace_after_return",
        "whitespace_after_raise",
        "whitespace_after_assert",
        "whitespace_after_yield",
        "whitespace_after_with",
        "whitespace_before_from",
        "whitespace_before_else",
        "whitespace_before_if",
        "whitespace_before_for",
        "whitespace_before_body",
        "whitespace_after_arg",
        "whitespace_after_type",
        "whitespace_after_type_parameters",
        "whitespace_before_expression",
        "whitespace_before_while",
        "whitespace_after_while",
        "whitespace_before_colon_keyword",
        "lpar",
        "rpar",
        "lbracket",
        "rbracket",
        "lbrace",
        "rbrace",
        "comma",
        "semicolon",
        "leading_lines",
        "lines_after_decorators",
        "trailing_whitespace",
        "header",
        "footer",
        "newline",
        "equal",
        "colon",
        "dot",
        "star",
        "indent",
    }
)

# The fields that hold statements (bodies, branches, handlers): enough to reach every
# statement without touching expressions, which are most of a tree's nodes.
_STATEMENT_FIELDS = frozenset({"body", "orelse", "handlers", "finalbody", "cases"})
_STATEMENT_LEVEL_EXTRA = (
    cst.Module,
    cst.ExceptHandler,
    cst.ExceptStarHandler,
    cst.Else,
    cst.Finally,
    cst.MatchCase,
)


def is_statement_level(type_name: str) -> bool:
    """Whether nodes of this libcst type are reachable by walking statements only."""
    node_type = getattr(cst, type_name, None)
    if not isinstance(node_type, type):
        return False
    bases = (cst.BaseStatement, cst.BaseSmallStatement, cst.BaseSuite, *_STATEMENT_LEVEL_EXTRA)
    return issubclass(node_type, bases)


@cache
def statement_fields(node_type: type[cst.CSTNode]) -> tuple[str, ...]:
    return tuple(name for name in child_fields(node_type) if name in _STATEMENT_FIELDS)


def _all_node_types() -> frozenset[type]:
    found: set[type] = set()
    pending: list[type] = [cst.CSTNode]
    while pending:
        current = pending.pop()
        subclasses: list[type] = current.__subclasses__()
        for sub in subclasses:
            if sub not in found:
                found.add(sub)
                pending.append(sub)
    return frozenset(found)


_NODE_TYPES = _all_node_types()

# Fields visited first / last so that hooks see nodes in source order.
_FIRST = ("decorators",)
_LAST = ("body", "handlers", "orelse", "finalbody")


@cache
def child_fields(node_type: type[cst.CSTNode]) -> tuple[str, ...]:
    """The names of the fields of ``node_type`` that can hold syntax nodes, in source order."""
    names = [
        field.name
        for field in dataclasses.fields(node_type)
        if field.name not in _FORMATTING_FIELDS and not field.name.startswith("_")
    ]
    first = [name for name in _FIRST if name in names]
    last = [name for name in _LAST if name in names]
    middle = [name for name in names if name not in first and name not in last]
    return (*first, *middle, *last)


def iter_children(node: cst.CSTNode) -> Iterable[cst.CSTNode]:
    """The syntax children of ``node`` in source order (formatting skipped)."""
    for name in child_fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            yield value
        elif isinstance(value, (tuple, list)):
            for item in value:
                if isinstance(item, cst.CSTNode):
                    yield item


def iter_descendants(node: cst.CSTNode, *, into_functions: bool = True) -> Iterable[cst.CSTNode]:
    """Every syntax node below ``node`` in source order; optionally not entering nested scopes."""
    stack: list[cst.CSTNode] = list(reversed(list(iter_children(node))))
    while stack:
        current = stack.pop()
        yield current
        if not into_functions and isinstance(current, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            continue
        stack.extend(reversed(list(iter_children(current))))


class _Leave:
    """A marker on the walk stack: call the leave hooks of ``node``."""

    __slots__ = ("node", "type_name")

    def __init__(self, node: cst.CSTNode, type_name: str) -> None:
        self.node = node
        self.type_name = type_name


class Dispatch:
    """Which hooks run for which node type, built once per file from the active rules."""

    def __init__(self) -> None:
        self.visit: dict[str, list[Hook]] = {}
        self.leave: dict[str, list[Hook]] = {}
        self._owner: dict[Hook, object] = {}

    def add(self, kind: str, type_name: str, hook: Hook, owner: object) -> None:
        table = self.visit if kind == "visit" else self.leave
        table.setdefault(type_name, []).append(hook)
        self._owner[hook] = owner

    def owner(self, hook: Hook) -> object:
        return self._owner[hook]

    def disable(self, owner: object) -> None:
        """Remove every hook of ``owner`` (a rule that raised) for the rest of the file."""
        for table in (self.visit, self.leave):
            for name, hooks in list(table.items()):
                kept = [hook for hook in hooks if self._owner[hook] is not owner]
                if kept:
                    table[name] = kept
                else:
                    del table[name]

    def __bool__(self) -> bool:
        return bool(self.visit or self.leave)

    @property
    def needs_expressions(self) -> bool:
        """Whether any hook is for a node below statement level (then the walk is full)."""
        return not all(is_statement_level(name) for name in (*self.visit, *self.leave))


def walk(
    module: cst.Module,
    dispatch: Dispatch,
    on_top_level: Callable[[int], None],
    on_error: Callable[[Hook, Exception], None],
) -> None:
    """Walk ``module`` once, calling the hooks in ``dispatch``.

    ``on_top_level(i)`` is called before the i-th top-level statement so the engine knows
    where reported nodes are. A hook that raises is handed to ``on_error``, which reports
    it with the rule's name and disables that rule for the rest of the file, so one broken
    rule never stops the others.
    """
    name_of: dict[type, str] = {}
    fields_of = child_fields if dispatch.needs_expressions else statement_fields

    def call(type_name: str, table: dict[str, list[Hook]], node: cst.CSTNode) -> None:
        # Copy: a failing hook removes its rule from the table while we iterate.
        for hook in list(table.get(type_name, ())):
            try:
                hook(node)
            except Exception as error:
                on_error(hook, error)

    for index, statement in enumerate(module.body):
        on_top_level(index)
        stack: list[object] = [statement]
        while stack:
            item = stack.pop()
            if type(item) is _Leave:
                call(item.type_name, dispatch.leave, item.node)
                continue
            node: cst.CSTNode = item  # type: ignore[assignment]
            node_type = type(node)
            type_name = name_of.get(node_type)
            if type_name is None:
                type_name = name_of[node_type] = node_type.__name__
            if type_name in dispatch.visit:
                call(type_name, dispatch.visit, node)
            if type_name in dispatch.leave:
                stack.append(_Leave(node, type_name))
            children: list[cst.CSTNode] = []
            for name in fields_of(node_type):
                value = getattr(node, name)
                value_type = type(value)
                # A set lookup, not isinstance: CSTNode is an ABC, and its isinstance
                # check was a tenth of the whole walk.
                if value_type in _NODE_TYPES:
                    children.append(value)
                elif value_type is tuple or value_type is list:
                    children.extend(value)
            children.reverse()
            stack.extend(children)
