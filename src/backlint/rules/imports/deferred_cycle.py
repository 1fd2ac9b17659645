from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from backlint.diagnostics import Diagnostic, Related, Severity
from backlint.index.facts import ImportFact, ImportKind
from backlint.index.project import ProjectIndex
from backlint.rules.base import Example, ProjectRule
from backlint.rules.imports.import_cycle import ImportCycle, registers
from backlint.rules.lifecycle import runs_at_startup

if TYPE_CHECKING:
    import networkx as nx

_MASKING_KINDS = frozenset({ImportKind.DEFERRED, ImportKind.TYPE_CHECKING})

# Base classes of ORM models (as the class index spells them): SQLAlchemy's declarative
# bases, Flask-SQLAlchemy's ``db.Model``, SQLModel, Django, Peewee, Tortoise.
ORM_MODEL_ROOTS = frozenset(
    {
        "sqlalchemy.orm.DeclarativeBase",
        "sqlalchemy.orm.DeclarativeBaseNoMeta",
        "sqlalchemy.orm.decl_api.DeclarativeBase",
        "sqlalchemy.orm.declarative_base()",
        "sqlalchemy.ext.declarative.declarative_base()",
        "flask_sqlalchemy.SQLAlchemy().Model",
        "sqlmodel.SQLModel",
        "sqlmodel.main.SQLModel",
        "django.db.models.Model",
        "django.db.models.base.Model",
        "peewee.Model",
        "tortoise.Model",
        "tortoise.models.Model",
    }
)
# The ORM's query classes, which live beside the models and query them: a Django
# ``QuerySet`` or ``Manager`` method that imports a related model.
ORM_QUERY_ROOTS = frozenset(
    {
        "django.db.models.QuerySet",
        "django.db.models.query.QuerySet",
        "django.db.models.Manager",
        "django.db.models.manager.Manager",
        "django.db.models.manager.BaseManager",
    }
)
# GraphQL libraries: their types (graphene bases, strawberry decorators) reference each
# other by design, with lazy annotations that need ``TYPE_CHECKING`` imports.
GRAPHQL_PACKAGES = ("graphene", "graphene_django", "strawberry", "strawberry_django")


def _graphql_name(qualified: str) -> bool:
    return qualified.split(".", 1)[0] in GRAPHQL_PACKAGES


