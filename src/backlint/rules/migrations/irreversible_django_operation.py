from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

import libcst as cst

from backlint.diagnostics import Applicability, Severity
from backlint.engine.context import FileContext
from backlint.index.names import dotted_name
from backlint.rules.base import Example, FileRule
from backlint.rules.fixes import NodeFix
from backlint.rules.migrations.common import (
    argument,
    find_waiver,
    has_splat,
    string_value,
    waiver_note,
)
from backlint.rules.syntax import is_none

if TYPE_CHECKING:
    from backlint.index.project import ProjectIndex

_DJANGO_MIGRATIONS = "django.db.migrations."
# Operation -> (keyword of its reverse argument, how the message names what is missing).
_REVERSE = {
    "RunPython": ("reverse_code", "reverse code"),
    "RunSQL": ("reverse_sql", "`reverse_sql`"),
}
_FORWARD = {"RunPython": "code", "RunSQL": "sql"}
_PREVIEW = 40


def _forward_label(value: cst.BaseExpression | None) -> str:
    """How the message shows the forward code: a function's name, the start of the SQL."""
    if value is None:
        return ""
    name = dotted_name(value)
    if name is not None:
        return name
    if isinstance(value, cst.Lambda):
        return "lambda ..."
    if isinstance(value, cst.Call):
        # A factory of forward functions: ``RunPython(migrate_fk_to_m2m("product"))``.
        factory = dotted_name(value.func)
        return "..." if factory is None else f"{factory}(...)"
    text = string_value(value)
    if text is not None:
        collapsed = " ".join(text.split())
        if len(collapsed) > _PREVIEW:
            collapsed = collapsed[:_PREVIEW].rstrip() + "…"
        return f'"{collapsed}"'
    if isinstance(value, (cst.List, cst.Tuple)):
        return "[...]"
    return "..."


def _replaced_count(statement: cst.BaseStatement) -> int | None:
    """How many migrations a ``Migration`` class says it ``replaces`` (None: no such list)."""
    if not isinstance(statement, cst.ClassDef):
        return None
    for inner in statement.body.body:
        if not isinstance(inner, cst.SimpleStatementLine):
            continue
        for small in inner.body:
            if (
                isinstance(small, cst.Assign)
                and any(
                    isinstance(target.target, cst.Name) and target.target.value == "replaces"
                    for target in small.targets
                )
                and isinstance(small.value, (cst.List, cst.Tuple))
            ):
                return len(small.value.elements)
    return None


def _is_squashed(module: cst.Module, relative: str) -> bool:
    """A ``squashmigrations`` result: it replaces several migrations, or says so in its name.

    Saleor's app renames ``replaces`` a single migration of another app: those files are
    the only copy of their operations and stay checked.
    """
    squashed_name = "squashed" in PurePosixPath(relative).stem
    for statement in module.body:
        count = _replaced_count(statement)
        if count is not None and (count >= 2 or squashed_name):
            return True
    return False


@dataclass(frozen=True)
class NotReplaced:
    """The migration is not in the ``replaces`` list of another migration of its folder.

    Checked in the project pass, where every file's ``replaces`` pairs are known. Only
    the migration's name is compared: a folder holds one app's migrations, whose label
    need not be the folder's name (Django's ``AppConfig.label``). A file that lists its
    own name replaces a migration of another app (an app rename), not itself.
    """

    path: str

    def holds(self, project: ProjectIndex) -> bool:
        folder, name = _folder_and_name(self.path)
        replacers = project.memo("BL902-replaced", lambda: _replaced_in_folders(project))
        return not any(other != self.path for other in replacers.get((folder, name), ()))


def _folder_and_name(path: str) -> tuple[str, str]:
    location = PurePosixPath(path)
    return str(location.parent), location.stem


def _replaced_in_folders(project: ProjectIndex) -> dict[tuple[str, str], list[str]]:
    """``(folder, migration name)`` → the files of that folder that replace it."""
    replaced: dict[tuple[str, str], list[str]] = {}
    for path, facts in project.files.items():
        folder = str(PurePosixPath(path).parent)
        for _, name in facts.replaces:
            replaced.setdefault((folder, name), []).append(path)
    return replaced


