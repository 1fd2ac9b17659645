"""``--add-noqa``: write ``# noqa: CODES`` on every line that has a finding.

Codes are merged into a ``# noqa: ...`` comment already on the line (ruff's behaviour);
otherwise a comment is appended. A line ending in a ``\\`` continuation cannot take a
comment and is left alone, as are formats without comments (JSON) and files that do not
parse (BL001). A Python file is written only if it still parses afterwards, and every
file is replaced atomically, in its own encoding and with its own line breaks.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from backlint.diagnostics import Diagnostic
from backlint.discovery import PYTHON_SUFFIXES
from backlint.source import (
    SourceError,
    parses_as_python,
    read_source,
    split_lines,
    write_atomically,
)

NOQA_CODES = re.compile(r"#\s*(?i:noqa)\s*:\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*)")
_NO_COMMENTS = (".json",)


@dataclass
class NoqaResult:
    added: int = 0  # codes written
    skipped: int = 0  # lines that could not take a comment


def add_noqa(diagnostics: Iterable[Diagnostic], cwd: Path) -> NoqaResult:
    """Add the codes of ``diagnostics`` to the lines they are silenced on. A Python file
    that does not parse (before or after) is left as it is."""
    wanted: dict[str, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    for diagnostic in diagnostics:
        if diagnostic.path == "-":
            continue
        codes = wanted[diagnostic.path][diagnostic.suppression_line]
        if diagnostic.code not in codes:
            codes.append(diagnostic.code)
    result = NoqaResult()
    for display, lines in sorted(wanted.items()):
        path = Path(display) if Path(display).is_absolute() else cwd / display
        _rewrite(path, lines, result)
    return result


def _rewrite(path: Path, wanted: Mapping[int, list[str]], result: NoqaResult) -> None:
    if path.suffix in _NO_COMMENTS:
        result.skipped += len(wanted)
        return
    try:
        source = read_source(path)
    except (OSError, SourceError):
        result.skipped += len(wanted)
        return
    text = source.text
    lines = split_lines(text, keepends=True)
    added = 0
    for number, codes in sorted(wanted.items()):
        if not 0 < number <= len(lines):
            continue
        line = lines[number - 1]
        body = line.rstrip("\r\n")
        if body.rstrip().endswith("\\"):
            result.skipped += 1
            continue
        lines[number - 1] = with_codes(body, codes) + line[len(body) :]
        added += len(codes)
    new_text = "".join(lines)
    if new_text == text or (path.suffix in PYTHON_SUFFIXES and not parses_as_python(new_text)):
        result.skipped += len(wanted)
        return
    try:
        write_atomically(path, source.encode(new_text))
    except OSError:
        result.skipped += len(wanted)
        return
    result.added += added


def with_codes(line: str, codes: list[str]) -> str:
    """``line`` with ``codes`` added to its ``# noqa: ...`` comment, or a new one."""
    match = NOQA_CODES.search(line)
    if match is None:
        return f"{line.rstrip()}  # noqa: {', '.join(codes)}"
    existing = re.findall(r"[A-Z]+[0-9]+", match.group("codes"))
    merged = existing + [code for code in codes if code not in existing]
    return line[: match.start("codes")] + ", ".join(merged) + line[match.end("codes") :]
