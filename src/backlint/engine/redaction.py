"""Keeping detected secrets out of every output.

A rule that reports a secret marks its finding ``secret``; before the file's source
lines leave the worker (as the snippets that ``full`` output shows and fingerprints
hash), the characters of the reported range are replaced. Messages are the rules' own
business: they never include more than ``shown(value)``.

What stays visible is little: at most the first four characters of a value and never
more than a quarter of it (four characters of an eight-character password are half of
it), followed by a mask of fixed length, so that the output does not tell the value's
length either. Because the mask changes the length of a line, the masked ranges are
returned with the line: an output that points at columns (``full``'s carets) maps them
with ``shifted_column``.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping, Sequence
from dataclasses import dataclass

from backlint.diagnostics import Span

VISIBLE = 4
MASK = "***"
_QUOTES = ("'", '"')


def visible_length(size: int) -> int:
    """How many leading characters of a ``size``-character secret may be shown."""
    return min(VISIBLE, size // 4)


def shown(value: str) -> str:
    """The most of a secret any output may show: a short head and a fixed mask."""
    return value[: visible_length(len(value))] + MASK


@dataclass(frozen=True)
class Masked:
    """A range of a source line that was replaced: ``[start, end)`` in the original
    line's 0-based code points, now ``length`` characters long."""

    start: int
    end: int
    length: int


def shifted_column(column: int, masks: Sequence[Masked]) -> int:
    """Where the 0-based ``column`` of the original line is in the masked line.

    A column inside a masked range keeps its offset from the range's start, up to the
    end of the replacement, so carets under a secret stay under its mask.
    """
    shift = 0
    for mask in masks:
        if column >= mask.end:
            shift += mask.length - (mask.end - mask.start)
        elif column > mask.start:
            return mask.start + shift + min(column - mask.start, mask.length)
    return column + shift


def _content_start(line: str, start: int, stop: int) -> int:
    """Where the value starts in ``line[start:stop]``: after a string prefix (``b``,
    ``rb``, ``f``) and the opening quotes, if the range starts with a literal."""
    prefix = start
    while prefix < stop and prefix - start < 3 and line[prefix].isalpha():
        prefix += 1  # a string prefix such as b, f or rb counts only before a quote
    head = prefix if prefix < stop and line[prefix] in _QUOTES else start
    while head < stop and line[head] in _QUOTES:
        head += 1
    return head


def _masked_text(line: str, start: int, stop: int, first: bool) -> str:
    """The replacement of ``line[start:stop]``: a string prefix, the quotes around the
    range and, on the secret's first line only, a short head of the value stay (on a
    continuation line, the indentation too)."""
    head = start
    while not first and head < stop and line[head].isspace():
        head += 1
    head = _content_start(line, head, stop)
    tail = stop
    while tail > head and line[tail - 1] in _QUOTES:
        tail -= 1
    content = line[head:tail]
    # Quotes and spaces inside the range (an implicit concatenation) are not the value.
    size = sum(1 for character in content if not character.isspace() and character not in _QUOTES)
    keep = visible_length(size) if first else 0
    return line[start:head] + content[:keep] + MASK + line[tail:stop]


def mask_line(line: str, ranges: Iterable[tuple[int, int, bool]]) -> tuple[str, tuple[Masked, ...]]:
    """``line`` with each 0-based ``(start, end, first)`` range masked, and the ranges
    as they were replaced. Overlapping ranges are masked once."""
    merged: list[tuple[int, int, bool]] = []
    for start, end, first in sorted(ranges):
        stop = min(end, len(line))
        if start >= stop:
            continue
        if merged and start < merged[-1][1]:
            last_start, last_stop, last_first = merged[-1]
            merged[-1] = (last_start, max(last_stop, stop), last_first)
        else:
            merged.append((start, stop, first))
    pieces: list[str] = []
    masks: list[Masked] = []
    position = 0
    for start, stop, first in merged:
        replacement = _masked_text(line, start, stop, first)
        pieces.append(line[position:start])
        pieces.append(replacement)
        masks.append(Masked(start, stop, len(replacement)))
        position = stop
    pieces.append(line[position:])
    return "".join(pieces), tuple(masks)


def mask_snippets(
    snippets: MutableMapping[int, str], spans: Iterable[Span]
) -> dict[int, tuple[Masked, ...]]:
    """Mask each secret's range in the snippet lines it touches (in place); returns the
    masked ranges by line number, for outputs that map columns."""
    ranges: dict[int, list[tuple[int, int, bool]]] = {}
    for span in spans:
        for number in range(span.start.line, span.end.line + 1):
            text = snippets.get(number)
            if text is None:
                continue
            first = number == span.start.line
            start = span.start.column - 1 if first else 0
            end = span.end.column - 1 if number == span.end.line else len(text.rstrip("\r\n"))
            ranges.setdefault(number, []).append((start, end, first))
    masked: dict[int, tuple[Masked, ...]] = {}
    for number, line_ranges in ranges.items():
        snippets[number], masks = mask_line(snippets[number], line_ranges)
        if masks:
            masked[number] = masks
    return masked
