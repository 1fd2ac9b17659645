"""One warm ``Workspace`` per workspace root, checked with the editor's buffers.

A root is a workspace folder the client named (or, for a file outside every folder, the
project around it). Its ``Workspace`` lives as long as the server, so its in-memory
cache keeps every file's latest result: an edit re-runs the file pass of the edited
buffer only, and the project pass. Open buffers are passed as ``overlays`` and override
what is on disk, for the buffer's own findings and for every cross-file question.

Nothing here talks to the client: ``server.py`` calls ``lint`` in a worker thread and
publishes what it returns.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from backlint.application import CheckRequest, open_workspace
from backlint.config import ConfigError
from backlint.diagnostics import Diagnostic
from backlint.lsp.settings import ServerSettings
from backlint.workspace import Workspace


@dataclass(frozen=True)
class Buffer:
    """An open document, as the editor holds it at one version."""

    uri: str
    path: Path  # absolute, symlinks resolved
    version: int | None
    text: str

    @property
    def data(self) -> bytes:
        return self.text.encode("utf-8")


@dataclass(frozen=True)
class Findings:
    """A document's findings, and the version and text they were computed on."""

    version: int | None
    text: str
    diagnostics: tuple[Diagnostic, ...]


@dataclass
class LintOutcome:
    findings: dict[str, Findings] = field(default_factory=dict)  # by URI
    errors: list[str] = field(default_factory=list)  # internal errors: logged as errors
    notes: list[str] = field(default_factory=list)  # files that could not be read fully


class Root:
    """A workspace root: its ``Workspace`` and what was last published for its files."""

    def __init__(self, folder: Path, settings: ServerSettings) -> None:
        self.folder = folder
        self.settings = settings
        self.workspace: Workspace | None = None
        self.error: str | None = None
        self.findings: dict[str, Findings] = {}
        # The workspace is not thread-safe: one check at a time.
        self.lock = asyncio.Lock()
        # Coalescing: edits that arrive while a check runs are checked together after it.
        self.pending = False
        self.running = False
        self.open()

    def open(self) -> None:
        """(Re)build the workspace from the configuration on disk and the settings."""
        settings = self.settings
        config = settings.config
        if config is not None and not config.is_absolute():
            config = self.folder / config
        request = CheckRequest(
            paths=(self.folder,),
            cwd=self.folder,
            config=config,
            extend_select=settings.select,
            ignore=settings.ignore,
            include_low_confidence=settings.include_low_confidence,
            # An open file the configuration excludes gets no findings, as with
            # ``backlint check --force-exclude`` in pre-commit.
            force_exclude=True,
            jobs=0,  # the first check indexes the whole project: every core
            use_cache=True,
        )
        try:
            self.workspace = open_workspace(request)
            self.error = None
        except ConfigError as error:
            self.workspace = None
            self.error = str(error)

    def contains(self, path: Path) -> bool:
        return path == self.folder or self.folder in path.parents

    def lint(self, buffers: Sequence[Buffer]) -> LintOutcome:
        """Check every buffer of this root, seeing the whole project (blocking)."""
        outcome = LintOutcome()
        workspace = self.workspace
        if workspace is None:
            outcome.findings = {b.uri: Findings(b.version, b.text, ()) for b in buffers}
            return outcome
        found = self._check(workspace, buffers, {b.path: b.data for b in buffers}, outcome)
        for buffer in buffers:
            diagnostics = tuple(found.get(buffer.path, ()))
            outcome.findings[buffer.uri] = Findings(buffer.version, buffer.text, diagnostics)
        return outcome

    def check_text(self, buffer: Buffer, text: str, others: Sequence[Buffer]) -> list[Diagnostic]:
        """The findings on ``buffer`` if it held ``text`` (a fix-all round; blocking)."""
        if self.workspace is None:
            return []
        overlays = {other.path: other.data for other in others}
        overlays[buffer.path] = text.encode("utf-8")
        found = self._check(self.workspace, [buffer], overlays, LintOutcome())
        return found.get(buffer.path, [])

    @staticmethod
    def _check(
        workspace: Workspace,
        buffers: Sequence[Buffer],
        overlays: Mapping[Path, bytes],
        outcome: LintOutcome,
    ) -> dict[Path, list[Diagnostic]]:
        # A buffer never saved has no file to discover: it is not checked (yet).
        targets = [buffer.path for buffer in buffers if buffer.path.is_file()]
        if not targets:
            return {}
        result = workspace.check(targets, overlays=overlays)
        outcome.errors.extend(f"{e.path}: {e.message}" for e in result.internal_errors)
        outcome.notes.extend(f"{p.path}: {p.message}" for p in result.problems)
        found: dict[Path, list[Diagnostic]] = {}
        for diagnostic in result.diagnostics:
            path = result.sources.get(diagnostic.path) or workspace.resolve(diagnostic.path)
            found.setdefault(path, []).append(diagnostic)
        return found

    def uri_of(self, display: str) -> str:
        """The URI of a file the workspace names by ``display`` path."""
        base = self.workspace.cwd if self.workspace is not None else self.folder
        path = Path(display)
        return (path if path.is_absolute() else base / path).as_uri()
