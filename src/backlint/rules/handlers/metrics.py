"""BL101's measures of a route handler: kinds of logic, not one complexity score.

Counted over the handler's own code (``common.own_nodes``), leaving out HTML builder
blocks (``shapes.renders_html``: markup and what it shows), where only collaborator
calls are counted:

* ``statements``: every statement, nested ones included (the docstring and ``elif``
  headers are not statements of their own), except those in the block of a guard
  (building and returning an error is one thing, the guard); a run of assignments
  that take request input (``email = request.POST.get("email")``,
  ``user.name = body.name``) counts once, like the parsing, the ``setattr`` loop or
  the ``model_copy(update=...)`` it could be;
* ``branches``: ``if``/``elif``, ``case``, ternaries, comprehension ``if`` clauses and
  ``except`` clauses, except *guards* (``common.is_guard``) and tests that read
  request input alone (``HandlerSubjects.reads_input_only``);
* ``domain_branches``: branches, guards included, whose test compares domain state
  with something other than ``None``/``True``/``False``/``""``
  (``order.status == "shipped"``). Comparisons with request input, on who is asking
  and on plumbing are not (``subjects.HandlerSubjects``), nor is any comparison in a
  guard that answers 401/403: that is an authorization check;
* ``loops``: ``for``/``while`` statements, except in websocket handlers, in handlers
  that are streaming generators themselves, ``for`` loops that are a comprehension
  or a ``next(...)`` written out (``shapes.is_mapping_loop``) and loops that only call
  something for each item of the request's input;
* ``arithmetic``: arithmetic binary operations and augmented assignments without a
  string or sequence-literal operand (``"a" + b``, ``items + [x]``, ``path / "f"``,
  ``_("Deleted: ") + str(n)`` are not arithmetic);
* ``collaborators``: distinct calls on injected parameters (``Depends``), on names or
  types that end with Service/Repository/Session, and of functions imported from
  service or repository modules, except the calls that build the returned value
  (``return Stats(total=repo.count(), ...)`` reads, it does not orchestrate); all the
  calls on one database session are one collaborator.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import libcst as cst

from backlint.engine.walker import iter_children
from backlint.index.names import dotted_name
from backlint.rules.handlers.common import (
    NESTED_SCOPES,
    docstring_of,
    is_authorization_exit,
    is_depends,
    is_guard,
    last_name,
    parameters,
    suite_statements,
    type_candidates,
)
from backlint.rules.handlers.shapes import is_mapping_loop, renders_html
from backlint.rules.handlers.subjects import HandlerSubjects, code_of, is_state

if TYPE_CHECKING:
    from backlint.engine.context import FileContext
    from backlint.index.routes import Handler

_COMPOUND = (
    cst.If,
    cst.For,
    cst.While,
    cst.Try,
    cst.TryStar,
    cst.With,
    cst.Match,
    cst.FunctionDef,
    cst.ClassDef,
)
_ARITHMETIC = (
    cst.Add,
    cst.Subtract,
    cst.Multiply,
    cst.Divide,
    cst.FloorDivide,
    cst.Modulo,
    cst.Power,
    cst.MatrixMultiply,
)
_AUGMENTED = (
    cst.AddAssign,
    cst.SubtractAssign,
    cst.MultiplyAssign,
    cst.DivideAssign,
    cst.FloorDivideAssign,
    cst.ModuloAssign,
    cst.PowerAssign,
    cst.MatrixMultiplyAssign,
)
_NOT_NUMBERS = (
    cst.SimpleString,
    cst.ConcatenatedString,
    cst.FormattedString,
    cst.List,
    cst.Tuple,
    cst.Set,
    cst.Dict,
    cst.ListComp,
    cst.SetComp,
    cst.DictComp,
)
# Calls that return text: ``_("Deleted: ") + str(id)`` is string building.
_STRING_CALLS = frozenset(
    {
        "str",
        "repr",
        "_",
        "gettext",
        "gettext_lazy",
        "ngettext",
        "pgettext",
        "format",
        "join",
        "strftime",
        "isoformat",
    }
)
_COLLABORATOR_SUFFIXES = (
    "service",
    "services",
    "svc",
    "repository",
    "repositories",
    "repo",
    "repos",
    "session",
)
_SERVICE_SEGMENTS = frozenset(
    {
        "service",
        "services",
        "use_cases",
        "usecases",
        "repository",
        "repositories",
        "repos",
        "crud",
    }
)


@dataclass
class Metrics:
    """What one handler holds; ``domain_tests`` keeps the first domain comparisons."""

    statements: int = 0
    branches: int = 0
    domain_branches: int = 0
    loops: int = 0
    arithmetic: int = 0
    collaborators: set[str] = field(default_factory=set)
    domain_tests: list[str] = field(default_factory=list)

    @property
    def collaborator_calls(self) -> int:
        return len(self.collaborators)


@dataclass(frozen=True)
class _Place:
    """Where a node of the handler sits: in markup, in the returned value, in the block
    of a guard (which maps an error to HTTP)."""

    markup: bool = False
    returned: bool = False
    guarded: bool = False


def measure(
    handler: Handler, ctx: FileContext, aliases: Mapping[str, cst.BaseExpression]
) -> Metrics:
    node = handler.node
    metrics = Metrics()
    docstring = docstring_of(node)
    collaborators = _Collaborators(node, ctx, aliases)
    subjects = HandlerSubjects(node, ctx)
    nodes = list(_walk(node, ctx))
    generator = any(isinstance(n, cst.Yield) for n, _ in nodes)
    loops_exempt = handler.websocket or generator
    copies = _repeated_inputs(nodes, subjects)
    elifs: set[int] = set()
    for current, place in nodes:
        if isinstance(current, cst.Call):
            key = None if place.returned else collaborators.key(current)
            if key is not None:
                metrics.collaborators.add(key)
        if place.markup:
            continue
        small = isinstance(current, cst.BaseSmallStatement) and current is not docstring
        if not place.guarded and (
            (small and id(current) not in copies)
            or (isinstance(current, _COMPOUND) and id(current) not in elifs)
        ):
            metrics.statements += 1
        if isinstance(current, cst.If):
            if isinstance(current.orelse, cst.If):
                elifs.add(id(current.orelse))
            _if(metrics, current, ctx, subjects)
        elif isinstance(current, (cst.IfExp, cst.CompIf)):
            _branch(metrics, current.test, subjects)
        elif isinstance(current, (cst.ExceptHandler, cst.ExceptStarHandler)):
            if not is_guard(current.body, ctx):
                metrics.branches += 1
        elif isinstance(current, cst.Match):
            _match(metrics, current, ctx, subjects)
        elif isinstance(current, (cst.For, cst.While)):
            if not (loops_exempt or is_mapping_loop(current) or _applies_input(current, subjects)):
                metrics.loops += 1
        elif isinstance(current, cst.BinaryOperation):
            if _is_arithmetic(current.operator, current.left, current.right):
                metrics.arithmetic += 1
        elif isinstance(current, cst.AugAssign) and _is_augmented_arithmetic(current):
            metrics.arithmetic += 1
    return metrics


def _is_augmented_arithmetic(node: cst.AugAssign) -> bool:
    return isinstance(node.operator, _AUGMENTED) and not _not_number(node.value)


def _walk(node: cst.FunctionDef, ctx: FileContext) -> Iterator[tuple[cst.CSTNode, _Place]]:
    """The handler's own nodes in source order (nested scopes yielded, not entered),
    each with its place: the body of an HTML builder ``with`` is markup, the block of a
    guard is guarded."""
    stack: list[tuple[cst.CSTNode, _Place]] = [(node.body, _Place())]
    while stack:
        current, place = stack.pop()
        yield current, place
        if isinstance(current, NESTED_SCOPES):
            continue
        special = _special_block(current, place, ctx)
        inner = replace(place, returned=True) if isinstance(current, cst.Return) else place
        stack.extend(
            (child, special[1] if child is special[0] else inner)
            for child in reversed(list(iter_children(current)))
        )


def _special_block(
    node: cst.CSTNode, place: _Place, ctx: FileContext
) -> tuple[cst.CSTNode | None, _Place]:
    """The child block of ``node`` that is markup or a guard's, with its place."""
    if isinstance(node, cst.With) and not place.markup and renders_html(node):
        return node.body, replace(place, markup=True)
    if isinstance(node, cst.If):
        block = _guard_block(node, ctx)
        if block is node.body:
            return block, replace(place, guarded=True)
        if block is not None and isinstance(node.orelse, cst.Else):
            return node.orelse, replace(place, guarded=True)
    if isinstance(node, (cst.ExceptHandler, cst.ExceptStarHandler)) and is_guard(node.body, ctx):
        return node.body, replace(place, guarded=True)
    return None, place


