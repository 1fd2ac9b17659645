"""Transport models (rules.md §2): the Pydantic classes that carry HTTP requests and
responses, as opposed to Pydantic classes used as domain values.

Decided from the class index, so it works across modules and without pydantic
installed: a class is Pydantic if its bases reach ``pydantic.BaseModel`` (or
``RootModel``, ``SQLModel``), settings classes excepted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from backlint.index.frameworks import PYDANTIC_BASES, PYDANTIC_SETTINGS

if TYPE_CHECKING:
    from backlint.index.project import ProjectIndex

DEFAULT_SCHEMA_NAME_PATTERNS = (
    r"^(Create|Update|Patch)\w+Request$",
    r"\w+(Request|Response|Payload|Schema)$",
)
_TRANSPORT_ROLES = frozenset({"schemas", "routes"})


@dataclass(frozen=True)
class TransportModel:
    """A transport model found in the project: its name, where it lives, and why it is one."""

    name: str
    canonical: str
    path: str
    reason: str


def is_pydantic(project: ProjectIndex, qualified: str) -> bool:
    return project.inherits(qualified, PYDANTIC_BASES) and not project.inherits(
        qualified, PYDANTIC_SETTINGS
    )


def transport_model(
    project: ProjectIndex, qualified: str, patterns: Sequence[str]
) -> TransportModel | None:
    """The transport model ``qualified`` names, or None.

    A Pydantic class is one if it is defined in a ``schemas`` or ``routes`` file, a
    handler of the run takes or returns it, or its name matches ``patterns``; never if
    it is defined in a ``domain`` file.
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
    if not is_pydantic(project, canonical):
        return None
    if role in _TRANSPORT_ROLES:
        reason = f"defined in a {role} module"
    elif canonical in project.route_models:
        reason = "used by a route handler"
    elif any(re.search(pattern, fact.name) for pattern in patterns):
        reason = "named like a request/response schema"
    else:
        return None
    return TransportModel(fact.name, canonical, facts.path, reason)
