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
    from backlint.index.project import ProjectIndex

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
    parsed = project.parsed(found[2].module) if found is not None else None
    if found is None or parsed is None:
        return ()
    tree, _ = parsed
    prefixes: set[str] = set()
    for statement in tree.body:
        if isinstance(statement, cst.ClassDef) and statement.name.value == found[1].name:
            for node in iter_descendants(statement.body):
                prefix = _getattr_prefix(node)
                if prefix:
                    prefixes.add(prefix)
    return tuple(sorted(prefixes))


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
