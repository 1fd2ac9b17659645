"""File roles (rules.md §2) and test-code recognition, from the file's path alone.

Roles are gitignore-style globs matched against the path relative to the project root;
the first role whose globs match wins. A ``models.py`` that matches the ``domain`` role is
only provisionally domain: in a Django project it is a ``model`` (an active record), which
the project pass decides once it knows whether anything imports django.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath

import pathspec


class RoleMatcher:
    """Compiled role globs: built once per run (per worker), used for every file."""

    def __init__(self, roles: Sequence[tuple[str, Sequence[str]]]) -> None:
        self._specs = [(name, pathspec.GitIgnoreSpec.from_lines(globs)) for name, globs in roles]

    def role_of(self, relative_path: str) -> str | None:
        for name, spec in self._specs:
            if spec.match_file(relative_path):
                return name
        return None

    def candidate_roles(self, relative_path: str) -> frozenset[str]:
        """The roles a file may end up with; two for a Django-or-not ``models.py``."""
        role = self.role_of(relative_path)
        if role is None:
            return frozenset()
        if role == "domain" and PurePosixPath(relative_path).name == "models.py":
            return frozenset({"domain", "model"})
        return frozenset({role})


# A ``models.py`` that imports one of these declares ORM tables: an active record (entity
# and persistence in one), like a Django model.
ORM_PACKAGES = frozenset(
    {
        "sqlalchemy",
        "sqlmodel",
        "flask_sqlalchemy",
        "peewee",
        "tortoise",
        "mongoengine",
        "pony",
        "ormar",
        "beanie",
        "odmantic",
        "piccolo",
    }
)


def final_role(
    candidates: frozenset[str], uses_django: bool, packages: frozenset[str] = frozenset()
) -> str | None:
    """Pick the role of a file once the project is known.

    A ``models.py`` is a ``model`` file in a Django project or when it imports an ORM
    (``packages`` are the top-level packages the file imports at runtime), else a
    ``domain`` file.
    """
    if not candidates:
        return None
    if candidates == {"domain", "model"}:
        return "model" if uses_django or packages & ORM_PACKAGES else "domain"
    return next(iter(candidates))
