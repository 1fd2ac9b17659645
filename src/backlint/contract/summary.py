"""What one module declares of the HTTP API: a module summary (``ProjectIndex.summary``).

A pure function of the module's tree and import table, returning plain data, so that a
warm run reads it from the summary store without parsing. It records declarations only
(routes as their decorators and signatures spell them, router objects and their
prefixes, ``include_router`` calls, classes with their annotated fields, members and
``Meta``); ``extract.py`` joins them across modules with the project index.

It reads Python's ``ast`` of the module's code rather than the libcst tree: ``ast``
gives every statement's line for free, and ``ast.unparse`` gives an annotation in one
normal spelling (quotes, spaces), so that only real type changes compare unequal.
"""

from __future__ import annotations

import ast
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

from backlint.index.names import ImportTable

SUMMARY_KIND = "api-contract/v1"

# Route decorator verbs and the methods they serve (``route``/``api_route`` read
# ``methods=``).
_VERB_METHODS = {
    "get": "GET",
    "post": "POST",
    "put": "PUT",
    "patch": "PATCH",
    "delete": "DELETE",
    "head": "HEAD",
    "options": "OPTIONS",
    "trace": "TRACE",
}
_MULTI_VERBS = frozenset({"route", "api_route"})
_REGISTRATIONS = frozenset({"add_api_route", "add_url_rule"})
_MOUNTS = {"include_router": "prefix", "register_blueprint": "url_prefix", "add_namespace": "path"}
# DRF fields that are never written, whatever their arguments.
_READ_ONLY_FIELDS = frozenset({"SerializerMethodField", "ReadOnlyField", "HiddenField"})
# What DRF's field classes send, as JSON: two fields of different classes with the same
# wire type are the same to a client. Classes not listed (project fields, method fields,
# relations) have no known wire type, and their changes of class are not compared.
_DRF_WIRE_TYPES = {
    **dict.fromkeys(
        (
            "CharField",
            "EmailField",
            "RegexField",
            "SlugField",
            "URLField",
            "UUIDField",
            "FilePathField",
            "IPAddressField",
            "ChoiceField",
            "DateTimeField",
            "DateField",
            "TimeField",
            "DurationField",
            "FileField",
            "ImageField",
        ),
        "string",
    ),
    "IntegerField": "integer",
    "FloatField": "number",
    "DecimalField": "decimal",
    "BooleanField": "boolean",
    "NullBooleanField": "boolean",
    "ListField": "array",
    "MultipleChoiceField": "array",
    "DictField": "object",
    "HStoreField": "object",
}
# ``api = Api(blueprint)``: flask-restx and flask-restful APIs live under their blueprint.
_WRAPPING_APIS = frozenset({"Api", "ApiExt"})
_ROUTER_PREFIX_KEYWORDS = ("prefix", "url_prefix")


@dataclass(frozen=True)
class ParamDecl:
    """A handler parameter as written: ``marker`` is the FastAPI function its default or
    ``Annotated`` metadata calls (``Query``, ``Path``, ``Body``, ``Depends``...), empty
    for none; ``required`` says whether a client must send it as far as the signature
    tells (no default, or a marker without a default)."""

    name: str
    annotation: str
    names: tuple[str, ...]
    marker: str
    required: bool
    alias: str = ""
    dependency: str = ""  # what ``Depends(x)`` names, qualified


@dataclass(frozen=True)
class RouteDecl:
    """One route registration of a function: a decorator or an ``add_api_route`` call."""

    handler: str
    line: int
    decorator_line: int
    receiver: str  # the router object, qualified
    verb: str
    path: str | None  # None when not a literal
    methods: tuple[str, ...]
    response: tuple[str, ...]  # qualified names of response_model= and the return annotation
    params: tuple[ParamDecl, ...]


@dataclass(frozen=True)
class RouterDecl:
    """A module-level router or app: ``router = APIRouter(prefix="/items")``."""

    name: str
    prefix: str
    line: int


