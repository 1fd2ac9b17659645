"""The shared visitor of BL201 and BL202: find except handlers that only swallow."""

from __future__ import annotations

import libcst as cst

from backlint.engine.context import FileContext
from backlint.rules.base import FileRule
from backlint.rules.errors.swallow import SWALLOW_OPTIONS, HandlerScope, Swallow, pure_swallow


class SwallowRule(FileRule):
    """Base of the two swallow rules; subclasses say which handlers they look at."""

    options = SWALLOW_OPTIONS

    def begin_file(self, ctx: FileContext) -> None:
        super().begin_file(ctx)
        self.scope = HandlerScope()
        self.logger_names = frozenset(self.str_list_option("logger-names"))
        self.allowed_functions = frozenset(self.str_list_option("allow-in-functions"))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.scope.enter_function(node.name.value)

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.scope.leave_function()

    def visit_For(self, node: cst.For) -> None:
        self.scope.enter_loop()

    def leave_For(self, node: cst.For) -> None:
        self.scope.leave_loop()

    def visit_While(self, node: cst.While) -> None:
        self.scope.enter_loop()

    def leave_While(self, node: cst.While) -> None:
        self.scope.leave_loop()

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        caught = self.caught(node)
        if caught is None or self.scope.function in self.allowed_functions:
            return
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
        if isinstance(node.body, cst.SimpleStatementSuite):
            body = (cst.SimpleStatementLine(body=node.body.body),)
        verdict = pure_swallow(body, self.ctx, self.logger_names)
        if verdict is None:
            return
        if verdict.logs_traceback and self.scope.in_loop and self.option("allow-logged-in-loop"):
            return
        self.report(
            node, self.message(caught, verdict), conditions=verdict.conditions, first_line=True
        )

    def caught(self, node: cst.ExceptHandler) -> str | None:
        """How the handler's type reads in the message, or None if this rule ignores it."""
        raise NotImplementedError

    def message(self, caught: str, verdict: Swallow) -> str:
        raise NotImplementedError
