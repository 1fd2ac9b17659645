"""BL301 mutable-global-state and BL302 global-lazy-singleton beyond their examples:
messages, positions, options, and cross-module findings when only one file is checked."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import rule_findings as _check
from cli_helpers import write_files as _write


def test_bl301_message_names_variable_mutation_and_declaration(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/cache.py": """
                _cache = {}

                class Store:
                    def put(self, key, value):
                        _cache[key] = value
                        _cache.pop("stale", None)
            """,
        },
    )
    [found] = _check(tmp_path, "BL301")
    assert found.message == (
        "Module-level dict `_cache` (declared in `app.cache`) is mutated at run time by "
        "`_cache[…] = …` in `Store.put()` (and 1 more time there)"
    )
    assert (found.span.start.line, found.span.start.column) == (5, 9)
    assert (found.span.end.line, found.span.end.column) == (5, 20)


def test_bl301_cross_module_owner_read_from_disk(tmp_path: Path) -> None:
    # Only the mutating file is checked (as pre-commit does): the owner module is read
    # from disk to learn that ``items`` is a list.
    _write(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/state.py": "items = []\nlimit = 10\n",
            "app/service.py": """
                import app.state as state
                from app.state import limit

                def hit(x):
                    state.items.append(x)

                def bump():
                    state.limit += 1
            """,
        },
    )
    found = _check(tmp_path, "BL301", tmp_path / "app" / "service.py")
    assert [d.message for d in found] == [
        "Module-level `items` of `app.state` is mutated at run time by "
        "`state.items.append()` in `hit()`"
    ]


def test_bl301_registration_helpers_flagged_when_option_is_off(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "pyproject.toml": """
                [tool.backlint.options.mutable-global-state]
                allow-import-time-registration = false
            """,
            "app/__init__.py": "",
            "app/registry.py": """
                ROUTES = {}

                def route(fn):
                    ROUTES[fn.__name__] = fn
                    return fn
            """,
        },
    )
    assert len(_check(tmp_path, "BL301")) == 1


def test_bl301_registration_function_patterns_are_configurable(tmp_path: Path) -> None:
    source = """
        RUNNERS = {}

        def add_runner(runner):
            RUNNERS[runner.name] = runner

        def register(runner):
            RUNNERS[runner.name] = runner
    """
    _write(
        tmp_path,
        {
            "pyproject.toml": """
                [tool.backlint.options.mutable-global-state]
                registration-functions = ["add_*"]
            """,
            "app/__init__.py": "",
            "app/runners.py": source,
        },
    )
    found = _check(tmp_path, "BL301")
    assert [d.message.rsplit(" in ", 1)[-1] for d in found] == ["`register()`"]


def test_bl302_reported_at_the_assignment(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/db.py": """
                _db = None

                def get_db():
                    global _db
                    if _db is None:
                        _db = connect("sqlite://")
                    return _db
            """,
        },
    )
    [found] = _check(tmp_path, "BL302")
    assert found.message == (
        "`get_db()` creates the module-level singleton `_db` (declared `None` in `app.db`) "
        "with `global _db; _db = connect(…)`"
    )
    assert (found.span.start.line, found.span.start.column) == (6, 9)
    assert (found.span.end.line, found.span.end.column) == (6, 35)


def test_bl301_and_bl302_skip_test_code(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "tests/test_cache.py": """
                _seen = set()
                _client = None

                def test_it():
                    global _client
                    _client = make_client()
                    _seen.add(1)
            """,
        },
    )
    assert _check(tmp_path, "BL301") == []
    assert _check(tmp_path, "BL302") == []


def test_bl301_call_sites_are_followed_across_modules(tmp_path: Path) -> None:
    # ``add_plugin`` runs when plug-in modules are imported, ``load_cache`` from the
    # application factory: both at start-up. ``fill`` is also called by a view, so its
    # finding stays, once, where the container changes.
    _write(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/registry.py": """
                PLUGINS = {}
                CACHE = {}

                def add_plugin(cls):
                    PLUGINS[cls.__name__] = cls

                def load_cache():
                    CACHE.update(read_all())

                def fill(key):
                    CACHE[key] = 1

                fill("boot")
            """,
            "app/plugins/__init__.py": "",
            "app/plugins/csv.py": """
                from app.registry import add_plugin

                class CsvPlugin:
                    pass

                add_plugin(CsvPlugin)
            """,
            "app/factory.py": """
                from flask import Flask
                from app import registry

                def create_app():
                    app = Flask(__name__)
                    registry.load_cache()
                    return app
            """,
            "app/views.py": """
                from app.registry import fill

                def show(request):
                    fill(request.args["key"])
            """,
        },
    )
    assert [(d.path, d.message) for d in _check(tmp_path, "BL301")] == [
        (
            "app/registry.py",
            "Module-level dict `CACHE` (declared in `app.registry`) is mutated at run time by "
            "`CACHE[…] = …` in `fill()` (called in `app.views.show()`)",
        )
    ]


def test_bl301_callers_of_callers_are_followed(tmp_path: Path) -> None:
    # ``warm`` is only called by ``boot``, which only the lifespan calls.
    files = {
        "app/__init__.py": "",
        "app/cache.py": """
            WARM = {}

            def warm(key):
                WARM[key] = compute(key)

            def boot():
                for key in KEYS:
                    warm(key)
        """,
        "app/main.py": """
            from fastapi import FastAPI
            from app.cache import boot

            async def lifespan(api):
                boot()
                yield

            api = FastAPI(lifespan=lifespan)
        """,
    }
    _write(tmp_path, files)
    assert _check(tmp_path, "BL301") == []
    # Once a request handler calls ``boot`` too, ``warm`` runs at run time.
    _write(
        tmp_path,
        {
            "app/routes.py": """
                from app.cache import boot

                @router.post("/refresh")
                def refresh():
                    boot()
            """
        },
    )
    assert [d.message.split(" by ", 1)[-1] for d in _check(tmp_path, "BL301")] == [
        "`WARM[…] = …` in `warm()` (called in `app.cache.boot()`)"
    ]


def test_bl301_helper_called_only_by_tests_is_a_test_helper(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/flags.py": """
                FLAGS = {}

                def set_flag(name, value):
                    FLAGS[name] = value

                def record(name):
                    FLAGS[name] = True
            """,
            "app/metrics.py": """
                COUNTS = {}

                def count(name):
                    COUNTS[name] = COUNTS.get(name, 0) + 1
            """,
            "tests/test_flags.py": """
                from app.flags import record, set_flag
                from app.metrics import count

                def test_flag():
                    set_flag("beta", True)
                    record("beta")
                    count("beta")
            """,
            "app/jobs.py": """
                from app.flags import record

                @task
                def nightly():
                    record("nightly")
            """,
        },
    )
    # ``set_flag`` only serves the tests; ``record`` is also called by a task. ``count``
    # is only called by tests too, but its name does not say it serves them: its
    # production callers are unseen, not absent.
    assert [d.message.split(" by ", 1)[-1] for d in _check(tmp_path, "BL301")] == [
        "`FLAGS[…] = …` in `record()` (called in `app.jobs.nightly()`)",
        "`COUNTS[…] = …` in `count()`",
    ]


def test_bl301_function_re_exported_by_a_package_is_reported(tmp_path: Path) -> None:
    # Callers import it from the package: they are not followed, so the finding stays
    # even though the only call seen here is at module level.
    _write(
        tmp_path,
        {
            "app/__init__.py": "from app.registry import remember\n",
            "app/registry.py": """
                SEEN = []

                def remember(x):
                    SEEN.append(x)

                remember("boot")
            """,
        },
    )
    [found] = _check(tmp_path, "BL301")
    assert found.message.endswith("in `remember()`")
    # A package that imports the module, not the function, hides no caller.
    _write(tmp_path, {"app/__init__.py": "from app import registry\n"})
    assert _check(tmp_path, "BL301") == []


def test_bl302_reports_a_set_up_function_once_naming_each_global(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/db.py": """
                _engine = None
                _sessions = None

                def get_session():
                    global _engine, _sessions
                    if _engine is None:
                        _engine = create_engine(URL)
                        _sessions = sessionmaker(_engine)
                    return _sessions()

                def handle(request):
                    return get_session()
            """,
        },
    )
    [found] = _check(tmp_path, "BL302")
    assert found.message == (
        "`get_session()` creates the module-level singletons `_engine`, `_sessions` "
        "(declared `None` in `app.db`) with `global _engine, _sessions`: "
        "`_engine = create_engine(…)`, `_sessions = sessionmaker(…)` "
        "(called in `app.db.handle()`)"
    )
    assert found.span.start.line == 7


def test_bl302_worker_boot_and_shutdown_hooks_are_a_lifecycle(tmp_path: Path) -> None:
    # Dramatiq-style middleware: created when the worker boots, closed when it stops.
    # The lazy getter in the same project, called by request code, is still reported.
    _write(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/worker.py": """
                import dramatiq
                import httpx

                _http = None

                def setup_http():
                    global _http
                    _http = httpx.AsyncClient()

                async def close_http():
                    global _http
                    await _http.aclose()
                    _http = None

                class HTTPMiddleware(dramatiq.Middleware):
                    def before_worker_boot(self, broker, worker):
                        setup_http()
            """,
            "app/clients.py": """
                _client = None

                def get_client():
                    global _client
                    if _client is None:
                        _client = ApiClient(TOKEN)
                    return _client
            """,
            "app/views.py": """
                from app.clients import get_client

                def show(request):
                    return get_client().fetch(request.id)
            """,
        },
    )
    assert [d.message.split(" creates ")[0] for d in _check(tmp_path, "BL302")] == [
        "`get_client()`"
    ]


def test_functions_registered_as_hooks_in_another_module_are_start_up_code(
    tmp_path: Path,
) -> None:
    # Handed to start-up and shutdown registrations of the application module: they run
    # when the process starts or stops. The same function handed to a router would not.
    _write(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/cache.py": """
                WARM = {}
                _client = None

                def warm():
                    WARM.update(load_all())

                def connect_client():
                    global _client
                    _client = Client(URL)
            """,
            "app/main.py": """
                import atexit
                from fastapi import FastAPI
                from app import cache

                api = FastAPI(on_startup=[cache.warm])
                api.add_event_handler("startup", cache.connect_client)
            """,
        },
    )
    assert _check(tmp_path, "BL301") == []
    assert _check(tmp_path, "BL302") == []
    _write(
        tmp_path,
        {"app/routes.py": "from app import cache\n\nrouter.add_api_route('/warm', cache.warm)\n"},
    )
    assert [d.message.split(" by ", 1)[-1] for d in _check(tmp_path, "BL301")] == [
        "`WARM.update()` in `warm()` (referenced at module level in `app.routes`)"
    ]