@dataclass(frozen=True)
class MountDecl:
    """``parent.include_router(child, prefix=...)`` (or ``register_blueprint``)."""

    parent: str
    child: str
    prefix: str
    line: int


@dataclass(frozen=True)
class FieldDecl:
    """A field of a class: an annotated attribute, or a DRF serializer field.

    ``default`` is ``none`` (no default), ``value`` or ``required`` (``Field(...)``);
    ``optional_type`` says the annotation admits ``None``. For a DRF field,
    ``annotation`` is the field class (``CharField``) and ``required`` its
    ``required=`` (None when not given).
    """

    name: str
    line: int
    annotation: str
    names: tuple[str, ...]
    default: str
    optional_type: bool
    alias: str = ""
    direction: str = "both"
    drf_required: bool | None = None
    classvar: bool = False


@dataclass(frozen=True)
class ClassDecl:
    name: str
    line: int
    bases: tuple[str, ...]
    decorators: tuple[str, ...]
    fields: tuple[FieldDecl, ...]
    members: tuple[str, ...]  # names assigned in the body: an enumeration's members
    meta_fields: tuple[str, ...] | None  # DRF ``Meta.fields`` when an explicit list
    meta_open: bool  # ``Meta.fields = "__all__"`` or ``Meta.exclude``: fields unknown here
    serializer_class: str  # a view's ``serializer_class``, qualified
    methods: tuple[tuple[str, int], ...]
    # ``@namespace.route("/path")`` on a flask-restx resource: (router, path or None).
    routes: tuple[tuple[str, str | None], ...] = ()


@dataclass(frozen=True)
class UrlDecl:
    """A Django ``path("items/<int:pk>/", view)`` or DRF ``router.register("items", V)``."""

    pattern: str
    view: str
    line: int
    viewset: bool


@dataclass(frozen=True)
class ModuleApi:
    routes: tuple[RouteDecl, ...]
    routers: tuple[RouterDecl, ...]
    mounts: tuple[MountDecl, ...]
    classes: tuple[ClassDecl, ...]
    urls: tuple[UrlDecl, ...]
    functions: tuple[tuple[str, int], ...]  # module-level functions and their lines


def summarise(tree: cst.Module, table: ImportTable) -> ModuleApi:
    """The API declarations of one module."""
    try:
        module = ast.parse(tree.code)
    except (SyntaxError, ValueError, RecursionError):
        return ModuleApi((), (), (), (), (), ())
    reader = _Reader(table)
    routes: list[RouteDecl] = []
    classes: list[ClassDecl] = []
    functions: list[tuple[str, int]] = []
    for node in _definitions(module.body):
        if isinstance(node, ast.ClassDef):
            classes.append(reader.class_decl(node))
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    routes.extend(reader.route_decls(item, f"{node.name}.{item.name}"))
        else:
            functions.append((node.name, node.lineno))
            routes.extend(reader.route_decls(node, node.name))
    routes.extend(reader.registrations(module))
    return ModuleApi(
        tuple(routes),
        tuple(reader.routers(module)),
        tuple(reader.mounts(module)),
        tuple(classes),
        tuple(reader.urls(module)),
        tuple(functions),
    )


def _definitions(
    body: list[ast.stmt],
) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef]:
    """Module-level functions and classes, also inside module-level ``if``/``try``."""
    for statement in body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield statement
        elif isinstance(statement, (ast.If, ast.Try)):
            yield from _definitions(statement.body + statement.orelse)


