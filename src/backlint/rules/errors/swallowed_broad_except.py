from __future__ import annotations

from pathlib import PurePosixPath

import libcst as cst

from backlint.diagnostics import Severity
from backlint.engine.context import FileContext
from backlint.engine.walker import iter_descendants
from backlint.index.names import caught_types, dotted_name
from backlint.rules.base import Condition, Example, Option
from backlint.rules.errors.handler_rule import HandlerContext, SwallowRule, success_follows
from backlint.rules.errors.swallow import SWALLOW_OPTIONS, Unconfirmed

_BROAD = ("builtins.Exception", "builtins.BaseException")
# What a handler may do in a loop and still be going on to the next iteration.
_NEXT_ITERATION = frozenset({"logs", "passes", "continues"})
# Folders of code that does not run in the service: developer tools, scripts, load tests.
_TOOLING_FOLDERS = frozenset(
    {
        "scripts",
        "script",
        "bin",
        "dev",
        "tools",
        "devtools",
        "load_tests",
        "loadtests",
        "locust",
        "benchmarks",
        "examples",
        "docs",
    }
)


def tooling_path(relative: str) -> bool:
    """``scripts/fix.py``, ``dev/cli/cli.py``, ``.semgrep/rules/x.py``: not service code."""
    folders = PurePosixPath(relative).parts[:-1]
    return any(part in _TOOLING_FOLDERS or part.startswith(".") for part in folders)


def _mentions_none(annotation: cst.BaseExpression) -> bool:
    """``X | None``, ``Optional[X]``, ``Union[X, None]``, ``None``."""
    if isinstance(annotation, cst.Name):
        return annotation.value == "None"
    if isinstance(annotation, cst.BinaryOperation):
        return _mentions_none(annotation.left) or _mentions_none(annotation.right)
    if isinstance(annotation, cst.Subscript):
        head = (dotted_name(annotation.value) or "").rsplit(".", 1)[-1]
        if head == "Optional":
            return True
        return head == "Union" and any(
            isinstance(element.slice, cst.Index) and _mentions_none(element.slice.value)
            for element in annotation.slice
        )
    if isinstance(annotation, (cst.SimpleString, cst.ConcatenatedString)):
        text = annotation.evaluated_value if isinstance(annotation, cst.SimpleString) else None
        return isinstance(text, str) and ("None" in text or "Optional[" in text)
    return False


def _returns_a_value(statement: cst.BaseStatement | None) -> bool:
    """Whether ``statement`` is ``return <value>`` (not ``return None``)."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return False
    last = statement.body[-1]
    return (
        isinstance(last, cst.Return)
        and last.value is not None
        and not (isinstance(last.value, cst.Name) and last.value.value == "None")
    )


def _assigned_names(statement: cst.CSTNode) -> set[str] | None:
    """The names a simple assignment binds (``a = ...``, ``a: T = ...``); None for any
    other statement."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return None
    names: set[str] = set()
    for small in statement.body:
        if isinstance(small, cst.Assign):
            targets = [target.target for target in small.targets]
        elif isinstance(small, cst.AnnAssign) and small.value is not None:
            targets = [small.target]
        else:
            return None
        if not all(isinstance(target, cst.Name) for target in targets):
            return None
        names.update(target.value for target in targets if isinstance(target, cst.Name))
    return names


def _defaults_before(function: cst.FunctionDef, try_node: cst.Try) -> set[str]:
    """Names the function assigns before ``try_node`` (in source order, nested blocks
    included, nested functions not)."""
    found: set[str] = set()
    for node in iter_descendants(function.body, into_functions=False):
        if node is try_node:
            break
        assigned = _assigned_names(node) if isinstance(node, cst.SimpleStatementLine) else None
        found |= assigned or set()
    return found


def falls_back_to_defaults(context: HandlerContext) -> bool:
    """Whether the ``try`` only computes values whose defaults were set before it:
    ``version = None`` / ``try: version = cache.get(key)`` / ``except Exception: pass``.
    Keeping the default is the handling."""
    if context.try_node is None or context.function is None:
        return False
    computed: set[str] = set()
    for statement in context.try_node.body.body:
        names = _assigned_names(statement)
        if names is None:
            return False
        computed |= names
    return bool(computed) and computed <= _defaults_before(context.function, context.try_node)


def _returns_inside(try_node: cst.Try | None) -> bool:
    return try_node is not None and any(
        isinstance(node, cst.Return)
        for node in iter_descendants(try_node.body, into_functions=False)
    )


def migration_module(ctx: FileContext) -> bool:
    """A Django migration (in a ``migrations/`` folder, importing
    ``django.db.migrations``) or an Alembic revision (it binds ``down_revision``): its
    functions change data. A command that runs migrations is neither."""
    folders = PurePosixPath(ctx.relative).parts[:-1]
    django = "migrations" in folders and ctx.names.imports_from("django.db.migrations")
    return django or "down_revision" in ctx.bindings


