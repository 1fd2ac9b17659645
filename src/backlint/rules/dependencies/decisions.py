"""BL312's question about a clock or entropy call: does its value feed a decision?

A timestamp written to a record (``order.paid_at = now()``), an id for a new entity
(``id=uuid4()``) or a date in a file name is data: a test asserts that *a* value is
there, and nothing the code does depends on which. The value only makes the code's
behaviour depend on when it runs when it reaches

* a comparison (``deadline < now()``, also ``max``/``min``),
* a branch or loop condition (``if``, ``while``, a conditional expression's test,
  ``assert``),
* arithmetic (``now() - timedelta(days=30)``, ``int(time.time()) - expires_at``).

The value is followed through method calls on it (``now().date()``), conversions
(``int(...)``, ``datetime.combine``), ``await``, ``and``/``or``, and local names it is
assigned to, in the same function (closures in lambdas included). It is not followed
into other calls: passing ``now()`` to a function hands the time in, which is the seam.
Formatting it (``strftime``, ``isoformat``, ``str()``, an f-string) makes it a label.
"""

from __future__ import annotations

import enum
from collections.abc import Callable

import libcst as cst

from backlint.engine.walker import iter_children
from backlint.index.names import dotted_name

_ARITHMETIC = (
    cst.Add,
    cst.Subtract,
    cst.Multiply,
    cst.Divide,
    cst.FloorDivide,
    cst.Modulo,
    cst.Power,
)
_AUG_ARITHMETIC = (
    cst.AddAssign,
    cst.SubtractAssign,
    cst.MultiplyAssign,
    cst.DivideAssign,
    cst.FloorDivideAssign,
    cst.ModuloAssign,
)
_TEXT = (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)
# Methods that turn a time or an id into text: a label, not a decision.
_LABELS = frozenset({"strftime", "isoformat", "ctime", "hex", "urn", "format"})
# Calls whose result is the same value in another form.
_CONVERSIONS = frozenset(
    {
        "builtins.int",
        "builtins.float",
        "builtins.round",
        "builtins.abs",
        "datetime.datetime.combine",
        "datetime.datetime.fromtimestamp",
        "datetime.date.fromtimestamp",
        "datetime.datetime.utcfromtimestamp",
    }
)
# Calls that compare their arguments.
_COMPARISONS = frozenset({"builtins.max", "builtins.min"})
# Calls that turn their arguments into text.
_FORMATTERS = frozenset({"builtins.str", "builtins.repr", "builtins.format", "builtins.print"})
# Methods of loggers, spans and metrics: what they receive is reported, not decided on.
_REPORTERS = frozenset(
    {
        "debug",
        "info",
        "warning",
        "warn",
        "error",
        "exception",
        "critical",
        "log",
        "observe",
        "timing",
        "histogram",
        "gauge",
        "set_attribute",
        "set_tag",
        "set_measurement",
    }
)
_MAX_NAMES = 20  # local names followed per call: enough for real bodies, bounded


class FlowIndex:
    """One function body: the parent of each node and where each local name is read.

    Nested ``def``s and classes are left out (they run later, with their own locals);
    lambdas are in, so ``filter(lambda o: o.due < now, orders)`` is seen.
    """

    def __init__(self, function: cst.FunctionDef) -> None:
        self.parents: dict[int, cst.CSTNode] = {}
        self.reads: dict[str, list[cst.Name]] = {}
        stack: list[cst.CSTNode] = [function.body]
        while stack:
            node = stack.pop()
            for child in iter_children(node):
                if isinstance(child, (cst.FunctionDef, cst.ClassDef)):
                    continue
                self.parents[id(child)] = node
                if isinstance(child, cst.Name) and _is_read(child, node):
                    self.reads.setdefault(child.value, []).append(child)
                stack.append(child)


def _is_read(name: cst.Name, parent: cst.CSTNode) -> bool:
    """Whether ``name`` reads a variable (not an attribute, a keyword or a target)."""
    if isinstance(parent, cst.Attribute):
        return parent.value is name
    if isinstance(parent, cst.Arg):
        return parent.value is name
    if isinstance(parent, (cst.AssignTarget, cst.AsName, cst.Param, cst.CompFor, cst.For)):
        return isinstance(parent, (cst.CompFor, cst.For)) and parent.iter is name
    if isinstance(parent, (cst.AnnAssign, cst.NamedExpr)):
        return parent.target is not name
    return not isinstance(parent, (cst.ImportAlias, cst.Global, cst.Nonlocal))


class Use(enum.Enum):
    """Where a value ends up."""

    DECIDES = "decides"  # a comparison, a branch, arithmetic not only reported
    REPORTED = "reported"  # logged, sent to metrics, put in a message
    LABEL = "label"  # serialised: ``strftime``, ``isoformat``
    DATA = "data"  # stored, returned or handed on


