"""The command line: parse flags, call the application, print the report.

Exit status: 0 no findings, 1 findings, 2 usage, configuration or internal error,
130 interrupted (Ctrl-C).
Results go to stdout (or ``--output-file``); messages and progress go to stderr.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from backlint import __version__
from backlint.config import OUTPUT_FORMATS, ConfigError
from backlint.ruledocs import rule_text, rules_json, rules_list, rules_table
from backlint.rules.catalogue import catalogue, find_rule

# What only ``check`` needs is imported by ``check``: ``--version`` and ``backlint rule``
# start without it (and nothing before the first parsed file imports libcst).
if TYPE_CHECKING:
    from backlint.application import CheckResult
    from backlint.fixes.run import FixOutcome

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
# 128 + SIGINT: what shells report for a command stopped by Ctrl-C.
EXIT_INTERRUPTED = 130

# Below this many files a progress line would only flicker.
_PROGRESS_MIN_FILES = 200
# Indexing fewer files than this for a named file's cross-file findings takes a moment
# only: not worth a line on stderr.
_INDEXED_NOTE_MIN_FILES = 100


def _selectors(values: tuple[str, ...]) -> tuple[str, ...]:
    """``--select A,B --select C`` → ``(A, B, C)``."""
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


class _ProgressLine:
    """``checked N/M files`` on stderr, rewritten in place, only on a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        if self.enabled and total >= _PROGRESS_MIN_FILES:
            self.shown = True  # first: a Ctrl-C while it is written still clears the line
            click.echo(f"\rbacklint: checked {done}/{total} files", nl=False, err=True)

    def clear(self) -> None:
        if self.shown:
            click.echo("\r\033[K", nl=False, err=True)


class _Interruptible(click.Group):
    """Ctrl-C during a command exits 130 with one line, not click's "Aborted!" and 1.

    The interruption unwinds the command first (``finally`` blocks run, the file pass
    stops its workers), so nothing is left behind.
    """

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("backlint: interrupted", err=True)
            # Everything worth keeping was done while the interruption unwound (cache
            # entries whole, temporary files removed). Leave now: joining the killed
            # pool's threads at exit could wait for ever.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(EXIT_INTERRUPTED)


@click.group(cls=_Interruptible, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="backlint")
def main() -> None:
    """backlint: a linter for Python backend services."""


