from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from backlint.diagnostics import Diagnostic, Severity
from backlint.rules.base import Example, ProjectRule
from backlint.rules.migrations.column_types import narrows
from backlint.rules.migrations.migration_graph import Migration, MigrationGraph
from backlint.rules.migrations.migration_summary import (
    ALTER_FIELD,
    DROP_COLUMN,
    DROP_TABLE,
    KIND,
    NARROW,
    NOT_NULL,
    RENAME_COLUMN,
    RENAME_TABLE,
    FieldDefinition,
    MigrationSummary,
    Operation,
    summarize,
)

if TYPE_CHECKING:
    from backlint.index.facts import FileFacts
    from backlint.index.project import ProjectIndex

_DJANGO_MIGRATION_BASE = "django.db.migrations."

# What each operation does, as Alembic (tables, columns) and Django (models, fields) say it.
_ALEMBIC_WORDING = {
    DROP_TABLE: "drops table `{table}`",
    DROP_COLUMN: "drops column `{table}.{column}`",
    RENAME_TABLE: "renames table `{table}` to `{detail}`",
    RENAME_COLUMN: "renames column `{table}.{column}` to `{detail}`",
    NOT_NULL: "makes column `{table}.{column}` NOT NULL without a server default",
    NARROW: "narrows column `{table}.{column}` from {detail}",
}
_DJANGO_WORDING = {
    DROP_TABLE: "deletes model `{table}` (drops its table)",
    DROP_COLUMN: "removes field `{table}.{column}` (drops its column)",
    RENAME_TABLE: "renames model `{table}` to `{detail}` (renames its table)",
    RENAME_COLUMN: "renames field `{table}.{column}` to `{detail}` (renames its column)",
    NOT_NULL: "makes the nullable field `{table}.{column}` NOT NULL without a `db_default`",
    NARROW: "narrows field `{table}.{column}` from {detail}",
}

_SHARED_ALEMBIC = """
import sqlalchemy as sa
from alembic import op
"""


def _revision(revision: str, down: str, upgrade: str, downgrade: str = "pass") -> str:
    return (
        f"{_SHARED_ALEMBIC}\nrevision = {revision!r}\ndown_revision = {down}\n\n"
        f"def upgrade():\n    {upgrade}\n\ndef downgrade():\n    {downgrade}\n"
    )


