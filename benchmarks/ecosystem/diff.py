#!/usr/bin/env python3
"""Compare two runs of ``run.py``: findings added and removed per rule, as ruff's ecosystem check.

    python benchmarks/ecosystem/diff.py /tmp/eco-old /tmp/eco-new
    python benchmarks/ecosystem/diff.py /tmp/eco-old /tmp/eco-new --rules BL202 --details 20

Findings are matched by fingerprint (rule, file, text of the reported line), counted as a
multiset, so a reworded message or a moved line is not a change. The report is Markdown:
a table per rule (old, new, added, removed, and the projects that changed), then, with
``--details N``, up to N added and N removed findings per rule.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from projects import read_findings, read_summary


def _by_id(findings: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for finding in findings:
        grouped[finding["id"]].append(finding)
    return grouped


def compare(old: Path, new: Path, rules: set[str] | None) -> dict[str, Any]:
    old_summary, new_summary = read_summary(old), read_summary(new)
    projects = [p["project"] for p in new_summary["projects"] if p["status"] != "missing"]
    added: dict[str, list[dict[str, Any]]] = defaultdict(list)
    removed: dict[str, list[dict[str, Any]]] = defaultdict(list)
    totals_old, totals_new = Counter[str](), Counter[str]()
    changed_projects: dict[str, Counter[str]] = defaultdict(Counter)
    for project in projects:
        before, after = _by_id(read_findings(old, project)), _by_id(read_findings(new, project))
        for key in before.keys() | after.keys():
            a, b = before.get(key, []), after.get(key, [])
            code = (a or b)[0]["code"]
            if rules and code not in rules:
                continue
            totals_old[code] += len(a)
            totals_new[code] += len(b)
            if len(b) > len(a):
                added[code] += b[len(a) :]
                changed_projects[code][project] += len(b) - len(a)
            elif len(a) > len(b):
                removed[code] += a[len(b) :]
                changed_projects[code][project] -= len(a) - len(b)
    crashes = {"old": old_summary.get("crashes", []), "new": new_summary.get("crashes", [])}
    return {
        "old": old_summary.get("backlint", "?"),
        "new": new_summary.get("backlint", "?"),
        "totals_old": totals_old,
        "totals_new": totals_new,
        "added": added,
        "removed": removed,
        "changed_projects": changed_projects,
        "crashes": crashes,
        "wall": (old_summary.get("wall_seconds"), new_summary.get("wall_seconds")),
    }


def render(diff: dict[str, Any], details: int) -> str:
    out = [f"# Ecosystem diff: {diff['old']} -> {diff['new']}", ""]
    out.append(f"Wall time: {diff['wall'][0]} s -> {diff['wall'][1]} s.")
    out.append(
        f"Crashes: old {diff['crashes']['old'] or 'none'}, new {diff['crashes']['new'] or 'none'}."
    )
    out += [
        "",
        "| rule | old | new | added | removed | projects (net change) |",
        "|---|---|---|---|---|---|",
    ]
    codes = sorted(diff["totals_old"].keys() | diff["totals_new"].keys())
    for code in codes:
        projects = diff["changed_projects"][code].most_common()
        changed = ", ".join(f"{name} {delta:+d}" for name, delta in projects if delta)
        out.append(
            f"| {code} | {diff['totals_old'][code]} | {diff['totals_new'][code]} |"
            f" +{len(diff['added'][code])} | -{len(diff['removed'][code])} | {changed} |"
        )
    if details:
        for code in codes:
            for label, items in (
                ("added", diff["added"][code]),
                ("removed", diff["removed"][code]),
            ):
                if not items:
                    continue
                out += ["", f"## {code} {label} ({len(items)})", ""]
                for finding in items[:details]:
                    where = f"{finding['project']}/{finding['path']}:{finding['row']}"
                    out.append(f"- `{where}` {finding['message']}")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--rules", help="comma-separated codes")
    parser.add_argument("--details", type=int, default=0, help="findings listed per rule and side")
    args = parser.parse_args(argv)
    rules = {c.strip() for c in args.rules.split(",")} if args.rules else None
    sys.stdout.write(render(compare(args.old, args.new, rules), args.details))
    return 0


if __name__ == "__main__":
    sys.exit(main())
