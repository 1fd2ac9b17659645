"""BL903 destructive-migration: what counts as destructive, which migrations are heads."""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import pytest

from backlint.application import CheckRequest, run_check
from backlint.cache.store import decode, encode
from backlint.diagnostics import Diagnostic
from backlint.index.change import ChangeSet
from backlint.index.collect import import_table
from backlint.index.project import ProjectIndex
from backlint.rules.migrations.destructive_migration import DestructiveMigration
from backlint.rules.migrations.migration_summary import summarize

VERSIONS = "migrations/versions"


def _write(tmp_path: Path, files: dict[str, str]) -> None:
    for relative, source in files.items():
        target = tmp_path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(source).lstrip("\n"), encoding="utf-8")


def _project(tmp_path: Path, files: dict[str, str]) -> tuple[list[Diagnostic], ProjectIndex]:
    _write(tmp_path, files)
    result = run_check(
        CheckRequest(paths=(tmp_path,), cwd=tmp_path, extend_select=("BL903",), jobs=1)
    )
    assert not result.internal_errors, result.internal_errors
    assert result.project is not None
    return [d for d in result.diagnostics if d.code == "BL903"], result.project


def _messages(tmp_path: Path, files: dict[str, str]) -> list[str]:
    return [d.message for d in _project(tmp_path, files)[0]]


def _revision(revision: str, down: str | None, upgrade: str, downgrade: str = "pass") -> str:
    body = textwrap.indent(textwrap.dedent(upgrade).strip(), "    ")
    return (
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        f"revision = {revision!r}\ndown_revision = {down!r}\n\n"
        f"def upgrade():\n{body}\n\ndef downgrade():\n    {downgrade}\n"
    )


def _head(upgrade: str) -> dict[str, str]:
    """One revision, which is therefore the head."""
    return {f"{VERSIONS}/a1_head.py": _revision("a1", None, upgrade)}


# --- Alembic operations ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("upgrade", "expected"),
    [
        ('op.drop_column("users", "email")', "Drops column `users.email`"),
        ("op.drop_column(table_name='users', column_name='email')", "Drops column `users.email`"),
        ('op.drop_table("users")', "Drops table `users`"),
        ('op.drop_table(op.f("users"))', "Drops table `users`"),
        (
            'with op.batch_alter_table("users") as batch_op:\n    batch_op.drop_column("email")',
            "Drops column `users.email`",
        ),
        (
            # ``batch_op`` names one table after another.
            'with op.batch_alter_table("groups") as batch_op:\n    batch_op.drop_column("email")\n'
            'with op.batch_alter_table("users") as batch_op:\n    batch_op.create_index("i", [])',
            "Drops column `groups.email`",
        ),
        (
            'op.alter_column("users", "name", new_column_name="full_name")',
            "Renames column `users.name` to `full_name`",
        ),
        ('op.rename_table("groups", "teams")', "Renames table `groups` to `teams`"),
        (
            'op.alter_column("users", "email", existing_type=sa.String(), nullable=False)',
            "Makes column `users.email` NOT NULL without a server default",
        ),
        (
            'op.alter_column("users", "email", type_=sa.String(50), '
            "existing_type=sa.String(length=255))",
            "Narrows column `users.email` from String(255) to String(50)",
        ),
        (
            'op.alter_column("users", "bio", type_=sa.VARCHAR(200), existing_type=sa.Text())',
            "Narrows column `users.bio` from Text to VARCHAR(200)",
        ),
        (
            'op.alter_column("users", "id", type_=sa.Integer(), existing_type=sa.BigInteger())',
            "Narrows column `users.id` from BigInteger to Integer",
        ),
        (
            'op.alter_column("orders", "total", type_=sa.Numeric(8, 2), '
            "existing_type=sa.Numeric(12, 2))",
            "Narrows column `orders.total` from Numeric(12, 2) to Numeric(8, 2)",
        ),
        (
            'op.alter_column("orders", "price", type_=sa.Numeric(12, 2), '
            "existing_type=sa.Numeric(12, 4))",
            "Narrows column `orders.price` from Numeric(12, 4) to Numeric(12, 2)",
        ),
        (
            'op.execute("ALTER TABLE users DROP COLUMN IF EXISTS avatar")',
            "Drops column `users.avatar`",
        ),
        ('op.execute("DROP TABLE IF EXISTS legacy_users")', "Drops table `legacy_users`"),
        (
            "op.execute('ALTER TABLE users RENAME COLUMN login TO username')",
            "Renames column `users.login` to `username`",
        ),
    ],
)
def test_each_destructive_alembic_operation_in_a_head_is_reported(
    tmp_path: Path, upgrade: str, expected: str
) -> None:
    assert _messages(tmp_path, _head(upgrade)) == [f"{expected} in the head migration `a1`"]


