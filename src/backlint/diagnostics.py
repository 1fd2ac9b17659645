"""The vocabulary every part of backlint shares: positions, diagnostics, fixes.

Everything here is a frozen dataclass of plain values so that worker processes can send
results to the parent with pickle, and so that sorting diagnostics gives the same order
for every ``--jobs`` value.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Severity(str, enum.Enum):
    """How much a finding matters; maps onto SARIF levels and GitLab severities."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Applicability(str, enum.Enum):
    """Whether an automatic fix may be applied without a person looking at it (ruff's terms)."""

    SAFE = "safe"
    UNSAFE = "unsafe"
    DISPLAY_ONLY = "display-only"


@dataclass(frozen=True, order=True)
class Position:
    """A 1-based line and a 1-based column counted in Unicode code points."""

    line: int
    column: int


@dataclass(frozen=True, order=True)
class Span:
    """A half-open range of source text: ``end`` is one past the last character."""

    start: Position
    end: Position

    @staticmethod
    def at_line_start(line: int) -> Span:
        return Span(Position(line, 1), Position(line, 1))


@dataclass(frozen=True)
class Edit:
    """Replace the text in ``span`` with ``content`` (an insertion when the span is empty)."""

    span: Span
    content: str


@dataclass(frozen=True)
class Fix:
    """An automatic fix: edits applied together, with how safe they are."""

    message: str
    edits: tuple[Edit, ...]
    applicability: Applicability

    def applies(self, unsafe: bool) -> bool:
        """Whether ``--fix`` applies it: safe fixes always, unsafe ones with ``unsafe``."""
        if not self.edits:
            return False
        return self.applicability is Applicability.SAFE or (
            unsafe and self.applicability is Applicability.UNSAFE
        )


@dataclass(frozen=True)
class Related:
    """Another place that explains a finding, such as the next import of a cycle."""

    path: str
    span: Span
    message: str


@dataclass(frozen=True)
class Diagnostic:
    """One finding of one rule at one place.

    ``path`` is the display path: relative to the working directory when the file is
    under it, otherwise absolute; outputs that need another form derive it from
    ``path``. ``help`` is the rule's suggested fix text.
    """

    path: str
    span: Span
    code: str
    name: str
    message: str
    severity: Severity
    help: str = ""
    fix: Fix | None = None
    related: tuple[Related, ...] = ()
    # The line whose noqa comment can silence this finding (the closing line of a
    # multi-line string, for instance). Defaults to the start line.
    noqa_line: int = 0
    # Other lines whose noqa comment or waiver also silences it: the class line of a
    # finding at a model's field, the decorator line of one at a route handler.
    waiver_lines: tuple[int, ...] = ()
    # ``low`` when the finding rests on a heuristic fallback (a handler recognised by
    # its shape because its router could not be resolved); such findings are reported
    # only with ``include-low-confidence``.
    confidence: str = "high"

    @property
    def suppression_line(self) -> int:
        return self.noqa_line or self.span.start.line

    @property
    def suppression_lines(self) -> tuple[int, ...]:
        """Every line whose comment can silence it, the main one first."""
        main = self.suppression_line
        return (main, *(line for line in self.waiver_lines if line != main))

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.path, self.span.start.line, self.span.start.column, self.code, self.message)


@dataclass(frozen=True)
class RunProblem:
    """Something that kept backlint from checking a file fully: it is logged, not reported."""

    path: str
    message: str
