"""The pygls wiring: which notification does what, and what the server publishes.

Checks run in a worker thread (``asyncio.to_thread``), one at a time per root, so the
event loop keeps reading the client's messages while a buffer is checked. Edits that
arrive during a check are coalesced into the next one (that is the debounce: a fast
typist gets one check per finished check, not one per keystroke), and a result is
published for a document only if the document is still at the version it was computed
on: a newer check is then on its way, and stale findings never reach the editor.
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
from backlint.lsp.settings import ON_SAVE, ServerSettings, read_settings
from backlint.rules.catalogue import catalogue
from backlint.rules.metadata import RuleInfo
from backlint.source import parses_as_python

CONFIG_FILES = ("pyproject.toml", "backlint.toml")
_WATCHERS = ("**/pyproject.toml", "**/backlint.toml", "**/*.py", "**/*.pyi")


class BacklintServer(LanguageServer):
    """The server's state: the client's settings and one ``Root`` per workspace root."""

    def __init__(self) -> None:
        super().__init__("backlint", __version__)
        self.settings = ServerSettings()
        self.roots: dict[Path, Root] = {}
        self.rules: Mapping[str, RuleInfo] = catalogue()
        self._tasks: set[asyncio.Task[None]] = set()

    # Messages -----------------------------------------------------------------------

    def log(self, message: str, kind: types.MessageType = types.MessageType.Info) -> None:
        self.window_log_message(types.LogMessageParams(type=kind, message=f"backlint: {message}"))

    def use_settings(self, raw: object) -> None:
        self.settings = read_settings(raw)
        for problem in self.settings.problems:
            self.log(f"settings: {problem}", types.MessageType.Warning)

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
            if root.error:
                self.log(f"{folder}: {root.error}", types.MessageType.Error)
        return root

    def buffer(self, uri: str) -> Buffer | None:
        path = to_fs_path(uri)
        if not uri.startswith("file:") or path is None:
            return None
        document = self.workspace.get_text_document(uri)
        return Buffer(uri, _resolved(Path(path)), document.version, document.source)

    def buffers_of(self, root: Root) -> list[Buffer]:
        buffers = (self.buffer(uri) for uri in list(self.workspace.text_documents))
        return [b for b in buffers if b is not None and self.root_for(b.path) is root]

    def index_of(self, uri: str) -> LineIndex:
        return LineIndex(self.workspace.get_text_document(uri).source, self.encoding)

    def reload(self, roots: list[Root] | None = None) -> None:
        """Read the configuration again (and the client's settings) and re-check."""
        for root in self.roots.values() if roots is None else roots:
            root.settings = self.settings
            root.open()
            if root.error:
                self.log(f"{root.folder}: {root.error}", types.MessageType.Error)
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
                buffers = self.buffers_of(root)
                try:
                    async with root.lock:
                        outcome = await asyncio.to_thread(root.lint, buffers)
                except Exception:  # a crash in a rule or the engine: report, keep serving
                    self.log(f"internal error:\n{traceback.format_exc()}", types.MessageType.Error)
                    continue
                self.publish(root, outcome)
        finally:
            root.running = False

    def publish(self, root: Root, outcome: LintOutcome) -> None:
        for error in outcome.errors:
            self.log(error, types.MessageType.Error)
        for note in outcome.notes:
            self.log(note, types.MessageType.Warning)
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
                return LineIndex(Path(to_fs_path(uri) or "").read_text("utf-8"), self.encoding)
            except (OSError, UnicodeDecodeError):
                return None

        return text_of

    def current(self, uri: str) -> tuple[Root, Findings] | None:
        """The findings of ``uri`` if they are those of the document's current version."""
        buffer = self.buffer(uri)
        if buffer is None:
            return None
        root = self.root_for(buffer.path)
        findings = root.findings.get(uri)
        if findings is None or findings.version != buffer.version:
            return None
        return root, findings

    async def fixed_text(self, root: Root, uri: str, findings: Findings) -> str:
        """The document with every applicable fix applied, round after round (as
        ``--fix`` does); a round whose result does not parse is dropped."""
        buffer = self.buffer(uri)
        assert buffer is not None
        unsafe = self.settings.unsafe_fixes
        text, diagnostics = findings.text, list(findings.diagnostics)
        others = [b for b in self.buffers_of(root) if b.uri != uri]
        for _round in range(MAX_ROUNDS):
            fixable = [d for d in diagnostics if d.fix is not None and d.fix.applies(unsafe)]
            new = apply_fixes(text, fixable).text if fixable else text
            if new == text or not parses_as_python(new):
                break
            text = new
            async with root.lock:
                diagnostics = await asyncio.to_thread(root.check_text, buffer, text, others)
        return text


def build_server() -> BacklintServer:
    server = BacklintServer()

    @server.feature(types.INITIALIZE)
    def initialize(ls: BacklintServer, params: types.InitializeParams) -> None:
        ls.use_settings(params.initialization_options)

    @server.feature(types.INITIALIZED)
    async def initialized(ls: BacklintServer, params: types.InitializedParams) -> None:
        capabilities = ls.client_capabilities.workspace
        watched = capabilities.did_change_watched_files if capabilities else None
        if watched is None or not watched.dynamic_registration:
            return
        options = types.DidChangeWatchedFilesRegistrationOptions(
            watchers=[types.FileSystemWatcher(glob_pattern=glob) for glob in _WATCHERS]
        )
        registration = types.Registration(
            id="backlint-watched-files",
            method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            register_options=options,
        )
        await ls.client_register_capability_async(
            types.RegistrationParams(registrations=[registration])
        )

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: BacklintServer, params: types.DidOpenTextDocumentParams) -> None:
        _changed(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: BacklintServer, params: types.DidChangeTextDocumentParams) -> None:
        if ls.settings.run != ON_SAVE:
            _changed(ls, params.text_document.uri)

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
        if path is not None and uri.startswith("file:"):
            root = ls.root_for(_resolved(Path(path)))
            root.findings.pop(uri, None)
            # The file on disk now stands for the closed buffer in the others' findings.
            ls.schedule(root)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(
        ls: BacklintServer, params: types.DidChangeConfigurationParams
    ) -> None:
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
        ls.schedule(ls.root_for(buffer.path))


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
            elif change.type != types.FileChangeType.Changed and root.workspace is not None:
                root.workspace.forget_files()
    ls.reload(list(configured.values()))
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
        unsafe = ls.settings.unsafe_fixes
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
