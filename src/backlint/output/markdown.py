"""The gate report: findings grouped by the rulebook's quality gates, in GitHub Markdown.

Made for a pull request comment or ``$GITHUB_STEP_SUMMARY``. Each rule names its gate
with a ``PQG-n`` tag; a gate fails when it holds an error or a warning (information
findings are listed but never fail it), and the change fails when any gate does. A gate
no enabled rule checks says so instead of passing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from backlint.diagnostics import Diagnostic, Severity
from backlint.output._common import location_path
from backlint.output.base import Report

GATES: Mapping[str, str] = {
    "PQG-1": "Build and lint",
    "PQG-2": "Contract",
    "PQG-3": "Architecture",
    "PQG-4": "Test quality",
    "PQG-5": "Migrations",
    "PQG-6": "Operational and security",
}
# A rule without a gate tag (a plugin's) counts under lint, where style findings belong.
DEFAULT_GATE = "PQG-1"
_FAILING = frozenset({Severity.ERROR, Severity.WARNING})
_CODE_SPAN = re.compile(r"(`+)(.*?)\1", re.DOTALL)


def render_markdown(report: Report) -> str:
    by_gate = _by_gate(report)
    checked = _checked_gates(report)
    failed = [gate for gate in GATES if any(d.severity in _FAILING for d in by_gate[gate])]
    lines = ["## backlint quality gates", "", _verdict(report, failed), ""]
    lines += ["| Gate | Result | Findings |", "| --- | --- | ---: |"]
    for gate, title in GATES.items():
        result = _result(gate in failed, gate in checked, by_gate[gate])
        lines.append(f"| {gate} {title} | {result} | {len(by_gate[gate])} |")
    for gate, title in GATES.items():
        if by_gate[gate]:
            lines += ["", f"### {gate} {title}", ""]
            lines += [_item(report, diagnostic) for diagnostic in by_gate[gate]]
    return "\n".join(lines) + "\n"


def gate_of(tags: Sequence[str]) -> str:
    """The quality gate a rule belongs to, from its tags."""
    return next((tag for tag in tags if tag in GATES), DEFAULT_GATE)


def _by_gate(report: Report) -> dict[str, list[Diagnostic]]:
    grouped: dict[str, list[Diagnostic]] = {gate: [] for gate in GATES}
    for diagnostic in report.diagnostics:
        rule = report.rules.get(diagnostic.code)
        grouped[gate_of(rule.tags if rule is not None else ())].append(diagnostic)
    return grouped


def _checked_gates(report: Report) -> frozenset[str]:
    if report.enabled is None:
        return frozenset(GATES)
    return frozenset(
        gate_of(report.rules[code].tags) for code in report.enabled if code in report.rules
    )


def _verdict(report: Report, failed: list[str]) -> str:
    scope = f" new since `{report.new_from_rev}`" if report.new_from_rev else ""
    count = len(report.diagnostics)
    findings = f"{count} finding{'' if count == 1 else 's'}{scope}"
    if failed:
        return f"**Verdict: failed**: {len(failed)} of {len(GATES)} gates failed ({findings})."
    return f"**Verdict: passed** ({findings})."


def _result(failed: bool, checked: bool, findings: list[Diagnostic]) -> str:
    if failed:
        return ":x: fail"
    if not checked and not findings:
        return ":heavy_minus_sign: not checked"
    return ":white_check_mark: pass"


def _item(report: Report, diagnostic: Diagnostic) -> str:
    path = location_path(report, diagnostic.path)
    line = diagnostic.span.start.line
    target = f"{report.links.rstrip('/')}/{path}" if report.links else path
    link = f"[{_text(path)}:{line}]({_url(target)}#L{line})"
    return (
        f"- {link} **{diagnostic.code}** {diagnostic.name} ({diagnostic.severity.value}): "
        f"{_text(diagnostic.message)}"
    )


def _text(text: str) -> str:
    """``text`` safe in Markdown: outside code spans, characters GitHub would read as
    HTML or emphasis are escaped; line breaks become spaces (one item per finding)."""
    text = " ".join(text.split())
    pieces = []
    position = 0
    for match in _CODE_SPAN.finditer(text):
        pieces.append(_escape(text[position : match.start()]))
        pieces.append(match.group(0))
        position = match.end()
    pieces.append(_escape(text[position:]))
    return "".join(pieces)


def _escape(text: str) -> str:
    for character in "\\*_[]<>|#":
        text = text.replace(character, "\\" + character)
    return text


def _url(target: str) -> str:
    return target.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def github_links(environment: Mapping[str, str]) -> str | None:
    """In a GitHub Actions run, the URL of the checked-out commit's files, so the
    report's links work in a comment or a step summary; None elsewhere."""
    server = environment.get("GITHUB_SERVER_URL")
    repository = environment.get("GITHUB_REPOSITORY")
    commit = environment.get("GITHUB_SHA")
    if not (server and repository and commit):
        return None
    return f"{server.rstrip('/')}/{repository}/blob/{commit}"
