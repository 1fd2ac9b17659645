"""What BL601 and BL602 share: which functions are public API in a layer file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import libcst as cst

from backlint.engine.context import FileContext
from backlint.index.names import dotted_name
from backlint.rules.base import FileRule, Option

# rules.md §3 BL601/BL602: the layers whose functions other modules call.
API_ROLES = frozenset({"service", "domain", "repository", "routes", "schemas"})

_STUB_DECORATORS = frozenset({"overload", "abstractmethod"})


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def decorator_names(node: cst.FunctionDef) -> frozenset[str]:
    """Last segments and full dotted names of the decorators (``pytest.fixture()`` → both)."""
    names: set[str] = set()
    for decorator in node.decorators:
        expression = decorator.decorator
        if isinstance(expression, cst.Call):
            expression = expression.func
        dotted = dotted_name(expression)
        if dotted is not None:
            names.add(dotted)
            names.add(dotted.rsplit(".", 1)[-1])
    return frozenset(names)


@dataclass
class PublicFunction:
    node: cst.FunctionDef
    decorators: frozenset[str]
    is_method: bool
    owner: cst.ClassDef | None = None  # the class of a method
    top_level_owner: bool = False  # that class is defined at module level


def _module_all(tree: cst.Module) -> frozenset[str] | None:
    """The names in a literal module-level ``__all__``, or None when there is none."""
    names: set[str] | None = None
    for statement in tree.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            target, value = None, None
            if isinstance(small, cst.Assign) and len(small.targets) == 1:
                target, value = small.targets[0].target, small.value
            elif isinstance(small, (cst.AnnAssign, cst.AugAssign)):
                target, value = small.target, small.value
            if not (isinstance(target, cst.Name) and target.value == "__all__"):
                continue
            if isinstance(value, (cst.List, cst.Tuple, cst.Set)):
                names = names or set()
                for element in value.elements:
                    if isinstance(element.value, cst.SimpleString):
                        text = element.value.evaluated_value
                        if isinstance(text, str):
                            names.add(text)
    return frozenset(names) if names is not None else None


def _is_test_case(node: cst.ClassDef) -> bool:
    """A ``unittest``/Django/DRF ``...TestCase`` subclass, by the name of a base."""
    return any((dotted_name(base.value) or "").endswith("TestCase") for base in node.bases)


def _has_type_comment(node: cst.FunctionDef) -> bool:
    """``def f(a):  # type: (int) -> None``: the signature is annotated, PEP 484 style
    (and adding ``-> None`` would give mypy two signatures)."""
    header = node.body.header if isinstance(node.body, cst.IndentedBlock) else None
    comment = header.comment if header is not None else None
    return comment is not None and comment.value.lstrip("# ").startswith("type:")


class PublicApiRule(FileRule):
    """Base of BL601/BL602: calls ``check_function`` for each public function."""

    roles = API_ROLES
    include_tests = False
    options: ClassVar[tuple[Option, ...]] = (
        Option(
            "ignore-decorators",
            (
                "field_validator",
                "model_validator",
                "validator",
                "root_validator",
                "pytest.fixture",
                "fixture",
                "receiver",
            ),
            "Decorators whose functions are skipped: their signature is set by a framework.",
        ),
    )

    def applies_to(self, ctx: FileContext) -> bool:
        if ctx.is_stub or any(is_private(part) for part in ctx.module.split(".")):
            return False
        return super().applies_to(ctx)

    def begin_file(self, ctx: FileContext) -> None:
        super().begin_file(ctx)
        self.exported = _module_all(ctx.tree)
        self.stack: list[cst.FunctionDef | cst.ClassDef] = []
        self.ignored = frozenset(self.str_list_option("ignore-decorators"))

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.stack.append(node)

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self.stack.pop()

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.stack.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        parents = list(self.stack)
        self.stack.append(node)
        if any(isinstance(parent, cst.FunctionDef) for parent in parents):
            return  # a nested function is not API
        if is_private(node.name.value) or any(is_private(p.name.value) for p in parents):
            return
        if any(isinstance(p, cst.ClassDef) and _is_test_case(p) for p in parents):
            return  # test base classes kept beside the code they test
        top_name = parents[0].name.value if parents else node.name.value
        if self.exported is not None and top_name not in self.exported:
            return
        decorators = decorator_names(node)
        if decorators & _STUB_DECORATORS or decorators & self.ignored:
            return
        if _has_type_comment(node):
            return  # annotated the PEP 484 way
        owner = parents[-1] if parents and isinstance(parents[-1], cst.ClassDef) else None
        self.check_function(
            PublicFunction(node, decorators, bool(parents), owner, len(parents) == 1)
        )

    def check_function(self, function: PublicFunction) -> None:
        raise NotImplementedError
