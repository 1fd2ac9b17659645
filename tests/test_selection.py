"""Rule selection: codes, prefixes, names, ALL, specificity, off-by-default and preview."""

from __future__ import annotations

from backlint.diagnostics import Severity
from backlint.rules.metadata import RuleInfo
from backlint.selection import enabled_codes


def _rule(code: str, name: str, *, default: bool = True, preview: bool = False) -> RuleInfo:
    return RuleInfo(
        code=code,
        name=name,
        summary="s",
        fix_text="f",
        severity=Severity.WARNING,
        documentation="",
        module="tests.rules",
        class_name=name,
        default_enabled=default,
        preview=preview,
    )


RULES = {
    "BL201": _rule("BL201", "bare"),
    "BL202": _rule("BL202", "broad"),
    "BL501": _rule("BL501", "blocking"),
    "BL503": _rule("BL503", "indirect", default=False, preview=True),
    "BL731": _rule("BL731", "naming", default=False),
}


def test_default_selects_rules_that_are_on_by_default() -> None:
    assert enabled_codes(RULES, None, (), ()) == {"BL201", "BL202", "BL501"}


def test_prefix_selects_default_rules_under_it() -> None:
    assert enabled_codes(RULES, ["BL2"], (), ()) == {"BL201", "BL202"}
    assert enabled_codes(RULES, ["BL7"], (), ()) == set()


def test_code_and_name_select_off_by_default_and_preview_rules() -> None:
    assert enabled_codes(RULES, ["BL731", "indirect"], (), ()) == {"BL731", "BL503"}


def test_all_selects_stable_rules_including_off_by_default_but_not_preview() -> None:
    assert enabled_codes(RULES, ["ALL"], (), ()) == {"BL201", "BL202", "BL501", "BL731"}


def test_more_specific_selector_wins_and_ignore_wins_ties() -> None:
    assert enabled_codes(RULES, ["BL2"], (), ["BL201"]) == {"BL202"}
    assert enabled_codes(RULES, ["BL201"], (), ["BL2"]) == {"BL201"}
    assert enabled_codes(RULES, ["BL2"], (), ["BL2"]) == set()
    assert enabled_codes(RULES, None, ["BL731"], ["naming"]) == {"BL201", "BL202", "BL501"}


def test_extend_select_adds_to_the_default() -> None:
    assert enabled_codes(RULES, None, ["naming"], ["BL5"]) == {"BL201", "BL202", "BL731"}


def test_preview_makes_preview_rules_count_as_on_by_default() -> None:
    everything = {"BL201", "BL202", "BL501", "BL503"}
    assert enabled_codes(RULES, None, (), (), preview=True) == everything
    assert enabled_codes(RULES, ["BL5"], (), (), preview=True) == {"BL501", "BL503"}
    assert enabled_codes(RULES, ["ALL"], (), (), preview=True) == everything | {"BL731"}
    # An ignored prefix covers the preview rule it would have brought in.
    assert enabled_codes(RULES, None, (), ["BL50"], preview=True) == {"BL201", "BL202"}
    # Naming a preview rule still wins over an ignored prefix, with or without preview.
    assert enabled_codes(RULES, ["BL503"], (), ["BL5"]) == {"BL503"}
