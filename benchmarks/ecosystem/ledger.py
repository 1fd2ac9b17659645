#!/usr/bin/env python3
"""Keep the precision ledger: verdicts in ``verdicts.jsonl``, rendered as docs/precision.md.

    python benchmarks/ecosystem/ledger.py add /tmp/review.md [/tmp/review2.md ...]
    python benchmarks/ecosystem/ledger.py render            # writes docs/precision.md
    python benchmarks/ecosystem/ledger.py render --check    # exit 1 if stale or a rule is
                                                            # on by default below the bar

``add`` reads review sheets written by ``sample.py`` and filled in by a reviewer (each
finding's ``verdict:`` and ``reason:`` lines), joins them with the sheet's ``.json``
sidecar, and appends one line per judged finding to ``verdicts.jsonl``. A finding without
a verdict is skipped and counted. Verdicts hold locations, messages and reasons, never
the projects' code.

``render`` writes the ledger. A rule's current precision is its latest round; strict
precision counts ``debatable`` against the rule. The bar for a rule to be on by default
is at least 90 % strict precision on at least 20 findings from the check set.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from projects import HERE, VERDICTS, iter_verdicts, load_manifest

LEDGER = HERE.parent.parent / "docs" / "precision.md"
VERDICT_WORDS = {"tp": "TP", "fp": "FP", "debatable": "debatable"}
BAR_PRECISION, BAR_FINDINGS = 0.90, 20
# They report facts, not judgements (see INTRO): on by default without a round.
EXEMPT = frozenset({"BL001", "BL002"})
# ``### [id] project · path:row``: two findings on identical lines of one file share the
# id (see ``fingerprint``), so the row tells them apart.
_ENTRY = re.compile(r"^### \[(?P<id>[0-9a-f]{12})\][^\n]*?:(?P<row>\d+)[ \t]*$", re.MULTILINE)


def parse_sheet(text: str) -> dict[tuple[str, int], tuple[str, str]]:
    """``{(finding id, row): (verdict, reason)}`` for every judged finding of a sheet."""
    judged: dict[tuple[str, int], tuple[str, str]] = {}
    starts = list(_ENTRY.finditer(text))
    for index, match in enumerate(starts):
        end = starts[index + 1].start() if index + 1 < len(starts) else len(text)
        body = text[match.end() : end]
        # The last verdict/reason lines of the entry: the code excerpt may contain either word.
        verdicts = re.findall(r"^verdict:[ \t]*(.*)$", body, re.MULTILINE)
        reasons = re.findall(r"^reason:[ \t]*(.*)$", body, re.MULTILINE)
        word = VERDICT_WORDS.get(verdicts[-1].strip().lower()) if verdicts else None
        if word:
            reason = reasons[-1].strip() if reasons else ""
            judged[(match["id"], int(match["row"]))] = (word, reason)
    return judged


def add(sheets: list[Path]) -> int:
    known = {(v["id"], v["row"], v["round"]) for v in iter_verdicts()}
    commits = {p.name: p.commit for p in load_manifest()}
    sets = {p.name: p.set for p in load_manifest()}
    lines, skipped = [], 0
    for sheet in sheets:
        sidecar = json.loads(sheet.with_suffix(".json").read_text(encoding="utf-8"))
        judged = parse_sheet(sheet.read_text(encoding="utf-8"))
        for code, findings in sidecar["findings"].items():
            for finding in findings:
                key = (finding["id"], finding["row"])
                if key not in judged:
                    skipped += 1
                    continue
                if (*key, sidecar["round"]) in known:
                    continue
                verdict, reason = judged[key]
                lines.append(
                    {
                        "id": finding["id"],
                        "round": sidecar["round"],
                        "code": code,
                        "project": finding["project"],
                        "set": sets.get(finding["project"], "?"),
                        "commit": commits.get(finding["project"], "?"),
                        "path": finding["path"],
                        "row": finding["row"],
                        "message": finding["message"],
                        "verdict": verdict,
                        "reason": reason,
                    }
                )
    with VERDICTS.open("a", encoding="utf-8") as handle:
        for line in lines:
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")
    print(f"added {len(lines)} verdicts; {skipped} findings had no verdict", file=sys.stderr)
    return 0


def _rules(backlint: str) -> list[dict[str, Any]]:
    listing = subprocess.run(
        [*shlex.split(backlint), "rule", "--all", "--output-format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    rules: list[dict[str, Any]] = json.loads(listing.stdout)
    return rules


def _status(rule: dict[str, Any]) -> str:
    if rule["preview"]:
        return "preview"
    return "on" if rule["default_enabled"] else "off"


def _precision(verdicts: list[dict[str, Any]]) -> tuple[Counter[str], str]:
    counts = Counter(v["verdict"] for v in verdicts)
    total = sum(counts.values())
    return counts, (f"{100 * counts['TP'] / total:.0f} %" if total else "—")


def _meets_bar(verdicts: list[dict[str, Any]]) -> bool:
    counts = Counter(v["verdict"] for v in verdicts)
    total = sum(counts.values())
    return total >= BAR_FINDINGS and counts["TP"] / total >= BAR_PRECISION


def _bar(code: str, verdicts: list[dict[str, Any]]) -> str:
    if code in EXEMPT:
        return "exempt"
    return "yes" if verdicts and _meets_bar(verdicts) else "no"


def _latest_by_rule() -> dict[str, list[dict[str, Any]]]:
    """Each rule's verdicts of its latest round on the check set (rounds in file order)."""
    rounds: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(dict)
    for verdict in iter_verdicts():
        if verdict["set"] == "check":
            rounds[verdict["code"]].setdefault(verdict["round"], []).append(verdict)
    return {code: list(by_round.values())[-1] for code, by_round in rounds.items()}