def optional_result(context: HandlerContext) -> bool:
    """Whether ``None`` is the function's declared or evident "no result" value: the
    function gives its result from the ``try`` (or right after it) and ``None`` from the
    handler, or its return annotation includes ``None``."""
    function = context.function
    returns = function.returns if function is not None else None
    if (
        returns is not None
        and isinstance(returns.annotation, cst.Name)
        and returns.annotation.value == "None"
    ):
        return False
    body = context.try_node.body.body if context.try_node is not None else ()
    last = body[-1] if body else None
    return (
        (isinstance(last, cst.BaseStatement) and _returns_a_value(last))
        or _returns_a_value(context.following)
        or (returns is not None and _mentions_none(returns.annotation))
    )


class SwallowedBroadExcept(SwallowRule):
    """
    ## What it does
    Flags `except Exception` or `except BaseException` (alone or inside a tuple) whose
    body only swallows the error: it passes, continues, breaks, returns `None`, or only
    logs, prints or reports it (`logger.exception(...)`, `sentry_sdk.capture_exception()`).

    Loggers are recognised through imports: the `logging` module, `logging.getLogger()`,
    structlog and loguru, names listed in `logger-names` (such as `logger` or
    `self.log`), and loggers imported from another module of the project, which are
    resolved through that module's bindings.

    Left alone, because there the handler is the right thing to do or the failure is
    reported all the same:

    - shutdown and cleanup functions (`__exit__`, `__del__`, `close`, `shutdown`,
      `cleanup`, `stop`, `cancel_all_tasks`, ...): raising there would stop the rest of
      the cleanup or replace the error on its way; and functions whose name says they
      swallow (`safe_*`, `try_*`, `*_or_none`). Both are globs in `allow-in-functions`;
    - a handler in a loop that only logs, passes or continues (`allow-in-loop`): in a
      poll, worker, supervisor or batch loop, going on to the next iteration is the
      handling. A handler that returns or breaks out of the loop is still reported;
    - a `try` followed directly by a `raise`, an `abort(...)`/`sys.exit(...)`, or a
      `return` of an error result (`return False`, `return {"error": ...}`,
      `return JSONResponse(..., status_code=500)`, `return error_response`,
      `return body, 503`): the handler falls through to it;
    - a handler that returns `None` (after logging, or not) in a function whose `try`
      returns the result, or whose return annotation includes `None`: `None` is the
      function's "no result" answer, which its callers check;
    - a `try` that only assigns values whose defaults the function set before it
      (`version = None`, then `try: version = cache.get(key)`): keeping the default is
      the handling;
    - a `try` inside a `finally:` or another `except` body;
    - test code, and code that does not run in the service: files under `scripts/`,
      `bin/`, `dev/`, `tools/`, `load_tests/`, `benchmarks/`, `examples/`, `docs/` and
      hidden folders.

    The other handlers are reported with high confidence only where the code shows
    the harm:

    - in a data migration (a function of a Django migration in a `migrations/` folder,
      or of an Alembic revision): the migration is recorded as applied although its
      data change failed;
    - when the statement right after the `try` reports success (`return True`,
      `return True, None`, `return {"success": True}`, a response with a 2xx status)
      and the `try` itself returns nothing: the failure is reported to the caller as a
      success.

    Every other swallowing handler is reported with low confidence, shown only with
    `include-low-confidence`: on real backends most of them are deliberate best-effort
    steps (a notification, a metric, a plugin call that must not break the main flow),
    which only their authors can tell from oversights.

    ## Why is this bad?
    The caller carries on as if the operation had succeeded. Logging is not handling:
    the log line is written, and the order is still marked paid.

    ## Example
    ```python
    def mark_paid(order) -> bool:
        try:
            charge(order)
        except Exception as error:
            logger.error("charge failed: %s", error)
        return True
    ```

    Use instead:
    ```python
    def mark_paid(order) -> None:
        try:
            charge(order)
        except Exception as error:
            raise PaymentFailed(order.id) from error
    ```

    ## How to fix
    Re-raise, translated into a domain error (`raise PaymentFailed(...) from error`),
    or return an explicit error result the caller must deal with.
    """

    code = "BL202"
    name = "swallowed-broad-except"
    summary = "`except Exception` only logs or ignores the error instead of handling it."
    fix_text = "Re-raise (`raise DomainError(...) from e`) or translate into an error result."
    severity = Severity.WARNING
    # Below the precision bar on code it was not tuned on (docs/precision.md): it runs
    # when selected by its code or name, or with `preview = true`.
    default_enabled = False
    preview = True
    tags = ("reliability", "AP-PY03", "PQG-6")
    options = (
        *SWALLOW_OPTIONS,
        Option(
            "allow-in-loop",
            True,
            "Accept a handler inside a loop that only logs, passes or continues: in a poll, "
            "worker or batch loop, going on to the next iteration is the handling.",
        ),
    )
    invalid = (
        # A data migration: recorded as applied although it changed nothing.
        Example(
            """
            from django.db import migrations

            def backfill(apps, schema_editor):
                Order = apps.get_model("shop", "Order")
                try:
                    Order.objects.update(total=0)
                except Exception as error:
                    print(error)

            class Migration(migrations.Migration):
                operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
            """,
            path="shop/migrations/0002_backfill.py",
        ),
        Example(
            """
            import logging
            from alembic import op
            log = logging.getLogger(__name__)
            revision = "0007"
            down_revision = "0006"

            def upgrade():
                try:
                    op.execute("UPDATE users SET plan = 'free'")
                except Exception:
                    log.exception("backfill failed")
            """,
            path="migrations/versions/0007_plan.py",
        ),
        # The caller is told the save worked.
        """
        def save(record) -> bool:
            try:
                store(record)
            except Exception as error:
                log.error("save failed: %s", error)
            return True
        """,
        """
        def validate_upload(data):
            try:
                check_magic_bytes(data)
            except (ValueError, Exception):
                pass
            return True, None
        """,
        """
        def delete_item(item_id):
            try:
                repo.delete(item_id)
            except Exception:
                logger.warning("delete failed")
            return JSONResponse({"deleted": item_id}, status_code=200)
        """,
        # Low confidence, reported with `include-low-confidence`: log-only handlers whose
        # harm the code does not show.
        Example(
            """
            import logging
            logger = logging.getLogger(__name__)
            try:
                charge()
            except Exception as e:
                logger.error("x %s", e)
            """,
            files=(("pyproject.toml", "[tool.backlint]\ninclude-low-confidence = true\n"),),
        ),
        Example(
            """
            from app.core.log import logger
            def sync():
                try:
                    pull()
                except Exception:
                    logger.warning("sync failed")
            """,
            files=(
                ("app/core/log.py", "import logging\nlogger = logging.getLogger('app')\n"),
                ("pyproject.toml", "[tool.backlint]\ninclude-low-confidence = true\n"),
            ),
        ),
        Example(
            """
            from loguru import logger
            try:
                pull()
            except BaseException:
                logger.exception("failed")
            """,
            files=(("pyproject.toml", "[tool.backlint]\ninclude-low-confidence = true\n"),),
        ),
        # Returning out of the loop abandons the remaining items.
        Example(
            """
            def sync_all(items):
                for item in items:
                    try:
                        push(item)
                    except Exception:
                        return None
            """,
            files=(("pyproject.toml", "[tool.backlint]\ninclude-low-confidence = true\n"),),
        ),
        # `-> None`: returning None is not an answer the caller checks.
        Example(
            """
            def publish(event) -> None:
                try:
                    bus.send(event)
                except Exception:
                    log.warning("publish failed")
                    return None
                audit(event)
            """,
            files=(("pyproject.toml", "[tool.backlint]\ninclude-low-confidence = true\n"),),
        ),
    )
    valid = (
        """
        try:
            charge()
        except Exception:
            logger.exception("boom")
            raise
        """,
        """
        try:
            charge()
        except Exception as e:
            raise PaymentFailed() from e
        """,
        """
        try:
            validate(d)
        except Exception:
            errors["base"] = "unknown"
        """,
        """
        import logging
        log = logging.getLogger(__name__)
        def supervise():
            while True:
                try:
                    step()
                except Exception:
                    log.exception("step failed, continuing")
        """,
        """
        def save(path, data):
            try:
                write(path, data)
            except OSError:
                try:
                    remove(path)
                except Exception:
                    pass
                raise
        """,
        """
        def replace(old, new):
            try:
                delete(old)
            except Exception:
                log.warning("could not delete %s", old)
            raise Rejected(new)
        """,
        """
        def upload(f):
            try:
                store(f)
            finally:
                try:
                    cleanup(f)
                except Exception:
                    log.warning("cleanup failed")
        """,
        # Shutdown and cleanup hooks.
        """
        class Worker:
            def stop(self):
                try:
                    self.consumer.close()
                except Exception:
                    log.warning("consumer did not close")

            async def _cleanup_connections(self):
                try:
                    await self.pool.dispose()
                except Exception:
                    pass

            def cancel_all_tasks(self):
                try:
                    self.scheduler.cancel()
                except Exception:
                    log.exception("cancel failed")
        """,
        # Batch and poll loops: the next item or the next poll is the handling.
        """
        def import_all(rows):
            for row in rows:
                try:
                    create(row)
                except Exception as error:
                    log.error("row %s skipped: %s", row, error)

        def poll():
            while True:
                try:
                    consume()
                except Exception:
                    log.warning("poll failed, retrying")
                sleep(5)
        """,
        # The code right after the handler reports the failure.
        """
        def handler(request):
            try:
                return render(request)
            except Exception:
                log.exception("render failed")
            return JSONResponse({"detail": "unavailable"}, status_code=503)

        def view():
            try:
                return load()
            except Exception:
                log.exception("load failed")
            abort(500)

        def saved(record):
            try:
                store(record)
                return True
            except Exception:
                log.exception("store failed")
            return False
        """,
        # Nothing shows the harm: low confidence, hidden unless `include-low-confidence`.
        """
        import logging
        log = logging.getLogger(__name__)
        def notify(user):
            try:
                mailer.send(user.email)
            except Exception:
                log.exception("welcome mail failed")

        def refresh(cache):
            try:
                cache.clear()
            except Exception as error:
                log.warning("cache not cleared: %s", error)
        """,
        Example(
            """
            def track(event):
                try:
                    analytics.send(event)
                except Exception:
                    pass
            """,
            path="scripts/backfill.py",
        ),
        # A command that runs the migrations is no migration.
        Example(
            """
            from alembic import command

            def upgrade_database(config):
                try:
                    command.upgrade(config, "head")
                except Exception as error:
                    print(error)
            """,
            path="app/cli.py",
        ),
        # A fallback: the default set before the `try` stays, also in a migration.
        Example(
            """
            from django.db import migrations

            def activate(apps, schema_editor):
                version = None
                try:
                    version = cache.get("config_version")
                except Exception:
                    pass
                mark_active(version)
            """,
            path="core/migrations/0019_active.py",
        ),
        # A check the handler skips: the `try` gives its own verdict.
        """
        def validate(data):
            try:
                text = data.decode("utf-8")
                if "<script" in text:
                    return False, "suspicious content"
            except Exception:
                pass  # not text, which is fine
            return True, None
        """,
        # `None` is the function's "no result": parsers, lookups.
        """
        def parse_id(value):
            try:
                return int(value)
            except Exception:
                return None

        def find_platform(url: str) -> str | None:
            try:
                host = urlparse(url).hostname
            except Exception:
                log.debug("bad url %s", url)
                return None
            return PLATFORMS.get(host)
        """,
        Example(
            """
            def test_delete():
                try:
                    repo.delete(1)
                except Exception:
                    pass
            """,
            path="tests/test_repo.py",
        ),
        Example(
            """
            from app.core.metrics import counter
            def sync():
                try:
                    pull()
                except Exception:
                    counter.error("sync")
            """,
            files=(("app/core/metrics.py", "counter = Counter()\n"),),
        ),
    )

    def applies_to(self, ctx: FileContext) -> bool:
        return super().applies_to(ctx) and not tooling_path(ctx.relative)

    def begin_file(self, ctx: FileContext) -> None:
        super().begin_file(ctx)
        self.in_migration = migration_module(ctx)

    def harm(self, context: HandlerContext) -> str | None:
        """What the code shows the swallowed failure does, when it shows it."""
        if self.in_migration and context.function is not None:
            return "the migration is recorded as applied although its data change failed"
        # A ``try`` that returns its own verdict (a check that may ``return False``)
        # ends in a success return only for "nothing found".
        if success_follows(context.following) and not _returns_inside(context.try_node):
            return "the code right after the handler reports success"
        return None

    def rating(self, context: HandlerContext) -> tuple[Condition, ...]:
        return () if self.harm(context) is not None else (Unconfirmed(),)

    def accepted(self, context: HandlerContext) -> bool:
        actions = frozenset(context.verdict.actions)
        if context.in_loop and self.option("allow-in-loop") and actions <= _NEXT_ITERATION:
            return True
        if actions <= {"logs", "passes"} and falls_back_to_defaults(context):
            return True
        return (
            "returns None" in actions
            and actions <= {"logs", "returns None"}
            and optional_result(context)
        )

    def caught(self, node: cst.ExceptHandler) -> str | None:
        for element in caught_types(node):
            qualified = self.ctx.qualified_name(element)
            if qualified in _BROAD:
                return qualified.split(".", 1)[1]
        return None

    def message(self, caught: str, context: HandlerContext) -> str:
        verdict = context.verdict
        # ``return None`` is often the function's "no result" value: say what is lost, and
        # point at the specific exception, which is the usual fix there.
        consequence = self.harm(context) or (
            "callers cannot tell a failure from 'no result'; catch the specific exception"
            if "returns None" in verdict.actions
            else "the caller never learns the operation failed"
        )
        return (
            f"`except {caught}` swallows the error: the handler only {verdict.describe()}; "
            f"{consequence}"
        )