class CycleMaskedByDeferredImport(ProjectRule):
    """
    ## What it does
    Reports an import made inside a function, or under `if TYPE_CHECKING:`, of a module
    that imports the importing module back at module level (directly or through others).
    Such an import is a workaround: written at the top of the module, it would close an
    import cycle (BL411). The message names the imported module, the function the
    import is in, and the runtime chain that leads back.

    A module is reported once per module it imports this way, and the imports of one
    function (or a module's `TYPE_CHECKING` imports) once together: at the first that
    closes a cycle, with the number of the others in the message and their places as
    related locations. A resolver that imports every GraphQL type module is one
    finding. The exemptions below apply to each imported name: a group names only the
    names it reports and leads with the first of them, and a function whose imports
    are all exempt is not reported.

    Deferred and `TYPE_CHECKING` imports that close no cycle are not reported: they have
    other good reasons (start-up time, optional dependencies). Nor are those of a module
    the importing module already imports when it is imported, through its module-level
    imports, directly or through others, and the package `__init__` files they run (a
    `models` package that imports all its submodules, say): written at the top, the
    import would change nothing, and a cycle through those imports is BL411's. The
    packages above the importing module do not count: they start running before it and
    are half-initialised while it runs. Also left alone:

    - `TYPE_CHECKING` imports of ORM models or GraphQL types (SQLAlchemy, SQLModel,
      Django; graphene, strawberry), and imports of them inside a function of a module
      that defines them: annotating both sides of a relationship (`Mapped["Order"]`,
      `Annotated["SiteType", strawberry.lazy(...)]`), naming the models in a column
      type or helper that the models use, and querying a related model in a method or
      an event listener are the idioms these libraries document, and the package that
      imports every model or type is what closes the loop. Other names imported beside
      them (a plain function) are still reported;
    - model imports in a Django `QuerySet` or `Manager` module, which the models import
      in turn;
    - imports in a Django `AppConfig.ready()`, where Django's documentation says to
      import models and signal handlers, and in the rest of the composition root: the
      start-up code that wires the application up once, as the state rules (BL301)
      recognise it. That is an application factory (`create_app()`, `make_app()`,
      where Flask's documentation imports the blueprints), a function that takes the
      `app` (`configure_routes(app)`), a start-up or shutdown hook
      (`@app.on_event("startup")`, a lifespan, a command-line command, a worker-boot
      signal), and a module-level function only called from those or at import time,
      or called by nothing in the project and named for start-up (`init_logger()`,
      `setup_plugins()`). A function that also runs later, on a request or in a task,
      is still reported;
    - a package's function importing its own submodules, which import the package back
      (`init_app()` in `handlers/__init__.py` loading the views that register on the
      package's blueprint): when the function runs, the package is fully initialised;
    - imports in `try: ... except ImportError:` and test code.

    Other `TYPE_CHECKING` imports stay reported even though they only serve
    annotations (a `Protocol`'s signatures, say): the annotation is still a dependency
    of one module on the other, and a port that names the types of the module that
    implements it has not inverted the dependency it exists to invert.

    ## Why is this bad?
    The cycle is still there; it has only been hidden from the interpreter. The two
    modules still depend on each other, so they cannot be understood or changed apart,
    and the next module-level import between them breaks at import time. An import
    hidden in a function also fails late, on the first call, instead of at start-up.

    ## Example
    ```python
    # app/orders/service.py
    from app.billing.service import charge      # billing imports orders at module level

    # app/billing/service.py
    from app.orders import service as orders     # the other half of the cycle

    def refund(order_id: int) -> None:
        from app.orders.service import load      # deferred: hides the cycle
    ```

    ## How to fix
    Remove the dependency in one direction: move what both need into a lower module, or
    depend on a `Protocol` port that the other side implements. This finding is
    informational; suppress it with `# noqa: BL412` where the workaround is deliberate.
    """

    code = "BL412"
    name = "cycle-masked-by-deferred-import"
    summary = "A deferred or `TYPE_CHECKING` import hides an import cycle."
    fix_text = ImportCycle.fix_text
    severity = Severity.INFO
    # Below the precision bar on code it was not tuned on (docs/precision.md): it runs
    # when selected by its code or name, or with `preview = true`.
    default_enabled = False
    preview = True
    tags = ("architecture", "AP-PY09", "PQG-3")
    invalid = (
        # The imports of one function: one finding.
        Example(
            "def resolve(kind):\n    from app.orders import Order\n"
            "    from app.users import User\n",
            path="app/meta.py",
            files=(
                ("app/orders.py", "import app.meta\nclass Order: ...\n"),
                ("app/users.py", "import app.meta\nclass User: ...\n"),
            ),
            expect=1,
        ),
        Example(
            "import app.b\n",
            path="app/a.py",
            files=(
                (
                    "app/b.py",
                    "from typing import TYPE_CHECKING\n"
                    "if TYPE_CHECKING:\n    from app.a import A\n",
                ),
            ),
        ),
        Example(
            "import app.b\n",
            path="app/a.py",
            files=(("app/b.py", "import app.c\n"), ("app/c.py", "def f():\n    import app.a\n")),
        ),
        # A function named for start-up that a request handler calls runs at run time.
        Example(
            "def init_cart(request):\n    from app.views import CART\n",
            path="app/cart.py",
            files=(
                (
                    "app/views.py",
                    "from app.cart import init_cart\nCART = None\n"
                    "def show(request):\n    return init_cart(request)\n",
                ),
            ),
        ),
        # An `app` that may be None is not the application being wired up: the
        # third-party app a run-time action is done for.
        Example(
            "class Actions:\n"
            "    def confirm(self, order, app: 'App | None'):\n"
            "        from app.views import notify\n",
            path="app/actions.py",
            files=(("app/views.py", "import app.actions\nnotify = None\n"),),
        ),
        # A run-time function of the same module as a start-up hook.
        Example(
            "def init_app(app):\n    pass\ndef render(page):\n    from app.views import bp\n",
            path="app/pages.py",
            files=(("app/views.py", "import app.pages\nbp = None\n"),),
        ),
        # One finding per module and imported module, however many imports, and one
        # per function.
        Example(
            "import app.b\n",
            path="app/a.py",
            files=(
                (
                    "app/b.py",
                    "def f():\n    from app.a import x, y\n\ndef g():\n    from app.a import z\n",
                ),
            ),
            expect=1,
        ),
        Example(
            "from app.handlers import admin, users\n",
            path="app/main.py",
            files=(
                ("app/handlers/__init__.py", "from . import admin\n"),
                ("app/handlers/admin.py", "def f():\n    from app import main, handlers\n"),
                ("app/handlers/users.py", "from app.handlers import admin\n"),
            ),
            expect=1,
        ),
        # Type-checking imports between ORM models close a cycle the ORM does not
        # explain when the imported name is not a model.
        Example(
            "from app.models.base import Base\nimport app.models.b\nclass A(Base): ...\n",
            path="app/models/a.py",
            files=(
                (
                    "app/models/base.py",
                    "from sqlalchemy.orm import DeclarativeBase\n"
                    "class Base(DeclarativeBase): ...\n",
                ),
                (
                    "app/models/b.py",
                    "from typing import TYPE_CHECKING\nfrom app.models.base import Base\n"
                    "if TYPE_CHECKING:\n    from app.models.a import helper\n"
                    "class B(Base): ...\n",
                ),
            ),
        ),
        # A submodule that its package imports is not reached by importing the package:
        # the package's `__init__` runs first, and is half-done when the submodule runs.
        Example(
            "def load():\n    from app.models import Query\n",
            path="app/models/query.py",
            files=(
                ("app/models/__init__.py", "from app.models.query import load\nclass Query: ...\n"),
            ),
        ),
        # A plain function imported beside a sibling model, in a method of a models
        # module: the model is left alone, the function is reported.
        Example(
            "from django.db import models\n"
            "class Order(models.Model):\n"
            "    def total(self):\n        from shop.models.product import Product, price_of\n",
            path="shop/models/order.py",
            files=(
                (
                    "shop/models/product.py",
                    "from django.db import models\nfrom shop.models.order import Order\n"
                    "class Product(models.Model): ...\ndef price_of(product): ...\n",
                ),
            ),
            expect=1,
        ),
    )
    valid = (
        Example(
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from app.b import B\n",
            path="app/a.py",
            files=(("app/b.py", "B = 1\n"),),
        ),
        Example(
            "def f():\n    import app.b\n",
            path="app/a.py",
            files=(("app/b.py", "import json\n"),),
        ),
        Example(
            "import app.b\n",
            path="app/a.py",
            files=(("app/b.py", "try:\n    import app.a\nexcept ImportError:\n    pass\n"),),
        ),
        Example(
            "import app.b\n",
            path="tests/test_a.py",
            files=(("app/b.py", "def f():\n    import tests.test_a\n"),),
        ),
        # Relationship hints between ORM models: the models package imports every model.
        Example(
            "from typing import TYPE_CHECKING\n"
            "from sqlalchemy.orm import Mapped, relationship\n"
            "from app.models.base import Base\n"
            "if TYPE_CHECKING:\n    from app.models import Order\n"
            "class Customer(Base):\n    orders: Mapped[list['Order']] = relationship()\n",
            path="app/models/customer.py",
            files=(
                (
                    "app/models/__init__.py",
                    "from .customer import Customer\nfrom .order import Order\n",
                ),
                (
                    "app/models/base.py",
                    "from sqlalchemy.orm import DeclarativeBase\n"
                    "class Base(DeclarativeBase): ...\n",
                ),
                (
                    "app/models/order.py",
                    "from app.models.base import Base\nclass Order(Base): ...\n",
                ),
            ),
        ),
        # GraphQL types that reference each other lazily.
        Example(
            "from typing import TYPE_CHECKING, Annotated\nimport strawberry\n"
            "if TYPE_CHECKING:\n    from app.sites.types import SiteType\n"
            "@strawberry.type\nclass RegionType:\n"
            "    sites: list[Annotated['SiteType', strawberry.lazy('app.sites.types')]]\n",
            path="app/regions/types.py",
            files=(
                (
                    "app/sites/types.py",
                    "import strawberry\nfrom app.regions.types import RegionType\n"
                    "@strawberry.type\nclass SiteType:\n    region: RegionType\n",
                ),
            ),
        ),
        # A related model queried in an event listener of a models module.
        Example(
            "from app.models.base import Base\nclass Rating(Base): ...\n"
            "def on_change(session):\n    from app.models.recipe import Recipe\n",
            path="app/models/rating.py",
            files=(
                (
                    "app/models/base.py",
                    "from sqlalchemy.orm import DeclarativeBase\n"
                    "class Base(DeclarativeBase): ...\n",
                ),
                (
                    "app/models/recipe.py",
                    "from app.models.base import Base\nfrom app.models.rating import Rating\n"
                    "class Recipe(Base): ...\n",
                ),
            ),
        ),
        # A column type the models use names them in its annotations.
        Example(
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from app.models import Order\n"
            "class Money:\n    def bind(self, order: 'Order') -> None: ...\n",
            path="app/fields.py",
            files=(
                (
                    "app/models.py",
                    "from sqlalchemy.orm import DeclarativeBase\nfrom app.fields import Money\n"
                    "class Base(DeclarativeBase): ...\nclass Order(Base): ...\n",
                ),
            ),
        ),
        # A model imported from the models package, which re-exports every models module
        # with `*`: found where it is defined, not in the module that imports it locally.
        Example(
            "from app.models.base import Base\nclass Port(Base): ...\n"
            "def draw(port):\n    from app.models import Feed\n",
            path="app/models/components.py",
            files=(
                (
                    "app/models/__init__.py",
                    "from .cables import *\nfrom .components import *\nfrom .power import *\n",
                ),
                (
                    "app/models/cables.py",
                    "from app.models.base import Base\nclass Cable(Base): ...\n"
                    "def trace(cable):\n    from app.models import Feed\n",
                ),
                (
                    "app/models/base.py",
                    "from sqlalchemy.orm import DeclarativeBase\n"
                    "class Base(DeclarativeBase): ...\n",
                ),
                (
                    "app/models/power.py",
                    "from app.models.base import Base\nclass Feed(Base): ...\n",
                ),
            ),
        ),
        # A package loading its own view modules, which register on its blueprint.
        Example(
            "from flask import Blueprint\nroutes = Blueprint('api', __name__)\n"
            "def init_app(app):\n    from app.handlers import admin, users\n",
            path="app/handlers/__init__.py",
            files=(
                ("app/handlers/admin.py", "from app.handlers import routes\n"),
                ("app/handlers/users.py", "from app.handlers import routes\n"),
            ),
        ),
        # An application factory imports the blueprints once the app exists.
        Example(
            "def create_app():\n    from app.views import bp\n    return bp\n",
            path="app/factory.py",
            files=(("app/views.py", "import app.factory\nbp = None\n"),),
        ),
        # The rest of the composition root: a function that takes the app, a function
        # only the factory calls, one nothing calls that is named for start-up.
        Example(
            "def configure_routes(app):\n    from app.views import bp\n"
            "def init_logger():\n    from app.views import sink\n"
            "def attach_plugins():\n    from app.plugins import load\n"
            "def create_app():\n    attach_plugins()\n",
            path="app/wiring.py",
            files=(
                ("app/views.py", "import app.wiring\nbp = sink = None\n"),
                ("app/plugins.py", "import app.wiring\nload = None\n"),
            ),
        ),
        # A start-up hook, and a function only called at import time.
        Example(
            "from fastapi import FastAPI\napi = FastAPI()\n"
            "@api.on_event('startup')\nasync def connect():\n    from app.db import engine\n"
            "def mount():\n    from app.views import router\n"
            "mount()\n",
            path="app/main.py",
            files=(
                ("app/db.py", "import app.main\nengine = None\n"),
                ("app/views.py", "import app.main\nrouter = None\n"),
            ),
        ),
        # A queryset of the models module queries a related model.
        Example(
            "from django.db import models\n"
            "class OrderQuerySet(models.QuerySet):\n"
            "    def paid(self):\n        from shop.models import Payment\n",
            path="shop/querysets.py",
            files=(
                (
                    "shop/models.py",
                    "from django.db import models\nfrom shop.querysets import OrderQuerySet\n"
                    "class Payment(models.Model): ...\n",
                ),
            ),
        ),
        # Django's documented place for such imports.
        Example(
            "from django.apps import AppConfig\n"
            "class ShopConfig(AppConfig):\n    name = 'shop'\n"
            "    def ready(self):\n        from shop import signals\n",
            path="shop/apps.py",
            files=(("shop/signals.py", "from shop.apps import ShopConfig\n"),),
        ),
        # The module already imports the target at import time, through a package whose
        # `__init__` imports all its submodules: the function's import hides nothing,
        # and the cycle through the package is BL411's.
        Example(
            "from app.model.team import Team\n"
            "def can_edit(user):\n    from app.model import organization\n",
            path="app/permission.py",
            files=(
                (
                    "app/model/__init__.py",
                    "from app.model import organization, team\n",
                ),
                ("app/model/organization.py", "import app.permission\n"),
                ("app/model/team.py", "class Team: ...\n"),
            ),
        ),
        # Sibling Django models queried in a model's method, however they are grouped.
        Example(
            "from django.db import models\n"
            "class Order(models.Model):\n"
            "    def total(self):\n        from shop.models.product import Product\n"
            "        from shop.models.product import Variant\n",
            path="shop/models/order.py",
            files=(
                (
                    "shop/models/product.py",
                    "from django.db import models\nfrom shop.models.order import Order\n"
                    "class Product(models.Model): ...\nclass Variant(models.Model): ...\n",
                ),
            ),
        ),
        # A module importing itself in a function closes no cycle.
        Example(
            "def f():\n    from app.orders import service\n",
            path="app/orders/service.py",
        ),
    )

    def check_project(self, project: ProjectIndex) -> Iterable[Diagnostic]:
        graphs = _graphs(project)
        for _, group in sorted(_groups(project, graphs).items()):
            yield self._diagnostic(project, graphs.runtime, group)

    def _diagnostic(
        self, project: ProjectIndex, runtime: nx.DiGraph, group: list[_Masking]
    ) -> Diagnostic:
        first, others = group[0], group[1:]
        source, target = first.source, first.target
        where = (
            f"Import of {_imported(first)} inside `{first.fact.function}()`"
            if first.fact.kind is ImportKind.DEFERRED
            else f"`TYPE_CHECKING` import of {_imported(first)}"
        )
        message = (
            f"{where} hides an import cycle: `{target}` imports `{source}` back at runtime "
            f"({' -> '.join(first.back)})"
        )
        if others:
            imports = "imports" if len(others) > 1 else "import"
            where_too = "in the same function" if first.fact.function else "under `TYPE_CHECKING`"
            verb = "hide cycles" if len(others) > 1 else "hides a cycle"
            message += f"; {len(others)} more {imports} {where_too} {verb} too"
        path = project.modules[source].path
        related = [
            *_related(project, runtime, first.back),
            *(
                Related(
                    path, other.fact.span, f"the import of {_imported(other)} hides a cycle too"
                )
                for other in others
            ),
        ]
        return self.diagnostic(path, first.fact.span, message, related=related)


