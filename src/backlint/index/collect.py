"""Collects a file's imports, module-level bindings and classes from its libcst tree.

This walks statements only (compound statements and their bodies), never expressions, so
it costs a small fraction of the parse. Import kinds follow rules.md §2.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import libcst as cst

from backlint.index.facts import BindingFact, ClassFact, ImportKind
from backlint.index.names import ImportTable, caught_types, dotted_name, resolve_relative
from backlint.index.routes import annotation_names


@dataclass(frozen=True)
class RawImport:
    """An import found in the tree, before it is positioned."""

    module: str
    name: str
    kind: ImportKind
    node: cst.Import | cst.ImportFrom
    top_level: int
    # At module level after a statement that defines a name (``bp = Blueprint(...)``):
    # the order is deliberate, as in a package that creates its blueprint and then imports
    # the submodules that register routes on it.
    late: bool = False
    # The function (``Class.method``) a deferred import is in; empty at module level.
    function: str = ""


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


def _type_checking_branch(test: cst.BaseExpression, qualify: Callable[[str], str]) -> bool | None:
    """Which branch of ``if <test>:`` only a type checker runs: True for the body, False for
    the ``else``, None when the test is not about ``TYPE_CHECKING``.

    Handles ``TYPE_CHECKING``, ``typing.TYPE_CHECKING`` (also through an alias, as in
    ``import typing as t`` / ``t.TYPE_CHECKING``; ``qualify`` resolves the file's
    imports), ``False`` (a common older idiom), ``TYPE_CHECKING is True`` / ``== True``,
    ``TYPE_CHECKING and X`` and ``not ...``.
    """
    if isinstance(test, cst.Name) and test.value == "False":
        return True
    dotted = dotted_name(test)
    if dotted is not None and (
        dotted in _TYPE_CHECKING_NAMES or qualify(dotted) in _TYPE_CHECKING_NAMES
    ):
        return True
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        inner = _type_checking_branch(test.expression, qualify)
        return None if inner is None else not inner
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        target = test.comparisons[0]
        truthy = isinstance(target.comparator, cst.Name) and target.comparator.value == "True"
        if truthy and isinstance(target.operator, (cst.Is, cst.Equal)):
            return _type_checking_branch(test.left, qualify)
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        sides = (
            _type_checking_branch(test.left, qualify),
            _type_checking_branch(test.right, qualify),
        )
        return True if True in sides else None
    return None


def _catches_import_error(handler: cst.ExceptHandler | cst.ExceptStarHandler) -> bool:
    if handler.type is None:
        return True
    return any(
        (dotted_name(t) or "").rsplit(".", 1)[-1] in ("ImportError", "ModuleNotFoundError")
        for t in caught_types(handler)
    )


def _children(
    statement: cst.CSTNode, kind: ImportKind, qualify: Callable[[str], str]
) -> Iterator[tuple[cst.CSTNode, ImportKind]]:
    """The statements nested in ``statement`` with the import kind that applies inside them."""
    if isinstance(statement, (cst.FunctionDef,)):
        for child in _body_of(statement):
            yield child, ImportKind.DEFERRED if kind is ImportKind.RUNTIME else kind
        return
    if isinstance(statement, cst.If):
        branch = _type_checking_branch(statement.test, qualify)
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


_NEW_TYPE = frozenset({"typing.NewType", "typing_extensions.NewType"})


def _binding_shape(value: cst.BaseExpression, table: ImportTable) -> tuple[str, str, str]:
    if isinstance(value, cst.Subscript):
        annotated = _annotated_dependency(value, table)
        if annotated is not None:
            return "annotated", annotated[0], annotated[1]
    shape, target = _simple_shape(value, table)
    if shape == "call" and target in _NEW_TYPE and isinstance(value, cst.Call):
        # ``AsyncSession = NewType("AsyncSession", AsyncReadSession)``: the type it wraps.
        wrapped = [arg.value for arg in value.args if arg.keyword is None][1:2]
        return shape, target, (_qualify(wrapped[0], table) or "") if wrapped else ""
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


def _defines_name(statement: cst.CSTNode) -> bool:
    """Whether a top-level statement binds a name other than by importing it."""
    if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
        return True
    return isinstance(statement, cst.SimpleStatementLine) and any(
        isinstance(small, (cst.Assign, cst.AnnAssign)) for small in statement.body
    )


def import_table(module_node: cst.Module, module: str, is_package: bool) -> ImportTable:
    """The import table of ``module_node`` alone, without the facts ``collect`` derives
    from it (bindings, class facts: most of its cost after the walk)."""
    table = collect(module_node, module, is_package, table_only=True).table
    assert table is not None
    return table


def collect(
    module_node: cst.Module, module: str, is_package: bool, table_only: bool = False
) -> Collected:
    """Walk the statements of ``module_node`` and return its facts and import table."""
    result = Collected()
    names: dict[str, str] = {}  # every import, for resolving names anywhere in the file
    module_level: dict[str, str] = {}  # imports that bind a module-level name
    local: set[str] = set()
    top_assignments: list[tuple[str, cst.BaseExpression]] = []
    class_nodes: list[cst.ClassDef] = []

    def qualify(dotted: str) -> str:
        head, dot, rest = dotted.partition(".")
        meaning = names.get(head)
        return dotted if meaning is None else meaning + dot + rest

    defined = False  # a top-level statement before this one defines a name
    for index, top in enumerate(module_node.body):
        stack: list[tuple[cst.CSTNode, ImportKind, bool, str]] = [
            (top, ImportKind.RUNTIME, True, "")
        ]
        while stack:
            statement, kind, at_top, scope = stack.pop()
            if isinstance(statement, (cst.Import, cst.ImportFrom)):
                late = defined and kind is ImportKind.RUNTIME
                for source, name, binding, meaning in _import_entries(
                    statement, module, is_package
                ):
                    function = scope if kind is ImportKind.DEFERRED else ""
                    result.imports.append(
                        RawImport(source, name, kind, statement, index, late, function)
                    )
                    if kind is ImportKind.RUNTIME and source:
                        result.packages.add(source.split(".", 1)[0])
                    if isinstance(statement, cst.ImportFrom) and not name and at_top:
                        result.star_imports.append(source)
                    if binding:
                        names.setdefault(binding, meaning)
                        if kind is not ImportKind.DEFERRED:
                            module_level.setdefault(binding, meaning)
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
            inner = scope
            if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
                inner = f"{scope}.{statement.name.value}" if scope else statement.name.value
            children = list(_children(statement, kind, qualify))
            for child, child_kind in reversed(children):
                stack.append((child, child_kind, nested_top or keeps_top, inner))
        defined = defined or _defines_name(top)

    result.table = ImportTable(module, names, frozenset(local))
    if table_only:
        return result
    for name, value in top_assignments:
        shape, bound_to, detail = _binding_shape(value, result.table)
        result.bindings.append(BindingFact(name, shape, bound_to, detail))
    # An import inside a function binds a local name: other modules cannot import it.
    for name, qualified in module_level.items():
        result.bindings.append(BindingFact(name, "import", qualified))
    table = result.table
    for class_node in class_nodes:
        result.classes.append(_class_fact(class_node, table))
        result.replaces.extend(_replaced_migrations(class_node))
    return result


# Decorators of methods that shape (de)serialisation or build instances: not behaviour.
_NOT_BEHAVIOUR = frozenset(
    {
        "classmethod",
        "staticmethod",
        "validator",
        "root_validator",
        "field_validator",
        "model_validator",
        "field_serializer",
        "model_serializer",
        "computed_field",
        "overload",
    }
)


def _class_fact(node: cst.ClassDef, table: ImportTable) -> ClassFact:
    bases = (table.qualified_name(arg.value) for arg in node.bases if arg.keyword is None)
    # ``class User(SQLModel, table=True)``: libcst keeps keywords apart from the bases.
    is_table = any(
        arg.keyword is not None
        and arg.keyword.value == "table"
        and isinstance(arg.value, cst.Name)
        and arg.value.value == "True"
        for arg in node.keywords
    )
    fields: list[str] = []
    behaviour: list[str] = []
    for statement in _body_of(node):
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.AnnAssign):
                    fields.extend(annotation_names(small.annotation.annotation, table))
        elif isinstance(statement, cst.FunctionDef) and _is_behaviour(statement):
            behaviour.append(statement.name.value)
    # What its decorators call, qualified: ``strawberry.type`` for ``@strawberry.type(name="X")``.
    decorators = (
        table.qualified_name(d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator)
        for d in node.decorators
    )
    return ClassFact(
        node.name.value,
        tuple(base for base in bases if base is not None),
        table=is_table,
        decorators=tuple(name for name in decorators if name is not None),
        fields=tuple(dict.fromkeys(fields)),
        behaviour=tuple(behaviour),
    )


def _is_behaviour(method: cst.FunctionDef) -> bool:
    """A public method that is not a validator, serializer, or class/static method."""
    if method.name.value.startswith("_"):
        return False
    for decorator in method.decorators:
        expression = decorator.decorator
        callee = expression.func if isinstance(expression, cst.Call) else expression
        if (dotted_name(callee) or "").rsplit(".", 1)[-1] in _NOT_BEHAVIOUR:
            return False
    return True


def _replaced_migrations(class_node: cst.ClassDef) -> Iterator[tuple[str, str]]:
    """The ``(app label, name)`` pairs of a ``replaces = [...]`` in the class body."""
    return migration_pairs(class_node, "replaces")


def migration_pairs(class_node: cst.ClassDef, attribute: str) -> Iterator[tuple[str, str]]:
    """The literal ``(app label, name)`` pairs of a Django ``Migration`` class attribute
    (``replaces``, ``dependencies``, ``run_before``); other elements are skipped."""
    for line in class_node.body.body:
        if not isinstance(line, cst.SimpleStatementLine):
            continue
        for small in line.body:
            if not (
                isinstance(small, cst.Assign)
                and any(
                    isinstance(t.target, cst.Name) and t.target.value == attribute
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
