"""The graph as JSON: the documented shape of docs/graph.md."""

from __future__ import annotations

import json

from backlint.graph.model import Edge, Graph, Node

# Bumped when a field changes meaning or goes; new fields may be added within a version.
SCHEMA_VERSION = 1


def render_json(graph: Graph) -> str:
    document = {
        "version": SCHEMA_VERSION,
        "granularity": graph.granularity,
        "depth": graph.depth,
        "nodes": [_node(node) for node in graph.nodes],
        "edges": [_edge(edge) for edge in graph.edges],
        "cycles": [list(cycle) for cycle in graph.cycles],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _node(node: Node) -> dict[str, object]:
    return {"id": node.id, "path": node.path, "role": node.role, "modules": node.modules}


def _edge(edge: Edge) -> dict[str, object]:
    return {
        "source": edge.source,
        "target": edge.target,
        "kind": edge.kind.value,
        "path": edge.path,
        "line": edge.line,
        "violation": edge.violation,
        "suppressed": edge.suppressed,
        "count": edge.count,
        "untangles": edge.untangles,
    }