def _imported(masking: _Masking) -> str:
    """What the message names: the imported names the finding is about (never one the
    rule leaves alone), then their module; or the module, for a module import."""
    names = [f"`{name}`" for name in masking.names]
    if not names:
        return f"`{masking.target}`"
    shown = ", ".join(names[:2]) + (f" and {len(names) - 2} more" if len(names) > 2 else "")
    return f"{shown} from `{masking.target}`"


@dataclass(frozen=True)
class _Graphs:
    """The graphs the rule reads.

    ``runtime`` is BL411's graph (noqa'd imports included), where a cycle is looked for;
    ``import_time`` has every import that runs when a module is imported, with the
    parent packages an import of a submodule runs, to tell what a module already
    reaches at import time; ``masking`` lists the deferred and ``TYPE_CHECKING``
    imports as ``(importer, imported, import)``.
    """

    runtime: nx.DiGraph
    import_time: nx.DiGraph
    masking: list[tuple[str, str, ImportFact]]


def _graphs(project: ProjectIndex) -> _Graphs:
    import networkx as nx  # see index/project.py: imported after the workers start

    graphs = _Graphs(nx.DiGraph(), nx.DiGraph(), [])
    for source, target, imports in project.code_imports():
        if source == target:
            continue  # a module importing itself closes no cycle
        counts = not registers(project, source, target, imports)
        for fact in imports:
            if fact.kind in _MASKING_KINDS:
                graphs.masking.append((source, target, fact))
                continue
            for reached in _runs(project, source, target):
                graphs.import_time.add_edge(source, reached)
            if (
                fact.kind is ImportKind.RUNTIME
                and counts
                and not graphs.runtime.has_edge(source, target)
            ):
                graphs.runtime.add_edge(source, target, fact=fact)
    return graphs


