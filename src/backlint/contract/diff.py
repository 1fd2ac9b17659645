"""The breaking changes between two API contracts (``model.Contract``).

Routes are matched by handler (module and function) first, then by method and path,
so that a handler whose path changed is a changed path, not a removed and an added
route. Models are compared in pairs reached through matched routes (the response
models of a route at both revisions, then the models their fields nest), so a model
that was renamed or moved is still compared field by field. Only what breaks a client
is reported; additive changes (a new route, a new optional request field, a new
response field, a new enumeration member) are not.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from backlint.contract.model import Contract, Field, Location, Model, Param, Route

_PARAMETER = re.compile(r"\{[^}]*\}|<(?:([^:<>]+):)?[^<>]*>")
# Pydantic's constrained types are their base type on the wire: a response field that
# becomes ``UUID4`` instead of ``UUID`` still sends the same text.
_WIRE_TYPES = {
    **dict.fromkeys(("UUID1", "UUID3", "UUID4", "UUID5"), "UUID"),
    **dict.fromkeys(
        ("PositiveInt", "NegativeInt", "NonNegativeInt", "NonPositiveInt", "StrictInt", "conint"),
        "int",
    ),
    **dict.fromkeys(
        ("PositiveFloat", "NegativeFloat", "NonNegativeFloat", "NonPositiveFloat"),
        "float",
    ),
    **dict.fromkeys(("StrictFloat", "FiniteFloat", "confloat"), "float"),
    **dict.fromkeys(("StrictStr", "constr", "EmailStr"), "str"),
    **dict.fromkeys(("StrictBool",), "bool"),
    **dict.fromkeys(
        ("AwareDatetime", "NaiveDatetime", "PastDatetime", "FutureDatetime"), "datetime"
    ),
    **dict.fromkeys(("PastDate", "FutureDate"), "date"),
    "condecimal": "Decimal",
}
_GENERIC_ALIASES = {
    "List": "list",
    "Dict": "dict",
    "Set": "set",
    "FrozenSet": "frozenset",
    "Tuple": "tuple",
    "Type": "type",
    "Sequence": "Sequence",
}


@dataclass(frozen=True)
class Break:
    """One breaking change, reported at ``location`` (on the head side)."""

    kind: str
    message: str
    location: Location


def diff_contracts(base: Contract, head: Contract) -> list[Break]:
    """Every breaking change from ``base`` to ``head``, deduplicated, in a stable order."""
    differ = _Differ(base, head)
    found = {(b.location.path, b.location.line, b.message): b for b in differ.breaks()}
    return [found[key] for key in sorted(found)]


def normal_path(path: str) -> str:
    """A path with its parameters' names left out (``/items/{}``): renaming a path
    parameter does not move the route."""
    return _PARAMETER.sub(lambda m: f"<{m.group(1)}>" if m.group(1) else "{}", path)


class _Differ:
    def __init__(self, base: Contract, head: Contract) -> None:
        self._base = base
        self._head = head
        # Model pairs (base name, head name) to compare, with the directions they travel.
        self._pairs: dict[tuple[str, str], set[str]] = {}

    def breaks(self) -> Iterator[Break]:
        for before, after, handler in self._route_pairs():
            if after is None and self._may_be_inherited(before):
                continue
            if after is None:
                location = handler or self._removed_route_location(before)
                if location is not None:
                    yield Break(
                        "removed-route",
                        f"route `{before.operation}` (`{before.module}.{before.handler}`) "
                        "was removed",
                        location,
                    )
                continue
            yield from self._route(before, after)
        done: set[tuple[str, str, str]] = set()
        while self._pairs:
            (old, new), directions = self._pairs.popitem()
            for direction in sorted(directions):
                if (old, new, direction) in done:
                    continue
                done.add((old, new, direction))
                yield from self._model(self._base.models[old], self._head.models[new], direction)

    # Routes ----------------------------------------------------------------------

    def _route_pairs(self) -> Iterator[tuple[Route, Route | None, Location | None]]:
        """Each base route with its head route, or None and, when its handler still
        exists, the handler's location."""
        head_by_identity: dict[tuple[str, str], list[Route]] = {}
        for route in self._head.routes:
            head_by_identity.setdefault(route.identity, []).append(route)
        unmatched_base: list[Route] = []
        base_by_identity: dict[tuple[str, str], list[Route]] = {}
        for route in self._base.routes:
            base_by_identity.setdefault(route.identity, []).append(route)
        matched_head: set[int] = set()
        for identity, befores in base_by_identity.items():
            afters = head_by_identity.get(identity, [])
            pairs, rest_before, rest_after = _pair_operations(befores, afters)
            if len(rest_before) == len(rest_after):
                pairs += list(zip(rest_before, rest_after, strict=True))
                rest_before = []
            for before, after in pairs:
                matched_head.add(id(after))
                yield before, after, None
            if afters:
                yield from ((before, None, afters[0].location) for before in rest_before)
            else:
                unmatched_base.extend(rest_before)
        # A handler renamed or moved: the same operation served by another function.
        free_head = [r for r in self._head.routes if id(r) not in matched_head]
        pairs, rest_before, _ = _pair_operations(unmatched_base, free_head)
        yield from ((before, after, None) for before, after in pairs)
        yield from ((before, None, None) for before in rest_before)

    def _route(self, before: Route, after: Route) -> Iterator[Break]:
        where = after.location
        if before.path and after.path and normal_path(before.path) != normal_path(after.path):
            yield Break(
                "changed-path",
                f"route `{after.module}.{after.handler}` changed path: "
                f"`{before.operation}` -> `{after.operation}`",
                where,
            )
        elif before.method != after.method:
            yield Break(
                "changed-method",
                f"route `{after.module}.{after.handler}` changed method: "
                f"`{before.operation}` -> `{after.operation}`",
                where,
            )
        yield from self._params(before, after)
        label = f"`{after.operation}`"
        yield from self._pair_models(before.response, after.response, "response", label, where)
        yield from self._pair_models(before.request, after.request, "request", label, where)

    def _params(self, before: Route, after: Route) -> Iterator[Break]:
        label = f"`{after.operation}`"
        old_path = [p for p in before.params if p.where == "path"]
        new_path = [p for p in after.params if p.where == "path"]
        new_path_names = {p.name for p in new_path}
        if before.path and after.path:
            for index, param in enumerate(old_path):
                if param.name in new_path_names:
                    continue
                if len(old_path) == len(new_path):
                    renamed = new_path[index].name
                    message = f"{label}: path parameter `{param.name}` renamed to `{renamed}`"
                else:
                    message = f"{label}: path parameter `{param.name}` was removed"
                yield Break("removed-parameter", message, after.location)
        old_query = {p.name: p for p in before.params if p.where == "query"}
        new_query = {p.name: p for p in after.params if p.where == "query"}
        for name, param in old_query.items():
            if name not in new_query:
                if name not in new_path_names:
                    yield Break(
                        "removed-parameter",
                        f"{label}: query parameter `{name}` was removed or renamed",
                        after.location,
                    )
                continue
            now = new_query[name]
            if now.required and not param.required:
                yield Break(
                    "required-parameter",
                    f"{label}: query parameter `{name}` became required",
                    after.location,
                )
            yield from self._pair_models(
                param.types,
                now.types,
                "request",
                f"{label} query parameter `{name}`",
                after.location,
            )
        for name, param in new_query.items():
            if name not in old_query and param.required and name not in _names(old_path):
                yield Break(
                    "required-parameter",
                    f"{label}: new required query parameter `{name}`",
                    after.location,
                )

    def _may_be_inherited(self, route: Route) -> bool:
        """A method of a class-based view (routed by its class, not by a decorator) that
        is gone from a class that still exists: a base class may serve it now (a
        library's generic view, a project base)."""
        owner, dot, _ = route.handler.rpartition(".")
        return bool(dot) and not route.router and f"{route.module}.{owner}" in self._head.classes

    def _removed_route_location(self, route: Route) -> Location | None:
        """Where to report a route that no longer exists: its file if it still exists
        (at its router, else line 1); else where its router now lives; else the file
        that included its router."""
        head = self._head
        router = head.routers.get(route.router)
        if route.location.path in head.files:
            if router is not None and router.path == route.location.path:
                return Location(router.path, router.line)
            return Location(route.location.path, 1)
        if router is not None:
            return Location(router.path, router.line)
        mount = self._base.mounts.get(route.router)
        if mount is not None and mount.path in head.files:
            return Location(mount.path, 1)
        return None

    # Models ----------------------------------------------------------------------

    def _pair_models(
        self,
        before: Iterable[str],
        after: Iterable[str],
        direction: str,
        label: str,
        where: Location,
    ) -> Iterator[Break]:
        """Queue the models that stand in the same place at both revisions for
        comparison; a model swapped for another that already existed (``UserOut`` for
        ``UserSummary``) is one finding here, at ``where``, not a finding per field."""
        old = [name for name in before if name in self._base.models]
        new = [name for name in after if name in self._head.models]
        for pair in _pair_names(old, new):
            if self._swapped(*pair):
                yield from self._swap(pair, direction, label, where)
            else:
                self._pairs.setdefault(pair, set()).add(direction)

    def _swapped(self, old: str, new: str) -> bool:
        """Another class, which both revisions have: not a rename of the same shape."""
        return old != new and new in self._base.classes and old in self._head.classes

    def _swap(
        self, pair: tuple[str, str], direction: str, label: str, where: Location
    ) -> Iterator[Break]:
        before, after = self._base.models[pair[0]], self._head.models[pair[1]]
        wires = {f.wire for f in after.fields}
        if direction == "response":
            lost = [f.wire for f in before.fields if f.wire not in wires]
            detail = ", ".join(f"`{wire}`" for wire in lost)
            if lost and after.complete:
                yield Break(
                    "changed-type",
                    f"{direction} of {label} is now `{after.short}` instead of "
                    f"`{before.short}`, without {detail}",
                    where,
                )
            return
        old_wires = {f.wire for f in before.fields}
        required = [f.wire for f in after.fields if f.required and f.wire not in old_wires]
        if required and before.complete:
            detail = ", ".join(f"`{wire}`" for wire in required)
            yield Break(
                "required-field",
                f"{direction} of {label} is now `{after.short}` instead of `{before.short}`, "
                f"which requires {detail}",
                where,
            )

    def _model(self, before: Model, after: Model, direction: str) -> Iterator[Break]:
        if before.kind == "enum" or after.kind == "enum":
            if before.kind == after.kind == "enum":
                removed = [m for m in before.members if m not in after.members]
                if removed and after.complete:
                    shown = ", ".join(f"`{m}`" for m in removed)
                    yield Break(
                        "narrowed-enum",
                        f"enum `{after.short}` narrowed: {shown} removed",
                        after.location,
                    )
            return
        new_fields = {f.name: f for f in after.fields}
        new_wires = {f.wire: f for f in after.fields}
        for field in before.fields:
            now = new_fields.get(field.name) or new_wires.get(field.wire)
            if now is None:
                if direction == "response" and field.direction != "request" and after.complete:
                    yield Break(
                        "removed-field",
                        f"response field `{after.short}.{field.wire}` was removed or renamed",
                        after.location,
                    )
                continue
            yield from self._field(after, field, now, direction)
        if direction == "request":
            old_names = {f.name for f in before.fields} | {f.wire for f in before.fields}
            for field in after.fields:
                if field.name in old_names or field.wire in old_names:
                    continue
                if field.required and field.direction != "response" and before.complete:
                    yield Break(
                        "required-field",
                        f"new required request field `{after.short}.{field.wire}`",
                        _field_location(after, field),
                    )

    def _field(self, model: Model, before: Field, after: Field, direction: str) -> Iterator[Break]:
        where = _field_location(model, after)
        name = f"`{model.short}.{after.wire}`"
        if before.wire != after.wire:
            yield Break(
                "renamed-field",
                f"{direction} field `{model.short}.{after.name}` renamed on the wire: "
                f"`{before.wire}` -> `{after.wire}`",
                where,
            )
        if direction == "response" and "request" not in (before.direction, after.direction):
            change = _type_change(before, after)
            if change == "optional":
                yield Break(
                    "optional-field",
                    f"response field {name} became optional: `{before.type}` -> `{after.type}`",
                    where,
                )
            elif change == "type":
                yield Break(
                    "changed-type",
                    f"response field {name} changed type: `{before.type}` -> `{after.type}`",
                    where,
                )
        if (
            direction == "request"
            and before.required is False
            and after.required is True
            and after.direction != "response"
        ):
            yield Break("required-field", f"request field {name} became required", where)
        yield from self._pair_models(before.types, after.types, direction, name, where)


