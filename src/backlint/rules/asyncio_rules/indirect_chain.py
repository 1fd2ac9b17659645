"""BL503's project side: find a project function by name and tell whether its body, or
the body of a project function it calls, makes a blocking call.

Function bodies are read from ``ProjectIndex.parsed`` (each module parsed once per run)
and each function is summarised once per run through ``ProjectIndex.memo``, whatever
the number of call sites that reach it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from backlint.index.names import ImportTable
from backlint.rules.asyncio_rules.blocking_catalog import PATH_INSTANCE
from backlint.rules.asyncio_rules.blocking_match import (
    annotation_type,
    bind,
    call_suggestion,
    lists_paths,
    module_paths,
    parameter_types,
    qualify,
    root_name,
)
from backlint.rules.syntax import is_none

if TYPE_CHECKING:
    from backlint.index.project import ProjectIndex

_MEMO = "BL503"  # first element of this rule's memo keys
_RECEIVERS = frozenset({"self", "cls"})
_MAX_BASES = 5  # how far up project base classes a method is looked for


def project_callee(
    func: cst.BaseExpression,
    local: Mapping[str, str],
    table: ImportTable,
    owner: str | None,
) -> str | None:
    """The qualified name of a callee that may be a project function, else None.

    The chain must start from a name the file can resolve: an import, a module-level
    definition, a local bound to a known type, or ``self``/``cls`` in a method of a
    top-level class (``owner``). Builtins and the standard library are left out; the
    project pass finds out whether the rest is the project's.
    """
    root = root_name(func)
    if root is None:
        return None
    if root.value in _RECEIVERS and root.value not in local:
        if owner is not None and isinstance(func, cst.Attribute) and func.value is root:
            return f"{owner}.{func.attr.value}"
        return None
    qualified = qualify(func, local, table)
    if qualified is None:
        return None
    known = (
        root.value in local
        or root.value in table
        or (bool(table.module) and qualified.startswith(f"{table.module}."))
    )
    head = qualified.split(".", 1)[0]
    if not known or head == "builtins" or head in sys.stdlib_module_names:
        return None
    return qualified


@dataclass(frozen=True)
class Function:
    """A project function found by name: ``module.name`` or ``module.Class.method``."""

    qualified: str
    module: str
    node: cst.FunctionDef
    owner: str | None  # the class, for a method: what ``self.x()`` in its body means


@dataclass(frozen=True)
class Summary:
    """What a function's own body does (nested functions and lambdas left out)."""

    blocking: str | None  # the first call BL501 would flag, as shown in messages
    callees: tuple[str, ...]  # calls that may be project functions, in source order


@dataclass(frozen=True)
class Chain:
    """How a call reaches a blocking call: the functions crossed and the call."""

    functions: tuple[str, ...]
    call: str

    def describe(self) -> str:
        via = " → ".join(f"`{name}`" for name in self.functions)
        return f"`{self.call}` (via {via})"


def blocking_chain(project: ProjectIndex, callee: str, patterns: tuple[str, ...]) -> Chain | None:
    """The chain from the call of ``callee`` to a blocking call at depth 1 or 2."""
    return project.memo(
        (_MEMO, "chain", callee, patterns), lambda: _chain(project, callee, patterns)
    )


def _chain(project: ProjectIndex, callee: str, patterns: tuple[str, ...]) -> Chain | None:
    first = find_function(project, callee)
    if first is None:
        return None
    summary = _summary(project, first, patterns)
    if summary.blocking is not None:
        return Chain((first.qualified,), summary.blocking)
    for name in summary.callees:
        second = find_function(project, name)
        if second is None or second.qualified == first.qualified:
            continue
        inner = _summary(project, second, patterns)
        if inner.blocking is not None:
            return Chain((first.qualified, second.qualified), inner.blocking)
    return None


def find_function(project: ProjectIndex, qualified: str) -> Function | None:
    """The plain (not ``async``) project function ``qualified`` names, else None."""
    found = project.memo((_MEMO, "function", qualified), lambda: _find(project, qualified))
    return None if found is None or found.node.asynchronous is not None else found


def returned_type(project: ProjectIndex, qualified: str) -> str | None:
    """The qualified return annotation of the plain project function ``qualified``."""
    return project.memo((_MEMO, "returns", qualified), lambda: _returns(project, qualified))


def _returns(project: ProjectIndex, qualified: str) -> str | None:
    function = find_function(project, qualified)
    if function is None or function.node.returns is None:
        return None
    parsed = project.parsed(function.module)
    return None if parsed is None else annotation_type(function.node.returns, parsed[1])


def _find(project: ProjectIndex, qualified: str) -> Function | None:
    # ``ReportService().load`` is the method ``load`` of ``ReportService``.
    parts = [part.removesuffix("()") for part in qualified.split(".")]
    for cut in range(len(parts) - 1, 0, -1):
        rest = parts[cut:]
        if len(rest) > 2:
            return None
        module = ".".join(parts[:cut])
        if module in project.modules or project.parsed(module) is not None:
            return _in_module(project, module, rest)
    return None


