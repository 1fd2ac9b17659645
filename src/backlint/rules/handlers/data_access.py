"""BL102's search: persistence calls a route handler makes itself.

Three kinds, by the receiver's type rather than its name:

* ``session``: ``query``/``execute``/``add``/``commit``... on a SQLAlchemy or SQLModel
  session: a parameter annotated ``Session``/``AsyncSession`` (also through
  ``Annotated[...]`` and aliases such as ``SessionDep``), a parameter injected with
  ``Depends(get_db)``, a name bound to ``SessionLocal()``/``Session(engine)``, a
  ``scoped_session`` object, or Flask-SQLAlchemy's ``db.session``;
* ``orm``: Django's ``Model.objects.<method>(...)`` and Flask-SQLAlchemy's
  ``Model.query.<method>(...)``;
* ``repository``: any public method of an object whose type is a ``*Repository`` class
  (annotation, ``Annotated`` alias, or a binding to ``XRepository(...)``).

``get_object_or_404(...)``/``get_list_or_404(...)`` and ``Model.query....first_or_404()``
are shortcuts that map "not found" to HTTP: they and the query they wrap are left out.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import libcst as cst

from backlint.engine.walker import iter_children
from backlint.index.names import dotted_name
from backlint.index.routes import UsesDjango
from backlint.rules.handlers.common import (
    FETCH_OR_404,
    FLASK_SQLALCHEMY,
    OR_404_METHODS,
    SESSION_FACTORIES,
    SESSION_TYPES,
    BoundToCall,
    IsFlaskSQLAlchemy,
    IsRepositoryAlias,
    IsSessionType,
    callee_name,
    is_depends,
    last_name,
    parameters,
    sessionish,
    type_candidates,
)

if TYPE_CHECKING:
    from backlint.engine.context import FileContext
    from backlint.index.project import ProjectIndex
    from backlint.index.routes import Handler
    from backlint.rules.base import Condition

SESSION_METHODS = frozenset(
    {
        "query",
        "execute",
        "exec",
        "scalars",
        "scalar",
        "get",
        "add",
        "add_all",
        "delete",
        "merge",
        "refresh",
        "flush",
        "commit",
        "rollback",
        "bulk_save_objects",
        "bulk_insert_mappings",
        "bulk_update_mappings",
    }
)
# ``self.session`` of a class-based view whose type the file cannot see (declared on a
# base class elsewhere): trusted by name, without the ambiguous ``get``.
_SELF_SESSION_NAMES = frozenset({"session", "db_session", "dbsession"})
_SCOPED = frozenset(SESSION_FACTORIES - {"sqlalchemy.orm.sessionmaker"})
_SHOWN = 4  # calls named in one message; the rest are counted
_SESSION_WRITES = frozenset(
    {
        "add",
        "add_all",
        "delete",
        "merge",
        "flush",
        "commit",
        "bulk_save_objects",
        "bulk_insert_mappings",
        "bulk_update_mappings",
    }
)
# Ending (or undoing) the request's transaction, and reloading a row after it: the
# unit of work of one request.
TRANSACTION_CONTROL = frozenset(
    {"commit", "rollback", "flush", "begin", "begin_nested", "close", "refresh", "expire"}
)
# ``Model.objects...`` and ``Model.query...`` methods that write.
_ORM_WRITES = frozenset(
    {
        "create",
        "bulk_create",
        "bulk_update",
        "get_or_create",
        "update_or_create",
        "update",
        "delete",
    }
)
# ``Model.objects`` methods that give one model instance.
_ORM_INSTANCE = frozenset({"get", "create", "first", "last", "latest", "earliest"})
# Statements a session executes that write.
_WRITE_STATEMENTS = frozenset({"insert", "update", "delete"})
# Repository method names that write (``update``, ``soft_delete``,
# ``record_decision``); reads (``get_by_id``, ``paginate``, ``apply_sorting``) are
# queries a handler may make.
_WRITE_PREFIXES = (
    "create",
    "update",
    "delete",
    "save",
    "add",
    "remove",
    "insert",
    "upsert",
    "set_",
    "bulk_",
    "soft_delete",
    "destroy",
    "archive",
    "unarchive",
    "restore",
    "record",
    "mark",
    "increment",
    "decrement",
    "persist",
    "store",
    "commit",
    "flush",
    "cancel",
    "approve",
    "reject",
    "enable",
    "disable",
    "activate",
    "deactivate",
    "assign",
    "unassign",
    "attach",
    "detach",
    "link",
    "unlink",
    "grant",
    "revoke",
    "block",
    "unblock",
    "lock",
    "unlock",
    "publish",
    "unpublish",
    "purge",
    "reset",
    "write",
    "put",
    "move",
)
# Classes that hold data but are not models: their ``save()`` is theirs.
DJANGO_MODELS = frozenset({"django.db.models.Model", "django.db.models.base.Model"})
_NOT_MODELS = ("Serializer", "Form", "FormSet", "Response", "Exception", "Error")
# Classmethods that build a repository: ``OrderRepository.from_session(session)``.
_CONSTRUCTORS = frozenset(
    {"create", "new", "build", "instance", "get_instance", "for_session", "with_session"}
)
# Django's content-type registry: a cached lookup of model metadata, not a query a
# repository would own.
_CONTENT_TYPE_CACHE = frozenset({"get_for_model", "get_for_models", "get_for_id", "clear_cache"})

# What a receiver holds, with what must hold for it: "session", "repository", a
# fetched model "instance" or one "built" by calling its class.
Kind = tuple[str, tuple["Condition", ...]]


@dataclass(frozen=True)
class Access:
    """One persistence call: the call, how it reads (``db.query``), its kind, whether
    it writes (``add``, ``save``, ``update_many``) and whether it only ends or undoes
    a transaction (``commit``, ``rollback``)."""

    node: cst.Call
    shown: str
    kind: str  # session, orm, repository
    conditions: tuple[Condition, ...]
    write: bool = False
    control: bool = False


class DataAccessFinder:
    """Finds the persistence calls of the handlers of one file."""

    def __init__(
        self,
        ctx: FileContext,
        aliases: Mapping[str, cst.BaseExpression],
        class_annotations: Mapping[str, Mapping[str, cst.BaseExpression]],
    ) -> None:
        self._ctx = ctx
        self._aliases = aliases
        self._class_annotations = class_annotations

    def find(self, handler: Handler) -> list[Access]:
        receivers = self._parameters(handler.node)
        calls: list[cst.Call] = []
        for node, exempt in _walk(handler.node):
            if isinstance(node, cst.Call) and not exempt:
                calls.append(node)
            elif isinstance(node, cst.Assign) and len(node.targets) == 1:
                self._bind(receivers, node.targets[0].target, self._value_kind(node.value))
            elif isinstance(node, cst.AnnAssign):
                kind = self._annotation_kind(node.annotation.annotation)
                if kind is None and node.value is not None:
                    kind = self._value_kind(node.value)
                self._bind(receivers, node.target, kind)
            elif isinstance(node, cst.WithItem) and node.asname is not None:
                self._bind(receivers, node.asname.name, self._value_kind(node.item))
            elif isinstance(node, cst.For) and _orm_chain(node.iter):
                # ``for order in Order.objects.filter(...)``: each one a model instance.
                self._bind(receivers, node.target, ("instance", (UsesDjango(),)))
        owner = handler.qualname.split(".")[0] if "." in handler.qualname else None
        written = _written_chains(calls)
        found: list[Access] = []
        for call in calls:
            access = self._access(call, receivers, owner)
            if access is None or _ping(call):
                continue
            if access.kind == "orm" and id(call) in written:
                access = replace(access, write=True)
            found.append(access)
        return found

    # Receivers -----------------------------------------------------------------

    def _parameters(self, node: cst.FunctionDef) -> dict[str, Kind | None]:
        receivers: dict[str, Kind | None] = {}
        for param in parameters(node):
            kind = None
            if param.annotation is not None:
                kind = self._annotation_kind(param.annotation.annotation)
            if kind is None and _session_dependency(param.default):
                kind = ("session", ())
            receivers[param.name.value] = kind
        return receivers

    @staticmethod
    def _bind(
        receivers: dict[str, Kind | None], target: cst.BaseExpression, kind: Kind | None
    ) -> None:
        if isinstance(target, cst.Name):
            receivers[target.value] = kind

    def _annotation_kind(self, annotation: cst.BaseExpression) -> Kind | None:
        for candidate, extras in type_candidates(annotation, self._aliases):
            qualified = self._ctx.qualified_name(candidate)
            if qualified is None or qualified.startswith("builtins."):
                if any(_session_dependency(extra) for extra in extras):
                    return ("session", ())
                continue
            if qualified in SESSION_TYPES:
                return ("session", ())
            name = qualified.rsplit(".", 1)[-1]
            if name.endswith("Repository"):
                return ("repository", ())
            if any(_session_dependency(extra) for extra in extras):
                return ("session", ())
            if "repo" in name.lower():
                return ("repository", (IsRepositoryAlias(qualified),))
            if "." in qualified:
                # An imported name or a class of this module: the project pass knows
                # whether it is a session (subclass, re-export, ``Annotated`` alias).
                return ("session", (IsSessionType(qualified),))
        return None

    def _value_kind(self, value: cst.BaseExpression) -> Kind | None:
        """What a local name holds after ``name = value`` (or ``with value as name``)."""
        if isinstance(value, cst.Await):
            value = value.expression
        if not isinstance(value, cst.Call):
            return None
        name = last_name(value.func) or ""
        qualified = self._ctx.qualified_name(value.func)
        if qualified in SESSION_TYPES or name.endswith("SessionLocal"):
            return ("session", ())
        if name[:1].isupper() and name.endswith("Repository"):
            return ("repository", ())
        if _repository_constructor(value.func):
            return ("repository", ())
        if _fetches_instance(value, name):
            return ("instance", (UsesDjango(),))
        if qualified is None:
            return None
        if isinstance(value.func, cst.Name):
            binding = self._ctx.bindings.get(value.func.value)
            if binding is not None and binding.shape == "call":
                return ("session", ()) if binding.target in SESSION_FACTORIES else None
            if self._ctx.names.imported(value.func.value) is not None and sessionish(name):
                return ("session", (BoundToCall(qualified, SESSION_FACTORIES),))
        if _builds_instance(value, name):
            return ("built", (IsDjangoModel(qualified),))
        return None

    def _module_kind(self, name: str) -> Kind | None:
        """A receiver that is a module-level name of this file or an imported one."""
        binding = self._ctx.bindings.get(name)
        if binding is not None and binding.shape == "call":
            target = binding.target
            if target in SESSION_TYPES or target in _SCOPED or target.endswith("SessionLocal"):
                return ("session", ())
            if target.rsplit(".", 1)[-1].endswith("Repository"):
                return ("repository", ())
            return None
        imported = self._ctx.names.imported(name)
        if imported is not None and sessionish(name):
            return ("session", (BoundToCall(imported, _SCOPED | SESSION_TYPES),))
        return None

    def _self_kind(self, owner: str | None, attribute: str) -> Kind | None:
        annotations = self._class_annotations.get(owner or "", {})
        if attribute in annotations:
            return self._annotation_kind(annotations[attribute])
        return None

    # Calls ---------------------------------------------------------------------

    def _access(
        self, call: cst.Call, receivers: Mapping[str, Kind | None], owner: str | None
    ) -> Access | None:
        func = call.func
        if not isinstance(func, cst.Attribute):
            return None
        method = func.attr.value
        if method in OR_404_METHODS:
            return None  # ``Model.query.get_or_404(id)``: fetch or 404, like the shortcut
        receiver = func.value
        shown = dotted_name(func) or _shown_call(func)
        if isinstance(receiver, cst.Name):
            name = receiver.value
            kind = receivers[name] if name in receivers else self._module_kind(name)
            return _typed_access(call, shown, method, kind)
        if isinstance(receiver, cst.Call):
            # ``OrderRepository(db).list(...)``: constructed and called on the spot.
            return _typed_access(call, shown, method, self._value_kind(receiver))
        if not isinstance(receiver, cst.Attribute):
            return None
        holder = receiver.value
        attribute = receiver.attr.value
        if attribute in ("objects", "query") and _is_class_name(holder):
            if method in _CONTENT_TYPE_CACHE:
                return None
            return Access(call, shown, "orm", (), write=method in _ORM_WRITES)
        if isinstance(holder, cst.Name) and holder.value in ("self", "cls"):
            kind = self._self_kind(owner, attribute)
            if kind is None and attribute in _SELF_SESSION_NAMES and method != "get":
                kind = ("session", ())
            return _typed_access(call, shown, method, kind)
        if attribute == "session" and method in SESSION_METHODS:
            return self._flask_session(call, shown, holder)
        return None

    def _flask_session(
        self, call: cst.Call, shown: str, holder: cst.BaseExpression
    ) -> Access | None:
        """``db.session.add(...)`` where ``db`` is a Flask-SQLAlchemy extension."""
        qualified = self._ctx.qualified_name(holder)
        if qualified is None:
            return None
        if isinstance(holder, cst.Name):
            binding = self._ctx.bindings.get(holder.value)
            if binding is not None and binding.shape == "call":
                if binding.target in FLASK_SQLALCHEMY:
                    return _session_access(call, shown, ())
                # A subclass of ``SQLAlchemy`` defined here: the project pass decides.
                return _session_access(call, shown, (IsFlaskSQLAlchemy(qualified),))
            if self._ctx.names.imported(holder.value) is None:
                return None
        elif self._ctx.names.imported((dotted_name(holder) or "").split(".")[0]) is None:
            return None
        return _session_access(call, shown, (IsFlaskSQLAlchemy(qualified),))


def _typed_access(call: cst.Call, shown: str, method: str, kind: Kind | None) -> Access | None:
    if kind is None:
        return None
    name, conditions = kind
    if name == "session" and method in SESSION_METHODS:
        return _session_access(call, shown, conditions)
    if name == "repository" and not method.startswith("_"):
        write = method.startswith(_WRITE_PREFIXES)
        return Access(call, shown, "repository", conditions, write)
    if (name == "instance" and method in ("save", "delete")) or (
        name == "built" and method == "save"
    ):
        return Access(call, shown, "orm", conditions, write=True)
    return None


def _session_access(call: cst.Call, shown: str, conditions: tuple[Condition, ...]) -> Access:
    method = call.func.attr.value if isinstance(call.func, cst.Attribute) else ""
    write = method in _SESSION_WRITES or _executes_write(call, method)
    return Access(call, shown, "session", conditions, write, method in TRANSACTION_CONTROL)


def _executes_write(call: cst.Call, method: str) -> bool:
    """``session.execute(update(Order)...)``: a statement that writes."""
    if method not in ("execute", "exec") or not call.args:
        return False
    statement = call.args[0].value
    while isinstance(statement, cst.Call) and isinstance(statement.func, cst.Attribute):
        statement = statement.func.value  # ``update(X).where(...).values(...)``
    return isinstance(statement, cst.Call) and last_name(statement.func) in _WRITE_STATEMENTS


def _ping(call: cst.Call) -> bool:
    """``session.execute(select(1))``, ``text("SELECT 1")``: a health check of the
    connection, not data access."""
    func = call.func
    if not (isinstance(func, cst.Attribute) and func.attr.value in ("execute", "exec", "scalar")):
        return False
    if len(call.args) != 1 or not isinstance(call.args[0].value, cst.Call):
        return False
    inner = call.args[0].value
    values = [arg.value for arg in inner.args]
    if last_name(inner.func) == "select":
        return bool(values) and all(isinstance(v, cst.Integer) for v in values)
    if last_name(inner.func) == "text" and len(values) == 1:
        text = values[0].evaluated_value if isinstance(values[0], cst.SimpleString) else None
        return isinstance(text, str) and " ".join(text.lower().split()) == "select 1"
    return False


def _repository_constructor(func: cst.BaseExpression) -> bool:
    """``OrderRepository.from_session(session)`` and other classmethod constructors."""
    if not isinstance(func, cst.Attribute):
        return False
    owner = last_name(func.value) or ""
    method = func.attr.value
    return (
        owner[:1].isupper()
        and owner.endswith("Repository")
        and (method.startswith("from_") or method in _CONSTRUCTORS)
    )


def _orm_chain(node: cst.BaseExpression) -> bool:
    """``Order.objects...``: a chain of calls that starts at a model's manager."""
    while isinstance(node, (cst.Call, cst.Attribute)):
        if isinstance(node, cst.Call):
            node = node.func
            continue
        if node.attr.value == "objects" and _is_class_name(node.value):
            return True
        node = node.value
    return False


