"""``backlint server`` end to end: the real server as a subprocess, real JSON-RPC
(pytest-lsp's client), a real project in a temporary folder."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types
from pygls.exceptions import JsonRpcRequestCancelled
from pygls.protocol import default_converter
from pytest_lsp import LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

from backlint.lsp.positions import LineIndex, units
from backlint.source import split_lines

BACKLINT = str(Path(sys.executable).parent / "backlint")
# Only a hung server ever reaches this; it is a guard, not a timing assertion.
GUARD = 30
# The version a document was last opened or changed at.
LATEST = object()
STDIN = ("--stdin-filename", "app/service.py", "-")

CONFIG = '[tool.backlint]\npreview = true\nextend-select = ["BL602", "BL501", "BL411"]\n'
SERVICE = "import time\n\n\nasync def wait(user: str):\n    time.sleep(1)\n"
CLEAN = "import time\n\n\ndef wait(user: str) -> None:\n    time.sleep(1)\n"


class Session:
    """A client talking to a server, and every diagnostics notification it received."""

    def __init__(self, client: LanguageClient, root: Path) -> None:
        self.client = client
        self.root = root
        self.published: list[types.PublishDiagnosticsParams] = []
        self.arrived = asyncio.Event()
        self.versions: dict[str, int] = {}

    def uri(self, relative: str) -> str:
        """The URI of a file of the project, or an ``untitled:`` URI as it is."""
        if relative.startswith("untitled:"):
            return relative
        return (self.root / relative).resolve().as_uri()

    def record(self, params: types.PublishDiagnosticsParams) -> None:
        self.published.append(params)
        self.arrived.set()

    async def diagnostics(
        self,
        relative: str,
        version: int | object | None = LATEST,
        where: Callable[[Sequence[types.Diagnostic]], bool] = lambda found: True,
    ) -> list[types.Diagnostic]:
        """The latest diagnostics published for ``relative`` at ``version`` (its latest
        by default) that satisfy ``where``, waiting for them to arrive."""
        uri = self.uri(relative)
        wanted = self.versions.get(uri) if version is LATEST else version

        async def wait() -> list[types.Diagnostic]:
            while True:
                for params in reversed(self.published):
                    if params.uri == uri and params.version == wanted:
                        if where(params.diagnostics):
                            return list(params.diagnostics)
                        break
                self.arrived.clear()
                await self.arrived.wait()

        return await asyncio.wait_for(wait(), GUARD)

    def open(self, relative: str, text: str | None = None) -> None:
        uri = self.uri(relative)
        if text is None:
            text = (self.root / relative).read_text()
        self.versions[uri] = 1
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
            )
        )

    def change(self, relative: str, text: str) -> None:
        uri = self.uri(relative)
        self.versions[uri] += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=uri, version=self.versions[uri]
                ),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )

    async def actions(
        self, relative: str, where: types.Range, only: list[str] | None = None
    ) -> list[types.CodeAction]:
        found = await self.client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=self.uri(relative)),
                range=where,
                context=types.CodeActionContext(diagnostics=[], only=only),
            )
        )
        return [action for action in found or [] if isinstance(action, types.CodeAction)]


def write_project(root: Path, files: dict[str, str]) -> None:
    for relative, text in {"pyproject.toml": CONFIG, "app/__init__.py": "", **files}.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


async def start(
    root: Path,
    options: dict[str, Any] | None = None,
    capabilities: types.ClientCapabilities | None = None,
    configuration: dict[str, Any] | None = None,
    folders: Sequence[Path] = (),
    command: Sequence[str] = (BACKLINT, "server"),
) -> Session:
    """A server for the workspace folders ``folders`` (``root`` alone by default), with
    ``options`` as initializationOptions and ``configuration`` (by scope URI) as the
    client's answers to workspace/configuration."""
    client = LanguageClient(converter_factory=default_converter, configuration=configuration)
    session = Session(client, root)

    def on_publish(ls: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
        session.record(params)

    def on_register(ls: LanguageClient, params: types.RegistrationParams) -> None:
        return None

    register_lsp_features(
        client,
        {
            **DEFAULT_CLIENT_FEATURES,
            types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS: on_publish,
            types.CLIENT_REGISTER_CAPABILITY: on_register,
        },
    )
    await client.start_io(*command, cwd=str(root))
    await client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities or client_capabilities("visual-studio-code"),
            root_uri=root.resolve().as_uri(),
            workspace_folders=[
                types.WorkspaceFolder(uri=folder.resolve().as_uri(), name=folder.name)
                for folder in folders or [root]
            ],
            initialization_options=options,
        )
    )
    return session


