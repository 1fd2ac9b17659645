"""The API contract of a project, from its index: routes with their parameters and the
models they take and return (``model.Contract``).

Starts from the route registry (``ProjectIndex.routes``: handlers whose router or view
base the project confirmed) and reads the declarations of each module from its
``api-contract`` summary (``summary.py``), so a warm run parses nothing. Prefixes come
from the handler's router (``APIRouter(prefix=)``, ``Blueprint(url_prefix=)``) and from
``include_router``/``register_blueprint`` calls in the modules that import it, up to
three imports away. What the code does not say is left out or marked unknown, never
guessed: see ``docs/api-contract.md``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from backlint.contract.model import Contract, Field, Location, Model, Param, Route
from backlint.contract.summary import (
    SUMMARY_KIND,
    ClassDecl,
    FieldDecl,
    ModuleApi,
    ParamDecl,
    RouteDecl,
    RouterDecl,
    summarise,
)
from backlint.index.facts import FileFacts, RouteFact
from backlint.index.frameworks import ENUM_ROOTS, HTTP_METHOD_NAMES, PYDANTIC_BASES
from backlint.index.project import ProjectIndex
from backlint.index.transport import is_pydantic

# Classes whose fields the contract knows without reading them: the model roots.
_KNOWN_ROOTS = (
    PYDANTIC_BASES
    | ENUM_ROOTS
    | frozenset({"builtins.object", "typing.Generic", "pydantic.generics.GenericModel"})
)
_KNOWN_ROOT_PREFIXES = ("rest_framework.serializers.", "enum.", "builtins.")
_SERIALIZER_PREFIX = ("rest_framework.serializers.",)
_SERIALIZER_BASES = frozenset(
    {"rest_framework.serializers.Serializer", "rest_framework.serializers.BaseSerializer"}
)
# Annotations a query parameter can have: anything else from a library (``Request``,
# ``Session``, ``BackgroundTasks``) is injected by the framework, not sent by a client.
_SIMPLE_PREFIXES = ("typing.", "typing_extensions.", "datetime.", "uuid.", "decimal.", "pydantic.")
# Parameters a client never sends.
_INJECTED_MARKERS = frozenset({"Depends", "Security", "Header", "Cookie"})
_BODY_MARKERS = frozenset({"Body", "Form", "File"})
_VIEWSET_ACTIONS = {
    "list": ("GET", ""),
    "create": ("POST", ""),
    "retrieve": ("GET", "{pk}/"),
    "update": ("PUT", "{pk}/"),
    "partial_update": ("PATCH", "{pk}/"),
    "destroy": ("DELETE", "{pk}/"),
}
_MOUNT_DEPTH = 3
_FASTAPI_PARAM = re.compile(r"\{([A-Za-z_]\w*)(?::[^}]*)?\}")
_FLASK_PARAM = re.compile(r"<(?:[^:<>]+:)?([A-Za-z_]\w*)>")
_DJANGO_PARAM = re.compile(r"<(?:[^:<>]+:)?([A-Za-z_]\w*)>|\(\?P<([A-Za-z_]\w*)>")


def extract_contract(project: ProjectIndex) -> Contract:
    """The contract of ``project``, computed once per run."""
    return project.memo("api-contract", lambda: _Extractor(project).contract())


def path_parameters(path: str) -> tuple[str, ...]:
    """The parameter names a path declares: ``{id}``, Flask's and Django's ``<int:id>``."""
    names = [m.group(1) for m in _FASTAPI_PARAM.finditer(path)]
    names += [m.group(1) or m.group(2) for m in _DJANGO_PARAM.finditer(path)]
    return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class _Mount:
    parent: str
    prefix: str
    location: Location


class _Extractor:
    def __init__(self, project: ProjectIndex) -> None:
        self._project = project
        self._models: dict[str, Model | None] = {}
        # Filled by ``contract`` from the modules around the routes.
        self._routers: dict[str, tuple[RouterDecl, Location]] = {}
        self._mounts: dict[str, _Mount] = {}
        self._urls: dict[str, tuple[str, bool]] = {}

    def api(self, module: str) -> ModuleApi | None:
        return self._project.summary(module, SUMMARY_KIND, summarise)

    # The whole contract ----------------------------------------------------------

    def contract(self) -> Contract:
        project = self._project
        route_modules = sorted({facts.module for facts, _ in project.routes})
        # Django's URL configurations, which route to views the registry may not list (a
        # DRF view set that only inherits its actions).
        url_modules = [m for m in project.modules if m.rpartition(".")[2] == "urls"]
        scanned = sorted({*self._neighbourhood(route_modules), *url_modules})
        self._routers = self._collect_routers(scanned)
        self._mounts = self._collect_mounts(scanned)
        self._urls = self._collect_urls(scanned)
        routes: list[Route] = []
        for facts, route in project.routes:
            routes.extend(self._routes(facts, route))
        served = {f"{route.module}.{route.handler.partition('.')[0]}" for route in routes}
        routes.extend(self._registered_viewsets(served))
        routes.sort(key=lambda r: (r.module, r.handler, r.method, r.path))
        return Contract(
            tuple(routes),
            self._reached_models(routes),
            {name: location for name, (_, location) in self._routers.items()},
            {name: mount.location for name, mount in self._mounts.items()},
            frozenset(project.files),
            frozenset(
                f"{module}.{fact.name}"
                for module, facts in project.modules.items()
                for fact in facts.classes
            ),
        )

    def _reached_models(self, routes: list[Route]) -> dict[str, Model]:
        """The models routes take and return, and those their fields nest."""
        pending = sorted({name for route in routes for name in (*route.request, *route.response)})
        reached: dict[str, Model] = {}
        while pending:
            name = pending.pop()
            model = None if name in reached else self.model(name)
            if model is not None:
                reached[name] = model
                pending.extend(t for f in model.fields for t in f.types if t not in reached)
        return dict(sorted(reached.items()))

    def _neighbourhood(self, modules: list[str]) -> list[str]:
        """The route modules and the modules that import them, up to three imports
        away: where their routers are mounted and their URLs configured."""
        graph = self._project.graph
        found = set(modules)
        frontier = set(modules)
        for _ in range(_MOUNT_DEPTH):
            frontier = {
                importer
                for module in frontier
                if module in graph
                for importer in graph.predecessors(module)
                if importer not in found and not self._project.modules[importer].is_test
            }
            found |= frontier
        return sorted(found)

    def _collect_routers(self, modules: list[str]) -> dict[str, tuple[RouterDecl, Location]]:
        routers: dict[str, tuple[RouterDecl, Location]] = {}
        for module in modules:
            api = self.api(module)
            path = self._project.modules[module].path
            for router in api.routers if api else ():
                location = Location(path, router.line)
                routers.setdefault(f"{module}.{router.name}", (router, location))
        return routers

    def _collect_mounts(self, modules: list[str]) -> dict[str, _Mount]:
        """Where each router is included, by its canonical name: the first mount in
        module order (a router mounted twice is served under the first prefix only, as
        far as the contract is concerned)."""
        mounts: dict[str, _Mount] = {}
        for module in modules:
            api = self.api(module)
            path = self._project.modules[module].path
            for mount in api.mounts if api else ():
                child = self._project.canonical(mount.child)
                if child not in mounts:
                    parent = self._project.canonical(mount.parent)
                    mounts[child] = _Mount(parent, mount.prefix, Location(path, mount.line))
        return mounts

    def _collect_urls(self, modules: list[str]) -> dict[str, tuple[str, bool]]:
        """The URL pattern of each view a ``urls.py`` (``path``) or a DRF router
        (``register``) names, by canonical name; the first one wins."""
        urls: dict[str, tuple[str, bool]] = {}
        for module in modules:
            api = self.api(module)
            for url in api.urls if api else ():
                urls.setdefault(self._project.canonical(url.view), (url.pattern, url.viewset))
        return urls

    def prefix(self, router: str, depth: int = 0) -> str:
        """The path prefix of a router: its own, after those of the routers it is
        included in."""
        own = self._routers.get(router)
        text = own[0].prefix if own else ""
        mount = self._mounts.get(router)
        if mount is None or depth > 5:
            return text
        return self.prefix(mount.parent, depth + 1) + mount.prefix + text

    # Routes ----------------------------------------------------------------------

    def _routes(self, facts: FileFacts, route: RouteFact) -> Iterator[Route]:
        api = self.api(facts.module)
        if api is None:
            return
        decls = [decl for decl in api.routes if decl.handler == route.handler]
        if decls:
            for decl in decls:
                yield from self._declared(facts, route, decl)
        else:
            yield from self._view_method(facts, route, api)

    def _declared(self, facts: FileFacts, route: RouteFact, decl: RouteDecl) -> Iterator[Route]:
        router = self._project.canonical(decl.receiver)
        path = "" if decl.path is None else self.prefix(router) + decl.path
        location = Location(facts.path, decl.line, (decl.decorator_line,))
        params: list[Param] = []
        request: list[str] = []
        in_path = set(path_parameters(path))
        fastapi = route.framework in ("fastapi", "ninja")
        for param in decl.params:
            if param.name in in_path:
                params.append(Param(param.alias or param.name, "path", True, param.annotation))
            elif fastapi:
                kind = self._param_kind(param)
                if kind == "query":
                    wire = param.alias or param.name
                    enums = tuple(self._models_in(param.names))
                    params.append(Param(wire, "query", param.required, param.annotation, enums))
                elif kind == "body":
                    request.extend(self._models_in(param.names))
        response = self._models_in(decl.response)
        for method in decl.methods or ("ANY",):
            yield Route(
                method,
                path,
                facts.module,
                decl.handler,
                location,
                router,
                tuple(params),
                tuple(request),
                tuple(response),
            )

    def _param_kind(self, param: ParamDecl) -> str:
        """``query``, ``body`` or ``other`` (injected, a header, undecidable) for a
        FastAPI parameter that is not in the path."""
        if param.name in ("self", "cls") or param.marker in _INJECTED_MARKERS:
            return "other"
        models = self._models_in(param.names)
        if any(self._kind_of(model) != "enum" for model in models):
            return "body" if param.marker in ("", *_BODY_MARKERS) else "other"
        if param.marker in _BODY_MARKERS:
            return "other"
        for name in param.names:
            if name in models:
                continue  # an enumeration
            if not name.startswith(_SIMPLE_PREFIXES):
                return "other"  # a library or project type the framework injects
        return "query"

    def _registered_viewsets(self, served: set[str]) -> Iterator[Route]:
        """A DRF view set a router registers that has no handler of its own in the
        registry (its actions are all inherited): one route for the resource,
        ``ANY <prefix>``, taking and returning its ``serializer_class``."""
        for view, (pattern, viewset) in sorted(self._urls.items()):
            module, _, name = view.rpartition(".")
            if not viewset or view in served:
                continue
            found = self._project.class_fact(view)
            if found is None or not self._project.inherits(view, frozenset(), ("rest_framework.",)):
                continue
            api = self.api(found[2].module)
            decl = next((c for c in api.classes if c.name == name), None) if api else None
            if decl is None:
                continue
            serializer = self._serializer_class(view)
            models = tuple(self._models_in((serializer,))) if serializer else ()
            location = Location(found[2].path, decl.line)
            yield Route("ANY", pattern, module, name, location, "", (), models, models)

    def _serializer_class(self, view: str, depth: int = 0) -> str:
        """A view's ``serializer_class``, its own or inherited from a project base."""
        found = self._project.class_fact(view)
        if found is None or depth > 10:
            return ""
        _, fact, facts = found
        api = self.api(facts.module)
        decl = next((c for c in api.classes if c.name == fact.name), None) if api else None
        if decl is not None and decl.serializer_class:
            return decl.serializer_class
        for base in fact.bases:
            inherited = self._serializer_class(self._project.canonical(base), depth + 1)
            if inherited:
                return inherited
        return ""

    def _kind_of(self, name: str) -> str:
        model = self.model(name)
        return model.kind if model is not None else ""

    def _view_method(self, facts: FileFacts, route: RouteFact, api: ModuleApi) -> Iterator[Route]:
        """A method of a class-based view (Flask ``MethodView``, Django, DRF) or a
        function a ``urls.py`` routes to: its URL comes from the URL configuration."""
        owner, _, method = route.handler.rpartition(".")
        classes = {decl.name: decl for decl in api.classes}
        view = classes.get(owner) if owner else None
        line = next((ln for name, ln in view.methods if name == method), 0) if view else 0
        if view is None and not owner:
            line = dict(api.functions).get(route.handler, 0)
        if not line:
            return
        qualified = f"{facts.module}.{owner or route.handler}"
        pattern, viewset = self._urls.get(qualified, ("", False))
        if view is not None and view.routes and not pattern:
            receiver, declared = view.routes[0]
            router = self._project.canonical(receiver)
            pattern = "" if declared is None else self.prefix(router) + declared
        if method in _VIEWSET_ACTIONS:
            verb, suffix = _VIEWSET_ACTIONS[method]
            path = pattern.rstrip("/") + "/" + suffix if pattern and viewset else ""
        elif method in HTTP_METHOD_NAMES:
            verb, path = method.upper(), pattern
        elif owner:
            verb, path = "ANY", f"{pattern.rstrip('/')}/…/{method}/" if pattern else ""
        else:
            verb, path = "ANY", pattern
        serializer = self._serializer_class(qualified) if owner else ""
        models = self._models_in((serializer,)) if serializer else []
        waiver = (view.line,) if view is not None else ()
        params = tuple(Param(name, "path", True, "") for name in path_parameters(path))
        yield Route(
            verb,
            path,
            facts.module,
            route.handler,
            Location(facts.path, line, waiver),
            "",
            params,
            tuple(models),
            tuple(models),
        )

    # Models ----------------------------------------------------------------------

    def _models_in(self, names: tuple[str, ...]) -> list[str]:
        """The canonical names of the contract models among ``names``."""
        found = []
        for name in names:
            canonical = self._project.canonical(name)
            if self.model(canonical) is not None:
                found.append(canonical)
        return found

    def model(self, name: str) -> Model | None:
        if name not in self._models:
            self._models[name] = None  # a model nested in itself is read once
            self._models[name] = self._read_model(name)
        return self._models[name]

    def _declaration(self, name: str) -> tuple[ClassDecl, FileFacts] | None:
        found = self._project.class_fact(name)
        if found is None:
            return None
        canonical, _, facts = found
        api = self.api(facts.module)
        if api is None:
            return None
        decl = next((c for c in api.classes if c.name == canonical.rpartition(".")[2]), None)
        return None if decl is None else (decl, facts)

    def _read_model(self, name: str) -> Model | None:
        project = self._project
        declared = self._declaration(name)
        if declared is None:
            return None
        decl, facts = declared
        location = Location(facts.path, decl.line)
        if project.inherits(name, ENUM_ROOTS):
            members = tuple(m for m in decl.members if not m.startswith("_"))
            return Model(name, "enum", location, members=members)
        kind = self._kind(name, decl)
        if kind is None:
            return None
        fields, complete = self._fields(name, kind, 0)
        if kind == "serializer":
            fields, complete = self._serializer_fields(name, decl, fields, complete)
        return Model(name, kind, location, tuple(fields), complete=complete)

    def _kind(self, name: str, decl: ClassDecl) -> str | None:
        if is_pydantic(self._project, name):
            return "pydantic"
        if self._project.inherits(name, frozenset(), _SERIALIZER_PREFIX):
            return "serializer"
        if decl.meta_fields is not None and any(
            ancestor.endswith("Serializer") for ancestor in self._project.ancestors(name)
        ):
            # A serializer whose chain of bases the index cannot follow to DRF (a base
            # imported in a way it does not resolve): its ``Meta.fields`` say what it is.
            return "serializer"
        if any(d.rpartition(".")[2] in ("dataclass", "define", "frozen") for d in decl.decorators):
            return "dataclass"
        return None

    def _fields(self, name: str, kind: str, depth: int) -> tuple[list[Field], bool]:
        """The fields of a class and of its project base classes (a subclass's
        declaration wins), and whether every base was readable."""
        declared = self._declaration(name)
        if declared is None or depth > 10:
            return [], False
        decl, _ = declared
        by_name: dict[str, Field] = {}
        complete = True
        for base in decl.bases:
            if not base:
                complete = False
                continue
            canonical = self._project.canonical(base)
            if self._project.class_fact(canonical) is not None:
                inherited, base_complete = self._fields(canonical, kind, depth + 1)
                complete = complete and base_complete
                by_name.update((f.name, f) for f in inherited)
            elif canonical not in _KNOWN_ROOTS and not canonical.startswith(_KNOWN_ROOT_PREFIXES):
                complete = False
        for field in decl.fields:
            if field.classvar or field.name.startswith("_") or field.name == "model_config":
                continue
            by_name[field.name] = self._field(field, kind)
        return list(by_name.values()), complete

    def _field(self, field: FieldDecl, kind: str) -> Field:
        if kind == "serializer":
            required: bool | None = (
                field.drf_required if field.drf_required is not None else field.default == "none"
            )
        elif field.default == "required":
            required = True
        elif field.default == "value":
            required = False
        elif kind == "dataclass" or not field.optional_type:
            required = True
        else:
            required = None  # ``x: Optional[int]``: optional in Pydantic v1, required in v2
        types = tuple(
            canonical
            for canonical in (self._project.canonical(n) for n in field.names)
            if self._project.class_fact(canonical) is not None
        )
        return Field(
            field.name,
            field.alias or field.name,
            field.annotation,
            required,
            field.line,
            field.direction,
            types,
        )

    def _serializer_fields(
        self, name: str, decl: ClassDecl, fields: list[Field], complete: bool
    ) -> tuple[list[Field], bool]:
        """A DRF serializer exposes its ``Meta.fields`` when they are listed (the ones not
        declared come from the Django model: their type is unknown here), else its
        declared fields; a ``ModelSerializer`` without a list of its own is incomplete."""
        if decl.meta_open:
            return fields, False
        if decl.meta_fields is None:
            plain = self._project.inherits(name, _SERIALIZER_BASES)
            return fields, complete and plain
        declared = {f.name: f for f in fields}
        listed = [
            declared.get(field) or Field(field, field, "", None, decl.line)
            for field in decl.meta_fields
        ]
        return listed, True  # the list is what it exposes, whatever its bases declare
