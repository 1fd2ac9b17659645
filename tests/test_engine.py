"""Engine behaviour: crash isolation, roles decided per project, bad input, parallel runs."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from backlint.application import CheckRequest, run_check
from backlint.config import Settings
from backlint.diagnostics import Position, Severity, Span
from backlint.engine.filepass import FilePass, FileTask
from backlint.rules.base import FileRule
from backlint.rules.errors.swallowed_bare_except import SwallowedBareExcept
from backlint.source import parses_as_python


class ExplodingRule(FileRule):
    """Raises on every call: stands for a rule with a bug."""

    code = "BL999"
    name = "exploding"
    summary = "s"
    fix_text = "f"
    severity = Severity.WARNING

    def visit_Call(self, node: cst.Call) -> None:
        raise ValueError("boom")


def _task(tmp_path: Path, relative: str, text: str) -> FileTask:
    path = tmp_path / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return FileTask(path, relative, relative)


def test_a_crashing_rule_is_reported_by_name_and_the_others_still_run(tmp_path: Path) -> None:
    file_pass = FilePass(Settings(root=tmp_path), [ExplodingRule, SwallowedBareExcept])
    result = file_pass.check(_task(tmp_path, "a.py", "try:\n    f()\nexcept:\n    pass\n"))
    assert [d.code for d in result.diagnostics] == ["BL201"]
    assert len(result.internal_errors) == 1
    message = result.internal_errors[0].message
    assert "BL999" in message and "exploding" in message and "boom" in message


def _write(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _codes(root: Path, jobs: int = 1) -> list[tuple[str, int, str]]:
    result = run_check(CheckRequest(paths=(root,), cwd=root, jobs=jobs, preview=True))
    assert not result.internal_errors
    return [(d.path, d.span.start.line, d.code) for d in result.diagnostics]


def test_models_py_is_a_domain_module_without_django(tmp_path: Path) -> None:
    _write(tmp_path, {"shop/models.py": "def total(order):\n    return 1\n"})
    assert ("shop/models.py", 1, "BL601") in _codes(tmp_path)


def test_models_py_is_a_django_model_module_when_the_project_uses_django(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "shop/models.py": "from django.db import models\ndef total(order):\n    return 1\n",
        },
    )
    assert [c for c in _codes(tmp_path) if c[2] in ("BL601", "BL602")] == []


def test_parallel_and_serial_runs_agree(tmp_path: Path) -> None:
    files = {
        f"app/services/m{i}.py": f"import app.services.m{(i + 1) % 7}\n"
        "def f(x):\n    try:\n        g()\n    except Exception:\n        pass\n"
        "    return True\n"
        for i in range(7)
    }
    _write(tmp_path, files)
    serial = _codes(tmp_path, jobs=1)
    assert serial == _codes(tmp_path, jobs=2)
    assert {code for _, _, code in serial} == {"BL202", "BL411", "BL601", "BL602"}


def test_noqa_directives_follow_ruffs_grammar() -> None:
    from backlint.directives import find_directives

    text = (
        "a = 1  # noqa\n"
        "b = 2  # noqa: BL201, BL202\n"
        "c = 3  # noqa:BL411 reason\n"
        "d = 4  # see the ``# noqa`` docs\n"
        "e = '# noqa: BL201'\n"
        "# backlint: noqa: BL601\n"
    )
    found = {d.line: (d.file_level, tuple(m.code for m in d.codes)) for d in find_directives(text)}
    assert found == {
        1: (False, ()),
        2: (False, ("BL201", "BL202")),
        3: (False, ("BL411",)),
        6: (True, ("BL601",)),
    }


def test_import_cycles_between_packages_with_package_granularity(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "pyproject.toml": '[tool.backlint]\nselect = ["BL411"]\n'
            "[tool.backlint.options.import-cycle]\n"
            'granularity = "package"\n',
            "app/orders/__init__.py": "",
            "app/orders/service.py": "from app.billing.api import charge\n",
            "app/orders/model.py": "class Order: ...\n",
            "app/billing/__init__.py": "",
            "app/billing/api.py": "from app.billing.core import x\n",
            "app/billing/core.py": "from app.orders.model import Order\n",
        },
    )
    result = run_check(CheckRequest(paths=(tmp_path,), cwd=tmp_path, jobs=1, preview=True))
    found = [(d.path, d.span.start.line, d.message) for d in result.diagnostics]
    # Modules form no cycle (service -> api -> core -> model), packages do: one finding,
    # at the first import of the tangle.
    assert found == [
        ("app/billing/core.py", 1, "Import cycle: app.billing -> app.orders -> app.billing")
    ]
    (tmp_path / "pyproject.toml").write_text('[tool.backlint]\nselect = ["BL411"]\n')
    assert _codes(tmp_path) == []  # module by module there is no cycle


def test_an_option_with_fixed_choices_rejects_other_values(tmp_path: Path) -> None:
    from backlint.config import ConfigError, load_settings
    from backlint.rules.catalogue import catalogue

    config = tmp_path / "backlint.toml"
    config.write_text('[options.import-cycle]\ngranularity = "file"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match='must be one of "module", "package"'):
        load_settings(config, tmp_path, catalogue())


def test_a_file_that_hangs_the_parser_is_skipped_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import multiprocessing
    import threading

    from backlint.engine import runner
    from backlint.engine.filepass import FilePass as RealFilePass

    if multiprocessing.get_start_method() != "fork":
        pytest.skip("the stand-in for a stuck parser reaches workers only when they fork")
    original = RealFilePass.check

    def check_or_hang(self: RealFilePass, task: FileTask) -> object:
        if task.path.name == "stuck.py":
            threading.Event().wait()  # never set: a parser that never returns
        return original(self, task)

    monkeypatch.setattr(RealFilePass, "check", check_or_hang)
    tasks = [
        _task(tmp_path, name, "try:\n    f()\nexcept:\n    pass\n")
        for name in ("a.py", "stuck.py", "z.py")
    ]
    results = runner.run_file_pass(
        tasks, Settings(root=tmp_path), (SwallowedBareExcept,), jobs=2, stall_timeout=1.0
    )
    assert [r.path for r in results] == ["a.py", "stuck.py", "z.py"]
    assert [d.code for d in results[0].diagnostics] == ["BL201"]
    assert [d.code for d in results[2].diagnostics] == ["BL201"]
    assert "stalled" in results[1].internal_errors[0].message


def test_a_header_finding_ends_before_the_trailing_comment(tmp_path: Path) -> None:
    _write(tmp_path, {"app/a.py": "try:\n    f()\nexcept:  # why '#'\n    pass\n"})
    result = run_check(CheckRequest(paths=(tmp_path,), cwd=tmp_path, jobs=1, preview=True))
    (finding,) = [d for d in result.diagnostics if d.code == "BL201"]
    assert (finding.span.start.column, finding.span.end.column) == (1, 8)


def test_form_feeds_and_separators_inside_a_line_do_not_shift_lines(tmp_path: Path) -> None:
    # Python ends lines only at \r\n, \r and \n; ``str.splitlines`` also splits at form
    # feeds, file separators and U+2028, which once put a noqa comment and the end of a
    # finding on the wrong line (found by the property tests).
    source = (
        "# a\x1cb\x0cc\u2028d\n"
        "try:\n    send()\nexcept:  # noqa: BL201\n    pass\n"
        "try:\n    send()\nexcept:\n    pass\n"
    )
    _write(tmp_path, {"app/a.py": source})
    result = run_check(
        CheckRequest(paths=(tmp_path,), cwd=tmp_path, jobs=1, select=("BL201", "BL002"))
    )
    assert [(d.code, d.span) for d in result.diagnostics] == [
        ("BL201", Span(Position(8, 1), Position(8, 8)))
    ]


def test_code_libcst_fails_on_is_a_syntax_finding_not_an_internal_error(tmp_path: Path) -> None:
    # Valid Python on which libcst raises a TypeError instead of a ParserSyntaxError.
    _write(tmp_path, {"app/a.py": "x = () if 0 else(lambda:())\n"})
    result = run_check(CheckRequest(paths=(tmp_path,), cwd=tmp_path, jobs=1))
    assert not result.internal_errors
    (finding,) = result.diagnostics
    assert finding.code == "BL001"
    assert "the libcst parser fails on it (TypeError" in finding.message
    assert not parses_as_python("x = () if 0 else(lambda:())\n")


def test_string_annotations_libcst_fails_on_name_nothing(tmp_path: Path) -> None:
    bad = "() if 0 else(lambda:())"
    deep = "(" * 300 + "int" + ")" * 300  # deeper than the parsers allow
    source = (
        "from fastapi import APIRouter, Depends\n"
        "router = APIRouter()\n"
        '@router.get("/x")\n'
        f'async def read(a: "{bad}", b: "Annotated[{bad}, Depends(db)]", c: "{deep}") -> "{bad}":\n'
        "    return None\n"
    )
    _write(tmp_path, {"app/api/routes/items.py": source})
    result = run_check(
        CheckRequest(paths=(tmp_path,), cwd=tmp_path, jobs=1, select=("ALL",), preview=True)
    )
    assert not result.internal_errors
    assert "BL001" not in {d.code for d in result.diagnostics}
