"""What BL903 reads of one migration module: its place in the migration graph and the
destructive operations of its upgrade.

It is a module summary (``ProjectIndex.summary``): a pure function of the module's tree
and import table, returning plain data that the summary store keeps between runs, so a
warm run parses no migration. Deciding which migrations are heads, and what a Django
field was before an ``AlterField``, needs every migration, and is the rule's job.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import libcst as cst

from backlint.diagnostics import Span
from backlint.engine.positions import PositionIndex
from backlint.engine.walker import iter_children
from backlint.index.collect import migration_pairs
from backlint.index.names import ImportTable, dotted_name
from backlint.rules.migrations.column_types import ColumnType, is_decimal, narrows
from backlint.rules.migrations.common import (
    argument,
    has_splat,
    keyword_argument,
    module_assignments,
    string_value,
)
from backlint.rules.syntax import is_none

KIND = "BL903-migration/v1"

# What an operation does to the schema.
DROP_TABLE = "drop-table"
DROP_COLUMN = "drop-column"
RENAME_TABLE = "rename-table"
RENAME_COLUMN = "rename-column"
NOT_NULL = "not-null"
NARROW = "narrow-type"
# A Django ``AlterField``: destructive or not depending on the field's previous definition.
ALTER_FIELD = "alter-field"

_OP = "alembic.op."
_DJANGO = "django.db.migrations."
# Django fields without a column of their own: ``null`` means nothing for them.
_NO_COLUMN = frozenset({"ManyToManyField", "GenericRelation"})


@dataclass(frozen=True)
class FieldDefinition:
    """What a Django field definition (``models.CharField(max_length=50, null=True)``)
    says about its column. ``null`` is None when the file does not show it (a variable,
    ``**kwargs``)."""

    type: ColumnType
    null: bool | None
    db_default: bool
    has_column: bool


@dataclass(frozen=True)
class Operation:
    """One destructive operation (or Django ``AlterField``) of an upgrade.

    ``table`` is the table (Alembic) or model (Django) as written; ``column`` the column
    or field, empty for whole tables; ``detail`` the new name or the type change.
    """

    kind: str
    table: str
    column: str
    span: Span
    detail: str = ""
    definition: FieldDefinition | None = None  # Django ``AlterField``: the new field


@dataclass(frozen=True)
class StateChange:
    """A Django operation as the migration state sees it, to find a field's previous
    definition and whether a model has a table: ``create-model``, ``define`` (a field of
    CreateModel, AddField, AlterField), ``remove``, ``rename-field``, ``rename-model`` or
    ``delete-model``. Names are lower case."""

    action: str
    model: str
    field: str = ""
    new_name: str = ""
    definition: FieldDefinition | None = None
    # ``create-model``: False for a proxy or unmanaged model, which has no table of its
    # own, so dropping or renaming it changes nothing in the database.
    has_table: bool = True


@dataclass(frozen=True)
class MigrationSummary:
    """``framework`` is ``alembic``, ``django``, or empty for any other module.

    Alembic: ``revision`` and ``parents`` (``down_revision`` and ``depends_on``).
    Django: ``dependencies`` and ``run_before`` as ``(app label, name)`` pairs.
    """

    framework: str
    revision: str = ""
    parents: tuple[str, ...] = ()
    dependencies: tuple[tuple[str, str], ...] = ()
    run_before: tuple[tuple[str, str], ...] = ()
    operations: tuple[Operation, ...] = ()
    history: tuple[StateChange, ...] = ()


NOT_A_MIGRATION = MigrationSummary("")


def summarize(tree: cst.Module, names: ImportTable) -> MigrationSummary:
    """The module's migration summary (``NOT_A_MIGRATION`` for other modules)."""
    variables: dict[str, cst.BaseExpression | None] = {}
    for statement in tree.body:
        variables.update(module_assignments(statement))
    if "revision" in variables and "down_revision" in variables:
        return _AlembicReader(tree, names).read(variables)
    for index, statement in enumerate(tree.body):
        if isinstance(statement, cst.ClassDef) and _is_django_migration(statement, names):
            return _DjangoReader(tree, names, index).read(statement)
    return NOT_A_MIGRATION


def _label(node: cst.BaseExpression | None, tree: cst.Module) -> str:
    """A table or column name for messages: the string, or the expression as written."""
    if node is None:
        return "?"
    if (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value == "f"
        and len(node.args) == 1
    ):
        node = node.args[0].value  # ``op.f("ix_users_email")``: a name given as is
    text = string_value(node) if not isinstance(node, cst.FormattedString) else None
    return text if text is not None else tree.code_for_node(node)


