"""End-to-end tests: the real CLI as a subprocess, on the example service and on small
projects written into ``tmp_path``.

The golden files in ``tests/golden/example/`` hold ``backlint check`` on
``fixtures/example_service`` in every output format (run from that directory, absolute paths
replaced by ``<EXAMPLE>``). After an intended change, rewrite them with
``BACKLINT_UPDATE_GOLDEN=1 pytest tests/test_cli_e2e.py`` and review the diff.

Every invocation goes through ``run_backlint``, which also checks that neither stream holds
a traceback.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from cli_helpers import QUIET_ENVIRONMENT, every_rule

from backlint import __version__
from backlint.rules.registry import all_rules

HERE = Path(__file__).parent
REPO = HERE.parent
EXAMPLE = REPO / "fixtures" / "example_service"
GOLDEN = HERE / "golden" / "example"
DATA = HERE / "data"
UPDATE_GOLDEN = os.environ.get("BACKLINT_UPDATE_GOLDEN") == "1"
PLACEHOLDER = "<EXAMPLE>"

FORMATS = ("full", "concise", "json", "json-lines", "sarif", "github", "gitlab", "markdown")
JOBS = ("1", "2")
# The rules the example is written to trigger; other rules may fire too as they are added.
TARGETED = (
    "BL001",
    "BL002",
    "BL201",
    "BL202",
    "BL411",
    "BL412",
    "BL501",
    "BL601",
    "BL602",
)

# A generous bound so that a hang (a symlink loop, a stuck worker pool) fails the test
# instead of blocking the suite; it is not a performance assertion.
TIMEOUT = 120
ENV = {
    **QUIET_ENVIRONMENT,
    "PYTHONIOENCODING": "utf-8",
    # ``python -m`` would put the working directory first on sys.path, so a project
    # module named like a dependency could shadow it; the console script never does that.
    "PYTHONSAFEPATH": "1",
}

BARE_EXCEPT = "try:\n    sync()\nexcept:\n    pass\n"
CLEAN = 'def total(items: list[int]) -> int:\n    """Sum of the items."""\n    return sum(items)\n'
SRC_DOT = '[tool.backlint]\nsrc = ["."]\n'


# --- helpers -------------------------------------------------------------------------------


def run_backlint(
    *args: str | os.PathLike[str], cwd: Path, stdin: str | None = None, timeout: int = TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """``python -m backlint ARGS`` in ``cwd``; stdin is empty unless given."""
    extra: dict[str, Any] = {"input": stdin} if stdin is not None else {"stdin": subprocess.DEVNULL}
    completed = subprocess.run(
        [sys.executable, "-m", "backlint", *every_rule([os.fspath(arg) for arg in args])],
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=ENV,
        timeout=timeout,
        check=False,
        **extra,
    )
    for stream in (completed.stdout, completed.stderr):
        assert "Traceback" not in stream, stream
    return completed


def write_project(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """Write ``files`` (relative path → text or bytes) under ``root``."""
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def findings(stdout: str) -> list[dict[str, Any]]:
    items = json.loads(stdout)
    assert isinstance(items, list)
    return items


def check_json(
    *args: str | os.PathLike[str], cwd: Path, stdin: str | None = None
) -> list[dict[str, Any]]:
    completed = run_backlint("check", "--output-format", "json", *args, cwd=cwd, stdin=stdin)
    assert completed.returncode in (0, 1), completed.stderr
    return findings(completed.stdout)


def keys(items: Iterable[dict[str, Any]], root: Path) -> list[tuple[str, int, str]]:
    """``(path relative to root, row, code)`` of each finding, sorted, duplicates kept."""
    return sorted(
        (Path(item["filename"]).relative_to(root).as_posix(), item["location"]["row"], item["code"])
        for item in items
    )


def codes(items: Iterable[dict[str, Any]]) -> set[str]:
    return {item["code"] for item in items}


def line_of(path: Path, needle: str) -> tuple[int, str]:
    """The 1-based number and text of the only line of ``path`` containing ``needle``."""
    matches = [
        (number, text)
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if needle in text
    ]
    assert len(matches) == 1, f"{needle!r} occurs {len(matches)} times in {path}"
    return matches[0]


def normalise(text: str) -> str:
    """Example output with the machine-specific absolute path replaced."""
    return text.replace(str(EXAMPLE.resolve()), PLACEHOLDER)


# --- the example service ------------------------------------------------------------------


ExampleRuns = dict[tuple[str, ...], subprocess.CompletedProcess[str]]

TARGETED_SELECT = ("--select", ",".join(TARGETED))
# Selections run on the example (JSON, one job); tests look them up by these arguments.
SELECTIONS: tuple[tuple[str, ...], ...] = (
    TARGETED_SELECT,
    ("--select", "BL411"),
    ("--select", "BL201"),
    ("--select", "swallowed-broad-except"),
    ("--select", "BL201,swallowed-broad-except"),
    ("--select", "BL201", "--select", "BL411"),
    ("--select", "BL2", "--ignore", "BL202"),
    ("--select", "BL20", "--ignore", "BL2"),
    ("--select", "import-cycle", "--extend-select", "BL201"),
    ("--select", "BL201", "--ignore", "syntax-error"),
    ("--select", "BL6"),
    ("--select", "ALL"),
    ("--ignore", "BL6"),
    ("--ignore", "missing-param-annotation,BL2"),
    ("--no-preview",),
)


def format_args(fmt: str, jobs: str = "2") -> tuple[str, ...]:
    return ("--output-format", fmt, "--jobs", jobs)


def selection_args(selection: tuple[str, ...]) -> tuple[str, ...]:
    return (*format_args("json", "1"), *selection)


@pytest.fixture(scope="session")
def example_runs() -> ExampleRuns:
    """Every ``check`` of the example the tests need, keyed by its arguments.

    They run up front and in parallel: the cost of a run is mostly interpreter start-up.
    """
    variants = [format_args(fmt, jobs) for fmt in FORMATS for jobs in JOBS]
    variants += [selection_args(selection) for selection in SELECTIONS]

    def run(args: tuple[str, ...]) -> tuple[tuple[str, ...], subprocess.CompletedProcess[str]]:
        return args, run_backlint("check", *args, cwd=EXAMPLE)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return dict(pool.map(run, variants))


def example_output(runs: ExampleRuns, fmt: str, jobs: str = "2") -> str:
    completed = runs[format_args(fmt, jobs)]
    assert completed.returncode == 1, completed.stderr
    return completed.stdout


def example_json(runs: ExampleRuns, *selection: str) -> list[dict[str, Any]]:
    completed = runs[selection_args(selection)]
    assert completed.returncode in (0, 1), completed.stderr
    return findings(completed.stdout)


@pytest.mark.parametrize("fmt", FORMATS)
def test_example_golden(example_runs: ExampleRuns, fmt: str) -> None:
    # With two jobs, so that the golden files also cover the parallel path.
    completed = example_runs[format_args(fmt)]
    assert completed.returncode == 1, completed.stderr
    assert completed.stderr == ""
    actual = normalise(completed.stdout)
    path = GOLDEN / f"{fmt}.txt"
    if UPDATE_GOLDEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual.encode("utf-8"))
    assert path.exists(), f"missing {path}: run with BACKLINT_UPDATE_GOLDEN=1"
    assert actual == path.read_bytes().decode("utf-8")


@pytest.mark.parametrize("fmt", FORMATS)
def test_example_output_is_identical_for_one_and_two_jobs(
    example_runs: ExampleRuns, fmt: str
) -> None:
    serial = example_output(example_runs, fmt, "1")
    assert serial
    assert example_output(example_runs, fmt, "2") == serial


def test_example_json_filenames_are_absolute_and_normalised_in_the_golden(
    example_runs: ExampleRuns,
) -> None:
    items = findings(example_output(example_runs, "json"))
    for item in items:
        assert Path(item["filename"]).is_absolute()
        assert Path(item["filename"]).is_relative_to(EXAMPLE.resolve())
        for related in item["related"]:
            assert Path(related["filename"]).is_absolute()
    assert str(EXAMPLE.resolve()) not in normalise(example_output(example_runs, "json"))
    assert f'"filename": "{PLACEHOLDER}/app/' in normalise(example_output(example_runs, "json"))


# (code, file, a text that occurs on exactly one line of it, the text the finding starts
# at on that line, or None to accept any column)
EXAMPLE_FINDINGS: tuple[tuple[str, str, str, str | None], ...] = (
    ("BL001", "app/legacy/broken_import.py", "import export_orders,", None),
    ("BL002", "app/notifications/service.py", "# noqa: BL202", "BL202"),
    ("BL201", "app/billing/service.py", "except:", "except"),
    # The log-only handler of app/orders/service.py is low confidence: not shown.
    ("BL202", "app/billing/service.py", "except Exception:", "except"),
    # One finding per cycle, at its first import by path and line.
    ("BL411", "app/billing/service.py", "from app.orders.service import", "from"),
    ("BL412", "app/notifications/service.py", "    from app.orders.service import", "from"),
    ("BL501", "app/orders/routes.py", "order = db.get(Order, order_id)", "db.get"),
    ("BL501", "app/orders/routes.py", "response = requests.get(url", "requests.get"),
    ("BL501", "app/orders/routes.py", "time.sleep(", "time.sleep"),
    ("BL501", "app/orders/routes.py", '"Café — €"', "requests.get"),
    ("BL601", "app/billing/service.py", "def refund(", "amount"),
    ("BL601", "app/billing/service.py", "def sync_invoices(", "orders"),
    ("BL601", "app/orders/repository.py", "def list_for_customer(", "customer_id"),
    ("BL601", "app/orders/repository.py", "def mark_paid(", "payment_ref"),
    ("BL601", "app/orders/routes.py", "def list_orders(", "limit"),
    ("BL601", "app/orders/service.py", "def cancel(", "reason"),
    ("BL602", "app/billing/service.py", "def sync_invoices(", "sync_invoices"),
    ("BL602", "app/orders/repository.py", "def list_for_customer(", "list_for_customer"),
    ("BL602", "app/orders/repository.py", "def mark_paid(", "mark_paid"),
    ("BL602", "app/orders/service.py", "def cancel(", "cancel"),
)


def test_example_fires_each_targeted_rule_where_intended_and_nowhere_else(
    example_runs: ExampleRuns,
) -> None:
    # Restricted to the targeted rules so that rules added later only change the goldens.
    items = example_json(example_runs, *TARGETED_SELECT)
    root = EXAMPLE.resolve()
    expected = set()
    columns = {}
    for code, relative, needle, start in EXAMPLE_FINDINGS:
        row, text = line_of(EXAMPLE / relative, needle)
        expected.add((relative, row, code))
        if start is not None:
            columns[relative, row, code] = text.index(start) + 1
    assert keys(items, root) == sorted(expected)
    assert len(expected) == len(EXAMPLE_FINDINGS)
    assert codes(items) == set(TARGETED)
    for item in items:
        key = (
            Path(item["filename"]).relative_to(root).as_posix(),
            item["location"]["row"],
            item["code"],
        )
        if key in columns:
            assert item["location"]["column"] == columns[key], item
    # Files with good patterns only (used noqa, handled errors, to_thread, per-file ignore).
    quiet = {"app/main.py", "app/core/db.py", "app/legacy/csv_export.py", "tests/test_orders.py"}
    assert not {path for path, _, _ in keys(items, root)} & quiet


def test_example_cycle_lists_the_other_import_as_related_location(
    example_runs: ExampleRuns,
) -> None:
    items = [i for i in example_json(example_runs, "--select", "BL411") if i["code"] == "BL411"]
    root = EXAMPLE.resolve()
    billing = line_of(EXAMPLE / "app/billing/service.py", "from app.orders.service import")[0]
    orders = line_of(EXAMPLE / "app/orders/service.py", "from app.billing.service import")[0]
    (item,) = items  # the cycle once, not once per module
    assert item["message"] == (
        "Import cycle: app.billing.service -> app.orders.service -> app.billing.service"
    )
    primary = (Path(item["filename"]).relative_to(root).as_posix(), item["location"]["row"])
    related = [
        (Path(r["filename"]).relative_to(root).as_posix(), r["location"]["row"])
        for r in item["related"]
    ]
    assert primary == ("app/billing/service.py", billing)
    assert related == [("app/orders/service.py", orders)]


def test_example_non_ascii_line_reports_code_point_columns(
    example_runs: ExampleRuns,
) -> None:
    row, text = line_of(EXAMPLE / "app/orders/routes.py", '"Café — €"')
    column = text.index("requests.get") + 1
    assert column != text.encode("utf-8").index(b"requests.get") + 1
    concise = example_output(example_runs, "concise").splitlines()
    assert any(line.startswith(f"app/orders/routes.py:{row}:{column}: BL501 ") for line in concise)
    items = findings(example_output(example_runs, "json"))
    (item,) = [i for i in items if i["code"] == "BL501" and i["location"]["row"] == row]
    assert item["location"]["column"] == column
    call = text[column - 1 : item["end_location"]["column"] - 1]
    assert call == "requests.get(settings.fx_rates_url, timeout=2)"


# --- SARIF ---------------------------------------------------------------------------------


def test_example_sarif_validates_against_the_schema(
    example_runs: ExampleRuns,
) -> None:
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft4Validator(
        schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    )
    log = json.loads(example_output(example_runs, "sarif"))
    assert log["runs"][0]["results"]
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(log)]
    assert errors == []
    # The validator is not a rubber stamp.
    log["runs"][0]["results"][0]["level"] = "fatal"
    assert list(validator.iter_errors(log))


def test_example_sarif_passes_the_github_checker(example_runs: ExampleRuns, tmp_path: Path) -> None:
    path = tmp_path / "backlint.sarif"
    path.write_text(example_output(example_runs, "sarif"), encoding="utf-8")
    checked = subprocess.run(
        [sys.executable, str(DATA / "check_github_sarif.py"), str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=TIMEOUT,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.strip() == f"{path} OK"


def test_ci_reports_are_the_same_from_another_directory_and_with_output_file(
    example_runs: ExampleRuns, tmp_path: Path
) -> None:
    config = EXAMPLE / "pyproject.toml"
    for fmt in ("sarif", "gitlab"):
        output = tmp_path / "reports" / f"backlint.{fmt}"
        completed = run_backlint(
            "check", "--config", config, "--output-format", fmt, "--output-file", output,
            EXAMPLE, cwd=REPO,
        )  # fmt: skip
        assert completed.returncode == 1
        assert completed.stdout == ""
        assert output.read_text(encoding="utf-8") == example_output(example_runs, fmt)


# --- exit status and streams ---------------------------------------------------------------


def test_exit_status_clean_findings_and_exit_zero(tmp_path: Path) -> None:
    write_project(tmp_path, {"pyproject.toml": SRC_DOT, "clean.py": CLEAN, "bad.py": BARE_EXCEPT})
    clean = run_backlint("check", "clean.py", cwd=tmp_path)
    assert (clean.returncode, clean.stdout, clean.stderr) == (0, "All checks passed!\n", "")
    bad = run_backlint("check", "--output-format", "concise", "bad.py", cwd=tmp_path)
    assert bad.returncode == 1
    assert bad.stdout.startswith("bad.py:3:1: BL201 ")
    zero = run_backlint(
        "check", "--output-format", "concise", "--exit-zero", "bad.py", cwd=tmp_path
    )
    assert zero.returncode == 0
    assert zero.stdout == bad.stdout


def test_unknown_select_code_is_a_usage_error(tmp_path: Path) -> None:
    write_project(tmp_path, {"bad.py": BARE_EXCEPT})
    completed = run_backlint("check", "--select", "BL201,BL999", "bad.py", cwd=tmp_path)
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert "BL999" in completed.stderr and "--select" in completed.stderr


BROKEN_CONFIGS = {
    "unknown key": ("[tool.backlint]\ncolour = 'red'\n", "tool.backlint.colour"),
    "wrong type": ("[tool.backlint]\nselect = 'BL201'\n", "tool.backlint.select"),
    "wrong item type": ("[tool.backlint]\nsrc = [1]\n", "tool.backlint.src"),
    "unknown rule in options": (
        "[tool.backlint.options.no-such-rule]\nmax = 1\n",
        "tool.backlint.options.no-such-rule",
    ),
    "unknown option": (
        "[tool.backlint.options.swallowed-broad-except]\nno-such-option = 1\n",
        "tool.backlint.options.swallowed-broad-except.no-such-option",
    ),
    "wrong option type": (
        "[tool.backlint.options.swallowed-broad-except]\nlogger-names = 3\n",
        "tool.backlint.options.swallowed-broad-except.logger-names",
    ),
    "unknown code in select": ("[tool.backlint]\nselect = ['BL999']\n", "BL999"),
    "unknown code in per-file-ignores": (
        "[tool.backlint]\nper-file-ignores = { 'tests/**' = ['XY123'] }\n",
        "XY123",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN_CONFIGS))
def test_broken_config_names_key_and_file(tmp_path: Path, case: str) -> None:
    text, key = BROKEN_CONFIGS[case]
    write_project(tmp_path, {"pyproject.toml": text, "bad.py": BARE_EXCEPT})
    completed = run_backlint("check", "bad.py", cwd=tmp_path)
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert key in completed.stderr
    assert str((tmp_path / "pyproject.toml").resolve()) in completed.stderr


def test_broken_backlint_toml_and_missing_config_file(tmp_path: Path) -> None:
    write_project(tmp_path, {"backlint.toml": "colour = 'red'\n", "bad.py": BARE_EXCEPT})
    completed = run_backlint("check", "bad.py", cwd=tmp_path)
    assert completed.returncode == 2
    assert "`colour`" in completed.stderr
    assert str((tmp_path / "backlint.toml").resolve()) in completed.stderr
    missing = run_backlint("check", "--config", "nowhere.toml", "bad.py", cwd=tmp_path)
    assert missing.returncode == 2
    assert missing.stdout == ""
    assert "nowhere.toml" in missing.stderr


def test_invalid_toml_in_pyproject_is_a_config_error(tmp_path: Path) -> None:
    config = '[tool.backlint]\nselect = ["BL201"\nignore = []\n'
    write_project(tmp_path, {"pyproject.toml": config, "bad.py": BARE_EXCEPT})
    completed = run_backlint("check", "bad.py", cwd=tmp_path)
    assert completed.returncode == 2
    assert "pyproject.toml" in completed.stderr


def test_results_go_to_stdout_and_messages_to_stderr(tmp_path: Path) -> None:
    write_project(tmp_path, {"pyproject.toml": SRC_DOT, "bad.py": BARE_EXCEPT})
    completed = run_backlint(
        "check", "--output-format", "json", "bad.py", "missing.py", cwd=tmp_path
    )
    assert completed.returncode == 1
    assert [item["code"] for item in findings(completed.stdout)] == ["BL201"]
    assert "missing.py" in completed.stderr
    assert "missing.py" not in completed.stdout


# --- stdin (editors) -----------------------------------------------------------------------

STDIN_CONFIG = """\
[tool.backlint]
src = ["."]
extend-exclude = ["app/generated/**"]
per-file-ignores = { "app/legacy/**" = ["BL201"] }
"""
# BL201 anywhere; BL601 and BL602 only in layer files such as app/services/*.
STDIN_SOURCE = BARE_EXCEPT + "\n\ndef refund(order, amount: int) -> None:\n    pass\n"


@pytest.fixture
def stdin_project(tmp_path: Path) -> Path:
    # What is on disk differs from the editor buffer: stdin must win.
    return write_project(
        tmp_path,
        {"pyproject.toml": STDIN_CONFIG, "app/services/orders.py": CLEAN, "app/legacy/x.py": ""},
    )


@pytest.mark.parametrize(
    "args",
    [
        ("--stdin-filename", "app/services/orders.py", "-"),
        ("--stdin-filename", "app/services/orders.py"),
        ("-", "--stdin-filename", "app/services/orders.py"),
    ],
    ids=["with-dash", "alone", "dash-first"],
)
def test_stdin_reports_the_given_path_with_its_role(
    stdin_project: Path, args: tuple[str, ...]
) -> None:
    completed = run_backlint(
        "check", "--output-format", "concise", *args, cwd=stdin_project, stdin=STDIN_SOURCE
    )
    assert completed.returncode == 1
    lines = completed.stdout.splitlines()
    assert [line.split(" ", 2)[:2] for line in lines[:2]] == [
        ["app/services/orders.py:3:1:", "BL201"],
        ["app/services/orders.py:7:12:", "BL601"],  # `order` in `def refund(order, ...)`
    ]
    assert "`order`" in lines[1]
    assert lines[2:] == [
        "Found 2 findings.",
        "No fixes available (1 hidden fix can be enabled with the `--unsafe-fixes` option).",
    ]
    assert completed.stderr == ""


def test_stdin_json_has_the_absolute_path(stdin_project: Path) -> None:
    items = check_json(
        "--stdin-filename", "app/services/orders.py", "-", cwd=stdin_project, stdin=STDIN_SOURCE
    )
    assert {item["filename"] for item in items} == {
        str((stdin_project / "app/services/orders.py").resolve())
    }
    assert {(item["code"], item["location"]["row"], item["noqa_row"]) for item in items} == {
        ("BL201", 3, 3),
        ("BL601", 7, 7),
    }


def test_stdin_applies_per_file_ignores_and_roles_of_the_path(stdin_project: Path) -> None:
    # app/legacy is not a layer (no BL601) and ignores BL201.
    legacy = check_json(
        "--stdin-filename", "app/legacy/x.py", cwd=stdin_project, stdin=STDIN_SOURCE
    )
    assert legacy == []
    # The same from a subdirectory: the path is relative to the working directory, the
    # per-file-ignores pattern to the project root.
    sub = run_backlint(
        "check", "--output-format", "concise", "--stdin-filename", "legacy/x.py",
        cwd=stdin_project / "app", stdin=STDIN_SOURCE,
    )  # fmt: skip
    assert (sub.returncode, sub.stdout) == (0, "All checks passed!\n")
    other = run_backlint(
        "check", "--output-format", "concise", "--stdin-filename", "services/orders.py",
        cwd=stdin_project / "app", stdin=STDIN_SOURCE,
    )  # fmt: skip
    assert other.returncode == 1
    assert other.stdout.startswith("services/orders.py:3:1: BL201 ")
    # Editors pass absolute paths.
    absolute = stdin_project.resolve() / "app" / "legacy" / "x.py"
    assert check_json("--stdin-filename", absolute, cwd=stdin_project, stdin=STDIN_SOURCE) == []


def test_paths_through_a_symlinked_directory_get_the_projects_ignores(tmp_path: Path) -> None:
    real = write_project(
        tmp_path / "real",
        {
            "pyproject.toml": STDIN_CONFIG,
            "app/legacy/x.py": BARE_EXCEPT,
            "app/generated/client.py": BARE_EXCEPT,
        },
    )
    link = tmp_path / "link"
    os.symlink(real, link, target_is_directory=True)
    legacy = link / "app" / "legacy" / "x.py"
    generated = link / "app" / "generated" / "client.py"
    assert check_json("--stdin-filename", legacy, cwd=real, stdin=STDIN_SOURCE) == []
    assert (
        check_json("--force-exclude", "--stdin-filename", generated, cwd=real, stdin=BARE_EXCEPT)
        == []
    )
    assert check_json("--force-exclude", legacy, generated, cwd=real) == []


def test_stdin_force_exclude_skips_an_excluded_path(stdin_project: Path) -> None:
    name = "app/generated/client.py"
    excluded = run_backlint(
        "check", "--force-exclude", "--quiet", "--output-format", "concise",
        "--stdin-filename", name, "-", cwd=stdin_project, stdin=STDIN_SOURCE,
    )  # fmt: skip
    assert (excluded.returncode, excluded.stdout, excluded.stderr) == (0, "", "")
    as_json = check_json(
        "--force-exclude", "--stdin-filename", name, cwd=stdin_project, stdin=STDIN_SOURCE
    )
    assert as_json == []
    # Without --force-exclude an explicitly named file is checked.
    checked = check_json("--stdin-filename", name, cwd=stdin_project, stdin=STDIN_SOURCE)
    assert codes(checked) == {"BL201"}


# --- selection -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def example_default_codes(
    example_runs: ExampleRuns,
) -> set[str]:
    return codes(findings(example_output(example_runs, "json")))


def test_default_selection_reports_every_targeted_rule(example_default_codes: set[str]) -> None:
    assert set(TARGETED) <= example_default_codes


@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        # The example has a file that does not parse: BL001 is reported whatever the
        # selection (like ruff's syntax errors) unless it is ignored.
        (("--select", "BL201"), {"BL001", "BL201"}),
        (("--select", "swallowed-broad-except"), {"BL001", "BL202"}),
        (("--select", "BL201,swallowed-broad-except"), {"BL001", "BL201", "BL202"}),
        (("--select", "BL201", "--select", "BL411"), {"BL001", "BL201", "BL411"}),
        (("--select", "BL2", "--ignore", "BL202"), {"BL001", "BL201"}),
        (("--select", "BL20", "--ignore", "BL2"), {"BL001", "BL201", "BL202"}),
        (("--select", "import-cycle", "--extend-select", "BL201"), {"BL001", "BL201", "BL411"}),
        (("--select", "BL201", "--ignore", "syntax-error"), {"BL201"}),
    ],
)
def test_select_ignore_and_extend_select(
    example_runs: ExampleRuns, selection: tuple[str, ...], expected: set[str]
) -> None:
    assert codes(example_json(example_runs, *selection)) == expected


def test_select_by_prefix_and_all(
    example_runs: ExampleRuns, example_default_codes: set[str]
) -> None:
    by_prefix = codes(example_json(example_runs, "--select", "BL6"))
    expected = {code for code in example_default_codes if code.startswith("BL6")}
    assert by_prefix == expected | {"BL001"}
    assert {"BL601", "BL602"} <= by_prefix
    everything = codes(example_json(example_runs, "--select", "ALL"))
    assert example_default_codes <= everything


def test_no_preview_runs_only_the_rules_that_meet_the_precision_bar(
    example_runs: ExampleRuns, example_default_codes: set[str]
) -> None:
    """The example's configuration opts in to preview rules; ``--no-preview`` overrides it."""
    rules = all_rules()
    stable = codes(example_json(example_runs, "--no-preview"))
    # The example's only BL002 is about a `noqa: BL202`: without BL202 it is left alone.
    assert stable == {c for c in example_default_codes if not rules[c].preview} - {"BL002"}
    assert {"BL001", "BL312"} <= stable
    assert {"BL201", "BL202", "BL501"} <= example_default_codes - stable


