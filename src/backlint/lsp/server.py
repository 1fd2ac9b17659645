"""The pygls wiring: which notification does what, and what the server publishes.

Checks run in a worker thread (``Root.run``), one at a time per root, so the event loop
keeps reading the client's messages while a buffer is checked. Edits that arrive during
a check are coalesced into the next one (that is the debounce: a fast typist gets one
check per finished check, not one per keystroke). Stale findings never reach the
editor: a check during which an edit arrived publishes nothing (the next one follows at
once), and a document's findings are published only if the document is still at the
version they were computed on.

Requests (code actions, hover) answer from the findings of the document's current
version only. ``$/cancelRequest`` is pygls's: a request still running (a fix-all
action waiting for its check) is cancelled at its next ``await`` and answered with
``RequestCancelled``; the check it started still ends before the next one begins.

Settings: ``initializationOptions`` and ``workspace/didChangeConfiguration`` give the
server's settings; a client that answers ``workspace/configuration`` is asked for the
``backlint`` section of each root before the root's first check and after every
configuration change, and what it answers for a root overrides them there.
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from backlint import __version__
from backlint.application import project_root
from backlint.diagnostics import Diagnostic
from backlint.fixes.apply import apply_fixes
from backlint.fixes.run import MAX_ROUNDS
from backlint.lsp import actions
from backlint.lsp.convert import to_lsp
from backlint.lsp.hover import hover
from backlint.lsp.positions import UTF16, LineIndex
from backlint.lsp.roots import Buffer, Findings, LintOutcome, Root
from backlint.lsp.settings import ON_SAVE, SECTION, ServerSettings, has_settings, read_settings
from backlint.rules.catalogue import catalogue
from backlint.rules.metadata import RuleInfo
from backlint.source import SourceError, parses_as_python, read_source

CONFIG_FILES = ("pyproject.toml", "backlint.toml")
_WATCHERS = ("**/pyproject.toml", "**/backlint.toml", "**/*.py", "**/*.pyi")


class BacklintServer(LanguageServer):
    """The server's state: the client's settings and one ``Root`` per workspace root."""

    def __init__(self) -> None:
        super().__init__("backlint", __version__)
        # From initializationOptions or the last didChangeConfiguration that carried
        # settings: every root's, unless the client answers workspace/configuration.
        self.settings = ServerSettings()
        self.roots: dict[Path, Root] = {}
        self.rules: Mapping[str, RuleInfo] = catalogue()
        self._tasks: set[asyncio.Task[None]] = set()

    # Messages -----------------------------------------------------------------------

    def log(self, message: str, kind: types.MessageType = types.MessageType.Info) -> None:
        self.window_log_message(types.LogMessageParams(type=kind, message=f"backlint: {message}"))

    def use_settings(self, raw: object) -> None:
        self.settings = self.read_settings(raw, "settings")

    def read_settings(self, raw: object, origin: str) -> ServerSettings:
        settings = read_settings(raw)
        for problem in settings.problems:
            self.log(f"{origin}: {problem}", types.MessageType.Warning)
        return settings

    @property
    def pulls_settings(self) -> bool:
        """Whether the client answers ``workspace/configuration``."""
        workspace = self.client_capabilities.workspace
        return bool(workspace and workspace.configuration)

    async def settle(self, root: Root) -> None:
        """Bring ``root``'s settings up to date: the client's answer for the root when it
        has one, else the server's settings. A change rebuilds the workspace."""
        root.unsettled = False
        settings = self.settings
        if self.pulls_settings:
            item = types.ConfigurationItem(scope_uri=root.folder.as_uri(), section=SECTION)
            try:
                (value,) = await self.workspace_configuration_async(
                    types.ConfigurationParams(items=[item])
                )
            except Exception as error:  # a client that fails the request: go on without
                self.log(f"workspace/configuration: {error}", types.MessageType.Warning)
                value = None
            if has_settings(value):
                settings = self.read_settings(value, f"settings of {root.folder}")
        if settings != root.settings:
            root.settings = settings
            root.stale = True

    # Documents and roots ------------------------------------------------------------

    @property
    def encoding(self) -> str:
        encoding = self.workspace.position_encoding
        return str(getattr(encoding, "value", encoding) or UTF16)

    def folders(self) -> list[Path]:
        folders = [Path(to_fs_path(f.uri) or "") for f in self.workspace.folders.values()]
        if self.workspace.root_path:
            folders.append(Path(self.workspace.root_path))
        return [_resolved(folder) for folder in folders if str(folder)]

    def root_for(self, path: Path) -> Root:
        """The root ``path`` belongs to: the innermost workspace folder holding it, else
        the project around it."""
        holding = [folder for folder in self.folders() if folder in path.parents]
        folder = (
            max(holding, key=lambda f: len(f.parts))
            if holding
            else project_root(path.parent, path.parent)
        )
        root = self.roots.get(folder)
        if root is None:
            root = self.roots[folder] = Root(folder, self.settings)
        return root

    def untitled_root(self) -> Root:
        """Where untitled buffers are checked (alone, with its settings): the first
        workspace folder, else the server's working directory."""
        folders = self.folders()
        folder = folders[0] if folders else _resolved(Path.cwd())
        root = self.roots.get(folder)
        if root is None:
            root = self.roots[folder] = Root(folder, self.settings)
        return root

    def buffer(self, uri: str) -> Buffer | None:
        """The open document ``uri`` names, if it is one backlint checks: a file (saved
        or not) or an untitled buffer."""
        document = self.workspace.text_documents.get(uri)
        if document is None:
            return None
        if uri.startswith("untitled:"):
            return Buffer(uri, None, document.version, document.source)
        path = to_fs_path(uri)
        if not uri.startswith("file:") or path is None:
            return None
        return Buffer(uri, _resolved(Path(path)), document.version, document.source)

    def root_of(self, buffer: Buffer) -> Root:
        return self.untitled_root() if buffer.path is None else self.root_for(buffer.path)

    def buffers_of(self, root: Root) -> list[Buffer]:
        buffers = (self.buffer(uri) for uri in list(self.workspace.text_documents))
        return [b for b in buffers if b is not None and self.root_of(b) is root]

    def index_of(self, uri: str) -> LineIndex:
        return LineIndex(self.workspace.get_text_document(uri).source, self.encoding)

    def reload(self, roots: list[Root] | None = None, settings: bool = True) -> None:
        """Read the configuration file again (and with ``settings``, the client's
        settings) before the next check of ``roots`` (all by default), and check."""
        for root in self.roots.values() if roots is None else roots:
            root.stale = True
            root.unsettled = root.unsettled or settings
            self.schedule(root)

    # Checking and publishing --------------------------------------------------------

    def schedule(self, root: Root) -> None:
        """Check ``root``'s buffers soon; edits during a check join the next one."""
        root.pending = True
        if root.running:
            return
        root.running = True
        task = asyncio.get_running_loop().create_task(self._drain(root))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drain(self, root: Root) -> None:
        try:
            while root.pending:
                root.pending = False
                try:
                    await self._prepare(root)
                    outcome = await root.run(root.lint, self.buffers_of(root))
                except Exception:  # a crash in the engine itself: report, keep serving
                    self.log(f"internal error:\n{traceback.format_exc()}", types.MessageType.Error)
                    continue
                self.report(root, outcome)
                if root.pending:
                    continue  # edited meanwhile: the next check follows at once
                self.publish(root, outcome)
        finally:
            root.running = False

    async def _prepare(self, root: Root) -> None:
        """Settings and workspace up to date before a check."""
        if root.unsettled:
            await self.settle(root)
        if root.stale:
            root.stale = False
            root.moved = False  # a new workspace discovers the files anyway
            await root.run(root.open)
            if root.error:
                self.log(f"{root.folder}: {root.error}", types.MessageType.Error)
        if root.moved and root.workspace is not None:
            root.moved = False
            root.workspace.forget_files()  # no check runs: this is the root's drain

    def report(self, root: Root, outcome: LintOutcome) -> None:
        """Log the check's internal errors (a rule that crashed on a buffer) and notes,
        each once while it lasts: a crash on every keystroke is one message."""
        current = frozenset(outcome.errors) | frozenset(outcome.notes)
        for error in outcome.errors:
            if error not in root.logged:
                self.log(f"internal error: {error}", types.MessageType.Error)
        for note in outcome.notes:
            if note not in root.logged:
                self.log(note, types.MessageType.Warning)
        root.logged = current

    def publish(self, root: Root, outcome: LintOutcome) -> None:
        open_documents = self.workspace.text_documents
        for uri, findings in outcome.findings.items():
            document = open_documents.get(uri)
            if document is None or document.version != findings.version:
                continue  # closed or edited since: a newer check follows
            previous = root.findings.get(uri)
            root.findings[uri] = findings
            if previous is not None and previous == findings:
                continue
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(
                    uri=uri,
                    version=findings.version,
                    diagnostics=self.shown(root, uri, findings),
                )
            )

    def shown(self, root: Root, uri: str, findings: Findings) -> list[types.Diagnostic]:
        index = LineIndex(findings.text, self.encoding)
        return [
            to_lsp(d, index, findings.version, self.rules, root.uri_of, self._text_of(root))
            for d in findings.diagnostics
        ]

    def _text_of(self, root: Root) -> Any:
        def text_of(display: str) -> LineIndex | None:
            uri = root.uri_of(display)
            document = self.workspace.text_documents.get(uri)
            if document is not None:
                return LineIndex(document.source, self.encoding)
            try:
                return LineIndex(read_source(Path(to_fs_path(uri) or "")).text, self.encoding)
            except (OSError, SourceError):
                return None

        return text_of

    def current(self, uri: str) -> tuple[Root, Findings] | None:
        """The findings of ``uri`` if they are those of the document's current version."""
        buffer = self.buffer(uri)
        if buffer is None:
            return None
        root = self.root_of(buffer)
        findings = root.findings.get(uri)
        if findings is None or findings.version != buffer.version:
            return None
        return root, findings

    async def fixed_text(self, root: Root, uri: str, findings: Findings) -> str:
        """The document with every applicable fix applied, round after round (as
        ``--fix`` does); a round whose result does not parse is dropped."""
        buffer = self.buffer(uri)
        assert buffer is not None
        unsafe = root.settings.unsafe_fixes
        text, diagnostics = findings.text, list(findings.diagnostics)
        others = [b for b in self.buffers_of(root) if b.uri != uri]
        for _round in range(MAX_ROUNDS):
            fixable = [d for d in diagnostics if d.fix is not None and d.fix.applies(unsafe)]
            new = apply_fixes(text, fixable).text if fixable else text
            if new == text or not parses_as_python(new):
                break
            text = new
            diagnostics = await root.run(root.check_text, buffer, text, others)
        return text


