"""The graph ``backlint graph`` draws: plain, immutable values, independent of networkx.

A node is a module (or, folded, a package); an edge is the imports of one kind from
one node to another. Whether an edge lies on a cycle is not stored: it follows from the
edges (``with_cycles``), so folding and cutting a graph never leave it stale.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import networkx as nx

IMPORT_CYCLE = "BL411"
LAYER_BOUNDARY = "BL421"


class EdgeKind(str, enum.Enum):
    """When the imports of an edge run (the JSON ``kind``)."""

    RUNTIME = "runtime"  # at module level
    DEFERRED = "deferred"  # inside a function
    TYPE_CHECKING = "type-checking"  # under ``if TYPE_CHECKING:``


@dataclass(frozen=True)
class Node:
    """A module, or a package standing for the modules folded into it.

    ``path`` is root-relative: the module's file, a folded package's ``__init__.py``
    (its folder when it has none). ``modules`` counts the modules it stands for.
    """

    id: str
    path: str
    role: str | None
    modules: int = 1


@dataclass(frozen=True)
class Edge:
    """The imports of one kind from ``source`` to ``target``.

    ``path`` and ``line`` locate the first of them (by path, then line); ``count`` is
    how many module-to-module imports a folded edge stands for. ``counts`` says whether
    BL411 counts the edge (a runtime import not left out by its ``ignore-imports`` or
    the package registration idiom); ``suppressed`` that every import carries a
    ``noqa`` for BL411 (or a bare one); ``breaks_layers`` that one import breaks the
    layer table without a ``noqa`` for BL421. ``on_cycle`` is set by ``with_cycles``.
    """

    source: str
    target: str
    kind: EdgeKind
    path: str
    line: int
    counts: bool = False
    suppressed: bool = False
    breaks_layers: bool = False
    on_cycle: bool = False
    count: int = 1
    # With ``--cycles``: how many nodes would no longer be on a cycle without this edge
    # (``fold.with_cuts``), the hint for which import to cut.
    untangles: int = 0

    @property
    def violation(self) -> str | None:
        """The rule the edge breaks: BL421 (the layer table) before BL411 (it lies on a
        cycle that no ``noqa`` accepts), else None."""
        if self.breaks_layers:
            return LAYER_BOUNDARY
        if self.on_cycle:
            return IMPORT_CYCLE
        return None

    @property
    def live(self) -> bool:
        """Part of the cycles BL411 reports: counted, and not accepted by a ``noqa``."""
        return self.counts and not self.suppressed


@dataclass(frozen=True)
class Graph:
    """Nodes sorted by id, edges by source, target and kind, cycles as sorted member
    lists in order of their first member.

    ``granularity`` is ``module`` or ``package``; ``depth`` the number of name parts
    packages were folded to (None: each module's own package).
    """

    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    cycles: tuple[tuple[str, ...], ...] = ()
    granularity: str = "module"
    depth: int | None = None

    def node(self, node_id: str) -> Node | None:
        return next((node for node in self.nodes if node.id == node_id), None)


KIND_ORDER = {kind: index for index, kind in enumerate(EdgeKind)}


def make_graph(
    nodes: Iterable[Node],
    edges: Iterable[Edge],
    granularity: str = "module",
    depth: int | None = None,
) -> Graph:
    """A graph in canonical order, with its cycles found (``with_cycles``)."""
    graph = Graph(
        nodes=tuple(sorted(nodes, key=lambda node: node.id)),
        edges=tuple(sorted(edges, key=lambda e: (e.source, e.target, KIND_ORDER[e.kind]))),
        granularity=granularity,
        depth=depth,
    )
    return with_cycles(graph)


def with_cycles(graph: Graph) -> Graph:
    """``graph`` with its cycles and each edge's ``on_cycle`` worked out.

    The cycles are the strongly connected components (more than one node) over the
    edges BL411 counts, ``noqa`` or not: an accepted tangle is still a tangle, drawn
    with its accepted edges grey. An edge is ``on_cycle`` when it is live and both ends
    are in one component of the live edges: a cycle BL411 would report.
    """
    import networkx as nx

    counted = _digraph(graph, (edge for edge in graph.edges if edge.counts))
    live = _digraph(graph, (edge for edge in graph.edges if edge.live))
    component_of = {
        member: index
        for index, component in enumerate(nx.strongly_connected_components(live))
        for member in component
        if len(component) > 1
    }
    edges = tuple(
        replace(
            edge,
            on_cycle=edge.live
            and component_of.get(edge.source, -1) == component_of.get(edge.target, -2),
        )
        for edge in graph.edges
    )
    cycles = sorted(
        tuple(sorted(component))
        for component in nx.strongly_connected_components(counted)
        if len(component) > 1
    )
    return replace(graph, edges=edges, cycles=tuple(cycles))


def _digraph(graph: Graph, edges: Iterable[Edge]) -> nx.DiGraph:
    import networkx as nx

    digraph = nx.DiGraph()
    digraph.add_nodes_from(node.id for node in graph.nodes)
    digraph.add_edges_from((edge.source, edge.target) for edge in edges)
    return digraph


def as_digraph(graph: Graph) -> nx.DiGraph:
    """Every edge of ``graph`` as a networkx DiGraph over all its nodes (one edge per
    pair of nodes, whatever the kinds), for neighbourhoods."""
    return _digraph(graph, graph.edges)
