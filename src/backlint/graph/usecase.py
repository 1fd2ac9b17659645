"""The ``graph`` use case: from a request to the graph to draw.

The CLI parses flags into a ``GraphRequest`` and renders what ``run_graph`` returns. The
project is opened as ``check`` opens it (configuration, discovery, the persistent
cache), and its index is built from the cached per-file facts where they are current.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from backlint.diagnostics import RunProblem
from backlint.graph.fold import READABLE_NODES, GraphError, cycles_only, focus, fold, readable_depth
from backlint.graph.model import Graph

if TYPE_CHECKING:
    from backlint.application import CheckRequest
    from backlint.engine.runner import Progress
    from backlint.workspace import IndexResult

GRANULARITIES = ("module", "package")
FORMATS = ("json", "dot", "mermaid", "svg")


@dataclass(frozen=True)
class GraphRequest:
    """What to draw. ``granularity`` None means ``module``, folded into packages when
    the graph has more than ``READABLE_NODES`` nodes; ``depth`` alone implies
    ``package``."""

    check: CheckRequest
    cycles: bool = False
    layers: bool = False
    granularity: str | None = None
    depth: int | None = None
    focus: str | None = None
    radius: int | None = None

    def shape_key(self) -> str:
        """The options that shape the graph, for its cache entry."""
        return repr((self.cycles, self.granularity, self.depth, self.focus, self.radius))

    def validate(self) -> None:
        """Raises GraphError for options that contradict each other."""
        if self.granularity is not None and self.granularity not in GRANULARITIES:
            raise GraphError(f"unknown granularity `{self.granularity}`: module or package")
        if self.depth is not None and self.depth < 1:
            raise GraphError("--depth must be at least 1")
        if self.depth is not None and self.granularity == "module":
            raise GraphError("--depth folds modules into packages: it needs --granularity package")
        if self.radius is not None and self.focus is None:
            raise GraphError("--radius needs --focus MODULE")
        if self.radius is not None and self.radius < 0:
            raise GraphError("--radius must be 0 or more")


@dataclass
class GraphOutcome:
    graph: Graph
    # What the user should know about the picture (it was folded), for stderr.
    notes: list[str] = field(default_factory=list)
    problems: list[RunProblem] = field(default_factory=list)
    internal_errors: list[RunProblem] = field(default_factory=list)


# The graph as the cache keeps it: bump when ``module_graph``, ``shape`` or the model
# changes.
GRAPH_KIND = "graph/v1"


@dataclass(frozen=True)
class ShapedGraph:
    """The graph to draw and the notes about it, as the cache keeps them."""

    graph: Graph
    notes: tuple[str, ...] = ()


def run_graph(request: GraphRequest, progress: Progress | None = None) -> GraphOutcome:
    """The graph ``request`` asks for. Raises ConfigError and GraphError.

    The drawn graph is cached with the project's files and the shaping options
    (``Workspace.derived``): the same request on an unchanged project loads it instead
    of building the index, so a warm run costs about as much as a warm check.
    """
    from backlint.application import open_workspace

    request.validate()
    workspace = open_workspace(request.check)

    def compute(indexed: IndexResult) -> ShapedGraph:
        from backlint.graph.build import module_graph

        notes: list[str] = []
        graph = module_graph(indexed.project, indexed.settings, indexed.reported)
        return ShapedGraph(shape(graph, request, notes), tuple(notes))

    kind = f"{GRAPH_KIND}:{request.shape_key()}"
    derived = workspace.derived(request.check.paths, kind, compute, progress)
    return GraphOutcome(
        derived.value.graph,
        notes=list(derived.value.notes),
        problems=list(derived.problems),
        internal_errors=list(derived.internal_errors),
    )


def shape(graph: Graph, request: GraphRequest, notes: list[str]) -> Graph:
    """Fold, cut to the cycles and focus ``graph`` as ``request`` says; fold a graph
    still too big to read into packages (unless ``--granularity module``), with a note."""
    if request.granularity == "package" or request.depth is not None:
        graph = fold(graph, request.depth)
    if request.cycles:
        graph = cycles_only(graph)
    if request.focus is not None:
        graph = focus(graph, request.focus, 1 if request.radius is None else request.radius)
    if request.granularity is None and request.depth is None and len(graph.nodes) > READABLE_NODES:
        modules = len(graph.nodes)
        depth = readable_depth(graph)
        graph = fold(graph, depth)
        notes.append(
            f"{modules} modules are too many to read: folded into {len(graph.nodes)} "
            f"packages (--depth {depth}); --granularity module draws every module"
        )
    return graph
