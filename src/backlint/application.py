"""The ``check`` use case: from a request to the workspace that answers it.

The CLI only parses flags into a ``CheckRequest`` and prints what ``run_check`` returns;
this module finds the configuration and the project root, and opens the ``Workspace``
(``workspace.py``) that does the checking.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from backlint.config import ConfigError, Settings, find_config, load_settings
from backlint.discovery import resolve_lenient
from backlint.index.pytestnaming import PytestNaming
from backlint.rules.catalogue import catalogue
from backlint.rules.metadata import RuleInfo
from backlint.selection import SelectionError, check_selectors, enabled_codes
from backlint.workspace import (
    CACHE_DIR_NAME,
    PROJECT_MARKERS,
    CheckResult,
    StdinSource,
    Workspace,
    display_path,
)

# The engine (libcst, networkx, the rule modules) is imported where files are checked
# (``workspace.py``), not here: configuration, discovery and selection run, and fail
# fast, without it.
if TYPE_CHECKING:
    from backlint.changes.newfromrev import ChangeRun
    from backlint.engine.runner import Progress

__all__ = ["CheckRequest", "CheckResult", "open_workspace", "run_check"]

CACHE_DIR_VARIABLE = "BACKLINT_CACHE_DIR"


@dataclass(frozen=True)
class CheckRequest:
    paths: tuple[Path, ...]
    cwd: Path
    config: Path | None = None
    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    stdin_filename: str | None = None
    stdin_data: bytes | None = None
    force_exclude: bool = False
    include_low_confidence: bool = False
    preview: bool | None = None  # ``--preview``/``--no-preview``; None: the configuration's
    jobs: int = 1
    # The persistent cache: on for the CLI (``--no-cache`` turns it off), off by default
    # for callers of the library. ``cache_dir`` is ``--cache-dir``.
    use_cache: bool = False
    cache_dir: Path | None = None
    # ``--new-from-rev``: report only findings new since this git revision.
    new_from_rev: str | None = None


def _search_start(request: CheckRequest) -> Path:
    """Where configuration is looked for: the first path checked, else the working directory.

    ``backlint check /elsewhere/project`` then uses that project's configuration and root,
    as ruff does, instead of the working directory's.
    """
    if request.stdin_data is not None or not request.paths:
        name = request.stdin_filename
        return resolve_lenient(request.cwd / name).parent if name else request.cwd
    first = resolve_lenient(request.cwd / request.paths[0])
    return first if first.is_dir() else first.parent


def project_root(start: Path, cwd: Path) -> Path:
    """The root without a configuration file: the nearest directory from ``start`` up
    that looks like a project (``.git``, ``pyproject.toml``, ``setup.py``, ``setup.cfg``),
    not looking above the working directory when ``start`` is inside it; else the working
    directory (or ``start`` when it is outside the working directory).

    ``backlint check mealie`` from a folder of checkouts then names modules from
    ``mealie/`` (``mealie.services.x``), not from the working directory
    (``mealie.mealie.services.x``).
    """
    inside = start == cwd or cwd in start.parents
    for directory in (start, *start.parents):
        if any((directory / marker).exists() for marker in PROJECT_MARKERS):
            return directory
        if inside and directory == cwd:
            return cwd
    return cwd if inside else start


def repository_root(start: Path) -> Path:
    """The nearest directory holding ``.git``: SARIF paths are relative to it."""
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return start


def load_request_settings(request: CheckRequest, rules: Mapping[str, RuleInfo]) -> Settings:
    """Settings from the config file, overridden by the command line. Raises ConfigError."""
    config_file = request.config
    start = _search_start(request)
    if config_file is None:
        config_file = find_config(start)
    elif not config_file.is_file():
        raise ConfigError(f"{config_file}: configuration file not found")
    settings = load_settings(config_file, project_root(start, request.cwd), rules)
    settings = replace(settings, pytest=PytestNaming.from_project(settings.root))
    try:
        for flag, values in (
            ("--select", request.select or ()),
            ("--extend-select", request.extend_select),
            ("--ignore", request.ignore),
        ):
            check_selectors(values, rules, flag)
    except SelectionError as error:
        raise ConfigError(str(error)) from None
    changes: dict[str, object] = {}
    if request.select is not None:
        changes["select"] = request.select
        changes["extend_select"] = ()
    if request.extend_select:
        changes["extend_select"] = (*settings.extend_select, *request.extend_select)
    if request.ignore:
        changes["ignore"] = (*settings.ignore, *request.ignore)
    if request.force_exclude:
        changes["force_exclude"] = True
    if request.include_low_confidence:
        changes["include_low_confidence"] = True
    if request.preview is not None:
        changes["preview"] = request.preview
    if request.new_from_rev:
        changes["new_from_rev"] = request.new_from_rev
    return replace(settings, **changes) if changes else settings  # type: ignore[arg-type]


def open_workspace(request: CheckRequest) -> Workspace:
    """The workspace a request runs in: its settings, rules and cache. Raises ConfigError."""
    rules = catalogue()
    settings = load_request_settings(request, rules)
    codes = enabled_codes(
        rules, settings.select, settings.extend_select, settings.ignore, settings.preview
    )
    return Workspace(
        settings,
        request.cwd,
        rules,
        {code: rules[code] for code in sorted(codes)},
        repository_root(settings.root),
        cache_directory(request, settings),
        request.jobs,
    )


def cache_directory(request: CheckRequest, settings: Settings) -> Path | None:
    """``--cache-dir``, else ``BACKLINT_CACHE_DIR``, else ``cache-dir`` in the
    configuration, else ``.backlint_cache`` in the project root; None with ``--no-cache``."""
    if not request.use_cache:
        return None
    variable = os.environ.get(CACHE_DIR_VARIABLE)
    if request.cache_dir is not None:
        return request.cwd / request.cache_dir
    if variable:
        return request.cwd / variable
    return settings.cache_dir or settings.root / CACHE_DIR_NAME


def workspace_cache_directory(request: CheckRequest) -> Path | None:
    """The cache directory ``request`` would use (for ``backlint clean``)."""
    return cache_directory(request, load_request_settings(request, catalogue()))


def run_check(request: CheckRequest, progress: Progress | None = None) -> CheckResult:
    """Check the requested files (only the new findings with ``new-from-rev``). Raises
    ConfigError for configuration problems and for a revision git does not know."""
    workspace = open_workspace(request)
    with change_scope(workspace) as change:
        result = workspace.check(request.paths, stdin_source(request, workspace), progress=progress)
    if change is not None:
        result.diagnostics = change.new_findings(result, request.cwd)
    return result


@contextmanager
def change_scope(workspace: Workspace) -> Iterator[ChangeRun | None]:
    """Inside the block, ``workspace``'s checks are about the change since the configured
    ``new-from-rev`` (the base tree analysed first); without one, nothing changes."""
    revision = workspace.settings.new_from_rev
    if not revision:
        yield None
        return
    from backlint.changes.newfromrev import changed_since

    with changed_since(workspace, revision) as change:
        yield change


def stdin_source(request: CheckRequest, workspace: Workspace) -> StdinSource | None:
    """The text read from stdin and the path it stands for, if stdin is checked."""
    if request.stdin_data is None:
        return None
    name = request.stdin_filename or "-"
    path = workspace.resolve(name)
    display = _stdin_display(request.stdin_filename, path, request.cwd)
    return StdinSource(path, display, request.stdin_data)


def _stdin_display(name: str | None, resolved: Path, cwd: Path) -> str:
    """Report stdin under the name the editor gave (relative names stay as given)."""
    if name is None:
        return "-"
    given = Path(name)
    return given.as_posix() if not given.is_absolute() else display_path(resolved, cwd)
