"""BL721's configuration part: rerun options in the ``addopts`` of a pytest configuration.

``find_rerun_options`` is a pure function over a file's name and text, so the engine can
call it on configuration files it reads as text. It returns where each option that makes
pytest rerun failing tests sits:

* ``--reruns N`` (pytest-rerunfailures), ``--retries N`` (pytest-retry): every failing
  test is run again up to N times;
* ``--force-flaky`` (flaky): every test is treated as ``@flaky``;
* ``--max-runs N`` (flaky): how often a flaky test may run.

``--reruns 0``, ``--retries 0`` and ``--max-runs 1`` turn retries off and are not
reported. Options that only tune a retry (``--reruns-delay``, ``--retry-delay``,
``--only-rerun``, ``--min-passes``) are not reported either: the option that enables the
retry is, and one finding per retry policy is enough.

Only the pytest section counts: ``[tool.pytest.ini_options]`` or pytest 9's native
``[tool.pytest]`` in ``pyproject.toml``, ``[pytest]`` in ``pytest.ini``/``tox.ini``,
``[tool:pytest]`` in ``setup.cfg``. Comments are ignored: TOML comments outside strings;
in INI files comment lines and, like ``iniconfig`` with inline comments enabled, the rest
of a value line after ``#`` or ``;`` (pytest would otherwise pass them to itself as
arguments). A TOML file that does not parse gives nothing: pytest refuses it too.
"""

from __future__ import annotations

import sys
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import PurePosixPath

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

CONFIG_FILE_NAMES = ("pyproject.toml", "pytest.ini", "setup.cfg", "tox.ini")

RERUN_OPTIONS = ("--reruns", "--retries", "--force-flaky", "--max-runs")
# The value from which each option really retries (``--max-runs 1`` runs once).
_FIRST_RETRY = {"--reruns": 1, "--retries": 1, "--max-runs": 2}
_TOML_KEYS = frozenset(
    {("tool", "pytest", "ini_options", "addopts"), ("tool", "pytest", "addopts")}
)
_INI_SECTIONS = {
    "pytest.ini": "pytest",
    ".pytest.ini": "pytest",
    "tox.ini": "pytest",
    "setup.cfg": "tool:pytest",
}
_COMMENT_CHARS = "#;"

Found = tuple[int, int, int, str]


@dataclass(frozen=True)
class _Char:
    """One character of an option string and where it was written (1-based)."""

    char: str
    line: int
    column: int


Segment = list[_Char]


@dataclass(frozen=True)
class _Word:
    text: str
    line: int
    start: int
    end: int  # exclusive


def find_rerun_options(file_name: str, text: str) -> list[Found]:
    """``(line, start_column, end_column, option)`` for each rerun option in the pytest
    section's ``addopts`` of a configuration file (1-based, end column exclusive);
    ``[]`` for any other file."""
    name = PurePosixPath(file_name.replace("\\", "/")).name
    text = text.removeprefix("\ufeff")
    if name == "pyproject.toml":
        segments = _toml_addopts(text)
    elif name in _INI_SECTIONS:
        segments = _ini_addopts(text, _INI_SECTIONS[name])
    else:
        return []
    words = [word for segment in segments for word in _words(segment)]
    return _rerun_options(words)


def _rerun_options(words: list[_Word]) -> list[Found]:
    found: list[Found] = []
    for index, word in enumerate(words):
        option, equals, value = word.text.partition("=")
        if option not in RERUN_OPTIONS:
            continue
        if option in _FIRST_RETRY:
            if not equals:
                value = words[index + 1].text if index + 1 < len(words) else ""
            if _below(value, _FIRST_RETRY[option]):
                continue
        found.append((word.line, word.start, word.end, option))
    return found


def _below(value: str, first: int) -> bool:
    """A numeric value that does not retry; a value pytest would read otherwise (an
    environment variable expanded by a wrapper) counts as a retry."""
    try:
        return float(value) < first
    except ValueError:
        return False


