"""Non-Python files through the CLI: discovery, excludes, noqa comments, output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cli_helpers import backlint
from cli_helpers import write_files as write

# A signed JWT (header.payload.signature), built here so no literal token is committed.
JWT = ".".join(
    [
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
        "eyJzdWIiOiJjYXJyaWVyLTQ0NzEiLCJpYXQiOjE3MzIwMDAwMDB9",
        "jS2ZtkK4HkN7Vd9qW1xR" + "3yLmT8pA5cE0uB6sF2gH4iO",
    ]
)


def check(root: Path, *args: str) -> tuple[int, list[dict[str, Any]], str]:
    completed = backlint(root, "check", "--output-format", "json", *args)
    return completed.returncode, json.loads(completed.stdout or "[]"), completed.stderr


def found(items: list[dict[str, Any]], root: Path) -> list[tuple[str, int, str]]:
    return sorted(
        (Path(i["filename"]).relative_to(root).as_posix(), i["location"]["row"], i["code"])
        for i in items
    )


def test_fixture_findings_noqa_and_unused_noqa(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "pyproject.toml": "[tool.backlint]\n",
            "tests/cassettes/login.yaml": (
                f"headers:\n  Authorization: Bearer {JWT}\n"
                f"  X-Replay: {JWT}  # noqa: BL802\n"
                "  Accept: application/json  # noqa: BL802\n"
            ),
            "tests/data/users.json": json.dumps({"token": JWT}, indent=2) + "\n",
        },
    )
    status, items, _ = check(root, "--select", "BL802,BL002")
    assert status == 1
    assert found(items, root) == [
        ("tests/cassettes/login.yaml", 2, "BL802"),
        ("tests/cassettes/login.yaml", 4, "BL002"),
        ("tests/data/users.json", 2, "BL802"),
    ]


def test_excluded_fixtures_are_not_read(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "pyproject.toml": '[tool.backlint]\nextend-exclude = ["tests/cassettes/**"]\n',
            "tests/cassettes/login.yaml": f"Authorization: Bearer {JWT}\n",
        },
    )
    assert check(root, "--select", "BL802")[:2] == (0, [])


def test_data_files_passed_by_name_are_read_only_by_the_rules_that_want_them(
    tmp_path: Path,
) -> None:
    """pre-commit passes every changed file: a YAML file outside the test directories is
    not Python (no syntax error) and not a fixture (not read)."""
    root = write(
        tmp_path,
        {
            "pyproject.toml": "[tool.backlint]\n",
            "deploy/values.yaml": f"image: shop\ntoken: {JWT}\n",
            "tests/fixture.yaml": f"token: {JWT}\n",
        },
    )
    status, items, stderr = check(root, "deploy/values.yaml", "tests/fixture.yaml")
    assert found(items, root) == [("tests/fixture.yaml", 1, "BL802")]
    assert status == 1 and stderr == ""
    assert check(root, "--select", "BL201", "tests/fixture.yaml")[:2] == (0, [])


def test_rerun_options_in_pytest_configuration_and_their_noqa(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "pyproject.toml": (
                '[tool.backlint]\n\n[tool.pytest.ini_options]\naddopts = "-q --reruns 2"\n'
            ),
            "tox.ini": "[pytest]\naddopts = --retries 3  # noqa: BL721\n",
            "setup.cfg": "[tool:pytest]\naddopts = --max-runs 1\n",
        },
    )
    status, items, _ = check(root, "--select", "BL721,BL002")
    assert status == 1
    assert [(i["filename"].rsplit("/", 1)[-1], i["location"], i["code"]) for i in items] == [
        ("pyproject.toml", {"row": 4, "column": 15}, "BL721")
    ]
