from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from backlint.contract.diff import Break, diff_contracts
from backlint.contract.extract import extract_contract
from backlint.contract.model import Contract
from backlint.diagnostics import Diagnostic, Severity, Span
from backlint.index.change import ChangeSet
from backlint.index.project import ProjectIndex
from backlint.rules.base import Example, Option, ProjectRule

_ROUTES = """\
from fastapi import APIRouter
from app.schemas import Item

router = APIRouter(prefix="/items")

@router.get("/{item_id}", response_model=Item)
def read_item(item_id: int, q: str | None = None):
    ...
"""

_SCHEMAS = """\
from pydantic import BaseModel

class Item(BaseModel):
    id: int
    price: float
"""

_BASE = (("app/routes.py", _ROUTES), ("app/schemas.py", _SCHEMAS))


class ApiContractChanged(ProjectRule):
    """
    ## What it does
    Compares the HTTP API at the base revision of `--new-from-rev` with the working
    tree and reports the changes that break a client:

    - a removed route, or a route whose path or method changed;
    - a path or query parameter that was removed or renamed, a query parameter that
      became required, a new required query parameter;
    - a response field that was removed or renamed, whose type changed, or that became
      optional (its type now admits `None`);
    - a request field that became required, or a new required request field;
    - an enumeration (an `enum.Enum`, or a `Literal[...]` field) that lost members.

    The contract is read statically, without running the application: routes from
    the route registry (FastAPI, Django Ninja and Flask decorators and registrations,
    Flask, Django and DRF class-based views with their URL patterns), paths with the
    prefixes of their router and of the `include_router`/`register_blueprint` calls
    that mount it, parameters from the handler's signature, and the models handlers
    take and return (Pydantic and SQLModel classes, dataclasses, DRF serializers, and
    the models and enumerations their fields nest). Routes are matched by handler
    first, then by method and path. What the code does not decide is left out rather
    than guessed (see `docs/api-contract.md`).

    Additive changes are not findings: a new route, a new response field, a new
    optional request field, a new enumeration member.

    Each break is reported at the route handler, or at the model field (the model's
    class line for a removed field), with the state before and after. A removed route
    is reported in the file that defined it (at its router, or at line 1); if that
    file is gone, at the router's new home or at the file that included the router.

    The rule runs only with `--new-from-rev` (it is change-scoped). It is in preview:
    select it (`extend-select = ["BL012"]`) to gate pull requests with it.

    ## Why is this bad?
    Clients (a web front end, mobile apps already installed, other services) are built
    against the API as it was. A removed field or route, a renamed parameter or a
    narrowed enumeration fails them at run time, after the deploy, where no test of
    the server sees it. Schema drift must be a decision, not an accident (quality gate
    PQG-2).

    ## Example
    ```python
    # At the base revision
    class Item(BaseModel):
        id: int
        price: float

    # In the working tree: `response field `Item.price` changed type: `float` -> `str``
    class Item(BaseModel):
        id: int
        price: str
    ```

    ## How to fix
    Keep the old shape: add the new field or route beside the old one, deprecate the
    old one and remove it in a later, announced version.

    If the break is intended, approve it: regenerate the API snapshot the project keeps
    (the `api-snapshot` option, e.g. `openapi.json`) in the same change, which approves
    every break of the run:

    ```toml
    [tool.backlint.options.api-contract-changed]
    api-snapshot = "openapi.json"
    ```

    or waive one break with a reason, on the handler's `def` or decorator line, or on
    the model's class line or the field's line:
    `# backlint: allow BL012 v2 clients migrated (API-231)`.
    """

    code = "BL012"
    name = "api-contract-changed"
    summary = "A change breaks the HTTP API: a route, a parameter, a request or response model."
    fix_text = (
        "Keep the old shape beside the new one, or approve the break: update the API "
        "snapshot in the same change, or waive it with `# backlint: allow BL012 <reason>`."
    )
    severity = Severity.ERROR
    change_scoped = True
    # Below the bar: 39 % in the first round on the check set's release history
    # (docs/precision.md; the misreadings are listed in docs/api-contract.md). It runs when
    # selected by its code or name, or with `preview = true`.
    default_enabled = False
    preview = True
    tags = ("contract", "PQG-2")
    options = (
        Option(
            "api-snapshot",
            "",
            "Root-relative path of the API snapshot file (such as `openapi.json`); a change "
            "that modifies it approves every API break of the run.",
        ),
    )
    valid = (
        # A new optional query parameter and a new response field: additive.
        Example(
            _ROUTES.replace("q: str | None = None", "q: str | None = None, page: int = 1"),
            path="app/routes.py",
            files=(("app/schemas.py", _SCHEMAS + "    name: str = ''\n"),),
            base=_BASE,
        ),
        # An intended break, waived with a reason on the model's class line.
        Example(
            _ROUTES,
            path="app/routes.py",
            files=(
                (
                    "app/schemas.py",
                    _SCHEMAS.replace(
                        "class Item(BaseModel):",
                        "class Item(BaseModel):  # backlint: allow BL012 prices are text (API-7)",
                    ).replace("price: float", "price: str"),
                ),
            ),
            base=_BASE,
        ),
    )
    invalid = (
        # A response field changed type.
        Example(
            _ROUTES,
            path="app/routes.py",
            files=(("app/schemas.py", _SCHEMAS.replace("price: float", "price: str")),),
            base=_BASE,
            expect=1,
        ),
        # A path changed and a query parameter was renamed.
        Example(
            _ROUTES.replace('"/{item_id}"', '"/by-id/{item_id}"').replace("q: str", "query: str"),
            path="app/routes.py",
            files=(("app/schemas.py", _SCHEMAS),),
            base=_BASE,
            expect=2,
        ),
    )

    def check_project(self, project: ProjectIndex) -> Iterator[Diagnostic]:
        change = project.change
        if change is None or change.base is None or self._approved(change.changed):
            return
        base = _readable_at_head(extract_contract(change.base), change.base, project, change)
        for found in diff_contracts(base, extract_contract(project)):
            yield self._diagnostic(found)

    def _approved(self, changed: frozenset[str]) -> bool:
        snapshot = self.option("api-snapshot")
        return isinstance(snapshot, str) and bool(snapshot) and snapshot.strip("/") in changed

    def _diagnostic(self, found: Break) -> Diagnostic:
        line = max(found.location.line, 1)
        span = Span.at_line_start(line)
        return self.diagnostic(
            found.location.path, span, found.message, waiver_lines=found.location.waiver_lines
        )


def _readable_at_head(
    contract: Contract, base: ProjectIndex, head: ProjectIndex, change: ChangeSet
) -> Contract:
    """The base contract without the routes of modules the head has but could not read.

    A file that is still there but did not parse (a syntax error mid-change, syntax newer
    than the interpreter backlint runs on) says nothing about its routes: they are left
    out rather than reported as removed.
    """
    unreadable = {
        facts.module
        for path, facts in base.files.items()
        if path not in head.files and path not in change.removed
    }
    if not unreadable:
        return contract
    kept = tuple(route for route in contract.routes if route.module not in unreadable)
    return replace(contract, routes=kept)
