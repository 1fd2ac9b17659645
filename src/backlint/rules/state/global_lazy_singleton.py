from __future__ import annotations

import libcst as cst

from backlint.diagnostics import Severity
from backlint.engine.context import FileContext
from backlint.engine.walker import iter_descendants
from backlint.index.names import dotted_name
from backlint.rules.base import Example
from backlint.rules.state.cache_factory import cache_factory_fix
from backlint.rules.state.module_state import (
    EXEMPT_FACTORIES,
    REBIND,
    VALUE_CALLS,
    FunctionScanRule,
    Mutation,
    ScannedFunction,
    called_callee,
    is_cached_factory,
    scoped_overrides,
)


class GlobalLazySingleton(FunctionScanRule):
    """
    ## What it does
    Flags a function that declares `global X` and assigns `X = <call>` (or
    `X = await <call>`) where `X` is bound to `None` at module level: the lazy
    module-level singleton (`_db`, `_client`, `_engine`, `_redis`), with or without an
    `if X is None:` check around the assignment. It is reported once per function, at
    its first such assignment; the message names every global the function creates that
    way (`_engine` and `_sessionmaker` set up together are one finding), and one call of
    the function after start-up when a project module makes one
    (``(called in `app.views.show()`)``).

    The assigned call may also come through a local variable of the same function
    (`provider = TracerProvider(...)`, later `_PROVIDER = provider`), and the lazy
    spellings `_client = _client or Client()` and `Client() if _client is None else _client`
    count too.

    ## Why is this bad?
    The object is created on first use by whichever request gets there first, lives for
    the rest of the process, and is shared by every caller. Nothing closes it on
    shutdown; tests cannot replace it without patching a private global; a failed first
    call leaves the state half set; and two threads can create it twice. Configuration
    read at that moment (environment variables, settings) is frozen from then on.

    ## Example
    ```python
    _db = None

    def get_db():
        global _db
        if _db is None:
            _db = connect(settings.DATABASE_URL)
        return _db
    ```

    Use instead:
    ```python
    from functools import cache

    @cache
    def get_db() -> Database:
        return connect(settings.DATABASE_URL)
    ```

    or create the object in the application's lifespan and hand it out as a dependency
    (FastAPI `Depends`, `app.state`, a DI container).

    ## How to fix
    Replace the global with a `@functools.cache` factory (tests can call
    `get_db.cache_clear()`), or with an object whose lifetime the application manages:
    created at start-up, closed at shutdown, injected where it is needed.

    An **unsafe** automatic fix does the first for the plainest shape: a module-level
    `def` without parameters, decorators or `async`, whose body is `global X`, then
    `if X is None: X = call()` (or `X = X or call()`), then `return X`, with `X = None`
    on its own line and `X` used nowhere else in the module. The global goes, and the
    function gains `@functools.cache` and returns the call. It is unsafe because other
    modules or tests may still read or reset `module.X`.

    ## What is not flagged
    - assigning something that is not a call: `_client = None` in a shutdown function, or
      `_client = client` in a setter that tests use;
    - per-thread or per-context storage, locks and loggers (`threading.local()`,
      `ContextVar(...)`, `threading.Lock()`, `logging.getLogger()`), names that say they
      hold a logger (`_root_logger`), and functions that set up logging
      (`configured_logger()`): logging configuration is process-wide by design;
    - handles that a start function keeps so that a stop function can stop them: threads,
      timers, processes, executors, tasks, queues, events, exit stacks, open files
      (`threading.Thread(...)`, `ThreadPoolExecutor()`, `asyncio.create_task(...)`,
      `stack.enter_context(...)`, `path.open()`, a class named `*Thread`, `*Executor`,
      `*Lock`, `*Queue`...);
    - values rather than objects: a clock reading, a random id, a process fact or a plain
      conversion (`datetime.now()`, `time.monotonic()`, `uuid4()`, `os.getpid()`,
      `int(...)`) stored in a global is a value, not a singleton;
    - start/stop pairs: another function of the module closes what the function creates
      (`X.close()`, `await X.dispose()`, `X.shutdown()`, `X.stop()`, `X.join()`...), so its
      lifetime is managed (a function that only sets `X = None`, a reset for tests, does
      not count);
    - start-up code, recognised as BL301 recognises it (`create_app`, `lifespan`,
      `@app.on_event("startup")`, Celery worker signals, Dramatiq's
      `before_worker_boot`, `AppConfig.ready`, functions handed to `atexit.register` or
      `on_startup=[...]`, ...), and module-level functions whose every call in the project
      runs at import time or from start-up code, or, when no project module calls them
      and they have no decorator, whose name says they set up or tear down
      (`init_cache`, `start_worker`, `setup`);
    - a scoped override: a `@contextmanager` that sets the global and restores it in its
      `finally` block or after its `yield` (a test helper's fake client);
    - module-level names that are not bound to `None` (BL301 covers containers);
    - code under `if __name__ == "__main__":`, `@functools.cache`/`@lru_cache`
      functions (the recommended replacement) and test code.

    Calibration: on eight open-source backends the findings left are clients created on
    first use by request code (an API client, a Redis client for a webhook check). The
    exclusions come from those projects and a reviewed sample of others: a cache-reset
    timestamp (`_LAST_RESET = now`) and a lazily configured root logger; profiler,
    metrics and refresh threads started at start-up and joined at shutdown; worker
    database engines, Redis and HTTP clients created in Dramatiq's `before_worker_boot`
    and closed in `after_worker_shutdown`; a tracer provider shut down by its pair.
    """

    code = "BL302"
    name = "global-lazy-singleton"
    summary = "A function lazily creates a module-level singleton through `global`."
    fix_text = "Use a `@functools.cache` factory or a lifespan-managed dependency."
    severity = Severity.WARNING
    # Below the precision bar on code it was not tuned on (docs/precision.md): it runs
    # when selected by its code or name, or with `preview = true`.
    default_enabled = False
    preview = True
    autofix = "unsafe (the plainest shape)"
    tags = ("design", "AP-PY05", "PQG-1")
    include_tests = False
    invalid = (
        Example(
            """
            \"""Database access.\"""
            import os

            _db = None


            def get_db():
                \"""The shared connection.\"""
                global _db
                if _db is None:
                    _db = connect(
                        os.environ["DATABASE_URL"],
                    )
                return _db
            """,
            fixed="""
            \"""Database access.\"""
            import functools
            import os


            @functools.cache
            def get_db():
                \"""The shared connection.\"""
                return connect(
                    os.environ["DATABASE_URL"],
                )
            """,
        ),
        Example(
            "from functools import cache\n_client = None\ndef client():\n    global _client\n"
            "    _client = _client or Client()\n    return _client\n",
            fixed="from functools import cache\n@cache\ndef client():\n    return Client()\n",
        ),
        "import redis\n_client: redis.Redis | None = None\ndef cache_client(url):\n"
        "    global _client\n    _client = redis.Redis.from_url(url)\n    return _client\n",
        "_pool = None\nasync def pool():\n    global _pool\n    if not _pool:\n"
        "        _pool = await create_pool()\n    return _pool\n",
        Example(
            "_engine = None\ndef engine(url):\n    global _engine\n    if _engine is None:\n"
            "        if url:\n            _engine = make(url)\n        else:\n"
            "            _engine = make_default()\n    return _engine\n",
            expect=1,
        ),
        "_client = None\nclass Api:\n    def client(self):\n        global _client\n"
        "        if _client is None:\n            _client = Client()\n        return _client\n",
        "_client = None\ndef client():\n    global _client\n"
        "    _client = _client or Client()\n    return _client\n",
        "_client = None\ndef client():\n    global _client\n"
        "    _client = Client() if _client is None else _client\n    return _client\n",
        "_PROVIDER = None\ndef tracer_provider():\n    global _PROVIDER\n"
        "    if _PROVIDER is not None:\n        return _PROVIDER\n"
        "    provider = TracerProvider()\n    provider.add(x)\n    _PROVIDER = provider\n",
        # One finding for the function, naming both globals.
        Example(
            "_engine = None\n_sessions = None\ndef get_session():\n"
            "    global _engine, _sessions\n    if _engine is None:\n"
            "        _engine = create_engine(URL)\n        _sessions = sessionmaker(_engine)\n"
            "    return _sessions()\n",
            expect=1,
        ),
        # A reset for tests is not a teardown: nothing closes the object.
        "_settings = None\ndef get_settings():\n    global _settings\n"
        "    if _settings is None:\n        _settings = Settings()\n    return _settings\n"
        "def reset_settings():\n    global _settings\n    _settings = None\n",
        # Called at import time and from request code.
        "_client = None\ndef client():\n    global _client\n    if _client is None:\n"
        "        _client = Client()\n    return _client\nclient()\n"
        "def handle(request):\n    return client().get(request.url)\n",
    )
    valid = (
        # Handles kept to be stopped: threads, executors, exit stacks, open files.
        "import threading\n_thread = None\ndef start():\n    global _thread\n"
        "    _thread = threading.Thread(target=run)\n    _thread.start()\n",
        "from concurrent.futures import ThreadPoolExecutor\n_pool = None\ndef pool():\n"
        "    global _pool\n    if _pool is None:\n        _pool = ThreadPoolExecutor(4)\n"
        "    return _pool\n",
        "import contextlib\n_stack = None\n_lock_file = None\ndef lock(path):\n"
        "    global _stack, _lock_file\n    _stack = contextlib.ExitStack()\n"
        "    _lock_file = _stack.enter_context(path.open('wb'))\n",
        # A start/stop pair: the stop function disposes of what the set-up created.
        "_engine = None\n_sessions = None\ndef setup_db():\n    global _engine, _sessions\n"
        "    _engine = create_engine(URL)\n    _sessions = sessionmaker(_engine)\n"
        "async def dispose_db():\n    global _engine\n    await _engine.dispose()\n"
        "    _engine = None\n",
        # Start-up code: a worker signal, a hook called from a lifespan, module level.
        "from celery.signals import worker_process_init\n_conn = None\n"
        "@worker_process_init.connect\ndef init_worker(**kwargs):\n    global _conn\n"
        "    _conn = connect()\n",
        Example(
            "from fastapi import FastAPI\nfrom app.cache import init_cache\n"
            "async def lifespan(api):\n    init_cache()\n    yield\n"
            "api = FastAPI(lifespan=lifespan)\n",
            path="app/main.py",
            files=(
                ("app/__init__.py", ""),
                (
                    "app/cache.py",
                    "_client = None\ndef init_cache():\n    global _client\n"
                    "    _client = Redis.from_url(URL)\n",
                ),
            ),
        ),
        "_client = None\ndef _init():\n    global _client\n    _client = Client()\n_init()\n",
        # A set-up function no project module calls: a plug-in loader or a script
        # outside the packages calls it, at start-up as its name says.
        "import redis\n_client: redis.Redis | None = None\ndef init_cache(url):\n"
        "    global _client\n    _client = redis.Redis.from_url(url)\n",
        # A test helper's scoped override, restored on exit.
        "from contextlib import contextmanager\n_client = None\n@contextmanager\n"
        "def fake_client():\n    global _client\n    previous = _client\n"
        "    _client = FakeClient()\n    try:\n        yield _client\n    finally:\n"
        "        _client = previous\n",
        "import functools\n@functools.cache\ndef get_client():\n    return Client()\n",
        "_client = None\ndef close():\n    global _client\n    _client = None\n",
        "_client = None\ndef set_client(c):\n    global _client\n    _client = c\n",
        "import threading\n_local = None\ndef local():\n    global _local\n"
        "    _local = threading.local()\n    return _local\n",
        "import logging\n_log = None\ndef log():\n    global _log\n"
        "    _log = logging.getLogger(__name__)\n",
        "_db = connect()\ndef reconnect():\n    global _db\n    _db = connect()\n",
        "import datetime\n_last = None\ndef touch():\n    global _last\n"
        "    now = datetime.datetime.now()\n    _last = now\n",
        "import os\n_pid = None\ndef pid():\n    global _pid\n    _pid = os.getpid()\n"
        "    return _pid\n",
        "_root_logger = None\ndef get_logger():\n    global _root_logger\n"
        "    if _root_logger is None:\n        _root_logger = configure_logging()\n"
        "    return _root_logger\n",
        "_db = None\ndef get_db():\n    db = connect()\n    return db\n",
        '_db = None\nif __name__ == "__main__":\n    def main():\n        global _db\n'
        "        _db = connect()\n",
        Example(
            "_db = None\ndef get_db():\n    global _db\n    _db = connect()\n",
            path="tests/conftest.py",
        ),
    )

    def applies_to(self, ctx: FileContext) -> bool:
        # Without a ``global`` statement there is nothing to find: skip the walk.
        return "global" in ctx.text and super().applies_to(ctx)

    def check(self, functions: list[ScannedFunction]) -> None:
        scoped = scoped_overrides(functions)
        found: list[tuple[ScannedFunction, list[_Creation]]] = []
        for function in functions:
            by_scope: dict[int, list[_Creation]] = {}
            for mutation in function.mutations:
                call = self._lazy_creation(mutation)
                scope = mutation.scope.function() or mutation.scope
                if call is not None and (id(scope.node), mutation.root) not in scoped:
                    by_scope.setdefault(id(scope), []).append((mutation, call))
            found.extend((function, creations) for creations in by_scope.values())
        if not found:
            return
        created = {mutation.root for _, creations in found for mutation, _ in creations}
        closers = _closed_by(functions, created)
        for function, creations in found:
            roots = list(dict.fromkeys(mutation.root for mutation, _ in creations))
            # A start/stop pair: another function of the module closes what this one
            # creates, so the object's lifetime is managed, not left to the process.
            if not any(closers.get(root, set()) - {id(function.node)} for root in roots):
                self._judge(function, creations, roots)

    def _judge(
        self, function: ScannedFunction, creations: list[_Creation], roots: list[str]
    ) -> None:
        first = creations[0][0]
        scope = first.scope.function() or first.scope
        if self.declared_startup(function, first.scope):
            return
        shown: dict[str, tuple[str, str]] = {}
        for mutation, call in creations:
            shown.setdefault(mutation.root, _assignment(mutation, call))
        module = self.ctx.module or self.ctx.relative
        if len(roots) == 1:
            code, note = shown[roots[0]]
            what = f"the module-level singleton `{roots[0]}`"
            how = f"`global {roots[0]}; {code}`{note}"
        else:
            what = "the module-level singletons " + ", ".join(f"`{root}`" for root in roots)
            how = f"`global {', '.join(roots)}`: " + ", ".join(
                f"`{code}`{note}" for code, note in (shown[root] for root in roots)
            )
        fix = None
        if len(roots) == 1 and isinstance(scope.node, cst.FunctionDef):
            fix = cache_factory_fix(self.ctx.tree, self.ctx.names, scope.node, roots[0])
        self.report_in(
            function,
            first.node,
            f"`{scope.display_name()}()` creates {what} (declared `None` in `{module}`) with {how}",
            fix=fix,
            conditions=self.call_site_conditions(function, first.scope),
        )

    def _lazy_creation(self, mutation: Mutation) -> cst.Call | None:
        """The call, when ``mutation`` is ``global X; X = call()`` with ``X = None`` at
        module level and a call that creates an object others will share."""
        if mutation.kind != REBIND or mutation.dotted != mutation.root:
            return None
        binding = self.ctx.bindings.get(mutation.root)
        if binding is None or binding.shape != "none" or _is_logger_name(mutation.root):
            return None
        call = called_callee(mutation.value)
        value = mutation.value
        if (
            call is None
            and isinstance(value, cst.Name)
            and value.value not in mutation.scope.params
        ):
            # ``provider = TracerProvider(...)`` ... ``_PROVIDER = provider``
            call = mutation.scope.local_calls.get(value.value)
        if call is None or is_cached_factory(mutation.scope, self.ctx):
            return None
        function = mutation.scope.function()
        if function is not None and _is_logger_name(function.name):
            return None  # logging set-up (``configured_logger``) is process-wide by design
        qualified = self.ctx.qualified_name(call.func)
        if qualified is not None and (
            qualified in EXEMPT_FACTORIES or qualified in VALUE_CALLS or qualified in _HANDLES
        ):
            return None
        callee = dotted_name(call.func) or ""
        last = callee.rsplit(".", 1)[-1]
        if _is_logger_name(last) or _is_handle(callee, last):
            return None
        return call


