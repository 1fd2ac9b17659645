"""``--new-from-rev REV``: report only the findings a change made.

The tree at REV is written from git's objects into a temporary folder and checked like
the working tree, with the same configuration and the same cache (files whose content is
the same on both sides are not analysed twice). A finding of the working tree is new when
its line-independent fingerprint (the baseline's) is not among the base's: lines that
only moved keep their findings matched, and a finding the change caused in a file it did
not touch (an import that closes a cycle elsewhere) is new.

The base's project index stays available while the working tree is checked, for rules
that compare the two (``index/change.py``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from backlint.changes.git import Repository
from backlint.diagnostics import Diagnostic
from backlint.discovery import PYTHON_SUFFIXES
from backlint.engine.results import MAX_FILE_BYTES
from backlint.index.change import ChangeSet
from backlint.index.textfiles import text_kind
from backlint.output._common import fingerprints
from backlint.output.base import Report
from backlint.rules.catalogue import catalogue
from backlint.workspace import CheckResult, Workspace


@dataclass(frozen=True)
class ChangeRun:
    """A change being checked: what the rules see, and the base's fingerprints."""

    change: ChangeSet
    base_fingerprints: frozenset[str]
    root: Path  # the project root the fingerprints' paths are relative to

    def new_findings(self, result: CheckResult, cwd: Path) -> list[Diagnostic]:
        """The findings of ``result`` (the working tree's, with display paths relative to
        ``cwd``) that the base did not have."""
        found = _fingerprinted(result.diagnostics, result.snippets, self.root, cwd)
        known = self.base_fingerprints
        return [diagnostic for diagnostic, fingerprint in found if fingerprint not in known]


@contextmanager
def changed_since(workspace: Workspace, revision: str) -> Iterator[ChangeRun]:
    """Check the project at ``revision`` and make ``workspace``'s checks about the change
    from it until the block ends. Raises ``GitError`` (a ``ConfigError``) outside a
    repository or for an unknown revision."""
    repository = Repository.containing(workspace.root)
    commit = repository.commit(revision)
    prefix = _prefix(workspace.root, repository.root)
    diff = repository.diff(commit)
    with tempfile.TemporaryDirectory(prefix="backlint-base-") as folder:
        base_root = Path(folder).joinpath(*PurePosixPath(prefix).parts)
        repository.export(commit, prefix, Path(folder), _Wanted(prefix))
        base_root.mkdir(parents=True, exist_ok=True)
        base = _base_workspace(workspace, base_root)
        result = base.check([base_root])
        project = result.project
        if project is None and any(rule.change_scoped for rule in workspace.enabled.values()):
            # The base's outcome came from the cache: its index, from the cached facts
            # of its files, without running its rules again.
            project = base.project_index([base_root]).project
        change = ChangeSet(
            revision=revision,
            commit=commit,
            changed=_inside(diff.changed, prefix),
            removed=_inside(diff.removed, prefix),
            added=_inside(diff.added, prefix),
            base=project,
        )
        moves = ((_relative(old, prefix), _relative(new, prefix)) for old, new in diff.renamed)
        renamed = {old: new for old, new in moves if old and new}
        workspace.change = change
        try:
            yield ChangeRun(change, _fingerprints(result, base_root, renamed), workspace.root)
        finally:
            workspace.change = None


def _base_workspace(workspace: Workspace, base_root: Path) -> Workspace:
    """A workspace on the base tree with the working tree's configuration and cache."""
    base = Workspace(
        workspace.settings.relocated(base_root),
        base_root,
        workspace.rules,
        workspace.enabled,
        base_root,
        None if workspace.cache.disk is None else workspace.cache.disk.directory,
        workspace.jobs,
    )
    base.remembers_stats = False
    return base


def _fingerprints(result: CheckResult, base_root: Path, renamed: dict[str, str]) -> frozenset[str]:
    """The base findings' fingerprints, each file under its name in the working tree."""
    diagnostics = [replace(d, path=renamed.get(d.path, d.path)) for d in result.diagnostics]
    snippets = {renamed.get(path, path): lines for path, lines in result.snippets.items()}
    diagnostics.sort(key=Diagnostic.sort_key)
    found = _fingerprinted(diagnostics, snippets, base_root, base_root)
    return frozenset(fingerprint for _, fingerprint in found)


def _fingerprinted(
    diagnostics: Sequence[Diagnostic],
    snippets: Mapping[str, Mapping[int, str]],
    root: Path,
    cwd: Path,
) -> list[tuple[Diagnostic, str]]:
    """Each finding with the fingerprint baselines use, its path taken relative to
    ``root`` (display paths are relative to ``cwd``)."""
    report = Report(diagnostics, catalogue(), root, cwd, version="", snippets=snippets)
    return list(fingerprints(report))


@dataclass(frozen=True)
class _Wanted:
    """Which files of the base tree to write: those discovery could read."""

    prefix: str

    def __call__(self, path: str, size: int) -> bool:
        if size > MAX_FILE_BYTES:
            return False
        name = PurePosixPath(path)
        if name.suffix in PYTHON_SUFFIXES or name.name == ".gitignore":
            return True
        return text_kind(_relative(path, self.prefix)) is not None


def _prefix(root: Path, repository: Path) -> str:
    """The project root relative to the repository root, ``/``-separated ("" if equal)."""
    relative = root.resolve().relative_to(repository)
    return "" if relative == Path(".") else relative.as_posix()


def _relative(path: str, prefix: str) -> str:
    """A repository-relative path made root-relative; "" when outside the root."""
    if not prefix:
        return path
    return path[len(prefix) + 1 :] if path.startswith(prefix + "/") else ""


def _inside(paths: frozenset[str], prefix: str) -> frozenset[str]:
    return frozenset(filter(None, (_relative(path, prefix) for path in paths)))
