#!/usr/bin/env python3
"""What BL903 (destructive-migration) finds in real projects, two ways.

    python benchmarks/destructive_migrations.py ~/eco/netbox ~/eco/mealie --output /tmp/bl903

For each project it prints the migrations found (by framework), the heads, the findings
of a normal run (heads only) and the findings when every migration counts as changed
since a revision (what ``--new-from-rev`` would report on the change that added each
migration), and writes them to ``<output>/<project>.json`` for review. The project is
analysed in memory: no cache is written into it.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

from backlint.application import CheckRequest, run_check
from backlint.diagnostics import Diagnostic
from backlint.index.change import ChangeSet
from backlint.rules.migrations.destructive_migration import (
    DestructiveMigration,
    project_migrations,
)
from backlint.rules.migrations.migration_graph import MigrationGraph


def _rows(found: list[Diagnostic]) -> list[tuple[str, int, str]]:
    return [(d.path, d.span.start.line, d.message) for d in found]


def measure(root: Path, jobs: int) -> dict[str, object]:
    start = time.perf_counter()
    request = CheckRequest(paths=(root,), cwd=root, select=("BL903",), jobs=jobs)
    result = run_check(request)
    project = result.project
    assert project is not None
    heads_only = [d for d in result.diagnostics if d.code == "BL903"]
    graph = MigrationGraph(project_migrations(project))
    project.change = ChangeSet("EVERY", "0" * 40, frozenset(graph.migrations))
    every = list(DestructiveMigration().check_project(project))
    return {
        "project": root.name,
        "seconds": round(time.perf_counter() - start, 1),
        "migrations": dict(Counter(m.summary.framework for m in graph.migrations.values())),
        "heads": sorted(path for path in graph.migrations if graph.is_head(path)),
        "head_findings": _rows(heads_only),
        "all_findings": _rows(every),
        "internal_errors": [problem.message for problem in result.internal_errors],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("projects", nargs="+", type=Path)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--jobs", type=int, default=2)
    arguments = parser.parse_args()
    arguments.output.mkdir(parents=True, exist_ok=True)
    for root in arguments.projects:
        data = measure(root.resolve(), arguments.jobs)
        (arguments.output / f"{root.name}.json").write_text(json.dumps(data, indent=1))
        print(
            f"{data['project']}: {data['seconds']} s, migrations {data['migrations']}, "
            f"{len(data['heads'])} heads, {len(data['head_findings'])} findings in heads, "
            f"{len(data['all_findings'])} with every migration changed",
            flush=True,
        )


if __name__ == "__main__":
    main()