_Creation = tuple[Mutation, cst.Call]

# Handles: what a start function keeps so that its stop function can stop, join or close
# it (a thread, a timer, a process, an executor, a task, an open file, an exit stack), and
# queues and synchronisation objects. Not a service object that callers share.
_HANDLES = frozenset(
    {
        "threading.Thread",
        "threading.Timer",
        "threading.Barrier",
        "multiprocessing.Process",
        "multiprocessing.Pool",
        "multiprocessing.Queue",
        "multiprocessing.Event",
        "multiprocessing.Condition",
        "multiprocessing.Semaphore",
        "multiprocessing.pool.Pool",
        "multiprocessing.pool.ThreadPool",
        "concurrent.futures.ThreadPoolExecutor",
        "concurrent.futures.ProcessPoolExecutor",
        "asyncio.create_task",
        "asyncio.ensure_future",
        "asyncio.get_event_loop",
        "asyncio.new_event_loop",
        "asyncio.get_running_loop",
        "asyncio.Queue",
        "asyncio.Barrier",
        "queue.Queue",
        "queue.SimpleQueue",
        "queue.LifoQueue",
        "queue.PriorityQueue",
        "contextlib.ExitStack",
        "contextlib.AsyncExitStack",
        "subprocess.Popen",
        "asyncio.create_subprocess_exec",
        "asyncio.create_subprocess_shell",
        "asyncio.start_server",
        "builtins.open",
        "sched.scheduler",
        "signal.signal",
    }
)
# Methods that start something or open a handle: ``loop.create_task(...)``,
# ``stack.enter_context(...)``, ``path.open()``, ``executor.submit(...)``.
_HANDLE_METHODS = frozenset(
    {
        "create_task",
        "ensure_future",
        "run_in_executor",
        "start_new_thread",
        "enter_context",
        "enter_async_context",
        "open",
        "spawn",
        "submit",
        "start_soon",
    }
)
# Classes whose names say they are handles or synchronisation objects, whatever their
# library: ``HeartbeatThread``, ``RepeatTimer``, ``BoundedExecutor``, ``FileLock``.
_HANDLE_CLASS_SUFFIXES = (
    "Thread",
    "Timer",
    "Process",
    "Executor",
    "Lock",
    "Event",
    "Semaphore",
    "Condition",
    "Barrier",
    "Queue",
    "ExitStack",
    "Task",
    "Future",
)


