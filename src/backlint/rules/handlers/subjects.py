"""What the values a handler compares are about: request input, the acting user, or state.

BL101 counts a *domain branch* when a handler decides on the state of the domain
(``order.status == "shipped"``). Three other kinds of comparison look the same but are
the handler's own job:

* **input**: a value that comes from the request: a handler parameter that is not
  injected (``item_id``, ``body.role``), request data (``request.data["x"]``,
  ``request.args.get("x")``), a local assigned from either (``data = request.get_json()``,
  ``for key, value in data.items()``), a form's ``cleaned_data`` or a serializer's
  ``validated_data``, and the per-request attributes of a class-based view
  (``self.group_id``). Comparing state with input is a lookup (``item.id ==
  item_id``) or validation of the request against what is stored;
* **authorization**: a comparison on *who is asking*: the acting user or their identity
  (``request.user``, ``current_user.id``, ``self.user.group``, Flask's
  ``session["id"]``, an injected ``user`` parameter, a ``requesting_member``), an owner
  compared with something other than a constant (``item.owner_id != x``) or a role
  (``member.role > ROLE.GUEST``). Frameworks do this in permission classes and
  dependencies; one such check in a handler is not a business rule;
* **plumbing**: constants (``OrderStatus.PAID``, ``x.MAX_SIZE``), configuration
  (``settings.X``), an HTTP ``status_code``, DRF's ``self.action``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING

import libcst as cst

from backlint.index.names import assigned_names
from backlint.rules.handlers.common import is_depends, last_name, own_nodes, parameters

if TYPE_CHECKING:
    from backlint.engine.context import FileContext

_TRIVIAL = frozenset({"None", "True", "False"})
_CONFIG_ROOTS = frozenset({"settings", "config", "conf", "current_app"})
_TRANSPORT_ATTRIBUTES = frozenset({"status_code"})
_REQUEST_ROOTS = frozenset({"request", "req"})
# Attributes of the request that say who is asking, rather than what was sent.
_REQUEST_STATE = frozenset({"user", "auth"})
# What a Django form or a DRF serializer made of the request.
_VALIDATED = frozenset({"cleaned_data", "validated_data", "initial_data"})
# Builtins that convert input without making it anything else (``int(group_id)``).
_CONVERSIONS = frozenset({"str", "int", "float", "bool", "len", "list", "tuple", "set", "dict"})
# Builtins a test may apply to input and still only read input.
_INSPECTING = _CONVERSIONS | {"isinstance", "hasattr", "any", "all", "callable"}
# Methods that read a value out of the object they are called on (``data.get("x")``).
_ACCESSORS = frozenset(
    {
        "get",
        "getlist",
        "get_json",
        "lower",
        "upper",
        "strip",
        "lstrip",
        "rstrip",
        "split",
        "keys",
        "values",
        "items",
        "copy",
        "dict",
        "model_dump",
        "to_dict",
        "json",
        "pop",
    }
)
# Parameters that are collaborators rather than request input, by name or type name.
_COLLABORATOR_SUFFIXES = (
    "session",
    "service",
    "svc",
    "repository",
    "repo",
    "dep",
    "client",
    "db",
    "cache",
    "redis",
    "settings",
    "config",
)
# Names of the acting user (or their membership) in handlers.
_ACTING_NAMES = frozenset(
    {"current_user", "request_user", "auth_user", "authenticated_user", "actor", "viewer", "me"}
)
_ACTING_PREFIXES = ("current_", "requesting_", "acting_", "logged_in_", "authenticated_")
_ACTING_ATTRIBUTES = frozenset({"user", "current_user", "auth"})
# Attributes that identify the acting user, their tenant or their rights.
_IDENTITY_ATTRIBUTES = frozenset(
    {
        "id",
        "pk",
        "uuid",
        "email",
        "username",
        "group",
        "groups",
        "group_id",
        "group_ids",
        "org_id",
        "organization_id",
        "team_id",
        "tenant_id",
        "household_id",
        "workspace_id",
        "role",
        "roles",
        "admin",
        "is_admin",
        "is_staff",
        "is_superuser",
        "permissions",
    }
)
# Who owns a record: compared with the acting user (or a local holding them), an
# ownership check; compared with a constant (``step.owner == Owner.MERCHANT``), state.
_OWNER_ATTRIBUTES = frozenset(
    {
        "owner",
        "owner_id",
        "owned_by",
        "owned_by_id",
        "created_by",
        "created_by_id",
        "creator",
        "creator_id",
        "author",
        "author_id",
        "user",
        "user_id",
        "member",
        "member_id",
        "captain_id",
    }
)
_ROLE_ATTRIBUTES = frozenset(
    {"role", "roles", "is_admin", "is_staff", "is_superuser", "permissions", "admin"}
)


class HandlerSubjects:
    """Classifies the operands of a handler's comparisons (see the module docstring)."""

    def __init__(self, node: cst.FunctionDef, ctx: FileContext) -> None:
        self._ctx = ctx
        self.inputs: set[str] = set()
        self.acting: set[str] = set()
        for param in parameters(node):
            name = param.name.value
            if name in ("self", "cls") or name in _REQUEST_ROOTS:
                continue  # the request: its data is input, its user is who is asking
            if _acting_name(name) or (_user_like(name) and _injected(param)):
                self.acting.add(name)
            elif not _injected(param) and not _collaborator(param):
                self.inputs.add(name)
        self._track_locals(node)

    def _track_locals(self, node: cst.FunctionDef) -> None:
        """Locals assigned only from input (``data = request.get_json()``) are input too,
        and so are the targets of a ``for`` over input; in source order, so that input
        flows through several assignments."""
        reassigned: set[str] = set()
        for current in own_nodes(node):
            if isinstance(current, cst.Assign):
                targets = [t.target for t in current.targets]
                value: cst.BaseExpression = current.value
            elif isinstance(current, cst.AnnAssign) and current.value is not None:
                targets, value = [current.target], current.value
            elif isinstance(current, (cst.For, cst.CompFor)):
                targets, value = [current.target], current.iter
            else:
                continue
            from_input = self.is_input(value)
            for target in targets:
                for name in assigned_names(target):
                    if from_input and name not in reassigned:
                        self.inputs.add(name)
                    else:
                        reassigned.add(name)
                        self.inputs.discard(name)

    # Kinds of operand -------------------------------------------------------------

    def is_input(self, node: cst.BaseExpression) -> bool:
        """A value taken from the request (see the module docstring)."""
        node = _unconverted(node)
        if isinstance(node, (cst.SimpleString, cst.FormattedString, cst.ConcatenatedString)):
            return False
        if isinstance(node, (cst.ListComp, cst.SetComp, cst.GeneratorExp)):
            return self.is_input(node.for_in.iter)  # ``[e.strip() for e in entities]``
        chain, root = _chain(node)
        if root is None:
            return False
        if root in self.inputs or _VALIDATED.intersection(chain):
            return True
        if root in _REQUEST_ROOTS and root not in self.acting:
            return bool(chain) and chain[0] not in _REQUEST_STATE
        if root in ("self", "cls") and chain:
            if chain[0] == "request":
                return len(chain) > 1 and chain[1] not in _REQUEST_STATE
            # ``self.group_id``: an attribute a class-based view sets per request.
            return len(chain) == 1 and not _acting_attribute(chain[0])
        return False

    def reads_input_only(self, test: cst.BaseExpression) -> bool:
        """The test reads request input and nothing else but literals, constants and
        builtins (``request.method == "POST"``, ``if start_date and not end_date``):
        parsing the request, which is the handler's job."""
        found = False
        stack: list[cst.BaseExpression] = [test]
        while stack:
            current = stack.pop()
            if isinstance(current, cst.BooleanOperation):
                stack.extend((current.left, current.right))
            elif isinstance(current, cst.UnaryOperation):
                stack.append(current.expression)
            elif isinstance(current, cst.Comparison):
                stack.append(current.left)
                stack.extend(target.comparator for target in current.comparisons)
            elif isinstance(current, (cst.List, cst.Tuple, cst.Set)):
                stack.extend(element.value for element in current.elements)
            elif self.is_input(current) or self._is_request(current):
                found = True
            elif _builtin_call(current) or _function_call(current):
                # ``len(items)``, ``is_valid_email(email)``, ``htmx_partial(request)``:
                # a check of the input (a method of a collaborator is not).
                assert isinstance(current, cst.Call)
                stack.extend(arg.value for arg in current.args)
            elif not (_constant(current) or _trivial(current) or _literal(current)):
                return False
        return found

    def _is_request(self, node: cst.BaseExpression) -> bool:
        """The request object itself (``request``, ``self.request``)."""
        dotted = _dotted(node)
        return dotted in _REQUEST_ROOTS or dotted == "self.request"

    def is_acting(self, node: cst.BaseExpression) -> bool:
        """The acting user (or their membership, their session) itself."""
        chain, root = _chain(node)
        if root is None:
            return False
        if root in self.acting and not chain:
            return True
        if root in _REQUEST_ROOTS and len(chain) == 1 and chain[0] in _REQUEST_STATE:
            return True
        if root in ("self", "cls"):
            if chain[:1] == ["request"]:
                chain = chain[1:]
            return len(chain) == 1 and _acting_attribute(chain[0])
        if root == "g" and len(chain) == 1 and chain[0] in _ACTING_ATTRIBUTES:
            return True
        return root == "session" and self._flask_session()  # who is logged in

    def is_identity(self, node: cst.BaseExpression) -> bool:
        """The acting user, or an attribute that identifies them, their tenant or rights
        (``current_user.id``, ``self.user.group``, ``request.user.is_staff``)."""
        node = _unconverted(node)
        if self.is_acting(node):
            return True
        if isinstance(node, cst.Attribute) and node.attr.value in _IDENTITY_ATTRIBUTES:
            return self.is_acting(node.value)
        return False

    def _flask_session(self) -> bool:
        qualified = self._ctx.names.imported("session") or ""
        return qualified.startswith(("flask.", "quart."))

    # Comparisons --------------------------------------------------------------------

    def domain_comparison(self, test: cst.BaseExpression) -> str | None:
        """The first comparison of domain state in a test (through ``and``/``or``/
        ``not``), shown as code; None when every comparison is on input, on who is
        asking, on plumbing, or checks existence."""
        for comparison in _comparisons(test):
            if self._lookup(comparison):
                continue
            operands = [comparison.left, *(target.comparator for target in comparison.comparisons)]
            for left, right in itertools.pairwise(operands):
                if self._on_domain_state(left, right):
                    return code_of(comparison)
        return None

    def _on_domain_state(self, left: cst.BaseExpression, right: cst.BaseExpression) -> bool:
        if not (is_state(left) and not _trivial(right)) and not (
            is_state(right) and not _trivial(left)
        ):
            return False
        if self.is_input(left) or self.is_input(right):
            return False  # a lookup or the request validated against what is stored
        return not self._authorization(left, right)

    def _lookup(self, comparison: cst.Comparison) -> bool:
        """``x.id in seen``: membership in a collection the handler built is a join or
        a de-duplication, not a decision on state."""
        return all(
            isinstance(target.operator, (cst.In, cst.NotIn))
            and isinstance(target.comparator, cst.Name)
            and target.comparator.value not in self.acting
            for target in comparison.comparisons
        )

    def _authorization(self, left: cst.BaseExpression, right: cst.BaseExpression) -> bool:
        for this, other in ((left, right), (right, left)):
            if self.is_identity(this) or _attribute(this) in _ROLE_ATTRIBUTES:
                return True
            if _attribute(this) in _OWNER_ATTRIBUTES and not _constant(other):
                return True
        return False


