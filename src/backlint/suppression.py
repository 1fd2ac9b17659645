"""Deciding what ``# noqa`` comments silence in a run, and which of their codes were used.

The comments themselves are parsed in ``directives.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from backlint.diagnostics import Diagnostic
from backlint.directives import CodeMention, Directive
from backlint.selection import matches_any


@dataclass
class FileSuppressions:
    """The directives of one file, and which of their codes were used in this run."""

    path: str
    directives: tuple[Directive, ...]
    used: set[tuple[int, str]] = field(default_factory=set)  # (line, code)
    # Selectors (codes, prefixes, names) of the rules whose waivers must give a reason
    # (``require-reason-for``).
    require_reason: tuple[str, ...] = ()
    # (line, code) of waivers that did not silence a finding because they lack a reason.
    missing_reason: set[tuple[int, str]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._by_line = {d.line: d for d in self.directives if not d.file_level}
        self._file = [d for d in self.directives if d.file_level]

    def suppresses(self, diagnostic: Diagnostic) -> bool:
        """Whether ``diagnostic`` is silenced; records which directive code was used."""
        for directive in self._file:
            if directive.is_bare:
                return True
            if any(m.code == diagnostic.code for m in directive.codes):
                self.used.add((directive.line, diagnostic.code))
                return True
        return any(self._line_suppresses(line, diagnostic) for line in diagnostic.suppression_lines)

    def _line_suppresses(self, line: int, diagnostic: Diagnostic) -> bool:
        directive = self._by_line.get(line)
        if directive is None:
            return False
        if directive.is_bare:
            return True
        if (
            directive.waiver
            and not directive.reason
            and matches_any(diagnostic.code, diagnostic.name, self.require_reason)
        ):
            # A waiver for this code must say why (a ticket, a reason): the finding stays.
            self.missing_reason.add((directive.line, diagnostic.code))
            return False
        if any(m.code == diagnostic.code for m in directive.codes):
            self.used.add((directive.line, diagnostic.code))
            return True
        return False

    def mark_used(self, line: int, code: str) -> None:
        self.used.add((line, code))

    def unused(self) -> Iterator[tuple[Directive, CodeMention]]:
        for directive in self.directives:
            for mention in directive.codes:
                key = (directive.line, mention.code)
                if key not in self.used and key not in self.missing_reason:
                    yield directive, mention
