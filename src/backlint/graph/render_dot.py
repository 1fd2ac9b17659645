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
    worth_cutting,
)

# A picture with more nodes than this groups them by top-level package (unless grouped
# by role with ``--layers``): a reader finds a module by its package first.
PACKAGE_CLUSTERS_ABOVE = 12


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
    elif (
        len(graph.nodes) > PACKAGE_CLUSTERS_ABOVE
        and 1 < len(_by_top_package(graph)) <= len(graph.nodes) // 2
    ):
        for index, (package, nodes) in enumerate(_by_top_package(graph).items()):
            lines.append(f"  subgraph cluster_{index} {{")
            lines.append(
                f'    label={quote(package)}; style="rounded,filled"; color="#cccccc";'
                ' fillcolor="#fbfbfb";'
            )
            lines.extend(_node(node, cyclic, "    ") for node in nodes)
            lines.append("  }")
    else:
        lines.extend(_node(node, cyclic, "  ") for node in graph.nodes)
    cuts = worth_cutting(graph)
    for edge in graph.edges:
        look = edge_look(edge, (edge.source, edge.target) in cuts)
        attributes = [f"style={look.line}", f"color={quote(look.colour)}"]
        if look.label:
            attributes.append(f"label={quote(look.label)}")
            attributes.append(f"fontcolor={quote(look.colour)}")
            attributes.append("fontsize=11")
        if look.width != 1.0:
            attributes.append(f"penwidth={look.width:.1f}")
        attributes.append(f"tooltip={quote(f'{edge.path}:{edge.line} ({edge.kind.value})')}")
        lines.append(f"  {quote(edge.source)} -> {quote(edge.target)} [{', '.join(attributes)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _by_top_package(graph: Graph) -> dict[str, list[Node]]:
    """The nodes grouped by their top-level package, in name order."""
    groups: dict[str, list[Node]] = {}
    for node in graph.nodes:
        groups.setdefault(node.id.partition(".")[0], []).append(node)
    return groups


def _node(node: Node, cyclic: frozenset[str], indent: str) -> str:
    attributes = [f"label={quote(node_label(node))}", f"tooltip={quote(node.path)}"]
    if node.id in cyclic:
        attributes.append(f"fillcolor={quote(CYCLE_FILL)}")
    return f"{indent}{quote(node.id)} [{', '.join(attributes)}];"
