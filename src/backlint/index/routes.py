"""Route handler recognition (rules.md §2 "Route handlers"), one file at a time.

A worker finds the handlers of its file from decorators, base classes and registration
calls, with the file's import table. What the file cannot decide alone (that an
imported ``router`` is an ``APIRouter``, that a project base class derives from DRF's
``APIView``, that ``urls.py`` routes to a function) becomes a *requirement* the project
pass checks against the class index and bindings. Each ``Handler`` keeps its node, so
every rule of the file shares one recognition; its ``RouteFact`` goes to the project
index as the route registry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from backlint.index.facts import BindingFact, Requirement, RouteFact
from backlint.index.frameworks import (
    DJANGO_URL_FUNCTIONS,
    HTTP_METHOD_NAMES,
    REGISTRATION_METHODS,
    ROUTE_DECORATOR_VERBS,
    ROUTER_TYPES,
    VIEW_BASE_PREFIXES,
    VIEW_BASES,
    VIEW_DECORATORS,
    VIEWSET_ACTIONS,
)
from backlint.index.names import ImportTable, dotted_name
from backlint.source import parse_expression_text

if TYPE_CHECKING:
    from backlint.index.project import ProjectIndex

_IGNORED_BASES = ("builtins.", "typing.", "abc.", "typing_extensions.", "enum.")


@dataclass(frozen=True)
class Handler:
    """A route handler of the file being checked."""

    node: cst.FunctionDef
    qualname: str  # ``name`` or ``Class.method``
    framework: str  # fastapi, ninja, flask, django, drf, or "view" when a base decides
    requires: tuple[Requirement, ...]
    models: tuple[str, ...]
    websocket: bool = False
    responses: tuple[str, ...] = ()  # the part of ``models`` it returns

    @property
    def fact(self) -> RouteFact:
        return RouteFact(self.qualname, self.framework, self.models, self.requires, self.responses)


# Requirements: checked once per run in the project pass (picklable dataclasses).


@dataclass(frozen=True)
class IsRouter:
    """``qualified`` names a router or app object (``router = APIRouter()`` elsewhere).

    ``fallback`` answers when the project cannot tell (the receiver comes from a library
    or from a factory function): the file said the function looks like a handler anyway
    (a ``routes`` file and a ``Depends(...)`` parameter), a low-confidence match.
    """

    qualified: str
    fallback: bool

    def _resolved(self, project: ProjectIndex) -> bool | None:
        """Whether the receiver is a router, or None when the project cannot tell."""
        binding = project.binding(self.qualified)
        if binding is None or binding.shape != "call" or not binding.target:
            return None
        return makes_router(project, binding.target)

    def holds(self, project: ProjectIndex) -> bool:
        resolved = self._resolved(project)
        return self.fallback if resolved is None else resolved

    def confidence(self, project: ProjectIndex) -> str:
        return "low" if self._resolved(project) is None else "high"


def makes_router(project: ProjectIndex, callee: str, depth: int = 0) -> bool | None:
    """Whether calling ``callee`` gives a router, or None when the project cannot tell.

    ``callee`` is a router class, a project subclass of one, a name bound to what a
    factory returns (``APIRouter = get_api_router_class(APIRoute)``), or a factory
    function whose return annotation names a router type (``-> type[APIRouter]``,
    ``-> APIRouter``) or that returns a router subclass it defines or a router it builds.
    """
    if callee in ROUTER_TYPES:
        return True
    if project.class_fact(callee) is not None:
        return project.inherits(callee, _ROUTER_NAMES)
    defined = project.canonical(callee)
    if defined in ROUTER_TYPES:
        return True  # ``from fastapi import APIRouter`` re-exported by a project module
    binding = project.binding(defined)
    if binding is not None and binding.shape == "call" and binding.target and depth < 3:
        return makes_router(project, binding.target, depth + 1)
    if binding is not None:
        return None  # a variable, or a name imported from a library: nothing to read
    return project.memo(
        ("router-factory", defined), lambda: _factory_makes_router(project, defined)
    )


_ROUTER_NAMES = frozenset(ROUTER_TYPES)


@dataclass(frozen=True)
class Factory:
    """What a module-level function shows of the router it may return (a module
    summary): ``returns`` names its return annotation (None without one),
    ``classes`` the bases of the classes its body defines, by class name, and
    ``returned`` its ``return`` values: a name (``("name", "_Router")``) or a call
    (``("call", "fastapi.APIRouter")``)."""

    returns: tuple[str, ...] | None
    classes: tuple[tuple[str, tuple[str, ...]], ...]
    returned: tuple[tuple[str, str], ...]


def _factories(tree: cst.Module, table: ImportTable) -> dict[str, Factory]:
    """A module summary: the first module-level function of each name, as a ``Factory``."""
    found: dict[str, Factory] = {}
    for statement in _top_level_definitions(tree.body):
        if isinstance(statement, cst.FunctionDef) and statement.name.value not in found:
            found[statement.name.value] = _factory(statement, table)
    return found


def _factory(function: cst.FunctionDef, table: ImportTable) -> Factory:
    returns = None
    if function.returns is not None:
        returns = tuple(annotation_names(function.returns.annotation, table))
    classes = tuple(
        (
            statement.name.value,
            tuple(table.qualified_name(base.value) or "" for base in statement.bases),
        )
        for statement in _body(function)
        if isinstance(statement, cst.ClassDef)
    )
    returned: list[tuple[str, str]] = []
    for statement in _body(function):
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if not isinstance(small, cst.Return) or small.value is None:
                continue
            if isinstance(small.value, cst.Name):
                returned.append(("name", small.value.value))
            elif isinstance(small.value, cst.Call):
                returned.append(("call", table.qualified_name(small.value.func) or ""))
    return Factory(returns, classes, tuple(returned))


def _factory_makes_router(project: ProjectIndex, qualified: str) -> bool | None:
    """Read the project function ``qualified``: does it return a router (class)?"""
    module, _, name = qualified.rpartition(".")
    factories = project.summary(module, "router-factories/v1", _factories) if module else None
    function = None if factories is None else factories.get(name)
    if function is None:
        return None

    def is_router(name: str) -> bool:
        return name in ROUTER_TYPES or (
            project.class_fact(name) is not None and project.inherits(name, _ROUTER_NAMES)
        )

    if function.returns is not None and any(is_router(name) for name in function.returns):
        return True
    return _returns_router(function, is_router) or None


def _returns_router(function: Factory, is_router: Callable[[str], bool]) -> bool:
    """``class _Router(APIRouter): ...; return _Router`` or ``return APIRouter(...)``."""
    local_routers = {
        name for name, bases in function.classes if any(is_router(base) for base in bases)
    }
    return any(
        (shape == "name" and value in local_routers) or (shape == "call" and is_router(value))
        for shape, value in function.returned
    )


@dataclass(frozen=True)
class InheritsFrom:
    """The class ``qualified`` derives from one of ``names`` or a name under ``prefixes``."""

    qualified: str
    names: frozenset[str]
    prefixes: tuple[str, ...] = ()

    def holds(self, project: ProjectIndex) -> bool:
        return project.inherits(self.qualified, self.names, self.prefixes)


@dataclass(frozen=True)
class RoutedByUrls:
    """A Django ``urls.py`` of the run routes to ``qualified``."""

    qualified: str

    def holds(self, project: ProjectIndex) -> bool:
        return project.canonical(self.qualified) in project.url_views


@dataclass(frozen=True)
class UsesDjango:
    def holds(self, project: ProjectIndex) -> bool:
        return project.uses_django


class RouteFinder:
    """Finds the handlers of one module."""

    def __init__(
        self,
        table: ImportTable,
        bindings: Mapping[str, BindingFact],
        module: str,
        is_routes_file: bool,
    ) -> None:
        self._table = table
        self._bindings = bindings
        self._module = module
        self._is_routes_file = is_routes_file

    def find(self, module_node: cst.Module) -> list[Handler]:
        registered = dict(self._registrations(module_node.body))
        handlers: list[Handler] = []
        for statement in _top_level_definitions(module_node.body):
            if isinstance(statement, cst.FunctionDef):
                handler = self._function(statement, statement.name.value, registered)
                if handler is not None:
                    handlers.append(handler)
            elif isinstance(statement, cst.ClassDef):
                handlers.extend(self._class(statement, registered))
        return handlers

    # Functions -----------------------------------------------------------------

    def _function(
        self, node: cst.FunctionDef, qualname: str, registered: Mapping[str, str]
    ) -> Handler | None:
        for decorator in node.decorators:
            found = self._route_decorator(decorator.decorator, node)
            if found is not None:
                framework, requires, verb, call = found
                models = _models(node, call, self._table)
                responses = _responses(node, call, self._table)
                websocket = verb == "websocket"
                return Handler(node, qualname, framework, requires, models, websocket, responses)
            qualified = self._table.qualified_name(_callee(decorator.decorator)) or ""
            if qualified in VIEW_DECORATORS:
                return Handler(node, qualname, VIEW_DECORATORS[qualified], (), ())
        if qualname in registered:
            framework = registered[qualname]
            models = _models(node, None, self._table)
            responses = _responses(node, None, self._table)
            return Handler(node, qualname, framework, (), models, responses=responses)
        if "." not in qualname and _first_parameter(node) == "request":
            # A private ``_helper(request)`` of a views file is a handler only if a
            # ``urls.py`` routes to it: the underscore says it is called, not routed.
            if self._is_routes_file and not qualname.startswith("_"):
                return Handler(node, qualname, "django", (UsesDjango(),), ())
            return Handler(
                node, qualname, "django", (RoutedByUrls(f"{self._module}.{qualname}"),), ()
            )
        return None

    def _route_decorator(
        self, decorator: cst.BaseExpression, node: cst.FunctionDef
    ) -> tuple[str, tuple[Requirement, ...], str, cst.Call] | None:
        """``@router.get(...)``: the framework, what must hold, the verb and the call."""
        if not isinstance(decorator, cst.Call) or not isinstance(decorator.func, cst.Attribute):
            return None
        verb = decorator.func.attr.value
        if verb not in ROUTE_DECORATOR_VERBS:
            return None
        receiver = decorator.func.value
        dotted = dotted_name(receiver)
        if dotted is None or dotted.split(".", 1)[0] in ("self", "cls"):
            return None
        guess = _framework_guess(decorator, node)
        if "." not in dotted and dotted in self._bindings:
            binding = self._bindings[dotted]
            if binding.shape == "call" and binding.target in ROUTER_TYPES:
                return ROUTER_TYPES[binding.target], (), verb, decorator
            if binding.shape not in ("call", "import", "alias"):
                return None
        qualified = self._table.qualified_name(receiver)
        if qualified is None or qualified.startswith("builtins."):
            return None
        # Flask's ``@x.route("/path")`` is distinctive enough on its own; ``@x.get(...)``
        # on an object of unknown type needs the routes role and a ``Depends`` parameter.
        fallback = verb == "route" or (self._is_routes_file and _has_depends(node, self._table))
        return guess, (IsRouter(qualified, fallback),), verb, decorator

    def _registrations(self, body: Sequence[cst.BaseStatement]) -> Iterator[tuple[str, str]]:
        """Functions registered by ``add_api_route``/``add_url_rule`` at module level."""
        for statement in body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                call = small.value if isinstance(small, cst.Expr) else None
                if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Attribute):
                    continue
                framework = REGISTRATION_METHODS.get(call.func.attr.value)
                if framework is None:
                    continue
                view = _registered_view(call)
                if view is not None:
                    yield view, framework

    # Classes -------------------------------------------------------------------

    def _class(self, node: cst.ClassDef, registered: Mapping[str, str]) -> Iterator[Handler]:
        name = node.name.value
        view = self._view_base(node)
        methods = [s for s in _body(node) if isinstance(s, cst.FunctionDef)]
        for method in methods:
            qualname = f"{name}.{method.name.value}"
            handler = self._function(method, qualname, registered)
            if handler is not None:
                yield handler
                continue
            if view is None:
                continue
            framework, requires = view
            if _is_view_method(method, self._table):
                models = _models(method, None, self._table)
                responses = _responses(method, None, self._table)
                yield Handler(method, qualname, framework, requires, models, responses=responses)

    def _view_base(self, node: cst.ClassDef) -> tuple[str, tuple[Requirement, ...]] | None:
        """The framework of a class-based view, with what must hold for it to be one."""
        unknown: list[str] = []
        for base in node.bases:
            if base.keyword is not None:
                continue
            qualified = self._table.qualified_name(base.value)
            if qualified is None or qualified.startswith(_IGNORED_BASES):
                continue
            framework = _view_framework(qualified)
            if framework is not None:
                return framework, ()
            unknown.append(qualified)
        if not unknown:
            return None
        # A project base class (or a library's) may itself derive from a view class.
        names = frozenset(VIEW_BASES)
        prefixes = tuple(VIEW_BASE_PREFIXES)
        return "view", (AnyInherits(tuple(InheritsFrom(q, names, prefixes) for q in unknown)),)


@dataclass(frozen=True)
class AnyInherits:
    """At least one of several base classes derives from a view class."""

    options: tuple[InheritsFrom, ...]

    def holds(self, project: ProjectIndex) -> bool:
        return any(option.holds(project) for option in self.options)


def _view_framework(qualified: str) -> str | None:
    if qualified in VIEW_BASES:
        return VIEW_BASES[qualified]
    for prefix, framework in VIEW_BASE_PREFIXES.items():
        if qualified.startswith(prefix):
            return framework
    return None


def _is_view_method(method: cst.FunctionDef, table: ImportTable) -> bool:
    """Verb methods, ViewSet actions, ``dispatch_request`` and DRF ``@action`` methods.

    Hooks such as ``get_queryset`` or ``perform_create`` are not handlers.
    """
    name = method.name.value
    if name in HTTP_METHOD_NAMES or name in VIEWSET_ACTIONS or name == "dispatch_request":
        return True
    for decorator in method.decorators:
        qualified = table.qualified_name(_callee(decorator.decorator)) or ""
        if qualified.rsplit(".", 1)[-1] == "action" and "rest_framework" in qualified:
            return True
    return False


def _top_level_definitions(
    body: Sequence[cst.BaseStatement],
) -> Iterator[cst.FunctionDef | cst.ClassDef]:
    """Functions and classes at module level, also inside module-level ``if``/``try``."""
    for statement in body:
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            yield statement
        elif isinstance(statement, (cst.If, cst.Try)):
            yield from _top_level_definitions(_body(statement))


def _body(node: cst.CSTNode) -> Sequence[cst.BaseStatement]:
    body = getattr(node, "body", None)
    if isinstance(body, cst.IndentedBlock):
        return body.body
    return ()


def _callee(expression: cst.BaseExpression) -> cst.BaseExpression:
    return expression.func if isinstance(expression, cst.Call) else expression


def _first_parameter(node: cst.FunctionDef) -> str | None:
    params = [*node.params.posonly_params, *node.params.params]
    return params[0].name.value if params else None


def _registered_view(call: cst.Call) -> str | None:
    """The local function (or class, for ``View.as_view()``) a registration call names."""
    candidates = [arg.value for arg in call.args if arg.keyword is None][1:3]
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in ("endpoint", "view_func"):
            candidates.insert(0, arg.value)
    for value in candidates:
        if isinstance(value, cst.Name):
            return value.value
    return None


def _has_depends(node: cst.FunctionDef, table: ImportTable) -> bool:
    """A parameter's default or annotation calls ``Depends`` (FastAPI's injection)."""
    for param in (*node.params.params, *node.params.kwonly_params):
        for expression in (param.default, param.annotation and param.annotation.annotation):
            if isinstance(expression, cst.BaseExpression) and _mentions_depends(expression, table):
                return True
    return False


def _mentions_depends(expression: cst.BaseExpression, table: ImportTable) -> bool:
    if isinstance(expression, cst.Call):
        callee = table.qualified_name(expression.func) or ""
        return callee.rsplit(".", 1)[-1] in ("Depends", "Security")
    if isinstance(expression, cst.Subscript):
        return any(
            isinstance(element.slice, cst.Index) and _mentions_depends(element.slice.value, table)
            for element in expression.slice
        )
    return False


def _framework_guess(decorator: cst.Call, node: cst.FunctionDef) -> str:
    """Best guess when the receiver's type is decided later: Flask's decorators take
    ``methods=`` and are spelled ``route``; FastAPI's take ``response_model=``."""
    keywords = {arg.keyword.value for arg in decorator.args if arg.keyword is not None}
    verb = decorator.func.attr.value if isinstance(decorator.func, cst.Attribute) else ""
    if verb == "route" or ("methods" in keywords and "response_model" not in keywords):
        return "flask"
    return "fastapi"


