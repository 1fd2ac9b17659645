"""The project index: every file's facts joined into one picture, built once per run.

It holds the modules by name, each file's final role, the import graph (a networkx
DiGraph whose edges carry the import's kind and position) and module-level bindings, so
that project rules and conditions can ask across files: "what does ``a.b.c`` resolve
to", "is this name a logger", "which modules form a cycle".
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Protocol, TypeVar

from backlint.index.facts import BindingFact, ClassFact, FileFacts, ImportFact, RouteFact
from backlint.index.roles import final_role

if TYPE_CHECKING:
    import libcst as cst

    # Imported where it is used: the parent needs networkx only after the workers have
    # started, so its import overlaps with their parsing instead of delaying them.
    import networkx as nx

    from backlint.index.change import ChangeSet
    from backlint.index.names import ImportTable


@dataclass(frozen=True)
class Edge:
    """One import of a project module by another: the first one in source order."""

    source: str
    target: str
    fact: ImportFact
    path: str


T = TypeVar("T")
ModuleLoader = Callable[[str], FileFacts | None]
# Parses a project file by its root-relative path (``FileFacts.path``), for summaries.
ModuleParser = Callable[[FileFacts], "tuple[cst.Module, ImportTable] | None"]


class SummaryStore(Protocol):
    """Keeps module summaries between runs, keyed by the file's path, its content and
    ``kind``; a summary is a pure function of the module's tree and import table."""

    def load(self, path: str, kind: str) -> tuple[object] | None:
        """``(value,)``, or None on a miss."""

    def save(self, path: str, kind: str, value: object) -> None: ...


