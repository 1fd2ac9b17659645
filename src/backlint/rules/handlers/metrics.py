"""BL101's measures of a route handler: kinds of logic, not one complexity score.

Counted over the handler's own code (``common.own_nodes``):

* ``statements``: every statement, nested ones included (the docstring and ``elif``
  headers are not statements of their own);
* ``branches``: ``if``/``elif``, ``case``, ternaries, comprehension ``if`` clauses and
  ``except`` clauses, except *guards* (``common.is_guard``);
* ``domain_branches``: branches, guards included, whose test compares an attribute or
  subscript (or its ``len()``) with something other than ``None``/``True``/``False``/
  ``""``: a decision on domain state (``order.status == "shipped"``). Request plumbing
  (``request.method == "POST"``, ``self.action``), constants (``Status.PAID``),
  configuration (``settings.X``) and ``status_code`` are not domain state;
* ``loops``: ``for``/``while`` statements, except in websocket handlers, in handlers
  that are streaming generators themselves, and ``for`` loops that only fill a list or
  dict (a comprehension written out);
* ``arithmetic``: arithmetic binary operations and augmented assignments without a
  string or sequence-literal operand (``"a" + b``, ``items + [x]``, ``path / "f"``,
  ``_("Deleted: ") + str(n)`` are not arithmetic);
* ``collaborators``: distinct calls on injected parameters (``Depends``), on names or
  types that end with Service/Repository/Session, and of functions imported from
  service or repository modules.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

from backlint.index.names import dotted_name
from backlint.rules.handlers.common import (
    docstring_of,
    is_depends,
    is_guard,
    last_name,
    own_nodes,
    parameters,
    suite_statements,
    type_candidates,
)

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
_TRIVIAL = frozenset({"None", "True", "False"})
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
_FILLING = frozenset({"append", "extend", "add", "update", "insert", "appendleft", "setdefault"})
# Not domain state: configuration, and an HTTP status being compared.
_CONFIG_ROOTS = frozenset({"settings", "config", "conf", "current_app"})
_TRANSPORT_ATTRIBUTES = frozenset({"status_code"})
# Roots of request plumbing: comparing them is parsing input, not deciding on state.
_REQUEST_ROOTS = frozenset({"request", "req"})
_SELF_PLUMBING = frozenset({"request", "kwargs", "args", "action", "format_kwarg", "method"})
_REQUEST_STATE = frozenset({"user", "auth"})
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


def measure(
    handler: Handler, ctx: FileContext, aliases: Mapping[str, cst.BaseExpression]
) -> Metrics:
    node = handler.node
    metrics = Metrics()
    docstring = docstring_of(node)
    collaborators = _Collaborators(node, ctx, aliases)
    nodes = list(own_nodes(node))
    generator = any(isinstance(n, cst.Yield) for n in nodes)
    loops_exempt = handler.websocket or generator
    elifs: set[int] = set()
    inputs = frozenset(
        param.name.value
        for param in parameters(node)
        if param.name.value not in ("self", "cls") and not is_depends(param.default)
    )
    for current in nodes:
        small = isinstance(current, cst.BaseSmallStatement) and current is not docstring
        if small or (isinstance(current, _COMPOUND) and id(current) not in elifs):
            metrics.statements += 1
        if isinstance(current, cst.If):
            if isinstance(current.orelse, cst.If):
                elifs.add(id(current.orelse))
            _branch(metrics, current.test, _if_is_guard(current, ctx), inputs)
        elif isinstance(current, (cst.IfExp, cst.CompIf)):
            _branch(metrics, current.test, False, inputs)
        elif isinstance(current, (cst.ExceptHandler, cst.ExceptStarHandler)):
            if not is_guard(current.body, ctx):
                metrics.branches += 1
        elif isinstance(current, cst.Match):
            _match(metrics, current, ctx)
        elif isinstance(current, (cst.For, cst.While)):
            if not loops_exempt and not _builds_collection(current):
                metrics.loops += 1
        elif isinstance(current, cst.BinaryOperation):
            if _is_arithmetic(current.operator, current.left, current.right):
                metrics.arithmetic += 1
        elif isinstance(current, cst.AugAssign):
            if isinstance(current.operator, _AUGMENTED) and not _not_number(current.value):
                metrics.arithmetic += 1
        elif isinstance(current, cst.Call):
            key = collaborators.key(current)
            if key is not None:
                metrics.collaborators.add(key)
    return metrics


def _if_is_guard(node: cst.If, ctx: FileContext) -> bool:
    """The ``if`` only maps a failure to HTTP, in its body or in its plain ``else``."""
    if is_guard(node.body, ctx):
        return True
    return isinstance(node.orelse, cst.Else) and is_guard(node.orelse.body, ctx)


def _branch(
    metrics: Metrics, test: cst.BaseExpression, guard: bool, inputs: frozenset[str]
) -> None:
    if not guard:
        metrics.branches += 1
    shown = domain_comparison(test, inputs)
    if shown is not None:
        metrics.domain_branches += 1
        metrics.domain_tests.append(shown)


def _match(metrics: Metrics, node: cst.Match, ctx: FileContext) -> None:
    on_state = _is_state(node.subject)
    for case in node.cases:
        if not is_guard(case.body, ctx):
            metrics.branches += 1
        pattern = case.pattern
        if on_state and isinstance(pattern, cst.MatchValue):
            metrics.domain_branches += 1
            metrics.domain_tests.append(_code(node.subject))


def _builds_collection(loop: cst.For | cst.While) -> bool:
    """A ``for`` loop that only fills a list or dict: a comprehension written out.

    Its body holds only ``x.append(...)``-like calls, subscript assignments and local
    assignments feeding them; mapping results to a response this way is the handler's
    job, like the comprehension it could be.
    """
    if not isinstance(loop, cst.For) or loop.orelse is not None:
        return False
    statements = suite_statements(loop.body)
    fills = False
    for statement in statements:
        if isinstance(statement, cst.Expr) and isinstance(statement.value, cst.Call):
            func = statement.value.func
            if not (isinstance(func, cst.Attribute) and func.attr.value in _FILLING):
                return False
            fills = True
        elif isinstance(statement, cst.Assign):
            targets = [target.target for target in statement.targets]
            if all(isinstance(target, cst.Subscript) for target in targets):
                fills = True
            elif not all(isinstance(target, cst.Name) for target in targets):
                return False
        elif not isinstance(statement, cst.AnnAssign):
            return False
    return fills


# Domain state -------------------------------------------------------------------


def domain_comparison(test: cst.BaseExpression, inputs: frozenset[str]) -> str | None:
    """The first comparison of domain state in a test (through ``and``/``or``/``not``).

    Two fields of one handler parameter compared with each other
    (``body.new_password == body.current_password``, ``q.start > q.end``) validate the
    request's input, like a schema validator would.
    """
    for comparison in _comparisons(test):
        operands = [comparison.left, *(target.comparator for target in comparison.comparisons)]
        for left, right in itertools.pairwise(operands):
            root = _root(left)
            if root is not None and root in inputs and root == _root(right):
                continue
            if (_is_state(left) and not _trivial(right)) or (
                _is_state(right) and not _trivial(left)
            ):
                return _code(comparison)
    return None


def _root(node: cst.BaseExpression) -> str | None:
    """``body`` for ``body.items[0].price``; ``None`` when the chain has no name root."""
    while isinstance(node, (cst.Attribute, cst.Subscript)):
        node = node.value
    return node.value if isinstance(node, cst.Name) else None


def _comparisons(test: cst.BaseExpression) -> Iterator[cst.Comparison]:
    stack: list[cst.BaseExpression] = [test]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.BooleanOperation):
            stack.extend((current.right, current.left))
        elif isinstance(current, cst.UnaryOperation) and isinstance(current.operator, cst.Not):
            stack.append(current.expression)
        elif isinstance(current, cst.Comparison):
            yield current


def _trivial(node: cst.BaseExpression) -> bool:
    """``None``, ``True``, ``False`` or ``""``: comparing with them checks existence."""
    if isinstance(node, cst.SimpleString):
        return node.evaluated_value == ""
    return isinstance(node, cst.Name) and node.value in _TRIVIAL


def _is_state(node: cst.BaseExpression) -> bool:
    """An attribute or subscript (or its ``len()``) that is not request plumbing, a
    constant, configuration or an HTTP status."""
    if isinstance(node, cst.Call) and last_name(node.func) == "len" and len(node.args) == 1:
        node = node.args[0].value
    if not isinstance(node, (cst.Attribute, cst.Subscript)):
        return False
    if isinstance(node, cst.Attribute):
        name = node.attr.value
        if name in _TRANSPORT_ATTRIBUTES or (name.isupper() and len(name) > 1):
            return False
    chain: list[str] = []
    current: cst.BaseExpression = node
    called = False
    while isinstance(current, (cst.Attribute, cst.Subscript, cst.Call)):
        if isinstance(current, cst.Attribute):
            chain.append(current.attr.value)
            current = current.value
        elif isinstance(current, cst.Subscript):
            current = current.value
        else:
            called = True
            current = current.func
    if not isinstance(current, cst.Name):
        return True
    if current.value[:1].isupper() and not called:
        return False  # ``OrderStatus.PAID``, ``Group.BUILTIN``: a constant, not state
    chain.reverse()  # root outwards: ``self.request.user.x`` gives request, user, x
    if current.value in ("self", "cls") and chain and chain[0] in _SELF_PLUMBING:
        if chain[0] != "request":
            return False
        chain = chain[1:]
    elif current.value in _CONFIG_ROOTS:
        return False
    elif current.value not in _REQUEST_ROOTS:
        return True
    # The request's user (``request.user.credit``) is domain state; its method, query
    # parameters, body and headers are input.
    return bool(chain) and chain[0] in _REQUEST_STATE


def _code(node: cst.CSTNode) -> str:
    text = " ".join(cst.Module(body=[]).code_for_node(node).split())
    return text if len(text) <= 60 else text[:57] + "..."


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
        for param in parameters(node):
            name = param.name.value
            if _collaborator_name(name) or is_depends(param.default):
                self._receivers.add(name)
                continue
            if param.annotation is None:
                continue
            for candidate, extras in type_candidates(param.annotation.annotation, aliases):
                typed = last_name(candidate) or ""
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
            return shown if len(parts) > 2 and _collaborator_name(parts[1]) else None
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


def _collaborator_name(name: str) -> bool:
    return name.lower().endswith(_COLLABORATOR_SUFFIXES)


def _service_segment(segment: str) -> bool:
    return segment in _SERVICE_SEGMENTS or segment.endswith(
        ("_service", "_services", "_repository", "_repo")
    )