def _repeated_inputs(
    nodes: list[tuple[cst.CSTNode, _Place]], subjects: HandlerSubjects
) -> set[int]:
    """Assignments of request input (to a local or onto an object) right after another
    one: the run counts as one statement, like the parsing or the copy it is."""
    repeated: set[int] = set()
    for block, _ in nodes:
        if not isinstance(block, (cst.IndentedBlock, cst.SimpleStatementSuite)):
            continue
        previous = False
        for statement in suite_statements(block):
            taken = _takes_input(statement, subjects)
            if taken and previous:
                repeated.add(id(statement))
            previous = taken
    return repeated


def _takes_input(statement: cst.CSTNode, subjects: HandlerSubjects) -> bool:
    """``email = request.POST.get("email")``, ``user.email = body.email``."""
    if not isinstance(statement, (cst.Assign, cst.AnnAssign)) or statement.value is None:
        return False
    targets = (
        [target.target for target in statement.targets]
        if isinstance(statement, cst.Assign)
        else [statement.target]
    )
    return all(isinstance(t, (cst.Attribute, cst.Name)) for t in targets) and subjects.is_input(
        statement.value
    )


def _if(metrics: Metrics, node: cst.If, ctx: FileContext, subjects: HandlerSubjects) -> None:
    """An ``if``: a guard is not a branch, and a guard that answers 401/403 checks who
    is asking, whatever it compares."""
    guard = _guard_block(node, ctx)
    if guard is None:
        _branch(metrics, node.test, subjects)
    elif not is_authorization_exit(guard, ctx):
        _domain(metrics, node.test, subjects)


