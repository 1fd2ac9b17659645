"""A session with ``backlint server`` on a real project, driven by pytest-lsp's client,
written down as markdown: what an editor would have shown.

    python benchmarks/lsp_session.py [--project /work/eco/mealie] [--out FILE]

The project is copied to a temporary folder first (its checkout is never touched). The
session opens a few files, adds an import to one that closes a cycle (BL411 appears in
another open file, where the tangle's first import is), removes it again (BL411 goes),
asks for code actions and hover on findings, and closes. Not a test: it reports what
happened, with timings.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

BACKLINT = str(Path(sys.executable).parent / "backlint")
# mealie: a schema module, the service that imports it, the package where the tangle
# the edit creates is reported (mealie.core.security is reached from the service), and
# a route.
EDITED = "mealie/schema/user/user_passwords.py"
RESET = "mealie/services/user_services/password_reset_service.py"
TANGLE = "mealie/core/security/__init__.py"
ROUTE = "mealie/routes/admin/admin_email.py"
FILES = (EDITED, RESET, TANGLE, ROUTE)
CYCLE = "from mealie.services.user_services.password_reset_service import PasswordResetService\n"
# The architecture rules in preview are what a team trying the server would turn on.
SELECT = ["BL411", "BL412", "BL421", "BL501", "BL602"]
# Longer than indexing the project takes on a busy machine: only a stuck session waits it.
WAIT = 300


class Editor:
    """The client's view: the latest diagnostics per document and when they came."""

    def __init__(self, client: LanguageClient, root: Path) -> None:
        self.client = client
        self.root = root
        self.latest: dict[str, types.PublishDiagnosticsParams] = {}
        self.arrived = asyncio.Event()
        self.texts: dict[str, str] = {}
        self.versions: dict[str, int] = {}

    def uri(self, relative: str) -> str:
        return (self.root / relative).resolve().as_uri()

    def record(self, params: types.PublishDiagnosticsParams) -> None:
        self.latest[params.uri] = params
        self.arrived.set()

    async def until(
        self, relative: str, where: Callable[[Sequence[types.Diagnostic]], bool] = bool
    ) -> list[types.Diagnostic]:
        """The diagnostics of ``relative``'s current version once ``where`` holds."""
        uri = self.uri(relative)
        while True:
            params = self.latest.get(uri)
            if params and params.version == self.versions[uri] and where(params.diagnostics):
                return list(params.diagnostics)
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), WAIT)
            except TimeoutError:
                logged = "\n".join(m.message for m in self.client.log_messages)
                got = {u: p.version for u, p in self.latest.items()}
                raise SystemExit(
                    f"no diagnostics for {relative} ({got}); the server logged:\n{logged}"
                ) from None

    def open(self, relative: str) -> None:
        uri = self.uri(relative)
        self.texts[uri] = (self.root / relative).read_text()
        self.versions[uri] = 1
        item = types.TextDocumentItem(uri, "python", 1, self.texts[uri])
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(item))

    def change(self, relative: str, text: str) -> None:
        uri = self.uri(relative)
        self.texts[uri] = text
        self.versions[uri] += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(version=self.versions[uri], uri=uri),
                [types.TextDocumentContentChangeWholeDocument(text)],
            )
        )


def summary(diagnostics: Sequence[types.Diagnostic]) -> str:
    counts = Counter(str(d.code) for d in diagnostics)
    return ", ".join(f"{code} x{n}" for code, n in sorted(counts.items())) or "none"


def shown(diagnostic: types.Diagnostic) -> str:
    start = diagnostic.range.start
    return f"{start.line + 1}:{start.character + 1} {diagnostic.code} {diagnostic.message}"


