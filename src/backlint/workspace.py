"""The workspace: one project's configuration, file set, cache and index.

Every entry point works through it: ``backlint check`` (whole project, named files or
stdin), the fix loop (the same files with fixed text in memory) and, later, the language
server (open buffers). Whatever is reported, the project pass sees every file of the
project, so a file's findings are the same whichever way it was checked; the cache makes
that cheap, since only files whose content changed are parsed again.

Inside the workspace every file is named by its path relative to the project root;
display paths (relative to the working directory, or what an editor passed as
``--stdin-filename``) are made only when a result leaves it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from backlint.cache.keys import (
    FileStat,
    StatManifest,
    content_digest,
    digest,
    engine_fingerprint,
    file_pass_fingerprint,
    project_pass_fingerprint,
)
from backlint.cache.results import ResultCache
from backlint.cache.store import CacheUnavailable, DiskStore
from backlint.config import Settings
from backlint.diagnostics import Diagnostic, Related, RunProblem
from backlint.discovery import (
    PYTHON_SUFFIXES,
    discover,
    is_excluded,
    relative_to_root,
    resolve_lenient,
)
from backlint.engine.redaction import Masked
from backlint.engine.results import MAX_FILE_BYTES, PYTHON, FileResult, FileTask
from backlint.index.facts import FileFacts
from backlint.index.modules import module_name
from backlint.index.textfiles import FIXTURE_SUFFIXES, text_kind
from backlint.rules.metadata import RuleInfo

# The engine (libcst, networkx and the rule modules) is imported only when a file must
# be checked or the project pass must run: a run answered from the cache never needs it.
if TYPE_CHECKING:
    from backlint.engine.runner import Progress
    from backlint.index.change import ChangeSet
    from backlint.index.project import ProjectIndex
    from backlint.rules.base import Rule

T = TypeVar("T")

CACHE_DIR_NAME = ".backlint_cache"
# What makes a directory a project: the root without a configuration file is the nearest
# folder holding one (``application.project_root``), and named files are indexed with the
# whole project only when the root has a configuration or one of these. Without one (a
# loose script in a home folder), only the named files are read.
PROJECT_MARKERS = (".git", "pyproject.toml", "setup.py", "setup.cfg")


@dataclass(frozen=True)
class StdinSource:
    """Text an editor sent on stdin, and the path it stands for."""

    path: Path  # absolute
    display: str  # as the editor named it
    data: bytes


@dataclass(frozen=True)
class FileReport:
    """What the outputs need of one file besides its findings."""

    snippets: Mapping[int, str] = field(default_factory=dict)
    masked: Mapping[int, tuple[Masked, ...]] = field(default_factory=dict)
    problems: tuple[RunProblem, ...] = ()
    lines: int = 0


@dataclass(frozen=True)
class ProjectOutcome:
    """The project pass of one set of file contents, as the cache keeps it.

    Paths are root-relative. ``dependencies`` are the files read from outside the run
    (a module in an excluded folder), with their content digest ("" when absent): the
    outcome is reused only while they are unchanged.
    """

    diagnostics: tuple[Diagnostic, ...]
    internal_errors: tuple[RunProblem, ...]
    files: Mapping[str, FileReport]
    dependencies: tuple[tuple[str, str], ...] = ()


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
    # The project index, when the project pass ran (not when its outcome came from the
    # cache): the route registry and class index, for tools and tests.
    project: ProjectIndex | None = None
    # Each reported file by display path: where it is.
    sources: dict[str, Path] = field(default_factory=dict)
    # Files of the project outside the reported ones that had to be parsed (not cached).
    indexed: int = 0


@dataclass(frozen=True)
class IndexResult:
    """The project index of a workspace's files, with what went wrong building it.

    ``reported`` are the root-relative paths of the files the request named.
    """

    settings: Settings
    project: ProjectIndex
    reported: frozenset[str]
    problems: tuple[RunProblem, ...] = ()
    internal_errors: tuple[RunProblem, ...] = ()
    # Files read from outside the run (``engine.loader.ModulesOnDisk.read``).
    modules_read: Mapping[str, str] = field(default_factory=dict)

    def dependencies(self) -> tuple[tuple[str, str], ...]:
        return tuple(sorted(self.modules_read.items()))


@dataclass(frozen=True)
class Derived(Generic[T]):
    """A value ``Workspace.derived`` computed from the project index, or cached."""

    value: T
    settings: Settings
    problems: tuple[RunProblem, ...] = ()
    internal_errors: tuple[RunProblem, ...] = ()


@dataclass(frozen=True)
class DerivedEntry:
    """A derived value as the cache keeps it, with the files read from outside the run
    (as ``ProjectOutcome.dependencies``): reused only while they are unchanged."""

    value: object
    dependencies: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class _Prepared:
    """The files of a request and their entry keys, before any result is loaded."""

    result: CheckResult
    settings: Settings
    tasks: list[_Task]
    reported: frozenset[str]


@dataclass(frozen=True)
class _Task:
    task: FileTask
    key: str | None  # None: unreadable, always checked afresh (and never cached)


class Workspace:
    """A project's settings, files, cache and index, for every entry point.

    Build it with ``application.open_workspace``; ``check`` may be called many times (the
    fix loop, a language server), each reusing what the earlier calls learned.
    """

    def __init__(
        self,
        settings: Settings,
        cwd: Path,
        rules: Mapping[str, RuleInfo],
        enabled: Mapping[str, RuleInfo],
        report_root: Path,
        cache_dir: Path | None,
        jobs: int = 1,
    ) -> None:
        self.settings = settings
        self.cwd = cwd
        self.rules = rules
        self.enabled = enabled
        self.report_root = report_root
        self.jobs = jobs if jobs > 0 else (os.cpu_count() or 1)
        self.problems: list[RunProblem] = []
        self.cache = ResultCache(self._open_disk(cache_dir))
        self.indexes_project = settings.config_file is not None or any(
            (settings.root / marker).exists() for marker in PROJECT_MARKERS
        )
        self._text_kinds = frozenset(kind for rule in enabled.values() for kind in rule.text_kinds)
        self._project_files: list[Path] | None = None
        self._classes: Mapping[str, type[Rule]] | None = None
        # The last facts of each file that parsed: a buffer with a syntax error (an editor
        # mid-edit) keeps its place in the import graph instead of dropping out of it.
        self._good_facts: dict[str, FileFacts] = {}
        # Whether to keep the files' stats in the cache: not for a folder that lives only
        # for one run (the base tree of ``--new-from-rev``).
        self.remembers_stats = True
        # The change every check is about (``--new-from-rev``): change-scoped rules run
        # only with one, and the fix loop's checks see it too.
        self.change: ChangeSet | None = None

    def _open_disk(self, cache_dir: Path | None) -> DiskStore | None:
        if cache_dir is None:
            return None
        store = DiskStore(cache_dir, engine_fingerprint())
        try:
            store.prepare()
        except CacheUnavailable as error:
            # Read-only (a shared CI cache, a read-only checkout): say it once, go on
            # reading what is there.
            self.problems.append(RunProblem(str(cache_dir), f"{error}; running without it"))
        return store

    def rule_classes(self) -> Mapping[str, type[Rule]]:
        """The enabled rules' classes, imported on first need."""
        if self._classes is None:
            from backlint.rules.registry import rule_classes

            self._classes = rule_classes(self.enabled.values())
        return self._classes

    # Paths --------------------------------------------------------------------------

    @property
    def root(self) -> Path:
        return self.settings.root

    def resolve(self, path: Path | str) -> Path:
        """``path`` (relative to the working directory) made absolute, symlinks resolved,
        even if it does not exist (an editor's unsaved buffer)."""
        return resolve_lenient(self.cwd / path)

    def relative(self, path: Path) -> str:
        """The workspace's name for a file: relative to the root, ``/``-separated (its
        absolute path outside the root)."""
        return relative_to_root(path, self.root)

    def absolute(self, relative: str) -> Path:
        path = Path(relative)
        return path if path.is_absolute() else self.root / path

    def display(self, path: Path) -> str:
        """Relative to the working directory when below it (as ruff prints), else absolute."""
        return display_path(path, self.cwd)

    def is_excluded(self, path: Path) -> bool:
        return self.settings.force_exclude and is_excluded(path, self.settings)

    # Files --------------------------------------------------------------------------

    def project_files(self) -> list[Path]:
        """Every file of the project (discovered once per workspace)."""
        if self._project_files is None:
            found = discover([self.root], self.settings, self._text_kinds)
            self._project_files = found.files
        return self._project_files

    def forget_files(self) -> None:
        """Discover the project again on the next check (files were added or removed)."""
        self._project_files = None

    # Checking -----------------------------------------------------------------------

    def check(
        self,
        paths: Sequence[Path] = (),
        stdin: StdinSource | None = None,
        overlays: Mapping[Path, bytes] | None = None,
        progress: Progress | None = None,
    ) -> CheckResult:
        """Check the files ``paths`` name (or ``stdin``), seeing the whole project.

        ``overlays`` holds text to use instead of what is on disk, by absolute path (the
        fix loop's fixed files, an editor's buffers).
        """
        result = CheckResult(settings=self.settings, report_root=self.report_root)
        result.problems.extend(self.problems)
        overlays = dict(overlays or {})
        targets, whole_project = self._targets(paths, stdin, overlays, result)
        files = self._indexed_files(targets, whole_project, stdin)
        settings = with_implicit_roots(self.settings, files)
        result.settings = settings
        tasks = self._tasks(files, settings, overlays)
        reported = {self.relative(path) for path in targets}
        outcome_key = self._outcome_key(tasks, settings, self.change)
        outcome = self._cached_outcome(outcome_key)
        if outcome is None:
            results, parsed = self._file_pass(tasks, settings, progress)
            result.indexed = sum(1 for item in parsed if item.task.relative not in reported)
            results, kept = self._keep_good_facts(tasks, results)
            # An outcome made with a buffer's older facts is not that text's outcome.
            key = None if kept else outcome_key
            outcome, result.project = self._project_pass(tasks, results, settings, key, self.change)
        displays = {self.relative(path): self.display(path) for path in targets}
        if stdin is not None:
            displays[self.relative(stdin.path)] = stdin.display
        self._report(result, outcome, displays)
        result.sources = {displays[self.relative(path)]: path for path in targets}
        result.files = len(targets)
        self._note_cache_problem(result)
        return result

    def project_index(
        self, paths: Sequence[Path] = (), progress: Progress | None = None
    ) -> IndexResult:
        """The project index of the files ``paths`` name and the rest of the project,
        without running the project pass's rules (``backlint graph``).

        Each file's facts come from its cached result when its entry is current; the
        others go through the file pass, whose results are cached as ``check`` caches
        them (the entry is the whole file result, so the next check reuses it).
        """
        prepared = self._prepare(paths)
        return self._index(prepared, progress)

    def derived(
        self,
        paths: Sequence[Path],
        kind: str,
        compute: Callable[[IndexResult], T],
        progress: Progress | None = None,
    ) -> Derived[T]:
        """``compute(index)`` for the project index of ``paths`` (``project_index``),
        cached like a project outcome: by ``kind``, every file's entry key, the settings
        and the files named. A warm run then neither loads the files' results nor
        builds the index. ``kind`` names the value and its shape (``"graph/v1"``) and
        ``compute`` must return plain picklable data of backlint's classes.
        """
        prepared = self._prepare(paths)
        outcome_key = self._outcome_key(prepared.tasks, prepared.settings, None)
        key = None if outcome_key is None else digest(kind, outcome_key, sorted(prepared.reported))
        cached = None if key is None else self.cache.derived(key)
        if isinstance(cached, DerivedEntry) and _unchanged(cached.dependencies):
            return Derived(cached.value, prepared.settings, tuple(prepared.result.problems))  # type: ignore[arg-type]
        indexed = self._index(prepared, progress)
        value = compute(indexed)
        if key is not None and not indexed.internal_errors:
            self.cache.put_derived(key, DerivedEntry(value, indexed.dependencies()))
        return Derived(value, indexed.settings, indexed.problems, indexed.internal_errors)

    def _prepare(self, paths: Sequence[Path]) -> _Prepared:
        result = CheckResult(settings=self.settings, report_root=self.report_root)
        result.problems.extend(self.problems)
        targets, whole_project = self._targets(paths, None, {}, result)
        files = self._indexed_files(targets, whole_project, None)
        settings = with_implicit_roots(self.settings, files)
        tasks = self._tasks(files, settings, {})
        reported = frozenset(self.relative(path) for path in targets)
        return _Prepared(result, settings, tasks, reported)

    def _index(self, prepared: _Prepared, progress: Progress | None) -> IndexResult:
        from backlint.engine.loader import ModulesOnDisk
        from backlint.index.project import ProjectIndex

        tasks, settings = prepared.tasks, prepared.settings
        results, _ = self._file_pass(tasks, settings, progress)
        results, _ = self._keep_good_facts(tasks, results)
        self.cache.use_file_keys(
            {item.task.relative: item.key for item in tasks if item.key is not None}
        )
        modules = ModulesOnDisk(settings, {})
        project = ProjectIndex(
            (r.facts for r in results if r.facts is not None),
            modules,
            modules.parse,
            summaries=self.cache,
        )
        self._note_cache_problem(prepared.result)
        return IndexResult(
            settings=settings,
            project=project,
            reported=prepared.reported,
            problems=tuple(prepared.result.problems),
            internal_errors=tuple(e for r in results for e in r.internal_errors),
            modules_read=modules.read,
        )

    def _indexed_files(
        self, targets: list[Path], whole_project: bool, stdin: StdinSource | None
    ) -> list[Path]:
        """The files a run analyses: the reported ones plus, in a project, every other
        file of the project (so cross-file answers do not depend on what was named)."""
        files = list(targets)
        if self.indexes_project and not whole_project and (stdin is None or stdin.display != "-"):
            listed = set(files)
            files.extend(path for path in self.project_files() if path not in listed)
        return files

    def _note_cache_problem(self, result: CheckResult) -> None:
        """A cache write that failed mid-run: one warning, for the life of the workspace."""
        disk = self.cache.disk
        if disk is None or disk.problem is None:
            return
        if all(problem.message != disk.problem for problem in self.problems):
            self.problems.append(RunProblem(str(disk.directory), disk.problem))
            result.problems.append(self.problems[-1])

    def _targets(
        self,
        paths: Sequence[Path],
        stdin: StdinSource | None,
        overlays: dict[Path, bytes],
        result: CheckResult,
    ) -> tuple[list[Path], bool]:
        """The files to report, and whether they are the whole project already."""
        if stdin is not None:
            if stdin.display != "-" and self.is_excluded(stdin.path):
                return [], False
            overlays[stdin.path] = stdin.data
            return [stdin.path], False
        # An editor's buffer whose file does not exist yet (never saved) is reported from
        # its overlay, as part of the project it will be saved in.
        unsaved = [
            path
            for path in map(self.resolve, paths)
            if path in overlays and not path.exists() and not self.is_excluded(path)
        ]
        found = discover(
            [p for p in paths if self.resolve(p) not in unsaved], self.settings, self._text_kinds
        )
        result.problems.extend(found.problems)
        whole = any(self.resolve(path) == self.root for path in paths)
        if whole and self._project_files is None:
            self._project_files = found.files
        return sorted({*found.files, *unsaved}), whole

    def _tasks(
        self, files: Iterable[Path], settings: Settings, overlays: Mapping[Path, bytes]
    ) -> list[_Task]:
        codes = self.enabled.keys()
        fingerprint = file_pass_fingerprint(settings, codes)
        root_id = digest(str(self.root))
        remember = self.cache.disk is not None and self.remembers_stats
        manifest = self.cache.manifest(root_id) if remember else StatManifest({})
        seen: dict[str, tuple[FileStat, str]] = {}
        tasks = []
        roots = settings.source_roots()
        prefixes = tuple(str(root).rstrip(os.sep) + os.sep for root in roots)
        for path in files:
            relative = self.relative(path)
            kind = _task_kind(path, relative, self._text_kinds)
            if kind is None:
                continue
            data = overlays.get(path)
            if data is not None:
                content: str | None = content_digest(data)
            else:
                content = self._content_key(path, relative, manifest, seen)
            # Below a source root a module's name follows from its path and the roots (both
            # in the key); outside them it depends on which folders are packages.
            outside = kind == PYTHON and not str(path).startswith(prefixes)
            module = module_name(path, roots) if outside else ("", False)
            key = None if content is None else digest(fingerprint, relative, kind, module, content)
            tasks.append(_Task(FileTask(path, relative, relative, data=data, kind=kind), key))
        if remember and seen != manifest.entries:
            self.cache.put_manifest(root_id, seen)
        return tasks

    @staticmethod
    def _content_key(
        path: Path,
        relative: str,
        manifest: StatManifest,
        seen: dict[str, tuple[FileStat, str]],
    ) -> str | None:
        """The digest of a file's bytes, from the stat manifest when its stat is
        unchanged; None when it cannot be read (the file pass reports why)."""
        try:
            stat = FileStat.of(path.stat())
            if stat.size > MAX_FILE_BYTES:
                return digest("too large", stat.size)
            known = manifest.digest_of(relative, stat)
            if known is None:
                known = content_digest(path.read_bytes())
        except OSError:
            return None
        if StatManifest.trusted(stat):
            seen[relative] = (stat, known)
        return known

    def _file_pass(
        self, tasks: list[_Task], settings: Settings, progress: Progress | None
    ) -> tuple[list[FileResult], list[_Task]]:
        """Every task's result: cached, or checked now (in parallel) and cached."""
        results: list[FileResult | None] = []
        missing: list[int] = []
        for index, item in enumerate(tasks):
            cached = (
                None if item.key is None else self.cache.file_result(item.task.relative, item.key)
            )
            if not isinstance(cached, FileResult):
                cached = None
                missing.append(index)
            results.append(cached)

        def keep(position: int, checked: FileResult) -> None:
            item = tasks[missing[position]]
            results[missing[position]] = checked
            if item.key is not None and not checked.internal_errors:
                self.cache.put_file_result(item.task.relative, item.key, checked)

        if not missing:
            # Every result came from the cache: the engine (libcst) need not be imported.
            return [r for r in results if r is not None], []
        from backlint.engine.runner import run_file_pass

        fresh = run_file_pass(
            [tasks[i].task for i in missing],
            settings,
            tuple(self.rule_classes().values()),
            self.jobs,
            progress,
            on_result=keep,
        )
        for index, checked in zip(missing, fresh, strict=True):
            results[index] = checked  # the retried files' results come only here
        return [r for r in results if r is not None], [tasks[i] for i in missing]

    def _keep_good_facts(
        self, tasks: list[_Task], results: list[FileResult]
    ) -> tuple[list[FileResult], bool]:
        """Record each file's facts; give a buffer that no longer parses (``overlays``,
        an editor's text mid-edit) its last facts. Returns whether any was given."""
        kept = False
        completed = []
        for item, file_result in zip(tasks, results, strict=True):
            relative = item.task.relative
            if file_result.facts is not None:
                self._good_facts[relative] = file_result.facts
            elif item.task.data is not None and relative in self._good_facts:
                file_result = replace(file_result, facts=self._good_facts[relative])
                kept = True
            completed.append(file_result)
        return completed, kept

    def _outcome_key(
        self, tasks: list[_Task], settings: Settings, change: ChangeSet | None
    ) -> str | None:
        """The digest of every file's entry key and the settings: equal keys, equal
        project outcome. None when a file could not be read (it is checked afresh)."""
        keys = sorted((item.task.relative, item.key) for item in tasks)
        if any(key is None for _, key in keys):
            return None
        file_pass = file_pass_fingerprint(settings, self.enabled.keys())
        # A change run's findings depend on the base too; its files' keys are not known
        # here, so the base commit and the changed paths stand for it.
        changed = None if change is None else (change.commit, sorted(change.changed))
        return digest(project_pass_fingerprint(settings, file_pass), keys, changed)

    def _cached_outcome(self, key: str | None) -> ProjectOutcome | None:
        cached = None if key is None else self.cache.outcome(key)
        if isinstance(cached, ProjectOutcome) and _unchanged(cached.dependencies):
            return cached
        return None

    def _project_pass(
        self,
        tasks: list[_Task],
        results: list[FileResult],
        settings: Settings,
        outcome_key: str | None,
        change: ChangeSet | None,
    ) -> tuple[ProjectOutcome, ProjectIndex | None]:
        from backlint.engine.loader import ModulesOnDisk
        from backlint.engine.projectpass import run_project_pass

        self.cache.use_file_keys(
            {item.task.relative: item.key for item in tasks if item.key is not None}
        )
        modules = ModulesOnDisk(
            settings,
            {item.task.relative: item.task.data for item in tasks if item.task.data is not None},
        )
        passed = run_project_pass(
            results,
            {item.task.relative: item.task.relative for item in tasks},
            settings,
            self.rule_classes(),
            self.rules,
            modules,
            modules.parse,
            summaries=self.cache,
            change=change,
        )
        outcome = ProjectOutcome(
            diagnostics=tuple(passed.diagnostics),
            internal_errors=tuple(passed.internal_errors),
            files=_file_reports(results, passed.diagnostics, self._line_reader(tasks)),
            dependencies=tuple(sorted(modules.read.items())),
        )
        # A crash may be transient (a worker killed for memory): never keep it.
        if outcome_key is not None and not outcome.internal_errors:
            self.cache.put_outcome(outcome_key, outcome)
        return outcome, passed.project

    def _line_reader(self, tasks: Sequence[_Task]) -> Callable[[str], list[str]]:
        """Reads a file's lines by its root-relative path: the overlay's text, else the
        file on disk; no lines when it cannot be read or decoded."""
        overlays = {item.task.relative: item.task.data for item in tasks}

        def read(relative: str) -> list[str]:
            from backlint.source import SourceError, decode, split_lines

            try:
                data = overlays.get(relative)
                if data is None:
                    data = self.absolute(relative).read_bytes()
                return split_lines(decode(data).text)
            except (OSError, SourceError):
                return []

        return read

    def _report(
        self, result: CheckResult, outcome: ProjectOutcome, displays: Mapping[str, str]
    ) -> None:
        """Fill ``result`` with the outcome's findings on the reported files, in display
        paths."""

        def shown(relative: str) -> str:
            return displays.get(relative) or self.display(self.absolute(relative))

        for diagnostic in outcome.diagnostics:
            if diagnostic.path in displays:
                result.diagnostics.append(_displayed(diagnostic, shown))
        for error in outcome.internal_errors:
            if error.path in displays or error.path.startswith("<"):
                result.internal_errors.append(replace(error, path=shown(error.path)))
        for relative, display in sorted(displays.items()):
            report = outcome.files.get(relative)
            if report is None:
                continue
            result.problems.extend(replace(p, path=display) for p in report.problems)
            result.lines += report.lines
            if report.snippets:
                result.snippets[display] = dict(report.snippets)
            if report.masked:
                result.masked[display] = dict(report.masked)