SAFE_ALEMBIC = [
    'op.add_column("users", sa.Column("email", sa.String(255)))',
    'op.alter_column("users", "active", nullable=False, server_default=sa.true())',
    'op.alter_column("users", "active", nullable=False, existing_server_default="0")',
    'op.alter_column("users", "active", nullable=False, existing_nullable=False)',
    'op.alter_column("users", "email", nullable=True)',
    'op.alter_column("users", "bio", type_=sa.Text(), existing_type=sa.String(255))',
    'op.alter_column("users", "id", type_=sa.BigInteger(), existing_type=sa.Integer())',
    # Without the existing type there is nothing to compare with.
    'op.alter_column("users", "email", type_=sa.String(50))',
    'op.alter_column("users", "email", type_=sa.Integer(), existing_type=sa.String(50))',
    # A size that is not a number, and a decimal that moves its point.
    'op.alter_column("users", "name", type_=sa.String(NAME_LENGTH), existing_type=sa.Text())',
    'op.alter_column("users", "tag", type_=sa.String(20), existing_type=sa.String(length=N))',
    'op.alter_column("orders", "total", type_=sa.Numeric(12, 3), existing_type=sa.Numeric(12, 2))',
    'op.execute("UPDATE users SET active = true")',
    'op.execute("ALTER TABLE users DROP CONSTRAINT users_email_key")',
    'op.execute(f"ALTER TABLE {TABLE} DROP COLUMN x")',
    'op.create_index("ix_users_email", "users", ["email"])',
]


def test_safe_alembic_operations_are_not_reported(tmp_path: Path) -> None:
    # One head holds them all (one run of the engine), and one drop that shows the head
    # was read.
    upgrade = "\n".join([*SAFE_ALEMBIC, 'op.drop_table("canary")'])
    assert _messages(tmp_path, _head(upgrade)) == [
        "Drops table `canary` in the head migration `a1`"
    ]


def test_a_drop_in_the_downgrade_is_not_reported(tmp_path: Path) -> None:
    files = {
        f"{VERSIONS}/a1_head.py": _revision(
            "a1",
            None,
            'op.add_column("users", sa.Column("email", sa.String(255)))',
            'op.drop_column("users", "email")',
        )
    }
    assert _messages(tmp_path, files) == []


def test_functions_the_upgrade_calls_are_read_and_the_downgrade_ones_are_not(
    tmp_path: Path,
) -> None:
    source = _revision("a1", None, "_drop_legacy()", "_restore()") + textwrap.dedent(
        """
        def _drop_legacy():
            op.drop_table("legacy")

        def _restore():
            op.drop_table("replacement")
        """
    )
    assert _messages(tmp_path, {f"{VERSIONS}/a1_head.py": source}) == [
        "Drops table `legacy` in the head migration `a1`"
    ]


def test_the_finding_is_at_the_operation_call(tmp_path: Path) -> None:
    found, _ = _project(tmp_path, _head('op.drop_column(\n    "users",\n    "email",\n)'))
    (finding,) = found
    assert finding.path == f"{VERSIONS}/a1_head.py"
    assert (finding.span.start.line, finding.span.start.column) == (8, 5)
    assert finding.span.end.line == 11


# --- Alembic heads -----------------------------------------------------------------------


def test_a_shipped_revision_is_silent_and_its_successor_is_checked(tmp_path: Path) -> None:
    files = {
        f"{VERSIONS}/a1_old.py": _revision("a1", None, 'op.drop_column("users", "nickname")'),
        # Alembic's current template annotates the variables.
        f"{VERSIONS}/b2_new.py": _revision("b2", "a1", 'op.drop_column("users", "email")')
        .replace("\nrevision = ", "\nrevision: str = ")
        .replace("down_revision = ", "down_revision: str | None = "),
    }
    assert _messages(tmp_path, files) == ["Drops column `users.email` in the head migration `b2`"]


