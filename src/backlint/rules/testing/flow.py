"""Which values a test's assertions compare exactly: a small, ordered data flow over one body.

BL701 reports a clock read or a random draw only when an assertion expects a value
*equal* to it (``==``, ``!=``, ``in``, ``assertEqual``, ``assert_called_once_with``):
the call is inside the compared operand, or its value reaches it through local variables
(``today = date.today()`` ... ``assert plan["date"] == today.isoformat()``). The code
under test read the clock at another moment than the test, so such an assertion fails
whenever a second or a day turns in between.

Everything else is deterministic enough to leave alone:

* an *ordered* comparison (``<``, ``>=``, ``assertGreater``) is a bound: the clock only
  moves forward, so ``before <= order.created <= after`` (a bracket) and
  ``token.expires > now()`` hold whenever the code is right;
* a tolerance (``abs(a - b) < timedelta(seconds=5)``, ``assertAlmostEqual(..., delta=)``,
  ``pytest.approx(now, abs=1)``) is an ordered comparison or a call of its own;
* a value the test handed to the code under test is a *round trip*
  (``create(order, placed=now)`` ... ``assert order.placed == now``), also inside the
  assertion itself, and so is a cursor or a filter bound
  (``assert repo.since(now - timedelta(days=1)) == [a]``): freezing the clock would only
  break such a test.

A value is *passed in* when it is an argument of a call of the code under test (any call
but a builtin, a call into a value library such as ``datetime``, and a method of the value
itself: ``now.isoformat()``), when it is stored in an object or a structure the test did
not build as a literal (``order.placed = now``, ``response["created"] = now``), or when it
is handed to ``with``. Stored in a literal the test built (``expected = {}``,
``expected["date"] = today``), it stays the test's own expectation.

The flow is deliberately simple: statements are read once in source order (a loop body
once), a variable is tainted by every value assigned to it (branches are not told
apart), and a call that shuffles a list in place (``random.shuffle(items)``) taints it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field

import libcst as cst

from backlint.engine.walker import iter_children, iter_descendants
from backlint.index.names import ImportTable, dotted_name

_ASSERTION_PREFIXES = ("assert", "fail")
_LITERALS = (cst.Dict, cst.List, cst.Set, cst.Tuple, cst.DictComp, cst.ListComp, cst.SetComp)
# Operators that expect two values to be the same (or one to hold the other).
_EXACT_OPERATORS: dict[type[cst.BaseCompOp], str] = {
    cst.Equal: "==",
    cst.NotEqual: "!=",
    cst.In: "in",
    cst.NotIn: "not in",
    cst.Is: "is",
    cst.IsNot: "is not",
}
# Assertion methods that compare their arguments for equality or membership.
# Checks of what a mock received, not only of whether it was called.
MOCK_CONTENT_ASSERTIONS = frozenset(
    {
        "assert_called_with",
        "assert_called_once_with",
        "assert_any_call",
        "assert_has_calls",
        "assert_awaited_with",
        "assert_awaited_once_with",
        "assert_any_await",
        "assert_has_awaits",
    }
)
_EQUALITY_ASSERTIONS = (
    frozenset(
        {
            "assertEqual",
            "assertEquals",
            "assertNotEqual",
            "assertNotEquals",
            "assertIn",
            "assertNotIn",
            "assertIs",
            "assertIsNot",
            "assertCountEqual",
            "assertItemsEqual",
            "assertDictEqual",
            "assertListEqual",
            "assertSetEqual",
            "assertTupleEqual",
            "assertSequenceEqual",
            "assertMultiLineEqual",
            "assertDictContainsSubset",
        }
    )
    | MOCK_CONTENT_ASSERTIONS
)
_TRUTH_ASSERTIONS = frozenset({"assertTrue", "assertFalse", "assert_"})
# Libraries whose functions compute with a value rather than act on it: a clock read
# given to them stays the test's (``datetime.combine(today, t)``, ``timedelta(days=1)``).
_VALUE_LIBRARIES = (
    "builtins.",
    "datetime.",
    "time.",
    "calendar.",
    "dateutil.",
    "zoneinfo.",
    "pytz.",
    "django.utils.timezone.",
    "math.",
    "decimal.",
    "fractions.",
    "json.",
    "arrow.",
    "pendulum.",
)


def is_assertion_call(node: cst.Call) -> bool:
    """``self.assertEqual(...)``, ``mock.assert_called_once_with(...)``, ``self.fail(...)``."""
    name = _callee(node)
    return name is not None and name.startswith(_ASSERTION_PREFIXES)


def _callee(node: cst.Call) -> str | None:
    func = node.func
    return func.attr.value if isinstance(func, cst.Attribute) else dotted_name(func)


@dataclass
class _Flow:
    table: ImportTable
    sites: dict[int, int]  # ``id()`` of a reported call -> its index
    mutators: frozenset[int]  # ``id()`` of the sites that change their first argument
    taint: dict[str, frozenset[int]] = field(default_factory=dict)
    passed: set[int] = field(default_factory=set)
    asserted: dict[int, str] = field(default_factory=dict)  # site index -> how compared
    deferred: list[cst.BaseSuite] = field(default_factory=list)
    literals: set[str] = field(default_factory=set)  # names bound to a literal dict/list

    def roots(self, node: cst.CSTNode) -> frozenset[int]:
        """The sites whose values ``node`` computes with: inside it, or through variables."""
        found = {self.sites[id(n)] for n in _self_and_descendants(node) if id(n) in self.sites}
        for name in _names(node):
            found |= self.taint.get(name, frozenset())
        return frozenset(found)

    def compared(self, node: cst.CSTNode) -> frozenset[int]:
        """The sites an operand of a comparison carries, leaving out what it hands to the
        code under test (``repo.since(now)`` compares what the code returned)."""
        found: set[int] = set()
        stack = [node]
        while stack:
            current = stack.pop()
            if id(current) in self.sites:
                found.add(self.sites[id(current)])
            if isinstance(current, cst.Name):
                found |= self.taint.get(current.value, frozenset())
            elif isinstance(current, cst.Attribute):
                stack.append(current.value)  # ``now.day``: ``day`` is no variable
            elif isinstance(current, cst.Call) and self.opaque(current):
                stack.append(current.func)
            else:
                stack.extend(iter_children(current))
        return frozenset(found)

    def opaque(self, node: cst.Call) -> bool:
        """A call of the code under test: its arguments are handed over, not computed
        with. Builtins, value libraries and methods of a value the flow follows (or of a
        literal: ``"{}".format(now)``) only compute."""
        if id(node) in self.sites:
            return False  # a read or a draw itself (``random.choice(items)``)
        name = self.table.qualified_name(node.func)
        if name is not None and name.startswith(_VALUE_LIBRARIES):
            return False
        receiver = node.func.value if isinstance(node.func, cst.Attribute) else None
        while isinstance(receiver, (cst.Attribute, cst.Subscript)):
            receiver = receiver.value
        if isinstance(receiver, (cst.SimpleString, cst.FormattedString, cst.Call)):
            return isinstance(receiver, cst.Call) and self.opaque(receiver)
        if isinstance(receiver, cst.Name) and self.taint.get(receiver.value):
            return False
        return not self._site(node)

    def _site(self, node: cst.Call) -> bool:
        """``datetime.now().date()``: a method of a clock read itself."""
        func = node.func
        return isinstance(func, cst.Attribute) and any(
            id(n) in self.sites for n in _self_and_descendants(func.value)
        )

    # -- statements --

    def block(self, body: cst.BaseSuite | Sequence[cst.BaseStatement]) -> None:
        statements: Sequence[cst.CSTNode]
        if isinstance(body, (cst.IndentedBlock, cst.SimpleStatementSuite)):
            statements = body.body
        elif isinstance(body, cst.BaseSuite):
            statements = ()
        else:
            statements = body
        for statement in statements:
            self.statement(statement)

    def statement(self, node: cst.CSTNode) -> None:
        if isinstance(node, cst.SimpleStatementLine):
            for small in node.body:
                self.small(small)
        elif isinstance(node, cst.BaseSmallStatement):
            self.small(node)
        elif isinstance(node, cst.With):
            self._with(node)
        elif isinstance(node, cst.For):
            self.expression(node.iter)
            self.assign(node.target, node.iter)
            self.block(node.body)
            if node.orelse is not None:
                self._parts(node.orelse)
        elif isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            # A nested function (a fake, a callback) runs later, if at all: after what
            # the test body set up, so it is read at the end.
            self.deferred.append(node.body)
        else:
            self._parts(node)

    def _parts(self, node: cst.CSTNode) -> None:
        """if/while/try/match: their headers, then each body, in source order."""
        for child in iter_children(node):
            if isinstance(child, cst.BaseSuite):
                self.block(child)
            elif isinstance(child, cst.BaseStatement):
                self.statement(child)
            elif isinstance(child, cst.BaseExpression):
                self.expression(child)
            else:  # else/finally/except clauses, match cases
                self._parts(child)

    def _with(self, node: cst.With) -> None:
        for item in node.items:
            self.expression(item.item)
            self.passed |= self.roots(item.item)  # the context manager receives it
            if item.asname is not None:
                self.assign(item.asname.name, item.item)
        self.block(node.body)

    def small(self, node: cst.BaseSmallStatement) -> None:
        if isinstance(node, cst.Assert):
            self.assertion(node)
            return
        if isinstance(node, cst.Assign):
            self.expression(node.value)
            for target in node.targets:
                self.assign(target.target, node.value)
        elif isinstance(node, cst.AnnAssign):
            if node.value is not None:
                self.expression(node.value)
                self.assign(node.target, node.value)
        elif isinstance(node, cst.AugAssign):
            self.expression(node.value)
            self.assign(node.target, node.value)
        else:
            for child in iter_children(node):
                if isinstance(child, cst.BaseExpression):
                    self.expression(child)

    def assign(self, target: cst.CSTNode, value: cst.CSTNode) -> None:
        roots = self.roots(value)
        if isinstance(target, cst.Name):
            # A union, never a replacement: the branches of an ``if`` are read one after
            # the other, and either may be the one that ran.
            self.taint[target.value] = self.taint.get(target.value, frozenset()) | roots
            if isinstance(value, _LITERALS):
                self.literals.add(target.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self.assign(element.value, value)
        elif isinstance(target, cst.StarredElement):
            self.assign(target.value, value)
        elif isinstance(target, cst.Subscript) and _root(target) in self.literals:
            # ``expected["date"] = today``: a structure the test built carries it on.
            name = _root(target)
            self.taint[name] = self.taint.get(name, frozenset()) | roots
        else:
            # ``order.placed = now``, ``response["created"] = now``: into the data of the
            # code under test.
            self.passed |= roots

    # -- expressions --

    def expression(self, node: cst.CSTNode) -> None:
        """Record assertion calls, values passed to calls and in-place shuffles inside
        ``node``."""
        stack: list[cst.CSTNode] = [node]
        while stack:
            current = stack.pop()
            if isinstance(current, cst.Call):
                if is_assertion_call(current):
                    self.assertion(current)
                    continue  # what an assertion computes is not passed anywhere
                if id(current) in self.mutators and current.args:
                    # ``random.shuffle(items)``: ``items`` now holds the draw.
                    name = _root(current.args[0].value)
                    if name:
                        index = self.sites[id(current)]
                        self.taint[name] = self.taint.get(name, frozenset()) | {index}
                elif self.opaque(current):
                    for arg in current.args:
                        self.passed |= self.roots(arg.value)
            stack.extend(iter_children(current))

    def assertion(self, node: cst.Assert | cst.Call) -> None:
        """Record the sites an assertion compares exactly, and how."""
        operands: list[tuple[cst.CSTNode, str]] = []
        if isinstance(node, cst.Assert):
            operands = _exact_operands(node.test)
        else:
            name = _callee(node) or ""
            arguments = [a.value for a in node.args if not _is_message(a)]
            if name in _EQUALITY_ASSERTIONS:
                operands = [(argument, f"`{name}`") for argument in arguments]
            elif name in _TRUTH_ASSERTIONS and arguments:
                operands = _exact_operands(arguments[0])
        handed = self._handed_over(node)
        for operand, how in operands:
            for index in self.compared(operand) - self.passed - handed:
                self.asserted.setdefault(index, how)

    def _handed_over(self, node: cst.CSTNode) -> frozenset[int]:
        """The sites an assertion itself hands to the code under test:
        ``assert create(placed=now).placed == now`` is a round trip."""
        found: set[int] = set()
        for inner in _self_and_descendants(node):
            if isinstance(inner, cst.Call) and inner is not node and self.opaque(inner):
                for arg in inner.args:
                    found |= self.roots(arg.value)
        return frozenset(found)


def _is_message(arg: cst.Arg) -> bool:
    return arg.keyword is not None and arg.keyword.value == "msg"


def _exact_operands(test: cst.BaseExpression) -> list[tuple[cst.CSTNode, str]]:
    """The operands an assertion's condition compares for equality or membership, with
    the operator: both sides of ``a == b``, none of ``a < b`` (a bound) or of a call."""
    if isinstance(test, cst.BooleanOperation):
        return [*_exact_operands(test.left), *_exact_operands(test.right)]
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return _exact_operands(test.expression)
    if isinstance(test, cst.Comparison):
        found: list[tuple[cst.CSTNode, str]] = []
        left: cst.BaseExpression = test.left
        for target in test.comparisons:
            operator = _EXACT_OPERATORS.get(type(target.operator))
            if operator is not None:
                found += [(left, f"`{operator}`"), (target.comparator, f"`{operator}`")]
            left = target.comparator
        return found
    return []


def _names(node: cst.CSTNode) -> set[str]:
    """The variable names an expression reads (not attribute names or keywords)."""
    if isinstance(node, cst.Name):
        return {node.value}
    if isinstance(node, cst.Attribute):
        return _names(node.value)
    if isinstance(node, cst.Arg):
        return _names(node.value)
    found: set[str] = set()
    for child in iter_children(node):
        found |= _names(child)
    return found


def _self_and_descendants(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    yield node
    yield from iter_descendants(node)


def asserted_sites(
    body: cst.BaseSuite,
    calls: Sequence[cst.Call],
    table: ImportTable,
    mutators: Collection[cst.Call] = (),
) -> dict[int, str]:
    """The ``id()`` of each of ``calls`` that an assertion of ``body`` compares exactly
    without a round trip through the code under test, with how (```==```,
    ```assertEqual```). ``mutators`` change their first argument in place."""
    sites = {id(call): index for index, call in enumerate(calls)}
    flow = _Flow(table, sites, frozenset(id(call) for call in mutators))
    flow.block(body)
    while flow.deferred:
        flow.block(flow.deferred.pop(0))
    return {id(calls[index]): how for index, how in flow.asserted.items()}


def _root(node: cst.BaseExpression) -> str:
    """``expected`` for ``expected["a"]["b"]`` or ``expected.items[0]``."""
    while isinstance(node, (cst.Subscript, cst.Attribute)):
        node = node.value
    return node.value if isinstance(node, cst.Name) else ""
