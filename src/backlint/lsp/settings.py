"""The client's settings for backlint, from ``initializationOptions``,
``workspace/didChangeConfiguration`` or the client's answer to ``workspace/configuration``
(section ``backlint``, per root).

The first two may send the settings bare or under a ``backlint`` key (VS Code's
``settings.json`` sends ``{"backlint": {...}}``). Unknown keys are ignored; a value of
the wrong type is reported and ignored, so one typo never stops the server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

ON_TYPE, ON_SAVE = "onType", "onSave"
# The section clients keep backlint's settings under (workspace/configuration).
SECTION = "backlint"
# Every key the server reads, as the documentation must name them (docs/editors.md;
# tests/test_lsp_docs.py checks it). ``config`` and ``extendSelect`` are accepted
# spellings of ``configuration`` and ``select``.
KEYS = ("configuration", "select", "ignore", "run", "unsafeFixes", "includeLowConfidence")
ALIASES = {"config": "configuration", "extendSelect": "select"}


@dataclass(frozen=True)
class ServerSettings:
    """What a client can set. ``select``/``ignore`` come on top of the configuration
    file's (``--extend-select``/``--ignore``)."""

    config: Path | None = None
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    run: str = ON_TYPE
    unsafe_fixes: bool = False
    include_low_confidence: bool = False
    problems: tuple[str, ...] = field(default=(), compare=False)


def _unwrapped(raw: object) -> object:
    if isinstance(raw, Mapping) and isinstance(raw.get(SECTION), Mapping):
        return raw[SECTION]
    return raw


def has_settings(raw: object) -> bool:
    """Whether ``raw`` sets anything: clients that expect the server to pull its
    settings send ``null`` or ``{}`` with a configuration change, and answer ``null``
    or ``{}`` for a section they know nothing of."""
    raw = _unwrapped(raw)
    return isinstance(raw, Mapping) and bool(raw)


def read_settings(raw: object) -> ServerSettings:
    """``raw`` (JSON from the client) as settings; what cannot be read is in ``problems``."""
    raw = _unwrapped(raw)
    if not isinstance(raw, Mapping):
        return ServerSettings()
    problems: list[str] = []
    config = _string(raw, ("configuration", "config"), problems)
    run = _string(raw, ("run",), problems) or ON_TYPE
    if run not in (ON_TYPE, ON_SAVE):
        problems.append(f"run: expected {ON_TYPE!r} or {ON_SAVE!r}, got {run!r}")
        run = ON_TYPE
    return ServerSettings(
        config=Path(config).expanduser() if config else None,
        select=_codes(raw, ("select", "extendSelect"), problems),
        ignore=_codes(raw, ("ignore",), problems),
        run=run,
        unsafe_fixes=_flag(raw, "unsafeFixes", problems),
        include_low_confidence=_flag(raw, "includeLowConfidence", problems),
        problems=tuple(problems),
    )


def _string(raw: Mapping[str, object], keys: tuple[str, ...], problems: list[str]) -> str:
    for key in keys:
        value = raw.get(key)
        if value is None:
            continue
        if isinstance(value, str):
            return value
        problems.append(f"{key}: expected a string, got {value!r}")
    return ""


def _codes(
    raw: Mapping[str, object], keys: tuple[str, ...], problems: list[str]
) -> tuple[str, ...]:
    codes: list[str] = []
    for key in keys:
        value = raw.get(key)
        if value is None:
            continue
        if isinstance(value, str):
            value = value.split(",")
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            problems.append(f"{key}: expected a list of rule codes, got {value!r}")
            continue
        codes.extend(item.strip() for item in value if item.strip())
    return tuple(codes)


def _flag(raw: Mapping[str, object], key: str, problems: list[str]) -> bool:
    value = raw.get(key, False)
    if isinstance(value, bool):
        return value
    problems.append(f"{key}: expected true or false, got {value!r}")
    return False
