"""Apply the edits of many fixes to one text, skipping fixes that overlap.

Ruff's model: fixes are taken in source order; a fix whose edits overlap an edit already
taken waits for the next round (the loop in ``run.py`` re-checks the file and applies
what is still offered). An edit identical to one already taken (two fixes adding the same
import) is applied once and is not a conflict.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from backlint.diagnostics import Diagnostic, Position

_LINE_BREAK = re.compile(r"\r\n|\r|\n")

# (start offset, end offset, replacement): a half-open range of the text.
_Change = tuple[int, int, str]


@dataclass(frozen=True)
class Applied:
    text: str
    fixed: tuple[Diagnostic, ...]  # the findings whose fixes are in ``text``


class _Offsets:
    """Turns 1-based (line, code-point column) positions into offsets of one text."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._starts = [0] + [match.end() for match in _LINE_BREAK.finditer(text)]
        self._ends = [match.start() for match in _LINE_BREAK.finditer(text)] + [len(text)]

    def __call__(self, position: Position) -> int:
        line = position.line - 1
        if line >= len(self._starts):
            return len(self._text)
        # A column past the end of the line means its end: never eat the line break.
        return min(self._starts[line] + position.column - 1, self._ends[line])


def _overlaps(first: _Change, second: _Change) -> bool:
    (start_a, end_a, text_a), (start_b, end_b, text_b) = first, second
    if start_a == end_a == start_b == end_b:
        return text_a != text_b  # two insertions at one place: their order is unknown
    return start_a < end_b and start_b < end_a


def _order(diagnostic: Diagnostic) -> tuple[Position, str]:
    fix = diagnostic.fix
    start = min(edit.span.start for edit in fix.edits) if fix else Position(0, 0)
    return start, diagnostic.code


def apply_fixes(text: str, diagnostics: Iterable[Diagnostic]) -> Applied:
    """``text`` with the fixes of ``diagnostics`` applied, as many as do not overlap."""
    offset = _Offsets(text)
    candidates = sorted((d for d in diagnostics if d.fix is not None and d.fix.edits), key=_order)
    taken: list[_Change] = []
    fixed: list[Diagnostic] = []
    for diagnostic in candidates:
        assert diagnostic.fix is not None
        changes = [
            (offset(edit.span.start), offset(edit.span.end), edit.content)
            for edit in diagnostic.fix.edits
        ]
        new = [change for change in changes if change not in taken]
        if any(_overlaps(change, other) for change in new for other in taken):
            continue
        if _overlaps_itself(new):
            continue
        taken.extend(new)
        fixed.append(diagnostic)
    return Applied(_splice(text, taken), tuple(fixed))


def _overlaps_itself(changes: Sequence[_Change]) -> bool:
    return any(
        _overlaps(changes[i], changes[j])
        for i in range(len(changes))
        for j in range(i + 1, len(changes))
    )


def _splice(text: str, changes: list[_Change]) -> str:
    parts: list[str] = []
    cursor = 0
    for start, end, content in sorted(changes, key=lambda change: (change[0], change[1])):
        parts.append(text[cursor:start])
        parts.append(content)
        cursor = end
    parts.append(text[cursor:])
    return "".join(parts)
