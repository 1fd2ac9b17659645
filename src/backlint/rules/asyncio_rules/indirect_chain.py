"""BL503's project side: find a project function by name and tell whether its body, or
the body of a project function it calls, makes a blocking call.

Function bodies are read from a module summary (``ProjectIndex.summary``: each function
of the module as the events the scan reads, calls and bindings in source order, as
plain data), and each function is scanned once per run through ``ProjectIndex.memo``,
whatever the number of call sites that reach it. The scan itself asks the project
(what a project function called here returns), so it runs on the summary.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from backlint.index.names import ImportTable, TableData
from backlint.rules.asyncio_rules.blocking_catalog import PATH_INSTANCE
from backlint.rules.asyncio_rules.blocking_match import (
    Attr,
    Call,
    Expr,
    Name,
    annotation_type,
    module_paths,
    parameter_types,
    shape,
    shaped_bind,
    shaped_call_suggestion,
    shaped_lists_paths,
    shaped_qualify,
    shaped_root,
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
    """The qualified name of a callee that may be a project function (``shaped_callee``)."""
    return shaped_callee(shape(func), local, table, owner)


def shaped_callee(
    func: Expr, local: Mapping[str, str], table: ImportTable, owner: str | None
) -> str | None:
    """The qualified name of a callee that may be a project function, else None.

    The chain must start from a name the file can resolve: an import, a module-level
    definition, a local bound to a known type, or ``self``/``cls`` in a method of a
    top-level class (``owner``). Builtins and the standard library are left out; the
    project pass finds out whether the rest is the project's.
    """
    root = shaped_root(func)
    if root is None:
        return None
    if root.value in _RECEIVERS and root.value not in local:
        if owner is not None and isinstance(func, Attr) and isinstance(func.value, Name):
            return f"{owner}.{func.attr}"
        return None
    qualified = shaped_qualify(func, local, table)
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


# What a function body does, in the order the scan meets it (a module summary).


@dataclass(frozen=True, slots=True)
class CallEvent:
    call: Call  # with its arguments


@dataclass(frozen=True, slots=True)
class BindEvent:
    name: str  # ``name = value``, ``with value as name``
    value: Expr


@dataclass(frozen=True, slots=True)
class ForEvent:
    name: str  # ``for name in over``
    over: Expr


Event = CallEvent | BindEvent | ForEvent


@dataclass(frozen=True)
class FunctionBody:
    asynchronous: bool
    returns: str | None  # the qualified return annotation
    parameters: dict[str, str]  # ``parameter_types``
    events: tuple[Event, ...]  # nested functions, lambdas, classes and ``except`` left out


@dataclass(frozen=True)
class ClassBody:
    methods: dict[str, FunctionBody]  # the last definition of each name, if a function


@dataclass(frozen=True)
class ModuleBodies:
    """A module summary: its functions and classes (the last definition of each name,
    also under ``if``/``try``), its module-level paths, its import table."""

    table: TableData
    paths: dict[str, str]  # ``module_paths``
    definitions: dict[str, FunctionBody | ClassBody]


def _module_bodies(module: cst.Module, table: ImportTable) -> ModuleBodies:
    definitions: dict[str, FunctionBody | ClassBody] = {}
    for name, node in _last_definitions(module.body).items():
        if isinstance(node, cst.FunctionDef):
            definitions[name] = _function_body(node, table)
        else:
            methods = _last_definitions(_suite(node.body))
            definitions[name] = ClassBody(
                {
                    method: _function_body(found, table)
                    for method, found in methods.items()
                    if isinstance(found, cst.FunctionDef)
                }
            )
    return ModuleBodies(table.data(), module_paths(module, table), definitions)


def _function_body(node: cst.FunctionDef, table: ImportTable) -> FunctionBody:
    encoder = _BodyEncoder(_flags(node.params))
    node.body.visit(encoder)
    returns = None if node.returns is None else annotation_type(node.returns, table)
    return FunctionBody(
        node.asynchronous is not None,
        returns,
        parameter_types(node, table),
        tuple(encoder.events),
    )


@dataclass(frozen=True)
class Function:
    """A project function found by name: ``module.name`` or ``module.Class.method``."""

    qualified: str
    module: str
    body: FunctionBody
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
    return None if found is None or found.body.asynchronous else found


def returned_type(project: ProjectIndex, qualified: str) -> str | None:
    """The qualified return annotation of the plain project function ``qualified``."""
    return project.memo((_MEMO, "returns", qualified), lambda: _returns(project, qualified))


def _returns(project: ProjectIndex, qualified: str) -> str | None:
    function = find_function(project, qualified)
    return None if function is None else function.body.returns


def _bodies(project: ProjectIndex, module: str) -> ModuleBodies | None:
    return project.summary(module, "BL503-bodies/v1", _module_bodies) if module else None


def _find(project: ProjectIndex, qualified: str) -> Function | None:
    # ``ReportService().load`` is the method ``load`` of ``ReportService``.
    parts = [part.removesuffix("()") for part in qualified.split(".")]
    for cut in range(len(parts) - 1, 0, -1):
        rest = parts[cut:]
        if len(rest) > 2:
            return None
        module = ".".join(parts[:cut])
        if module in project.modules or _bodies(project, module) is not None:
            return _in_module(project, module, rest)
    return None


def _in_module(project: ProjectIndex, module: str, rest: list[str]) -> Function | None:
    canonical = project.canonical(f"{module}.{rest[0]}")
    where, _, name = canonical.rpartition(".")
    definition = _definition(project, where, name)
    if len(rest) == 1:
        if isinstance(definition, FunctionBody):
            return Function(canonical, where, definition, None)
        return None
    if isinstance(definition, ClassBody):
        return _method(project, canonical, rest[1], 0)
    if isinstance(definition, FunctionBody):
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
    if not isinstance(definition, ClassBody):
        return None
    method = definition.methods.get(name)
    if method is not None:
        return Function(f"{canonical}.{name}", module, method, canonical)
    found = project.class_fact(canonical)
    if found is None or depth >= _MAX_BASES:
        return None
    for base in found[1].bases:
        inherited = _method(project, base, name, depth + 1)
        if inherited is not None:
            return inherited
    return None


def _definition(project: ProjectIndex, module: str, name: str) -> FunctionBody | ClassBody | None:
    bodies = _bodies(project, module)
    return None if bodies is None else bodies.definitions.get(name)


def _last_definitions(
    statements: Sequence[cst.CSTNode],
) -> dict[str, cst.FunctionDef | cst.ClassDef]:
    """The last ``def``/``class`` of each name among ``statements``, looking into
    ``if``/``try`` blocks too (definitions often sit under one); the last one wins, as
    when Python runs the module."""
    found: dict[str, cst.FunctionDef | cst.ClassDef] = {}
    for statement in _flatten(statements):
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            found[statement.name.value] = statement
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
    """Replay the function's events: the first blocking call, and the project calls."""
    bodies = _bodies(project, function.module)
    if bodies is None:  # pragma: no cover - the function was found in this summary
        return Summary(None, ())
    table = project.memo((_MEMO, "table", function.module), bodies.table.table)
    local = dict(bodies.paths)
    local.update(function.body.parameters)
    blocking: str | None = None
    callees: list[str] = []
    for event in function.body.events:
        if isinstance(event, CallEvent):
            call = event.call
            qualified = shaped_qualify(call.func, local, table)
            if (
                qualified is not None
                and shaped_call_suggestion(call, qualified, local, table, patterns) is not None
            ):
                if blocking is None:
                    blocking = qualified.removeprefix("builtins.")
                continue
            callee = shaped_callee(call.func, local, table, function.owner)
            if callee is not None:
                callees.append(callee)
        elif isinstance(event, ForEvent):
            if shaped_lists_paths(event.over, local, table):
                local[event.name] = PATH_INSTANCE
            else:
                local.pop(event.name, None)
        else:
            _bind(project, local, event, table)
    return Summary(blocking, tuple(dict.fromkeys(callees)))


