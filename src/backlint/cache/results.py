"""The run-facing cache: per-file results, project outcomes and module summaries.

Everything is kept in memory for the life of a workspace (the fix loop's rounds and a
language server reuse it even with ``--no-cache``) and, when a ``DiskStore`` is given,
on disk between runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from backlint.cache.keys import FileStat, StatManifest, digest
from backlint.cache.store import DiskStore

FILES, OUTCOMES, SUMMARIES, STAT = "files", "outcomes", "summaries", "stat"
# Values computed from the whole project index (``Workspace.derived``: the import graph).
DERIVED = "derived"

# Project outcomes kept on disk: the last few configurations (a pre-commit run with the
# defaults, a CI run with --preview...) each find theirs.
_OUTCOMES_KEPT = 8


@dataclass
class ResultCache:
    disk: DiskStore | None = None
    # The latest entry per path (and per namespace): memory stays bounded by the project's
    # size however many edits a long-lived workspace sees.
    _memory: dict[tuple[str, str], tuple[str, object]] = field(default_factory=dict)
    _outcome: tuple[str, object] | None = None
    _saved_outcomes: int = 0
    # The entry key of each file in the current run, for summaries keyed by a file.
    _file_keys: dict[str, str] = field(default_factory=dict)

    # Per-file results ------------------------------------------------------------

    def file_result(self, relative: str, key: str) -> object | None:
        found = self._memory.get((FILES, relative))
        if found is not None and found[0] == key:
            return found[1]
        if self.disk is None:
            return None
        loaded = self.disk.load(FILES, key)
        if loaded is None:
            return None
        self._memory[(FILES, relative)] = (key, loaded[0])
        return loaded[0]

    def put_file_result(self, relative: str, key: str, result: object) -> None:
        self._memory[(FILES, relative)] = (key, result)
        if self.disk is not None:
            self.disk.save(FILES, key, result)

    # Project outcomes ------------------------------------------------------------

    def outcome(self, key: str) -> object | None:
        if self._outcome is not None and self._outcome[0] == key:
            return self._outcome[1]
        if self.disk is None:
            return None
        loaded = self.disk.load(OUTCOMES, key)
        return None if loaded is None else loaded[0]

    def put_outcome(self, key: str, outcome: object) -> None:
        self._outcome = (key, outcome)
        if self.disk is not None:
            self.disk.save(OUTCOMES, key, outcome)
            for stale in self.disk.names(OUTCOMES)[_OUTCOMES_KEPT:]:
                stale.unlink(missing_ok=True)

    # Values derived from the project index ---------------------------------------

    def derived(self, key: str) -> object | None:
        found = self._memory.get((DERIVED, key))
        if found is not None:
            return found[1]
        loaded = None if self.disk is None else self.disk.load(DERIVED, key)
        return None if loaded is None else loaded[0]

    def put_derived(self, key: str, value: object) -> None:
        self._memory[(DERIVED, key)] = (key, value)
        if self.disk is not None:
            self.disk.save(DERIVED, key, value)
            for stale in self.disk.names(DERIVED)[_OUTCOMES_KEPT:]:
                stale.unlink(missing_ok=True)

    # Module summaries (``index.project.SummaryStore``) ----------------------------

    def use_file_keys(self, keys: Mapping[str, str]) -> None:
        """The entry key of each file of the run: summaries of a file are keyed by it."""
        self._file_keys = dict(keys)

    def load(self, path: str, kind: str) -> tuple[object] | None:
        file_key = self._file_keys.get(path)
        if file_key is None:
            return None
        key = digest(file_key, kind)
        found = self._memory.get((SUMMARIES, f"{path}\0{kind}"))
        if found is not None and found[0] == key:
            return (found[1],)
        loaded = None if self.disk is None else self.disk.load(SUMMARIES, key)
        if loaded is not None:
            self._memory[(SUMMARIES, f"{path}\0{kind}")] = (key, loaded[0])
        return loaded

    def save(self, path: str, kind: str, value: object) -> None:
        file_key = self._file_keys.get(path)
        if file_key is None:
            return
        key = digest(file_key, kind)
        self._memory[(SUMMARIES, f"{path}\0{kind}")] = (key, value)
        if self.disk is not None:
            self.disk.save(SUMMARIES, key, value)

    # The stat manifest -------------------------------------------------------------

    def manifest(self, root_id: str) -> StatManifest:
        loaded = None if self.disk is None else self.disk.load(STAT, root_id)
        if loaded is not None and isinstance(loaded[0], StatManifest):
            return loaded[0]
        return StatManifest({})

    def put_manifest(self, root_id: str, entries: Mapping[str, tuple[FileStat, str]]) -> None:
        if self.disk is not None:
            self.disk.save(STAT, root_id, StatManifest(dict(entries)))

    @property
    def problem(self) -> str | None:
        return None if self.disk is None else self.disk.problem