def test_ignore_by_prefix_and_name(
    example_runs: ExampleRuns, example_default_codes: set[str]
) -> None:
    without_bl6 = codes(example_json(example_runs, "--ignore", "BL6"))
    assert without_bl6 == {code for code in example_default_codes if not code.startswith("BL6")}
    by_name = codes(example_json(example_runs, "--ignore", "missing-param-annotation,BL2"))
    # The example's only BL002 is about a `noqa: BL202`: with BL202 off it is left alone.
    assert by_name == example_default_codes - {"BL601", "BL002"} - {
        code for code in example_default_codes if code.startswith("BL2")
    }


# --- suppression ---------------------------------------------------------------------------

NOQA_LINES = """\
def handlers():
    try:
        sync()
    except:  # noqa
        pass
    try:
        sync()
    except:  # noqa: BL201
        pass
    try:
        sync()
    except:  # noqa: BL202
        pass
    try:
        sync()
    except:  # noqa:BL201,BL202
        pass
    width = 1  # noqa: E501
    height = 2  # noqa
    depth = 3  # noqa: BL201, E501
"""


def test_noqa_forms_and_unused_suppressions(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "pyproject.toml": SRC_DOT,
            "app/lines.py": NOQA_LINES,
            "app/file_all.py": "# backlint: noqa\n" + BARE_EXCEPT,
            "app/file_code.py": "# backlint: noqa: BL201\n"
            + BARE_EXCEPT
            + "def save():\n    try:\n        sync()\n    except Exception:\n        pass\n"
            + "    return True\n",
            "app/file_unused.py": "# backlint: noqa: BL202\nx = 1\n",
        },
    )
    items = check_json(cwd=tmp_path)
    assert keys(items, tmp_path.resolve()) == [
        ("app/file_code.py", 9, "BL202"),  # only BL201 is silenced for the file
        ("app/file_unused.py", 1, "BL002"),
        ("app/lines.py", 12, "BL002"),  # BL202 suppressed nothing ...
        ("app/lines.py", 12, "BL201"),  # ... and BL201 was not named
        ("app/lines.py", 16, "BL002"),  # BL201 was used, BL202 was not
        ("app/lines.py", 20, "BL002"),  # BL201 on a line without findings; E501 is ruff's
    ]
    unused = {
        (item["location"]["row"], item["message"]) for item in items if item["code"] == "BL002"
    }
    assert (16, "Unused suppression: `BL202` suppressed nothing") in unused
    assert (20, "Unused suppression: `BL201` suppressed nothing") in unused
    (line16,) = [i for i in items if i["code"] == "BL002" and i["location"]["row"] == 16]
    assert line16["location"]["column"] == NOQA_LINES.splitlines()[15].index("BL202") + 1


