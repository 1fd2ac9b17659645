"""``--add-noqa`` through the CLI: comments added, merged, and the result quiet."""

from __future__ import annotations

import subprocess
from pathlib import Path

from cli_helpers import backlint


def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return backlint(root, "check", *args)


def test_add_noqa_appends_and_merges_then_the_run_is_clean(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.backlint]\n", encoding="utf-8")
    app = tmp_path / "app"
    app.mkdir()
    source = (
        "import time\n\n\n"
        "async def poll(jobs):  # noqa: E501\n"
        "    try:\n"
        "        time.sleep(1)\n"
        "    except:\n"
        "        pass\n"
        "    total = 1 + \\\n"
        "        2\n"
        "    return total\n"
    )
    (app / "jobs.py").write_text(source, encoding="utf-8")
    (app / "broken.py").write_text("def f(:\n    pass\n", encoding="utf-8")
    selection = ("--select", "BL201,BL501")
    completed = run(tmp_path, *selection, "--add-noqa")
    assert completed.returncode == 0
    assert "Added 2 noqa directives." in completed.stderr
    assert (app / "jobs.py").read_text(encoding="utf-8") == source.replace(
        "        time.sleep(1)\n", "        time.sleep(1)  # noqa: BL501\n"
    ).replace("    except:\n", "    except:  # noqa: BL201\n")
    assert (app / "broken.py").read_text(encoding="utf-8") == "def f(:\n    pass\n"
    # What is left is the file that cannot take comments because it does not parse.
    assert run(tmp_path, *selection, "--output-format", "concise").stdout == (
        "app/broken.py:1:7: BL001 Cannot analyze this file: syntax error\nFound 1 finding.\n"
    )


def test_add_noqa_merges_into_an_existing_noqa_comment(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.backlint]\n", encoding="utf-8")
    (tmp_path / "svc.py").write_text(
        "import time\n\n\nasync def wait():\n    time.sleep(1)  # noqa: E731\n",
        encoding="utf-8",
    )
    assert run(tmp_path, "--select", "BL501", "--add-noqa").returncode == 0
    assert "time.sleep(1)  # noqa: E731, BL501\n" in (tmp_path / "svc.py").read_text()
    assert run(tmp_path, "--select", "BL501").returncode == 0


def test_add_noqa_in_a_yaml_fixture_and_a_toml_configuration(tmp_path: Path) -> None:
    token = ".".join(
        [
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
            "eyJzdWIiOiJjYXJyaWVyLTQ0NzEiLCJpYXQiOjE3MzIwMDAwMDB9",
            "jS2ZtkK4HkN7Vd9qW1xR" + "3yLmT8pA5cE0uB6sF2gH4iO",
        ]
    )
    (tmp_path / "pyproject.toml").write_text(
        '[tool.backlint]\n\n[tool.pytest.ini_options]\naddopts = "--reruns 2"\n',
        encoding="utf-8",
    )
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "login.yaml").write_text(f"token: {token}\n", encoding="utf-8")
    selection = ("--select", "BL721,BL802")
    assert run(tmp_path, *selection, "--add-noqa").returncode == 0
    assert (tmp_path / "tests" / "login.yaml").read_text().endswith("  # noqa: BL802\n")
    assert 'addopts = "--reruns 2"  # noqa: BL721\n' in (tmp_path / "pyproject.toml").read_text()
    assert run(tmp_path, *selection).returncode == 0
