"""The per-file pass: read, decode, parse once, walk once, and return plain results.

One ``FilePass`` is built per worker process (rules, role globs and source roots are
compiled once) and then checks many files. Nothing a file contains can stop the pass:
unreadable or unparsable input becomes a BL001-style finding, and a rule that raises is
reported by name while the other rules go on.
"""

from __future__ import annotations

import ast
import io
import tokenize
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

import libcst as cst

from backlint.config import Settings
from backlint.diagnostics import Diagnostic, Edit, Fix, Position, RunProblem, Span
from backlint.directives import find_directives
from backlint.engine.context import FileContext, TextContext
from backlint.engine.positions import PositionIndex, import_spans
from backlint.engine.redaction import mask_snippets
from backlint.engine.results import MAX_FILE_BYTES
from backlint.engine.results import PYTHON as PYTHON
from backlint.engine.results import ConditionalDiagnostic as ConditionalDiagnostic
from backlint.engine.results import FileResult as FileResult
from backlint.engine.results import FileTask as FileTask
from backlint.engine.walker import Dispatch, Hook, walk
from backlint.index.collect import collect, import_table
from backlint.index.facts import FileFacts, ImportFact
from backlint.index.modules import module_name
from backlint.index.names import ImportTable
from backlint.index.persistence import is_persistence_module, persisted_names
from backlint.index.roles import RoleMatcher
from backlint.index.routes import RouteFinder, url_views
from backlint.index.testcode import classify_functions
from backlint.rules.base import (
    FileRule,
    ParseFailureRule,
    PendingReport,
    Rule,
    TextRule,
    node_hooks,
)
from backlint.rules.fixes import NodeFix
from backlint.source import SourceError, decode, split_lines

_STRING_NODES = (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)


class _ParseFailure(Exception):
    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


def _code_end(line: str) -> int:
    """The length of ``line`` without its trailing comment and whitespace."""
    if "#" in line:
        try:
            for token in tokenize.generate_tokens(io.StringIO(line.strip() + "\n").readline):
                if token.type == tokenize.COMMENT:
                    indent = len(line) - len(line.lstrip())
                    return len(line[: indent + token.start[1]].rstrip())
        except (tokenize.TokenError, SyntaxError):
            pass  # an unterminated string on this line: keep the whole line
    return len(line.rstrip())


def _syntax_message(detail: str | None) -> str:
    detail = (detail or "").strip()
    return "syntax error" if detail in ("", "invalid syntax") else f"syntax error: {detail}"


def _parse(text: str) -> tuple[cst.Module, ast.Module | None]:
    """Parse with ``ast`` first, then libcst.

    ``ast`` is written in C and rejects pathological nesting with a clean error, while
    libcst's native parser can overflow its stack (and kill the process) on the same
    input. Its tree also positions reported nodes cheaply (``positions.py``). A
    ``SyntaxError`` from ``ast`` alone is not final: the code may use syntax newer than
    the running Python, which libcst knows.
    """
    tree: ast.Module | None = None
    syntax_error: SyntaxError | None = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences and the like
            tree = ast.parse(text)
    except SyntaxError as error:
        if "too many nested" in (error.msg or ""):
            raise _ParseFailure(
                f"too deeply nested to analyze: {error.msg}", error.lineno or 1
            ) from None
        syntax_error = error
    except (RecursionError, MemoryError):
        raise _ParseFailure("too deeply nested to analyze") from None
    try:
        module = cst.parse_module(text)
    except RecursionError:
        raise _ParseFailure("too deeply nested to analyze") from None
    except Exception as error:
        # ``ast``'s message is the one Python users know; without it, libcst's own: a
        # syntax error, or a failure on valid code (``() if 0 else(lambda:())``).
        if syntax_error is not None:
            raise _ParseFailure(
                _syntax_message(syntax_error.msg),
                syntax_error.lineno or 1,
                max(syntax_error.offset or 1, 1),
            ) from None
        if isinstance(error, cst.ParserSyntaxError):
            raise _ParseFailure(
                _syntax_message(error.message), error.raw_line, error.raw_column + 1
            ) from None
        raise _ParseFailure(
            f"the libcst parser fails on it ({type(error).__name__}: {error})"
        ) from None
    return module, tree


