"""Methods whose signature a framework fixes (BL601).

A class the framework instantiates and calls (a Django or Flask view, a DRF serializer or
view set, a form, an admin, a middleware, a management command, a marshmallow schema)
receives its arguments from the framework: `get(self, request, pk)`, `validate(self,
attrs)`, `post_save_operations(self, form, obj)` of a project base view. Annotating them
repeats the framework's documentation and helps no caller, since no project code calls
them. Classes the project calls itself (Django models, managers and querysets) keep
their methods checked, except the framework's hooks they override (`save(self, *args,
**kwargs)`).

Subclasses of standard-library classes are treated alike (`json.JSONEncoder.default(self,
obj)`, `logging.Handler.emit(self, record)`), except for their constructor.

Bases are read as qualified names; a base from another module of the project is only
known in the project pass, through the class index (``ProjectIndex.ancestors``).

``framework_conditions`` is the one entry point BL601 and BL602 share: it tells whether
a framework calls a public function (so neither its parameters nor its return value
are the project's API) or under which conditions it is the project's own.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import libcst as cst

from backlint.engine.walker import iter_descendants

if TYPE_CHECKING:
    from backlint.engine.context import FileContext
    from backlint.index.facts import Requirement
    from backlint.index.names import ImportTable
    from backlint.index.project import ProjectIndex
    from backlint.rules.annotations.public_api import PublicFunction
    from backlint.rules.base import Condition

# Packages whose classes the framework calls into, with arguments it chooses.
FRAMEWORK_PACKAGES = frozenset(
    {
        "django",
        "rest_framework",
        "django_filters",
        "django_tables2",
        "graphene",
        "graphene_django",
        "flask",
        "flask_restful",
        "flask_restx",
        "flask_admin",
        "wtforms",
        "flask_wtf",
        "marshmallow",
        "flask_marshmallow",
        "marshmallow_sqlalchemy",
        "starlette",
        "celery",
    }
)
# Decorators that make a function a view, wherever it is defined (a DRF ``@action`` in a
# mixin without a DRF base, ``@csrf_exempt`` on a ``dispatch`` override).
VIEW_DECORATOR_PREFIXES = (
    "rest_framework.decorators.",
    "django.views.decorators.",
    "django.contrib.auth.decorators.",
    "django.contrib.admin.views.decorators.",
)
VIEW_DECORATORS = frozenset(
    {"django.utils.decorators.method_decorator", "flask_login.login_required"}
)
# ... except these Django classes, which the project calls: only their hooks are fixed.
_PROJECT_CALLED = ("Model", "Manager", "BaseManager", "QuerySet", "BaseUserManager", "UserManager")
MODEL_HOOKS = frozenset(
    {
        "save",
        "save_base",
        "delete",
        "clean",
        "clean_fields",
        "full_clean",
        "validate_unique",
        "validate_constraints",
        "refresh_from_db",
        "from_db",
        "serializable_value",
        "get_deferred_fields",
        "natural_key",
        "get_by_natural_key",
        "get_queryset",
        "create",
        "bulk_create",
        "bulk_update",
        "update",
        "get_or_create",
        "update_or_create",
        "create_user",
        "create_superuser",
    }
)
# Bases that never fix a signature: no need to ask the project pass about them.
_NEUTRAL_PREFIXES = (
    "builtins.",
    "typing.",
    "typing_extensions.",
    "abc.",
    "enum.",
    "dataclasses.",
    "collections.",
    "pydantic",
    "sqlalchemy.",
    "sqlmodel.",
)


class Signature(enum.Enum):
    FIXED = "fixed"  # the framework decides the parameters
    OPEN = "open"  # the project's own API
    UNKNOWN = "unknown"  # a base from elsewhere: the project pass decides


# Metaclasses: their methods follow ``type``'s protocol (``__new__(mcs, name, bases,
# attrs)``).
_METACLASSES = frozenset({"builtins.type", "abc.ABCMeta", "enum.EnumMeta", "enum.EnumType"})


def _base_verdict(base: str, method: str) -> Signature:
    if base in _METACLASSES:
        return Signature.FIXED
    package = base.split(".", 1)[0]
    if package in sys.stdlib_module_names and not base.startswith(_NEUTRAL_PREFIXES):
        # ``json.JSONEncoder.default(self, obj)``, ``logging.Handler.emit(self, record)``:
        # hooks the standard library calls; the constructor stays the project's API.
        return Signature.OPEN if method in ("__init__", "__new__") else Signature.FIXED
    if package == "django" and base.rsplit(".", 1)[-1] in _PROJECT_CALLED:
        return Signature.FIXED if method in MODEL_HOOKS else Signature.OPEN
    if package in FRAMEWORK_PACKAGES:
        return Signature.FIXED
    if base.startswith(_NEUTRAL_PREFIXES):
        return Signature.OPEN
    return Signature.UNKNOWN


def method_signature(bases: Iterable[str], method: str) -> Signature:
    """Whether bases spelled in the file fix the signature of ``method``."""
    verdicts = {_base_verdict(base, method) for base in bases}
    if Signature.FIXED in verdicts:
        return Signature.FIXED
    return Signature.UNKNOWN if Signature.UNKNOWN in verdicts else Signature.OPEN


@dataclass(frozen=True)
class SignatureIsOpen:
    """No ancestor of ``module.cls`` is a framework class that fixes ``method``."""

    module: str
    cls: str
    method: str

    def holds(self, project: ProjectIndex) -> bool:
        for base in project.ancestors(f"{self.module}.{self.cls}"):
            if _base_verdict(base, self.method) is Signature.FIXED:
                return False
            prefixes = project.memo(("BL601-dispatch", base), partial(_dispatched, project, base))
            if self.method.startswith(prefixes):
                return False  # a hook the base calls by name
        return True


def _dispatched(project: ProjectIndex, base: str) -> tuple[str, ...]:
    """Prefixes of the methods a project class looks up by a computed name:
    ``getattr(self, f"prepare_{field}")`` gives ``prepare_``."""
    found = project.class_fact(base)
    if found is None:
        return ()
    prefixes = project.summary(found[2].module, "BL601-getattr-prefixes/v1", _getattr_prefixes)
    return () if prefixes is None else prefixes.get(found[1].name, ())


def _getattr_prefixes(tree: cst.Module, _: ImportTable) -> dict[str, tuple[str, ...]]:
    """A module summary: for each top-level class (by name) that looks up methods by
    a computed name, the prefixes of those names, sorted."""
    prefixes: dict[str, set[str]] = {}
    for statement in tree.body:
        if isinstance(statement, cst.ClassDef):
            for node in iter_descendants(statement.body):
                prefix = _getattr_prefix(node)
                if prefix:
                    prefixes.setdefault(statement.name.value, set()).add(prefix)
    return {name: tuple(sorted(found)) for name, found in prefixes.items()}


def _getattr_prefix(node: cst.CSTNode) -> str | None:
    """``"prepare_"`` for ``getattr(self, f"prepare_{name}")`` or
    ``getattr(self, "prepare_" + name)``."""
    if not (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Name)
        and node.func.value == "getattr"
        and len(node.args) >= 2
        and isinstance(node.args[0].value, cst.Name)
        and node.args[0].value.value == "self"
    ):
        return None
    name = node.args[1].value
    if isinstance(name, cst.FormattedString) and name.parts:
        first = name.parts[0]
        return first.value if isinstance(first, cst.FormattedStringText) else None
    if isinstance(name, cst.BinaryOperation) and isinstance(name.operator, cst.Add):
        left = name.left
        if isinstance(left, cst.SimpleString):
            value = left.evaluated_value
            return value if isinstance(value, str) else None
    return None


# Route handlers of frameworks that read annotations: FastAPI and Django Ninja validate
# and document each parameter by its annotation (and FastAPI reads the return annotation
# as the response model), so their handlers stay the project's API.
ANNOTATED_HANDLERS = frozenset({"fastapi", "ninja"})


def framework_conditions(
    ctx: FileContext, function: PublicFunction
) -> tuple[Condition, ...] | None:
    """None when a framework calls ``function`` and decides its signature: a Django, DRF
    or Flask route handler, a function decorated as a view, a method of a class the
    framework calls into, a protocol dunder or an override handing its call to ``super()``.
    Otherwise the conditions under which it is the project's API (none: it is)."""
    node = function.node
    conditions: tuple[Condition, ...] = ()
    handler = ctx.handlers.get(id(node))
    if handler is not None and handler.framework not in ANNOTATED_HANDLERS:
        if not handler.requires:
            return None  # a Django, DRF or Flask handler: the framework calls it
        # A candidate (``def health(request)`` of a views file is a Django view only if
        # the project uses Django or routes to it): API unless the project pass says so.
        conditions = (NotRouted(handler.requires),)
    if _decorated_as_view(ctx, node):
        return None  # ``@action(detail=True)`` in a mixin, ``@csrf_exempt def dispatch``
    if function.owner is None:
        return conditions
    if _inherits_its_signature(node):
        return None
    verdict = _owner_signature(ctx, function.owner, node.name.value)
    if verdict is Signature.FIXED:
        return None
    if verdict is Signature.UNKNOWN and function.top_level_owner:
        owner = function.owner.name.value
        return (*conditions, SignatureIsOpen(ctx.module, owner, node.name.value))
    return conditions


