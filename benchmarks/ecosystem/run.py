#!/usr/bin/env python3
"""Run backlint over a folder of checkouts: per-rule counts, crashes and wall time as JSON.

    python benchmarks/ecosystem/run.py ~/eco --output /tmp/eco-new
    python benchmarks/ecosystem/run.py ~/eco --set check --output /tmp/eco-check
    python benchmarks/ecosystem/run.py ~/eco --output /tmp/eco-old \
        --backlint /old/venv/bin/backlint

For each project it runs, in the project's folder (as its developers would)::

    backlint check --output-format json --exit-zero --quiet --jobs N --select <codes> .

By default ``<codes>`` is every rule backlint has, preview and off-by-default ones
included, so one run measures them all; ``--default-rules`` runs only what a new user
gets. It writes ``<project>.findings.json`` (findings with paths relative to the
checkout and a fingerprint each) and ``summary.json`` to ``--output``. A crash is an exit
status other than 0, or anything on stderr that looks like a traceback or an internal
error; crashes are listed in the summary and make the script exit 1.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from projects import Project, findings_file, fingerprint, load_manifest, select, source_lines

CRASH_MARKERS = ("Traceback (most recent call last)", "internal error", "Internal error")


def _rule_codes(backlint: list[str]) -> list[str]:
    listing = subprocess.run(
        [*backlint, "rule", "--all", "--output-format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return [rule["code"] for rule in json.loads(listing.stdout)]


def _version(backlint: list[str]) -> str:
    answer = subprocess.run([*backlint, "--version"], capture_output=True, text=True, check=False)
    return answer.stdout.strip() or answer.stderr.strip()


def _python_lines(folder: Path) -> tuple[int, int]:
    """Files and lines of tracked Python files (all ``*.py`` without git)."""
    listing = subprocess.run(
        ["git", "ls-files", "-z", "*.py"], cwd=folder, capture_output=True, check=False
    )
    if listing.returncode == 0:
        names = [name for name in listing.stdout.decode().split("\0") if name]
    else:
        names = [str(p.relative_to(folder)) for p in folder.rglob("*.py")]
    lines = 0
    for name in names:
        try:
            lines += (folder / name).read_bytes().count(b"\n")
        except OSError:
            continue
    return len(names), lines


def _relative(filename: str, checkout: Path) -> str:
    try:
        return Path(filename).resolve().relative_to(checkout.resolve()).as_posix()
    except ValueError:
        return filename


def _normalise(project: Project, raw: list[dict[str, Any]], checkout: Path) -> list[dict[str, Any]]:
    """Findings with checkout-relative paths and a fingerprint, in a stable order."""
    cache: dict[str, list[str]] = {}
    findings = []
    for item in raw:
        path = _relative(item["filename"], checkout)
        if path not in cache:
            cache[path] = source_lines(checkout / path)
        row = item["location"]["row"]
        lines = cache[path]
        text = lines[row - 1] if 0 < row <= len(lines) else ""
        findings.append(
            {
                "id": fingerprint(project.name, item["code"], path, text),
                "project": project.name,
                "code": item["code"],
                "name": item.get("name", ""),
                "path": path,
                "row": row,
                "column": item["location"]["column"],
                "end_row": item["end_location"]["row"],
                "message": item["message"],
                "severity": item.get("severity", ""),
                "confidence": item.get("confidence", "high"),
                "related": [
                    {**rel, "filename": _relative(rel["filename"], checkout)}
                    for rel in item.get("related", [])
                ],
            }
        )
    findings.sort(key=lambda f: (f["path"], f["row"], f["column"], f["code"], f["message"]))
    return findings


def run_project(
    project: Project,
    root: Path,
    backlint: list[str],
    codes: list[str] | None,
    jobs: int,
    extra: list[str],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    folder = project.run_dir(root)
    if not folder.is_dir():
        return {"project": project.name, "status": "missing", "folder": str(folder)}, []
    command = [*backlint, "check", "--output-format", "json", "--exit-zero", "--quiet"]
    command += ["--jobs", str(jobs)]
    if codes is not None:
        command += ["--select", ",".join(codes)]
    command += [*extra, "."]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    crashed = done.returncode != 0 or any(marker in done.stderr for marker in CRASH_MARKERS)
    try:
        raw = json.loads(done.stdout) if done.stdout.strip() else []
    except json.JSONDecodeError:
        raw, crashed = [], True
    findings = _normalise(project, raw, project.checkout(root))
    files, lines = _python_lines(folder)
    summary = {
        "project": project.name,
        "set": project.set,
        "commit": project.commit,
        "status": "crashed" if crashed else "ok",
        "exit_status": done.returncode,
        "wall_seconds": round(wall, 2),
        "python_files": files,
        "python_lines": lines,
        "findings": len(findings),
        "by_rule": dict(sorted(Counter(f["code"] for f in findings).items())),
        "low_confidence": sum(f["confidence"] == "low" for f in findings),
        "unparsed_files": sum(f["code"] == "BL001" for f in findings),
        "stderr": done.stderr[-4000:],
    }
    return summary, findings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="the folder of checkouts (see checkout.py)")
    parser.add_argument("--output", type=Path, required=True, help="where results are written")
    parser.add_argument("--set", default="all", choices=("all", "tuning", "check"))
    parser.add_argument("--projects", help="comma-separated project names")
    parser.add_argument("--backlint", default=f"{sys.executable} -m backlint")
    parser.add_argument("--jobs", type=int, default=0, help="worker processes (0: one per CPU)")
    parser.add_argument("--default-rules", action="store_true", help="only default-on rules")
    parser.add_argument("--backlint-args", default="", help="more arguments for backlint check")
    args = parser.parse_args(argv)

    backlint = shlex.split(args.backlint)
    codes = None if args.default_rules else _rule_codes(backlint)
    jobs = args.jobs or os.cpu_count() or 1
    args.output.mkdir(parents=True, exist_ok=True)
    summaries = []
    total = Counter[str]()
    for project in select(load_manifest(), args.set, args.projects):
        summary, findings = run_project(
            project, args.folder, backlint, codes, jobs, shlex.split(args.backlint_args)
        )
        summaries.append(summary)
        if summary["status"] != "missing":
            findings_file(args.output, project.name).write_text(
                json.dumps(findings, indent=1) + "\n", encoding="utf-8"
            )
            total.update(summary["by_rule"])
        print(
            f"{project.name:28} {summary['status']:8} {summary.get('findings', 0):6} findings"
            f" {summary.get('wall_seconds', 0):7.1f} s",
            file=sys.stderr,
        )
    report = {
        "backlint": _version(backlint),
        "command": args.backlint,
        "rules": "default" if codes is None else "all",
        "jobs": jobs,
        "python": platform.python_version(),
        "projects": summaries,
        "by_rule": dict(sorted(total.items())),
        "crashes": [s["project"] for s in summaries if s["status"] == "crashed"],
        "wall_seconds": round(sum(s.get("wall_seconds", 0) for s in summaries), 1),
    }
    (args.output / "summary.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: report[k] for k in ("by_rule", "crashes", "wall_seconds")}, indent=1))
    return 1 if report["crashes"] else 0


if __name__ == "__main__":
    sys.exit(main())