def _words(segment: Segment) -> list[_Word]:
    """Split like a shell: whitespace separates, quotes group (and are dropped)."""
    words: list[_Word] = []
    text: list[str] = []
    first: _Char | None = None
    last: _Char | None = None
    quote = ""

    def flush() -> None:
        if first is not None and last is not None:
            same_line = last.line == first.line
            end = last.column + 1 if same_line else first.column + len(text)
            words.append(_Word("".join(text), first.line, first.column, end))

    for item in segment:
        char = item.char
        if quote:
            if char == quote:
                quote = ""
            else:
                text.append(char)
            last = item
        elif char.isspace():
            flush()
            text, first, last = [], None, None
        else:
            if char in "'\"":
                quote = char
            else:
                text.append(char)
            first = first or item
            last = item
    flush()
    return words


# --- INI files (iniconfig's reading) --------------------------------------------------


def _ini_addopts(text: str, wanted: str) -> list[Segment]:
    segments: list[Segment] = []
    section: str | None = None
    key: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw.lstrip()[:1] in tuple(_COMMENT_CHARS) or not raw.strip():
            continue  # comment and blank lines do not end a multi-line value
        line = raw.rstrip()
        if line[0] == "[":
            header = line
            for char in _COMMENT_CHARS:
                header = header.split(char)[0].rstrip()
            if header.endswith("]"):
                section, key = header[1:-1], None
            continue
        if not line[0].isspace():
            name, start = _ini_key(line)
            key = name
        else:
            start = 0
        if section == wanted and key == "addopts":
            segments.append(_ini_segment(line, start, number))
    return segments


def _ini_key(line: str) -> tuple[str | None, int]:
    """The key of a ``key = value`` or ``key: value`` line and where its value starts."""
    name, equals, _ = line.partition("=")
    if equals and ":" not in name:
        return name.strip(), len(name) + 1
    name, colon, _ = line.partition(":")
    if colon:
        return name.strip(), len(name) + 1
    return None, len(line)


def _ini_segment(line: str, start: int, number: int) -> Segment:
    value = line[start:]
    for char in _COMMENT_CHARS:
        value = value.split(char)[0]
    return [_Char(char, number, start + offset + 1) for offset, char in enumerate(value)]


# --- TOML ------------------------------------------------------------------------------


def _toml_addopts(text: str) -> list[Segment]:
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError):
        return []
    if not _has_addopts(data):
        return []
    try:
        return _TomlScanner(text).addopts()
    except IndexError:  # pragma: no cover - the text parsed, so the scan ends in time
        return []


def _has_addopts(data: dict[str, object]) -> bool:
    tool = data.get("tool")
    pytest = tool.get("pytest") if isinstance(tool, dict) else None
    if not isinstance(pytest, dict):
        return False
    options = pytest.get("ini_options")
    return "addopts" in pytest or (isinstance(options, dict) and "addopts" in options)


_BARE_KEY = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
_ESCAPES = {
    "b": "\b",
    "t": "\t",
    "n": "\n",
    "f": "\f",
    "r": "\r",
    '"': '"',
    "\\": "\\",
    "e": "\x1b",
}
_HEX_LENGTH = {"x": 2, "u": 4, "U": 8}