@pytest_asyncio.fixture
async def project(tmp_path: Path) -> AsyncIterator[Session]:
    write_project(tmp_path, {"app/service.py": SERVICE})
    session = await start(tmp_path)
    yield session
    await session.client.shutdown_session()


def codes(diagnostics: Sequence[types.Diagnostic]) -> list[str]:
    return sorted(str(d.code) for d in diagnostics)


def apply(text: str, edit: types.WorkspaceEdit | None, version: int) -> str:
    """``text`` with a versioned ``WorkspaceEdit`` applied, as an editor would."""
    assert edit is not None and edit.document_changes is not None
    (change,) = edit.document_changes
    assert isinstance(change, types.TextDocumentEdit)
    assert change.text_document.version == version
    index = LineIndex(text, "utf-16")
    offsets = [0] + [len(line) for line in split_lines(text, keepends=True)]
    starts = [sum(offsets[: i + 1]) for i in range(len(offsets))]

    def offset(position: types.Position) -> int:
        line = index.line(position.line)
        column = index.from_client(position).column - 1
        return starts[min(position.line, len(starts) - 1)] + min(column, len(line))

    for text_edit in sorted(
        (e for e in change.edits if isinstance(e, types.TextEdit)),
        key=lambda e: (e.range.start.line, e.range.start.character),
        reverse=True,
    ):
        start, end = offset(text_edit.range.start), offset(text_edit.range.end)
        text = text[:start] + text_edit.new_text + text[end:]
    return text


WHOLE = types.Range(types.Position(0, 0), types.Position(100, 0))


# Diagnostics ---------------------------------------------------------------------


@pytest.mark.asyncio
async def test_open_publishes_findings_with_their_rule(project: Session) -> None:
    project.open("app/service.py")
    found = await project.diagnostics("app/service.py")
    assert codes(found) == ["BL501", "BL602"]
    (missing,) = [d for d in found if d.code == "BL602"]
    assert missing.source == "backlint"
    assert missing.range == types.Range(types.Position(3, 10), types.Position(3, 14))
    assert missing.severity == types.DiagnosticSeverity.Warning
    assert missing.code_description is not None
    assert missing.code_description.href.endswith("#bl602")
    assert missing.data["fix"] == {"message": "Add `-> None`", "applicability": "safe"}
    assert missing.data["version"] == 1
    (blocking,) = [d for d in found if d.code == "BL501"]
    assert blocking.severity == types.DiagnosticSeverity.Error


@pytest.mark.asyncio
async def test_change_re_lints_the_buffer_not_the_file(project: Session) -> None:
    project.open("app/service.py")
    await project.diagnostics("app/service.py")
    project.change("app/service.py", CLEAN)
    assert await project.diagnostics("app/service.py", version=2) == []
    # The disk still has the findings: the buffer is what counts.
    assert (project.root / "app/service.py").read_text() == SERVICE


@pytest.mark.asyncio
async def test_close_clears_the_diagnostics(project: Session) -> None:
    project.open("app/service.py")
    await project.diagnostics("app/service.py")
    uri = project.uri("app/service.py")
    project.client.text_document_did_close(
        types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri=uri))
    )
    assert await project.diagnostics("app/service.py", version=None) == []


@pytest.mark.asyncio
async def test_editing_one_file_refreshes_the_cycle_in_another(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "app/a.py": "from app import b\n\n\ndef f() -> None:\n    b.g()\n",
            "app/b.py": "from app import a\n\n\ndef g() -> None:\n    a.f()\n",
        },
    )
    session = await start(tmp_path)
    try:
        session.open("app/a.py")
        session.open("app/b.py")
        cycle = await session.diagnostics("app/a.py", where=lambda found: bool(found))
        assert codes(cycle) == ["BL411"]
        (related,) = cycle[0].related_information or []
        assert related.location.uri == session.uri("app/b.py")
        # Breaking the cycle in b's buffer clears a's finding, with a's own version.
        session.change("app/b.py", "def g() -> None:\n    pass\n")
        assert await session.diagnostics("app/a.py", version=1, where=lambda f: not f) == []
    finally:
        await session.client.shutdown_session()


