"""What the tests share: running the real CLI or the engine on small projects they write."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

from backlint.application import CheckRequest, run_check
from backlint.diagnostics import Diagnostic

# The environment without GitHub Actions' variables: the gate report links to GitHub
# when they are set, and golden outputs must not depend on where the suite runs.
QUIET_ENVIRONMENT = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
ENV = {**QUIET_ENVIRONMENT, "NO_COLOR": "1", "PYTHONSAFEPATH": "1"}


def every_rule(args: Sequence[str]) -> list[str]:
    """``check`` arguments that also run preview rules, unless the test chose itself.

    Tests use rules as canaries (BL201 on a bare ``except:``) whatever their default
    status, which follows measured precision (docs/precision.md) and changes; a test of
    the default selection passes ``--no-preview``.
    """
    if not args or args[0] != "check" or {"--preview", "--no-preview"} & set(args):
        return list(args)
    return ["check", "--preview", *args[1:]]


def backlint(root: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m backlint ARGS`` in ``root`` (stdin empty unless given); no stream may
    hold a traceback."""
    completed = subprocess.run(
        [sys.executable, "-m", "backlint", *every_rule(args)],
        cwd=root,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=ENV,
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        timeout=120,
        check=False,
    )
    for stream in (completed.stdout, completed.stderr):
        assert "Traceback" not in stream, stream
    return completed


def write_files(root: Path, files: Mapping[str, str]) -> Path:
    """Write ``files`` (relative path → text, dedented) under ``root``."""
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def rule_findings(root: Path, code: str, *paths: Path) -> list[Diagnostic]:
    """The findings of one rule (enabled on top of the defaults) in ``root``, in-process."""
    result = run_check(
        CheckRequest(paths=paths or (root,), cwd=root, extend_select=(code,), jobs=1)
    )
    assert not result.internal_errors, result.internal_errors
    return [d for d in result.diagnostics if d.code == code]
