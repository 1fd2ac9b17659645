"""Code actions: a quick fix per fixable finding, "Disable BLnnn for this line", and
``source.fixAll.backlint``.

Every edit is a ``WorkspaceEdit`` with ``documentChanges`` naming the document version
the findings were computed on: a client that has moved on rejects it instead of
applying it to the wrong text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from lsprotocol import types

from backlint.add_noqa import with_codes
from backlint.diagnostics import Applicability, Diagnostic, Edit
from backlint.lsp.positions import LineIndex

FIX_ALL = f"{types.CodeActionKind.SourceFixAll.value}.backlint"


def wants(only: Sequence[str] | None, kind: str) -> bool:
    """Whether a request limited to ``only`` kinds asks for actions of ``kind``
    (``source.fixAll`` asks for ``source.fixAll.backlint``)."""
    return only is None or any(kind == asked or kind.startswith(f"{asked}.") for asked in only)


def overlaps(first: types.Range, second: types.Range) -> bool:
    def key(position: types.Position) -> tuple[int, int]:
        return position.line, position.character

    return key(first.start) <= key(second.end) and key(second.start) <= key(first.end)


def versioned_edit(
    uri: str, version: int | None, edits: Sequence[types.TextEdit]
) -> types.WorkspaceEdit:
    document = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
    return types.WorkspaceEdit(
        document_changes=[types.TextDocumentEdit(text_document=document, edits=list(edits))]
    )


def text_edits(index: LineIndex, edits: Iterable[Edit]) -> list[types.TextEdit]:
    return [types.TextEdit(range=index.range(edit.span), new_text=edit.content) for edit in edits]


def quick_fixes(
    uri: str,
    version: int | None,
    index: LineIndex,
    findings: Iterable[tuple[Diagnostic, types.Diagnostic]],
    unsafe: bool,
) -> list[types.CodeAction]:
    """A quick fix per finding whose fix may be applied (unsafe ones only with
    ``unsafe``), titled "(unsafe)" when it may change what the code does."""
    actions = []
    for finding, shown in findings:
        fix = finding.fix
        if fix is None or not fix.applies(unsafe):
            continue
        unsafe_fix = fix.applicability is Applicability.UNSAFE
        title = f"{finding.code}: {fix.message}" + (" (unsafe)" if unsafe_fix else "")
        actions.append(
            types.CodeAction(
                title=title,
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[shown],
                is_preferred=not unsafe_fix,
                edit=versioned_edit(uri, version, text_edits(index, fix.edits)),
            )
        )
    return actions


def noqa_actions(
    uri: str,
    version: int | None,
    index: LineIndex,
    findings: Iterable[tuple[Diagnostic, types.Diagnostic]],
) -> list[types.CodeAction]:
    """ "Disable BLnnn for this line": the code added to the line's ``# noqa:`` comment,
    or a new comment (``--add-noqa``'s logic). BL001 (a syntax error) cannot be
    silenced, and a line continued with a backslash cannot take a comment."""
    actions = []
    seen: set[tuple[str, int]] = set()
    for finding, shown in findings:
        line = finding.suppression_line
        if finding.code == "BL001" or (finding.code, line) in seen:
            continue
        seen.add((finding.code, line))
        body = index.line(line - 1)
        if body.rstrip().endswith("\\") or line - 1 >= len(index.lines):
            continue
        new = with_codes(body, [finding.code])
        where = types.Range(
            types.Position(line - 1, 0), types.Position(line - 1, index.units(body))
        )
        actions.append(
            types.CodeAction(
                title=f"Disable {finding.code} for this line",
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[shown],
                edit=versioned_edit(uri, version, [types.TextEdit(range=where, new_text=new)]),
            )
        )
    return actions


def fix_all_action(
    uri: str, version: int | None, index: LineIndex, original: str, fixed: str
) -> types.CodeAction | None:
    """``source.fixAll.backlint`` turning ``original`` into ``fixed``, as one edit of
    the part that changed (the cursor and folds elsewhere stay where they are)."""
    if fixed == original:
        return None
    start = _common_prefix(original, fixed)
    if start and original[start - 1] == "\r":
        start -= 1  # never between the two characters of a \r\n
    end = _common_suffix(original[start:], fixed[start:])
    if end and original[len(original) - end] == "\n":
        end -= 1
    old_end = len(original) - end
    edit = types.TextEdit(
        range=types.Range(index.offset_to_client(start), index.offset_to_client(old_end)),
        new_text=fixed[start : len(fixed) - end],
    )
    return types.CodeAction(
        title="backlint: fix all auto-fixable problems",
        kind=FIX_ALL,
        edit=versioned_edit(uri, version, [edit]),
    )


def _common_prefix(first: str, second: str) -> int:
    length = 0
    for a, b in zip(first, second, strict=False):
        if a != b:
            break
        length += 1
    return length


def _common_suffix(first: str, second: str) -> int:
    length = 0
    for a, b in zip(reversed(first), reversed(second), strict=False):
        if a != b:
            break
        length += 1
    return length