def code_of(node: cst.CSTNode) -> str:
    text = " ".join(cst.Module(body=[]).code_for_node(node).split())
    return text if len(text) <= 60 else text[:57] + "..."


def _acting_name(name: str) -> bool:
    return name in _ACTING_NAMES or name.startswith(_ACTING_PREFIXES)


def _acting_attribute(name: str) -> bool:
    return name in _ACTING_ATTRIBUTES or _acting_name(name)


def _user_like(name: str) -> bool:
    return "user" in name or "member" in name or name in ("principal", "subject", "auth")


def _injected(param: cst.Param) -> bool:
    """A FastAPI dependency: ``= Depends(...)`` or ``Annotated[X, Depends(...)]``."""
    if is_depends(param.default):
        return True
    annotation = param.annotation.annotation if param.annotation is not None else None
    if isinstance(annotation, cst.Subscript) and last_name(annotation.value) == "Annotated":
        return any(
            isinstance(element.slice, cst.Index) and is_depends(element.slice.value)
            for element in annotation.slice
        )
    # ``current_user: CurrentUser``: an alias of such an ``Annotated`` type, capitalised
    # like a class although the parameter is not a request body.
    return isinstance(annotation, cst.Name) and _acting_name(_snake(annotation.value))


def _collaborator(param: cst.Param) -> bool:
    """``db_session: DbSession``, ``orders: OrderService``: injected, not sent."""
    names = [param.name.value]
    if param.annotation is not None:
        names.append(last_name(param.annotation.annotation) or "")
    return any(name.lower().endswith(_COLLABORATOR_SUFFIXES) for name in names if name)


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


