"""What an Alembic ``upgrade()`` changes: the schema, only data, or nothing we can see.

BL901 accepts a ``pass`` downgrade after a data-only upgrade (a backfill, seed rows, a
cleanup): rolling back still leaves the schema the previous revision expects, so nothing
blocks a downgrade. Anything that touches the schema, or that the file does not show
(SQL held in an imported name, a connection handed to an imported helper), counts as a
schema change, so the rule stays on the side of reporting.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import libcst as cst

from backlint.engine.walker import iter_descendants
from backlint.index.names import ImportTable
from backlint.rules.migrations.common import string_value

_OP = "alembic.op."
# ``op`` functions that change the schema beyond the prefixes below.
_SCHEMA_OPS = frozenset({"batch_alter_table", "invoke", "run_async"})
_SCHEMA_PREFIXES = ("add_", "alter_", "create_", "drop_", "rename_")
_DATA_OPS = frozenset({"bulk_insert"})
# First keywords of SQL statements that only read or write rows.
_DATA_SQL = frozenset({"UPDATE", "INSERT", "DELETE", "SELECT", "WITH", "MERGE"})
# Builder methods of SQLAlchemy Core statements that read or write rows.
_DATA_BUILDERS = frozenset({"update", "insert", "delete", "select", "values", "where"})
# ORM session methods that read or write rows.
_SESSION_METHODS = frozenset(
    {
        "add",
        "add_all",
        "merge",
        "delete",
        "commit",
        "flush",
        "query",
        "scalars",
        "scalar",
        "bulk_save_objects",
        "bulk_insert_mappings",
        "bulk_update_mappings",
    }
)
_EXECUTE_METHODS = frozenset({"execute", "exec_driver_sql"})


class Change(enum.Enum):
    NONE = "none"  # nothing recognisable: an imported helper, a Redis cleanup
    DATA = "data"
    SCHEMA = "schema"


class _Handle(enum.Enum):
    CONNECTION = "connection"
    SESSION = "session"


@dataclass
class _Scan:
    """What one function shows, following calls to functions of the same module."""

    names: ImportTable
    functions: Mapping[str, cst.FunctionDef]
    strings: Mapping[str, cst.BaseExpression]  # module-level ``NAME = <expr>``
    schema: bool = False
    data: bool = False
    seen: set[str] = field(default_factory=set)

    def function(self, function: cst.FunctionDef) -> None:
        self.seen.add(function.name.value)
        handles, local = _local_bindings(function, self.names)
        for node in iter_descendants(function.body):
            if isinstance(node, cst.Call):
                self._call(node, handles, local)

    def _call(
        self,
        call: cst.Call,
        handles: Mapping[str, _Handle],
        local: Mapping[str, cst.BaseExpression],
    ) -> None:
        func = call.func
        qualified = self.names.qualified_name(func) or ""
        if qualified.startswith(_OP) and "()" not in qualified:
            self._op(qualified.removeprefix(_OP), call, local, handles)
        elif isinstance(func, cst.Attribute) and func.attr.value in _EXECUTE_METHODS:
            # ``conn.execute(table.update()...)``: rows unless the SQL text says DDL.
            self._record(self._sql(_first_argument(call), local), unknown=Change.DATA)
        elif (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and handles.get(func.value.value) is _Handle.SESSION
            and func.attr.value in _SESSION_METHODS
        ):
            self.data = True
        elif isinstance(func, cst.Name) and func.value in self.functions:
            if func.value not in self.seen:
                self.function(self.functions[func.value])
        elif _passes_connection(call, handles) and not _is_sqlalchemy_constructor(qualified):
            # ``sync_trigger(conn, ...)``, ``metadata.create_all(bind)``: unseen work on
            # the connection, possibly DDL.
            self.schema = True
        elif _passes_session(call, handles):
            self.data = True

    def _op(
        self,
        name: str,
        call: cst.Call,
        local: Mapping[str, cst.BaseExpression],
        handles: Mapping[str, _Handle],
    ) -> None:
        if name == "execute":
            self._record(self._sql(_first_argument(call), local), unknown=Change.SCHEMA)
        elif name in _DATA_OPS:
            self.data = True
        elif name in _SCHEMA_OPS or name.startswith(_SCHEMA_PREFIXES):
            self.schema = True

    def _record(self, change: Change, *, unknown: Change) -> None:
        if change is Change.NONE:
            change = unknown
        if change is Change.SCHEMA:
            self.schema = True
        elif change is Change.DATA:
            self.data = True

    def _sql(
        self, node: cst.BaseExpression | None, local: Mapping[str, cst.BaseExpression]
    ) -> Change:
        """What a statement passed to ``execute`` does, ``NONE`` when the file cannot tell."""
        if node is None:
            return Change.NONE
        if isinstance(node, cst.Name):
            bound = local.get(node.value) or self.strings.get(node.value)
            return Change.NONE if bound is None else self._sql(bound, {})
        text = string_value(node)
        if text is not None:
            return sql_change(text)
        if isinstance(node, cst.Call):
            qualified = self.names.qualified_name(node.func) or ""
            if qualified.rsplit(".", 1)[-1] == "text":
                return self._sql(_first_argument(node), local)
            if _builder_chain(node):
                return Change.DATA
        return Change.NONE

    @property
    def change(self) -> Change:
        if self.schema:
            return Change.SCHEMA
        return Change.DATA if self.data else Change.NONE


def upgrade_change(
    upgrade: cst.FunctionDef,
    module: cst.Module,
    names: ImportTable,
) -> Change:
    """What ``upgrade()`` (and the module functions it calls) changes in the database."""
    functions: dict[str, cst.FunctionDef] = {}
    strings: dict[str, cst.BaseExpression] = {}
    for statement in module.body:
        if isinstance(statement, cst.FunctionDef):
            functions[statement.name.value] = statement
        elif isinstance(statement, cst.SimpleStatementLine):
            strings.update(_assignments(statement.body))
    scan = _Scan(names, functions, strings)
    scan.function(upgrade)
    return scan.change


def sql_change(text: str) -> Change:
    """Whether SQL text only touches rows: each statement's first keyword decides."""
    found = Change.NONE
    for statement in text.split(";"):
        lines = [line.split("--", 1)[0] for line in statement.splitlines()]
        words = " ".join(lines).split()
        if not words:
            continue
        keyword = words[0].strip("(").upper()
        if keyword not in _DATA_SQL:
            return Change.SCHEMA
        found = Change.DATA
    return found