def _fetches_instance(value: cst.Call, name: str) -> bool:
    """A call that fetches one Django model instance: ``Order.objects.get(...)``,
    ``Order.objects.filter(...).first()``, ``get_object_or_404(...)``,
    ``self.get_object()``."""
    func = value.func
    if name in _ORM_INSTANCE and isinstance(func, cst.Attribute) and _orm_chain(func.value):
        return True
    if name == "get_object_or_404":
        return True
    return name == "get_object" and dotted_name(func) == "self.get_object"


def _builds_instance(value: cst.Call, name: str) -> bool:
    """``Order(...)``: a class called, which the project pass checks is a model."""
    return (
        isinstance(value.func, (cst.Name, cst.Attribute))
        and _is_class_name(value.func)
        and not name.endswith(_NOT_MODELS)
        and not name.endswith("Repository")
    )


@dataclass(frozen=True)
class IsDjangoModel:
    """The class ``qualified`` is a Django model (its ``save()`` writes a row)."""

    qualified: str

    def holds(self, project: ProjectIndex) -> bool:
        if self.qualified.startswith("django.contrib.") and ".models." in self.qualified:
            return True
        return project.inherits(self.qualified, DJANGO_MODELS)


def _written_chains(calls: list[cst.Call]) -> set[int]:
    """Calls that start a chain ending in a write: ``filter`` in
    ``Order.objects.filter(...).update(...)``."""
    written: set[int] = set()
    for call in calls:
        func = call.func
        if not (isinstance(func, cst.Attribute) and func.attr.value in _ORM_WRITES):
            continue
        written.add(id(call))
        inner: cst.BaseExpression = func.value
        while isinstance(inner, (cst.Call, cst.Attribute)):
            if isinstance(inner, cst.Call):
                written.add(id(inner))
                inner = inner.func
            else:
                inner = inner.value
    return written


