"""The loop behind ``--fix``, ``--diff`` and ``--fix-only``: check, apply, check again.

Each round applies every fix that does not overlap another (``apply.py``) to the files in
memory, then checks again in the same workspace with the fixed text overlaid on what is
on disk: fixes that waited for an overlapping one, and findings that only appear once
another fix landed, are handled in the next round. The workspace's cache keeps the
results of files that did not change, so a round after the first re-reads little. The
loop stops when a round fixes nothing, or after ``MAX_ROUNDS`` with a message (a rule
whose fix brings its own finding back would otherwise loop for ever).

A fixed Python file must parse again; if it does not, that file's fixes of the round are
dropped, the file is left as it was for the rest of the run, and the run says so. Nothing
is written here: the caller writes ``FixOutcome.changed`` (``--fix``) or prints it as a
diff (``--diff``).
"""

from __future__ import annotations

import difflib
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from backlint.application import CheckRequest, CheckResult, open_workspace, stdin_source
from backlint.diagnostics import Diagnostic, RunProblem
from backlint.discovery import PYTHON_SUFFIXES
from backlint.fixes.apply import apply_fixes
from backlint.source import (
    Source,
    SourceError,
    decode,
    parses_as_python,
    read_source,
    split_lines,
    write_atomically,
)
from backlint.workspace import Workspace

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

MAX_ROUNDS = 10


@dataclass
class FixedFile:
    """A file (or the stdin source) being fixed: as read, and as fixed so far."""

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
    stdin: FixedFile | None = None  # the source read from stdin, when it was checked

    @property
    def fixed_count(self) -> int:
        return sum(self.fixed.values())

    @property
    def stdin_text(self) -> str | None:
        return None if self.stdin is None else self.stdin.text

    @property
    def stdin_changed(self) -> bool:
        return self.stdin is not None and self.stdin.text != self.stdin.original.text

    def stdin_diff(self) -> str:
        if self.stdin is None or not self.stdin_changed:
            return ""
        stdin = self.stdin
        hidden = self.secret_lines(stdin.display, stdin.text)
        return "".join(_diff(stdin.display, stdin.original.text, stdin.text, hidden))

    def secret_lines(self, display: str, text: str) -> dict[str, str]:
        """Lines of the fixed ``text`` that hold a secret, each with its masked form, as
        the last check masked them (``engine.redaction``): a diff shows them masked."""
        masked = self.result.masked.get(display, {})
        snippets = self.result.snippets.get(display, {})
        lines = split_lines(text)
        return {
            lines[number - 1]: snippets[number]
            for number in masked
            if number in snippets and 0 < number <= len(lines)
        }


def fix_until_stable(
    request: CheckRequest,
    first: CheckResult,
    unsafe: bool,
    workspace: Workspace | None = None,
) -> FixOutcome:
    """Starting from ``first`` (the check of ``request``), apply the applicable fixes in
    memory and check again until nothing changes, in ``workspace`` (the one ``first``
    came from, or a new one). Raises ``ConfigError`` like ``run_check``.
    """
    if workspace is None:
        workspace = open_workspace(request)
    result = first
    outcome = FixOutcome(result, stdin=_stdin_file(request))
    frozen: set[str] = set()  # files whose fixes broke them: left alone from then on
    for _round in range(MAX_ROUNDS):
        touched: set[str] = set()
        for display, diagnostics in sorted(_fixable(result, unsafe, frozen).items()):
            fixed = _being_fixed(display, outcome, result)
            if fixed is None:
                frozen.add(display)  # unreadable, or not a file of this run
                continue
            new = _fix_text(display, fixed.text, diagnostics, outcome, frozen)
            if new is not None:
                fixed.text = new
                touched.add(display)
                if fixed is not outcome.stdin:
                    outcome.changed[display] = fixed
        if not touched:
            break
        result = _check_fixed(workspace, request, outcome)
    # Cut short with fixes still on offer: a fix that keeps bringing its finding back.
    outcome.converged = not _fixable(result, unsafe, frozen)
    outcome.result = result
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


def _stdin_file(request: CheckRequest) -> FixedFile | None:
    if request.stdin_data is None:
        return None
    try:
        source = decode(request.stdin_data)
    except SourceError:
        return None  # reported as BL001; nothing to fix
    name = request.stdin_filename or "-"
    return FixedFile(request.cwd / name, name, source, source.text)


def _being_fixed(display: str, outcome: FixOutcome, result: CheckResult) -> FixedFile | None:
    """The text a finding of ``display`` is fixed in: stdin's, or the file's so far."""
    if outcome.stdin is not None:
        return outcome.stdin  # a stdin run checks nothing else
    if display in outcome.changed:
        return outcome.changed[display]
    path = result.sources.get(display)
    return None if path is None else _load(display, path)


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
    if not display.endswith(PYTHON_SUFFIXES) and display != "-":
        return True
    return not parses_as_python(before) or parses_as_python(after)


def _toml_parses(text: str) -> bool:
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return False
    return True


def _check_fixed(workspace: Workspace, request: CheckRequest, outcome: FixOutcome) -> CheckResult:
    """The check of ``request`` with the text fixed so far in place of the files'."""
    overlays = {fixed.path: fixed.data for fixed in outcome.changed.values()}
    if outcome.stdin is not None:
        request = replace(request, stdin_data=outcome.stdin.data)
    return workspace.check(request.paths, stdin_source(request, workspace), overlays)


def write_fixed(outcome: FixOutcome) -> list[RunProblem]:
    """Write every changed file; what could not be written is returned as problems."""
    problems = []
    for display, fixed in sorted(outcome.changed.items()):
        try:
            write_atomically(fixed.path, fixed.data)
        except OSError as error:
            problems.append(RunProblem(display, f"cannot write the fixes: {error.strerror}"))
    return problems


def unified_diffs(outcome: FixOutcome) -> str:
    """A unified diff per changed file, as ``git diff`` would show it (``a/``, ``b/``),
    with the lines that hold a secret masked."""
    parts: list[str] = []
    for display, fixed in sorted(outcome.changed.items()):
        hidden = outcome.secret_lines(display, fixed.text)
        parts.extend(_diff(display, fixed.original.text, fixed.text, hidden))
    return "".join(parts)


def fixes_by_file(outcome: FixOutcome) -> dict[str, list[str]]:
    """``{path: ["2 x BL201 (swallowed-bare-except)", ...]}`` for ``--show-fixes``."""
    listed: dict[str, list[str]] = {}
    for (path, code, name), count in sorted(outcome.fixed.items()):
        listed.setdefault(path, []).append(f"{count} x {code} ({name})")
    return listed


def _diff(
    display: str, before: str, after: str, hidden: Mapping[str, str] | None = None
) -> Iterable[str]:
    """``hidden`` maps lines that hold a secret to their masked form: both texts are
    masked alike, so an unchanged secret line stays a context line."""
    lines = difflib.unified_diff(
        _masked_lines(before, hidden or {}),
        _masked_lines(after, hidden or {}),
        fromfile=f"a/{display}",
        tofile=f"b/{display}",
    )
    for line in lines:
        yield line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n"


def _masked_lines(text: str, hidden: Mapping[str, str]) -> list[str]:
    lines = split_lines(text, keepends=True)
    if not hidden:
        return lines
    masked = []
    for line in lines:
        body = line.rstrip("\r\n")
        replacement = hidden.get(body)
        masked.append(line if replacement is None else replacement + line[len(body) :])
    return masked
