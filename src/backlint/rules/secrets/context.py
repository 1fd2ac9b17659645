"""Where a literal stands, for BL801 and BL802: places whose values are not secrets.

* **Documentation values.** OpenAPI examples (`Field(examples=[...])`, `example=`,
  `json_schema_extra={"example": ...}`, a `Config.schema_extra`) are published in the API
  schema on purpose: whatever they hold is shown to every reader of the docs.
* **Credentials of a local service.** A dict or a call that also names a local URL
  (`{"issuer": "http://localhost:8080", "client_secret": "..."}`) configures a service on
  the developer's machine (a mock OIDC server, a local MinIO), seeded with throwaway
  values.
* **Throwaway modules.** Test configuration, seed data, mocks, fakes and demos say what
  they are in their path (`settings/testing.py`, `scripts/seeds_load.py`,
  `mocks/server.py`).
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

import libcst as cst

from backlint.rules.identifiers import split_identifier
from backlint.rules.secrets.literals import static_value

# Keyword arguments, dict keys and assignment targets whose values document an API.
EXAMPLE_NAMES = frozenset(
    {"example", "examples", "openapi_examples", "json_schema_extra", "schema_extra"}
)

# Words of a module's file name that make its values throwaway by design.
_THROWAWAY_MODULE_WORDS = frozenset(
    {
        "test",
        "tests",
        "testing",
        "mock",
        "mocks",
        "fake",
        "fakes",
        "seed",
        "seeds",
        "seeding",
        "demo",
        "demos",
        "sample",
        "samples",
        "fixture",
        "fixtures",
        "stub",
        "stubs",
        "dummy",
        "factories",
    }
)
# Folders whose modules all are: everything under ``mocks/``, ``seeds/`` or
# ``examples/``. Test folders are test code already, which BL801 does not check.
_THROWAWAY_FOLDERS = (_THROWAWAY_MODULE_WORDS - {"test", "tests", "testing", "sample"}) | {
    "examples"
}

_LOCAL_URL = re.compile(
    r"^(?:[a-z][a-z0-9+.-]*://)?(?:[^@/\s]*@)?"
    r"(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\]|host\.docker\.internal)(?::\d+)?(?:[/?#]|$)",
    re.IGNORECASE,
)


def is_throwaway_module(relative: str) -> bool:
    """Whether the module's path says it holds test configuration, seeds, mocks or demos."""
    path = PurePosixPath(relative)
    stem = path.name.split(".", 1)[0]
    if not _THROWAWAY_MODULE_WORDS.isdisjoint(split_identifier(stem)):
        return True
    return any(
        not _THROWAWAY_FOLDERS.isdisjoint(split_identifier(part)) for part in path.parent.parts
    )


def is_local_url(value: str) -> bool:
    """``http://localhost:8080/realms/dev``, ``redis://127.0.0.1:6379``, ``0.0.0.0:9000``."""
    return _LOCAL_URL.match(value.strip()) is not None


def names_local_service(node: cst.Call | cst.Dict) -> bool:
    """Whether one of the call's arguments or the dict's values is a local URL."""
    if isinstance(node, cst.Call):
        values = [arg.value for arg in node.args]
    else:
        values = [e.value for e in node.elements if isinstance(e, cst.DictElement)]
    for value in values:
        text = static_value(value)
        if text is not None and is_local_url(text):
            return True
    return False


class DocumentationScope:
    """Whether the walk is inside an OpenAPI example: ``enter`` on the nodes that open one
    (a keyword argument, dict element or assignment named in ``EXAMPLE_NAMES``), ``leave``
    on every node that may have opened one."""

    def __init__(self) -> None:
        self._open: list[int] = []

    @property
    def inside(self) -> bool:
        return bool(self._open)

    def enter(self, node: cst.CSTNode, name: str | None) -> None:
        if name in EXAMPLE_NAMES and not (self._open and self._open[-1] == id(node)):
            self._open.append(id(node))  # once per node (``a = schema_extra = {...}``)

    def leave(self, node: cst.CSTNode) -> None:
        if self._open and self._open[-1] == id(node):
            self._open.pop()


def target_name(node: cst.BaseExpression) -> str | None:
    """The last name of an assignment target: ``schema_extra``, ``self.schema_extra``."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return None


def key_text(node: cst.BaseExpression | None) -> str | None:
    """The text of a plain string dict key."""
    return static_value(node) if isinstance(node, cst.SimpleString) else None
