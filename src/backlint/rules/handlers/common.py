"""What BL101 and BL102 share: a handler's own code, HTTP error exits and receiver types.

A handler's *own* code is its body without nested functions, classes and lambdas: a
nested streaming generator or a callback is code the handler defines, not code it runs
on every request.

An *HTTP error exit* maps a failure to an HTTP response: raising an exception
(``HTTPException``, ``Http404``, ``PermissionDenied``, a DRF/werkzeug exception, or a
project's own that its exception handlers map), calling ``abort(...)``, returning a
``*Response`` whose status is 4xx/5xx or Flask's ``body, 404``, or returning a redirect
(``redirect(...)``, ``HttpResponseRedirect``). A branch whose body does only that (after
simple statements such as a log call) is a *guard*.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING

import libcst as cst

from backlint.engine.walker import iter_children
from backlint.source import parse_expression_text

if TYPE_CHECKING:
    from backlint.engine.context import FileContext
    from backlint.index.facts import BindingFact, FileFacts
    from backlint.index.project import ProjectIndex

SESSION_TYPES = frozenset(
    {
        "sqlalchemy.orm.Session",
        "sqlalchemy.orm.session.Session",
        "sqlalchemy.orm.scoped_session",
        "sqlalchemy.orm.scoping.scoped_session",
        "sqlalchemy.ext.asyncio.AsyncSession",
        "sqlalchemy.ext.asyncio.session.AsyncSession",
        "sqlalchemy.ext.asyncio.async_scoped_session",
        "sqlmodel.Session",
        "sqlmodel.orm.session.Session",
        "sqlmodel.ext.asyncio.session.AsyncSession",
    }
)
SESSION_FACTORIES = frozenset(
    {
        "sqlalchemy.orm.sessionmaker",
        "sqlalchemy.orm.session.sessionmaker",
        "sqlalchemy.orm.scoped_session",
        "sqlalchemy.orm.scoping.scoped_session",
        "sqlalchemy.ext.asyncio.async_sessionmaker",
        "sqlalchemy.ext.asyncio.async_scoped_session",
    }
)
NEW_TYPE = frozenset({"typing.NewType", "typing_extensions.NewType"})
FLASK_SQLALCHEMY = frozenset(
    {"flask_sqlalchemy.SQLAlchemy", "flask_sqlalchemy.extension.SQLAlchemy"}
)

# Exceptions, responses and statuses that answer 401/403: an authorization check.
AUTHORIZATION_ERRORS = frozenset(
    {
        "PermissionDenied",
        "Forbidden",
        "Unauthorized",
        "NotAuthenticated",
        "AuthenticationFailed",
        "HttpResponseForbidden",
        "NotPermitted",
        "AccessDenied",
        "permission_denied",
        "FORBIDDEN",
        "UNAUTHORIZED",
    }
)
_DENIED = ("HTTP_401", "HTTP_403")
# Calls that raise an HTTP error themselves (Flask's ``abort``, DRF's ``permission_denied``).
ABORT_CALLS = frozenset({"abort", "permission_denied", "throttled"})
# Django responses whose class names an error status.
ERROR_RESPONSES = frozenset(
    {
        "HttpResponseBadRequest",
        "HttpResponseNotFound",
        "HttpResponseForbidden",
        "HttpResponseNotAllowed",
        "HttpResponseGone",
        "HttpResponseServerError",
    }
)
# Shortcuts that fetch or 404: guards for BL101, not data access for BL102.
FETCH_OR_404 = frozenset({"get_object_or_404", "get_list_or_404"})
OR_404_METHODS = frozenset({"get_or_404", "first_or_404", "one_or_404"})

NESTED_SCOPES = (cst.FunctionDef, cst.ClassDef, cst.Lambda)


def own_nodes(node: cst.FunctionDef) -> Iterator[cst.CSTNode]:
    """Every node of a function's body, in source order, without nested scopes' insides.

    A nested ``def``/``class``/``lambda`` is yielded itself but not entered.
    """
    stack: list[cst.CSTNode] = [node.body]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, NESTED_SCOPES):
            continue
        stack.extend(reversed(list(iter_children(current))))


def docstring_of(node: cst.FunctionDef) -> cst.CSTNode | None:
    """The docstring's expression statement, if the function has one."""
    body = node.body
    if not isinstance(body, cst.IndentedBlock) or not body.body:
        return None
    first = body.body[0]
    if isinstance(first, cst.SimpleStatementLine) and len(first.body) == 1:
        small = first.body[0]
        if isinstance(small, cst.Expr) and isinstance(
            small.value, (cst.SimpleString, cst.ConcatenatedString)
        ):
            return small
    return None


