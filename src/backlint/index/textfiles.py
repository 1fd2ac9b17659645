"""Which non-Python files backlint reads, and as what (product.md "What check reads").

Two kinds: pytest's configuration files (for BL721's rerun options) and text fixtures
under test directories (JSON, YAML, TOML, INI, ``.env``, recorded cassettes: for BL802's
token formats). A rule declares the kinds it reads; files of a kind no enabled rule
reads are never opened.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from backlint.index.pytestnaming import TEST_DIRECTORIES

PYTEST_CONFIG = "pytest-config"
TEST_FIXTURE = "test-fixture"

PYTEST_CONFIG_NAMES = frozenset({"pyproject.toml", "pytest.ini", "setup.cfg", "tox.ini"})
FIXTURE_SUFFIXES = frozenset({".json", ".yaml", ".yml", ".toml", ".ini", ".cfg"})


def text_kind(relative_path: str) -> str | None:
    """The kind of a non-Python file from its path relative to the project root."""
    path = PurePosixPath(relative_path)
    if path.name in PYTEST_CONFIG_NAMES:
        return PYTEST_CONFIG
    in_tests = any(part in TEST_DIRECTORIES for part in path.parts[:-1])
    if in_tests and (path.suffix in FIXTURE_SUFFIXES or path.name.startswith(".env")):
        return TEST_FIXTURE
    return None
