"""One finding per line, ``path:line:col: CODE message``: the shape flake8 and ruff print.

Editor plugins (nvim-lint, ALE, flymake) read this with line regexes, so each finding must
stay on one line and keep exactly this prefix.
"""

from __future__ import annotations

from backlint.diagnostics import Diagnostic
from backlint.output._common import one_line, summary_lines
from backlint.output.base import Report


def render_concise(report: Report) -> str:
    lines = [
        concise_line(diagnostic, report.fixable(diagnostic)) for diagnostic in report.diagnostics
    ]
    if not report.quiet:
        lines.extend(summary_lines(report))
    return "".join(f"{line}\n" for line in lines)


def concise_line(diagnostic: Diagnostic, fixable: bool = False) -> str:
    """``path:line:col: CODE message``; ``CODE [*] message`` when ``--fix`` can fix it, as
    ruff marks it."""
    start = diagnostic.span.start
    marker = " [*]" if fixable else ""
    return (
        f"{diagnostic.path}:{start.line}:{start.column}: "
        f"{diagnostic.code}{marker} {one_line(diagnostic.message)}"
    )
