"""Module names from file paths and source roots (``src`` in the configuration)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def module_name(path: Path, roots: Sequence[Path]) -> tuple[str, bool]:
    """The dotted module name of ``path`` and whether it is a package ``__init__``.

    The most specific root that contains the file wins (``src`` before ``.``). A file
    outside every root is named as Python would find it: from the first folder above it
    that is not a package (has no ``__init__.py``).
    """
    best: Path | None = None
    for root in roots:
        try:
            path.relative_to(root)
        except ValueError:
            continue
        if best is None or len(root.parts) > len(best.parts):
            best = root
    if best is None:
        best = _package_root(path)
    relative = path.relative_to(best)
    parts = list(relative.with_suffix("").parts)
    is_package = bool(parts) and parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    return ".".join(parts), is_package


def _package_root(path: Path) -> Path:
    directory = path.parent
    while (directory / "__init__.py").is_file() and directory.parent != directory:
        directory = directory.parent
    return directory