def _identifiers(node: cst.BaseExpression | None) -> tuple[str, ...]:
    """Revision ids in ``"abc"``, ``("abc", "def")`` or ``None``."""
    if node is None or is_none(node):
        return ()
    if isinstance(node, (cst.Tuple, cst.List)):
        return tuple(
            text for element in node.elements if (text := string_value(element.value)) is not None
        )
    text = string_value(node)
    return (text,) if text else ()


@dataclass
class _Located:
    """Operations found in a module, positioned together once the reading is done."""

    tree: cst.Module
    found: list[tuple[str, str, str, cst.CSTNode, int, str, FieldDefinition | None]] = field(
        default_factory=list
    )

    def add(
        self,
        kind: str,
        table: str,
        column: str,
        node: cst.CSTNode,
        top_level: int,
        detail: str = "",
        definition: FieldDefinition | None = None,
    ) -> None:
        self.found.append((kind, table, column, node, top_level, detail, definition))

    def operations(self) -> tuple[Operation, ...]:
        if not self.found:
            return ()
        positions = PositionIndex(self.tree, None)
        positions.locate((node, top) for _, _, _, node, top, _, _ in self.found)
        return tuple(
            Operation(kind, table, column, positions.span(node, top), detail, definition)
            for kind, table, column, node, top, detail, definition in self.found
        )


# --- Alembic ---------------------------------------------------------------------------

# Raw SQL in ``op.execute("...")``: only statements spelled out in a string literal.
_NAME = r"(?:\"[^\"]+\"|[\w.]+)"
_SQL = (
    (
        DROP_TABLE,
        re.compile(rf"\bDROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?P<table>{_NAME})", re.IGNORECASE),
    ),
    (
        DROP_COLUMN,
        re.compile(
            rf"\bALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?(?P<table>{_NAME})[^;]*?"
            rf"\bDROP\s+COLUMN\s+(?:IF\s+EXISTS\s+)?(?P<column>{_NAME})",
            re.IGNORECASE,
        ),
    ),
    (
        RENAME_COLUMN,
        re.compile(
            rf"\bALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?(?P<table>{_NAME})[^;]*?"
            rf"\bRENAME\s+COLUMN\s+(?P<column>{_NAME})\s+TO\s+(?P<detail>{_NAME})",
            re.IGNORECASE,
        ),
    ),
    (
        RENAME_TABLE,
        re.compile(
            rf"\bALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?P<table>{_NAME})\s+"
            rf"RENAME\s+TO\s+(?P<detail>{_NAME})",
            re.IGNORECASE,
        ),
    ),
)


