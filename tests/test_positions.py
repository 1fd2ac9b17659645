"""Positions computed by rendering single statements agree with libcst's PositionProvider."""

from __future__ import annotations

import ast
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from backlint.engine.positions import PositionIndex, import_spans
from backlint.engine.walker import iter_descendants
from backlint.source import split_lines

SAMPLES = {
    "decorators-and-comments": '''
# header comment
import os  # trailing


# a comment before a decorated function
@decorator  # why
# between decorators
@other(
    1,
)
def f(a, b: "int" = 2) -> None:
    """Doc
    string."""
    x = "é—✓"; y = os.path.join(a, "ü")
    if x:
        pass
    elif y:
        return None
    else:
        raise ValueError(
            "multi"
            "line",
        )


class C(Base, metaclass=M):
    # comment in class
    def m(self):
        try:
            import json
        except ImportError:
            pass
''',
    "continuations": '''
value = 1 + \\
    2
text = """
multi
line
"""; other = text
def g():
\treturn value
''',
    "non-ascii": 'naïve = "café"; import time; time.sleep(1)\n',
    # A string token that mixes line breaks: each of them starts a line.
    "mixed-line-breaks": 'text = """a\rb\nc\r\nd"""; value = f(1)\r\nimport os\ry = g(os.sep)\n',
    # Form feeds, vertical tabs and Unicode separators do not end a line in Python.
    "separators-inside-lines": (
        'x = 1  # a\x0cb\x1cc\u2028d\n\x0cimport os; é = "\x0b\x85"\ndef g(a=é):\n    return a\n'
    ),
}
SAMPLES["fallback-render"] = SAMPLES["decorators-and-comments"]


def _expected(module: cst.Module) -> dict[cst.CSTNode, tuple[int, int, int, int]]:
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    return {
        node: (r.start.line, r.start.column + 1, r.end.line, r.end.column + 1)
        for node, r in positions.items()
    }


def _sources() -> list[tuple[str, str]]:
    own = sorted(Path(__file__).resolve().parents[1].joinpath("src", "backlint").rglob("*.py"))
    texts = [(str(p.relative_to(p.parents[2])), p.read_text(encoding="utf-8")) for p in own]
    return [*SAMPLES.items(), *[(n, t) for n, t in texts if "def " in t][:12]]


@pytest.mark.parametrize(("name", "source"), _sources(), ids=[n for n, _ in _sources()])
def test_statement_rendering_matches_position_provider(name: str, source: str) -> None:
    source = source.lstrip("\n")
    module = cst.parse_module(source)
    expected = _expected(module)
    # With the ast tree (one statement rendered) and without it (whole module rendered).
    index = PositionIndex(module, ast.parse(source) if "fallback" not in name else None)
    checked = 0
    for top, statement in enumerate(module.body):
        for node in [statement, *iter_descendants(statement)]:
            if isinstance(
                node, (cst.Name, cst.Call, cst.FunctionDef, cst.ExceptHandler, cst.Param)
            ):
                span = index.span(node, top)
                got = (span.start.line, span.start.column, span.end.line, span.end.column)
                assert got == expected[node], (name, cst.Module([]).code_for_node(node))
                checked += 1
    assert checked > 0


def test_import_spans_come_from_ast_and_match() -> None:
    source = SAMPLES["decorators-and-comments"].lstrip("\n") + SAMPLES["non-ascii"]
    module = cst.parse_module(source)
    expected = _expected(module)
    nodes = [
        node for node in iter_descendants(module) if isinstance(node, (cst.Import, cst.ImportFrom))
    ]
    spans = import_spans(ast.parse(source), nodes, split_lines(source))
    assert spans is not None and len(spans) == 3
    for node in nodes:
        span = spans[id(node)]
        got = (span.start.line, span.start.column, span.end.line, span.end.column)
        assert got == expected[node]


def test_early_stop_does_not_cache_ranges_of_unfinished_nodes() -> None:
    source = SAMPLES["decorators-and-comments"].lstrip("\n")
    module = cst.parse_module(source)
    expected = _expected(module)
    index = PositionIndex(module, ast.parse(source))
    function = next(s for s in module.body if isinstance(s, cst.FunctionDef))
    top = module.body.index(function)
    index.locate([(function.name, top)])  # stops right after the name
    for node in (function.name, function, function.body):
        span = index.span(node, top)
        got = (span.start.line, span.start.column, span.end.line, span.end.column)
        assert got == expected[node]