def test_unmerged_branches_are_both_heads_and_a_merge_ships_them(tmp_path: Path) -> None:
    files = {
        f"{VERSIONS}/a1_base.py": _revision("a1", None, "pass"),
        f"{VERSIONS}/b1_left.py": _revision("b1", "a1", 'op.drop_table("left")'),
        f"{VERSIONS}/b2_right.py": _revision("b2", "a1", 'op.drop_table("right")'),
    }
    assert _messages(tmp_path, files) == [
        "Drops table `left` in the head migration `b1`",
        "Drops table `right` in the head migration `b2`",
    ]
    merge = _revision("c1", "PLACEHOLDER", "pass").replace("'PLACEHOLDER'", "('b1', 'b2')")
    files[f"{VERSIONS}/c1_merge.py"] = merge
    assert _messages(tmp_path, files) == []


def test_depends_on_ships_the_revision_it_names(tmp_path: Path) -> None:
    files = {
        f"{VERSIONS}/a1_base.py": _revision("a1", None, 'op.drop_table("legacy")'),
        f"{VERSIONS}/z9_other_branch.py": _revision("z9", None, "pass").replace(
            "down_revision = None", "down_revision = None\ndepends_on = ('a1',)"
        ),
    }
    assert _messages(tmp_path, files) == []


def test_revision_ids_are_matched_within_their_own_folder_first(tmp_path: Path) -> None:
    # Two independent Alembic trees that both number their revisions from 0001.
    files = {
        "core/versions/0001_a.py": _revision("0001", None, "pass"),
        "core/versions/0002_b.py": _revision("0002", "0001", "pass"),
        "tenant/versions/0001_a.py": _revision("0001", None, 'op.drop_table("t")'),
    }
    assert _messages(tmp_path, files) == ["Drops table `t` in the head migration `0001`"]


# --- Django ------------------------------------------------------------------------------

INITIAL = """
from django.db import migrations, models

class Migration(migrations.Migration):
    initial = True
    operations = [
        migrations.CreateModel(
            name="Order",
            fields=[
                ("id", models.AutoField(primary_key=True)),
                ("code", models.CharField(max_length=64, null=True)),
                ("note", models.TextField(null=True)),
                ("total", models.IntegerField()),
                ("currency", models.CharField(max_length=CURRENCY_LENGTH)),
            ],
        ),
        # Models without a table of their own.
        migrations.CreateModel(
            name="OpenOrder", fields=[], options={"proxy": True}, bases=("orders.order",)
        ),
        migrations.CreateModel(
            name="OrderReport",
            fields=[("id", models.AutoField(primary_key=True))],
            options={"managed": False, "db_table": "order_report_view"},
        ),
    ]
"""


def _django(operations: str, dependencies: str = '[("orders", "0001_initial")]') -> str:
    return (
        "from django.db import migrations, models\n\n"
        "class Migration(migrations.Migration):\n"
        f"    dependencies = {dependencies}\n"
        f"    operations = [\n        {operations},\n    ]\n"
    )


def _orders(operations: str) -> dict[str, str]:
    return {
        "orders/migrations/0001_initial.py": INITIAL,
        "orders/migrations/0002_change.py": _django(operations),
    }


IN_HEAD = "in the head migration `orders.0002_change`"


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        (
            'migrations.RemoveField(model_name="order", name="total")',
            "Removes field `order.total` (drops its column)",
        ),
        ('migrations.DeleteModel(name="Order")', "Deletes model `Order` (drops its table)"),
        (
            'migrations.RenameField(model_name="order", old_name="total", new_name="amount")',
            "Renames field `order.total` to `amount` (renames its column)",
        ),
        (
            'migrations.RenameModel(old_name="Order", new_name="Purchase")',
            "Renames model `Order` to `Purchase` (renames its table)",
        ),
        (
            'migrations.AlterField(model_name="order", name="note", field=models.TextField())',
            "Makes the nullable field `order.note` NOT NULL without a `db_default`",
        ),
        (
            'migrations.AlterField(model_name="order", name="code", '
            "field=models.CharField(max_length=20, null=True))",
            "Narrows field `order.code` from CharField(64) to CharField(20)",
        ),
        (
            'migrations.AlterField(model_name="order", name="note", '
            "field=models.CharField(max_length=200, null=True))",
            "Narrows field `order.note` from TextField to CharField(200)",
        ),
    ],
)
def test_each_destructive_django_operation_in_a_head_is_reported(
    tmp_path: Path, operation: str, expected: str
) -> None:
    assert _messages(tmp_path, _orders(operation)) == [f"{expected} {IN_HEAD}"]


