"""Test code recognition: pytest's naming settings, tests, fixtures and helpers."""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import pytest

from backlint.application import CheckRequest, run_check
from backlint.index.collect import collect
from backlint.index.pytestnaming import PytestNaming
from backlint.index.testcode import classify_functions


def _kinds(source: str, naming: PytestNaming | None = None) -> dict[str, str]:
    module = cst.parse_module(textwrap.dedent(source))
    table = collect(module, "tests.test_x", False).table
    assert table is not None
    found = classify_functions(module, table, naming or PytestNaming())
    return {item.qualname: item.kind for item in found.values()}


def test_tests_fixtures_and_helpers() -> None:
    kinds = _kinds(
        """
        import pytest
        import unittest
        from pytest_asyncio import fixture as async_fixture

        @pytest.fixture
        def order(): ...

        @async_fixture
        async def client(): ...

        def make_user(): ...

        def test_create_order(order): ...

        class TestOrders:
            def test_cancel(self): ...
            def helper(self): ...

        class OrderChecks(unittest.TestCase):
            def setUp(self): ...
            def test_total(self): ...

        class Builder:
            def test_like_name(self): ...
        """
    )
    assert kinds == {
        "order": "fixture",
        "client": "fixture",
        "make_user": "helper",
        "test_create_order": "test",
        "TestOrders.test_cancel": "test",
        "TestOrders.helper": "helper",
        "OrderChecks.setUp": "helper",
        "OrderChecks.test_total": "test",
        "Builder.test_like_name": "helper",
    }


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("pytest.ini", "[pytest]\npython_files = check_*.py\npython_functions = check\n"),
        (
            "pyproject.toml",
            "[tool.pytest.ini_options]\n"
            'python_files = ["check_*.py"]\npython_functions = "check"\n',
        ),
        ("tox.ini", "[pytest]\npython_files = check_*.py\npython_functions = check\n"),
        ("setup.cfg", "[tool:pytest]\npython_files = check_*.py\npython_functions = check\n"),
    ],
)
def test_pytest_naming_is_read_from_each_configuration_file(
    tmp_path: Path, name: str, content: str
) -> None:
    (tmp_path / name).write_text(content, encoding="utf-8")
    naming = PytestNaming.from_project(tmp_path)
    assert naming.files == ("check_*.py",)
    assert naming.functions == ("check",)
    assert naming.is_test_path("app/check_orders.py")
    assert not naming.is_test_path("app/test_orders.py")
    assert naming.is_test_path("tests/anything.py")
    assert _kinds("def check_total(): ...\ndef test_total(): ...\n", naming) == {
        "check_total": "test",
        "test_total": "helper",
    }


