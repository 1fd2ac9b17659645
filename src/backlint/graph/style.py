"""How an edge or node looks, shared by the DOT and Mermaid renderers so that both
pictures say the same thing."""

from __future__ import annotations

import math
from dataclasses import dataclass

from backlint.graph.model import LAYER_BOUNDARY, Edge, EdgeKind, Graph, Node

RED = "#d62728"
GREY = "#a0a0a0"
BLUE = "#1f77b4"
INK = "#333333"
CYCLE_FILL = "#fde0dd"
PLAIN_FILL = "#f7f7f7"
# Roles without a layer (composition roots, exceptions) and modules without a role.
NO_ROLE = "(no role)"

LINE_STYLES = {
    EdgeKind.RUNTIME: "solid",
    EdgeKind.DEFERRED: "dashed",
    EdgeKind.TYPE_CHECKING: "dotted",
}


@dataclass(frozen=True)
class EdgeLook:
    line: str  # solid, dashed or dotted
    colour: str
    label: str  # the violation code and, for folded edges, the count
    width: float


def worth_cutting(graph: Graph) -> frozenset[tuple[str, str]]:
    """The edges to point out as cuts: in each tangle, those that untangle at least
    half as many nodes as its best cut, and at least two (cutting an edge into a
    module that only that edge ties in frees one node: true of most edges, so no hint).
    """
    best: dict[int, int] = {}
    cycle_of = {member: index for index, cycle in enumerate(graph.cycles) for member in cycle}
    for edge in graph.edges:
        if edge.untangles:
            tangle = cycle_of.get(edge.source, -1)
            best[tangle] = max(best.get(tangle, 0), edge.untangles)
    return frozenset(
        (edge.source, edge.target)
        for edge in graph.edges
        if edge.untangles >= max(2, -(-best.get(cycle_of.get(edge.source, -1), 0) // 2))
    )


def edge_look(edge: Edge, cut: bool = False) -> EdgeLook:
    """Solid, dashed or dotted by kind; red with its code when it breaks the layers,
    grey when a ``noqa`` accepts it, blue and thicker with "cut: N" when it is ``cut``,
    one of the imports whose removal takes the most nodes (N) off every cycle; thicker
    the more imports it stands for."""
    colour = RED if edge.breaks_layers else GREY if edge.suppressed else INK
    parts = [LAYER_BOUNDARY] if edge.breaks_layers else []
    if cut:
        colour = colour if edge.breaks_layers else BLUE
        parts.append(f"cut: {edge.untangles}")
    if edge.count > 1:
        parts.append(f"x{edge.count}")
    width = 1.0 + min(4.0, math.log2(edge.count)) if edge.count > 1 else 1.0
    if cut:
        width += 1.5
    return EdgeLook(LINE_STYLES[edge.kind], colour, " ".join(parts), width)


def node_label(node: Node) -> str:
    """The id, and for a folded package how many modules it stands for."""
    return f"{node.id} ({node.modules})" if node.modules > 1 else node.id


def on_cycle(graph: Graph) -> frozenset[str]:
    return frozenset(member for cycle in graph.cycles for member in cycle)


def by_role(graph: Graph) -> dict[str, list[Node]]:
    """The nodes grouped by role, roles in name order, the role-less last."""
    groups: dict[str, list[Node]] = {}
    for node in graph.nodes:
        groups.setdefault(node.role or NO_ROLE, []).append(node)
    return {role: groups[role] for role in sorted(groups, key=lambda r: (r == NO_ROLE, r))}