def _names(params: Iterable[Param]) -> set[str]:
    return {p.name for p in params}


def _field_location(model: Model, field: Field) -> Location:
    """A field's finding: at the field, approved by a waiver there or on the class line."""
    return Location(model.location.path, field.line, (model.location.line,))


def _pair_operations(
    befores: list[Route], afters: list[Route]
) -> tuple[list[tuple[Route, Route]], list[Route], list[Route]]:
    """Pairs with the same method and path (parameter names aside); the rest of each side."""
    pairs: list[tuple[Route, Route]] = []
    rest_after = list(afters)
    rest_before: list[Route] = []
    for before in befores:
        match = next(
            (
                after
                for after in rest_after
                if after.method == before.method
                and before.path
                and normal_path(after.path) == normal_path(before.path)
            ),
            None,
        )
        if match is None:
            rest_before.append(before)
        else:
            rest_after.remove(match)
            pairs.append((before, match))
    return pairs, rest_before, rest_after


def _pair_names(before: list[str], after: list[str]) -> Iterator[tuple[str, str]]:
    """Models that stand in the same place at both revisions: the same name, else the
    same class name, else the only one left on each side."""
    rest_before = [name for name in before if name not in after]
    rest_after = [name for name in after if name not in before]
    yield from ((name, name) for name in before if name in after)
    for name in list(rest_before):
        short = name.rpartition(".")[2]
        match = next((n for n in rest_after if n.rpartition(".")[2] == short), None)
        if match is not None:
            rest_before.remove(name)
            rest_after.remove(match)
            yield name, match
    if len(rest_before) == 1 and len(rest_after) == 1:
        yield rest_before[0], rest_after[0]


