"""What a project's HTTP API promises its clients, as plain data.

Built by ``extract.py`` from a ``ProjectIndex`` and compared by ``diff.py``. Everything
is a frozen dataclass of plain values. A ``Model`` says whether its field list is
``complete``: a base class the project cannot read, or a DRF ``ModelSerializer`` whose
fields come from a Django model, leave it incomplete, and the diff then reports no
removed fields for it (a field it cannot see is not a removed field).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """Where a finding about a contract element is reported: a root-relative path, the
    line, and other lines whose waiver also approves it (a decorator, the class line)."""

    path: str
    line: int
    waiver_lines: tuple[int, ...] = ()


@dataclass(frozen=True)
class Param:
    """A path or query parameter as the client sends it (``name`` is the wire name)."""

    name: str
    where: str  # "path" or "query"
    required: bool
    type: str  # the annotation as written, normalised; "" without one
    types: tuple[str, ...] = ()  # canonical names of the enumerations it mentions


@dataclass(frozen=True)
class Route:
    """One operation: a method on a path, served by a handler.

    ``path`` is the full path as far as the code says it (router prefixes of the same
    module, and ``include_router``/``register_blueprint`` prefixes of the modules that
    import it); a prefix that is not a literal is kept as its expression in brackets
    (``[settings.API_V1_STR]/items``); an empty path means the code does not say (a DRF
    view method whose URL comes from a router the index cannot read).
    ``request`` and ``response`` are canonical names of the model classes of the body
    and of the response.
    """

    method: str
    path: str
    module: str
    handler: str  # qualified name inside the module: ``list_items`` or ``ItemView.get``
    location: Location
    router: str = ""  # the qualified name of the router object it is registered on
    params: tuple[Param, ...] = ()
    request: tuple[str, ...] = ()
    response: tuple[str, ...] = ()

    @property
    def identity(self) -> tuple[str, str]:
        return self.module, self.handler

    @property
    def operation(self) -> str:
        return f"{self.method} {self.path or '(path unknown)'}"


@dataclass(frozen=True)
class Field:
    """A field of a request or response model.

    ``wire`` is the name on the wire (its alias, else its name); ``required`` is None
    when the code does not decide it (``Optional[X]`` without a default means optional in
    Pydantic v1 and required in v2). ``direction`` is ``both``, or ``request``
    (DRF ``write_only``) or ``response`` (DRF ``read_only``).
    """

    name: str
    wire: str
    type: str
    required: bool | None
    line: int
    direction: str = "both"
    types: tuple[str, ...] = ()  # canonical names of the classes its annotation mentions


@dataclass(frozen=True)
class Model:
    """A request or response shape: a Pydantic or SQLModel class, a dataclass, a DRF
    serializer, or an enumeration (``members``)."""

    name: str  # canonical
    kind: str  # pydantic, dataclass, serializer, enum
    location: Location
    fields: tuple[Field, ...] = ()
    members: tuple[str, ...] = ()
    complete: bool = True

    @property
    def short(self) -> str:
        return self.name.rpartition(".")[2]

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


@dataclass(frozen=True)
class Contract:
    """Every route the project serves and every model they reach, by canonical name.

    ``routers`` gives where each router object is defined and ``mounts`` where it is
    included in another (``include_router``, ``register_blueprint``), by qualified
    name; ``files`` holds every file of the project. They place findings about routes
    that no longer exist. ``classes`` names every module-level class of the project
    (``module.Class``): a view method that is gone from a class that still exists may
    now be inherited, which the contract cannot tell.
    """

    routes: tuple[Route, ...]
    models: dict[str, Model]
    routers: dict[str, Location]
    mounts: dict[str, Location]
    files: frozenset[str]
    classes: frozenset[str] = frozenset()
