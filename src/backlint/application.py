"""The ``check`` use case: configuration, discovery, both passes, and the final report.

The CLI only parses flags into a ``CheckRequest`` and prints what ``run_check`` returns;
this module holds the decisions between the two.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from backlint.config import ConfigError, Settings, find_config, load_settings
from backlint.diagnostics import Diagnostic, RunProblem
from backlint.discovery import (
    PYTHON_SUFFIXES,
    discover,
    is_excluded,
    relative_to_root,
    resolve_lenient,
)
from backlint.engine.redaction import Masked
from backlint.engine.results import PYTHON, FileResult, FileTask
from backlint.index.pytestnaming import PytestNaming
from backlint.index.textfiles import FIXTURE_SUFFIXES, text_kind
from backlint.rules.catalogue import catalogue
from backlint.rules.metadata import RuleInfo
from backlint.selection import SelectionError, check_selectors, enabled_codes

# The engine (libcst, networkx, the rule modules) is imported where files are checked,
# not here: configuration, discovery and selection run, and fail fast, without it.
if TYPE_CHECKING:
    from backlint.engine.runner import Progress
    from backlint.index.project import ProjectIndex
    from backlint.rules.base import Rule


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
    # Text to check instead of what is on disk, by path as discovered (the fix loop's
    # fixed files; ``--diff`` writes nothing).
    overrides: Mapping[Path, bytes] = field(default_factory=dict)
    # Per-file results of a previous run to reuse, by display path: files the fix loop
    # did not change need no second look.
    reuse: Mapping[str, FileResult] = field(default_factory=dict)


@dataclass
class CheckResult:
    settings: Settings
    report_root: Path
    diagnostics: list[Diagnostic] = field(default_factory=list)
    problems: list[RunProblem] = field(default_factory=list)
    internal_errors: list[RunProblem] = field(default_factory=list)
    snippets: dict[str, dict[int, str]] = field(default_factory=dict)
    # Where snippet lines hide a secret (see ``engine.redaction``), by path and line.
    masked: dict[str, dict[int, tuple[Masked, ...]]] = field(default_factory=dict)
    files: int = 0
    lines: int = 0
    # The project index of the run: the route registry and class index, for tools and tests.
    project: ProjectIndex | None = None
    # Each checked file by display path: where it is, and its per-file result.
    sources: dict[str, Path] = field(default_factory=dict)
    file_results: dict[str, FileResult] = field(default_factory=dict)


def display_path(path: Path, cwd: Path) -> str:
    """Relative to the working directory when below it (as ruff prints), else absolute."""
    try:
        return path.relative_to(cwd).as_posix()
    except ValueError:
        return path.as_posix()


_PROJECT_MARKERS = (".git", "pyproject.toml", "setup.py", "setup.cfg")


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
        if any((directory / marker).exists() for marker in _PROJECT_MARKERS):
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
    return replace(settings, **changes) if changes else settings  # type: ignore[arg-type]


def run_check(request: CheckRequest, progress: Progress | None = None) -> CheckResult:
    """Check the requested files. Raises ConfigError for configuration problems."""
    rules = catalogue()
    settings = load_request_settings(request, rules)
    codes = enabled_codes(
        rules, settings.select, settings.extend_select, settings.ignore, settings.preview
    )
    enabled = {code: rules[code] for code in sorted(codes)}
    result = CheckResult(settings=settings, report_root=repository_root(settings.root))

    tasks: list[FileTask] = []
    if request.stdin_data is not None:
        name = request.stdin_filename or "-"
        path = resolve_lenient(request.cwd / name)
        excluded = request.stdin_filename is not None and _force_excluded(path, settings)
        if not excluded:
            tasks.append(
                FileTask(
                    path,
                    _stdin_display(request.stdin_filename, path, request.cwd),
                    relative_to_root(path, settings.root),
                    data=request.stdin_data,
                )
            )
    else:
        text_kinds = frozenset(kind for rule in enabled.values() for kind in rule.text_kinds)
        found = discover(request.paths, settings, text_kinds)
        result.problems.extend(found.problems)
        settings = with_implicit_roots(settings, found.files)
        result.settings = settings
        for path in found.files:
            relative = relative_to_root(path, settings.root)
            kind = _task_kind(path, relative, text_kinds)
            if kind is None:
                continue
            tasks.append(
                FileTask(
                    path,
                    display_path(path, request.cwd),
                    relative,
                    kind=kind,
                    data=request.overrides.get(path),
                )
            )

    # Only now that files are checked: the rule classes, the engine and libcst.
    from backlint.engine.loader import ModulesOnDisk
    from backlint.engine.projectpass import run_project_pass
    from backlint.rules.registry import rule_classes

    classes = rule_classes(enabled.values())
    jobs = request.jobs if request.jobs > 0 else (os.cpu_count() or 1)
    file_results = _file_pass(request, tasks, settings, tuple(classes.values()), jobs, progress)
    modules = ModulesOnDisk(settings)
    outcome = run_project_pass(
        file_results,
        {t.display: t.relative for t in tasks},
        settings,
        classes,
        rules,
        modules,
        modules.parse,
    )
    result.diagnostics = outcome.diagnostics
    result.internal_errors = outcome.internal_errors
    result.project = outcome.project
    result.sources = {task.display: task.path for task in tasks}
    result.file_results = {r.path: r for r in file_results}
    for file_result in file_results:
        result.problems.extend(file_result.problems)
        result.lines += file_result.lines
        if file_result.snippets:
            result.snippets[file_result.path] = file_result.snippets
        if file_result.masked:
            result.masked[file_result.path] = file_result.masked
    result.files = len(tasks)
    return result


def _file_pass(
    request: CheckRequest,
    tasks: list[FileTask],
    settings: Settings,
    rules: tuple[type[Rule], ...],
    jobs: int,
    progress: Progress | None,
) -> list[FileResult]:
    """The per-file results of ``tasks``, reusing ``request.reuse`` where it has them."""
    from backlint.engine.runner import run_file_pass

    fresh = [task for task in tasks if task.display not in request.reuse]
    checked = iter(run_file_pass(fresh, settings, rules, jobs, progress))
    return [request.reuse.get(task.display) or next(checked) for task in tasks]


_NESTED_PROJECT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg")


def with_implicit_roots(settings: Settings, files: list[Path]) -> Settings:
    """Add the folders a project's imports count from, unless ``src`` is set.

    - Each folder holding a ``manage.py``: Django projects import their apps relative to
      it (``from dcim.models import Site`` in ``netbox/dcim/``).
    - Each folder below the root holding its own ``pyproject.toml``, ``setup.py`` or
      ``setup.cfg`` (and its ``src/``): a workspace member such as the FastAPI
      template's ``backend/``, whose code imports ``app.api.deps``, not
      ``backend.app.api.deps``.

    A folder inside a package is never a root, whatever it holds: a module that happens
    to be named ``setup.py`` or ``manage.py`` in ``app/forms/`` is ``app.forms.setup``,
    and naming its siblings from ``app/forms/`` would hide the cycles they are part of.
    """
    if settings.src:
        return settings
    roots = {
        path.parent for path in files if path.name == "manage.py" and not _in_package(path.parent)
    }
    directories = {parent for path in files for parent in path.parents}
    for directory in directories:
        if (
            settings.root in directory.parents
            and any((directory / marker).is_file() for marker in _NESTED_PROJECT_MARKERS)
            and not _in_package(directory)
        ):
            roots.add(directory)
            if (directory / "src").is_dir():
                roots.add(directory / "src")
    if not roots:
        return settings
    return replace(settings, src=(*settings.source_roots(), *sorted(roots)))


def _in_package(directory: Path) -> bool:
    """Whether ``directory`` is a package or a folder of one (Python would import its
    modules under the package's name)."""
    return (directory / "__init__.py").is_file() or (directory.parent / "__init__.py").is_file()


def _task_kind(path: Path, relative: str, text_kinds: frozenset[str]) -> str | None:
    """``python``, the text kind of a non-Python file an enabled rule reads, or None for a
    configuration or data file no enabled rule reads (pre-commit passes those too).

    Any other file named explicitly is checked as Python, as ruff does with a script
    without the ``.py`` suffix.
    """
    if path.suffix in PYTHON_SUFFIXES:
        return PYTHON
    kind = text_kind(relative)
    if kind is not None:
        return kind if kind in text_kinds else None
    if path.suffix in FIXTURE_SUFFIXES or path.name.startswith(".env"):
        return None
    return PYTHON


def _force_excluded(path: Path, settings: Settings) -> bool:
    return settings.force_exclude and is_excluded(path, settings)


def _stdin_display(name: str | None, resolved: Path, cwd: Path) -> str:
    """Report stdin under the name the editor gave (relative names stay as given)."""
    if name is None:
        return "-"
    given = Path(name)
    return given.as_posix() if not given.is_absolute() else display_path(resolved, cwd)
