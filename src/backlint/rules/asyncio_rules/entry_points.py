"""Async code that is not on the hot path of a server's event loop (BL501, BL503).

A blocking call matters when it stalls the loop that serves requests. Some ``async def``
bodies run before that loop serves anything, or on a loop of their own:

* **startup and shutdown:** a lifespan (``@asynccontextmanager async def lifespan(app)``,
  any function whose name contains ``lifespan``, a ``startup``/``on_shutdown``/
  ``startup_event``-named hook, or one passed as ``lifespan=``,
  ``on_startup=[...]``/``on_shutdown=[...]`` or to ``add_event_handler("startup", f)``)
  and handlers decorated ``@app.on_event("startup")``, ``@app.before_serving`` and the
  like. Waiting for the database at startup delays the start, not a request.
* **scripts and commands:** files under the ``script-paths`` globs (``scripts/``,
  ``bin/``, Django ``management/commands/``, ``__main__.py``, ``cli.py``), and files
  that serve nothing (no route handler, no application object, no ``uvicorn.run``)
  and are run as a program (``if __name__ == "__main__":``),
  start their own loop (``asyncio.run(...)``, ``loop.run_until_complete(...)``) or
  define click/typer commands. Their loop serves one command, and blocking it only
  makes that command wait.
"""

from __future__ import annotations

import functools
import re

import libcst as cst
import pathspec

from backlint.engine.context import FileContext
from backlint.engine.walker import iter_descendants
from backlint.index.frameworks import ROUTER_TYPES
from backlint.index.names import dotted_name
from backlint.rules.base import Option

DEFAULT_SCRIPT_PATHS = (
    "**/scripts/**",
    "**/bin/**",
    "**/management/commands/**",
    "**/__main__.py",
    "**/manage.py",
    "**/cli.py",
    "**/cli/**",
)
SCRIPT_PATHS_OPTION = Option(
    "script-paths",
    DEFAULT_SCRIPT_PATHS,
    "Files that are run as programs, not served (gitignore-style globs): their async "
    "code runs on a loop of its own, so blocking calls in it are not reported.",
)

_APPLICATIONS = frozenset(
    {
        *ROUTER_TYPES,
        "starlette.applications.Starlette",
        "sanic.Sanic",
        "aiohttp.web.Application",
        "litestar.Litestar",
        "socketio.AsyncServer",
    }
)
_SERVER_HINTS = ("uvicorn.run(", "run_app(", "hypercorn", "granian")
_LOOP_RUNNERS = frozenset({"asyncio.run", "anyio.run", "trio.run", "uvloop.run"})
_LOOP_HINTS = ("asyncio.run(", "anyio.run(", "trio.run(", "uvloop.run(", "run_until_complete(")
_CLI_PACKAGES = ("click", "typer")
_CLI_DECORATORS = frozenset({"command", "group", "callback"})
# Decorators that register a startup or shutdown hook (FastAPI/Starlette's
# ``on_event("startup")`` is checked by its argument).
_LIFECYCLE_DECORATORS = frozenset(
    {
        "on_startup",
        "on_shutdown",
        "before_serving",
        "after_serving",
        "before_server_start",
        "after_server_start",
        "before_server_stop",
        "after_server_stop",
    }
)
_LIFECYCLE_EVENTS = frozenset({"startup", "shutdown"})
# The names hooks get when they are registered from another module
# (``app.add_event_handler("startup", events.startup)``).
_HOOK_NAME = re.compile(r"(on_)?(startup|shutdown)(_event|_handler|_hook)?", re.IGNORECASE)
_LIFECYCLE_KEYWORDS = frozenset({"lifespan", "on_startup", "on_shutdown"})
_LIFECYCLE_HINTS = ("lifespan", "on_startup", "on_shutdown", "on_event", "add_event_handler")


def _is_main_guard(statement: cst.BaseStatement) -> bool:
    """``if __name__ == "__main__":`` at module level."""
    if not isinstance(statement, cst.If) or not isinstance(statement.test, cst.Comparison):
        return False
    test = statement.test
    sides = [test.left, *(target.comparator for target in test.comparisons)]
    names = {dotted_name(side) for side in sides}
    strings = {side.evaluated_value for side in sides if isinstance(side, cst.SimpleString)}
    return "__name__" in names and "__main__" in strings


def _names_in(value: cst.BaseExpression) -> list[str]:
    """``f`` in ``lifespan=f``; ``f`` and ``g`` in ``on_startup=[f, g]``."""
    if isinstance(value, (cst.List, cst.Tuple)):
        return [name for element in value.elements for name in _names_in(element.value)]
    written = dotted_name(value)
    return [written.rsplit(".", 1)[-1]] if written else []


