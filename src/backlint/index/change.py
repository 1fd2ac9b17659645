"""What a change is: the files changed since a git revision, and the project at that revision.

``backlint check --new-from-rev REV`` analyses the tree at REV as well as the working tree.
Change-scoped rules (``Rule.change_scoped``: generated code edited, API contract changed)
compare the two; other rules may ask whether a file changed (a destructive migration is
reported in any migration the change touched). The project pass hands this to rules as
``ProjectIndex.change``, which is None when the run is not about a change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backlint.index.project import ProjectIndex


@dataclass(frozen=True)
class ChangeSet:
    """The difference between git revision ``revision`` and the working tree.

    Paths are relative to the project root, ``/``-separated, like ``FileFacts.path``;
    files outside the root are left out. ``changed`` holds every file added, modified or
    renamed (by its new name) since the revision, whatever its language (an API snapshot
    file counts), and ``added`` those of them that are new (a rename is not);
    ``removed`` the files the change deleted (by their old name). ``base``
    is the project index at the revision, built with the same configuration.
    """

    revision: str  # as the user wrote it (``origin/main``)
    commit: str  # the commit it resolved to
    changed: frozenset[str]
    removed: frozenset[str] = frozenset()
    added: frozenset[str] = frozenset()  # those of ``changed`` that did not exist before
    base: ProjectIndex | None = None

    def is_changed(self, path: str) -> bool:
        """Whether the change added or modified the file ``path`` (root-relative)."""
        return path in self.changed