def _models(
    node: cst.FunctionDef, decorator: cst.Call | None, table: ImportTable
) -> tuple[str, ...]:
    """Qualified names a handler's signature and ``response_model=`` mention.

    Parameters the framework injects (``user: User = Depends(current_user)``) are what a
    dependency returns, not the request: they are left out.
    """
    names = list(_responses(node, decorator, table))
    for param in (*node.params.posonly_params, *node.params.params, *node.params.kwonly_params):
        if param.annotation is not None and not _injected(param, table):
            names.extend(annotation_names(param.annotation.annotation, table))
    return tuple(dict.fromkeys(names))


def _responses(
    node: cst.FunctionDef, decorator: cst.Call | None, table: ImportTable
) -> tuple[str, ...]:
    """Qualified names a handler's ``response_model=`` and return annotation mention."""
    expressions: list[cst.BaseExpression] = []
    if decorator is not None:
        expressions.extend(
            arg.value
            for arg in decorator.args
            if arg.keyword is not None and arg.keyword.value == "response_model"
        )
    if node.returns is not None:
        expressions.append(node.returns.annotation)
    names = [name for expression in expressions for name in annotation_names(expression, table)]
    return tuple(dict.fromkeys(names))


def _injected(param: cst.Param, table: ImportTable) -> bool:
    """``= Depends(get_user)`` or ``Annotated[User, Depends(get_user)]``: a dependency's
    result. ``Depends()`` and ``Depends(Filters)`` on ``Filters`` itself build the class
    from the query string: that one is part of the request."""
    declared = param.annotation.annotation if param.annotation is not None else None
    metadata: list[cst.BaseExpression] = []
    if (
        isinstance(declared, cst.Subscript)
        and (table.qualified_name(declared.value) or "").rsplit(".", 1)[-1] == "Annotated"
    ):
        parts = [e.slice.value for e in declared.slice if isinstance(e.slice, cst.Index)]
        declared, metadata = (parts[0], parts[1:]) if parts else (None, [])
    for candidate in (param.default, *metadata):
        if isinstance(candidate, cst.Call) and _mentions_depends(candidate, table):
            if not candidate.args or declared is None:
                return False
            dependency = table.qualified_name(candidate.args[0].value)
            return dependency != table.qualified_name(declared)
    return False