def build_server() -> BacklintServer:
    server = BacklintServer()

    @server.feature(types.INITIALIZE)
    def initialize(ls: BacklintServer, params: types.InitializeParams) -> None:
        ls.use_settings(params.initialization_options)

    @server.feature(types.INITIALIZED)
    async def initialized(ls: BacklintServer, params: types.InitializedParams) -> None:
        registrations = _registrations(ls.client_capabilities.workspace)
        if registrations:
            await ls.client_register_capability_async(
                types.RegistrationParams(registrations=registrations)
            )

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: BacklintServer, params: types.DidOpenTextDocumentParams) -> None:
        _changed(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: BacklintServer, params: types.DidChangeTextDocumentParams) -> None:
        buffer = ls.buffer(params.text_document.uri)
        if buffer is not None:
            root = ls.root_of(buffer)
            if root.settings.run != ON_SAVE:
                ls.schedule(root)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: BacklintServer, params: types.DidSaveTextDocumentParams) -> None:
        _changed(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: BacklintServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
        )
        path = to_fs_path(uri)
        if uri.startswith("untitled:"):
            ls.untitled_root().findings.pop(uri, None)
        elif path is not None and uri.startswith("file:"):
            root = ls.root_for(_resolved(Path(path)))
            root.findings.pop(uri, None)
            # The file on disk now stands for the closed buffer in the others' findings.
            ls.schedule(root)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(
        ls: BacklintServer, params: types.DidChangeConfigurationParams
    ) -> None:
        # Clients that use workspace/configuration often send no settings here (null,
        # or an empty object): the change is only the signal to ask again.
        if has_settings(params.settings):
            ls.use_settings(params.settings)
        ls.reload()

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(
        ls: BacklintServer, params: types.DidChangeWatchedFilesParams
    ) -> None:
        _files_changed(ls, params.changes)

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[types.CodeActionKind.QuickFix, actions.FIX_ALL],
            resolve_provider=False,
        ),
    )
    async def code_action(
        ls: BacklintServer, params: types.CodeActionParams
    ) -> list[types.CodeAction]:
        return await _code_actions(ls, params)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def on_hover(ls: BacklintServer, params: types.HoverParams) -> types.Hover | None:
        uri = params.text_document.uri
        state = ls.current(uri)
        findings: tuple[Diagnostic, ...] = state[1].diagnostics if state else ()
        return hover(ls.index_of(uri), params.position, findings, ls.rules)

    return server