@pytest.mark.asyncio
async def test_a_syntax_error_mid_edit_is_bl001_then_clears(project: Session) -> None:
    project.open("app/service.py", CLEAN)
    assert await project.diagnostics("app/service.py") == []
    project.change("app/service.py", "def wait(user: str) -> None\n    pass\n")
    broken = await project.diagnostics("app/service.py")
    assert codes(broken) == ["BL001"]
    assert broken[0].severity == types.DiagnosticSeverity.Error
    project.change("app/service.py", CLEAN)
    assert await project.diagnostics("app/service.py") == []


@pytest.mark.asyncio
async def test_same_findings_as_the_command_line(project: Session) -> None:
    """The server reports exactly what ``backlint check --stdin-filename`` reports."""
    text = SERVICE + "\n\ndef notify(user: str):\n    print(user)  # noqa: BL501\n"
    project.open("app/service.py", text)
    served = await project.diagnostics("app/service.py")
    completed = subprocess.run(
        [BACKLINT, "check", "--no-cache", "--output-format", "json", *STDIN],
        input=text.encode(),
        capture_output=True,
        cwd=project.root,
        check=False,
    )
    reported = json.loads(completed.stdout)
    assert len(reported) >= 3
    expected = [
        (
            item["code"],
            item["message"],
            (item["location"]["row"] - 1, item["location"]["column"] - 1),
            (item["end_location"]["row"] - 1, item["end_location"]["column"] - 1),
        )
        for item in reported
    ]
    got = [
        (
            str(d.code),
            d.message,
            (d.range.start.line, d.range.start.character),
            (d.range.end.line, d.range.end.character),
        )
        for d in served
    ]
    assert sorted(got) == sorted(expected)


# Positions -----------------------------------------------------------------------

ASTRAL = 'import time\n\n\nasync def wait() -> None:\n    s = "😀中文"; time.sleep(1)\n'


@pytest.mark.asyncio
async def test_positions_count_utf16_units_after_astral_and_cjk(project: Session) -> None:
    project.open("app/service.py", ASTRAL)
    (blocking,) = await project.diagnostics("app/service.py")
    line = ASTRAL.splitlines()[4]
    column = line.index("time.sleep")  # code points: 😀 is one, 中 and 文 one each
    assert blocking.range.start == types.Position(4, column + 1)  # 😀 is two UTF-16 units
    assert blocking.range.end == types.Position(4, column + 1 + len("time.sleep(1)"))


@pytest.mark.asyncio
async def test_utf32_when_negotiated(tmp_path: Path) -> None:
    write_project(tmp_path, {"app/service.py": ASTRAL})
    capabilities = types.ClientCapabilities(
        general=types.GeneralClientCapabilities(
            position_encodings=[types.PositionEncodingKind.Utf32]
        )
    )
    session = await start(tmp_path, capabilities=capabilities)
    try:
        session.open("app/service.py")
        (blocking,) = await session.diagnostics("app/service.py")
        column = ASTRAL.splitlines()[4].index("time.sleep")
        assert blocking.range.start == types.Position(4, column)
    finally:
        await session.client.shutdown_session()


def test_line_index_round_trips_every_encoding() -> None:
    from backlint.diagnostics import Position

    text = 'x = "😀中"; y\r\nz\n'
    for encoding, expected in (("utf-16", 10), ("utf-8", 14), ("utf-32", 9)):
        index = LineIndex(text, encoding)
        client = index.to_client(Position(1, 10))  # the ``y``
        assert client == types.Position(0, expected)
        assert index.from_client(client) == Position(1, 10)
        assert units("😀", encoding) == {"utf-16": 2, "utf-8": 4, "utf-32": 1}[encoding]
    assert LineIndex(text, "utf-16").end == types.Position(2, 0)
    assert LineIndex("a\nbc", "utf-16").end == types.Position(1, 2)


