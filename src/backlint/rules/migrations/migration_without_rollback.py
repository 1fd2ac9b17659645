from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import PurePosixPath

import libcst as cst
import pathspec

from backlint.diagnostics import Severity, Span
from backlint.engine.context import FileContext
from backlint.rules.base import Example, FileRule, Option
from backlint.rules.migrations.alembic_upgrade import Change, upgrade_change
from backlint.rules.migrations.common import (
    explains_itself,
    find_waiver,
    is_noop,
    module_assignments,
    raises_unconditionally,
    string_value,
    waiver_note,
)

_DEFAULT_GLOBS = ("**/alembic/versions/", "**/migrations/versions/")


@functools.lru_cache(maxsize=8)
def _spec(globs: tuple[str, ...]) -> pathspec.GitIgnoreSpec:
    return pathspec.GitIgnoreSpec.from_lines(globs)


@dataclass(frozen=True)
class _Revision:
    """The module-level parts of an Alembic revision script that BL901 looks at."""

    revision: str | None  # the ``revision = "..."`` value
    has_revision_variables: bool  # both ``revision`` and ``down_revision`` are assigned
    upgrade: cst.FunctionDef | None
    downgrade: cst.FunctionDef | None
    downgrade_elsewhere: bool  # ``downgrade`` bound otherwise: imported, assigned, conditional


def _defines_downgrade(statement: cst.BaseStatement) -> bool:
    """A ``def downgrade`` nested in a top-level ``if``/``try`` (a conditional definition)."""
    if isinstance(statement, (cst.If, cst.Try)):
        return any(
            isinstance(inner, cst.FunctionDef) and inner.name.value == "downgrade"
            for inner in statement.body.body
        )
    return False


def _read_revision(module: cst.Module, ctx: FileContext) -> _Revision:
    functions: dict[str, cst.FunctionDef] = {}
    variables: dict[str, cst.BaseExpression | None] = {}
    conditional = False
    for statement in module.body:
        if isinstance(statement, cst.FunctionDef):
            functions[statement.name.value] = statement  # the last definition wins
        else:
            variables.update(module_assignments(statement))
            conditional = conditional or _defines_downgrade(statement)
    value = variables.get("revision")
    revision = string_value(value) if value is not None else None
    return _Revision(
        revision=revision,
        has_revision_variables="revision" in variables and "down_revision" in variables,
        upgrade=functions.get("upgrade"),
        downgrade=functions.get("downgrade"),
        downgrade_elsewhere=(conditional or "downgrade" in variables or "downgrade" in ctx.names),
    )


