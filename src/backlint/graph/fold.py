"""Graphs made from graphs: folded into packages, cut to the cycles, or to one node's
neighbourhood. Each returns a new ``Graph`` with its cycles worked out again."""

from __future__ import annotations

import posixpath
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import replace

from backlint.graph.model import KIND_ORDER, Edge, Graph, Node, as_digraph, make_graph

# Above this many nodes a picture is a hairball: the graph is folded into packages.
READABLE_NODES = 300


class GraphError(Exception):
    """A request the graph cannot answer (a focus on a module that is not in it)."""


def package_of(node: Node, depth: int | None) -> str:
    """The package a node folds into: its first ``depth`` name parts, or with no depth
    the package it is in (a package stands for itself)."""
    if depth is not None:
        return ".".join(node.id.split(".")[:depth])
    if posixpath.basename(node.path) in ("__init__.py", "__init__.pyi"):
        return node.id
    return node.id.rpartition(".")[0] or node.id


def fold(graph: Graph, depth: int | None) -> Graph:
    """Modules folded into packages (``package_of``); the imports between two packages
    become one edge per kind, with their count. Imports inside a package vanish."""
    groups: dict[str, list[Node]] = {}
    for node in graph.nodes:
        groups.setdefault(package_of(node, depth), []).append(node)
    owner = {node.id: package for package, members in groups.items() for node in members}
    nodes = [_folded_node(package, members) for package, members in groups.items()]
    buckets: dict[tuple[str, str], list[Edge]] = {}
    for edge in graph.edges:
        source, target = owner[edge.source], owner[edge.target]
        if source != target:
            buckets.setdefault((source, target), []).append(edge)
    edges = [_folded_edge(source, target, members) for (source, target), members in buckets.items()]
    return make_graph(nodes, edges, "package", depth)


def _folded_node(package: str, members: list[Node]) -> Node:
    own = next((node for node in members if node.id == package), None)
    if own is not None and len(members) == 1:
        return own
    if own is not None:
        path = own.path
    else:
        path = posixpath.commonpath([posixpath.dirname(node.path) or "." for node in members])
    roles = Counter(node.role for node in members if node.role is not None)
    # The role most of its modules have (ties: by name), for grouping by layer.
    role = min(roles, key=lambda r: (-roles[r], r)) if roles else None
    return Node(package, path, role, sum(node.modules for node in members))


def _folded_edge(source: str, target: str, members: list[Edge]) -> Edge:
    """One edge for every import from one package to another, whatever their kinds (a
    picture of packages with up to three edges per pair is a hairball): its kind is the
    one that runs first (runtime, then deferred, then ``TYPE_CHECKING``), located at the
    first import of that kind."""
    kind = min((edge.kind for edge in members), key=KIND_ORDER.__getitem__)
    first = min((e for e in members if e.kind is kind), key=lambda e: (e.path, e.line))
    return Edge(
        source,
        target,
        kind,
        first.path,
        first.line,
        counts=any(edge.counts for edge in members),
        suppressed=all(edge.suppressed for edge in members),
        breaks_layers=any(edge.breaks_layers for edge in members),
        count=sum(edge.count for edge in members),
    )


def readable_depth(graph: Graph, limit: int = READABLE_NODES) -> int:
    """The deepest folding that leaves at most ``limit`` nodes (1 if none does)."""
    deepest = max((node.id.count(".") + 1 for node in graph.nodes), default=1)
    for depth in range(deepest, 0, -1):
        if len({package_of(node, depth) for node in graph.nodes}) <= limit:
            return depth
    return 1


def cycles_only(graph: Graph) -> Graph:
    """The nodes on cycles and, for each cycle, the edges among its members that BL411
    counts (runtime imports: deferred and ``TYPE_CHECKING`` ones close no cycle), each
    with how many nodes cutting it would untangle (``with_cuts``)."""
    cycle_of = {member: index for index, cycle in enumerate(graph.cycles) for member in cycle}
    return with_cuts(
        _subgraph(
            graph,
            cycle_of,
            lambda edge: (
                edge.counts and cycle_of.get(edge.source, -1) == cycle_of.get(edge.target, -2)
            ),
        )
    )


# Cutting each edge of a tangle in turn costs one SCC search per edge: above this many
# edges in one tangle the hint is left out rather than slowing the command down.
MAX_CUT_EDGES = 3000


def with_cuts(graph: Graph) -> Graph:
    """Each live edge on a cycle with ``untangles``: how many nodes of its tangle would
    be on no cycle any more if that import alone were removed (noqa'd imports are
    already out). An edge that untangles nodes is worth cutting first."""
    import networkx as nx

    live = nx.DiGraph(
        (edge.source, edge.target) for edge in graph.edges if edge.live and edge.on_cycle
    )
    if live.number_of_edges() > MAX_CUT_EDGES:
        return graph
    untangled: dict[tuple[str, str], int] = {}
    for component in nx.strongly_connected_components(live):
        tangle = live.subgraph(component).copy()
        for source, target in list(tangle.edges):
            tangle.remove_edge(source, target)
            still = sum(len(c) for c in nx.strongly_connected_components(tangle) if len(c) > 1)
            untangled[source, target] = len(component) - still
            tangle.add_edge(source, target)
    edges = [
        replace(edge, untangles=untangled.get((edge.source, edge.target), 0))
        if edge.live and edge.on_cycle
        else edge
        for edge in graph.edges
    ]
    return replace(graph, edges=tuple(edges))


def focus(graph: Graph, node_id: str, radius: int) -> Graph:
    """``node_id`` and the nodes within ``radius`` imports of it, either way, with the
    edges among them. Raises GraphError when the graph has no such node."""
    import networkx as nx

    if graph.node(node_id) is None:
        raise GraphError(_unknown(graph, node_id))
    near = nx.ego_graph(as_digraph(graph), node_id, radius=radius, undirected=True)
    kept = set(near.nodes)
    return _subgraph(graph, kept, lambda edge: edge.target in kept)


def _subgraph(graph: Graph, kept: Iterable[str], keeps: Callable[[Edge], bool]) -> Graph:
    members = set(kept)
    nodes = [node for node in graph.nodes if node.id in members]
    edges = [edge for edge in graph.edges if edge.source in members and keeps(edge)]
    return make_graph(nodes, edges, graph.granularity, graph.depth)


def _unknown(graph: Graph, node_id: str) -> str:
    """The message for a focus on a node the graph does not have, naming close ones."""
    import difflib

    close = difflib.get_close_matches(node_id, [node.id for node in graph.nodes], n=3)
    hint = f"; did you mean {', '.join(f'`{name}`' for name in close)}?" if close else ""
    what = "package" if graph.granularity == "package" else "module"
    return f"no {what} `{node_id}` in the graph{hint}"