class DestructiveMigration(ProjectRule):
    """
    ## What it does
    Flags a schema change in a migration's upgrade that the running release cannot live
    with, for Alembic and Django:

    - dropping a column or a table (`op.drop_column`, `batch_op.drop_column`,
      `op.drop_table`; `RemoveField`, `DeleteModel`);
    - renaming a column or a table (`op.alter_column(..., new_column_name=...)`,
      `op.rename_table`; `RenameField`, `RenameModel`);
    - making a column NOT NULL without a server default (`op.alter_column(...,
      nullable=False)` without `server_default=`; an `AlterField` to a field without
      `null=True` and without `db_default` when the field's previous definition in the
      app's earlier migrations was nullable);
    - narrowing a column's type (`type_=sa.String(50)` with `existing_type=sa.String(255)`,
      `Text` to `String`, `BigInteger` to `Integer`, fewer digits of a `Numeric`; an
      `AlterField` to a smaller `max_length` than before).

    Raw SQL in `op.execute("ALTER TABLE ... DROP COLUMN ...")` counts when the statement
    is a plain string literal (`DROP TABLE`, `DROP COLUMN`, `RENAME COLUMN`, `RENAME TO`).

    Only **head migrations** are checked, those no other migration builds on (leaves of
    the Alembic revision graph, following `down_revision`, merge tuples and
    `depends_on`; Django migrations no migration of any app lists in `dependencies`),
    plus, with `--new-from-rev`, every migration the change touched. A migration that
    something builds on has shipped: flagging it now helps nobody. A `downgrade()` is
    never checked (undoing an addition drops it), nor are Django's `state_operations`
    of a `SeparateDatabaseAndState`, which do not reach the database.

    ## Why is this bad?
    During a deploy the previous release keeps running against the migrated database
    until every instance is replaced, and it is what a rollback goes back to. It still
    selects the dropped column, writes to the renamed table, inserts rows without the
    newly required column and writes values longer than the narrowed type: each of
    those is an error in production, and a dropped column's data does not come back
    with `downgrade()`. This is the "data-shape change without compatibility
    assessment" that the PQG-5 quality gate stops.

    ## Example
    ```python
    revision = "a1b2c3"
    down_revision = "9f8e7d"

    def upgrade():
        op.drop_column("users", "email")
    ```

    Use instead: stop reading and writing `users.email` in one release, then drop it
    in a later one, and say so:
    ```python
    def upgrade():
        # backlint: allow BL903 unused since release 4.2 (PROJ-123)
        op.drop_column("users", "email")
    ```

    ## How to fix
    Split the change into steps that each release can live with (expand and contract):
    add the new column or table and write to both, backfill, switch the reads, and
    drop or rename the old one only in a later release. Give a column that becomes
    NOT NULL a server default (`server_default=` in Alembic, `db_default=` in Django)
    and backfill it first; widen a type rather than narrow it.

    When the change is safe (the column has been unused for a release, the table was
    never deployed), write the compatibility assessment as a waiver on the
    operation's line: `# backlint: allow BL903 <reason>`. The reason is required
    (`require-reason-for` lists BL903 by default); a waiver without one silences
    nothing. The waiver is the record the gate asks for, so a reviewer reads why the
    change is safe in the diff.

    Calibration. On the ten tuning projects (2,392 Alembic and Django migrations, 42
    heads) no head was destructive; counting every migration as changed it reported
    701 operations. saleor's money columns gave the decimal rule, its settings-based
    `max_length`s the unknown sizes, and netbox's proxy `ObjectType` the table-less
    models. On the check projects (2,708 migrations, 75 heads) the heads gave 8
    findings, 3 of them in migrations weeks old; the other 5 were the last migration
    of an app nobody has touched for years, which stays its head. The rule is
    therefore in preview and is meant for `--new-from-rev`: with every migration
    counted as changed, 25 of 30 sampled check-set findings were destructive
    changes a reviewer should see.

    Decisions (what the issue left open):
    - **Heads.** Alembic revision ids are looked up in the revision's own folder first,
      then anywhere, so two independent trees that both start at `0001` stay apart.
      A Django app's label is the one its migrations use for each other in
      `dependencies`, else the name of the app's folder; `run_before` ships a
      migration, and a `__latest__` dependency ships every migration of its app. With
      `--new-from-rev` a migration is reported when it is a head *or* the change
      touched it.
    - **Squashes.** A squashed migration (one with `replaces`) is never reported: its
      operations are copies of migrations that shipped. The migrations it replaces
      are not heads, and a dependency on one of them ships the squash, as Django
      reads it.
    - **Upgrade.** Alembic's `upgrade()`, the multi-database template's
      `upgrade_<name>()` and the module functions they call; a `downgrade*` function
      never. Django's `state_operations` of a `SeparateDatabaseAndState` are skipped,
      its `database_operations` are checked.
    - **NOT NULL.** `existing_server_default=` counts as a server default and
      `existing_nullable=False` says nothing changes. A backfill (`UPDATE ... SET`)
      before the change does not silence it: it fixes the rows, not the previous
      release's inserts.
    - **Django history.** An `AlterField` is judged against the field's previous
      definition: the latest `CreateModel`/`AddField`/`AlterField` of it in the
      app's earlier migrations, following `RenameField` and `RenameModel` back. When
      there is none (a field built by a helper, a history that starts in a migration
      the run does not see, a `RemoveField` in between), it is not reported: the rule
      reports only a change it can see. `null` defaults to `False` as in Django; a
      field built with `**kwargs` has an unknown `null`.
    - **Narrowing** is judged within a family only (text, integers, decimals) and
      needs `existing_type=` in Alembic; a change across families (text to integer)
      is a conversion whose safety depends on the data. `String()` without a length
      is unbounded; a length that is not a number (`max_length=settings.CODE_LENGTH`)
      is unknown, so nothing is compared; Django's `SlugField`, `EmailField` and
      `URLField` have their default `max_length`. A decimal narrows when it loses
      digits in all or after the point; moving the point (`Numeric(12, 2)` to
      `Numeric(12, 3)`, how saleor's money columns gained a decimal) is not counted.
    - **Raw SQL** counts only as a plain string literal passed to `op.execute`
      (no f-strings, no SQL built elsewhere); `DROP COLUMN` needs the `COLUMN`
      keyword, so `DROP CONSTRAINT` is not a column.
    - A Django proxy or unmanaged model (`options={"proxy": True}` or
      `{"managed": False}` in its `CreateModel`) has no table of its own: deleting,
      renaming it or removing its fields is not reported.
    - Migrations in test code are not checked.
    """

    code = "BL903"
    name = "destructive-migration"
    summary = (
        "A head migration drops, renames, narrows or makes NOT NULL a column or table "
        "the running release still uses."
    )
    fix_text = (
        "Expand and contract: stop using the column or table in one release and drop or "
        "rename it in a later one; add a server default and backfill before NOT NULL; widen "
        "instead of narrowing. If it is safe, waive it with `# backlint: allow BL903 <reason>`."
    )
    severity = Severity.WARNING
    default_enabled = False
    preview = True
    tags = ("migrations", "reliability", "PQG-5")
    include_tests = False
    invalid = (
        Example(
            _revision("a1b2c3", "'9f8e7d'", 'op.drop_column("users", "email")'),
            path="migrations/versions/a1b2c3_drop_email.py",
            files=(
                (
                    "migrations/versions/9f8e7d_add_email.py",
                    _revision("9f8e7d", "None", 'op.drop_column("users", "nickname")'),
                ),
            ),
            expect=1,
        ),
        # A change (``--new-from-rev``) that edits a shipped migration: reported there too.
        Example(
            _revision("9f8e7d", "None", 'op.drop_column("users", "nickname")'),
            path="migrations/versions/9f8e7d_add_email.py",
            files=(
                ("migrations/versions/a1b2c3_noop.py", _revision("a1b2c3", "'9f8e7d'", "pass")),
            ),
            base=(
                ("migrations/versions/9f8e7d_add_email.py", _revision("9f8e7d", "None", "pass")),
                ("migrations/versions/a1b2c3_noop.py", _revision("a1b2c3", "'9f8e7d'", "pass")),
            ),
            expect=1,
        ),
        # A merge revision makes both branches shipped; the head after it is checked.
        Example(
            _revision(
                "d4e5f6",
                "'c3c3c3'",
                'op.alter_column("orders", "note", type_=sa.String(50), existing_type=sa.Text())',
            ),
            path="migrations/versions/d4e5f6_narrow_note.py",
            files=(
                ("migrations/versions/a1a1a1_base.py", _revision("a1a1a1", "None", "pass")),
                ("migrations/versions/b2b2b2_left.py", _revision("b2b2b2", "'a1a1a1'", "pass")),
                (
                    "migrations/versions/b3b3b3_right.py",
                    _revision("b3b3b3", "'a1a1a1'", 'op.drop_table("legacy")'),
                ),
                (
                    "migrations/versions/c3c3c3_merge.py",
                    _revision("c3c3c3", "('b2b2b2', 'b3b3b3')", "pass"),
                ),
            ),
            expect=1,
        ),
        Example(
            """
            from alembic import op

            revision = "e7e7e7"
            down_revision = "d4e5f6"

            def upgrade():
                with op.batch_alter_table("users") as batch_op:
                    batch_op.drop_column("legacy_id")
                    batch_op.alter_column("name", new_column_name="full_name")
                op.alter_column("users", "email", nullable=False)
                op.rename_table("groups", "teams")
                op.execute("ALTER TABLE users DROP COLUMN IF EXISTS avatar")
            """,
            path="app/alembic/versions/e7e7e7_users.py",
            expect=5,
        ),
        Example(
            """
            from django.db import migrations, models

            class Migration(migrations.Migration):
                dependencies = [("orders", "0001_initial")]
                operations = [
                    migrations.RemoveField(model_name="order", name="legacy_total"),
                    migrations.AlterField(
                        model_name="order",
                        name="code",
                        field=models.CharField(max_length=20),
                    ),
                    migrations.RenameModel(old_name="Item", new_name="LineItem"),
                ]
            """,
            path="orders/migrations/0002_cleanup.py",
            files=(
                (
                    "orders/migrations/0001_initial.py",
                    """from django.db import migrations, models

class Migration(migrations.Migration):
    initial = True
    operations = [
        migrations.CreateModel(
            name="Order",
            fields=[
                ("id", models.AutoField(primary_key=True)),
                ("code", models.CharField(max_length=64, null=True)),
                ("legacy_total", models.IntegerField()),
            ],
        ),
    ]
""",
                ),
            ),
            # The code field both narrows and becomes NOT NULL.
            expect=4,
        ),
    )
    valid = (
        # A drop in the downgrade, and a head that only adds.
        Example(
            _revision(
                "a1b2c3",
                "'9f8e7d'",
                'op.add_column("users", sa.Column("email", sa.String(255)))',
                'op.drop_column("users", "email")',
            ),
            path="migrations/versions/a1b2c3_add_email.py",
        ),
        # An old, shipped migration: the head builds on it.
        Example(
            _revision("9f8e7d", "None", 'op.drop_column("users", "nickname")'),
            path="migrations/versions/9f8e7d_drop_nickname.py",
            files=(
                (
                    "migrations/versions/a1b2c3_add_email.py",
                    _revision("a1b2c3", "'9f8e7d'", "pass"),
                ),
            ),
        ),
        # NOT NULL with a server default; a widened type; the assessment in a waiver.
        Example(
            """
            import sqlalchemy as sa
            from alembic import op

            revision = "f00d00"
            down_revision = None

            def upgrade():
                op.alter_column("users", "active", nullable=False, server_default=sa.true())
                op.alter_column(
                    "users", "bio", type_=sa.Text(), existing_type=sa.String(length=255)
                )
                op.drop_table("imports")  # backlint: allow BL903 never deployed (PROJ-7)
            """,
            path="migrations/versions/f00d00_users.py",
        ),
        # Django: a field dropped from the state only, and an AlterField whose previous
        # definition is not in the run.
        Example(
            """
            from django.db import migrations, models

            class Migration(migrations.Migration):
                dependencies = [("orders", "0041_order_total")]
                operations = [
                    migrations.SeparateDatabaseAndState(
                        state_operations=[
                            migrations.RemoveField(model_name="order", name="total"),
                        ],
                    ),
                    migrations.AlterField(
                        model_name="order", name="code", field=models.CharField(max_length=20)
                    ),
                ]
            """,
            path="orders/migrations/0042_forget_total.py",
        ),
    )

    def check_project(self, project: ProjectIndex) -> Iterable[Diagnostic]:
        graph = MigrationGraph(project_migrations(project))
        change = project.change
        for path, migration in sorted(graph.migrations.items()):
            if migration.replaces:
                continue
            if graph.is_head(path):
                where = f"in the head migration `{graph.label(path)}`"
            elif change is not None and change.is_changed(path):
                where = f"in the migration `{graph.label(path)}`, changed since `{change.revision}`"
            else:
                continue
            for operation, wording in _destructive(graph, migration):
                text = wording.format(
                    table=operation.table, column=operation.column, detail=operation.detail
                )
                message = f"{text[0].upper()}{text[1:]} {where}"
                yield self.diagnostic(path, operation.span, message)


