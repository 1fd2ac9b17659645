"""Configuration loading: discovery, validation errors that name the key and the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from backlint.config import ConfigError, find_config, load_settings
from backlint.rules.catalogue import catalogue


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_pyproject_without_backlint_table_is_skipped(tmp_path: Path) -> None:
    _write(tmp_path / "pyproject.toml", "[tool.backlint]\nselect = ['BL2']\n")
    _write(tmp_path / "pkg" / "pyproject.toml", "[tool.other]\nx = 1\n")
    assert find_config(tmp_path / "pkg") == tmp_path / "pyproject.toml"


def test_backlint_toml_wins_in_the_same_directory(tmp_path: Path) -> None:
    _write(tmp_path / "pyproject.toml", "[tool.backlint]\n")
    _write(tmp_path / "backlint.toml", "select = ['BL2']\n")
    assert find_config(tmp_path) == tmp_path / "backlint.toml"


def test_values_are_read(tmp_path: Path) -> None:
    config = _write(
        tmp_path / "pyproject.toml",
        "[tool.backlint]\nsrc = ['src']\nselect = ['BL2']\nignore = ['BL202']\npreview = true\n"
        "per-file-ignores = { 'tests/**' = ['BL601'] }\n"
        "[tool.backlint.roles]\nservice = ['**/logic/**']\n"
        "[tool.backlint.options.swallowed-broad-except]\nlogger-names = ['audit']\n",
    )
    settings = load_settings(config, tmp_path, catalogue())
    assert settings.src == (tmp_path / "src",)
    assert settings.select == ("BL2",)
    assert settings.ignore == ("BL202",)
    assert settings.preview is True
    assert settings.per_file_ignores == (("tests/**", ("BL601",)),)
    assert settings.roles[0] == ("service", ("**/logic/**",))
    assert settings.options_for("swallowed-broad-except") == {"logger-names": ("audit",)}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("colour = 1\n", "unknown key `tool.backlint.colour`"),
        ("select = 'BL2'\n", "`tool.backlint.select` must be a list of strings"),
        ("select = ['BL999']\n", "unknown rule code or name `BL999`"),
        ("[tool.backlint.options.nope]\nx = 1\n", "`tool.backlint.options.nope` is not a rule"),
        (
            "[tool.backlint.options.swallowed-broad-except]\nlogger-names = 'x'\n",
            "logger-names` must be a list of strings",
        ),
        (
            "[tool.backlint.options.swallowed-broad-except]\ncolour = 1\n",
            "unknown option `tool.backlint.options.swallowed-broad-except.colour`",
        ),
        ("[tool.backlint.roles]\nwidgets = ['x']\n", "unknown role `tool.backlint.roles.widgets`"),
        ("respect-gitignore = 'yes'\n", "must be true or false"),
        ("preview = 1\n", "`tool.backlint.preview` must be true or false"),
    ],
)
def test_errors_name_the_key_and_the_file(tmp_path: Path, body: str, expected: str) -> None:
    header = "" if body.startswith("[") else "[tool.backlint]\n"
    config = _write(tmp_path / "pyproject.toml", header + body)
    with pytest.raises(ConfigError) as raised:
        load_settings(config, tmp_path, catalogue())
    assert expected in str(raised.value)
    assert str(config) in str(raised.value)


def test_invalid_toml_is_a_config_error(tmp_path: Path) -> None:
    config = _write(tmp_path / "backlint.toml", "select = [\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_settings(config, tmp_path, catalogue())