def _in_module(project: ProjectIndex, module: str, rest: list[str]) -> Function | None:
    canonical = project.canonical(f"{module}.{rest[0]}")
    where, _, name = canonical.rpartition(".")
    definition = _definition(project, where, name)
    if len(rest) == 1:
        if isinstance(definition, cst.FunctionDef):
            return Function(canonical, where, definition, None)
        return None
    if isinstance(definition, cst.ClassDef):
        return _method(project, canonical, rest[1], 0)
    if isinstance(definition, cst.FunctionDef):
        # ``get_service().load()`` with ``def get_service() -> ReportService``.
        returned = returned_type(project, canonical)
        return None if returned is None else _method(project, returned, rest[1], 0)
    # A module-level instance: ``service = ReportService()`` then ``service.load()``.
    binding = project.binding(canonical)
    if definition is None and binding is not None and binding.shape == "call":
        return _method(project, binding.target, rest[1], 0)
    return None


def _method(project: ProjectIndex, cls: str, name: str, depth: int) -> Function | None:
    """The method ``name`` of the project class ``cls`` or of one of its project bases."""
    canonical = project.canonical(cls)
    module, _, class_name = canonical.rpartition(".")
    definition = _definition(project, module, class_name)
    if not isinstance(definition, cst.ClassDef):
        return None
    method = _last_named(_suite(definition.body), name)
    if isinstance(method, cst.FunctionDef):
        return Function(f"{canonical}.{name}", module, method, canonical)
    found = project.class_fact(canonical)
    if found is None or depth >= _MAX_BASES:
        return None
    for base in found[1].bases:
        inherited = _method(project, base, name, depth + 1)
        if inherited is not None:
            return inherited
    return None


def _definition(
    project: ProjectIndex, module: str, name: str
) -> cst.FunctionDef | cst.ClassDef | None:
    parsed = project.parsed(module) if module else None
    return None if parsed is None else _last_named(parsed[0].body, name)


def _last_named(
    statements: Sequence[cst.CSTNode], name: str
) -> cst.FunctionDef | cst.ClassDef | None:
    """The last ``def``/``class`` called ``name`` among ``statements``, looking into
    ``if``/``try`` blocks too (definitions often sit under one); the last one wins, as
    when Python runs the module."""
    found: cst.FunctionDef | cst.ClassDef | None = None
    for statement in _flatten(statements):
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)) and statement.name.value == name:
            found = statement
    return found


def _flatten(statements: Sequence[cst.CSTNode]) -> Iterator[cst.CSTNode]:
    for statement in statements:
        yield statement
        if isinstance(statement, (cst.If, cst.Try, cst.TryStar)):
            yield from _flatten(_blocks(statement))


def _blocks(statement: cst.If | cst.Try | cst.TryStar) -> list[cst.CSTNode]:
    """The statements of an ``if``/``try`` statement's blocks, in source order."""
    blocks: list[cst.BaseSuite] = [statement.body]
    if isinstance(statement, cst.If):
        if isinstance(statement.orelse, cst.If):
            return [*_suite(statement.body), statement.orelse]
        if statement.orelse is not None:
            blocks.append(statement.orelse.body)
    else:
        blocks.extend(handler.body for handler in statement.handlers)
        blocks.extend(part.body for part in (statement.orelse, statement.finalbody) if part)
    return [inner for block in blocks for inner in _suite(block)]


def _suite(block: cst.BaseSuite) -> Sequence[cst.CSTNode]:
    return block.body if isinstance(block, cst.IndentedBlock) else ()


def _summary(project: ProjectIndex, function: Function, patterns: tuple[str, ...]) -> Summary:
    return project.memo(
        (_MEMO, "summary", function.qualified, patterns),
        lambda: _summarize(project, function, patterns),
    )


def _summarize(project: ProjectIndex, function: Function, patterns: tuple[str, ...]) -> Summary:
    parsed = project.parsed(function.module)
    if parsed is None:  # pragma: no cover - the function was found in this tree
        return Summary(None, ())
    scanner = _BodyScanner(project, parsed[1], function.owner, patterns)
    scanner.flags = _flags(function.node.params)
    scanner.local.update(_module_paths(project, function.module))
    scanner.local.update(parameter_types(function.node, parsed[1]))
    function.node.body.visit(scanner)
    return Summary(scanner.blocking, tuple(dict.fromkeys(scanner.callees)))


def _module_paths(project: ProjectIndex, module: str) -> dict[str, str]:
    def compute() -> dict[str, str]:
        parsed = project.parsed(module)
        return {} if parsed is None else module_paths(parsed[0], parsed[1])

    return project.memo((_MEMO, "paths", module), compute)


