"""Whether a project has a service or repository layer its handlers delegate to.

BL102 enforces layering, so a handler's own query is a finding only where there is a
layer to move it to. The evidence is what the project's route modules import (decided
once per run in the project pass):

* a module with the ``service`` or ``repository`` role (``orders/service.py``,
  ``repositories/user.py``);
* a module or a name that says so: ``from app import crud``, ``from app.services
  import orders``, ``order_service``, ``get_user_repository``;
* a project class named ``*Service`` or ``*Repository`` (``OrderService``), unless it
  is an ORM model or a schema: a ``GithubRepository`` table or a ``Service`` model
  (a network service) is a word of the domain, not a layer.

The project may also define the layer without its handlers importing it (yet): a
``*Repository`` class anywhere, or a ``*Service`` class in a module with the service or
repository role, is a layer the handler could have used. A role alone is not evidence:
``ipam/models/services.py`` of a network inventory matches the ``service`` glob but
holds models, and an ``ElasticsearchService`` outside a service module is a client of
another system.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backlint.index.facts import ImportFact
    from backlint.index.project import ProjectIndex

SERVICE = "service"
REPOSITORY = "repository"
_WORDS = {
    "service": SERVICE,
    "services": SERVICE,
    "usecase": SERVICE,
    "usecases": SERVICE,
    "use_cases": SERVICE,
    "interactors": SERVICE,
    "repository": REPOSITORY,
    "repositories": REPOSITORY,
    "repo": REPOSITORY,
    "repos": REPOSITORY,
    "crud": REPOSITORY,
}
# Bases of classes that are data, not a layer, whatever their name says.
_DATA_BASES = (
    "django.",
    "sqlalchemy.",
    "sqlmodel.",
    "flask_sqlalchemy.",
    "pydantic.",
    "graphene.",
    "strawberry.",
    "marshmallow.",
    "rest_framework.serializers.",
    "mongoengine.",
    "peewee.",
    "tortoise.",
)
_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+")


@dataclass(frozen=True)
class HasLayer:
    """The project's handlers delegate to one of ``layers`` somewhere."""

    layers: frozenset[str]

    def holds(self, project: ProjectIndex) -> bool:
        return bool(delegation_layers(project) & self.layers)


def delegation_layers(project: ProjectIndex) -> frozenset[str]:
    """The layers (``service``, ``repository``) the route modules of the run import."""
    return project.memo(("handlers", "delegation-layers"), lambda: _layers(project))


def _layers(project: ProjectIndex) -> frozenset[str]:
    found: set[str] = set()
    route_modules = sorted({facts.module for facts, _ in project.routes if not facts.is_test})
    for module in route_modules:
        for fact in project.modules[module].imports:
            layer = _imported_layer(project, fact)
            if layer is not None:
                found.add(layer)
    return frozenset(found | _defined_layers(project))


def _defined_layers(project: ProjectIndex) -> set[str]:
    """Layers the project defines even where no handler uses them yet: a
    ``*Repository`` class, or a ``*Service`` class in a service or repository module
    (elsewhere, ``EmailService`` or ``ElasticsearchService`` is a client of another
    system)."""
    found: set[str] = set()
    for module, facts in sorted(project.modules.items()):
        if facts.is_test:
            continue
        role = project.role_of(facts.path)
        for fact in facts.classes:
            layer = _class_layer(fact.name)
            if layer is None or layer in found:
                continue
            if layer == SERVICE and role not in (SERVICE, REPOSITORY):
                continue
            if not _is_data(project, f"{module}.{fact.name}"):
                found.add(layer)
    return found


def _class_layer(name: str) -> str | None:
    for suffix, layer in (("Repository", REPOSITORY), ("Service", SERVICE)):
        if name.endswith(suffix) and len(name) > len(suffix) and name[:1].isupper():
            return layer
    return None


def _is_data(project: ProjectIndex, qualified: str) -> bool:
    """An ORM model, a schema or a serializer, whatever its name says."""
    return any(ancestor.startswith(_DATA_BASES) for ancestor in project.ancestors(qualified))


def _imported_layer(project: ProjectIndex, fact: ImportFact) -> str | None:
    target = project.resolve_module(fact.module, fact.name)
    if target is not None:
        facts = project.modules[target]
        role = None if facts.is_test else project.role_of(facts.path)
        if role in (SERVICE, REPOSITORY):
            return role
    segments = fact.module.split(".")[-2:] if fact.module else []
    for segment in segments:
        if segment in _WORDS:
            return _WORDS[segment]
    return _layer_of_name(project, fact) if fact.name else None


def _layer_of_name(project: ProjectIndex, fact: ImportFact) -> str | None:
    """``order_service``, ``crud``, ``get_user_repository``, ``OrderService``."""
    name = fact.name
    words = [word.lower() for word in _CAMEL.findall(name)] if name[:1].isupper() else []
    if not words:
        words = [word for word in name.lower().split("_") if word]
    layer = next((_WORDS[word] for word in words if word in _WORDS), None)
    if layer is None or (len(words) < 2 and name[:1].isupper()):
        return None  # ``Service``, ``Repository``: a domain noun on its own
    if name[:1].isupper() and _is_data(project, f"{fact.module}.{name}"):
        return None  # ``GithubRepository(models.Model)``: a table
    return layer