def _url_views(relative: str, module: cst.Module, table: ImportTable) -> tuple[str, ...]:
    """The views a Django ``urls.py`` (or a ``urls/`` package module) routes to."""
    path = Path(relative)
    if path.name == "urls.py" or path.parent.name == "urls":
        return url_views(module, table)
    return ()


def _is_persistence(relative: str, roles: frozenset[str]) -> bool:
    """A ``repository`` file, or a module whose path names the persistence layer."""
    return "repository" in roles or is_persistence_module(relative)


def parse_file(
    path: Path, module: str, is_package: bool, data: bytes | None = None
) -> tuple[cst.Module, ImportTable] | None:
    """Read (unless ``data`` holds the text to use) and parse a file outside the per-file
    pass (for a module summary), with its import table only (no facts); None if it
    cannot be."""
    try:
        text = decode(path.read_bytes() if data is None else data).text
        tree, _ = _parse(text)
    except (OSError, SourceError, _ParseFailure):
        return None
    return tree, import_table(tree, module, is_package)


class FilePass:
    """Checks files one at a time with a fixed set of rules; one instance per worker."""

    def __init__(self, settings: Settings, rule_classes: Sequence[type[Rule]]) -> None:
        self.settings = settings
        self.roots = settings.source_roots()
        self.roles = RoleMatcher(settings.roles)
        self.rules: list[FileRule] = [
            cls(settings.options_for(cls.name)) for cls in rule_classes if issubclass(cls, FileRule)
        ]
        self._hooks: dict[int, list[tuple[str, str, Hook]]] = {
            id(rule): [
                (kind, type_name, getattr(rule, f"{kind}_{type_name}"))
                for kind, type_name in node_hooks(rule)
            ]
            for rule in self.rules
        }
        self._failure_rules = [rule for rule in self.rules if isinstance(rule, ParseFailureRule)]
        # Text rules need no per-file state: one instance each, FileRule or not.
        self.text_rules: list[TextRule] = [
            rule for rule in self.rules if isinstance(rule, TextRule)
        ] + [
            cls(settings.options_for(cls.name))
            for cls in rule_classes
            if issubclass(cls, TextRule) and not issubclass(cls, FileRule)
        ]

    def check(self, task: FileTask) -> FileResult:
        try:
            return self._check(task)
        except Exception as error:  # the last line of defence: report, never crash the run
            return FileResult(
                task.display,
                internal_errors=(
                    RunProblem(task.display, f"internal error: {type(error).__name__}: {error}"),
                ),
            )

    def _failure(
        self, task: FileTask, message: str, line: int, column: int, text: str = ""
    ) -> FileResult:
        diagnostics = []
        for rule in self._failure_rules:
            position = Position(max(line, 1), max(column, 1))
            diagnostics.append(
                rule.diagnostic(
                    task.display, Span(position, position), rule.describe_failure(message)
                )
            )
        lines = split_lines(text)
        snippets = {line: lines[line - 1]} if 0 < line <= len(lines) else {}
        return FileResult(task.display, diagnostics=tuple(diagnostics), snippets=snippets)

    def _check(self, task: FileTask) -> FileResult:
        if task.kind != PYTHON:
            return self._check_text(task)
        data = task.data
        if data is None:
            try:
                if task.path.stat().st_size > MAX_FILE_BYTES:
                    message = f"skipped: larger than {MAX_FILE_BYTES} bytes"
                    return FileResult(task.display, problems=(RunProblem(task.display, message),))
                data = task.path.read_bytes()
            except OSError as error:
                return self._failure(task, f"cannot read the file: {error.strerror}", 1, 1)
        try:
            text = decode(data).text
        except SourceError as error:
            return self._failure(task, str(error), error.line, error.column)
        try:
            module, tree = _parse(text)
        except _ParseFailure as failure:
            return self._failure(task, str(failure), failure.line, failure.column, text)
        return self._analyze(task, text, module, tree)

    def _check_text(self, task: FileTask) -> FileResult:
        """A configuration file or text fixture, read by the text rules of its kind."""
        try:
            if task.data is not None:
                text = task.data.decode("utf-8-sig")
            elif task.path.stat().st_size > MAX_FILE_BYTES:
                return FileResult(task.display)  # a recording too big to be a fixture
            else:
                text = task.path.read_bytes().decode("utf-8-sig")
        except OSError as error:
            problem = RunProblem(task.display, f"cannot read the file: {error.strerror}")
            return FileResult(task.display, problems=(problem,))
        except UnicodeDecodeError:
            return FileResult(task.display)  # binary data, not a text fixture
        context = TextContext(task.display, task.relative, task.kind, text)
        diagnostics: list[Diagnostic] = []
        secrets: list[Span] = []
        errors: list[RunProblem] = []
        for rule in self.text_rules:
            if task.kind not in rule.text_kinds:
                continue
            try:
                found = list(rule.check_text(context))
            except Exception as error:
                errors.append(
                    RunProblem(
                        task.display,
                        f"rule {rule.code} ({rule.name}) failed on this file: "
                        f"{type(error).__name__}: {error}",
                    )
                )
                continue
            for finding in found:
                diagnostics.append(rule.diagnostic(task.display, finding.span, finding.message))
                if finding.secret:
                    secrets.append(finding.span)
        directives = find_directives(text, python=False)
        lines = context.lines
        wanted = {d.span.start.line for d in diagnostics} | {d.line for d in directives}
        snippets = {n: lines[n - 1] for n in wanted if 0 < n <= len(lines)}
        masked = mask_snippets(snippets, secrets)
        return FileResult(
            task.display,
            diagnostics=tuple(diagnostics),
            directives=directives,
            snippets=snippets,
            masked=masked,
            internal_errors=tuple(errors),
            lines=len(lines),
        )

    def facts_only(self, path: Path, relative: str) -> FileFacts | None:
        """The facts of a file outside the run (no rules), or None if it cannot be parsed.

        The project pass asks for these when a finding depends on a module that was not
        among the files checked, as when pre-commit passes only the changed files.
        """
        try:
            text = decode(path.read_bytes()).text
            module, _ = _parse(text)
        except (OSError, SourceError, _ParseFailure):
            return None
        name, is_package = module_name(path, self.roots)
        collected = collect(module, name, is_package)
        assert collected.table is not None
        roles = self.roles.candidate_roles(relative)
        return FileFacts(
            path=relative,
            module=name,
            is_package=is_package,
            is_test=self.settings.pytest.is_test_path(relative),
            roles=roles,
            imports=(),
            bindings=tuple(collected.bindings),
            classes=tuple(collected.classes),
            star_imports=tuple(collected.star_imports),
            async_functions=tuple(collected.async_functions),
            packages=frozenset(collected.packages),
            lines=text.count("\n"),
            persisted=persisted_names(module, collected.table, _is_persistence(relative, roles)),
            replaces=tuple(collected.replaces),
        )

    def _analyze(
        self, task: FileTask, text: str, module: cst.Module, tree: ast.Module | None
    ) -> FileResult:
        name, is_package = module_name(task.path, self.roots)
        collected = collect(module, name, is_package)
        assert collected.table is not None
        context = FileContext(
            path=task.display,
            relative=task.relative,
            module=name,
            is_package=is_package,
            is_test=self.settings.pytest.is_test_path(task.relative),
            candidate_roles=self.roles.candidate_roles(task.relative),
            text=text,
            tree=module,
            names=collected.table,
            bindings={binding.name: binding for binding in collected.bindings},
        )
        handlers = RouteFinder(
            collected.table, context.bindings, name, "routes" in context.candidate_roles
        ).find(module)
        context.handlers = {id(handler.node): handler for handler in handlers}
        if context.is_test:
            naming = self.settings.pytest
            context.test_functions = classify_functions(
                module, collected.table, naming, collected=naming.collects(task.relative)
            )
        positions = PositionIndex(module, tree)
        internal_errors: list[RunProblem] = []
        reports = self._run_rules(context, internal_errors)
        positions.locate(_wanted_nodes(reports))
        diagnostics: list[Diagnostic] = []
        conditional: list[ConditionalDiagnostic] = []
        secrets: list[Span] = []
        rules_by_code = {rule.code: rule for rule in self.rules}
        for report in reports:
            diagnostic = self._diagnostic(
                task, report, rules_by_code[report.code], positions, context.lines
            )
            if report.secret:
                secrets.append(diagnostic.span)
            if report.conditions:
                conditional.append(ConditionalDiagnostic(diagnostic, report.conditions))
            else:
                diagnostics.append(diagnostic)
        directives = find_directives(text)
        lines = context.lines
        import_nodes = list({id(raw.node): raw.node for raw in collected.imports}.values())
        spans = import_spans(tree, import_nodes, lines) or {}
        imports = []
        for raw in collected.imports:
            span = spans.get(id(raw.node)) or positions.span(raw.node, raw.top_level)
            line_text = lines[span.start.line - 1] if span.start.line <= len(lines) else ""
            noqa = next((d for d in directives if d.line == span.start.line), None)
            imports.append(
                ImportFact(
                    raw.module,
                    raw.name,
                    raw.kind,
                    span,
                    line_text,
                    None if noqa is None else frozenset(m.code for m in noqa.codes),
                    late=raw.late,
                    function=raw.function,
                )
            )
        facts = FileFacts(
            path=task.display,
            module=name,
            is_package=is_package,
            is_test=context.is_test,
            roles=context.candidate_roles,
            imports=tuple(imports),
            bindings=tuple(collected.bindings),
            classes=tuple(collected.classes),
            star_imports=tuple(collected.star_imports),
            async_functions=tuple(collected.async_functions),
            packages=frozenset(collected.packages),
            lines=len(lines),
            routes=tuple(handler.fact for handler in handlers),
            url_views=_url_views(task.relative, module, collected.table),
            persisted=persisted_names(
                module, collected.table, _is_persistence(task.relative, context.candidate_roles)
            ),
            replaces=tuple(collected.replaces),
        )
        snippet_lines = {d.span.start.line for d in diagnostics}
        snippet_lines.update(c.diagnostic.span.start.line for c in conditional)
        # Project rules report at imports and BL002 at noqa comments: keep those lines too.
        snippet_lines.update(fact.span.start.line for fact in imports)
        snippet_lines.update(directive.line for directive in directives)
        snippets = {n: lines[n - 1] for n in snippet_lines if 0 < n <= len(lines)}
        masked = mask_snippets(snippets, secrets)
        return FileResult(
            task.display,
            diagnostics=tuple(diagnostics),
            conditional=tuple(conditional),
            facts=facts,
            directives=directives,
            snippets=snippets,
            masked=masked,
            internal_errors=tuple(internal_errors),
            lines=len(lines),
        )

    def _run_rules(self, context: FileContext, errors: list[RunProblem]) -> list[PendingReport]:
        active = [rule for rule in self.rules if self._applies(rule, context, errors)]
        dispatch = Dispatch()
        for rule in active:
            for kind, type_name, hook in self._hooks[id(rule)]:
                dispatch.add(kind, type_name, hook, rule)
        failed: set[int] = set()

        def crashed(rule: object, error: Exception) -> None:
            failed.add(id(rule))
            dispatch.disable(rule)
            assert isinstance(rule, Rule)
            errors.append(
                RunProblem(
                    context.path,
                    f"rule {rule.code} ({rule.name}) failed on this file: "
                    f"{type(error).__name__}: {error}",
                )
            )

        for rule in active:
            try:
                rule.begin_file(context)
            except Exception as error:
                crashed(rule, error)

        def set_top_level(index: int) -> None:
            context.top_level = index

        if dispatch:
            walk(
                context.tree,
                dispatch,
                set_top_level,
                lambda hook, error: crashed(dispatch.owner(hook), error),
            )
        context.top_level = None
        reports: list[PendingReport] = []
        for rule in active:
            if id(rule) not in failed:
                try:
                    rule.end_file()
                except Exception as error:
                    crashed(rule, error)
            taken = rule.take_reports()
            if id(rule) not in failed:
                reports.extend(taken)
        return reports

    @staticmethod
    def _applies(rule: FileRule, context: FileContext, errors: list[RunProblem]) -> bool:
        if isinstance(rule, ParseFailureRule):
            return False
        try:
            return rule.applies_to(context)
        except Exception as error:
            errors.append(
                RunProblem(context.path, f"rule {rule.code} ({rule.name}) failed: {error}")
            )
            return False

    @staticmethod
    def _diagnostic(
        task: FileTask,
        report: PendingReport,
        rule: FileRule,
        positions: PositionIndex,
        lines: Sequence[str],
    ) -> Diagnostic:
        noqa_line = 0
        if report.span is not None:
            span = report.span
        elif report.node is not None:
            span = positions.span(report.node, report.top_level)
            if report.end_node is not None:
                span = Span(span.start, positions.span(report.end_node, report.top_level).end)
            if report.first_line and span.end.line != span.start.line:
                line = span.start.line
                text = lines[line - 1] if line <= len(lines) else ""
                span = Span(span.start, Position(line, _code_end(text) + 1))
            # A finding on a multi-line string is silenced on the string's closing line.
            if isinstance(report.node, _STRING_NODES) and span.end.line != span.start.line:
                noqa_line = span.end.line
        else:  # pragma: no cover - report() always sets one of them
            span = Span(Position(1, 1), Position(1, 1))
        fix = report.fix
        if isinstance(fix, NodeFix):
            fix = _positioned_fix(fix, positions)
        return rule.diagnostic(
            task.display,
            span,
            report.message,
            fix=fix,
            related=report.related,
            noqa_line=noqa_line,
        )


