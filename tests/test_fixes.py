"""Automatic fixes: applying edits, the re-check loop, and the CLI flags around them.

Each rule's own fixes are checked on its examples (``Example.fixed`` in
``test_rule_examples.py``); here the fixes run through the real CLI as a subprocess.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import stat
from pathlib import Path

import libcst as cst
import pytest
from cli_helpers import backlint, write_files

from backlint.application import CheckRequest, CheckResult, run_check
from backlint.config import Settings
from backlint.diagnostics import Applicability, Diagnostic, Edit, Fix, Position, Severity, Span
from backlint.fixes import run as fix_run
from backlint.fixes.apply import apply_fixes
from backlint.fixes.run import fix_until_stable
from backlint.source import Source
from backlint.workspace import Workspace

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

SERVICE = """\
import time


async def poll(order_id: int) -> None:
    time.sleep(1)
    try:
        send(order_id)
    except:
        pass


def send(order_id: int):  # noqa: BL601, BL602
    print(order_id)


def notify(order_id: int):
    print(order_id)
"""

# What the safe fixes change: BL002 drops the unused code, BL602 adds ``-> None``.
SAFE_FIXED = SERVICE.replace("# noqa: BL601, BL602", "# noqa: BL602").replace(
    "def notify(order_id: int):", "def notify(order_id: int) -> None:"
)

# And the unsafe ones: BL501 awaits asyncio.sleep (with the import), BL201 catches Exception.
ALL_FIXED = "import asyncio\n" + SAFE_FIXED.replace(
    "    time.sleep(1)", "    await asyncio.sleep(1)"
).replace("    except:", "    except Exception:")


def diagnostic(*edits: Edit, code: str = "BL602") -> Diagnostic:
    return Diagnostic(
        path="app/x.py",
        span=Span(Position(1, 1), Position(1, 2)),
        code=code,
        name="name",
        message="message",
        severity=Severity.WARNING,
        fix=Fix("fix it", edits, Applicability.SAFE),
    )


def at(line: int, column: int, end_line: int | None = None, end_column: int | None = None) -> Span:
    return Span(
        Position(line, column),
        Position(
            line if end_line is None else end_line, column if end_column is None else end_column
        ),
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_files(tmp_path, {"app/services/orders.py": SERVICE, "pyproject.toml": ""})


def service_text(project: Path) -> str:
    return (project / "app/services/orders.py").read_text(encoding="utf-8")


# --- applying edits ------------------------------------------------------------------------


def test_non_overlapping_fixes_apply_together_and_overlapping_ones_wait() -> None:
    text = "a = 1\nb = 2\n"
    first = diagnostic(Edit(at(1, 5, 1, 6), "10"))
    second = diagnostic(Edit(at(2, 5, 2, 6), "20"))
    overlapping = diagnostic(Edit(at(1, 1, 1, 6), "c = 3"))
    applied = apply_fixes(text, [second, overlapping, first])
    # Fixes are taken in source order: the one starting first wins the overlap.
    assert applied.text == "c = 3\nb = 20\n"
    assert applied.fixed == (overlapping, second)


def test_an_identical_edit_of_two_fixes_is_applied_once() -> None:
    add_import = Edit(at(1, 1), "import asyncio\n")
    one = diagnostic(add_import, Edit(at(2, 1, 2, 11), "await asyncio.sleep"))
    two = diagnostic(add_import, Edit(at(3, 1, 3, 11), "await asyncio.sleep"))
    text = "import time\ntime.sleep(1)\ntime.sleep(2)\n"
    applied = apply_fixes(text, [one, two])
    assert applied.text == (
        "import asyncio\nimport time\nawait asyncio.sleep(1)\nawait asyncio.sleep(2)\n"
    )
    assert len(applied.fixed) == 2


def test_two_different_insertions_at_one_place_conflict() -> None:
    one = diagnostic(Edit(at(1, 1), "import a\n"))
    two = diagnostic(Edit(at(1, 1), "import b\n"))
    applied = apply_fixes("x = 1\n", [one, two])
    assert applied.text == "import a\nx = 1\n"
    assert applied.fixed == (one,)


def test_edits_keep_crlf_line_breaks_and_clamp_to_the_line() -> None:
    text = "def f():\r\n    pass\r\n"
    # A column past the end of line 1 means its end: the line break stays.
    applied = apply_fixes(text, [diagnostic(Edit(at(1, 8, 1, 40), " -> None:"))])
    assert applied.text == "def f() -> None:\r\n    pass\r\n"
    # Deleting a whole line reaches the start of the next one.
    deleted = apply_fixes(text, [diagnostic(Edit(at(1, 1, 2, 1), ""))])
    assert deleted.text == "    pass\r\n"


def test_a_fix_that_would_break_the_file_is_dropped_and_reported(tmp_path: Path) -> None:
    write_files(tmp_path, {"app/x.py": "def f():\n    pass\n"})
    request = CheckRequest(paths=(tmp_path,), cwd=tmp_path, jobs=1)
    first = run_check(request)
    broken = diagnostic(Edit(at(1, 9, 1, 9), " ("))  # ``def f(): (`` does not parse
    result = CheckResult(first.settings, first.report_root, [broken], sources=first.sources)
    outcome = fix_until_stable(request, result, unsafe=False)
    assert outcome.changed == {}
    assert outcome.fixed_count == 0
    (problem,) = outcome.problems
    assert problem.path == "app/x.py"
    assert "would not parse" in problem.message


def test_fixes_that_never_settle_stop_after_a_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_files(tmp_path, {"app/x.py": "x = 1\n"})
    request = CheckRequest(paths=(tmp_path,), cwd=tmp_path, jobs=1)
    first = run_check(request)
    # A rule whose fix brings its own finding back: every round adds a line.
    endless = diagnostic(Edit(at(1, 1), "y = 2\n"))

    def check_again(*args: object, **kwargs: object) -> CheckResult:
        return CheckResult(first.settings, first.report_root, [endless], sources=first.sources)

    monkeypatch.setattr(Workspace, "check", check_again)
    start = CheckResult(first.settings, first.report_root, [endless], sources=first.sources)
    outcome = fix_until_stable(request, start, unsafe=False)
    assert not outcome.converged
    assert outcome.fixed_count == fix_run.MAX_ROUNDS
    assert outcome.changed["app/x.py"].text.count("y = 2\n") == fix_run.MAX_ROUNDS


# --- the CLI -------------------------------------------------------------------------------


def test_fix_applies_safe_fixes_and_reports_what_remains(project: Path) -> None:
    completed = backlint(project, "check", "--fix", "--output-format", "concise")
    assert service_text(project) == SAFE_FIXED
    assert completed.returncode == 1
    lines = completed.stdout.splitlines()
    assert [line.split(" ")[1] for line in lines[:2]] == ["BL501", "BL201"]
    assert lines[2:] == [
        "Found 4 findings (2 fixed, 2 remaining).",
        "No fixes available (2 hidden fixes can be enabled with the `--unsafe-fixes` option).",
    ]
    # A second --fix has nothing left to do.
    again = backlint(project, "check", "--fix", "--output-format", "concise")
    assert service_text(project) == SAFE_FIXED
    assert "Found 2 findings." in again.stdout


def test_unsafe_fixes_need_the_flag(project: Path) -> None:
    completed = backlint(
        project,
        "check",
        "--fix",
        "--unsafe-fixes",
        "--include-low-confidence",
        "--output-format",
        "concise",
    )
    assert service_text(project) == ALL_FIXED
    # ``except Exception: pass`` is still a swallow: BL202 takes over from BL201 (with low
    # confidence: nothing shows what the swallowed failure breaks).
    assert completed.stdout.splitlines()[0].split(" ")[1] == "BL202"
    assert "(4 fixed, 1 remaining)" in completed.stdout
    ast.parse(service_text(project))
    cst.parse_module(service_text(project))


def test_unsafe_fixes_and_fix_can_come_from_the_configuration(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        "[tool.backlint]\nfix = true\nunsafe-fixes = true\n", encoding="utf-8"
    )
    backlint(project, "check")
    assert service_text(project) == ALL_FIXED


def test_no_fix_overrides_the_configuration(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.backlint]\nfix = true\n", encoding="utf-8")
    backlint(project, "check", "--no-fix")
    assert service_text(project) == SERVICE


def test_diff_prints_the_fixes_and_writes_nothing(project: Path) -> None:
    completed = backlint(project, "check", "--diff")
    assert service_text(project) == SERVICE
    assert completed.returncode == 1
    assert completed.stdout == (
        "--- a/app/services/orders.py\n"
        "+++ b/app/services/orders.py\n"
        "@@ -9,9 +9,9 @@\n"
        "         pass\n"
        " \n"
        " \n"
        "-def send(order_id: int):  # noqa: BL601, BL602\n"
        "+def send(order_id: int):  # noqa: BL602\n"
        "     print(order_id)\n"
        " \n"
        " \n"
        "-def notify(order_id: int):\n"
        "+def notify(order_id: int) -> None:\n"
        "     print(order_id)\n"
    )
    assert completed.stderr == "Would fix 2 findings.\n"
    clean = backlint(project, "check", "--diff", "--select", "BL702")
    assert (clean.returncode, clean.stdout) == (0, "")


def test_fix_only_reports_nothing_and_show_fixes_lists_the_fixes(project: Path) -> None:
    completed = backlint(project, "check", "--fix-only", "--unsafe-fixes", "--show-fixes")
    assert completed.returncode == 0
    assert completed.stdout == ""
    assert completed.stderr.splitlines() == [
        "Fixed 4 findings:",
        "- app/services/orders.py:",
        "    1 x BL002 (unused-suppression)",
        "    1 x BL201 (swallowed-bare-except)",
        "    1 x BL501 (blocking-call-in-async)",
        "    1 x BL602 (missing-return-annotation)",
    ]
    assert service_text(project) == ALL_FIXED


def test_exit_non_zero_on_fix(project: Path) -> None:
    completed = backlint(project, "check", "--fix-only")
    assert (completed.returncode, completed.stdout) == (0, "")
    assert completed.stderr == "Fixed 2 findings.\n"
    (project / "app/services/orders.py").write_text(SERVICE, encoding="utf-8")
    assert backlint(project, "check", "--fix-only", "--exit-non-zero-on-fix").returncode == 1
    # Nothing left to fix: the second run exits 0 again.
    assert backlint(project, "check", "--fix-only", "--exit-non-zero-on-fix").returncode == 0
    assert service_text(project) == SAFE_FIXED


def test_stdin_fix_prints_the_fixed_source(project: Path) -> None:
    completed = backlint(
        project,
        "check",
        "--fix",
        "--output-format",
        "concise",
        "--stdin-filename",
        "app/services/orders.py",
        "-",
        stdin=SERVICE,
    )
    assert completed.stdout == SAFE_FIXED
    assert "Found 4 findings (2 fixed, 2 remaining)." in completed.stderr
    assert service_text(project) == SERVICE  # stdin never writes the file it names


def test_stdin_diff_names_the_stdin_filename(project: Path) -> None:
    completed = backlint(
        project, "check", "--diff", "--stdin-filename", "app/services/orders.py", stdin=SERVICE
    )
    assert completed.returncode == 1
    assert completed.stdout.splitlines()[:2] == [
        "--- a/app/services/orders.py",
        "+++ b/app/services/orders.py",
    ]
    assert "+def notify(order_id: int) -> None:" in completed.stdout


def test_fix_keeps_encoding_line_breaks_and_permissions(tmp_path: Path) -> None:
    path = tmp_path / "app/services/legacy.py"
    path.parent.mkdir(parents=True)
    source = "# -*- coding: latin-1 -*-\r\ndef greet(name: str):\r\n    print('Grüße', name)\r\n"
    path.write_bytes(b"\xef\xbb\xbf" + source.replace("# -*- coding: latin-1 -*-", "# é").encode())
    os.chmod(path, 0o750)
    legacy = tmp_path / "app/services/latin.py"
    legacy.write_bytes(source.encode("latin-1"))
    backlint(tmp_path, "check", "--fix")
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig") == (
        "# é\r\ndef greet(name: str) -> None:\r\n    print('Grüße', name)\r\n"
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o750
    assert legacy.read_bytes().decode("latin-1") == source.replace("str):", "str) -> None:")
    assert not list(tmp_path.rglob("*.backlint-tmp"))


def test_fixing_cannot_be_combined_with_add_noqa(project: Path) -> None:
    completed = backlint(project, "check", "--fix", "--add-noqa")
    assert completed.returncode == 2
    assert "--add-noqa cannot be combined with fixing" in completed.stderr
    assert service_text(project) == SERVICE


def test_fix_removes_unused_codes_in_text_files(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "pyproject.toml": """
                [tool.pytest.ini_options]
                addopts = "-q"  # noqa: BL721
            """,
            "tests/test_x.py": "def test_x() -> None:\n    assert True\n",
        },
    )
    completed = backlint(tmp_path, "check", "--fix", "--output-format", "concise")
    assert completed.returncode == 0, completed.stdout
    assert (tmp_path / "pyproject.toml").read_text(encoding="utf-8") == (
        '[tool.pytest.ini_options]\naddopts = "-q"\n'
    )


def test_a_file_that_cannot_be_written_is_an_error(tmp_path: Path) -> None:
    gone = tmp_path / "gone" / "x.py"  # its folder was removed after the check
    outcome = fix_run.FixOutcome(CheckResult(Settings(root=tmp_path), tmp_path))
    outcome.changed["gone/x.py"] = fix_run.FixedFile(gone, "gone/x.py", Source("a", "utf-8"), "b")
    (problem,) = fix_run.write_fixed(outcome)
    assert problem.path == "gone/x.py"
    assert problem.message.startswith("cannot write the fixes")


# --- machine output ------------------------------------------------------------------------


def test_json_fix_has_ruffs_shape(project: Path) -> None:
    items = json.loads(backlint(project, "check", "--output-format", "json").stdout)
    (annotation,) = [item for item in items if item["code"] == "BL002"]
    assert annotation["fix"] == {
        "applicability": "safe",
        "edits": [
            {
                "content": "BL602",
                "end_location": {"row": 12, "column": 47},
                "location": {"row": 12, "column": 35},
            }
        ],
        "message": "Remove unused `BL601`",
    }
    (sleep,) = [item for item in items if item["code"] == "BL501"]
    assert sleep["fix"]["applicability"] == "unsafe"


def _apply_sarif(root: Path, sarif: dict[str, object]) -> dict[str, str]:
    """Apply every replacement of every result, per file, from the end backwards."""
    runs = sarif["runs"]
    assert isinstance(runs, list)
    changes: dict[str, list[tuple[dict[str, int], str]]] = {}
    for result in runs[0]["results"]:
        for fix in result.get("fixes", []):
            for change in fix["artifactChanges"]:
                uri = change["artifactLocation"]["uri"]
                for replacement in change["replacements"]:
                    region = replacement["deletedRegion"]
                    changes.setdefault(uri, []).append(
                        (region, replacement["insertedContent"]["text"])
                    )
    texts: dict[str, str] = {}
    for uri, replacements in changes.items():
        lines = (root / uri).read_text(encoding="utf-8").splitlines(keepends=True)

        def offset(line: int, column: int, lines: list[str] = lines) -> int:
            return sum(len(text) for text in lines[: line - 1]) + column - 1

        text = "".join(lines)
        ordered = sorted(
            replacements,
            key=lambda item: (item[0]["startLine"], item[0]["startColumn"]),
            reverse=True,
        )
        for region, inserted in ordered:
            start = offset(region["startLine"], region["startColumn"])
            end = offset(region["endLine"], region["endColumn"])
            text = text[:start] + inserted + text[end:]
        texts[uri] = text
    return texts


@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
def test_sarif_replacements_give_what_fix_writes(tmp_path: Path, unsafe: bool) -> None:
    project = tmp_path / "example_service"
    shutil.copytree(FIXTURES / "example_service", project)
    flags = ("--unsafe-fixes",) if unsafe else ()
    sarif = json.loads(backlint(project, "check", "--output-format", "sarif", *flags).stdout)
    expected = _apply_sarif(project, sarif)
    assert expected, "the example project offers fixes"
    backlint(project, "check", "--fix", *flags)
    for uri, text in expected.items():
        assert (project / uri).read_text(encoding="utf-8") == text, uri


# --- every fixture -------------------------------------------------------------------------


def test_fix_with_unsafe_fixes_over_every_fixture_keeps_every_file_parsing(
    tmp_path: Path,
) -> None:
    copy = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, copy)
    before = {path: path.read_bytes() for path in copy.rglob("*.py")}
    broken = set()
    for path, data in before.items():
        try:
            ast.parse(data)
        except SyntaxError:
            broken.add(path)  # the fixtures include a file with a syntax error (BL001)
    changed = 0
    for project in sorted(p for p in copy.iterdir() if p.is_dir()):
        completed = backlint(project, "check", "--fix", "--unsafe-fixes", "--show-fixes")
        assert completed.returncode in (0, 1), completed.stderr
        assert "would not parse" not in completed.stderr
        again = backlint(project, "check", "--fix", "--unsafe-fixes", "--show-fixes")
        assert "Fixed" not in again.stderr, again.stderr  # nothing left to fix
    for path, data in before.items():
        text = path.read_bytes()
        if text != data:
            changed += 1
        if path not in broken:
            ast.parse(text)
            cst.parse_module(text.decode("utf-8"))
    assert changed >= 3


def test_safe_decorators_keep_the_return_annotation_fix_safe(tmp_path: Path) -> None:
    service = """
        from app.metrics import timed

        @timed
        def notify(order_id: int):
            print(order_id)
    """
    write_files(tmp_path, {"app/services/orders.py": service, "pyproject.toml": ""})
    target = tmp_path / "app/services/orders.py"
    before = target.read_text(encoding="utf-8")
    # Any decorator could read annotations: by default the fix waits for --unsafe-fixes.
    backlint(tmp_path, "check", "--fix")
    assert target.read_text(encoding="utf-8") == before
    (tmp_path / "pyproject.toml").write_text(
        "[tool.backlint.options.missing-return-annotation]\n"
        'safe-decorators = ["app.metrics.timed"]\n',
        encoding="utf-8",
    )
    backlint(tmp_path, "check", "--fix")
    assert "def notify(order_id: int) -> None:" in target.read_text(encoding="utf-8")