def _is_candidate(facts: FileFacts) -> bool:
    """Whether a file may be a migration, from its facts alone (so only those are read):
    an Alembic revision binds ``revision`` and ``down_revision``, a Django migration
    defines a ``Migration`` class on Django's base."""
    bound = {binding.name for binding in facts.bindings}
    if "revision" in bound and "down_revision" in bound:
        return True
    return any(
        fact.name == "Migration" and any(b.startswith(_DJANGO_MIGRATION_BASE) for b in fact.bases)
        for fact in facts.classes
    )


def project_migrations(project: ProjectIndex) -> Iterator[Migration]:
    for path, facts in sorted(project.files.items()):
        if facts.is_test or not _is_candidate(facts):
            continue
        if project.modules.get(facts.module) is not facts:
            continue  # another file claims the module name: its summary would be read
        summary: MigrationSummary | None = project.summary(facts.module, KIND, summarize)
        if summary is not None and summary.framework:
            yield Migration(path, summary, facts.replaces)


def _destructive(graph: MigrationGraph, migration: Migration) -> Iterator[tuple[Operation, str]]:
    """The destructive operations of a migration's upgrade, with how to word each."""
    django = migration.summary.framework == "django"
    wording = _DJANGO_WORDING if django else _ALEMBIC_WORDING
    for operation in migration.summary.operations:
        if django and not _has_table(graph, migration.path, operation.table):
            continue
        if operation.kind != ALTER_FIELD:
            yield operation, wording[operation.kind]
            continue
        before = _previous_definition(graph, migration.path, operation)
        if before is None or operation.definition is None:
            continue
        after = operation.definition
        if (
            after.has_column
            and after.null is False
            and before.null is True
            and not after.db_default
        ):
            yield operation, wording[NOT_NULL]
        if narrows(before.type, after.type):
            detail = f"{before.type.label()} to {after.type.label()}"
            yield _with_detail(operation, NARROW, detail), wording[NARROW]


