"""Column types as a migration spells them, and whether one is narrower than another.

Only changes within one family are judged: text to shorter text, a smaller integer,
fewer digits. A change across families (text to integer) is a conversion whose safety
depends on the data; a type this module does not know is never called narrower. A size
the migration does not spell out as a number (``max_length=settings.CODE_LENGTH``)
makes the type unknown, never unbounded.
"""

from __future__ import annotations

from dataclasses import dataclass

# SQLAlchemy, its dialects and SQLModel: text without a length limit, text with one.
_UNBOUNDED_TEXT = frozenset(
    {"Text", "TEXT", "UnicodeText", "CLOB", "MEDIUMTEXT", "LONGTEXT", "CITEXT", "TextField"}
)
_BOUNDED_TEXT = frozenset(
    {
        "String",
        "VARCHAR",
        "Unicode",
        "NVARCHAR",
        "CHAR",
        "NCHAR",
        "AutoString",
        "CharField",
        "SlugField",
        "EmailField",
        "URLField",
    }
)
# Django's fields that have a default ``max_length``.
_DEFAULT_LENGTH = {"SlugField": 50, "EmailField": 254, "URLField": 200}
# Integer types by their size in bytes.
_INTEGER_BYTES = {
    "SmallInteger": 2,
    "SMALLINT": 2,
    "Integer": 4,
    "INTEGER": 4,
    "INT": 4,
    "BigInteger": 8,
    "BIGINT": 8,
    "SmallIntegerField": 2,
    "PositiveSmallIntegerField": 2,
    "SmallAutoField": 2,
    "IntegerField": 4,
    "PositiveIntegerField": 4,
    "AutoField": 4,
    "BigIntegerField": 8,
    "PositiveBigIntegerField": 8,
    "BigAutoField": 8,
}
_DECIMAL = frozenset({"Numeric", "NUMERIC", "DECIMAL", "DecimalField"})


@dataclass(frozen=True)
class ColumnType:
    """A column type: its name (``String``) and its size arguments, None when unbounded
    or not given (``String()`` on PostgreSQL is ``varchar`` without a limit)."""

    name: str
    length: int | None = None  # text: characters
    precision: int | None = None  # decimal: digits
    scale: int | None = None  # decimal: digits after the point

    def label(self) -> str:
        sizes = [str(size) for size in (self.length, self.precision, self.scale) if size]
        return f"{self.name}({', '.join(sizes)})" if sizes else self.name


def is_decimal(name: str) -> bool:
    """Whether a type's size arguments are precision and scale rather than a length."""
    return name in _DECIMAL


def _family(column: ColumnType) -> str:
    if column.name in _UNBOUNDED_TEXT or column.name in _BOUNDED_TEXT:
        return "text"
    if column.name in _INTEGER_BYTES:
        return "integer"
    if column.name in _DECIMAL:
        return "decimal"
    return ""


def _text_length(column: ColumnType) -> int | None:
    """Characters the column holds, None for no limit."""
    if column.name in _UNBOUNDED_TEXT:
        return None
    return column.length if column.length is not None else _DEFAULT_LENGTH.get(column.name)


def _smaller(new: int | None, old: int | None) -> bool:
    """Whether a limit ``new`` is below ``old``; None is no limit."""
    return new is not None and (old is None or new < old)


def narrows(old: ColumnType, new: ColumnType) -> bool:
    """Whether ``new`` holds fewer values than ``old`` (same family only)."""
    family = _family(old)
    if not family or family != _family(new):
        return False
    if family == "text":
        return _smaller(_text_length(new), _text_length(old))
    if family == "integer":
        return _INTEGER_BYTES[new.name] < _INTEGER_BYTES[old.name]
    # Fewer digits in all, or after the point (values are rounded). Moving the point
    # (``Numeric(12, 2)`` to ``Numeric(12, 3)``) is not counted: it is how money columns
    # gain a decimal, and only values near the top of the range would fail.
    return _smaller(new.precision, old.precision) or _smaller(new.scale, old.scale)