CYCLE_WITH_NOQA = {
    "pyproject.toml": SRC_DOT,
    "ring/__init__.py": "",
    "ring/a.py": "import os\n\nfrom ring import b\n\nVALUE = os.sep\n",
    "ring/b.py": "import ring.c  # noqa: BL411 - accepted until the split\n",
    "ring/c.py": "from ring.a import VALUE\n",
    "ring/d.py": "import ring.a  # noqa: BL411\n",
}


def test_noqa_on_one_import_clears_the_whole_cycle(tmp_path: Path) -> None:
    write_project(tmp_path, CYCLE_WITH_NOQA)
    items = check_json(cwd=tmp_path)
    # No BL411 anywhere and the used noqa is not BL002; the one on an import outside
    # every cycle suppresses nothing.
    assert keys(items, tmp_path.resolve()) == [("ring/d.py", 1, "BL002")]
    # Without the noqa the same modules form a cycle, so the above means something.
    write_project(tmp_path, {"ring/b.py": "import ring.c\n"})
    without = check_json("--ignore", "BL002", cwd=tmp_path)
    assert keys(without, tmp_path.resolve()) == [("ring/a.py", 3, "BL411")]


# --- import cycles -------------------------------------------------------------------------

CYCLE_PROJECT = {
    "pyproject.toml": SRC_DOT,
    # A 3-module ring; each module imports something else first.
    "ring/__init__.py": "",
    "ring/a.py": '"""Entry."""\nimport os\nfrom ring import b\n\nVALUE = os.sep\n',
    "ring/b.py": "import json\nimport ring.c\n\nDATA = json.dumps({})\n",
    "ring/c.py": "from collections import OrderedDict\nfrom ring.a import VALUE\n",
    # Only a TYPE_CHECKING import closes this loop.
    "typed/__init__.py": "",
    "typed/x.py": "import typed.y\n\n\nclass X:\n    pass\n",
    "typed/y.py": (
        "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from typed.x import X\n"
    ),
    # Only a guarded import closes this one.
    "guarded/__init__.py": "",
    "guarded/x.py": "import guarded.y\n",
    "guarded/y.py": "try:\n    import guarded.x\nexcept ImportError:\n    x = None\n",
    # A package that re-exports its submodules, which import each other downwards.
    "shop/__init__.py": "from .models import Order\nfrom .service import OrderService\n",
    "shop/models.py": "class Order:\n    pass\n",
    "shop/service.py": (
        "import shop.models\nfrom shop import models\nfrom shop.models import Order\n\n\n"
        "class OrderService:\n    pass\n"
    ),
}


