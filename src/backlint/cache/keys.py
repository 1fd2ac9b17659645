"""What cache entries are keyed by.

Keys are digests of content, never of times or absolute paths, so a cache made on one
machine (a CI runner) is valid on another (mypy issue 3403 shows what mtime-based keys
cost). Only the stat manifest, which lets an unchanged file skip re-hashing, records
sizes and times, and it is never part of a key: a file whose stat changed is simply
hashed again.
"""

from __future__ import annotations

import hashlib
import os
import platform
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import backlint
from backlint.config import Settings
from backlint.discovery import relative_to_root


def digest(*parts: object) -> str:
    """A hex digest of ``parts``' reprs (tuples, strings and numbers of plain values)."""
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def content_digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def engine_fingerprint() -> str:
    """backlint's version, the Python feature version, and a digest of backlint's own
    source: a development install whose rules changed must not reuse old results, and
    reading ~200 small files costs a few milliseconds."""
    package = Path(backlint.__file__).parent
    hasher = hashlib.blake2b(digest_size=12)
    hasher.update(f"{backlint.__version__}|{platform.python_version_tuple()[:2]}".encode())
    for source in sorted(package.rglob("*.py")):
        hasher.update(source.relative_to(package).as_posix().encode())
        hasher.update(source.read_bytes())
    return hasher.hexdigest()


def _relative_roots(settings: Settings) -> tuple[str, ...]:
    return tuple(relative_to_root(root, settings.root) for root in settings.source_roots())


def file_pass_fingerprint(settings: Settings, codes: Iterable[str]) -> str:
    """The settings that shape one file's pass: the enabled rules and their options, the
    roles, the source roots (relative to the project root) and pytest's naming."""
    enabled = tuple(sorted(codes))
    return digest(
        enabled,
        settings.rule_options,
        settings.roles,
        _relative_roots(settings),
        settings.pytest,
    )


def project_pass_fingerprint(settings: Settings, file_pass: str) -> str:
    """What else the project pass reads from the settings (suppression and ignores)."""
    return digest(
        file_pass,
        settings.per_file_ignores,
        settings.require_reason_for,
        settings.include_low_confidence,
    )


@dataclass(frozen=True)
class FileStat:
    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int

    @classmethod
    def of(cls, result: os.stat_result) -> FileStat:
        return cls(result.st_size, result.st_mtime_ns, result.st_ctime_ns, result.st_ino)


# A file modified this recently may change again within the file system's timestamp
# granularity without its stat changing ("racily clean", as git calls it): it is hashed
# again next time rather than trusted.
_RACY_NS = 2_000_000_000


@dataclass(frozen=True)
class StatManifest:
    """Root-relative path -> the stat and content digest last seen for it."""

    entries: Mapping[str, tuple[FileStat, str]]

    def digest_of(self, relative: str, stat: FileStat) -> str | None:
        known = self.entries.get(relative)
        return known[1] if known is not None and known[0] == stat else None

    @staticmethod
    def trusted(stat: FileStat) -> bool:
        return time.time_ns() - stat.mtime_ns > _RACY_NS
