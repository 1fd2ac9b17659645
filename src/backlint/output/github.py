"""GitHub Actions workflow commands, which the runner turns into annotations.

The runner rejects ``col``/``endColumn`` on a multi-line range and an ``endColumn`` before
``col`` (ruff#22074), and the log does not show the properties, so the message repeats
``path:line:col: CODE`` like ruff does.
"""

from __future__ import annotations

from collections.abc import Mapping

from backlint.diagnostics import Diagnostic, Severity
from backlint.output._common import bounds, slashed
from backlint.output.base import Report

COMMANDS: Mapping[Severity, str] = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "notice",
}


def render_github(report: Report) -> str:
    return "".join(annotation(diagnostic) + "\n" for diagnostic in report.diagnostics)


def annotation(diagnostic: Diagnostic) -> str:
    line, column, end_line, end_column = bounds(diagnostic.span)
    properties = [
        ("title", f"backlint ({diagnostic.code})"),
        ("file", slashed(diagnostic.path)),
        ("line", str(line)),
    ]
    if line == end_line:
        properties.append(("col", str(column)))
    properties.append(("endLine", str(end_line)))
    if line == end_line:
        properties.append(("endColumn", str(end_column)))
    rendered = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
    start = diagnostic.span.start
    text = f"{diagnostic.path}:{start.line}:{start.column}: {diagnostic.code} {diagnostic.message}"
    return f"::{COMMANDS[diagnostic.severity]} {rendered}::{escape_data(text)}"


def escape_data(text: str) -> str:
    """Escape a command's message the way actions/toolkit ``escapeData`` does."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value the way actions/toolkit ``escapeProperty`` does."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
