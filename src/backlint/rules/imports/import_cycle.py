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
    directly or through others, at module level. Each cycle (strongly connected
    component of the runtime import graph) is reported once in each member module, at
    that module's first import of another member, with one concrete cycle in the
    message and every import of that cycle as related locations.

    Only imports that run when a module is imported count. Imports inside functions
    (deferred), under `if TYPE_CHECKING:` and inside `try: ... except ImportError:` are
    not part of the graph; see BL412 for deferred imports that hide a cycle. Test code
    is left out. `from pkg import name` is an import of the submodule `pkg.name` when it
    exists, otherwise of `pkg`; importing a submodule does not add an edge to its parent
    packages, whose `__init__` would otherwise create cycles in every package that
    re-exports its submodules.

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
    `Protocol` port instead of the concrete class, or invert the dependency. To accept a
    cycle, put `# noqa: BL411` on one of its imports: that import is then left out of
    the graph, which clears the whole cycle. `ignore-imports` takes import-linter style
    entries (`"app.a -> app.b"`, with `*` wildcards) for the same purpose in config.
    """

    code = "BL411"
    name = "import-cycle"
    summary = "Modules of the project import each other in a cycle."
    fix_text = (
        "Move shared types down a layer, depend on a `Port` Protocol, or invert the dependency."
    )
    severity = Severity.ERROR
    tags = ("architecture", "AP-PY09")
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
        Example("import app.b\n", path="app/a.py", files=(("app/b.py", "from app.a import X\n"),)),
        Example(
            "import app.b\n",
            path="app/a.py",
            files=(("app/b.py", "import app.c\n"), ("app/c.py", "import app.a\n")),
        ),
        Example(
            "from app.tables.tenants import *\n",
            path="app/tables/__init__.py",
            files=(("app/tables/tenants.py", "from app.tables import Base\n"),),
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
    )

    def check_project(self, project: ProjectIndex) -> Iterable[Diagnostic]:
        import networkx as nx  # see index/project.py: imported after the workers start

        graph, suppressed = self._runtime_graph(project)
        self._mark_used_suppressions(project, graph, suppressed)
        for component in sorted(
            (sorted(c) for c in nx.strongly_connected_components(graph)), key=lambda c: c[0]
        ):
            if len(component) == 1 and not graph.has_edge(component[0], component[0]):
                continue
            sub = graph.subgraph(component)
            for member in component:
                yield self._diagnostic(sub, member, len(component))

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

    def _runtime_graph(
        self, project: ProjectIndex
    ) -> tuple[nx.DiGraph, list[tuple[str, str, list[_Located]]]]:
        """Runtime edges between non-test modules (or packages), and the edges that only a
        noqa removed. Each edge keeps its imports in source order."""
        import networkx as nx

        graph = nx.DiGraph()
        suppressed = []
        for source, target, imports in project.code_imports():
            if self._ignored(source, target):
                continue
            head, tail = self._node(project, source), self._node(project, target)
            if head == tail and head != source:
                continue  # an import inside one package, at package granularity
            path = project.modules[source].path
            runtime = [_Located(path, f) for f in imports if f.kind is ImportKind.RUNTIME]
            live = [item for item in runtime if not self._suppressed(item.fact)]
            if live:
                if graph.has_edge(head, tail):
                    live += graph.edges[head, tail]["imports"]
                graph.add_edge(head, tail, imports=sorted(live))
            elif runtime:
                suppressed.append((head, tail, runtime))
        return graph, suppressed

    def _suppressed(self, fact: ImportFact) -> bool:
        return fact.suppressed_codes is not None and self.code in fact.suppressed_codes

    def _mark_used_suppressions(
        self,
        project: ProjectIndex,
        graph: nx.DiGraph,
        suppressed: list[tuple[str, str, list[_Located]]],
    ) -> None:
        """A ``noqa: BL411`` is used when its import would close a cycle without it."""
        import networkx as nx

        for source, target, imports in suppressed:
            if source == target or (
                target in graph and source in graph and nx.has_path(graph, target, source)
            ):
                for item in imports:
                    project.mark_suppression_used(item.path, item.fact.span.start.line, self.code)

    def _diagnostic(self, sub: nx.DiGraph, member: str, size: int) -> Diagnostic:
        import networkx as nx

        # The member's first import (source order) of another member of the cycle.
        first_target, first = min(
            (
                (target, sub.edges[member, target]["imports"][0])
                for target in sub.successors(member)
            ),
            key=lambda pair: pair[1],
        )
        cycle = (
            [member, member]
            if first_target == member
            else [member, *nx.shortest_path(sub, first_target, member)]
        )
        chain = " -> ".join(cycle)
        extra = f" ({size} modules are tangled in this cycle)" if size > len(cycle) - 1 else ""
        return self.diagnostic(
            first.path,
            first.fact.span,
            f"Import cycle: {chain}{extra}",
            related=self._related(sub, cycle),
        )

    @staticmethod
    def _related(sub: nx.DiGraph, cycle: list[str]) -> Iterator[Related]:
        # The first import is the finding itself: list the rest of the chain.
        for source, target in itertools.pairwise(cycle[1:]):
            item = sub.edges[source, target]["imports"][0]
            yield Related(item.path, item.fact.span, f"`{source}` imports `{target}` here")
