"""The loop behind ``--fix``, ``--diff`` and ``--fix-only``: check, apply, check again.

Each round applies every fix that does not overlap another (``apply.py``) to the files in
memory, then checks the project again with the fixed text in place of what is on disk:
fixes that waited for an overlapping one, and findings that only appear once another fix
landed, are handled in the next round. Files that did not change keep their per-file
results, so a round after the first re-reads little. The loop stops when a round fixes
nothing, or after ``MAX_ROUNDS`` with a message (a rule whose fix brings its own finding
back would otherwise loop for ever).

A fixed Python file must parse again; if it does not, that file's fixes of the round are
dropped, the file is left as it was for the rest of the run, and the run says so. Nothing
is written here: the caller writes ``FixOutcome.changed`` (``--fix``) or prints it as a
diff (``--diff``).
"""

from __future__ import annotations

import ast
import difflib
import sys
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import libcst as cst

from backlint.application import CheckRequest, CheckResult, run_check
from backlint.diagnostics import Diagnostic, RunProblem
from backlint.fixes.apply import apply_fixes
from backlint.source import Source, SourceError, decode, read_source, write_atomically

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

MAX_ROUNDS = 10

_PYTHON_SUFFIXES = (".py", ".pyi")


@dataclass
class FixedFile:
    path: Path
    display: str
    original: Source
    text: str  # the fixed text

    @property
    def data(self) -> bytes:
        return self.original.encode(self.text)


@dataclass
class FixOutcome:
    """What the loop did. ``result`` is the check of the fixed text: what remains."""

    result: CheckResult
    changed: dict[str, FixedFile] = field(default_factory=dict)  # by display path
    fixed: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (path, code, name)
    problems: list[RunProblem] = field(default_factory=list)
    converged: bool = True
    # The stdin source before and after fixing, when stdin was checked, and its name.
    stdin_original: str | None = None
    stdin_text: str | None = None
    stdin_name: str = "-"

    @property
    def fixed_count(self) -> int:
        return sum(self.fixed.values())

    @property
    def stdin_changed(self) -> bool:
        return self.stdin_text != self.stdin_original

    def stdin_diff(self) -> str:
        if self.stdin_original is None or self.stdin_text is None or not self.stdin_changed:
            return ""
        return "".join(_diff(self.stdin_name, self.stdin_original, self.stdin_text))


def fix_until_stable(request: CheckRequest, first: CheckResult, unsafe: bool) -> FixOutcome:
    """Starting from ``first`` (the check of ``request``), apply the applicable fixes in
    memory and check again until nothing changes. Raises ``ConfigError`` like
    ``run_check``.
    """
    result = first
    outcome = FixOutcome(result, stdin_name=request.stdin_filename or "-")
    frozen: set[str] = set()  # files whose fixes broke them: left alone from then on
    stdin_text = outcome.stdin_original = _stdin_text(request)
    for _round in range(MAX_ROUNDS):
        touched: set[str] = set()
        for display, diagnostics in sorted(_fixable(result, unsafe, frozen).items()):
            if request.stdin_data is not None:
                if stdin_text is None:
                    continue
                new = _fix_text(display, stdin_text, diagnostics, outcome, frozen)
                if new is not None:
                    stdin_text = new
                    touched.add(display)
                continue
            if display not in result.sources:
                continue
            fixed = outcome.changed.get(display) or _load(display, result.sources[display])
            if fixed is None:
                frozen.add(display)
                continue
            new = _fix_text(display, fixed.text, diagnostics, outcome, frozen)
            if new is not None:
                fixed.text = new
                outcome.changed[display] = fixed
                touched.add(display)
        if not touched:
            break
        result = run_check(_next_request(request, outcome, result, touched, stdin_text))
    # Cut short with fixes still on offer: a fix that keeps bringing its finding back.
    outcome.converged = not _fixable(result, unsafe, frozen)
    outcome.result = result
    outcome.stdin_text = stdin_text
    # A file fixed back to what it was (one fix undoing another) is not changed.
    outcome.changed = {
        display: fixed
        for display, fixed in outcome.changed.items()
        if fixed.text != fixed.original.text
    }
    return outcome


