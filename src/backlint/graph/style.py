"""How an edge or node looks, shared by the DOT and Mermaid renderers so that both
pictures say the same thing."""

from __future__ import annotations

import math
from dataclasses import dataclass

from backlint.graph.model import Edge, EdgeKind, Graph, Node

RED = "#d62728"
GREY = "#a0a0a0"
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


def edge_look(edge: Edge) -> EdgeLook:
    """Solid, dashed or dotted by kind; red with its code when it breaks the layers,
    grey when a ``noqa`` accepts it; thicker the more imports it stands for."""
    colour = RED if edge.breaks_layers else GREY if edge.suppressed else INK
    parts = [edge.violation] if edge.breaks_layers else []
    if edge.count > 1:
        parts.append(f"x{edge.count}")
    width = 1.0 + min(4.0, math.log2(edge.count)) if edge.count > 1 else 1.0
    return EdgeLook(LINE_STYLES[edge.kind], colour, " ".join(p for p in parts if p), width)


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