# Code actions --------------------------------------------------------------------


@pytest.mark.asyncio
async def test_quick_fix_noqa_and_fix_all(project: Session) -> None:
    text = SERVICE + "\n\ndef notify(user: str):  # noqa: BL501\n    print(user)\n"
    project.open("app/service.py", text)
    await project.diagnostics("app/service.py")
    first_line = types.Range(types.Position(3, 12), types.Position(3, 12))  # on ``wait``
    found = await project.actions("app/service.py", first_line)
    titles = [action.title for action in found]
    assert "BL602: Add `-> None`" in titles
    assert "Disable BL602 for this line" in titles
    assert not any("(unsafe)" in title for title in titles)  # unsafe fixes are off
    fix = next(a for a in found if a.title == "BL602: Add `-> None`")
    assert fix.kind == types.CodeActionKind.QuickFix
    assert apply(text, fix.edit, 1).splitlines()[3] == "async def wait(user: str) -> None:"
    noqa = next(a for a in found if a.title == "Disable BL602 for this line")
    assert apply(text, noqa.edit, 1).splitlines()[3] == "async def wait(user: str):  # noqa: BL602"
    # An existing comment is merged into.
    last = types.Range(types.Position(7, 5), types.Position(7, 5))
    merged = next(a for a in await project.actions("app/service.py", last) if "Disable" in a.title)
    assert apply(text, merged.edit, 1).splitlines()[7] == (
        "def notify(user: str):  # noqa: BL501, BL602"
    )
    (fix_all,) = await project.actions("app/service.py", WHOLE, only=["source.fixAll"])
    assert fix_all.kind == "source.fixAll.backlint"
    fixed = apply(text, fix_all.edit, 1)
    # Both annotations, and the noqa the fixes made unused (BL002) is gone: what
    # ``backlint check --fix`` makes of the same text.
    assert fixed == text.replace("str):", "str) -> None:").replace("  # noqa: BL501", "")
    completed = subprocess.run(
        [BACKLINT, "check", "--no-cache", "--fix", "--stdin-filename", "app/service.py", "-"],
        input=text.encode(),
        capture_output=True,
        cwd=project.root,
        check=False,
    )
    assert completed.stdout.decode() == fixed


@pytest.mark.asyncio
async def test_actions_for_an_old_version_are_not_offered(project: Session) -> None:
    project.open("app/service.py")
    await project.diagnostics("app/service.py")
    project.change("app/service.py", "x = (\n")  # findings for version 2 not known yet...
    found = await project.actions("app/service.py", WHOLE)
    # ...so either none are offered, or those of version 2 (once its check finished).
    assert all(
        change.text_document.version == 2
        for action in found
        for change in (action.edit.document_changes or [] if action.edit else [])
        if isinstance(change, types.TextDocumentEdit)
    )


@pytest.mark.asyncio
async def test_unsafe_fixes_from_the_settings(tmp_path: Path) -> None:
    write_project(tmp_path, {"app/service.py": SERVICE})
    session = await start(tmp_path, options={"unsafeFixes": True})
    try:
        session.open("app/service.py")
        await session.diagnostics("app/service.py")
        line = types.Range(types.Position(4, 4), types.Position(4, 4))
        titles = [action.title for action in await session.actions("app/service.py", line)]
        assert any(title.startswith("BL501") and title.endswith("(unsafe)") for title in titles)
    finally:
        await session.client.shutdown_session()


# Hover ---------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_hover_shows_the_rule_docs(project: Session) -> None:
    text = SERVICE + "\n\ndef notify(user: str):  # noqa: BL501\n    print(user)\n"
    project.open("app/service.py", text)
    await project.diagnostics("app/service.py")
    uri = types.TextDocumentIdentifier(uri=project.uri("app/service.py"))
    on_finding = await project.client.text_document_hover_async(
        types.HoverParams(text_document=uri, position=types.Position(3, 12))
    )
    assert on_finding is not None and isinstance(on_finding.contents, types.MarkupContent)
    assert on_finding.contents.value.startswith("# BL602 missing-return-annotation")
    column = text.splitlines()[7].index("BL501") + 2
    on_noqa = await project.client.text_document_hover_async(
        types.HoverParams(text_document=uri, position=types.Position(7, column))
    )
    assert on_noqa is not None and isinstance(on_noqa.contents, types.MarkupContent)
    assert on_noqa.contents.value.startswith("# BL501 blocking-call-in-async")