def test_three_module_cycle_reported_once_with_related_locations(
    tmp_path: Path,
) -> None:
    write_project(tmp_path, CYCLE_PROJECT)
    items = check_json("--select", "BL411", cwd=tmp_path)
    root = tmp_path.resolve()
    # Once, at the first import of the cycle by path and line.
    assert keys(items, root) == [("ring/a.py", 3, "BL411")]
    (item,) = items
    assert item["location"]["column"] == 1
    assert item["message"] == "Import cycle: ring.a -> ring.b -> ring.c -> ring.a"
    related = [
        (Path(r["filename"]).relative_to(root).as_posix(), r["location"]["row"])
        for r in item["related"]
    ]
    # The rest of the chain, in its order.
    assert related == [("ring/b.py", 2), ("ring/c.py", 2)]


def test_type_checking_guarded_and_reexport_imports_make_no_cycle(tmp_path: Path) -> None:
    files = {k: v for k, v in CYCLE_PROJECT.items() if not k.startswith("ring/")}
    write_project(tmp_path, files)
    assert check_json("--select", "BL411", cwd=tmp_path) == []
    # The same modules with plain imports do form cycles, so the above means something.
    write_project(
        tmp_path,
        {
            "typed/y.py": "from typed.x import X\n",
            "guarded/y.py": "import guarded.x\n",
        },
    )
    assert keys(check_json("--select", "BL411", cwd=tmp_path), tmp_path.resolve()) == [
        ("guarded/x.py", 1, "BL411"),
        ("typed/x.py", 1, "BL411"),
    ]


