"""Keeping detected secrets out of every output.

A rule that reports a secret marks its finding ``secret``; before the file's source
lines leave the worker (as the snippets that ``full`` output shows and fingerprints
hash), the characters of the reported range are masked, keeping only the first four of
the value. Messages are the rules' own business: they never include more than that.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping

from backlint.diagnostics import Span

VISIBLE = 4
MASK = "*"
_QUOTES = ("'", '"')


def shown(value: str) -> str:
    """The most of a secret any output may show: its first four characters."""
    return value[:VISIBLE] + MASK * 3 if len(value) > VISIBLE else MASK * 3


def mask_range(line: str, start: int, end: int | None) -> str:
    """``line`` with the 0-based code-point range ``[start, end)`` masked, except a string
    prefix and opening quote and the first four characters of the value after them; a
    closing quote at the end of the range is kept too."""
    stop = len(line) if end is None else min(end, len(line))
    head = start
    prefix = start
    while prefix < stop and prefix - start < 3 and line[prefix].isalpha():
        prefix += 1  # a string prefix such as b, f or rb counts only before a quote
    if prefix < stop and line[prefix] in _QUOTES:
        head = prefix
    while head < stop and line[head] in _QUOTES:
        head += 1
    keep = min(head + VISIBLE, stop)
    tail = stop
    while tail > keep and line[tail - 1] in _QUOTES:
        tail -= 1
    return line[:keep] + MASK * (tail - keep) + line[tail:]


def mask_snippets(snippets: MutableMapping[int, str], spans: Iterable[Span]) -> None:
    """Mask each secret's range in the snippet lines it touches (in place)."""
    for span in spans:
        for number in range(span.start.line, span.end.line + 1):
            text = snippets.get(number)
            if text is None:
                continue
            start = span.start.column - 1 if number == span.start.line else 0
            end = span.end.column - 1 if number == span.end.line else None
            snippets[number] = mask_range(text, start, end)