def _fixable(result: CheckResult, unsafe: bool, frozen: set[str]) -> dict[str, list[Diagnostic]]:
    """The findings ``--fix`` applies, by display path, leaving out ``frozen`` files."""
    by_file: dict[str, list[Diagnostic]] = {}
    for diagnostic in result.diagnostics:
        fix = diagnostic.fix
        if fix is not None and fix.applies(unsafe) and diagnostic.path not in frozen:
            by_file.setdefault(diagnostic.path, []).append(diagnostic)
    return by_file


def _stdin_text(request: CheckRequest) -> str | None:
    if request.stdin_data is None:
        return None
    try:
        return decode(request.stdin_data).text
    except SourceError:
        return None


def _load(display: str, path: Path) -> FixedFile | None:
    try:
        source = read_source(path)
    except (OSError, SourceError):
        return None
    return FixedFile(path, display, source, source.text)


def _fix_text(
    display: str,
    text: str,
    diagnostics: list[Diagnostic],
    outcome: FixOutcome,
    frozen: set[str],
) -> str | None:
    """The text with this round's fixes applied, or None when nothing could be applied."""
    applied = apply_fixes(text, diagnostics)
    if not applied.fixed or applied.text == text:
        return None
    if not _still_valid(display, text, applied.text):
        frozen.add(display)
        codes = ", ".join(sorted({d.code for d in applied.fixed}))
        outcome.problems.append(
            RunProblem(
                display,
                f"fixes for {codes} were not applied: the fixed file would not parse "
                "(please report this as a bug)",
            )
        )
        return None
    for diagnostic in applied.fixed:
        outcome.fixed[(display, diagnostic.code, diagnostic.name)] += 1
    return applied.text


def _still_valid(display: str, before: str, after: str) -> bool:
    """Whether ``after`` parses wherever ``before`` did (Python with both ``ast`` and
    libcst, as the checker itself does; TOML with ``tomllib``)."""
    if display.endswith(".toml"):
        return not _toml_parses(before) or _toml_parses(after)
    if not display.endswith(_PYTHON_SUFFIXES) and display != "-":
        return True
    return not _python_parses(before) or _python_parses(after)


def _python_parses(text: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
        cst.parse_module(text)
    except (SyntaxError, ValueError, cst.ParserSyntaxError):
        return False
    return True


def _toml_parses(text: str) -> bool:
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return False
    return True


def _next_request(
    request: CheckRequest,
    outcome: FixOutcome,
    previous: CheckResult,
    touched: set[str],
    stdin_text: str | None,
) -> CheckRequest:
    overrides = {fixed.path: fixed.data for fixed in outcome.changed.values()}
    reuse = {
        display: result
        for display, result in previous.file_results.items()
        if display not in touched
    }
    stdin_data = request.stdin_data
    if stdin_data is not None and stdin_text is not None:
        stdin_data = decode(stdin_data).encode(stdin_text)
    return replace(request, overrides=overrides, reuse=reuse, stdin_data=stdin_data)


def write_fixed(outcome: FixOutcome) -> list[RunProblem]:
    """Write every changed file; what could not be written is returned as problems."""
    problems = []
    for display, fixed in sorted(outcome.changed.items()):
        try:
            write_atomically(fixed.path, fixed.data)
        except OSError as error:
            problems.append(RunProblem(display, f"cannot write the fixes: {error.strerror}"))
    return problems


def unified_diffs(changed: Mapping[str, FixedFile]) -> str:
    """A unified diff per changed file, as ``git diff`` would show it (``a/``, ``b/``)."""
    parts: list[str] = []
    for display, fixed in sorted(changed.items()):
        parts.extend(_diff(display, fixed.original.text, fixed.text))
    return "".join(parts)


def fixes_by_file(outcome: FixOutcome) -> dict[str, list[str]]:
    """``{path: ["2 x BL201 (swallowed-bare-except)", ...]}`` for ``--show-fixes``."""
    listed: dict[str, list[str]] = {}
    for (path, code, name), count in sorted(outcome.fixed.items()):
        listed.setdefault(path, []).append(f"{count} x {code} ({name})")
    return listed


def _diff(display: str, before: str, after: str) -> Iterable[str]:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"a/{display}",
        tofile=f"b/{display}",
    )
    for line in lines:
        yield line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n"
