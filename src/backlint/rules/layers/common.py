"""What the layer rules share: layer roles and the base classes that decide what a class is.

Base classes are walked with the project's class index (``ProjectIndex.ancestors``):
bases outside the project stay as their qualified names, which is what the root sets
below match.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from backlint.index.facts import FileFacts
from backlint.index.frameworks import ENUM_ROOTS

if TYPE_CHECKING:
    from backlint.index.project import ProjectIndex

# rules.md §2: the roles that are layers; composition_root and exceptions are not.
LAYER_ROLES = frozenset({"routes", "service", "domain", "model", "repository", "schemas"})


def under(dotted: str, package: str) -> bool:
    """Whether the dotted name ``dotted`` is ``package`` or inside it."""
    return dotted == package or dotted.startswith(package + ".")


def imported_name(module: str, name: str) -> str:
    """``from a import b`` names ``a.b``; ``import a.b`` names ``a.b``."""
    return f"{module}.{name}" if module and name else module or name


def layer_role(project: ProjectIndex, facts: FileFacts) -> str | None:
    """The file's final role (an ORM or Django ``models.py`` is a ``model`` file)."""
    return project.role_of_file(facts)


def directory_of(path: str) -> str:
    return str(PurePosixPath(path).parent)


# Value types: named constants and typed records, not components of a layer.
ENUM_LIKE_ROOTS = ENUM_ROOTS | {
    "typing.TypedDict",
    "typing_extensions.TypedDict",
    "typing.NamedTuple",
    "typing_extensions.NamedTuple",
}

# Data holders that sit in service and repository modules without being services or
# repositories: validation models, ORM tables, settings.
DATA_MODEL_ROOTS = frozenset(
    {
        "pydantic.BaseModel",
        "pydantic.main.BaseModel",
        "pydantic.v1.BaseModel",
        "pydantic.RootModel",
        "pydantic_settings.BaseSettings",
        "pydantic.BaseSettings",
        "sqlmodel.SQLModel",
        "marshmallow.Schema",
        "django.db.models.Model",
        "sqlalchemy.orm.DeclarativeBase",
        "sqlalchemy.orm.DeclarativeBaseNoMeta",
        "sqlalchemy.orm.declarative_base()",
        "sqlalchemy.ext.declarative.declarative_base()",
        "flask_sqlalchemy.SQLAlchemy().Model",
    }
)


# Subclasses of these frameworks' classes (Django views, forms and tables, DRF serializers,
# GraphQL types, Flask resources) are framework components, not plain services or
# repositories, even when a ``services.py`` holds them.
FRAMEWORK_PACKAGES = (
    "django",
    "rest_framework",
    "django_filters",
    "django_tables2",
    "graphene",
    "graphene_django",
    "strawberry",
    "flask",
    "flask_restful",
    "flask_restx",
    "wtforms",
    "marshmallow",
    "pydantic",
    "sqlalchemy",
)


def in_framework(qualified: str) -> bool:
    return qualified.split(".", 1)[0] in FRAMEWORK_PACKAGES


def is_exception_name(qualified: str) -> bool:
    """A base that is an exception by its name: ``builtins.ValueError``, ``lib.FooError``."""
    last = qualified.rsplit(".", 1)[-1]
    return last in ("Exception", "BaseException") or last.endswith(("Error", "Exception"))


# Schema libraries: a class whose ancestry reaches one of these is a schema.
SCHEMA_ROOTS = frozenset(
    {
        "pydantic.BaseModel",
        "pydantic.main.BaseModel",
        "pydantic.v1.BaseModel",
        "pydantic.RootModel",
        "sqlmodel.SQLModel",
        "msgspec.Struct",
        "ninja.Schema",
        "ninja.ModelSchema",
    }
)
# ... and so is one that reaches a ``*Schema``/``*Serializer`` of these packages
# (``marshmallow.Schema``, ``rest_framework.serializers.ModelSerializer``, and
# flask-marshmallow's ``ma.SQLAlchemyAutoSchema`` on a ``Marshmallow()`` instance).
SCHEMA_PACKAGES = (
    "marshmallow",
    "flask_marshmallow",
    "marshmallow_sqlalchemy",
    "marshmallow_dataclass",
    "rest_framework",
)


def is_schema_base(qualified: str) -> bool:
    if qualified in SCHEMA_ROOTS:
        return True
    package = qualified.split(".", 1)[0]
    return package in SCHEMA_PACKAGES and qualified.endswith(("Schema", "Serializer"))


@dataclass(frozen=True)
class NotDerivedFrom:
    """``module.name`` has no ancestor in ``roots`` (and, if asked, no exception ancestor);
    with ``schema``, it must also have a schema library ancestor.

    Checked in the project pass: the bases of a class often live in another module
    (``class OrderEvent(AppModel)`` where ``AppModel`` is a pydantic model elsewhere).
    """

    module: str
    name: str
    roots: frozenset[str]
    exceptions: bool = False
    schema: bool = False
    frameworks: bool = False  # no ancestor in ``FRAMEWORK_PACKAGES`` either

    def holds(self, project: ProjectIndex) -> bool:
        found_schema = False
        for qualified in project.ancestors(f"{self.module}.{self.name}"):
            if qualified in self.roots or (self.exceptions and is_exception_name(qualified)):
                return False
            if self.frameworks and in_framework(qualified):
                return False
            found_schema = found_schema or is_schema_base(qualified)
        return found_schema or not self.schema