def _shown_call(func: cst.Attribute) -> str:
    """``OrderRepository(...).list`` for a method called on a constructor call."""
    receiver = func.value
    if isinstance(receiver, cst.Call):
        callee = dotted_name(receiver.func)
        if callee is not None:
            return f"{callee}(...).{func.attr.value}"
    return func.attr.value


def _session_dependency(expression: cst.BaseExpression | None) -> bool:
    """``Depends(get_db)``/``Depends(get_session)``: the FastAPI idiom for a DB session."""
    if expression is None or not is_depends(expression):
        return False
    assert isinstance(expression, cst.Call)
    if not expression.args:
        return False
    provider = (last_name(expression.args[0].value) or "").lower()
    return "session" in provider or provider.endswith("db")


def _is_class_name(node: cst.BaseExpression) -> bool:
    """``Order`` or ``models.Order``: a CapWords name, as models are spelled."""
    name = last_name(node) or ""
    return name[:1].isupper() and not name.isupper()


def _walk(node: cst.FunctionDef) -> Iterator[tuple[cst.CSTNode, bool]]:
    """The nodes of a handler's body (nested functions and lambdas included, not nested
    classes), each with whether it sits inside a fetch-or-404 shortcut."""
    stack: list[tuple[cst.CSTNode, bool]] = [(node.body, False)]
    while stack:
        current, exempt = stack.pop()
        yield current, exempt
        if isinstance(current, cst.ClassDef):
            continue
        if isinstance(current, cst.Call) and _fetch_or_404(current):
            exempt = True
        stack.extend((child, exempt) for child in reversed(list(iter_children(current))))


