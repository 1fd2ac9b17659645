"""Property tests: whatever the program, a run does not crash, its findings lie inside the
file, and ``--fix --unsafe-fixes`` keeps a parseable program parseable and settles.

The programs and the checks are in ``program_properties.py`` (shared with
``benchmarks/fuzz.py``, the long run). The number of examples comes from the Hypothesis
profile (``conftest.py``): a few dozen per property in the suite.
"""

from __future__ import annotations

import pytest
from hypothesis import assume, event, given
from program_properties import (
    TEMPLATES,
    Program,
    Project,
    backend_programs,
    check_problems,
    fill,
    fix,
    fix_twice,
    generated_programs,
    parses,
    position_problem,
    programs_to_fix,
    project_problems,
    projects,
    python_lines,
    span_problem,
)

from backlint.diagnostics import Position, Span

# hypothesmith compiles what it generates; Python warns about much of it.
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return Project.create(tmp_path_factory.mktemp("properties"))


@given(program=generated_programs())
def test_a_generated_program_is_checked_without_error_and_findings_lie_inside_it(
    project: Project, program: Program
) -> None:
    assert check_problems(project, program) == []


@given(program=backend_programs())
def test_a_backend_shaped_program_is_checked_without_error_and_findings_lie_inside_it(
    project: Project, program: Program
) -> None:
    assert check_problems(project, program) == []


@given(program=programs_to_fix())
def test_unsafe_fixes_keep_a_program_parseable_and_a_second_run_changes_nothing(
    project: Project, program: Program
) -> None:
    assume(parses(program))
    run = fix_twice(project, program)
    event("fixes applied" if run.fixed else "nothing to fix")
    assert run.problems == []


@given(programs=projects())
def test_a_project_of_generated_files_is_checked_and_fixed_as_a_whole(
    programs: tuple[Program, ...],
) -> None:
    assert project_problems(programs) == []


# --- the strategies and checks themselves ------------------------------------------------


@pytest.mark.parametrize(("path", "template"), TEMPLATES, ids=[path for path, _ in TEMPLATES])
def test_every_template_parses_and_has_fixes_to_apply(
    project: Project, path: str, template: str
) -> None:
    # The templates are there so that fixes fire: an empty one must already offer some.
    program = Program(path, fill(template, {}))
    assert parses(program)
    assert fix(project, program).fixed > 0


def test_slots_take_statements_at_their_indentation() -> None:
    template = "def f():\n    __BODY__\n    return 1\n__TOP__\n"
    filled = fill(template, {"__BODY__": ["if x:\n    y()", "z = 1\r\n"], "__TOP__": ["a = 2"]})
    assert filled == "def f():\n    if x:\n        y()\n    z = 1\r\n    return 1\na = 2\n"


def test_lines_are_pythons_lines() -> None:
    assert python_lines("") == []
    assert python_lines("a\r\nb\rc\n") == ["a", "b", "c"]
    assert python_lines("a\x0cb\x1cc\u2028d") == ["a\x0cb\x1cc\u2028d"]


def test_positions_outside_the_file_are_caught() -> None:
    lines = ["x = 1", ""]
    assert position_problem(Position(1, 6), lines) is None  # the end of the line
    assert position_problem(Position(3, 1), lines) is None  # the end of the file
    assert position_problem(Position(1, 7), lines) is not None
    assert position_problem(Position(3, 2), lines) is not None
    assert position_problem(Position(0, 1), lines) is not None
    backwards = Span(Position(1, 3), Position(1, 2))
    assert span_problem(backwards, lines) is not None


def test_a_fix_loop_problem_is_a_violation(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    import program_properties

    # A fix loop whose result does not parse: the property must say so.
    monkeypatch.setattr(program_properties, "parses_as_python", lambda text: False)
    program = Program("app/services/example.py", "try:\n    send()\nexcept:\n    pass\n")
    assert "the fixed program does not parse" in fix(project, program).problems
