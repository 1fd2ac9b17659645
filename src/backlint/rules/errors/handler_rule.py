"""The shared visitor of BL201 and BL202: find except handlers that only swallow."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from backlint.engine.context import FileContext
from backlint.rules.base import FileRule
from backlint.rules.errors.swallow import SWALLOW_OPTIONS, HandlerScope, Swallow, pure_swallow
from backlint.rules.fixes import NodeFix


def _raises_next(body: Sequence[cst.BaseStatement], index: int) -> bool:
    """Whether the statement after ``body[index]`` is a ``raise``."""
    if index + 1 >= len(body):
        return False
    following = body[index + 1]
    return isinstance(following, cst.SimpleStatementLine) and isinstance(
        following.body[0], cst.Raise
    )


class SwallowRule(FileRule):
    """Base of the two swallow rules; subclasses say which handlers they look at.

    Not flagged, besides the options: handlers of a ``try`` that sits in a ``finally:`` or
    in another ``except`` body (cleanup while an error is already on its way: raising
    there would replace it), and handlers of a ``try`` followed directly by ``raise`` (the
    caller learns of the failure all the same). Test code is left alone: a swallowed error
    in a fixture's cleanup is not the production anti-pattern.
    """

    options = SWALLOW_OPTIONS
    include_tests = False

    def begin_file(self, ctx: FileContext) -> None:
        super().begin_file(ctx)
        self.scope = HandlerScope()
        self.error_path_depth = 0  # inside ``finally:`` or an ``except`` body
        self.tries: list[cst.Try | cst.TryStar] = []
        self.raise_after: set[int] = set()
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

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        for index, statement in enumerate(node.body):
            if isinstance(statement, (cst.Try, cst.TryStar)) and _raises_next(node.body, index):
                self.raise_after.add(id(statement))

    def visit_Try(self, node: cst.Try) -> None:
        self.tries.append(node)

    def leave_Try(self, node: cst.Try) -> None:
        self.tries.pop()

    def visit_Finally(self, node: cst.Finally) -> None:
        self.error_path_depth += 1

    def leave_Finally(self, node: cst.Finally) -> None:
        self.error_path_depth -= 1

    def leave_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self.error_path_depth -= 1

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self.error_path_depth += 1  # for the handlers nested in this one's body
        if self.error_path_depth > 1 or (self.tries and id(self.tries[-1]) in self.raise_after):
            return
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
            node,
            self.message(caught, verdict),
            conditions=verdict.conditions,
            first_line=True,
            fix=self.automatic_fix(node),
        )

    def automatic_fix(self, node: cst.ExceptHandler) -> NodeFix | None:
        """The automatic fix offered with a finding on ``node``, if any."""
        return None

    def caught(self, node: cst.ExceptHandler) -> str | None:
        """How the handler's type reads in the message, or None if this rule ignores it."""
        raise NotImplementedError

    def message(self, caught: str, verdict: Swallow) -> str:
        raise NotImplementedError
