"""backlint findings as LSP diagnostics.

Each diagnostic carries its rule's ``code`` and documentation link, ``source:
"backlint"``, the related locations of a finding (the other imports of a cycle), and in
``data`` what a code action needs to trust it: the document version it was computed on,
whether it has a fix and how safe it is, and the line its ``noqa`` goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from lsprotocol import types

from backlint.diagnostics import Diagnostic, Related, Severity
from backlint.lsp.positions import LineIndex
from backlint.rules.metadata import RuleInfo

SOURCE = "backlint"

_SEVERITIES = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}
# Findings about code that does nothing: editors grey it out.
_UNNECESSARY = frozenset({"BL002"})

# The text of another file (for a related location), or None when it cannot be read.
TextOf = Callable[[str], "LineIndex | None"]
# The URI of a file backlint names by display path.
UriOf = Callable[[str], str]


def to_lsp(
    diagnostic: Diagnostic,
    index: LineIndex,
    version: int | None,
    rules: Mapping[str, RuleInfo],
    uri_of: UriOf,
    text_of: TextOf,
) -> types.Diagnostic:
    rule = rules.get(diagnostic.code)
    fix = diagnostic.fix
    return types.Diagnostic(
        range=index.range(diagnostic.span),
        message=diagnostic.message,
        severity=_SEVERITIES.get(diagnostic.severity, types.DiagnosticSeverity.Warning),
        code=diagnostic.code,
        code_description=types.CodeDescription(href=rule.url) if rule else None,
        source=SOURCE,
        tags=[types.DiagnosticTag.Unnecessary] if diagnostic.code in _UNNECESSARY else None,
        related_information=[_related(item, uri_of, text_of) for item in diagnostic.related]
        or None,
        data={
            "version": version,
            "name": diagnostic.name,
            "noqaLine": diagnostic.suppression_line,
            "fix": None
            if fix is None or not fix.edits
            else {"message": fix.message, "applicability": fix.applicability.value},
        },
    )


def _related(
    related: Related, uri_of: UriOf, text_of: TextOf
) -> types.DiagnosticRelatedInformation:
    index = text_of(related.path)
    if index is None:  # unreadable: code points are the best guess
        start, end = related.span.start, related.span.end
        where = types.Range(
            types.Position(start.line - 1, start.column - 1),
            types.Position(end.line - 1, end.column - 1),
        )
    else:
        where = index.range(related.span)
    return types.DiagnosticRelatedInformation(
        location=types.Location(uri=uri_of(related.path), range=where),
        message=related.message,
    )
