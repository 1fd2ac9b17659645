"""The calls that make a test nondeterministic (BL701/BL702's catalog), as BL721 needs
them to say why a retried test fails now and then.

A small, independent check: a call to a clock, ``random``, ``uuid1``/``uuid4`` or
``sleep`` anywhere in a test's body. Clock reads do not count when the clock is frozen
(``freeze_time``/``time_machine.travel`` decorators on the test or its class, a ``with``
block of one, a requested ``freezer``/``time_machine`` fixture), ``random`` calls not after
``random.seed()`` in the test, and ``asyncio.sleep(0)`` only yields to the event loop.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import libcst as cst

from backlint.engine.walker import iter_children
from backlint.index.names import ImportTable
from backlint.index.testcode import TestFunction
from backlint.rules.dependencies.implicit_calls import CLOCK_CATALOG, CLOCK_READS, shown_name

SLEEPS = frozenset({"time.sleep", "asyncio.sleep", "trio.sleep", "anyio.sleep"})
NONDETERMINISTIC = frozenset(CLOCK_CATALOG) | SLEEPS
FREEZERS = frozenset(
    {
        "freezegun.freeze_time",
        "freezegun.api.freeze_time",
        "time_machine.travel",
        "pytest.mark.freeze_time",
        "pytest.mark.time_machine",
    }
)
CLOCK_FIXTURES = frozenset({"freezer", "time_machine", "frozen_time"})


def _is_freezer(expression: cst.BaseExpression, names: ImportTable) -> bool:
    callee = expression.func if isinstance(expression, cst.Call) else expression
    qualified = names.qualified_name(callee) or ""
    return qualified in FREEZERS or qualified.rsplit(".", 1)[-1] == "freeze_time"


def _frozen_by_signature(test: TestFunction, names: ImportTable) -> bool:
    decorators = list(test.node.decorators)
    if test.class_node is not None:
        decorators += test.class_node.decorators
    if any(_is_freezer(d.decorator, names) for d in decorators):
        return True
    params = test.node.params
    requested = {p.name.value for p in (*params.posonly_params, *params.params)}
    return bool(requested & CLOCK_FIXTURES)


def _yields_only(call: cst.Call) -> bool:
    """``asyncio.sleep(0)``: hands control to the loop, waits for nothing."""
    first = call.args[0].value if call.args else None
    return isinstance(first, cst.Integer) and first.value == "0"


def nondeterministic_calls(test: TestFunction, names: ImportTable) -> list[str]:
    """The distinct nondeterministic calls of a test, as written, in source order."""
    frozen = _frozen_by_signature(test, names)
    seeded = False
    found: list[str] = []
    for call, in_freeze in _calls(test.node.body, names, frozen):
        qualified = names.qualified_name(call.func)
        if qualified is None:
            continue
        if qualified == "random.seed":
            seeded = True
        if qualified not in NONDETERMINISTIC:
            continue
        if qualified in CLOCK_READS and in_freeze:
            continue
        if qualified.startswith("random.") and seeded:
            continue
        if qualified in SLEEPS and _yields_only(call):
            continue
        shown = shown_name(call.func, qualified)
        if shown not in found:
            found.append(shown)
    return found


def _calls(body: cst.CSTNode, names: ImportTable, frozen: bool) -> Iterator[tuple[cst.Call, bool]]:
    """Every call in ``body`` in source order, with whether the clock is frozen there."""
    stack: list[tuple[cst.CSTNode, bool]] = [(body, frozen)]
    while stack:
        node, inside = stack.pop()
        if isinstance(node, cst.Call):
            yield node, inside
        if isinstance(node, cst.With) and any(_is_freezer(i.item, names) for i in node.items):
            inside = True
        children: Sequence[cst.CSTNode] = list(iter_children(node))
        stack.extend((child, inside) for child in reversed(children))


def listed(items: Sequence[str], limit: int = 3) -> str:
    """```time.sleep``, ``uuid4`` and ``datetime.now```."""
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
