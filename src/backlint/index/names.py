"""A light import table: which qualified name a local name or attribute chain stands for.

libcst's QualifiedNameProvider answers this through full scope analysis, which costs
several times the parse on real projects. Rules here only ask "is this call
``time.sleep``" or "is this receiver the ``logging`` module", which the file's imports
answer: ``import time as t`` maps ``t`` to ``time``, ``from time import sleep`` maps
``sleep`` to ``time.sleep``. Shadowing by a local variable of the same name is not
tracked; the rules that care check their receivers further.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import libcst as cst

BUILTIN_NAMES = frozenset(dir(builtins))


def assigned_names(target: cst.BaseExpression) -> Iterator[str]:
    """The plain names an assignment target binds: ``a``, ``a, (b, *c)``."""
    if isinstance(target, cst.Name):
        yield target.value
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from assigned_names(element.value)
    elif isinstance(target, cst.StarredElement):
        yield from assigned_names(target.value)


def dotted_name(node: cst.BaseExpression) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    parts: list[str] = []
    current: cst.BaseExpression = node
    while isinstance(current, cst.Attribute):
        parts.append(current.attr.value)
        current = current.value
    if not isinstance(current, cst.Name):
        return None
    parts.append(current.value)
    return ".".join(reversed(parts))


def resolve_relative(module: str, is_package: bool, level: int, target: str) -> str:
    """The absolute module of ``from <level dots><target> import ...`` in ``module``."""
    if level == 0:
        return target
    package = module.split(".") if is_package else module.split(".")[:-1]
    if level > 1:
        package = package[: len(package) - (level - 1)] if level - 1 <= len(package) else []
    base = ".".join(package)
    if target:
        return f"{base}.{target}" if base else target
    return base


def caught_types(
    handler: cst.ExceptHandler | cst.ExceptStarHandler,
) -> list[cst.BaseExpression]:
    """The exception expressions an ``except`` clause names (a tuple gives several)."""
    if handler.type is None:
        return []
    if isinstance(handler.type, cst.Tuple):
        return [element.value for element in handler.type.elements]
    return [handler.type]


@dataclass(frozen=True)
class TableData:
    """An ``ImportTable`` as plain data, for a module summary to carry."""

    module: str
    bindings: dict[str, str]
    local: frozenset[str]

    def table(self) -> ImportTable:
        return ImportTable(self.module, self.bindings, self.local)


class ImportTable:
    """Local names bound by imports (and module-level definitions) to qualified names."""

    def __init__(self, module: str, bindings: Mapping[str, str], local: frozenset[str]) -> None:
        self.module = module
        self._bindings = dict(bindings)
        self._local = local  # names defined at module level by def/class/assignment

    def __contains__(self, name: str) -> bool:
        return name in self._bindings

    def data(self) -> TableData:
        return TableData(self.module, dict(self._bindings), self._local)

    def is_bound(self, name: str) -> bool:
        """Whether a module-level import or definition binds ``name``."""
        return name in self._bindings or name in self._local

    def imports_from(self, package: str) -> bool:
        """Whether anything is imported from ``package`` or its submodules."""
        return any(
            target == package or target.startswith(package + ".")
            for target in self._bindings.values()
        )

    def imported(self, name: str) -> str | None:
        """The qualified name an imported local name stands for."""
        return self._bindings.get(name)

    def qualify(self, dotted: str) -> str:
        """Qualify a dotted name: ``t.sleep`` with ``import time as t`` gives ``time.sleep``."""
        head, _, rest = dotted.partition(".")
        target = self._bindings.get(head)
        if target is None:
            if head in self._local:
                target = f"{self.module}.{head}" if self.module else head
            elif head in BUILTIN_NAMES:
                target = f"builtins.{head}"
            else:
                target = head
        return f"{target}.{rest}" if rest else target

    def qualified_name(self, node: cst.BaseExpression) -> str | None:
        """The qualified name of a Name/Attribute chain, ``None`` for anything else.

        A call in the chain keeps its parentheses: ``requests.Session().get`` gives
        ``requests.Session().get`` so rules can match instance methods of known classes.
        """
        suffix: list[str] = []
        current: cst.BaseExpression = node
        while True:
            if isinstance(current, cst.Attribute):
                suffix.append(current.attr.value)
                current = current.value
            elif isinstance(current, cst.Call):
                inner = self.qualified_name(current.func)
                if inner is None:
                    return None
                return ".".join([inner + "()", *reversed(suffix)])
            elif isinstance(current, cst.Name):
                base = self.qualify(current.value)
                return ".".join([base, *reversed(suffix)])
            else:
                return None
