"""The rule catalogue: generated from the rule classes, read without them, and a stale one
is caught with the command that regenerates it."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from backlint import ruledocs
from backlint.diagnostics import Severity
from backlint.rules import registry
from backlint.rules.base import FileRule, Option
from backlint.rules.catalogue import (
    GENERATOR,
    StaleCatalogueError,
    catalogue,
    catalogue_json,
    read_catalogue,
)
from backlint.rules.registry import all_rules, rule_class, rule_classes, rule_info

ROOT = Path(__file__).resolve().parents[1]


def test_the_catalogue_describes_every_rule_class() -> None:
    expected = {code: rule_info(rule) for code, rule in all_rules().items()}
    assert dict(catalogue()) == expected, f"the catalogue is stale: run `{GENERATOR}`"


def test_the_catalogue_keeps_what_selection_configuration_and_outputs_read() -> None:
    rules = list(catalogue().values())
    assert dict(read_catalogue(catalogue_json(rules))) == {rule.code: rule for rule in rules}
    broad = catalogue()["BL202"]
    assert (broad.name, broad.severity, broad.project) == (
        "swallowed-broad-except",
        Severity.WARNING,
        False,
    )
    assert catalogue()["BL411"].project  # import-cycle runs over the project
    assert catalogue()["BL001"].always_enabled
    assert any(rule.text_kinds for rule in rules)  # what discovery looks for
    options = {option.name: option for option in catalogue()["BL101"].options}
    assert options["max-statements"].default == 15
    assert any(isinstance(o.default, tuple) for r in rules for o in r.options)


def test_enabled_rules_are_imported_from_their_catalogue_entry() -> None:
    classes = rule_classes([catalogue()["BL201"], catalogue()["BL411"]])
    assert classes == {"BL201": all_rules()["BL201"], "BL411": all_rules()["BL411"]}


@pytest.mark.parametrize(
    ("module", "class_name"),
    [
        ("backlint.rules.errors.gone", "SwallowedBareExcept"),  # the module was renamed
        ("backlint.rules.errors.swallowed_bare_except", "Renamed"),  # the class was
        ("backlint.rules.errors.swallowed_broad_except", "SwallowedBroadExcept"),  # not BL201
    ],
)
def test_a_stale_entry_names_the_command_that_regenerates_it(module: str, class_name: str) -> None:
    stale = dataclasses.replace(catalogue()["BL201"], module=module, class_name=class_name)
    with pytest.raises(StaleCatalogueError, match=r"run `python -m backlint\.ruledocs`"):
        rule_class(stale)


class _NewRule(FileRule):
    """## What it does
    Nothing yet.
    """

    code = "BL999"
    name = "new-rule"
    summary = "A rule whose catalogue entry was not generated."
    fix_text = "Regenerate."
    severity = Severity.INFO
    options = (Option("limit", 3, "How many."),)


def test_a_new_rule_without_a_regenerated_catalogue_fails_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``python -m backlint.ruledocs --check`` (CI) says which file is stale and what to
    run; running it writes the new rule's entry."""
    for relative in ("README.md", "docs/rules.md", "src/backlint/rules/catalogue.json"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / relative, tmp_path / relative)
    monkeypatch.chdir(tmp_path)
    assert ruledocs.main(["--check"]) == 0

    with_new = {**all_rules(), "BL999": _NewRule}
    monkeypatch.setattr(registry, "all_rules", lambda: with_new)
    assert ruledocs.main(["--check"]) == 1
    message = capsys.readouterr().err
    assert "catalogue.json is out of date: run `python -m backlint.ruledocs`" in message

    assert ruledocs.main([]) == 0
    written = read_catalogue(
        (tmp_path / "src/backlint/rules/catalogue.json").read_text(encoding="utf-8")
    )
    assert written["BL999"] == rule_info(_NewRule)
    assert written["BL999"].module == __name__
    assert ruledocs.main(["--check"]) == 0
