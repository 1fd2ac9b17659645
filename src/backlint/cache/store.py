"""Cache entries on disk: atomic writes, checked reads, one directory per engine version.

Layout under the cache directory (``.backlint_cache/`` in the project root by default)::

    .gitignore            "*": the cache is never committed (as ruff does)
    CACHEDIR.TAG          tells backup tools to skip it
    <engine>/             one folder per engine fingerprint; the others are pruned
        files/ab/<key>    per-file results
        outcomes/<key>    project-pass outcomes
        summaries/ab/<key>
        stat/<root>       the stat manifest of one project root

An entry is a small header (magic, length, BLAKE2 digest of the payload) and a pickle.
A missing, truncated, corrupt or foreign entry is a miss, never an error: the run
recomputes it. The payload is unpickled with a restricted unpickler that builds only
backlint's own dataclasses and enums and plain builtins, so a tampered cache cannot run
code.
"""

from __future__ import annotations

import builtins
import dataclasses
import enum
import functools
import hashlib
import importlib
import io
import os
import pickle
import shutil
import tempfile
from pathlib import Path

MAGIC = b"BLC1"
_HEADER = len(MAGIC) + 8 + 32
_DIGEST_SIZE = 32

_BUILTINS = frozenset(
    {"frozenset", "set", "tuple", "list", "dict", "str", "int", "float", "bool", "bytes"}
)

_GITIGNORE = "# Created by backlint: the cache is local state, never committed.\n*\n"
_CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by backlint.\n"
    "# For information about cache directory tags see https://bford.info/cachedir/\n"
)


class CacheUnavailable(Exception):
    """The cache directory cannot be written; the message says why, for the user."""


class NotACache(Exception):
    """``backlint clean`` was pointed at a directory backlint did not create."""


class _SafeUnpickler(pickle.Unpickler):
    """Builds backlint's dataclasses, enums and named tuples and plain builtins, nothing
    else: no function can be called and no other class constructed from a cache file."""

    def find_class(self, module: str, name: str) -> type:
        found = _allowed_class(module, name)
        if found is None:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a cache entry")
        return found


@functools.cache
def _allowed_class(module: str, name: str) -> type | None:
    """The class ``module.name`` if a cache entry may hold it (asked ~30 times per entry,
    so answered once per process)."""
    if module == "builtins":
        return getattr(builtins, name) if name in _BUILTINS else None
    if module != "backlint" and not module.startswith("backlint."):
        return None
    try:
        found = getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None
    if isinstance(found, type) and (
        dataclasses.is_dataclass(found)
        or issubclass(found, enum.Enum)
        or (issubclass(found, tuple) and hasattr(found, "_fields"))
    ):
        return found
    return None


def encode(value: object) -> bytes:
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    digest = hashlib.blake2b(payload, digest_size=_DIGEST_SIZE).digest()
    return MAGIC + len(payload).to_bytes(8, "little") + digest + payload


def decode(data: bytes) -> tuple[object] | None:
    """``(value,)`` from an entry's bytes, or None if they are not an intact entry."""
    if len(data) < _HEADER or not data.startswith(MAGIC):
        return None
    size = int.from_bytes(data[len(MAGIC) : len(MAGIC) + 8], "little")
    payload = data[_HEADER:]
    if size != len(payload):
        return None
    digest = data[len(MAGIC) + 8 : _HEADER]
    if hashlib.blake2b(payload, digest_size=_DIGEST_SIZE).digest() != digest:
        return None
    try:
        return (_SafeUnpickler(io.BytesIO(payload)).load(),)
    # An intact payload that cannot be rebuilt (a class renamed since it was written, or
    # one the unpickler refuses) is a miss like any other: the caller recomputes it.
    except (pickle.UnpicklingError, AttributeError, ImportError, TypeError, ValueError):
        return None


class DiskStore:
    """One engine version's entries under a cache directory.

    Writes go to a temporary file in the same folder, renamed over the entry: concurrent
    runs never see half an entry, and the last writer wins with identical content.
    """

    def __init__(self, directory: Path, engine: str) -> None:
        self.directory = directory
        self.version_dir = directory / engine
        self.writable = True
        self.problem: str | None = None
        self._folders: set[Path] = set()  # created in this run: no mkdir per entry

    def prepare(self) -> None:
        """Create the directory and its markers, prune other versions. Raises
        ``CacheUnavailable`` when it cannot be written."""
        try:
            self.version_dir.mkdir(parents=True, exist_ok=True)
            for name, text in ((".gitignore", _GITIGNORE), ("CACHEDIR.TAG", _CACHEDIR_TAG)):
                marker = self.directory / name
                if not marker.exists():
                    self._write(marker, text.encode())
            self._prune_versions()
            # A directory that exists but is read-only fails here, not on every entry.
            with tempfile.NamedTemporaryFile(dir=self.version_dir, prefix=".probe-"):
                pass
        except OSError as error:
            self.writable = False
            raise CacheUnavailable(
                f"cannot write the cache in {self.directory}: {error.strerror or error}"
            ) from None

    def _prune_versions(self) -> None:
        for child in self.directory.iterdir():
            if child.is_dir() and child != self.version_dir and _looks_like_version(child):
                shutil.rmtree(child, ignore_errors=True)

    def path(self, namespace: str, key: str) -> Path:
        if namespace in ("files", "summaries"):
            return self.version_dir / namespace / key[:2] / key
        return self.version_dir / namespace / key

    def load(self, namespace: str, key: str) -> tuple[object] | None:
        try:
            data = self.path(namespace, key).read_bytes()
        except OSError:
            return None
        return decode(data)

    def save(self, namespace: str, key: str, value: object) -> None:
        if not self.writable:
            return
        target = self.path(namespace, key)
        try:
            if target.parent not in self._folders:
                target.parent.mkdir(parents=True, exist_ok=True)
                self._folders.add(target.parent)
            self._write(target, encode(value))
        except OSError as error:
            self.writable = False
            self.problem = f"cannot write the cache in {self.directory}: {error.strerror}"

    def names(self, namespace: str) -> list[Path]:
        """The entries of a flat namespace, newest first."""
        folder = self.version_dir / namespace
        try:
            entries = [entry for entry in folder.iterdir() if not entry.name.startswith(".")]
        except OSError:
            return []
        return sorted(entries, key=_mtime, reverse=True)

    @staticmethod
    def _write(target: Path, data: bytes) -> None:
        # The temporary name is known before the file exists, so an interruption at any
        # point (Ctrl-C) can remove it: no half-written file stays behind. The process id
        # keeps concurrent runs apart.
        temporary = target.with_name(f".tmp-{os.getpid()}-{target.name}")
        try:
            with open(temporary, "wb") as stream:
                stream.write(data)
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _looks_like_version(path: Path) -> bool:
    """Engine folders are hex digests: never delete anything else a user put there."""
    name = path.name
    return len(name) == 24 and all(c in "0123456789abcdef" for c in name)


def remove_cache(directory: Path) -> bool:
    """Delete a cache directory (``backlint clean``). Returns whether there was one.

    Refuses a directory that does not look like a backlint cache, so a mistyped
    ``--cache-dir`` cannot delete someone's files. Raises ``NotACache`` or ``OSError``.
    """
    if not directory.exists():
        return False
    tag = directory / "CACHEDIR.TAG"
    if not tag.is_file() or "backlint" not in tag.read_text(errors="replace"):
        raise NotACache(f"{directory} does not look like a backlint cache; not removing it")
    shutil.rmtree(directory)
    return True
