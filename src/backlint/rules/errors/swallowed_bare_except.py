from __future__ import annotations

import libcst as cst

from backlint.diagnostics import Applicability, Severity
from backlint.rules.base import Example, Option
from backlint.rules.errors.handler_rule import HandlerContext, SwallowRule
from backlint.rules.errors.swallow import SWALLOW_OPTIONS
from backlint.rules.fixes import NodeFix


class SwallowedBareExcept(SwallowRule):
    """
    ## What it does
    Flags a bare `except:` whose body only swallows the exception: it passes,
    continues, breaks, returns `None`, or only logs or prints.

    ## Why is this bad?
    A bare `except:` catches everything, including `KeyboardInterrupt`, `SystemExit` and
    `asyncio.CancelledError`. Swallowing them hides bugs, turns failures into wrong
    results that surface far away, and can make a service impossible to stop. Logging
    alone is still swallowing: the caller carries on as if the call had succeeded.

    Handlers that re-raise, return a value or do anything else are left alone: the
    exception is handled. Also left alone: shutdown and cleanup functions (`__del__`,
    `__exit__`, `close`, `shutdown`, `cleanup`, `stop`, ...) and functions whose name
    says they swallow (`safe_*`, `try_*`, `*_or_none`), both globs of the option
    `allow-in-functions`, a `try` inside a `finally:` or inside another `except` body
    (cleanup while an error is already on its way), a `try` followed directly by a
    `raise`, an `abort(...)` or a `return` of an error result, a handler in a loop that
    logs with a traceback (`allow-logged-in-loop`), and test code. Unlike BL202, a
    handler in a loop that only passes or continues is still reported: a bare `except:`
    there also swallows `KeyboardInterrupt`, and the loop cannot be stopped.

    ## Example
    ```python
    try:
        send(message)
    except:
        pass
    ```

    Use instead:
    ```python
    try:
        send(message)
    except ConnectionError as error:
        raise DeliveryFailed(message.id) from error
    ```

    ## How to fix
    Catch the specific exception you expect and re-raise it as a domain error, or return
    an explicit error result.

    An **unsafe** automatic fix (`--fix --unsafe-fixes`) changes `except:` to
    `except Exception:`. It is a first step, not the whole fix: it changes behaviour
    (`KeyboardInterrupt`, `SystemExit` and `CancelledError` then propagate, which is
    usually what you want), and the handler is then reported by BL202 until it handles
    the error.
    """

    code = "BL201"
    name = "swallowed-bare-except"
    summary = "A bare `except:` swallows every exception without handling it."
    fix_text = "Catch the specific exception and re-raise or return an error."
    severity = Severity.ERROR
    # Below the precision bar on code it was not tuned on (docs/precision.md): it runs
    # when selected by its code or name, or with `preview = true`.
    default_enabled = False
    preview = True
    autofix = "unsafe"
    tags = ("reliability", "AP-PY03", "PQG-6")
    options = (
        *SWALLOW_OPTIONS,
        Option(
            "allow-logged-in-loop",
            True,
            "Accept a handler inside a loop that logs with a traceback (`logger.exception` "
            "or `exc_info=True`): a supervisor loop that must keep running.",
        ),
    )
    invalid = (
        Example(
            """
            try:
                send()
            except:
                pass
            """,
            fixed="""
            try:
                send()
            except Exception:
                pass
            """,
        ),
        """
        import logging
        log = logging.getLogger(__name__)
        def run():
            try:
                send()
            except:
                log.error("failed")
                return None
        """,
        Example(
            """
            for item in items:
                try:
                    handle(item)
                except: continue
            """,
            fixed="""
            for item in items:
                try:
                    handle(item)
                except Exception: continue
            """,
        ),
    )
    valid = (
        """
        try:
            send()
        except:
            cleanup()
            raise
        """,
        """
        try:
            value = parse()
        except:
            value = DEFAULT
        """,
        """
        class Conn:
            def __del__(self):
                try:
                    self.close()
                except:
                    pass
        """,
        """
        try:
            send()
        except ValueError:
            pass
        """,
    )

    def automatic_fix(self, node: cst.ExceptHandler) -> NodeFix | None:
        # Only the gap after ``except`` changes, so the fix never overlaps a fix inside
        # the handler's body.
        return self.fix(
            "Catch `Exception` instead of everything",
            self.replace(node.whitespace_after_except, " Exception"),
            applicability=Applicability.UNSAFE,
        )

    def accepted(self, context: HandlerContext) -> bool:
        return bool(
            context.verdict.logs_traceback
            and context.in_loop
            and self.option("allow-logged-in-loop")
        )

    def caught(self, node: cst.ExceptHandler) -> str | None:
        return "except:" if node.type is None else None

    def message(self, caught: str, context: HandlerContext) -> str:
        return (
            f"Bare `except:` swallows every exception (even KeyboardInterrupt): "
            f"the handler only {context.verdict.describe()}"
        )
