"""One entry point for the renderers: a graph and a format name in, text out."""

from __future__ import annotations

from backlint.graph.model import Graph
from backlint.graph.render_dot import render_dot
from backlint.graph.render_json import render_json
from backlint.graph.render_mermaid import render_mermaid
from backlint.graph.render_svg import RenderError, render_svg

__all__ = ["RenderError", "render"]


def render(graph: Graph, fmt: str, layers: bool = False) -> str:
    """``fmt`` is json, dot, mermaid or svg. Raises RenderError (svg without ``dot``)."""
    if fmt == "json":
        return render_json(graph)
    if fmt == "dot":
        return render_dot(graph, layers)
    if fmt == "mermaid":
        return render_mermaid(graph, layers)
    if fmt == "svg":
        return render_svg(render_dot(graph, layers))
    raise ValueError(f"unknown graph format {fmt!r}")
