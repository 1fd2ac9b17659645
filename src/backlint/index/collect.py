"""Collects a file's imports, module-level bindings and classes from its libcst tree.

This walks statements only (compound statements and their bodies), never expressions, so
it costs a small fraction of the parse. Import kinds follow rules.md §2.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import libcst as cst

from backlint.index.facts import BindingFact, ClassFact, ImportKind
from backlint.index.names import ImportTable, caught_types, dotted_name, resolve_relative


@dataclass(frozen=True)
class RawImport:
    """An import found in the tree, before it is positioned."""

    module: str
    name: str
    kind: ImportKind
    node: cst.Import | cst.ImportFrom
    top_level: int


@dataclass
class Collected:
    imports: list[RawImport] = field(default_factory=list)
    bindings: list[BindingFact] = field(default_factory=list)
    classes: list[ClassFact] = field(default_factory=list)
    star_imports: list[str] = field(default_factory=list)
    async_functions: list[str] = field(default_factory=list)
    packages: set[str] = field(default_factory=set)
    replaces: list[tuple[str, str]] = field(default_factory=list)
    table: ImportTable | None = None


def _body_of(node: cst.CSTNode) -> Sequence[cst.BaseStatement | cst.BaseSmallStatement]:
    body = getattr(node, "body", None)
    if isinstance(body, (cst.IndentedBlock, cst.SimpleStatementSuite)):
        return body.body
    return ()


_TYPE_CHECKING_NAMES = frozenset(
    {"TYPE_CHECKING", "typing.TYPE_CHECKING", "typing_extensions.TYPE_CHECKING"}
)


def _type_checking_branch(test: cst.BaseExpression) -> bool | None:
    """Which branch of ``if <test>:`` only a type checker runs: True for the body, False for
    the ``else``, None when the test is not about ``TYPE_CHECKING``.

    Handles ``TYPE_CHECKING``, ``typing.TYPE_CHECKING``, ``False`` (a common older idiom),
    ``TYPE_CHECKING is True`` / ``== True``, ``TYPE_CHECKING and X`` and ``not ...``.
    """
    if isinstance(test, cst.Name) and test.value == "False":
        return True
    if dotted_name(test) in _TYPE_CHECKING_NAMES:
        return True
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        inner = _type_checking_branch(test.expression)
        return None if inner is None else not inner
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        target = test.comparisons[0]
        truthy = isinstance(target.comparator, cst.Name) and target.comparator.value == "True"
        if truthy and isinstance(target.operator, (cst.Is, cst.Equal)):
            return _type_checking_branch(test.left)
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        sides = (_type_checking_branch(test.left), _type_checking_branch(test.right))
        return True if True in sides else None
    return None


def _catches_import_error(handler: cst.ExceptHandler | cst.ExceptStarHandler) -> bool:
    if handler.type is None:
        return True
    return any(
        (dotted_name(t) or "").rsplit(".", 1)[-1] in ("ImportError", "ModuleNotFoundError")
        for t in caught_types(handler)
    )


def _children(statement: cst.CSTNode, kind: ImportKind) -> Iterator[tuple[cst.CSTNode, ImportKind]]:
    """The statements nested in ``statement`` with the import kind that applies inside them."""
    if isinstance(statement, (cst.FunctionDef,)):
        for child in _body_of(statement):
            yield child, ImportKind.DEFERRED if kind is ImportKind.RUNTIME else kind
        return
    if isinstance(statement, cst.If):
        branch = _type_checking_branch(statement.test)
        body_kind = ImportKind.TYPE_CHECKING if branch is True else kind
        else_kind = ImportKind.TYPE_CHECKING if branch is False else kind
        for child in _body_of(statement):
            yield child, body_kind
        if statement.orelse is not None:
            yield statement.orelse, else_kind
        return
    if isinstance(statement, (cst.Try, cst.TryStar)):
        guarded = any(_catches_import_error(handler) for handler in statement.handlers)
        body_kind = ImportKind.GUARDED if guarded and kind is ImportKind.RUNTIME else kind
        for child in _body_of(statement):
            yield child, body_kind
        for handler in statement.handlers:
            for child in _body_of(handler):
                yield child, body_kind
        for extra in (statement.orelse, statement.finalbody):
            if extra is not None:
                for child in _body_of(extra):
                    yield child, kind
        return
    if isinstance(statement, cst.Match):
        for case in statement.cases:
            for child in _body_of(case):
                yield child, kind
        return
    if isinstance(statement, cst.SimpleStatementLine):
        for small in statement.body:
            yield small, kind
        return
    for child in _body_of(statement):
        yield child, kind
    orelse = getattr(statement, "orelse", None)
    if orelse is not None:
        yield orelse, kind


def _import_entries(
    node: cst.Import | cst.ImportFrom, module: str, is_package: bool
) -> Iterator[tuple[str, str, str, str]]:
    """``(module, name, local name, what the local name stands for)`` per imported name.

    ``import a.b`` binds ``a`` to the package ``a``; ``import a.b as x`` binds ``x`` to
    ``a.b``; ``from a import b`` binds ``b`` to ``a.b``.
    """
    if isinstance(node, cst.Import):
        for alias in node.names:
            full = dotted_name(alias.name) or ""
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                yield full, "", alias.asname.name.value, full
            else:
                head = full.split(".", 1)[0]
                yield full, "", head, head
        return
    target = dotted_name(node.module) if node.module is not None else ""
    source = resolve_relative(module, is_package, len(node.relative), target or "")
    if isinstance(node.names, cst.ImportStar):
        # ``from x import *`` runs ``x`` like any import (an edge of the import graph);
        # the names it binds are unknown.
        yield source, "", "", ""
        return
    for alias in node.names:
        name = dotted_name(alias.name) or ""
        local = (
            alias.asname.name.value
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name)
            else name
        )
        yield source, name, local, f"{source}.{name}" if source else name


def _qualify(node: cst.BaseExpression, table: ImportTable) -> str | None:
    dotted = dotted_name(node)
    return None if dotted is None else table.qualify(dotted)


_ANNOTATED = frozenset({"typing.Annotated", "typing_extensions.Annotated"})


def _annotated_dependency(value: cst.Subscript, table: ImportTable) -> tuple[str, str] | None:
    """``Annotated[Session, Depends(get_db)]``: the type and the dependency."""
    if _qualify(value.value, table) not in _ANNOTATED or len(value.slice) < 2:
        return None
    parts = [e.slice.value for e in value.slice if isinstance(e.slice, cst.Index)]
    if len(parts) < 2:
        return None
    declared = _qualify(parts[0], table) or ""
    dependency = ""
    for extra in parts[1:]:
        if not isinstance(extra, cst.Call) or not extra.args:
            continue
        if (_qualify(extra.func, table) or "").endswith(("Depends", "Security")):
            dependency = _qualify(extra.args[0].value, table) or ""
    return declared, dependency


def _binding_shape(value: cst.BaseExpression, table: ImportTable) -> tuple[str, str, str]:
    if isinstance(value, cst.Subscript):
        annotated = _annotated_dependency(value, table)
        if annotated is not None:
            return "annotated", annotated[0], annotated[1]
    shape, target = _simple_shape(value, table)
    return shape, target, ""


def _simple_shape(value: cst.BaseExpression, table: ImportTable) -> tuple[str, str]:
    if isinstance(value, cst.Name) and value.value == "None":
        return "none", ""
    if isinstance(value, (cst.List, cst.ListComp)):
        return "list", ""
    if isinstance(value, (cst.Dict, cst.DictComp)):
        return "dict", ""
    if isinstance(value, (cst.Set, cst.SetComp)):
        return "set", ""
    if isinstance(value, cst.Call):
        return "call", _qualify(value.func, table) or ""
    if isinstance(value, (cst.Name, cst.Attribute)):
        dotted = dotted_name(value)
        if dotted is not None and dotted.partition(".")[0] in table:
            return "alias", table.qualify(dotted)
    return "other", ""


def collect(module_node: cst.Module, module: str, is_package: bool) -> Collected:
    """Walk the statements of ``module_node`` and return its facts and import table."""
    result = Collected()
    names: dict[str, str] = {}
    local: set[str] = set()
    top_assignments: list[tuple[str, cst.BaseExpression]] = []
    class_nodes: list[cst.ClassDef] = []

    for index, top in enumerate(module_node.body):
        stack: list[tuple[cst.CSTNode, ImportKind, bool]] = [(top, ImportKind.RUNTIME, True)]
        while stack:
            statement, kind, at_top = stack.pop()
            if isinstance(statement, (cst.Import, cst.ImportFrom)):
                for source, name, binding, meaning in _import_entries(
                    statement, module, is_package
                ):
                    result.imports.append(RawImport(source, name, kind, statement, index))
                    if kind is ImportKind.RUNTIME and source:
                        result.packages.add(source.split(".", 1)[0])
                    if isinstance(statement, cst.ImportFrom) and not name and at_top:
                        result.star_imports.append(source)
                    if binding:
                        names.setdefault(binding, meaning)
                continue
            if at_top:
                if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
                    local.add(statement.name.value)
                    if isinstance(statement, cst.FunctionDef) and statement.asynchronous:
                        result.async_functions.append(statement.name.value)
                elif isinstance(statement, cst.Assign):
                    for target in statement.targets:
                        if isinstance(target.target, cst.Name):
                            local.add(target.target.value)
                            top_assignments.append((target.target.value, statement.value))
                elif isinstance(statement, cst.AnnAssign) and isinstance(
                    statement.target, cst.Name
                ):
                    local.add(statement.target.value)
                    if statement.value is not None:
                        top_assignments.append((statement.target.value, statement.value))
            if isinstance(statement, cst.ClassDef) and at_top:
                class_nodes.append(statement)
            nested_top = at_top and isinstance(statement, cst.SimpleStatementLine)
            # Module-level ``if``/``try`` blocks still bind module-level names.
            keeps_top = at_top and isinstance(
                statement, (cst.If, cst.Else, cst.Try, cst.TryStar, cst.With)
            )
            children = list(_children(statement, kind))
            for child, child_kind in reversed(children):
                stack.append((child, child_kind, nested_top or keeps_top))

    result.table = ImportTable(module, names, frozenset(local))
    for name, value in top_assignments:
        shape, bound_to, detail = _binding_shape(value, result.table)
        result.bindings.append(BindingFact(name, shape, bound_to, detail))
    for name, qualified in names.items():
        result.bindings.append(BindingFact(name, "import", qualified))
    table = result.table
    for class_node in class_nodes:
        bases = (table.qualified_name(arg.value) for arg in class_node.bases if arg.keyword is None)
        result.classes.append(
            ClassFact(class_node.name.value, tuple(base for base in bases if base is not None))
        )
        result.replaces.extend(_replaced_migrations(class_node))
    return result


def _replaced_migrations(class_node: cst.ClassDef) -> Iterator[tuple[str, str]]:
    """The ``(app label, name)`` pairs of a ``replaces = [...]`` in the class body."""
    for line in class_node.body.body:
        if not isinstance(line, cst.SimpleStatementLine):
            continue
        for small in line.body:
            if not (
                isinstance(small, cst.Assign)
                and any(
                    isinstance(t.target, cst.Name) and t.target.value == "replaces"
                    for t in small.targets
                )
                and isinstance(small.value, (cst.List, cst.Tuple))
            ):
                continue
            for element in small.value.elements:
                pair = element.value
                if isinstance(pair, (cst.Tuple, cst.List)) and len(pair.elements) == 2:
                    label, name = (_text(item.value) for item in pair.elements)
                    if label is not None and name is not None:
                        yield label, name


def _text(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None
