"""Reading source files the way Python does (PEP 263), and code-point column helpers."""

from __future__ import annotations

import ast
import codecs
import io
import os
import re
import stat
import tokenize
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import libcst as cst

# What ends a line of Python source: ``str.splitlines`` also splits on form feeds, vertical
# tabs, file separators and Unicode line separators, which Python allows inside a line, so
# its line numbers drift from the tokenizer's (and from every editor's).
LINE_BREAK = re.compile(r"\r\n|\r|\n")


class SourceError(Exception):
    """The file cannot be turned into text; the message says why, for the user."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


@dataclass(frozen=True)
class Source:
    """A file's text (line breaks kept as they are) and the encoding to write it back in."""

    text: str
    encoding: str  # ``utf-8-sig`` when the file starts with a byte-order mark

    def encode(self, text: str) -> bytes:
        """``text`` in this file's encoding (with its byte-order mark, if it had one)."""
        return text.encode(self.encoding)


def decode(data: bytes) -> Source:
    """Decode ``data`` as Python would: a BOM or coding cookie, else UTF-8.

    Raises ``SourceError`` for an unknown encoding, bytes the encoding cannot decode, or
    NUL bytes, which Python refuses in source code.
    """
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        if "invalid or missing encoding declaration" not in (error.msg or ""):
            raise SourceError(f"cannot read the file's encoding: {error.msg}") from None
        # No cookie and undecodable first lines: decode as UTF-8 below to say where.
        encoding = "utf-8"
    try:
        codecs.lookup(encoding)
        text = data.decode(encoding)
    except LookupError:
        raise SourceError(f"unknown encoding `{encoding}`") from None
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        label = (
            "UTF-8" if encoding.lower().replace("_", "-") in ("utf-8", "utf-8-sig") else encoding
        )
        raise SourceError(
            f"the file is not valid {label}: cannot decode byte 0x{data[error.start]:02x}", line
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    nul = text.find("\x00")
    if nul != -1:
        line = text.count("\n", 0, nul) + 1
        column = nul - (text.rfind("\n", 0, nul) + 1) + 1
        raise SourceError("the file contains a NUL byte, which Python does not allow", line, column)
    return Source(text, encoding)


def parses_as_python(text: str) -> bool:
    """Whether ``text`` parses with both ``ast`` and libcst, as the checker needs it to:
    what a fix or a new comment must not break."""
    # Imported here: reading and decoding files must not load the parser.
    import libcst

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences and the like
            ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    try:
        libcst.parse_module(text)
    except Exception:  # a syntax error, or libcst failing on valid code (a TypeError)
        return False
    return True


def parse_expression_text(text: str) -> cst.BaseExpression | None:
    """The expression a string holds (a string annotation such as ``"Session | None"``),
    or None when it holds none or cannot be parsed.

    ``ast`` looks first, as for whole files (``engine/filepass.py``): libcst's native
    parser can crash the process on deep nesting, and on some valid code it raises
    errors other than ``ParserSyntaxError`` (``() if 0 else(lambda:())``: a TypeError).
    """
    import libcst as cst  # only rules call this: libcst is loaded by then

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text.strip(), mode="eval")
        return cst.parse_expression(text)
    except Exception:  # SyntaxError, RecursionError, MemoryError and libcst's own errors
        return None


def split_lines(text: str, keepends: bool = False) -> list[str]:
    """The lines of ``text`` as Python numbers them; like ``str.splitlines``, but only
    ``\\r\\n``, ``\\r`` and ``\\n`` end a line."""
    lines: list[str] = []
    start = 0
    for match in LINE_BREAK.finditer(text):
        lines.append(text[start : match.end() if keepends else match.start()])
        start = match.end()
    if start < len(text):
        lines.append(text[start:])
    return lines


def utf8_to_codepoint_column(line_text: str, byte_offset: int) -> int:
    """Convert a 0-based UTF-8 byte offset on ``line_text`` to a 0-based code-point offset."""
    return len(line_text.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))


def read_source(path: Path) -> Source:
    """Read ``path`` as Python would, keeping ``\\r\\n`` line breaks as they are.

    Raises ``OSError`` or ``SourceError``.
    """
    return decode(path.read_bytes())


def write_output(path: Path, text: str) -> None:
    """Write a report (``--output-file``, a baseline) to ``path`` as UTF-8.

    A regular file is replaced in one step, through a temporary file next to it, so a
    reader never sees half a report. Anything else that exists there (``/dev/null``,
    ``/dev/stdout``, a named pipe) is written to directly: renaming a file over it would
    replace the device itself. Raises ``OSError``.
    """
    data = text.encode("utf-8")
    if path.exists() and not path.is_file():
        with path.open("wb") as stream:
            stream.write(data)
        return
    if path.parent != Path(""):
        path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.backlint-tmp")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)
        raise


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step, keeping its permission bits.

    A temporary file next to it is renamed over it, so a reader (an editor, a crash
    half-way) sees either the old or the new content, never a mix. Raises ``OSError``.
    """
    mode = stat.S_IMODE(path.stat().st_mode)
    temporary = path.with_name(f".{path.name}.backlint-tmp")
    try:
        temporary.write_bytes(data)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)
        raise
