"""One warm ``Workspace`` per workspace root, checked with the editor's buffers.

A root is a workspace folder the client named (or, for a file outside every folder, the
project around it). Its ``Workspace`` lives as long as the server, so its in-memory
cache keeps every file's latest result: an edit re-runs the file pass of the edited
buffer only, and the project pass. Open buffers are passed as ``overlays`` and override
what is on disk, for the buffer's own findings and for every cross-file question.

Nothing here talks to the client: ``server.py`` calls ``lint`` in a worker thread
(``Root.run``) and publishes what it returns.

Buffers without a file:

- a ``file:`` URI whose file does not exist yet (a new module, not saved) is checked as
  part of its root, like any open buffer: its imports count in the cross-file index;
- an ``untitled:`` buffer has no path at all: it is checked alone, as
  ``backlint check -`` checks stdin, with the settings of the root that holds it.

Buffers are text; a file is bytes. A buffer whose coding cookie declares another encoding
than UTF-8 (``# -*- coding: latin-1 -*-``) is encoded the way the saved file would be,
so the engine decodes it back to the editor's text and positions stay right.
"""

from __future__ import annotations

import asyncio
import io
import tokenize
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

from backlint.application import CheckRequest, open_workspace
from backlint.config import ConfigError
from backlint.diagnostics import Diagnostic, RunProblem
from backlint.lsp.settings import ServerSettings
from backlint.workspace import StdinSource, Workspace

T = TypeVar("T")
# How an untitled buffer is named in the engine: as stdin without ``--stdin-filename``.
ALONE = "-"


@dataclass(frozen=True)
class Buffer:
    """An open document, as the editor holds it at one version."""

    uri: str
    path: Path | None  # absolute, symlinks resolved; None for an ``untitled:`` buffer
    version: int | None
    text: str

    @cached_property
    def encoding(self) -> str:
        """The encoding its coding cookie declares (UTF-8 without one, or with one
        Python does not know: the engine then reports the cookie)."""
        head = _first_two_lines(self.text).encode("utf-8")
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(head).readline)
        except SyntaxError:
            return "utf-8"
        return "utf-8" if encoding == "utf-8-sig" else encoding

    @property
    def data(self) -> bytes:
        """The bytes the file would hold. A character the declared encoding cannot
        hold becomes ``?`` (one character for one: positions stay right); see
        ``encoding_problem``."""
        return self.text.encode(self.encoding, errors="replace")

    @property
    def encoding_problem(self) -> str | None:
        try:
            self.text.encode(self.encoding)
        except UnicodeEncodeError as error:
            char = error.object[error.start]
            return (
                f"{self.uri}: {char!r} cannot be saved in {self.encoding}, the encoding its "
                "coding cookie declares; it is checked as `?`"
            )
        return None


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
        # Before the next check: ask the client for this root's settings again
        # (``unsettled``), build the workspace again from them and the configuration
        # file (``stale``), discover the project's files again (``moved``: files were
        # added or removed). The first check of a root does the first two. Flags, not
        # calls: a check may be running in its thread meanwhile.
        self.unsettled = True
        self.stale = True
        self.moved = False
        # The internal errors and notes last logged, so that a rule that crashes on
        # every keystroke is logged once, not once per keystroke.
        self.logged: frozenset[str] = frozenset()
        self._jobs: set[asyncio.Future[Any]] = set()

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        """``work(*args)`` in a worker thread, one at a time per root.

        A caller cancelled meanwhile (``$/cancelRequest`` on a code action) stops
        waiting, but the work still holds the lock until it ends: a thread cannot be
        stopped, and the workspace must never run two checks at once.
        """

        async def locked() -> T:
            async with self.lock:
                return await asyncio.to_thread(work, *args)

        job = asyncio.ensure_future(locked())
        self._jobs.add(job)
        job.add_done_callback(self._finished)
        return await asyncio.shield(job)

    def _finished(self, job: asyncio.Future[Any]) -> None:
        self._jobs.discard(job)
        if not job.cancelled():
            job.exception()  # retrieved: a cancelled caller's failure is not "never retrieved"

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
        in_project = [b for b in buffers if b.path is not None]
        found = self._check(workspace, in_project, outcome) if in_project else {}
        for buffer in buffers:
            problem = buffer.encoding_problem
            if problem is not None:
                outcome.notes.append(problem)
            if buffer.path is None:
                diagnostics = self._check_alone(workspace, buffer, outcome)
            else:
                diagnostics = tuple(found.get(buffer.path, ()))
            outcome.findings[buffer.uri] = Findings(buffer.version, buffer.text, diagnostics)
        return outcome

    def check_text(self, buffer: Buffer, text: str, others: Sequence[Buffer]) -> list[Diagnostic]:
        """The findings on ``buffer`` if it held ``text`` (a fix-all round; blocking)."""
        # An untitled buffer is checked alone; a file's buffer with the other files'.
        with_it = [b for b in others if b.path is not None] if buffer.path is not None else []
        outcome = self.lint([replace(buffer, text=text), *with_it])
        return list(outcome.findings[buffer.uri].diagnostics)

    @staticmethod
    def _check(
        workspace: Workspace, buffers: Sequence[Buffer], outcome: LintOutcome
    ) -> dict[Path, list[Diagnostic]]:
        overlays = {b.path: b.data for b in buffers if b.path is not None}
        # Buffers without a file on disk too: they are reported from their overlay.
        result = workspace.check(list(overlays), overlays=overlays)
        _record_problems(result.internal_errors, result.problems, outcome)
        found: dict[Path, list[Diagnostic]] = {}
        for diagnostic in result.diagnostics:
            path = result.sources.get(diagnostic.path) or workspace.resolve(diagnostic.path)
            found.setdefault(path, []).append(diagnostic)
        return found

    def _check_alone(
        self, workspace: Workspace, buffer: Buffer, outcome: LintOutcome
    ) -> tuple[Diagnostic, ...]:
        """An untitled buffer, as ``backlint check -`` checks stdin: no project around it."""
        stdin = StdinSource(self.folder / ALONE, ALONE, buffer.data)
        result = workspace.check(stdin=stdin)
        _record_problems(result.internal_errors, result.problems, outcome)
        return tuple(result.diagnostics)

    def uri_of(self, display: str) -> str:
        """The URI of a file the workspace names by ``display`` path."""
        base = self.workspace.cwd if self.workspace is not None else self.folder
        path = Path(display)
        return (path if path.is_absolute() else base / path).as_uri()


def _record_problems(
    errors: Sequence[RunProblem], problems: Sequence[RunProblem], outcome: LintOutcome
) -> None:
    outcome.errors.extend(f"{e.path}: {e.message}" for e in errors)
    outcome.notes.extend(f"{p.path}: {p.message}" for p in problems)


def _first_two_lines(text: str) -> str:
    """Where Python looks for a coding cookie, without splitting the whole text."""
    end = -1
    for _line in range(2):
        end = text.find("\n", end + 1)
        if end < 0:
            return text
    return text[: end + 1]
