"""BL503 beyond its examples: how callees are found, options, partial runs, parse counts."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from cli_helpers import rule_findings
from cli_helpers import write_files as _write

from backlint.diagnostics import Diagnostic
from backlint.engine.loader import ModulesOnDisk
from backlint.index.facts import FileFacts
from backlint.rules.asyncio_rules.indirect_blocking_call import ReachesBlockingCall


def _check(root: Path, *paths: Path) -> list[Diagnostic]:
    return rule_findings(root, "BL503", *paths)


_REPO = """
import requests
from sqlalchemy.orm import Session


class BaseRepository:
    def fetch(self, key):
        return requests.get(f"/items/{key}").json()


class ItemRepository(BaseRepository):
    pass


def open_session(org: str) -> Session:
    return make_session(org)


def get_repository() -> ItemRepository:
    return ItemRepository()


repository = ItemRepository()
"""


def test_inherited_method_module_instance_and_factory(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "app/repo.py": _REPO,
            "app/routes.py": """
            from app import repo
            from app.repo import ItemRepository, get_repository

            async def one(key):
                return ItemRepository().fetch(key)

            async def two(key):
                return repo.repository.fetch(key)

            async def three(key):
                return get_repository().fetch(key)
            """,
        },
    )
    found = _check(tmp_path)
    assert [d.span.start.line for d in found] == [5, 8, 11]
    assert "via `app.repo.BaseRepository.fetch`" in found[0].message


def test_session_returned_by_a_project_function(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "app/repo.py": _REPO,
            "app/routes.py": """
            from app.repo import open_session

            def handler_for(org):
                session = open_session(org)
                return session.query(Plugin).all()

            async def events(org):
                return handler_for(org)
            """,
        },
    )
    (finding,) = _check(tmp_path)
    assert "`sqlalchemy.orm.Session.query`" in finding.message


def test_user_blocking_calls_option(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "pyproject.toml": """
            [tool.backlint.options.indirect-blocking-call-in-async]
            blocking-calls = ["vendor.sdk.fetch_* -> vendor.sdk.afetch"]
            """,
            "app/routes.py": """
            from vendor import sdk

            def refresh():
                return sdk.fetch_all()

            async def handler():
                return refresh()
            """,
        },
    )
    (finding,) = _check(tmp_path)
    assert "`vendor.sdk.fetch_all`" in finding.message


def test_callee_outside_the_run_is_read_from_disk(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "app/repo.py": _REPO,
            "app/routes.py": """
            from app.repo import BaseRepository

            async def one(repo: BaseRepository, key):
                return repo.fetch(key)
            """,
        },
    )
    (finding,) = _check(tmp_path, tmp_path / "app" / "routes.py")
    assert finding.path.endswith("routes.py")


def test_each_module_is_parsed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    handlers = "\n".join(
        f"async def h{i}(key):\n    return repo.fetch(key), get_repository().fetch(key)\n"
        for i in range(5)
    )
    _write(
        tmp_path,
        {
            "app/repo.py": _REPO,
            "app/routes.py": "from app.repo import get_repository, repository as repo\n\n"
            + handlers,
        },
    )
    parsed: list[str] = []
    original = ModulesOnDisk.parse

    def counting(self: ModulesOnDisk, facts: FileFacts) -> object:
        parsed.append(facts.module)
        return original(self, facts)

    monkeypatch.setattr(ModulesOnDisk, "parse", counting)
    assert len(_check(tmp_path)) == 10
    assert parsed.count("app.repo") == 1
    assert len(parsed) == len(set(parsed))


def test_condition_pickles() -> None:
    condition = ReachesBlockingCall("app.repo.get_repository", ("x -> y",))
    assert pickle.loads(pickle.dumps(condition)) == condition
