"""What the per-file pass takes and returns: ``FileTask`` and ``FileResult``.

Plain frozen values, apart from the parser: the application builds tasks, and reads
results (or, later, a cache of them) without importing libcst; only checking a file
(``engine/filepass.py``) needs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from backlint.diagnostics import Diagnostic, RunProblem
from backlint.directives import Directive
from backlint.engine.redaction import Masked
from backlint.index.facts import FileFacts

if TYPE_CHECKING:
    from backlint.rules.base import Condition

# Files above this size are skipped with a message: they are generated data, not code a
# person reviews, and parsing them would dominate the run.
MAX_FILE_BYTES = 5 * 1024 * 1024

PYTHON = "python"


@dataclass(frozen=True)
class FileTask:
    """One file to check. ``data`` holds the bytes read from stdin, if that is the source;
    ``kind`` is ``python`` or the kind of a non-Python file text rules read."""

    path: Path  # absolute
    display: str
    relative: str
    data: bytes | None = None
    kind: str = PYTHON


@dataclass(frozen=True)
class ConditionalDiagnostic:
    """A finding that the project pass keeps only if all its conditions hold."""

    diagnostic: Diagnostic
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class FileResult:
    path: str
    diagnostics: tuple[Diagnostic, ...] = ()
    conditional: tuple[ConditionalDiagnostic, ...] = ()
    facts: FileFacts | None = None
    directives: tuple[Directive, ...] = ()
    snippets: dict[int, str] = field(default_factory=dict)
    # The ranges of snippet lines that hide a secret, by line: outputs map columns with them.
    masked: dict[int, tuple[Masked, ...]] = field(default_factory=dict)
    problems: tuple[RunProblem, ...] = ()
    internal_errors: tuple[RunProblem, ...] = ()
    lines: int = 0