# Configuration -------------------------------------------------------------------


@pytest.mark.asyncio
async def test_configuration_change_republishes(project: Session) -> None:
    project.open("app/service.py")
    assert codes(await project.diagnostics("app/service.py")) == ["BL501", "BL602"]
    project.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"backlint": {"ignore": ["BL602"]}})
    )
    found = await project.diagnostics("app/service.py", where=lambda f: len(f) == 1)
    assert codes(found) == ["BL501"]


@pytest.mark.asyncio
async def test_config_file_change_reloads(project: Session) -> None:
    project.open("app/service.py")
    assert codes(await project.diagnostics("app/service.py")) == ["BL501", "BL602"]
    config = project.root / "pyproject.toml"
    config.write_text(CONFIG + 'ignore = ["BL501"]\n')
    project.client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[
                types.FileEvent(uri=config.resolve().as_uri(), type=types.FileChangeType.Changed)
            ]
        )
    )
    found = await project.diagnostics("app/service.py", where=lambda f: len(f) == 1)
    assert codes(found) == ["BL602"]


@pytest.mark.asyncio
async def test_run_on_save(tmp_path: Path) -> None:
    write_project(tmp_path, {"app/service.py": SERVICE})
    session = await start(tmp_path, options={"backlint": {"run": "onSave"}})
    try:
        session.open("app/service.py")
        await session.diagnostics("app/service.py")
        session.change("app/service.py", CLEAN)
        uri = session.uri("app/service.py")
        session.client.text_document_did_save(
            types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(uri=uri))
        )
        assert await session.diagnostics("app/service.py", version=2) == []
        # Only the save checked: version 2 was published once.
        assert [p.version for p in session.published if p.uri == uri] == [1, 2]
    finally:
        await session.client.shutdown_session()


@pytest.mark.asyncio
async def test_bad_settings_are_logged_not_fatal(tmp_path: Path) -> None:
    write_project(tmp_path, {"app/service.py": SERVICE})
    session = await start(tmp_path, options={"select": ["NOPE999"], "unsafeFixes": "yes"})
    try:
        session.open("app/service.py")
        assert await session.diagnostics("app/service.py") == []
        messages = " ".join(m.message for m in session.client.log_messages)
        assert "unsafeFixes" in messages
        assert "NOPE999" in messages
    finally:
        await session.client.shutdown_session()


# Lifecycle -----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_shutdown_and_exit_end_with_status_0(tmp_path: Path) -> None:
    write_project(tmp_path, {"app/service.py": SERVICE})
    session = await start(tmp_path)
    session.open("app/service.py")
    await session.diagnostics("app/service.py")
    await session.client.shutdown_session()
    server = session.client._server
    assert server is not None
    assert server.returncode == 0


# Rapid edits, cancellation, crashes ----------------------------------------------


@pytest.mark.asyncio
async def test_a_burst_of_edits_never_publishes_a_stale_version(project: Session) -> None:
    """Thirty edits sent at once: whatever the server publishes on the way is for a
    version not older than the last one published, with that version's findings, and
    the last version is published."""
    texts = {1: CLEAN}
    project.open("app/service.py", CLEAN)
    for version in range(2, 32):
        texts[version] = SERVICE if version % 2 == 0 else CLEAN
        project.change("app/service.py", texts[version])
    assert await project.diagnostics("app/service.py", version=31) == []
    uri = project.uri("app/service.py")
    published = [p for p in project.published if p.uri == uri]
    versions = [p.version for p in published]
    assert versions == sorted(set(versions)), versions  # never back to an older version
    expected = {SERVICE: ["BL501", "BL602"], CLEAN: []}
    for params in published:
        assert params.version is not None
        assert codes(params.diagnostics) == expected[texts[params.version]], params.version