def _runs(project: ProjectIndex, source: str, target: str) -> Iterator[str]:
    """The modules an import of ``target`` in ``source`` runs: ``target`` and the
    ``__init__`` of each package above it, but not of those above ``source``, which
    are imported before ``source`` starts."""
    yield target
    parts = target.split(".")[:-1]
    while parts:
        package = ".".join(parts)
        if package in project.modules and not (source + ".").startswith(package + "."):
            yield package
        parts.pop()


def _groups(project: ProjectIndex, graphs: _Graphs) -> dict[tuple[str, str], list[_Masking]]:
    """The imports that close a cycle, one per module and imported module, grouped by
    where they sit: the imports of one function, or the module's ``TYPE_CHECKING``
    imports. Each group is one finding. The rule's exemptions apply to each imported
    name, so a group names only the names it reports."""
    import networkx as nx

    runtime = graphs.runtime
    groups: dict[tuple[str, str], list[_Masking]] = {}
    found: dict[tuple[str, str], _Masking] = {}
    reached: dict[str, set[str]] = {}
    for source, target, fact in sorted(graphs.masking, key=lambda item: (item[0], item[2].span)):
        earlier = found.get((source, target))
        if earlier is not None:
            if earlier.fact.function == fact.function and fact.kind is earlier.fact.kind:
                _add_name(project, earlier, fact)
            continue
        if not (source in runtime and target in runtime and nx.has_path(runtime, target, source)):
            continue
        back = nx.shortest_path(runtime, target, source)
        if _idiom(project, source, fact, back) or _already_reached(
            graphs.import_time, reached, source, target
        ):
            continue
        masking = _Masking(source, target, fact, back, [])
        _add_name(project, masking, fact)
        found[source, target] = masking
        groups.setdefault((source, fact.function), []).append(masking)
    return groups


