"""What backlint reads from git: a revision's commit, the files changed since it, its tree.

Everything goes through ``git`` itself (plumbing commands with ``-z`` output), run with a
fixed locale and no pager or hooks. The base tree is written from blobs into a folder of
backlint's own, so the user's working tree and index are never touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from backlint.config import ConfigError

# Blob modes ``git ls-tree`` gives for regular files; links (120000) and submodules
# (160000) are not written out, as discovery would not follow them either.
_FILE_MODES = frozenset({"100644", "100755"})


class GitError(ConfigError):
    """git is missing, the folder is not in a repository, or the revision is unknown."""


@dataclass(frozen=True)
class TreeDiff:
    """Paths (relative to the repository root) that differ between a commit and the
    working tree, untracked files included. A rename appears in ``renamed`` (old to new)
    and its new name in ``changed``; ``added`` holds the new files (untracked ones too)."""

    changed: frozenset[str]
    removed: frozenset[str]
    added: frozenset[str]
    renamed: tuple[tuple[str, str], ...]


class Repository:
    """A git repository on disk, found from a folder inside its working tree."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def containing(cls, folder: Path) -> Repository:
        if shutil.which("git") is None:
            raise GitError("--new-from-rev needs git, and git is not on PATH")
        try:
            output = _git(folder, "rev-parse", "--show-toplevel")
        except GitError:
            raise GitError(
                f"--new-from-rev needs a git repository, and {folder} is not in one"
            ) from None
        return cls(Path(output.strip()).resolve())

    def commit(self, revision: str) -> str:
        """The commit ``revision`` names. Raises GitError when it names none."""
        if revision.startswith("-"):
            raise GitError(f"--new-from-rev: `{revision}` is not a revision")
        try:
            return _git(self.root, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
        except GitError:
            raise GitError(
                f"--new-from-rev: unknown revision `{revision}` in {self.root} "
                "(in CI, fetch the history: actions/checkout with `fetch-depth: 0`)"
            ) from None

    def diff(self, commit: str) -> TreeDiff:
        """What changed between ``commit`` and the working tree."""
        try:
            listing = _git(self.root, "diff", "--name-status", "-z", "--find-renames", commit)
        except GitError:
            # Finding renames reads the blobs; a clone that lacks some (a partial or
            # mirrored clone) can still list what changed, renames as delete plus add.
            listing = _git(self.root, "diff", "--name-status", "-z", "--no-renames", commit)
        fields = listing.split("\0")
        changed: set[str] = set()
        removed: set[str] = set()
        added: set[str] = set()
        renamed: list[tuple[str, str]] = []
        items = iter(field for field in fields if field)
        for status in items:
            if status.startswith(("R", "C")):
                old, new = next(items), next(items)
                changed.add(new)
                if status.startswith("R"):
                    removed.add(old)
                    renamed.append((old, new))
            elif status.startswith("D"):
                removed.add(next(items))
            else:
                path = next(items)
                changed.add(path)
                if status.startswith("A"):
                    added.add(path)
        untracked = _git(self.root, "ls-files", "--others", "--exclude-standard", "-z")
        added.update(path for path in untracked.split("\0") if path)
        changed.update(added)
        return TreeDiff(
            frozenset(changed), frozenset(removed), frozenset(added), tuple(sorted(renamed))
        )

    def export(
        self, commit: str, below: str, destination: Path, wanted: Callable[[str, int], bool]
    ) -> int:
        """Write the files of ``commit`` under the folder ``below`` (repository-relative,
        "" for all) into ``destination``, at their repository-relative paths: those for
        which ``wanted(path, size)`` holds. Returns how many files were written."""
        blobs = [
            (sha, path) for sha, path, size in self._blobs(commit, below) if wanted(path, size)
        ]
        if not blobs:
            return 0
        requests = "".join(f"{sha}\n" for sha, _ in blobs).encode()
        data = _git_bytes(self.root, ["cat-file", "--batch"], requests)
        written = 0
        for (_, path), content in zip(blobs, _batch_objects(data), strict=True):
            if content is None:
                continue
            target = destination.joinpath(*PurePosixPath(path).parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
            written += 1
        return written

    def _blobs(self, commit: str, below: str) -> Iterator[tuple[str, str, int]]:
        """``(object, path, size)`` of each regular file of ``commit`` under ``below``."""
        arguments = ["ls-tree", "-r", "-z", "--long", "--full-tree", commit]
        if below:
            arguments += ["--", below]
        for entry in _git(self.root, *arguments).split("\0"):
            if not entry:
                continue
            header, _, path = entry.partition("\t")
            mode, kind, sha, size = header.split()
            # A blob the clone lacks has no size ("BAD"): nothing to write.
            if kind == "blob" and mode in _FILE_MODES and size.isdigit() and _safe(path):
                yield sha, path, int(size)


def _safe(path: str) -> bool:
    """A path that stays inside the folder it is written to (git refuses others, but the
    objects come from a repository that might have been crafted)."""
    parts = PurePosixPath(path).parts
    return bool(parts) and not PurePosixPath(path).is_absolute() and ".." not in parts


def _batch_objects(data: bytes) -> Iterator[bytes | None]:
    """The contents in ``git cat-file --batch`` output, one per request: ``<sha> <type>
    <size>\\n<data>\\n``, or ``<sha> missing\\n`` (None) for an object the repository lacks
    (a partial clone)."""
    position = 0
    while position < len(data):
        end = data.index(b"\n", position)
        header = data[position:end].split()
        if len(header) < 3:
            position = end + 1
            yield None
            continue
        size = int(header[2])
        start = end + 1
        yield data[start : start + size]
        position = start + size + 1


def _environment() -> dict[str, str]:
    environment = dict(os.environ)
    # backlint only reads: no prompt, no pager, and no index refresh (``git diff`` would
    # otherwise rewrite the index's stat data, racing the user's own git commands).
    environment.update(LC_ALL="C", GIT_PAGER="cat", GIT_TERMINAL_PROMPT="0", GIT_OPTIONAL_LOCKS="0")
    # The repository is the one found from the project, not one a variable names.
    environment.pop("GIT_DIR", None)
    environment.pop("GIT_WORK_TREE", None)
    return environment


def _git(folder: Path, *arguments: str) -> str:
    return _git_bytes(folder, list(arguments), None).decode("utf-8", "surrogateescape").strip("\n")


def _git_bytes(folder: Path, arguments: Sequence[str], stdin: bytes | None) -> bytes:
    try:
        completed = subprocess.run(
            ["git", "-c", "core.quotepath=off", *arguments],
            cwd=folder,
            input=stdin,
            capture_output=True,
            env=_environment(),
            check=False,
        )
    except OSError as error:
        raise GitError(f"cannot run git: {error.strerror}") from None
    if completed.returncode != 0:
        message = completed.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git {arguments[0]} failed: {message[-1] if message else 'no output'}")
    return completed.stdout
