"""What BL501 and BL503 share: whether a qualified call blocks, and local bindings.

BL501 asks this about calls written in an ``async def``; BL503 asks it about the body
of a plain ``def`` that an ``async def`` calls, in another module perhaps. Both resolve a
call the same way: a local name bound to ``requests.Session()`` or a parameter
annotated ``Session`` stands for that type, anything else goes through the file's import
table.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping

import libcst as cst

from backlint.index.names import ImportTable, dotted_name
from backlint.rules.asyncio_rules.blocking_catalog import (
    BLOCKING_CALLS,
    BLOCKING_METHODS,
    SESSION_FACTORY_SUFFIX,
    SYNC_SESSION_METHODS,
    SYNC_SESSION_TYPES,
    matches_user_pattern,
)


def blocking_suggestion(qualified: str, patterns: tuple[str, ...]) -> str | None:
    """The async alternative when the call ``qualified`` blocks (BL501's catalog and the
    user's ``pattern -> suggestion`` entries), else None."""
    if qualified in BLOCKING_CALLS:
        return BLOCKING_CALLS[qualified]
    receiver, _, method = qualified.rpartition(".")
    known = BLOCKING_METHODS.get(receiver)
    if known is not None and method in known[0]:
        return known[1]
    is_session = receiver in SYNC_SESSION_TYPES or receiver.endswith(SESSION_FACTORY_SUFFIX)
    if is_session and method in SYNC_SESSION_METHODS:
        return "`AsyncSession` or a sync `def` handler"
    return matches_user_pattern(qualified, patterns)


def annotation_type(annotation: cst.Annotation, table: ImportTable) -> str | None:
    """The qualified type an annotation names (``Optional["Session"]`` gives
    ``sqlalchemy.orm.Session``)."""
    return table.qualified_name(unquote(annotation.annotation))


def parameter_types(node: cst.FunctionDef, table: ImportTable) -> dict[str, str]:
    """Parameter name -> qualified name of its annotation (``s: Session``)."""
    found: dict[str, str] = {}
    params = node.params
    for param in (*params.params, *params.kwonly_params, *params.posonly_params):
        if param.annotation is not None:
            qualified = annotation_type(param.annotation, table)
            if qualified is not None:
                found[param.name.value] = qualified
    return found


def qualify(node: cst.BaseExpression, local: Mapping[str, str], table: ImportTable) -> str | None:
    """Qualified name of a callee, reading local bindings first (``s.get`` with
    ``s = requests.Session()`` gives ``requests.Session().get``)."""
    root: cst.BaseExpression = node
    suffix: list[str] = []
    while isinstance(root, cst.Attribute):
        suffix.append(root.attr.value)
        root = root.value
    if isinstance(root, cst.Name):
        bound = local.get(root.value)
        if bound is not None:
            return ".".join([bound, *reversed(suffix)])
    return table.qualified_name(node)


def bind(
    local: MutableMapping[str, str],
    name: str,
    value: cst.BaseExpression,
    table: ImportTable,
) -> None:
    """Record ``name = value``: a call binds the name to an instance of its callee
    (``requests.Session()``); anything else forgets what the name held."""
    qualified = qualify(value.func, local, table) if isinstance(value, cst.Call) else None
    if qualified is None:
        local.pop(name, None)
    else:
        local[name] = qualified + "()"


def root_name(node: cst.BaseExpression) -> cst.Name | None:
    """The name a callee chain starts from: ``a`` in ``a.b().c``."""
    current: cst.BaseExpression = node
    while True:
        if isinstance(current, cst.Attribute):
            current = current.value
        elif isinstance(current, cst.Call):
            current = current.func
        elif isinstance(current, cst.Name):
            return current
        else:
            return None


def unquote(annotation: cst.BaseExpression) -> cst.BaseExpression:
    """The type an annotation names: ``"Session"``, ``Session | None``, ``Optional[Session]``
    and ``Annotated[Session, Depends(get_db)]`` all give ``Session``."""
    if isinstance(annotation, cst.SimpleString):
        value = annotation.evaluated_value
        if isinstance(value, str):
            try:
                return unquote(cst.parse_expression(value))
            except cst.ParserSyntaxError:
                return annotation
        return annotation
    if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
        return unquote(annotation.left)
    if isinstance(annotation, cst.Subscript) and annotation.slice:
        wrapper = (dotted_name(annotation.value) or "").rsplit(".", 1)[-1]
        first = annotation.slice[0].slice
        if wrapper in ("Optional", "Annotated") and isinstance(first, cst.Index):
            return unquote(first.value)
    return annotation
