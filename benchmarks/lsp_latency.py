"""Latency of ``backlint server``: time to first diagnostics after ``initialize`` (cold and
warm cache) and from ``didChange`` to ``publishDiagnostics`` for one ~1,000-line file.

    python benchmarks/lsp_latency.py [PROJECT] [RELATIVE_FILE] [--edits N]

The project (default ``/work/eco/netbox``) is copied to a temporary folder first, so its
checkout is never touched and the cache starts empty. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import LanguageClient
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

BACKLINT = str(Path(sys.executable).parent / "backlint")


async def session(root: Path, relative: str, edits: int) -> tuple[float, list[float]]:
    client = LanguageClient(converter_factory=default_converter)
    arrived: dict[tuple[str, int | None], float] = {}
    event = asyncio.Event()

    def on_publish(ls: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
        arrived[(params.uri, params.version)] = time.perf_counter()
        event.set()

    register_lsp_features(
        client, {**DEFAULT_CLIENT_FEATURES, types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS: on_publish}
    )
    await client.start_io(BACKLINT, "server", cwd=str(root))
    uri = (root / relative).resolve().as_uri()

    async def until(version: int) -> float:
        while (uri, version) not in arrived:
            event.clear()
            await event.wait()
        return arrived[(uri, version)]

    started = time.perf_counter()
    await client.initialize_session(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="bench")],
        )
    )
    text = (root / relative).read_text()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, text))
    )
    first = await until(1) - started
    latencies = []
    for version in range(2, edits + 2):
        text += f"\n# edit {version}\n"
        sent = time.perf_counter()
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(version=version, uri=uri),
                [types.TextDocumentContentChangeWholeDocument(text)],
            )
        )
        latencies.append(await until(version) - sent)
    await client.shutdown_session()
    return first, latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("project", nargs="?", default="/work/eco/netbox")
    parser.add_argument("file", nargs="?", default="netbox/circuits/views.py")
    parser.add_argument("--edits", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "project"
        shutil.copytree(args.project, root, ignore=shutil.ignore_patterns(".git"))
        lines = len((root / args.file).read_text().splitlines())
        for label in ("cold cache", "warm cache"):
            first, latencies = asyncio.run(session(root, args.file, args.edits))
            latencies.sort()
            p95 = latencies[max(0, round(0.95 * len(latencies)) - 1)]
            # The machine may be shared: the load says how much the numbers can be trusted.
            load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
            print(
                f"{label}: first diagnostics {first:.2f} s after initialize; "
                f"didChange -> publishDiagnostics on {args.file} ({lines} lines), "
                f"{len(latencies)} edits: median {statistics.median(latencies) * 1000:.0f} ms, "
                f"p95 {p95 * 1000:.0f} ms (load average {load})"
            )


if __name__ == "__main__":
    main()
