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

from collections.abc import Callable

import libcst as cst

from backlint.engine.walker import iter_children

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


class DecisionFinder:
    """Answers "does this value feed a decision" for the calls of one function."""

    def __init__(
        self, index: FlowIndex, qualify: Callable[[cst.BaseExpression], str | None]
    ) -> None:
        self._index = index
        self._qualify = qualify

    def feeds_decision(self, node: cst.CSTNode) -> bool:
        return self._climb(node, set())

    def _climb(self, node: cst.CSTNode, followed: set[str]) -> bool:
        current = node
        while True:
            parent = self._index.parents.get(id(current))
            if parent is None:
                return False
            verdict = self._step(current, parent, followed)
            if verdict is not None:
                return verdict
            current = parent

    def _step(self, current: cst.CSTNode, parent: cst.CSTNode, followed: set[str]) -> bool | None:
        """True/False when ``parent`` decides; None to keep climbing from ``parent``."""
        if isinstance(parent, (cst.Comparison, cst.ComparisonTarget)):
            return True
        if isinstance(parent, cst.BinaryOperation):
            other = parent.right if parent.left is current else parent.left
            return isinstance(parent.operator, _ARITHMETIC) and not isinstance(other, _TEXT)
        if isinstance(parent, cst.UnaryOperation):
            return None if isinstance(parent.operator, cst.Not) else True
        if isinstance(parent, (cst.If, cst.While, cst.Assert)):
            return parent.test is current
        if isinstance(parent, cst.IfExp):
            return True if parent.test is current else None
        if isinstance(parent, (cst.BooleanOperation, cst.Await, cst.Subscript, cst.Call)):
            return None  # ``a or now()``, ``await f()``, ``now()[0]``, ``now().date()``
        if isinstance(parent, cst.Attribute):
            return False if parent.attr.value in _LABELS else None
        if isinstance(parent, cst.Arg):
            return self._argument(parent)
        if isinstance(parent, cst.AugAssign):
            return isinstance(parent.operator, _AUG_ARITHMETIC)
        if isinstance(parent, (cst.Assign, cst.AnnAssign, cst.NamedExpr)):
            return self._assigned(parent, followed)
        return False

    def _argument(self, arg: cst.Arg) -> bool | None:
        call = self._index.parents.get(id(arg))
        if not isinstance(call, cst.Call):
            return False
        callee = self._qualify(call.func)
        if callee in _COMPARISONS:
            return True
        return None if callee in _CONVERSIONS else False

    def _assigned(
        self, statement: cst.Assign | cst.AnnAssign | cst.NamedExpr, followed: set[str]
    ) -> bool:
        """``x = VALUE``: whether a later read of the local ``x`` decides; an attribute
        or an item (``order.paid_at = VALUE``) records the value."""
        targets: list[cst.BaseExpression] = (
            [target.target for target in statement.targets]
            if isinstance(statement, cst.Assign)
            else [statement.target]
        )
        names = [t.value for t in targets if isinstance(t, cst.Name) and t.value not in followed]
        if isinstance(statement, cst.NamedExpr) and self._climb(statement, followed):
            return True
        for name in names:
            if len(followed) >= _MAX_NAMES:
                return False
            followed.add(name)
            if any(self._climb(read, followed) for read in self._index.reads.get(name, ())):
                return True
        return False
