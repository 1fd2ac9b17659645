"""BL901 migration-without-rollback and BL902 irreversible-django-operation beyond their
examples: positions, messages, options, waivers and the files they must leave alone."""

from __future__ import annotations

import textwrap
from pathlib import Path

from cli_helpers import write_files as _write

from backlint.application import CheckRequest, run_check
from backlint.diagnostics import Diagnostic
from backlint.rules.migrations.alembic_upgrade import Change, sql_change

ADD_EMAIL = """
    import sqlalchemy as sa
    from alembic import op

    revision = "3f2a9c1d7b44"
    down_revision = "a1b2c3d4e5f6"

    def upgrade():
        op.add_column("user", sa.Column("email", sa.String(255)))

    def downgrade():
        pass
"""

RAISING = """
    from alembic import op

    revision = "e5c7a4e2df4d"
    down_revision = "98af61feea92"

    def upgrade():
        op.drop_column("data_sources", "options")

    def downgrade():
        raise NotImplementedError("the dropped options cannot be restored")
"""

BACKFILL = """
    import sqlalchemy as sa
    from alembic import op

    revision = "1655999df5e3"
    down_revision = "9e8c841d1a30"

    alerts = sa.table("alerts", sa.column("id"), sa.column("selector"))

    def upgrade():
        conn = op.get_bind()
        for row in conn.execute(alerts.select()):
            conn.execute(alerts.update().where(alerts.c.id == row.id).values(selector="first"))

    def downgrade():
        pass
"""


def _check(root: Path, code: str) -> list[Diagnostic]:
    result = run_check(CheckRequest(paths=(root,), cwd=root, extend_select=(code,), jobs=1))
    assert not result.internal_errors, result.internal_errors
    return [d for d in result.diagnostics if d.code == code]


def _options(rule: str, **values: bool) -> str:
    lines = [f"[tool.backlint.options.{rule}]"]
    lines += [f"{key} = {str(value).lower()}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


# BL901 -------------------------------------------------------------------------------


def test_bl901_reported_at_the_downgrade_name(tmp_path: Path) -> None:
    _write(tmp_path, {"migrations/versions/3f2a_add_user_email.py": ADD_EMAIL})
    [found] = _check(tmp_path, "BL901")
    assert (found.span.start.line, found.span.start.column) == (10, 5)
    assert (found.span.end.line, found.span.end.column) == (10, 14)
    assert found.message == (
        "`downgrade()` of revision `3f2a9c1d7b44` does nothing: the migration cannot be rolled back"
    )


def test_bl901_missing_downgrade_reported_at_line_1(tmp_path: Path) -> None:
    source = ADD_EMAIL.split("    def downgrade")[0]
    _write(tmp_path, {"alembic/versions/3f2a_add_user_email.py": source})
    [found] = _check(tmp_path, "BL901")
    assert found.span.start.line == 1
    assert found.message == "Alembic revision `3f2a9c1d7b44` has no `downgrade()`"


def test_bl901_one_line_bodies_and_docstring_only(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "migrations/versions/a.py": """
                from alembic import op
                revision = "aaaa"
                down_revision = None
                def upgrade(): op.create_table("t")
                def downgrade(): pass
            """,
            "migrations/versions/b.py": '''
                from alembic import op
                revision = "bbbb"
                down_revision = "aaaa"
                def upgrade():
                    op.create_table("u")
                def downgrade():
                    """Autogenerate found nothing to undo."""
            ''',
        },
    )
    assert len(_check(tmp_path, "BL901")) == 2


def test_bl901_revision_id_falls_back_to_the_file_name(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "migrations/versions/0007_add_index.py": """
                from alembic import op
                def upgrade():
                    op.create_index("ix", "t", ["c"])
                def downgrade():
                    pass
            """,
        },
    )
    [found] = _check(tmp_path, "BL901")
    assert "`0007_add_index`" in found.message


