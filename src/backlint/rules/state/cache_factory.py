"""BL302's automatic fix: turn the textbook lazy singleton into a ``@functools.cache``
factory.

Only the plainest shape is rewritten: a module-level ``def`` without parameters,
decorators or ``async``, whose body (after a docstring) is exactly

    global _db
    if _db is None:          # or ``if not _db:``
        _db = connect(...)
    return _db

or ``global _client; _client = _client or Client(); return _client``, with ``_db = None``
a statement of its own at module level and ``_db`` used nowhere else in the module. The
module-level name goes, the function gains ``@functools.cache`` and returns the call.

The fix is unsafe: another module or a test may read or reset ``module._db``, and
``get_db.cache_clear()`` replaces ``module._db = None``. An ``async def`` is never
rewritten: ``@cache`` would cache the coroutine, which can be awaited only once.
"""

from __future__ import annotations

import libcst as cst

from backlint.diagnostics import Applicability
from backlint.engine.walker import iter_descendants
from backlint.index.names import ImportTable
from backlint.rules.fixes import NodeEdit, NodeFix, add_import, top_level_index
from backlint.rules.syntax import is_docstring, is_named, is_none


def cache_factory_fix(
    module: cst.Module, names: ImportTable, function: cst.FunctionDef, name: str
) -> NodeFix | None:
    """The rewrite of ``function``, the lazy creator of the module-level ``name``."""
    if function.asynchronous is not None or function.decorators or _has_params(function):
        return None
    function_index = top_level_index(module, function)
    binding_index = _none_binding(module, name)
    if function_index is None or binding_index is None:
        return None
    statements = _body(function)
    if statements is None:
        return None
    docstring, created = statements
    call = _created_call(created, name)
    if call is None or not _used_only_here(module, function, name):
        return None
    decorator, import_edit = _cache_decorator(module, names)
    if decorator is None:
        return None
    # libcst renders the new function, so the call's continuation lines get the
    # indentation of their new place. The function's range starts at ``def`` (it has no
    # decorators) and ends with its body, before the line break.
    rewritten = function.with_changes(
        leading_lines=(),
        decorators=(cst.Decorator(cst.parse_expression(decorator)),),
        body=function.body.with_changes(
            body=(*docstring, cst.SimpleStatementLine((cst.Return(call),)))
        ),
    )
    code = module.code_for_node(rewritten).rstrip("\r\n")
    edits = [
        _binding_removal(module, binding_index),
        NodeEdit(function, code, "replace", function_index),
    ]
    if import_edit is not None:
        edits.append(import_edit)
    return NodeFix(
        f"Replace the global with a `@{decorator}` factory", tuple(edits), Applicability.UNSAFE
    )


def _binding_removal(module: cst.Module, index: int) -> NodeEdit:
    """Remove the ``X = None`` statement with the blank lines just above it, so the
    spacing that followed it is the spacing that is left."""
    statement = module.body[index]
    blanks: list[cst.EmptyLine] = []
    for line in reversed(statement.leading_lines):
        if line.comment is not None:
            break
        blanks.insert(0, line)
    if not blanks or index == 0:
        return NodeEdit(statement, "", "lines", index)
    return NodeEdit(blanks[0], "", "lines", index, through=statement)


def _has_params(function: cst.FunctionDef) -> bool:
    params = function.params
    return bool(
        params.params
        or params.posonly_params
        or params.kwonly_params
        or isinstance(params.star_arg, cst.Param)
        or params.star_kwarg is not None
    )


def _none_binding(module: cst.Module, name: str) -> int | None:
    """The index of the top-level statement ``name = None`` (``name: T | None = None``)."""
    for index, statement in enumerate(module.body):
        if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
            continue
        small = statement.body[0]
        if isinstance(small, cst.Assign) and len(small.targets) == 1:
            target, value = small.targets[0].target, small.value
        elif isinstance(small, cst.AnnAssign) and small.value is not None:
            target, value = small.target, small.value
        else:
            continue
        if is_named(target, name) and is_none(value):
            return index
    return None


def _body(
    function: cst.FunctionDef,
) -> tuple[tuple[cst.BaseStatement, ...], cst.BaseStatement] | None:
    """``(docstring statements, the creating statement)`` of the textbook shape: a
    docstring, ``global X``, the creation, ``return X``; or None."""
    if not isinstance(function.body, cst.IndentedBlock):
        return None
    body = list(function.body.body)
    docstring = tuple(body[:1]) if body and is_docstring(body[0]) else ()
    body = body[len(docstring) :]
    if len(body) != 3:
        return None
    first, created, last = body
    if not (isinstance(first, cst.SimpleStatementLine) and isinstance(first.body[0], cst.Global)):
        return None
    if not (isinstance(last, cst.SimpleStatementLine) and isinstance(last.body[0], cst.Return)):
        return None
    if len(first.body) != 1 or len(last.body) != 1:
        return None
    return docstring, created


def _created_call(statement: cst.BaseStatement, name: str) -> cst.Call | None:
    """The call of ``if name is None: name = CALL`` or ``name = name or CALL``."""
    if isinstance(statement, cst.If):
        inner = statement.body
        if statement.orelse is not None or not _tests_unset(statement.test, name):
            return None
        if not isinstance(inner, cst.IndentedBlock) or len(inner.body) != 1:
            return None
        return _assigned_call(inner.body[0], name)
    return _assigned_call(statement, name, lazy_or=True)


def _tests_unset(test: cst.BaseExpression, name: str) -> bool:
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return is_named(test.expression, name)
    return (
        isinstance(test, cst.Comparison)
        and is_named(test.left, name)
        and len(test.comparisons) == 1
        and isinstance(test.comparisons[0].operator, cst.Is)
        and is_none(test.comparisons[0].comparator)
    )


def _assigned_call(
    statement: cst.BaseStatement, name: str, *, lazy_or: bool = False
) -> cst.Call | None:
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    small = statement.body[0]
    if not (isinstance(small, cst.Assign) and len(small.targets) == 1):
        return None
    if not is_named(small.targets[0].target, name):
        return None
    value = small.value
    if lazy_or:
        # ``name = name or CALL``
        if not (
            isinstance(value, cst.BooleanOperation)
            and isinstance(value.operator, cst.Or)
            and is_named(value.left, name)
        ):
            return None
        value = value.right
    return value if isinstance(value, cst.Call) else None


def _used_only_here(module: cst.Module, function: cst.FunctionDef, name: str) -> bool:
    """Whether ``name`` appears only in ``function`` and in its one module-level binding."""
    inside = sum(1 for node in iter_descendants(function) if is_named(node, name))
    everywhere = sum(1 for node in iter_descendants(module) if is_named(node, name))
    return everywhere - inside == 1


def _cache_decorator(module: cst.Module, names: ImportTable) -> tuple[str | None, NodeEdit | None]:
    """How to spell ``functools.cache`` here, and the import it needs, if any."""
    if names.imported("functools") == "functools":
        return "functools.cache", None
    if names.imported("cache") == "functools.cache":
        return "cache", None
    if names.is_bound("functools"):
        return None, None
    edit = add_import(module, "import functools")
    return ("functools.cache", edit) if edit is not None else (None, None)