def last_name(node: cst.BaseExpression) -> str | None:
    """``c`` for ``a.b.c`` or ``c``; ``None`` for anything else."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return None


def callee_name(node: cst.BaseExpression) -> str | None:
    """The last name of what a call calls (``abort`` for ``flask.abort(404)``)."""
    return last_name(node.func) if isinstance(node, cst.Call) else None


# Guards ----------------------------------------------------------------------


def suite_statements(suite: cst.BaseSuite) -> list[cst.CSTNode]:
    """The statements of a block, with the small statements of each line flattened."""
    found: list[cst.CSTNode] = []
    if isinstance(suite, cst.SimpleStatementSuite):
        found.extend(suite.body)
        return found
    if isinstance(suite, cst.IndentedBlock):
        for statement in suite.body:
            if isinstance(statement, cst.SimpleStatementLine):
                found.extend(statement.body)
            else:
                found.append(statement)
    return found


_PREAMBLE = (cst.Expr, cst.Assign, cst.AnnAssign, cst.AugAssign, cst.Pass)


def is_guard(suite: cst.BaseSuite, ctx: FileContext) -> bool:
    """The block only maps a failure to HTTP: simple statements, then an HTTP error exit.

    A log call or a message built before the ``raise`` keeps it a guard; a nested
    ``if``/loop or a second exit does not.
    """
    statements = suite_statements(suite)
    if not statements:
        return False
    *preamble, last = statements
    if not all(isinstance(statement, _PREAMBLE) for statement in preamble):
        return False
    return is_http_exit(last, ctx)


def is_http_exit(statement: cst.CSTNode, ctx: FileContext) -> bool:
    if isinstance(statement, cst.Raise):
        # ``HTTPException``, ``Http404``, or a project's ``ResourceNotFound`` that an
        # exception handler maps to a response: an error exit either way.
        return True
    if isinstance(statement, cst.Expr):
        return callee_name(statement.value) in ABORT_CALLS
    if isinstance(statement, cst.Return) and statement.value is not None:
        return is_error_response(statement.value, ctx) or _is_redirect(statement.value)
    return False


def _is_redirect(value: cst.BaseExpression) -> bool:
    """``redirect(...)``, ``HttpResponseRedirect(url)``, ``RedirectResponse(url)``: an
    early exit that sends the browser elsewhere (to log in, to the form, to an error)."""
    return "redirect" in (callee_name(value) or "").lower()


def is_authorization_exit(suite: cst.BaseSuite, ctx: FileContext) -> bool:
    """The guard's exit answers 401 or 403: ``raise PermissionDenied``, ``abort(403)``,
    ``HTTPException(status.HTTP_403_FORBIDDEN)``, ``HttpResponseForbidden()``."""
    statements = suite_statements(suite)
    if not statements:
        return False
    stack: list[cst.CSTNode] = [statements[-1]]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Integer) and current.value in ("401", "403"):
            return True
        name = last_name(current) if isinstance(current, cst.BaseExpression) else None
        if name is not None and (name in AUTHORIZATION_ERRORS or name.startswith(_DENIED)):
            return True
        stack.extend(iter_children(current))
    return False


def is_error_response(value: cst.BaseExpression, ctx: FileContext) -> bool:
    """``JSONResponse(status_code=404)``, ``Response(data, status=400)``,
    ``HttpResponseForbidden()``, ``abort(403)`` or Flask's ``body, 400``."""
    if isinstance(value, cst.Tuple):
        elements = value.elements
        return len(elements) >= 2 and is_error_status(elements[1].value, ctx)
    if not isinstance(value, cst.Call):
        return False
    name = callee_name(value) or ""
    if name in ERROR_RESPONSES or name in ABORT_CALLS:
        return True
    for arg in value.args:
        if arg.keyword is not None and arg.keyword.value in ("status", "status_code"):
            return is_error_status(arg.value, ctx)
    positional = [arg.value for arg in value.args if arg.keyword is None]
    if (name.endswith("Response") or name == "make_response") and len(positional) >= 2:
        return is_error_status(positional[1], ctx)
    return False


