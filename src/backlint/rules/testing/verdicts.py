"""What BL701 and BL702 decide about one call of a test, shared with BL721, which names
those calls as the likely cause of a retried test's failures: one decision, so that the
rules never disagree about what is nondeterministic.
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from backlint.engine.walker import iter_descendants
from backlint.index.names import ImportTable, dotted_name

SLEEPS = frozenset({"time.sleep", "asyncio.sleep", "anyio.sleep", "trio.sleep"})
# Fixtures that freeze the clock for the test that requests them (BL701's default).
DEFAULT_CLOCK_FIXTURES = ("freezer", "time_machine", "frozen_time", "mock_now")
# Draws that shuffle their argument in place instead of returning the draw.
IN_PLACE = frozenset({"random.shuffle"})
IDS = "uuid."
_RANDOM = "random."
_STRING_MODULE = "string."
# Draws of integers and permutations, which repeat; picks from a population.
_DISCRETE = frozenset(
    {"randint", "randrange", "getrandbits", "randbytes", "binomialvariate", "shuffle"}
)
_PICKS = frozenset({"choice", "choices", "sample"})
_RANGE = "builtins.range"
# Calls that start a function the test defines (its own concurrent step, not a fake).
_LAUNCHERS = frozenset(
    {
        "Thread",
        "Timer",
        "Process",
        "submit",
        "run_in_executor",
        "to_thread",
        "run_sync",
        "start_soon",
        "call_soon",
        "call_soon_threadsafe",
        "call_later",
    }
)

Nested = cst.FunctionDef | cst.ClassDef


# -- sleeps (BL702) --


def polls(loop: cst.For | cst.While) -> bool:
    """A loop that waits for something: ``while <condition>``, or one it can leave early."""
    if isinstance(loop, cst.While) and not _always_true(loop.test):
        return True
    return any(
        isinstance(node, (cst.Break, cst.Return))
        for node in iter_descendants(loop.body, into_functions=False)
    )


def _always_true(test: cst.BaseExpression) -> bool:
    if isinstance(test, cst.Name):
        return test.value == "True"
    return isinstance(test, cst.Integer) and test.value != "0"


def delay(node: cst.Call) -> cst.BaseExpression | None:
    """The duration a sleep is given."""
    for arg in node.args:
        if arg.keyword is None and not arg.star:
            return arg.value
    return next((arg.value for arg in node.args if arg.keyword is not None), None)


def yields(node: cst.Call) -> bool:
    """``sleep(0)``: a yield to other tasks or threads, not a wait."""
    given = delay(node)
    if isinstance(given, (cst.Integer, cst.Float)):
        return float(given.value.replace("_", "")) == 0
    return False


def in_fake(nested: Sequence[Nested], test: cst.FunctionDef) -> bool:
    """A call inside a fake or a callback the test hands to the code under test
    (``side_effect=slow_agent``, ``return_value={"job": slow_task}``, a listener, a
    decorated actor, a method of a class the test defines) belongs to a simulated
    collaborator: the code waits, not the test. A nested function the test calls itself
    (``asyncio.create_task(publish())``) or starts in a thread is the test's own step.
    ``nested``: the functions and classes around the call, outermost first."""
    if not nested:
        return False
    outermost = nested[0]
    if any(isinstance(node, cst.ClassDef) for node in nested):
        return True
    assert isinstance(outermost, cst.FunctionDef)
    return outermost.name.value not in _run_by_test(test)


def _run_by_test(test: cst.FunctionDef) -> frozenset[str]:
    """Names the test calls (``publish()``) or starts itself (``Thread(target=work)``,
    ``loop.run_in_executor(None, work)``)."""
    names: set[str] = set()
    for node in iter_descendants(test.body):
        if not isinstance(node, cst.Call):
            continue
        func = node.func
        if isinstance(func, cst.Name):
            names.add(func.value)  # ``publish()``, ``create_task(publish())``
        callee = func.attr.value if isinstance(func, cst.Attribute) else dotted_name(func)
        if callee in _LAUNCHERS:  # ``Thread(target=work)``, ``executor.submit(work)``
            names.update(arg.value.value for arg in node.args if isinstance(arg.value, cst.Name))
    return frozenset(names)


# -- random draws (BL701) --


def draws_text(node: cst.Call, table: ImportTable) -> bool:
    """``random.choice(string.ascii_letters)``: characters for an opaque random string,
    which is unique test data like a generated id."""
    if not node.args:
        return False
    population = node.args[0].value
    for part in (population, *iter_descendants(population)):
        if isinstance(part, (cst.SimpleString, cst.ConcatenatedString)):
            return True
        if isinstance(part, (cst.Name, cst.Attribute)) and (
            table.qualified_name(part) or ""
        ).startswith(_STRING_MODULE):
            return True
    return False


def may_repeat(qualified: str, node: cst.Call, table: ImportTable) -> bool:
    """Whether a draw an assertion compares can make it fail now and then: integers and
    permutations collide (two shuffles of five letters agree once in 120 runs), and a pick
    from a literal list of values changes the case under test. A float from a continuous
    distribution practically never repeats, and a pick among the test's own objects
    (``random.choice(recipes)``) selects data whose handling the assertion checks."""
    name = qualified.removeprefix(_RANDOM)
    if name in _DISCRETE:
        return True
    if name not in _PICKS or not node.args:
        return False
    population = node.args[0].value
    if isinstance(population, (cst.List, cst.Tuple, cst.Set)):
        return True
    return isinstance(population, cst.Call) and table.qualified_name(population.func) == _RANGE
