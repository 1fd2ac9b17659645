#!/usr/bin/env python3
"""Run BL012's contract extraction and diff between two revisions of a git repository.

Extracts both trees with ``git archive`` into temporary folders (the repository is only
read, never checked out), analyses each with backlint, and prints the size of both
contracts, the time taken and every breaking change found. Usage::

    python benchmarks/api_contract_history.py /work/eco/mealie v1.0.0 v1.2.0 [--subdir mealie]

``--subdir`` analyses a folder of the repository (the package, to leave tests out);
``--routes`` also lists the routes of the head contract.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

from backlint.application import CheckRequest, run_check
from backlint.contract.diff import diff_contracts
from backlint.contract.extract import extract_contract
from backlint.contract.model import Contract
from backlint.index.project import ProjectIndex


def _extract(repository: Path, revision: str, target: Path, subdir: str) -> None:
    """The tree at ``revision`` (only ``subdir`` when given: a partial clone may lack
    the blobs of large test data)."""
    archive = subprocess.run(
        ["git", "-C", str(repository), "archive", revision, *([subdir] if subdir else [])],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)


def _project(root: Path, subdir: str) -> ProjectIndex:
    paths = (root / subdir,) if subdir else (root,)
    result = run_check(CheckRequest(paths=paths, cwd=root, select=("BL012",), jobs=2))
    if result.project is None:
        raise SystemExit(f"no project index for {root}")
    return result.project


def _describe(contract: Contract) -> str:
    known = sum(1 for route in contract.routes if route.path)
    return (
        f"{len(contract.routes)} routes ({known} with a known path), {len(contract.models)} models"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repository", type=Path)
    parser.add_argument("base")
    parser.add_argument("head")
    parser.add_argument("--subdir", default="")
    parser.add_argument("--routes", action="store_true")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as base_dir, tempfile.TemporaryDirectory() as head_dir:
        _extract(arguments.repository, arguments.base, Path(base_dir), arguments.subdir)
        _extract(arguments.repository, arguments.head, Path(head_dir), arguments.subdir)
        started = time.perf_counter()
        base = extract_contract(_project(Path(base_dir), arguments.subdir))
        head = extract_contract(_project(Path(head_dir), arguments.subdir))
        analysed = time.perf_counter() - started
        started = time.perf_counter()
        breaks = diff_contracts(base, head)
        compared = time.perf_counter() - started
    print(f"base {arguments.base}: {_describe(base)}")
    print(f"head {arguments.head}: {_describe(head)}")
    print(f"analysis of both trees {analysed:.1f} s, diff {compared * 1000:.1f} ms")
    if arguments.routes:
        for route in head.routes:
            print(f"  {route.operation}  {route.module}.{route.handler}")
    print(f"{len(breaks)} breaking changes")
    for found in breaks:
        print(f"{found.location.path}:{found.location.line}: [{found.kind}] {found.message}")


if __name__ == "__main__":
    main()
