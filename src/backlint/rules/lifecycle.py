"""When a function runs: at import, when the application starts or stops, or at run time.

Code that runs once, when modules are imported or the process starts or stops,
configures the process: a registry filled while classes are defined, a client created in
the lifespan and closed at shutdown, the routes and plug-ins an application factory
wires up. Rules about what happens while the process serves requests or tasks leave it
alone: BL301 and BL302 (state changed at run time), BL412 (an import deferred into the
composition root). This module recognises that code:

- *start-up hooks*, by how they are declared: decorators
  (``@app.on_event("startup")``, ``@event.listens_for(Mapper, "mapper_configured")``,
  ``@worker_process_init.connect``, ``@receiver(class_prepared)``, ``@click.command()``),
  names (``create_app``, ``lifespan``, ``AppConfig.ready``, Dramatiq's
  ``before_worker_boot``, Gunicorn's ``post_fork(server, worker)``, a management
  command's ``handle``), class-creation hooks (``__init_subclass__``, a metaclass's
  ``__new__``/``__init__``), and registrations by reference
  (``app.add_event_handler("startup", connect)``, ``atexit.register(close)``,
  ``FastAPI(on_startup=[connect])``, ``app.on_cleanup.append(close)``);
- functions whose every call site runs at import time or inside a start-up hook, in
  their own module and in the project modules that import them (``CalledAtRunTime``).

Only calls count as call sites: a function handed to something else
(``add_api_route("/", handler)``, ``Depends(get_db)``) may run on every request, so a
bare reference anywhere keeps the function a run-time one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from backlint.engine.walker import iter_children, iter_descendants
from backlint.index.names import ImportTable, dotted_name

if TYPE_CHECKING:
    from backlint.index.facts import FileFacts
    from backlint.index.project import ProjectIndex

# Attributes that run a function when the application starts or stops, used as a
# decorator or called with the function: Flask, Quart, Sanic.
_LIFECYCLE_ATTRIBUTES = frozenset(
    {
        "before_first_request",
        "before_app_first_request",
        "before_serving",
        "after_serving",
        "while_serving",
        "before_server_start",
        "after_server_start",
        "before_server_stop",
        "after_server_stop",
        "main_process_start",
        "main_process_ready",
        "main_process_stop",
    }
)
# ``@app.on_event("startup")``, ``app.add_event_handler("shutdown", close)``, Sanic's
# ``@app.listener("before_server_start")``.
_EVENT_REGISTRARS = frozenset({"on_event", "add_event_handler", "listener"})
_LIFECYCLE_EVENTS = frozenset(
    {
        "startup",
        "shutdown",
        "before_server_start",
        "after_server_start",
        "before_server_stop",
        "after_server_stop",
        "main_process_start",
        "main_process_stop",
    }
)
# aiohttp: ``app.on_startup.append(connect)``.
_LIFECYCLE_LISTS = frozenset({"on_startup", "on_shutdown", "on_cleanup", "cleanup_ctx"})
# Starlette, FastAPI, Litestar: ``FastAPI(lifespan=lifespan, on_startup=[connect])``.
_LIFECYCLE_KEYWORDS = frozenset({"on_startup", "on_shutdown", "lifespan"})
# SQLAlchemy events that fire while classes, mappers and tables are configured: once per
# class, when the models are imported or first configured, not per request.
_CONFIGURATION_EVENTS = frozenset(
    {
        "mapper_configured",
        "before_mapper_configured",
        "after_mapper_constructed",
        "before_configured",
        "after_configured",
        "instrument_class",
        "class_instrument",
        "class_uninstrument",
        "attribute_instrument",
        "before_parent_attach",
        "after_parent_attach",
        "column_reflect",
    }
)
# Signals sent when a worker process boots or stops (Celery), or when model classes are
# prepared and migrations run (Django).
_BOOT_SIGNALS = frozenset(
    {
        "worker_init",
        "worker_process_init",
        "worker_process_shutdown",
        "worker_shutdown",
        "worker_ready",
        "celeryd_init",
        "celeryd_after_setup",
        "setup_logging",
        "after_setup_logger",
        "after_setup_task_logger",
        "beat_init",
        "import_modules",
        "on_after_configure",
        "on_after_finalize",
        "on_configure",
        "class_prepared",
        "pre_migrate",
        "post_migrate",
    }
)
# Functions that wire an application up once: Flask's application factory and
# extensions' ``init_app``, a FastAPI lifespan, a script's ``main``.
_STARTUP_FUNCTIONS = frozenset(
    {
        "create_app",
        "init_app",
        "make_app",
        "build_app",
        "setup_app",
        "configure_app",
        "create_application",
        "app_factory",
        "lifespan",
        "main",
    }
)
# A function that takes the application is wiring it up (``load(app)`` of a plug-in).
_APP_PARAMETERS = frozenset({"app", "application"})
# Class-creation hooks run when a subclass is defined, i.e. at import time.
_CLASS_CREATION_HOOKS = frozenset({"__init_subclass__", "__set_name__"})
# A metaclass's methods that run when a class using it is defined.
_METACLASS_HOOKS = frozenset({"__new__", "__init__", "__prepare__"})
_METACLASS_BASES = frozenset({"builtins.type", "abc.ABCMeta", "enum.EnumMeta", "enum.EnumType"})
# Methods a framework calls when a process starts or stops: Django's
# ``AppConfig.ready``, Dramatiq's middleware hooks.
_LIFECYCLE_METHODS = frozenset(
    {
        "ready",
        "before_worker_boot",
        "after_worker_boot",
        "before_worker_shutdown",
        "after_worker_shutdown",
        "after_process_boot",
        "before_process_stop",
    }
)
# Gunicorn's server hooks: module-level functions of its configuration file.
_SERVER_HOOKS = frozenset(
    {
        "on_starting",
        "on_reload",
        "when_ready",
        "pre_fork",
        "post_fork",
        "post_worker_init",
        "worker_int",
        "worker_abort",
        "pre_exec",
        "child_exit",
        "worker_exit",
        "nworkers_changed",
        "on_exit",
    }
)
_SERVER_HOOK_PARAMETERS = frozenset({"server", "worker", "arbiter"})
# Command-line entry points (click, Typer, Flask's ``app.cli``): state they set lives for
# one command run of their own process.
_COMMAND_DECORATORS = frozenset({"command", "group"})

# How a reference uses a function.
CALL = "call"  # ``f(...)``, ``@f``, ``@f(...)``: runs it there
HOOK = "hook"  # handed to a start-up or shutdown registration
OTHER = "other"  # any other use: handed on, stored, attribute access (``f.delay()``)


def parameter_names(function: cst.FunctionDef | cst.Lambda) -> tuple[str, ...]:
    params = function.params
    names = [p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)]
    if isinstance(params.star_arg, cst.Param):
        names.append(params.star_arg.name.value)
    if params.star_kwarg is not None:
        names.append(params.star_kwarg.name.value)
    return tuple(names)


def _takes_the_app(function: cst.FunctionDef) -> bool:
    """Whether the function takes the application it wires up (``init_app(app)``). An
    ``app`` that may be ``None`` is something else: Saleor's ``app: Optional["App"]``,
    the third-party app a run-time action is done for."""
    params = function.params
    return any(
        param.name.value in _APP_PARAMETERS and not _may_be_none(param)
        for param in (*params.posonly_params, *params.params, *params.kwonly_params)
    )


def _may_be_none(param: cst.Param) -> bool:
    """``app=None``, ``app: Optional[App]``, ``app: App | None``."""
    if isinstance(param.default, cst.Name) and param.default.value == "None":
        return True
    if param.annotation is None:
        return False
    annotation = param.annotation.annotation
    if isinstance(annotation, cst.SimpleString):
        text = annotation.evaluated_value
        return isinstance(text, str) and ("Optional[" in text or "None" in text)
    return any(
        isinstance(node, cst.Name) and node.value in ("Optional", "None")
        for node in (annotation, *iter_descendants(annotation))
    )


def _string(expr: cst.BaseExpression) -> str | None:
    if isinstance(expr, cst.SimpleString):
        value = expr.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _positional(call: cst.Call, index: int) -> cst.BaseExpression | None:
    positional = [arg.value for arg in call.args if arg.keyword is None and not arg.star]
    return positional[index] if index < len(positional) else None


def _string_argument(call: cst.Call, index: int) -> str | None:
    value = _positional(call, index)
    return None if value is None else _string(value)


def _last_name(expr: cst.BaseExpression) -> str:
    """``post_migrate`` for ``signals.post_migrate``; empty for other expressions."""
    dotted = dotted_name(expr)
    return "" if dotted is None else dotted.rsplit(".", 1)[-1]


# Words of a project's own signal names that say when it is sent: blinker signals such
# as ``signals.app_created`` or ``on_startup``.
_BOOT_SIGNAL_WORDS = ("startup", "shutdown", "boot", "app_created", "app_loaded")


def _is_boot_signal(name: str) -> bool:
    return name in _BOOT_SIGNALS or any(word in name for word in _BOOT_SIGNAL_WORDS)


def _names_boot_signal(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, (cst.List, cst.Tuple)):
        return any(_names_boot_signal(element.value) for element in expr.elements)
    return _is_boot_signal(_last_name(expr))


def is_lifecycle_decorator(decorator: cst.Decorator) -> bool:
    """A decorator that runs the function at start-up or shutdown, or while classes are
    configured, or makes it a command-line entry point."""
    expr = decorator.decorator
    call = expr if isinstance(expr, cst.Call) else None
    dotted = dotted_name(call.func if call is not None else expr)
    if dotted is None:
        return False
    *receiver, last = dotted.split(".")
    if last in _LIFECYCLE_ATTRIBUTES and receiver:
        return True
    if receiver and _is_boot_signal(receiver[-1]) and last == "connect":
        return True
    if call is None:
        return False
    if last in _EVENT_REGISTRARS:
        return _string_argument(call, 0) in _LIFECYCLE_EVENTS
    if last == "listens_for":
        return _string_argument(call, 1) in _CONFIGURATION_EVENTS
    if last == "receiver":
        first = _positional(call, 0)
        return first is not None and _names_boot_signal(first)
    return last in _COMMAND_DECORATORS and bool(receiver)


def registered_hooks(call: cst.Call, names: ImportTable) -> list[cst.BaseExpression]:
    """The functions ``call`` registers to run at start-up or shutdown (or while classes
    are configured): ``atexit.register(close)``, ``app.add_event_handler("startup", f)``,
    ``app.on_startup.append(f)``, ``worker_init.connect(f)``,
    ``event.listen(Mapper, "mapper_configured", f)``, ``FastAPI(on_startup=[f])``."""
    found = [
        arg.value
        for arg in call.args
        if arg.keyword is not None and arg.keyword.value in _LIFECYCLE_KEYWORDS
    ]
    dotted = dotted_name(call.func)
    if dotted is None:
        return found
    *receiver, last = dotted.split(".")
    qualified = names.qualify(dotted)
    hook: cst.BaseExpression | None = None
    if qualified in ("atexit.register", "signal.signal"):
        hook = _positional(call, 0 if qualified == "atexit.register" else 1)
    elif last in _EVENT_REGISTRARS and _string_argument(call, 0) in _LIFECYCLE_EVENTS:
        hook = _positional(call, 1)
    elif receiver and (
        (last == "append" and receiver[-1] in _LIFECYCLE_LISTS)
        or (last == "connect" and _is_boot_signal(receiver[-1]))
        or last in _LIFECYCLE_ATTRIBUTES
    ):
        hook = _positional(call, 0)
    elif last == "listen" and _string_argument(call, 1) in _CONFIGURATION_EVENTS:
        hook = _positional(call, 2)
    if hook is not None:
        found.append(hook)
    return found


@dataclass(frozen=True, eq=False)
class Reference:
    """One use of a name: how, and in which function (``None``: at module level, where
    class bodies run too)."""

    role: str
    function: cst.FunctionDef | None
    classes: tuple[cst.ClassDef, ...]  # the classes around ``function`` (a method's class)
    nested: bool  # ``function`` sits inside another function
    in_lambda: bool


@dataclass(frozen=True)
class CallSite:
    """A ``Reference`` as a module summary keeps it: the function by name."""

    role: str
    function: str | None  # the name of the function it is in; None at module level
    classes: tuple[str, ...]  # the names of the classes around that function
    nested: bool
    in_lambda: bool
    # Whether that function is declared as start-up code (``is_startup_hook``).
    startup_hook: bool


@dataclass(frozen=True)
class LifecycleSummary:
    """What the project pass asks of a module about when its functions run."""

    # Uses of dotted names, by qualified name (plain names, which no other module can
    # mean, left out).
    references: dict[str, tuple[CallSite, ...]]
    # Module-level functions (the last of each name): whether they are decorated.
    functions: dict[str, bool]
    # Every function by qualified name within the module (``name``, ``Class.method``,
    # ``outer.inner``, the last definition of each name): declared as start-up code?
    startup_hooks: dict[str, bool]


@dataclass(frozen=True)
class _Where:
    function: cst.FunctionDef | None = None
    classes: tuple[cst.ClassDef, ...] = ()
    open_classes: tuple[cst.ClassDef, ...] = ()  # class bodies entered since ``function``
    nested: bool = False
    in_lambda: bool = False


# Words one of the registrations of ``registered_hooks`` spells: a module without any of
# them registers nothing, and its references need not be collected to know it.
_REGISTRATION_WORDS = (
    "atexit",
    "signal",
    "event",
    "listen",
    "on_startup",
    "on_shutdown",
    "on_cleanup",
    "cleanup_ctx",
    "connect",
    "lifespan",
    "_serving",
    "first_request",
    "server_st",
    "process_st",
)


class ModuleLifecycle:
    """One module's references by qualified name, and what it declares as start-up code.

    References are collected on first need (a walk of every expression of the module):
    the per-file pass only needs them to know which functions the module registers as
    hooks, and ``text`` (the module's source, when known) often shows there are none.
    """

    def __init__(
        self, tree: cst.Module, names: ImportTable, module: str, text: str | None = None
    ) -> None:
        self.module = module
        self.names = names
        self._tree = tree
        self._may_register = text is None or any(word in text for word in _REGISTRATION_WORDS)
        self._found: dict[str, list[Reference]] = {}
        self._collected = False
        self._functions: dict[str, cst.FunctionDef] = {}
        self.metaclasses: set[str] = set()  # classes of the module that are metaclasses
        self._find_metaclasses(tree)

    @property
    def references(self) -> dict[str, list[Reference]]:
        """Every use of a name or attribute chain, by qualified name."""
        if not self._collected:
            self._collected = True
            self._collect(self._tree)
        return self._found

    def summarize(self) -> LifecycleSummary:
        """This module's references and declarations as plain data, for the project pass."""
        hooks: dict[int, bool] = {}

        def site(reference: Reference) -> CallSite:
            function = reference.function
            if function is not None and id(function) not in hooks:
                hooks[id(function)] = self.is_startup_hook(function, reference.classes)
            return CallSite(
                reference.role,
                None if function is None else function.name.value,
                tuple(cls.name.value for cls in reference.classes),
                reference.nested,
                reference.in_lambda,
                function is not None and hooks[id(function)],
            )

        references = {
            qualified: tuple(site(reference) for reference in found)
            for qualified, found in self.references.items()
            if "." in qualified
        }
        return LifecycleSummary(
            references,
            {name: bool(node.decorators) for name, node in self._functions.items()},
            {
                qualname: self.is_startup_hook(function, owners)
                for qualname, function, owners in _functions_by_qualname(self._tree.body)
            },
        )

    # -- what the module declares ----------------------------------------------------

    def is_startup_hook(self, function: cst.FunctionDef, classes: Sequence[cst.ClassDef]) -> bool:
        """Whether ``function`` (a method of ``classes[-1]`` if any) runs at start-up,
        shutdown or class creation by the way it is declared."""
        name = function.name.value
        params = parameter_names(function)
        if _takes_the_app(function):
            return True
        if any(is_lifecycle_decorator(decorator) for decorator in function.decorators):
            return True
        if classes:
            owner = classes[-1]
            if name in _CLASS_CREATION_HOOKS or name in _LIFECYCLE_METHODS:
                return True
            if name in _METACLASS_HOOKS and self._is_metaclass(owner, params):
                return True
            return name == "handle" and any(
                _last_name(base.value).endswith("Command") for base in owner.bases
            )
        if name in _STARTUP_FUNCTIONS or self.registered(name):
            return True
        return name in _SERVER_HOOKS and params[:1] != () and params[0] in _SERVER_HOOK_PARAMETERS

    def registered(self, name: str) -> bool:
        """Whether the module hands its function ``name`` to a start-up registration."""
        if not self._may_register:
            return False
        qualified = self.names.qualify(name)
        return any(ref.role == HOOK for ref in self.references.get(qualified, ()))

    def _is_metaclass(self, owner: cst.ClassDef, params: tuple[str, ...]) -> bool:
        # ``def __new__(mcs, name, bases, namespace)`` is a metaclass's signature.
        if len(params) >= 3 and params[2] == "bases":
            return True
        return owner.name.value in self.metaclasses

    def _find_metaclasses(self, tree: cst.Module) -> None:
        """Classes deriving from ``type`` (or ``ABCMeta``, or a ``*Meta`` class), also
        through other metaclasses of the module."""
        classes = [node for node in tree.body if isinstance(node, cst.ClassDef)]
        changed = True
        while changed:
            changed = False
            for node in classes:
                if node.name.value not in self.metaclasses and any(
                    self._is_metaclass_base(base.value) for base in node.bases
                ):
                    self.metaclasses.add(node.name.value)
                    changed = True

    def _is_metaclass_base(self, expr: cst.BaseExpression) -> bool:
        dotted = dotted_name(expr)
        if dotted is None:
            return False
        last = dotted.rsplit(".", 1)[-1]
        return (
            self.names.qualify(dotted) in _METACLASS_BASES
            or last.endswith(("Meta", "Metaclass", "MetaClass"))
            or last in self.metaclasses
        )

    # -- references --------------------------------------------------------------------

    def _record(self, expr: cst.BaseExpression, role: str, where: _Where) -> bool:
        """Record ``expr`` if it is a name or an attribute chain; False otherwise."""
        dotted = dotted_name(expr)
        if dotted is None:
            return False
        reference = Reference(role, where.function, where.classes, where.nested, where.in_lambda)
        self._found.setdefault(self.names.qualify(dotted), []).append(reference)
        return True

    def _collect(self, tree: cst.Module) -> None:
        # An explicit stack: expressions of real code nest deeper than Python recursion.
        stack: list[tuple[cst.CSTNode, _Where, str]] = [
            (statement, _Where(), OTHER) for statement in reversed(tree.body)
        ]
        while stack:
            node, where, role = stack.pop()
            stack.extend(reversed(list(self._children(node, where, role))))

    def _children(
        self, node: cst.CSTNode, where: _Where, role: str
    ) -> Iterator[tuple[cst.CSTNode, _Where, str]]:
        if isinstance(node, (cst.Import, cst.ImportFrom)):
            return
        if isinstance(node, cst.FunctionDef):
            yield from self._function(node, where)
        elif isinstance(node, cst.ClassDef):
            for decorator in node.decorators:
                yield decorator, where, OTHER
            for arg in (*node.bases, *node.keywords):
                yield arg.value, where, OTHER
            inside = _Where(
                where.function,
                where.classes,
                (*where.open_classes, node),
                where.nested,
                where.in_lambda,
            )
            yield node.body, inside, OTHER
        elif isinstance(node, cst.Lambda):
            yield node.params, where, OTHER
            yield node.body, _Where(where.function, where.classes, (), where.nested, True), OTHER
        elif isinstance(node, cst.Decorator):
            # Applying a decorator calls it, when the definition runs.
            if not self._record(node.decorator, CALL, where):
                yield node.decorator, where, OTHER
        elif isinstance(node, cst.Call):
            yield from self._call(node, where)
        elif isinstance(node, (cst.Name, cst.Attribute)) and self._record(node, role, where):
            return
        elif isinstance(node, (cst.List, cst.Tuple)) and role == HOOK:
            # ``on_startup=[connect, warm_up]``
            for element in node.elements:
                yield element.value, where, HOOK
        else:
            for child in iter_children(node):
                yield child, where, OTHER

    def _function(
        self, node: cst.FunctionDef, where: _Where
    ) -> Iterator[tuple[cst.CSTNode, _Where, str]]:
        if where.function is None and not where.open_classes:
            self._functions[node.name.value] = node
        for decorator in node.decorators:
            yield decorator, where, OTHER
        yield node.params, where, OTHER
        if node.returns is not None:
            yield node.returns, where, OTHER
        inside = _Where(node, where.open_classes, (), where.function is not None, False)
        yield node.body, inside, OTHER

    def _call(self, node: cst.Call, where: _Where) -> Iterator[tuple[cst.CSTNode, _Where, str]]:
        if not self._record(node.func, CALL, where):
            yield node.func, where, OTHER
        hooks = {id(expr) for expr in registered_hooks(node, self.names)}
        for arg in node.args:
            yield arg.value, where, HOOK if id(arg.value) in hooks else OTHER


def _definitions(block: Sequence[cst.CSTNode]) -> Iterator[cst.FunctionDef | cst.ClassDef]:
    """The functions and classes a block defines, also under ``if``, ``try``, ``with``."""
    for statement in block:
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            yield statement
        elif isinstance(statement, cst.BaseCompoundStatement):
            yield from _definitions(_body_of(statement))
            for part in _other_parts(statement):
                yield from _definitions([part] if isinstance(part, cst.If) else _body_of(part))


def _functions_by_qualname(
    block: Sequence[cst.CSTNode], prefix: str = "", opened: tuple[cst.ClassDef, ...] = ()
) -> Iterator[tuple[str, cst.FunctionDef, tuple[cst.ClassDef, ...]]]:
    """Every function ``ModuleLifecycle.locate`` finds, with its qualname and the classes
    it is a method of, as ``locate`` gives them."""
    last: dict[str, cst.FunctionDef | cst.ClassDef] = {}
    for found in _definitions(block):
        last[found.name.value] = found
    for name, node in last.items():
        qualname = f"{prefix}{name}"
        if isinstance(node, cst.ClassDef):
            yield from _functions_by_qualname(_body_of(node), f"{qualname}.", (*opened, node))
        else:
            yield qualname, node, opened
            yield from _functions_by_qualname(_body_of(node), f"{qualname}.", ())


def _body_of(node: cst.CSTNode) -> Sequence[cst.CSTNode]:
    body = getattr(node, "body", None)
    return body.body if isinstance(body, cst.IndentedBlock) else ()


def _other_parts(statement: cst.BaseCompoundStatement) -> Iterator[cst.CSTNode]:
    """The ``elif``, ``else``, ``except`` and ``finally`` parts of a compound statement."""
    if isinstance(statement, (cst.Try, cst.TryStar)):
        yield from statement.handlers
    for name in ("orelse", "finalbody"):
        part = getattr(statement, name, None)
        if isinstance(part, cst.CSTNode):
            yield part


def module_lifecycle(project: ProjectIndex, module: str) -> LifecycleSummary | None:
    """What a project module says about when its functions run (a module summary)."""
    return project.summary(module, "lifecycle/v1", _summarize)


def _summarize(tree: cst.Module, names: ImportTable) -> LifecycleSummary:
    return ModuleLifecycle(tree, names, names.module).summarize()


# How far ``runs_only_at_startup`` follows callers of callers.
_MAX_DEPTH = 4


@dataclass(frozen=True)
class Verdict:
    """When a function runs; ``seen`` names a call site that runs after start-up
    (``called in `app.views.show()` ``), empty when the answer has no witness."""

    startup: bool
    seen: str = ""


_RUN_TIME = Verdict(False)


def runs_only_at_startup(
    project: ProjectIndex, qualified: str, visiting: tuple[str, ...] = ()
) -> Verdict:
    """Whether the module-level function ``qualified`` is called, and only called, at
    import time or from start-up code: at module level, in a start-up hook, or in a
    function that itself runs only at start-up.

    Calls from test modules do not count; a function without decorators that only tests
    call, and whose name says it serves them (``reset_*``, ``override_*``, ``set_*``,
    ``fake_*``, ``*_for_tests``...), is a test helper and counts as start-up code too.
    Other functions only tests call are production code whose callers are not seen."""
    if qualified in visiting or len(visiting) >= _MAX_DEPTH:
        return _RUN_TIME  # a cycle, or too far to tell: assume run time
    return project.memo(
        ("state.startup-only", qualified),
        lambda: _runs_only_at_startup(project, qualified, (*visiting, qualified)),
    )


def _runs_only_at_startup(
    project: ProjectIndex, qualified: str, visiting: tuple[str, ...]
) -> Verdict:
    module, _, name = qualified.rpartition(".")
    found: list[tuple[str, CallSite]] = []
    tested = False
    for importer in _importers(project, module, name):
        facts = project.modules[importer]
        if importer != module and _re_exports(facts, module, name):
            # Its callers import it from the package: they are not followed.
            return _RUN_TIME
        lifecycle = module_lifecycle(project, importer)
        if lifecycle is None:
            continue
        references = lifecycle.references.get(qualified, ())
        if facts.is_test:
            tested = tested or bool(references)
            continue
        found.extend(
            (importer, reference)
            for reference in references
            if not (importer == module and _is_recursion(reference, name))
        )
    if not found:
        return Verdict(_uncalled_startup(project, module, name, tested))
    for importer, reference in found:
        if not _at_startup(project, importer, reference, visiting):
            return Verdict(False, _describe(importer, reference))
    return Verdict(True)


def _uncalled_startup(project: ProjectIndex, module: str, name: str, tested: bool) -> bool:
    """For a function no production module calls: whether it is start-up code all the
    same. A decorated one is called by a framework (a route, a task, a receiver): run
    time. Otherwise its callers are not seen (a plug-in loader calling ``start()`` by
    name, a script outside the packages), and its name says what it is: set-up or
    tear-down (``start_worker``, ``init_cache``), or test support that only tests call
    (``reset_registry``)."""
    own = module_lifecycle(project, module)
    decorated = None if own is None else own.functions.get(name)
    if decorated is None or decorated:
        return False
    return _names_lifecycle(name) or (tested and _names_test_support(name))


# Words of a function name that say it sets something up or tears it down.
_LIFECYCLE_WORDS = frozenset(
    {
        "start",
        "startup",
        "stop",
        "shutdown",
        "setup",
        "teardown",
        "init",
        "initialize",
        "initialise",
        "bootstrap",
        "boot",
        "configure",
        "install",
        "uninstall",
        "warmup",
    }
)


def _names_lifecycle(name: str) -> bool:
    """``start_worker``, ``init_cache``, ``setup``, ``on_shutdown``."""
    return any(word in _LIFECYCLE_WORDS for word in name.lower().split("_"))


# How functions that exist for tests are named: they reset, override or fake state.
_TEST_SUPPORT_PREFIXES = ("reset", "override", "set_", "fake", "mock", "stub", "patch", "force_")


def _names_test_support(name: str) -> bool:
    """``reset_registry``, ``override_settings``, ``set_clock``, ``clear_for_tests``."""
    plain = name.lstrip("_").lower()
    return plain.startswith(_TEST_SUPPORT_PREFIXES) or "test" in plain


def _re_exports(facts: FileFacts, module: str, name: str) -> bool:
    """Whether the package ``facts`` imports ``name`` from ``module`` (for its importers)."""
    return (
        facts.is_package
        and not facts.is_test
        and any(fact.module == module and fact.name == name for fact in facts.imports)
    )


def _describe(module: str, reference: CallSite) -> str:
    """Where a reference is, for a message: ``called in `app.views.show()` ``."""
    verb = "called" if reference.role == CALL and not reference.in_lambda else "referenced"
    caller = reference.function
    if caller is None:
        return f"{verb} at module level in `{module}`"
    owner = "".join(f"{cls}." for cls in reference.classes)
    return f"{verb} in `{module}.{owner}{caller}()`"


def _is_recursion(reference: CallSite, name: str) -> bool:
    """A call of the function in its own body: not a call site of its own."""
    return reference.function == name and not reference.classes and not reference.nested


def _importers(project: ProjectIndex, module: str, name: str) -> list[str]:
    """``module`` and the project modules that import ``name`` from it, or import it."""
    if module not in project.modules:
        return []
    found = [module]
    package, _, last = module.rpartition(".")
    for importer in sorted(project.graph.predecessors(module)):
        facts = project.modules.get(importer)
        if facts is not None and any(
            (fact.module == module and fact.name in ("", name))
            or (fact.module == package and fact.name == last)
            for fact in facts.imports
        ):
            found.append(importer)
    return found


def _at_startup(
    project: ProjectIndex, module: str, reference: CallSite, visiting: tuple[str, ...]
) -> bool:
    if reference.role == HOOK:
        return True
    if reference.role != CALL or reference.in_lambda:
        return False
    caller = reference.function
    if caller is None:
        return True  # module level: runs when the module is imported
    if reference.startup_hook:
        return True
    if reference.classes or reference.nested:
        return False  # a method or a closure: who calls it is not followed
    return runs_only_at_startup(project, f"{module}.{caller}", visiting).startup


def runs_at_startup(project: ProjectIndex, module: str, qualname: str) -> bool:
    """Whether the function ``qualname`` of ``module`` (``name``, ``Class.method``,
    ``outer.inner``) is start-up code: declared as a start-up hook (``create_app``, a
    function taking the ``app``, ``AppConfig.ready``, ``@app.on_event("startup")``, a
    command-line command...), or a module-level function called only at start-up
    (``runs_only_at_startup``: from a start-up hook or at import time, or called by
    nothing in the project and named for it, ``init_logger``, ``configure_routes``).
    A module-level function the project calls at run time is not start-up code, whatever
    its name or parameters say."""
    lifecycle = module_lifecycle(project, module)
    declared = None if lifecycle is None else lifecycle.startup_hooks.get(qualname)
    if declared is None:
        return False
    if "." in qualname:
        return declared  # its callers are not followed
    verdict = runs_only_at_startup(project, f"{module}.{qualname}")
    # A call seen at run time outweighs a declaration that only guesses from the name
    # or the parameters.
    return verdict.startup or (not verdict.seen and declared)


@dataclass(frozen=True)
class CalledAtRunTime:
    """Condition: the module-level function ``qualified`` may run after start-up.

    It does not hold when every call of the function in the project (its own module and
    the modules importing it) runs at import time or from start-up code.
    """

    qualified: str

    def holds(self, project: ProjectIndex) -> bool:
        return not runs_only_at_startup(project, self.qualified).startup

    def refine(self, message: str, project: ProjectIndex) -> str:
        """Say where the run-time call is, when one was seen."""
        seen = runs_only_at_startup(project, self.qualified).seen
        return f"{message} ({seen})" if seen else message