def _unconverted(node: cst.BaseExpression) -> cst.BaseExpression:
    """``x`` for ``int(x)``, ``str(x)``, ``len(x)``."""
    while (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Name)
        and node.func.value in _CONVERSIONS
        and len(node.args) == 1
    ):
        node = node.args[0].value
    return node


def _chain(node: cst.BaseExpression) -> tuple[list[str], str | None]:
    """``(["data", "get"], "request")`` for ``request.data.get("x")``: the attribute
    names from the root outwards, through subscripts and method calls."""
    names: list[str] = []
    current = node
    while isinstance(current, (cst.Attribute, cst.Subscript, cst.Call)):
        if isinstance(current, cst.Attribute):
            names.append(current.attr.value)
            current = current.value
        elif isinstance(current, cst.Subscript):
            current = current.value
        else:
            func = current.func
            if not isinstance(func, cst.Attribute) or func.attr.value not in _ACCESSORS:
                return [], None  # what ``f(x)`` or ``svc.load(x)`` returns is not ``x``
            names.append(func.attr.value)
            current = func.value
    if not isinstance(current, cst.Name):
        return [], None
    names.reverse()
    return names, current.value


def _builtin_call(node: cst.BaseExpression) -> bool:
    return (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Name)
        and node.func.value in _INSPECTING
    )


