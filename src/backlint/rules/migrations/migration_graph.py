"""The migration graph of a project: which migrations are heads, and a Django migration's
ancestors in its own app.

A head is a migration no other migration builds on. Alembic: no revision names it in
``down_revision`` (a tuple for merges) or ``depends_on``; ids are looked up in the
revision's own folder first, then anywhere, so two independent Alembic trees that both
use ``0001`` do not tie together. Django: no migration of any app lists it in
``dependencies``, it has no ``run_before``, and it is not replaced by a squashed migration
(a dependency on a replaced migration is a dependency on its squash, as Django reads it).
Django names apps by label; a migrations folder's label is the one its own migrations use
for each other in ``dependencies``, else the name of the app's folder.
"""

from __future__ import annotations

import graphlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

from backlint.rules.migrations.migration_summary import MigrationSummary


@dataclass(frozen=True)
class Migration:
    """One migration file of the project: its summary and what ``replaces`` lists."""

    path: str
    summary: MigrationSummary
    replaces: tuple[tuple[str, str], ...] = ()

    @property
    def folder(self) -> str:
        return str(PurePosixPath(self.path).parent)

    @property
    def name(self) -> str:
        return PurePosixPath(self.path).stem


class MigrationGraph:
    def __init__(self, migrations: Iterable[Migration]) -> None:
        self.migrations = {migration.path: migration for migration in migrations}
        self._depended: set[str] = set()
        # Django: a migration's dependencies within its own folder (for its history).
        self._parents: dict[str, set[str]] = defaultdict(set)
        self._labels: dict[str, str] = {}
        self._ancestors: dict[str, list[str]] = {}
        alembic = [m for m in self.migrations.values() if m.summary.framework == "alembic"]
        django = [m for m in self.migrations.values() if m.summary.framework == "django"]
        self._link_alembic(alembic)
        self._link_django(django)

    def is_head(self, path: str) -> bool:
        return path in self.migrations and path not in self._depended

    def label(self, path: str) -> str:
        """How messages name a migration: its revision id, or ``app.name`` for Django."""
        migration = self.migrations[path]
        if migration.summary.framework == "alembic":
            return migration.summary.revision or migration.name
        return f"{self._labels.get(migration.folder, '?')}.{migration.name}"

    # Alembic ---------------------------------------------------------------------------

    def _link_alembic(self, revisions: list[Migration]) -> None:
        by_folder: dict[tuple[str, str], list[str]] = defaultdict(list)
        anywhere: dict[str, list[str]] = defaultdict(list)
        for revision in revisions:
            identifier = revision.summary.revision
            by_folder[revision.folder, identifier].append(revision.path)
            anywhere[identifier].append(revision.path)
        for revision in revisions:
            for parent in revision.summary.parents:
                found = by_folder.get((revision.folder, parent)) or anywhere.get(parent, [])
                self._depended.update(found)

    # Django ----------------------------------------------------------------------------

    def _link_django(self, migrations: list[Migration]) -> None:
        names: dict[str, dict[str, str]] = defaultdict(dict)  # folder -> name -> path
        for migration in migrations:
            names[migration.folder][migration.name] = migration.path
        folders_of = self._folders_by_label(migrations, names)
        # A dependency on a replaced migration is one on the squash that replaces it.
        squashes: dict[tuple[str, str], list[str]] = defaultdict(list)
        for migration in migrations:
            for label, name in migration.replaces:
                squashes[label, name].append(migration.path)
                self._depended.update(_resolve(label, name, folders_of, names))

        def resolve(label: str, name: str) -> list[str]:
            return [*_resolve(label, name, folders_of, names), *squashes.get((label, name), ())]

        for migration in migrations:
            for label, name in migration.summary.dependencies:
                targets = resolve(label, name)
                self._depended.update(targets)
                self._parents[migration.path].update(
                    target for target in targets if _folder(target) == migration.folder
                )
            if migration.summary.run_before:
                self._depended.add(migration.path)

    def _folders_by_label(
        self, migrations: list[Migration], names: Mapping[str, Mapping[str, str]]
    ) -> dict[str, set[str]]:
        votes: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for migration in migrations:
            own = names[migration.folder]
            for label, name in migration.summary.dependencies:
                if name in own:
                    votes[migration.folder][label] += 1
        folders_of: dict[str, set[str]] = defaultdict(set)
        for folder in names:
            counted = votes.get(folder)
            if counted:
                label = max(sorted(counted), key=lambda candidate: counted[candidate])
            else:
                label = PurePosixPath(folder).parent.name
            self._labels[folder] = label
            folders_of[label].add(folder)
        return folders_of

    def ancestors_in_app(self, path: str) -> list[str]:
        """The migrations of ``path``'s folder it depends on, directly or not, the latest
        first (a topological order of the folder's graph, made stable by sorting)."""
        if path not in self._ancestors:
            self._ancestors[path] = self._order_ancestors(path)
        return self._ancestors[path]

    def _order_ancestors(self, path: str) -> list[str]:
        found: set[str] = set()
        stack = sorted(self._parents.get(path, ()))
        while stack:
            current = stack.pop()
            if current not in found:
                found.add(current)
                stack.extend(sorted(self._parents.get(current, ())))
        sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
        for member in sorted(found):
            sorter.add(member, *sorted(self._parents.get(member, set()) & found))
        try:
            order = list(sorter.static_order())
        except graphlib.CycleError:
            return []  # a broken graph: no history rather than a wrong one
        return order[::-1]


def _folder(path: str) -> str:
    return str(PurePosixPath(path).parent)


def _resolve(
    label: str,
    name: str,
    folders_of: Mapping[str, set[str]],
    names: Mapping[str, Mapping[str, str]],
) -> list[str]:
    """The project's migrations that ``(label, name)`` names; ``__latest__`` names the
    app's every migration (only its leaves matter), ``__first__`` none that matters."""
    found: list[str] = []
    for folder in sorted(folders_of.get(label, ())):
        if name == "__latest__":
            found.extend(names[folder].values())
        elif name in names[folder]:
            found.append(names[folder][name])
    return found