def _wanted_nodes(
    reports: Sequence[PendingReport],
) -> Iterator[tuple[cst.CSTNode, int | None]]:
    """Every node a finding or its fix needs the range of, with its top-level statement:
    located together, so no statement is rendered twice."""
    for report in reports:
        for node in (report.node, report.end_node):
            if node is not None:
                yield node, report.top_level
        if isinstance(report.fix, NodeFix):
            for edit in report.fix.edits:
                for node in (edit.node, edit.through):
                    if node is not None:
                        yield node, edit.top_level


def _positioned_fix(fix: NodeFix, positions: PositionIndex) -> Fix:
    """The fix with each node-anchored edit turned into a range of the source."""
    edits = []
    for edit in fix.edits:
        span = positions.span(edit.node, edit.top_level)
        if edit.through is not None:
            span = Span(span.start, positions.span(edit.through, edit.top_level).end)
        if edit.mode == "before":
            span = Span(span.start, span.start)
        elif edit.mode == "after":
            span = Span(span.end, span.end)
        elif edit.mode == "lines":
            # From the start of the first line to the start of the line after the last.
            end = span.end if span.end.column == 1 else Position(span.end.line + 1, 1)
            span = Span(Position(span.start.line, 1), end)
        edits.append(Edit(span, edit.content))
    return Fix(fix.message, tuple(edits), fix.applicability)
