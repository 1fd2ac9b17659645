"""Output formats: each is a pure function from a ``Report`` to the text to write.

``FORMATS`` maps the ``--output-format`` names to them; it is read-only because the CLI's
choices and the docs are generated from it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from types import MappingProxyType

from backlint.output.base import Formatter, Report
from backlint.output.concise import render_concise
from backlint.output.full import render_full
from backlint.output.github import render_github
from backlint.output.gitlab import render_gitlab
from backlint.output.json_format import render_json, render_json_lines
from backlint.output.markdown import render_markdown
from backlint.output.sarif import render_sarif

__all__ = ["FORMATS", "Formatter", "Report", "render_statistics"]

FORMATS: Mapping[str, Formatter] = MappingProxyType(
    {
        "full": render_full,
        "concise": render_concise,
        "json": render_json,
        "json-lines": render_json_lines,
        "sarif": render_sarif,
        "github": render_github,
        "gitlab": render_gitlab,
        "markdown": render_markdown,
    }
)


def render_statistics(report: Report) -> str:
    """One line per code, most frequent first (ties by code), like ``ruff --statistics``:
    ``[*]`` before the name when ``--fix`` can fix some of them, ``[ ]`` otherwise."""
    counts = Counter(diagnostic.code for diagnostic in report.diagnostics)
    names = {diagnostic.code: diagnostic.name for diagnostic in report.diagnostics}
    fixable = {d.code for d in report.diagnostics if report.fixable(d)}
    lines = []
    for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        rule = report.rules.get(code)
        name = rule.name if rule is not None else names[code]
        marker = "[*]" if code in fixable else "[ ]"
        lines.append(f"{count:>5}\t{code}\t{marker} {name}\n")
    return "".join(lines)


def render(format_name: str, report: Report) -> str:
    """The text of ``report`` in the named ``--output-format``."""
    formatter: Formatter = FORMATS[format_name]
    return formatter(report)
