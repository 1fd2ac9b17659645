from __future__ import annotations

import libcst as cst

from backlint.diagnostics import Severity
from backlint.engine.context import FileContext
from backlint.index.names import dotted_name
from backlint.rules.base import Example
from backlint.rules.state.cache_factory import cache_factory_fix
from backlint.rules.state.module_state import (
    EXEMPT_FACTORIES,
    REBIND,
    VALUE_CALLS,
    FunctionScanRule,
    Mutation,
    called_callee,
    is_cached_factory,
)


class GlobalLazySingleton(FunctionScanRule):
    """
    ## What it does
    Flags a function that declares `global X` and assigns `X = <call>` (or
    `X = await <call>`) where `X` is bound to `None` at module level: the lazy
    module-level singleton (`_db`, `_client`, `_engine`, `_redis`), with or without an
    `if X is None:` check around the assignment. It is reported at the assignment; a
    function that assigns the same name in several branches is reported once, at the
    first.

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
    - values rather than objects: a clock reading or a random id (`datetime.now()`,
      `time.monotonic()`, `uuid4()`) stored in a global is a timestamp, not a singleton;
    - module-level names that are not bound to `None` (BL301 covers containers);
    - code under `if __name__ == "__main__":`, `@functools.cache`/`@lru_cache`
      functions (the recommended replacement) and test code.

    Calibration: on eight open-source backends the finding left is a tracer provider
    created on first use; a cache-reset timestamp (`_LAST_RESET = now`) and a lazily
    configured root logger were false positives and led to the value-call and logger
    exemptions.
    """

    code = "BL302"
    name = "global-lazy-singleton"
    summary = "A function lazily creates a module-level singleton through `global`."
    fix_text = "Use a `@functools.cache` factory or a lifespan-managed dependency."
    severity = Severity.WARNING
    autofix = "unsafe (the plainest shape)"
    tags = ("design", "AP-PY05")
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
        "import redis\n_client: redis.Redis | None = None\ndef init_cache(url):\n"
        "    global _client\n    _client = redis.Redis.from_url(url)\n",
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
        "_PROVIDER = None\ndef init_tracer():\n    global _PROVIDER\n"
        "    if _PROVIDER is not None:\n        return _PROVIDER\n"
        "    provider = TracerProvider()\n    provider.add(x)\n    _PROVIDER = provider\n",
    )
    valid = (
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

    def check(self, mutations: list[Mutation]) -> None:
        reported: set[tuple[int, str]] = set()
        for mutation in mutations:
            call = self._lazy_creation(mutation)
            if call is None:
                continue
            key = (id(mutation.scope), mutation.root)
            if key in reported:
                continue
            reported.add(key)
            function = mutation.scope.function() or mutation.scope
            callee = f"{dotted_name(call.func) or '…'}(…)"
            if isinstance(mutation.value, cst.Name):
                callee = f"{mutation.value.value}` (from `{callee}`)"
            else:
                callee += "`"
            module = self.ctx.module or self.ctx.relative
            fix = None
            if isinstance(function.node, cst.FunctionDef):
                fix = cache_factory_fix(self.ctx.tree, self.ctx.names, function.node, mutation.root)
            self.report(
                mutation.node,
                f"`{function.display_name()}()` creates the module-level singleton "
                f"`{mutation.root}` (declared `None` in `{module}`) with "
                f"`global {mutation.root}; {mutation.root} = {callee}",
                fix=fix,
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
        if qualified is not None and (qualified in EXEMPT_FACTORIES or qualified in VALUE_CALLS):
            return None
        callee = dotted_name(call.func) or ""
        if _is_logger_name(callee.rsplit(".", 1)[-1]):
            return None
        return call


def _is_logger_name(name: str) -> bool:
    """``logger``, ``_root_logger``, ``get_logger``, ``log``: a logger, exempt as shared."""
    plain = name.strip("_").lower()
    return "logger" in plain or plain in ("log", "logging") or plain.endswith("_log")
