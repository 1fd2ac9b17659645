from __future__ import annotations

import fnmatch
from dataclasses import dataclass

import libcst as cst

from backlint.diagnostics import Severity
from backlint.engine.context import FileContext
from backlint.rules.base import Example, Option
from backlint.rules.state.module_state import (
    FunctionScanRule,
    IsModuleContainer,
    Mutation,
    Scope,
    container_kind,
    decorator_names,
    is_cached_factory,
)

# Class-creation hooks run when a subclass is defined, i.e. at import time.
_CLASS_CREATION_HOOKS = frozenset({"__init_subclass__", "__set_name__"})
# Functions that wire an application up once, at start-up: Flask's application factory
# and extensions' ``init_app``, plugin ``load(app)``/``setup(app)`` entry points.
_STARTUP_FUNCTIONS = frozenset({"create_app", "init_app"})
_APP_PARAMETERS = frozenset({"app", "application"})


@dataclass(frozen=True)
class _Target:
    """What a mutation changes: a container of this module, or one of another module."""

    variable: str  # as the message names it
    condition: IsModuleContainer | None  # set when the container lives in another module


class MutableGlobalState(FunctionScanRule):
    """
    ## What it does
    Flags code that runs inside a function (or a method) and changes a module-level
    container: a list, dict or set bound at module level to a literal, a comprehension or
    a `list()`/`dict()`/`set()`/`defaultdict`/`OrderedDict`/`deque`/`Counter` call. A
    change is a mutating method call (`append`, `extend`, `insert`, `update`,
    `setdefault`, `pop`, `popitem`, `clear`, `remove`, `add`, `discard` and the other
    in-place methods of these types), an item assignment (`X[k] = v`, `X[k] += v`),
    `del X[k]`, or rebinding the name under `global`.

    It follows names across modules: `from app.registry import HANDLERS` followed by
    `HANDLERS[name] = fn`, or `import app.state as state` followed by
    `state.items.append(x)`, is reported where the change happens and names the module
    that owns the container (re-exports through a package `__init__` are followed).

    ## Why is this bad?
    A module-level container lives as long as the process and is shared by every
    request, thread and test. State written into it at run time leaks between requests
    and users, grows without bound, differs from one worker process to the next, and makes
    tests depend on the order they run in. Holding a lock while writing makes it
    thread-safe, not request-safe: it is still shared mutable state, and still flagged.

    ## Example
    ```python
    _cache = {}

    def remember(key, value):
        _cache[key] = value
    ```

    Use instead:
    ```python
    from functools import cache

    @cache
    def settings() -> Settings:
        return Settings()

    class Cache:  # owned by the composition root, e.g. stored on app.state
        def __init__(self) -> None:
            self._items: dict[str, str] = {}
    ```

    ## How to fix
    Move the state into an object that the composition root creates and hands to the
    code that needs it (`app.state`, a dependency-injection container, a service
    instance), or make the module-level value immutable (`tuple`, `frozenset`,
    `types.MappingProxyType`).

    ## What is not flagged
    Only changes made at run time count: a container that is filled at import time and
    only read afterwards (the usual `UPPER_CASE` constant, a Django settings module) is
    never reported, and neither is code at module level, in a module-level class body or
    under `if __name__ == "__main__":`. Also left alone:

    - `__all__`, `__slots__` and `__version__`;
    - names that are local to the function (parameters, assignments, closures: a cache
      held in an enclosing function is not module state), `self.x`/`cls.x` attributes
      (class-level containers are out of scope), and objects that are not containers
      (`app.config[...]` on a Flask app, `os.environ`, a `threading.local()`, a lock, a
      logger, a registry object of a custom class);
    - `@functools.cache`/`@lru_cache` functions, the recommended replacement;
    - with `allow-import-time-registration` (default `true`), code that fills a registry
      once, when modules are imported or the application starts:
      - a function used as a decorator in its module, or with the decorator shape (takes
        an argument, stores it, and returns it or a wrapper it defines), factories such as
        `def handles(event): def deco(fn): ...` included;
      - a function whose name matches `registration-functions` (`register`,
        `register_*`) and that stores one of its arguments: `register(MyRunner)` called at
        the bottom of each plug-in module;
      - start-up hooks: `create_app`, `init_app`, a function that takes the application
        (`load(app)` of a plug-in), Django's `AppConfig.ready`, and the class-creation
        hooks `__init_subclass__`/`__set_name__`;
    - test code.

    A function that changes the same container several times is reported once, at its
    first change, with the number of further changes in the message.

    Besides the spec's containers, `cachetools` caches (`TTLCache`, `LRUCache`, ...) are
    candidates, and the in-place methods `appendleft`, `extendleft`, `popleft`, `sort`,
    `reverse` and the set `*_update` methods count as changes. A container behind
    `X[k]` or `X.setdefault(k, [])` counts as the changed object (`REG[k].append(fn)`).

    Calibration: on eight open-source backends (FastAPI, Flask, Django) every finding
    left is a process-wide cache written by request code. The registration exclusions
    come from those projects: query-runner and destination registries filled by
    `register(cls)` calls at import time, decorator registries (`@gfk_type`,
    `@federated_entity(...)`), and plug-ins that register a class in `load(app)`.
    """

    code = "BL301"
    name = "mutable-global-state"
    summary = "A function changes a module-level container at run time."
    fix_text = (
        "Move state into an object owned by the composition root (app.state/DI container) "
        "or make it immutable (`tuple`, `frozenset`, `MappingProxyType`)."
    )
    severity = Severity.WARNING
    tags = ("design", "AP-PY05")
    include_tests = False
    options = (
        Option(
            "allow-import-time-registration",
            True,
            "Do not flag registration helpers: functions used as decorators in their "
            "module, functions that take an argument, store it and return it (or return a "
            "wrapper they define), `registration-functions`, start-up hooks (`create_app`, "
            "`init_app`, functions taking `app`, `AppConfig.ready`) and "
            "`__init_subclass__` hooks.",
        ),
        Option(
            "registration-functions",
            ("register", "register_*", "_register", "_register_*"),
            "Name patterns (fnmatch) of registration helpers called at import time from "
            "other modules (`register(MyRunner)`): a matching function that stores one of "
            "its arguments is not flagged while `allow-import-time-registration` is on.",
        ),
    )
    invalid = (
        "_cache = {}\ndef remember(k, v):\n    _cache[k] = v\n",
        Example(
            "from app import state\ndef hit():\n    state.counters.append(1)\n",
            files=(("app/__init__.py", ""), ("app/state.py", "counters = []\n")),
        ),
        Example(
            "from app.cfg import REG\ndef add(k, v):\n    REG[k] = v\n",
            files=(("app/__init__.py", ""), ("app/cfg.py", "REG = {}\n")),
        ),
        Example(
            "from app import HANDLERS\ndef on(event, fn):\n    HANDLERS[event] = fn\n",
            files=(
                ("app/__init__.py", "from app.registry import HANDLERS\n"),
                ("app/registry.py", "HANDLERS: dict = dict()\n"),
            ),
        ),
        "from collections import defaultdict\n_hits = defaultdict(int)\n"
        "def hit(page):\n    _hits[page] += 1\n",
        Example(
            "import threading\n_lock = threading.Lock()\n_seen = set()\n"
            "def mark(x):\n    with _lock:\n        _seen.add(x)\n",
            expect=1,
        ),
        "_items = []\ndef reset():\n    global _items\n    _items = []\n",
        "_sessions = {}\ndef logout(sid):\n    del _sessions[sid]\n",
        "_registry = []\nclass Tracker:\n    def track(self, x):\n        _registry.append(x)\n",
        Example(
            "_seen = set()\ndef note(a, b):\n    _seen.add(a)\n    _seen.add(b)\n"
            "    _seen.discard(0)\n",
            expect=1,
        ),
        "_calls = {}\ndef memo(fn):\n    def wrapper(*args):\n"
        "        _calls[args] = fn(*args)\n        return _calls[args]\n    return wrapper\n",
        "from collections import deque\n_recent = deque()\n"
        "def push(x):\n    _recent.appendleft(x)\n",
    )
    valid = (
        '__all__ = ["x"]\n__all__ += ["y"]\n',
        'ROUTES = {"a": 1}\ndef route(name):\n    return ROUTES.get(name)\n',
        "ROUTES = {}\ndef register(fn):\n    ROUTES[fn.__name__] = fn\n    return fn\n",
        "HANDLERS = {}\ndef handles(event):\n    def deco(fn):\n"
        "        HANDLERS.setdefault(event, []).append(fn)\n        return fn\n    return deco\n",
        "HOOKS = []\ndef hook(fn):\n    HOOKS.append(fn)\n    return wrap(fn)\n"
        "@hook\ndef on_start():\n    pass\n",
        "runners = {}\ndef register(runner_class):\n    if runner_class.enabled():\n"
        "        runners[runner_class.type()] = runner_class\n",
        Example(
            "from app.challenges import CHALLENGE_CLASSES\ndef load(app):\n"
            '    CHALLENGE_CLASSES["dynamic"] = DynamicChallenge\n',
            path="app/plugins/dynamic.py",
            files=(("app/__init__.py", ""), ("app/challenges.py", "CHALLENGE_CLASSES = {}\n")),
        ),
        "from django.apps import AppConfig\nSIGNALS = []\nclass CoreConfig(AppConfig):\n"
        "    def ready(self):\n        SIGNALS.append(self.name)\n",
        "PLUGINS = {}\nclass Plugin:\n    def __init_subclass__(cls, **kw):\n"
        "        PLUGINS[cls.__name__] = cls\n",
        "import functools\n@functools.cache\ndef get_client():\n    return Client()\n",
        "def make():\n    cache = {}\n    def get(k):\n        cache[k] = 1\n    return get\n",
        "items = []\ndef f(items):\n    items.append(1)\ndef g():\n    items = []\n"
        "    items.append(1)\n",
        'REG = {}\nREG["a"] = 1\nfor name in NAMES:\n    REG[name] = name\n'
        'class Config:\n    REG["b"] = 2\n',
        '_jobs = []\nif __name__ == "__main__":\n    _jobs.append(1)\n'
        "    def main():\n        _jobs.clear()\n",
        "from flask import Flask\napp = Flask(__name__)\n"
        'def configure():\n    app.config["DEBUG"] = True\n',
        "class Registry:\n    items = []\n    @classmethod\n    def add(cls, x):\n"
        "        cls.items.append(x)\n",
        "class Cache:\n    def __init__(self):\n        self._items = {}\n"
        "    def put(self, k, v):\n        self._items[k] = v\n",
        "import threading\n_local = threading.local()\ndef set_user(u):\n    _local.user = u\n",
        Example(
            "from app.extensions import db\ndef save(o):\n    db.session.add(o)\n",
            files=(("app/__init__.py", ""), ("app/extensions.py", "db = SQLAlchemy()\n")),
        ),
        Example(
            "from app.state import LIMIT\ndef f():\n    LIMIT.append(1)\n",
            files=(("app/__init__.py", ""), ("app/state.py", "LIMIT = 10\n")),
        ),
        'import sys\ndef boot():\n    sys.path.append("lib")\n',
        Example("_cache = {}\ndef remember(k, v):\n    _cache[k] = v\n", path="tests/test_x.py"),
        "_items = []\ndef read():\n    global _items\n    return list(_items)\n",
    )

    def begin_file(self, ctx: FileContext) -> None:
        super().begin_file(ctx)
        self._decorators = decorator_names(ctx.tree)

    def check(self, mutations: list[Mutation]) -> None:
        # What each function stores into module-level names, for the decorator shape.
        stored: dict[int, set[str]] = {}
        for mutation in mutations:
            stored.setdefault(id(mutation.scope.function()), set()).update(mutation.stored)
        groups: dict[tuple[int, str], list[tuple[Mutation, _Target]]] = {}
        for mutation in mutations:
            target = self._target(mutation)
            if target is None or self._excluded(mutation, stored):
                continue
            key = (id(mutation.scope.function()), target.variable)
            groups.setdefault(key, []).append((mutation, target))
        for found in groups.values():
            mutation, target = found[0]
            function = mutation.scope.function() or mutation.scope
            message = (
                f"{target.variable} is mutated at run time by {mutation.shown} "
                f"in `{function.display_name()}()`"
            )
            if len(found) > 1:
                more = len(found) - 1
                message += f" (and {more} more time{'s' if more > 1 else ''} there)"
            conditions = () if target.condition is None else (target.condition,)
            self.report(mutation.node, message, conditions=conditions)

    def _target(self, mutation: Mutation) -> _Target | None:
        binding = self.ctx.bindings.get(mutation.root)
        if binding is None:
            return None
        if mutation.dotted == mutation.root:
            kind = container_kind(binding)
            if kind is not None:
                module = self.ctx.module or self.ctx.relative
                return _Target(
                    f"Module-level {kind} `{mutation.root}` (declared in `{module}`)", None
                )
            if mutation.is_rebinding:
                return None  # ``global X; X = ...`` rebinds this module's name, not the import
        if binding.shape not in ("import", "alias") or not binding.target:
            return None
        qualified = binding.target + mutation.dotted[len(mutation.root) :]
        owner, _, name = qualified.rpartition(".")
        if not owner:
            return None
        return _Target(f"Module-level `{name}` of `{owner}`", IsModuleContainer(qualified))

    def _excluded(self, mutation: Mutation, stored: dict[int, set[str]]) -> bool:
        scope = mutation.scope
        if is_cached_factory(scope, self.ctx):
            return True
        if not self.option("allow-import-time-registration"):
            return False
        function = scope.function()
        if function is None or not isinstance(function.node, cst.FunctionDef):
            return False
        if function.name in _CLASS_CREATION_HOOKS or function.name in self._decorators:
            return True
        if _startup_hook(function):
            return True
        function_stored = stored.get(id(function), set())
        if function_stored & set(function.params) and any(
            fnmatch.fnmatchcase(function.name, pattern)
            for pattern in self.str_list_option("registration-functions")
        ):
            return True
        return _decorator_shaped(function, function_stored)


def _startup_hook(function: Scope) -> bool:
    """Runs once when the application starts: ``create_app``/``init_app``, a function that
    takes the application (``load(app)``), or Django's ``AppConfig.ready``."""
    if function.name in _STARTUP_FUNCTIONS or _APP_PARAMETERS & set(function.params):
        return True
    is_method = function.parent is None and bool(function.owner)
    return is_method and function.name == "ready"


def _decorator_shaped(function: Scope, stored: set[str]) -> bool:
    """Takes an argument, stores it, and returns it (``register(fn) ... return fn``) or a
    wrapper function it defines: what a registering decorator looks like."""
    stored_params = set(function.params) & stored
    if not stored_params:
        return False
    returned = function.returned
    return bool(returned & stored_params or returned & function.nested_functions)
