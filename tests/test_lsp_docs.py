"""The editor setups in the README, ``docs/editors.md`` and ``editors/vscode/`` name the
settings the server reads (``backlint.lsp.settings``), spelled as it reads them."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from backlint.lsp.settings import ALIASES, KEYS, SECTION, read_settings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs" / "editors.md"
README = REPO / "README.md"
PACKAGE = REPO / "editors" / "vscode" / "package.json"
EDITORS = ("VS Code", "Neovim", "Helix", "Emacs", "Zed", "Sublime")
# Where each client's snippets hold what it sends to the server.
JSON_HOLDERS = ("initializationOptions", "initialization_options", "settings")
# Keys of the VS Code extension that configure the extension, not the server.
CLIENT_ONLY = {"command"}
READ = set(KEYS) | set(ALIASES)


def setups() -> str:
    """The README's editor setups: its sections from "Editor: VS Code" on."""
    text = README.read_text()
    return text[text.index("### Editor: VS Code") : text.index("## Development")]


def blocks(language: str) -> list[str]:
    text = setups()
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


def balanced(text: str, start: int, opening: str, closing: str) -> str:
    """The text between the bracket at ``start`` and its partner."""
    depth = 0
    for index in range(start, len(text)):
        depth += {opening: 1, closing: -1}.get(text[index], 0)
        if depth == 0:
            return text[start + 1 : index]
    raise AssertionError(f"unbalanced {opening} in {text[start : start + 40]!r}")


def sent(value: object) -> Mapping[str, object]:
    """What a client sends for backlint: bare, or under the section."""
    assert isinstance(value, Mapping), value
    inner = value.get(SECTION, value)
    assert isinstance(inner, Mapping), value
    return inner


def json_options(value: object) -> Iterator[Mapping[str, object]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key in JSON_HOLDERS:
                yield sent(item)
            else:
                yield from json_options(item)


@pytest.mark.parametrize("document", [DOCS, README], ids=["editors.md", "README"])
def test_the_settings_table_lists_what_the_server_reads(document: Path) -> None:
    text = document.read_text()
    text = text[text.index("| Setting |") :].split("\n\n")[0]
    table = re.findall(r"^\| `(\w+)` \|", text, flags=re.MULTILINE)
    assert table == list(KEYS)


def test_every_editor_has_a_section_that_starts_the_server() -> None:
    sections = re.split(r"^### Editor: ", setups(), flags=re.MULTILINE)
    for editor in EDITORS:
        (section,) = [s for s in sections if s.startswith(editor)]
        assert '"server"' in section or "server" in section.split("```")[1], editor


def test_json_snippets_use_the_server_keys() -> None:
    found = 0
    for block in blocks("json"):
        document = json.loads(block)
        for options in json_options(document):
            assert set(options) <= READ, options
            assert not read_settings(dict(options)).problems
            found += 1
        for key in document:
            if key.startswith(f"{SECTION}."):  # VS Code's flat settings
                assert key.removeprefix(f"{SECTION}.") in READ | CLIENT_ONLY, key
                found += 1
    assert found >= 8


def test_toml_snippets_use_the_server_keys() -> None:
    (block,) = blocks("toml")
    server = tomllib.loads(block)["language-server"]["backlint"]
    assert [server["command"], *server["args"]] == ["backlint", "server"]
    options = sent(server["config"])
    assert set(options) <= READ
    assert not read_settings(server["config"]).problems
    assert read_settings(server["config"]).run == "onType"


def test_lua_snippets_use_the_server_keys() -> None:
    lua = blocks("lua")
    assert len(lua) == 2
    for block in lua:
        assert 'cmd = { "backlint", "server" }' in block
        init = balanced(block, block.index("init_options = ") + len("init_options = "), "{", "}")
        settings = balanced(block, block.index("settings = ") + len("settings = "), "{", "}")
        assert settings.lstrip().startswith(f"{SECTION} = {{")
        section = balanced(settings, settings.index("{"), "{", "}")
        for table in (init, section):
            keys = set(re.findall(r"(\w+)\s*=", table))
            assert keys and keys <= READ, keys


def test_elisp_snippet_uses_the_server_keys() -> None:
    (block,) = blocks("elisp")
    assert '("backlint" "server"' in block
    for holder in (":initializationOptions ", f"(:{SECTION} "):
        start = block.index(holder) + len(holder)
        keys = set(re.findall(r":(\w+)", balanced(block, start, "(", ")")))
        keys -= {"json"}  # ``:json-false`` is a value
        assert keys and keys <= READ, keys


def test_the_vscode_extension_declares_every_setting() -> None:
    package = json.loads(PACKAGE.read_text())
    properties = package["contributes"]["configuration"]["properties"]
    declared = {name.removeprefix(f"{SECTION}.") for name in properties}
    assert declared == set(KEYS) | CLIENT_ONLY
    assert properties[f"{SECTION}.run"]["enum"] == ["onType", "onSave"]
    for key in KEYS:  # the defaults are the server's
        default = properties[f"{SECTION}.{key}"]["default"]
        assert not read_settings({key: default}).problems, key
    assert package["dependencies"]["vscode-languageclient"] == "9.0.1"  # pinned
    extension = (PACKAGE.parent / "extension.js").read_text()
    assert '"backlint", "server"' in extension
