"""Positions between backlint and the client.

backlint counts 1-based lines and 1-based columns in code points. LSP counts 0-based
lines and columns in UTF-16 code units, unless the client and the server agreed on
``utf-8`` or ``utf-32`` (``positionEncoding``, LSP 3.17). Lines end at ``\\r\\n``,
``\\r`` or ``\\n`` for both (``source.split_lines``), never at a form feed or a Unicode
line separator as ``str.splitlines`` would have it.
"""

from __future__ import annotations

import bisect

from lsprotocol import types

from backlint.diagnostics import Position, Span
from backlint.source import LINE_BREAK, split_lines

UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"


def units(text: str, encoding: str) -> int:
    """How many code units of ``encoding`` ``text`` takes."""
    if encoding == UTF32:
        return len(text)
    if encoding == UTF8:
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


class LineIndex:
    """One text's lines, to convert positions in both directions."""

    def __init__(self, text: str, encoding: str) -> None:
        self.text = text
        self.lines = split_lines(text)
        self.encoding = encoding
        self._starts = [0] + [match.end() for match in LINE_BREAK.finditer(text)]
        ends_with_break = text.endswith(("\n", "\r"))
        # Where the text ends, as the client counts it.
        self.end = (
            types.Position(len(self.lines), 0)
            if ends_with_break or not self.lines
            else types.Position(len(self.lines) - 1, units(self.lines[-1], encoding))
        )

    def units(self, text: str) -> int:
        return units(text, self.encoding)

    def offset_to_client(self, offset: int) -> types.Position:
        """The position of a code-point offset into the text."""
        line = bisect.bisect_right(self._starts, offset) - 1
        start = self._starts[line]
        if line >= len(self.lines):
            return self.end
        return types.Position(line, units(self.text[start:offset], self.encoding))

    def line(self, number: int) -> str:
        """The 0-based line ``number`` without its break ("" past the end)."""
        return self.lines[number] if 0 <= number < len(self.lines) else ""

    def to_client(self, position: Position) -> types.Position:
        """A backlint position (1-based, code points) as an LSP position."""
        line = position.line - 1
        if line >= len(self.lines):
            return self.end
        text = self.lines[max(line, 0)]
        column = min(max(position.column - 1, 0), len(text))
        return types.Position(max(line, 0), units(text[:column], self.encoding))

    def range(self, span: Span) -> types.Range:
        return types.Range(self.to_client(span.start), self.to_client(span.end))

    def from_client(self, position: types.Position) -> Position:
        """An LSP position as a backlint position; a column inside a character (half of
        a surrogate pair) counts as that character."""
        text = self.line(position.line)
        counted = 0
        for index, char in enumerate(text):
            if counted >= position.character:
                return Position(position.line + 1, index + 1)
            counted += units(char, self.encoding)
        return Position(position.line + 1, len(text) + 1)
