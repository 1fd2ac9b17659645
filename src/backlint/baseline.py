"""Baselines: record the findings a project has today, then report only new ones.

A finding is matched by its fingerprint, the same one SARIF carries in
``partialFingerprints``: a hash of the rule code, the root-relative path, the text of the
finding's first line and how many identical (code, path, text) findings come before it.
No line number is involved, so inserting or moving code keeps a finding matched, while a
new finding of the same rule in the same file (even on an identical line) is new.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from backlint.config import ConfigError
from backlint.diagnostics import Diagnostic
from backlint.output._common import fingerprints, location_path
from backlint.output.base import Report
from backlint.source import write_output

BASELINE_VERSION = 1


def write_baseline(path: Path, report: Report) -> int:
    """Write every finding of ``report`` to ``path``; return how many."""
    entries = [
        {
            "fingerprint": fingerprint,
            "code": diagnostic.code,
            "path": location_path(report, diagnostic.path),
        }
        for diagnostic, fingerprint in fingerprints(report)
    ]
    entries.sort(key=lambda entry: (entry["path"], entry["code"], entry["fingerprint"]))
    document = {"backlint-baseline": BASELINE_VERSION, "findings": entries}
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    try:
        write_output(path, text)
    except OSError as error:
        raise ConfigError(f"cannot write the baseline {path}: {error.strerror}") from None
    return len(entries)


def read_baseline(path: Path) -> frozenset[str]:
    """The fingerprints recorded in ``path``. Raises ConfigError for a missing or bad file."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"cannot read the baseline {path}: {error.strerror}") from None
    except (ValueError, UnicodeDecodeError):
        raise ConfigError(f"{path}: not a backlint baseline (invalid JSON)") from None
    if not isinstance(document, dict):
        document = {}
    findings = document.get("findings")
    if document.get("backlint-baseline") != BASELINE_VERSION or not isinstance(findings, list):
        raise ConfigError(f"{path}: not a backlint baseline (version {BASELINE_VERSION})")
    return frozenset(
        entry["fingerprint"]
        for entry in findings
        if isinstance(entry, dict) and isinstance(entry.get("fingerprint"), str)
    )


def new_findings(report: Report, known: frozenset[str]) -> Sequence[Diagnostic]:
    """The findings of ``report`` whose fingerprints are not in the baseline."""
    return [
        diagnostic for diagnostic, fingerprint in fingerprints(report) if fingerprint not in known
    ]