_FALSY = frozenset({"False", "None"})
# Names of configuration objects and flags: ``if settings.EXPORT_AUDIT:``.
_CONFIG_WORDS = frozenset(
    {"settings", "config", "conf", "cfg", "flags", "features", "options", "debug", "verbose"}
)


def _flags(params: cst.Parameters) -> frozenset[str]:
    """Parameters whose default turns something off: ``= False``, ``= None``, ``= 0``."""
    return frozenset(
        param.name.value
        for param in (*params.posonly_params, *params.params, *params.kwonly_params)
        if param.default is not None and _falsy(param.default)
    )


def _falsy(value: cst.BaseExpression) -> bool:
    if isinstance(value, cst.Name):
        return value.value in _FALSY
    if isinstance(value, (cst.Integer, cst.SimpleString)):
        return not value.evaluated_value
    return False


def _config_read(node: cst.BaseExpression) -> bool:
    """``settings.X``, ``self.settings.X``, ``app.config["X"]``, ``DEBUG``."""
    if isinstance(node, cst.Subscript):
        return _config_read(node.value)
    if isinstance(node, cst.Name):
        return node.value.isupper() or node.value.lower() in _CONFIG_WORDS
    if isinstance(node, cst.Attribute):
        return node.attr.value.lower() in _CONFIG_WORDS or _config_read(node.value)
    return False


def off_by_default(test: cst.BaseExpression, flags: frozenset[str]) -> bool:
    """Whether the body of ``if test:`` is skipped unless someone turns it on: a
    parameter defaulting to ``False``/``None``/``0`` (``if p``, ``if p is not None``),
    or a configuration flag (``if settings.X``, ``if DEBUG``)."""
    if isinstance(test, cst.BooleanOperation):
        left = off_by_default(test.left, flags)
        right = off_by_default(test.right, flags)
        return (left or right) if isinstance(test.operator, cst.And) else (left and right)
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        target = test.comparisons[0]
        if isinstance(target.operator, cst.IsNot) and is_none(target.comparator):
            return off_by_default(test.left, flags)
        return False
    if isinstance(test, cst.Name) and test.value in flags:
        return True
    return _config_read(test)


class _BodyScanner(cst.CSTVisitor):
    """Reads one function body: the first blocking call, and the project calls."""

    def __init__(
        self,
        project: ProjectIndex,
        table: ImportTable,
        owner: str | None,
        patterns: tuple[str, ...],
    ) -> None:
        super().__init__()
        self.project = project
        self.table = table
        self.owner = owner
        self.patterns = patterns
        self.local: dict[str, str] = {}
        self.flags: frozenset[str] = frozenset()
        self.blocking: str | None = None
        self.callees: list[str] = []

    # Nested functions, lambdas and classes run later, or elsewhere: not this call.
    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_If(self, node: cst.If) -> bool:
        """Leave out the branch that does not run by default: the body of
        ``if settings.X:`` or ``if flag:`` (``flag=False``), the ``else`` of
        ``if not flag:``. It is no evidence that the call blocks (nor are ``except``
        blocks)."""
        test = node.test
        negated = isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not)
        inner = test.expression if isinstance(test, cst.UnaryOperation) else test
        if not off_by_default(inner, self.flags):
            return True
        test.visit(self)
        branch = node.body if negated else node.orelse
        if branch is not None:
            branch.visit(self)
        return False

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> bool:
        return False  # an error path: not what the call does by default

    def visit_For(self, node: cst.For) -> None:
        if isinstance(node.target, cst.Name):
            if lists_paths(node.iter, self.local, self.table):
                self.local[node.target.value] = PATH_INSTANCE
            else:
                self.local.pop(node.target.value, None)

    def leave_Assign(self, original_node: cst.Assign) -> None:
        targets = original_node.targets
        if len(targets) == 1 and isinstance(targets[0].target, cst.Name):
            self._bind(targets[0].target.value, original_node.value)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None and isinstance(node.asname.name, cst.Name):
            self._bind(node.asname.name.value, node.item)

    def _bind(self, name: str, value: cst.BaseExpression) -> None:
        bind(self.local, name, value, self.table)
        # ``session = open_session(org)`` with ``def open_session(...) -> Session`` in the
        # project: the name holds a ``Session``, as if it were annotated.
        bound = self.local.get(name, "")
        if bound.endswith("()") and not bound.startswith("builtins."):
            returned = returned_type(self.project, bound.removesuffix("()"))
            if returned is not None:
                self.local[name] = returned

    def visit_Call(self, node: cst.Call) -> None:
        qualified = qualify(node.func, self.local, self.table)
        if (
            qualified is not None
            and call_suggestion(node, qualified, self.local, self.table, self.patterns) is not None
        ):
            if self.blocking is None:
                self.blocking = qualified.removeprefix("builtins.")
            return
        callee = project_callee(node.func, self.local, self.table, self.owner)
        if callee is not None:
            self.callees.append(callee)
