"""Positions for the few nodes that are reported, without libcst's PositionProvider.

PositionProvider renders the whole module while recording a range for every node; on a
real project that costs several times the parse. A finding only needs the range of its
own node, so this module renders just the top-level statement that holds it. The line
that statement starts on comes from Python's ``ast`` (already parsed as a safety check
before libcst; see ``filepass.py``): an ``ast`` statement's ``lineno`` minus the comment
and blank lines libcst attaches to the statement as ``leading_lines``.

If the ``ast`` tree is missing or does not line up with libcst's (for instance syntax that
the running Python does not know), the whole module is rendered once instead.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import libcst as cst
from libcst._nodes.internal import CodegenState

from backlint.diagnostics import Position, Span
from backlint.source import LINE_BREAK, utf8_to_codepoint_column

_Range = tuple[tuple[int, int], tuple[int, int]]  # ((line, col0), (line, col0)), 1-based lines


@dataclass(frozen=False)
class _RecordingState(CodegenState):
    """Codegen that tracks line and column and records each node's syntactic range."""

    line: int = 1
    column: int = 0
    ranges: dict[cst.CSTNode, _Range] = field(default_factory=dict)
    # Stop as soon as these nodes are all positioned: a function's name is known long
    # before its body has been rendered.
    wanted: set[int] = field(default_factory=set)
    _starts: list[tuple[int, int]] = field(default_factory=list)

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.add_token(token)

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        if "\n" not in value and "\r" not in value:
            self.column += len(value)
            return
        # A string token may mix ``\r\n``, ``\r`` and ``\n``: each ends a line.
        ends = [match.end() for match in LINE_BREAK.finditer(value)]
        self.line += len(ends)
        self.column = len(value) - ends[-1]

    def before_codegen(self, node: cst.CSTNode) -> None:
        self._starts.append((self.line, self.column))

    def after_codegen(self, node: cst.CSTNode) -> None:
        start = self._starts.pop()
        if node not in self.ranges:
            self.ranges[node] = (start, (self.line, self.column))
        if self.wanted:
            self.wanted.discard(id(node))
            if not self.wanted:
                raise _AllFound

    @contextmanager
    def record_syntactic_position(
        self,
        node: cst.CSTNode,
        *,
        start_node: cst.CSTNode | None = None,
        end_node: cst.CSTNode | None = None,
    ) -> Iterator[None]:
        start = (self.line, self.column)
        # No ``finally``: when a rendering stops early, the nodes still open have no end,
        # and recording one would cache a wrong range.
        yield
        end = (self.line, self.column)
        if start_node is not None and start_node in self.ranges:
            start = self.ranges[start_node][0]
        if end_node is not None and end_node in self.ranges:
            end = self.ranges[end_node][1]
        self.ranges[node] = (start, end)


class _AllFound(Exception):
    """Ends a rendering early: every wanted node has its range."""


def _first_line(statement: ast.stmt) -> int:
    decorated = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    if isinstance(statement, decorated) and statement.decorator_list:
        return min(decorator.lineno for decorator in statement.decorator_list)
    return statement.lineno


def _ast_statement_count(statement: cst.BaseStatement) -> int:
    if isinstance(statement, cst.SimpleStatementLine):
        return len(statement.body)
    return 1