def display_path(path: Path, cwd: Path) -> str:
    """Relative to the working directory when below it (as ruff prints), else absolute."""
    try:
        return path.relative_to(cwd).as_posix()
    except ValueError:
        return path.as_posix()


def _displayed(diagnostic: Diagnostic, shown: Callable[[str], str]) -> Diagnostic:
    related = tuple(
        Related(shown(item.path), item.span, item.message) for item in diagnostic.related
    )
    return replace(diagnostic, path=shown(diagnostic.path), related=related)


def _file_reports(
    results: Sequence[FileResult],
    diagnostics: Sequence[Diagnostic],
    read_lines: Callable[[str], list[str]],
) -> dict[str, FileReport]:
    """Each file's report data, with snippets cut to the lines findings start on.

    The file pass keeps the lines of its own findings, imports and directives; a project
    rule may report anywhere (a migration's operation, an API model's field), so its
    lines are read here: outputs show them, and fingerprints hash them.
    """
    lines_by_path: dict[str, set[int]] = {}
    for diagnostic in diagnostics:
        lines_by_path.setdefault(diagnostic.path, set()).add(diagnostic.span.start.line)
    reports = {}
    for file_result in results:
        wanted = lines_by_path.get(file_result.path, set())
        snippets = {n: t for n, t in file_result.snippets.items() if n in wanted}
        if wanted - snippets.keys():
            lines = read_lines(file_result.path)
            snippets.update(
                (n, lines[n - 1]) for n in wanted - snippets.keys() if 0 < n <= len(lines)
            )
        reports[file_result.path] = FileReport(
            snippets=snippets,
            masked={n: m for n, m in file_result.masked.items() if n in wanted},
            problems=file_result.problems,
            lines=file_result.lines,
        )
    return reports


def _unchanged(dependencies: Iterable[tuple[str, str]]) -> bool:
    for path, known in dependencies:
        try:
            current = content_digest(Path(path).read_bytes())
        except OSError:
            current = ""
        if current != known:
            return False
    return True


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
    for directory in _folders_below(settings.root, files):
        if any((directory / marker).is_file() for marker in _NESTED_PROJECT_MARKERS) and not (
            _in_package(directory)
        ):
            roots.add(directory)
            if (directory / "src").is_dir():
                roots.add(directory / "src")
    if not roots:
        return settings
    return replace(settings, src=(*settings.source_roots(), *sorted(roots)))


def _folders_below(root: Path, files: Iterable[Path]) -> list[Path]:
    """Every folder strictly below ``root`` that holds one of ``files`` or their folders."""
    prefix = str(root).rstrip(os.sep) + os.sep
    folders: set[str] = set()
    for path in files:
        folder = os.path.dirname(str(path))
        while folder.startswith(prefix) and folder not in folders:
            folders.add(folder)
            folder = os.path.dirname(folder)
    return [Path(folder) for folder in sorted(folders)]


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