# --- bad input -----------------------------------------------------------------------------

# name → (content of app/<name>.py, the codes reported on it, a text its message holds,
# its start position or None)
BAD_INPUTS: dict[str, tuple[str | bytes, list[str] | None, str | None, dict[str, int] | None]] = {
    "syntax": ("def broken(:\n    pass\n", ["BL001"], "syntax error", None),
    "not_utf8": (b'x = 1\ny = 2\nname = "caf\xe9"\n', ["BL001"], "UTF-8", None),
    "not_utf8_first_line": (b'name = "\xff\xfe"\n', ["BL001"], None, None),
    # A coding cookie makes latin-1 bytes valid: the file is analysed.
    "latin1": (
        b'# -*- coding: latin-1 -*-\nname = "caf\xe9"\n' + BARE_EXCEPT.encode(),
        ["BL201"],
        None,
        {"row": 5, "column": 1},
    ),
    "nul": (b"x = 1\ny = 2\x00\n", ["BL001"], "NUL", {"row": 2, "column": 6}),
    "empty": (b"", [], None, None),
    "deep_parens": ("x = " + "(" * 5000 + ")" * 5000 + "\n", ["BL001"], "nested", None),
    # Whether 3000 chained operators are too deep depends on the interpreter (Python 3.11
    # and 3.12 refuse them, 3.10 and 3.13 parse them): None accepts BL001 or nothing.
    "long_chain": ("a = 1\nb = " + " + ".join(["a"] * 3000) + "\n", None, None, None),
}