def _type_change(before: Field, after: Field) -> str:
    """``type``, ``optional`` (the type now admits None) or empty (no change, or one
    the text cannot decide: a type the code does not spell, a widened ``Literal``)."""
    if not before.type or not after.type:
        return ""
    # A model either side knows is compared field by field, so it is a placeholder on both.
    models = (*before.types, *after.types)
    old = normal_type(before.type, models)
    new = normal_type(after.type, models)
    if old is None or new is None or old == new:
        return ""
    old_parts, new_parts = set(old), set(new)
    if new_parts - {"None"} == old_parts - {"None"}:
        return "optional" if "None" in new_parts else ""
    if _widened_literal(old_parts, new_parts):
        return ""
    return "type"


def _widened_literal(old: set[str], new: set[str]) -> bool:
    """Every value a client could receive before, it may still receive: the old
    union's members all appear in the new one (``Literal["a"]`` to ``Literal["a", "b"]``)."""
    return old <= new and all(member.startswith("Literal[") for member in new - old)


def normal_type(text: str, models: tuple[str, ...]) -> tuple[str, ...] | None:
    """An annotation as the sorted members of its top-level union, in one spelling:
    ``Optional[X]`` and ``Union[X, None]`` are ``X | None``, ``List`` is ``list``,
    ``Annotated`` metadata is left out, ``Literal[...]`` is one member per value, and
    the project models it nests are ``§`` (they are compared field by field)."""
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        return None
    shorts = {name.rpartition(".")[2] for name in models}
    return tuple(sorted(set(_members(node, shorts))))


