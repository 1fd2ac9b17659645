"""The default human format: each finding with its source line underlined, like ruff's."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from backlint.diagnostics import Applicability, Diagnostic, Fix
from backlint.engine.redaction import Masked, shifted_column
from backlint.output._common import one_line, source_line, summary_lines
from backlint.output.base import Report
from backlint.output.concise import concise_line


def render_full(report: Report) -> str:
    blocks = [_block(report, diagnostic) for diagnostic in report.diagnostics]
    if not report.quiet:
        blocks.append("".join(f"{line}\n" for line in summary_lines(report)))
    return "\n".join(blocks)


def _block(report: Report, diagnostic: Diagnostic) -> str:
    start = diagnostic.span.start
    lines = [concise_line(diagnostic, report.fixable(diagnostic))]
    text = source_line(report, diagnostic)
    if text is not None:
        gutter = str(start.line)
        lines.append(f"{gutter} | {text}")
        masks = report.masked.get(diagnostic.path, {}).get(start.line, ())
        lines.append(f"{' ' * len(gutter)} | {_underline(text, diagnostic, masks)}".rstrip())
    if diagnostic.help:
        lines.append(f"  = help: {one_line(diagnostic.help)}")
    if diagnostic.fix is not None:
        lines.append(f"  = fix: {_fix_line(diagnostic.fix, report.fixable(diagnostic))}")
    for related in diagnostic.related:
        where = related.span.start
        lines.append(
            f"  = note: {related.path}:{where.line}:{where.column}: {one_line(related.message)}"
        )
    return "\n".join(lines) + "\n"


def _fix_line(fix: Fix, fixable: bool) -> str:
    text = one_line(fix.message)
    if fixable:
        return text
    if fix.applicability is Applicability.UNSAFE:
        return f"{text} (unsafe: applied with `--fix --unsafe-fixes`)"
    return f"{text} (suggestion only: not applied automatically)"


def _underline(text: str, diagnostic: Diagnostic, masks: Sequence[Masked] = ()) -> str:
    """Carets under the part of ``text`` the span covers on its first line.

    Columns count code points, but a terminal draws tabs, wide and combining characters at
    other widths, so the padding copies the line's own tabs and each character's width.
    A line that hides a secret is shorter or longer than the source (``masks``): the
    span's columns are moved to the masked text first.
    """
    span = diagnostic.span
    first = shifted_column(max(0, span.start.column - 1), masks)
    last = (
        shifted_column(span.end.column - 1, masks)
        if span.end.line == span.start.line
        else len(text)
    )
    # A span may start at or past the end of the text (a finding about the line break):
    # pad with spaces, and always show at least one caret so the position is visible.
    padded = text + " " * max(0, first - len(text))
    prefix = "".join("\t" if char == "\t" else " " * _width(char) for char in padded[:first])
    carets = max(1, sum(_width(char) for char in padded[first:last]))
    return prefix + "^" * carets


def _width(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