def check_bad_input(items: list[dict[str, Any]], root: Path, names: Iterable[str]) -> None:
    """The good files and each bad file ``name`` got exactly what ``BAD_INPUTS`` says."""
    by_file: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        by_file.setdefault(Path(item["filename"]).relative_to(root).as_posix(), []).append(item)
    expected = {"app/good.py": ["BL201"]}
    for name in names:
        codes = BAD_INPUTS[name][1]
        if codes is None:
            either = by_file.pop(f"app/{name}.py", [])
            assert [i["code"] for i in either] in ([], ["BL001"]), either
        elif codes:
            expected[f"app/{name}.py"] = codes
    assert {path: sorted(i["code"] for i in found) for path, found in by_file.items()} == expected
    for name in names:
        _, _, fragment, location = BAD_INPUTS[name]
        for item in by_file.get(f"app/{name}.py", []):
            if fragment is not None:
                assert fragment in item["message"], item
            if location is not None:
                assert item["location"] == location, item


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_next_to_good_files(tmp_path: Path, name: str) -> None:
    content = BAD_INPUTS[name][0]
    write_project(
        tmp_path,
        {"pyproject.toml": SRC_DOT, "app/good.py": BARE_EXCEPT, f"app/{name}.py": content},
    )
    completed = run_backlint("check", "--output-format", "json", "--jobs", "1", cwd=tmp_path)
    assert completed.returncode == 1
    check_bad_input(findings(completed.stdout), tmp_path.resolve(), [name])


