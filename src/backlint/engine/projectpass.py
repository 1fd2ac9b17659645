"""The project pass: join the per-file results, run cross-file rules, apply suppressions.

Runs once per run in the parent process. Everything here is order-independent: inputs
are sorted before use and the output is sorted, so ``--jobs`` never changes a result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import pathspec

from backlint.config import Settings
from backlint.diagnostics import Diagnostic, RunProblem
from backlint.directives import CodeMention, Directive, is_backlint_code
from backlint.engine.results import FileResult
from backlint.index.change import ChangeSet
from backlint.index.project import ModuleLoader, ModuleParser, ProjectIndex, SummaryStore
from backlint.rules.base import ProjectRule, Rule, SuppressionAuditRule
from backlint.rules.metadata import RuleInfo
from backlint.selection import matches_any
from backlint.suppression import FileSuppressions


@dataclass
class Outcome:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    internal_errors: list[RunProblem] = field(default_factory=list)
    project: ProjectIndex | None = None


class _PerFileIgnores:
    def __init__(self, settings: Settings) -> None:
        self._entries = [
            (pathspec.GitIgnoreSpec.from_lines([pattern]), codes)
            for pattern, codes in settings.per_file_ignores
        ]

    def ignored(self, relative: str, diagnostic: Diagnostic) -> bool:
        return any(
            spec.match_file(relative) and matches_any(diagnostic.code, diagnostic.name, codes)
            for spec, codes in self._entries
        )


def run_project_pass(
    results: Sequence[FileResult],
    relative_paths: Mapping[str, str],
    settings: Settings,
    enabled: Mapping[str, type[Rule]],
    known: Mapping[str, RuleInfo],
    loader: ModuleLoader | None = None,
    parser: ModuleParser | None = None,
    summaries: SummaryStore | None = None,
    change: ChangeSet | None = None,
) -> Outcome:
    """``change`` is what ``--new-from-rev`` compares with: change-scoped rules run only
    when it is given."""
    outcome = Outcome()
    project = ProjectIndex(
        (r.facts for r in results if r.facts is not None), loader, parser, summaries
    )
    project.change = change
    outcome.project = project
    candidates: list[Diagnostic] = []
    for result in results:
        candidates.extend(result.diagnostics)
        outcome.internal_errors.extend(result.internal_errors)
        for conditional in result.conditional:
            if _conditions_hold(conditional.conditions, project, conditional.diagnostic, outcome):
                candidates.append(_refined(conditional.diagnostic, conditional.conditions, project))
    candidates = [d for d in candidates if _role_still_applies(d, enabled, project)]
    for rule_class in enabled.values():
        if issubclass(rule_class, ProjectRule) and (change or not rule_class.change_scoped):
            rule = rule_class(settings.options_for(rule_class.name))
            try:
                candidates.extend(rule.check_project(project))
            except Exception as error:
                outcome.internal_errors.append(
                    RunProblem(
                        "<project>",
                        f"rule {rule.code} ({rule.name}) failed: {type(error).__name__}: {error}",
                    )
                )

    ignores = _PerFileIgnores(settings)
    suppressions = {
        r.path: FileSuppressions(r.path, r.directives, require_reason=settings.require_reason_for)
        for r in results
    }
    for path, line, code in project.used_suppressions:
        if path in suppressions:
            suppressions[path].mark_used(line, code)
    kept: list[Diagnostic] = []
    for diagnostic in candidates:
        if ignores.ignored(relative_paths.get(diagnostic.path, diagnostic.path), diagnostic):
            continue
        table = suppressions.get(diagnostic.path)
        if table is not None and table.suppresses(diagnostic):
            continue
        if table is not None and any(
            (line, diagnostic.code) in table.missing_reason for line in diagnostic.suppression_lines
        ):
            diagnostic = replace(
                diagnostic,
                message=f"{diagnostic.message} (the `backlint: allow` waiver on this line "
                "needs a reason, e.g. a ticket)",
            )
        # Dropped after the suppressions, so a noqa written for it is not "unused".
        if diagnostic.confidence == "low" and not settings.include_low_confidence:
            continue
        kept.append(diagnostic)
    # A waiver of a change-scoped rule approves one change (an API break): once the
    # change is in the base revision, the rule has nothing left to report there. Such
    # waivers are never "unused", with or without a change.
    audited = {code: rule for code, rule in enabled.items() if not rule.change_scoped}
    kept.extend(_unused_suppressions(suppressions, relative_paths, audited, known, ignores))
    kept.sort(key=Diagnostic.sort_key)
    outcome.diagnostics = kept
    return outcome


def _conditions_hold(
    conditions: Sequence[object], project: ProjectIndex, diagnostic: Diagnostic, outcome: Outcome
) -> bool:
    try:
        return all(condition.holds(project) for condition in conditions)  # type: ignore[attr-defined]
    except Exception as error:
        outcome.internal_errors.append(
            RunProblem(diagnostic.path, f"rule {diagnostic.code} failed: {error}")
        )
        return False


def _refined(
    diagnostic: Diagnostic, conditions: Sequence[object], project: ProjectIndex
) -> Diagnostic:
    """Let conditions complete the message with what only the project knows (where an
    imported model is defined, which base class made a view a handler)."""
    message = diagnostic.message
    confidence = diagnostic.confidence
    for condition in conditions:
        refine = getattr(condition, "refine", None)
        if refine is not None:
            message = refine(message, project)
        rate = getattr(condition, "confidence", None)
        if rate is not None and rate(project) == "low":
            confidence = "low"
    if message == diagnostic.message and confidence == diagnostic.confidence:
        return diagnostic
    return replace(diagnostic, message=message, confidence=confidence)


def _role_still_applies(
    diagnostic: Diagnostic, enabled: Mapping[str, type[Rule]], project: ProjectIndex
) -> bool:
    """Drop findings of role-scoped rules on files whose final role left their scope."""
    rule = enabled.get(diagnostic.code)
    facts = project.files.get(diagnostic.path)
    if rule is None or rule.roles is None or facts is None or len(facts.roles) < 2:
        return True
    role = project.role_of(diagnostic.path)
    return role is not None and role in rule.roles


def _unused_suppressions(
    suppressions: Mapping[str, FileSuppressions],
    relative_paths: Mapping[str, str],
    enabled: Mapping[str, type[Rule]],
    known: Mapping[str, RuleInfo],
    ignores: _PerFileIgnores,
) -> list[Diagnostic]:
    auditors = [cls({}) for cls in enabled.values() if issubclass(cls, SuppressionAuditRule)]
    found: list[Diagnostic] = []
    for auditor in auditors:
        assert isinstance(auditor, SuppressionAuditRule)
        for path, table in sorted(suppressions.items()):
            reported: dict[Directive, list[tuple[CodeMention, Diagnostic]]] = {}
            for directive, mention in table.unused():
                # Codes of other tools may serve ruff or flake8 (``BLE001`` is
                # flake8-blind-except's); codes of rules this run did not enable may
                # serve another configuration.
                if not is_backlint_code(mention.code):
                    continue
                is_known = mention.code in known
                if is_known and mention.code not in enabled:
                    continue
                diagnostic = auditor.check_unused(path, mention.code, is_known, mention.span)
                if diagnostic is None:
                    continue
                if ignores.ignored(relative_paths.get(path, path), diagnostic):
                    continue
                if table.suppresses(diagnostic):
                    continue
                reported.setdefault(directive, []).append((mention, diagnostic))
            # Every finding on one comment carries the same fix (the comment without all
            # of its unused codes), so ``--fix`` applies it once whichever it takes.
            for directive, items in reported.items():
                unused = [mention for mention, _ in items]
                # Whether a project rule's noqa is used depends on which files the run
                # saw (a cycle through a file pre-commit did not pass): its removal is
                # only an unsafe fix.
                partial = any(
                    mention.code in known and known[mention.code].project for mention in unused
                )
                fix = auditor.removal_fix(directive, unused, run_dependent=partial)
                found.extend(replace(diagnostic, fix=fix) for _, diagnostic in items)
    return found
