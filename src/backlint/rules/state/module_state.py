"""What BL301 and BL302 share: module-level candidates and where functions change them.

The per-file index records each module-level binding with the shape of its value
(``BindingFact``); a *candidate* is a binding to a list, dict or set (literal,
comprehension or constructor call) for BL301, or to ``None`` for BL302.

``scan`` walks one function (with everything nested in it) and returns the places that
change a name which resolves to module level: a mutating method call, an item
assignment or deletion, and a rebinding under ``global``. Resolution is a light scope
analysis in the spirit of Python's own rules: a name bound anywhere in a function is
local to it unless declared ``global``; names of enclosing functions are visible to
nested ones (closures), class bodies are not. Comprehension variables are treated as
locals of the function holding the comprehension, which can only hide a finding, never
invent one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import libcst as cst

from backlint.engine.walker import iter_children, iter_descendants
from backlint.index.facts import BindingFact
from backlint.index.names import assigned_names, dotted_name
from backlint.rules.base import Condition, FileRule
from backlint.rules.lifecycle import CalledAtRunTime, ModuleLifecycle, parameter_names

if TYPE_CHECKING:
    from backlint.engine.context import FileContext
    from backlint.index.project import ProjectIndex

# Methods that change a list, dict, set, deque or Counter in place.
MUTATING_METHODS = frozenset(
    {
        "append",
        "extend",
        "insert",
        "update",
        "setdefault",
        "pop",
        "popitem",
        "clear",
        "remove",
        "add",
        "discard",
        # Beyond the spec's list: the in-place methods of the same containers.
        "appendleft",
        "extendleft",
        "popleft",
        "sort",
        "reverse",
        "difference_update",
        "intersection_update",
        "symmetric_difference_update",
    }
)
# Methods that only take entries out: a function that does nothing else to a container
# empties or trims it (a reset, an ``unregister``), it does not fill it.
REMOVING_METHODS = frozenset({"pop", "popitem", "clear", "remove", "discard", "popleft"})
# Calls that hand back a part of a container: changing that part changes the container
# (``REG.setdefault(k, []).append(fn)``, ``HOOKS.get(name).append(fn)``).
_ITEM_ACCESSORS = frozenset({"setdefault", "get"})

_LITERAL_SHAPES = frozenset({"list", "dict", "set"})
_CONTAINER_FACTORIES = {
    "list": "list",
    "dict": "dict",
    "set": "set",
    "builtins.list": "list",
    "builtins.dict": "dict",
    "builtins.set": "set",
    "collections.defaultdict": "defaultdict",
    "collections.OrderedDict": "OrderedDict",
    "collections.deque": "deque",
    "collections.Counter": "Counter",
}
# Module attributes that Python tooling owns: never shared state in the rule's sense.
EXEMPT_NAMES = frozenset({"__all__", "__slots__", "__version__"})

# Objects that are shared on purpose (per-thread or per-context storage, locks, loggers):
# creating one lazily is not the singleton BL302 is about.
EXEMPT_FACTORIES = frozenset(
    {
        "threading.local",
        "_threading_local.local",
        "contextvars.ContextVar",
        "threading.Lock",
        "threading.RLock",
        "threading.Semaphore",
        "threading.BoundedSemaphore",
        "threading.Condition",
        "threading.Event",
        "asyncio.Lock",
        "asyncio.Semaphore",
        "asyncio.BoundedSemaphore",
        "asyncio.Condition",
        "asyncio.Event",
        "multiprocessing.Lock",
        "multiprocessing.RLock",
        "logging.getLogger",
        "structlog.get_logger",
        "structlog.getLogger",
        "structlog.stdlib.get_logger",
        "loguru.logger.bind",
    }
)
# Calls that read a value (a clock, a random id) rather than create an object: storing
# one in a global is a timestamp or a token, not a singleton.
VALUE_CALLS = frozenset(
    {
        "datetime.datetime.now",
        "datetime.datetime.utcnow",
        "datetime.datetime.today",
        "datetime.date.today",
        "django.utils.timezone.now",
        "time.time",
        "time.time_ns",
        "time.monotonic",
        "time.monotonic_ns",
        "time.perf_counter",
        "uuid.uuid1",
        "uuid.uuid4",
        # Beyond clocks and ids: process facts and plain conversions.
        "os.getpid",
        "os.getenv",
        "socket.gethostname",
        "platform.node",
        "builtins.int",
        "builtins.float",
        "builtins.str",
        "builtins.bool",
        "builtins.len",
    }
)
_CACHE_DECORATORS = frozenset({"functools.cache", "functools.lru_cache", "cache", "lru_cache"})


def container_kind(binding: BindingFact | None) -> str | None:
    """``list``/``dict``/``set``/``defaultdict``/... when ``binding`` is a BL301 candidate."""
    if binding is None or binding.name in EXEMPT_NAMES:
        return None
    if binding.shape in _LITERAL_SHAPES:
        return binding.shape
    if binding.shape == "call":
        return _CONTAINER_FACTORIES.get(binding.target)
    return None


@dataclass(frozen=True)
class IsModuleContainer:
    """Condition: ``qualified`` is a module-level container of another module.

    Checked in the project pass, which follows re-exports (``from app import REG`` where
    ``app/__init__.py`` imports ``REG`` from ``app.registry``).
    """

    qualified: str

    def holds(self, project: ProjectIndex) -> bool:
        return container_kind(project.binding(self.qualified)) is not None


ScopeNode = cst.FunctionDef | cst.Lambda | cst.ClassDef


@dataclass(eq=False)
class Scope:
    """One function, lambda or class body and the names it binds."""

    node: ScopeNode
    parent: Scope | None
    owner: str = ""  # the classes around the outermost function: ``Cache.`` for a method
    bound: set[str] = field(default_factory=set)
    declared_global: set[str] = field(default_factory=set)
    declared_nonlocal: set[str] = field(default_factory=set)
    params: tuple[str, ...] = ()
    returned: set[str] = field(default_factory=set)  # names in ``return NAME``
    nested_functions: set[str] = field(default_factory=set)
    # Local names assigned a call (``provider = TracerProvider()``): the last such call.
    local_calls: dict[str, cst.Call] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return "<lambda>" if isinstance(self.node, cst.Lambda) else self.node.name.value

    def display_name(self) -> str:
        """``Cache.put`` for a method, ``outer.inner`` for a nested function."""
        parts: list[str] = []
        scope: Scope | None = self
        while scope is not None:
            parts.append(scope.name)
            if scope.parent is None:
                parts.append(scope.owner.rstrip("."))
            scope = scope.parent
        return ".".join(part for part in reversed(parts) if part)

    def is_module_level(self, name: str) -> bool:
        """Whether ``name``, read in this scope, is the module-level name."""
        scope: Scope | None = self
        while scope is not None:
            # Class bodies are not visible from the functions nested in them.
            if scope is self or not isinstance(scope.node, cst.ClassDef):
                if name in scope.declared_global:
                    return True
                if name in scope.declared_nonlocal or name in scope.bound:
                    return False
            scope = scope.parent
        return True

    def function(self) -> Scope | None:
        """The innermost function or lambda scope at or around this one."""
        scope: Scope | None = self
        while scope is not None and isinstance(scope.node, cst.ClassDef):
            scope = scope.parent
        return scope

    def chain(self) -> Iterator[Scope]:
        scope: Scope | None = self
        while scope is not None:
            yield scope
            scope = scope.parent


# Kinds of change.
METHOD = "method"  # X.append(v)
SET_ITEM = "set-item"  # X[k] = v
AUG_ITEM = "aug-item"  # X[k] += v
DEL_ITEM = "del-item"  # del X[k]
REBIND = "rebind"  # global X; X = v   (or other_module.X = v)
AUG_REBIND = "aug-rebind"  # global X; X += v
DEL_REBIND = "del-rebind"  # global X; del X
_REBINDS = frozenset({REBIND, AUG_REBIND, DEL_REBIND})


@dataclass(frozen=True, eq=False)
class Mutation:
    """One place in a function that changes something rooted at a module-level name."""

    kind: str
    root: str  # the name the changed expression starts with
    dotted: str  # the changed object: ``_cache`` or ``state.items``
    shown: str  # the change as the message shows it: ``_cache[…] = …``
    node: cst.CSTNode  # where the finding is reported
    scope: Scope
    stored: frozenset[str] = frozenset()  # names used in what is stored
    value: cst.BaseExpression | None = None  # what a rebinding assigns
    method: str = ""  # the method called, for ``METHOD``

    @property
    def is_rebinding(self) -> bool:
        return self.kind in _REBINDS

    @property
    def is_removal(self) -> bool:
        """Whether the change only takes entries out: ``pop``/``clear``/``discard``...,
        ``del X[k]``, ``del X``, or rebinding the name to an empty container, ``None`` or
        a filtered copy of itself (``X = [h for h in X if h is not fn]``)."""
        if self.kind in (DEL_ITEM, DEL_REBIND):
            return True
        if self.kind == METHOD:
            return self.method in REMOVING_METHODS
        if self.kind == REBIND and self.dotted == self.root and self.value is not None:
            return _empties(self.value) or _filters(self.value, self.root)
        return False


_AUG_OPERATORS = {
    "AddAssign": "+=",
    "SubtractAssign": "-=",
    "MultiplyAssign": "*=",
    "MatrixMultiplyAssign": "@=",
    "DivideAssign": "/=",
    "FloorDivideAssign": "//=",
    "ModuloAssign": "%=",
    "PowerAssign": "**=",
    "LeftShiftAssign": "<<=",
    "RightShiftAssign": ">>=",
    "BitAndAssign": "&=",
    "BitOrAssign": "|=",
    "BitXorAssign": "^=",
}


_EMPTY_FACTORIES = frozenset(
    {"list", "dict", "set", "defaultdict", "OrderedDict", "deque", "Counter"}
)


def _empties(value: cst.BaseExpression) -> bool:
    """``None``, ``[]``, ``{}``, ``set()``, ``defaultdict(list)``: nothing in it."""
    if isinstance(value, cst.Name):
        return value.value == "None"
    if isinstance(value, (cst.List, cst.Dict, cst.Set, cst.Tuple)):
        return not value.elements
    if isinstance(value, cst.Call):
        callee = dotted_name(value.func) or ""
        name = callee.rsplit(".", 1)[-1]
        positional = [arg for arg in value.args if arg.keyword is None]
        # ``defaultdict(list)`` takes the factory of its values, not entries.
        return name in _EMPTY_FACTORIES and len(positional) <= (name == "defaultdict")
    return False


def _filters(value: cst.BaseExpression, root: str) -> bool:
    """A comprehension over ``root`` itself: a filtered copy, fewer entries."""
    if not isinstance(value, (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)):
        return False
    source = value.for_in.iter
    return root in _names_in((source,))


def _names_in(nodes: Iterable[cst.CSTNode | None]) -> frozenset[str]:
    found: set[str] = set()
    for node in nodes:
        if node is None:
            continue
        if isinstance(node, cst.Name):
            found.add(node.value)
        for child in iter_descendants(node):
            if isinstance(child, cst.Name):
                found.add(child.value)
    return frozenset(found)


def _strip(expr: cst.BaseExpression) -> cst.BaseExpression:
    """The container an item access reaches into: ``X`` for ``X[k]``, ``X.setdefault(k, [])``."""
    while True:
        if isinstance(expr, cst.Subscript):
            expr = expr.value
        elif (
            isinstance(expr, cst.Call)
            and isinstance(expr.func, cst.Attribute)
            and expr.func.attr.value in _ITEM_ACCESSORS
        ):
            expr = expr.func.value
        else:
            return expr


def render(expr: cst.BaseExpression) -> str:
    """A short rendering of a receiver for messages: ``REG.setdefault(…)``, ``X[…]``."""
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        return f"{render(expr.value)}.{expr.attr.value}"
    if isinstance(expr, cst.Subscript):
        return f"{render(expr.value)}[…]"
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
        return f"{render(expr.func.value)}.{expr.func.attr.value}(…)"
    return "…"


class _Collector:
    """One pass over a scope's own code: its bindings, and the candidate changes in it."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.sites: list[Mutation] = []
        self.nested: list[ScopeNode] = []

    def run(self) -> None:
        node = self.scope.node
        roots: list[cst.CSTNode] = [node.body]
        stack: list[cst.CSTNode] = roots
        while stack:
            current = stack.pop()
            if isinstance(current, (cst.FunctionDef, cst.ClassDef)):
                self.scope.bound.add(current.name.value)
                if isinstance(current, cst.FunctionDef):
                    self.scope.nested_functions.add(current.name.value)
                self.nested.append(current)
                continue
            if isinstance(current, cst.Lambda):
                self.nested.append(current)
                continue
            handler = _HANDLERS.get(type(current))
            if handler is not None:
                handler(self, current)
            children = list(iter_children(current))
            children.reverse()
            stack.extend(children)
        self.nested.reverse()  # scanned in source order

    # -- bindings -------------------------------------------------------------------------

    def _bind(self, target: cst.BaseExpression) -> None:
        self.scope.bound.update(assigned_names(target))

    def on_global(self, node: cst.CSTNode) -> None:
        assert isinstance(node, cst.Global)
        self.scope.declared_global.update(item.name.value for item in node.names)

    def on_nonlocal(self, node: cst.CSTNode) -> None:
        assert isinstance(node, cst.Nonlocal)
        self.scope.declared_nonlocal.update(item.name.value for item in node.names)

    def on_for(self, node: cst.CSTNode) -> None:
        assert isinstance(node, (cst.For, cst.CompFor))
        self._bind(node.target)

    def on_with_item(self, node: cst.CSTNode) -> None:
        assert isinstance(node, cst.WithItem)
        if node.asname is not None:
            self._bind(node.asname.name)

    def on_except(self, node: cst.CSTNode) -> None:
        assert isinstance(node, (cst.ExceptHandler, cst.ExceptStarHandler))
        if node.name is not None:
            self._bind(node.name.name)

    def on_named_expr(self, node: cst.CSTNode) -> None:
        assert isinstance(node, cst.NamedExpr)
        self._bind(node.target)

    def on_import(self, node: cst.CSTNode) -> None:
        assert isinstance(node, (cst.Import, cst.ImportFrom))
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            if alias.asname is not None:
                self._bind(alias.asname.name)
            else:
                full = dotted_name(alias.name) or ""
                self.scope.bound.add(full.split(".", 1)[0])

    def on_match_name(self, node: cst.CSTNode) -> None:
        name = getattr(node, "name", None) or getattr(node, "rest", None)
        if isinstance(name, cst.Name):
            self.scope.bound.add(name.value)

    def on_return(self, node: cst.CSTNode) -> None:
        assert isinstance(node, cst.Return)
        if isinstance(node.value, cst.Name):
            self.scope.returned.add(node.value.value)

    # -- changes --------------------------------------------------------------------------

    def _site(
        self,
        kind: str,
        obj: cst.BaseExpression,
        shown: str,
        node: cst.CSTNode,
        stored: Sequence[cst.CSTNode | None] = (),
        value: cst.BaseExpression | None = None,
        method: str = "",
    ) -> None:
        dotted = dotted_name(_strip(obj))
        if dotted is None:
            return
        self.sites.append(
            Mutation(
                kind,
                dotted.split(".", 1)[0],
                dotted,
                shown,
                node,
                self.scope,
                _names_in(stored),
                value,
                method,
            )
        )

    def _assign_target(
        self, target: cst.BaseExpression, value: cst.BaseExpression | None, statement: cst.CSTNode
    ) -> None:
        if isinstance(target, cst.Name):
            self.scope.bound.add(target.value)
            self._site(REBIND, target, f"`{target.value} = …`", statement, (value,), value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._assign_target(element.value, None, statement)
        elif isinstance(target, cst.StarredElement):
            self._assign_target(target.value, None, statement)
        elif isinstance(target, cst.Subscript):
            shown = f"`{render(target.value)}[…] = …`"
            self._site(SET_ITEM, target.value, shown, target, (value, target), value)
        elif isinstance(target, cst.Attribute):
            shown = f"`{render(target)} = …`"
            self._site(REBIND, target, shown, statement, (value,), value)

    def on_assign(self, node: cst.CSTNode) -> None:
        assert isinstance(node, cst.Assign)
        call = called_callee(node.value)
        if call is not None:
            for target in node.targets:
                if isinstance(target.target, cst.Name):
                    self.scope.local_calls[target.target.value] = call
        for target in node.targets:
            self._assign_target(target.target, node.value, node)

    def on_ann_assign(self, node: cst.CSTNode) -> None:
        assert isinstance(node, cst.AnnAssign)
        if node.value is None:
            self._bind(node.target)
        else:
            self._assign_target(node.target, node.value, node)

    def on_aug_assign(self, node: cst.CSTNode) -> None:
        assert isinstance(node, cst.AugAssign)
        operator = _AUG_OPERATORS.get(type(node.operator).__name__, "op=")
        target = node.target
        if isinstance(target, cst.Name):
            self.scope.bound.add(target.value)
            shown = f"`{target.value} {operator} …`"
            self._site(AUG_REBIND, target, shown, node, (node.value,), node.value)
        elif isinstance(target, cst.Subscript):
            shown = f"`{render(target.value)}[…] {operator} …`"
            self._site(AUG_ITEM, target.value, shown, target, (node.value,))
        elif isinstance(target, cst.Attribute):
            shown = f"`{render(target)} {operator} …`"
            self._site(AUG_REBIND, target, shown, node, (node.value,), node.value)

    def _del_target(self, target: cst.BaseExpression, statement: cst.Del) -> None:
        if isinstance(target, cst.Name):
            self.scope.bound.add(target.value)
            self._site(DEL_REBIND, target, f"`del {target.value}`", statement)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._del_target(element.value, statement)
        elif isinstance(target, cst.Subscript):
            self._site(DEL_ITEM, target.value, f"`del {render(target.value)}[…]`", statement)
        elif isinstance(target, cst.Attribute):
            self._site(DEL_REBIND, target, f"`del {render(target)}`", statement)

    def on_del(self, node: cst.CSTNode) -> None:
        assert isinstance(node, cst.Del)
        self._del_target(node.target, node)

    def on_call(self, node: cst.CSTNode) -> None:
        assert isinstance(node, cst.Call)
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in MUTATING_METHODS:
            shown = f"`{render(func.value)}.{func.attr.value}()`"
            stored = [arg.value for arg in node.args]
            self._site(METHOD, func.value, shown, node, stored, method=func.attr.value)


_HANDLERS = {
    cst.Global: _Collector.on_global,
    cst.Nonlocal: _Collector.on_nonlocal,
    cst.For: _Collector.on_for,
    cst.CompFor: _Collector.on_for,
    cst.WithItem: _Collector.on_with_item,
    cst.ExceptHandler: _Collector.on_except,
    cst.ExceptStarHandler: _Collector.on_except,
    cst.NamedExpr: _Collector.on_named_expr,
    cst.Import: _Collector.on_import,
    cst.ImportFrom: _Collector.on_import,
    cst.MatchAs: _Collector.on_match_name,
    cst.MatchStar: _Collector.on_match_name,
    cst.MatchMapping: _Collector.on_match_name,
    cst.Return: _Collector.on_return,
    cst.Assign: _Collector.on_assign,
    cst.AnnAssign: _Collector.on_ann_assign,
    cst.AugAssign: _Collector.on_aug_assign,
    cst.Del: _Collector.on_del,
    cst.Call: _Collector.on_call,
}


def scan(function: cst.FunctionDef, owner: str = "") -> list[Mutation]:
    """The changes to module-level names made in ``function`` or any scope nested in it.

    ``owner`` names the classes around ``function`` (``"Cache."``) for messages.
    """
    found: list[Mutation] = []
    pending: list[tuple[ScopeNode, Scope | None]] = [(function, None)]
    while pending:
        node, parent = pending.pop()
        scope = Scope(node, parent, owner if parent is None else "")
        if not isinstance(node, cst.ClassDef):
            scope.params = parameter_names(node)
            scope.bound.update(scope.params)
        collector = _Collector(scope)
        collector.run()
        for site in collector.sites:
            if site.is_rebinding and site.dotted == site.root:
                # A plain name assigned in a function is local unless declared global.
                if site.root in scope.declared_global:
                    found.append(site)
            elif scope.is_module_level(site.root):
                found.append(site)
        pending.extend((child, scope) for child in reversed(collector.nested))
    return found


def _decorator_name(decorator: cst.Decorator) -> str | None:
    expr = decorator.decorator
    if isinstance(expr, cst.Call):
        expr = expr.func
    return dotted_name(expr)


def decorator_names(module: cst.Module) -> frozenset[str]:
    """Every decorator used in the module, as written (``register``, ``registry.add``).

    Walks statements only: decorators sit on ``def`` and ``class`` statements.
    """
    found: set[str] = set()
    stack: list[cst.CSTNode] = list(module.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            for decorator in node.decorators:
                name = _decorator_name(decorator)
                if name is not None:
                    found.add(name)
        for field_name in ("body", "orelse", "handlers", "finalbody", "cases"):
            value = getattr(node, field_name, None)
            if isinstance(value, cst.CSTNode):
                stack.append(value)
            elif isinstance(value, (tuple, list)):
                stack.extend(item for item in value if isinstance(item, cst.CSTNode))
    return frozenset(found)


def main_guard_statements(module: cst.Module) -> frozenset[int]:
    """Indices of top-level ``if __name__ == "__main__":`` statements (script code)."""
    found: set[int] = set()
    for index, statement in enumerate(module.body):
        if not isinstance(statement, cst.If) or not isinstance(statement.test, cst.Comparison):
            continue
        test = statement.test
        if len(test.comparisons) != 1 or not isinstance(test.comparisons[0].operator, cst.Equal):
            continue
        sides = (test.left, test.comparisons[0].comparator)
        names = {side.value for side in sides if isinstance(side, cst.Name)}
        strings = {side.evaluated_value for side in sides if isinstance(side, cst.SimpleString)}
        if names == {"__name__"} and strings == {"__main__"}:
            found.add(index)
    return frozenset(found)


def is_cached_factory(scope: Scope, ctx: FileContext) -> bool:
    """Whether a function around ``scope`` is decorated with ``functools.cache``/``lru_cache``."""
    for each in scope.chain():
        if isinstance(each.node, cst.FunctionDef):
            for decorator in each.node.decorators:
                expr = decorator.decorator
                if isinstance(expr, cst.Call):
                    expr = expr.func
                qualified = ctx.qualified_name(expr)
                if qualified is not None and qualified in _CACHE_DECORATORS:
                    return True
    return False


def called_callee(value: cst.BaseExpression | None) -> cst.Call | None:
    """The call a rebinding assigns: ``connect()``, ``await connect()``, and the lazy
    spellings ``X or connect()`` and ``connect() if X is None else X``."""
    if isinstance(value, cst.BooleanOperation) and isinstance(value.operator, cst.Or):
        value = value.right
    elif isinstance(value, cst.IfExp):
        value = value.body if called_callee(value.body) is not None else value.orelse
    if isinstance(value, cst.Await):
        value = value.expression
    return value if isinstance(value, cst.Call) else None


# Where the functions a module defines may sit: blocks of module-level statements and
# class bodies (functions inside functions belong to the outer one's scan).
_BLOCKS = (
    cst.ClassDef,
    cst.IndentedBlock,
    cst.If,
    cst.Else,
    cst.Try,
    cst.TryStar,
    cst.ExceptHandler,
    cst.ExceptStarHandler,
    cst.Finally,
    cst.For,
    cst.While,
    cst.With,
    cst.Match,
    cst.MatchCase,
)


def outermost_functions(
    module: cst.Module,
) -> Iterator[tuple[int, cst.FunctionDef, tuple[cst.ClassDef, ...]]]:
    """Each function that is not inside another one, in source order, with the index of
    its top-level statement and the classes around it (a method's class)."""
    for index, statement in enumerate(module.body):
        stack: list[tuple[cst.CSTNode, tuple[cst.ClassDef, ...]]] = [(statement, ())]
        while stack:
            node, classes = stack.pop()
            if isinstance(node, cst.FunctionDef):
                yield index, node, classes
                continue
            if not isinstance(node, _BLOCKS):
                continue
            inner = (*classes, node) if isinstance(node, cst.ClassDef) else classes
            children = [
                child
                for child in iter_children(node)
                if isinstance(child, (*_BLOCKS, cst.FunctionDef))
            ]
            stack.extend((child, inner) for child in reversed(children))


@dataclass(frozen=True, eq=False)
class ScannedFunction:
    """An outermost function or method of the module, and the changes made in it."""

    top_level: int  # index of its top-level statement
    node: cst.FunctionDef
    classes: tuple[cst.ClassDef, ...]  # the classes around it, outermost first
    mutations: tuple[Mutation, ...]

    def owns(self, scope: Scope) -> bool:
        """Whether ``scope``'s function is this function itself (not a nested one)."""
        function = scope.function()
        return function is not None and function.node is self.node


# Decorators that make a generator a scoped override: a context manager, or a fixture
# of a test helper module.
_SCOPED_DECORATORS = frozenset({"contextmanager", "asynccontextmanager", "fixture"})
# Methods of a class that enter and leave a scope: what the first changes, the second
# undoes (a context manager, a test case's set-up and tear-down).
_SCOPE_METHODS = {
    "__enter__": "__exit__",
    "__aenter__": "__aexit__",
    "setUp": "tearDown",
    "setUpClass": "tearDownClass",
    "setup_method": "teardown_method",
}


def _undo_region(function: cst.FunctionDef) -> set[int]:
    """Nodes of a context-manager function that run when it exits: ``finally`` blocks, and
    what follows a ``yield`` in the same block."""
    region: set[int] = set()
    stack: list[cst.CSTNode] = [function.body]
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        if isinstance(node, cst.Finally):
            region.update(id(each) for each in iter_descendants(node, into_functions=False))
            continue
        if isinstance(node, cst.IndentedBlock):
            yielded = False
            for statement in node.body:
                if yielded:
                    region.update(
                        id(each) for each in iter_descendants(statement, into_functions=False)
                    )
                    region.add(id(statement))
                elif _yields(statement):
                    yielded = True
        stack.extend(iter_children(node))
    return region


def _yields(statement: cst.CSTNode) -> bool:
    return any(
        isinstance(node, cst.Yield) for node in iter_descendants(statement, into_functions=False)
    )


def scoped_overrides(functions: Sequence[ScannedFunction]) -> set[tuple[int, str]]:
    """``(id(function node), root)`` of the changes a scope undoes on exit: a test helper's
    override, not state that outlives the call.

    - a ``@contextmanager`` (or fixture) that changes ``root`` and changes it again in a
      ``finally`` block or after its ``yield`` (set then restore, push then pop);
    - a class whose ``__exit__`` (``tearDown``...) changes what its ``__enter__``
      (``setUp``...) changed.
    """
    found: set[tuple[int, str]] = set()
    for function in functions:
        if not any(
            (_decorator_name(decorator) or "").rsplit(".", 1)[-1] in _SCOPED_DECORATORS
            for decorator in function.node.decorators
        ):
            continue
        region = _undo_region(function.node)
        found.update(
            (id(function.node), mutation.root)
            for mutation in function.mutations
            if function.owns(mutation.scope) and id(mutation.node) in region
        )
    by_method: dict[tuple[int, str], ScannedFunction] = {
        (id(function.classes[-1]), function.node.name.value): function
        for function in functions
        if function.classes
    }
    for (owner, name), entry in by_method.items():
        exit_method = by_method.get((owner, _SCOPE_METHODS.get(name, "")))
        if exit_method is None:
            continue
        undone = {m.root for m in exit_method.mutations} & {m.root for m in entry.mutations}
        for root in undone:
            found.update({(id(entry.node), root), (id(exit_method.node), root)})
    return found


class FunctionScanRule(FileRule):
    """What BL301 and BL302 share: once the file is walked, each outermost function (or
    method) outside the ``if __name__ == "__main__":`` block is scanned, with everything
    nested in it, and ``check`` judges the changes found in the whole module at once
    (a function's counterpart, the teardown of a set-up, lives elsewhere in the module).
    """

    def begin_file(self, ctx: FileContext) -> None:
        super().begin_file(ctx)
        self._lifecycle: ModuleLifecycle | None = None

    def end_file(self) -> None:
        guards = main_guard_statements(self.ctx.tree)
        functions = [
            ScannedFunction(
                index,
                node,
                classes,
                tuple(scan(node, "".join(f"{c.name.value}." for c in classes))),
            )
            for index, node, classes in outermost_functions(self.ctx.tree)
            if index not in guards
        ]
        if any(function.mutations for function in functions):
            self.check(functions)

    def check(self, functions: list[ScannedFunction]) -> None:
        raise NotImplementedError

    def report_in(
        self,
        function: ScannedFunction,
        node: cst.CSTNode,
        message: str,
        **options: Any,
    ) -> None:
        """Report ``node`` of ``function`` after the walk: the engine finds its position
        from the top-level statement it is in."""
        self.ctx.top_level = function.top_level
        try:
            self.report(node, message, **options)
        finally:
            self.ctx.top_level = None

    def lifecycle(self) -> ModuleLifecycle:
        """The module's start-up declarations and references, built on first need."""
        if self._lifecycle is None:
            ctx = self.ctx
            self._lifecycle = ModuleLifecycle(ctx.tree, ctx.names, ctx.module, ctx.text)
        return self._lifecycle

    def declared_startup(self, function: ScannedFunction, scope: Scope) -> bool:
        """Whether the function making the change in ``scope`` is declared as start-up
        code in this module (``create_app``, ``@app.on_event("startup")``, a metaclass's
        ``__new__``...)."""
        innermost = scope.function()
        if innermost is None or not isinstance(innermost.node, cst.FunctionDef):
            return False
        classes = function.classes if function.owns(scope) else ()
        return self.lifecycle().is_startup_hook(innermost.node, classes)

    def call_site_conditions(
        self, function: ScannedFunction, scope: Scope
    ) -> tuple[Condition, ...]:
        """For a module-level function: the condition that some call of it runs after
        start-up (checked over the project's modules in the project pass)."""
        if function.classes or not function.owns(scope) or not self.ctx.module:
            return ()
        return (CalledAtRunTime(f"{self.ctx.module}.{function.node.name.value}"),)
