"""Reading a project module from disk: its facts by its name, its tree for a summary."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import libcst as cst

from backlint.cache.keys import content_digest
from backlint.config import Settings
from backlint.discovery import relative_to_root
from backlint.engine.filepass import FilePass, parse_file
from backlint.index.facts import FileFacts
from backlint.index.names import ImportTable


class ModulesOnDisk:
    """Finds and reads a project module by name under the source roots, once.

    Used by the project pass for modules outside the run (a module in an excluded
    folder). ``read`` records every file it looked at, with its content digest ("" when
    absent), so that a cached project outcome is reused only while they are unchanged.
    ``overlays`` holds the run's text of files that differ from the disk (stdin, the fix
    loop's fixed files), by root-relative path: a summary is made of what was checked.
    """

    def __init__(self, settings: Settings, overlays: Mapping[str, bytes] | None = None) -> None:
        self._settings = settings
        self._overlays = dict(overlays or {})
        self._pass: FilePass | None = None
        self.read: dict[str, str] = {}

    def __call__(self, module: str) -> FileFacts | None:
        candidate = self._find(module)
        if candidate is None:
            return None
        if self._pass is None:
            self._pass = FilePass(self._settings, ())
        relative = relative_to_root(candidate, self._settings.root)
        return self._pass.facts_only(candidate, relative)

    def parse(self, facts: FileFacts) -> tuple[cst.Module, ImportTable] | None:
        """A project file's tree and import table, when a summary of it is not stored
        (``ProjectIndex.summary``); ``facts.path`` is relative to the root."""
        path = self._settings.root / facts.path
        data = self._overlays.get(facts.path)
        return parse_file(path, facts.module, facts.is_package, data)

    def _find(self, module: str) -> Path | None:
        parts = module.split(".")
        if not module or any(not part.isidentifier() for part in parts):
            return None
        for root in self._settings.source_roots():
            for candidate in (
                root.joinpath(*parts).with_suffix(".py"),
                root.joinpath(*parts, "__init__.py"),
            ):
                try:
                    self.read[str(candidate)] = content_digest(candidate.read_bytes())
                    return candidate
                except OSError:
                    self.read[str(candidate)] = ""
        return None