def _applies_input(loop: cst.For | cst.While, subjects: HandlerSubjects) -> bool:
    """``for event in request.get_json(): record(event)``: the request handed on item by
    item, with calls alone (no decision or calculation of the loop's own)."""
    if not isinstance(loop, cst.For) or loop.orelse is not None:
        return False
    if not subjects.is_input(loop.iter):
        return False
    return all(
        isinstance(s, cst.Expr) and isinstance(_awaited(s.value), cst.Call)
        for s in suite_statements(loop.body)
    )


def _awaited(node: cst.BaseExpression) -> cst.BaseExpression:
    return node.expression if isinstance(node, cst.Await) else node


def _guard_block(node: cst.If, ctx: FileContext) -> cst.BaseSuite | None:
    """The block that makes the ``if`` a guard, in its body or in its plain ``else``."""
    if is_guard(node.body, ctx):
        return node.body
    if isinstance(node.orelse, cst.Else) and is_guard(node.orelse.body, ctx):
        return node.orelse.body
    return None


def _branch(metrics: Metrics, test: cst.BaseExpression, subjects: HandlerSubjects) -> None:
    if subjects.reads_input_only(test):
        return  # parsing the request (``if request.method == "POST"``, optional filters)
    metrics.branches += 1
    _domain(metrics, test, subjects)


def _domain(metrics: Metrics, test: cst.BaseExpression, subjects: HandlerSubjects) -> None:
    shown = subjects.domain_comparison(test)
    if shown is not None:
        metrics.domain_branches += 1
        metrics.domain_tests.append(shown)