def test_pyproject_without_pytest_section_keeps_the_defaults(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n', encoding="utf-8")
    assert PytestNaming.from_project(tmp_path) == PytestNaming()


def test_testcase_through_a_base_class_of_another_module(tmp_path: Path) -> None:
    files = {
        "tests/__init__.py": "",
        "tests/base.py": "from django.test import TestCase\nclass ApiCase(TestCase):\n    pass\n",
        "tests/test_orders.py": (
            "from tests.base import ApiCase\n\n"
            "class OrderApi(ApiCase):\n    def test_list(self): ...\n"
        ),
    }
    for relative, source in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(source, encoding="utf-8")
    result = run_check(CheckRequest(paths=(tmp_path,), cwd=tmp_path, select=("BL001",), jobs=1))
    assert result.project is not None
    module = cst.parse_module(files["tests/test_orders.py"])
    table = collect(module, "tests.test_orders", False).table
    assert table is not None
    (test,) = [t for t in classify_functions(module, table, PytestNaming()).values()]
    assert test.kind == "test"
    assert all(requirement.holds(result.project) for requirement in test.requires)


# --- Django projects: Django's runner collects ``test*.py`` ---------------------------

_DJANGO_MANAGE = (
    "import os, sys\n"
    "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'shop.settings')\n"
    "from django.core.management import execute_from_command_line\n"
    "execute_from_command_line(sys.argv)\n"
)


@pytest.mark.parametrize(
    "files",
    [
        {"manage.py": _DJANGO_MANAGE},
        {"apps/api/manage.py": _DJANGO_MANAGE},
        {"requirements.txt": "celery==5.3\nDjango==5.0.1\n"},
        {"pyproject.toml": '[project]\nname = "x"\ndependencies = ["django>=4.2", "rq"]\n'},
        {"pyproject.toml": '[tool.poetry.dependencies]\npython = "^3.11"\nDjango = "^4.2"\n'},
        {"pytest.ini": "[pytest]\nDJANGO_SETTINGS_MODULE = shop.settings\n"},
    ],
    ids=["manage", "nested-manage", "requirements", "pep621", "poetry", "pytest-django"],
)
def test_django_projects_collect_django_test_modules(tmp_path: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text, encoding="utf-8")
    naming = PytestNaming.from_project(tmp_path)
    assert naming.django
    assert naming.is_test_path("shop/tests.py")
    assert naming.is_test_path("shop/tests_api.py")
    assert naming.is_test_path("shop/test_views.py")
    assert not naming.is_test_path("shop/views.py")
    # A management command named ``test_*`` is production code.
    assert not naming.is_test_path("shop/management/commands/test_email.py")


@pytest.mark.parametrize(
    "files",
    [
        {},
        # Flask projects have ``manage.py`` scripts too.
        {"manage.py": "from flask.cli import FlaskGroup\ncli = FlaskGroup()\n"},
        {"requirements.txt": "django-environ==0.11\ndjangorestframework-stubs\n"},
        {"pyproject.toml": '[project]\nname = "django-helpers"\ndependencies = ["flask"]\n'},
    ],
    ids=["nothing", "flask-manage", "django-named-packages", "project-name"],
)
def test_other_projects_keep_pytest_naming_only(tmp_path: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        (tmp_path / relative).write_text(text, encoding="utf-8")
    naming = PytestNaming.from_project(tmp_path)
    assert not naming.django
    assert not naming.is_test_path("shop/tests.py")
    assert naming.is_test_path("shop/test_views.py")


def test_test_named_functions_of_modules_no_runner_collects_are_helpers() -> None:
    source = "def test_ctf_version_is_set(): ...\nclass TestBase:\n    def test_x(self): ...\n"
    module = cst.parse_module(source)
    table = collect(module, "tests.utils", True).table
    assert table is not None
    found = classify_functions(module, table, PytestNaming(), collected=False)
    kinds = {item.qualname: item.kind for item in found.values()}
    # Nothing runs the function; the class's tests run in the classes inheriting it.
    assert kinds == {"test_ctf_version_is_set": "helper", "TestBase.test_x": "test"}


def test_django_tests_module_is_test_code_for_every_rule(tmp_path: Path) -> None:
    """In a Django project an app's ``tests.py`` gets the test rules, not the production
    rules; without Django it is an ordinary module."""
    from cli_helpers import rule_findings, write_files

    write_files(
        tmp_path,
        {
            "shop/__init__.py": "",
            "shop/tests.py": """
            from django.test import TestCase
            from django.utils import timezone

            _seen = {}

            def remember(key, value):
                _seen[key] = value

            class ReportTests(TestCase):
                def test_period_starts_today(self):
                    self.assertEqual(period_start().day, timezone.now().day)
            """,
        },
    )
    assert [d.code for d in rule_findings(tmp_path, "BL301")] == ["BL301"]
    assert rule_findings(tmp_path, "BL701") == []
    (tmp_path / "manage.py").write_text(_DJANGO_MANAGE, encoding="utf-8")
    assert rule_findings(tmp_path, "BL301") == []
    assert [d.span.start.line for d in rule_findings(tmp_path, "BL701")] == [11]