def test_bl901_raising_downgrade_only_with_forbid_irreversible(tmp_path: Path) -> None:
    _write(tmp_path, {"migrations/versions/e5c7_drop_options.py": RAISING})
    assert _check(tmp_path, "BL901") == []
    _write(
        tmp_path,
        {"pyproject.toml": _options("migration-without-rollback", **{"forbid-irreversible": True})},
    )
    [found] = _check(tmp_path, "BL901")
    assert "raises: the migration is declared irreversible" in found.message
    assert found.span.start.line == 9


def test_bl901_commented_pass_is_declared_irreversible(tmp_path: Path) -> None:
    explained = ADD_EMAIL.replace(
        "def downgrade():\n        pass",
        "def downgrade():\n        # The column is shared with the billing service.\n        pass",
    )
    todo = ADD_EMAIL.replace(
        "def downgrade():\n        pass", "def downgrade():\n        pass  # TODO drop it"
    )
    _write(
        tmp_path,
        {
            "migrations/versions/3f2a_add_email.py": explained,
            "migrations/versions/4a1b_add_email.py": todo,
        },
    )
    [found] = _check(tmp_path, "BL901")
    assert found.path.endswith("4a1b_add_email.py")  # a TODO explains nothing
    _write(
        tmp_path,
        {"pyproject.toml": _options("migration-without-rollback", **{"forbid-irreversible": True})},
    )
    messages = sorted(d.message for d in _check(tmp_path, "BL901"))
    assert "a comment says why: the migration is declared irreversible" in messages[0]
    assert "the migration cannot be rolled back" in messages[1]


def test_bl901_data_migrations_only_with_the_option(tmp_path: Path) -> None:
    _write(tmp_path, {"migrations/versions/1655_default_alert_selector.py": BACKFILL})
    assert _check(tmp_path, "BL901") == []
    _write(
        tmp_path,
        {
            "pyproject.toml": _options(
                "migration-without-rollback", **{"include-data-migrations": True}
            )
        },
    )
    assert len(_check(tmp_path, "BL901")) == 1


def test_bl901_data_work_through_local_helpers_and_sessions(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "migrations/versions/1093_default_email_templates.py": """
                import sqlalchemy as sa
                from alembic import op
                from sqlalchemy.orm import Session
                from app.incidents import service

                revision = "1093835a1051"
                down_revision = "a03403986a32"
                configs = sa.table("config", sa.column("key"), sa.column("value"))

                def set_config(key, value):
                    op.get_bind().execute(configs.insert().values(key=key, value=value))

                def upgrade():
                    set_config("password_reset_subject", "Reset your password")
                    session = Session(bind=op.get_bind())
                    service.create(db_session=session, name="Undetermined")
                    session.commit()

                def downgrade():
                    pass
            """,
        },
    )
    assert _check(tmp_path, "BL901") == []


def test_bl901_ddl_hidden_in_helpers_counts_as_schema(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "migrations/versions/7ce5_searchable.py": """
                from alembic import op
                from sqlalchemy_searchable import sql_expressions

                revision = "7ce5925f832b"
                down_revision = "1038c2174f5d"

                def upgrade():
                    op.execute(sql_expressions)

                def downgrade():
                    pass
            """,
            "migrations/versions/8a01_enum.py": """
                import sqlalchemy as sa
                from alembic import op

                revision = "8a01"
                down_revision = "7ce5925f832b"
                DDL = "CREATE EXTENSION IF NOT EXISTS pg_trgm"

                def upgrade():
                    op.execute("UPDATE t SET c = 1")
                    op.execute(sa.text(DDL))

                def downgrade():
                    pass
            """,
            "migrations/versions/8a02_create_all.py": """
                from alembic import op
                from app.models import metadata

                revision = "8a02"
                down_revision = "8a01"

                def upgrade():
                    bind = op.get_bind()
                    metadata.create_all(bind)

                def downgrade():
                    pass
            """,
        },
    )
    assert len(_check(tmp_path, "BL901")) == 3


def test_bl901_waiver_needs_a_reason(tmp_path: Path) -> None:
    waived = ADD_EMAIL.replace("def downgrade", "# backlint: irreversible\n    def downgrade")
    _write(tmp_path, {"migrations/versions/3f2a_add_user_email.py": waived})
    [found] = _check(tmp_path, "BL901")
    assert "does not count without a reason" in found.message
    reasoned = ADD_EMAIL.replace(
        "def downgrade", "# backlint: irreversible: the column is shared\n    def downgrade"
    )
    _write(tmp_path, {"migrations/versions/3f2a_add_user_email.py": reasoned})
    assert _check(tmp_path, "BL901") == []


