"""The README rule table and docs/rules.md are generated from the rule classes."""

from __future__ import annotations

from pathlib import Path

from backlint.ruledocs import generated_files

ROOT = Path(__file__).resolve().parents[1]


def test_generated_docs_are_current() -> None:
    for path, expected in generated_files(ROOT).items():
        assert path.read_text(encoding="utf-8") == expected, (
            f"{path.name} is stale: run `python -m backlint.ruledocs`"
        )


def test_readme_table_lists_every_rule() -> None:
    from backlint.rules.registry import all_rules

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for code, rule in all_rules().items():
        assert f"| {code} | `{rule.name}` |" in readme
