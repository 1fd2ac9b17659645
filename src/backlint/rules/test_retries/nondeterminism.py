"""The calls of a retried test that BL701/BL702 would report, as BL721 names them as the
likely cause of its intermittent failures.

BL721 walks the retried test's body once, with the guards BL701/BL702 honour (a frozen
clock, a patch of the call, ``random.seed()``, a polling loop, a fake the test hands to
the code) and their verdicts (``rules.testing.verdicts``, ``rules.testing.flow``): a
clock read or a random draw counts only when an assertion compares it exactly, a sleep
only when the test itself waits on it. A generated id (``uuid4()``) is unique test data
and never a cause. So the message never blames a call the test does not have, nor one
that makes it no less deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

from backlint.engine.walker import iter_children
from backlint.index.names import ImportTable, dotted_name
from backlint.index.testcode import TestFunction
from backlint.rules.dependencies.implicit_calls import CLOCK_CATALOG, CLOCK_READS, shown_name
from backlint.rules.testing.flow import asserted_sites
from backlint.rules.testing.protection import (
    Guards,
    call_names,
    is_freeze,
    is_patch,
    parameter_names,
    patched_names,
)
from backlint.rules.testing.verdicts import (
    DEFAULT_CLOCK_FIXTURES,
    IDS,
    IN_PLACE,
    SLEEPS,
    Nested,
    draws_text,
    in_fake,
    may_repeat,
    polls,
    yields,
)

_SEED = "random.seed"
_RANDOM = "random."


@dataclass(frozen=True)
class _Call:
    node: cst.Call
    qualified: str
    frozen: bool
    patched: bool
    seeded: bool
    loops: tuple[cst.For | cst.While, ...]
    nested: tuple[Nested, ...]


def nondeterministic_calls(test: TestFunction, names: ImportTable, guards: Guards) -> list[str]:
    """The distinct calls of ``test`` that BL701/BL702 report, as written, in source order.
    ``guards``: what the module, the test's class and its decorators set up."""
    frozen = guards.frozen or bool(guards.fixtures & set(DEFAULT_CLOCK_FIXTURES))
    calls = _Walk(names, frozen, set(guards.patched), guards.seeded).run(test.node)
    shadowed = parameter_names(test.node)  # a fixture named like the module
    calls = [c for c in calls if (dotted_name(c.node.func) or "").split(".")[0] not in shadowed]
    reads = [c for c in calls if c.qualified in CLOCK_READS and not (c.frozen or c.patched)]
    draws = [
        c
        for c in calls
        if c.qualified.startswith(_RANDOM)
        and not (c.patched or c.seeded or draws_text(c.node, names))
    ]
    followed = [*reads, *draws]
    shuffles = [c.node for c in draws if c.qualified in IN_PLACE]
    compared = asserted_sites(test.node.body, [c.node for c in followed], names, shuffles)
    causes = {id(c.node) for c in reads if id(c.node) in compared}
    causes |= {
        id(c.node)
        for c in draws
        if id(c.node) in compared and may_repeat(c.qualified, c.node, names)
    }
    causes |= {
        id(c.node)
        for c in calls
        if c.qualified in SLEEPS
        and not (c.patched or yields(c.node) or any(map(polls, c.loops)))
        and not in_fake(c.nested, test.node)
    }
    found: list[str] = []
    for call in calls:
        shown = shown_name(call.node.func, call.qualified)
        if id(call.node) in causes and shown not in found:
            found.append(shown)
    return found


class _Walk:
    """One pass over a test's body in source order, with the guards in force at each call
    (as ``CallInTestRule`` does during the engine's walk)."""

    def __init__(self, names: ImportTable, frozen: bool, patched: set[str], seeded: bool):
        self.names = names
        self.started = frozen
        self.patched = patched
        self.seeded = seeded
        self.found: list[_Call] = []

    def run(self, test: cst.FunctionDef) -> list[_Call]:
        self._visit(test.body, frozen=False, loops=(), nested=())
        return self.found

    def _visit(
        self,
        node: cst.CSTNode,
        *,
        frozen: bool,
        loops: tuple[cst.For | cst.While, ...],
        nested: tuple[Nested, ...],
    ) -> None:
        if isinstance(node, (cst.Decorator, cst.Parameters)):
            return  # run at collection or definition time
        if isinstance(node, cst.Call):
            self._call(node, frozen, loops, nested)
        if isinstance(node, cst.With) and any(is_freeze(i.item, self.names) for i in node.items):
            frozen = True
        if isinstance(node, (cst.For, cst.While)):
            loops = (*loops, node)
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            nested = (*nested, node)
        for child in iter_children(node):
            self._visit(child, frozen=frozen, loops=loops, nested=nested)

    def _call(
        self,
        node: cst.Call,
        frozen: bool,
        loops: tuple[cst.For | cst.While, ...],
        nested: tuple[Nested, ...],
    ) -> None:
        qualified = self.names.qualified_name(node.func)
        if is_freeze(node, self.names):
            self.started = self.started or not frozen
        elif qualified == _SEED:
            self.seeded = True
        elif is_patch(node, self.names):
            self.patched |= patched_names(node)
        elif qualified is not None and _imported(node.func, self.names) and _wanted(qualified):
            self.found.append(
                _Call(
                    node,
                    qualified,
                    frozen or self.started,
                    bool(call_names(qualified) & self.patched),
                    self.seeded,
                    loops,
                    nested,
                )
            )


def _wanted(qualified: str) -> bool:
    return (qualified in CLOCK_CATALOG and not qualified.startswith(IDS)) or qualified in SLEEPS


def _imported(callee: cst.BaseExpression, names: ImportTable) -> bool:
    """The head of the callee is an import: a local called ``random`` is not the module."""
    written = dotted_name(callee)
    return written is not None and names.imported(written.split(".", 1)[0]) is not None


def listed(items: Sequence[str], limit: int = 3) -> str:
    """```time.sleep``, ``random.choice`` and ``datetime.now```."""
    shown = [f"`{item}`" for item in items[:limit]]
    if len(items) > limit:
        shown.append(f"{len(items) - limit} more")
    if len(shown) == 1:
        return shown[0]
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def written(node: cst.BaseExpression) -> str:
    """An expression as written, on one line and at most 60 characters long."""
    text = " ".join(cst.Module(body=[]).code_for_node(node).split())
    return text if len(text) <= 60 else text[:57] + "..."
