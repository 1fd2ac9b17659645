"""The rule catalogue: every rule's metadata without importing a rule module.

``catalogue.json`` (next to this module) is generated from the rule classes by
``python -m backlint.ruledocs``, together with ``docs/rules.md`` and the README table,
and ``python -m backlint.ruledocs --check`` (run by CI and the tests) fails while it is
stale. Reading it costs a JSON parse instead of importing ~80 rule modules and libcst:
selection, configuration, ``backlint rule`` and the outputs use it, and a run imports the
classes of the rules it enables only when a file or the project is checked
(``registry.rule_classes``).

This module must not import ``rules.base`` or any rule module (a test checks it).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType

from backlint.diagnostics import Severity
from backlint.rules.metadata import Option, OptionValue, RuleInfo

CATALOGUE_FILE = Path(__file__).with_name("catalogue.json")
GENERATOR = "python -m backlint.ruledocs"


class StaleCatalogueError(RuntimeError):
    """The catalogue names a rule class that does not exist (any more)."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"the rule catalogue is out of date ({detail}): run `{GENERATOR}`")


@functools.cache
def catalogue() -> MappingProxyType[str, RuleInfo]:
    """Every rule's metadata by code, in code order. Read once per process."""
    return read_catalogue(CATALOGUE_FILE.read_text(encoding="utf-8"))


def find_rule(code_or_name: str) -> RuleInfo | None:
    """The rule with this code (any case) or name."""
    rules = catalogue()
    if code_or_name.upper() in rules:
        return rules[code_or_name.upper()]
    return next((rule for rule in rules.values() if rule.name == code_or_name), None)


# --- the file format ------------------------------------------------------------------


def catalogue_json(rules: Iterable[RuleInfo]) -> str:
    """The text of ``catalogue.json`` for ``rules`` (in the order given)."""
    document = {
        "generated-by": GENERATOR,
        "rules": [_record(rule) for rule in rules],
    }
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def read_catalogue(text: str) -> MappingProxyType[str, RuleInfo]:
    document = json.loads(text)
    rules = (_info(record) for record in document["rules"])
    return MappingProxyType({rule.code: rule for rule in sorted(rules, key=lambda r: r.code)})


def _record(rule: RuleInfo) -> dict[str, object]:
    return {
        "code": rule.code,
        "name": rule.name,
        "summary": rule.summary,
        "fix_text": rule.fix_text,
        "severity": rule.severity.value,
        "default_enabled": rule.default_enabled,
        "preview": rule.preview,
        "always_enabled": rule.always_enabled,
        "tags": list(rule.tags),
        "options": [
            {
                "name": option.name,
                "default": list(option.default)
                if isinstance(option.default, tuple)
                else option.default,
                "description": option.description,
                "choices": list(option.choices),
            }
            for option in rule.options
        ],
        "autofix": rule.autofix,
        "text_kinds": sorted(rule.text_kinds),
        "project": rule.project,
        "change_scoped": rule.change_scoped,
        "module": rule.module,
        "class": rule.class_name,
        "documentation": rule.documentation,
    }


def _info(record: Mapping[str, object]) -> RuleInfo:
    return RuleInfo(
        code=_str(record["code"]),
        name=_str(record["name"]),
        summary=_str(record["summary"]),
        fix_text=_str(record["fix_text"]),
        severity=Severity(record["severity"]),
        documentation=_str(record["documentation"]),
        module=_str(record["module"]),
        class_name=_str(record["class"]),
        default_enabled=record["default_enabled"] is True,
        preview=record["preview"] is True,
        always_enabled=record["always_enabled"] is True,
        tags=_strs(record["tags"]),
        options=tuple(_option(item) for item in _list(record["options"])),
        autofix=_str(record["autofix"]),
        text_kinds=frozenset(_strs(record["text_kinds"])),
        project=record["project"] is True,
        change_scoped=record.get("change_scoped") is True,
    )


def _option(record: object) -> Option:
    if not isinstance(record, dict):
        raise ValueError(f"a rule option must be an object, not {record!r}")
    return Option(
        name=_str(record["name"]),
        default=_option_value(record["default"]),
        description=_str(record["description"]),
        choices=_strs(record["choices"]),
    )


def _option_value(value: object) -> OptionValue:
    if isinstance(value, list):
        return _strs(value)
    if isinstance(value, bool | int | str):
        return value
    raise ValueError(f"unexpected option default {value!r}")


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, not {value!r}")
    return value


def _list(value: object) -> list[object]:
    if not isinstance(value, list):
        raise ValueError(f"expected a list, not {value!r}")
    return value


def _strs(value: object) -> tuple[str, ...]:
    return tuple(_str(item) for item in _list(value))
