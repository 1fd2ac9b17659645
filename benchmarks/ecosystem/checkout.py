#!/usr/bin/env python3
"""Check out the manifest's projects at their pinned commits into a folder.

    python benchmarks/ecosystem/checkout.py ~/eco                 # every project
    python benchmarks/ecosystem/checkout.py ~/eco --set check
    python benchmarks/ecosystem/checkout.py ~/eco --source '/mirrors/{owner}+{name}/repo'

A checkout already at its pinned commit is left alone; one at another commit is moved to
the pinned one. Each fetch takes only that commit (``--depth 1``). ``--source`` is where
the repositories come from: a URL or path template with ``{repo}`` (``owner/name``),
``{owner}`` and ``{name}``; by default GitHub over HTTPS.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from projects import Project, load_manifest, select

GITHUB = "https://github.com/{repo}.git"


def _git(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)


def checkout(project: Project, root: Path, source: str) -> str:
    """Bring one project to its pinned commit; returns what was done."""
    dest = project.checkout(root)
    owner, name = project.repo.split("/", 1)
    url = source.format(repo=project.repo, owner=owner, name=name)
    if (dest / ".git").exists():
        head = _git("rev-parse", "HEAD", cwd=dest).stdout.strip()
        if head == project.commit:
            return "up to date"
    else:
        dest.mkdir(parents=True, exist_ok=True)
        _git("init", "--quiet", cwd=dest)
    if Path(url).is_dir():
        url = Path(url).resolve().as_uri()
    fetched = _git("fetch", "--quiet", "--depth", "1", url, project.commit, cwd=dest)
    if fetched.returncode != 0:
        return (
            "FAILED: " + fetched.stderr.strip().splitlines()[-1:][0] if fetched.stderr else "FAILED"
        )
    moved = _git("checkout", "--quiet", "--force", "--detach", "FETCH_HEAD", cwd=dest)
    if moved.returncode != 0:
        return "FAILED: " + moved.stderr.strip()
    return f"checked out {project.commit[:12]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="the folder of checkouts")
    parser.add_argument("--set", default="all", choices=("all", "tuning", "check"))
    parser.add_argument("--projects", help="comma-separated project names")
    parser.add_argument("--source", default=GITHUB, help="URL or path template")
    args = parser.parse_args(argv)
    failed = 0
    for project in select(load_manifest(), args.set, args.projects):
        outcome = checkout(project, args.folder, args.source)
        failed += outcome.startswith("FAILED")
        print(f"{project.name:32} {outcome}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
