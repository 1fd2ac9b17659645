"""Generated programs and the properties every backlint run must have on them.

Shared by ``tests/test_properties.py`` (a bounded number of examples in the suite) and
``benchmarks/fuzz.py`` (the long run). The programs come from hypothesmith: from Python's
grammar, from libcst's node types, and spliced into small backend-shaped templates (a
FastAPI route, a Django view, a test with mocks, a lazy singleton, swallowed exceptions,
a migration), because random programs alone rarely look like backend code and so rarely
trigger the rules, let alone their fixes.

The properties, checked through the public API only (``CheckRequest``/``run_check`` with
the program as stdin, and ``fix_until_stable``):

- the run reports no internal error and raises nothing, whatever the program;
- every finding, its fix edits and its related locations in the same file lie inside the
  file, with Python's idea of lines (only ``\\r\\n``, ``\\r`` and ``\\n`` end a line);
- on a program that parses, ``--fix --unsafe-fixes`` never breaks it (no fix is dropped for
  breaking the file, the result parses with ``ast`` and libcst) and a second fix run
  changes nothing.

Each check returns a list of violations (empty when the property holds) rather than
asserting, so that the fuzz script can report them with the program that caused them.
The generated code is only parsed, never executed.
"""

from __future__ import annotations

import functools
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import hypothesmith
import libcst as cst
from hypothesis import strategies as st

from backlint.application import CheckRequest, CheckResult, run_check
from backlint.diagnostics import Position, Span
from backlint.fixes.run import fix_until_stable, write_fixed
from backlint.source import parses_as_python, split_lines

# What Python's tokenizer ends a line with; ``str.splitlines`` also splits on form feeds,
# vertical tabs and Unicode separators, which Python allows inside a line.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")

# The configuration of the project the programs are checked in: every rule, preview too.
PYPROJECT = '[tool.backlint]\npreview = true\nselect = ["ALL"]\n'


@dataclass(frozen=True)
class Program:
    """A generated source and the path it is checked under (which sets its role)."""

    path: str
    source: str


