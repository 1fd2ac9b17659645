"""The graph as a Mermaid flowchart, which GitHub and GitLab render in Markdown.

Mermaid ids are kept to ``n0``, ``n1``, ... (a dotted module name is not an id); the
module names are the labels. Mermaid has one dashed arrow (``-.->``), so deferred and
``TYPE_CHECKING`` edges are told apart by their dash pattern (``linkStyle``).
"""

from __future__ import annotations

from backlint.graph.model import EdgeKind, Graph, Node
from backlint.graph.style import (
    CYCLE_FILL,
    INK,
    NO_ROLE,
    by_role,
    edge_look,
    node_label,
    on_cycle,
    worth_cutting,
)

_DASHES = {"solid": "", "dashed": "stroke-dasharray:6 4", "dotted": "stroke-dasharray:2 3"}


def render_mermaid(graph: Graph, layers: bool = False) -> str:
    ids = {node.id: f"n{index}" for index, node in enumerate(graph.nodes)}
    lines = ["flowchart LR"]
    if layers:
        for index, (role, nodes) in enumerate(by_role(graph).items()):
            if role == NO_ROLE:
                lines.extend(_node(node, ids, "  ") for node in nodes)
                continue
            lines.append(f'  subgraph layer{index}["{_text(role)}"]')
            lines.extend(_node(node, ids, "    ") for node in nodes)
            lines.append("  end")
    else:
        lines.extend(_node(node, ids, "  ") for node in graph.nodes)
    styles: dict[str, list[int]] = {}
    cuts = worth_cutting(graph)
    for index, edge in enumerate(graph.edges):
        look = edge_look(edge, (edge.source, edge.target) in cuts)
        arrow = "-->" if edge.kind is EdgeKind.RUNTIME else "-.->"
        label = f'|"{_text(look.label)}"|' if look.label else ""
        lines.append(f"  {ids[edge.source]} {arrow}{label} {ids[edge.target]}")
        style = [f"stroke:{look.colour}"]
        if look.colour != INK:
            style.append(f"color:{look.colour}")
        if _DASHES[look.line]:
            style.append(_DASHES[look.line])
        if look.width != 1.0:
            style.append(f"stroke-width:{look.width:.1f}px")
        if style != [f"stroke:{INK}"]:  # the default look needs no style
            styles.setdefault(",".join(style), []).append(index)
    for look_style, indexes in styles.items():
        lines.append(f"  linkStyle {','.join(map(str, indexes))} {look_style}")
    cyclic = [ids[member] for member in sorted(on_cycle(graph))]
    if cyclic:
        lines.append(f"  classDef cycle fill:{CYCLE_FILL},stroke:#c0392b")
        lines.append(f"  class {','.join(cyclic)} cycle")
    return "\n".join(lines) + "\n"


def _node(node: Node, ids: dict[str, str], indent: str) -> str:
    return f'{indent}{ids[node.id]}["{_text(node_label(node))}"]'


def _text(text: str) -> str:
    """Text inside Mermaid's double quotes: a quote is written as an entity."""
    return text.replace('"', "#quot;")