def _add_name(project: ProjectIndex, masking: _Masking, fact: ImportFact) -> None:
    """Record the name ``fact`` imports from the masking's module, unless the rule
    leaves that name alone; a module import (``from app import orders``) names none."""
    names_module = not fact.name or masking.target == f"{fact.module}.{fact.name}"
    if names_module or fact.name in masking.names:
        return
    if fact is masking.fact or not _idiom(project, masking.source, fact, masking.back):
        masking.names.append(fact.name)


def _already_reached(
    import_time: nx.DiGraph, reached: dict[str, set[str]], source: str, target: str
) -> bool:
    """Whether ``source`` already imports ``target`` when it is imported, through its
    module-level imports (directly or through others, and the package ``__init__``
    files they run: a package that imports all its submodules). Then the deferred
    import adds no dependency and hides nothing; a cycle through those imports is
    BL411's."""
    import networkx as nx

    if source not in reached:
        reached[source] = nx.descendants(import_time, source) if source in import_time else set()
    return target in reached[source]


def _idiom(project: ProjectIndex, source: str, fact: ImportFact, back: list[str]) -> bool:
    """Whether the import is a documented idiom of its framework rather than a workaround."""
    return (
        _between_models(project, source, fact)
        or _loads_own_submodule(project, source, back)
        or _in_app_config_ready(project, source, fact)
        or (bool(fact.function) and runs_at_startup(project, source, fact.function))
    )