def _with_detail(operation: Operation, kind: str, detail: str) -> Operation:
    return Operation(kind, operation.table, operation.column, operation.span, detail)


def _previous_definition(
    graph: MigrationGraph, path: str, operation: Operation
) -> FieldDefinition | None:
    """The field's definition before the migration: the latest ``CreateModel``,
    ``AddField`` or ``AlterField`` of it in the app's earlier migrations, following
    renames back; None when a ``RemoveField``/``DeleteModel`` comes first or nothing
    defines it."""
    model, field = operation.table.lower(), operation.column.lower()
    for ancestor in graph.ancestors_in_app(path):
        for change in reversed(graph.migrations[ancestor].summary.history):
            if change.action == "define" and (change.model, change.field) == (model, field):
                return change.definition
            if change.action == "remove" and (change.model, change.field) == (model, field):
                return None
            if change.action in ("create-model", "delete-model") and change.model == model:
                return None
            if change.action == "rename-field" and (change.model, change.new_name) == (
                model,
                field,
            ):
                field = change.field
            if change.action == "rename-model" and change.new_name == model:
                model = change.model
    return None


def _has_table(graph: MigrationGraph, path: str, model: str) -> bool:
    """Whether a Django model has a table of its own: not a proxy or unmanaged model, as
    its ``CreateModel`` in the app's earlier migrations says (true when none does)."""
    model = model.lower()
    for ancestor in graph.ancestors_in_app(path):
        for change in reversed(graph.migrations[ancestor].summary.history):
            if change.action == "create-model" and change.model == model:
                return change.has_table
            if change.action == "rename-model" and change.new_name == model:
                model = change.model
    return True