class _TomlScanner:
    """Walks a TOML document that ``tomllib`` accepted and keeps the characters (with
    their positions) of the strings under the ``addopts`` keys of pytest."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.starts = [0]
        for index, char in enumerate(text):
            if char == "\n":
                self.starts.append(index + 1)
        self.found: list[Segment] = []

    def addopts(self) -> list[Segment]:
        table: tuple[str, ...] = ()
        text = self.text
        while self.pos < len(text):
            self._skip_blank(newlines=True)
            if self.pos >= len(text):
                break
            if text[self.pos] == "[":
                table = self._header()
                continue
            key = self._key()
            self._expect("=")
            self._value(table + key)
        return self.found

    # -- positions and blanks --

    def _char(self, index: int, char: str | None = None) -> _Char:
        line = bisect_right(self.starts, index)
        column = index - self.starts[line - 1] + 1
        return _Char(self.text[index] if char is None else char, line, column)

    def _skip_blank(self, *, newlines: bool) -> None:
        """Skip spaces, tabs and comments (and newlines when ``newlines``)."""
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char in " \t" or (newlines and char in "\r\n"):
                self.pos += 1
            elif char == "#":
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end
            else:
                return

    def _expect(self, char: str) -> None:
        self._skip_blank(newlines=False)
        if self.text[self.pos] != char:  # pragma: no cover - tomllib accepted the text
            raise IndexError(char)
        self.pos += 1
        self._skip_blank(newlines=False)

    # -- keys and headers --

    def _header(self) -> tuple[str, ...]:
        double = self.text.startswith("[[", self.pos)
        self.pos += 2 if double else 1
        key = self._key()
        self._skip_blank(newlines=False)
        self.pos += 2 if double else 1
        return key

    def _key(self) -> tuple[str, ...]:
        parts: list[str] = []
        while True:
            self._skip_blank(newlines=False)
            char = self.text[self.pos]
            if char in "\"'":
                parts.append("".join(c.char for c in self._string()))
            else:
                start = self.pos
                while self.text[self.pos] in _BARE_KEY:
                    self.pos += 1
                parts.append(self.text[start : self.pos])
            self._skip_blank(newlines=False)
            if self.text[self.pos] != ".":
                return tuple(parts)
            self.pos += 1

    # -- values --

    def _value(self, path: tuple[str, ...], *, keep: bool = False) -> None:
        keep = keep or path in _TOML_KEYS
        char = self.text[self.pos]
        if char in "\"'":
            segment = self._string()
            if keep:
                self.found.append(segment)
        elif char == "[":
            self._array(path, keep)
        elif char == "{":
            self._inline_table(path)
        else:
            while self.pos < len(self.text) and self.text[self.pos] not in ",]}#\r\n":
                self.pos += 1

    def _array(self, path: tuple[str, ...], keep: bool) -> None:
        self.pos += 1
        while True:
            self._skip_blank(newlines=True)
            if self.text[self.pos] == "]":
                self.pos += 1
                return
            self._value(path, keep=keep)
            self._skip_blank(newlines=True)
            if self.text[self.pos] == ",":
                self.pos += 1

    def _inline_table(self, path: tuple[str, ...]) -> None:
        self.pos += 1
        while True:
            self._skip_blank(newlines=True)
            if self.text[self.pos] == "}":
                self.pos += 1
                return
            if self.text[self.pos] == ",":
                self.pos += 1
                continue
            key = self._key()
            self._expect("=")
            self._value(path + key)

    def _string(self) -> Segment:
        text = self.text
        quote = text[self.pos]
        multi = text.startswith(quote * 3, self.pos)
        self.pos += 3 if multi else 1
        if multi and text.startswith("\r\n", self.pos):
            self.pos += 2  # a newline right after the opening quotes is dropped
        elif multi and text[self.pos] == "\n":
            self.pos += 1
        segment: Segment = []
        while True:
            char = text[self.pos]
            if char == quote and (not multi or text.startswith(quote * 3, self.pos)):
                if multi:
                    # Up to two quotes may precede the closing three: ``""""`` ends a
                    # string whose last character is a quote.
                    run = 0
                    while run < 5 and self.pos + run < len(text) and text[self.pos + run] == quote:
                        run += 1
                    segment.extend(self._char(self.pos + i) for i in range(run - 3))
                    self.pos += run
                else:
                    self.pos += 1
                return segment
            if char == "\\" and quote == '"':
                segment.extend(self._escape(multi))
                continue
            segment.append(self._char(self.pos))
            self.pos += 1

    def _escape(self, multi: bool) -> Segment:
        """The character an escape stands for, placed at its backslash."""
        text = self.text
        start = self.pos
        following = text[start + 1]
        if multi and following in " \t\r\n":
            # A line-ending backslash: the newline and the blanks after it vanish.
            self.pos += 1
            while text[self.pos] in " \t\r\n":
                self.pos += 1
            return []
        if following in _HEX_LENGTH:
            length = _HEX_LENGTH[following]
            digits = text[start + 2 : start + 2 + length]
            self.pos = start + 2 + length
            return [self._char(start, chr(int(digits, 16)))]
        self.pos = start + 2
        return [self._char(start, _ESCAPES.get(following, following))]
