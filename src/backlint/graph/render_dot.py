"""The graph in Graphviz's DOT language (``dot -Tsvg`` draws it)."""

from __future__ import annotations

from backlint.graph.model import Graph, Node
from backlint.graph.style import (
    CYCLE_FILL,
    NO_ROLE,
    PLAIN_FILL,
    by_role,
    edge_look,
    node_label,
    on_cycle,
)


def quote(text: str) -> str:
    """A DOT string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_dot(graph: Graph, layers: bool = False) -> str:
    """Left to right; with ``layers`` one cluster per role. Nodes on a cycle are filled
    pink; edge styles follow ``style.edge_look``."""
    lines = [
        "digraph imports {",
        "  graph [rankdir=LR, fontname=Helvetica, fontsize=12, nodesep=0.25, ranksep=0.6];",
        '  node [shape=box, style="rounded,filled", fontname=Helvetica, fontsize=11,'
        f" fillcolor={quote(PLAIN_FILL)}];",
        "  edge [fontname=Helvetica, fontsize=9, arrowsize=0.7];",
    ]
    cyclic = on_cycle(graph)
    if layers:
        for index, (role, nodes) in enumerate(by_role(graph).items()):
            if role == NO_ROLE:
                lines.extend(_node(node, cyclic, "  ") for node in nodes)
                continue
            lines.append(f"  subgraph cluster_{index} {{")
            lines.append(f'    label={quote(role)}; style=rounded; color="#888888";')
            lines.extend(_node(node, cyclic, "    ") for node in nodes)
            lines.append("  }")
    else:
        lines.extend(_node(node, cyclic, "  ") for node in graph.nodes)
    for edge in graph.edges:
        look = edge_look(edge)
        attributes = [f"style={look.line}", f"color={quote(look.colour)}"]
        if look.label:
            attributes.append(f"label={quote(look.label)}")
            attributes.append(f"fontcolor={quote(look.colour)}")
        if look.width != 1.0:
            attributes.append(f"penwidth={look.width:.1f}")
        attributes.append(f"tooltip={quote(f'{edge.path}:{edge.line} ({edge.kind.value})')}")
        lines.append(f"  {quote(edge.source)} -> {quote(edge.target)} [{', '.join(attributes)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _node(node: Node, cyclic: frozenset[str], indent: str) -> str:
    attributes = [f"label={quote(node_label(node))}", f"tooltip={quote(node.path)}"]
    if node.id in cyclic:
        attributes.append(f"fillcolor={quote(CYCLE_FILL)}")
    return f"{indent}{quote(node.id)} [{', '.join(attributes)}];"