@dataclass(frozen=True)
class NotRouted:
    """A candidate route handler is not one: some requirement of its route fails."""

    requires: tuple[Requirement, ...]

    def holds(self, project: ProjectIndex) -> bool:
        return not all(requirement.holds(project) for requirement in self.requires)


def _decorated_as_view(ctx: FileContext, node: cst.FunctionDef) -> bool:
    for decorator in node.decorators:
        expression = decorator.decorator
        if isinstance(expression, cst.Call):
            expression = expression.func
        qualified = ctx.qualified_name(expression) or ""
        if qualified.startswith(VIEW_DECORATOR_PREFIXES) or qualified in VIEW_DECORATORS:
            return True
    return False


def _owner_signature(ctx: FileContext, owner: cst.ClassDef, method: str) -> Signature:
    bases: list[str] = []
    for arg in owner.bases:
        if arg.keyword is not None:
            continue
        value = arg.value.value if isinstance(arg.value, cst.Subscript) else arg.value
        qualified = ctx.qualified_name(value)
        bases.append(qualified if qualified is not None else "?")
    return method_signature(bases, method)


# Dunder methods whose parameters the class's callers choose: the constructor and a
# callable's call. Every other dunder method follows a protocol of the data model
# (``__exit__(self, exc_type, exc_val, exc_tb)``, ``__eq__(self, other)``).
_API_DUNDERS = frozenset({"__init__", "__new__", "__call__"})


