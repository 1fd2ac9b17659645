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
    # String operations: ``Path.relative_to`` is slow enough to show in a warm run.
    text, prefix = str(path), str(root).rstrip(os.sep) + os.sep
    if text.startswith(prefix):
        return text[len(prefix) :].replace(os.sep, "/")
    return "." if text == str(root) else path.as_posix()


class _Patterns:
    """Gitignore-style patterns, with the plain names (``.venv``, ``build/``) answered by
    a set lookup on the last path component.

    A name pattern matches a path when any of its components is that name (a folder's
    pattern excludes what the folder holds); pathspec then matches the few patterns with
    a slash or a wildcard. A file with a negation (``!keep``) is matched by pathspec
    alone, since the order of its patterns matters.
    """

    def __init__(self, lines: Sequence[str]) -> None:
        self.names: set[str] = set()
        self.folder_names: set[str] = set()
        rest = list(lines)
        if not any(line.lstrip().startswith("!") for line in lines):
            rest = []
            for line in lines:
                name = line.strip()
                folder = name.endswith("/") and name.count("/") == 1
                plain = name.rstrip("/")
                if plain and not plain.startswith("#") and not set(plain) & _SPECIAL:
                    (self.folder_names if folder else self.names).add(plain)
                elif name and not name.startswith("#"):
                    rest.append(line)
        self.spec = pathspec.GitIgnoreSpec.from_lines(rest) if rest else None

    def matches(self, relative: str, is_dir: bool) -> bool:
        parts = relative.split("/")
        if not self.names.isdisjoint(parts):
            return True
        folders = parts if is_dir else parts[:-1]
        if self.folder_names and not self.folder_names.isdisjoint(folders):
            return True
        if self.spec is None:
            return False
        return self.spec.match_file(relative + "/" if is_dir else relative)


_SPECIAL = frozenset("/*?[]\\!")


class _Ignore:
    """Exclude patterns plus the ``.gitignore`` files met on the way down."""

    def __init__(self, settings: Settings) -> None:
        self.root = settings.root
        self.root_prefix = str(settings.root).rstrip(os.sep) + os.sep
        self.exclude = _Patterns([*settings.exclude, *settings.extend_exclude])
        self.respect_gitignore = settings.respect_gitignore
        # Folder (as a string ending in a separator) -> its .gitignore's patterns.
        self.gitignores: dict[str, _Patterns] = {}

    def load_gitignore(self, directory: Path) -> None:
        prefix = str(directory).rstrip(os.sep) + os.sep
        if not self.respect_gitignore or prefix in self.gitignores:
            return
        candidate = directory / ".gitignore"
        try:
            lines = candidate.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return
        self.gitignores[prefix] = _Patterns(lines)

    def excluded(self, path: Path, is_dir: bool) -> bool:
        text = str(path)
        name = path.name
        if text.startswith(self.root_prefix):
            relative = text[len(self.root_prefix) :].replace(os.sep, "/")
        else:  # outside the root: patterns can only match its name
            relative = name
        if self.exclude.matches(relative, is_dir):
            return True
        for prefix, patterns in self.gitignores.items():
            if text.startswith(prefix):
                inner = text[len(prefix) :].replace(os.sep, "/")
                if patterns.matches(inner, is_dir):
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
        if ".gitignore" in filenames:
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