def _function_call(node: cst.BaseExpression) -> bool:
    """A call of a plain function with arguments (``is_valid(email)``)."""
    return (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Name)
        and not node.func.value[:1].isupper()
        and bool(node.args)
    )


def _dotted(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        inner = _dotted(node.value)
        return None if inner is None else f"{inner}.{node.attr.value}"
    return None


def _literal(node: cst.BaseExpression) -> bool:
    return isinstance(
        node,
        (cst.Integer, cst.Float, cst.SimpleString, cst.ConcatenatedString, cst.FormattedString),
    )


def _attribute(node: cst.BaseExpression) -> str | None:
    node = _unconverted(node)
    return node.attr.value if isinstance(node, cst.Attribute) else None


def _constant(node: cst.BaseExpression) -> bool:
    """A literal or a name spelled like a constant or an enum member."""
    if isinstance(
        node, (cst.Integer, cst.Float, cst.SimpleString, cst.ConcatenatedString, cst.Tuple)
    ):
        return True
    if isinstance(node, (cst.List, cst.Set)):
        return all(_constant(element.value) for element in node.elements)
    _, root = _chain(node)
    if root is not None and root[:1].isupper():
        return True
    name = last_name(node)
    return name is not None and name.isupper()


def _comparisons(test: cst.BaseExpression) -> Iterator[cst.Comparison]:
    stack: list[cst.BaseExpression] = [test]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.BooleanOperation):
            stack.extend((current.right, current.left))
        elif isinstance(current, cst.UnaryOperation) and isinstance(current.operator, cst.Not):
            stack.append(current.expression)
        elif isinstance(current, cst.Comparison):
            yield current


def _trivial(node: cst.BaseExpression) -> bool:
    """``None``, ``True``, ``False`` or ``""``: comparing with them checks existence."""
    if isinstance(node, cst.SimpleString):
        return node.evaluated_value == ""
    return isinstance(node, cst.Name) and node.value in _TRIVIAL


def is_state(node: cst.BaseExpression) -> bool:
    """An attribute or subscript (or its ``len()``) that is not a constant,
    configuration or an HTTP status."""
    if isinstance(node, cst.Call) and last_name(node.func) == "len" and len(node.args) == 1:
        node = node.args[0].value
    if not isinstance(node, (cst.Attribute, cst.Subscript)):
        return False
    if isinstance(node, cst.Attribute):
        name = node.attr.value
        if name in _TRANSPORT_ATTRIBUTES or (name.isupper() and len(name) > 1):
            return False
    chain: list[str] = []
    current: cst.BaseExpression = node
    called = False
    while isinstance(current, (cst.Attribute, cst.Subscript, cst.Call)):
        if isinstance(current, cst.Attribute):
            chain.append(current.attr.value)
            current = current.value
        elif isinstance(current, cst.Subscript):
            current = current.value
        else:
            called = True
            current = current.func
    if not isinstance(current, cst.Name):
        return True
    if current.value[:1].isupper() and not called:
        return False  # ``OrderStatus.PAID``, ``Group.BUILTIN``: a constant, not state
    chain.reverse()
    if current.value in ("self", "cls") and chain[:1] in (["action"], ["format_kwarg"]):
        return False  # DRF's routing of the request
    return current.value not in _CONFIG_ROOTS
