#!/usr/bin/env python3
"""Run BL012's contract extraction and diff between two revisions of a git repository.

Extracts the Python files of both trees from git objects into temporary folders (the
repository is only read, never checked out), analyses each with backlint, and prints the
size of both contracts, the time taken and every breaking change found. Usage::

    python benchmarks/api_contract_history.py /work/eco/mealie v1.0.0 v1.2.0 [--subdir mealie]

``--subdir`` analyses a folder of the repository (the package, to leave tests out);
``--source-root`` names the folder module names start from when it is not the root;
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
    """The Python files of the tree at ``revision`` (under ``subdir`` when given), read
    blob by blob: a partial clone may lack some blobs (large data files), which are
    skipped, where ``git archive`` would fail."""
    git = ["git", "-C", str(repository)]
    listing = subprocess.run(
        [*git, "ls-tree", "-r", "-z", revision, "--", subdir or "."],
        check=True,
        capture_output=True,
    ).stdout.decode()
    entries = []
    for entry in filter(None, listing.split("\0")):
        meta, path = entry.split("\t", 1)
        mode, kind, sha = meta.split()
        if kind == "blob" and mode != "120000" and path.endswith((".py", ".toml")):
            entries.append((sha, path))
    batch = subprocess.run(
        [*git, "cat-file", "--batch"],
        input="".join(f"{sha}\n" for sha, _ in entries).encode(),
        check=True,
        capture_output=True,
    ).stdout
    offset = 0
    for _, path in entries:
        header_end = batch.index(b"\n", offset)
        header = batch[offset:header_end].split()
        offset = header_end + 1
        if header[-1] == b"missing":
            continue
        size = int(header[2])
        file = target / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(batch[offset : offset + size])
        offset += size + 1


def _project(root: Path, subdir: str, source_root: str) -> ProjectIndex:
    paths = (root / subdir,) if subdir else (root,)
    if source_root:
        (root / "pyproject.toml").write_text(
            f'[tool.backlint]\nsrc = ["{source_root}"]\n', encoding="utf-8"
        )
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
    parser.add_argument(
        "--source-root", default="", help="the folder modules are named from (netbox: netbox)"
    )
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as base_dir, tempfile.TemporaryDirectory() as head_dir:
        _extract(arguments.repository, arguments.base, Path(base_dir), arguments.subdir)
        _extract(arguments.repository, arguments.head, Path(head_dir), arguments.subdir)
        started = time.perf_counter()
        base = extract_contract(_project(Path(base_dir), arguments.subdir, arguments.source_root))
        head = extract_contract(_project(Path(head_dir), arguments.subdir, arguments.source_root))
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