class _AlembicReader:
    """The upgrade of an Alembic revision: ``upgrade()`` (or the multi-database
    template's ``upgrade_<name>()``) and the module functions it calls, never a
    ``downgrade``."""

    def __init__(self, tree: cst.Module, names: ImportTable) -> None:
        self._tree = tree
        self._names = names
        self._located = _Located(tree)
        self._functions: dict[str, tuple[int, cst.FunctionDef]] = {}
        for index, statement in enumerate(tree.body):
            if isinstance(statement, cst.FunctionDef):
                self._functions[statement.name.value] = (index, statement)
        self._seen: set[str] = set()

    def read(self, variables: dict[str, cst.BaseExpression | None]) -> MigrationSummary:
        revision = variables.get("revision")
        for name in sorted(self._functions):
            if name == "upgrade" or name.startswith("upgrade_"):
                self._function(name)
        return MigrationSummary(
            "alembic",
            revision=(string_value(revision) or "") if revision is not None else "",
            parents=(
                *_identifiers(variables.get("down_revision")),
                *_identifiers(variables.get("depends_on")),
            ),
            operations=self._located.operations(),
        )

    def _function(self, name: str) -> None:
        if name in self._seen or name.startswith("downgrade"):
            return
        self._seen.add(name)
        top_level, function = self._functions[name]
        # Each node with the ``batch_alter_table`` handles of the ``with`` blocks around it:
        # a function often reuses ``batch_op`` for one table after another.
        stack: list[tuple[cst.CSTNode, dict[str, str]]] = [(function.body, {})]
        while stack:
            node, batches = stack.pop()
            if isinstance(node, cst.With):
                batches = {**batches, **dict(self._batch_handles(node))}
            elif isinstance(node, cst.Call):
                if isinstance(node.func, cst.Name) and node.func.value in self._functions:
                    self._function(node.func.value)
                else:
                    self._call(node, top_level, batches)
            stack.extend((child, batches) for child in reversed(list(iter_children(node))))

    def _batch_handles(self, block: cst.With) -> Iterator[tuple[str, str]]:
        """``with op.batch_alter_table("user") as batch_op``: ``batch_op`` → ``user``."""
        for item in block.items:
            if (
                isinstance(item.item, cst.Call)
                and self._names.qualified_name(item.item.func) == f"{_OP}batch_alter_table"
                and item.asname is not None
                and isinstance(item.asname.name, cst.Name)
            ):
                table = argument(item.item, 0, "table_name")
                yield item.asname.name.value, _label(table.value if table else None, self._tree)

    def _call(self, call: cst.Call, top_level: int, batches: dict[str, str]) -> None:
        func = call.func
        qualified = self._names.qualified_name(func) or ""
        if qualified.startswith(_OP) and "()" not in qualified:
            self._operation(qualified.removeprefix(_OP), call, top_level, None)
        elif (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.value.value in batches
        ):
            self._operation(func.attr.value, call, top_level, batches[func.value.value])

    def _operation(self, name: str, call: cst.Call, top_level: int, batch: str | None) -> None:
        """``batch`` is the table of a ``batch_alter_table`` block, whose operations do not
        take a table name."""
        if has_splat(call):
            return
        shift = 0 if batch is not None else 1

        def table() -> str:
            if batch is not None:
                return batch
            found = argument(call, 0, "table_name")
            return _label(found.value if found else None, self._tree)

        def column() -> str:
            found = argument(call, shift, "column_name")
            return _label(found.value if found else None, self._tree)

        if name == "drop_column":
            self._located.add(DROP_COLUMN, table(), column(), call, top_level)
        elif name == "drop_table" and batch is None:
            self._located.add(DROP_TABLE, table(), "", call, top_level)
        elif name == "rename_table" and batch is None:
            new = argument(call, 1, "new_table_name")
            self._located.add(
                RENAME_TABLE,
                table(),
                "",
                call,
                top_level,
                _label(new.value if new else None, self._tree),
            )
        elif name == "alter_column":
            self._alter_column(call, table(), column(), top_level)
        elif name == "execute" and batch is None:
            self._execute(call, top_level)

    def _alter_column(self, call: cst.Call, table: str, column: str, top_level: int) -> None:
        new_name = keyword_argument(call, "new_column_name")
        if new_name is not None and not is_none(new_name.value):
            self._located.add(
                RENAME_COLUMN, table, column, call, top_level, _label(new_name.value, self._tree)
            )
        # ``existing_nullable=False``: the column was NOT NULL already.
        if (
            _is_false(keyword_argument(call, "nullable"))
            and not _has_default(call)
            and not _is_false(keyword_argument(call, "existing_nullable"))
        ):
            self._located.add(NOT_NULL, table, column, call, top_level)
        new_type, old_type = (
            keyword_argument(call, "type_"),
            keyword_argument(call, "existing_type"),
        )
        if new_type is not None and old_type is not None:
            new, old = _column_type(new_type.value), _column_type(old_type.value)
            if new is not None and old is not None and narrows(old, new):
                detail = f"{old.label()} to {new.label()}"
                self._located.add(NARROW, table, column, call, top_level, detail)

    def _execute(self, call: cst.Call, top_level: int) -> None:
        found = argument(call, 0, "sqltext")
        if found is None or isinstance(found.value, cst.FormattedString):
            return
        text = string_value(found.value)
        if text is None:
            return
        for statement in _sql_statements(text):
            for kind, pattern in _SQL:
                match = pattern.search(statement)
                if match is not None:
                    groups = match.groupdict()
                    self._located.add(
                        kind,
                        _unquote(groups["table"]),
                        _unquote(groups.get("column") or ""),
                        call,
                        top_level,
                        _unquote(groups.get("detail") or ""),
                    )
                    break


def _sql_statements(text: str) -> Iterator[str]:
    for statement in text.split(";"):
        lines = [line.split("--", 1)[0] for line in statement.splitlines()]
        joined = " ".join(lines).strip()
        if joined:
            yield joined


def _unquote(name: str) -> str:
    return name.replace('"', "")


def _is_false(arg: cst.Arg | None) -> bool:
    return arg is not None and isinstance(arg.value, cst.Name) and arg.value.value == "False"