def _workers_and_cache(command: Callable[..., None]) -> Callable[..., None]:
    """The options every command that analyses a project shares: workers and cache."""
    for option in reversed(
        (
            click.option(
                "--jobs", "-j", type=click.IntRange(min=0), default=0, help="Workers (0: CPUs)."
            ),
            click.option(
                "--cache-dir",
                type=click.Path(path_type=Path),
                help="Where the cache lives (also BACKLINT_CACHE_DIR; default: .backlint_cache).",
            ),
            click.option("--no-cache", is_flag=True, help="Read and write no cache."),
        )
    ):
        command = option(command)
    return command


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--select", multiple=True, help="Rules to enable: codes, prefixes, names or ALL.")
@click.option("--extend-select", multiple=True, help="Rules to enable on top of the selection.")
@click.option("--ignore", multiple=True, help="Rules to disable: codes, prefixes or names.")
@click.option("--config", type=click.Path(path_type=Path), help="pyproject.toml or backlint.toml.")
@click.option("--output-format", type=click.Choice(OUTPUT_FORMATS), help="Default: full.")
@click.option("--output-file", "-o", type=click.Path(path_type=Path), help="Write results here.")
@click.option("--stdin-filename", help="Read source from stdin and report it as this path.")
@click.option("--force-exclude", is_flag=True, help="Apply excludes to paths given explicitly.")
@click.option(
    "--include-low-confidence",
    is_flag=True,
    help="Also report findings that rest on a heuristic (e.g. an unresolved router).",
)
@click.option(
    "--preview/--no-preview",
    default=None,
    help="Run preview rules (below the precision bar) as if they were on by default.",
)
@click.option(
    "--baseline",
    type=click.Path(path_type=Path),
    help="Report only findings that are not in this baseline file.",
)
@click.option(
    "--new-from-rev",
    metavar="REV",
    help="Report only findings that are new since git revision REV (working tree included).",
)
@click.option(
    "--write-baseline",
    type=click.Path(path_type=Path),
    help="Record the current findings in this baseline file and exit 0.",
)
@click.option(
    "--add-noqa",
    is_flag=True,
    help="Add `# noqa: CODE` comments on the lines with findings, then exit 0.",
)
@click.option("--fix/--no-fix", default=None, help="Apply safe automatic fixes.")
@click.option(
    "--unsafe-fixes/--no-unsafe-fixes",
    default=None,
    help="Also apply (and offer) fixes that may change behaviour.",
)
@click.option("--fix-only", is_flag=True, help="Apply fixes, do not report what remains.")
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff; write nothing.")
@click.option("--show-fixes", is_flag=True, help="List the fixes applied, per file.")
@click.option(
    "--exit-non-zero-on-fix",
    is_flag=True,
    help="Exit with 1 when fixes were applied, even if no finding remains.",
)
@click.option("--exit-zero", is_flag=True, help="Exit with 0 even when there are findings.")
@click.option("--statistics", is_flag=True, help="Print counts per rule instead of findings.")
@click.option("--quiet", "-q", is_flag=True, help="Print findings only, no summary.")
@_workers_and_cache
def check(
    paths: tuple[Path, ...],
    select: tuple[str, ...],
    extend_select: tuple[str, ...],
    ignore: tuple[str, ...],
    config: Path | None,
    output_format: str | None,
    output_file: Path | None,
    stdin_filename: str | None,
    force_exclude: bool,
    include_low_confidence: bool,
    preview: bool | None,
    baseline: Path | None,
    new_from_rev: str | None,
    write_baseline: Path | None,
    add_noqa: bool,
    fix: bool | None,
    unsafe_fixes: bool | None,
    fix_only: bool,
    diff: bool,
    show_fixes: bool,
    exit_non_zero_on_fix: bool,
    exit_zero: bool,
    statistics: bool,
    quiet: bool,
    jobs: int,
    cache_dir: Path | None,
    no_cache: bool,
) -> None:
    """Check PATHS (default: the current directory); `-` reads stdin."""
    from backlint import add_noqa as noqa_writer
    from backlint import baseline as baselines
    from backlint.application import CheckRequest, change_scope, open_workspace, stdin_source
    from backlint.fixes.run import fix_until_stable
    from backlint.output import render, render_statistics
    from backlint.output.base import Report
    from backlint.output.markdown import github_links

    read_stdin = stdin_filename is not None or paths == (Path("-"),)
    request = CheckRequest(
        paths=paths or (Path("."),),
        cwd=Path.cwd(),
        config=config,
        select=_selectors(select) if select else None,
        extend_select=_selectors(extend_select),
        ignore=_selectors(ignore),
        stdin_filename=stdin_filename,
        stdin_data=sys.stdin.buffer.read() if read_stdin else None,
        force_exclude=force_exclude,
        include_low_confidence=include_low_confidence,
        preview=preview,
        jobs=jobs,
        use_cache=not no_cache,
        cache_dir=cache_dir,
        new_from_rev=new_from_rev,
    )
    progress = _ProgressLine(not quiet and sys.stderr.isatty())
    fixed: FixOutcome | None = None
    try:
        workspace = open_workspace(request)
        with change_scope(workspace) as change:
            result = workspace.check(
                request.paths, stdin_source(request, workspace), progress=progress
            )
            unsafe = result.settings.unsafe_fixes if unsafe_fixes is None else unsafe_fixes
            fixing = diff or fix_only or (result.settings.fix if fix is None else fix)
            if fixing:
                if add_noqa or write_baseline is not None:
                    other = "--add-noqa" if add_noqa else "--write-baseline"
                    raise click.UsageError(f"{other} cannot be combined with fixing")
                fixed = fix_until_stable(request, result, unsafe, workspace)
                result = fixed.result
            if change is not None:
                result.diagnostics = change.new_findings(result, request.cwd)
    except ConfigError as error:
        click.echo(f"backlint: error: {error}", err=True)
        sys.exit(EXIT_ERROR)
    finally:
        progress.clear()
    _print_problems(result, quiet)
    fail_on_fix = exit_non_zero_on_fix and fixed is not None and fixed.fixed_count > 0
    write_failed = False
    if fixed is not None:
        write_failed = _finish_fixing(
            fixed, diff=diff, show=show_fixes, fix_only=fix_only, quiet=quiet
        )
        if diff:
            sys.exit(EXIT_FINDINGS if fixed.changed or fixed.stdin_changed else EXIT_CLEAN)
        if fix_only:
            sys.exit(EXIT_ERROR if write_failed else EXIT_FINDINGS if fail_on_fix else EXIT_CLEAN)
    fmt = output_format or result.settings.output_format or "full"
    report = Report(
        diagnostics=result.diagnostics,
        rules=catalogue(),
        root=result.report_root,
        cwd=request.cwd,
        version=__version__,
        snippets=result.snippets,
        masked=result.masked,
        quiet=quiet,
        unsafe_fixes=unsafe,
        fixed=None if fixed is None else fixed.fixed_count,
        enabled=frozenset(
            code
            for code, rule in workspace.enabled.items()
            if change is not None or not rule.change_scoped
        ),
        new_from_rev=result.settings.new_from_rev,
        links=github_links(os.environ),
    )
    try:
        if write_baseline is not None:
            count = baselines.write_baseline(write_baseline, report)
            click.echo(f"backlint: recorded {count} findings in {write_baseline}", err=True)
            sys.exit(EXIT_CLEAN)
        baseline = baseline or result.settings.baseline
        if baseline is not None:
            known = baselines.read_baseline(baseline)
            report = replace(report, diagnostics=baselines.new_findings(report, known))
    except ConfigError as error:
        click.echo(f"backlint: error: {error}", err=True)
        sys.exit(EXIT_ERROR)
    if add_noqa:
        written = noqa_writer.add_noqa(report.diagnostics, request.cwd)
        lines = "line" if written.skipped == 1 else "lines"
        skipped = (
            f" ({written.skipped} {lines} could not take a comment)" if written.skipped else ""
        )
        click.echo(f"Added {written.added} noqa directives.{skipped}", err=True)
        sys.exit(EXIT_CLEAN)
    text = render_statistics(report) if statistics else render(fmt, report)
    if fixed is not None and fixed.stdin_text is not None:
        # The fixed source was the output, as ruff does with stdin: findings go to stderr.
        click.echo(text, nl=False, err=True)
    else:
        _write(text, output_file)
    if result.internal_errors or write_failed:
        sys.exit(EXIT_ERROR)
    findings = bool(report.diagnostics) and not exit_zero
    sys.exit(EXIT_FINDINGS if findings or fail_on_fix else EXIT_CLEAN)