def test_all_bad_input_at_once_with_symlink_loops_and_parallel_workers(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "pyproject.toml": SRC_DOT,
            "app/good.py": BARE_EXCEPT,
            **{f"app/{name}.py": content for name, (content, *_) in BAD_INPUTS.items()},
        },
    )
    loop = tmp_path / "app" / "loop"
    loop.mkdir()
    os.symlink("..", loop / "up")  # a directory symlink to its own parent
    os.symlink("self.py", tmp_path / "app" / "self.py")  # a file symlink to itself
    runs = {
        jobs: run_backlint("check", "--output-format", "json", "--jobs", jobs, cwd=tmp_path)
        for jobs in JOBS
    }
    assert runs["1"].returncode == 1
    assert runs["2"].stdout == runs["1"].stdout
    # good.py is reported once: the loop is not followed.
    check_bad_input(findings(runs["1"].stdout), tmp_path.resolve(), BAD_INPUTS)
    assert "self.py" in runs["1"].stderr


def test_huge_file_is_skipped_with_a_message_naming_it(tmp_path: Path) -> None:
    write_project(tmp_path, {"pyproject.toml": SRC_DOT, "bad.py": BARE_EXCEPT})
    with open(tmp_path / "huge.py", "w", encoding="utf-8") as huge:
        huge.write("x = 1\n" * 900_000)  # over the 5 MB limit
    completed = run_backlint("check", "--output-format", "concise", cwd=tmp_path)
    assert completed.returncode == 1
    assert completed.stdout.startswith("bad.py:3:1: BL201 ")
    assert "larger than" in completed.stderr
    assert "huge.py" in completed.stderr + completed.stdout


def test_unreadable_file_is_reported_and_the_run_goes_on(tmp_path: Path) -> None:
    write_project(tmp_path, {"pyproject.toml": SRC_DOT, "secret.py": CLEAN, "bad.py": BARE_EXCEPT})
    secret = tmp_path / "secret.py"
    secret.chmod(0)
    try:
        if os.access(secret, os.R_OK):
            pytest.skip("running as a user who can read a mode-000 file (root)")
        completed = run_backlint("check", "--output-format", "concise", cwd=tmp_path)
    finally:
        secret.chmod(0o644)
    assert completed.returncode == 1
    assert "bad.py:3:1: BL201 " in completed.stdout
    assert "secret.py" in completed.stdout + completed.stderr
    assert "ermission" in completed.stdout + completed.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this platform")
@pytest.mark.skipif(
    os.environ.get("BACKLINT_SKIP_SLOW") == "1", reason="waits for a timeout while the bug exists"
)
def test_a_named_pipe_is_skipped_not_read(tmp_path: Path) -> None:
    write_project(tmp_path, {"pyproject.toml": SRC_DOT, "bad.py": BARE_EXCEPT})
    os.mkfifo(tmp_path / "pipe.py")
    # One job, so that a hung run leaves no worker process behind when it is killed.
    completed = run_backlint(
        "check", "--output-format", "concise", "--jobs", "1", cwd=tmp_path, timeout=10
    )
    assert completed.returncode == 1
    assert completed.stdout.startswith("bad.py:3:1: BL201 ")
    assert "pipe.py" in completed.stdout + completed.stderr


def test_columns_count_code_points_after_astral_and_accented_text(tmp_path: Path) -> None:
    line = '    label = "🍰 Café — €"; time.sleep(1)'
    write_project(
        tmp_path,
        {
            "pyproject.toml": SRC_DOT,
            "app/cake.py": f"import time\n\n\nasync def refresh() -> None:\n{line}\n",
        },
    )
    start = line.index("time.sleep(1)") + 1
    end = start + len("time.sleep(1)")
    assert start != line.encode("utf-8").index(b"time.sleep") + 1
    assert start != len(line[: start - 1].encode("utf-16-le")) // 2 + 1
    concise = run_backlint("check", "--output-format", "concise", cwd=tmp_path)
    assert concise.stdout.startswith(f"app/cake.py:5:{start}: BL501 ")
    (item,) = check_json(cwd=tmp_path)
    assert item["location"] == {"row": 5, "column": start}
    assert item["end_location"] == {"row": 5, "column": end}
    sarif = json.loads(run_backlint("check", "--output-format", "sarif", cwd=tmp_path).stdout)
    region = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert (region["startColumn"], region["endColumn"]) == (start, end)
    github = run_backlint("check", "--output-format", "github", cwd=tmp_path).stdout
    assert f",line=5,col={start},endLine=5,endColumn={end}::" in github


# --- backlint rule / --version -------------------------------------------------------------


def test_rule_explains_by_code_and_by_name(tmp_path: Path) -> None:
    by_code = run_backlint("rule", "BL201", cwd=tmp_path)
    assert by_code.returncode == 0
    assert by_code.stdout.startswith("# BL201 swallowed-bare-except\n")
    for section in ("## What it does", "## Why is this bad?", "## How to fix", "Suggested fix:"):
        assert section in by_code.stdout
    by_name = run_backlint("rule", "swallowed-broad-except", cwd=tmp_path)
    assert by_name.returncode == 0
    assert by_name.stdout.startswith("# BL202 swallowed-broad-except\n")
    assert "logger-names" in by_name.stdout  # its options are listed


def test_rule_all_as_text_and_json(tmp_path: Path) -> None:
    text = run_backlint("rule", "--all", cwd=tmp_path)
    assert text.returncode == 0
    as_json = run_backlint("rule", "--all", "--output-format", "json", cwd=tmp_path)
    assert as_json.returncode == 0
    records = json.loads(as_json.stdout)
    listed = [record["code"] for record in records]
    assert set(listed) == set(all_rules()) >= set(TARGETED)
    assert listed == sorted(listed) and len(set(listed)) == len(listed)
    for record in records:
        assert record["name"] and record["summary"] and record["explanation"]
        assert f"{record['code']}  {record['name']}" in text.stdout


