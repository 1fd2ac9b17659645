from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from backlint.diagnostics import Diagnostic, Related, Severity
from backlint.index.facts import ImportFact, ImportKind
from backlint.index.project import ProjectIndex
from backlint.rules.base import Example, ProjectRule
from backlint.rules.imports.import_cycle import ImportCycle

if TYPE_CHECKING:
    import networkx as nx

_MASKING_KINDS = {
    ImportKind.DEFERRED: "Import inside a function",
    ImportKind.TYPE_CHECKING: "`TYPE_CHECKING` import",
}


class CycleMaskedByDeferredImport(ProjectRule):
    """
    ## What it does
    Reports an import made inside a function, or under `if TYPE_CHECKING:`, of a module
    that imports the importing module back at module level (directly or through others).
    Such an import is a workaround: written at the top of the module, it would close an
    import cycle (BL411). The message names the module it would close the cycle with and
    the runtime chain back.

    Deferred and `TYPE_CHECKING` imports that close no cycle are not reported: they have
    other good reasons (start-up time, optional dependencies). Imports in
    `try: ... except ImportError:` and test code are left alone.

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
    tags = ("architecture", "AP-PY09")
    invalid = (
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
        Example(
            "import app.b\n",
            path="app/a.py",
            files=(("app/b.py", "def f():\n    from app.a import x, y\n"),),
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
    )

    def check_project(self, project: ProjectIndex) -> Iterable[Diagnostic]:
        import networkx as nx  # see index/project.py: imported after the workers start

        runtime = nx.DiGraph()
        masking: list[tuple[str, str, ImportFact]] = []
        for source, target, imports in project.code_imports():
            for fact in imports:
                if fact.kind is ImportKind.RUNTIME:
                    runtime.add_edge(source, target, fact=fact)
                elif fact.kind in _MASKING_KINDS:
                    masking.append((source, target, fact))
        reported: set[tuple[str, object]] = set()
        for source, target, fact in masking:
            if (source, fact.span) in reported:
                continue  # ``from x import A, B``: one statement, one finding
            if source in runtime and target in runtime and nx.has_path(runtime, target, source):
                reported.add((source, fact.span))
                back = nx.shortest_path(runtime, target, source)
                yield self._diagnostic(project, runtime, source, target, fact, back)

    def _diagnostic(
        self,
        project: ProjectIndex,
        runtime: nx.DiGraph,
        source: str,
        target: str,
        fact: ImportFact,
        back: list[str],
    ) -> Diagnostic:
        chain = " -> ".join(back)
        return self.diagnostic(
            project.modules[source].path,
            fact.span,
            f"{_MASKING_KINDS[fact.kind]} of `{target}` hides an import cycle with "
            f"`{source}`: at runtime {chain}",
            related=_related(project, runtime, back),
        )


def _related(project: ProjectIndex, runtime: nx.DiGraph, chain: list[str]) -> Iterator[Related]:
    for source, target in itertools.pairwise(chain):
        fact: ImportFact = runtime.edges[source, target]["fact"]
        yield Related(
            project.modules[source].path, fact.span, f"`{source}` imports `{target}` here"
        )