def test_bl901_waiver_inside_a_string_does_not_count(tmp_path: Path) -> None:
    source = ADD_EMAIL.replace(
        'revision = "3f2a9c1d7b44"',
        'NOTE = "# backlint: irreversible because"\n    revision = "3f2a9c1d7b44"',
    )
    _write(tmp_path, {"migrations/versions/3f2a_add_user_email.py": source})
    assert len(_check(tmp_path, "BL901")) == 1


def test_bl901_revision_globs_option(tmp_path: Path) -> None:
    no_variables = """
        from alembic import op
        def upgrade():
            op.create_index("ix", "t", ["c"])
        def downgrade():
            pass
    """
    _write(tmp_path, {"db/revisions/0001_index.py": no_variables})
    assert _check(tmp_path, "BL901") == []
    _write(
        tmp_path,
        {
            "pyproject.toml": (
                "[tool.backlint.options.migration-without-rollback]\n"
                'revision-globs = ["**/db/revisions/"]\n'
            )
        },
    )
    assert len(_check(tmp_path, "BL901")) == 1


def test_bl901_leaves_non_revisions_alone(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "migrations/versions/__init__.py": "",
            "migrations/script.py.mako": (
                "revision = ${repr(up_revision)}\ndown_revision = ${repr(down_revision)}\n"
                "def upgrade():\n    ${upgrades if upgrades else 'pass'}\n"
                "def downgrade():\n    ${downgrades if downgrades else 'pass'}\n"
            ),
            "migrations/env.py": """
                from alembic import context
                def run_migrations_online():
                    context.run_migrations()
            """,
            "migrations/versions/helpers.py": """
                def upgrade_ids(rows):
                    return rows
            """,
            "tests/migrations/versions/3f2a_add_user_email.py": ADD_EMAIL,
            "migrations/versions/multidb.py": """
                revision = "c0de"
                down_revision = "b0de"
                def upgrade(engine_name):
                    globals()[f"upgrade_{engine_name}"]()
                def downgrade(engine_name):
                    globals()[f"downgrade_{engine_name}"]()
                def upgrade_main():
                    pass
                def downgrade_main():
                    pass
            """,
            "migrations/versions/shared.py": """
                from alembic import op
                from app.migration_tools import downgrade
                revision = "d0de"
                down_revision = "c0de"
                def upgrade():
                    op.create_table("t")
            """,
        },
    )
    assert _check(tmp_path, "BL901") == []


def test_bl901_empty_revision_without_downgrade_is_fine(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "migrations/versions/f011_placeholder.py": '''
                revision = "f011c050b9ba"
                down_revision = None
                def upgrade():
                    """Baseline."""
            ''',
        },
    )
    assert _check(tmp_path, "BL901") == []


def test_sql_change_reads_each_statement() -> None:
    assert sql_change("UPDATE t SET a = 1; DELETE FROM u") is Change.DATA
    assert sql_change("-- backfill\nINSERT INTO t VALUES (1)") is Change.DATA
    assert sql_change("UPDATE t SET a = 1; ALTER TABLE t DROP COLUMN b") is Change.SCHEMA
    assert sql_change("DO $$ BEGIN END $$") is Change.SCHEMA
    assert sql_change("  ") is Change.NONE


# BL902 -------------------------------------------------------------------------------

DJANGO_HEADER = """
    from django.db import migrations

    def backfill_totals(apps, schema_editor):
        pass

"""


def test_bl902_reported_at_the_call_with_its_forward_code(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "orders/migrations/0004_backfill.py": DJANGO_HEADER
            + """
    class Migration(migrations.Migration):
        operations = [
            migrations.RunPython(backfill_totals),
        ]
""",
        },
    )
    [found] = _check(tmp_path, "BL902")
    assert (found.span.start.line, found.span.start.column) == (9, 9)
    assert found.message == (
        "`RunPython(backfill_totals)` has no reverse code: this migration cannot be unapplied"
    )


