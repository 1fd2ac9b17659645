#!/usr/bin/env python3
"""Draw random findings per rule into a review sheet, with the code around each.

    python benchmarks/ecosystem/sample.py /tmp/eco-new --checkouts ~/eco --round after-1 \
        --per-rule 20 --output /tmp/review.md

It reads the results of ``run.py`` (``--set check`` by default: the ledger measures only
on projects no rule was tuned on), leaves out findings that already have a verdict in
``verdicts.jsonl`` (a finding you have looked at no longer measures anything), and draws
up to ``--per-rule`` findings of each rule. Draws are spread over projects: each project's
findings are shuffled, then taken round-robin in a shuffled project order, so one large
project cannot fill a rule's whole sample. The same ``--seed`` gives the same sheet.

The sheet is Markdown. Each finding shows the message, the related locations and +/-
``--context`` lines of code, followed by two lines to fill in::

    verdict: TP | FP | debatable
    reason: one line

``ledger.py add`` reads the filled sheet (and the ``.json`` written beside it).
Low-confidence findings are not drawn unless ``--include-low-confidence`` is given: a
user does not see them by default.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from projects import iter_verdicts, load_manifest, read_findings, select, source_lines


def _draw(
    by_project: dict[str, list[dict[str, Any]]], count: int, rng: random.Random
) -> list[dict[str, Any]]:
    pools = {name: rng.sample(items, len(items)) for name, items in sorted(by_project.items())}
    order = sorted(pools)
    rng.shuffle(order)
    drawn: list[dict[str, Any]] = []
    while len(drawn) < count and any(pools.values()):
        for name in order:
            if pools[name] and len(drawn) < count:
                drawn.append(pools[name].pop())
    return drawn


def _excerpt(checkouts: Path, finding: dict[str, Any], context: int) -> str:
    lines = source_lines(checkouts / finding["project"] / finding["path"])
    row, end = finding["row"], max(finding["end_row"], finding["row"])
    end = min(end, row + 12)  # a long finding (a whole function) shows its head only
    first, last = max(1, row - context), min(len(lines), end + context)
    width = len(str(last))
    out = []
    for number in range(first, last + 1):
        mark = ">" if row <= number <= end else " "
        out.append(f"{mark}{number:>{width}} | {lines[number - 1]}")
    return "\n".join(out) if out else "(source not found)"


def render(
    sample: dict[str, list[dict[str, Any]]], checkouts: Path, context: int, title: str
) -> str:
    parts = [f"# Review sheet: {title}", ""]
    parts.append(
        "For each finding write `verdict: TP`, `FP` or `debatable` and a one-line `reason:`. "
        "Judge it as a reviewer on that team would: is this a problem the rule's documentation "
        "describes, worth the team's attention? Debatable counts against the rule."
    )
    for code, findings in sample.items():
        parts += ["", f"## {code} {findings[0]['name'] if findings else ''} ({len(findings)})"]
        for finding in findings:
            parts += [
                "",
                f"### [{finding['id']}] {finding['project']} · {finding['path']}:{finding['row']}",
                "",
                f"message: {finding['message']}",
            ]
            for rel in finding.get("related", [])[:6]:
                parts.append(
                    f"related: {rel['filename']}:{rel['location']['row']}: {rel['message']}"
                )
            parts += ["", "```python", _excerpt(checkouts, finding, context), "```", ""]
            parts += ["verdict: ", "reason: "]
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path, help="a results folder written by run.py")
    parser.add_argument("--checkouts", type=Path, required=True, help="the folder of checkouts")
    parser.add_argument("--output", type=Path, required=True, help="the review sheet (.md)")
    parser.add_argument("--round", required=True, help="a label for this round (e.g. after-1)")
    parser.add_argument("--set", default="check", choices=("all", "tuning", "check"))
    parser.add_argument("--per-rule", type=int, default=20)
    parser.add_argument("--rules", help="comma-separated codes (default: every rule found)")
    parser.add_argument("--seed", type=int, default=20261203)
    parser.add_argument("--context", type=int, default=8)
    parser.add_argument("--include-low-confidence", action="store_true")
    args = parser.parse_args(argv)

    reviewed = {v["id"] for v in iter_verdicts()}
    wanted = {c.strip() for c in args.rules.split(",")} if args.rules else None
    by_rule: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for project in select(load_manifest(), args.set, None):
        for finding in read_findings(args.results, project.name):
            if finding["id"] in reviewed or (wanted and finding["code"] not in wanted):
                continue
            if finding["confidence"] == "low" and not args.include_low_confidence:
                continue
            by_rule[finding["code"]][project.name].append(finding)
    rng = random.Random(args.seed)
    sample = {code: _draw(by_rule[code], args.per_rule, rng) for code in sorted(by_rule)}
    args.output.write_text(
        render(sample, args.checkouts, args.context, args.round), encoding="utf-8"
    )
    sidecar = {"round": args.round, "results": str(args.results), "findings": sample}
    args.output.with_suffix(".json").write_text(
        json.dumps(sidecar, indent=1) + "\n", encoding="utf-8"
    )
    for code, findings in sample.items():
        available = sum(len(items) for items in by_rule[code].values())
        print(f"{code}: {len(findings)} drawn of {available} unreviewed", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