SAFE_DJANGO = [
    # Already NOT NULL, or given a database default.
    'migrations.AlterField(model_name="order", name="total", field=models.IntegerField())',
    'migrations.AlterField(model_name="order", name="note", field=models.TextField(db_default=""))',
    'migrations.AlterField(model_name="order", name="code", '
    "field=models.CharField(max_length=128, null=True))",
    # A field whose previous definition is not in the app's migrations: cannot tell.
    'migrations.AlterField(model_name="order", name="ghost", field=models.TextField())',
    'migrations.AlterField(model_name="order", name="note", field=NOTE_FIELD)',
    # The previous length is not a number: unknown, not unbounded.
    'migrations.AlterField(model_name="order", name="currency", '
    "field=models.CharField(max_length=3))",
    # A proxy and an unmanaged model have no table to drop or rename.
    'migrations.DeleteModel(name="OpenOrder")',
    'migrations.RenameModel(old_name="OrderReport", new_name="SalesReport")',
    'migrations.RemoveField(model_name="orderreport", name="id")',
    # Only Django's idea of the model changes; the column stays.
    "migrations.SeparateDatabaseAndState(state_operations=["
    'migrations.RemoveField(model_name="order", name="total")])',
    'migrations.AddField(model_name="order", name="paid", '
    "field=models.BooleanField(default=False))",
]


def test_safe_django_operations_are_not_reported(tmp_path: Path) -> None:
    # One migration holds them all (each looks at the app's earlier migrations only),
    # and one deletion that shows the migration was read.
    operations = ",\n        ".join([*SAFE_DJANGO, 'migrations.DeleteModel(name="Canary")'])
    assert _messages(tmp_path, _orders(operations)) == [
        f"Deletes model `Canary` (drops its table) {IN_HEAD}"
    ]


def test_database_operations_of_separate_database_and_state_are_reported(
    tmp_path: Path,
) -> None:
    operation = (
        "migrations.SeparateDatabaseAndState(database_operations=["
        'migrations.RemoveField(model_name="order", name="total")])'
    )
    assert _messages(tmp_path, _orders(operation)) == [
        f"Removes field `order.total` (drops its column) {IN_HEAD}"
    ]


def test_a_field_history_is_followed_through_renames_and_alterations(tmp_path: Path) -> None:
    files = {
        "orders/migrations/0001_initial.py": INITIAL,
        "orders/migrations/0002_rename.py": _django(
            'migrations.RenameField(model_name="order", old_name="note", new_name="remark")'
        ),
        "orders/migrations/0003_alter.py": _django(
            'migrations.AlterField(model_name="order", name="remark", '
            "field=models.TextField(null=True, blank=True))",
            '[("orders", "0002_rename")]',
        ),
        "orders/migrations/0004_required.py": _django(
            'migrations.AlterField(model_name="order", name="remark", field=models.TextField())',
            '[("orders", "0003_alter")]',
        ),
    }
    assert _messages(tmp_path, files) == [
        "Makes the nullable field `order.remark` NOT NULL without a `db_default` "
        "in the head migration `orders.0004_required`"
    ]


def test_a_dependency_from_another_app_ships_the_migration(tmp_path: Path) -> None:
    files = {
        "orders/migrations/0001_initial.py": INITIAL,
        "orders/migrations/0002_change.py": _django('migrations.DeleteModel(name="Order")'),
        "billing/migrations/0001_initial.py": _django(
            'migrations.RemoveField(model_name="invoice", name="legacy")',
            '[("orders", "0002_change")]',
        ),
    }
    assert _messages(tmp_path, files) == [
        "Removes field `invoice.legacy` (drops its column) in the head migration "
        "`billing.0001_initial`"
    ]