@pytest.mark.asyncio
async def test_cancelled_requests_are_answered_once_and_do_not_stop_the_server(
    project: Session,
) -> None:
    """Every request cancelled with ``$/cancelRequest`` gets one answer, its result or
    RequestCancelled (whether it had started decides which), never an internal error;
    the diagnostics of the last edit still arrive and requests still work."""
    project.open("app/service.py")
    await project.diagnostics("app/service.py")
    protocol = project.client.protocol
    document = types.TextDocumentIdentifier(uri=project.uri("app/service.py"))
    answers = []
    for version in range(2, 12):
        project.change("app/service.py", SERVICE + f"\n# edit {version}\n")
        requests = [
            (
                types.TEXT_DOCUMENT_CODE_ACTION,
                types.CodeActionParams(
                    text_document=document,
                    range=WHOLE,
                    context=types.CodeActionContext(diagnostics=[], only=["source.fixAll"]),
                ),
            ),
            (
                types.TEXT_DOCUMENT_HOVER,
                types.HoverParams(text_document=document, position=types.Position(3, 12)),
            ),
        ]
        for method, params in requests:
            msg_id = f"{method}-{version}"
            answers.append(protocol.send_request_async(method, params, msg_id=msg_id))
            protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))
    outcomes = await asyncio.wait_for(asyncio.gather(*answers, return_exceptions=True), GUARD)
    for outcome in outcomes:
        assert not isinstance(outcome, BaseException) or isinstance(
            outcome, JsonRpcRequestCancelled
        ), outcome
    assert codes(await project.diagnostics("app/service.py", version=11)) == ["BL501", "BL602"]
    (fix_all,) = await project.actions("app/service.py", WHOLE, only=["source.fixAll"])
    assert fix_all.kind == "source.fixAll.backlint"
    assert not [m for m in project.client.log_messages if "internal error" in m.message]


@pytest.mark.asyncio
async def test_a_rule_that_crashes_is_logged_once_and_the_server_goes_on(tmp_path: Path) -> None:
    write_project(tmp_path, {"app/service.py": CLEAN})
    faulty = Path(__file__).with_name("lsp_faulty_server.py")
    session = await start(tmp_path, command=(sys.executable, str(faulty)))
    try:
        session.open("app/service.py")
        assert await session.diagnostics("app/service.py") == []
        # BL602 raises on ``explode``; BL501 still reports the blocking call.
        crashing = "import time\n\n\nasync def explode(user: str):\n    time.sleep(1)\n"
        session.change("app/service.py", crashing)
        assert codes(await session.diagnostics("app/service.py")) == ["BL501"]
        session.change("app/service.py", crashing + "\n")
        assert codes(await session.diagnostics("app/service.py")) == ["BL501"]
        session.change("app/service.py", CLEAN)
        assert await session.diagnostics("app/service.py") == []
        errors = [
            m.message
            for m in session.client.log_messages
            if m.type == types.MessageType.Error and "injected fault" in m.message
        ]
        assert len(errors) == 1, errors  # once while it lasts, not once per keystroke
        assert "rule BL602 (missing-return-annotation) failed on this file" in errors[0]
        assert "app/service.py" in errors[0]
    finally:
        await session.client.shutdown_session()
    server = session.client._server
    assert server is not None and server.returncode == 0


# Settings pulled with workspace/configuration --------------------------------------


@pytest.mark.asyncio
async def test_settings_are_pulled_per_root(tmp_path: Path) -> None:
    """Each root's settings come from the client's ``backlint`` section for that root,
    already for the first diagnostics; a configuration change without settings makes
    the server ask again."""
    first, second = tmp_path / "first", tmp_path / "second"
    for folder in (first, second):
        write_project(folder, {"app/service.py": SERVICE})
    configuration = {
        first.resolve().as_uri(): {"backlint": {"ignore": ["BL602"]}},
        second.resolve().as_uri(): {"backlint": {"ignore": ["BL501"]}},
    }
    session = await start(
        tmp_path, options={"ignore": []}, configuration=configuration, folders=[first, second]
    )
    try:
        session.open("first/app/service.py")
        session.open("second/app/service.py")
        assert codes(await session.diagnostics("first/app/service.py")) == ["BL501"]
        assert codes(await session.diagnostics("second/app/service.py")) == ["BL602"]
        # Never anything else first: the settings were there before the first check.
        assert all(len(p.diagnostics) == 1 for p in session.published)
        session.client.set_configuration(
            {"ignore": []}, section="backlint", scope_uri=second.resolve().as_uri()
        )
        session.client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings=None)
        )
        both = await session.diagnostics("second/app/service.py", where=lambda f: len(f) == 2)
        assert codes(both) == ["BL501", "BL602"]
        assert codes(await session.diagnostics("first/app/service.py")) == ["BL501"]
    finally:
        await session.client.shutdown_session()


