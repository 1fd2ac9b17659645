from __future__ import annotations

import libcst as cst

from backlint.diagnostics import Severity
from backlint.engine.context import FileContext
from backlint.index.testcode import TestFunction
from backlint.rules.base import Example, FileRule, Option

_DEFAULT_PREFIX = "test"


class TestFunctionNaming(FileRule):
    """
    ## What it does
    Checks that the name of each test says what is tested, under which condition and
    with which outcome: after the `test_` prefix it has at least `min-segments` (3)
    words separated by `_`, as in `test_create_duplicate_email_raises_conflict`. A
    test method of a test class needs one word fewer, since the class names what is
    tested (`TestCreateUser.test_duplicate_email_raises`). With `require-connector`
    one of the words must also be a `connector-words` entry (`when`, `with`, `returns`,
    `raises`, ...).

    Only tests are checked, as pytest collects them (`python_functions` is honoured:
    with `python_functions = check` the prefix is `check_`): fixtures, helpers,
    `setUp`/`tearDown` and everything in `conftest.py` are left alone. The rule is
    off by default.

    ## Why is this bad?
    A test's name is what a failing CI run shows. `test_create` or `test_user_works`
    says which code broke but not which behaviour, so the reader opens the test to
    learn what was expected; three words (method, condition, outcome) usually say it.

    ## Example
    ```python
    def test_create_user(): ...
    def test_login(): ...
    ```

    Use instead:
    ```python
    def test_create_user_with_duplicate_email_raises_conflict(): ...
    def test_login_with_expired_password_returns_403(): ...
    ```

    ## How to fix
    Rename to `test_<method>_<condition>_<expected>`. Tune the shape with
    `min-segments`, and turn on `require-connector` to ask for a word such as `when`
    or `returns` between the parts.

    ## Calibration
    On saleor, netbox, redash, dispatch, mealie, CTFd, plane and the FastAPI
    template:

    - `__` separates words like `_` (dispatch writes `test_get_by_name_or_default__name`).
    - Upper-case words are accepted: saleor suffixes end-to-end tests with case ids
      (`..._CORE_0216`) and names keep acronyms; letter case is pep8-naming's N802.
    - Methods of test classes need one word fewer, since the class names the subject:
      `TestCreateUser.test_returns_201` is complete. This halved the findings on redash
      (199 to 52), whose classes are named per resource and verb
      (`TestDashboardResourceGet.test_get_dashboard`); netbox's filter-set methods
      (`SiteTestCase.test_q`, `test_name`) stay flagged.
    - The default connector words were widened from the four `when`/`with`/
      `returns`/`raises` (found in 26 % of the 16,600 names of three words or more in
      those suites) to also accept `if`, `without`, `after`, `before`, `for` and `fails`
      (40 %); `require-connector` stays off, since most descriptive names in those
      suites use none (`test_query_gift_card_no_permission`).
    """

    code = "BL731"
    name = "test-function-naming"
    summary = "A test's name does not say the method, the condition and the expected outcome."
    fix_text = "Rename to `test_<method>_<condition>_<expected>`."
    severity = Severity.INFO
    default_enabled = False
    include_tests = True
    tags = ("tests", "naming", "PQG-1")
    options = (
        Option(
            "min-segments",
            3,
            "Words a test function's name needs after its prefix (one fewer for a method "
            "of a test class).",
        ),
        Option(
            "require-connector",
            False,
            "Also require one of `connector-words` among the words of the name.",
        ),
        Option(
            "connector-words",
            (
                "when",
                "if",
                "with",
                "without",
                "after",
                "before",
                "for",
                "returns",
                "raises",
                "fails",
            ),
            "Words that join the parts of a test name, for `require-connector`.",
        ),
    )
    invalid = (
        Example("def test_user(): ...\n", path="tests/test_users.py", expect=1),
        Example("def test_create_works(): ...\n", path="tests/test_users.py", expect=1),
        Example(
            """
            import unittest

            class UserTests(unittest.TestCase):
                def testCreate(self): ...
                def test_create(self): ...
            """,
            path="tests/test_users.py",
            expect=2,
        ),
    )
    valid = (
        Example(
            """
            def test_create_duplicate_email_raises_conflict(): ...
            def test_get_by_name_or_default__name(): ...
            def test_order_is_expired_after_time_CORE_0214(): ...
            def make_user(): ...
            """,
            path="tests/test_users.py",
        ),
        Example(
            """
            class TestCreateUser:
                def setup_method(self): ...
                def test_duplicate_email_raises(self): ...
            """,
            path="tests/test_users.py",
        ),
        Example(
            """
            import pytest

            @pytest.fixture
            def user(): ...
            """,
            path="tests/test_users.py",
        ),
        Example("def test_user(): ...\n", path="app/services/users.py"),
    )

    def applies_to(self, ctx: FileContext) -> bool:
        return ctx.is_test and not ctx.relative.endswith("conftest.py")

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        function = self.ctx.test_functions.get(id(node))
        if function is None or function.kind != "test":
            return
        problem = self.problem(function)
        if problem is not None:
            self.report(
                node.name,
                f"Test name `{node.name.value}` {problem}",
                conditions=function.requires,
            )

    def problem(self, function: TestFunction) -> str | None:
        """What is wrong with the name of a test, or None."""
        name = function.node.name.value
        prefix = _prefix(name)
        rest = name[len(prefix) :]
        if not rest.startswith("_"):
            shape = f"`{prefix}_<method>_<condition>_<expected>`"
            return f"does not separate its words with `_` after `{prefix}`; use {shape}"
        words = [word for word in rest.split("_") if word]
        option = self.option("min-segments")
        minimum = option if isinstance(option, int) else 3
        count = f"{len(words)} word{'' if len(words) == 1 else 's'} after `{prefix}_`"
        if function.class_node is None and len(words) < minimum:
            return (
                f"has {count}, fewer than {minimum}: name the method, the condition and "
                f"the expected outcome, as in `{prefix}_<method>_<condition>_<expected>`"
            )
        # In a test class the class's name says what is tested: one word fewer.
        in_class = max(1, minimum - 1)
        if function.class_node is not None and len(words) < in_class:
            return (
                f"has {count}, fewer than {in_class} for a method of a test class: name the "
                f"condition and the expected outcome, as in `{prefix}_<condition>_<expected>`"
            )
        if self.option("require-connector"):
            connectors = self.str_list_option("connector-words")
            if not {word.lower() for word in words} & set(connectors):
                shown = ", ".join(f"`{word}`" for word in connectors[:4])
                return f"has no connector word ({shown}, ...) between its parts"
        return None


def _prefix(name: str) -> str:
    """The prefix pytest collected the test by: its first word (``test``, ``tests``,
    or ``check`` in a project with ``python_functions = check``), or ``test`` for a
    camelCase ``testCreateUser``."""
    first = name.split("_", 1)[0]
    if name.startswith(_DEFAULT_PREFIX) and not first.islower():
        return _DEFAULT_PREFIX
    return first
