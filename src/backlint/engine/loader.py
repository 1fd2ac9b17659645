"""Reading a project module from disk: its facts by its name, its tree for a summary."""

from __future__ import annotations

from pathlib import Path

import libcst as cst

from backlint.config import Settings
from backlint.discovery import relative_to_root
from backlint.engine.filepass import FilePass, parse_file
from backlint.index.facts import FileFacts
from backlint.index.names import ImportTable


class ModulesOnDisk:
    """Finds and reads a project module by name under the source roots, once.

    Used by the project pass for modules outside the run: a logger imported from
    ``app/core/logging.py`` is still recognised when only the importing file is checked.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._pass: FilePass | None = None

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
        return parse_file(self._settings.root / facts.path, facts.module, facts.is_package)

    def _find(self, module: str) -> Path | None:
        parts = module.split(".")
        if not module or any(not part.isidentifier() for part in parts):
            return None
        for root in self._settings.source_roots():
            for candidate in (
                root.joinpath(*parts).with_suffix(".py"),
                root.joinpath(*parts, "__init__.py"),
            ):
                if candidate.is_file():
                    return candidate
        return None