def _fetch_or_404(call: cst.Call) -> bool:
    if callee_name(call) in FETCH_OR_404:
        return True
    return isinstance(call.func, cst.Attribute) and call.func.attr.value in OR_404_METHODS


def class_annotations(module: cst.Module) -> dict[str, dict[str, cst.BaseExpression]]:
    """Annotated class attributes of the module's top-level classes
    (``session: Session = Depends(get_db)`` on a class-based view)."""
    found: dict[str, dict[str, cst.BaseExpression]] = {}
    for statement in module.body:
        if not isinstance(statement, cst.ClassDef):
            continue
        attributes: dict[str, cst.BaseExpression] = {}
        body = statement.body
        lines = body.body if isinstance(body, cst.IndentedBlock) else ()
        for line in lines:
            if not isinstance(line, cst.SimpleStatementLine):
                continue
            for small in line.body:
                if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                    attributes[small.target.value] = small.annotation.annotation
        found[statement.name.value] = attributes
    return found


def listing(names: list[str]) -> str:
    """```db.add`, `db.commit` and 2 more``: the distinct calls, in source order."""
    unique = list(dict.fromkeys(f"`{name}`" for name in names))
    shown = unique[:_SHOWN]
    if len(unique) > _SHOWN:
        shown.append(f"{len(unique) - _SHOWN} more")
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


@dataclass(frozen=True)
class SomeCallIsAccess:
    """At least one of a handler's candidate calls is data access.

    One finding covers the calls of a handler; some of them are data access only if a
    condition holds (``models.db`` is a Flask-SQLAlchemy extension, ``SessionDep`` an
    alias of ``Session``). The finding is kept if any call qualifies, and its message
    then names only the calls that do.
    """

    calls: tuple[tuple[str, tuple[Condition, ...]], ...]  # (shown, its conditions)
    listed: str  # the call list as the file pass wrote it in the message

    def _kept(self, project: ProjectIndex) -> list[str]:
        return [
            shown
            for shown, conditions in self.calls
            if all(condition.holds(project) for condition in conditions)
        ]

    def holds(self, project: ProjectIndex) -> bool:
        return bool(self._kept(project))

    def refine(self, message: str, project: ProjectIndex) -> str:
        return message.replace(self.listed, listing(self._kept(project)), 1)
