"""The project index: every file's facts joined into one picture, built once per run.

It holds the modules by name, each file's final role, the import graph (a networkx
DiGraph whose edges carry the import's kind and position) and module-level bindings, so
that project rules and conditions can ask across files: "what does ``a.b.c`` resolve
to", "is this name a logger", "which modules form a cycle".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from backlint.index.facts import BindingFact, FileFacts, ImportFact
from backlint.index.roles import final_role

if TYPE_CHECKING:
    # Imported where it is used: the parent needs networkx only after the workers have
    # started, so its import overlaps with their parsing instead of delaying them.
    import networkx as nx


@dataclass(frozen=True)
class Edge:
    """One import of a project module by another: the first one in source order."""

    source: str
    target: str
    fact: ImportFact
    path: str


ModuleLoader = Callable[[str], FileFacts | None]


class ProjectIndex:
    """``loader`` finds modules that were not checked in this run (for ``binding`` only)."""

    def __init__(self, files: Iterable[FileFacts], loader: ModuleLoader | None = None) -> None:
        self._loader = loader
        self.files: dict[str, FileFacts] = {}
        self.modules: dict[str, FileFacts] = {}
        for facts in sorted(files, key=lambda f: f.path):
            self.files[facts.path] = facts
            # Two files can claim one module (``a.py`` and ``a/__init__.py``, or the same
            # name under two roots): the first by path wins, as the sort makes it stable.
            self.modules.setdefault(facts.module, facts)
        self.uses_django = any(
            fact.module == "django" or fact.module.startswith("django.")
            for facts in self.modules.values()
            for fact in facts.imports
        )
        self.roles: dict[str, str | None] = {
            path: final_role(facts.roles, self.uses_django) for path, facts in self.files.items()
        }
        self._bindings: dict[str, dict[str, BindingFact]] = {
            name: {b.name: b for b in facts.bindings} for name, facts in self.modules.items()
        }
        import networkx

        self.graph: nx.DiGraph = networkx.DiGraph()
        self._build_graph()
        self.used_suppressions: set[tuple[str, int, str]] = set()

    def resolve_module(self, module: str, name: str) -> str | None:
        """The project module an import refers to (rules.md §2 BL411).

        ``from pkg import name`` is the submodule ``pkg.name`` when it exists, otherwise
        ``pkg``; ``import a.b.c`` is the longest prefix that is a project module.
        """
        if name and f"{module}.{name}" in self.modules:
            return f"{module}.{name}"
        if name:
            return module if module in self.modules else None
        parts = module.split(".")
        while parts:
            candidate = ".".join(parts)
            if candidate in self.modules:
                return candidate
            parts.pop()
        return None

    def _build_graph(self) -> None:
        for module, facts in self.modules.items():
            self.graph.add_node(module, path=facts.path)
        for module, facts in self.modules.items():
            for fact in facts.imports:
                target = self.resolve_module(fact.module, fact.name)
                if target is None or (target == module and facts.is_package):
                    continue
                if self.graph.has_edge(module, target):
                    # Keep the first import in source order for each kind of edge.
                    edges = self.graph.edges[module, target]["imports"]
                    edges.append(fact)
                    continue
                self.graph.add_edge(module, target, imports=[fact], path=facts.path)

    def code_imports(self) -> Iterator[tuple[str, str, list[ImportFact]]]:
        """``(importer, imported, imports)`` for every edge between non-test modules, sorted.

        The import rules leave test code out: tests import everything they test.
        """
        for source, target, data in sorted(self.graph.edges(data=True)):
            if not (self.modules[source].is_test or self.modules[target].is_test):
                yield source, target, data["imports"]

    def binding(self, qualified: str, _depth: int = 0) -> BindingFact | None:
        """The module-level binding ``qualified`` names, following re-exports across modules."""
        module, _, name = qualified.rpartition(".")
        if module not in self._bindings and self._loader is not None and module:
            loaded = self._loader(module)
            self._bindings[module] = {b.name: b for b in loaded.bindings} if loaded else {}
        bindings = self._bindings.get(module)
        if bindings is None or name not in bindings:
            return None
        binding = bindings[name]
        if binding.shape in ("import", "alias") and _depth < 10:
            further = self.binding(binding.target, _depth + 1)
            if further is not None:
                return further
        return binding

    def role_of(self, path: str) -> str | None:
        return self.roles.get(path)

    def mark_suppression_used(self, path: str, line: int, code: str) -> None:
        self.used_suppressions.add((path, line, code))
