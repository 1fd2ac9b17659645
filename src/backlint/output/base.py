"""The interface every output format implements, and the registry of formats.

A format is a function from the run's sorted diagnostics to the text written to stdout or
``--output-file``. Formats never read files of the project: everything they need is in the
diagnostics and in ``Report``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from backlint.diagnostics import Diagnostic
from backlint.engine.redaction import Masked
from backlint.rules.metadata import RuleInfo


@dataclass(frozen=True)
class Report:
    """Everything a format may use besides the diagnostics."""

    diagnostics: Sequence[Diagnostic]
    rules: Mapping[str, RuleInfo]  # every known rule by code
    root: Path  # the project root: SARIF and GitLab paths are relative to it
    cwd: Path  # the working directory display paths are relative to
    version: str
    # Text of the lines findings start on, by display path and line number: formats that
    # show source (``full``) or fingerprint it (SARIF, GitLab) read it from here, so that
    # stdin input and files changed since the run are handled alike.
    snippets: Mapping[str, Mapping[int, str]]
    quiet: bool = False
    # Ranges of those lines that hide a secret, by display path and line number: the mask
    # has a fixed length, so columns after it move (``engine.redaction.shifted_column``).
    masked: Mapping[str, Mapping[int, Sequence[Masked]]] = field(default_factory=dict)
    # Whether unsafe fixes are enabled (``--unsafe-fixes``): they then count as fixable,
    # are marked ``[*]`` and go into SARIF ``fixes`` like safe ones.
    unsafe_fixes: bool = False
    # How many findings ``--fix`` fixed in this run (None: no fixing was asked for).
    fixed: int | None = None
    # The rules that ran (None: unknown), so the gate report can tell a gate that passed
    # from one no enabled rule checks.
    enabled: frozenset[str] | None = None
    # ``--new-from-rev``'s revision: the findings are those new since it.
    new_from_rev: str | None = None
    # Where links to source lines point (the gate report): a URL prefix to which
    # ``path#Lline`` is appended, such as a GitHub blob URL; None: repository-relative.
    links: str | None = None

    def fixable(self, diagnostic: Diagnostic) -> bool:
        """Whether ``--fix`` (with this run's ``--unsafe-fixes``) would fix it."""
        return diagnostic.fix is not None and diagnostic.fix.applies(self.unsafe_fixes)

    def absolute(self, diagnostic: Diagnostic) -> Path:
        path = Path(diagnostic.path)
        return path if path.is_absolute() else self.cwd / path


Formatter = Callable[[Report], str]
