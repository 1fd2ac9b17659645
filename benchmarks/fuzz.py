#!/usr/bin/env python3
"""The long run of the property tests: thousands of generated programs through backlint.

The suite (``tests/test_properties.py``) runs a few dozen examples per property, the same
ones every time. This script runs the same properties (``tests/program_properties.py``)
with as many examples as asked, from a seed, and writes any falsifying example as a small
project one can rerun with ``backlint check``::

    python benchmarks/fuzz.py                          # 2000 examples per property, seed 0
    python benchmarks/fuzz.py --examples 10000 --seed 7 --property fix
    python benchmarks/fuzz.py --out /tmp/fuzz-failures

Properties: ``generated`` (hypothesmith programs: no internal error or exception, every
finding, fix edit and related location inside the file), ``backend`` (the same on programs
spliced into backend-shaped templates), ``fix`` (``--fix --unsafe-fixes`` keeps a
parseable program parseable, and a second run changes nothing) and ``project`` (all of
that on a project of two or three such files importing each other, checked and fixed
from disk as a whole). Exits 1 when a property fails. Needs the ``dev`` extra
(hypothesis, hypothesmith). The generated code is only parsed, never run.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, assume, given, seed, settings
from hypothesis import strategies as st

# The properties live with the tests, which are not a package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from program_properties import (
    Program,
    Project,
    backend_programs,
    check_problems,
    fix_twice,
    generated_programs,
    parses,
    programs_to_fix,
    project_problems,
    projects,
    write_project,
)

PROPERTIES = ("generated", "backend", "fix", "project")


@dataclass
class Failure:
    """The last failing example: after shrinking, Hypothesis replays the smallest one."""

    programs: tuple[Program, ...] = ()
    problems: list[str] = field(default_factory=list)


@dataclass
class Tally:
    examples: int = 0
    events: Counter[str] = field(default_factory=Counter)


def _violations(check: Callable[[], list[str]]) -> list[str]:
    """The check's violations; an exception is one too (with where it was raised)."""
    try:
        return check()
    except Exception as error:
        where = traceback.extract_tb(error.__traceback__)[-1]
        return [f"raised {type(error).__name__}: {error} ({where.filename}:{where.lineno})"]


Programs = tuple[Program, ...]


def _property(
    name: str, project: Project, failure: Failure, tally: Tally
) -> tuple[st.SearchStrategy[Programs], Callable[[Programs], None]]:
    """The examples of property ``name`` (one program, or a project's), and its check."""

    def check_run(programs: Programs) -> None:
        (program,) = programs
        tally.examples += 1
        _record(programs, _violations(lambda: check_problems(project, program)), failure)

    def check_fixes(programs: Programs) -> None:
        (program,) = programs
        assume(parses(program))
        tally.examples += 1

        def run() -> list[str]:
            fixed = fix_twice(project, program)
            tally.events["fixes applied" if fixed.fixed else "nothing to fix"] += 1
            return fixed.problems

        _record(programs, _violations(run), failure)

    def check_project(programs: Programs) -> None:
        tally.examples += 1
        _record(programs, _violations(lambda: project_problems(programs)), failure)

    if name == "project":
        return projects(), check_project
    if name == "generated":
        return generated_programs().map(_alone), check_run
    if name == "backend":
        return backend_programs().map(_alone), check_run
    return programs_to_fix().map(_alone), check_fixes


def _alone(program: Program) -> Programs:
    return (program,)


def _record(programs: Programs, problems: list[str], failure: Failure) -> None:
    if problems:
        failure.programs, failure.problems = programs, problems
    assert not problems, problems


def run_property(name: str, examples: int, seed_value: int, out: Path) -> bool:
    """Run one property; print and write its falsifying example. True if it held."""
    project = Project.create()
    failure, tally = Failure(), Tally()
    strategy, check = _property(name, project, failure, tally)
    test = seed(seed_value)(
        settings(
            max_examples=examples,
            deadline=None,
            database=None,
            print_blob=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )(given(strategy)(check))
    )
    started = time.perf_counter()
    try:
        test()
    except Exception:  # the property failed: Hypothesis has shrunk and replayed it
        held = False
    else:
        held = True
    elapsed = time.perf_counter() - started
    events = ", ".join(f"{count} {event}" for event, count in sorted(tally.events.items()))
    print(
        f"{name}: {tally.examples} checks in {elapsed:.0f} s" + (f" ({events})" if events else "")
    )
    if held:
        print(f"{name}: holds")
        return True
    if not failure.programs:  # Hypothesis itself failed
        print(f"{name}: failed before any example was checked")
        return False
    _report(name, failure, out)
    return False


def _report(name: str, failure: Failure, out: Path) -> None:
    """Write the failing programs as a project, and say how to rerun them."""
    programs = failure.programs
    digest = hashlib.sha256(
        "\0".join(f"{p.path}\0{p.source}" for p in programs).encode("utf-8")
    ).hexdigest()[:10]
    folder = out / f"{name}-{digest}"
    folder.mkdir(parents=True, exist_ok=True)
    write_project(folder, programs)
    paths = " ".join(program.path for program in programs) if name != "project" else "."
    print(f"{name}: FAILS")
    for problem in failure.problems:
        print(f"  {problem}")
    for program in programs:
        print(f"  the program: {folder / program.path}")
    print("  rerun it with:")
    print(f"    cd {folder} && backlint check --include-low-confidence {paths}")
    if name in ("fix", "project"):
        print(f"    cd {folder} && backlint check --fix --unsafe-fixes --diff {paths}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=2000, help="examples per property")
    parser.add_argument("--seed", type=int, default=0, help="the random seed (default 0)")
    parser.add_argument(
        "--property",
        choices=PROPERTIES,
        action="append",
        help="run only this property (repeatable; default: all)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="where falsifying examples are written (default: a new temporary folder)",
    )
    args = parser.parse_args(argv)
    # hypothesmith compiles what it generates; Python warns about much of it.
    warnings.simplefilter("ignore", SyntaxWarning)
    out = args.out or Path(tempfile.mkdtemp(prefix="backlint-fuzz-"))
    held = [
        run_property(name, args.examples, args.seed, out) for name in args.property or PROPERTIES
    ]
    return 0 if all(held) else 1


if __name__ == "__main__":
    sys.exit(main())
