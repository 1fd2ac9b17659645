"""The shared visitor of BL201 and BL202: find except handlers that only swallow."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import libcst as cst

from backlint.engine.context import FileContext
from backlint.index.names import dotted_name
from backlint.rules.base import Condition, FileRule, Option
from backlint.rules.errors.swallow import SWALLOW_OPTIONS, HandlerScope, Swallow, pure_swallow
from backlint.rules.fixes import NodeFix

# Calls that end the request or the program with an error: Flask's ``abort(404)``,
# ``sys.exit(1)``.
_FAILING_CALLS = frozenset({"abort", "exit", "_exit"})
# Words that name an error result: ``return error_response``, ``HttpResponseBadRequest()``.
_ERROR_WORDS = ("error", "fail", "invalid", "badrequest", "forbidden", "notfound", "unauthorized")
_ERROR_KEYS = frozenset({"error", "errors", "error_message", "error_code"})
_SUCCESS_KEYS = frozenset({"success", "ok", "succeeded"})


def _names_error(node: cst.BaseExpression) -> bool:
    """``error_response``, ``self.fail``, ``HttpResponseServerError``: a name that says so."""
    dotted = dotted_name(node)
    terminal = (dotted or "").rsplit(".", 1)[-1].lower().replace("_", "")
    return bool(terminal) and any(word in terminal for word in _ERROR_WORDS)


def _error_status(node: cst.BaseExpression) -> bool:
    """A 4xx/5xx status: ``500``, ``status.HTTP_502_BAD_GATEWAY``, ``HTTPStatus.NOT_FOUND``."""
    if isinstance(node, cst.Integer):
        return node.evaluated_value >= 400
    dotted = dotted_name(node) or ""
    name = dotted.rsplit(".", 1)[-1].upper()
    return name.startswith(("HTTP_4", "HTTP_5")) or "ERROR" in name or name.endswith("NOT_FOUND")


def _is_false(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "False"


def _error_value(value: cst.BaseExpression) -> bool:
    """Whether a returned value reports a failure to the caller."""
    if _is_false(value) or _names_error(value):
        return True
    if isinstance(value, cst.Tuple) and value.elements:
        parts = [element.value for element in value.elements]
        # ``return False, "reason"``; Flask's ``return body, 500``.
        return _is_false(parts[0]) or _error_status(parts[-1]) or _error_value(parts[0])
    if isinstance(value, cst.Call):
        statuses = (
            a.value for a in value.args if a.keyword and a.keyword.value.startswith("status")
        )
        return _names_error(value.func) or any(_error_status(status) for status in statuses)
    if isinstance(value, cst.Dict):
        for element in value.elements:
            if not isinstance(element, cst.DictElement):
                continue
            key = element.key
            text = key.evaluated_value if isinstance(key, cst.SimpleString) else None
            if text in _ERROR_KEYS or (text in _SUCCESS_KEYS and _is_false(element.value)):
                return True
    return False


def _success_status(node: cst.BaseExpression) -> bool:
    """A 2xx status: ``200``, ``status.HTTP_201_CREATED``, ``HTTPStatus.OK``."""
    if isinstance(node, cst.Integer):
        return 200 <= node.evaluated_value < 300
    name = (dotted_name(node) or "").rsplit(".", 1)[-1].upper()
    return name.startswith("HTTP_2") or name in ("OK", "CREATED", "ACCEPTED", "NO_CONTENT")


def _is_true(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "True"


def _success_value(value: cst.BaseExpression) -> bool:
    """Whether a returned value tells the caller that the operation worked: ``True``,
    ``(True, None)``, ``{"success": True}``, ``{"status": "ok"}``, ``Response(status=204)``."""
    if _is_true(value):
        return True
    if isinstance(value, cst.Tuple) and value.elements:
        return _is_true(value.elements[0].value)
    if isinstance(value, cst.Call):
        return any(
            a.keyword is not None
            and a.keyword.value.startswith("status")
            and _success_status(a.value)
            for a in value.args
        )
    if isinstance(value, cst.Dict):
        for element in value.elements:
            if not isinstance(element, cst.DictElement):
                continue
            key = element.key.evaluated_value if isinstance(element.key, cst.SimpleString) else None
            if key in _SUCCESS_KEYS and _is_true(element.value):
                return True
            if key == "status" and isinstance(element.value, cst.SimpleString):
                return element.value.evaluated_value in ("ok", "success", "succeeded")
    return False


def success_follows(statement: cst.BaseStatement | None) -> bool:
    """Whether ``statement``, right after a ``try``, reports success to the caller: the
    handler falls through to it, and the failure is reported as a success."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return False
    first = statement.body[0]
    return isinstance(first, cst.Return) and first.value is not None and _success_value(first.value)


