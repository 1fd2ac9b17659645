"""Real git repositories for tests of ``--new-from-rev``: committed with fixed identities
and dates, so commits are reproducible, and without the user's git configuration."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

_ENVIRONMENT = {
    "GIT_AUTHOR_NAME": "backlint tests",
    "GIT_AUTHOR_EMAIL": "tests@backlint.invalid",
    "GIT_COMMITTER_NAME": "backlint tests",
    "GIT_COMMITTER_EMAIL": "tests@backlint.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(root: Path, *arguments: str) -> str:
    completed = subprocess.run(
        ["git", *arguments],
        cwd=root,
        env={**os.environ, **_ENVIRONMENT},
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout.strip()


def commit_all(root: Path, message: str = "base") -> str:
    """Commit everything under ``root`` (a repository is made there first if needed);
    return the commit."""
    if not (root / ".git").exists():
        git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "--allow-empty", "-m", message)
    return git(root, "rev-parse", "HEAD")
