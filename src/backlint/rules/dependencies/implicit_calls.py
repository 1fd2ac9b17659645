"""What BL311 and BL312 share: where they look, which calls they leave alone, the catalogs.

**Scope** (rules.md §2 and §3 BL311/BL312): functions in ``service`` and ``domain`` files;
never ``composition_root`` or ``repository`` files, never test code. A ``models.py`` is
``domain`` or, in a Django project, ``model``: only the project pass knows, so findings
there carry a ``FinalRoleIn`` condition. A ``*Service`` class name alone does not put a
class in scope: outside service and domain files such classes are as often API clients
(``StripeService``, ``EmailService``) as business services.

Only calls made *inside a function* count. Calls at module level or in a class body run
once at import time (and ``default=timezone.now`` or ``default_factory=uuid4`` on a field
is not a call at all); parameter defaults, annotations and decorators are where injection
happens, so nothing in them is reported either.

**Never reported:**

* calls on a parameter or through one (``self._http.get``, ``clock.now()``): an injected
  dependency is the cure, not the disease;
* fallback seams, where a parameter wins and the call is only the default:
  ``p or CALL()``, ``p if p is not None else CALL()``, ``if p is None: p = CALL()``
  (also ``if not p:``, and ``self._p = CALL()`` or ``return CALL()`` in that body);
* anything inside ``Depends(...)`` or ``Security(...)``;
* the call a parameterless function only returns (``def utcnow(): return
  datetime.now(UTC)``): that function is the provider, passed around by reference;
* adapters: files under ``adapter-paths`` and methods of classes implementing a port
  (see ``adapters.py``).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import libcst as cst
import pathspec

from backlint.engine.context import FileContext
from backlint.engine.walker import iter_children, iter_descendants
from backlint.index.names import dotted_name
from backlint.rules.base import Condition, FileRule
from backlint.rules.conditions import FinalRoleIn
from backlint.rules.dependencies.adapters import PortLookup
from backlint.rules.syntax import (
    has_compound_statement,
    is_none,
    is_string_expression,
    simple_statements,
)

SCOPE_ROLES = frozenset({"service", "domain"})
EXCLUDED_ROLES = frozenset({"composition_root", "repository"})
DEPENDS_NAMES = frozenset({"Depends", "Security"})


# --- Catalogs --------------------------------------------------------------------------
# Qualified name (as ``FileContext.qualified_name`` gives it) -> advice for the message.

_HTTP = "inject an HTTP client"
_IO_CATALOG: dict[str, str] = {
    **{
        f"requests.{verb}": _HTTP
        for verb in ("get", "post", "put", "patch", "delete", "head", "options", "request")
    },
    "requests.Session": _HTTP,
    "requests.session": _HTTP,
    **{
        f"httpx.{verb}": _HTTP
        for verb in ("get", "post", "put", "patch", "delete", "head", "options", "request")
    },
    "httpx.stream": _HTTP,
    "httpx.Client": _HTTP,
    "httpx.AsyncClient": _HTTP,
    "urllib.request.urlopen": _HTTP,
    "urllib.request.urlretrieve": _HTTP,
    "boto3.client": "inject the boto3 client (or a storage port)",
    "boto3.resource": "inject the boto3 resource (or a storage port)",
    "redis.Redis": "inject the Redis client",
    "redis.StrictRedis": "inject the Redis client",
    "redis.from_url": "inject the Redis client",
    "redis.Redis.from_url": "inject the Redis client",
    "redis.StrictRedis.from_url": "inject the Redis client",
    "redis.asyncio.Redis": "inject the Redis client",
    "redis.asyncio.from_url": "inject the Redis client",
    "redis.asyncio.Redis.from_url": "inject the Redis client",
    "sqlalchemy.create_engine": "inject the engine or a session",
    "sqlalchemy.engine.create_engine": "inject the engine or a session",
    "sqlalchemy.ext.asyncio.create_async_engine": "inject the engine or a session",
    "os.getenv": "pass the setting in from the settings module",
    "os.environ.get": "pass the setting in from the settings module",
    "builtins.open": "inject a file store, or pass the path or the content in",
    "io.open": "inject a file store, or pass the path or the content in",
}
ENVIRON = "os.environ"
ENV_ADVICE = "pass the setting in from the settings module"
SESSION_ADVICE = "inject the session"
DEFAULT_INFRA_FACTORIES = ("get_db", "get_db_session", "SessionLocal", "get_session")

_CLOCK = "an implicit clock; inject a `Clock` or pass the time in"
_IDS = "an implicit source of entropy; inject an id generator or pass the id in"
_RANDOM = "an implicit source of entropy; inject a `random.Random` or pass the value in"
_RANDOM_FUNCTIONS = (
    "random",
    "randint",
    "randrange",
    "randbytes",
    "getrandbits",
    "choice",
    "choices",
    "sample",
    "shuffle",
    "uniform",
    "triangular",
    "gauss",
    "normalvariate",
    "lognormvariate",
    "expovariate",
    "vonmisesvariate",
    "gammavariate",
    "betavariate",
    "paretovariate",
    "weibullvariate",
    "binomialvariate",
)
_CLOCK_CATALOG: dict[str, str] = {
    "datetime.datetime.now": _CLOCK,
    "datetime.datetime.utcnow": _CLOCK,
    "datetime.datetime.today": _CLOCK,
    "datetime.date.today": _CLOCK,
    "django.utils.timezone.now": _CLOCK,
    "time.time": _CLOCK,
    "time.time_ns": _CLOCK,
    "uuid.uuid1": _IDS,
    "uuid.uuid4": _IDS,
    **{f"random.{name}": _RANDOM for name in _RANDOM_FUNCTIONS},
}
IO_CATALOG: Mapping[str, str] = _IO_CATALOG
CLOCK_CATALOG: Mapping[str, str] = _CLOCK_CATALOG
# The calls that read the time (not ids or random numbers).
CLOCK_READS = frozenset(name for name, tail in _CLOCK_CATALOG.items() if tail == _CLOCK)
OPENERS = frozenset({"builtins.open", "io.open"})
# Calls that build a client or connection rather than use one: a function that only
# returns one of them is a factory (``def get_client(): return httpx.Client()``).
CLIENT_FACTORIES = frozenset(
    {
        "requests.Session",
        "requests.session",
        "httpx.Client",
        "httpx.AsyncClient",
        "boto3.client",
        "boto3.resource",
        *(name for name in _IO_CATALOG if name.startswith(("redis.", "sqlalchemy."))),
    }
)


def matches(qualified: str, patterns: Iterable[str]) -> bool:
    """Whether a configured fnmatch pattern matches; ``open`` also matches ``builtins.open``."""
    plain = qualified.removeprefix("builtins.")
    return any(
        fnmatch.fnmatchcase(qualified, pattern) or fnmatch.fnmatchcase(plain, pattern)
        for pattern in patterns
    )


def shown_name(callee: cst.BaseExpression, qualified: str) -> str:
    """How the message names a call: as written when dotted (``datetime.now``), else by
    its qualified name (``uuid4`` → ``uuid.uuid4``), without ``builtins.``."""
    written = dotted_name(callee)
    if written is not None and "." in written:
        return written
    return qualified.removeprefix("builtins.")


def string_value(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


# --- Scope -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Frame:
    kind: str  # "class", "function" or "lambda"
    name: str
    params: frozenset[str]
    node: cst.CSTNode


@dataclass(frozen=True)
class Place:
    """Where a reported node is (``service method `OrderService.save```), the function
    holding it, and the conditions the finding needs."""

    label: str
    function: cst.FunctionDef
    conditions: tuple[Condition, ...]


RECEIVER_NAMES = frozenset({"self", "cls"})
# Wrappers a provider may put around the call it returns: ``str(uuid4())``.
_CONVERSIONS = frozenset({"builtins.str", "builtins.int", "builtins.float"})


def _param_names(params: cst.Parameters) -> frozenset[str]:
    names = [p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)]
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            names.append(star.name.value)
    return frozenset(names)


def _root_name(node: cst.BaseExpression) -> str | None:
    """``self`` for ``self._http.get``; ``client`` for ``client().get``; else None."""
    current = node
    while True:
        if isinstance(current, cst.Attribute):
            current = current.value
        elif isinstance(current, cst.Call):
            current = current.func
        elif isinstance(current, cst.Subscript):
            current = current.value
        elif isinstance(current, cst.Name):
            return current.value
        else:
            return None


def free_names(node: cst.CSTNode) -> set[str]:
    """The variable names an expression reads (not attribute names or keywords)."""
    if isinstance(node, cst.Name):
        return {node.value}
    if isinstance(node, cst.Attribute):
        return free_names(node.value)
    if isinstance(node, cst.Arg):
        return free_names(node.value)
    names: set[str] = set()
    for child in iter_children(node):
        names |= free_names(child)
    return names


def _is_input(node: cst.BaseExpression, params: frozenset[str]) -> bool:
    """A parameter: a value the caller may supply. An attribute of one is not:
    ``if order.paid_at is None: order.paid_at = now()`` records state, it is no seam."""
    return isinstance(node, cst.Name) and node.value in params


def _absent_subject(test: cst.BaseExpression) -> cst.BaseExpression | None:
    """What ``p is None``, ``p == None`` or ``not p`` tests: ``p``."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return test.expression
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        target = test.comparisons[0]
        if isinstance(target.operator, (cst.Is, cst.Equal)) and is_none(target.comparator):
            return test.left
    return None


