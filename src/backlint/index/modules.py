"""Module names from file paths and source roots (``src`` in the configuration)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def module_name(path: Path, roots: Sequence[Path]) -> tuple[str, bool]:
    """The dotted module name of ``path`` and whether it is a package ``__init__``.

    The most specific root that contains the file wins (``src`` before ``.``). A file
    outside every root is named from its own directory.
    """
    best: Path | None = None
    for root in roots:
        try:
            path.relative_to(root)
        except ValueError:
            continue
        if best is None or len(root.parts) > len(best.parts):
            best = root
    relative = path.relative_to(best) if best is not None else Path(path.name)
    parts = list(relative.with_suffix("").parts)
    is_package = bool(parts) and parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    return ".".join(parts), is_package