def annotation_names(expression: cst.BaseExpression, table: ImportTable) -> Iterator[str]:
    """Every qualified class name an annotation mentions.

    Looks inside subscripts (``list[X]``, ``Optional[X]``, ``Annotated[X, ...]``),
    unions (``X | None``) and string annotations (parsed as expressions).
    """
    stack: list[cst.BaseExpression] = [expression]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.SimpleString):
            value = current.evaluated_value
            if isinstance(value, str):
                # Not an expression (a docstring-like annotation): it names nothing.
                parsed = parse_expression_text(value)
                if parsed is not None:
                    stack.append(parsed)
            continue
        if isinstance(current, (cst.Name, cst.Attribute)):
            qualified = table.qualified_name(current)
            if qualified is not None and not qualified.startswith("builtins."):
                yield qualified
            continue
        if isinstance(current, cst.Subscript):
            stack.append(current.value)
            stack.extend(
                element.slice.value
                for element in current.slice
                if isinstance(element.slice, cst.Index)
            )
        elif isinstance(current, cst.BinaryOperation):
            stack.extend((current.left, current.right))
        elif isinstance(current, (cst.List, cst.Tuple)):
            stack.extend(element.value for element in current.elements)


def url_views(module_node: cst.Module, table: ImportTable) -> tuple[str, ...]:
    """The views a Django ``urls.py`` routes to: ``path("x/", views.f)`` gives
    ``<module of views>.f``; ``path("y/", V.as_view())`` gives the class ``V``."""
    finder = _UrlCalls(table)
    module_node.visit(finder)
    return tuple(dict.fromkeys(finder.found))


class _UrlCalls(cst.CSTVisitor):
    def __init__(self, table: ImportTable) -> None:
        super().__init__()
        self._table = table
        self.found: list[str] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Call(self, node: cst.Call) -> None:
        callee = dotted_name(node.func) or ""
        if callee.rsplit(".", 1)[-1] not in DJANGO_URL_FUNCTIONS:
            return
        positional = [arg.value for arg in node.args if arg.keyword is None]
        view = next(
            (
                arg.value
                for arg in node.args
                if arg.keyword is not None and arg.keyword.value == "view"
            ),
            positional[1] if len(positional) > 1 else None,
        )
        if isinstance(view, cst.Call):
            view = _as_view_class(view)
        if view is not None and isinstance(view, (cst.Name, cst.Attribute)):
            qualified = self._table.qualified_name(view)
            if qualified is not None:
                self.found.append(qualified)


def _as_view_class(call: cst.Call) -> cst.BaseExpression | None:
    """``OrderView.as_view()`` gives ``OrderView``; other calls give nothing."""
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value == "as_view":
        return func.value
    return None
