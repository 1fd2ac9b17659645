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
