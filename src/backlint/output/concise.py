"""One finding per line, ``path:line:col: CODE message``: the shape flake8 and ruff print.

Editor plugins (nvim-lint, ALE, flymake) read this with line regexes, so each finding must
stay on one line and keep exactly this prefix.
"""

from __future__ import annotations

from backlint.diagnostics import Diagnostic
from backlint.output._common import one_line, summary_line
from backlint.output.base import Report


def render_concise(report: Report) -> str:
    lines = [concise_line(diagnostic) for diagnostic in report.diagnostics]
    if not report.quiet:
        lines.append(summary_line(len(report.diagnostics)))
    return "".join(f"{line}\n" for line in lines)


def concise_line(diagnostic: Diagnostic) -> str:
    start = diagnostic.span.start
    return (
        f"{diagnostic.path}:{start.line}:{start.column}: "
        f"{diagnostic.code} {one_line(diagnostic.message)}"
    )