def _members(node: ast.expr, shorts: set[str]) -> Iterator[str]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        yield from _members(node.left, shorts)
        yield from _members(node.right, shorts)
        return
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            inner = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            yield repr(node.value)
            return
        yield from _members(inner, shorts)
        return
    if isinstance(node, ast.Subscript):
        head = _last(node.value)
        elements = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if head in ("Optional", "Union"):
            for element in elements:
                yield from _members(element, shorts)
            if head == "Optional":
                yield "None"
            return
        if head == "Annotated":
            yield from _members(elements[0], shorts)
            return
        if head == "Literal":
            yield from (f"Literal[{ast.unparse(e)}]" for e in elements)
            return
        arguments = ", ".join(_spelling(e, shorts) for e in elements)
        yield f"{_GENERIC_ALIASES.get(head, head)}[{arguments}]"
        return
    yield _spelling(node, shorts)


def _spelling(node: ast.expr, shorts: set[str]) -> str:
    members = sorted(set(_members(node, shorts))) if _is_compound(node) else None
    if members is not None:
        return " | ".join(members)
    if isinstance(node, ast.Call):
        node = node.func  # ``conint(gt=0)``: the constraint is not part of the wire type
    if isinstance(node, (ast.Name, ast.Attribute)):
        last = _last(node)
        if last in shorts:
            return "§"
        return _WIRE_TYPES.get(last, _GENERIC_ALIASES.get(last, last))
    if isinstance(node, ast.Constant) and node.value is None:
        return "None"
    return ast.unparse(node)


def _is_compound(node: ast.expr) -> bool:
    return isinstance(node, (ast.BinOp, ast.Subscript)) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str)
    )


def _last(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ast.unparse(node)