class MigrationWithoutRollback(FileRule):
    """
    ## What it does
    Flags an Alembic revision script that cannot be rolled back: it has no `downgrade()`,
    or its `downgrade()` does nothing (its body, after an optional docstring, is only
    `pass` or `...`). A file is a revision script when it sits under `alembic/versions/`
    or `migrations/versions/` (option `revision-globs`), or when it assigns both
    `revision` and `down_revision` at module level; either way it must define
    `upgrade()`.

    Not flagged:
    - revisions whose `upgrade()` does nothing either (merge revisions with a tuple
      `down_revision`, empty placeholders);
    - a `downgrade()` that raises (`raise NotImplementedError("...")`), or whose `pass`
      comes with a comment that says why (`# No downgrade: the backfilled rows keep
      the new format`): the revision says it is irreversible, which is a decision, not
      an oversight. Alembic's `# ### commands auto generated ...` markers and `TODO`
      notes explain nothing and do not count. Set `forbid-irreversible = true` to
      report those as well;
    - a file with a `# backlint: irreversible <reason>` comment, anywhere in it. The
      reason is required: a bare `# backlint: irreversible` does not waive anything
      and the finding says so;
    - a `pass` downgrade after an `upgrade()` that only changes rows (see below).

    ## Why is this bad?
    A deploy that goes wrong is rolled back with `alembic downgrade -1`. When the
    downgrade is missing Alembic fails halfway through the rollback; when it is `pass`
    the rollback "succeeds" but leaves the new columns, tables and indexes behind, so
    the previous release runs against a schema it does not know and the next
    `alembic upgrade` fails on objects that already exist. Autogenerate writes `pass`
    whenever it has nothing to emit, so the empty body is easy to commit unnoticed.

    ## Example
    ```python
    revision = "3f2a9c1d7b44"
    down_revision = "a1b2c3d4e5f6"

    def upgrade():
        op.add_column("user", sa.Column("email", sa.String(255)))

    def downgrade():
        pass
    ```

    Use instead:
    ```python
    def downgrade():
        op.drop_column("user", "email")
    ```

    ## How to fix
    Write the `downgrade()` that undoes `upgrade()` in reverse order. If the change
    truly cannot be undone (a dropped column's data, a PostgreSQL enum value), make
    `downgrade()` raise with the reason, or put `# backlint: irreversible <reason>` in
    the file, so whoever rolls back learns it before production does. A finding at
    line 1 (no `downgrade()` at all) is silenced with the waiver or with a file-level
    `# backlint: noqa: BL901`, since line 1 is usually a docstring.

    Calibration. On the five Alembic projects used for calibration about half of the
    `pass` downgrades followed data migrations (backfills, seed rows, re-hashing,
    re-encrypting values): rolling those back leaves the schema the previous revision
    expects, so they are not reported unless `include-data-migrations = true`. An
    `upgrade()` counts as data-only when everything it does, including the functions of
    the same file it calls, is row work: `op.execute` of `UPDATE`/`INSERT`/`DELETE`
    SQL or of a Core `update()`/`insert()` statement, `op.bulk_insert`, `execute` on a
    connection, ORM session work. Anything else that the file cannot see through (SQL
    held in an imported name, a connection handed to an imported helper such as
    `sync_trigger(conn, ...)`) counts as a schema change, so doubt is reported.
    A comment in a `pass` downgrade joined the declared irreversibility after a review
    of polar, whose migrations explain in the body why there is nothing to undo.
    """

    code = "BL901"
    name = "migration-without-rollback"
    summary = "An Alembic revision has no working `downgrade()`, so it cannot be rolled back."
    fix_text = (
        "Implement `downgrade()` so it reverses `upgrade()`; if the migration is truly "
        "irreversible, raise with a reason."
    )
    severity = Severity.ERROR
    # Below the precision bar on code it was not tuned on (docs/precision.md): it runs
    # when selected by its code or name, or with `preview = true`.
    default_enabled = False
    preview = True
    tags = ("migrations", "reliability", "PQG-5")
    include_tests = False
    options = (
        Option(
            "revision-globs",
            _DEFAULT_GLOBS,
            "Gitignore-style globs of the directories that hold Alembic revision scripts "
            "(files elsewhere count when they assign `revision` and `down_revision`).",
        ),
        Option(
            "forbid-irreversible",
            False,
            "Also report a `downgrade()` that raises, i.e. a revision declared irreversible.",
        ),
        Option(
            "include-data-migrations",
            False,
            "Also report a do-nothing `downgrade()` after an `upgrade()` that only changes "
            "rows (backfills, seed data).",
        ),
    )
    invalid = (
        Example(
            """
            import sqlalchemy as sa
            from alembic import op

            revision = "3f2a9c1d7b44"
            down_revision = "a1b2c3d4e5f6"

            def upgrade():
                op.add_column("user", sa.Column("email", sa.String(255)))

            def downgrade():
                pass
            """,
            path="migrations/versions/3f2a_add_user_email.py",
            expect=1,
        ),
        Example(
            '''
            """Add the orders table."""
            import sqlalchemy as sa
            from alembic import op

            revision = "9b1e0c2f3a77"
            down_revision = "3f2a9c1d7b44"

            def upgrade():
                op.create_table("orders", sa.Column("id", sa.Integer, primary_key=True))
            ''',
            path="app/alembic/versions/9b1e_add_orders.py",
            expect=1,
        ),
        Example(
            '''
            from alembic import op

            revision: str = "c0ffee123456"
            down_revision: str | None = "9b1e0c2f3a77"

            def upgrade() -> None:
                op.create_index("ix_orders_created", "orders", ["created_at"])

            def downgrade() -> None:
                """Nothing to do."""
                ...
            ''',
            path="src/shop/database/revisions/versions/2024-05-02_c0ffee123456.py",
            expect=1,
        ),
        # Alembic's own markers explain nothing.
        Example(
            """
            from alembic import op

            revision = "bdaeabba3e53"
            down_revision = "c0ffee123456"

            def upgrade():
                # ### commands auto generated by Alembic - please adjust! ###
                op.drop_column("signal_instance", "search_vector")
                # ### end Alembic commands ###

            def downgrade():
                # ### commands auto generated by Alembic - please adjust! ###
                pass  # TODO restore the column
                # ### end Alembic commands ###
            """,
            path="migrations/versions/bdae_drop_search_vector.py",
            expect=1,
        ),
        Example(
            """
            from alembic import op

            revision = "4e57f5b1f3f3"
            down_revision = "c0ffee123456"

            def upgrade():
                op.execute("ALTER TYPE authmethod ADD VALUE 'OIDC'")

            # backlint: irreversible
            def downgrade():
                pass
            """,
            path="migrations/versions/4e57_add_oidc_auth_method.py",
            expect=1,
        ),
        Example(
            """
            import sqlalchemy as sa
            from alembic import op
            from sqlalchemy_searchable import sync_trigger

            revision = "7db13bf5c5d7"
            down_revision = "4e57f5b1f3f3"

            def upgrade():
                conn = op.get_bind()
                table = sa.Table("tag", sa.MetaData(), autoload_with=conn)
                sync_trigger(conn, table, "search_vector", ["name"])

            def downgrade():
                pass
            """,
            path="migrations/versions/7db1_tag_search_trigger.py",
            expect=1,
        ),
    )
    valid = (
        Example(
            """
            import sqlalchemy as sa
            from alembic import op

            revision = "3f2a9c1d7b44"
            down_revision = "a1b2c3d4e5f6"

            def upgrade():
                op.add_column("user", sa.Column("email", sa.String(255)))

            def downgrade():
                op.drop_column("user", "email")
            """,
            path="migrations/versions/3f2a_add_user_email.py",
        ),
        # A comment says why there is nothing to undo: declared irreversible.
        Example(
            """
            from alembic import op

            revision = "e7118c4ae5d8"
            down_revision = "c0ffee123456"

            def upgrade():
                op.execute("CREATE OR REPLACE FUNCTION customers_search_vector() ...")

            def downgrade() -> None:
                # No downgrade: the backfilled rows would keep the new tokenization.
                pass
            """,
            path="migrations/versions/e711_tokenize_emails.py",
        ),
        Example(
            """
            revision = "89bc7873a3e0"
            down_revision = ("0ec979123ba4", "d7d747033183")

            def upgrade():
                pass

            def downgrade():
                pass
            """,
            path="migrations/versions/89bc_merge_heads.py",
        ),
        Example(
            """
            from alembic import op

            revision = "e5c7a4e2df4d"
            down_revision = "98af61feea92"

            def upgrade():
                op.drop_column("data_sources", "options")

            def downgrade():
                raise NotImplementedError("the dropped options cannot be restored")
            """,
            path="migrations/versions/e5c7_drop_options.py",
        ),
        Example(
            """
            from alembic import op

            revision = "4e57f5b1f3f3"
            down_revision = "c0ffee123456"

            def upgrade():
                op.execute("ALTER TYPE authmethod ADD VALUE 'OIDC'")

            # backlint: irreversible PostgreSQL cannot drop an enum value
            def downgrade():
                pass
            """,
            path="migrations/versions/4e57_add_oidc_auth_method.py",
        ),
        Example(
            """
            from alembic import op

            revision = "1655999df5e3"
            down_revision = "9e8c841d1a30"

            def upgrade():
                op.execute("UPDATE alerts SET selector = 'first' WHERE selector IS NULL")

            def downgrade():
                pass
            """,
            path="migrations/versions/1655_default_alert_selector.py",
        ),
        Example(
            """
            from alembic import context

            def run_migrations_online():
                with context.begin_transaction():
                    context.run_migrations()

            run_migrations_online()
            """,
            path="migrations/env.py",
        ),
        Example(
            """
            def upgrade(plugin):
                plugin.install()

            def downgrade(plugin):
                pass
            """,
            path="app/services/plugins.py",
        ),
    )

    def applies_to(self, ctx: FileContext) -> bool:
        # A revision script defines ``upgrade()``: skip the other files before the walk.
        return "upgrade" in ctx.text and super().applies_to(ctx)

    def begin_file(self, ctx: FileContext) -> None:
        super().begin_file(ctx)
        self._target: cst.FunctionDef | None = None
        self._message = ""
        self._missing = ""
        revision = _read_revision(ctx.tree, ctx)
        if revision.upgrade is None or not self._is_revision_file(revision):
            return
        self._judge(revision)

    def _is_revision_file(self, revision: _Revision) -> bool:
        if revision.has_revision_variables:
            return True
        return _spec(self.str_list_option("revision-globs")).match_file(self.ctx.relative)

    def _judge(self, revision: _Revision) -> None:
        """Decide the file's finding; the hooks only place it."""
        upgrade = revision.upgrade
        assert upgrade is not None
        waiver = find_waiver(self.ctx.text)
        if (waiver is not None and waiver.valid) or is_noop(upgrade):
            return
        label = revision.revision or PurePosixPath(self.ctx.relative).stem
        note = waiver_note(waiver)
        downgrade = revision.downgrade
        if downgrade is None:
            if not revision.downgrade_elsewhere:
                self._missing = f"Alembic revision `{label}` has no `downgrade()`{note}"
            return
        if is_noop(downgrade) and explains_itself(downgrade):
            if self.option("forbid-irreversible"):
                self._target = downgrade
                self._message = (
                    f"`downgrade()` of revision `{label}` does nothing, and a comment says "
                    f"why: the migration is declared irreversible{note}"
                )
        elif is_noop(downgrade):
            if self.option("include-data-migrations") or not self._data_only(upgrade):
                self._target = downgrade
                self._message = (
                    f"`downgrade()` of revision `{label}` does nothing: "
                    f"the migration cannot be rolled back{note}"
                )
        elif self.option("forbid-irreversible") and raises_unconditionally(downgrade):
            self._target = downgrade
            self._message = (
                f"`downgrade()` of revision `{label}` raises: "
                f"the migration is declared irreversible{note}"
            )

    def _data_only(self, upgrade: cst.FunctionDef) -> bool:
        return upgrade_change(upgrade, self.ctx.tree, self.ctx.names) is Change.DATA

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node is self._target:
            self.report(node.name, self._message)

    def end_file(self) -> None:
        if self._missing:
            self.report_span(Span.at_line_start(1), self._missing)
