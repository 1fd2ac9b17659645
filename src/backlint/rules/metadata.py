"""What is known about a rule without importing it: ``RuleInfo`` and rule ``Option``s.

Selection, configuration (rule options), ``backlint rule`` and the outputs need only a
rule's metadata. ``RuleInfo`` holds it as plain values, so that those parts never import
a rule module (each imports libcst); the generated catalogue (``rules/catalogue.py``)
gives one per rule, and the rule class is imported only when a run enables the rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from backlint.diagnostics import Severity

OptionValue = bool | int | str | tuple[str, ...]

DOCS_URL = "https://github.com/backlint/backlint/blob/main/docs/rules.md"


def rule_url(code: str) -> str:
    """Where the documentation of rule ``code`` is published."""
    return f"{DOCS_URL}#{code.lower()}"


@dataclass(frozen=True)
class Option:
    """A setting of one rule, read from ``[tool.backlint.options.<rule-name>]``."""

    name: str
    default: OptionValue
    description: str
    choices: tuple[str, ...] = ()  # for string options with a fixed set of values

    def validate(self, value: object) -> OptionValue:
        """Return ``value`` converted to this option's type, or raise ``TypeError``."""
        if self.choices:
            if value in self.choices:
                return str(value)
            raise TypeError("one of " + ", ".join(f'"{choice}"' for choice in self.choices))
        expected = type(self.default)
        if isinstance(self.default, tuple):
            if isinstance(value, list) and all(isinstance(item, str) for item in value):
                return tuple(value)
            raise TypeError("a list of strings")
        if expected is bool:
            if isinstance(value, bool):
                return value
            raise TypeError("true or false")
        if expected is int:
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            raise TypeError("an integer")
        if isinstance(value, str):
            return value
        raise TypeError("a string")


@dataclass(frozen=True)
class RuleInfo:
    """One rule's metadata and documentation, and where its class is.

    The fields mirror the class attributes of ``rules.base.Rule`` (see CONTRIBUTING.md);
    ``registry.rule_info`` reads them from a class, ``catalogue`` stores them.
    """

    code: str
    name: str
    summary: str
    fix_text: str
    severity: Severity
    documentation: str  # the class docstring, dedented: ``backlint rule CODE``
    module: str  # the module that defines the class, imported only to run the rule
    class_name: str
    default_enabled: bool = True
    preview: bool = False
    always_enabled: bool = False
    tags: tuple[str, ...] = ()
    options: tuple[Option, ...] = ()
    autofix: str = ""
    # The kinds of non-Python files the rule reads (a ``TextRule``): discovery looks for
    # them before anything is parsed.
    text_kinds: frozenset[str] = frozenset()
    # A ``ProjectRule``: its findings depend on which files the run saw.
    project: bool = False
    # Runs only with ``--new-from-rev`` (``Rule.change_scoped``).
    change_scoped: bool = False

    @property
    def url(self) -> str:
        return rule_url(self.code)
