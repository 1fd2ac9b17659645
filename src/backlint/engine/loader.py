"""Reading a project module that is not part of the run, by its name."""

from __future__ import annotations

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
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
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

    def parse(self, module: str) -> tuple[cst.Module, ImportTable] | None:
        """A module's tree and import table, for the few rules that read another
        module's function bodies (only when such a rule is enabled)."""
        candidate = self._find(module)
        return None if candidate is None else parse_file(candidate, self._settings)

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
