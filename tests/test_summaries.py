"""Module summaries (``ProjectIndex.summary``): what the project pass reads of other
modules' bodies, kept between runs by a summary store so unchanged modules are not parsed."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from dataclasses import fields, is_dataclass
from pathlib import Path

import libcst as cst
import pytest
from cli_helpers import write_files

import backlint.engine.projectpass as projectpass
from backlint.application import CheckRequest, run_check
from backlint.diagnostics import Diagnostic
from backlint.engine.loader import ModulesOnDisk
from backlint.engine.projectpass import run_project_pass
from backlint.index.facts import FileFacts
from backlint.index.names import ImportTable
from backlint.index.project import MemorySummaryStore, ProjectIndex, options_fingerprint
from backlint.rules.base import Example, Rule
from backlint.rules.registry import all_rules

# Every kind of summary the rules ask for; the rule examples below must exercise each
# (router factories have a test of their own), so that the checks here cover them all.
KINDS = (
    "lifecycle/v1",
    "BL601-getattr-prefixes/v1",
    "BL811-fields/v1",
    "BL711-conftest-fixtures/v1",
    "BL503-bodies/v1",
    "BL903-migration/v1",
)


def _cross_module_examples() -> list[tuple[type[Rule], str, Example]]:
    return [
        (rule, f"{rule.code}-{kind}-{index}", example)
        for rule in all_rules().values()
        for kind in ("valid", "invalid")
        for index, example in enumerate(rule.examples(kind))
        if example.files
    ]


EXAMPLES = _cross_module_examples()


def _check(
    root: Path, code: str, store: MemorySummaryStore, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[Diagnostic], int]:
    """The findings of a run with ``store``, and how many modules it parsed for summaries."""

    def with_store(*args: object, **kwargs: object) -> object:
        return run_project_pass(*args, **{**kwargs, "summaries": store})  # type: ignore[arg-type]

    monkeypatch.setattr(projectpass, "run_project_pass", with_store)
    result = run_check(CheckRequest(paths=(root,), cwd=root, extend_select=(code,), jobs=1))
    assert not result.internal_errors, result.internal_errors
    assert result.project is not None
    return result.diagnostics, result.project.parses


def _write_example(root: Path, example: Example) -> None:
    for relative, source in [(example.path, example.source), *example.files]:
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source, encoding="utf-8")


def _parts(value: object) -> Iterator[object]:
    """``value`` and everything it holds."""
    yield value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _parts(key)
            yield from _parts(item)
    elif isinstance(value, (tuple, list, frozenset, set)):
        for item in value:
            yield from _parts(item)
    elif is_dataclass(value):
        for field in fields(value):
            yield from _parts(getattr(value, field.name))


def _plain(value: object) -> bool:
    """Plain data: builtins' scalars and containers, and dataclasses of backlint."""
    if value is None or isinstance(value, (str, int, float, bool, tuple, frozenset, dict)):
        return True
    return is_dataclass(value) and type(value).__module__.startswith("backlint.")


@pytest.mark.parametrize(("rule", "name", "example"), EXAMPLES, ids=[e[1] for e in EXAMPLES])
def test_a_warm_store_gives_the_same_findings_without_parsing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    rule: type[Rule],
    name: str,
    example: Example,
) -> None:
    # The cold run's findings are the example's expected ones (test_rule_examples.py).
    _write_example(tmp_path, example)
    store = MemorySummaryStore()
    cold, cold_parses = _check(tmp_path, rule.code, store, monkeypatch)
    warm, warm_parses = _check(tmp_path, rule.code, store, monkeypatch)
    assert warm == cold
    assert warm_parses == 0
    assert cold_parses <= len({path for path, _ in store.values})
    for value in store.values.values():
        assert all(_plain(part) for part in _parts(value)), value
        assert pickle.loads(pickle.dumps(value)) == value


def test_the_examples_exercise_every_kind_of_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: set[str] = set()
    for index, (rule, _, example) in enumerate(EXAMPLES):
        root = tmp_path / str(index)
        _write_example(root, example)
        store = MemorySummaryStore()
        _check(root, rule.code, store, monkeypatch)
        seen.update(kind for _, kind in store.values)
        if {kind.split("/v1")[0] + "/v1" for kind in seen} == set(KINDS):
            break
    assert {kind.split("/v1")[0] + "/v1" for kind in seen} == set(KINDS)


_ROUTER_KIT = """
from fastapi import APIRouter as _APIRouter

def get_api_router_class(route_class) -> type[_APIRouter]:
    class _Custom(_APIRouter):
        pass
    return _Custom

def make_router():
    return _APIRouter(prefix="/v1")
"""
_ENDPOINTS = """
from app.kit import get_api_router_class, make_router
APIRouter = get_api_router_class(object)
router = APIRouter(prefix="/orders")
built = make_router()

@router.get("/a")
def annotated(): ...

@built.post("/c")
def returned_instance(): ...
"""


