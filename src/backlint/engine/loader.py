"""Reading a project module that is not part of the run, by its name."""

from __future__ import annotations

from backlint.config import Settings
from backlint.discovery import relative_to_root
from backlint.engine.filepass import FilePass
from backlint.index.facts import FileFacts


class ModulesOnDisk:
    """Finds and reads a project module by name under the source roots, once.

    Used by the project pass for modules outside the run: a logger imported from
    ``app/core/logging.py`` is still recognised when only the importing file is checked.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._pass: FilePass | None = None

    def __call__(self, module: str) -> FileFacts | None:
        parts = module.split(".")
        for root in self._settings.source_roots():
            for candidate in (
                root.joinpath(*parts).with_suffix(".py"),
                root.joinpath(*parts, "__init__.py"),
            ):
                if candidate.is_file():
                    if self._pass is None:
                        self._pass = FilePass(self._settings, ())
                    relative = relative_to_root(candidate, self._settings.root)
                    return self._pass.facts_only(candidate, relative)
        return None
