"""SARIF 2.1.0 for GitHub code scanning and other SARIF readers.

Shaped by ``docs/integrations.md`` (the acceptance checklist): only rules that fired, every
text GitHub requires, root-relative URIs under ``%SRCROOT%``, code-point columns, our own
fingerprint key instead of a ``primaryLocationLineHash`` GitHub would compute differently,
and byte-stable output (no timestamps, no absolute root).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

from backlint.diagnostics import Diagnostic, Edit, Fix, Related, Severity, Span
from backlint.output._common import absolute_path, bounds, fingerprints, root_relative
from backlint.output.base import Report
from backlint.rules.metadata import RuleInfo

JsonObject = dict[str, Any]

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/backlint/backlint"
RULES_URI = f"{INFORMATION_URI}/blob/main/docs/rules.md"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "backlint/v1"
# GitHub rejects descriptions longer than this and rules with more tags than this.
MAX_DESCRIPTION = 1024
MAX_TAGS = 20

LEVELS: Mapping[Severity, str] = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "note",
}
PROBLEM_SEVERITIES: Mapping[Severity, str] = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "recommendation",
}
# GitHub buckets security-severity into critical (>= 9), high (>= 7), medium (>= 4) and
# low; a rule's severity picks the bucket since rules carry no score of their own.
SECURITY_SEVERITIES: Mapping[Severity, str] = {
    Severity.ERROR: "7.5",
    Severity.WARNING: "5.0",
    Severity.INFO: "2.0",
}
# One family per hundred codes (rules.md §1); the family is a tag to filter alerts by.
FAMILIES: Mapping[str, str] = {
    "0": "meta",
    "1": "route-handlers",
    "2": "error-handling",
    "3": "state-and-dependencies",
    "4": "architecture",
    "5": "async",
    "6": "api-surface",
    "7": "tests",
    "8": "security",
    "9": "migrations",
}
_FAMILY_DIGIT = re.compile(r"^BL(\d)")


def render_sarif(report: Report) -> str:
    rules = _fired_rules(report)
    index = {rule["id"]: position for position, rule in enumerate(rules)}
    offered: set[tuple[str, Edit]] = set()
    results = [
        _result(report, diagnostic, index[diagnostic.code], fingerprint, offered)
        for diagnostic, fingerprint in fingerprints(report)
    ]
    log = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "backlint",
                        "informationUri": INFORMATION_URI,
                        "semanticVersion": report.version,
                        "version": report.version,
                        "rules": rules,
                    }
                },
                # The root's absolute URI is left out on purpose (SARIF §3.14.14): it would
                # make the file differ between checkouts.
                "originalUriBaseIds": {
                    SRCROOT: {"description": {"text": "The root of the linted project."}}
                },
                "results": results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
    # ASCII escapes keep the file valid whatever encoding the output stream uses.
    return json.dumps(log, indent=2) + "\n"


# --- rules -------------------------------------------------------------------------------


def _fired_rules(report: Report) -> list[JsonObject]:
    """One descriptor per code that fired, sorted by id; unknown codes get a minimal one."""
    first_by_code: dict[str, Diagnostic] = {}
    for diagnostic in report.diagnostics:
        first_by_code.setdefault(diagnostic.code, diagnostic)
    descriptors = []
    for code in sorted(first_by_code):
        rule = report.rules.get(code)
        if rule is None:
            descriptors.append(_unknown_rule(first_by_code[code]))
        else:
            descriptors.append(_known_rule(rule))
    return descriptors


def _known_rule(rule: RuleInfo) -> JsonObject:
    docs = rule.documentation
    summary = rule.summary or rule.name or rule.code
    help_text = "\n\n".join(part for part in (rule.fix_text, docs) if part) or summary
    return _descriptor(
        code=rule.code,
        name=rule.name or rule.code,
        summary=summary,
        full=docs or summary,
        help_text=help_text,
        help_markdown=docs or help_text,
        help_uri=rule.url,
        severity=rule.severity,
        tags=rule.tags,
    )


def _unknown_rule(diagnostic: Diagnostic) -> JsonObject:
    """A descriptor for a code no rule class claims (e.g. a read error), from its finding.

    GitHub drops results whose rule lacks the required texts, so every text is filled in.
    """
    name = diagnostic.name or diagnostic.code
    summary = f"backlint finding {diagnostic.code} ({name})."
    return _descriptor(
        code=diagnostic.code,
        name=name,
        summary=summary,
        full=summary,
        help_text=diagnostic.help or summary,
        help_markdown=diagnostic.help or summary,
        help_uri=RULES_URI,
        severity=diagnostic.severity,
        tags=(),
    )


def _descriptor(
    *,
    code: str,
    name: str,
    summary: str,
    full: str,
    help_text: str,
    help_markdown: str,
    help_uri: str,
    severity: Severity,
    tags: Iterable[str],
) -> JsonObject:
    properties: JsonObject = {
        "tags": _tags(code, tags),
        "precision": "high",
        "problem.severity": PROBLEM_SEVERITIES[severity],
    }
    if "security" in tags:
        properties["security-severity"] = SECURITY_SEVERITIES[severity]
    return {
        "id": code,
        "name": name[:255],
        "shortDescription": {"text": truncate(summary)},
        "fullDescription": {"text": truncate(full)},
        "help": {"text": help_text, "markdown": help_markdown},
        "helpUri": help_uri,
        "defaultConfiguration": {"level": LEVELS[severity]},
        "properties": properties,
    }


def _tags(code: str, rule_tags: Iterable[str]) -> list[str]:
    match = _FAMILY_DIGIT.match(code)
    family = [FAMILIES[match.group(1)]] if match else []
    rule_tags = tuple(rule_tags)
    # "security" goes before the rule's other tags so that the cut to MAX_TAGS can never
    # drop it while security-severity is set (GitHub wants both together).
    security = ["security"] if "security" in rule_tags else []
    ordered = ["backlint", *family, *security, *rule_tags]
    return list(dict.fromkeys(ordered))[:MAX_TAGS]


def truncate(text: str, limit: int = MAX_DESCRIPTION) -> str:
    """``text`` cut to at most ``limit`` characters at a paragraph, else a word, boundary."""
    if len(text) <= limit:
        return text
    ellipsis = "…"
    head = text[: limit - len(ellipsis)]
    # A paragraph break is preferred unless it would throw away most of the text.
    cut = head.rfind("\n\n")
    if cut < len(head) // 2:
        cut = max(head.rfind(" "), head.rfind("\n"))
    if cut <= 0:
        cut = len(head)
    return head[:cut].rstrip() + ellipsis


# --- results -----------------------------------------------------------------------------


def _result(
    report: Report,
    diagnostic: Diagnostic,
    rule_index: int,
    fingerprint: str,
    offered: set[tuple[str, Edit]],
) -> JsonObject:
    artifact = _artifact(report, diagnostic.path)
    result: JsonObject = {
        "ruleId": diagnostic.code,
        "ruleIndex": rule_index,
        "level": LEVELS[diagnostic.severity],
        "message": {"text": diagnostic.message or diagnostic.name or diagnostic.code},
        "locations": [
            {"physicalLocation": {"artifactLocation": artifact, "region": region(diagnostic.span)}}
        ],
    }
    if diagnostic.related:
        result["relatedLocations"] = [
            _related(report, related, number)
            for number, related in enumerate(diagnostic.related, start=1)
        ]
    result["partialFingerprints"] = {FINGERPRINT_KEY: fingerprint}
    if diagnostic.confidence != "high":
        result["properties"] = {"confidence": diagnostic.confidence}
    # Only fixes ``--fix`` would apply (with this run's ``--unsafe-fixes``), so that
    # applying every replacement gives what ``--fix`` writes. An edit another result
    # already carries (the same import added twice) is listed once.
    if diagnostic.fix is not None and report.fixable(diagnostic):
        edits = tuple(e for e in diagnostic.fix.edits if (diagnostic.path, e) not in offered)
        offered.update((diagnostic.path, edit) for edit in edits)
        if edits:
            result["fixes"] = [_fix(replace(diagnostic.fix, edits=edits), artifact)]
    return result


def _related(report: Report, related: Related, number: int) -> JsonObject:
    return {
        "id": number,
        "physicalLocation": {
            "artifactLocation": _artifact(report, related.path),
            "region": region(related.span),
        },
        "message": {"text": related.message or "related location"},
    }


def _fix(fix: Fix, artifact: JsonObject) -> JsonObject:
    return {
        "description": {"text": fix.message},
        "artifactChanges": [
            {
                "artifactLocation": artifact,
                "replacements": [
                    {"deletedRegion": region(edit.span), "insertedContent": {"text": edit.content}}
                    for edit in fix.edits
                ],
            }
        ],
        "properties": {"applicability": fix.applicability.value},
    }


def _artifact(report: Report, path: str) -> JsonObject:
    relative = root_relative(report, path)
    if relative is None:
        # Outside the root no relative URI exists without "..", which GitHub rejects; an
        # absolute file URI is what GitHub can still map through the checkout path.
        return {"uri": Path(os.path.normpath(absolute_path(report, path))).as_uri()}
    return {"uri": quote(relative), "uriBaseId": SRCROOT}


def region(span: Span) -> JsonObject:
    """A SARIF region: 1-based with an exclusive ``endColumn``, the same as ``Span``."""
    start_line, start_column, end_line, end_column = bounds(span)
    return {
        "startLine": start_line,
        "startColumn": start_column,
        "endLine": end_line,
        "endColumn": end_column,
    }