def _bind(
    project: ProjectIndex, local: dict[str, str], event: BindEvent, table: ImportTable
) -> None:
    shaped_bind(local, event.name, event.value, table)
    # ``session = open_session(org)`` with ``def open_session(...) -> Session`` in the
    # project: the name holds a ``Session``, as if it were annotated.
    bound = local.get(event.name, "")
    if bound.endswith("()") and not bound.startswith("builtins."):
        returned = returned_type(project, bound.removesuffix("()"))
        if returned is not None:
            local[event.name] = returned


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


class _BodyEncoder(cst.CSTVisitor):
    """Records what the scan of one function body reads, in the order it reads it."""

    def __init__(self, flags: frozenset[str]) -> None:
        super().__init__()
        self.flags = flags
        self.events: list[Event] = []

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
            self.events.append(ForEvent(node.target.value, shape(node.iter)))

    def leave_Assign(self, original_node: cst.Assign) -> None:
        targets = original_node.targets
        if len(targets) == 1 and isinstance(targets[0].target, cst.Name):
            self.events.append(BindEvent(targets[0].target.value, shape(original_node.value)))

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None and isinstance(node.asname.name, cst.Name):
            self.events.append(BindEvent(node.asname.name.value, shape(node.item)))

    def visit_Call(self, node: cst.Call) -> None:
        call = shape(node, args=True)
        assert isinstance(call, Call)
        self.events.append(CallEvent(call))
