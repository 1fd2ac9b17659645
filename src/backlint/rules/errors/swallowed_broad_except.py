from __future__ import annotations

import libcst as cst

from backlint.diagnostics import Severity
from backlint.index.names import caught_types
from backlint.rules.base import Example
from backlint.rules.errors.handler_rule import SwallowRule
from backlint.rules.errors.swallow import Swallow

_BROAD = ("builtins.Exception", "builtins.BaseException")


class SwallowedBroadExcept(SwallowRule):
    """
    ## What it does
    Flags `except Exception` or `except BaseException` (alone or inside a tuple) whose
    body only swallows the error: it passes, continues, breaks, returns `None`, or only
    logs, prints or reports it (`logger.exception(...)`, `sentry_sdk.capture_exception()`).

    Left alone, as for BL201: cleanup functions, a `try` inside a `finally:` or another
    `except` body, a `try` followed directly by `raise`, and test code.

    Loggers are recognised through imports: the `logging` module, `logging.getLogger()`,
    structlog and loguru, names listed in `logger-names` (such as `logger` or
    `self.log`), and loggers imported from another module of the project, which are
    resolved through that module's bindings.

    ## Why is this bad?
    The caller carries on as if the operation had succeeded. Logging is not handling:
    the log line is written, and the order is still marked paid. Unlike ruff's BLE001,
    a handler that logs with a traceback is still flagged, because the failure is
    still hidden from the code that needs to react to it.

    ## Example
    ```python
    try:
        charge(order)
    except Exception as error:
        logger.error("charge failed: %s", error)
    ```

    Use instead:
    ```python
    try:
        charge(order)
    except Exception as error:
        raise PaymentFailed(order.id) from error
    ```

    ## How to fix
    Re-raise, translated into a domain error (`raise PaymentFailed(...) from error`),
    or return an explicit error result the caller must deal with. A supervisor loop
    that must keep running and logs with a traceback is accepted
    (`allow-logged-in-loop`).
    """

    code = "BL202"
    name = "swallowed-broad-except"
    summary = "`except Exception` only logs or ignores the error instead of handling it."
    fix_text = "Re-raise (`raise DomainError(...) from e`) or translate into an error result."
    severity = Severity.WARNING
    tags = ("reliability", "AP-PY03")
    invalid = (
        """
        import logging
        logger = logging.getLogger(__name__)
        try:
            charge()
        except Exception as e:
            logger.error("x %s", e)
        """,
        """
        def sync():
            try:
                pull()
            except (ValueError, Exception):
                return None
        """,
        Example(
            """
            from app.core.log import logger
            def sync():
                try:
                    pull()
                except Exception:
                    logger.warning("sync failed")
            """,
            files=(("app/core/log.py", "import logging\nlogger = logging.getLogger('app')\n"),),
        ),
        """
        from loguru import logger
        try:
            pull()
        except BaseException:
            logger.exception("failed")
        """,
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

    def caught(self, node: cst.ExceptHandler) -> str | None:
        for element in caught_types(node):
            qualified = self.ctx.qualified_name(element)
            if qualified in _BROAD:
                return qualified.split(".", 1)[1]
        return None

    def message(self, caught: str, verdict: Swallow) -> str:
        # ``return None`` is often the function's "no result" value: say what is lost, and
        # point at the specific exception, which is the usual fix there.
        consequence = (
            "callers cannot tell a failure from 'no result'; catch the specific exception"
            if "returns None" in verdict.actions
            else "the caller never learns the operation failed"
        )
        return (
            f"`except {caught}` swallows the error: the handler only {verdict.describe()}; "
            f"{consequence}"
        )
