"""Helpers several formats share: paths, source lines, fingerprints and the summary line.

Kept private to the ``output`` package: the formats are the public surface.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

from backlint.diagnostics import Diagnostic, Span
from backlint.output.base import Report

_LINE_BREAKS = re.compile(r"\r\n|\r|\n")


def summary_lines(report: Report) -> list[str]:
    """The closing lines of the human formats: the count, then what ``--fix`` could do
    (ruff's wording, which its users already read)."""
    count = len(report.diagnostics)
    if report.fixed:
        total = count + report.fixed
        lines = [f"Found {_findings(total)} ({report.fixed} fixed, {count} remaining)."]
    elif count == 0:
        lines = ["All checks passed!"]
    else:
        lines = [f"Found {_findings(count)}."]
    fixable = sum(1 for d in report.diagnostics if report.fixable(d))
    hidden = sum(
        1
        for d in report.diagnostics
        if d.fix is not None and not report.fixable(d) and d.fix.applies(unsafe=True)
    )
    hint = ""
    if hidden:
        fixes = "fix" if hidden == 1 else "fixes"
        hint = f"{hidden} hidden {fixes} can be enabled with the `--unsafe-fixes` option"
    if fixable:
        lines.append(
            f"[*] {fixable} fixable with the `--fix` option" + (f" ({hint})." if hint else ".")
        )
    elif hint:
        lines.append(f"No fixes available ({hint}).")
    return lines


def _findings(count: int) -> str:
    return f"{count} finding{'' if count == 1 else 's'}"


def one_line(text: str) -> str:
    """``text`` with line breaks turned into spaces.

    Line-oriented formats promise one finding per line, and editor plugins parse them with
    line regexes, so a message must never break that line.
    """
    return _LINE_BREAKS.sub(" ", text)


def slashed(path: str) -> str:
    """A display path with ``/`` separators, whatever the platform wrote."""
    return path.replace(os.sep, "/")


def absolute_path(report: Report, path: str) -> Path:
    """The absolute form of a display path; the same rule as ``Report.absolute``."""
    candidate = Path(path)
    return candidate if candidate.is_absolute() else report.cwd / candidate


def root_relative(report: Report, path: str) -> str | None:
    """``path`` relative to the project root with ``/`` separators, or None if outside it.

    The lexical comparison comes first so that formats stay pure when the paths are plain;
    resolving symlinks is the fallback for a root or working directory reached through a
    link (GitHub wants the real repository path).
    """
    absolute = absolute_path(report, path)
    relative = _relative_to(_normalized(absolute), _normalized(report.root))
    if relative is None:
        relative = _relative_to(absolute.resolve(), report.root.resolve())
    return relative


def _normalized(path: Path) -> Path:
    # Lexical only: folds "." and ".." without touching the file system.
    return Path(os.path.normpath(path))


def _relative_to(path: Path, root: Path) -> str | None:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return None


def location_path(report: Report, path: str) -> str:
    """The path CI reports use: root-relative when possible, else absolute with ``/``."""
    relative = root_relative(report, path)
    if relative is not None:
        return relative
    return _normalized(absolute_path(report, path)).as_posix()


def source_line(report: Report, diagnostic: Diagnostic) -> str | None:
    """The text of the line a finding starts on, without its line break, if known."""
    lines = report.snippets.get(diagnostic.path)
    if lines is None:
        return None
    text = lines.get(diagnostic.span.start.line)
    return None if text is None else text.rstrip("\r\n")


def fingerprint_inputs(report: Report) -> Iterator[tuple[Diagnostic, bytes]]:
    """Yield each diagnostic with the bytes its fingerprint is a hash of.

    The input is the code, the root-relative path (absolute outside the root), the stripped
    text of the start line and how many identical (code, path, text) triples came before in
    the sorted run. No line number is involved, so the fingerprint survives lines being
    inserted above; the counter keeps two identical lines in one file apart.
    """
    seen: dict[tuple[str, str, str], int] = {}
    for diagnostic in report.diagnostics:
        text = (source_line(report, diagnostic) or "").strip()
        key = (diagnostic.code, location_path(report, diagnostic.path), text)
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        # A JSON list keeps the fields apart whatever characters they hold.
        yield diagnostic, json.dumps([*key, occurrence], ensure_ascii=False).encode("utf-8")


def bounds(span: Span) -> tuple[int, int, int, int]:
    """``(start line, start column, end line, end column)``, clamped to be well formed.

    CI consumers reject a whole upload over one column 0 or a range that ends before it
    starts, so a malformed span is repaired here rather than passed on.
    """
    start = (max(1, span.start.line), max(1, span.start.column))
    end = max(start, (span.end.line, span.end.column))
    return (*start, *end)


def fingerprints(report: Report) -> Iterator[tuple[Diagnostic, str]]:
    """Each diagnostic with its line-independent fingerprint (SARIF's
    ``partialFingerprints`` and the baseline file use the same one)."""
    for diagnostic, data in fingerprint_inputs(report):
        yield diagnostic, hashlib.sha256(data).hexdigest()[:32]