def _has_default(call: cst.Call) -> bool:
    """A server default given now, or one the column already has."""
    for keyword in ("server_default", "existing_server_default"):
        found = keyword_argument(call, keyword)
        if found is not None and not is_none(found.value) and not _is_false(found):
            return True
    return False


def _integer(node: cst.BaseExpression | None) -> int | None:
    if isinstance(node, cst.Integer):
        value = node.evaluated_value
        return value if isinstance(value, int) else None
    return None


def _column_type(node: cst.BaseExpression) -> ColumnType | None:
    """``sa.String(length=50)``, ``String(50)``, ``sa.Text()``, ``sa.BigInteger``."""
    call = node if isinstance(node, cst.Call) else None
    dotted = dotted_name(call.func if call is not None else node)
    if dotted is None:
        return None
    name = dotted.rsplit(".", 1)[-1]
    if call is None:
        return ColumnType(name)
    if has_splat(call):
        return None

    sizes = (("precision", 0), ("scale", 1)) if is_decimal(name) else (("length", 0),)
    found: dict[str, int | None] = {}
    for keyword, position in sizes:
        given = argument(call, position, keyword)
        found[keyword] = None if given is None else _integer(given.value)
        if given is not None and found[keyword] is None:
            return None  # ``String(length=NAME_LENGTH)``: a size the file does not show
    return ColumnType(name, **found)


# --- Django ----------------------------------------------------------------------------


def _is_django_migration(statement: cst.ClassDef, names: ImportTable) -> bool:
    if statement.name.value != "Migration":
        return False
    return any(
        (names.qualified_name(base.value) or "").startswith(_DJANGO) for base in statement.bases
    )


