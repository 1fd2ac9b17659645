"""What starting backlint imports: ``--version``, ``backlint rule`` and everything a check
does before the first file is parsed run without libcst and networkx, and a run imports
only the rule modules it enables (the rule catalogue gives the rest).

Each test runs a fresh interpreter: the test process has imported everything already.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import ENV, write_files

from backlint.rules.catalogue import catalogue
from backlint.selection import enabled_codes

HEAVY = ("libcst", "networkx")

Completed = subprocess.CompletedProcess[str]


# Runs the command as the ``backlint`` script does, and records ``sys.modules`` as the
# process exits (``-X importtime`` misses modules loaded by ``importlib.import_module``).
_RECORDING = """
import atexit, json, sys
record = sys.argv[1]
atexit.register(lambda: open(record, "w").write(json.dumps(sorted(sys.modules))))
sys.argv = ["backlint", *sys.argv[2:]]
from backlint.__main__ import run
run()
"""


def _imported(*args: str, cwd: Path, code: str = _RECORDING) -> tuple[set[str], Completed]:
    """The modules a fresh interpreter had imported when ``backlint ARGS`` (or ``code``)
    ended, and how it ended."""
    record = cwd.parent / f"{cwd.name}-modules.json"
    completed = subprocess.run(
        [sys.executable, "-c", code, str(record), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=ENV,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )
    assert record.is_file(), completed.stderr[-2000:]
    modules = set(json.loads(record.read_text(encoding="utf-8")))
    assert "backlint.cli" in modules or code != _RECORDING, completed.stderr[-2000:]
    return modules, completed


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY)


@pytest.mark.parametrize(
    "args",
    [
        ("--version",),
        ("rule", "BL201"),
        ("rule", "swallowed-broad-except", "--output-format", "json"),
        ("rule", "--all"),
        ("rule", "--all", "--output-format", "json"),
        ("rule", "--all", "--output-format", "markdown"),
    ],
)
def test_version_and_rule_do_not_import_the_parser(tmp_path: Path, args: tuple[str, ...]) -> None:
    modules, completed = _imported(*args, cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert completed.stdout
    assert _heavy(modules) == []
    # Nor any rule module: their metadata comes from the catalogue.
    rule_modules = {info.module for info in catalogue().values()}
    assert sorted(rule_modules & modules) == []


# Everything ``check`` does before it parses a file: the CLI, settings (rule options
# validated), discovery, selection, and what reports and writes results.
_BEFORE_PARSING = """
import atexit, json, sys
from pathlib import Path

atexit.register(lambda: open(sys.argv[1], "w").write(json.dumps(sorted(sys.modules))))

import backlint.cli
from backlint import add_noqa, baseline
from backlint.application import CheckRequest, load_request_settings
from backlint.discovery import discover
from backlint.workspace import with_implicit_roots
from backlint.fixes import run
from backlint.output import FORMATS
from backlint.output.base import Report
from backlint.ruledocs import rule_text
from backlint.rules.catalogue import catalogue
from backlint.selection import enabled_codes

rules = catalogue()
request = CheckRequest(paths=(Path("."),), cwd=Path.cwd())
settings = load_request_settings(request, rules)
codes = enabled_codes(rules, settings.select, settings.extend_select, settings.ignore, True)
kinds = frozenset(kind for code in codes for kind in rules[code].text_kinds)
found = discover(request.paths, settings, kinds)
settings = with_implicit_roots(settings, found.files)
assert found.files, found
report = Report([], rules, settings.root, request.cwd, "0", {})
for render in FORMATS.values():
    render(report)
print(sorted(m for m in sys.modules if m.split(".")[0] in ("libcst", "networkx")))
"""


def test_a_run_answered_from_the_cache_imports_no_parser(tmp_path: Path) -> None:
    project = write_files(
        tmp_path / "project",
        {
            "pyproject.toml": "[tool.backlint]\npreview = true\n",
            "app/__init__.py": "",
            "app/a.py": "from app import b\n",
            "app/b.py": "from app import a\n",
        },
    )
    cold, first = _imported("check", "--output-format", "json", cwd=project)
    assert first.returncode == 1, first.stderr[-2000:]
    assert "libcst" in cold
    for args in (("check", "--output-format", "json"), ("check", "app/a.py")):
        modules, completed = _imported(*args, cwd=project)
        assert completed.returncode == 1, completed.stderr[-2000:]
        assert "BL411" in completed.stdout
        assert _heavy(modules) == []


def test_what_check_does_before_parsing_imports_no_parser(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "pyproject.toml": """
                [tool.backlint]
                select = ["BL"]
                ignore = ["BL731"]

                [tool.backlint.options.fat-route-handler]
                max-statements = 30

                [tool.pytest.ini_options]
                python_files = ["check_*.py"]
            """,
            "app/api/users.py": "def get_user():\n    return 1\n",
            "tests/check_users.py": "def test_user():\n    assert True\n",
        },
    )
    modules, completed = _imported(cwd=tmp_path, code=_BEFORE_PARSING)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert completed.stdout.strip() == "[]"
    assert _heavy(modules) == []


def test_a_run_imports_only_the_rule_modules_it_enables(tmp_path: Path) -> None:
    write_files(tmp_path, {"app/services/users.py": "try:\n    pass\nexcept:\n    pass\n"})
    modules, completed = _imported(
        "check", "--select", "BL201", "--output-format", "json", ".", cwd=tmp_path
    )
    assert completed.returncode == 1, completed.stderr[-2000:]
    assert {finding["code"] for finding in json.loads(completed.stdout)} == {"BL201"}
    rules = catalogue()
    enabled = enabled_codes(rules, ["BL201"], (), ())
    assert "BL201" in enabled and len(enabled) < len(rules) // 4
    rule_modules = {info.module for info in rules.values()}
    assert rule_modules & modules == {rules[code].module for code in enabled}
