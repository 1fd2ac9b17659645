"""Every rule's VALID and INVALID examples, run through the real engine."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from backlint.application import CheckRequest, run_check
from backlint.diagnostics import Applicability, Diagnostic
from backlint.fixes.apply import apply_fixes
from backlint.fixes.run import FixOutcome, fix_until_stable, write_fixed
from backlint.rules.base import Example, Rule, SuppressionAuditRule
from backlint.rules.registry import all_rules

RULES = list(all_rules().values())


def _cases(kind: str) -> list[tuple[type[Rule], int, Example]]:
    # Examples of a change (``Example.base``) need a git repository and
    # ``--new-from-rev``; until that runs them here, their rules' own tests do
    # (``tests/test_api_contract.py``).
    return [
        (rule, i, ex)
        for rule in RULES
        for i, ex in enumerate(rule.examples(kind))
        if ex.base is None
    ]


def _run(tmp_path: Path, rule: type[Rule], example: Example) -> list[Diagnostic]:
    files = [(example.path, example.source)]
    files += [(path, source) for path, source in example.files]
    for relative, source in files:
        target = tmp_path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source, encoding="utf-8")
    result = run_check(
        CheckRequest(paths=(tmp_path,), cwd=tmp_path, extend_select=(rule.code,), jobs=1)
    )
    assert not result.internal_errors, result.internal_errors
    return [d for d in result.diagnostics if d.code == rule.code]


@pytest.mark.parametrize(
    ("rule", "index", "example"),
    _cases("invalid"),
    ids=[f"{r.code}-invalid-{i}" for r, i, _ in _cases("invalid")],
)
def test_invalid_example_is_flagged(
    tmp_path: Path, rule: type[Rule], index: int, example: Example
) -> None:
    found = _run(tmp_path, rule, example)
    if example.expect is not None:
        assert len(found) == example.expect, found
    else:
        assert found, f"{rule.code} did not flag:\n{example.source}"
    # Findings are in the example's own file unless it is a cross-file rule.
    assert all(d.message and d.span.start.line >= 1 for d in found)


@pytest.mark.parametrize(
    ("rule", "index", "example"),
    _cases("valid"),
    ids=[f"{r.code}-valid-{i}" for r, i, _ in _cases("valid")],
)
def test_valid_example_is_not_flagged(
    tmp_path: Path, rule: type[Rule], index: int, example: Example
) -> None:
    assert _run(tmp_path, rule, example) == []


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_rule_is_documented(rule: type[Rule]) -> None:
    docs = rule.documentation()
    for heading in ("## What it does", "## Why is this bad?", "## Example", "## How to fix"):
        assert heading in docs, f"{rule.code} docs lack {heading}"
    assert rule.summary and rule.fix_text and rule.name
    assert list(rule.examples("invalid")), f"{rule.code} has no invalid example"
    assert list(rule.examples("valid")), f"{rule.code} has no valid example"


def _fixed_cases() -> list[tuple[type[Rule], int, Example]]:
    return [case for case in _cases("invalid") if case[2].fixed is not None]


def _fix_run(tmp_path: Path, rule: type[Rule], unsafe: bool) -> FixOutcome:
    # Only this rule's fixes, except for BL002, which needs the rules its noqa names.
    audit = issubclass(rule, SuppressionAuditRule)
    request = CheckRequest(
        paths=(tmp_path,),
        cwd=tmp_path,
        select=None if audit else (rule.code,),
        extend_select=(rule.code,),
        jobs=1,
    )
    outcome = fix_until_stable(request, run_check(request), unsafe)
    write_fixed(outcome)
    return outcome


@pytest.mark.parametrize(
    ("rule", "index", "example"),
    _fixed_cases(),
    ids=[f"{r.code}-invalid-{i}" for r, i, _ in _fixed_cases()],
)
def test_fix_gives_the_fixed_example(
    tmp_path: Path, rule: type[Rule], index: int, example: Example
) -> None:
    found = _run(tmp_path, rule, example)
    target = tmp_path / example.path
    kinds = {d.fix.applicability for d in found if d.fix is not None}
    if kinds == {Applicability.DISPLAY_ONLY}:
        # Shown, never applied: the edit gives the fixed text, --fix leaves the file.
        assert apply_fixes(example.source, found).text == example.fixed_source
        assert _fix_run(tmp_path, rule, unsafe=True).fixed_count == 0
        assert target.read_text(encoding="utf-8") == example.source
        return
    if Applicability.UNSAFE in kinds:
        # Without --unsafe-fixes an unsafe fix is not applied.
        _fix_run(tmp_path, rule, unsafe=False)
        assert target.read_text(encoding="utf-8") == example.source
    _fix_run(tmp_path, rule, unsafe=True)
    fixed = target.read_text(encoding="utf-8")
    assert fixed == example.fixed_source
    ast.parse(fixed)
    # A second run finds nothing more to fix.
    again = _fix_run(tmp_path, rule, unsafe=True)
    assert again.fixed_count == 0
    assert target.read_text(encoding="utf-8") == fixed


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_rules_with_an_autofix_show_it_in_an_example(rule: type[Rule]) -> None:
    fixed = [example for example in rule.examples("invalid") if example.fixed is not None]
    assert bool(fixed) == bool(rule.autofix), (
        f"{rule.code}: `autofix` and the examples with `fixed=` disagree"
    )