def _finish_fixing(
    fixed: FixOutcome, *, diff: bool, show: bool, fix_only: bool, quiet: bool
) -> bool:
    """Write the fixes (or print them as a diff) and say what was done, on stderr:
    the list with ``--show-fixes``, a count with ``--diff`` and ``--fix-only`` (which
    report nothing else) unless ``--quiet``.

    Returns whether a fixed file could not be written.
    """
    from backlint.fixes.run import MAX_ROUNDS, fixes_by_file, unified_diffs, write_fixed

    for problem in fixed.problems:
        click.echo(f"backlint: warning: {problem.path}: {problem.message}", err=True)
    if not fixed.converged:
        click.echo(
            f"backlint: warning: fixes still changed files after {MAX_ROUNDS} rounds; "
            "what was fixed so far is kept; run again to continue",
            err=True,
        )
    count = fixed.fixed_count
    findings = f"{count} finding{'' if count == 1 else 's'}"
    if diff:
        click.echo(unified_diffs(fixed) + fixed.stdin_diff(), nl=False)
        if not quiet:
            click.echo(f"Would fix {findings}.", err=True)
        return False
    if fixed.stdin_text is not None:
        click.echo(fixed.stdin_text, nl=False)
    failures = write_fixed(fixed)
    for problem in failures:
        click.echo(f"backlint: error: {problem.path}: {problem.message}", err=True)
    if show and count:
        click.echo(f"Fixed {findings}:", err=True)
        for path, lines in fixes_by_file(fixed).items():
            click.echo(f"- {path}:", err=True)
            for line in lines:
                click.echo(f"    {line}", err=True)
    elif show or (fix_only and not quiet):
        click.echo(f"Fixed {findings}." if count else "No findings were fixed.", err=True)
    return bool(failures)


def _print_problems(result: CheckResult, quiet: bool) -> None:
    if not quiet:
        for problem in result.problems:
            click.echo(f"backlint: warning: {problem.path}: {problem.message}", err=True)
        if result.indexed >= _INDEXED_NOTE_MIN_FILES:
            click.echo(
                f"backlint: indexed {result.indexed} other files of the project for "
                "cross-file findings (cached for the next run)",
                err=True,
            )
    for error in result.internal_errors:
        click.echo(f"backlint: error: {error.path}: {error.message}", err=True)


