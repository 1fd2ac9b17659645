"""Where BL311 and BL312 expect infrastructure: adapters, ports and factories.

A service that builds its own HTTP client hides a dependency; the adapter that wraps
the HTTP API *is* that dependency, seen from the other side. The rules leave alone:

* **adapter locations:** files under the ``adapter-paths`` globs (``**/adapters/**``,
  ``**/integrations/**``, ``**/plugins/**``, ``**/*_client.py`` ...), whatever their role;
* **port implementations:** methods of a class that derives from a ``Protocol`` or an
  ``ABC`` (through project base classes too, checked in the project pass), or that
  defines every method of a ``Protocol`` declared in the same file (structural typing:
  ``class WebhookPublisher`` next to ``class PublisherLike(Protocol)``), and classes
  named as adapters (``*Client``, ``*Adapter``, ``*Gateway``, ``*Backend``, ...);
* **job entry points:** a function decorated as a background job (``@shared_task``,
  ``@celery_app.task``, ``@dramatiq.actor``), where a unit of work gets its session;
* **factories:** a function whose result is the client it builds
  (``def get_client(): return httpx.Client(...)``, a ``@cached_property`` or
  ``@classmethod`` returning it, an ``@asynccontextmanager`` yielding it, a lazy getter
  that stores it on ``self`` and returns it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from backlint.engine.walker import iter_descendants
from backlint.index.names import ImportTable, dotted_name
from backlint.rules.base import Condition, Option

if TYPE_CHECKING:
    from backlint.index.project import ProjectIndex

PORT_BASES = frozenset({"typing.Protocol", "typing_extensions.Protocol", "abc.ABC"})
_PROTOCOLS = frozenset({"typing.Protocol", "typing_extensions.Protocol"})
_ABC_META = frozenset({"abc.ABCMeta"})
# How projects name their adapters: a class whose job is to wrap an external system.
ADAPTER_CLASS_SUFFIXES = (
    "Client",
    "Adapter",
    "Gateway",
    "Backend",
    "Transport",
    "Connector",
    "Driver",
    "Repository",
)
# How projects name their ports.
_PORT_SUFFIXES = ("Protocol", "Port", "Interface", "ABC")
# Bases that say nothing about a port: no project pass needed for them.
_PLAIN_BASES = frozenset({"builtins.object", "typing.Generic", "typing_extensions.Generic"})

DEFAULT_ADAPTER_PATHS = (
    "**/adapters/**",
    "**/adapter/**",
    "**/infrastructure/**",
    "**/infra/**",
    "**/integrations/**",
    "**/plugins/**",
    "**/clients/**",
    "**/gateways/**",
    "**/client.py",
    "**/clients.py",
    "**/*_client.py",
    "**/*_adapter.py",
    "**/*_gateway.py",
)
ADAPTER_PATHS_OPTION = Option(
    "adapter-paths",
    DEFAULT_ADAPTER_PATHS,
    "Files that adapt an external system (gitignore-style globs): the seam itself, where "
    "clients, clocks and settings belong, so nothing in them is reported.",
)


@dataclass(frozen=True)
class ImplementsNoPort:
    """The top-level class ``qualified`` derives from no ``Protocol`` or ``ABC``, through
    its project base classes (a class implementing a port is an adapter)."""

    qualified: str

    def holds(self, project: ProjectIndex) -> bool:
        return not any(is_port(base) for base in project.ancestors(self.qualified))


def is_port(qualified: str) -> bool:
    """``typing.Protocol``, ``abc.ABC``, or a class named as a port."""
    return qualified in PORT_BASES or qualified.endswith(_PORT_SUFFIXES)


def _base_expression(arg: cst.Arg) -> cst.BaseExpression:
    """``Protocol`` for ``Protocol[T]``: the class a subscripted base names."""
    value = arg.value
    return value.value if isinstance(value, cst.Subscript) else value


def _method_names(node: cst.ClassDef) -> frozenset[str]:
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
    return frozenset(
        statement.name.value
        for statement in body
        if isinstance(statement, cst.FunctionDef) and not statement.name.value.startswith("__")
    )


class PortLookup:
    """Per file: which classes implement a port, as far as the file can tell."""

    def __init__(self, module: cst.Module, names: ImportTable) -> None:
        self._names = names
        self._module = module
        self._protocols: list[frozenset[str]] | None = None

    def _bases(self, node: cst.ClassDef) -> list[str | None]:
        return [
            self._names.qualified_name(_base_expression(arg))
            for arg in node.bases
            if arg.keyword is None
        ]

    def _declares_port(self, node: cst.ClassDef) -> bool:
        """``class X(Protocol)``, ``class X(ABC)``, ``class X(metaclass=ABCMeta)``, or a
        base named as a port (``TaxServiceProtocol``, ``StoragePort``, ``MailerInterface``)."""
        if any(base is not None and is_port(base) for base in self._bases(node)):
            return True
        return any(
            keyword.keyword is not None
            and keyword.keyword.value == "metaclass"
            and self._names.qualified_name(keyword.value) in _ABC_META
            for keyword in (*node.bases, *node.keywords)
        )

    def _file_protocols(self) -> list[frozenset[str]]:
        """The method names of each ``Protocol`` the file declares at top level."""
        if self._protocols is None:
            self._protocols = [
                methods
                for statement in self._module.body
                if isinstance(statement, cst.ClassDef)
                and any(base in _PROTOCOLS for base in self._bases(statement))
                and (methods := _method_names(statement))
            ]
        return self._protocols

    def verdict(
        self, node: cst.ClassDef, qualified: str | None
    ) -> tuple[bool, tuple[Condition, ...]]:
        """``(implements a port for sure, conditions for "implements none")``.

        ``qualified`` is the class's name for the project pass (top-level classes only).
        """
        if self._declares_port(node) or node.name.value.endswith(ADAPTER_CLASS_SUFFIXES):
            return True, ()
        methods = _method_names(node)
        if any(protocol <= methods for protocol in self._file_protocols()):
            return True, ()
        bases = [base for base in self._bases(node) if base not in _PLAIN_BASES]
        if qualified is None or not bases:
            return False, ()
        return False, (ImplementsNoPort(qualified),)


# Decorators of background jobs (Celery, Dramatiq, Huey, taskiq, APScheduler, arq crons).
_JOB_DECORATORS = frozenset(
    {"task", "shared_task", "actor", "job", "periodic_task", "scheduled_job", "cron"}
)


def is_job(function: cst.FunctionDef) -> bool:
    """A background job's entry point (``@celery.task``, ``@shared_task``,
    ``@dramatiq.actor``): like a route handler or ``main()``, it is where a unit of work
    acquires its session and clients."""
    for decorator in function.decorators:
        target = decorator.decorator
        callee = target.func if isinstance(target, cst.Call) else target
        written = dotted_name(callee) or ""
        if written.rsplit(".", 1)[-1] in _JOB_DECORATORS:
            return True
    return False


def _handed_out(function: cst.FunctionDef) -> list[cst.BaseExpression]:
    """What the function returns or yields (its own body, not nested functions)."""
    found: list[cst.BaseExpression] = []
    for inner in iter_descendants(function.body, into_functions=False):
        if isinstance(inner, (cst.Return, cst.Yield)) and isinstance(
            inner.value, cst.BaseExpression
        ):
            found.append(inner.value)
    return found


def _unwrap(node: cst.BaseExpression) -> cst.BaseExpression:
    return node.expression if isinstance(node, cst.Await) else node


def _holders(function: cst.FunctionDef, call: cst.Call) -> list[cst.BaseExpression]:
    """The names or attributes ``call``'s value is stored in: ``c = CALL()``,
    ``self._c = CALL()``, ``with CALL() as c``."""
    found: list[cst.BaseExpression] = []
    for inner in iter_descendants(function.body, into_functions=False):
        if isinstance(inner, cst.Assign) and _unwrap(inner.value) is call:
            found.extend(target.target for target in inner.targets)
        elif isinstance(inner, cst.AnnAssign) and inner.value is not None:
            if _unwrap(inner.value) is call:
                found.append(inner.target)
        elif (
            isinstance(inner, cst.WithItem)
            and _unwrap(inner.item) is call
            and inner.asname is not None
            and isinstance(inner.asname.name, cst.BaseExpression)
        ):
            found.append(inner.asname.name)
    return found


def hands_out(function: cst.FunctionDef, call: cst.Call) -> bool:
    """Whether ``function`` is a factory of what ``call`` builds: it returns or yields
    the call's value, directly or through the name or attribute holding it."""
    handed = [_unwrap(value) for value in _handed_out(function)]
    if any(value is call for value in handed):
        return True
    holders = _holders(function, call)
    return any(value.deep_equals(holder) for value in handed for holder in holders)