@dataclass(frozen=True)
class _Masking:
    """A deferred or ``TYPE_CHECKING`` import that closes a cycle, with the way back."""

    source: str
    target: str
    fact: ImportFact
    back: list[str]
    names: list[str]  # the names imported from ``target``, those the rule reports


def _loads_own_submodule(project: ProjectIndex, source: str, back: list[str]) -> bool:
    """Whether a package's function imports one of its own submodules that imports the
    package back directly (``init_app()`` in ``handlers/__init__.py`` loading the view
    modules that register on the package's blueprint). When the function runs, the
    package is fully initialised: nothing depends on import order."""
    target = back[0]
    return project.modules[source].is_package and target.startswith(source + ".") and len(back) == 2


_APP_CONFIGS = frozenset({"django.apps.AppConfig", "django.apps.config.AppConfig"})


def _in_app_config_ready(project: ProjectIndex, source: str, fact: ImportFact) -> bool:
    """Whether the import is in a Django ``AppConfig.ready()``: the place Django's docs
    give for importing models and signal handlers once every app is loaded."""
    owner, _, method = fact.function.rpartition(".")
    return (
        method == "ready"
        and bool(owner)
        and "." not in owner
        and project.inherits(f"{source}.{owner}", _APP_CONFIGS)
    )


def _between_models(project: ProjectIndex, source: str, fact: ImportFact) -> bool:
    """Whether ``fact`` imports a schema type (an ORM model, a GraphQL type) for an
    annotation (under ``TYPE_CHECKING``), or into a module of schema types: the
    relationship annotations every ORM and GraphQL library documents, a column type or
    helper the models use that names them in its signatures, or a query of a related
    model in a model's method or event listener."""
    if not _imports_schema_types(project, fact):
        return False
    if fact.kind is ImportKind.TYPE_CHECKING:
        return True
    facts = project.modules[source]
    return any(_graphql_name(package) for package in facts.packages) or any(
        _is_schema_type(project, f"{source}.{c.name}")
        or project.inherits(f"{source}.{c.name}", ORM_QUERY_ROOTS)
        for c in facts.classes
    )


