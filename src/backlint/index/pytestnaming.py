"""pytest's naming settings and whether a project is a Django project, read from disk.

What a test file is (``python_files``, ``tests/`` folders, ``conftest.py``, Django's
``test*.py``) is decided before any file is parsed: discovery and the configuration need
it, so this module imports no parser (``index/testcode.py`` classifies the functions of a
parsed test file).
"""

from __future__ import annotations

import configparser
import fnmatch
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

# ``testing`` holds shared test base classes and helpers in many projects (netbox's
# ``utilities/testing/``); it is test code even though its modules are not tests.
TEST_DIRECTORIES = frozenset({"tests", "test", "testing"})

# Django's test runner (``DiscoverRunner.pattern``) collects these modules in every app.
DJANGO_TEST_FILES = "test*.py"
# A Django management command is production code whatever its name
# (``management/commands/test_email.py`` sends a test e-mail).
_COMMANDS = ("management", "commands")
# How deep below the root a Django project's ``manage.py`` is looked for (``manage.py``,
# ``src/manage.py``, ``apps/api/manage.py``).
_MANAGE_DEPTH = 2
_NOT_PROJECT_FOLDERS = frozenset(
    {"node_modules", "venv", "env", "site-packages", "__pycache__", "build", "dist"}
)
_DEPENDENCY_FILES = ("requirements.txt", "requirements-dev.txt", "setup.cfg", "Pipfile")
# ``django`` as a requirement: ``Django==5.0``, ``"django>=4"``, ``django = "^4.2"``.
_DJANGO_REQUIREMENT = re.compile(r"""^\s*["']?django\s*(?:[<>=!~;\[@"']|$)""", re.I | re.M)


@dataclass(frozen=True)
class PytestNaming:
    """pytest's collection settings: file globs, function and class name prefixes."""

    files: tuple[str, ...] = ("test_*.py", "*_test.py")
    functions: tuple[str, ...] = ("test",)
    classes: tuple[str, ...] = ("Test",)
    # The project is a Django project: Django's runner also collects ``test*.py``.
    django: bool = False

    @classmethod
    def from_project(cls, root: Path) -> PytestNaming:
        """The settings of the first pytest configuration at ``root``, in pytest's order
        (``pytest.ini``, ``pyproject.toml``, ``tox.ini``, ``setup.cfg``); defaults when
        there is none or it cannot be read. ``django`` says whether ``root`` holds a
        Django project (see ``is_django_project``)."""
        for name in ("pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg"):
            values = _read_pytest_section(root / name)
            if values is not None:
                return cls(
                    files=_words(values.get("python_files")) or cls.files,
                    functions=_words(values.get("python_functions")) or cls.functions,
                    classes=_words(values.get("python_classes")) or cls.classes,
                    # pytest-django's setting: the suite runs a Django project.
                    django=any(k.lower() == "django_settings_module" for k in values)
                    or is_django_project(root),
                )
        return cls(django=is_django_project(root))

    def is_test_path(self, relative_path: str) -> bool:
        """A file under a ``tests``/``test``/``testing`` directory, a ``conftest.py``,
        or a module a test runner collects (``collects``)."""
        path = PurePosixPath(relative_path)
        if any(part in TEST_DIRECTORIES for part in path.parts[:-1]):
            return True
        if path.name == "conftest.py":
            return True
        return self.collects(relative_path)

    def collects(self, relative_path: str) -> bool:
        """A module whose tests a runner collects: one matching ``python_files``, or in a
        Django project ``test*.py`` (Django's runner), except management commands."""
        path = PurePosixPath(relative_path)
        if tuple(path.parts[-3:-1]) == _COMMANDS:
            return False
        patterns = (*self.files, DJANGO_TEST_FILES) if self.django else self.files
        return any(fnmatch.fnmatchcase(path.name, pattern) for pattern in patterns)

    def is_test_function(self, name: str) -> bool:
        return _matches(name, self.functions)

    def is_test_class(self, name: str) -> bool:
        return _matches(name, self.classes)


def is_django_project(root: Path) -> bool:
    """Whether ``root`` holds a Django project, from what is on disk before any file is
    parsed (the file pass needs the answer): a ``manage.py`` that runs Django at most two
    directories down, or ``django`` among the requirements declared at the root
    (``pyproject.toml``, ``requirements*.txt``, ``setup.cfg``, ``Pipfile``)."""
    if any(_mentions_django(folder / "manage.py") for folder in _folders(root, _MANAGE_DEPTH)):
        return True
    names = [*_DEPENDENCY_FILES, *(p.name for p in sorted(root.glob("requirements*.txt")))]
    if any(_DJANGO_REQUIREMENT.search(_text(root / name)) for name in names):
        return True
    return _requires_django(root / "pyproject.toml")


def _folders(root: Path, depth: int) -> list[Path]:
    """``root`` and its folders down to ``depth`` levels, without hidden folders and the
    usual homes of installed packages (``node_modules``, virtual environments)."""
    found = [root]
    level = [root]
    for _ in range(depth):
        below: list[Path] = []
        for folder in level:
            try:
                children = sorted(folder.iterdir())
            except OSError:
                continue
            below += [
                child
                for child in children
                if child.is_dir()
                and not child.name.startswith(".")
                and child.name not in _NOT_PROJECT_FOLDERS
            ]
        found += below
        level = below
    return found


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8") if path.is_file() else ""
    except (OSError, UnicodeDecodeError):
        return ""


def _mentions_django(manage: Path) -> bool:
    """A ``manage.py`` of Django (Flask projects have ``manage.py`` scripts too)."""
    return "django" in _text(manage)


def _requires_django(pyproject: Path) -> bool:
    """``django`` in the ``[project]`` dependencies (optional ones and dependency groups
    included) or in Poetry's dependencies."""
    try:
        data = tomllib.loads(_text(pyproject))
    except tomllib.TOMLDecodeError:
        return False
    project = _table(data, "project")
    requirements = [
        *_strings(project.get("dependencies")),
        *(
            item
            for extra in _table(project, "optional-dependencies").values()
            for item in _strings(extra)
        ),
        *(item for group in _table(data, "dependency-groups").values() for item in _strings(group)),
        *_table(_table(_table(data, "tool"), "poetry"), "dependencies"),
    ]
    return any(_DJANGO_REQUIREMENT.search(item) for item in requirements)


def _table(data: Mapping[str, object], key: str) -> Mapping[str, object]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _strings(value: object) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _matches(name: str, patterns: Sequence[str]) -> bool:
    """pytest's rule: a pattern with a glob character is a glob, otherwise a prefix."""
    return any(
        fnmatch.fnmatchcase(name, p) if any(c in p for c in "*?[") else name.startswith(p)
        for p in patterns
    )


def _words(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(value.split())
    if isinstance(value, list):
        return tuple(str(item) for item in value)
    return ()


def _read_pytest_section(path: Path) -> Mapping[str, object] | None:
    """The pytest section of one configuration file, or None if it has none."""
    if not path.is_file():
        return None
    try:
        if path.name == "pyproject.toml":
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            tool = data.get("tool", {})
            section = tool.get("pytest", {}) if isinstance(tool, dict) else {}
            options = section.get("ini_options", section) if isinstance(section, dict) else None
            return options if isinstance(options, dict) and "tool" in data else None
        parser = configparser.ConfigParser(interpolation=None)
        parser.read_string(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, configparser.Error):
        return None  # an unreadable configuration is reported by the rules that read it
    section_name = "tool:pytest" if path.name == "setup.cfg" else "pytest"
    if not parser.has_section(section_name):
        return None
    return dict(parser.items(section_name))