def _inherits_its_signature(node: cst.FunctionDef) -> bool:
    """A method whose signature another definition fixes: a dunder method of a protocol,
    or an override that hands its call on to ``super().<same name>(...)`` (an undecorated
    ``@override``, such as a mixin's ``initial(self, request, *args, **kwargs)``)."""
    name = node.name.value
    if name.startswith("__") and name.endswith("__") and name not in _API_DUNDERS:
        return True
    if name in _API_DUNDERS:
        return False
    for inner in iter_descendants(node.body):
        if (
            isinstance(inner, cst.Call)
            and isinstance(inner.func, cst.Attribute)
            and inner.func.attr.value == name
            and isinstance(inner.func.value, cst.Call)
            and isinstance(inner.func.value.func, cst.Name)
            and inner.func.value.func.value == "super"
        ):
            return True
    return False


# Command-line frameworks: they call a command with the values of its options and
# ignore what it returns.
_CLI_PACKAGES = ("click.", "typer.", "asyncclick.", "rich_click.")
_CLI_DECORATOR_METHODS = frozenset({"command", "group"})


def is_cli_command(ctx: FileContext, node: cst.FunctionDef) -> bool:
    """A command of click or typer: ``@click.command()``, ``@click.option(...)``,
    ``@cli.command()`` of a click group, ``@app.command()`` of a typer app."""
    for decorator in node.decorators:
        expression = decorator.decorator
        if isinstance(expression, cst.Call):
            expression = expression.func
        qualified = ctx.qualified_name(expression) or ""
        if qualified.startswith(_CLI_PACKAGES):
            return True
        if (
            isinstance(expression, cst.Attribute)
            and expression.attr.value in _CLI_DECORATOR_METHODS
        ):
            return True  # ``@cli.command()``: a group or app of the project
    return False
