"""Which files a run checks: the given paths minus excludes and ``.gitignore`` matches.

Directories are walked without following symlinks to directories (a symlink loop cannot
trap the walk). ``exclude``/``extend-exclude`` are gitignore-style patterns relative to
the project root; paths given explicitly are checked even if excluded, unless
``--force-exclude`` is set (as pre-commit does, passing every changed file).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from backlint.config import Settings
from backlint.diagnostics import RunProblem
from backlint.index.textfiles import text_kind

PYTHON_SUFFIXES = (".py", ".pyi")


@dataclass
class Discovery:
    files: list[Path] = field(default_factory=list)
    problems: list[RunProblem] = field(default_factory=list)


def relative_to_root(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` with ``/`` separators, or its absolute form outside it."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


class _Ignore:
    """Exclude patterns plus the ``.gitignore`` files met on the way down."""

    def __init__(self, settings: Settings) -> None:
        self.root = settings.root
        patterns = [*settings.exclude, *settings.extend_exclude]
        self.exclude = pathspec.GitIgnoreSpec.from_lines(patterns)
        self.respect_gitignore = settings.respect_gitignore
        self.gitignores: dict[Path, pathspec.GitIgnoreSpec] = {}

    def load_gitignore(self, directory: Path) -> None:
        if not self.respect_gitignore or directory in self.gitignores:
            return
        candidate = directory / ".gitignore"
        try:
            lines = candidate.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return
        self.gitignores[directory] = pathspec.GitIgnoreSpec.from_lines(lines)

    def excluded(self, path: Path, is_dir: bool) -> bool:
        relative = relative_to_root(path, self.root)
        suffix = "/" if is_dir else ""
        if self.exclude.match_file(relative + suffix) or self.exclude.match_file(
            path.name + suffix
        ):
            return True
        for directory, spec in self.gitignores.items():
            try:
                inner = path.relative_to(directory).as_posix()
            except ValueError:
                continue
            if spec.match_file(inner + suffix):
                return True
        return False


def discover(
    paths: Sequence[Path], settings: Settings, text_kinds: frozenset[str] = frozenset()
) -> Discovery:
    """The files to check, sorted and without duplicates: Python files, and the
    non-Python files of ``text_kinds`` (``index/textfiles.py``) that enabled rules read."""
    result = Discovery()
    ignore = _Ignore(settings)
    if settings.respect_gitignore:
        # .gitignore files above a given path still apply to it (up to the project root).
        for directory in (settings.root, *_between(settings.root, paths)):
            ignore.load_gitignore(directory)
    seen: set[Path] = set()
    for given in paths:
        # Resolve what the user named, so that a path through a symlinked directory or
        # with ``..`` maps to the same root-relative path (per-file ignores, excludes,
        # module names) and the same file is never checked twice.
        try:
            path = given.resolve()
        except (OSError, RuntimeError):
            result.problems.append(RunProblem(str(given), "symbolic link loop, skipped"))
            continue
        if not path.exists():
            result.problems.append(RunProblem(str(given), "no such file or directory"))
            continue
        if path.is_dir():
            if settings.force_exclude and ignore.excluded(path, is_dir=True):
                continue
            for found in _walk(path, ignore, result, text_kinds, settings.root):
                if found not in seen:
                    seen.add(found)
                    result.files.append(found)
        else:
            if settings.force_exclude and ignore.excluded(path, is_dir=False):
                continue
            if not path.is_file():
                result.problems.append(RunProblem(str(given), "not a regular file, skipped"))
                continue
            if path not in seen:
                seen.add(path)
                result.files.append(path)
    result.files.sort()
    return result


def _between(root: Path, paths: Sequence[Path]) -> Iterator[Path]:
    for given in paths:
        path = given.absolute()
        for parent in reversed(path.parents):
            if parent != root and root in parent.parents:
                yield parent


def _wanted(name: str, path: Path, text_kinds: frozenset[str], root: Path) -> bool:
    if name.endswith(PYTHON_SUFFIXES):
        return True
    return bool(text_kinds) and text_kind(relative_to_root(path, root)) in text_kinds


def _walk(
    top: Path, ignore: _Ignore, result: Discovery, text_kinds: frozenset[str], root: Path
) -> Iterator[Path]:
    def on_error(error: OSError) -> None:
        result.problems.append(
            RunProblem(str(error.filename), f"cannot read directory: {error.strerror}")
        )

    for directory, dirnames, filenames in os.walk(top, onerror=on_error, followlinks=False):
        here = Path(directory)
        ignore.load_gitignore(here)
        dirnames[:] = sorted(
            name for name in dirnames if not ignore.excluded(here / name, is_dir=True)
        )
        for name in sorted(filenames):
            path = here / name
            if not _wanted(name, path, text_kinds, root):
                continue
            if ignore.excluded(path, is_dir=False):
                continue
            if not path.is_file():
                # A broken link, a named pipe or a socket: reading it would fail or hang.
                result.problems.append(RunProblem(str(path), "not a regular file, skipped"))
                continue
            yield path


def is_excluded(path: Path, settings: Settings) -> bool:
    """Whether ``path`` (which need not exist, e.g. ``--stdin-filename``) is excluded."""
    ignore = _Ignore(settings)
    absolute = resolve_lenient(path)
    if settings.respect_gitignore:
        for directory in (settings.root, *_between(settings.root, [absolute])):
            ignore.load_gitignore(directory)
    if ignore.excluded(absolute, is_dir=False):
        return True
    return any(
        ignore.excluded(parent, is_dir=True)
        for parent in absolute.parents
        if settings.root in parent.parents
    )


def resolve_lenient(path: Path) -> Path:
    """``path`` made absolute with symlinks resolved, even if it does not exist (stdin)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()