def _changed(ls: BacklintServer, uri: str) -> None:
    buffer = ls.buffer(uri)
    if buffer is not None:
        ls.schedule(ls.root_of(buffer))


def _registrations(
    capabilities: types.WorkspaceClientCapabilities | None,
) -> list[types.Registration]:
    """What to register with the client: a watcher for configuration files and modules,
    and (for a client that answers workspace/configuration) configuration changes,
    which such clients send only to a server that registered for them."""
    if capabilities is None:
        return []
    registrations = []
    watched = capabilities.did_change_watched_files
    if watched is not None and watched.dynamic_registration:
        options = types.DidChangeWatchedFilesRegistrationOptions(
            watchers=[types.FileSystemWatcher(glob_pattern=glob) for glob in _WATCHERS]
        )
        registrations.append(
            types.Registration(
                id="backlint-watched-files",
                method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                register_options=options,
            )
        )
    changed = capabilities.did_change_configuration
    if capabilities.configuration and changed is not None and changed.dynamic_registration:
        registrations.append(
            types.Registration(
                id="backlint-configuration",
                method=types.WORKSPACE_DID_CHANGE_CONFIGURATION,
                register_options=types.DidChangeConfigurationRegistrationOptions(section=SECTION),
            )
        )
    return registrations


def _files_changed(ls: BacklintServer, changes: Sequence[types.FileEvent]) -> None:
    """A configuration file changed: reload its roots. A module was added or removed:
    discover the project again. Either way, check the open buffers again."""
    touched: dict[Path, Root] = {}
    configured: dict[Path, Root] = {}
    for change in changes:
        path = _resolved(Path(to_fs_path(change.uri) or ""))
        for root in ls.roots.values():
            if not (root.contains(path) or path.name in CONFIG_FILES):
                continue
            touched[root.folder] = root
            if path.name in CONFIG_FILES:
                configured[root.folder] = root
            elif change.type != types.FileChangeType.Changed:
                root.moved = True
    ls.reload(list(configured.values()), settings=False)
    for folder, root in touched.items():
        if folder not in configured:
            ls.schedule(root)


async def _code_actions(
    ls: BacklintServer, params: types.CodeActionParams
) -> list[types.CodeAction]:
    uri = params.text_document.uri
    state = ls.current(uri)
    if state is None:
        return []  # no findings for this version (yet): nothing trustworthy to offer
    root, findings = state
    index = LineIndex(findings.text, ls.encoding)
    shown = ls.shown(root, uri, findings)
    pairs = list(zip(findings.diagnostics, shown, strict=True))
    here = [pair for pair in pairs if actions.overlaps(pair[1].range, params.range)]
    only = params.context.only
    result: list[types.CodeAction] = []
    if actions.wants(only, types.CodeActionKind.QuickFix.value):
        unsafe = root.settings.unsafe_fixes
        result += actions.quick_fixes(uri, findings.version, index, here, unsafe)
        result += actions.noqa_actions(uri, findings.version, index, here)
    if actions.wants(only, actions.FIX_ALL):
        fixed = await ls.fixed_text(root, uri, findings)
        fix_all = actions.fix_all_action(uri, findings.version, index, findings.text, fixed)
        if fix_all is not None:
            result.append(fix_all)
    return result


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()
