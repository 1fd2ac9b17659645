"""GitLab Code Quality: a JSON array in the subset of the Code Climate format GitLab reads."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from backlint.diagnostics import Diagnostic, Severity
from backlint.output._common import bounds, fingerprint_inputs, location_path
from backlint.output.base import Report

SEVERITIES: Mapping[Severity, str] = {
    Severity.ERROR: "major",
    Severity.WARNING: "minor",
    Severity.INFO: "info",
}


def render_gitlab(report: Report) -> str:
    issues = [
        _issue(report, diagnostic, hashlib.md5(data, usedforsecurity=False).hexdigest())
        for diagnostic, data in fingerprint_inputs(report)
    ]
    # json.dumps never writes a BOM, and ASCII escapes keep the file valid in any encoding.
    return json.dumps(issues, indent=2) + "\n"


def _issue(report: Report, diagnostic: Diagnostic, fingerprint: str) -> dict[str, Any]:
    line, column, end_line, end_column = bounds(diagnostic.span)
    return {
        "description": f"{diagnostic.code} {diagnostic.message}",
        "check_name": diagnostic.code,
        # Same-fingerprint findings collapse into one merge-request entry, so it includes
        # an occurrence counter and no line number (stable when lines move).
        "fingerprint": fingerprint,
        "severity": SEVERITIES[diagnostic.severity],
        "location": {
            "path": location_path(report, diagnostic.path),
            "positions": {
                "begin": {"line": line, "column": column},
                "end": {"line": end_line, "column": end_column},
            },
        },
    }