def test_router_factories_are_read_from_summaries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {"app/__init__.py": "", "app/kit.py": _ROUTER_KIT, "app/endpoints.py": _ENDPOINTS}
    write_files(tmp_path, files)
    store = MemorySummaryStore()

    def with_store(*args: object, **kwargs: object) -> object:
        return run_project_pass(*args, **{**kwargs, "summaries": store})  # type: ignore[arg-type]

    monkeypatch.setattr(projectpass, "run_project_pass", with_store)
    result = run_check(CheckRequest(paths=(tmp_path,), cwd=tmp_path, jobs=1))
    assert result.project is not None
    handlers = {route.handler for _, route in result.project.routes}
    assert handlers == {"annotated", "returned_instance"}
    assert ("app/kit.py", "router-factories/v1") in store.values

    def no_parse(facts: FileFacts) -> None:
        raise AssertionError(f"parsed {facts.path}")

    warm = ProjectIndex(result.project.files.values(), parser=no_parse, summaries=store)
    assert {route.handler for _, route in warm.routes} == handlers


def _facts(path: str, module: str) -> FileFacts:
    return FileFacts(path, module, False, False, frozenset(), (), (), (), 1)


def _project(
    sources: dict[str, str], store: MemorySummaryStore | None = None
) -> tuple[ProjectIndex, list[str]]:
    """A project of in-memory modules (path → source); the list records each parse."""
    parsed: list[str] = []

    def parse(facts: FileFacts) -> tuple[cst.Module, ImportTable] | None:
        parsed.append(facts.path)
        try:
            tree = cst.parse_module(sources[facts.path])
        except cst.ParserSyntaxError:
            return None
        return tree, ImportTable(facts.module, {}, frozenset())

    files = [_facts(path, path.removesuffix(".py").replace("/", ".")) for path in sources]
    return ProjectIndex(files, parser=parse, summaries=store), parsed


def _function_names(tree: cst.Module, _: ImportTable) -> tuple[str, ...]:
    return tuple(s.name.value for s in tree.body if isinstance(s, cst.FunctionDef))


def test_a_summary_is_computed_once_per_run_and_module() -> None:
    project, parsed = _project({"app/a.py": "def f(): pass\ndef g(): pass\n"})
    assert project.summary("app.a", "names/v1", _function_names) == ("f", "g")
    assert project.summary("app.a", "names/v1", _function_names) == ("f", "g")
    assert project.summary("app.a", "count/v1", lambda tree, _: len(tree.body)) == 2
    assert parsed == ["app/a.py"]  # one parse serves both kinds


def test_a_summary_is_saved_by_path_and_kind_and_loaded_instead_of_parsing() -> None:
    store = MemorySummaryStore()
    first, parsed = _project({"app/a.py": "def f(): pass\n"}, store)
    first.summary("app.a", "names/v1", _function_names)
    assert store.values == {("app/a.py", "names/v1"): ("f",)}
    assert parsed == ["app/a.py"]
    second, parsed_again = _project({"app/a.py": "def f(): pass\n"}, store)
    assert second.summary("app.a", "names/v1", _function_names) == ("f",)
    assert parsed_again == []
    assert second.parses == 0


def test_no_summary_for_a_module_outside_the_project_or_one_that_does_not_parse() -> None:
    store = MemorySummaryStore()
    project, parsed = _project({"app/a.py": "def f(:\n"}, store)
    assert project.summary("app.a", "names/v1", _function_names) is None
    assert project.summary("app.a", "names/v1", _function_names) is None
    assert project.summary("requests", "names/v1", _function_names) is None
    assert parsed == ["app/a.py"]
    assert store.loads == 1  # only the project module was looked up
    assert store.values == {}  # nothing saved: a later run tries again


def test_modules_on_disk_parse_a_project_file_for_a_summary(tmp_path: Path) -> None:
    write_files(tmp_path, {"app/a.py": "def f(:\n", "app/b.py": "from os import path\n"})
    result = run_check(CheckRequest(paths=(tmp_path,), cwd=tmp_path, jobs=1))
    assert result.project is not None and result.settings is not None
    store = MemorySummaryStore()
    project = ProjectIndex(
        result.project.files.values(), parser=ModulesOnDisk(result.settings).parse, summaries=store
    )
    assert project.summary("app.a", "names/v1", _function_names) is None
    imported = project.summary("app.b", "table/v1", lambda _, table: table.imported("path"))
    assert imported == "os.path"
    assert set(store.values) == {("app/b.py", "table/v1")}


def test_a_summary_does_not_depend_on_other_modules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same module gives the same summaries whatever else the project holds: the
    store keys them by the module's own file."""
    service = (
        "import time\n\ndef load(key):\n    time.sleep(1)\n    return key\n\n"
        "def create_app(app):\n    app.on_startup.append(load)\n"
    )
    caller = "from app.service import load\n\nasync def handler(key):\n    return load(key)\n"
    alone = tmp_path / "alone"
    write_files(alone, {"app/__init__.py": "", "app/service.py": service, "app/views.py": caller})
    other = tmp_path / "other"
    write_files(
        other,
        {
            "app/__init__.py": "",
            "app/service.py": service,
            "app/views.py": caller,
            "app/more.py": "from app.service import load\n\nload(1)\n",
        },
    )
    stores = []
    for root in (alone, other):
        store = MemorySummaryStore()
        _check(root, "BL503", store, monkeypatch)
        stores.append(store)
    mine = {key: value for key, value in stores[0].values.items() if key[0] == "app/service.py"}
    assert mine
    assert all(stores[1].values[key] == value for key, value in mine.items())


def test_options_fingerprint_tells_option_values_apart() -> None:
    assert options_fingerprint(("a", "b")) == options_fingerprint(["a", "b"])
    assert options_fingerprint(("a", "b")) != options_fingerprint(("a,b",))
    assert options_fingerprint(("ab",)) != options_fingerprint(("a", "b"))
