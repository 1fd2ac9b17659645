"""The calls that block an event loop, by qualified name (flake8-async's list and more)."""

from __future__ import annotations

import fnmatch

_HTTP_VERBS = ("get", "post", "put", "patch", "delete", "head", "options", "request")

# Exact qualified names, with the async alternative to suggest.
BLOCKING_CALLS: dict[str, str] = {
    "time.sleep": "`await asyncio.sleep(...)`",
    "builtins.open": "`anyio.open_file` or `await asyncio.to_thread(...)`",
    "io.open": "`anyio.open_file` or `await asyncio.to_thread(...)`",
    "os.fdopen": "`await asyncio.to_thread(...)`",
    "builtins.input": "`await asyncio.to_thread(input, ...)`",
    "urllib.request.urlopen": "`httpx.AsyncClient`",
    "urllib3.request": "`httpx.AsyncClient`",
    "socket.create_connection": "`asyncio.open_connection`",
    "os.system": "`asyncio.create_subprocess_shell`",
    "os.popen": "`asyncio.create_subprocess_shell`",
    "os.waitpid": "`asyncio.create_subprocess_exec` and `await proc.wait()`",
}
for _name in ("copyfileobj", "copyfile", "copy", "copy2", "copytree", "move", "rmtree"):
    BLOCKING_CALLS[f"shutil.{_name}"] = f"`await asyncio.to_thread(shutil.{_name}, ...)`"
for _verb in _HTTP_VERBS:
    BLOCKING_CALLS[f"requests.{_verb}"] = "`httpx.AsyncClient`"
    BLOCKING_CALLS[f"httpx.{_verb}"] = "`httpx.AsyncClient`"
for _name in ("run", "call", "check_call", "check_output", "Popen", "getoutput", "getstatusoutput"):
    BLOCKING_CALLS[f"subprocess.{_name}"] = "`asyncio.create_subprocess_exec`"

# Methods of objects whose constructor is known: ``requests.Session().get``.
BLOCKING_METHODS: dict[str, tuple[frozenset[str], str]] = {
    "requests.Session()": (frozenset(_HTTP_VERBS), "`httpx.AsyncClient`"),
    "requests.session()": (frozenset(_HTTP_VERBS), "`httpx.AsyncClient`"),
    "httpx.Client()": (frozenset((*_HTTP_VERBS, "send", "stream")), "`httpx.AsyncClient`"),
    "urllib3.PoolManager()": (frozenset({"request", "urlopen"}), "`httpx.AsyncClient`"),
    "pathlib.Path()": (
        frozenset(
            {"read_text", "write_text", "read_bytes", "write_bytes", "open", "touch", "unlink"}
        ),
        "`anyio.Path` or `await asyncio.to_thread(...)`",
    ),
}

# Synchronous ORM sessions: their I/O methods block.
SYNC_SESSION_TYPES = frozenset(
    {"sqlalchemy.orm.Session", "sqlmodel.Session", "sqlalchemy.orm.session.Session"}
)
SYNC_SESSION_METHODS = frozenset(
    {
        "execute",
        "scalars",
        "scalar",
        "query",
        "get",
        "commit",
        "flush",
        "refresh",
        "delete",
        "merge",
    }
)
SESSION_FACTORY_SUFFIX = "SessionLocal()"


def matches_user_pattern(qualified: str, patterns: tuple[str, ...]) -> str | None:
    """The suggestion of the first ``pattern -> suggestion`` entry matching ``qualified``."""
    for entry in patterns:
        pattern, _, suggestion = entry.partition("->")
        if fnmatch.fnmatchcase(qualified, pattern.strip()):
            return suggestion.strip() or "an async equivalent"
    return None
