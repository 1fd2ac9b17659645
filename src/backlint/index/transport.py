"""Transport models (rules.md §2): the Pydantic classes that carry HTTP requests and
responses, as opposed to Pydantic classes used as domain values.

Decided from the class index, so it works across modules and without pydantic
installed: a class is Pydantic if its bases reach ``pydantic.BaseModel`` (or
``RootModel``, ``SQLModel``), settings classes excepted.

What makes a Pydantic class a transport model is that the HTTP API uses it: a route
handler of the run takes or returns it (body, ``response_model=``, return annotation),
or it is defined in a ``routes`` module. Being defined in a ``schemas`` module is not
enough (e-mail template props, queue payloads and LLM output shapes live there too), and
a name like ``UserResponse`` alone is only a low-confidence hint. Evidence that a class
is a domain or persistence class outweighs all of that: a ``table=True`` SQLModel, a
class the repository layer takes, returns or is parametrised with (and the classes its
fields nest), or a class with behaviour of its own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from backlint.index.frameworks import PYDANTIC_BASES, PYDANTIC_SETTINGS

if TYPE_CHECKING:
    from backlint.index.facts import ClassFact
    from backlint.index.project import ProjectIndex

DEFAULT_SCHEMA_NAME_PATTERNS = (
    r"^(Create|Update|Patch)\w+Request$",
    r"\w+(Request|Response|Payload|Schema)$",
)
# Public methods that convert or serialise a model are what a transport model may have;
# anything else (``is_expired``, ``add_line``) is behaviour of a domain class.
_MAPPING_METHOD = re.compile(r"^(to|as|from|model|dict|json|copy|serialize|dump)(_|$)")


@dataclass(frozen=True)
class TransportModel:
    """A transport model found in the project: its name, where it lives, why it is one,
    and how sure that is (``low`` when only its name says so)."""

    name: str
    canonical: str
    path: str
    reason: str
    confidence: str = "high"

    @property
    def module(self) -> str:
        return self.canonical.rpartition(".")[0]


def is_pydantic(project: ProjectIndex, qualified: str) -> bool:
    return project.inherits(qualified, PYDANTIC_BASES) and not project.inherits(
        qualified, PYDANTIC_SETTINGS
    )


def transport_model(
    project: ProjectIndex, qualified: str, patterns: Sequence[str]
) -> TransportModel | None:
    """The transport model ``qualified`` names, or None.

    A Pydantic class is one if a route handler of the run takes or returns it, or it is
    defined in a ``routes`` file; if only its name matches ``patterns``, it is one with
    low confidence. Never if it is defined in a ``domain`` file or shows it is a domain
    or persistence class (``domain_evidence``).
    """
    found = project.class_fact(qualified)
    if found is None:
        return None
    canonical, fact, facts = found
    role = project.role_of_file(facts)
    # A ``models.py`` is a domain module by default only because of its name; many
    # FastAPI projects keep their request/response schemas there beside the tables.
    # Only explicitly named domain modules (``domain.py``, ``entities.py``,
    # ``domain/``) vouch for their Pydantic classes.
    if role == "domain" and not facts.path.endswith("models.py"):
        return None
    if not is_pydantic(project, canonical) or domain_evidence(project, canonical, fact):
        return None
    user = route_users(project).get(canonical)
    if user is not None:
        reason = f"which route handler `{user.handler}` in `{user.module}` {user.verb}"
    elif role == "routes":
        reason = "defined in a routes module"
    elif any(re.search(pattern, fact.name) for pattern in patterns):
        return TransportModel(
            fact.name,
            canonical,
            facts.path,
            "named like a request/response schema (no route handler of the run takes or "
            "returns it)",
            "low",
        )
    else:
        return None
    return TransportModel(fact.name, canonical, facts.path, reason)


def domain_evidence(project: ProjectIndex, canonical: str, fact: ClassFact) -> bool:
    """Whether the class shows it is a domain or persistence class.

    A ``table=True`` SQLModel is a table; a class the repository layer reads or writes
    (or one nested in the fields of such a class) is what the application stores; a
    class with public methods beyond conversions has behaviour a request or response
    shape does not.
    """
    if fact.table or canonical in persisted_models(project):
        return True
    return any(not _MAPPING_METHOD.match(name) for name in fact.behaviour)


def persisted_models(project: ProjectIndex) -> frozenset[str]:
    """Canonical names of the classes the persistence code of the run mentions, with the
    project classes their fields nest (the parts of a stored aggregate), transitively."""

    def compute() -> frozenset[str]:
        pending = sorted(
            {
                project.canonical(name)
                for facts in project.modules.values()
                for name in facts.persisted
            }
        )
        seen: set[str] = set()
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            seen.add(current)
            found = project.class_fact(current)
            if found is not None:
                pending.extend(project.canonical(name) for name in found[1].fields)
        return frozenset(seen)

    return project.memo("transport-persisted-models", compute)


@dataclass(frozen=True)
class RouteUser:
    """A route handler that uses a class: its module (a name, not a path: messages must not
    depend on where backlint runs), its name, and whether it returns the class
    (``response_model=``, return annotation) or takes it."""

    module: str
    handler: str
    returns: bool

    @property
    def verb(self) -> str:
        return "returns" if self.returns else "takes"


def route_users(project: ProjectIndex) -> dict[str, RouteUser]:
    """For each class a route handler of the run takes or returns (by canonical name),
    the first such handler in module order."""

    def compute() -> dict[str, RouteUser]:
        users: dict[str, RouteUser] = {}
        for facts, route in project.routes:
            for name in route.models:
                user = RouteUser(facts.module, route.handler, name in route.responses)
                users.setdefault(project.canonical(name), user)
        return users

    return project.memo("transport-route-users", compute)
