"""Test code (rules.md §2 "Test code"): which files are tests, and within them which
functions are tests, fixtures or helpers.

pytest decides what a test is from its own settings (``python_files``,
``python_functions``, ``python_classes``); backlint reads them from the project's
pytest configuration once per run (``PytestNaming.from_project``, in
``pytestnaming.py``, which needs no parser) so that its answers match what pytest
collects. In a Django project, Django's test runner collects
``test*.py`` too (``tests.py`` of every app), so those files are test code as well.
unittest ``TestCase`` subclasses are recognised through the class index, also when the
base class lives in another module.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from backlint.index.facts import Requirement
from backlint.index.names import ImportTable
from backlint.index.pytestnaming import PytestNaming

if TYPE_CHECKING:
    from backlint.index.project import ProjectIndex

TESTCASE_BASES = frozenset(
    {
        "unittest.TestCase",
        "unittest.IsolatedAsyncioTestCase",
        "unittest.case.TestCase",
        "django.test.TestCase",
        "django.test.SimpleTestCase",
        "django.test.TransactionTestCase",
        "django.test.LiveServerTestCase",
        "django.test.testcases.TestCase",
        "django.test.testcases.SimpleTestCase",
        "django.test.testcases.TransactionTestCase",
        "rest_framework.test.APITestCase",
        "rest_framework.test.APISimpleTestCase",
        "rest_framework.test.APITransactionTestCase",
        "flask_testing.TestCase",
    }
)
FIXTURE_DECORATORS = frozenset(
    {"pytest.fixture", "pytest_asyncio.fixture", "_pytest.fixtures.fixture"}
)


@dataclass(frozen=True)
class TestFunction:
    """A function of a test file and what pytest (or unittest) makes of it."""

    node: cst.FunctionDef
    kind: str  # "test", "fixture" or "helper"
    qualname: str  # ``name`` or ``Class.name``
    class_node: cst.ClassDef | None
    # What must hold for a ``test`` of a class that is a TestCase only through a base
    # class of another module (checked in the project pass, like a rule's condition).
    requires: tuple[Requirement, ...] = ()


@dataclass(frozen=True)
class IsTestCase:
    """The class ``qualified`` derives from a unittest/Django/DRF ``TestCase``."""

    qualified: str

    def holds(self, project: ProjectIndex) -> bool:
        return project.inherits(self.qualified, TESTCASE_BASES)


def classify_functions(
    module_node: cst.Module, table: ImportTable, naming: PytestNaming, *, collected: bool = True
) -> dict[int, TestFunction]:
    """Every top-level function and method of top-level classes of a test file, by the
    ``id()`` of its node.

    In a module no runner collects (``collected`` false: a ``conftest.py``, a
    ``tests/utils.py``), a module-level ``test_*`` function is a helper: nothing runs it
    as a test. Its classes are read as usual, since test classes inherit their tests.
    """
    found: dict[int, TestFunction] = {}
    for statement in _definitions(module_node.body):
        if isinstance(statement, cst.FunctionDef):
            kind = _function_kind(statement, table, naming, is_method=False)
            if kind == "test" and not collected:
                kind = "helper"
            found[id(statement)] = TestFunction(statement, kind, statement.name.value, None)
        elif isinstance(statement, cst.ClassDef):
            requires = _test_class(statement, table, naming)
            for method in _definitions(_body(statement)):
                if not isinstance(method, cst.FunctionDef):
                    continue
                kind = _function_kind(method, table, naming, is_method=True)
                if kind == "test" and requires is None:
                    kind = "helper"  # a ``test_`` method of a class pytest does not collect
                qualname = f"{statement.name.value}.{method.name.value}"
                needs = requires if kind == "test" and requires is not None else ()
                found[id(method)] = TestFunction(method, kind, qualname, statement, needs)
    return found


def _function_kind(
    node: cst.FunctionDef, table: ImportTable, naming: PytestNaming, *, is_method: bool
) -> str:
    for decorator in node.decorators:
        expression = decorator.decorator
        callee = expression.func if isinstance(expression, cst.Call) else expression
        if (table.qualified_name(callee) or "") in FIXTURE_DECORATORS:
            return "fixture"
    if naming.is_test_function(node.name.value):
        return "test"
    return "helper"


def _test_class(
    node: cst.ClassDef, table: ImportTable, naming: PytestNaming
) -> tuple[Requirement, ...] | None:
    """``()`` for a class whose tests pytest collects for sure, the requirements for one
    that is a test class only through a base of another module, None for neither."""
    bases = [table.qualified_name(arg.value) for arg in node.bases if arg.keyword is None]
    if any(base in TESTCASE_BASES for base in bases):
        return ()
    if naming.is_test_class(node.name.value):
        return ()
    unknown = [b for b in bases if b is not None and not b.startswith(("builtins.", "typing."))]
    if not unknown:
        return None
    return (AnyTestCase(tuple(IsTestCase(base) for base in unknown)),)


@dataclass(frozen=True)
class AnyTestCase:
    options: tuple[IsTestCase, ...]

    def holds(self, project: ProjectIndex) -> bool:
        return any(option.holds(project) for option in self.options)


def _definitions(
    body: Sequence[cst.BaseStatement] | Sequence[cst.BaseStatement | cst.BaseSmallStatement],
) -> Iterator[cst.CSTNode]:
    for statement in body:
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            yield statement
        elif isinstance(statement, (cst.If, cst.Try)):
            yield from _definitions(_body(statement))


def _body(node: cst.CSTNode) -> Sequence[cst.BaseStatement]:
    body = getattr(node, "body", None)
    return body.body if isinstance(body, cst.IndentedBlock) else ()
