"""Finds every rule class under ``backlint.rules`` (the engine never names a rule)."""

from __future__ import annotations

import functools
import importlib
import pkgutil
from types import MappingProxyType

import backlint.rules
from backlint.rules.base import Rule

_BASES = frozenset({"Rule", "FileRule", "ProjectRule", "ParseFailureRule", "SuppressionAuditRule"})


@functools.cache
def all_rules() -> MappingProxyType[str, type[Rule]]:
    """Every rule class by code, in code order. Imported once per process."""
    found: dict[str, type[Rule]] = {}
    prefix = backlint.rules.__name__ + "."
    for info in pkgutil.walk_packages(backlint.rules.__path__, prefix):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Rule)
                and value.__module__ == module.__name__
                and value.__name__ not in _BASES
                and getattr(value, "code", None)
            ):
                if value.code in found and found[value.code] is not value:
                    raise RuntimeError(f"two rules claim {value.code}")
                found[value.code] = value
    return MappingProxyType(dict(sorted(found.items())))


def find_rule(code_or_name: str) -> type[Rule] | None:
    rules = all_rules()
    if code_or_name.upper() in rules:
        return rules[code_or_name.upper()]
    return next((rule for rule in rules.values() if rule.name == code_or_name), None)