def _tested_subject(test: cst.BaseExpression) -> cst.BaseExpression:
    """What a ternary's test is about: ``p`` in ``p``, ``not p``, ``p is (not) None``."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return _tested_subject(test.expression)
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        target = test.comparisons[0]
        none_test = (cst.Is, cst.IsNot, cst.Equal, cst.NotEqual)
        if isinstance(target.operator, none_test) and is_none(target.comparator):
            return test.left
    return test


def _fills_in(
    statement: cst.BaseSmallStatement, subject: cst.BaseExpression
) -> cst.BaseExpression | None:
    """The value of a statement that supplies the missing parameter ``subject``:
    ``p = CALL()``, ``self._p = CALL()`` or ``return CALL()``."""
    if isinstance(statement, cst.Return):
        return statement.value
    if isinstance(statement, cst.Assign):
        targets = [target.target for target in statement.targets]
        value: cst.BaseExpression | None = statement.value
    elif isinstance(statement, cst.AnnAssign):
        targets, value = [statement.target], statement.value
    else:
        return None
    for target in targets:
        if target.deep_equals(subject):
            return value
        if isinstance(target, cst.Attribute) and _root_name(target) in RECEIVER_NAMES:
            return value
    return None


def _or_operands(node: cst.BaseExpression) -> list[cst.BaseExpression]:
    """``a or b or c`` as ``[a, b, c]`` (libcst nests it to the left)."""
    if isinstance(node, cst.BooleanOperation) and isinstance(node.operator, cst.Or):
        return [*_or_operands(node.left), *_or_operands(node.right)]
    return [node]


def _only_return(function: cst.FunctionDef) -> cst.BaseExpression | None:
    """The value of a body that is just ``return <value>`` (after a docstring), else None."""
    body = function.body
    if has_compound_statement(body):
        return None
    statements = simple_statements(body)
    if len(statements) == 2 and is_string_expression(statements[0]):
        statements = statements[1:]
    if len(statements) == 1 and isinstance(statements[0], cst.Return):
        return statements[0].value
    return None


class ImplicitCallRule(FileRule):
    """Tracks functions, classes and seams; subclasses decide which calls to report.

    Subclasses implement ``describe_call``; ``place_of`` tells them whether a node is in
    scope and how to name where it is.
    """

    include_tests = False

    def applies_to(self, ctx: FileContext) -> bool:
        if ctx.is_test or ctx.candidate_roles & EXCLUDED_ROLES:
            return False
        if not ctx.candidate_roles & SCOPE_ROLES:
            return False
        return not self._adapter_paths().match_file(ctx.relative)

    def _adapter_paths(self) -> pathspec.GitIgnoreSpec:
        spec: pathspec.GitIgnoreSpec | None = getattr(self, "_adapter_spec", None)
        if spec is None:
            spec = pathspec.GitIgnoreSpec.from_lines(self.str_list_option("adapter-paths"))
            self._adapter_spec = spec
        return spec

    def begin_file(self, ctx: FileContext) -> None:
        super().begin_file(ctx)
        roles = ctx.candidate_roles & SCOPE_ROLES
        self._file_role = "service" if "service" in roles else ("domain" if roles else None)
        # ``models.py``: domain, or a Django model file; the project pass decides.
        self._role_conditions: tuple[Condition, ...] = (
            (FinalRoleIn(ctx.path, SCOPE_ROLES),) if roles and len(ctx.candidate_roles) > 1 else ()
        )
        self._frames: list[_Frame] = []
        self._ports = PortLookup(ctx.tree, ctx.names)
        self._class_verdicts: dict[int, tuple[bool, tuple[Condition, ...]]] = {}
        self._exempt_depth = 0  # inside parameters, annotations, decorators or Depends(...)
        self._exempt: set[int] = set()  # ids of calls and subscripts in fallback seams
        self._depends: set[int] = set()

    # -- frames --

    def _push(self, kind: str, name: str, params: frozenset[str], node: cst.CSTNode) -> None:
        self._frames.append(_Frame(kind, name, params, node))

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._push("class", node.name.value, frozenset(), node)

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self._frames.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._push("function", node.name.value, _param_names(node.params), node)

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._frames.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._push("lambda", "<lambda>", _param_names(node.params), node)

    def leave_Lambda(self, node: cst.Lambda) -> None:
        self._frames.pop()

    # Parameter lists (defaults), annotations and decorators are not the function's body.

    def visit_Parameters(self, node: cst.Parameters) -> None:
        self._exempt_depth += 1

    def leave_Parameters(self, node: cst.Parameters) -> None:
        self._exempt_depth -= 1

    def visit_Annotation(self, node: cst.Annotation) -> None:
        self._exempt_depth += 1

    def leave_Annotation(self, node: cst.Annotation) -> None:
        self._exempt_depth -= 1

    def visit_Decorator(self, node: cst.Decorator) -> None:
        self._exempt_depth += 1

    def leave_Decorator(self, node: cst.Decorator) -> None:
        self._exempt_depth -= 1

    # -- seams --

    def visit_BooleanOperation(self, node: cst.BooleanOperation) -> None:
        """``p or CALL()``: the call is only the default of the caller's ``p``."""
        if not isinstance(node.operator, cst.Or):
            return
        params = self._params()
        operands = _or_operands(node)
        for index, operand in enumerate(operands[:-1]):
            if _is_input(operand, params):
                self._exempt_all(operands[index + 1 :])
                return

    def visit_IfExp(self, node: cst.IfExp) -> None:
        """``p if p is not None else CALL()``, ``CALL() if p is None else p``."""
        subject = _tested_subject(node.test)
        if not _is_input(subject, self._params()):
            return
        if node.body.deep_equals(subject):
            self._exempt_all((node.orelse,))
        elif node.orelse.deep_equals(subject):
            self._exempt_all((node.body,))

    def visit_If(self, node: cst.If) -> None:
        """``if p is None: p = CALL()`` (for a bare ``p`` also ``self._p = CALL()`` or
        ``return CALL()``)."""
        subject = _absent_subject(node.test)
        if subject is None or not _is_input(subject, self._params()):
            return
        for statement in simple_statements(node.body):
            value = _fills_in(statement, subject)
            if value is not None:
                self._exempt_all((value,))

    def visit_Call(self, node: cst.Call) -> None:
        callee = dotted_name(node.func)
        if callee is not None and callee.rsplit(".", 1)[-1] in DEPENDS_NAMES:
            self._depends.add(id(node))
            self._exempt_depth += 1
            return
        self.check_call(node)

    def leave_Call(self, node: cst.Call) -> None:
        if id(node) in self._depends:
            self._exempt_depth -= 1

    def check_call(self, node: cst.Call) -> None:
        """Report ``node`` if the subclass's catalog knows it and it is in scope."""
        qualified = self.ctx.qualified_name(node.func)
        if qualified is None:
            return
        described = self.describe_call(node, qualified)
        if described is None:
            return
        place = self.place_of(node, node.func)
        if place is None or not self.accepts(node, qualified, place):
            return
        shown, tail = described
        self.report(
            node,
            f"`{shown}` called inside {place.label}: {tail}",
            conditions=place.conditions,
        )

    def describe_call(self, node: cst.Call, qualified: str) -> tuple[str, str] | None:
        """``(name shown, message tail)`` for a call this rule reports, else None."""
        raise NotImplementedError

    def accepts(self, node: cst.Call, qualified: str, place: Place) -> bool:
        """A last look once the call is known to be in scope (override to narrow)."""
        return not (self.makes_provider(qualified) and self._is_provider(place.function, node))

    def makes_provider(self, qualified: str) -> bool:
        """Whether a function that only returns this call is a provider, not a user."""
        return True

    # -- helpers for subclasses --

    def place_of(self, node: cst.CSTNode, receiver: cst.BaseExpression) -> Place | None:
        """Where ``node`` is, or None when it is out of scope, in a seam or on an injected
        receiver."""
        if self._exempt_depth or id(node) in self._exempt:
            return None
        functions = [frame for frame in self._frames if frame.kind != "class"]
        function = next(
            (f.node for f in reversed(functions) if isinstance(f.node, cst.FunctionDef)), None
        )
        if function is None:
            return None  # import time: module level or a class body
        root = _root_name(receiver)
        if root is not None and any(root in frame.params for frame in functions):
            return None
        if self._file_role is None:
            return None
        port_conditions = self._outside_ports()
        if port_conditions is None:
            return None
        role, conditions = self._file_role, (*self._role_conditions, *port_conditions)
        named = [frame for frame in self._frames if frame.kind != "lambda"]
        is_method = len(named) > 1 and named[-1].kind == "function" and named[-2].kind == "class"
        kind = "method" if is_method else "function"
        path = ".".join(frame.name for frame in named)
        return Place(f"{role} {kind} `{path}`", function, conditions)

    def _outside_ports(self) -> tuple[Condition, ...] | None:
        """None inside a class that implements a port (an adapter); else the conditions
        the project pass checks for the enclosing classes' project bases."""
        conditions: list[Condition] = []
        for depth, frame in enumerate(self._frames):
            if frame.kind != "class" or not isinstance(frame.node, cst.ClassDef):
                continue
            verdict = self._class_verdicts.get(id(frame.node))
            if verdict is None:
                top = depth == 0 and bool(self.ctx.module)
                qualified = f"{self.ctx.module}.{frame.name}" if top else None
                verdict = self._ports.verdict(frame.node, qualified)
                self._class_verdicts[id(frame.node)] = verdict
            adapter, needed = verdict
            if adapter:
                return None
            conditions.extend(needed)
        return tuple(conditions)

    def params_in_scope(self) -> frozenset[str]:
        """The parameters of every enclosing function and lambda."""
        names: set[str] = set()
        for frame in self._frames:
            names |= frame.params
        return frozenset(names)

    def resolves(self, node: cst.BaseExpression) -> bool:
        """Whether the head of a dotted callee is an import, a module-level name or a
        builtin (not a local variable the file cannot see into)."""
        written = dotted_name(node)
        if written is None:
            return False
        head = written.split(".", 1)[0]
        return self.ctx.names.qualify(head) != head

    def _is_provider(self, function: cst.FunctionDef, node: cst.Call) -> bool:
        """``def utcnow(): return datetime.now(UTC)``: a function that only returns the
        call, with no input, *is* the clock or factory (and is typically passed by
        reference, as a ``default_factory``); it does not use one implicitly."""
        params = _param_names(function.params) - RECEIVER_NAMES
        value = _only_return(function)
        if params or value is None:
            return False
        if isinstance(value, cst.Attribute):  # ``uuid4().hex``
            value = value.value
        if (
            isinstance(value, cst.Call)
            and len(value.args) == 1
            and self.ctx.qualified_name(value.func) in _CONVERSIONS  # ``str(uuid4())``
        ):
            value = value.args[0].value
        return value is node

    def _params(self) -> frozenset[str]:
        for frame in reversed(self._frames):
            if frame.kind == "function":
                return frame.params
        return frozenset()

    def _exempt_all(self, nodes: Iterable[cst.CSTNode]) -> None:
        for node in nodes:
            self._exempt.add(id(node))
            for inner in iter_descendants(node):
                if isinstance(inner, (cst.Call, cst.Subscript)):
                    self._exempt.add(id(inner))
