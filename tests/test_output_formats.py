"""Every output format: golden files, plus the integrations.md acceptance checks.

The golden files in ``tests/golden/output/`` are compared byte for byte. After an intended
change, rewrite them with ``BACKLINT_UPDATE_GOLDEN=1 pytest tests/test_output_formats.py``
and review the diff.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import jsonschema
import pytest

from backlint.config import OUTPUT_FORMATS
from backlint.diagnostics import (
    Applicability,
    Diagnostic,
    Edit,
    Fix,
    Position,
    Related,
    Severity,
    Span,
)
from backlint.output import FORMATS, render_statistics
from backlint.output.base import Report
from backlint.output.github import escape_data, escape_property
from backlint.output.markdown import github_links, render_markdown
from backlint.output.sarif import MAX_DESCRIPTION, truncate
from backlint.rules.base import Rule
from backlint.rules.metadata import RuleInfo
from backlint.rules.registry import rule_info

HERE = Path(__file__).parent
GOLDEN = HERE / "golden" / "output"
DATA = HERE / "data"
ROOT = Path("/srv/project")
VERSION = "0.1.0"
UPDATE_GOLDEN = os.environ.get("BACKLINT_UPDATE_GOLDEN") == "1"

GOLDEN_FILES = {
    "full": "full.txt",
    "concise": "concise.txt",
    "json": "json.json",
    "json-lines": "json-lines.jsonl",
    "sarif": "sarif.sarif",
    "github": "github.txt",
    "gitlab": "gitlab.json",
    "markdown": "markdown.md",
    "statistics": "statistics.txt",
}

# --- fake rules: the real ones are written elsewhere, and these pin the metadata --------


class BlockingCallInAsync(Rule):
    """
    ## What it does
    Finds blocking calls such as `time.sleep` inside `async def` functions.

    ## Why is this bad?
    A blocking call stops the event loop, and every other request waits with it.

    ## How to fix
    Await the asynchronous equivalent, or run the call in a worker thread.
    """

    code = "BL501"
    name = "blocking-call-in-async"
    summary = "Blocking call inside an async function."
    fix_text = "Use the async equivalent, e.g. `await asyncio.sleep(...)`."
    severity = Severity.ERROR
    tags = ("async", "performance", "PQG-6")


class SwallowedBroadExcept(Rule):
    """
    ## What it does
    Finds `except Exception:` handlers that neither log nor re-raise.
    """

    code = "BL202"
    name = "swallowed-broad-except"
    summary = "A broad exception handler swallows the error."
    fix_text = "Log the exception or re-raise it."
    severity = Severity.WARNING


class ImplicitClock(Rule):
    """
    ## What it does
    Finds direct reads of the clock in service code.
    """

    code = "BL312"
    name = "implicit-clock-or-entropy"
    summary = "Implicit dependency on the clock."
    fix_text = "Inject a clock."
    severity = Severity.INFO


class ImportCycle(Rule):
    """
    ## What it does
    Finds cycles in the import graph.
    """

    code = "BL411"
    name = "import-cycle"
    summary = "Modules import each other in a cycle."
    fix_text = "Move the shared code into a third module."
    severity = Severity.ERROR
    tags = ("architecture", "PQG-3")


class HardcodedSecret(Rule):
    """
    ## What it does
    Finds secrets written into the source.
    """

    code = "BL801"
    name = "hardcoded-secret-assignment"
    summary = "A secret is hard-coded."
    fix_text = "Read the secret from the environment or a secret store."
    severity = Severity.ERROR
    tags = ("security", "external/cwe/cwe-798", "PQG-6")


class FatRouteHandler(Rule):
    """
    ## What it does
    Never fires in these tests: it checks that only rules that fired are listed.
    """

    code = "BL101"
    name = "fat-route-handler"
    summary = "A route handler holds business logic."
    fix_text = "Move the logic into a service."
    severity = Severity.WARNING


RULES: dict[str, RuleInfo] = {
    rule.code: rule_info(rule)
    for rule in (
        BlockingCallInAsync,
        SwallowedBroadExcept,
        ImplicitClock,
        ImportCycle,
        HardcodedSecret,
        FatRouteHandler,
    )
}

# --- the fixture run -----------------------------------------------------------------------

# Non-ASCII text before the finding: `time` starts at code point 16 but at UTF-8 byte 21.
USERS_LINE = 'x = "héllo—✓"; time.sleep(1)'
EXCEPT_LINE = "    except Exception:"
CLOCK_LINE = "        started = time.time()"
IMPORT_LINE = "from app import b"
SECRET_LINE = 'API_KEY = "sk-live-0123456789abcdef"'
ORDERS = "app/my services/orders.py"
BROAD_MESSAGE = "Broad `except Exception:` swallows 100% of errors, retries included,\nsilently"


def columns(text: str, needle: str) -> tuple[int, int]:
    """1-based code-point columns of ``needle`` in ``text``, end exclusive."""
    start = text.index(needle) + 1
    return start, start + len(needle)


def build_report(
    *, cwd: Path = ROOT, shift: int = 0, quiet: bool = False, root: Path = ROOT
) -> Report:
    """The fixture run as seen from ``cwd``, with ``shift`` lines inserted above each finding."""

    def shown(path: str) -> str:
        return os.path.relpath(ROOT / path, cwd)

    def at(line: int, column: int, end_line: int, end_column: int) -> Span:
        return Span(Position(line + shift, column), Position(end_line + shift, end_column))

    def on(line: int, text: str, needle: str) -> Span:
        start, end = columns(text, needle)
        return at(line, start, line, end)

    sleep = on(3, USERS_LINE, "time.sleep(1)")
    diagnostics = [
        Diagnostic(
            path=shown("app/api/users.py"),
            span=sleep,
            code="BL501",
            name="blocking-call-in-async",
            message="Blocking call `time.sleep` in async function `list_users`",
            severity=Severity.ERROR,
            help=BlockingCallInAsync.fix_text,
            fix=Fix(
                "Replace with `await asyncio.sleep(1)`",
                (Edit(sleep, "await asyncio.sleep(1)"),),
                Applicability.UNSAFE,
            ),
        ),
        Diagnostic(
            path=shown(ORDERS),
            span=at(10, 5, 12, 13),
            code="BL202",
            name="swallowed-broad-except",
            message=BROAD_MESSAGE,
            severity=Severity.WARNING,
            help=SwallowedBroadExcept.fix_text,
        ),
        Diagnostic(
            path=shown(ORDERS),
            span=on(20, CLOCK_LINE, "time.time()"),
            code="BL312",
            name="implicit-clock-or-entropy",
            message="Call to `time.time()` reads the clock",
            severity=Severity.INFO,
        ),
        Diagnostic(
            path=shown(ORDERS),
            span=on(25, CLOCK_LINE, "time.time()"),
            code="BL312",
            name="implicit-clock-or-entropy",
            message="Call to `time.time()` reads the clock",
            severity=Severity.INFO,
        ),
        Diagnostic(
            path=shown("app/a.py"),
            span=on(1, IMPORT_LINE, IMPORT_LINE),
            code="BL411",
            name="import-cycle",
            message="Import cycle: app.a -> app.b -> app.a",
            severity=Severity.ERROR,
            help=ImportCycle.fix_text,
            related=(Related(shown("app/b.py"), at(2, 1, 2, 18), "`app.b` imports `app.a` here"),),
        ),
        Diagnostic(
            path=shown("app/settings.py"),
            span=on(4, SECRET_LINE, '"sk-live-0123456789abcdef"'),
            code="BL801",
            name="hardcoded-secret-assignment",
            message="Hard-coded secret assigned to `API_KEY`",
            severity=Severity.ERROR,
            help=HardcodedSecret.fix_text,
            noqa_line=5 + shift,
        ),
        # No rule class claims BL001 here and no source line is known.
        Diagnostic(
            path=shown("app/broken.py"),
            span=at(7, 5, 7, 5),
            code="BL001",
            name="syntax-error",
            message="Cannot parse: unexpected indent",
            severity=Severity.ERROR,
        ),
    ]
    snippets = {
        shown("app/api/users.py"): {3 + shift: USERS_LINE},
        shown(ORDERS): {10 + shift: EXCEPT_LINE, 20 + shift: CLOCK_LINE, 25 + shift: CLOCK_LINE},
        shown("app/a.py"): {1 + shift: IMPORT_LINE},
        shown("app/settings.py"): {4 + shift: SECRET_LINE},
    }
    return Report(
        diagnostics=sorted(diagnostics, key=Diagnostic.sort_key),
        rules=RULES,
        root=root,
        cwd=cwd,
        version=VERSION,
        snippets=snippets,
        quiet=quiet,
    )


def report_of(
    *diagnostics: Diagnostic, snippets: dict[str, dict[int, str]] | None = None
) -> Report:
    return Report(
        diagnostics=list(diagnostics),
        rules=RULES,
        root=ROOT,
        cwd=ROOT,
        version=VERSION,
        snippets=snippets or {},
    )


def simple(path: str = "app/x.py", span: Span | None = None, **changes: Any) -> Diagnostic:
    fields: dict[str, Any] = {
        "path": path,
        "span": span or Span(Position(1, 1), Position(1, 2)),
        "code": "BL312",
        "name": "implicit-clock-or-entropy",
        "message": "Call to `time.time()` reads the clock",
        "severity": Severity.INFO,
    }
    fields.update(changes)
    return Diagnostic(**fields)


def render(name: str, report: Report) -> str:
    return render_statistics(report) if name == "statistics" else FORMATS[name](report)


def sarif_of(report: Report) -> dict[str, Any]:
    return cast(dict[str, Any], json.loads(FORMATS["sarif"](report)))


def by_code(items: list[dict[str, Any]], key: str, code: str) -> list[dict[str, Any]]:
    return [item for item in items if item[key] == code]


# --- registry and golden files -------------------------------------------------------------


def test_formats_registry_is_complete_and_read_only() -> None:
    # The configuration's `output-format` accepts exactly the formats there are.
    assert list(FORMATS) == list(OUTPUT_FORMATS)
    assert FORMATS["markdown"] is render_markdown
    assert set(GOLDEN_FILES) == {*FORMATS, "statistics"}
    with pytest.raises(TypeError):
        cast(Any, FORMATS)["xml"] = FORMATS["json"]


@pytest.mark.parametrize("name", sorted(GOLDEN_FILES))
def test_golden(name: str) -> None:
    path = GOLDEN / GOLDEN_FILES[name]
    actual = render(name, build_report())
    if UPDATE_GOLDEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual.encode("utf-8"))
    assert path.exists(), f"missing {path}: run with BACKLINT_UPDATE_GOLDEN=1"
    assert actual == path.read_bytes().decode("utf-8")


@pytest.mark.parametrize("name", sorted(GOLDEN_FILES))
def test_same_input_gives_identical_output(name: str) -> None:
    first = render(name, build_report())
    assert first
    assert render(name, build_report()) == first


@pytest.mark.parametrize("name", ["sarif", "gitlab"])
def test_ci_reports_do_not_depend_on_the_working_directory(name: str) -> None:
    from_root = render(name, build_report())
    from_subdir = render(name, build_report(cwd=ROOT / "app"))
    assert from_subdir == from_root


# --- full and concise ----------------------------------------------------------------------


def test_full_underlines_code_points_on_a_non_ascii_line() -> None:
    lines = FORMATS["full"](build_report()).splitlines()
    source = lines.index(f"3 | {USERS_LINE}")
    assert lines[source - 1] == "app/api/users.py:3:16: BL501 " + (
        "Blocking call `time.sleep` in async function `list_users`"
    )
    assert lines[source + 1] == "  | " + " " * 15 + "^" * len("time.sleep(1)")
    assert lines[source + 2] == f"  = help: {BlockingCallInAsync.fix_text}"


def test_full_underlines_a_multi_line_span_to_the_end_of_its_first_line() -> None:
    lines = FORMATS["full"](build_report()).splitlines()
    source = lines.index(f"10 | {EXCEPT_LINE}")
    assert lines[source + 1] == "   |     " + "^" * len("except Exception:")


def test_full_shows_related_locations_as_notes_and_skips_unknown_source() -> None:
    text = FORMATS["full"](build_report())
    assert "  = note: app/b.py:2:1: `app.b` imports `app.a` here\n" in text
    block = text.split("\n\n")
    broken = next(part for part in block if part.startswith("app/broken.py"))
    assert broken == "app/broken.py:7:5: BL001 Cannot parse: unexpected indent"


def test_full_underlines_at_least_one_character() -> None:
    diagnostic = simple(span=Span.at_line_start(1))
    text = FORMATS["full"](report_of(diagnostic, snippets={"app/x.py": {1: "import time\n"}}))
    assert text.splitlines()[1:3] == ["1 | import time", "  | ^"]


def test_full_pads_carets_for_tabs_and_wide_characters() -> None:
    # Terminals draw a tab to the next stop and CJK characters two cells wide; copying the
    # tab and doubling wide characters keeps the carets under the code.
    text = "\t名前 = time.time()"
    start, end = columns(text, "time.time()")
    diagnostic = simple(span=Span(Position(1, start), Position(1, end)))
    rendered = FORMATS["full"](report_of(diagnostic, snippets={"app/x.py": {1: text}}))
    assert rendered.splitlines()[0] == "app/x.py:1:7: BL312 Call to `time.time()` reads the clock"
    assert rendered.splitlines()[2] == "  | \t" + " " * 7 + "^" * 11


def test_full_and_concise_summary_lines() -> None:
    for name in ("full", "concise"):
        assert FORMATS[name](build_report()).endswith(
            "\nFound 7 findings.\n"
            "No fixes available (1 hidden fix can be enabled with the `--unsafe-fixes` option).\n"
        )
        assert FORMATS[name](replace(build_report(), unsafe_fixes=True)).endswith(
            "\nFound 7 findings.\n[*] 1 fixable with the `--fix` option.\n"
        )
        fixed = replace(report_of(simple()), fixed=3)
        assert FORMATS[name](fixed).endswith("\nFound 4 findings (3 fixed, 1 remaining).\n")
        assert FORMATS[name](report_of(simple())).endswith("\nFound 1 finding.\n")
        assert FORMATS[name](report_of()) == "All checks passed!\n"
        assert "Found" not in FORMATS[name](build_report(quiet=True))
        assert FORMATS[name](Report([], RULES, ROOT, ROOT, VERSION, {}, quiet=True)) == ""


def test_full_separates_findings_with_one_blank_line() -> None:
    text = FORMATS["full"](report_of(simple(), simple(path="app/y.py")))
    assert text == (
        "app/x.py:1:1: BL312 Call to `time.time()` reads the clock\n"
        "\n"
        "app/y.py:1:1: BL312 Call to `time.time()` reads the clock\n"
        "\n"
        "Found 2 findings.\n"
    )


# The patterns editor plugins use on this shape (integrations.md §5).
FLYMAKE_RUFF = re.compile(r"^(.*):([0-9]+):([0-9]+): ([A-Za-z0-9-]+):? (.*)$")
VIM_ERRORFORMAT = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): (?P<message>.+)$")


def test_concise_lines_parse_with_editor_patterns() -> None:
    report = build_report()
    lines = FORMATS["concise"](report).splitlines()
    assert len(lines) == len(report.diagnostics) + 2  # the count and the fix hint
    for line, diagnostic in zip(lines, report.diagnostics, strict=False):
        match = FLYMAKE_RUFF.match(line)
        assert match is not None, line
        assert match.group(1) == diagnostic.path
        assert int(match.group(2)) == diagnostic.span.start.line
        assert int(match.group(3)) == diagnostic.span.start.column
        assert match.group(4) == diagnostic.code
        assert VIM_ERRORFORMAT.match(line) is not None
    assert f"{ORDERS}:10:5: BL202 " + BROAD_MESSAGE.replace("\n", " ") in lines


# --- JSON ----------------------------------------------------------------------------------

RUFF_FIELDS = {
    "code",
    "message",
    "filename",
    "location",
    "end_location",
    "fix",
    "noqa_row",
    "url",
}
BACKLINT_FIELDS = {"name", "severity", "help", "related"}


def test_json_has_ruffs_fields_and_absolute_paths() -> None:
    items = json.loads(FORMATS["json"](build_report()))
    assert len(items) == 7
    for item in items:
        assert set(item) >= RUFF_FIELDS | BACKLINT_FIELDS
        assert Path(item["filename"]).is_absolute()
    (sleep,) = by_code(items, "code", "BL501")
    assert sleep["filename"] == str(ROOT / "app" / "api" / "users.py")
    assert sleep["location"] == {"row": 3, "column": 16}
    assert sleep["end_location"] == {"row": 3, "column": 29}
    assert sleep["fix"] == {
        "applicability": "unsafe",
        "edits": [
            {
                "content": "await asyncio.sleep(1)",
                "end_location": {"row": 3, "column": 29},
                "location": {"row": 3, "column": 16},
            }
        ],
        "message": "Replace with `await asyncio.sleep(1)`",
    }
    assert sleep["noqa_row"] == 3
    assert sleep["url"] == BlockingCallInAsync.url()
    assert (sleep["name"], sleep["severity"]) == ("blocking-call-in-async", "error")
    assert sleep["help"] == BlockingCallInAsync.fix_text
    assert sleep["related"] == []


def test_json_related_noqa_row_and_unknown_codes() -> None:
    items = json.loads(FORMATS["json"](build_report()))
    (cycle,) = by_code(items, "code", "BL411")
    assert cycle["related"] == [
        {
            "filename": str(ROOT / "app" / "b.py"),
            "location": {"row": 2, "column": 1},
            "message": "`app.b` imports `app.a` here",
        }
    ]
    (secret,) = by_code(items, "code", "BL801")
    assert secret["noqa_row"] == 5
    (broken,) = by_code(items, "code", "BL001")
    assert broken["url"] is None
    assert broken["fix"] is None


def test_json_lines_is_one_object_per_line_matching_json() -> None:
    report = build_report()
    lines = FORMATS["json-lines"](report).splitlines()
    assert [json.loads(line) for line in lines] == json.loads(FORMATS["json"](report))
    assert FORMATS["json-lines"](report_of()) == ""
    assert FORMATS["json"](report_of()) == "[]\n"


# --- SARIF ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.Draft4Validator:
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    return jsonschema.Draft4Validator(
        schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    )


def schema_errors(validator: jsonschema.Draft4Validator, log: dict[str, Any]) -> list[str]:
    return [f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(log)]


def test_sarif_validates_against_the_schema(sarif_validator: jsonschema.Draft4Validator) -> None:
    log = sarif_of(build_report())
    assert len(log["runs"][0]["results"]) == 7
    assert schema_errors(sarif_validator, log) == []
    empty = sarif_of(report_of())
    assert empty["runs"][0]["results"] == []
    assert empty["runs"][0]["tool"]["driver"]["rules"] == []
    assert schema_errors(sarif_validator, empty) == []
    # The validator does reject what GitHub rejects, so the passes above mean something.
    broken = copy.deepcopy(log)
    location = broken["runs"][0]["results"][0]["locations"][0]
    location["physicalLocation"]["region"]["startColumn"] = 0
    assert schema_errors(sarif_validator, broken) != []


def run_github_checker(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(DATA / "check_github_sarif.py"), str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("empty", [False, True])
def test_sarif_passes_the_github_checker(tmp_path: Path, empty: bool) -> None:
    path = tmp_path / "backlint.sarif"
    path.write_text(FORMATS["sarif"](report_of() if empty else build_report()), encoding="utf-8")
    checked = run_github_checker(path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.strip() == f"{path} OK"


def test_github_checker_catches_a_missing_column_kind(tmp_path: Path) -> None:
    log = sarif_of(build_report())
    del log["runs"][0]["columnKind"]
    path = tmp_path / "ruff-shaped.sarif"
    path.write_text(json.dumps(log), encoding="utf-8")
    assert run_github_checker(path).returncode == 1


def test_sarif_log_and_driver() -> None:
    log = sarif_of(build_report())
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "backlint"
    assert driver["semanticVersion"] == driver["version"] == VERSION
    assert driver["informationUri"].startswith("https://")
    assert run["columnKind"] == "unicodeCodePoints"
    assert run["originalUriBaseIds"]["%SRCROOT%"]["description"]["text"]
    assert "uri" not in run["originalUriBaseIds"]["%SRCROOT%"]


def test_sarif_lists_exactly_the_rules_that_fired() -> None:
    run = sarif_of(build_report())["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    ids = [rule["id"] for rule in rules]
    assert ids == ["BL001", "BL202", "BL312", "BL411", "BL501", "BL801"]
    for result in run["results"]:
        assert ids[result["ruleIndex"]] == result["ruleId"]


def test_sarif_rules_carry_every_text_github_needs() -> None:
    rules = sarif_of(build_report())["runs"][0]["tool"]["driver"]["rules"]
    for rule in rules:
        for key in ("shortDescription", "fullDescription"):
            assert 0 < len(rule[key]["text"]) <= MAX_DESCRIPTION
        assert rule["help"]["text"]
        assert rule["help"]["markdown"]
        assert rule["helpUri"].startswith("https://")
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
        properties = rule["properties"]
        assert 0 < len(properties["tags"]) <= 20
        assert "backlint" in properties["tags"]
        assert properties["precision"] == "high"
        assert properties["problem.severity"] in ("error", "warning", "recommendation")
        if "security-severity" in properties:
            assert "security" in properties["tags"]
    (sleep,) = by_code(rules, "id", "BL501")
    assert sleep["name"] == "blocking-call-in-async"
    assert sleep["shortDescription"]["text"] == BlockingCallInAsync.summary
    assert sleep["fullDescription"]["text"] == BlockingCallInAsync.documentation()
    assert sleep["help"]["text"].startswith(BlockingCallInAsync.fix_text + "\n\n## What it does")
    assert sleep["help"]["markdown"] == BlockingCallInAsync.documentation()
    assert sleep["helpUri"] == BlockingCallInAsync.url()
    assert sleep["properties"]["tags"] == ["backlint", "async", "performance", "PQG-6"]
    assert "security-severity" not in sleep["properties"]
    (info,) = by_code(rules, "id", "BL312")
    assert info["defaultConfiguration"]["level"] == "note"
    assert info["properties"]["problem.severity"] == "recommendation"
    (secret,) = by_code(rules, "id", "BL801")
    assert secret["properties"]["security-severity"] == "7.5"
    assert secret["properties"]["tags"][:2] == ["backlint", "security"]


def test_sarif_builds_a_full_rule_for_an_unknown_code() -> None:
    rules = sarif_of(build_report())["runs"][0]["tool"]["driver"]["rules"]
    (unknown,) = by_code(rules, "id", "BL001")
    assert unknown["name"] == "syntax-error"
    assert "BL001" in unknown["shortDescription"]["text"]
    assert unknown["fullDescription"]["text"]
    assert unknown["help"]["text"]
    assert unknown["defaultConfiguration"]["level"] == "error"
    assert unknown["properties"]["tags"] == ["backlint", "meta"]


def test_sarif_truncates_long_docs_at_a_boundary() -> None:
    paragraph = "word " * 150  # 750 characters
    docs = f"{paragraph.strip()}\n\n{paragraph.strip()}"
    cut = truncate(docs)
    assert cut == paragraph.strip() + "…"
    one_paragraph = truncate("word " * 400)
    assert len(one_paragraph) <= MAX_DESCRIPTION
    assert one_paragraph.endswith("word…")
    assert truncate("short") == "short"

    class LongDocs(FatRouteHandler):
        __doc__ = docs

    report = Report([simple(code="BL101")], {"BL101": rule_info(LongDocs)}, ROOT, ROOT, VERSION, {})
    (rule,) = sarif_of(report)["runs"][0]["tool"]["driver"]["rules"]
    assert rule["fullDescription"]["text"] == cut
    assert rule["help"]["markdown"] == docs


def test_sarif_uris_are_root_relative_and_percent_encoded() -> None:
    run = sarif_of(build_report())["runs"][0]
    uris = set()
    for result in run["results"]:
        locations = [result["locations"][0], *result.get("relatedLocations", [])]
        for location in locations:
            artifact = location["physicalLocation"]["artifactLocation"]
            uri = artifact["uri"]
            assert ".." not in uri.split("/")
            assert not uri.startswith("/")
            assert ":" not in uri and "\\" not in uri
            assert artifact["uriBaseId"] == "%SRCROOT%"
            uris.add(uri)
    assert uris == {
        "app/a.py",
        "app/b.py",
        "app/api/users.py",
        "app/broken.py",
        "app/my%20services/orders.py",
        "app/settings.py",
    }


def test_sarif_uses_a_file_uri_outside_the_root() -> None:
    report = Report([simple(path="/elsewhere/x y.py")], RULES, ROOT, ROOT, VERSION, {})
    artifact = sarif_of(report)["runs"][0]["results"][0]["locations"][0]["physicalLocation"][
        "artifactLocation"
    ]
    assert artifact == {"uri": "file:///elsewhere/x%20y.py"}


def test_sarif_regions_count_code_points() -> None:
    results = sarif_of(build_report())["runs"][0]["results"]
    (sleep,) = by_code(results, "ruleId", "BL501")
    region = sleep["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 3, "startColumn": 16, "endLine": 3, "endColumn": 29}
    assert USERS_LINE[region["startColumn"] - 1 : region["endColumn"] - 1] == "time.sleep(1)"
    # The same place counted in UTF-8 bytes would start at 21.
    assert USERS_LINE.encode().index(b"time") + 1 == 21
    (broad,) = by_code(results, "ruleId", "BL202")
    assert broad["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 10,
        "startColumn": 5,
        "endLine": 12,
        "endColumn": 13,
    }


def test_sarif_results_levels_messages_and_related_locations() -> None:
    results = sarif_of(build_report())["runs"][0]["results"]
    assert [result["level"] for result in results] == [
        "error",
        "error",
        "error",
        "warning",
        "note",
        "note",
        "error",
    ]
    (broad,) = by_code(results, "ruleId", "BL202")
    assert broad["message"]["text"] == BROAD_MESSAGE
    (cycle,) = by_code(results, "ruleId", "BL411")
    assert cycle["relatedLocations"] == [
        {
            "id": 1,
            "physicalLocation": {
                "artifactLocation": {"uri": "app/b.py", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 2, "startColumn": 1, "endLine": 2, "endColumn": 18},
            },
            "message": {"text": "`app.b` imports `app.a` here"},
        }
    ]


def test_sarif_fingerprints_are_own_unique_and_survive_inserted_lines() -> None:
    def fingerprints(report: Report) -> list[str]:
        results = sarif_of(report)["runs"][0]["results"]
        assert all(list(result["partialFingerprints"]) == ["backlint/v1"] for result in results)
        return [result["partialFingerprints"]["backlint/v1"] for result in results]

    original = fingerprints(build_report())
    assert len(set(original)) == len(original)
    assert fingerprints(build_report(shift=40)) == original
    assert "primaryLocationLineHash" not in FORMATS["sarif"](build_report())


def test_sarif_fixes_only_on_fixable_results_and_they_apply() -> None:
    # An unsafe fix is only offered when --unsafe-fixes would apply it.
    results = sarif_of(build_report())["runs"][0]["results"]
    assert [result["ruleId"] for result in results if "fixes" in result] == []
    results = sarif_of(replace(build_report(), unsafe_fixes=True))["runs"][0]["results"]
    assert [result["ruleId"] for result in results if "fixes" in result] == ["BL501"]
    (sleep,) = by_code(results, "ruleId", "BL501")
    (fix,) = sleep["fixes"]
    assert fix["description"]["text"] == "Replace with `await asyncio.sleep(1)`"
    (change,) = fix["artifactChanges"]
    assert change["artifactLocation"]["uri"] == "app/api/users.py"
    (replacement,) = change["replacements"]
    deleted = replacement["deletedRegion"]
    fixed = (
        USERS_LINE[: deleted["startColumn"] - 1]
        + replacement["insertedContent"]["text"]
        + USERS_LINE[deleted["endColumn"] - 1 :]
    )
    assert fixed == 'x = "héllo—✓"; await asyncio.sleep(1)'


# --- GitHub Actions ------------------------------------------------------------------------

ANNOTATION = re.compile(
    r"^::(error|warning|notice) title=[^,]*,file=[^,]*,line=\d+(,col=\d+)?,"
    r"endLine=\d+(,endColumn=\d+)?::(.*)$"
)


def test_github_annotations_match_the_runner_syntax() -> None:
    report = build_report()
    lines = FORMATS["github"](report).splitlines()
    assert len(lines) == len(report.diagnostics)
    for line, diagnostic in zip(lines, report.diagnostics, strict=True):
        match = ANNOTATION.match(line)
        assert match is not None, line
        start = diagnostic.span.start
        assert match.group(4).startswith(
            f"{diagnostic.path}:{start.line}:{start.column}: {diagnostic.code} "
        )
        multi_line = diagnostic.span.end.line != start.line
        assert (match.group(2) is None) == multi_line
        assert (match.group(3) is None) == multi_line
    assert lines[0] == (
        "::error title=backlint (BL411),file=app/a.py,line=1,col=1,endLine=1,endColumn=18"
        "::app/a.py:1:1: BL411 Import cycle: app.a -> app.b -> app.a"
    )


def test_github_multi_line_span_and_escaping() -> None:
    lines = FORMATS["github"](build_report()).splitlines()
    (broad,) = [line for line in lines if "BL202" in line]
    assert broad == (
        "::warning title=backlint (BL202),file=app/my services/orders.py,line=10,endLine=12"
        "::app/my services/orders.py:10:5: BL202 Broad `except Exception:` swallows 100%25 of"
        " errors, retries included,%0Asilently"
    )
    assert [line.split(" ", 1)[0] for line in lines] == [
        "::error",
        "::error",
        "::error",
        "::warning",
        "::notice",
        "::notice",
        "::error",
    ]


def test_github_escapes_properties_and_clamps_columns() -> None:
    assert escape_data("100%\r\n: ,") == "100%25%0D%0A: ,"
    assert escape_property("a:b,c%d\ne") == "a%3Ab%2Cc%25d%0Ae"
    backwards = simple(path="app/a:b,c.py", span=Span(Position(4, 9), Position(4, 3)))
    (line,) = FORMATS["github"](report_of(backwards)).splitlines()
    assert line.startswith(
        "::notice title=backlint (BL312),file=app/a%3Ab%2Cc.py,line=4,col=9,endLine=4,endColumn=9::"
    )


# --- GitLab --------------------------------------------------------------------------------


def test_gitlab_code_quality_report() -> None:
    text = FORMATS["gitlab"](build_report())
    assert not text.startswith("\ufeff")
    issues = json.loads(text)
    assert isinstance(issues, list) and len(issues) == 7
    for issue in issues:
        assert issue["description"].startswith(issue["check_name"] + " ")
        assert issue["severity"] in ("info", "minor", "major", "critical", "blocker")
        assert re.fullmatch(r"[0-9a-f]{32}", issue["fingerprint"])
        assert not issue["location"]["path"].startswith(("/", "../"))
        assert issue["location"]["positions"]["begin"]["line"] >= 1
    fingerprints = [issue["fingerprint"] for issue in issues]
    assert len(set(fingerprints)) == len(fingerprints)
    (broad,) = by_code(issues, "check_name", "BL202")
    assert broad == {
        "description": f"BL202 {BROAD_MESSAGE}",
        "check_name": "BL202",
        "fingerprint": broad["fingerprint"],
        "severity": "minor",
        "location": {
            "path": ORDERS,
            "positions": {"begin": {"line": 10, "column": 5}, "end": {"line": 12, "column": 13}},
        },
    }
    assert [issue["severity"] for issue in by_code(issues, "check_name", "BL312")] == [
        "info",
        "info",
    ]


def test_gitlab_fingerprints_are_stable() -> None:
    def fingerprints(report: Report) -> list[str]:
        return [issue["fingerprint"] for issue in json.loads(FORMATS["gitlab"](report))]

    original = fingerprints(build_report())
    assert fingerprints(build_report(shift=3)) == original
    assert fingerprints(build_report(cwd=ROOT / "app")) == original


def test_gitlab_paths_follow_the_root_not_the_working_directory() -> None:
    report = build_report(cwd=ROOT / "app", root=ROOT / "app")
    paths = {issue["location"]["path"] for issue in json.loads(FORMATS["gitlab"](report))}
    assert paths == {"a.py", "api/users.py", "broken.py", "my services/orders.py", "settings.py"}


# --- statistics ----------------------------------------------------------------------------


def test_statistics_sorted_by_count_then_code() -> None:
    assert render_statistics(build_report()).splitlines() == [
        "    2\tBL312\t[ ] implicit-clock-or-entropy",
        "    1\tBL001\t[ ] syntax-error",
        "    1\tBL202\t[ ] swallowed-broad-except",
        "    1\tBL411\t[ ] import-cycle",
        "    1\tBL501\t[ ] blocking-call-in-async",
        "    1\tBL801\t[ ] hardcoded-secret-assignment",
    ]
    assert render_statistics(report_of()) == ""
    # BL501's fix is unsafe: fixable only with --unsafe-fixes.
    unsafe = render_statistics(replace(build_report(), unsafe_fixes=True))
    assert "    1\tBL501\t[*] blocking-call-in-async" in unsafe.splitlines()


# --- the gate report -------------------------------------------------------------------

# The fake rules with the gate tags the real ones carry.
GATED = {
    **RULES,
    "BL411": replace(RULES["BL411"], tags=("architecture", "PQG-3")),
    "BL312": replace(RULES["BL312"], tags=("architecture", "PQG-3")),
}


def test_markdown_passes_with_no_findings_and_names_the_revision() -> None:
    report = replace(report_of(), new_from_rev="origin/main")
    text = FORMATS["markdown"](report)
    assert "**Verdict: passed** (0 findings new since `origin/main`)." in text
    assert ":x:" not in text


def test_markdown_information_findings_do_not_fail_a_gate() -> None:
    info = simple(code="BL411", name="import-cycle", severity=Severity.INFO)
    text = FORMATS["markdown"](replace(report_of(info), rules=GATED))
    assert "**Verdict: passed** (1 finding)." in text
    assert "| PQG-3 Architecture | :white_check_mark: pass | 1 |" in text


def test_markdown_a_gate_no_enabled_rule_checks_is_not_checked() -> None:
    warning = simple(severity=Severity.WARNING)
    report = replace(report_of(warning), rules=GATED, enabled=frozenset({"BL312"}))
    text = FORMATS["markdown"](report)
    assert "| PQG-3 Architecture | :x: fail | 1 |" in text
    assert "| PQG-2 Contract | :heavy_minus_sign: not checked | 0 |" in text
    assert "| PQG-6 Operational and security | :heavy_minus_sign: not checked | 0 |" in text


def test_markdown_escapes_text_but_not_code_spans() -> None:
    finding = simple(message="Call to `a<b>|c` in <lambda> | *now*")
    text = FORMATS["markdown"](report_of(finding))
    assert "Call to `a<b>|c` in \\<lambda\\> \\| \\*now\\*" in text


def test_markdown_links_to_the_commit_on_github() -> None:
    environment = {
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "acme/shop",
        "GITHUB_SHA": "0123abc",
    }
    report = replace(
        report_of(simple(span=Span(Position(7, 1), Position(7, 2)))),
        links=github_links(environment),
    )
    text = FORMATS["markdown"](report)
    assert "[app/x.py:7](https://github.com/acme/shop/blob/0123abc/app/x.py#L7)" in text
    assert github_links({}) is None