@functools.lru_cache(maxsize=8)
def script_spec(patterns: tuple[str, ...]) -> pathspec.GitIgnoreSpec:
    """The compiled ``script-paths`` globs: compiled once per run, not once per file."""
    return pathspec.GitIgnoreSpec.from_lines(patterns)


class EntryPoints:
    """Per file: which ``async def``s are off the serving loop's hot path."""

    def __init__(self, ctx: FileContext, script_paths: pathspec.GitIgnoreSpec) -> None:
        self._ctx = ctx
        self.is_script = self._script_file(script_paths)
        self._lifecycle: frozenset[str] | None = None

    def off_hot_path(self, function: cst.FunctionDef) -> bool:
        """Whether ``function`` runs at startup or shutdown, or in a script."""
        if self.is_script:
            return True
        name = function.name.value
        if "lifespan" in name.lower() or _HOOK_NAME.fullmatch(name):
            return True
        if name in self._lifecycle_names():
            return True
        return any(self._lifecycle_decorator(decorator) for decorator in function.decorators)

    def _script_file(self, script_paths: pathspec.GitIgnoreSpec) -> bool:
        ctx = self._ctx
        if script_paths.match_file(ctx.relative):
            return True
        if self._serves():
            return False  # a module that serves requests, whatever else it does
        if any(_is_main_guard(statement) for statement in ctx.tree.body):
            return True
        if any(ctx.names.imports_from(package) for package in _CLI_PACKAGES) and (
            self._has_cli_command()
        ):
            return True
        return any(hint in ctx.text for hint in _LOOP_HINTS) and self._runs_a_loop()

    def _serves(self) -> bool:
        """Route handlers, an application object (its middlewares and exception handlers
        run per request), or a call that starts a server (``uvicorn.run(app)``)."""
        ctx = self._ctx
        if ctx.handlers:
            return True
        if any(
            binding.shape == "call" and binding.target in _APPLICATIONS
            for binding in ctx.bindings.values()
        ):
            return True
        return any(hint in ctx.text for hint in _SERVER_HINTS)

    def _runs_a_loop(self) -> bool:
        for node in iter_descendants(self._ctx.tree):
            if not isinstance(node, cst.Call):
                continue
            if self._ctx.qualified_name(node.func) in _LOOP_RUNNERS:
                return True
            func = node.func
            if isinstance(func, cst.Attribute) and func.attr.value == "run_until_complete":
                return True
        return False

    def _has_cli_command(self) -> bool:
        for node in iter_descendants(self._ctx.tree):
            if isinstance(node, cst.Decorator):
                target = node.decorator
                callee = target.func if isinstance(target, cst.Call) else target
                written = dotted_name(callee) or ""
                if written.rsplit(".", 1)[-1] in _CLI_DECORATORS:
                    return True
        return False

    def _lifecycle_decorator(self, decorator: cst.Decorator) -> bool:
        target = decorator.decorator
        callee = target.func if isinstance(target, cst.Call) else target
        last = (dotted_name(callee) or "").rsplit(".", 1)[-1]
        if last in _LIFECYCLE_DECORATORS:
            return True
        if last != "on_event" or not isinstance(target, cst.Call) or not target.args:
            return False
        event = target.args[0].value
        return isinstance(event, cst.SimpleString) and event.evaluated_value in _LIFECYCLE_EVENTS

    def _lifecycle_names(self) -> frozenset[str]:
        """Functions the file registers as lifespan, startup or shutdown hooks."""
        if self._lifecycle is None:
            found: set[str] = set()
            if any(hint in self._ctx.text for hint in _LIFECYCLE_HINTS):
                for node in iter_descendants(self._ctx.tree):
                    if isinstance(node, cst.Call):
                        found.update(_registered(node))
            self._lifecycle = frozenset(found)
        return self._lifecycle


def _registered(call: cst.Call) -> list[str]:
    """The hooks one call registers: ``FastAPI(lifespan=f)``,
    ``Starlette(on_startup=[f])``, ``app.add_event_handler("startup", f)``."""
    found: list[str] = []
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in _LIFECYCLE_KEYWORDS:
            found.extend(_names_in(arg.value))
    callee = dotted_name(call.func) or ""
    if callee.rsplit(".", 1)[-1] == "add_event_handler" and len(call.args) >= 2:
        event = call.args[0].value
        if isinstance(event, cst.SimpleString) and event.evaluated_value in _LIFECYCLE_EVENTS:
            found.extend(_names_in(call.args[1].value))
    return found