class IrreversibleDjangoOperation(FileRule):
    """
    ## What it does
    Flags a `RunPython` without reverse code (second positional argument or
    `reverse_code=`) and a `RunSQL` without `reverse_sql=` in Django migrations. The
    operations are recognised through the file's imports: `migrations.RunPython`,
    `from django.db.migrations import RunPython`, `operations.RunPython` and the
    other spellings that lead to `django.db.migrations`. Passing `None` as the reverse
    counts as missing, since that is what Django means by irreversible.

    Not flagged:
    - an explicit reverse, including `migrations.RunPython.noop` and
      `migrations.RunSQL.noop`, which say "nothing to undo" on purpose;
    - a call built with `*args`/`**kwargs`, whose arguments the file does not show;
    - squashed migrations and the migrations they replace: a migration listed in the
      `replaces` list of another migration of its folder is moot (Django runs the
      squash on new databases and keeps the originals only until every database has
      moved past them), and so is the squash itself (a `replaces` list of several
      migrations, or `squashed` in the file name): it copies the operations of the
      originals, and unapplying past a squash point means unapplying the app's whole
      early history;
    - a file with a `# backlint: irreversible <reason>` comment: the migration is the
      unit Django unapplies, so one waiver covers all of its operations. The reason
      is required; a bare `# backlint: irreversible` waives nothing.

    ## Why is this bad?
    `migrate app 0041` to roll back a bad deploy stops with `IrreversibleError` at the
    first operation that has no reverse, and every migration after it stays applied.
    Most data migrations have nothing to undo, but only the author knows that; without
    a reverse Django assumes the worst and blocks the rollback of the whole chain.

    ## Example
    ```python
    def backfill_totals(apps, schema_editor):
        ...

    class Migration(migrations.Migration):
        operations = [migrations.RunPython(backfill_totals)]
    ```

    Use instead:
    ```python
    class Migration(migrations.Migration):
        operations = [migrations.RunPython(backfill_totals, migrations.RunPython.noop)]
    ```

    ## How to fix
    Pass a function that undoes the forward code, or `migrations.RunPython.noop` when
    there is nothing to undo (a backfill of a column that the reverse migration drops
    anyway). For `RunSQL` pass `reverse_sql=` (SQL, or `migrations.RunSQL.noop`). If
    the operation really cannot be undone, add `# backlint: irreversible <reason>`.

    Each finding carries the `.noop` edit as a **display-only** fix: JSON output and
    editors show it, but `--fix` never applies it, not even with `--unsafe-fixes`.
    Declaring that a migration has nothing to undo is a decision about the data that a
    person must take; writing it for every operation would only silence the rule.

    Defaults. The rule is a warning, not an error like BL901: a missing reverse makes
    Django refuse a rollback loudly, while a do-nothing Alembic downgrade rolls back
    silently and wrongly. Unlike BL901 it also reports data migrations, because Django
    offers `RunPython.noop`, a one-word way to say "nothing to undo"; Alembic has no
    such marker. Each operation is reported on its own, since each needs its own
    reverse. The operation is recognised wherever it is built through
    `django.db.migrations` imports, so a helper module that returns `RunPython(fn)`
    is checked too. Calibrated on netbox, plane and saleor: every reported call was an
    operation Django would refuse to unapply; the squashed-migration exclusion comes
    from netbox, whose squashed files are generated copies. The replaced migrations
    joined it after a review of projects that keep the originals beside the squash:
    their findings were about files Django no longer runs on a new database. Which
    migrations a squash replaces is read from the files of the run, so a run over a
    few files (pre-commit) still reports an original whose squash it was not given.
    """

    code = "BL902"
    name = "irreversible-django-operation"
    summary = "A `RunPython`/`RunSQL` without reverse code makes the migration irreversible."
    fix_text = (
        "Pass reverse code (`migrations.RunPython.noop` / `migrations.RunSQL.noop` when "
        "there is nothing to undo), or add `# backlint: irreversible <reason>`."
    )
    severity = Severity.WARNING
    autofix = "display-only"
    tags = ("migrations", "reliability", "PQG-5")
    include_tests = False
    invalid = (
        # The display-only fix: `.noop` as the reverse, or in place of `None`.
        Example(
            """
            from django.db import migrations

            def fill(apps, schema_editor):
                pass

            class Migration(migrations.Migration):
                operations = [
                    migrations.RunPython(fill),
                    migrations.RunSQL("ANALYZE t", reverse_sql=None),
                ]
            """,
            path="orders/migrations/0006_fill.py",
            expect=2,
            fixed="""
            from django.db import migrations

            def fill(apps, schema_editor):
                pass

            class Migration(migrations.Migration):
                operations = [
                    migrations.RunPython(fill, reverse_code=migrations.RunPython.noop),
                    migrations.RunSQL("ANALYZE t", reverse_sql=migrations.RunSQL.noop),
                ]
            """,
        ),
        Example(
            """
            from django.db import migrations

            def backfill_totals(apps, schema_editor):
                Order = apps.get_model("orders", "Order")
                Order.objects.filter(total=None).update(total=0)

            class Migration(migrations.Migration):
                dependencies = [("orders", "0003_order_total")]
                operations = [migrations.RunPython(backfill_totals)]
            """,
            path="orders/migrations/0004_backfill.py",
            expect=1,
        ),
        Example(
            """
            from django.db import migrations

            class Migration(migrations.Migration):
                dependencies = [("orders", "0004_backfill")]
                operations = [
                    migrations.RunSQL(
                        "CREATE INDEX CONCURRENTLY orders_created_idx ON orders (created)"
                    ),
                    migrations.RunSQL("ANALYZE orders", reverse_sql=None),
                ]
            """,
            path="orders/migrations/0005_created_index.py",
            expect=2,
        ),
        Example(
            """
            from django.db import migrations
            from django.db.migrations import RunPython

            def forwards(apps, schema_editor):
                pass

            class Migration(migrations.Migration):
                dependencies = [("shop", "0011_product_slug")]
                operations = [RunPython(code=forwards)]
            """,
            path="shop/migrations/0012_fill_slugs.py",
            expect=1,
        ),
        Example(
            """
            # backlint: irreversible
            from django.db import migrations
            from django.db.migrations import operations

            def forwards(apps, schema_editor):
                pass

            class Migration(migrations.Migration):
                dependencies = [("shop", "0012_fill_slugs")]
                operations = [operations.RunPython(forwards)]
            """,
            path="shop/migrations/0013_merge_carts.py",
            expect=1,
        ),
        # An app rename: the file replaces the same-named migration of the old app, whose
        # folder is gone; it is the only copy of its operations.
        Example(
            """
            from django.db import migrations

            def fill(apps, schema_editor):
                pass

            class Migration(migrations.Migration):
                replaces = [("userprofile", "0004_fill")]
                operations = [migrations.RunPython(fill)]
            """,
            path="account/migrations/0004_fill.py",
            files=(
                (
                    "checkout/migrations/0002_squashed.py",
                    "class Migration:\n    replaces = [('checkout', '0004_fill')]\n",
                ),
            ),
            expect=1,
        ),
    )
    valid = (
        Example(
            """
            from django.db import migrations

            def backfill_totals(apps, schema_editor):
                pass

            class Migration(migrations.Migration):
                dependencies = [("orders", "0003_order_total")]
                operations = [
                    migrations.RunPython(backfill_totals, migrations.RunPython.noop),
                    migrations.RunPython(backfill_totals, reverse_code=backfill_totals),
                    migrations.RunSQL("ANALYZE orders", reverse_sql=migrations.RunSQL.noop),
                    migrations.RunSQL("CREATE INDEX i ON orders (created)", "DROP INDEX i"),
                ]
            """,
            path="orders/migrations/0004_backfill.py",
        ),
        Example(
            """
            # backlint: irreversible merges duplicate carts; the duplicates are gone
            from django.db import migrations

            def merge_carts(apps, schema_editor):
                pass

            class Migration(migrations.Migration):
                dependencies = [("checkout", "0007_cart_token")]
                operations = [migrations.RunPython(merge_carts)]
            """,
            path="checkout/migrations/0008_merge_carts.py",
        ),
        Example(
            """
            from django.db import migrations

            class Migration(migrations.Migration):
                replaces = [("dcim", "0131_consoleport_speed"), ("dcim", "0132_cable_length")]
                dependencies = [("dcim", "0130_sitegroup")]
                operations = [migrations.RunSQL("DROP INDEX IF EXISTS dcim_cable_length")]
            """,
            path="dcim/migrations/0131_squashed_0132.py",
        ),
        # Replaced by a squashed migration of the same folder: moot.
        Example(
            """
            from django.db import migrations

            def fill(apps, schema_editor):
                pass

            class Migration(migrations.Migration):
                dependencies = [("dcim", "0130_sitegroup")]
                operations = [migrations.RunPython(fill)]
            """,
            path="dcim/migrations/0131_fill.py",
            files=(
                (
                    "dcim/migrations/0131_squashed_0132.py",
                    "from django.db import migrations\n"
                    "class Migration(migrations.Migration):\n"
                    '    replaces = [("dcim", "0131_fill"), ("dcim", "0132_more")]\n'
                    "    operations = []\n",
                ),
            ),
        ),
        Example(
            """
            from myapp.migration_tools import RunPython

            def forwards(apps, schema_editor):
                pass

            OPERATIONS = [RunPython(forwards)]
            """,
            path="myapp/migrations/0002_data.py",
        ),
    )

    def applies_to(self, ctx: FileContext) -> bool:
        text = ctx.text
        return (
            ("RunPython" in text or "RunSQL" in text)
            and "migrations" in text
            and super().applies_to(ctx)
        )

    def begin_file(self, ctx: FileContext) -> None:
        super().begin_file(ctx)
        waiver = find_waiver(ctx.text)
        # The walk still runs on a waived or squashed file: nothing is reported there.
        self._skip = (waiver is not None and waiver.valid) or _is_squashed(ctx.tree, ctx.relative)
        self._note = waiver_note(waiver)

    def visit_Call(self, node: cst.Call) -> None:
        if self._skip or has_splat(node):
            return
        qualified = self.ctx.qualified_name(node.func)
        if qualified is None or not qualified.startswith(_DJANGO_MIGRATIONS):
            return
        operation = qualified.rsplit(".", 1)[-1]
        if operation not in _REVERSE:
            return
        keyword, missing = _REVERSE[operation]
        reverse = argument(node, 1, keyword)
        if reverse is not None and not is_none(reverse.value):
            return
        forward = argument(node, 0, _FORWARD[operation])
        label = _forward_label(forward.value if forward is not None else None)
        self.report(
            node,
            f"`{operation}({label})` has no {missing}: "
            f"this migration cannot be unapplied{self._note}",
            fix=self._noop_fix(node, keyword, reverse),
            conditions=(NotReplaced(self.ctx.path),),
        )

    def _noop_fix(self, node: cst.Call, keyword: str, reverse: cst.Arg | None) -> NodeFix | None:
        """The edit that declares "nothing to undo", shown but never applied: whether a
        no-op reverse is right is a decision about the data, not a mechanical change."""
        noop = f"{self.ctx.tree.code_for_node(node.func)}.noop"
        if reverse is not None:
            edit = self.replace(reverse.value, noop)  # ``reverse_sql=None``
        elif node.args:
            edit = self.insert_after(node.args[-1].value, f", {keyword}={noop}")
        else:
            return None
        return self.fix(
            f"Pass `{noop}` as the reverse", edit, applicability=Applicability.DISPLAY_ONLY
        )
