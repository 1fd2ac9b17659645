"""What BL201 and BL202 share: deciding whether an ``except`` body only swallows.

A body is a *pure swallow* when every statement is ``pass``/``...``/``continue``/
``break``/``return``/``return None`` or a log-like call. Loggers are recognised through
the file's import table (``logging``, ``logging.getLogger()``, structlog, loguru), the
configured ``logger-names``, and, for a logger imported from another project module, a
condition the project pass checks against that module's bindings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from backlint.rules.base import Option

if TYPE_CHECKING:
    from backlint.engine.context import FileContext
    from backlint.index.project import ProjectIndex

LOG_METHODS = frozenset(
    {
        "debug",
        "info",
        "warning",
        "warn",
        "error",
        "exception",
        "critical",
        "fatal",
        "log",
        "msg",
        "trace",
        "success",
    }
)
LOGGER_FACTORIES = frozenset(
    {
        "logging.getLogger",
        "logging.getLoggerClass",
        "structlog.get_logger",
        "structlog.getLogger",
        "structlog.stdlib.get_logger",
        "loguru.logger.bind",
    }
)
LOGGER_OBJECTS = frozenset({"logging", "loguru.logger", "structlog"})
REPORTING_CALLS = frozenset(
    {
        "builtins.print",
        "traceback.print_exc",
        "traceback.print_exception",
        "sentry_sdk.capture_exception",
        "sentry_sdk.capture_message",
    }
)

LOGGER_NAMES_OPTION = Option(
    "logger-names",
    ("logger", "log", "_logger", "_log", "LOGGER", "LOG", "_LOGGER", "_LOG"),
    "Names (variables or attributes such as `self.logger`) treated as loggers.",
)

# Shutdown and cleanup hooks: raising there would hide the error on its way or stop the
# rest of the cleanup. Globs on the function's name, leading underscores ignored.
CLEANUP_FUNCTIONS = (
    "__del__",
    "__exit__",
    "__aexit__",
    "close",
    "aclose",
    "close_*",
    "*_close",
    "*shutdown*",
    "*cleanup*",
    "*clean_up*",
    "*teardown*",
    "*tear_down*",
    "stop",
    "stop_*",
    "*_stop",
    "dispose",
    "disconnect",
    "terminate",
    "cancel_all_tasks",
)

# Functions whose name says that they swallow: ``safe_delete``, ``try_get_user``,
# ``parse_or_none``.
TOLERANT_FUNCTIONS = ("safe_*", "*_safe", "*_safely", "try_*", "*_or_none", "best_effort*")

SWALLOW_OPTIONS = (
    LOGGER_NAMES_OPTION,
    Option(
        "allow-in-functions",
        CLEANUP_FUNCTIONS + TOLERANT_FUNCTIONS,
        "Functions where swallowing is accepted (globs on the name, leading underscores "
        "ignored): shutdown and cleanup code, which must not raise, and functions whose "
        "name says they swallow (`safe_*`, `try_*`, `*_or_none`).",
    ),
)


@dataclass(frozen=True)
class Unconfirmed:
    """Rates a finding ``low``: nothing in the code shows that the swallowed failure does
    harm, and on real code such handlers are mostly deliberate best-effort steps. Shown
    with ``include-low-confidence``."""

    def holds(self, project: ProjectIndex) -> bool:
        return True

    def confidence(self, project: ProjectIndex) -> str:
        return "low"


@dataclass(frozen=True)
class IsLogger:
    """Condition: the qualified name resolves to a logger defined in another module."""

    qualified: str

    def holds(self, project: ProjectIndex) -> bool:
        binding = project.binding(self.qualified)
        if binding is None:
            return False
        if binding.shape == "call":
            return binding.target in LOGGER_FACTORIES
        return binding.shape in ("import", "alias") and binding.target in LOGGER_OBJECTS


@dataclass(frozen=True)
class Swallow:
    """The verdict on a handler body that only swallows."""

    actions: tuple[str, ...]  # e.g. ("logs", "returns None"), for the message
    conditions: tuple[IsLogger, ...]
    logs_traceback: bool

    def describe(self) -> str:
        unique = list(dict.fromkeys(self.actions))
        if len(unique) == 1:
            return unique[0]
        return ", ".join(unique[:-1]) + " and " + unique[-1]


def _terminal_name(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return None


def _log_call(
    call: cst.Call, ctx: FileContext, logger_names: frozenset[str]
) -> tuple[bool, IsLogger | None, bool]:
    """``(is log-like, condition if it depends on another module, logs a traceback)``."""
    qualified = ctx.qualified_name(call.func)
    if qualified in REPORTING_CALLS:
        return True, None, qualified != "builtins.print"
    if not isinstance(call.func, cst.Attribute) or call.func.attr.value not in LOG_METHODS:
        return False, None, False
    method = call.func.attr.value
    traceback = method == "exception" or any(
        arg.keyword is not None
        and arg.keyword.value == "exc_info"
        and not (isinstance(arg.value, cst.Name) and arg.value.value in ("False", "None"))
        for arg in call.args
    )
    found = logger_requirements(call.func.value, ctx, logger_names)
    if found is None:
        return False, None, False
    return True, (found[0] if found else None), traceback


def logger_requirements(
    receiver: cst.BaseExpression, ctx: FileContext, logger_names: frozenset[str]
) -> tuple[IsLogger, ...] | None:
    """Whether ``receiver`` is a logger: ``()`` when the file shows it, ``(IsLogger,)``
    when that depends on the module it is imported from, None when it is not one.

    Loggers are the ``logging``/structlog/loguru objects and factory results, module-level
    names bound to a factory call, names imported from a project module that binds them
    so, and the configured ``logger-names`` (also as attributes: ``self.logger``).
    """
    receiver_name = ctx.qualified_name(receiver)
    if receiver_name is not None:
        root = receiver_name.rstrip("()")
        if receiver_name in LOGGER_OBJECTS or (
            receiver_name.endswith("()") and root in LOGGER_FACTORIES
        ):
            return ()
        if isinstance(receiver, cst.Name):
            binding = ctx.bindings.get(receiver.value)
            if (
                binding is not None
                and binding.shape == "call"
                and binding.target in LOGGER_FACTORIES
            ):
                return ()
            imported = ctx.names.imported(receiver.value)
            if imported is not None and _terminal_name(receiver) not in logger_names:
                head = imported.split(".", 1)[0]
                if imported not in LOGGER_OBJECTS and head not in ("logging", "structlog"):
                    return (IsLogger(imported),)
    terminal = _terminal_name(receiver)
    if terminal is not None and terminal in logger_names:
        return ()
    return None


def pure_swallow(
    body: Sequence[cst.BaseStatement], ctx: FileContext, logger_names: frozenset[str]
) -> Swallow | None:
    """The ``Swallow`` verdict if ``body`` only swallows the exception, else None."""
    actions: list[str] = []
    conditions: list[IsLogger] = []
    traceback = False
    for statement in body:
        if not isinstance(statement, cst.SimpleStatementLine):
            return None
        for small in statement.body:
            if isinstance(small, cst.Pass):
                actions.append("passes")
            elif isinstance(small, cst.Continue):
                actions.append("continues")
            elif isinstance(small, cst.Break):
                actions.append("breaks")
            elif isinstance(small, cst.Return):
                value = small.value
                if value is not None and not (
                    isinstance(value, cst.Name) and value.value == "None"
                ):
                    return None
                actions.append("returns None")
            elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Ellipsis):
                actions.append("passes")
            elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
                is_log, condition, logs_traceback = _log_call(small.value, ctx, logger_names)
                if not is_log:
                    return None
                actions.append("logs")
                traceback = traceback or logs_traceback
                if condition is not None:
                    conditions.append(condition)
            elif isinstance(small, cst.Expr) and isinstance(
                small.value, (cst.SimpleString, cst.ConcatenatedString)
            ):
                continue  # a comment written as a string
            else:
                return None
    if not actions:
        actions.append("passes")
    return Swallow(tuple(actions), tuple(conditions), traceback)


@dataclass
class _Frame:
    function: str
    node: cst.FunctionDef | None = None
    loops: int = 0


class HandlerScope:
    """Tracks the enclosing function and its loops, for the allow-* exclusions."""

    def __init__(self) -> None:
        self.frames = [_Frame("<module>")]

    def enter_function(self, node: cst.FunctionDef) -> None:
        self.frames.append(_Frame(node.name.value, node))

    def leave_function(self) -> None:
        self.frames.pop()

    def enter_loop(self) -> None:
        self.frames[-1].loops += 1

    def leave_loop(self) -> None:
        self.frames[-1].loops -= 1

    @property
    def function(self) -> str:
        return self.frames[-1].function

    @property
    def function_node(self) -> cst.FunctionDef | None:
        return self.frames[-1].node

    @property
    def in_loop(self) -> bool:
        return self.frames[-1].loops > 0