def _match(metrics: Metrics, node: cst.Match, ctx: FileContext, subjects: HandlerSubjects) -> None:
    on_state = is_state(node.subject) and not subjects.is_input(node.subject)
    for case in node.cases:
        if not is_guard(case.body, ctx):
            metrics.branches += 1
        pattern = case.pattern
        if on_state and isinstance(pattern, cst.MatchValue):
            metrics.domain_branches += 1
            metrics.domain_tests.append(code_of(node.subject))


# Arithmetic ---------------------------------------------------------------------


def _is_arithmetic(
    operator: cst.BaseBinaryOp, left: cst.BaseExpression, right: cst.BaseExpression
) -> bool:
    if not isinstance(operator, _ARITHMETIC):
        return False
    return not (_not_number(left) or _not_number(right))


def _not_number(node: cst.BaseExpression) -> bool:
    """A string or sequence operand, also through ``+``/``%`` chains (``"a" + b + c``)."""
    if isinstance(node, _NOT_NUMBERS):
        return True
    if isinstance(node, cst.Call):
        return last_name(node.func) in _STRING_CALLS
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, (cst.Add, cst.Modulo)):
        return _not_number(node.left) or _not_number(node.right)
    return False


# Collaborators --------------------------------------------------------------------


class _Collaborators:
    """Decides whether a call is a call on a collaborator, and names it."""

    def __init__(
        self, node: cst.FunctionDef, ctx: FileContext, aliases: Mapping[str, cst.BaseExpression]
    ) -> None:
        self._ctx = ctx
        self._receivers: set[str] = set()
        self._sessions: set[str] = set()
        for param in parameters(node):
            name = param.name.value
            if _session_name(name):
                self._sessions.add(name)
            if _collaborator_name(name) or is_depends(param.default):
                self._receivers.add(name)
                continue
            if param.annotation is None:
                continue
            for candidate, extras in type_candidates(param.annotation.annotation, aliases):
                typed = last_name(candidate) or ""
                if _session_name(typed):
                    self._sessions.add(name)
                if any(is_depends(extra) for extra in extras) or _collaborator_name(typed):
                    self._receivers.add(name)

    def key(self, call: cst.Call) -> str | None:
        func = call.func
        shown = dotted_name(func)
        if shown is None:
            return None
        parts = shown.split(".")
        if len(parts) == 1:
            return shown if self._imported_from_service(func) else None
        root = parts[0]
        if root in ("self", "cls"):
            if len(parts) > 2 and _session_name(parts[1]):
                return ".".join(parts[:2])
            return shown if len(parts) > 2 and _collaborator_name(parts[1]) else None
        if root in self._sessions or (
            _session_name(root) and self._ctx.names.imported(root) is None
        ):
            # The database session is one collaborator however many calls the handler
            # makes on it; BL102 reports those calls.
            return root
        if root in self._receivers:
            return shown
        if _collaborator_name(root) and self._ctx.names.imported(root) is None:
            return shown  # a local ``order_service``; Flask's imported ``session`` is not one
        return shown if self._imported_from_service(func) else None

    def _imported_from_service(self, func: cst.BaseExpression) -> bool:
        name = last_name(func) or ""
        if not name or not name[0].islower():
            return False  # a constructor, not a call on a collaborator
        head = dotted_name(func) or ""
        if self._ctx.names.imported(head.split(".")[0]) is None:
            return False
        qualified = self._ctx.qualified_name(func) or ""
        module = qualified.rpartition(".")[0]
        return any(_service_segment(segment) for segment in module.split("."))


def _session_name(name: str) -> bool:
    return name.lower().endswith("session")


def _collaborator_name(name: str) -> bool:
    return name.lower().endswith(_COLLABORATOR_SUFFIXES)


def _service_segment(segment: str) -> bool:
    return segment in _SERVICE_SEGMENTS or segment.endswith(
        ("_service", "_services", "_repository", "_repo")
    )