def _assignments(smalls: Iterable[cst.BaseSmallStatement]) -> dict[str, cst.BaseExpression]:
    bound: dict[str, cst.BaseExpression] = {}
    for small in smalls:
        if isinstance(small, cst.Assign) and len(small.targets) == 1:
            target = small.targets[0].target
            if isinstance(target, cst.Name):
                bound[target.value] = small.value
        elif (
            isinstance(small, cst.AnnAssign)
            and small.value is not None
            and isinstance(small.target, cst.Name)
        ):
            bound[small.target.value] = small.value
    return bound


def _local_bindings(
    function: cst.FunctionDef, names: ImportTable
) -> tuple[dict[str, _Handle], dict[str, cst.BaseExpression]]:
    """Local names bound to a connection or a session, and every simple local binding."""
    handles: dict[str, _Handle] = {}
    local: dict[str, cst.BaseExpression] = {}
    for node in iter_descendants(function.body):
        if isinstance(node, cst.SimpleStatementLine):
            local.update(_assignments(node.body))
        elif (
            isinstance(node, cst.WithItem)
            and node.asname is not None
            and isinstance(node.asname.name, cst.Name)
        ):
            local[node.asname.name.value] = node.item
    for name, value in local.items():
        handle = _handle_of(value, names)
        if handle is not None:
            handles[name] = handle
    return handles, local


def _handle_of(value: cst.BaseExpression, names: ImportTable) -> _Handle | None:
    """``op.get_bind()`` and ``op.get_context().connection`` are connections;
    ``Session(bind=...)`` and ``sessionmaker(...)()`` are sessions."""
    target = value.func if isinstance(value, cst.Call) else value
    qualified = names.qualified_name(target)
    if qualified is None:
        return None
    last = qualified.rsplit(".", 1)[-1]
    if "session" in last.lower() or "sessionmaker()" in qualified:
        return _Handle.SESSION
    if qualified.startswith(_OP) and ("get_bind" in qualified or "connection" in qualified):
        return _Handle.CONNECTION
    if last in {"connect", "connection", "begin"}:
        return _Handle.CONNECTION
    return None


def _first_argument(call: cst.Call) -> cst.BaseExpression | None:
    for argument in call.args:
        if argument.keyword is None and not argument.star:
            return argument.value
    return None


def _argument_names(call: cst.Call) -> Iterable[str]:
    for argument in call.args:
        if isinstance(argument.value, cst.Name):
            yield argument.value.value


def _passes_connection(call: cst.Call, handles: Mapping[str, _Handle]) -> bool:
    if any(handles.get(name) is _Handle.CONNECTION for name in _argument_names(call)):
        return True
    # ``enum.create(op.get_bind())`` hands the connection over without naming it.
    return any(
        isinstance(argument.value, cst.Call)
        and isinstance(argument.value.func, cst.Attribute)
        and argument.value.func.attr.value == "get_bind"
        for argument in call.args
    )


def _passes_session(call: cst.Call, handles: Mapping[str, _Handle]) -> bool:
    return any(handles.get(name) is _Handle.SESSION for name in _argument_names(call))


def _is_sqlalchemy_constructor(qualified: str) -> bool:
    """``sa.MetaData(bind=conn)``, ``sa.inspect(conn)``, ``Session(bind=conn)``: no DDL.

    A method of an instance (``sa.Enum(...).create(bind)``) is not a constructor.
    """
    return qualified.startswith("sqlalchemy.") and "()" not in qualified


def _builder_chain(call: cst.Call) -> bool:
    """Whether a call chain builds a Core statement on rows: ``t.update().where(...)``."""
    current: cst.BaseExpression = call
    while True:
        if isinstance(current, cst.Call):
            current = current.func
        elif isinstance(current, cst.Attribute):
            if current.attr.value in _DATA_BUILDERS:
                return True
            current = current.value
        else:
            return isinstance(current, cst.Name) and current.value in _DATA_BUILDERS