def _combine(uses: list[Use]) -> Use:
    if Use.DECIDES in uses:
        return Use.DECIDES
    if uses and all(use is Use.REPORTED for use in uses):
        return Use.REPORTED
    if uses and all(use in (Use.REPORTED, Use.LABEL) for use in uses):
        return Use.LABEL
    return Use.DATA


class DecisionFinder:
    """Answers "does this value feed a decision" for the calls of one function."""

    def __init__(
        self, index: FlowIndex, qualify: Callable[[cst.BaseExpression], str | None]
    ) -> None:
        self._index = index
        self._qualify = qualify

    def feeds_decision(self, node: cst.CSTNode) -> bool:
        return self._climb(node, set()) is Use.DECIDES

    def _climb(self, node: cst.CSTNode, followed: set[str]) -> Use:
        current = node
        while True:
            parent = self._index.parents.get(id(current))
            if parent is None:
                return Use.DATA
            verdict = self._step(current, parent, followed)
            if verdict is not None:
                return verdict
            current = parent

    def _step(self, current: cst.CSTNode, parent: cst.CSTNode, followed: set[str]) -> Use | None:
        """Where the value goes at ``parent``; None to keep climbing from ``parent``."""
        if isinstance(parent, (cst.Comparison, cst.ComparisonTarget)):
            return Use.DECIDES
        if isinstance(parent, cst.BinaryOperation):
            other = parent.right if parent.left is current else parent.left
            if not isinstance(parent.operator, _ARITHMETIC) or isinstance(other, _TEXT):
                return Use.REPORTED if isinstance(other, _TEXT) else Use.DATA
            return self._computed(parent, followed)
        if isinstance(parent, cst.UnaryOperation):
            if isinstance(parent.operator, cst.Not):
                return None
            return self._computed(parent, followed)
        if isinstance(parent, (cst.If, cst.While, cst.Assert)):
            return Use.DECIDES if parent.test is current else Use.DATA
        if isinstance(parent, cst.IfExp):
            return Use.DECIDES if parent.test is current else None
        if isinstance(parent, (cst.BooleanOperation, cst.Await, cst.Subscript, cst.Call)):
            return None  # ``a or now()``, ``await f()``, ``now()[0]``, ``now().date()``
        if isinstance(parent, cst.Attribute):
            return Use.LABEL if parent.attr.value in _LABELS else None
        if isinstance(parent, cst.FormattedStringExpression):
            return Use.REPORTED
        if isinstance(parent, cst.Arg):
            return self._argument(parent)
        if isinstance(parent, cst.AugAssign):
            return Use.DECIDES if isinstance(parent.operator, _AUG_ARITHMETIC) else Use.DATA
        if isinstance(parent, (cst.Assign, cst.AnnAssign, cst.NamedExpr)):
            return self._assigned(parent, followed)
        return Use.DATA

    def _computed(self, operation: cst.CSTNode, followed: set[str]) -> Use:
        """Arithmetic decides, unless its result is only reported: a duration logged or
        sent to metrics (``log.info("took %s", time.time() - job.started)``). A computed
        time that is serialised (``(now() - DAY).isoformat()``) is a window bound or a
        deadline sent elsewhere, and still decides."""
        rest = self._climb(operation, followed)
        return Use.REPORTED if rest is Use.REPORTED else Use.DECIDES

    def _argument(self, arg: cst.Arg) -> Use | None:
        call = self._index.parents.get(id(arg))
        if not isinstance(call, cst.Call):
            return Use.DATA
        callee = self._qualify(call.func)
        if callee in _COMPARISONS:
            return Use.DECIDES
        if callee in _CONVERSIONS:
            return None
        written = dotted_name(call.func) or ""
        if callee in _FORMATTERS or written.rsplit(".", 1)[-1] in _REPORTERS:
            return Use.REPORTED
        return Use.DATA

    def _assigned(
        self, statement: cst.Assign | cst.AnnAssign | cst.NamedExpr, followed: set[str]
    ) -> Use:
        """``x = VALUE``: where the reads of the local ``x`` go; an attribute or an item
        (``order.paid_at = VALUE``) records the value."""
        targets: list[cst.BaseExpression] = (
            [target.target for target in statement.targets]
            if isinstance(statement, cst.Assign)
            else [statement.target]
        )
        names = [t.value for t in targets if isinstance(t, cst.Name) and t.value not in followed]
        uses: list[Use] = []
        if isinstance(statement, cst.NamedExpr):
            uses.append(self._climb(statement, followed))
        elif len(names) < len(targets):
            uses.append(Use.DATA)  # also stored on an attribute or in an item
        for name in names:
            if len(followed) >= _MAX_NAMES:
                break
            followed.add(name)
            uses.extend(self._climb(read, followed) for read in self._index.reads.get(name, ()))
        return _combine(uses)