def is_error_status(value: cst.BaseExpression, ctx: FileContext) -> bool:
    """A 4xx/5xx status: ``404``, ``status.HTTP_404_NOT_FOUND``, ``HTTPStatus.NOT_FOUND``."""
    if isinstance(value, cst.Integer):
        return 400 <= int(value.value) < 600
    name = last_name(value)
    if name is None:
        return False
    if name.startswith("HTTP_"):
        digits = name[5:8]
        return digits.isdigit() and 400 <= int(digits) < 600
    qualified = ctx.qualified_name(value) or ""
    if qualified.startswith("http.HTTPStatus."):
        member = HTTPStatus.__members__.get(name)
        return member is not None and member.value >= 400
    return False


# Annotations -----------------------------------------------------------------


def module_aliases(module: cst.Module) -> dict[str, cst.BaseExpression]:
    """Top-level ``X = Annotated[...]`` (or ``X: TypeAlias = ...``, ``type X = ...``)."""
    aliases: dict[str, cst.BaseExpression] = {}
    for statement in module.body:
        if isinstance(statement, cst.TypeAlias):
            aliases[statement.name.value] = statement.value
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            target: cst.BaseExpression | None = None
            value: cst.BaseExpression | None = None
            if isinstance(small, cst.Assign) and len(small.targets) == 1:
                target, value = small.targets[0].target, small.value
            elif isinstance(small, cst.AnnAssign):
                target, value = small.target, small.value
            is_annotated = (
                isinstance(value, cst.Subscript) and last_name(value.value) == "Annotated"
            )
            if isinstance(target, cst.Name) and value is not None and is_annotated:
                aliases[target.value] = value
    return aliases


def type_candidates(
    annotation: cst.BaseExpression, aliases: Mapping[str, cst.BaseExpression]
) -> Iterator[tuple[cst.BaseExpression, tuple[cst.BaseExpression, ...]]]:
    """The type expressions an annotation may stand for, each with its ``Annotated`` extras.

    Unwraps strings, ``Optional[X]``, ``X | None``, ``Union[...]``, ``Annotated[X, ...]``
    and same-module ``Annotated`` aliases.
    """
    stack: list[tuple[cst.BaseExpression, tuple[cst.BaseExpression, ...], int]] = [
        (annotation, (), 0)
    ]
    while stack:
        current, extras, depth = stack.pop()
        if depth > 8:
            continue
        if isinstance(current, cst.SimpleString):
            text = current.evaluated_value
            if isinstance(text, str):
                # A string that is not an expression names no type.
                parsed = parse_expression_text(text)
                if parsed is not None:
                    stack.append((parsed, extras, depth + 1))
            continue
        if isinstance(current, cst.BinaryOperation) and isinstance(current.operator, cst.BitOr):
            stack.append((current.left, extras, depth + 1))
            stack.append((current.right, extras, depth + 1))
            continue
        if isinstance(current, cst.Subscript):
            elements = [
                element.slice.value
                for element in current.slice
                if isinstance(element.slice, cst.Index)
            ]
            wrapper = last_name(current.value)
            if wrapper == "Annotated" and elements:
                stack.append((elements[0], (*extras, *elements[1:]), depth + 1))
                continue
            if wrapper in ("Optional", "Union"):
                stack.extend((element, extras, depth + 1) for element in elements)
                continue
        if isinstance(current, cst.Name) and current.value in aliases:
            stack.append((aliases[current.value], extras, depth + 1))
            continue
        yield current, extras


