"""Which values a test's assertions depend on: a small, ordered data flow over one body.

BL701 reports a clock read or a generated id only when an assertion depends on it:
the call is inside an assertion, or its value reaches one through local variables
(``today = date.today()`` ... ``assert plan["date"] == today.isoformat()``). A value that
went into the code under test before the assertion read it is a *round trip*
(``create(order, placed=now)`` ... ``assert order.placed == now``): the test compares
the code with its own input, whatever the clock said. Values that only build test data
(``end_date=timezone.now() + timedelta(days=30)``, ``email=f"{uuid4()}@example.com"``)
reach no assertion on their own.

The flow is deliberately simple: statements are read once in source order (a loop body
once), a variable is tainted by every value assigned to it (branches are not told
apart), and a value is *passed in*
when it is an argument of a call that is neither an assertion nor a builtin (``str``,
``len``), when it is stored in an object or a structure the test did not build as a
literal (``order.placed = now``, ``response["created"] = now``), or when it is handed to
``with``. Stored in a literal the test built (``expected = {}``,
``expected["date"] = today``), it stays the test's own expectation.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import libcst as cst

from backlint.engine.walker import iter_children, iter_descendants
from backlint.index.names import ImportTable, dotted_name
from backlint.rules.dependencies.implicit_calls import free_names

_ASSERTION_PREFIXES = ("assert", "fail")
_LITERALS = (cst.Dict, cst.List, cst.Set, cst.Tuple, cst.DictComp, cst.ListComp, cst.SetComp)


def is_assertion_call(node: cst.Call) -> bool:
    """``self.assertEqual(...)``, ``mock.assert_called_once_with(...)``, ``self.fail(...)``."""
    func = node.func
    name = func.attr.value if isinstance(func, cst.Attribute) else dotted_name(func)
    return name is not None and name.startswith(_ASSERTION_PREFIXES)


@dataclass
class _Flow:
    table: ImportTable
    sites: dict[int, int]  # ``id()`` of a reported call -> its index
    taint: dict[str, frozenset[int]] = field(default_factory=dict)
    passed: set[int] = field(default_factory=set)
    asserted: set[int] = field(default_factory=set)
    deferred: list[cst.BaseSuite] = field(default_factory=list)
    literals: set[str] = field(default_factory=set)  # names bound to a literal dict/list

    def roots(self, node: cst.CSTNode) -> frozenset[int]:
        """The sites whose values ``node`` computes with: inside it, or through variables."""
        found = {self.sites[id(n)] for n in _self_and_descendants(node) if id(n) in self.sites}
        for name in free_names(node):
            found |= self.taint.get(name, frozenset())
        return frozenset(found)

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
        """Record assertion calls and values passed to calls inside ``node``."""
        stack: list[cst.CSTNode] = [node]
        while stack:
            current = stack.pop()
            if isinstance(current, cst.Call):
                if is_assertion_call(current):
                    self.assertion(current)
                    continue  # what an assertion computes is not passed anywhere
                if not self._builtin(current):
                    for arg in current.args:
                        self.passed |= self.roots(arg.value)
            stack.extend(iter_children(current))

    def _builtin(self, node: cst.Call) -> bool:
        name = self.table.qualified_name(node.func)
        return name is not None and name.startswith("builtins.")

    def assertion(self, node: cst.CSTNode) -> None:
        self.asserted |= self.roots(node) - self.passed


def _self_and_descendants(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    yield node
    yield from iter_descendants(node)


def asserted_sites(
    body: cst.BaseSuite, calls: Sequence[cst.Call], table: ImportTable
) -> frozenset[int]:
    """The ``id()`` of each of ``calls`` that an assertion of ``body`` depends on without
    a round trip through the code under test."""
    sites = {id(call): index for index, call in enumerate(calls)}
    flow = _Flow(table, sites)
    flow.block(body)
    while flow.deferred:
        flow.block(flow.deferred.pop(0))
    return frozenset(id(calls[index]) for index in flow.asserted)


def _root(node: cst.BaseExpression) -> str:
    """``expected`` for ``expected["a"]["b"]`` or ``expected.items[0]``."""
    while isinstance(node, (cst.Subscript, cst.Attribute)):
        node = node.value
    return node.value if isinstance(node, cst.Name) else ""
