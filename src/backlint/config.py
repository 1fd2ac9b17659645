"""Settings from ``[tool.backlint]`` in pyproject.toml or the top level of backlint.toml.

Loading validates everything up front (keys, types, rule codes, rule options) and raises
``ConfigError`` naming the key and the file; the CLI turns that into exit status 2.
The resulting ``Settings`` is immutable and picklable: it is sent once to every worker.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

from backlint.index.pytestnaming import PytestNaming
from backlint.rules.metadata import OptionValue, RuleInfo
from backlint.selection import SelectionError, check_selectors

CONFIG_FILES = ("backlint.toml", "pyproject.toml")

DEFAULT_EXCLUDE = (
    ".backlint_cache",
    ".bzr",
    ".direnv",
    ".eggs",
    ".git",
    ".hg",
    ".mypy_cache",
    ".nox",
    ".pytest_cache",
    ".ruff_cache",
    ".svn",
    ".tox",
    ".venv",
    "__pypackages__",
    "_build",
    "buck-out",
    "build",
    "dist",
    "node_modules",
    "site-packages",
    "venv",
)

# rules.md §2. Order matters: the first role whose globs match a file wins.
DEFAULT_ROLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "routes",
        (
            "**/routes.py",
            "**/api.py",
            "**/routes/**",
            "**/routers/**",
            "**/views.py",
            "**/views/**",
            "**/endpoints.py",
            "**/endpoints/**",
        ),
    ),
    ("service", ("**/service.py", "**/services.py", "**/services/**", "**/use_cases/**")),
    ("domain", ("**/domain.py", "**/domain/**", "**/entities.py", "**/models.py")),
    (
        "repository",
        (
            "**/repository.py",
            "**/repositories/**",
            "**/repos/**",
            "**/adapters/**",
            "**/infrastructure/**",
        ),
    ),
    (
        "schemas",
        ("**/schemas.py", "**/schemas/**", "**/schema/**", "**/dto.py", "**/serializers.py"),
    ),
    (
        "composition_root",
        (
            "**/main.py",
            "**/dependencies.py",
            "**/deps.py",
            "**/container.py",
            "**/settings.py",
            "**/config.py",
        ),
    ),
    ("exceptions", ("**/exceptions.py", "**/errors.py")),
)

OUTPUT_FORMATS = (
    "full",
    "concise",
    "json",
    "json-lines",
    "sarif",
    "github",
    "gitlab",
    "markdown",
)


class ConfigError(Exception):
    """A configuration problem a user has to fix; the message names the key and the file."""


@dataclass(frozen=True)
class Settings:
    """The validated configuration of one run."""

    root: Path
    config_file: Path | None = None
    src: tuple[Path, ...] = ()
    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    respect_gitignore: bool = True
    force_exclude: bool = False
    include_low_confidence: bool = False
    fix: bool = False  # apply safe fixes (``--fix``)
    unsafe_fixes: bool = False  # also apply, and show, unsafe fixes (``--unsafe-fixes``)
    # Preview rules (below the precision bar of docs/precision.md) count as on by default.
    preview: bool = False
    baseline: Path | None = None  # report only findings that are not in this file
    # Where the cache lives (``cache-dir``); None: ``.backlint_cache`` in the root.
    cache_dir: Path | None = None
    # Codes whose ``# backlint: allow CODE <reason>`` waivers must give a reason.
    require_reason_for: tuple[str, ...] = ("BL012", "BL721", "BL801", "BL901", "BL903")
    output_format: str | None = None
    # Report only findings that are new since this git revision (``--new-from-rev``).
    new_from_rev: str | None = None
    roles: tuple[tuple[str, tuple[str, ...]], ...] = DEFAULT_ROLES
    rule_options: tuple[tuple[str, tuple[tuple[str, OptionValue], ...]], ...] = ()
    # pytest's collection settings, read from the project's pytest configuration.
    pytest: PytestNaming = field(default_factory=PytestNaming)

    def options_for(self, rule_name: str) -> dict[str, OptionValue]:
        for name, values in self.rule_options:
            if name == rule_name:
                return dict(values)
        return {}

    def source_roots(self) -> tuple[Path, ...]:
        return self.src or (self.root / "src", self.root)

    def relocated(self, root: Path) -> Settings:
        """The same settings for a copy of the project at ``root`` (the base tree of
        ``--new-from-rev``): paths inside the project move with it; the cache and the
        baseline stay where they are."""

        def moved(path: Path) -> Path:
            try:
                return root / path.relative_to(self.root)
            except ValueError:
                return path

        return replace(
            self,
            root=root,
            config_file=None if self.config_file is None else moved(self.config_file),
            src=tuple(moved(path) for path in self.src),
        )


def find_config(start: Path) -> Path | None:
    """The nearest backlint.toml, or pyproject.toml with a ``[tool.backlint]`` table."""
    for directory in (start, *start.parents):
        for name in CONFIG_FILES:
            candidate = directory / name
            if not candidate.is_file():
                continue
            if name == "backlint.toml" or _has_backlint_table(candidate):
                return candidate
    return None


def _has_backlint_table(pyproject: Path) -> bool:
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return False
    except tomllib.TOMLDecodeError as error:
        # It may hold the [tool.backlint] table we are looking for: say so, as ruff does.
        raise ConfigError(f"{pyproject}: invalid TOML: {error}") from None
    tool = data.get("tool")
    return isinstance(tool, dict) and "backlint" in tool


def _read_table(path: Path) -> Mapping[str, object]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"{path}: cannot read configuration: {error.strerror}") from error
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: configuration is not valid UTF-8") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from error
    table: object = data
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        table = tool.get("backlint", {}) if isinstance(tool, dict) else {}
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: `tool.backlint` must be a table")
    return table


class _Reader:
    """Typed access to a TOML table with errors that name the key and the file."""

    def __init__(self, path: Path, prefix: str) -> None:
        self.path = path
        self.prefix = prefix

    def fail(self, key: str, expected: str) -> ConfigError:
        return ConfigError(f"{self.path}: `{self.prefix}{key}` must be {expected}")

    def str_list(self, table: Mapping[str, object], key: str) -> tuple[str, ...]:
        value = table[key]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.fail(key, "a list of strings")
        return tuple(value)

    def boolean(self, table: Mapping[str, object], key: str) -> bool:
        value = table[key]
        if not isinstance(value, bool):
            raise self.fail(key, "true or false")
        return value

    def subtable(self, table: Mapping[str, object], key: str) -> Mapping[str, object]:
        value = table[key]
        if not isinstance(value, dict):
            raise self.fail(key, "a table")
        return value


_KNOWN_KEYS = frozenset(
    {
        "src",
        "select",
        "extend-select",
        "ignore",
        "per-file-ignores",
        "exclude",
        "extend-exclude",
        "respect-gitignore",
        "force-exclude",
        "include-low-confidence",
        "fix",
        "unsafe-fixes",
        "preview",
        "require-reason-for",
        "baseline",
        "cache-dir",
        "output-format",
        "new-from-rev",
        "roles",
        "options",
    }
)


def load_settings(
    config_file: Path | None, default_root: Path, rules: Mapping[str, RuleInfo]
) -> Settings:
    """Read and validate ``config_file`` against the known ``rules``.

    Without a file the defaults apply, with ``default_root`` as the project root.
    """
    if config_file is None:
        return Settings(root=default_root)
    config_file = config_file.resolve()
    table = _read_table(config_file)
    prefix = "tool.backlint." if config_file.name == "pyproject.toml" else ""
    reader = _Reader(config_file, prefix)
    for key in table:
        if key not in _KNOWN_KEYS:
            raise ConfigError(f"{config_file}: unknown key `{prefix}{key}`")

    try:
        return _build(table, reader, config_file, rules)
    except SelectionError as error:
        raise ConfigError(str(error)) from None


def _build(
    table: Mapping[str, object], reader: _Reader, config_file: Path, rules: Mapping[str, RuleInfo]
) -> Settings:
    prefix, root = reader.prefix, config_file.parent
    values: dict[str, object] = {"root": root, "config_file": config_file}
    if "src" in table:
        values["src"] = tuple(root / entry for entry in reader.str_list(table, "src"))
    for key, attribute in (
        ("select", "select"),
        ("extend-select", "extend_select"),
        ("ignore", "ignore"),
    ):
        if key in table:
            selectors = reader.str_list(table, key)
            check_selectors(selectors, rules, f"{config_file}: `{prefix}{key}`")
            values[attribute] = selectors
    for key, attribute in (("baseline", "baseline"), ("cache-dir", "cache_dir")):
        if key in table:
            value = table[key]
            if not isinstance(value, str) or not value:
                raise reader.fail(key, "a path (a string)")
            values[attribute] = root / value
    if "require-reason-for" in table:
        codes = reader.str_list(table, "require-reason-for")
        check_selectors(codes, rules, f"{config_file}: `{prefix}require-reason-for`")
        values["require_reason_for"] = codes
    if "per-file-ignores" in table:
        pfi = reader.subtable(table, "per-file-ignores")
        entries = []
        for pattern in pfi:
            sub = _Reader(config_file, f"{prefix}per-file-ignores.")
            selectors = sub.str_list(pfi, pattern)
            check_selectors(
                selectors, rules, f"{config_file}: `{prefix}per-file-ignores.{pattern}`"
            )
            entries.append((pattern, selectors))
        values["per_file_ignores"] = tuple(entries)
    for key, attribute in (("exclude", "exclude"), ("extend-exclude", "extend_exclude")):
        if key in table:
            values[attribute] = reader.str_list(table, key)
    for key, attribute in (
        ("respect-gitignore", "respect_gitignore"),
        ("force-exclude", "force_exclude"),
        ("include-low-confidence", "include_low_confidence"),
        ("fix", "fix"),
        ("unsafe-fixes", "unsafe_fixes"),
        ("preview", "preview"),
    ):
        if key in table:
            values[attribute] = reader.boolean(table, key)
    if "output-format" in table:
        output_format = table["output-format"]
        if output_format not in OUTPUT_FORMATS:
            raise reader.fail("output-format", "one of " + ", ".join(OUTPUT_FORMATS))
        values["output_format"] = output_format
    if "new-from-rev" in table:
        revision = table["new-from-rev"]
        if not isinstance(revision, str) or not revision:
            raise reader.fail("new-from-rev", "a git revision (a string)")
        values["new_from_rev"] = revision
    if "roles" in table:
        values["roles"] = _read_roles(reader, table)
    if "options" in table:
        values["rule_options"] = _read_options(reader, table, rules)
    return Settings(**values)  # type: ignore[arg-type]


def _read_roles(
    reader: _Reader, table: Mapping[str, object]
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    roles = reader.subtable(table, "roles")
    sub = _Reader(reader.path, f"{reader.prefix}roles.")
    known = [name for name, _ in DEFAULT_ROLES]
    merged = dict(DEFAULT_ROLES)
    for name in roles:
        if name not in merged and name != "model":
            raise ConfigError(
                f"{reader.path}: unknown role `{reader.prefix}roles.{name}` "
                f"(known: {', '.join([*known, 'model'])})"
            )
        merged[name] = sub.str_list(roles, name)
    # Configured roles come first so that a user's glob beats a default one.
    ordered = [name for name in roles] + [name for name in known if name not in roles]
    return tuple((name, merged[name]) for name in ordered)


def _read_options(
    reader: _Reader, table: Mapping[str, object], rules: Mapping[str, RuleInfo]
) -> tuple[tuple[str, tuple[tuple[str, OptionValue], ...]], ...]:
    options = reader.subtable(table, "options")
    by_name = {rule.name: rule for rule in rules.values()}
    result = []
    for rule_name, settings in options.items():
        key = f"{reader.prefix}options.{rule_name}"
        rule = by_name.get(rule_name)
        if rule is None:
            raise ConfigError(f"{reader.path}: `{key}` is not a rule name")
        if not isinstance(settings, dict):
            raise ConfigError(f"{reader.path}: `{key}` must be a table")
        declared = {option.name: option for option in rule.options}
        parsed: list[tuple[str, OptionValue]] = []
        for option_name, value in settings.items():
            option = declared.get(option_name)
            if option is None:
                names = ", ".join(sorted(declared)) or "none"
                raise ConfigError(
                    f"{reader.path}: unknown option `{key}.{option_name}` (known: {names})"
                )
            try:
                parsed.append((option_name, option.validate(value)))
            except TypeError as error:
                raise ConfigError(f"{reader.path}: `{key}.{option_name}` must be {error}") from None
        result.append((rule_name, tuple(parsed)))
    return tuple(result)
