"""Shapes of handler code that look like logic but are mapping or rendering.

* A ``for`` loop that is a comprehension written out: it only fills a list, dict or
  set (``rows.append(...)``, ``out[k] = v``), possibly through a filter ``if`` or a
  ``continue``, or copies fields (``setattr(obj, field, form[field])``); or it finds
  the first match (``for item in items: if item.id == item_id: return item``) or
  rejects the request at the first bad element (``if x.list_id != list_id: raise
  HTTPException(400)``), which is ``next(...)`` or ``any(...)`` written out.
* An HTML builder block: ``with tag.div(): text(...)`` (dominate, tagflow, htpy's
  context managers) or a component wrapping such blocks (``with layout(request):``).
  Its statements are markup, and its ``if``/``for`` decide what to show: a template's
  job, not a use case's.
"""

from __future__ import annotations

import libcst as cst

from backlint.rules.handlers.common import ABORT_CALLS, callee_name, last_name, suite_statements

_FILLING = frozenset({"append", "extend", "add", "update", "insert", "appendleft", "setdefault"})
_COPYING = frozenset({"setattr"})
_HTML_ELEMENTS = frozenset(
    {
        "a",
        "abbr",
        "article",
        "aside",
        "b",
        "blockquote",
        "body",
        "button",
        "caption",
        "code",
        "dd",
        "details",
        "dialog",
        "div",
        "dl",
        "dt",
        "em",
        "fieldset",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "head",
        "header",
        "html",
        "i",
        "label",
        "legend",
        "li",
        "main",
        "nav",
        "ol",
        "optgroup",
        "p",
        "pre",
        "section",
        "small",
        "span",
        "strong",
        "summary",
        "svg",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "u",
        "ul",
    }
)


def is_mapping_loop(loop: cst.For | cst.While) -> bool:
    """A ``for`` loop that is a comprehension or a ``next(...)`` written out."""
    if not isinstance(loop, cst.For):
        return False
    if loop.orelse is None and _fills(loop.body) is True:
        return True
    return _finds_first(loop)


def _fills(suite: cst.BaseSuite) -> bool | None:
    """True when the block fills a collection or copies fields (and does nothing else),
    False when it does something else, None when it only assigns locals or continues."""
    fills: bool | None = None
    for statement in suite_statements(suite):
        verdict = _fill_statement(statement)
        if verdict is False:
            return False
        if verdict:
            fills = True
    return fills


def _fill_statement(statement: cst.CSTNode) -> bool | None:
    if isinstance(statement, cst.Expr) and isinstance(statement.value, cst.Call):
        func = statement.value.func
        if isinstance(func, cst.Attribute) and func.attr.value in _FILLING:
            return True
        return last_name(func) in _COPYING and isinstance(func, cst.Name)
    if isinstance(statement, cst.Assign):
        targets = [target.target for target in statement.targets]
        if all(isinstance(target, cst.Subscript) for target in targets):
            return True
        if all(isinstance(target, (cst.Name, cst.Tuple)) for target in targets):
            return None  # a local feeding the fill
        return False
    if isinstance(statement, (cst.AnnAssign, cst.Continue, cst.Pass)):
        return None
    if isinstance(statement, cst.If):
        # A filter (``if x: rows.append(x)``) or a conditional value, as in a comprehension.
        body = _fills(statement.body)
        orelse = statement.orelse
        if orelse is None:
            other: bool | None = None
        elif isinstance(orelse, cst.If):
            other = _fill_statement(orelse)
        else:
            other = _fills(orelse.body)
        if body is False or other is False:
            return False
        return True if body or other else None
    if isinstance(statement, cst.For):
        return is_mapping_loop(statement)
    return False


def _finds_first(loop: cst.For) -> bool:
    """``for x in xs: if cond(x): found = x; break`` (or ``return``, or ``raise`` as
    ``any(...)`` does for validation) at the first match.

    The body holds only local assignments and ``if`` blocks of simple statements that
    end the loop (``break``, ``return``, ``raise``, ``abort(...)``) or skip an element
    (``continue``).
    """
    ends = False
    for statement in suite_statements(loop.body):
        if isinstance(statement, (cst.Assign, cst.AnnAssign)):
            targets = (
                [t.target for t in statement.targets]
                if isinstance(statement, cst.Assign)
                else [statement.target]
            )
            if not all(isinstance(target, cst.Name) for target in targets):
                return False
            continue
        if not isinstance(statement, cst.If) or statement.orelse is not None:
            return False
        inner = suite_statements(statement.body)
        if not inner or not all(isinstance(s, cst.BaseSmallStatement) for s in inner):
            return False
        last = inner[-1]
        if isinstance(last, cst.Expr) and callee_name(last.value) not in ABORT_CALLS:
            return False
        if not isinstance(last, (cst.Break, cst.Return, cst.Raise, cst.Expr, cst.Continue)):
            return False
        ends = ends or not isinstance(last, cst.Continue)
    orelse = loop.orelse
    if orelse is not None and not all(
        isinstance(s, cst.BaseSmallStatement) for s in suite_statements(orelse.body)
    ):
        return False
    return ends


def renders_html(node: cst.With) -> bool:
    """``with tag.div(...):``, ``with button(...):``, or a block whose own statements
    include such a ``with`` (a layout or modal component wrapping markup)."""
    for item in node.items:
        call = item.item
        if isinstance(call, cst.Call) and last_name(call.func) in _HTML_ELEMENTS:
            return item.asname is None
    return any(
        isinstance(statement, cst.With) and renders_html(statement)
        for statement in suite_statements(node.body)
    )
