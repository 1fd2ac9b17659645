"""Conditions several rules share: facts a file cannot decide alone (see ``base.Condition``).

Each is a small frozen dataclass, so it pickles from a worker to the parent, where the
project pass asks it whether it holds against the project index.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backlint.index.project import ProjectIndex


@dataclass(frozen=True)
class FinalRoleIn:
    """The file's final role is one of ``roles``.

    A ``models.py`` is a ``domain`` file or, in a Django project, a ``model`` file; only
    the project pass knows which. A rule that checks a role-dependent thing inside a rule
    that otherwise runs on every file attaches this to its finding.
    """

    path: str
    roles: frozenset[str]

    def holds(self, project: ProjectIndex) -> bool:
        return project.role_of(self.path) in self.roles
