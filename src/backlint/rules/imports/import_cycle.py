from __future__ import annotations

import fnmatch
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from backlint.diagnostics import Diagnostic, Related, Severity, Span
from backlint.index.facts import ImportFact, ImportKind
from backlint.index.project import ProjectIndex
from backlint.rules.base import Example, Option, ProjectRule

if TYPE_CHECKING:
    import networkx as nx


@dataclass(frozen=True, order=True)
class _Located:
    """An import with the file it is in; ordered by file, then source position."""

    path: str
    fact: ImportFact = field(compare=False)
    span: Span = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "span", self.fact.span)


class ImportCycle(ProjectRule):
    """
    ## What it does
    Finds import cycles among the project's modules: modules that import each other,
    directly or through others, at module level. Each tangle (strongly connected
    component of the runtime import graph) is reported once, at its first import (by
    path, then line) of another member, with one concrete cycle and the number of
    modules tangled in the message, and the other imports of that cycle as related
    locations. A package whose submodules go through its `__init__` to reach each other
    is one tangle, and one finding.

    Only imports that run when a module is imported count. Imports inside functions
    (deferred), under `if TYPE_CHECKING:` (also `typing.TYPE_CHECKING`, or through an
    alias such as `import typing as t` / `if t.TYPE_CHECKING:`) and inside
    `try: ... except ImportError:` are not part of the graph; see BL412 for deferred
    imports that hide a cycle. Test code is left out. `from pkg import name` is an
    import of the submodule `pkg.name` when it exists, otherwise of `pkg`; importing a
    submodule does not add an edge to its parent packages, whose `__init__` would
    otherwise create cycles in every package that re-exports its submodules.

    Also left out:

    - a module importing itself (`from app.orders import service` inside
      `app/orders/service.py`): redundant, but not a cycle between modules;
    - a package that creates an object and then, below it, imports its own submodules
      that import that object back: the Flask idiom of a blueprint or a flask-restx
      namespace whose view modules register routes on it, which works by design. It
      counts only if the submodules import names the package defines itself; a
      submodule that reaches a sibling through the package's re-exports
      (`from . import BaseView`) is a real, order-dependent cycle.

    ## Why is this bad?
    A cycle makes import order matter: whichever module is imported first sees the other
    half-initialised, which fails with `ImportError: cannot import name` (or an
    `AttributeError`) depending on the entry point. It also means the modules cannot be
    understood, tested or split apart separately: the layers have melted together.

    ## Example
    ```python
    # app/orders/service.py
    from app.billing.service import charge
    # app/billing/service.py
    from app.orders.service import Order
    ```

    ## How to fix
    Move the shared types one layer down (a `domain` module both import), depend on a
    `Protocol` port instead of the concrete class, or invert the dependency.

    To accept a tangle as it is, put `# noqa: BL411` (or a bare `# noqa`) on the import
    the finding points at; `--add-noqa` does this, and the next run is clean. A `noqa`
    on any other import of the cycle takes that import out of the graph: the tangle is
    then reported only if a cycle remains without it. `ignore-imports` takes
    import-linter style entries (`"app.a -> app.b"`, with `*` wildcards) to leave
    imports out of the graph from the configuration.
    """

    code = "BL411"
    name = "import-cycle"
    summary = "Modules of the project import each other in a cycle."
    fix_text = (
        "Move shared types down a layer, depend on a `Port` Protocol, or invert the dependency."
    )
    severity = Severity.ERROR
    # Below the precision bar on code it was not tuned on (docs/precision.md): it runs
    # when selected by its code or name, or with `preview = true`.
    default_enabled = False
    preview = True
    tags = ("architecture", "AP-PY09", "PQG-3")
    options = (
        Option(
            "ignore-imports",
            (),
            "Imports left out of the graph, as `importer -> imported` module patterns.",
        ),
        Option(
            "granularity",
            "module",
            'Graph nodes: "module", or "package" to report cycles between packages only '
            "(each module counts as its package; imports inside a package are ignored).",
            choices=("module", "package"),
        ),
    )
    invalid = (
        Example(
            "import app.b\n",
            path="app/a.py",
            files=(("app/b.py", "from app.a import X\n"),),
            expect=1,
        ),
        Example(
            "import app.b\n",
            path="app/a.py",
            files=(("app/b.py", "import app.c\n"), ("app/c.py", "import app.a\n")),
            expect=1,
        ),
        Example(
            "from app.tables.tenants import *\n",
            path="app/tables/__init__.py",
            files=(("app/tables/tenants.py", "from app.tables import Base\n"),),
        ),
        # A hub package: one finding for the whole tangle, not one per submodule.
        Example(
            "from .base import BaseView\nfrom .users import UserView\n"
            "from .teams import TeamView\n",
            path="app/views/__init__.py",
            files=(
                ("app/views/base.py", "class BaseView: ...\n"),
                ("app/views/users.py", "from app.views import BaseView\n"),
                ("app/views/teams.py", "from . import BaseView\n"),
            ),
            expect=1,
        ),
        # The package re-exports what its submodules import back: order-dependent.
        Example(
            "from flask import Blueprint\nfrom .routes import bp\nfrom app.admin import users\n",
            path="app/admin/__init__.py",
            files=(
                ("app/admin/routes.py", "from flask import Blueprint\nbp = Blueprint('a', 'a')\n"),
                ("app/admin/users.py", "from app.admin import bp\n"),
            ),
            expect=1,
        ),
        # A noqa on another import of the tangle leaves a cycle: still reported.
        Example(
            "import app.b\nimport app.c\n",
            path="app/a.py",
            files=(("app/b.py", "import app.a  # noqa: BL411\n"), ("app/c.py", "import app.a\n")),
            expect=1,
        ),
    )
    valid = (
        Example(
            "import app.b\n",
            path="app/a.py",
            files=(
                (
                    "app/b.py",
                    "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                    "    from app.a import A\n",
                ),
            ),
        ),
        Example(
            "import app.b\n",
            path="app/a.py",
            files=(("app/b.py", "import typing as t\nif t.TYPE_CHECKING:\n    import app.a\n"),),
        ),
        Example(
            "import app.b\n",
            path="app/a.py",
            files=(
                (
                    "app/b.py",
                    "from typing import TYPE_CHECKING as CHECKING\nif CHECKING:\n"
                    "    import app.a\n",
                ),
            ),
        ),
        Example(
            "try:\n    import app.b\nexcept ImportError:\n    b = None\n",
            path="app/a.py",
            files=(("app/b.py", "import app.a\n"),),
        ),
        Example(
            "from .x import X\n",
            path="app/pkg/__init__.py",
            files=(("app/pkg/x.py", "X = 1\n"), ("app/pkg/y.py", "from app.pkg.x import X\n")),
        ),
        Example(
            "import app.b  # noqa: BL411\n",
            path="app/a.py",
            files=(("app/b.py", "import app.a\n"),),
        ),
        # A bare noqa accepts the cycle like a BL411 one.
        Example(
            "import app.b  # noqa\n",
            path="app/a.py",
            files=(("app/b.py", "import app.a\n"),),
        ),
        # The noqa on the reported import accepts the whole tangle.
        Example(
            "import app.b  # noqa: BL411\nimport app.c\n",
            path="app/a.py",
            files=(("app/b.py", "import app.a\n"), ("app/c.py", "import app.a\n")),
        ),
        Example(
            "import typing\nif typing.TYPE_CHECKING is True:\n    import app.b\n",
            path="app/a.py",
            files=(("app/b.py", "import app.a\n"),),
        ),
        Example(
            "from typing import TYPE_CHECKING\nif not TYPE_CHECKING:\n    pass\n"
            "else:\n    import app.b\n",
            path="app/a.py",
            files=(("app/b.py", "import app.a\n"),),
        ),
        Example(
            "def f():\n    import app.b\n",
            path="app/a.py",
            files=(("app/b.py", "import app.a\n"),),
        ),
        # A module importing itself is redundant, not a cycle between modules.
        Example("from app.orders import service\n", path="app/orders/service.py"),
        # Flask's blueprint idiom: the package creates `bp`, then imports the views that
        # register on it.
        Example(
            "from flask import Blueprint\nbp = Blueprint('admin', __name__)\n"
            "from app.admin import users  # noqa: E402\n"
            "from app.admin import teams  # noqa: E402\n",
            path="app/admin/__init__.py",
            files=(
                ("app/admin/users.py", "from app.admin import bp\n"),
                ("app/admin/teams.py", "from app.admin import bp\n"),
            ),
        ),
    )

    def check_project(self, project: ProjectIndex) -> Iterable[Diagnostic]:
        import networkx as nx  # see index/project.py: imported after the workers start

        graph = self._graph(project)
        live = nx.DiGraph(
            (source, target) for source, target, data in graph.edges(data=True) if data["live"]
        )
        self._mark_used_suppressions(project, graph)
        components = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
        for component in sorted(components, key=lambda c: c[0]):
            remaining = live.subgraph(component)
            if nx.is_directed_acyclic_graph(remaining):
                continue  # ``noqa`` comments on its imports accept the whole tangle
            yield self._diagnostic(graph.subgraph(component), remaining, len(component))

    def cycle_graph(self, project: ProjectIndex) -> nx.DiGraph:
        """The graph this rule looks for cycles in (``backlint graph`` draws its
        tangles): runtime edges, each ``live`` unless every import of it carries a
        ``noqa``, and ``accepted`` when one does."""
        return self._graph(project)

    def _node(self, project: ProjectIndex, module: str) -> str:
        """The graph node of a module: itself, or its package with ``granularity = "package"``."""
        if self.option("granularity") != "package" or project.modules[module].is_package:
            return module
        return module.rpartition(".")[0] or module

    def _ignored(self, source: str, target: str) -> bool:
        for entry in self.str_list_option("ignore-imports"):
            left, _, right = entry.partition("->")
            if fnmatch.fnmatchcase(source, left.strip()) and fnmatch.fnmatchcase(
                target, right.strip()
            ):
                return True
        return False

    def _graph(self, project: ProjectIndex) -> nx.DiGraph:
        """Runtime edges between non-test modules (or packages), noqa'd imports included.

        Each edge keeps its imports in source order, ``live`` when one of them carries no
        noqa, and ``accepted`` when one of them does. A module's import of itself and a
        package's registration imports (``registers``) are left out.
        """
        import networkx as nx

        graph = nx.DiGraph()
        for source, target, imports in project.code_imports():
            if self._ignored(source, target) or registers(project, source, target, imports):
                continue
            head, tail = self._node(project, source), self._node(project, target)
            if head == tail:
                continue  # itself, or an import inside one package at package granularity
            path = project.modules[source].path
            runtime = [_Located(path, f) for f in imports if f.kind is ImportKind.RUNTIME]
            if not runtime:
                continue
            if graph.has_edge(head, tail):
                runtime += graph.edges[head, tail]["imports"]
            graph.add_edge(
                head,
                tail,
                imports=sorted(runtime),
                live=any(not self._suppressed(item.fact) for item in runtime),
                accepted=any(self._suppressed(item.fact) for item in runtime),
            )
        return graph

    def _suppressed(self, fact: ImportFact) -> bool:
        """A bare ``# noqa`` and a ``# noqa: BL411`` take the import out of the graph alike."""
        codes = fact.suppressed_codes
        return codes is not None and (not codes or self.code in codes)

    def _mark_used_suppressions(self, project: ProjectIndex, graph: nx.DiGraph) -> None:
        """A ``noqa: BL411`` is used when its import lies on a cycle of the graph with every
        noqa'd import kept: it is what keeps that cycle from being reported."""
        import networkx as nx

        for source, target, data in graph.edges(data=True):
            if data["accepted"] and nx.has_path(graph, target, source):
                for item in data["imports"]:
                    if self._suppressed(item.fact):
                        project.mark_suppression_used(
                            item.path, item.fact.span.start.line, self.code
                        )

    @staticmethod
    def _anchor(tangle: nx.DiGraph, remaining: nx.DiGraph) -> tuple[str, str]:
        """The edge a tangle is reported at: its first (by path, then position) that carries
        a ``noqa`` or still lies on a cycle.

        A ``noqa`` written on the reported import (``--add-noqa`` does that) keeps it the
        first such edge in the next run, so the finding stays put and is suppressed there.
        """
        import networkx as nx

        candidates = [
            (data["imports"][0], (source, target))
            for source, target, data in tangle.edges(data=True)
            if data["accepted"]
            or (remaining.has_edge(source, target) and nx.has_path(remaining, target, source))
        ]
        return min(candidates)[1]

    def _diagnostic(self, tangle: nx.DiGraph, remaining: nx.DiGraph, size: int) -> Diagnostic:
        import networkx as nx

        source, target = self._anchor(tangle, remaining)
        first: _Located = tangle.edges[source, target]["imports"][0]
        within = (
            remaining
            if remaining.has_edge(source, target) and nx.has_path(remaining, target, source)
            else tangle
        )
        cycle = [source, *nx.shortest_path(within, target, source)]
        chain = " -> ".join(cycle)
        extra = f" ({size} modules are tangled in this cycle)" if size > len(cycle) - 1 else ""
        return self.diagnostic(
            first.path,
            first.fact.span,
            f"Import cycle: {chain}{extra}",
            related=self._related(tangle, cycle),
        )

    @staticmethod
    def _related(tangle: nx.DiGraph, cycle: list[str]) -> Iterator[Related]:
        # The first import is the finding itself: list the rest of the chain.
        for source, target in itertools.pairwise(cycle[1:]):
            item = tangle.edges[source, target]["imports"][0]
            yield Related(item.path, item.fact.span, f"`{source}` imports `{target}` here")


def registers(project: ProjectIndex, source: str, target: str, imports: list[ImportFact]) -> bool:
    """Whether ``source`` is a package importing its own submodule ``target`` so that it
    registers itself on an object the package created before the import.

    This is the documented Flask idiom (a blueprint, a flask-restx namespace): the package
    creates ``bp = Blueprint(...)`` and then imports its view modules, which import ``bp``
    back. Python runs it in a fixed order and it works by design. It counts only when
    every runtime import of the submodule comes after the package's definitions, and the
    submodule imports from the package only names the package defines itself (not names
    it re-exports from siblings, which is a fragile hub).
    """
    package = project.modules[source]
    if not package.is_package or not target.startswith(source + "."):
        return False
    runtime = [fact for fact in imports if fact.kind is ImportKind.RUNTIME]
    if not runtime or not all(fact.late for fact in runtime):
        return False
    back = project.graph.get_edge_data(target, source)
    if back is None:
        return False
    defined = {b.name for b in package.bindings if b.shape not in ("import", "alias")}
    defined |= {c.name for c in package.classes}
    names = [fact.name for fact in back["imports"] if fact.kind is ImportKind.RUNTIME]
    return bool(names) and all(name in defined for name in names)