def is_depends(expression: cst.BaseExpression | None) -> bool:
    """``Depends(...)``/``Security(...)``: FastAPI's injection marker."""
    return expression is not None and callee_name(expression) in ("Depends", "Security")


def parameters(node: cst.FunctionDef) -> Sequence[cst.Param]:
    params = node.params
    return (*params.posonly_params, *params.params, *params.kwonly_params)


# Conditions --------------------------------------------------------------------


def final_binding(project: ProjectIndex, qualified: str) -> tuple[FileFacts, BindingFact] | None:
    """The module-level binding ``qualified`` names, following re-exports, with its module."""
    for _ in range(10):
        module, _, name = qualified.rpartition(".")
        facts = project.facts_of(module) if module else None
        if facts is None:
            return None
        binding = next((b for b in facts.bindings if b.name == name), None)
        if binding is None:
            return None
        if binding.shape in ("import", "alias") and project.facts_of(
            binding.target.rpartition(".")[0]
        ):
            qualified = binding.target
            continue
        return facts, binding
    return None


def sessionish(name: str) -> bool:
    """A name that says "database session": ``DbSession``, ``SessionDep``, ``db_session``."""
    lowered = name.lower()
    return "session" in lowered or lowered.startswith("db")


@dataclass(frozen=True)
class IsSessionType:
    """An imported annotation names a SQLAlchemy session: a project subclass of
    ``Session``, a re-export of one, a FastAPI dependency alias
    (``DbSession = Annotated[Session, Depends(get_db)]``) or a ``NewType`` of one
    (``AsyncSession = NewType("AsyncSession", AsyncReadSession)``) in another module."""

    qualified: str

    def holds(self, project: ProjectIndex) -> bool:
        return _is_session_type(project, self.qualified, 0)


def _is_session_type(project: ProjectIndex, qualified: str, depth: int) -> bool:
    if qualified in SESSION_TYPES or project.inherits(qualified, SESSION_TYPES):
        return True
    found = final_binding(project, qualified)
    if found is None or depth > 5:
        return False
    _, binding = found
    if binding.shape in ("import", "alias"):
        return binding.target in SESSION_TYPES
    if binding.shape == "annotated" and binding.target:
        return _is_session_type(project, binding.target, depth + 1)
    if binding.shape == "call" and binding.target in NEW_TYPE and binding.detail:
        # ``AsyncSession = NewType("AsyncSession", AsyncReadSession)``, possibly twice.
        return _is_session_type(project, binding.detail, depth + 1)
    return False


@dataclass(frozen=True)
class IsRepositoryAlias:
    """An imported ``Annotated`` alias stands for a ``*Repository`` class."""

    qualified: str

    def holds(self, project: ProjectIndex) -> bool:
        found = final_binding(project, self.qualified)
        if found is None:
            return False
        _, binding = found
        return binding.shape == "annotated" and binding.target.endswith("Repository")


@dataclass(frozen=True)
class BoundToCall:
    """An imported name is bound to a call of one of ``targets`` at module level:
    ``SessionLocal = sessionmaker(...)``, ``db_session = scoped_session(...)``."""

    qualified: str
    targets: frozenset[str]

    def holds(self, project: ProjectIndex) -> bool:
        found = final_binding(project, self.qualified)
        if found is None:
            return False
        _, binding = found
        return binding.shape == "call" and binding.target in self.targets


@dataclass(frozen=True)
class IsFlaskSQLAlchemy:
    """An imported name is a Flask-SQLAlchemy extension (``db = SQLAlchemy()``), so
    ``db.session`` is its scoped session."""

    qualified: str

    def holds(self, project: ProjectIndex) -> bool:
        found = final_binding(project, self.qualified)
        if found is None:
            return False
        _, binding = found
        if binding.shape != "call" or not binding.target:
            return False
        return binding.target in FLASK_SQLALCHEMY or project.inherits(
            binding.target, FLASK_SQLALCHEMY
        )