@dataclass(frozen=True)
class Project:
    """A folder with a backlint configuration that programs are checked in as stdin."""

    root: Path

    @staticmethod
    def create(root: Path | None = None) -> Project:
        root = root or Path(tempfile.mkdtemp(prefix="backlint-properties-"))
        (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
        return Project(root)

    def request(self, program: Program, source: str | None = None) -> CheckRequest:
        text = program.source if source is None else source
        return CheckRequest(
            paths=(),
            cwd=self.root,
            select=("ALL",),
            preview=True,
            include_low_confidence=True,
            stdin_filename=program.path,
            stdin_data=text.encode("utf-8"),
            jobs=1,
        )


# --- the properties ------------------------------------------------------------------------


def python_lines(text: str) -> list[str]:
    """The lines of ``text`` as Python counts them, without their line breaks."""
    lines = _LINE_BREAK.split(text)
    if lines[-1] == "":
        lines.pop()  # the text ends with a line break (or is empty)
    return lines


def position_problem(position: Position, lines: list[str]) -> str | None:
    """Why ``position`` is not a place in a text of ``lines``, or None if it is.

    Columns count code points from 1; a column one past the end of a line is its end. The
    position just after a final line break (line ``len(lines) + 1``, column 1) is the end
    of the file.
    """
    line, column = position.line, position.column
    if line < 1 or column < 1:
        return f"{line}:{column} is before the start of the file"
    if line <= len(lines):
        width = len(lines[line - 1])
        return None if column <= width + 1 else f"{line}:{column} is past the end of a line"
    if line == len(lines) + 1 and column == 1:
        return None
    return f"{line}:{column} is past the end of the file ({len(lines)} lines)"


def span_problem(span: Span, lines: list[str]) -> str | None:
    for position in (span.start, span.end):
        problem = position_problem(position, lines)
        if problem is not None:
            return problem
    if span.end < span.start:
        return f"the span ends ({span.end}) before it starts ({span.start})"
    return None


def check_problems(project: Project, program: Program) -> list[str]:
    """Violations of "no internal error, every location inside the file"."""
    result = run_check(project.request(program))
    return run_problems(result) + location_problems(result, {program.path: program.source})


def run_problems(result: CheckResult) -> list[str]:
    return [f"internal error: {problem.message}" for problem in result.internal_errors]


def location_problems(result: CheckResult, sources: Mapping[str, str]) -> list[str]:
    """Violations of "every finding, fix edit and related location lies inside its file";
    ``sources`` holds the text of every file of the run by display path."""
    lines = {path: python_lines(source) for path, source in sources.items()}
    problems = []
    for diagnostic in result.diagnostics:
        where = f"{diagnostic.path}:{diagnostic.span.start.line}:{diagnostic.span.start.column}"
        where += f" {diagnostic.code}"
        if diagnostic.path not in lines:
            problems.append(f"{where}: reported in a file outside the run")
            continue
        spans = [(diagnostic.path, "span", diagnostic.span)]
        if diagnostic.fix is not None:
            spans += [(diagnostic.path, "fix edit", edit.span) for edit in diagnostic.fix.edits]
        spans += [(related.path, "related", related.span) for related in diagnostic.related]
        for path, kind, span in spans:
            if path not in lines:
                problems.append(f"{where}: {kind} location in a file outside the run: {path}")
                continue
            problem = span_problem(span, lines[path])
            if problem is not None:
                problems.append(f"{where}: {kind}: {problem}")
        if not 0 <= diagnostic.noqa_line <= max(len(lines[diagnostic.path]), 1):
            problems.append(f"{where}: noqa line {diagnostic.noqa_line} is outside the file")
    return problems


@dataclass(frozen=True)
class FixRun:
    """What ``--fix --unsafe-fixes`` made of a program, and what went wrong."""

    text: str
    fixed: int
    problems: list[str]


def fix(project: Project, program: Program, source: str | None = None) -> FixRun:
    """Run the fix loop with unsafe fixes on ``source`` (default: the program's)."""
    request = project.request(program, source)
    outcome = fix_until_stable(request, run_check(request), unsafe=True)
    text = outcome.stdin_text
    assert text is not None  # the program is valid UTF-8: stdin is always read
    problems = run_problems(outcome.result)
    problems += [f"fix loop: {problem.message}" for problem in outcome.problems]
    if not outcome.converged:
        problems.append("the fixes did not settle")
    if not parses_as_python(text):
        problems.append("the fixed program does not parse")
    return FixRun(text, outcome.fixed_count, problems)


def fix_twice(project: Project, program: Program) -> FixRun:
    """The first fix run, with the violations of "fixes keep a parseable program
    parseable, and a second run changes nothing". Only meaningful for a program that
    parses (``parses_as_python``)."""
    first = fix(project, program)
    if first.problems:
        return first
    second = fix(project, program, first.text)
    problems = [f"second fix run: {problem}" for problem in second.problems]
    if second.fixed or second.text != first.text:
        problems.append(f"a second fix run changed the program again ({second.fixed} fixes)")
    return FixRun(first.text, first.fixed, problems)


def project_problems(programs: Sequence[Program]) -> list[str]:
    """The properties on a project of several files, checked from disk as a whole: no
    internal error, every location inside its file; and when every file parses, fixes
    keep them parseable, and once written a second fix run changes nothing."""
    with tempfile.TemporaryDirectory(prefix="backlint-properties-") as folder:
        root = Path(folder)
        write_project(root, programs)
        request = CheckRequest(
            paths=(root,),
            cwd=root,
            select=("ALL",),
            preview=True,
            include_low_confidence=True,
            jobs=1,
        )
        result = run_check(request)
        sources = {program.path: program.source for program in programs}
        sources["pyproject.toml"] = PYPROJECT
        problems = run_problems(result) + location_problems(result, sources)
        if problems or not all(parses(program) for program in programs):
            return problems
        outcome = fix_until_stable(request, result, unsafe=True)
        problems += [f"fix loop: {p.path}: {p.message}" for p in outcome.problems]
        problems += [
            f"{display}: the fixed file does not parse"
            for display, fixed in sorted(outcome.changed.items())
            if not parses_as_python(fixed.text)
        ]
        if problems:
            return problems
        write_fixed(outcome)
        again = fix_until_stable(request, run_check(request), unsafe=True)
        if again.fixed_count or again.changed:
            problems.append(f"a second fix run changed {sorted(again.changed)} again")
        return problems


def write_project(root: Path, programs: Sequence[Program]) -> None:
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    for program in programs:
        target = root / program.path
        target.parent.mkdir(parents=True, exist_ok=True)
        # Bytes as generated: a ``\r`` or ``\r\n`` line break must stay what it is.
        target.write_bytes(program.source.encode("utf-8"))


# --- the programs --------------------------------------------------------------------------

# Paths that give a program each role rules look at.
PATHS = (
    "app/services/orders.py",
    "app/api/routes/items.py",
    "app/orders/views.py",
    "app/orders/repository.py",
    "app/domain/order.py",
    "app/schemas/order.py",
    "tests/test_orders.py",
    "tests/conftest.py",
    "app/orders/migrations/0002_backfill.py",
    "migrations/versions/0002_backfill.py",
    "app/orders/urls.py",
    "app/__init__.py",
    "scripts/seed.py",
)

# Statements that backend rules look for; spliced into templates with generated ones.
BACKEND_STATEMENTS = (
    "time.sleep(1)",
    "requests.get(url, timeout=5)",
    "data = open(path).read()",
    "rows = session.query(Order).all()",
    "session.commit()",
    "Order.objects.filter(active=True).update(active=False)",
    "now = datetime.now()",
    "token = uuid.uuid4()",
    "password = 'hunter2-hunter2'",
    "logger.info('login %s with %s', user.email, password)",
    "_CACHE[key] = value",
    "_CACHE.setdefault(key, []).append(value)",
    "global _client\n_client = Client()",
    "try:\n    send()\nexcept:\n    pass",
    "try:\n    send()\nexcept Exception:\n    pass",
    "try:\n    send()\nexcept Exception as error:\n    logger.warning(error)",
    "for item in items:\n    try:\n        handle(item)\n    except: continue",
    "with open(path) as handle:\n    handle.write(data)",
    "client.post.assert_called_once_with(1)",
    "repo.save.assert_called()",
    "assert result == time.time()",
    "x = 1  # noqa: BL201",
    "y = 2  # noqa: BL999, E501",
    "# backlint: noqa: BL202",
    "return {'ok': True}",
    "pass",
)

# Templates: a slot is a line holding only ``__TOP__`` or ``__BODY__``, indented as the
# statements that replace it must be.
TEMPLATES = (
    (
        "app/api/routes/items.py",
        """\
import time

import requests
from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

router = APIRouter()
__TOP__


@router.get("/items/{item_id}")
async def read_item(item_id: int, session: Session = Depends(get_session)):
    __BODY__
    return {"id": item_id}


@router.post("/items")
def create_item(item: ItemIn, session: Session = Depends(get_session)):
    session.add(Item(**item.dict()))
    __BODY__
    session.commit()
""",
    ),
    (
        "app/orders/views.py",
        """\
from django.http import JsonResponse
from django.views import View

from .models import Order
__TOP__


def order_list(request):
    __BODY__
    orders = Order.objects.filter(active=True)
    try:
        notify(request.user)
    except:
        pass
    return JsonResponse({"orders": list(orders.values())})


class OrderView(View):
    def get(self, request, pk):
        __BODY__
        return JsonResponse({"id": Order.objects.get(pk=pk).pk})
""",
    ),
    (
        "tests/test_orders.py",
        """\
import time
from unittest import mock

import pytest
__TOP__


@pytest.mark.flaky(reruns=3)
def test_order(monkeypatch):
    client = mock.MagicMock()
    repo = mock.Mock()
    __BODY__
    client.send.assert_called_once_with(1)


class TestOrders:
    def test_total(self):
        __BODY__
        assert total([1, 2]) == 3
""",
    ),
    (
        "app/services/cache.py",
        """\
import os

_CACHE = {}
_client = None
__TOP__


def get_client():
    global _client
    if _client is None:
        _client = Client(os.environ["CACHE_URL"])
    return _client


def remember(key, value):
    __BODY__
    _CACHE[key] = value
""",
    ),
    (
        "app/services/mailer.py",
        """\
import logging

logger = logging.getLogger(__name__)
__TOP__


async def send_all(messages):
    for message in messages:
        try:
            __BODY__
            send(message)
        except Exception:
            pass
        try:
            send(message)
        except:
            __BODY__
            pass
""",
    ),
    (
        "app/orders/migrations/0002_backfill.py",
        """\
from django.db import migrations
__TOP__


def forwards(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    __BODY__
    try:
        Order.objects.update(paid=True)
    except:
        pass


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial")]
    operations = [
        migrations.RunPython(forwards),
        migrations.RunSQL("UPDATE orders SET paid = 1"),
    ]
""",
    ),
)

_SLOT = re.compile(r"^([ \t]*)(__TOP__|__BODY__)$")


def indent(code: str, prefix: str) -> str:
    """``code`` with every line (as Python counts lines) indented by ``prefix``."""
    return "".join(prefix + line for line in split_lines(code, keepends=True))


def fill(template: str, pieces: dict[str, list[str]]) -> str:
    """``template`` with each slot line replaced by its pieces (or dropped when none).

    A piece keeps its own line breaks; a piece without a final one gets the template's.
    """
    out: list[str] = []
    for line in split_lines(template, keepends=True):
        body = line.rstrip("\r\n")
        slot = _SLOT.match(body)
        if slot is None:
            out.append(line)
            continue
        newline = line[len(body) :] or "\n"
        for piece in pieces.get(slot.group(2), []):
            text = piece if piece.endswith(("\n", "\r")) else piece + newline
            out.append(indent(text, slot.group(1)))
    return "".join(out)


def restyle(template: str, indentation: str, newline: str) -> str:
    """``template`` (indented by four spaces, ``\\n`` line breaks) with another indentation
    unit and line break; slots keep their place in the new indentation."""
    lines = []
    for line in template.split("\n"):
        body = line.lstrip(" ")
        depth = (len(line) - len(body)) // 4
        lines.append(indentation * depth + body)
    return newline.join(lines)


# ``targeted``: hypothesmith steers towards larger programs with ``hypothesis.target()``,
# whose labels may be used once per example: a strategy drawn several times in one
# example (a template's slots, the files of a project) must not target.


@functools.cache
def grammar_modules(targeted: bool = True) -> st.SearchStrategy[str]:
    """Modules from Python's grammar. Built once: building the grammar's parser is slow."""
    return hypothesmith.from_grammar(auto_target=targeted)


@functools.cache
def node_modules(targeted: bool = True) -> st.SearchStrategy[str]:
    """Modules from libcst's node types."""
    return hypothesmith.from_node(cst.Module, auto_target=targeted)


def generated_modules(targeted: bool = True) -> st.SearchStrategy[str]:
    """Whole modules from hypothesmith: from Python's grammar and from libcst's nodes."""
    return st.one_of(grammar_modules(targeted), node_modules(targeted))


def generated_programs(targeted: bool = True) -> st.SearchStrategy[Program]:
    """A generated module under a path of some role."""
    return st.builds(Program, st.sampled_from(PATHS), generated_modules(targeted))


@st.composite
def backend_programs(draw: st.DrawFn) -> Program:
    """A backend-shaped template with generated and backend statements in its slots."""
    path, template = draw(st.sampled_from(TEMPLATES))
    # Tabs and CRLF or CR line breaks move positions and fixes off the beaten track.
    indentation = draw(st.sampled_from(("    ", "\t", "  ")))
    newline = draw(st.sampled_from(("\n", "\r\n", "\r")))
    template = restyle(template, indentation, newline)
    statements = st.one_of(st.sampled_from(BACKEND_STATEMENTS), grammar_modules(False))
    pieces = {
        "__TOP__": draw(st.lists(statements, max_size=2)),
        "__BODY__": draw(st.lists(statements, max_size=3)),
    }
    return Program(path, fill(template, pieces))


def programs_to_fix() -> st.SearchStrategy[Program]:
    """Mostly backend-shaped programs, where fixes fire; generated ones too, untargeted:
    Hypothesis's targeting phase would otherwise spend a long run growing generated
    programs, on which fixes rarely fire."""
    return st.one_of(backend_programs(), backend_programs(), generated_programs(targeted=False))


def parses(program: Program) -> bool:
    return parses_as_python(program.source)


def module_of(path: str) -> str | None:
    """The module a path holds, or None when it cannot be imported by name."""
    parts = path.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts) if all(part.isidentifier() for part in parts) else None


@st.composite
def projects(draw: st.DrawFn) -> tuple[Program, ...]:
    """Two or three programs at different paths, each importing the next, so that the
    project pass has an import graph (with a cycle) and cross-file questions to answer."""
    programs = draw(
        st.lists(
            # Grammar programs only: libcst's nodes often go too deep to draw many.
            st.one_of(
                backend_programs(),
                st.builds(Program, st.sampled_from(PATHS), grammar_modules(targeted=False)),
            ),
            min_size=2,
            max_size=3,
            unique_by=lambda program: program.path,
        )
    )
    linked = []
    for index, program in enumerate(programs):
        target = module_of(programs[(index + 1) % len(programs)].path)
        header = f"import {target}\n" if target else ""
        linked.append(Program(program.path, header + program.source))
    return tuple(linked)