def test_bl902_import_spellings(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "shop/migrations/0012_fill.py": """
                from django.db import migrations as m
                from django.db.migrations import RunSQL
                from django.db.migrations.operations import special

                def forwards(apps, schema_editor):
                    pass

                def make(name):
                    return forwards

                class Migration(m.Migration):
                    operations = [
                        m.RunPython(make("product")),
                        special.RunPython(lambda apps, editor: None, reverse_code=None),
                        RunSQL(sql=["UPDATE a SET b = 1"]),
                    ]
            """,
        },
    )
    messages = sorted(d.message for d in _check(tmp_path, "BL902"))
    assert messages == [
        "`RunPython(lambda ...)` has no reverse code: this migration cannot be unapplied",
        "`RunPython(make(...))` has no reverse code: this migration cannot be unapplied",
        "`RunSQL([...])` has no `reverse_sql`: this migration cannot be unapplied",
    ]


def test_bl902_leaves_reversible_and_unknown_calls_alone(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "orders/migrations/0005_ok.py": DJANGO_HEADER
            + """
    KWARGS = {"code": backfill_totals, "reverse_code": backfill_totals}

    class Migration(migrations.Migration):
        operations = [
            migrations.RunPython(**KWARGS),
            migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop),
            migrations.SeparateDatabaseAndState(
                database_operations=[
                    migrations.RunSQL(sql="CREATE INDEX i ON t (c)", reverse_sql="DROP INDEX i"),
                ],
            ),
        ]
""",
        },
    )
    assert _check(tmp_path, "BL902") == []


def test_bl902_squashed_and_waived_files(tmp_path: Path) -> None:
    body = """
    class Migration(migrations.Migration):
        replaces = [("orders", "0001_initial")]
        operations = [migrations.RunPython(backfill_totals)]
"""
    _write(
        tmp_path,
        {
            # A squash result: its operations are the originals' (named "squashed").
            "orders/migrations/0001_squashed_0004.py": DJANGO_HEADER + body,
            # An app rename replaces one migration: the only copy, still checked.
            "account/migrations/0013_auto.py": DJANGO_HEADER + body,
        },
    )
    [found] = _check(tmp_path, "BL902")
    assert found.path.endswith("0013_auto.py")
    waived = "# backlint: irreversible the old app is gone\n" + textwrap.dedent(
        DJANGO_HEADER + body
    ).lstrip("\n")
    (tmp_path / "account/migrations/0013_auto.py").write_text(waived, encoding="utf-8")
    assert _check(tmp_path, "BL902") == []


def test_bl902_skips_test_code(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "tests/migrations/0001_fixture.py": DJANGO_HEADER
            + """
    class Migration(migrations.Migration):
        operations = [migrations.RunPython(backfill_totals)]
""",
        },
    )
    assert _check(tmp_path, "BL902") == []


def test_bl902_migrations_replaced_by_a_squash_are_moot(tmp_path: Path) -> None:
    operation = """
    class Migration(migrations.Migration):
        operations = [migrations.RunPython(backfill_totals)]
"""
    _write(
        tmp_path,
        {
            # The originals, kept beside their squash until every database moved past it.
            "orders/migrations/0001_initial.py": DJANGO_HEADER + operation,
            "orders/migrations/0002_backfill.py": DJANGO_HEADER + operation,
            "orders/migrations/0001_squashed_0002.py": DJANGO_HEADER
            + """
    class Migration(migrations.Migration):
        replaces = [("orders", "0001_initial"), ("orders", "0002_backfill")]
        operations = [migrations.RunPython(backfill_totals)]
""",
            # Not replaced: the squash names 0002_backfill of its own folder only.
            "orders/migrations/0003_backfill.py": DJANGO_HEADER + operation,
            "billing/migrations/0002_backfill.py": DJANGO_HEADER + operation,
        },
    )
    found = sorted(d.path for d in _check(tmp_path, "BL902"))
    assert found == ["billing/migrations/0002_backfill.py", "orders/migrations/0003_backfill.py"]