def test_unknown_rule_and_version(tmp_path: Path) -> None:
    unknown = run_backlint("rule", "BL999", cwd=tmp_path)
    assert unknown.returncode == 2
    assert unknown.stdout == ""
    assert "BL999" in unknown.stderr
    version = run_backlint("--version", cwd=tmp_path)
    assert version.returncode == 0
    assert __version__ in version.stdout


# --- pre-commit ----------------------------------------------------------------------------

# No `pre-commit try-repo` test: it builds the hook's virtualenv with `pip install .`, and
# libcst is not on this machine's local package mirrors, so it would need PyPI.

MANIFEST = REPO / ".pre-commit-hooks.yaml"


def manifest_hook() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml")
    (hook,) = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(hook, dict)
    return hook


def test_pre_commit_manifest() -> None:
    hook = manifest_hook()
    assert hook["id"] == hook["name"] == "backlint"
    assert hook["description"]
    assert hook["entry"] == "backlint check --force-exclude"
    assert hook["language"] == "python"
    assert hook["types_or"] == ["python", "pyi", "toml", "yaml", "json", "ini"]
    assert hook["require_serial"] is True
    assert hook["minimum_pre_commit_version"] == "2.9.2"


def test_pre_commit_validate_manifest(tmp_path: Path) -> None:
    if importlib.util.find_spec("pre_commit") is None:
        pytest.skip("pre-commit is not installed")

    def validate(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pre_commit", "validate-manifest", str(path)],
            capture_output=True,
            text=True,
            check=False,
            timeout=TIMEOUT,
        )

    valid = validate(MANIFEST)
    assert valid.returncode == 0, valid.stdout + valid.stderr
    broken = tmp_path / ".pre-commit-hooks.yaml"
    broken.write_text(
        "\n".join(
            line for line in MANIFEST.read_text(encoding="utf-8").splitlines()
            if not line.strip().startswith("entry:")
        ),
        encoding="utf-8",
    )  # fmt: skip
    assert validate(broken).returncode != 0


def test_hook_entry_force_exclude_skips_explicitly_passed_excluded_paths(tmp_path: Path) -> None:
    config = SRC_DOT + 'extend-exclude = ["migrations/", "app/generated_*.py"]\n'
    write_project(
        tmp_path,
        {
            "pyproject.toml": config,
            "app/bad.py": BARE_EXCEPT,
            "app/generated_client.py": BARE_EXCEPT,
            "migrations/0001_initial.py": BARE_EXCEPT,
        },
    )
    # Run what the hook runs: its entry, with the file names pre-commit appends.
    program, command, *flags = manifest_hook()["entry"].split()
    assert (program, command) == ("backlint", "check")
    files = ["app/bad.py", "app/generated_client.py", "migrations/0001_initial.py"]
    hooked = check_json(*flags, *files, cwd=tmp_path)
    assert keys(hooked, tmp_path.resolve()) == [("app/bad.py", 3, "BL201")]
    assert check_json("--force-exclude", "migrations", cwd=tmp_path) == []
    # Named explicitly without --force-exclude, excluded files are checked (ruff's rule).
    assert {
        path for path, _, _ in keys(check_json(*files, cwd=tmp_path), tmp_path.resolve())
    } == set(files)


SPLIT_PROJECT = {
    "pyproject.toml": SRC_DOT,
    "app/__init__.py": "",
    "app/services/__init__.py": "",
    "app/services/orders.py": (
        "import logging\n\nlog = logging.getLogger(__name__)\n\n\n"
        "def place(order, quantity: int):\n    try:\n        order.save()\n"
        "    except Exception:\n        log.error('save failed')\n    return True\n"
    ),
    "app/services/billing.py": "def charge(amount: int) -> None:  # noqa: BL201\n    pass\n",
    "app/repository.py": "class Repo:\n    def get(self, key):\n        return key\n",
    "app/routes.py": "import time\n\n\nasync def poll() -> None:\n    time.sleep(1)\n",
    "app/worker.py": BARE_EXCEPT,
    "app/broken.py": "def broken(:\n",
    "app/clean.py": CLEAN,
}


def split_findings(
    root: Path, files: list[str], *args: str
) -> list[tuple[str, int, int, str, str]]:
    items = check_json("--force-exclude", *args, *files, cwd=root)
    return sorted(
        (
            Path(item["filename"]).relative_to(root.resolve()).as_posix(),
            item["location"]["row"],
            item["location"]["column"],
            item["code"],
            item["message"],
        )
        for item in items
    )


def test_splitting_files_across_invocations_gives_the_same_findings(tmp_path: Path) -> None:
    write_project(tmp_path, SPLIT_PROJECT)
    files = sorted(path for path in SPLIT_PROJECT if path.endswith(".py"))
    whole = split_findings(tmp_path, files)
    assert {code for *_, code, _ in whole} >= {
        "BL001",
        "BL002",
        "BL201",
        "BL202",
        "BL501",
        "BL601",
        "BL602",
    }
    first, second = files[::2], files[1::2]
    parts = split_findings(tmp_path, first) + split_findings(tmp_path, second)
    assert sorted(parts) == whole


def test_splitting_the_example_keeps_its_per_file_findings() -> None:
    files = sorted(path.relative_to(EXAMPLE).as_posix() for path in EXAMPLE.rglob("*.py"))
    # BL411 and BL412 are whole-project rules: a split run cannot see a cycle across the
    # halves.
    project_rules = ("--ignore", "BL411,BL412")
    whole = split_findings(EXAMPLE, files, *project_rules)
    changed = [path for path in files if path.startswith(("app/billing/", "app/orders/"))]
    rest = [path for path in files if path not in changed]
    parts = split_findings(EXAMPLE, changed, *project_rules) + split_findings(
        EXAMPLE, rest, *project_rules
    )
    assert sorted(parts) == whole