class _DjangoReader:
    """The ``operations`` of a Django ``Migration`` class. Django migrations have no
    downgrade: Django reverses the operations themselves, so every operation counts, but
    ``SeparateDatabaseAndState`` splits what reaches the database
    (``database_operations``) from what only changes Django's idea of the models
    (``state_operations``: a field removed from the state first, dropped later)."""

    def __init__(self, tree: cst.Module, names: ImportTable, top_level: int) -> None:
        self._tree = tree
        self._names = names
        self._top_level = top_level
        self._located = _Located(tree)
        self._history: list[StateChange] = []

    def read(self, migration: cst.ClassDef) -> MigrationSummary:
        operations = _class_attribute(migration, "operations")
        if isinstance(operations, (cst.List, cst.Tuple)):
            self._operations(operations.elements, database=True, state=True)
        return MigrationSummary(
            "django",
            dependencies=tuple(migration_pairs(migration, "dependencies")),
            run_before=tuple(migration_pairs(migration, "run_before")),
            operations=self._located.operations(),
            history=tuple(self._history),
        )

    def _operations(
        self, elements: Sequence[cst.BaseElement], *, database: bool, state: bool
    ) -> None:
        for element in elements:
            call = element.value
            if not isinstance(call, cst.Call) or has_splat(call):
                continue
            qualified = self._names.qualified_name(call.func) or ""
            if not qualified.startswith(_DJANGO):
                continue
            name = qualified.rsplit(".", 1)[-1]
            if name == "SeparateDatabaseAndState":
                self._split(call, database=database, state=state)
                continue
            if database:
                self._destructive(name, call)
            if state:
                self._history.extend(self._state_changes(name, call))

    def _split(self, call: cst.Call, *, database: bool, state: bool) -> None:
        for keyword, position in (("state_operations", 1), ("database_operations", 0)):
            found = argument(call, position, keyword)
            if found is not None and isinstance(found.value, (cst.List, cst.Tuple)):
                self._operations(
                    found.value.elements,
                    database=database and keyword == "database_operations",
                    state=state and keyword == "state_operations",
                )

    def _text(self, call: cst.Call, position: int, keyword: str) -> str:
        found = argument(call, position, keyword)
        return _label(found.value if found is not None else None, self._tree)

    def _destructive(self, name: str, call: cst.Call) -> None:
        add = self._located.add
        top = self._top_level
        if name == "RemoveField":
            add(
                DROP_COLUMN,
                self._text(call, 0, "model_name"),
                self._text(call, 1, "name"),
                call,
                top,
            )
        elif name == "DeleteModel":
            add(DROP_TABLE, self._text(call, 0, "name"), "", call, top)
        elif name == "RenameField":
            model, old = self._text(call, 0, "model_name"), self._text(call, 1, "old_name")
            add(RENAME_COLUMN, model, old, call, top, self._text(call, 2, "new_name"))
        elif name == "RenameModel":
            old, new = self._text(call, 0, "old_name"), self._text(call, 1, "new_name")
            add(RENAME_TABLE, old, "", call, top, new)
        elif name == "AlterField":
            definition = self._definition(argument(call, 2, "field"))
            if definition is not None:
                model, column = self._text(call, 0, "model_name"), self._text(call, 1, "name")
                add(ALTER_FIELD, model, column, call, top, "", definition)

    def _state_changes(self, name: str, call: cst.Call) -> Iterator[StateChange]:
        text = self._text
        if name == "CreateModel":
            model = text(call, 0, "name").lower()
            yield StateChange("create-model", model, has_table=_has_table(call))
            fields = argument(call, 1, "fields")
            if fields is not None and isinstance(fields.value, (cst.List, cst.Tuple)):
                for element in fields.value.elements:
                    pair = element.value
                    if isinstance(pair, cst.Tuple) and len(pair.elements) == 2:
                        field_name = string_value(pair.elements[0].value)
                        definition = self._definition(pair.elements[1])
                        if field_name is not None:
                            yield StateChange("define", model, field_name.lower(), "", definition)
        elif name in ("AddField", "AlterField"):
            yield StateChange(
                "define",
                text(call, 0, "model_name").lower(),
                text(call, 1, "name").lower(),
                "",
                self._definition(argument(call, 2, "field")),
            )
        elif name == "RemoveField":
            yield StateChange(
                "remove", text(call, 0, "model_name").lower(), text(call, 1, "name").lower()
            )
        elif name == "RenameField":
            yield StateChange(
                "rename-field",
                text(call, 0, "model_name").lower(),
                text(call, 1, "old_name").lower(),
                text(call, 2, "new_name").lower(),
            )
        elif name == "RenameModel":
            yield StateChange(
                "rename-model",
                text(call, 0, "old_name").lower(),
                "",
                text(call, 1, "new_name").lower(),
            )
        elif name == "DeleteModel":
            yield StateChange("delete-model", text(call, 0, "name").lower())

    def _definition(self, found: cst.Arg | cst.BaseElement | None) -> FieldDefinition | None:
        """What ``models.CharField(max_length=50, null=True)`` says; None for a field the
        file does not spell out (a variable, a helper's result)."""
        if found is None or not isinstance(found.value, cst.Call):
            return None
        call = found.value
        dotted = dotted_name(call.func)
        if dotted is None:
            return None
        name = dotted.rsplit(".", 1)[-1]
        null = keyword_argument(call, "null")
        known_null: bool | None
        if has_splat(call):
            known_null = None
        elif null is None:
            known_null = False  # Django's default
        elif isinstance(null.value, cst.Name) and null.value.value in ("True", "False"):
            known_null = null.value.value == "True"
        else:
            known_null = None

        return FieldDefinition(
            _field_type(name, call),
            null=known_null,
            db_default=keyword_argument(call, "db_default") is not None,
            has_column=name not in _NO_COLUMN,
        )


def _field_type(name: str, call: cst.Call) -> ColumnType:
    """A Django field's column type; a size that is not a number (``max_length=
    settings.CODE_LENGTH``) leaves the type unknown (no name), so it is never compared."""
    sizes: dict[str, int | None] = {}
    for keyword, size in (
        ("max_length", "length"),
        ("max_digits", "precision"),
        ("decimal_places", "scale"),
    ):
        given = keyword_argument(call, keyword)
        sizes[size] = None if given is None else _integer(given.value)
        if given is not None and sizes[size] is None:
            return ColumnType("")
    return ColumnType(name, **sizes)


def _has_table(create_model: cst.Call) -> bool:
    """Whether ``CreateModel`` makes a table: not with ``options={"proxy": True}`` or
    ``{"managed": False}``."""
    options = argument(create_model, 2, "options")
    if options is None or not isinstance(options.value, cst.Dict):
        return True
    for element in options.value.elements:
        if not isinstance(element, cst.DictElement) or not isinstance(element.value, cst.Name):
            continue
        key, value = string_value(element.key), element.value.value
        if (key, value) in (("proxy", "True"), ("managed", "False")):
            return False
    return True


def _class_attribute(node: cst.ClassDef, name: str) -> cst.BaseExpression | None:
    for line in node.body.body:
        if isinstance(line, cst.SimpleStatementLine):
            value = module_assignments(line).get(name)
            if value is not None:
                return value
    return None
