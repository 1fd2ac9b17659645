"""The calls that block an event loop, by qualified name (flake8-async's list and more)."""

from __future__ import annotations

import fnmatch

_HTTP_VERBS = ("get", "post", "put", "patch", "delete", "head", "options", "request")
_SMTP = "`aiosmtplib` or `await asyncio.to_thread(...)`"
_DNS = "`await loop.getaddrinfo(...)` (or `asyncio.open_connection`)"
_SOCKET = "`asyncio.open_connection` or the loop's `sock_*` methods"
_SQLITE = "`aiosqlite` or `await asyncio.to_thread(...)`"
_ARCHIVE = "`await asyncio.to_thread(...)` around the whole archive work"
_WEBSOCKET = "the asyncio `websockets` client or `await asyncio.to_thread(...)`"
_PATH = "`anyio.Path` or `await asyncio.to_thread(...)`"

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
    **{
        f"socket.{name}": _DNS
        for name in (
            "getaddrinfo",
            "gethostbyname",
            "gethostbyname_ex",
            "gethostbyaddr",
            "getnameinfo",
            "getfqdn",
        )
    },
    # ``SMTP(host)`` connects in the constructor.
    "smtplib.SMTP": _SMTP,
    "smtplib.SMTP_SSL": _SMTP,
    "smtplib.LMTP": _SMTP,
    "sqlite3.connect": _SQLITE,
    "websocket.create_connection": _WEBSOCKET,
    "websockets.sync.client.connect": _WEBSOCKET,
    "pywebpush.webpush": "`await asyncio.to_thread(webpush, ...)`",
    "os.system": "`asyncio.create_subprocess_shell`",
    "os.popen": "`asyncio.create_subprocess_shell`",
    "os.waitpid": "`asyncio.create_subprocess_exec` and `await proc.wait()`",
}
for _name in (
    "copyfileobj",
    "copyfile",
    "copy",
    "copy2",
    "copytree",
    "move",
    "rmtree",
    "make_archive",
    "unpack_archive",
):
    BLOCKING_CALLS[f"shutil.{_name}"] = f"`await asyncio.to_thread(shutil.{_name}, ...)`"
for _verb in _HTTP_VERBS:
    BLOCKING_CALLS[f"requests.{_verb}"] = "`httpx.AsyncClient`"
    BLOCKING_CALLS[f"httpx.{_verb}"] = "`httpx.AsyncClient`"
for _name in ("run", "call", "check_call", "check_output", "Popen", "getoutput", "getstatusoutput"):
    BLOCKING_CALLS[f"subprocess.{_name}"] = "`asyncio.create_subprocess_exec`"

# Calls that open a file unless their first argument is an in-memory buffer
# (``ZipFile(io.BytesIO(data))`` only compresses).
FILE_OPENERS: dict[str, str] = {
    "zipfile.ZipFile": _ARCHIVE,
    "tarfile.open": _ARCHIVE,
    "tarfile.TarFile": _ARCHIVE,
    "tarfile.TarFile.open": _ARCHIVE,
}
IN_MEMORY_BUFFERS = frozenset({"io.BytesIO", "io.StringIO"})

# What ``pathlib.Path`` instances stand for in bindings: a parameter annotated ``Path``
# gives the class, a name bound to ``Path(...)`` (or ``Path(a) / b``) an instance.
PATH_TYPE = "pathlib.Path"
PATH_INSTANCE = "pathlib.Path()"
# Path methods that touch the file system (``exists``/``stat`` are left out: one cheap
# system call that nobody moves to a thread).
_PATH_IO = frozenset(
    {
        "read_text",
        "write_text",
        "read_bytes",
        "write_bytes",
        "open",
        "touch",
        "unlink",
        "mkdir",
        "rmdir",
        "rename",
        "replace",
        "symlink_to",
        "hardlink_to",
        "chmod",
    }
)
_SMTP_IO = frozenset(
    {"send_message", "sendmail", "login", "starttls", "connect", "ehlo", "helo", "noop", "quit"}
)
_SOCKET_IO = frozenset(
    {"connect", "accept", "recv", "recvfrom", "recv_into", "send", "sendall", "sendto"}
)
_SQLITE_CONNECTION_IO = frozenset(
    {"execute", "executemany", "executescript", "commit", "rollback", "backup"}
)
_SQLITE_CURSOR_IO = frozenset(
    {"execute", "executemany", "executescript", "fetchone", "fetchmany", "fetchall"}
)
_ZIP_IO = frozenset({"extractall", "extract", "write"})
_TAR_IO = frozenset({"extractall", "extract", "add"})
_WEBSOCKET_IO = frozenset({"connect", "send", "send_binary", "recv", "recv_data", "ping"})

# Methods of objects whose constructor is known: ``requests.Session().get``.
BLOCKING_METHODS: dict[str, tuple[frozenset[str], str]] = {
    "requests.Session()": (frozenset(_HTTP_VERBS), "`httpx.AsyncClient`"),
    "requests.session()": (frozenset(_HTTP_VERBS), "`httpx.AsyncClient`"),
    "httpx.Client()": (frozenset((*_HTTP_VERBS, "send", "stream")), "`httpx.AsyncClient`"),
    "urllib3.PoolManager()": (frozenset({"request", "urlopen"}), "`httpx.AsyncClient`"),
    PATH_TYPE: (_PATH_IO, _PATH),
    PATH_INSTANCE: (_PATH_IO, _PATH),
    "smtplib.SMTP()": (_SMTP_IO, _SMTP),
    "smtplib.SMTP_SSL()": (_SMTP_IO, _SMTP),
    "smtplib.LMTP()": (_SMTP_IO, _SMTP),
    "smtplib.SMTP": (_SMTP_IO, _SMTP),
    "socket.socket()": (_SOCKET_IO, _SOCKET),
    "socket.create_connection()": (_SOCKET_IO, _SOCKET),
    "sqlite3.connect()": (_SQLITE_CONNECTION_IO, _SQLITE),
    "sqlite3.Connection": (_SQLITE_CONNECTION_IO, _SQLITE),
    "sqlite3.connect().cursor()": (_SQLITE_CURSOR_IO, _SQLITE),
    "sqlite3.connect().execute()": (_SQLITE_CURSOR_IO, _SQLITE),
    "sqlite3.Cursor": (_SQLITE_CURSOR_IO, _SQLITE),
    "zipfile.ZipFile()": (_ZIP_IO, _ARCHIVE),
    "zipfile.ZipFile": (_ZIP_IO, _ARCHIVE),
    "tarfile.open()": (_TAR_IO, _ARCHIVE),
    "tarfile.TarFile": (_TAR_IO, _ARCHIVE),
    "websocket.WebSocket()": (_WEBSOCKET_IO, _WEBSOCKET),
    "websocket.create_connection()": (_WEBSOCKET_IO, _WEBSOCKET),
    "websocket.WebSocketApp()": (frozenset({"run_forever"}), _WEBSOCKET),
    "websockets.sync.client.connect()": (_WEBSOCKET_IO, _WEBSOCKET),
    **{
        f"http.client.{name}()": (
            frozenset({"connect", "request", "getresponse", "send"}),
            "`httpx.AsyncClient`",
        )
        for name in ("HTTPConnection", "HTTPSConnection")
    },
    "pywebpush.WebPusher()": (frozenset({"send"}), "`await asyncio.to_thread(...)`"),
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
