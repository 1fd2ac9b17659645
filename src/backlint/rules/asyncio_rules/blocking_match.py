"""What BL501 and BL503 share: whether a qualified call blocks, and local bindings.

BL501 asks this about calls written in an ``async def``; BL503 asks it about the body
of a plain ``def`` that an ``async def`` calls, in another module perhaps. Both resolve a
call the same way: a local name bound to ``requests.Session()`` or a parameter
annotated ``Session`` stands for that type, anything else goes through the file's import
table.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass

import libcst as cst

from backlint.index.names import ImportTable, dotted_name
from backlint.rules.asyncio_rules.blocking_catalog import (
    BLOCKING_CALLS,
    BLOCKING_METHODS,
    FILE_OPENERS,
    IN_MEMORY_BUFFERS,
    PATH_INSTANCE,
    PATH_TYPE,
    SESSION_FACTORY_SUFFIX,
    SYNC_SESSION_METHODS,
    SYNC_SESSION_TYPES,
    matches_user_pattern,
)
from backlint.source import parse_expression_text


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


# Expressions as these functions read them: names, attribute chains, calls and path
# joins, as plain data. BL503's project side keeps the function bodies of other modules
# in this form (a module summary), so the same functions serve both passes.


@dataclass(frozen=True, slots=True)
class Name:
    value: str


@dataclass(frozen=True, slots=True)
class Attr:
    value: Expr
    attr: str


@dataclass(frozen=True, slots=True)
class Arg:
    keyword: str | None
    star: str  # ``""``, ``"*"`` or ``"**"``
    value: Expr


@dataclass(frozen=True, slots=True)
class Call:
    func: Expr
    args: tuple[Arg, ...]  # empty unless asked for (``shape(..., args=True)``)


@dataclass(frozen=True, slots=True)
class Div:
    left: Expr  # ``left / ...``


@dataclass(frozen=True, slots=True)
class Other:
    pass


Expr = Name | Attr | Call | Div | Other
_OTHER = Other()


def shape(node: cst.BaseExpression, args: bool = False) -> Expr:
    """``node`` as an ``Expr``; the arguments of calls only with ``args``."""
    if isinstance(node, cst.Name):
        return Name(node.value)
    if isinstance(node, cst.Attribute):
        return Attr(shape(node.value, args), node.attr.value)
    if isinstance(node, cst.Call):
        arguments = (
            tuple(
                Arg(arg.keyword.value if arg.keyword else None, arg.star, shape(arg.value, True))
                for arg in node.args
            )
            if args
            else ()
        )
        return Call(shape(node.func, args), arguments)
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Divide):
        return Div(shape(node.left, args))
    return _OTHER


def qualified_name(expr: Expr, table: ImportTable) -> str | None:
    """``ImportTable.qualified_name`` of an ``Expr``."""
    suffix: list[str] = []
    current = expr
    while True:
        if isinstance(current, Attr):
            suffix.append(current.attr)
            current = current.value
        elif isinstance(current, Call):
            inner = qualified_name(current.func, table)
            if inner is None:
                return None
            return ".".join([inner + "()", *reversed(suffix)])
        elif isinstance(current, Name):
            return ".".join([table.qualify(current.value), *reversed(suffix)])
        else:
            return None


def call_suggestion(
    node: cst.Call,
    qualified: str,
    local: Mapping[str, str],
    table: ImportTable,
    patterns: tuple[str, ...],
) -> str | None:
    """``blocking_suggestion`` for the call ``node``, which also knows the calls that
    block only when they open a file (``ZipFile(path)``, not ``ZipFile(io.BytesIO(b))``)."""
    suggestion = blocking_suggestion(qualified, patterns)
    if suggestion is None and qualified in FILE_OPENERS:
        call = shape(node, args=True)
        assert isinstance(call, Call)
        if not _in_memory(call, local, table):
            return FILE_OPENERS[qualified]
    return suggestion


def shaped_call_suggestion(
    call: Call,
    qualified: str,
    local: Mapping[str, str],
    table: ImportTable,
    patterns: tuple[str, ...],
) -> str | None:
    """``call_suggestion`` of a call shaped with its arguments."""
    suggestion = blocking_suggestion(qualified, patterns)
    if suggestion is None and qualified in FILE_OPENERS and not _in_memory(call, local, table):
        return FILE_OPENERS[qualified]
    return suggestion


_FILE_KEYWORDS = ("file", "name", "fileobj")


def _in_memory(call: Call, local: Mapping[str, str], table: ImportTable) -> bool:
    """Whether the file a zip or tar call opens is an ``io.BytesIO``/``StringIO``."""
    targets = [arg.value for arg in call.args if arg.keyword is None and not arg.star][:1]
    targets += [
        arg.value for arg in call.args if arg.keyword is not None and arg.keyword in _FILE_KEYWORDS
    ]
    target = next((value for value in targets if value != Name("None")), None)
    if isinstance(target, Call):
        return qualified_name(target.func, table) in IN_MEMORY_BUFFERS
    if isinstance(target, Name):
        return local.get(target.value, "").removesuffix("()") in IN_MEMORY_BUFFERS
    return False


# Path methods and attributes that give another path, and the calls that make one.
_PATH_DERIVING = frozenset(
    {
        "joinpath",
        "with_suffix",
        "with_name",
        "with_stem",
        "resolve",
        "absolute",
        "expanduser",
        "relative_to",
    }
)
_PATH_MAKERS = frozenset(
    {"pathlib.Path", "pathlib.Path.home", "pathlib.Path.cwd", "pathlib.PosixPath"}
)
_PATH_LISTINGS = frozenset({"iterdir", "glob", "rglob"})


def is_path(node: cst.BaseExpression, local: Mapping[str, str], table: ImportTable) -> bool:
    """Whether ``node`` is a ``pathlib.Path`` (``is_shaped_path``)."""
    return is_shaped_path(shape(node), local, table)


def is_shaped_path(expr: Expr, local: Mapping[str, str], table: ImportTable) -> bool:
    """Whether ``expr`` is a ``pathlib.Path``: a parameter annotated ``Path``, a name
    bound to one, ``Path(...)``, ``Path.home()``, ``p / "x"``, ``p.parent``,
    ``p.joinpath(...)``, ``p.with_suffix(...)``..."""
    if isinstance(expr, Name):
        return local.get(expr.value) in (PATH_TYPE, PATH_INSTANCE)
    if isinstance(expr, Div):
        return is_shaped_path(expr.left, local, table)
    if isinstance(expr, Attr):
        return expr.attr == "parent" and is_shaped_path(expr.value, local, table)
    if not isinstance(expr, Call):
        return False
    func = expr.func
    if (
        isinstance(func, Attr)
        and func.attr in _PATH_DERIVING
        and is_shaped_path(func.value, local, table)
    ):
        return True
    if isinstance(func, Name) and func.value in local:
        return False  # a local variable, whatever the import table says
    return qualified_name(func, table) in _PATH_MAKERS


def lists_paths(node: cst.BaseExpression, local: Mapping[str, str], table: ImportTable) -> bool:
    """``folder.iterdir()``, ``folder.glob(...)``: what a ``for`` over it binds is a path."""
    return shaped_lists_paths(shape(node), local, table)


def shaped_lists_paths(expr: Expr, local: Mapping[str, str], table: ImportTable) -> bool:
    return (
        isinstance(expr, Call)
        and isinstance(expr.func, Attr)
        and expr.func.attr in _PATH_LISTINGS
        and is_shaped_path(expr.func.value, local, table)
    )


def module_paths(module: cst.Module, table: ImportTable) -> dict[str, str]:
    """Module constants that hold a path (``MEDIA = Path(__file__).parent / "media"``),
    as bindings a function starts with."""
    found: dict[str, str] = {}
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            target: cst.BaseExpression | None = None
            value: cst.BaseExpression | None = None
            if isinstance(small, cst.Assign) and len(small.targets) == 1:
                target, value = small.targets[0].target, small.value
            elif isinstance(small, cst.AnnAssign):
                target, value = small.target, small.value
            if isinstance(target, cst.Name) and value is not None:
                if is_path(value, found, table):
                    found[target.value] = PATH_INSTANCE
                else:
                    found.pop(target.value, None)
    return found


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
    """Qualified name of a callee (``shaped_qualify``)."""
    return shaped_qualify(shape(node), local, table)


def shaped_qualify(expr: Expr, local: Mapping[str, str], table: ImportTable) -> str | None:
    """Qualified name of a callee, reading local bindings first (``s.get`` with
    ``s = requests.Session()`` gives ``requests.Session().get``); a method of a path
    (``(base / "x").read_text``) is a method of ``pathlib.Path()``."""
    if isinstance(expr, Attr) and is_shaped_path(expr.value, local, table):
        return f"{PATH_INSTANCE}.{expr.attr}"
    root = expr
    suffix: list[str] = []
    while isinstance(root, Attr):
        suffix.append(root.attr)
        root = root.value
    if isinstance(root, Name):
        bound = local.get(root.value)
        if bound is not None:
            return ".".join([bound, *reversed(suffix)])
    return qualified_name(expr, table)


def bind(
    local: MutableMapping[str, str],
    name: str,
    value: cst.BaseExpression,
    table: ImportTable,
) -> None:
    """Record ``name = value`` (``shaped_bind``)."""
    shaped_bind(local, name, shape(value), table)


def shaped_bind(
    local: MutableMapping[str, str], name: str, value: Expr, table: ImportTable
) -> None:
    """Record ``name = value``: a call binds the name to an instance of its callee
    (``requests.Session()``), a path expression to a path; anything else forgets what
    the name held."""
    if is_shaped_path(value, local, table):
        local[name] = PATH_INSTANCE
        return
    qualified = shaped_qualify(value.func, local, table) if isinstance(value, Call) else None
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


def shaped_root(expr: Expr) -> Name | None:
    """``root_name`` of an ``Expr``."""
    current = expr
    while True:
        if isinstance(current, Attr):
            current = current.value
        elif isinstance(current, Call):
            current = current.func
        elif isinstance(current, Name):
            return current
        else:
            return None


def unquote(annotation: cst.BaseExpression) -> cst.BaseExpression:
    """The type an annotation names: ``"Session"``, ``Session | None``, ``Optional[Session]``
    and ``Annotated[Session, Depends(get_db)]`` all give ``Session``."""
    if isinstance(annotation, cst.SimpleString):
        value = annotation.evaluated_value
        if isinstance(value, str):
            parsed = parse_expression_text(value)
            return annotation if parsed is None else unquote(parsed)
        return annotation
    if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
        return unquote(annotation.left)
    if isinstance(annotation, cst.Subscript) and annotation.slice:
        wrapper = (dotted_name(annotation.value) or "").rsplit(".", 1)[-1]
        first = annotation.slice[0].slice
        if wrapper in ("Optional", "Annotated") and isinstance(first, cst.Index):
            return unquote(first.value)
    return annotation
