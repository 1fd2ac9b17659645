"""``check --new-from-rev REV``: findings new since a git revision, on real repositories."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from cli_helpers import backlint, write_files
from click.testing import CliRunner
from git_helpers import commit_all, git

from backlint.application import CheckRequest, run_check
from backlint.cli import main
from backlint.config import ConfigError
from backlint.diagnostics import Diagnostic

SWALLOW = """def load():
    try:
        return 1
    except:
        pass
"""


def _check(root: Path, revision: str | None = "HEAD", *codes: str) -> list[Diagnostic]:
    request = CheckRequest(
        paths=(root,),
        cwd=root,
        select=codes or ("BL201", "BL411"),
        new_from_rev=revision,
    )
    return run_check(request).diagnostics


def _where(found: list[Diagnostic]) -> list[tuple[str, str, int]]:
    return [(d.code, d.path, d.span.start.line) for d in found]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    write_files(
        tmp_path,
        {
            "pyproject.toml": "",
            "app/__init__.py": "",
            "app/a.py": "from app import b\n" + SWALLOW,
            "app/b.py": "X = 1\n",
            "app/c.py": "Y = 2\n",
        },
    )
    commit_all(tmp_path)
    return tmp_path


def test_findings_whose_lines_only_moved_are_not_new(repo: Path) -> None:
    source = (repo / "app/a.py").read_text()
    (repo / "app/a.py").write_text("import os\nimport sys\n\n" + source)
    assert _where(_check(repo, None)) == [("BL201", "app/a.py", 8)]
    assert _check(repo) == []


def test_a_second_identical_finding_in_the_same_file_is_new(repo: Path) -> None:
    source = (repo / "app/a.py").read_text()
    (repo / "app/a.py").write_text(source + SWALLOW.replace("load", "save"))
    assert _where(_check(repo)) == [("BL201", "app/a.py", 10)]


def test_a_finding_the_change_caused_in_an_unchanged_file_is_new(repo: Path) -> None:
    # Only b.py changes, but its new import closes a cycle reported in a.py too.
    (repo / "app/b.py").write_text("from app import a\nX = 1\n")
    assert _where(_check(repo)) == [("BL411", "app/a.py", 1)]


def test_committed_changes_since_an_older_revision_count(repo: Path) -> None:
    base = git(repo, "rev-parse", "HEAD")
    (repo / "app/c.py").write_text(SWALLOW)
    commit_all(repo, "second")
    assert _check(repo) == []
    assert _where(_check(repo, base)) == [("BL201", "app/c.py", 4)]


def test_a_renamed_file_keeps_its_findings_matched(repo: Path) -> None:
    git(repo, "mv", "app/a.py", "app/loader.py")
    assert _where(_check(repo, None)) == [("BL201", "app/loader.py", 5)]
    assert _check(repo) == []


def test_an_untracked_file_is_part_of_the_change(repo: Path) -> None:
    (repo / "app/new.py").write_text(SWALLOW)
    assert _where(_check(repo)) == [("BL201", "app/new.py", 4)]


def test_a_project_in_a_subfolder_of_the_repository(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {"README": "", "service/pyproject.toml": "", "service/app/a.py": SWALLOW},
    )
    commit_all(tmp_path)
    service = tmp_path / "service"
    (service / "app/a.py").write_text("import os\n" + (service / "app/a.py").read_text())
    (service / "app/b.py").write_text(SWALLOW)
    assert _where(_check(service)) == [("BL201", "app/b.py", 4)]


def test_the_revision_can_come_from_the_configuration(repo: Path) -> None:
    (repo / "app/c.py").write_text(SWALLOW)
    commit_all(repo, "second")
    (repo / "pyproject.toml").write_text('[tool.backlint]\nnew-from-rev = "HEAD~1"\n')
    assert _where(_check(repo, None)) == [("BL201", "app/c.py", 4)]


def test_outside_a_repository_is_an_error(tmp_path: Path) -> None:
    write_files(tmp_path, {"pyproject.toml": "", "app/a.py": SWALLOW})
    with pytest.raises(ConfigError, match="needs a git repository"):
        _check(tmp_path)


@pytest.mark.parametrize("revision", ["no-such-branch", "--output=x", "HEAD~5"])
def test_an_unknown_revision_is_an_error(repo: Path, revision: str) -> None:
    with pytest.raises(ConfigError, match=r"unknown revision|not a revision"):
        _check(repo, revision)


def test_the_working_tree_is_left_alone(repo: Path) -> None:
    (repo / "app/b.py").write_text("X = 2\n")
    before = git(repo, "status", "--porcelain")
    _check(repo)
    assert git(repo, "status", "--porcelain") == before
    assert (repo / "app/b.py").read_text() == "X = 2\n"


def test_the_base_is_read_from_the_persistent_cache(repo: Path) -> None:
    cache = repo / ".cache"
    request = CheckRequest(
        paths=(repo,), cwd=repo, select=("BL201",), use_cache=True, cache_dir=cache
    )
    run_check(request)  # the working tree equals HEAD: the base's entries are all there
    before = {path.relative_to(cache) for path in cache.rglob("*") if path.is_file()}
    run_check(replace(request, new_from_rev="HEAD"))
    after = {path.relative_to(cache) for path in cache.rglob("*") if path.is_file()}
    # The base added no file entry and no stat manifest; only the change run's outcome.
    assert before <= after
    assert [path.parent.name for path in after - before] == ["outcomes"]


def test_the_cli_exits_2_with_one_line_for_a_bad_revision(repo: Path) -> None:
    result = CliRunner().invoke(main, ["check", "--new-from-rev", "nope", str(repo)])
    assert result.exit_code == 2
    assert "unknown revision `nope`" in result.output


def test_the_cli_reports_only_new_findings(repo: Path) -> None:
    (repo / "app/c.py").write_text(SWALLOW)
    completed = backlint(repo, "check", "--new-from-rev", "HEAD", "--output-format", "concise")
    assert completed.returncode == 1, completed.stderr
    assert completed.stdout.splitlines()[0].startswith("app/c.py:4:5: BL201")
    assert "app/a.py" not in completed.stdout


def test_a_clone_that_lacks_some_base_blobs_still_works(repo: Path) -> None:
    # A mirrored or partial clone: the base's b.py object is gone from the repository.
    blob = git(repo, "rev-parse", "HEAD:app/b.py")
    (repo / ".git/objects" / blob[:2] / blob[2:]).unlink()
    (repo / "app/c.py").write_text(SWALLOW)
    assert _where(_check(repo)) == [("BL201", "app/c.py", 4)]


def test_generated_globs_and_markers_from_the_configuration(repo: Path) -> None:
    write_files(
        repo,
        {
            "app/pets_pb2.py": "X = 1\n",
            "app/client.py": "# produced by sdkgen\nY = 1\n",
        },
    )
    commit_all(repo, "generated files")
    (repo / "pyproject.toml").write_text(
        "[tool.backlint.options.generated-code-edited]\n"
        'generated-globs = ["*_pb2.py"]\n'
        'generated-markers = ["produced by sdkgen"]\n'
    )
    (repo / "app/pets_pb2.py").write_text("X = 2\n")
    (repo / "app/client.py").write_text("# produced by sdkgen\nY = 2\n")
    found = _check(repo, "HEAD", "BL011")
    assert [(d.path, d.span.start.line) for d in found] == [
        ("app/client.py", 1),
        ("app/pets_pb2.py", 1),
    ]
    assert "`produced by sdkgen` on line 1" in found[0].message
    assert found[1].message.endswith("and was edited since `HEAD`")


def test_contract_rules_see_the_base_when_its_outcome_is_cached(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "pyproject.toml": "",
            "app/__init__.py": "",
            "app/routes.py": """
                from fastapi import APIRouter

                router = APIRouter()


                @router.get("/items/{item_id}")
                def read_item(item_id: int) -> dict[str, int]:
                    return {"id": item_id}
            """,
        },
    )
    commit_all(tmp_path)
    request = CheckRequest(
        paths=(tmp_path,),
        cwd=tmp_path,
        select=("BL012",),
        use_cache=True,
        cache_dir=tmp_path / ".cache",
    )
    run_check(request)  # the base's outcome is cached now: its check builds no index
    routes = tmp_path / "app/routes.py"
    routes.write_text(routes.read_text().replace('"/items/{item_id}"', '"/v2/items/{item_id}"'))
    found = run_check(replace(request, new_from_rev="HEAD")).diagnostics
    assert [(d.code, d.path) for d in found] == [("BL012", "app/routes.py")]
    assert "/v2/items/{item_id}" in found[0].message


def test_routes_of_a_head_file_that_does_not_parse_are_not_removed(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "pyproject.toml": "",
            "app/__init__.py": "",
            "app/main.py": """
                from fastapi import FastAPI

                from app import routes

                app = FastAPI()
                app.include_router(routes.router, prefix="/api")
            """,
            "app/routes.py": """
                from fastapi import APIRouter

                router = APIRouter()


                @router.get("/items/{item_id}")
                def read_item(item_id: int) -> dict[str, int]:
                    return {"id": item_id}
            """,
        },
    )
    commit_all(tmp_path)
    routes = tmp_path / "app/routes.py"
    routes.write_text(routes.read_text() + "\ndef broken(:\n    pass\n")
    found = _check(tmp_path, "HEAD", "BL001", "BL012")
    assert [(d.code, d.path) for d in found] == [("BL001", "app/routes.py")]
    # Deleted, the same file's route is removed, and reported where it was mounted.
    routes.unlink()
    found = _check(tmp_path, "HEAD", "BL001", "BL012")
    assert [(d.code, d.path) for d in found] == [("BL012", "app/main.py")]
