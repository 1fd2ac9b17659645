"""Every rule's VALID and INVALID examples, run through the real engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from backlint.application import CheckRequest, run_check
from backlint.diagnostics import Diagnostic
from backlint.rules.base import Example, Rule
from backlint.rules.registry import all_rules

RULES = list(all_rules().values())


def _cases(kind: str) -> list[tuple[type[Rule], int, Example]]:
    return [(rule, i, ex) for rule in RULES for i, ex in enumerate(rule.examples(kind))]


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