def _imports_schema_types(project: ProjectIndex, fact: ImportFact) -> bool:
    """``from app.models import Order``; ``from .types import *`` of a module of them."""
    if fact.name:
        return _is_schema_type(project, f"{fact.module}.{fact.name}")
    facts = project.facts_of(fact.module)
    return facts is not None and any(
        _is_schema_type(project, f"{fact.module}.{c.name}") for c in facts.classes
    )


def _is_schema_type(project: ProjectIndex, qualified: str) -> bool:
    """An ORM model or a GraphQL type: derived from one, or decorated as one."""

    def compute() -> bool:
        found = project.class_fact(qualified)
        if found is not None and any(_graphql_name(d) for d in found[1].decorators):
            return True
        for ancestor in project.ancestors(qualified):
            if ancestor in ORM_MODEL_ROOTS or _graphql_name(ancestor):
                return True
            parent = project.class_fact(ancestor)
            if parent is not None and any(_graphql_name(d) for d in parent[1].decorators):
                return True
        return False

    return project.memo(("BL412-schema-type", qualified), compute)


def _related(project: ProjectIndex, runtime: nx.DiGraph, chain: list[str]) -> Iterator[Related]:
    for source, target in itertools.pairwise(chain):
        fact: ImportFact = runtime.edges[source, target]["fact"]
        yield Related(
            project.modules[source].path, fact.span, f"`{source}` imports `{target}` here"
        )
