"""The text of Python string literals, as the secret rules see it.

Literals are read from the syntax tree only; nothing is evaluated except a literal's own
escape sequences.
"""

from __future__ import annotations

import warnings

import libcst as cst

StringNode = cst.SimpleString | cst.ConcatenatedString | cst.FormattedString

# Stands for an interpolated expression in the text of an f-string, so that no token is
# ever pieced together across one.
HOLE = "\x00"


def simple_value(node: cst.SimpleString) -> str:
    """The value of a plain string or bytes literal (bytes read as Latin-1)."""
    body = node.raw_value
    if "\\" not in body or "r" in node.prefix.lower():
        return body  # nothing to unescape: the common case costs no evaluation
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences
            value = node.evaluated_value
    except (SyntaxError, ValueError):
        return body
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return body if value is None else value


def static_value(node: cst.BaseExpression) -> str | None:
    """The value of a literal that is fully written out, or None.

    An f-string with an interpolation is a template whose value is only known at run
    time, so it has no static value; an f-string without one is plain text.
    """
    if isinstance(node, cst.SimpleString):
        return simple_value(node)
    if isinstance(node, cst.ConcatenatedString):
        left = static_value(node.left)
        right = static_value(node.right)
        return None if left is None or right is None else left + right
    if isinstance(node, cst.FormattedString):
        texts: list[str] = []
        for part in node.parts:
            if not isinstance(part, cst.FormattedStringText):
                return None
            texts.append(part.value.replace("{{", "{").replace("}}", "}"))
        return "".join(texts)
    return None


def scanned_text(node: StringNode) -> str:
    """The written text of a literal, with ``HOLE`` where an f-string interpolates."""
    if isinstance(node, cst.SimpleString):
        return simple_value(node)
    if isinstance(node, cst.ConcatenatedString):
        return scanned_text(_as_string(node.left)) + scanned_text(_as_string(node.right))
    return "".join(
        part.value if isinstance(part, cst.FormattedStringText) else HOLE for part in node.parts
    )


def _as_string(node: cst.BaseString) -> StringNode:
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
        return node
    return cst.SimpleString('""')  # a t-string or another future literal: no text


def string_parts(node: cst.ConcatenatedString) -> list[cst.CSTNode]:
    """The literals an implicit concatenation is made of (nested concatenations too)."""
    parts: list[cst.CSTNode] = []
    pending: list[cst.BaseString] = [node.left, node.right]
    while pending:
        current = pending.pop()
        parts.append(current)
        if isinstance(current, cst.ConcatenatedString):
            pending.extend((current.left, current.right))
    return parts
