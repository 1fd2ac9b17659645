"""What a rule is: metadata, documentation, examples, options, and the hooks the engine calls.

A rule is one class in one module under ``backlint.rules``. The engine finds rules through
the generated catalogue (``catalogue.py``, written from the classes ``registry.py`` finds
by walking the package) and never refers to a rule by name, so adding a rule means adding
a file and regenerating the catalogue.

Two kinds exist:

* ``FileRule`` sees one parsed file at a time. It declares ``visit_<Node>`` and
  ``leave_<Node>`` methods for the libcst node types it cares about; the engine walks each
  file once and calls every interested rule (one batched traversal, as in Fixit). Rules
  are instantiated once per worker process and reset with ``begin_file`` for every file.
* ``ProjectRule`` runs once per run in the parent, over the project index built from the
  facts of every file (import graph, bindings, roles).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Protocol

import libcst as cst

from backlint.diagnostics import Applicability, Diagnostic, Fix, Related, Severity, Span
from backlint.rules.fixes import EditMode, NodeEdit, NodeFix
from backlint.rules.metadata import Option as Option  # re-exported for rule modules
from backlint.rules.metadata import OptionValue as OptionValue
from backlint.rules.metadata import rule_url

if TYPE_CHECKING:
    from backlint.directives import CodeMention, Directive
    from backlint.engine.context import FileContext, TextContext
    from backlint.index.project import ProjectIndex


@dataclass(frozen=True)
class Example:
    """A snippet a rule must flag (``invalid``) or leave alone (``valid``).

    ``path`` places the snippet in a project, which decides its role and whether it is
    test code. ``files`` adds other modules for rules that look across files; ``base``
    gives the files at the base revision for change-scoped rules. ``fixed``
    is what ``--fix --unsafe-fixes`` makes of an invalid example (Fixit's
    ``expected_replacement``); the example tests apply the rule's fixes and compare.
    """

    code: str
    path: str = "app/services/example.py"
    files: tuple[tuple[str, str], ...] = ()
    expect: int | None = None  # for invalid examples: exact number of findings, if given
    fixed: str | None = None
    # The project at the base revision, for rules that look at a change (``--new-from-rev``):
    # the example tests commit these files in a git repository, write ``path``/``files``
    # over them and check with ``--new-from-rev HEAD``. None: not a change.
    base: tuple[tuple[str, str], ...] | None = None

    @property
    def source(self) -> str:
        return textwrap.dedent(self.code).lstrip("\n")

    @property
    def fixed_source(self) -> str | None:
        return None if self.fixed is None else textwrap.dedent(self.fixed).lstrip("\n")


ExampleLike = Example | str


class Condition(Protocol):
    """A fact a file cannot decide alone, checked in the project pass.

    A per-file rule attaches conditions to a finding when the answer depends on another
    module, e.g. "is this imported name a logger". The finding is kept only if every
    condition holds. Conditions must be picklable (plain dataclasses).

    A condition may also define ``refine(message: str, project: ProjectIndex) -> str`` to
    complete the message with what the project pass learned (where an imported model is
    defined); it is called once the finding is kept. And it may define
    ``confidence(project: ProjectIndex) -> str``: ``"low"`` when it only holds through
    a heuristic fallback, which hides the finding unless ``include-low-confidence`` is set.
    """

    def holds(self, project: ProjectIndex) -> bool: ...


@dataclass(frozen=True)
class PendingReport:
    """A finding whose position is not resolved yet; the engine positions it after the walk."""

    node: cst.CSTNode | None
    span: Span | None
    message: str
    fix: Fix | NodeFix | None
    related: tuple[Related, ...]
    conditions: tuple[Condition, ...]
    code: str
    top_level: int | None = None  # the top-level statement holding ``node``, if known
    end_node: cst.CSTNode | None = None  # the finding ends where this node ends
    first_line: bool = False  # cut the range at the end of its first line
    secret: bool = False  # the range holds a secret: masked in every source line shown


class Rule:
    """Metadata and documentation shared by every rule.

    Subclasses set the class attributes; the class docstring is the rule's documentation
    in ruff's shape (what it does / why is this bad / example / how to fix) written in
    Markdown. ``summary`` is one sentence; ``fix_text`` is the suggestion shown with every
    finding.
    """

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    fix_text: ClassVar[str]
    severity: ClassVar[Severity]
    default_enabled: ClassVar[bool] = True
    preview: ClassVar[bool] = False
    # Enabled whatever the selection, unless ignored explicitly (syntax errors, like ruff).
    always_enabled: ClassVar[bool] = False
    tags: ClassVar[tuple[str, ...]] = ()
    options: ClassVar[tuple[Option, ...]] = ()
    valid: ClassVar[tuple[ExampleLike, ...]] = ()
    invalid: ClassVar[tuple[ExampleLike, ...]] = ()
    # Roles (rules.md §2) the rule applies to; None means every file.
    roles: ClassVar[frozenset[str] | None] = None
    # Whether the rule also looks at test code.
    include_tests: ClassVar[bool] = True
    # Which automatic fixes it offers, in words (``"safe"``, ``"unsafe"``, ``"safe or
    # unsafe"``); empty when it only suggests. Shown in the docs and ``backlint rule``.
    autofix: ClassVar[str] = ""
    # Runs only when the run is about a change (``--new-from-rev``): a project rule that
    # compares ``project.change.base`` with the project (see ``index/change.py``).
    change_scoped: ClassVar[bool] = False

    def __init__(self, settings: Mapping[str, OptionValue] | None = None) -> None:
        values = {option.name: option.default for option in self.options}
        values.update(settings or {})
        self._settings = values

    def diagnostic(
        self,
        path: str,
        span: Span,
        message: str,
        *,
        help: str | None = None,
        fix: Fix | None = None,
        related: Iterable[Related] = (),
        noqa_line: int = 0,
        waiver_lines: tuple[int, ...] = (),
    ) -> Diagnostic:
        """A finding of this rule: its code, name, severity and fix text filled in."""
        return Diagnostic(
            path=path,
            span=span,
            code=self.code,
            name=self.name,
            message=message,
            severity=self.severity,
            help=self.fix_text if help is None else help,
            fix=fix,
            related=tuple(related),
            noqa_line=noqa_line,
            waiver_lines=waiver_lines,
        )

    def option(self, name: str) -> OptionValue:
        return self._settings[name]

    def str_list_option(self, name: str) -> tuple[str, ...]:
        value = self._settings[name]
        return value if isinstance(value, tuple) else ()

    @classmethod
    def documentation(cls) -> str:
        return textwrap.dedent(cls.__doc__ or "").strip()

    @classmethod
    def examples(cls, kind: str) -> Iterator[Example]:
        for example in cls.valid if kind == "valid" else cls.invalid:
            yield example if isinstance(example, Example) else Example(example)

    @classmethod
    def url(cls) -> str:
        return rule_url(cls.code)


class FileRule(Rule):
    """A rule that looks at one file at a time through ``visit_``/``leave_`` methods."""

    def __init__(self, settings: Mapping[str, OptionValue] | None = None) -> None:
        super().__init__(settings)
        self.context: FileContext | None = None
        self._reports: list[PendingReport] = []

    @property
    def ctx(self) -> FileContext:
        if self.context is None:  # pragma: no cover - engine invariant
            raise RuntimeError("rule used outside of a file")
        return self.context

    def applies_to(self, ctx: FileContext) -> bool:
        """Whether the rule runs on this file; by default from ``roles`` and ``include_tests``."""
        if ctx.is_test and not self.include_tests:
            return False
        return self.roles is None or bool(self.roles & ctx.candidate_roles)

    def begin_file(self, ctx: FileContext) -> None:
        """Reset per-file state; override to prepare more, but call ``super()``."""
        self.context = ctx
        self._reports = []

    def end_file(self) -> None:
        """Called after the walk; override to report what needs the whole file."""

    def take_reports(self) -> list[PendingReport]:
        reports, self._reports = self._reports, []
        self.context = None
        return reports

    def report(
        self,
        node: cst.CSTNode,
        message: str,
        *,
        fix: Fix | NodeFix | None = None,
        related: Iterable[Related] = (),
        conditions: Iterable[Condition] = (),
        end_node: cst.CSTNode | None = None,
        first_line: bool = False,
        secret: bool = False,
    ) -> None:
        """Report a finding anchored on ``node``.

        It spans ``node`` unless ``end_node`` says where it ends, or ``first_line`` cuts
        it at the end of the first line (for a compound statement's header). ``secret``
        says the range holds a secret value: the engine masks it (all but a short head, see
        ``engine.redaction``) in the source lines any output shows. The message must not hold more
        than ``engine.redaction.shown(value)`` either. ``fix`` is an automatic fix, built
        with ``self.fix(...)`` from ``self.replace``/``insert_before``/``insert_after``.
        """
        self._reports.append(
            PendingReport(
                node,
                None,
                message,
                fix,
                tuple(related),
                tuple(conditions),
                self.code,
                self.ctx.top_level,
                end_node,
                first_line,
                secret,
            )
        )

    def fix(
        self, message: str, *edits: NodeEdit | None, applicability: Applicability
    ) -> NodeFix | None:
        """An automatic fix made of ``edits``; None if any edit could not be built."""
        present = tuple(edit for edit in edits if edit is not None)
        if not present or len(present) != len(edits):
            return None
        return NodeFix(message, present, applicability)

    def replace(self, node: cst.CSTNode, content: str) -> NodeEdit:
        """Replace ``node`` (in the statement being walked) with ``content``."""
        return self._edit(node, content, "replace")

    def insert_before(self, node: cst.CSTNode, content: str) -> NodeEdit:
        return self._edit(node, content, "before")

    def insert_after(self, node: cst.CSTNode, content: str) -> NodeEdit:
        return self._edit(node, content, "after")

    def remove_lines(self, node: cst.CSTNode) -> NodeEdit:
        """Remove the lines ``node`` covers (it must start and end its lines: a
        decorator, a statement of its own)."""
        return self._edit(node, "", "lines")

    def _edit(self, node: cst.CSTNode, content: str, mode: EditMode) -> NodeEdit:
        return NodeEdit(node, content, mode, self.ctx.top_level)

    def report_span(
        self,
        span: Span,
        message: str,
        *,
        fix: Fix | None = None,
        conditions: Iterable[Condition] = (),
        secret: bool = False,
    ) -> None:
        """Report a finding at a position the rule computed itself."""
        self._reports.append(
            PendingReport(None, span, message, fix, (), tuple(conditions), self.code, secret=secret)
        )


@dataclass(frozen=True)
class TextFinding:
    """A finding in a non-Python file, at a range the rule computed from the text."""

    span: Span
    message: str
    secret: bool = False  # the range holds a secret: masked in every source line shown


class TextRule(Rule):
    """A rule that also (or only) reads non-Python files: pytest configuration files or
    text fixtures under test directories (``index/textfiles.py``).

    ``text_kinds`` names the kinds it reads; the engine discovers those files only when
    such a rule is enabled, honours the excludes, applies ``# noqa`` comments on the
    reported line (in formats that have ``#`` comments) and reports through every output
    format like any other finding. A class can be both a ``FileRule`` and a ``TextRule``.
    """

    text_kinds: ClassVar[frozenset[str]] = frozenset()

    def check_text(self, ctx: TextContext) -> Iterable[TextFinding]:
        raise NotImplementedError


class ParseFailureRule(FileRule):
    """A rule that reports files that could not be read or parsed (the engine calls it)."""

    def describe_failure(self, reason: str) -> str:
        return reason


class SuppressionAuditRule(Rule):
    """A rule that reports suppression comments that silenced nothing (run after all rules)."""

    def check_unused(self, path: str, code: str, known: bool, span: Span) -> Diagnostic | None:
        raise NotImplementedError

    def removal_fix(
        self, directive: Directive, unused: Sequence[CodeMention], *, run_dependent: bool
    ) -> Fix | None:
        """The fix of the findings on ``directive``: remove its ``unused`` codes.

        ``run_dependent`` says some of them belong to project rules, whose findings
        depend on which files the run checked.
        """
        return None


class ProjectRule(Rule):
    """A rule that runs once per run over the project index."""

    def check_project(self, project: ProjectIndex) -> Iterable[Diagnostic]:
        raise NotImplementedError


_VISITOR = re.compile(r"^(visit|leave)_([A-Z]\w*)$")


def node_hooks(rule: FileRule) -> Iterator[tuple[str, str]]:
    """Yield ``(kind, node type name)`` for each ``visit_X``/``leave_X`` method of a rule."""
    for attribute in dir(type(rule)):
        match = _VISITOR.match(attribute)
        if match:
            yield match.group(1), match.group(2)
