"""Test code recognition: pytest's naming settings, tests, fixtures and helpers."""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import pytest

from backlint.application import CheckRequest, run_check
from backlint.index.collect import collect
from backlint.index.testcode import PytestNaming, classify_functions


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
