"""What BL701 and BL702 share: which functions of a test file they read, and what makes a
call in one of them harmless.

**Scope.** Tests and fixtures of test files (``FileContext.test_functions``); helpers only
with the ``check-helpers`` option. A call counts wherever it sits in the function's body,
nested functions and lambdas included (they run while the test runs); decorators and
parameter defaults run at collection time and are not read.

**Guards**, gathered from the module (``pytestmark``, a module-level ``random.seed()``),
the test's class (decorators, a class-level ``pytestmark``) and the function itself
(decorators, parameters):

* the clock is *frozen* by ``@freeze_time``/``@time_machine.travel``/
  ``@pytest.mark.freeze_time`` on the function or its class, inside
  ``with freeze_time(...)``/``with time_machine.travel(...)``, after a freeze was started
  in the function (``freezer = freeze_time(...); freezer.start()``), and when the
  function requests a clock fixture (a parameter or ``@pytest.mark.usefixtures``);
* a call is *patched* when an earlier ``mock.patch``/``mocker.patch``/
  ``monkeypatch.setattr``/``patch.object`` in the function (or a patch decorator) names
  its module, class or function: ``"time.sleep"``, ``"app.orders.datetime"``,
  ``(uuid, "uuid4")``;
* ``random`` is *seeded* after ``random.seed(...)`` in the function or at module level;
* *markers* are the ``pytest.mark.<name>`` decorators of the function and its class, the
  ``pytestmark`` of the module and the class, and Django's ``@tag("<name>")``.

Which guard protects which call is each rule's decision.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import ClassVar

import libcst as cst

from backlint.engine.context import FileContext
from backlint.index.names import ImportTable, dotted_name
from backlint.index.testcode import TestFunction
from backlint.rules.base import FileRule, Option

# Calls that freeze or move the clock: as decorators, context managers or started by hand.
FREEZE_CALLS = frozenset(
    {
        "freezegun.freeze_time",
        "freezegun.api.freeze_time",
        "time_machine.travel",
        "pytest.mark.freeze_time",
        "pytest.mark.time_machine",
    }
)
# A bare ``freeze_time`` from a project's own wrapper still says what it does.
_FREEZE_TAIL = "freeze_time"
# The last parts of the callees that patch something for the rest of the test.
_PATCH_TAILS = ("patch", "setattr", "patch.object", "patch.multiple")
_SEED = "random.seed"
_MARK = "pytest.mark."
_DJANGO_TAG = "django.test.tag"
_USEFIXTURES = "pytest.mark.usefixtures"

CHECK_HELPERS = Option(
    "check-helpers",
    False,
    "Also check helpers of test files (functions that are neither tests nor fixtures, "
    "`setUp` included).",
)


@dataclass(frozen=True)
class Guards:
    """What protects the calls of one function (see the module docstring)."""

    markers: frozenset[str] = frozenset()
    fixtures: frozenset[str] = frozenset()  # requested: parameters and ``usefixtures``
    frozen: bool = False
    patched: frozenset[str] = frozenset()  # last parts of patched targets
    seeded: bool = False

    def merge(self, other: Guards) -> Guards:
        return Guards(
            self.markers | other.markers,
            self.fixtures | other.fixtures,
            self.frozen or other.frozen,
            self.patched | other.patched,
            self.seeded or other.seeded,
        )


@dataclass(frozen=True)
class CallSite:
    """A call the rule asked for, with what guarded it at that point of the function."""

    node: cst.Call
    qualified: str
    frozen: bool  # the clock was frozen here (decorator, ``with``, started freeze)
    patched: bool  # an earlier patch named the call's module, class or function
    seeded: bool  # ``random.seed()`` ran earlier
    loops: tuple[cst.For | cst.While, ...] = ()  # the loops of the function around it
    # The functions and classes the test defines around it (a fake, a callback), outermost
    # first: code that runs when something calls it, not as a statement of the test.
    nested: tuple[cst.FunctionDef | cst.ClassDef, ...] = ()


def callee_name(node: cst.BaseExpression, table: ImportTable) -> str:
    """The qualified name of a callee, or its dotted spelling, or ``""``."""
    return table.qualified_name(node) or dotted_name(node) or ""


def is_freeze(node: cst.BaseExpression, table: ImportTable) -> bool:
    """``freeze_time(...)``, ``time_machine.travel(...)``, ``pytest.mark.freeze_time``."""
    callee = node.func if isinstance(node, cst.Call) else node
    name = callee_name(callee, table)
    return name in FREEZE_CALLS or name.rsplit(".", 1)[-1] == _FREEZE_TAIL


def is_patch(node: cst.Call, table: ImportTable) -> bool:
    """``mock.patch``, ``mocker.patch(.object)``, ``monkeypatch.setattr``, ``setattr``."""
    written = dotted_name(node.func) or ""
    name = table.qualified_name(node.func) or written
    return any(
        n == tail or n.endswith("." + tail) for n in (written, name) for tail in _PATCH_TAILS
    )


def _string(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def patched_names(node: cst.Call) -> frozenset[str]:
    """The last part of what a patch call replaces: ``sleep`` for ``patch("time.sleep")``
    or ``setattr(time, "sleep", f)``, ``datetime`` for ``patch("app.orders.datetime")``."""
    positional = [arg.value for arg in node.args if arg.keyword is None and not arg.star]
    names: set[str] = set()
    first = _string(positional[0]) if positional else None
    if first is not None:
        names.add(first.rsplit(".", 1)[-1])
    elif len(positional) > 1:
        attribute = _string(positional[1])
        if attribute is not None:
            names.add(attribute)
    if (dotted_name(node.func) or "").endswith("multiple"):
        names.update(arg.keyword.value for arg in node.args if arg.keyword is not None)
    return frozenset(names)


def call_names(qualified: str) -> frozenset[str]:
    """The module (or class) and function a patch may name: ``{"datetime", "now"}`` for
    ``datetime.datetime.now``, ``{"timezone", "now"}`` for ``django.utils.timezone.now``."""
    return frozenset(qualified.split(".")[-2:])


def _markers(expression: cst.BaseExpression, table: ImportTable) -> Guards:
    """The markers, requested fixtures and freeze of one decorator or ``pytestmark`` item."""
    callee = expression.func if isinstance(expression, cst.Call) else expression
    name = callee_name(callee, table)
    arguments = (
        [_string(arg.value) for arg in expression.args] if isinstance(expression, cst.Call) else []
    )
    strings = frozenset(value for value in arguments if value is not None)
    if name == _USEFIXTURES:
        return Guards(fixtures=strings)
    if name == _DJANGO_TAG:
        return Guards(markers=strings)
    frozen = is_freeze(expression, table)
    if name.startswith(_MARK):
        return Guards(markers=frozenset({name[len(_MARK) :].split(".", 1)[0]}), frozen=frozen)
    patched = (
        patched_names(expression)
        if isinstance(expression, cst.Call) and is_patch(expression, table)
        else frozenset()
    )
    return Guards(frozen=frozen, patched=patched)


def decorator_guards(decorators: Sequence[cst.Decorator], table: ImportTable) -> Guards:
    guards = Guards()
    for decorator in decorators:
        guards = guards.merge(_markers(decorator.decorator, table))
    return guards


def _simple_statements(body: Iterable[cst.CSTNode]) -> Iterator[cst.BaseSmallStatement]:
    for statement in body:
        if isinstance(statement, cst.SimpleStatementLine):
            yield from statement.body


def _elements(value: cst.BaseExpression) -> list[cst.BaseExpression]:
    """``pytestmark = [a, b]`` (or a tuple) gives ``[a, b]``; a single mark gives itself."""
    if isinstance(value, (cst.List, cst.Tuple)):
        return [element.value for element in value.elements]
    return [value]


def body_guards(body: Iterable[cst.CSTNode], table: ImportTable) -> Guards:
    """``pytestmark = ...`` and ``random.seed(...)`` among the statements of a module or
    class body."""
    guards = Guards()
    for statement in _simple_statements(body):
        if isinstance(statement, cst.Assign) and any(
            isinstance(target.target, cst.Name) and target.target.value == "pytestmark"
            for target in statement.targets
        ):
            for element in _elements(statement.value):
                guards = guards.merge(_markers(element, table))
        elif (
            isinstance(statement, cst.Expr)
            and isinstance(statement.value, cst.Call)
            and table.qualified_name(statement.value.func) == _SEED
        ):
            guards = replace(guards, seeded=True)
    return guards


def class_guards(node: cst.ClassDef, table: ImportTable) -> Guards:
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
    return decorator_guards(node.decorators, table).merge(body_guards(body, table))


def parameter_names(node: cst.FunctionDef) -> frozenset[str]:
    params = node.params
    names = [p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)]
    return frozenset(names)


@dataclass
class _Frame:
    """The test, fixture or helper being walked, and the guards met so far in it."""

    function: TestFunction
    guards: Guards
    patched: set[str]
    seeded: bool
    started: bool  # a freeze was started by hand (or is on for the whole function)
    frozen: int = 0  # depth of ``with freeze_time(...)`` blocks and frozen nested functions
    exempt: int = 0  # inside decorators or parameter lists: not run by the test
    loops: list[cst.For | cst.While] = field(default_factory=list)
    nested: list[bool] = field(default_factory=list)  # nested functions: frozen or not
    enclosing: list[cst.FunctionDef | cst.ClassDef] = field(default_factory=list)
    freezing_withs: set[int] = field(default_factory=set)
    sites: list[CallSite] = field(default_factory=list)


def kind_label(function: TestFunction) -> str:
    """``test `test_expiry```, ``fixture `order```, ``helper `TestX.make```."""
    return f"{function.kind} `{function.qualname}`"


class CallInTestRule(FileRule):
    """Collects the calls a subclass wants in the tests and fixtures of test files, with
    the guards in force at each, and hands them over when the function has been walked.

    It rides the engine's single walk (``visit_Call`` and friends) instead of reading
    function bodies again. Subclasses set ``text_markers`` (a file containing none of
    them is skipped before the walk) and implement ``wanted`` and ``check``.
    """

    include_tests = True
    text_markers: ClassVar[tuple[str, ...]] = ()

    def applies_to(self, ctx: FileContext) -> bool:
        return ctx.is_test and any(marker in ctx.text for marker in self.text_markers)

    def begin_file(self, ctx: FileContext) -> None:
        super().begin_file(ctx)
        self._module_guards = body_guards(ctx.tree.body, ctx.names)
        self._class_guards: dict[int, Guards] = {}
        self._frame: _Frame | None = None

    # -- functions --

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        frame = self._frame
        if frame is not None:  # a nested function: runs while the test runs
            guards = decorator_guards(node.decorators, self.ctx.names)
            frame.patched |= guards.patched
            frame.nested.append(guards.frozen)
            frame.frozen += guards.frozen
            frame.enclosing.append(node)
            return
        function = self.ctx.test_functions.get(id(node))
        if function is None or (function.kind == "helper" and not self.option("check-helpers")):
            return
        guards = self._guards(function)
        self._frame = _Frame(function, guards, set(guards.patched), guards.seeded, guards.frozen)

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        frame = self._frame
        if frame is None:
            return
        if node is not frame.function.node:
            frame.frozen -= frame.nested.pop()
            frame.enclosing.pop()
            return
        self._frame = None
        parameters = parameter_names(node)
        sites = [
            site
            for site in frame.sites
            # a fixture parameter named like the module shadows it
            if (dotted_name(site.node.func) or "").split(".", 1)[0] not in parameters
        ]
        if sites:
            self.check(frame.function, sites, frame.guards)

    def _guards(self, function: TestFunction) -> Guards:
        table = self.ctx.names
        guards = self._module_guards
        if function.class_node is not None:
            key = id(function.class_node)
            if key not in self._class_guards:
                self._class_guards[key] = class_guards(function.class_node, table)
            guards = guards.merge(self._class_guards[key])
        guards = guards.merge(decorator_guards(function.node.decorators, table))
        return guards.merge(Guards(fixtures=parameter_names(function.node)))

    # Decorators and parameter defaults run when the module is collected, not in the test.

    def visit_Decorator(self, node: cst.Decorator) -> None:
        if self._frame is not None:
            self._frame.exempt += 1

    def leave_Decorator(self, node: cst.Decorator) -> None:
        if self._frame is not None:
            self._frame.exempt -= 1

    def visit_Parameters(self, node: cst.Parameters) -> None:
        if self._frame is not None:
            self._frame.exempt += 1

    def leave_Parameters(self, node: cst.Parameters) -> None:
        if self._frame is not None:
            self._frame.exempt -= 1

    # -- blocks --

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if self._frame is not None:  # a class the test defines: a fake
            self._frame.enclosing.append(node)

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        if self._frame is not None:
            self._frame.enclosing.pop()

    def visit_With(self, node: cst.With) -> None:
        frame = self._frame
        if frame is None:
            return
        freezes = [
            item.item
            for item in node.items
            if isinstance(item.item, cst.Call) and is_freeze(item.item, self.ctx.names)
        ]
        if freezes:  # frozen inside the block only, not after it
            frame.freezing_withs.update(id(call) for call in freezes)
            frame.freezing_withs.add(id(node))
            frame.frozen += 1

    def leave_With(self, node: cst.With) -> None:
        if self._frame is not None and id(node) in self._frame.freezing_withs:
            self._frame.frozen -= 1

    def visit_For(self, node: cst.For) -> None:
        if self._frame is not None:
            self._frame.loops.append(node)

    def leave_For(self, node: cst.For) -> None:
        if self._frame is not None:
            self._frame.loops.pop()

    def visit_While(self, node: cst.While) -> None:
        if self._frame is not None:
            self._frame.loops.append(node)

    def leave_While(self, node: cst.While) -> None:
        if self._frame is not None:
            self._frame.loops.pop()

    # -- calls --

    def visit_Call(self, node: cst.Call) -> None:
        frame = self._frame
        if frame is None or frame.exempt:
            return
        table = self.ctx.names
        name = table.qualified_name(node.func)
        if is_freeze(node, table):
            if id(node) not in frame.freezing_withs:
                frame.started = True  # ``freeze_time(...).start()``, a traveller kept for later
        elif name == _SEED:
            frame.seeded = True
        elif is_patch(node, table):
            frame.patched |= patched_names(node)
        elif name is not None and self.wanted(name) and _imported(node.func, table):
            frame.sites.append(
                CallSite(
                    node,
                    name,
                    bool(frame.frozen) or frame.started,
                    bool(call_names(name) & frame.patched),
                    frame.seeded,
                    tuple(frame.loops),
                    tuple(frame.enclosing),
                )
            )

    def wanted(self, qualified: str) -> bool:
        """Whether calls of ``qualified`` are this rule's business."""
        raise NotImplementedError

    def check(self, function: TestFunction, sites: Sequence[CallSite], guards: Guards) -> None:
        """Report the ``sites`` of ``function`` that no guard protects."""
        raise NotImplementedError


def _imported(callee: cst.BaseExpression, table: ImportTable) -> bool:
    """The head of the callee is an import: a local called ``random`` is not the module."""
    written = dotted_name(callee)
    return written is not None and table.imported(written.split(".", 1)[0]) is not None