# Buffers without a file, encodings -------------------------------------------------


@pytest.mark.asyncio
async def test_an_untitled_buffer_is_checked_alone(project: Session) -> None:
    """As ``backlint check -``: no path, so no role (BL602 checks services only) and no
    project around it; the root's configuration still applies."""
    text = SERVICE + "x = 1  # noqa: BL602\n"
    project.open("untitled:Untitled-1", text)
    assert codes(await project.diagnostics("untitled:Untitled-1")) == ["BL002", "BL501"]
    (fix_all,) = await project.actions("untitled:Untitled-1", WHOLE, only=["source.fixAll"])
    assert apply(text, fix_all.edit, 1) == SERVICE + "x = 1\n"


@pytest.mark.asyncio
async def test_an_unsaved_module_takes_part_in_the_project(tmp_path: Path) -> None:
    """``app/a.py`` exists only in the editor; ``app/b.py`` on disk imports it."""
    write_project(tmp_path, {"app/b.py": "from app import a\n\n\ndef g() -> None:\n    a.f()\n"})
    session = await start(tmp_path)
    try:
        assert not (tmp_path / "app/a.py").exists()
        session.open("app/a.py", "from app import b\n\n\ndef f() -> None:\n    b.g()\n")
        cycle = await session.diagnostics("app/a.py", where=lambda found: bool(found))
        assert codes(cycle) == ["BL411"]
        (related,) = cycle[0].related_information or []
        assert related.location.uri == session.uri("app/b.py")
    finally:
        await session.client.shutdown_session()


LATIN1 = (
    "# -*- coding: latin-1 -*-\nimport time\n\n\n"
    'async def wait() -> None:\n    s = "café"; time.sleep(1)\n'
)


@pytest.mark.asyncio
async def test_a_coding_cookie_is_honoured(project: Session) -> None:
    """The editor sends text; the server checks the bytes the file would hold (latin-1
    here), so findings sit where they are in the text."""
    project.open("app/service.py", LATIN1)
    (blocking,) = await project.diagnostics("app/service.py")
    line = LATIN1.splitlines()[5]
    start = line.index("time.sleep")
    assert blocking.range.start == types.Position(5, start)
    assert blocking.range.end == types.Position(5, start + len("time.sleep(1)"))
    # A character latin-1 cannot hold: checked as ``?``, positions unchanged, and said.
    project.change("app/service.py", LATIN1.replace("café", "caf€"))
    (moved,) = await project.diagnostics("app/service.py")
    assert moved.range == blocking.range
    assert any("cannot be saved in iso-8859-1" in m.message for m in project.client.log_messages)


@pytest.mark.asyncio
async def test_a_module_created_on_disk_joins_the_project(tmp_path: Path) -> None:
    write_project(tmp_path, {"app/a.py": "from app import b\n\n\ndef f() -> None:\n    b.g()\n"})
    session = await start(tmp_path)
    try:
        session.open("app/a.py")
        assert await session.diagnostics("app/a.py") == []
        created = tmp_path / "app" / "b.py"
        created.write_text("from app import a\n\n\ndef g() -> None:\n    a.f()\n")
        session.client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams(
                changes=[
                    types.FileEvent(
                        uri=created.resolve().as_uri(), type=types.FileChangeType.Created
                    )
                ]
            )
        )
        cycle = await session.diagnostics("app/a.py", where=lambda found: bool(found))
        assert codes(cycle) == ["BL411"]
    finally:
        await session.client.shutdown_session()
