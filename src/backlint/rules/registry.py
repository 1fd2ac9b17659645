"""The rule classes: every one found by walking ``backlint.rules`` (the generator and the
tests), or the few a run enables, imported through the catalogue.

The engine never names a rule. Code that needs only a rule's metadata reads the
catalogue (``rules/catalogue.py``) instead, which imports no rule module.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Iterable
from types import MappingProxyType

import backlint.rules
from backlint.rules.base import ProjectRule, Rule, TextRule
from backlint.rules.catalogue import StaleCatalogueError
from backlint.rules.metadata import RuleInfo

_BASES = frozenset({"Rule", "FileRule", "ProjectRule", "ParseFailureRule", "SuppressionAuditRule"})


@functools.cache
def all_rules() -> MappingProxyType[str, type[Rule]]:
    """Every rule class by code, in code order, found by importing every module of
    ``backlint.rules`` (slow: for the catalogue generator and the tests). Once per process."""
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


def rule_info(rule: type[Rule]) -> RuleInfo:
    """The catalogue entry of a rule class."""
    return RuleInfo(
        code=rule.code,
        name=rule.name,
        summary=rule.summary,
        fix_text=rule.fix_text,
        severity=rule.severity,
        documentation=rule.documentation(),
        module=rule.__module__,
        class_name=rule.__qualname__,
        default_enabled=rule.default_enabled,
        preview=rule.preview,
        always_enabled=rule.always_enabled,
        tags=tuple(rule.tags),
        options=tuple(rule.options),
        autofix=rule.autofix,
        text_kinds=frozenset(rule.text_kinds) if issubclass(rule, TextRule) else frozenset(),
        project=issubclass(rule, ProjectRule),
        change_scoped=rule.change_scoped,
    )


def rule_classes(rules: Iterable[RuleInfo]) -> MappingProxyType[str, type[Rule]]:
    """The classes of ``rules`` by code, importing only their modules."""
    return MappingProxyType({info.code: rule_class(info) for info in rules})


def rule_class(info: RuleInfo) -> type[Rule]:
    """Import the class the catalogue entry ``info`` names."""
    try:
        found: object = getattr(importlib.import_module(info.module), info.class_name)
    except (ImportError, AttributeError):
        raise StaleCatalogueError(f"no class {info.module}.{info.class_name}") from None
    if not (isinstance(found, type) and issubclass(found, Rule) and found.code == info.code):
        raise StaleCatalogueError(f"{info.module}.{info.class_name} is not rule {info.code}")
    return found
