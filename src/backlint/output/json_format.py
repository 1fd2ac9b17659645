"""ruff-compatible JSON: an array (``json``) or one object per line (``json-lines``).

The ruff fields come first, under ruff's names and in ruff's (alphabetical) order, so that
editor plugins written for ruff read backlint's output unchanged; backlint's own fields
follow.
"""

from __future__ import annotations

import json
from typing import Any

from backlint.diagnostics import Diagnostic, Fix, Position
from backlint.output._common import absolute_path
from backlint.output.base import Report

JsonObject = dict[str, Any]


def render_json(report: Report) -> str:
    items = [diagnostic_object(report, diagnostic) for diagnostic in report.diagnostics]
    # ASCII escapes keep the output valid JSON whatever encoding the output stream uses.
    return json.dumps(items, indent=2) + "\n"


def render_json_lines(report: Report) -> str:
    return "".join(
        json.dumps(diagnostic_object(report, diagnostic), separators=(",", ":")) + "\n"
        for diagnostic in report.diagnostics
    )


def diagnostic_object(report: Report, diagnostic: Diagnostic) -> JsonObject:
    rule = report.rules.get(diagnostic.code)
    return {
        # ruff sets ``cell`` for notebooks; backlint does not read them, but ruff's readers
        # expect the key.
        "cell": None,
        "code": diagnostic.code,
        "end_location": _location(diagnostic.span.end),
        "filename": str(report.absolute(diagnostic)),
        "fix": None if diagnostic.fix is None else _fix(diagnostic.fix),
        "location": _location(diagnostic.span.start),
        "message": diagnostic.message,
        "noqa_row": diagnostic.suppression_line,
        "url": None if rule is None else rule.url,
        "name": diagnostic.name,
        "severity": diagnostic.severity.value,
        "help": diagnostic.help,
        "related": [
            {
                "filename": str(absolute_path(report, related.path)),
                "location": _location(related.span.start),
                "message": related.message,
            }
            for related in diagnostic.related
        ],
        "confidence": diagnostic.confidence,
    }


def _location(position: Position) -> JsonObject:
    return {"column": position.column, "row": position.line}


def _fix(fix: Fix) -> JsonObject:
    return {
        "applicability": fix.applicability.value,
        "edits": [
            {
                "content": edit.content,
                "end_location": _location(edit.span.end),
                "location": _location(edit.span.start),
            }
            for edit in fix.edits
        ],
        "message": fix.message,
    }
