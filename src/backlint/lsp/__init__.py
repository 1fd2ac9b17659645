"""``backlint server``: a language server over stdio (pygls 2, lsprotocol).

Modules:

- ``server``: the pygls wiring (notifications, requests, capabilities);
- ``roots``: one warm ``Workspace`` per workspace root, checked with the open buffers as
  overlays;
- ``convert``: backlint findings as LSP diagnostics;
- ``positions``: 1-based code-point positions to the client's units and back;
- ``actions``: quick fixes, "disable for this line" and ``source.fixAll.backlint``;
- ``hover``: a rule's documentation on a finding or a ``# noqa`` code;
- ``settings``: the client's settings (initializationOptions, didChangeConfiguration).

Only ``serve`` lives here, so ``backlint --help`` never imports pygls.
"""

from __future__ import annotations


def serve() -> None:
    """Run the server on stdin/stdout until the client says ``exit``."""
    import multiprocessing

    from backlint.lsp.server import build_server

    # The file pass starts worker processes from a thread of a process that has other
    # threads (pygls reads stdin in one): a forked child can inherit a lock another
    # thread held and hang. A fork server is a fresh single-threaded process.
    multiprocessing.set_start_method("forkserver", force=True)
    multiprocessing.set_forkserver_preload(["backlint.engine.runner"])

    build_server().start_io()
