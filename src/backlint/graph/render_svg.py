"""SVG through Graphviz's ``dot`` program, when it is installed."""

from __future__ import annotations

import shutil
import subprocess

INSTALL_HINT = (
    "Graphviz's `dot` program is needed for --format svg and was not found on PATH. "
    "Install Graphviz (Debian/Ubuntu: `apt install graphviz`, macOS: `brew install "
    "graphviz`, Windows: `winget install graphviz`, or see https://graphviz.org/download/), "
    "or write DOT with --format dot and render it elsewhere."
)


class RenderError(Exception):
    """The picture could not be drawn: ``dot`` is missing or failed."""


def render_svg(dot_source: str) -> str:
    """``dot -Tsvg`` of ``dot_source``. Raises RenderError."""
    program = shutil.which("dot")
    if program is None:
        raise RenderError(INSTALL_HINT)
    try:
        completed = subprocess.run(
            [program, "-Tsvg"],
            input=dot_source.encode("utf-8"),
            capture_output=True,
            check=False,
        )
    except OSError as error:
        raise RenderError(f"cannot run {program}: {error.strerror}") from None
    if completed.returncode != 0:
        message = completed.stderr.decode("utf-8", "replace").strip()
        raise RenderError(f"dot failed (exit {completed.returncode}): {message}")
    return completed.stdout.decode("utf-8")