def _write(text: str, output_file: Path | None) -> None:
    if output_file is None:
        click.echo(text, nl=False)
        return
    from backlint.source import write_output

    try:
        write_output(output_file, text)
    except OSError as error:
        click.echo(f"backlint: error: cannot write {output_file}: {error.strerror}", err=True)
        sys.exit(EXIT_ERROR)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "dot", "mermaid", "svg"]),
    default="json",
    show_default=True,
    help="svg needs Graphviz's `dot` on PATH.",
)
@click.option("--output-file", "-o", type=click.Path(path_type=Path), help="Write the graph here.")
@click.option("--cycles", is_flag=True, help="Only modules on import cycles (runtime imports).")
@click.option("--layers", is_flag=True, help="Group modules by role; BL421 edges in red.")
@click.option(
    "--granularity",
    type=click.Choice(["module", "package"]),
    help="Fold modules into packages (default: module, folded above 300 nodes).",
)
@click.option(
    "--depth", type=int, help="Fold into packages of this many name parts (implies package)."
)
@click.option("--focus", metavar="MODULE", help="Only MODULE and its neighbourhood.")
@click.option("--radius", type=int, help="How many imports away from --focus (default: 1).")
@click.option("--config", type=click.Path(path_type=Path), help="pyproject.toml or backlint.toml.")
@_workers_and_cache
def graph(
    paths: tuple[Path, ...],
    fmt: str,
    output_file: Path | None,
    cycles: bool,
    layers: bool,
    granularity: str | None,
    depth: int | None,
    focus: str | None,
    radius: int | None,
    config: Path | None,
    jobs: int,
    cache_dir: Path | None,
    no_cache: bool,
) -> None:
    """Draw the import graph of PATHS (default: the current directory)."""
    from backlint.application import CheckRequest
    from backlint.graph.fold import GraphError
    from backlint.graph.render import RenderError, render
    from backlint.graph.usecase import GraphRequest, run_graph

    request = GraphRequest(
        CheckRequest(
            paths=paths or (Path("."),),
            cwd=Path.cwd(),
            config=config,
            jobs=jobs,
            use_cache=not no_cache,
            cache_dir=cache_dir,
        ),
        cycles=cycles,
        layers=layers,
        granularity=granularity,
        depth=depth,
        focus=focus,
        radius=radius,
    )
    progress = _ProgressLine(sys.stderr.isatty())
    try:
        outcome = run_graph(request, progress)
        text = render(outcome.graph, fmt, layers)
    except (ConfigError, GraphError, RenderError) as error:
        progress.clear()
        click.echo(f"backlint: error: {error}", err=True)
        sys.exit(EXIT_ERROR)
    progress.clear()
    for problem in outcome.problems:
        click.echo(f"backlint: warning: {problem.path}: {problem.message}", err=True)
    for note in outcome.notes:
        click.echo(f"backlint: {note}", err=True)
    _write(text, output_file)
    for internal in outcome.internal_errors:
        click.echo(f"backlint: error: {internal.path}: {internal.message}", err=True)
    if outcome.internal_errors:
        sys.exit(EXIT_ERROR)


@main.command()
def server() -> None:
    """Run the language server on stdin/stdout (for editors)."""
    from backlint.lsp import serve

    serve()


@main.command()
@click.option("--config", type=click.Path(path_type=Path), help="pyproject.toml or backlint.toml.")
@click.option(
    "--cache-dir",
    type=click.Path(path_type=Path),
    help="The cache to remove (also BACKLINT_CACHE_DIR; default: .backlint_cache).",
)
def clean(config: Path | None, cache_dir: Path | None) -> None:
    """Remove the cache of the project in the current directory."""
    from backlint.application import CheckRequest, workspace_cache_directory
    from backlint.cache.store import NotACache, remove_cache

    request = CheckRequest(
        paths=(), cwd=Path.cwd(), config=config, use_cache=True, cache_dir=cache_dir
    )
    try:
        directory = workspace_cache_directory(request)
        removed = directory is not None and remove_cache(directory)
    except ConfigError as error:
        click.echo(f"backlint: error: {error}", err=True)
        sys.exit(EXIT_ERROR)
    except (NotACache, OSError) as error:
        click.echo(f"backlint: error: cannot remove the cache: {error}", err=True)
        sys.exit(EXIT_ERROR)
    click.echo(f"Removed {directory}" if removed else "No cache to remove.", err=True)


@main.command()
@click.argument("rule", required=False)
@click.option("--all", "show_all", is_flag=True, help="List every rule.")
@click.option(
    "--output-format",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    help="How to print rules.",
)
def rule(rule: str | None, show_all: bool, output_format: str) -> None:
    """Explain RULE (a code or a name), or list every rule with --all."""
    rules = catalogue()
    if show_all:
        if output_format == "json":
            click.echo(rules_json(rules.values()), nl=False)
        elif output_format == "markdown":
            click.echo(rules_table(rules.values()), nl=False)
        else:
            click.echo(rules_list(rules.values()), nl=False)
        return
    if rule is None:
        raise click.UsageError("give a rule code or name, or --all")
    found = find_rule(rule)
    if found is None:
        click.echo(f"backlint: error: unknown rule `{rule}`", err=True)
        sys.exit(EXIT_ERROR)
    if output_format == "json":
        click.echo(rules_json([found]), nl=False)
    else:
        click.echo(rule_text(found), nl=False)
