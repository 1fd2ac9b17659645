"""The module graph of a project, from its index: what the import rules see.

Test code is left out, as the import rules leave it out (tests import everything they
test), and so are imports inside ``try: ... except ImportError:`` (optional
dependencies, which BL411 does not count either).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING

from backlint.graph.model import (
    IMPORT_CYCLE,
    LAYER_BOUNDARY,
    Edge,
    EdgeKind,
    Graph,
    Node,
    make_graph,
)
from backlint.index.facts import ImportFact, ImportKind

if TYPE_CHECKING:
    from backlint.config import Settings
    from backlint.index.project import ProjectIndex

_KINDS = {
    ImportKind.RUNTIME: EdgeKind.RUNTIME,
    ImportKind.DEFERRED: EdgeKind.DEFERRED,
    ImportKind.TYPE_CHECKING: EdgeKind.TYPE_CHECKING,
}


def module_graph(
    project: ProjectIndex, settings: Settings, paths: Collection[str] | None = None
) -> Graph:
    """Every non-test module of ``project`` and the imports between them.

    ``paths`` (root-relative) limits the nodes to those files' modules, and the edges
    to the imports among them; the index still covers the whole project, so names,
    roles and cycles are the same as in a check. BL411's ``ignore-imports`` and BL421's
    options come from ``settings``, whether or not those rules are enabled.
    """
    from backlint.rules.imports.import_cycle import ImportCycle
    from backlint.rules.layers.boundary import LayerBoundaryViolation

    cycle_rule = ImportCycle({**settings.options_for(ImportCycle.name), "granularity": "module"})
    counted = cycle_rule.cycle_graph(project)
    layer_rule = LayerBoundaryViolation(settings.options_for(LayerBoundaryViolation.name))
    forbidden = {
        (source, target, fact.span)
        for source, target, fact in layer_rule.forbidden_imports(project)
        if not _silences(fact, LAYER_BOUNDARY)
    }

    def included(module: str) -> bool:
        facts = project.modules[module]
        return not facts.is_test and (paths is None or facts.path in paths)

    nodes = [
        Node(module, facts.path, project.role_of(facts.path))
        for module, facts in project.modules.items()
        if included(module)
    ]
    edges = []
    for source, target, imports in project.code_imports():
        if source == target or not (included(source) and included(target)):
            continue
        path = project.modules[source].path
        for kind, facts in _by_kind(imports):
            edges.append(
                Edge(
                    source,
                    target,
                    kind,
                    path,
                    facts[0].span.start.line,
                    counts=kind is EdgeKind.RUNTIME and counted.has_edge(source, target),
                    suppressed=all(_silences(fact, IMPORT_CYCLE) for fact in facts),
                    breaks_layers=any((source, target, f.span) in forbidden for f in facts),
                )
            )
    return make_graph(nodes, edges)


def _by_kind(imports: Iterable[ImportFact]) -> list[tuple[EdgeKind, list[ImportFact]]]:
    """The imports grouped by edge kind, each group in source order."""
    groups: dict[EdgeKind, list[ImportFact]] = {}
    for fact in imports:
        kind = _KINDS.get(fact.kind)
        if kind is not None:
            groups.setdefault(kind, []).append(fact)
    return [(kind, sorted(facts, key=lambda f: f.span)) for kind, facts in groups.items()]


def _silences(fact: ImportFact, code: str) -> bool:
    """A bare ``# noqa`` or one naming ``code`` on the import's line."""
    codes = fact.suppressed_codes
    return codes is not None and (not codes or code in codes)
