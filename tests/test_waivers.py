"""``# backlint: allow CODE reason`` waivers and ``require-reason-for``."""

from __future__ import annotations

from pathlib import Path

from backlint.application import CheckRequest, run_check
from backlint.diagnostics import Diagnostic

# Built with + so that backlint's own secret rules do not flag this file.
SECRET = "9f8a7b6c" + "5d4e3f2a1b0c"


def _check(tmp_path: Path, source: str, config: str = "") -> list[Diagnostic]:
    (tmp_path / "pyproject.toml").write_text(f"[tool.backlint]\n{config}", encoding="utf-8")
    (tmp_path / "app").mkdir(exist_ok=True)
    (tmp_path / "app" / "client.py").write_text(source, encoding="utf-8")
    request = CheckRequest(paths=(tmp_path,), cwd=tmp_path, select=("BL801", "BL002"), jobs=1)
    return run_check(request).diagnostics


def test_a_waiver_without_a_reason_does_not_silence_a_rule_that_requires_one(
    tmp_path: Path,
) -> None:
    found = _check(tmp_path, f'API_TOKEN = "{SECRET}"  # backlint: allow BL801\n')
    assert [d.code for d in found] == ["BL801"]  # and no BL002 for the waiver
    assert "waiver on this line needs a reason" in found[0].message


def test_a_waiver_with_a_reason_silences(tmp_path: Path) -> None:
    source = f'API_TOKEN = "{SECRET}"  # backlint: allow BL801 SEC-42 sandbox key\n'
    assert _check(tmp_path, source) == []


def test_require_reason_for_can_be_emptied(tmp_path: Path) -> None:
    source = f'API_TOKEN = "{SECRET}"  # backlint: allow BL801\n'
    assert _check(tmp_path, source, "require-reason-for = []\n") == []