def test_an_app_label_other_than_its_folder_is_learnt_from_its_migrations(
    tmp_path: Path,
) -> None:
    # The ``accounts`` folder holds the app labelled ``users``.
    files = {
        "accounts/migrations/0001_initial.py": _django(
            'migrations.DeleteModel(name="Profile")', "[]"
        ),
        "accounts/migrations/0002_more.py": _django(
            "migrations.RunPython(print)", "[('users', '0001_initial')]"
        ),
        "shop/migrations/0001_initial.py": _django(
            "migrations.RunPython(print)", "[('users', '0002_more')]"
        ),
    }
    assert _messages(tmp_path, files) == []


def test_squashed_migrations_and_the_ones_they_replace_are_silent(tmp_path: Path) -> None:
    squash = _django('migrations.RemoveField(model_name="order", name="total")', "[]").replace(
        "    dependencies",
        '    replaces = [("orders", "0001_initial"), ("orders", "0002_drop_total")]\n'
        "    dependencies",
    )
    files = {
        "orders/migrations/0001_initial.py": INITIAL,
        "orders/migrations/0002_drop_total.py": _django(
            'migrations.RemoveField(model_name="order", name="total")'
        ),
        "orders/migrations/0001_squashed_0002.py": squash,
    }
    assert _messages(tmp_path, files) == []
    # A dependency on a replaced migration ships the squash, and the next one is checked.
    files["orders/migrations/0003_next.py"] = _django(
        'migrations.DeleteModel(name="Order")', '[("orders", "0002_drop_total")]'
    )
    assert _messages(tmp_path, files) == [
        "Deletes model `Order` (drops its table) in the head migration `orders.0003_next`"
    ]


def test_run_before_ships_the_migration(tmp_path: Path) -> None:
    files = _orders('migrations.DeleteModel(name="Order")')
    files["orders/migrations/0002_change.py"] = files["orders/migrations/0002_change.py"].replace(
        "    operations", '    run_before = [("billing", "0001_initial")]\n    operations'
    )
    assert _messages(tmp_path, files) == []


# --- Changes, waivers, summaries ---------------------------------------------------------


def test_a_shipped_migration_changed_since_the_revision_is_reported(tmp_path: Path) -> None:
    files = {
        f"{VERSIONS}/a1_old.py": _revision("a1", None, 'op.drop_column("users", "nickname")'),
        f"{VERSIONS}/b2_new.py": _revision("b2", "a1", "pass"),
        "orders/migrations/0001_initial.py": INITIAL,
        "orders/migrations/0002_change.py": _django('migrations.DeleteModel(name="Order")'),
        "orders/migrations/0003_next.py": _django(
            "migrations.RunPython(print)", '[("orders", "0002_change")]'
        ),
    }
    found, project = _project(tmp_path, files)
    assert found == []  # no head drops anything
    project.change = ChangeSet(
        revision="origin/main",
        commit="0" * 40,
        changed=frozenset({f"{VERSIONS}/a1_old.py", "orders/migrations/0002_change.py"}),
    )
    messages = [d.message for d in DestructiveMigration().check_project(project)]
    assert messages == [
        "Drops column `users.nickname` in the migration `a1`, changed since `origin/main`",
        "Deletes model `Order` (drops its table) in the migration `orders.0002_change`, "
        "changed since `origin/main`",
    ]


def test_a_waiver_with_a_reason_is_the_compatibility_assessment(tmp_path: Path) -> None:
    waived = 'op.drop_column("users", "email")  # backlint: allow BL903 unused since 4.2 (T-12)'
    assert _messages(tmp_path, _head(waived)) == []


def test_a_waiver_without_a_reason_silences_nothing(tmp_path: Path) -> None:
    bare = 'op.drop_column("users", "email")  # backlint: allow BL903'
    (message,) = _messages(tmp_path, _head(bare))
    assert message.startswith("Drops column `users.email` in the head migration `a1`")
    assert "needs a reason" in message


def test_the_summary_is_plain_data_the_cache_can_keep() -> None:
    source = _revision("a1", "z9", 'op.drop_column("users", "email")')
    tree = cst.parse_module(source)
    summary = summarize(tree, import_table(tree, "migrations.versions.a1", False))
    assert summary.framework == "alembic"
    assert summary.parents == ("z9",)
    assert decode(encode(summary)) == (summary,)
