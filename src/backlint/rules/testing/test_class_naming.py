from __future__ import annotations

import re
from collections.abc import Sequence

import libcst as cst

from backlint.diagnostics import Severity
from backlint.engine.context import FileContext
from backlint.index.facts import Requirement
from backlint.rules.base import Example, FileRule, Option

# Words of a CamelCase name: an acronym is one word (``API`` in ``TestAPIToken``), and
# digits stay with the word before them (``ElasticSearch2``).
_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z]|[0-9]|$)|[A-Z][a-z]*[0-9]*|[a-z]+[0-9]*|[0-9]+")
_PREFIX = "Test"
# Suffixes that only say "these are tests" (Django's ``SiteTestCase``, mealie's ``*Tests``).
_SUFFIXES = ("TestCases", "TestCase", "Tests", "Test")


class TestClassNaming(FileRule):
    """
    ## What it does
    Checks that a test class names the action and the resource it tests, in at least
    `min-words` (2) CamelCase words beside its `Test` marker: `TestCreateUser`,
    `TestDashboardShareResourcePost`. The marker is the `Test` prefix pytest collects
    by, or a `Test`/`Tests`/`TestCase` suffix (the usual spelling of
    `unittest.TestCase` classes, and of projects with `python_classes = *Tests`). An
    acronym counts as one word (`TestAPIToken`).

    Only classes that define at least one test are checked: base classes and mixins
    holding shared helpers are not test classes. Classes in `conftest.py` are left
    alone. The rule is off by default.

    ## Why is this bad?
    `TestUsers` collects every test that touches users, and grows until nobody knows
    where a new test belongs. A class per behaviour (`TestCreateUser`,
    `TestDeactivateUser`) keeps its fixtures small and its failures specific.

    ## Example
    ```python
    class TestUsers:
        def test_duplicate_email_raises(self): ...
    ```

    Use instead:
    ```python
    class TestCreateUser:
        def test_duplicate_email_raises(self): ...
    ```

    ## How to fix
    Rename the class to `Test<Action><Resource>`, splitting it when it tests several
    actions.

    ## Calibration
    On redash, netbox, CTFd, dispatch, plane, mealie, saleor and the FastAPI template:
    acronyms count as one word (spec: `([A-Z][a-z0-9]+){2,}` would reject
    `TestGraphQLView`), and Django's `<Resource>TestCase`/`<Resource>Tests` suffix
    spelling is accepted as the marker instead of asking every unittest suite to
    rename to `Test…`. A project's own `python_classes` prefix other than `Test` is not
    stripped, so it counts as a word.
    """

    code = "BL732"
    name = "test-class-naming"
    summary = "A test class's name does not say which action on which resource it tests."
    fix_text = "Rename to `Test<Action><Resource>`, e.g. `TestCreateUser`."
    severity = Severity.INFO
    default_enabled = False
    include_tests = True
    tags = ("tests", "naming", "PQG-1")
    options = (
        Option(
            "min-words",
            2,
            "CamelCase words a test class's name needs beside its `Test` marker.",
        ),
    )
    invalid = (
        Example(
            """
            class TestUsers:
                def test_duplicate_email_raises(self): ...
            """,
            path="tests/test_users.py",
            expect=1,
        ),
        Example(
            """
            from django.test import TestCase

            class SiteTestCase(TestCase):
                def test_region_filter_returns_sites(self): ...
            """,
            path="dcim/tests/test_filtersets.py",
            expect=1,
        ),
    )
    valid = (
        Example(
            """
            from django.test import TestCase

            class TestCreateUser:
                def test_duplicate_email_raises(self): ...

            class TestAPIToken:
                def test_expired_token_is_rejected(self): ...

            class SiteFilterSetTestCase(TestCase):
                def test_region_filter_returns_sites(self): ...

            class TestUsersBase:
                def make_user(self): ...
            """,
            path="tests/test_users.py",
        ),
        Example(
            """
            class TestUsers:
                def test_duplicate_email_raises(self): ...
            """,
            path="tests/conftest.py",
        ),
    )

    def applies_to(self, ctx: FileContext) -> bool:
        return ctx.is_test and not ctx.relative.endswith("conftest.py")

    def begin_file(self, ctx: FileContext) -> None:
        super().begin_file(ctx)
        # Classes that define a test, with what must hold for them to be test classes.
        self._classes: dict[int, Sequence[Requirement]] = {}
        for function in ctx.test_functions.values():
            if function.kind == "test" and function.class_node is not None:
                self._classes.setdefault(id(function.class_node), function.requires)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        requires = self._classes.get(id(node))
        if requires is None:
            return
        name = node.name.value
        words = _WORDS.findall(_without_marker(name))
        option = self.option("min-words")
        minimum = option if isinstance(option, int) else 2
        if len(words) >= minimum:
            return
        named = f"names only `{''.join(words)}`" if words else "names nothing but the marker"
        self.report(
            node.name,
            f"Test class `{name}` {named}: name the action and the resource it tests, "
            f"as in `TestCreateUser`",
            conditions=requires,
        )


def _without_marker(name: str) -> str:
    """``CreateUser`` for ``TestCreateUser``, ``Site`` for ``SiteTestCase``."""
    if name.startswith(_PREFIX) and not name[len(_PREFIX) : len(_PREFIX) + 1].islower():
        return name[len(_PREFIX) :]
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name