class PositionIndex:
    """Answers "where is this node" for nodes of one module, rendering lazily."""

    def __init__(self, module: cst.Module, tree: ast.Module | None) -> None:
        self._module = module
        self._tree = tree
        self._statement_lines: list[int] | None = None
        self._ranges: dict[cst.CSTNode, _Range] = {}
        self._rendered: set[int] = set()
        self._whole_module_rendered = False

    def _starts(self) -> list[int] | None:
        """The line where each top-level libcst statement's rendering starts, if ``ast`` agrees."""
        if self._statement_lines is not None:
            return self._statement_lines
        if self._tree is None:
            return None
        ast_body = self._tree.body
        lines: list[int] = []
        cursor = 0
        for statement in self._module.body:
            if cursor >= len(ast_body):
                return None
            first = _first_line(ast_body[cursor])
            leading = len(statement.leading_lines)
            if isinstance(statement, (cst.FunctionDef, cst.ClassDef)) and statement.decorators:
                leading += len(statement.decorators[0].leading_lines)
            lines.append(first - leading)
            cursor += _ast_statement_count(statement)
        if cursor != len(ast_body):
            return None
        self._statement_lines = lines
        return lines

    def locate(self, wanted: Iterable[tuple[cst.CSTNode, int | None]]) -> None:
        """Position these ``(node, top-level index)`` pairs, rendering as little as possible."""
        by_statement: dict[int, set[int]] = {}
        for node, top_level in wanted:
            if node in self._ranges or top_level is None:
                continue
            by_statement.setdefault(top_level, set()).add(id(node))
        for index, nodes in sorted(by_statement.items()):
            if 0 <= index < len(self._module.body):
                self._render_statement(index, nodes)

    def _render_statement(self, index: int, wanted: set[int] | None = None) -> None:
        if index in self._rendered:
            return
        starts = self._starts()
        if starts is None:
            self._render_module()
            return
        state = _RecordingState(
            default_indent=self._module.default_indent,
            default_newline=self._module.default_newline,
            wanted=set(wanted or ()),
        )
        state.line = starts[index]
        try:
            self._module.body[index]._codegen(state)
            self._rendered.add(index)  # complete: nothing more to learn from it
        except _AllFound:
            pass
        for node, span in state.ranges.items():
            self._ranges.setdefault(node, span)

    def _render_module(self) -> None:
        if self._whole_module_rendered:
            return
        self._whole_module_rendered = True
        state = _RecordingState(
            default_indent=self._module.default_indent,
            default_newline=self._module.default_newline,
        )
        self._module._codegen(state)
        self._ranges.update(state.ranges)

    def span(self, node: cst.CSTNode, top_level: int | None) -> Span:
        """The range of ``node``; ``top_level`` is the index of its top-level statement if known."""
        if node not in self._ranges:
            if top_level is not None and 0 <= top_level < len(self._module.body):
                self._render_statement(top_level)
            if node not in self._ranges:
                self._render_module()
        (start_line, start_col), (end_line, end_col) = self._ranges.get(node, ((1, 0), (1, 0)))
        return Span(Position(start_line, start_col + 1), Position(end_line, end_col + 1))


def _ast_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Import statements of ``tree`` in source order, walking statements only."""
    found: list[ast.Import | ast.ImportFrom] = []
    stack: list[ast.AST] = list(reversed(tree.body))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
            continue
        children: list[ast.AST] = []
        for name in ("body", "handlers", "orelse", "finalbody", "cases"):
            value = getattr(node, name, None)
            if isinstance(value, list):
                children.extend(item for item in value if isinstance(item, ast.AST))
        stack.extend(reversed(children))
    found.sort(key=lambda node: (node.lineno, node.col_offset))
    return found


def import_spans(
    tree: ast.Module | None, nodes: list[cst.Import | cst.ImportFrom], lines: list[str]
) -> dict[int, Span] | None:
    """Spans of libcst import statements (by ``id``) read off the ``ast`` tree.

    Imports are positioned in every file (the import graph needs them), so rendering
    them would cost more than everything else; ``ast`` already knows where they are.
    None when the two trees disagree on how many imports there are.
    """
    if tree is None:
        return None
    found = _ast_imports(tree)
    if len(found) != len(nodes):
        return None
    spans: dict[int, Span] = {}
    for node, located in zip(nodes, found, strict=True):
        end_line = located.end_lineno or located.lineno
        end_col = located.end_col_offset or 0
        spans[id(node)] = Span(
            Position(located.lineno, _column(lines, located.lineno, located.col_offset) + 1),
            Position(end_line, _column(lines, end_line, end_col) + 1),
        )
    return spans


def _column(lines: list[str], line: int, byte_offset: int) -> int:
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    return utf8_to_codepoint_column(text, byte_offset) if not text.isascii() else byte_offset