def _dotted(node: ast.expr) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _string(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _literal_bool(node: ast.expr | None) -> bool | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        return node.value
    return None


def _strings(node: ast.expr | None) -> tuple[str, ...] | None:
    """A list, tuple or set of string literals, or None."""
    if not isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return None
    values = [_string(element) for element in node.elts]
    if any(value is None for value in values):
        return None
    return tuple(value for value in values if value is not None)


def prefix_text(node: ast.expr | None) -> str:
    """A prefix as a path: a literal as it is, an f-string's literal parts with its
    expressions in brackets, any other expression in brackets (``[settings.API_PREFIX]``)."""
    if node is None:
        return ""
    literal = _string(node)
    if literal is not None:
        return literal
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            text = _string(value)
            if text is not None:
                parts.append(text)
            elif isinstance(value, ast.FormattedValue):
                parts.append(f"[{ast.unparse(value.value)}]")
        return "".join(parts)
    return f"[{ast.unparse(node)}]"


def is_optional(annotation: ast.expr | None) -> bool:
    """``Optional[X]``, ``X | None``, ``Union[X, None]``, ``None``."""
    if annotation is None:
        return False
    if isinstance(annotation, ast.Constant):
        if annotation.value is None:
            return True
        if isinstance(annotation.value, str):
            try:
                parsed = ast.parse(annotation.value, mode="eval").body
            except SyntaxError:
                return False
            return is_optional(parsed)
        return False
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        return is_optional(annotation.left) or is_optional(annotation.right)
    if isinstance(annotation, ast.Subscript):
        head = (_dotted(annotation.value) or "").rpartition(".")[2]
        if head == "Optional":
            return True
        if head == "Union":
            elements = (
                annotation.slice.elts
                if isinstance(annotation.slice, ast.Tuple)
                else [annotation.slice]
            )
            return any(is_optional(element) for element in elements)
        if head == "Annotated":
            first = (
                annotation.slice.elts[0]
                if isinstance(annotation.slice, ast.Tuple) and annotation.slice.elts
                else annotation.slice
            )
            return is_optional(first)
    return False


class _Reader:
    def __init__(self, table: ImportTable) -> None:
        self._table = table

    def qualify(self, node: ast.expr) -> str:
        dotted = _dotted(node.func if isinstance(node, ast.Call) else node)
        return self._table.qualify(dotted) if dotted else ""

    def annotation_names(self, node: ast.expr | None) -> tuple[str, ...]:
        """Qualified names an annotation mentions (not builtins), inside subscripts,
        unions and string annotations."""
        found: list[str] = []
        stack = [node] if node is not None else []
        while stack:
            current = stack.pop()
            if isinstance(current, ast.Constant) and isinstance(current.value, str):
                with contextlib.suppress(SyntaxError):
                    stack.append(ast.parse(current.value, mode="eval").body)
            elif isinstance(current, (ast.Name, ast.Attribute)):
                qualified = self.qualify(current)
                if qualified and not qualified.startswith("builtins."):
                    found.append(qualified)
            elif isinstance(current, ast.Subscript):
                head = self.qualify(current.value)
                if head.rpartition(".")[2] == "Literal":
                    continue
                stack.append(current.value)
                stack.append(current.slice)
            elif isinstance(current, ast.BinOp):
                stack.extend((current.left, current.right))
            elif isinstance(current, (ast.Tuple, ast.List)):
                stack.extend(current.elts)
        return tuple(dict.fromkeys(reversed(found)))

    # Routes --------------------------------------------------------------------

    def route_decls(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, qualname: str
    ) -> Iterator[RouteDecl]:
        for decorator in node.decorator_list:
            if not isinstance(decorator, ast.Call) or not isinstance(decorator.func, ast.Attribute):
                continue
            verb = decorator.func.attr
            if verb not in _VERB_METHODS and verb not in _MULTI_VERBS:
                continue
            receiver = self.qualify(decorator.func.value)
            if not receiver:
                continue
            path_node = decorator.args[0] if decorator.args else _keyword(decorator, "path")
            if path_node is None:
                path_node = _keyword(decorator, "rule")
            yield RouteDecl(
                qualname,
                node.lineno,
                decorator.lineno,
                receiver,
                verb,
                _string(path_node),
                self._methods(verb, decorator),
                self._responses(node, decorator),
                self.params(node),
            )

    def _methods(self, verb: str, call: ast.Call) -> tuple[str, ...]:
        if verb in _VERB_METHODS:
            return (_VERB_METHODS[verb],)
        methods = _strings(_keyword(call, "methods"))
        if methods is None:
            return ("GET",) if _keyword(call, "methods") is None else ()
        return tuple(sorted({method.upper() for method in methods}))

    def _responses(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, call: ast.Call | None
    ) -> tuple[str, ...]:
        names: list[str] = []
        if call is not None:
            names.extend(self.annotation_names(_keyword(call, "response_model")))
        names.extend(self.annotation_names(node.returns))
        return tuple(dict.fromkeys(names))

    def params(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[ParamDecl, ...]:
        arguments = node.args
        positional = [*arguments.posonlyargs, *arguments.args]
        defaults: list[ast.expr | None] = [None] * (len(positional) - len(arguments.defaults))
        defaults.extend(arguments.defaults)
        pairs = list(zip(positional, defaults, strict=True))
        pairs.extend(zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True))
        return tuple(self._param(argument, default) for argument, default in pairs)

    def _param(self, argument: ast.arg, default: ast.expr | None) -> ParamDecl:
        annotation = argument.annotation
        declared = annotation
        metadata: list[ast.expr] = []
        if (
            isinstance(annotation, ast.Subscript)
            and self.qualify(annotation.value).rpartition(".")[2] == "Annotated"
            and isinstance(annotation.slice, ast.Tuple)
            and annotation.slice.elts
        ):
            declared, *metadata = annotation.slice.elts
        marker_call = next(
            (
                candidate
                for candidate in (default, *metadata)
                if isinstance(candidate, ast.Call) and self._marker(candidate)
            ),
            None,
        )
        marker = self._marker(marker_call) if isinstance(marker_call, ast.Call) else ""
        required = default is None or _is_ellipsis(default)
        alias = ""
        dependency = ""
        if isinstance(marker_call, ast.Call):
            if marker_call is default or default is None:
                required = not _call_has_default(marker_call)
            alias = _string(_keyword(marker_call, "alias")) or ""
            if marker in ("Depends", "Security") and marker_call.args:
                dependency = self.qualify(marker_call.args[0])
        return ParamDecl(
            argument.arg,
            ast.unparse(declared) if declared is not None else "",
            self.annotation_names(declared),
            marker,
            required,
            alias,
            dependency,
        )

    def _marker(self, call: ast.Call) -> str:
        name = self.qualify(call).rpartition(".")[2]
        markers = ("Query", "Path", "Body", "Header", "Cookie", "Form", "File", "Depends")
        return name if name in (*markers, "Security") else ""

    def registrations(self, module: ast.Module) -> Iterator[RouteDecl]:
        """``router.add_api_route("/x", handler, methods=[...])`` and Flask's
        ``app.add_url_rule("/x", view_func=handler)`` at module level."""
        functions = {
            node.name: node
            for node in _definitions(module.body)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        }
        for statement in module.body:
            call = statement.value if isinstance(statement, ast.Expr) else None
            if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Attribute):
                continue
            if call.func.attr not in _REGISTRATIONS:
                continue
            view = _keyword(call, "endpoint") or _keyword(call, "view_func")
            if view is None:
                view = call.args[1] if len(call.args) > 1 else None
                if call.func.attr == "add_url_rule" and len(call.args) > 2:
                    view = call.args[2]
            if not isinstance(view, ast.Name) or view.id not in functions:
                continue
            function = functions[view.id]
            path = call.args[0] if call.args else _keyword(call, "path")
            yield RouteDecl(
                view.id,
                function.lineno,
                call.lineno,
                self.qualify(call.func.value),
                "route",
                _string(path),
                self._methods("route", call),
                self._responses(function, call),
                self.params(function),
            )

    def routers(self, module: ast.Module) -> Iterator[RouterDecl]:
        """Module-level ``name = Something(prefix=...)``: every call that takes a
        router prefix keyword, or names a router or app class."""
        for statement in module.body:
            if not isinstance(statement, (ast.Assign, ast.AnnAssign)):
                continue
            value = statement.value
            if not isinstance(value, ast.Call):
                continue
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            prefix_node = next(
                (_keyword(value, k) for k in _ROUTER_PREFIX_KEYWORDS if _keyword(value, k)), None
            )
            for target in targets:
                if isinstance(target, ast.Name):
                    yield RouterDecl(target.id, prefix_text(prefix_node), statement.lineno)

    def mounts(self, module: ast.Module) -> Iterator[MountDecl]:
        for node in ast.walk(module):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            keyword = _MOUNTS.get(node.func.attr)
            if keyword is None or not node.args:
                continue
            child = self.qualify(node.args[0])
            parent = self.qualify(node.func.value)
            if child and parent:
                prefix_node = _keyword(node, keyword)
                if prefix_node is None and node.func.attr == "add_namespace":
                    prefix_node = node.args[1] if len(node.args) > 1 else None
                yield MountDecl(parent, child, prefix_text(prefix_node), node.lineno)
        for statement in module.body:
            if not isinstance(statement, ast.Assign) or not isinstance(statement.value, ast.Call):
                continue
            call = statement.value
            if self.qualify(call).rpartition(".")[2] not in _WRAPPING_APIS or not call.args:
                continue
            parent = self.qualify(call.args[0])
            for target in statement.targets:
                if isinstance(target, ast.Name) and parent:
                    yield MountDecl(parent, self._table.qualify(target.id), "", statement.lineno)

    def urls(self, module: ast.Module) -> Iterator[UrlDecl]:
        for node in ast.walk(module):
            if not isinstance(node, ast.Call):
                continue
            callee = (_dotted(node.func) or "").rpartition(".")[2]
            if callee in ("add_resource", "add_org_resource") and len(node.args) > 1:
                pattern = _string(node.args[1])
                if pattern is not None and isinstance(node.args[0], (ast.Name, ast.Attribute)):
                    yield UrlDecl(pattern, self.qualify(node.args[0]), node.lineno, False)
            elif callee == "register" and isinstance(node.func, ast.Attribute):
                pattern = _string(node.args[0]) if node.args else None
                view = node.args[1] if len(node.args) > 1 else _keyword(node, "viewset")
                if pattern is not None and view is not None:
                    yield UrlDecl(pattern, self.qualify(view), node.lineno, True)
            elif callee in ("path", "re_path", "url") and len(node.args) > 1:
                pattern = _string(node.args[0])
                view = node.args[1]
                if (
                    isinstance(view, ast.Call)
                    and isinstance(view.func, ast.Attribute)
                    and view.func.attr == "as_view"
                ):
                    view = view.func.value
                if pattern is not None and isinstance(view, (ast.Name, ast.Attribute)):
                    yield UrlDecl(pattern, self.qualify(view), node.lineno, False)

    # Classes -------------------------------------------------------------------

    def class_decl(self, node: ast.ClassDef) -> ClassDecl:
        fields: list[FieldDecl] = []
        members: list[str] = []
        meta_fields: tuple[str, ...] | None = None
        meta_open = False
        serializer_class = ""
        methods: list[tuple[str, int]] = []
        for item in node.body:
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                fields.append(self._annotated_field(item, item.target.id))
            elif isinstance(item, ast.Assign):
                names = [t.id for t in item.targets if isinstance(t, ast.Name)]
                for name in names:
                    if name == "serializer_class":
                        serializer_class = self.qualify(item.value)
                    elif not name.startswith("_"):
                        members.append(name)
                        drf = self._drf_field(item, name)
                        if drf is not None:
                            fields.append(drf)
            elif isinstance(item, ast.ClassDef) and item.name == "Meta":
                meta_fields, meta_open = _meta(item)
            elif isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                methods.append((item.name, item.lineno))
        return ClassDecl(
            node.name,
            node.lineno,
            tuple(
                self.qualify(base.value if isinstance(base, ast.Subscript) else base)
                for base in node.bases
            ),
            tuple(self.qualify(d) for d in node.decorator_list),
            tuple(fields),
            tuple(members),
            meta_fields,
            meta_open,
            serializer_class,
            tuple(methods),
            tuple(self._class_routes(node)),
        )

    def _class_routes(self, node: ast.ClassDef) -> Iterator[tuple[str, str | None]]:
        for decorator in node.decorator_list:
            if (
                isinstance(decorator, ast.Call)
                and isinstance(decorator.func, ast.Attribute)
                and decorator.func.attr == "route"
            ):
                receiver = self.qualify(decorator.func.value)
                if receiver:
                    yield receiver, _string(decorator.args[0]) if decorator.args else None

    def _annotated_field(self, item: ast.AnnAssign, name: str) -> FieldDecl:
        annotation = item.annotation
        classvar = self.qualify(
            annotation.value if isinstance(annotation, ast.Subscript) else annotation
        ).rpartition(".")[2] in ("ClassVar", "InitVar")
        default = "none"
        alias = ""
        value = item.value
        if value is not None:
            default = "value"
            if _is_ellipsis(value):
                default = "required"
            elif isinstance(value, ast.Call) and self.qualify(value).rpartition(".")[2] in (
                "Field",
                "field",
                "Column",
            ):
                default = "value" if _call_has_default(value) else "required"
                alias = _string(_keyword(value, "alias")) or ""
                alias = alias or _string(_keyword(value, "serialization_alias")) or ""
        return FieldDecl(
            name,
            item.lineno,
            ast.unparse(annotation),
            self.annotation_names(annotation),
            default,
            is_optional(annotation),
            alias,
            classvar=classvar,
        )

    def _drf_field(self, item: ast.Assign, name: str) -> FieldDecl | None:
        """``name = serializers.CharField(required=False)``: a declared serializer field
        (any call of a class named ``...Field`` or ``...Serializer``)."""
        call = item.value
        if not isinstance(call, ast.Call):
            return None
        callee = self.qualify(call)
        short = callee.rpartition(".")[2]
        if not (short.endswith(("Field", "Serializer")) or short == "ListField"):
            return None
        read_only = _literal_bool(_keyword(call, "read_only")) is True or short in _READ_ONLY_FIELDS
        read_only = read_only or short.endswith("IdentityField")
        write_only = _literal_bool(_keyword(call, "write_only")) is True
        direction = "response" if read_only else "request" if write_only else "both"
        many = _literal_bool(_keyword(call, "many")) is True
        has_default = _keyword(call, "default") is not None
        wire = short if short.endswith("Serializer") else _DRF_WIRE_TYPES.get(short, "")
        return FieldDecl(
            name,
            item.lineno,
            f"list[{wire}]" if many and wire else wire,
            (callee,),
            "value" if has_default or read_only else "none",
            _literal_bool(_keyword(call, "allow_null")) is True,
            "",  # ``source=`` renames the attribute read, not the field on the wire
            direction,
            _literal_bool(_keyword(call, "required")),
        )


def _is_ellipsis(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is Ellipsis


def _call_has_default(call: ast.Call) -> bool:
    """``Field(3)``, ``Query(None)``, ``Field(default=1)`` or ``default_factory=``: a
    default; ``Field(...)``, ``Query()`` and ``Field(alias="x")``: required."""
    if call.args:
        return not _is_ellipsis(call.args[0])
    default = _keyword(call, "default")
    if default is not None:
        return not _is_ellipsis(default)
    return _keyword(call, "default_factory") is not None


def _meta(node: ast.ClassDef) -> tuple[tuple[str, ...] | None, bool]:
    """DRF ``Meta``: the explicit ``fields`` list, and whether fields come from
    elsewhere (``"__all__"``, ``exclude``)."""
    fields: tuple[str, ...] | None = None
    open_ended = False
    for item in node.body:
        if not isinstance(item, ast.Assign):
            continue
        for target in item.targets:
            if not isinstance(target, ast.Name):
                continue
            if target.id == "fields":
                fields = _strings(item.value)
                open_ended = open_ended or fields is None
            elif target.id == "exclude":
                open_ended = True
    return fields, open_ended
