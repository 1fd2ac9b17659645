"""``backlint graph``: the model (cycles, folding, focus, cuts), the renderers and the
command, in-process (click's CliRunner) on the fixture projects and on small projects
written into ``tmp_path``.

Golden files in ``tests/golden/graph/`` hold the JSON, DOT and Mermaid of the fixtures;
after an intended change rewrite them with ``BACKLINT_UPDATE_GOLDEN=1`` and review the
diff.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pydot
import pytest
from cli_helpers import write_files
from click.testing import CliRunner, Result

from backlint.cli import main
from backlint.graph.fold import GraphError, cycles_only, focus, fold, readable_depth
from backlint.graph.model import Edge, EdgeKind, Node, make_graph
from backlint.graph.render_mermaid import render_mermaid
from backlint.graph.render_svg import INSTALL_HINT
from backlint.graph.usecase import GraphRequest, shape

HERE = Path(__file__).parent
FIXTURES = HERE.parent / "fixtures"
GOLDEN = HERE / "golden" / "graph"
UPDATE_GOLDEN = os.environ.get("BACKLINT_UPDATE_GOLDEN") == "1"

# Two services importing each other at module level; the routes skip the service layer
# (BL421); a deferred import and a TYPE_CHECKING one; a cycle accepted with a noqa.
LAYERED = {
    "pyproject.toml": '[tool.backlint]\nsrc = ["."]\n',
    "app/__init__.py": "",
    "app/users/__init__.py": "",
    "app/users/routes.py": """
        from app.users.repository import UserRepository
        from app.users.service import UserService
    """,
    "app/users/service.py": """
        from typing import TYPE_CHECKING
        from app.billing.service import charge
        from app.users.repository import UserRepository
        if TYPE_CHECKING:
            from app.users.routes import router
        def undo():
            from app.users.routes import undo_route
    """,
    "app/users/repository.py": "class UserRepository: ...\n",
    "app/billing/__init__.py": "",
    "app/billing/service.py": "from app.users.service import UserService\ncharge = 1\n",
    "app/legacy/__init__.py": "",
    "app/legacy/a.py": "import app.legacy.b  # noqa: BL411\n",
    "app/legacy/b.py": "import app.legacy.a\n",
    "tests/test_users.py": "from app.users.service import UserService\n",
}


def graph_cli(cwd: Path, *args: str, env: Mapping[str, str] | None = None) -> Result:
    """``backlint graph ARGS`` in-process, in ``cwd``, without a cache on disk."""
    runner = CliRunner()
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        return runner.invoke(main, ["graph", "--no-cache", "-j", "1", *args], env=env)
    finally:
        os.chdir(previous)


def graph_json(cwd: Path, *args: str) -> dict[str, Any]:
    result = graph_cli(cwd, *args)
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def edges_by_pair(document: Mapping[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {(e["source"], e["target"], e["kind"]): e for e in document["edges"]}


def check_golden(name: str, text: str) -> None:
    golden = GOLDEN / name
    if UPDATE_GOLDEN:
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8"), f"{name} changed: see the module docstring"


@pytest.fixture
def layered(tmp_path: Path) -> Path:
    return write_files(tmp_path, LAYERED)


# --- the JSON shape -----------------------------------------------------------------------


def test_json_nodes_edges_and_cycles_on_a_layered_project(layered: Path) -> None:
    document = graph_json(layered)
    assert document["version"] == 1
    assert document["granularity"] == "module"
    nodes = {node["id"]: node for node in document["nodes"]}
    assert nodes["app.users.routes"] == {
        "id": "app.users.routes",
        "path": "app/users/routes.py",
        "role": "routes",
        "modules": 1,
    }
    assert "tests.test_users" not in nodes  # test code is left out, as the rules leave it
    edges = edges_by_pair(document)
    skip = edges["app.users.routes", "app.users.repository", "runtime"]
    assert (skip["violation"], skip["line"], skip["path"]) == ("BL421", 1, "app/users/routes.py")
    assert edges["app.users.service", "app.billing.service", "runtime"]["violation"] == "BL411"
    assert edges["app.billing.service", "app.users.service", "runtime"]["violation"] == "BL411"
    checking = edges["app.users.service", "app.users.routes", "type-checking"]
    deferred = edges["app.users.service", "app.users.routes", "deferred"]
    assert (checking["line"], deferred["line"]) == (5, 7)
    # The service importing routes breaks the layers too, whichever kind the import is.
    assert checking["violation"] == deferred["violation"] == "BL421"
    assert edges["app.users.routes", "app.users.service", "runtime"]["violation"] is None
    accepted = edges["app.legacy.a", "app.legacy.b", "runtime"]
    assert (accepted["suppressed"], accepted["violation"]) == (True, None)
    # The accepted tangle is still a cycle of the graph (drawn with a grey edge).
    assert document["cycles"] == [
        ["app.billing.service", "app.users.service"],
        ["app.legacy.a", "app.legacy.b"],
    ]


def test_json_on_the_example_service_matches_its_golden_file() -> None:
    text = graph_cli(FIXTURES / "example_service").stdout
    document = json.loads(text)
    assert document["cycles"] == [["app.billing.service", "app.orders.service"]]
    kinds = {edge["kind"] for edge in document["edges"]}
    assert kinds == {"runtime", "deferred", "type-checking"}
    violations = [
        (e["source"], e["target"]) for e in document["edges"] if e["violation"] == "BL421"
    ]
    assert violations == [("app.orders.routes", "app.orders.repository")]
    check_golden("example_service.json", text)


def test_the_bl421_edge_of_the_flask_and_django_fixtures() -> None:
    flask = edges_by_pair(graph_json(FIXTURES / "flask_shop"))
    assert flask["shop.catalog.repository", "shop.catalog.service", "runtime"]["violation"] == (
        "BL421"
    )
    django = graph_json(FIXTURES / "django_shop")
    edges = edges_by_pair(django)
    assert edges["orders.models", "orders.services", "runtime"]["violation"] == "BL421"
    # The TYPE_CHECKING import back closes no runtime cycle.
    assert edges["orders.services", "orders.models", "type-checking"]["violation"] is None
    assert django["cycles"] == []


def test_paths_limit_the_nodes_to_the_named_files(layered: Path) -> None:
    document = graph_json(layered, "app/users")
    assert {node["id"] for node in document["nodes"]} == {
        "app.users",
        "app.users.repository",
        "app.users.routes",
        "app.users.service",
    }
    assert all(edge["target"].startswith("app.users") for edge in document["edges"])


# --- DOT and Mermaid ----------------------------------------------------------------------


@pytest.mark.parametrize("layers", [False, True])
def test_dot_parses_and_draws_kinds_violations_and_noqa(layered: Path, layers: bool) -> None:
    result = graph_cli(layered, "--format", "dot", *(["--layers"] if layers else []))
    assert result.exit_code == 0, result.output
    (parsed,) = pydot.graph_from_dot_data(result.stdout)

    def attributes(source: str, target: str) -> list[dict[str, str]]:
        found = [*parsed.get_edge(f'"{source}"', f'"{target}"')]
        for cluster in parsed.get_subgraphs():
            found += cluster.get_edge(f'"{source}"', f'"{target}"')
        return [edge.get_attributes() for edge in found]

    (skip,) = attributes("app.users.routes", "app.users.repository")
    assert (skip["style"], skip["color"], skip["label"]) == ("solid", '"#d62728"', '"BL421"')
    styles = {a["style"] for a in attributes("app.users.service", "app.users.routes")}
    assert styles == {"dashed", "dotted"}
    (accepted,) = attributes("app.legacy.a", "app.legacy.b")
    assert accepted["color"] == '"#a0a0a0"'
    clusters = {cluster.get_label() for cluster in parsed.get_subgraphs()}
    assert clusters == ({'"repository"', '"routes"', '"service"'} if layers else set())


MERMAID_LINE = re.compile(
    r'^(flowchart LR|  subgraph layer\d+\["[^"]*"\]|  end|'
    r'\s+n\d+\["[^"]*"\]|'
    r'  n\d+ (-->|-\.->)(\|"[^"]*"\|)? n\d+|'
    r"  linkStyle \d+(,\d+)* [a-z-]+:[^ ,]+( [^ ,]+)?(,[a-z-]+:[^ ,]+( [^ ,]+)?)*|"
    r"  classDef cycle [a-z]+:#[0-9a-f]+(,[a-z]+:#[0-9a-f]+)*|"
    r"  class n\d+(,n\d+)* cycle)$"
)


def assert_mermaid_syntax(text: str) -> None:
    """Every line is one of the statements the renderer writes, in Mermaid's syntax, and
    every ``linkStyle`` index names an edge."""
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    bad = [line for line in lines if not MERMAID_LINE.match(line)]
    assert not bad, bad
    edges = sum(1 for line in lines if re.match(r"  n\d+ -", line))
    for line in lines:
        if line.startswith("  linkStyle"):
            indexes = [int(i) for i in line.split()[1].split(",")]
            assert all(0 <= i < edges for i in indexes), line
    opened = sum(1 for line in lines if line.lstrip().startswith("subgraph"))
    assert opened == sum(1 for line in lines if line == "  end")


@pytest.mark.parametrize(
    ("fixture", "args", "golden"),
    [
        ("example_service", (), "example_service.mmd"),
        ("example_service", ("--layers",), "example_service.layers.mmd"),
        ("django_shop", ("--layers",), "django_shop.layers.mmd"),
        ("example_service", ("--layers",), "example_service.layers.dot"),
    ],
)
def test_mermaid_and_dot_goldens(fixture: str, args: tuple[str, ...], golden: str) -> None:
    fmt = "dot" if golden.endswith(".dot") else "mermaid"
    result = graph_cli(FIXTURES / fixture, "--format", fmt, *args)
    assert result.exit_code == 0, result.output
    if fmt == "mermaid":
        assert_mermaid_syntax(result.stdout)
    else:
        assert pydot.graph_from_dot_data(result.stdout)
    check_golden(golden, result.stdout)


def test_mermaid_styles_the_kinds_the_violation_and_the_noqa(layered: Path) -> None:
    text = graph_cli(layered, "--format", "mermaid").stdout
    assert_mermaid_syntax(text)
    ids = dict(re.findall(r'  (n\d+)\["([^"]+)"\]', text))
    names = {name: node for node, name in ids.items()}
    arrows = re.findall(r"  (n\d+) (-->|-\.->)(?:\|\"([^\"]*)\"\|)? (n\d+)", text)
    index: dict[tuple[str, str, str], list[tuple[int, str]]] = {}
    for i, (s, arrow, label, t) in enumerate(arrows):
        index.setdefault((ids[s], ids[t], arrow), []).append((i, label))
    ((position, label),) = index["app.users.routes", "app.users.repository", "-->"]
    assert label == "BL421"
    styles = {
        int(i): line.split(" ", 3)[3]
        for line in text.splitlines()
        if line.startswith("  linkStyle")
        for i in line.split()[1].split(",")
    }
    assert "stroke:#d62728" in styles[position]
    ((accepted, _),) = index["app.legacy.a", "app.legacy.b", "-->"]
    assert "stroke:#a0a0a0" in styles[accepted]
    dashes = {
        styles[i].rpartition("stroke-dasharray:")[2]
        for i, _ in index["app.users.service", "app.users.routes", "-.->"]
    }
    assert dashes == {"6 4", "2 3"}  # deferred and TYPE_CHECKING, told apart
    assert names["app.users.service"] in re.search(r"  class (\S+) cycle", text).group(1)  # type: ignore[union-attr]


def test_mermaid_quotes_are_entities() -> None:
    graph = make_graph([Node('a"b', "a.py", 'r"o')], [])
    text = render_mermaid(graph, layers=True)
    assert '"' not in text.replace('["', "").replace('"]', "")
    assert "#quot;" in text


# --- the views: --cycles, --layers, --granularity, --focus --------------------------------


def test_cycles_keeps_only_cycle_members_and_their_runtime_edges(layered: Path) -> None:
    document = graph_json(layered, "--cycles")
    assert {node["id"] for node in document["nodes"]} == {
        "app.billing.service",
        "app.users.service",
        "app.legacy.a",
        "app.legacy.b",
    }
    assert {(e["source"], e["target"], e["kind"]) for e in document["edges"]} == {
        ("app.billing.service", "app.users.service", "runtime"),
        ("app.users.service", "app.billing.service", "runtime"),
        ("app.legacy.a", "app.legacy.b", "runtime"),
        ("app.legacy.b", "app.legacy.a", "runtime"),
    }
    # Cutting either import of the live two-module cycle frees both modules.
    untangles = {(e["source"], e["target"]): e["untangles"] for e in document["edges"]}
    assert untangles["app.users.service", "app.billing.service"] == 2
    assert untangles["app.legacy.a", "app.legacy.b"] == 0  # accepted: nothing to cut


def test_cuts_point_at_the_import_that_untangles_most() -> None:
    # a -> b -> c -> a, and d <-> a: cutting c -> a leaves only the d/a cycle.
    edges = [
        _edge("a", "b"),
        _edge("b", "c"),
        _edge("c", "a"),
        _edge("a", "d"),
        _edge("d", "a"),
    ]
    graph = cycles_only(make_graph([_node(n) for n in "abcd"], edges))
    untangles = {(e.source, e.target): e.untangles for e in graph.edges}
    assert untangles == {("a", "b"): 2, ("b", "c"): 2, ("c", "a"): 2, ("a", "d"): 1, ("d", "a"): 1}
    dot = graph_text(graph)
    assert 'label="cut: 2"' in dot
    assert 'label="cut: 1"' not in dot  # freeing one module is true of most edges: no hint


def test_layers_groups_by_role_in_mermaid(layered: Path) -> None:
    text = graph_cli(layered, "--format", "mermaid", "--layers").stdout
    assert_mermaid_syntax(text)
    subgraphs = re.findall(r'subgraph layer\d+\["([^"]+)"\]', text)
    assert subgraphs == ["repository", "routes", "service"]
    block = text.split('["service"]')[1].split("  end")[0]
    assert "app.billing.service" in block and "app.users.service" in block


def test_granularity_package_folds_with_counts(layered: Path) -> None:
    document = graph_json(layered, "--granularity", "package")
    assert document["granularity"] == "package"
    nodes = {node["id"]: node for node in document["nodes"]}
    assert nodes["app.users"]["modules"] == 4
    assert nodes["app.users"]["path"] == "app/users/__init__.py"
    edges = {(e["source"], e["target"]): e for e in document["edges"]}
    # Imports inside a package vanish; the two packages import each other at runtime.
    assert set(edges) == {("app.users", "app.billing"), ("app.billing", "app.users")}
    assert edges["app.users", "app.billing"]["count"] == 1
    assert document["cycles"] == [["app.billing", "app.users"]]


def test_depth_folds_to_that_many_name_parts(layered: Path) -> None:
    document = graph_json(layered, "--depth", "1")
    assert [node["id"] for node in document["nodes"]] == ["app"]
    assert (document["granularity"], document["depth"]) == ("package", 1)
    assert document["edges"] == []


def test_fold_aggregates_kinds_and_counts() -> None:
    edges = [
        _edge("p.a", "q.a", EdgeKind.TYPE_CHECKING),
        _edge("p.b", "q.a", EdgeKind.RUNTIME, breaks_layers=True),
        _edge("p.b", "q.b", EdgeKind.DEFERRED),
    ]
    nodes = [_node(n) for n in ("p.a", "p.b", "q.a", "q.b")]
    (edge,) = fold(make_graph(nodes, edges), 1).edges
    assert (edge.source, edge.target, edge.kind, edge.count) == ("p", "q", EdgeKind.RUNTIME, 3)
    assert edge.violation == "BL421"


def test_focus_and_radius(layered: Path) -> None:
    near = graph_json(layered, "--focus", "app.users.routes")
    assert {node["id"] for node in near["nodes"]} == {
        "app.users.routes",
        "app.users.repository",
        "app.users.service",
    }
    wider = graph_json(layered, "--focus", "app.users.routes", "--radius", "2")
    assert "app.billing.service" in {node["id"] for node in wider["nodes"]}
    alone = graph_json(layered, "--focus", "app.users.routes", "--radius", "0")
    assert [node["id"] for node in alone["nodes"]] == ["app.users.routes"]


def test_big_graphs_fold_into_packages_with_a_note() -> None:
    nodes = [_node(f"pkg{p}.mod{m}") for p in range(20) for m in range(20)]
    edges = [_edge(f"pkg{p}.mod0", f"pkg{(p + 1) % 20}.mod1") for p in range(20)]
    notes: list[str] = []
    request = GraphRequest(check=None)  # type: ignore[arg-type]
    shaped = shape(make_graph(nodes, edges), request, notes)
    assert len(shaped.nodes) == 20
    assert shaped.granularity == "package"
    assert notes == [
        "400 modules are too many to read: folded into 20 packages (--depth 1); "
        "--granularity module draws every module"
    ]
    assert readable_depth(make_graph(nodes, edges), limit=400) == 2
    explicit: list[str] = []
    kept = shape(make_graph(nodes, edges), GraphRequest(None, granularity="module"), explicit)  # type: ignore[arg-type]
    assert (len(kept.nodes), explicit) == (400, [])


def test_focus_names_close_matches_when_the_module_is_unknown() -> None:
    graph = make_graph([_node("app.users.service"), _node("app.users.routes")], [])
    with pytest.raises(GraphError, match=re.escape("did you mean `app.users.service`")):
        focus(graph, "app.user.service", 1)


# --- output file, SVG and errors ----------------------------------------------------------


def test_output_file(layered: Path) -> None:
    result = graph_cli(layered, "--format", "mermaid", "-o", "out/graph.mmd")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert (layered / "out" / "graph.mmd").read_text(encoding="utf-8").startswith("flowchart LR")


def test_svg_without_dot_exits_2_with_an_install_hint(layered: Path, tmp_path: Path) -> None:
    empty = tmp_path / "no-dot"
    empty.mkdir()
    result = graph_cli(layered, "--format", "svg", env={"PATH": str(empty)})
    assert result.exit_code == 2
    assert INSTALL_HINT in result.stderr
    assert "apt install graphviz" in result.stderr
    assert result.stdout == ""


def test_svg_through_dot_on_path(layered: Path, tmp_path: Path) -> None:
    # A stand-in for Graphviz: it checks it was given DOT and answers with an SVG.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "dot"
    fake.write_text(
        '#!/bin/sh\n[ "$1" = "-Tsvg" ] || exit 3\n'
        'grep -q "^digraph imports" && echo "<svg>drawn</svg>"\n',
        encoding="utf-8",
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    path = f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin"
    result = graph_cli(layered, "--format", "svg", env={"PATH": path})
    assert result.exit_code == 0, result.output
    assert result.stdout == "<svg>drawn</svg>\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--format", "png"), "Invalid value for '--format'"),
        (("--granularity", "file"), "Invalid value for '--granularity'"),
        (("--radius", "2"), "--radius needs --focus MODULE"),
        (("--granularity", "module", "--depth", "2"), "it needs --granularity package"),
        (("--depth", "0"), "--depth must be at least 1"),
        (("--focus", "app.nowhere"), "no module `app.nowhere` in the graph"),
        (("--focus", "app.users", "--radius", "-1"), "--radius must be 0 or more"),
    ],
)
def test_bad_options_exit_2(layered: Path, args: tuple[str, ...], message: str) -> None:
    result = graph_cli(layered, *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert result.stdout == ""


def test_a_configuration_error_exits_2(tmp_path: Path) -> None:
    write_files(tmp_path, {"pyproject.toml": "[tool.backlint]\nnot-an-option = 1\n"})
    result = graph_cli(tmp_path)
    assert result.exit_code == 2
    assert "backlint: error:" in result.stderr


# --- the index and the cache --------------------------------------------------------------


def test_a_warm_graph_comes_from_the_cache_and_follows_changes(layered: Path) -> None:
    from backlint.application import CheckRequest
    from backlint.graph.usecase import run_graph

    cache = layered / ".cache"
    request = GraphRequest(
        CheckRequest(paths=(layered,), cwd=layered, use_cache=True, cache_dir=cache),
        cycles=True,
    )
    first = run_graph(request)
    assert any(cache.rglob("derived/*"))
    assert run_graph(request).graph == first.graph
    (layered / "app/billing/service.py").write_text("charge = 1\n", encoding="utf-8")
    assert run_graph(request).graph.cycles == (("app.legacy.a", "app.legacy.b"),)


def test_project_index_after_a_cached_check(layered: Path) -> None:
    """A check whose outcome came from the cache has no index; ``project_index`` builds
    it from the cached facts without running the file pass again."""
    from backlint.application import CheckRequest, open_workspace

    request = CheckRequest(paths=(layered,), cwd=layered, use_cache=True, cache_dir=layered / "c")
    open_workspace(request).check(request.paths)
    workspace = open_workspace(request)
    assert workspace.check(request.paths).project is None  # the outcome was cached
    indexed = open_workspace(request).project_index(request.paths)
    assert "app.users.service" in indexed.project.modules
    assert indexed.project.graph.has_edge("app.users.service", "app.billing.service")


# --- helpers ------------------------------------------------------------------------------


def _node(name: str) -> Node:
    return Node(name, name.replace(".", "/") + ".py", None)


def _edge(
    source: str, target: str, kind: EdgeKind = EdgeKind.RUNTIME, breaks_layers: bool = False
) -> Edge:
    return Edge(
        source,
        target,
        kind,
        source.replace(".", "/") + ".py",
        1,
        counts=kind is EdgeKind.RUNTIME,
        breaks_layers=breaks_layers,
    )


def graph_text(graph: Any) -> str:
    from backlint.graph.render_dot import render_dot

    return render_dot(graph)