class MemorySummaryStore:
    """A ``SummaryStore`` in memory, for tests and benchmarks: keyed by path and kind
    only, so it must not outlive a change of the files it summarises."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], object] = {}
        self.loads = 0
        self.misses = 0

    def load(self, path: str, kind: str) -> tuple[object] | None:
        self.loads += 1
        if (path, kind) not in self.values:
            self.misses += 1
            return None
        return (self.values[path, kind],)

    def save(self, path: str, kind: str, value: object) -> None:
        self.values[path, kind] = value


def options_fingerprint(values: Iterable[str]) -> str:
    """A short digest of option values, for the ``kind`` of a summary whose computation
    takes a rule option: the store then keeps one summary per value of the option."""
    digest = hashlib.sha256("\0".join(values).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:16]


class ProjectIndex:
    """``loader`` finds modules that were not checked in this run; ``parser`` parses a
    project file when a summary of it is asked for and ``summaries`` does not have it."""

    def __init__(
        self,
        files: Iterable[FileFacts],
        loader: ModuleLoader | None = None,
        parser: ModuleParser | None = None,
        summaries: SummaryStore | None = None,
    ) -> None:
        self._loader = loader
        self._parser = parser
        self._store = summaries
        # Trees parsed for summaries, kept for the run: several rules may summarise the
        # same module (each its own kind), and it is parsed once for all of them.
        self._trees: dict[str, tuple[cst.Module, ImportTable] | None] = {}
        self._summaries: dict[tuple[str, str], object] = {}
        self.parses = 0  # how many files summaries had to parse (for tests and benchmarks)
        self._memo: dict[Hashable, object] = {}
        # The change the run is about (``--new-from-rev``), or None: set by the project pass.
        self.change: ChangeSet | None = None
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
            path: final_role(facts.roles, self.uses_django, facts.packages)
            for path, facts in self.files.items()
        }
        self._bindings: dict[str, dict[str, BindingFact]] = {
            name: {b.name: b for b in facts.bindings} for name, facts in self.modules.items()
        }
        import networkx

        self.graph: nx.DiGraph = networkx.DiGraph()
        self._build_graph()
        self.used_suppressions: set[tuple[str, int, str]] = set()
        self._loaded: dict[str, FileFacts | None] = {}
        self._classes: dict[str, tuple[str, ClassFact, FileFacts] | None] = {}

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

    def facts_of(self, module: str) -> FileFacts | None:
        """A module's facts: from the run, else read from disk (once) by the loader."""
        if module in self.modules:
            return self.modules[module]
        if module not in self._loaded:
            self._loaded[module] = self._loader(module) if self._loader and module else None
        return self._loaded[module]

    def summary(
        self, module: str, kind: str, compute: Callable[[cst.Module, ImportTable], T]
    ) -> T | None:
        """``compute(tree, table)`` for the project module ``module``: what a rule needs
        of another module's bodies, computed once per run and kept in the summary store
        between runs (so an unchanged module is not parsed again).

        ``kind`` names the summary and the shape of its value (``"lifecycle/v1"``: bump
        the version when ``compute`` changes). ``compute`` must be a pure function of the
        module's tree and import table (nothing from other modules, the project or the
        settings) and return plain picklable data, never CST nodes. None when the
        module is not a project module or does not parse.
        """
        key = (module, kind)
        if key in self._summaries:
            return self._summaries[key]  # type: ignore[return-value]
        facts = self.facts_of(module) if module else None
        value: object = None
        if facts is not None:
            stored = self._store.load(facts.path, kind) if self._store is not None else None
            if stored is not None:
                value = stored[0]
            else:
                parsed = self._parse(facts)
                if parsed is not None:
                    value = compute(*parsed)
                    if self._store is not None:
                        self._store.save(facts.path, kind, value)
        self._summaries[key] = value
        return value  # type: ignore[return-value]

    def _parse(self, facts: FileFacts) -> tuple[cst.Module, ImportTable] | None:
        if facts.path not in self._trees:
            self.parses += self._parser is not None
            self._trees[facts.path] = self._parser(facts) if self._parser else None
        return self._trees[facts.path]

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()`` once per run for ``key``: lets conditions share work (a summary of
        a function's body) across the findings of the run without a global cache."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]  # type: ignore[return-value]

    def _bindings_of(self, module: str) -> dict[str, BindingFact]:
        """A module's bindings by name, indexed once per run."""
        if module not in self._bindings:
            facts = self.facts_of(module) if module else None
            self._bindings[module] = {b.name: b for b in facts.bindings} if facts else {}
        return self._bindings[module]

    def binding(self, qualified: str, _depth: int = 0) -> BindingFact | None:
        """The module-level binding ``qualified`` names, following re-exports across modules."""
        module, _, name = qualified.rpartition(".")
        binding = self._bindings_of(module).get(name)
        if binding is None:
            return None
        if binding.shape in ("import", "alias") and _depth < 10:
            further = self.binding(binding.target, _depth + 1)
            if further is not None:
                return further
        return binding

    def role_of(self, path: str) -> str | None:
        return self.roles.get(path)

    def role_of_file(self, facts: FileFacts) -> str | None:
        """The final role of a file of the run or of a module read from disk."""
        if facts.path in self.roles:
            return self.roles[facts.path]
        return final_role(facts.roles, self.uses_django, facts.packages)

    def mark_suppression_used(self, path: str, line: int, code: str) -> None:
        self.used_suppressions.add((path, line, code))

    # The class index ------------------------------------------------------------

    def canonical(self, qualified: str) -> str:
        """Where a name is defined: ``app.schemas.User`` re-exported from
        ``app.schemas.user`` gives ``app.schemas.user.User``."""
        return self._canonical(qualified, 0)

    def _canonical(self, qualified: str, depth: int) -> str:
        module, _, name = qualified.rpartition(".")
        facts = self.facts_of(module) if module and depth < 10 else None
        if facts is None or any(c.name == name for c in facts.classes):
            return qualified
        binding = self._bindings_of(module).get(name)
        if binding is not None:
            if binding.shape in ("import", "alias") and binding.target:
                return self._canonical(binding.target, depth + 1)
            return qualified
        # ``from .object_views import *`` in a package ``__init__``: look there.
        for source in facts.star_imports:
            found = self._canonical(f"{source}.{name}", depth + 1)
            if found == qualified:
                continue  # that submodule imports the name back from this package
            if found != f"{source}.{name}" or self._defines(source, name):
                return found
        return qualified

    def _defines(self, module: str, name: str) -> bool:
        facts = self.facts_of(module)
        return facts is not None and (
            any(c.name == name for c in facts.classes) or name in self._bindings_of(module)
        )

    def class_fact(self, qualified: str) -> tuple[str, ClassFact, FileFacts] | None:
        """The class ``qualified`` names, as ``(canonical name, class, its file)``.

        Answered from the facts of project modules (read from disk if they are not in
        the run), so no analysed code is imported and no library needs installing.
        """
        if qualified in self._classes:
            return self._classes[qualified]
        canonical = self.canonical(qualified)
        module, _, name = canonical.rpartition(".")
        facts = self.facts_of(module) if module else None
        found = None
        if facts is not None:
            fact = next((c for c in facts.classes if c.name == name), None)
            if fact is not None:
                found = (canonical, fact, facts)
        self._classes[qualified] = found
        return found

    def base_name(self, qualified: str) -> str:
        """What a base class expression stands for, as far as the project can tell.

        A project class gives its canonical name; a name bound to a call gives
        ``callee()`` (``Base = declarative_base()`` gives
        ``sqlalchemy.orm.declarative_base()``); an attribute of such an instance gives
        ``callee().attr`` (``db.Model`` with ``db = SQLAlchemy()``); anything else its
        canonical name.
        """
        found = self.class_fact(qualified)
        if found is not None:
            return found[0]
        binding = self.binding(qualified)
        if binding is not None and binding.target:
            if binding.shape == "call":
                return binding.target + "()"
            if binding.shape in ("import", "alias"):
                return binding.target
        owner, _, attribute = qualified.rpartition(".")
        if owner and attribute:
            binding = self.binding(owner)
            if binding is not None and binding.shape == "call" and binding.target:
                return f"{binding.target}().{attribute}"
        return self.canonical(qualified)

    def ancestors(self, qualified: str, limit: int = 200) -> Iterator[str]:
        """The base classes of the class ``qualified``, transitively, breadth first, each
        as ``base_name`` spells it; library classes end the walk."""
        found = self.class_fact(qualified)
        if found is None:
            return
        queue = list(found[1].bases)
        seen: set[str] = set()
        while queue and len(seen) < limit:
            current = self.base_name(queue.pop(0))
            if current in seen:
                continue
            seen.add(current)
            yield current
            parent = self.class_fact(current)
            if parent is not None:
                queue.extend(parent[1].bases)

    def inherits(
        self, qualified: str, names: frozenset[str], prefixes: tuple[str, ...] = ()
    ) -> bool:
        """Whether the class ``qualified`` is, or derives from, one of ``names`` (or a
        name starting with one of ``prefixes``), through project classes and re-exports."""

        def matches(name: str) -> bool:
            return name in names or (bool(prefixes) and name.startswith(prefixes))

        if matches(qualified) or matches(self.canonical(qualified)):
            return True
        return any(matches(name) for name in self.ancestors(qualified))

    # The route registry ---------------------------------------------------------

    @cached_property
    def url_views(self) -> frozenset[str]:
        """Every view a Django ``urls.py`` of the run routes to, by canonical name."""
        return frozenset(
            self.canonical(view) for facts in self.modules.values() for view in facts.url_views
        )

    @cached_property
    def routes(self) -> tuple[tuple[FileFacts, RouteFact], ...]:
        """The route handlers of the run whose requirements hold."""
        return tuple(
            (facts, route)
            for facts in self.modules.values()
            for route in facts.routes
            if all(requirement.holds(self) for requirement in route.requires)
        )

    @cached_property
    def route_models(self) -> frozenset[str]:
        """Canonical names of the classes handlers take or return (transport models)."""
        return frozenset(self.canonical(name) for _, route in self.routes for name in route.models)
