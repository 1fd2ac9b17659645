from __future__ import annotations

import fnmatch
from dataclasses import dataclass

import libcst as cst

from backlint.diagnostics import Severity
from backlint.engine.context import FileContext
from backlint.engine.walker import iter_descendants
from backlint.rules.base import Condition, Example, Option
from backlint.rules.state.module_state import (
    METHOD,
    FunctionScanRule,
    IsModuleContainer,
    Mutation,
    ScannedFunction,
    Scope,
    container_kind,
    decorator_names,
    is_cached_factory,
    scoped_overrides,
)

# What reports a message: ``warnings.warn(...)``, ``logger.warning(...)``.
_WARNING_CALLS = frozenset({"warnings.warn", "warnings.warn_explicit"})
_LOG_METHODS = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "log"}
)
# ``unregister_handler``, ``deregister``: the counterpart of a registration function.
_UNREGISTER_PREFIXES = ("unregister", "deregister")


@dataclass(frozen=True)
class _Target:
    """What a mutation changes: a container of this module, or one of another module."""

    variable: str  # as the message names it
    condition: IsModuleContainer | None  # set when the container lives in another module


_Change = tuple[Mutation, _Target]


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
      logger, a registry object of a custom class, a `cachetools` cache: bounded by its
      `maxsize`, it is memoization like `lru_cache`);
    - `@functools.cache`/`@lru_cache` functions, the recommended replacement;
    - a "warn once" set: a function whose only change to a set is `add` and that logs or
      warns (`if key in _warned: return`, `_warned.add(key)`, `log.warning(...)`);
    - a function that only takes entries out (`pop`, `popitem`, `clear`, `remove`,
      `discard`, `popleft`, `del X[k]`, or `global X; X = {}` / `X = None` / a filtered
      copy `X = [h for h in X if h is not fn]`): a reset, an eviction or an `unregister`.
      The state is reported where it is written;
    - a scoped override, the shape of a test helper: a `@contextmanager` (or fixture)
      that changes a container and changes it again in its `finally` block or after its
      `yield` (set then restore, push then pop), and a class whose `__exit__`
      (`__aexit__`, `tearDown`, `tearDownClass`, `teardown_method`) changes what its
      `__enter__` (`setUp`, ...) changed. A plain function that pushes and pops in
      `try`/`finally` still changes shared state while it runs, and is reported;
    - with `allow-import-time-registration` (default `true`), code that runs once, when
      modules are imported or the process starts or stops:
      - a function used as a decorator in its module, or with the decorator shape (takes
        an argument, stores it, and returns it or a wrapper it defines), factories such as
        `def handles(event): def deco(fn): ...` included;
      - a function whose name matches `registration-functions` (`register`,
        `register_*`) and that stores one of its arguments: `register(MyRunner)` called at
        the bottom of each plug-in module; and its counterpart `unregister*`/`deregister*`;
      - start-up hooks, by declaration: `create_app`, `init_app`, `lifespan`, `main`, a
        function that takes the application (`load(app)` of a plug-in),
        `@app.on_event("startup"/"shutdown")`, Flask's `before_first_request`, Quart's
        and Sanic's serving hooks, Celery worker signals (`@worker_process_init.connect`,
        `worker_init`, `worker_shutdown`, ...) and a project's own signals named for
        start-up (`app_created.connect`, `on_startup`), Django's `AppConfig.ready` and
        `@receiver(class_prepared/post_migrate)`, Dramatiq's `before_worker_boot` and
        `after_worker_shutdown`, Gunicorn's server hooks (`post_fork(server, worker)`),
        command-line entry points (`@click.command()`, `@app.command()`, a management
        command's `handle`), and functions handed to a start-up registration
        (`app.add_event_handler("startup", f)`, `FastAPI(on_startup=[f], lifespan=f)`,
        `app.on_startup.append(f)`, `atexit.register(f)`, `signal.signal(SIGTERM, f)`);
      - class-creation hooks: `__init_subclass__`, `__set_name__`, and the `__new__`,
        `__init__` and `__prepare__` of a metaclass (a class deriving from `type`,
        `ABCMeta` or a `*Meta` class, or whose `__new__` takes `(mcs, name, bases, ...)`);
      - listeners of SQLAlchemy's configuration events, which fire once per mapped class
        (`@event.listens_for(Mapper, "mapper_configured")`, `after_configured`,
        `instrument_class`, ...); per-row and per-session events are run time;
      - a module-level function whose every call runs at import or start-up: called at
        the module level of its module or of a module importing it, or from one of the
        start-up hooks above, or from a function that is itself only called that way
        (followed four callers deep). Only calls count: a function handed on
        (`add_api_route("/", f)`, `Depends(f)`) may run on every request. A function no
        production module calls is run time when it is decorated (a framework calls it:
        a route, a task, a receiver); without decorators its callers are not seen (a
        plug-in loader calling `start()` by name, a script), and it counts as start-up
        code when its name says so (a word `start`, `stop`, `setup`, `teardown`, `init`,
        `shutdown`, `boot`, `configure`, `install`...: `init_cache`, `start_worker`), or
        as a test helper when only tests call it and its name says it serves them
        (`reset_*`, `override_*`, `set_*`, `fake_*`, `mock_*`, `*_for_tests`...). Calls
        from test modules never count as run time. A function re-exported by a package
        `__init__` is reported (its callers are not followed);
    - test code.

    A function that changes the same container several times is reported once, at its
    first change that adds to it, with the number of further changes in the message.
    When a project module calls the function after start-up, the message names one such
    call: ``(called in `app.views.show()`)``.

    Besides the spec's containers, the in-place methods `appendleft`, `extendleft`,
    `popleft`, `sort`, `reverse` and the set `*_update` methods count as changes. A
    container behind `X[k]` or `X.setdefault(k, [])` counts as the changed object
    (`REG[k].append(fn)`).

    Calibration: on eight open-source backends (FastAPI, Flask, Django) every finding
    left is a process-wide cache written by request code (a schema cache keyed by field
    versions, a queue-URL cache, a site cache, an in-memory webhook cache). The exclusions
    come from those projects and from a reviewed sample of others: query-runner and
    destination registries filled by `register(cls)` calls at import time, decorator
    registries (`@gfk_type`, `@federated_entity(...)`), plug-ins that register a class in
    `load(app)`, model sets filled by `mapper_configured` listeners, metaclass
    registries, jobs started from a FastAPI lifespan, cache-clearing helpers for tests
    and a bounded `TTLCache`.
    """

    code = "BL301"
    name = "mutable-global-state"
    summary = "A function changes a module-level container at run time."
    fix_text = (
        "Move state into an object owned by the composition root (app.state/DI container) "
        "or make it immutable (`tuple`, `frozenset`, `MappingProxyType`)."
    )
    severity = Severity.WARNING
    # Below the precision bar on code it was not tuned on (docs/precision.md): it runs
    # when selected by its code or name, or with `preview = true`.
    default_enabled = False
    preview = True
    tags = ("design", "AP-PY05", "PQG-1")
    include_tests = False
    options = (
        Option(
            "allow-import-time-registration",
            True,
            "Do not flag code that runs at import or start-up: functions used as decorators "
            "in their module, functions that take an argument, store it and return it (or "
            "return a wrapper they define), `registration-functions` and their "
            "`unregister*` counterparts, start-up hooks (`create_app`, `lifespan`, "
            '`@app.on_event("startup")`, `AppConfig.ready`, Celery worker signals, ...), '
            "class-creation hooks (`__init_subclass__`, a metaclass's `__new__`), "
            "`mapper_configured` listeners, and functions only called at import time or "
            "from start-up hooks.",
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
        "_items = []\ndef reload():\n    global _items\n    _items = load()\n",
        # The writer is reported; the function that only removes is its counterpart.
        Example(
            "_sessions = {}\ndef login(sid, user):\n    _sessions[sid] = user\n"
            "def logout(sid):\n    del _sessions[sid]\n",
            expect=1,
        ),
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
        # Called at import time and from a request handler: the handler's call is run time.
        "SEEN = []\ndef remember(x):\n    SEEN.append(x)\nremember('boot')\n"
        "def handle(request):\n    remember(request.id)\n",
        # Handed to a router, not called: it runs on every request.
        "_hits = []\ndef collect(request):\n    _hits.append(request.path)\n"
        'router.add_api_route("/hits", collect)\n',
        # A per-session event, not a configuration event.
        "from sqlalchemy import event\nfrom sqlalchemy.orm import Session\nCOMMITTED = []\n"
        '@event.listens_for(Session, "after_commit")\ndef on_commit(session):\n'
        "    COMMITTED.append(session.info)\n",
        # Push and pop around the work of a plain function: shared while it runs.
        "_active = []\ndef process(job):\n    _active.append(job)\n    try:\n"
        "        run(job)\n    finally:\n        _active.remove(job)\n",
        # Logging is not enough: the dict is a cache.
        "import logging\nlog = logging.getLogger(__name__)\n_users = {}\n"
        "def user(uid):\n    if uid not in _users:\n        log.info('loading %s', uid)\n"
        "        _users[uid] = load(uid)\n    return _users[uid]\n",
        # The method of a class that is not a metaclass runs when instances are made.
        "_instances = {}\nclass Service:\n    def __new__(cls, *args):\n"
        "        _instances[cls] = super().__new__(cls)\n        return _instances[cls]\n",
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
        # Class creation: a metaclass's hooks run when each class is defined.
        "REGISTRY = {}\nclass RegistryMeta(type):\n    def __new__(mcs, name, bases, ns):\n"
        "        cls = super().__new__(mcs, name, bases, ns)\n        REGISTRY[name] = cls\n"
        "        return cls\n",
        "import abc\nKINDS = []\nclass KindMeta(abc.ABCMeta):\n"
        "    def __init__(cls, name, bases, ns):\n        KINDS.append(cls)\n",
        # Fired once per mapped class while SQLAlchemy configures the mappers.
        "from sqlalchemy import event\nfrom sqlalchemy.orm import Mapper\nMODELS = set()\n"
        '@event.listens_for(Mapper, "mapper_configured")\ndef track(mapper, cls):\n'
        "    MODELS.add(cls)\n",
        # Only called from module-level code of its module.
        "CHOICES = {}\ndef _fill(name):\n    CHOICES[name] = name.title()\n"
        "def _fill_all():\n    for name in NAMES:\n        _fill(name)\n_fill_all()\n",
        # Start-up hooks of the application and of worker processes.
        'WARM = {}\n@api.on_event("startup")\ndef warm():\n    WARM.update(load())\n',
        "from celery.signals import worker_process_init\nCONNECTIONS = []\n"
        "@worker_process_init.connect\ndef connect(**kwargs):\n"
        "    CONNECTIONS.append(open_connection())\n",
        "import atexit\n_report = []\ndef flush():\n    _report.append('bye')\n"
        "atexit.register(flush)\n",
        "import click\n_done = set()\n@click.command()\ndef run():\n    _done.add(1)\n",
        "from app import signals\nJINJA = {}\n@signals.app_created.connect\n"
        "def add_globals(sender, **kwargs):\n    JINJA['version'] = sender.version\n",
        # Nothing in the project calls it: a plug-in loader calls ``start`` by name.
        "_tasks = []\ndef start():\n    _tasks.append(spawn(poll))\n",
        # Started and stopped by the lifespan of another module.
        Example(
            "from contextlib import asynccontextmanager\nfrom fastapi import FastAPI\n"
            "from app.jobs import start_jobs, stop_jobs\n@asynccontextmanager\n"
            "async def lifespan(api):\n    start_jobs()\n    yield\n    stop_jobs()\n"
            "api = FastAPI(lifespan=lifespan)\n",
            path="app/main.py",
            files=(
                ("app/__init__.py", ""),
                (
                    "app/jobs.py",
                    "_jobs = []\ndef start_jobs():\n    _jobs.append(spawn())\n"
                    "def stop_jobs():\n    for job in _jobs:\n        job.cancel()\n"
                    "    _jobs.clear()\n",
                ),
            ),
        ),
        # Only takes entries out: a reset for tests, an eviction, an ``unregister``.
        "_cache = {}\ndef clear_cache():\n    _cache.clear()\n",
        "_items = []\ndef reset():\n    global _items\n    _items = []\n",
        "_hooks = []\ndef unregister(hook):\n    global _hooks\n"
        "    _hooks = [h for h in _hooks if h is not hook]\n",
        "HANDLERS = {}\ndef unregister_handler(name, fn):\n"
        "    HANDLERS[name] = [h for h in HANDLERS[name] if h is not fn]\n",
        # Scoped overrides: what the context manager changes, it restores on exit.
        "from contextlib import contextmanager\nOVERRIDES = {}\n@contextmanager\n"
        "def override(key, value):\n    old = OVERRIDES.get(key)\n    OVERRIDES[key] = value\n"
        "    try:\n        yield\n    finally:\n        OVERRIDES[key] = old\n",
        "STACK = []\nclass Pushed:\n    def __enter__(self):\n        STACK.append(self)\n"
        "    def __exit__(self, *exc):\n        STACK.pop()\n",
        # Remembers what it already warned about.
        "import logging\nlog = logging.getLogger(__name__)\n_warned = set()\n"
        "def warn_once(key):\n    if key in _warned:\n        return\n    _warned.add(key)\n"
        "    log.warning('deprecated: %s', key)\n",
        "import warnings\n_seen = set()\ndef deprecated(name):\n    if name not in _seen:\n"
        "        _seen.add(name)\n        warnings.warn(name, DeprecationWarning)\n",
        # A bounded cache is memoization, like ``lru_cache``.
        "from cachetools import TTLCache\n_recent = TTLCache(maxsize=100, ttl=60)\n"
        "def seen(key):\n    _recent[key] = True\n",
    )

    def begin_file(self, ctx: FileContext) -> None:
        super().begin_file(ctx)
        self._decorators = decorator_names(ctx.tree)

    def check(self, functions: list[ScannedFunction]) -> None:
        scoped = scoped_overrides(functions)
        for function in functions:
            # What each (nested) function stores into module-level names: the decorator
            # shape looks at all of it.
            stored: dict[int, set[str]] = {}
            for mutation in function.mutations:
                stored.setdefault(id(mutation.scope.function()), set()).update(mutation.stored)
            for found in self._groups(function).values():
                self._judge(function, found, scoped, stored)

    def _groups(self, function: ScannedFunction) -> dict[tuple[int, str], list[_Change]]:
        """The changes of ``function`` by the (nested) function making them and the
        container they change."""
        groups: dict[tuple[int, str], list[_Change]] = {}
        for mutation in function.mutations:
            target = self._target(mutation)
            if target is not None:
                key = (id(mutation.scope.function()), target.variable)
                groups.setdefault(key, []).append((mutation, target))
        return groups

    def _judge(
        self,
        function: ScannedFunction,
        found: list[_Change],
        scoped: set[tuple[int, str]],
        stored: dict[int, set[str]],
    ) -> None:
        writes = [change for change in found if not change[0].is_removal]
        if not writes:
            return  # only takes entries out: a reset or an ``unregister``, not a writer
        mutation, target = writes[0]
        scope = mutation.scope.function() or mutation.scope
        if (id(scope.node), mutation.root) in scoped:
            return
        conditions: tuple[Condition, ...] = ()
        if target.condition is not None:
            conditions = (target.condition,)
        if is_cached_factory(mutation.scope, self.ctx) or self._warns_once(scope, writes):
            return
        if self.option("allow-import-time-registration"):
            if self._registers(function, mutation, stored):
                return
            conditions += self.call_site_conditions(function, mutation.scope)
        message = (
            f"{target.variable} is mutated at run time by {mutation.shown} "
            f"in `{scope.display_name()}()`"
        )
        if len(found) > 1:
            more = len(found) - 1
            message += f" (and {more} more time{'s' if more > 1 else ''} there)"
        self.report_in(function, mutation.node, message, conditions=conditions)

    def _warns_once(self, scope: Scope, writes: list[_Change]) -> bool:
        """A set that only remembers what was already logged or warned about
        (``if key in _warned: return``, ``_warned.add(key)``, ``log.warning(...)``): a
        "warn once" marker, bounded by the messages the code can write."""
        if not all(m.kind == METHOD and m.method == "add" for m, _ in writes):
            return False
        if not isinstance(scope.node, cst.FunctionDef):
            return False
        for node in iter_descendants(scope.node.body, into_functions=False):
            if not isinstance(node, cst.Call):
                continue
            qualified = self.ctx.qualified_name(node.func) or ""
            if qualified in _WARNING_CALLS:
                return True
            receiver, _, method = qualified.rpartition(".")
            if method in _LOG_METHODS and "log" in receiver.rsplit(".", 1)[-1].lower():
                return True
        return False

    def _registers(
        self, function: ScannedFunction, mutation: Mutation, stored: dict[int, set[str]]
    ) -> bool:
        """Whether the change fills a registry once, at import or start-up time."""
        scope = mutation.scope.function()
        if scope is None or not isinstance(scope.node, cst.FunctionDef):
            return False
        if scope.name in self._decorators:
            return True
        if scope.name.lstrip("_").startswith(_UNREGISTER_PREFIXES):
            return True  # the counterpart of a registration function
        function_stored = stored.get(id(scope), set())
        if function_stored & set(scope.params) and any(
            fnmatch.fnmatchcase(scope.name, pattern)
            for pattern in self.str_list_option("registration-functions")
        ):
            return True
        return _decorator_shaped(scope, function_stored) or self.declared_startup(
            function, mutation.scope
        )

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


def _decorator_shaped(function: Scope, stored: set[str]) -> bool:
    """Takes an argument, stores it, and returns it (``register(fn) ... return fn``) or a
    wrapper function it defines: what a registering decorator looks like."""
    stored_params = set(function.params) & stored
    if not stored_params:
        return False
    returned = function.returned
    return bool(returned & stored_params or returned & function.nested_functions)
