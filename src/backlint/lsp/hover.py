"""Hover: the documentation of the rule under the cursor, as ``backlint rule BLnnn``
prints it, for a code in a ``# noqa:`` comment or a finding's range."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from lsprotocol import types

from backlint.add_noqa import NOQA_CODES
from backlint.diagnostics import Diagnostic
from backlint.lsp.positions import LineIndex
from backlint.ruledocs import rule_text
from backlint.rules.metadata import RuleInfo

_CODE = re.compile(r"[A-Z]+[0-9]+")


def hover(
    index: LineIndex,
    position: types.Position,
    findings: Iterable[Diagnostic],
    rules: Mapping[str, RuleInfo],
) -> types.Hover | None:
    found = _noqa_code(index, position) or _finding_codes(index, position, findings)
    if found is None:
        return None
    codes, where = found
    texts = [rule_text(rules[code]) for code in codes if code in rules]
    if not texts:
        return None
    return types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value="\n---\n\n".join(texts)),
        range=where,
    )


def _noqa_code(index: LineIndex, position: types.Position) -> tuple[list[str], types.Range] | None:
    line = index.line(position.line)
    column = index.from_client(position).column - 1
    match = NOQA_CODES.search(line)
    if match is None:
        return None
    for code in _CODE.finditer(line, match.start("codes"), match.end("codes")):
        if code.start() <= column <= code.end():
            where = types.Range(
                types.Position(position.line, index.units(line[: code.start()])),
                types.Position(position.line, index.units(line[: code.end()])),
            )
            return [code.group()], where
    return None


def _finding_codes(
    index: LineIndex, position: types.Position, findings: Iterable[Diagnostic]
) -> tuple[list[str], types.Range] | None:
    at = index.from_client(position)
    codes: list[str] = []
    where: types.Range | None = None
    for finding in findings:
        if finding.span.start <= at <= finding.span.end and finding.code not in codes:
            codes.append(finding.code)
            where = where or index.range(finding.span)
    return (codes, where) if where is not None else None