def failure_follows(statement: cst.BaseStatement | None) -> bool:
    """Whether ``statement``, right after a ``try``, raises or returns an error: the
    handler falls through to it, so the caller learns of the failure all the same."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return False
    first = statement.body[0]
    if isinstance(first, cst.Raise):
        return True
    if isinstance(first, cst.Expr) and isinstance(first.value, cst.Call):
        callee = dotted_name(first.value.func) or ""
        return callee.rsplit(".", 1)[-1] in _FAILING_CALLS
    return isinstance(first, cst.Return) and first.value is not None and _error_value(first.value)


@dataclass(frozen=True)
class HandlerContext:
    """Where a swallowing handler sits, for the exclusions of each rule."""

    verdict: Swallow
    try_node: cst.Try | None
    function: cst.FunctionDef | None
    in_loop: bool
    following: cst.BaseStatement | None  # the statement right after the ``try``


class SwallowRule(FileRule):
    """Base of the two swallow rules; subclasses say which handlers they look at.

    Not flagged, besides the options: handlers of a ``try`` that sits in a ``finally:`` or
    in another ``except`` body (cleanup while an error is already on its way: raising
    there would replace it), and handlers of a ``try`` followed directly by a ``raise``,
    an ``abort(...)``/``sys.exit(...)`` or a ``return`` of an error result (the caller
    learns of the failure all the same). Test code is left alone: a swallowed error in a
    fixture's cleanup is not the production anti-pattern.
    """

    options: ClassVar[tuple[Option, ...]] = SWALLOW_OPTIONS
    include_tests = False

    def begin_file(self, ctx: FileContext) -> None:
        super().begin_file(ctx)
        self.scope = HandlerScope()
        self.error_path_depth = 0  # inside ``finally:`` or an ``except`` body
        self.tries: list[cst.Try | cst.TryStar] = []
        self.following: dict[int, cst.BaseStatement | None] = {}
        self.logger_names = frozenset(self.str_list_option("logger-names"))
        self.allowed_functions = self.str_list_option("allow-in-functions")

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.scope.enter_function(node)

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

    def visit_Module(self, node: cst.Module) -> None:
        self._note_following(node.body)

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._note_following(node.body)

    def _note_following(self, body: Sequence[cst.BaseStatement]) -> None:
        for index, statement in enumerate(body):
            if isinstance(statement, (cst.Try, cst.TryStar)):
                self.following[id(statement)] = body[index + 1] if index + 1 < len(body) else None

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
        try_node = self.tries[-1] if self.tries else None
        following = self.following.get(id(try_node)) if try_node is not None else None
        if self.error_path_depth > 1 or failure_follows(following):
            return
        caught = self.caught(node)
        if caught is None or self._in_allowed_function():
            return
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
        if isinstance(node.body, cst.SimpleStatementSuite):
            body = (cst.SimpleStatementLine(body=node.body.body),)
        verdict = pure_swallow(body, self.ctx, self.logger_names)
        if verdict is None:
            return
        context = HandlerContext(
            verdict,
            try_node if isinstance(try_node, cst.Try) else None,
            self.scope.function_node,
            self.scope.in_loop,
            following,
        )
        if self.accepted(context):
            return
        self.report(
            node,
            self.message(caught, context),
            conditions=(*verdict.conditions, *self.rating(context)),
            first_line=True,
            fix=self.automatic_fix(node),
        )

    def _in_allowed_function(self) -> bool:
        name = self.scope.function
        return any(
            fnmatch.fnmatchcase(name, pattern) or fnmatch.fnmatchcase(name.lstrip("_"), pattern)
            for pattern in self.allowed_functions
        )

    def accepted(self, context: HandlerContext) -> bool:
        """Whether the rule accepts this swallowing handler where it sits."""
        return False

    def rating(self, context: HandlerContext) -> tuple[Condition, ...]:
        """Conditions that rate the finding (``low`` confidence); none by default."""
        return ()

    def automatic_fix(self, node: cst.ExceptHandler) -> NodeFix | None:
        """The automatic fix offered with a finding on ``node``, if any."""
        return None

    def caught(self, node: cst.ExceptHandler) -> str | None:
        """How the handler's type reads in the message, or None if this rule ignores it."""
        raise NotImplementedError

    def message(self, caught: str, context: HandlerContext) -> str:
        raise NotImplementedError