async def session(root: Path, lines: list[str]) -> None:
    client = LanguageClient(converter_factory=default_converter)
    editor = Editor(client, root)

    def on_publish(ls: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
        editor.record(params)

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
    await client.start_io(BACKLINT, "server", cwd=str(root))
    started = time.perf_counter()
    await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
            initialization_options={"backlint": {"select": SELECT}},
        )
    )
    for relative in FILES:
        editor.open(relative)
    lines.append("## Opening four files\n")
    for relative in FILES:
        found = await editor.until(relative, lambda found: True)
        lines.append(f"- `{relative}`: {summary(found)}")
        lines.extend(f"  - {shown(d)}" for d in found[:4])
    lines.append(
        f"\nFirst diagnostics {time.perf_counter() - started:.1f} s after `initialize` "
        "(cold cache: the whole project is indexed first).\n"
    )

    lines.append("## An import that closes a cycle\n")
    lines.append(f"Added at the top of `{EDITED}`: `{CYCLE.strip()}`\n")
    original = editor.texts[editor.uri(EDITED)]
    sent = time.perf_counter()
    editor.change(EDITED, CYCLE + original)

    def has_cycle(found: Sequence[types.Diagnostic]) -> bool:
        return any(d.code == "BL411" for d in found)

    found = await editor.until(TANGLE, has_cycle)
    lines.append(f"After {time.perf_counter() - sent:.2f} s, `{TANGLE}` shows {summary(found)}:")
    for diagnostic in found:
        if diagnostic.code == "BL411":
            lines.append(f"- {shown(diagnostic)}")
            for related in diagnostic.related_information or []:
                where = related.location
                relative = Path(where.uri.removeprefix("file://")).relative_to(root)
                lines.append(
                    f"  - related: `{relative}` line {where.range.start.line + 1}: "
                    f"{related.message}"
                )
    sent = time.perf_counter()
    editor.change(EDITED, original)
    found = await editor.until(TANGLE, lambda found: not has_cycle(found))
    lines.append(
        f"\nImport removed again: after {time.perf_counter() - sent:.2f} s the findings of "
        f"`{TANGLE}` are {summary(found)} (no BL411).\n"
    )

    lines.append("## Code actions and hover\n")
    for relative in FILES:
        found = editor.latest[editor.uri(relative)].diagnostics
        for diagnostic in found[:2]:
            actions = await client.text_document_code_action_async(
                types.CodeActionParams(
                    text_document=types.TextDocumentIdentifier(uri=editor.uri(relative)),
                    range=diagnostic.range,
                    context=types.CodeActionContext(diagnostics=[diagnostic]),
                )
            )
            titles = [a.title for a in actions or [] if isinstance(a, types.CodeAction)]
            hover = await client.text_document_hover_async(
                types.HoverParams(
                    text_document=types.TextDocumentIdentifier(uri=editor.uri(relative)),
                    position=diagnostic.range.start,
                )
            )
            first = ""
            if hover is not None and isinstance(hover.contents, types.MarkupContent):
                first = hover.contents.value.splitlines()[0]
            lines.append(f"- `{relative}` {shown(diagnostic)}")
            lines.append(f"  - code actions: {titles}")
            lines.append(f"  - hover: `{first}`")
    await client.shutdown_session()
    code = client._server.returncode if client._server else None
    lines.append(f"\nShutdown and exit: the server ended with status {code}.")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--project", default="/work/eco/mealie")
    parser.add_argument("--out", default="-")
    args = parser.parse_args()
    lines = [
        "# A session with `backlint server`",
        "",
        f"Project: a copy of `{args.project}`; client: pytest-lsp's `LanguageClient` with "
        f"VS Code's capabilities; `select = {SELECT}` in `initializationOptions`. "
        "Written by `benchmarks/lsp_session.py`.",
        "",
    ]
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / Path(args.project).name
        shutil.copytree(args.project, root, ignore=shutil.ignore_patterns(".git"))
        asyncio.run(session(root.resolve(), lines))
    text = "\n".join(lines) + "\n"
    if args.out == "-":
        print(text, end="")
    else:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