def _is_handle(callee: str, last: str) -> bool:
    """A call that creates a handle (see ``_HANDLES``) by its name alone."""
    if "." in callee and last in _HANDLE_METHODS:
        return True
    return last[:1].isupper() and last.endswith(_HANDLE_CLASS_SUFFIXES)


def _assignment(mutation: Mutation, call: cst.Call) -> tuple[str, str]:
    """``X = connect(…)``, or ``X = provider`` with the note `` (from `TracerProvider(…)`)``
    when the call went through a local variable."""
    callee = f"{dotted_name(call.func) or '…'}(…)"
    if isinstance(mutation.value, cst.Name):
        return f"{mutation.root} = {mutation.value.value}", f" (from `{callee}`)"
    return f"{mutation.root} = {callee}", ""


# What a stop function does to a resource it tears down.
_CLOSERS = frozenset(
    {
        "close",
        "aclose",
        "dispose",
        "shutdown",
        "stop",
        "terminate",
        "cancel",
        "disconnect",
        "join",
        "kill",
        "quit",
        "release",
    }
)


def _closed_by(functions: list[ScannedFunction], roots: set[str]) -> dict[str, set[int]]:
    """For each of ``roots``, the outermost functions that close it: ``X.close()``,
    ``await X.dispose()``, ``X.shutdown()``... (``id()`` of the function node)."""
    found: dict[str, set[int]] = {}
    for function in functions:
        for node in iter_descendants(function.node):
            if not isinstance(node, cst.Call) or not isinstance(node.func, cst.Attribute):
                continue
            receiver = node.func.value
            if (
                isinstance(receiver, cst.Name)
                and receiver.value in roots
                and node.func.attr.value in _CLOSERS
            ):
                found.setdefault(receiver.value, set()).add(id(function.node))
    return found


def _is_logger_name(name: str) -> bool:
    """``logger``, ``_root_logger``, ``get_logger``, ``log``: a logger, exempt as shared."""
    plain = name.strip("_").lower()
    return "logger" in plain or plain in ("log", "logging") or plain.endswith("_log")