def below_the_bar(backlint: str) -> list[str]:
    """Codes of rules on by default whose latest round misses the bar (exempt ones aside)."""
    latest = _latest_by_rule()
    return [
        rule["code"]
        for rule in _rules(backlint)
        if _status(rule) == "on" and _bar(rule["code"], latest.get(rule["code"], [])) == "no"
    ]


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(backlint: str, intro: str) -> str:
    rules = _rules(backlint)
    verdicts: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    round_order: list[str] = []
    for verdict in iter_verdicts():
        if verdict["set"] != "check":
            continue
        verdicts[verdict["code"]][verdict["round"]].append(verdict)
        if verdict["round"] not in round_order:
            round_order.append(verdict["round"])
    out = [intro.rstrip(), "", "## Summary", ""]
    out.append(
        "| rule | name | default | latest round | sampled | TP | FP | debatable | strict precision"
        " | meets the bar | earlier rounds |"
    )
    out.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for rule in rules:
        rounds = verdicts.get(rule["code"], {})
        ordered = [r for r in round_order if r in rounds]
        if not ordered:
            out.append(
                f"| {rule['code']} | `{rule['name']}` | {_status(rule)} | — | 0 | | | | —"
                f" | {_bar(rule['code'], [])} | |"
            )
            continue
        latest = rounds[ordered[-1]]
        counts, precision = _precision(latest)
        earlier = ", ".join(
            f"{r}: {_precision(rounds[r])[1]} of {len(rounds[r])}" for r in ordered[:-1]
        )
        out.append(
            f"| {rule['code']} | `{rule['name']}` | {_status(rule)} | {ordered[-1]} | {len(latest)}"
            f" | {counts['TP']} | {counts['FP']} | {counts['debatable']} | {precision}"
            f" | {_bar(rule['code'], latest)} | {earlier} |"
        )
    out += ["", "## Verdicts", ""]
    out.append("Latest round first; `path:row` is in the project's checkout at the pinned commit.")
    for rule in rules:
        rounds = verdicts.get(rule["code"], {})
        if not rounds:
            continue
        out += ["", f"### {rule['code']} `{rule['name']}`"]
        for label in reversed([r for r in round_order if r in rounds]):
            counts, precision = _precision(rounds[label])
            out += [
                "",
                f"Round `{label}`: {precision} strict ({counts['TP']} TP, {counts['FP']} FP, "
                f"{counts['debatable']} debatable).",
                "",
            ]
            out += ["| project | location | verdict | reason |", "|---|---|---|---|"]
            for v in sorted(rounds[label], key=lambda v: (v["project"], v["path"], v["row"])):
                where = f"`{v['path']}:{v['row']}`"
                reason = _escape(v["reason"])
                out.append(f"| {v['project']} | {where} | {v['verdict']} | {reason} |")
    return "\n".join(out) + "\n"


INTRO = """\
# Precision ledger

How often each rule is right on real code it was never tuned on. Generated by
`python benchmarks/ecosystem/ledger.py render` from `benchmarks/ecosystem/verdicts.jsonl`;
do not edit by hand.

**Method.** The projects of `benchmarks/ecosystem/manifest.toml` are split into a *tuning*
set (rules were calibrated on them) and a *check* set (never used to tune a rule).
`run.py` runs every rule over the check set, `sample.py` draws findings per rule at random
(spread over the projects, findings already judged left out) and a reviewer reads each in
its code and gives a verdict: **TP** (the problem the rule describes, worth the team's
attention), **FP** (not that problem) or **debatable**. Strict precision is TP over all
judged findings: debatable counts against the rule. Only check-set verdicts appear here.

**The bar.** A rule is on by default only when its latest round has at least 20 judged
findings and at least 90 % strict precision. A rule below the bar is preview: it runs when
selected by its code or name, or with `preview = true` (`--preview`). `ledger.py render
--check`, run by the tests, fails when a rule on by default misses the bar. A rule that
was changed after a round
is measured again on a fresh sample: a finding that was looked at while tuning no longer
measures anything. BL001 (a file that does not parse) and BL002 (a backlint suppression
that suppressed nothing) are exempt: they report facts, not judgements, and check-set
projects, which do not use backlint, have no backlint suppressions to judge.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    adding = sub.add_parser("add", help="add the verdicts of filled review sheets")
    adding.add_argument("sheets", type=Path, nargs="+")
    rendering = sub.add_parser("render", help="write docs/precision.md")
    rendering.add_argument("--backlint", default=f"{sys.executable} -m backlint")
    rendering.add_argument("--output", type=Path, default=LEDGER)
    rendering.add_argument(
        "--check",
        action="store_true",
        help="exit 1 if the file is stale or a rule on by default is below the bar",
    )
    args = parser.parse_args(argv)
    if args.command == "add":
        return add(args.sheets)
    text = render(args.backlint, INTRO)
    below = below_the_bar(args.backlint)
    if below:
        codes = ", ".join(below)
        print(f"on by default but below the bar: {codes} (make them preview)", file=sys.stderr)
    if args.check:
        if below:
            return 1
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is stale: run ledger.py render", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
