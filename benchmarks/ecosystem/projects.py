"""What the ecosystem scripts share: the manifest, result files and finding fingerprints.

Only the standard library is used, so the scripts run with any Python >= 3.10 (tomli is
needed on 3.10, as for backlint itself).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "manifest.toml"
VERDICTS = HERE / "verdicts.jsonl"
SETS = ("tuning", "check")


@dataclass(frozen=True)
class Project:
    """One pinned backend of the manifest."""

    name: str
    repo: str
    commit: str
    set: str
    kind: str
    path: str = ""

    def checkout(self, root: Path) -> Path:
        """Where this project's checkout lives in a folder of checkouts."""
        return root / self.name

    def run_dir(self, root: Path) -> Path:
        """The folder backlint is run in."""
        return self.checkout(root) / self.path if self.path else self.checkout(root)


def load_manifest(path: Path = MANIFEST) -> list[Project]:
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    projects = [Project(**entry) for entry in data["project"]]
    for project in projects:
        if project.set not in SETS:
            raise SystemExit(f"{path}: project {project.name}: set must be one of {SETS}")
    return projects


def select(projects: Iterable[Project], sets: str, names: str | None) -> list[Project]:
    """Projects of the given sets (``tuning``, ``check`` or ``all``), optionally by name."""
    chosen = [p for p in projects if sets == "all" or p.set == sets]
    if names:
        wanted = {name.strip() for name in names.split(",") if name.strip()}
        unknown = wanted - {p.name for p in chosen}
        if unknown:
            raise SystemExit(f"not in the manifest (or not in set {sets}): {sorted(unknown)}")
        chosen = [p for p in chosen if p.name in wanted]
    return chosen


def fingerprint(project: str, code: str, path: str, line_text: str) -> str:
    """A line-independent identity of a finding, stable across backlint versions.

    It leaves out the message and the line number: a reworded message or lines inserted
    above must not make a finding "new". Two findings of one rule on identical lines of
    one file share the fingerprint; callers count them as a multiset.
    """
    key = "\0".join((project, code, path, line_text.strip()))
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


def source_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []


def findings_file(results: Path, project: str) -> Path:
    return results / f"{project}.findings.json"


def read_findings(results: Path, project: str) -> list[dict[str, Any]]:
    path = findings_file(results, project)
    if not path.exists():
        return []
    data: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return data


def read_summary(results: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((results / "summary.json").read_text(encoding="utf-8"))
    return data


def iter_verdicts(path: Path = VERDICTS) -> Iterator[dict[str, Any]]:
    if not path.exists():
        return
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                yield json.loads(line)
            except json.JSONDecodeError as error:
                raise SystemExit(f"{path}:{number}: {error}") from error
