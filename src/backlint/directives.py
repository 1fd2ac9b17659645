"""``# noqa`` comments: finding them in a file, and what each one names.

The syntax follows flake8 and ruff: ``# noqa`` silences every finding on its line,
``# noqa: BL101, BL202`` only those codes; ``# backlint: noqa`` (optionally with codes) on
a line of its own silences the whole file. ``# backlint: allow BL721 <reason>`` is the
waiver form of rules.md §4 and behaves like a line ``noqa`` for the codes it names.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass

from backlint.diagnostics import Position, Span
from backlint.source import split_lines

_CODE = r"[A-Z]+[0-9]+"
# backlint's own codes: ``BL`` and exactly three digits. ``BLE001`` (flake8-blind-except,
# also in ruff) is another tool's code, however it starts.
_BACKLINT_CODE = r"BL[0-9]{3}"
# ``noqa`` must end the comment or be followed by a space or ``:``, as in ruff: prose
# that mentions noqa (a backquoted noqa in a comment) is not a directive.
_LINE_NOQA = re.compile(rf"#\s*(?i:noqa)(?=[\s:]|$)(?::\s?(?P<codes>{_CODE}(?:[\s,]+{_CODE})*))?")
_FILE_NOQA = re.compile(
    rf"^\s*#\s*backlint:\s*(?i:noqa)(?::\s*(?P<codes>{_CODE}(?:[\s,]+{_CODE})*))?\s*$"
)
# A waiver names backlint codes only, so that a reason starting with a ticket number
# (``SEC42 sandbox key``) is not read as one more code.
_ALLOW = re.compile(
    rf"#\s*backlint:\s*allow\s+(?P<codes>{_BACKLINT_CODE}\b(?:[\s,]+{_BACKLINT_CODE}\b)*)"
)
_CODE_RE = re.compile(_CODE)
_BACKLINT_CODE_RE = re.compile(_BACKLINT_CODE)


def is_backlint_code(code: str) -> bool:
    """Whether ``code`` is spelled as backlint's codes are (``BL202``, not ``BLE001``)."""
    return _BACKLINT_CODE_RE.fullmatch(code) is not None


@dataclass(frozen=True)
class CodeMention:
    """One code inside a noqa comment, with where it is (for BL002 and its fix)."""

    code: str
    span: Span


@dataclass(frozen=True)
class Directive:
    """One suppression comment. ``codes`` is empty for a bare ``# noqa``."""

    line: int
    span: Span
    codes: tuple[CodeMention, ...]
    file_level: bool = False
    waiver: bool = False  # ``# backlint: allow CODES reason``
    reason: str = ""  # the text after the codes of a waiver
    # Where the line's code ends (1-based column: the whitespace before the comment
    # starts there) and where the line itself ends: what removing the comment removes.
    code_end: int = 1
    line_end: int = 1
    rest: str = ""  # what follows the directive on its line (another comment, prose)

    @property
    def is_bare(self) -> bool:
        return not self.codes


def _comment_lines(text: str, candidates: set[int]) -> set[int]:
    """Of the candidate lines, those where the ``#`` really starts a comment.

    Tokenizing is slow in pure Python, so it only runs for files that have a candidate
    line; a line inside a multi-line string is then rejected.
    """
    found: set[int] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT and token.start[0] in candidates:
                found.add(token.start[0])
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return candidates
    return found


def find_directives(text: str, *, python: bool = True) -> tuple[Directive, ...]:
    """Every suppression comment in ``text``.

    In Python a ``#`` inside a string is not a comment, which the tokenizer decides; in
    the configuration and fixture files text rules read (TOML, INI, YAML, ``.env``) a
    ``noqa`` comment is taken as written.
    """
    if "noqa" not in text.lower() and "backlint:" not in text:
        return ()
    raw: list[tuple[int, str]] = []
    for number, line in enumerate(split_lines(text), start=1):
        if "#" in line and ("noqa" in line.lower() or "backlint:" in line):
            raw.append((number, line))
    candidates = {number for number, _ in raw}
    comments = _comment_lines(text, candidates) if python else candidates
    directives = []
    for number, line in raw:
        if number not in comments:
            continue
        directive = _parse_line(number, line)
        if directive is not None:
            directives.append(directive)
    return tuple(directives)


def _mentions(number: int, line: str, match: re.Match[str]) -> tuple[CodeMention, ...]:
    codes = match.group("codes")
    if not codes:
        return ()
    base = match.start("codes")
    return tuple(
        CodeMention(
            item.group(),
            Span(
                Position(number, base + item.start() + 1), Position(number, base + item.end() + 1)
            ),
        )
        for item in _CODE_RE.finditer(codes)
    )


def _parse_line(number: int, line: str) -> Directive | None:
    line_end = len(line) + 1
    file_match = _FILE_NOQA.match(line)
    if file_match:
        span = Span(Position(number, line.index("#") + 1), Position(number, line_end))
        mentions = _mentions(number, line, file_match)
        return Directive(number, span, mentions, file_level=True, line_end=line_end)
    allow = _ALLOW.search(line)
    match = allow or _LINE_NOQA.search(line)
    if match is None:
        return None
    span = Span(Position(number, match.start() + 1), Position(number, match.end() + 1))
    code_end = len(line[: match.start()].rstrip()) + 1
    mentions = _mentions(number, line, match)
    rest = line[match.end() :]
    if allow:
        reason = line[allow.end() :].strip()
        return Directive(
            number,
            span,
            mentions,
            waiver=True,
            reason=reason,
            code_end=code_end,
            line_end=line_end,
        )
    return Directive(number, span, mentions, code_end=code_end, line_end=line_end, rest=rest)
