"""Which rules a run enables: ``select``/``extend-select``/``ignore`` with ruff's semantics.

A selector is ``ALL``, a rule code (``BL201``), a rule name (``swallowed-broad-except``)
or a code prefix (``BL2``, ``BL20``). When selectors disagree about a rule, the most
specific one wins (a full code beats a prefix, a longer prefix beats a shorter one), and
``ignore`` wins a tie. A prefix or the default selection enables only rules that are on
by default; rules that are off by default are enabled by naming them or by ``ALL``;
preview rules only by naming them, unless the run opts in to preview (``preview = true``,
``--preview``): then preview rules count as on by default. A rule marked
``always_enabled`` (BL001: a file that cannot be parsed was not checked at all) runs
whatever the selection, unless ignored explicitly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from backlint.rules.metadata import RuleInfo


class SelectionError(ValueError):
    """A selector that matches no rule."""


def check_selectors(selectors: Iterable[str], rules: Mapping[str, RuleInfo], where: str) -> None:
    """Raise ``SelectionError`` naming ``where`` for a selector that matches no rule."""
    names = {rule.name for rule in rules.values()}
    for selector in selectors:
        if selector == "ALL" or selector in names:
            continue
        if any(code.startswith(selector) for code in rules):
            continue
        raise SelectionError(f"{where}: unknown rule code or name `{selector}`")


def _specificity(selector: str, rule: RuleInfo, preview: bool) -> int | None:
    """How specifically ``selector`` names ``rule``; None when it does not match it."""
    if selector in (rule.code, rule.name):
        return 100
    if rule.preview and not preview:
        return None
    if selector == "ALL":
        return 0
    on_by_default = rule.preview or rule.default_enabled
    if rule.code.startswith(selector) and on_by_default:
        return len(selector)
    return None


def _best(selectors: Iterable[str], rule: RuleInfo, preview: bool) -> int | None:
    scores = [s for sel in selectors if (s := _specificity(sel, rule, preview)) is not None]
    return max(scores) if scores else None


def enabled_codes(
    rules: Mapping[str, RuleInfo],
    select: Iterable[str] | None,
    extend_select: Iterable[str],
    ignore: Iterable[str],
    preview: bool = False,
) -> frozenset[str]:
    """The codes of the rules a run enables (``preview``: preview rules count as on)."""
    chosen = list(select) if select is not None else ["BL"]
    chosen.extend(extend_select)
    ignored = list(ignore)
    enabled = set()
    for code, rule in rules.items():
        selected = _best(chosen, rule, preview)
        # Ignoring by prefix or ``ALL`` covers preview rules whether or not they run.
        dropped = _best(ignored, rule, preview=True)
        if selected is None and rule.always_enabled and dropped is None:
            enabled.add(code)
            continue
        if selected is None:
            continue
        if dropped is None or selected > dropped:
            enabled.add(code)
    return frozenset(enabled)


def matches_any(code: str, name: str, selectors: Iterable[str]) -> bool:
    """Whether a diagnostic's code is covered by ``selectors`` (for per-file ignores, noqa)."""
    return any(s == "ALL" or s == name or code.startswith(s) for s in selectors)
