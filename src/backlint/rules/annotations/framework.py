"""Methods whose signature a framework fixes (BL601).

A class the framework instantiates and calls (a Django or Flask view, a DRF serializer or
view set, a form, an admin, a middleware, a management command, a marshmallow schema)
receives its arguments from the framework: `get(self, request, pk)`, `validate(self,
attrs)`, `post_save_operations(self, form, obj)` of a project base view. Annotating them
repeats the framework's documentation and helps no caller, since no project code calls
them. Classes the project calls itself (Django models, managers and querysets) keep
their methods checked, except the framework's hooks they override (`save(self, *args,
**kwargs)`).

Bases are read as qualified names; a base from another module of the project is only
known in the project pass, through the class index (``ProjectIndex.ancestors``).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

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


def _base_verdict(base: str, method: str) -> Signature:
    package = base.split(".", 1)[0]
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
        ancestors = project.ancestors(f"{self.module}.{self.cls}")
        return all(_base_verdict(base, self.method) is not Signature.FIXED for base in ancestors)
