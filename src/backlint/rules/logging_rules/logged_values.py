"""Which values an expression handed to a log call exposes (BL811).

Only values count, never the text of the message: ``"token refreshed for %s"`` is
a literal, so the word ``token`` in it says nothing about what is logged. The walk goes
through what ends up in the log line: f-string parts, ``%`` and ``.format`` arguments,
concatenations, containers, ``a or b``, ``x if c else y``, ``await``, and calls that
pass a value through (``str(x)``, ``x.lower()``, ``json.dumps(x)``); it stops at calls
that reduce a value to metadata (``len``, ``bool``, ``mask*``, ``redact*``, ``hash*``,
``hashlib.*``) and at slices (``token[:4]``, the usual masking idiom).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass, field

import libcst as cst

from backlint.engine.context import FileContext
from backlint.index.routes import annotation_names
from backlint.rules.identifiers import split_identifier
from backlint.rules.logging_rules.model_fields import SECRET_TYPES, Exposure
from backlint.rules.logging_rules.words import SECRET, Vocabulary

Item = str | Exposure  # a confirmed description, or one the project pass must confirm

_EMPTY = cst.Module([])
_SHOWN_LIMIT = 40
_MAX_DEPTH = 40

_METADATA_BUILTINS = frozenset(
    f"builtins.{name}"
    for name in ("len", "bool", "type", "id", "isinstance", "issubclass", "hasattr", "hash")
)
_MASKING_PREFIXES = (
    "mask",
    "redact",
    "hash",
    "anonymi",
    "obfuscat",
    "sanitiz",
    "scrub",
    "censor",
)
_PASS_THROUGH_CALLS = frozenset(
    {
        "builtins.str",
        "builtins.format",
        "builtins.list",
        "builtins.tuple",
        "builtins.set",
        "builtins.sorted",
        "json.dumps",
        "pprint.pformat",
        "fastapi.encoders.jsonable_encoder",
    }
)
# Methods whose result is the receiver's value in another form.
_PASS_THROUGH_METHODS = frozenset(
    {
        "lower",
        "upper",
        "strip",
        "lstrip",
        "rstrip",
        "casefold",
        "title",
        "encode",
        "decode",
    }
)
_MODEL_DUMPS = frozenset({"model_dump", "model_dump_json", "dict", "json"})
# A call ``get_user_email()`` returns what its name says; ``send_email()`` does not.
_GETTER_VERBS = frozenset(
    {"get", "fetch", "load", "read", "decrypt", "generate", "create", "issue", "reveal"}
)
# A name that starts with one of these (``send_email``, ``verify_password``) is a function
# passed by reference, not a value.
_ACTION_VERBS = frozenset(
    {
        "send",
        "verify",
        "validate",
        "check",
        "notify",
        "update",
        "change",
        "delete",
        "remove",
        "add",
        "set",
        "get",
        "fetch",
        "create",
        "make",
        "build",
        "parse",
        "render",
        "normalize",
        "encrypt",
        "decrypt",
        "generate",
        "load",
        "save",
        "store",
        "find",
        "handle",
        "process",
    }
)
_REQUEST_NAMES = frozenset({"request", "req", "http_request"})
_REQUEST_OBJECTS = frozenset({"flask.request", "quart.request"})
_HEADERS = "all request headers"
_COOKIES = "all request cookies"
_BODY = "the whole request body"
_REQUEST_ATTRIBUTES = {
    "headers": _HEADERS,
    "META": _HEADERS,
    "cookies": _COOKIES,
    "COOKIES": _COOKIES,
    "body": _BODY,
    "data": _BODY,
    "json": _BODY,
    "form": _BODY,
    "POST": _BODY,
}
_REQUEST_METHODS = {
    "body": _BODY,
    "json": _BODY,
    "form": _BODY,
    "get_json": _BODY,
    "get_data": _BODY,
}
_NOT_PROJECT = frozenset({"builtins", "typing", "typing_extensions", "pydantic"})


class _ElideStrings(cst.CSTTransformer):
    """Replaces string literals by ``"…"``: a message shows code, never a value that
    might be a secret, except the one key the finding is about (``data["password"]``)."""

    def __init__(self, keep: cst.CSTNode | None) -> None:
        super().__init__()
        self.keep = keep

    def leave_SimpleString(
        self, original_node: cst.SimpleString, updated_node: cst.SimpleString
    ) -> cst.BaseExpression:
        return updated_node if original_node is self.keep else cst.SimpleString('"…"')

    def leave_FormattedString(
        self, original_node: cst.FormattedString, updated_node: cst.FormattedString
    ) -> cst.BaseExpression:
        return cst.SimpleString('"…"')


def shown(node: cst.CSTNode, keep: cst.CSTNode | None = None, *, elide: bool = True) -> str:
    """The code of an expression on one line, cut to a readable length, with its string
    literals elided (but ``keep``)."""
    if elide:
        elided = node.visit(_ElideStrings(keep))
        if isinstance(elided, cst.CSTNode):  # a transformer that removes nothing
            node = elided
    text = " ".join(_EMPTY.code_for_node(node).split())
    return text if len(text) <= _SHOWN_LIMIT else text[: _SHOWN_LIMIT - 1] + "…"


def _is_literal(node: cst.BaseExpression) -> bool:
    if isinstance(node, (cst.SimpleString, cst.Integer, cst.Float, cst.Imaginary)):
        return True
    if isinstance(node, cst.ConcatenatedString):
        return _is_literal(node.left) and _is_literal(node.right)
    if isinstance(node, cst.FormattedString):
        return not any(isinstance(p, cst.FormattedStringExpression) for p in node.parts)
    if isinstance(node, cst.UnaryOperation):
        return _is_literal(node.expression)
    return isinstance(node, cst.Name) and node.value in ("None", "True", "False")


def _string_key(node: cst.BaseExpression | None) -> str | None:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _terminal(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return None


def _root_name(node: cst.BaseExpression) -> str | None:
    while isinstance(node, cst.Attribute):
        node = node.value
    return node.value if isinstance(node, cst.Name) else None


def _names_function(identifier: str) -> bool:
    words = split_identifier(identifier)
    return len(words) >= 2 and words[0] in _ACTION_VERBS


def _has_keyword(call: cst.Call, *names: str) -> bool:
    return any(arg.keyword is not None and arg.keyword.value in names for arg in call.args)


def may_be_project(qualified: str) -> bool:
    head = qualified.split(".", 1)[0]
    return head not in _NOT_PROJECT and head not in sys.stdlib_module_names


@dataclass
class Scope:
    """One function body: the types its names are known to have, from annotations and
    constructions (``user: UserCreate``, ``user = UserCreate(...)``)."""

    types: dict[str, tuple[str, ...]] = field(default_factory=dict)
    secret: set[str] = field(default_factory=set)  # names annotated SecretStr/SecretBytes

    def annotate(self, name: str, annotation: cst.BaseExpression, ctx: FileContext) -> None:
        names = list(annotation_names(annotation, ctx.names))
        self.forget(name)
        if any(n.rpartition(".")[2] in SECRET_TYPES for n in names):
            self.secret.add(name)
            return
        candidates = tuple(n for n in names if may_be_project(n))
        if candidates:
            self.types[name] = candidates

    def forget(self, name: str) -> None:
        self.types.pop(name, None)
        self.secret.discard(name)


class LoggedValues:
    """Finds the sensitive values in the arguments of one log call."""

    def __init__(self, ctx: FileContext, vocabulary: Vocabulary, scope: Scope) -> None:
        self.ctx = ctx
        self.vocabulary = vocabulary
        self.scope = scope
        self._depth = 0

    # Entry points --------------------------------------------------------------

    def of_call(self, call: cst.Call, skipped_keywords: frozenset[str]) -> list[Item]:
        """The sensitive values among a log call's arguments."""
        items: list[Item] = []
        for arg in call.args:
            if arg.keyword is None:
                items.extend(self.of(arg.value))
                continue
            keyword = arg.keyword.value
            if keyword in skipped_keywords:
                continue
            if keyword == "extra" and isinstance(arg.value, cst.Dict):
                items.extend(self._dict(arg.value, "extra"))
            elif keyword == "extra":
                items.extend(self.of(arg.value))
            else:
                items.extend(self._keyed(keyword, arg.value, f"{keyword}="))
        return list(dict.fromkeys(items))

    def of(self, node: cst.BaseExpression) -> list[Item]:
        """The sensitive values ``node`` puts in the log line."""
        return list(self._walk(node))

    # The walk ------------------------------------------------------------------

    def _walk(self, node: cst.BaseExpression) -> Iterator[Item]:
        # A generated ``a + b + c + ...`` of hundreds of terms must not exhaust the stack.
        if self._depth > _MAX_DEPTH or _is_literal(node):
            return
        self._depth += 1
        try:
            yield from self._dispatch(node)
        finally:
            self._depth -= 1

    def _dispatch(self, node: cst.BaseExpression) -> Iterator[Item]:
        if isinstance(node, cst.Name):
            yield from self._name(node)
        elif isinstance(node, cst.Attribute):
            yield from self._attribute(node)
        elif isinstance(node, cst.Subscript):
            yield from self._subscript(node)
        elif isinstance(node, cst.Call):
            yield from self._call(node)
        elif isinstance(node, (cst.FormattedString, cst.ConcatenatedString)):
            yield from self._string(node)
        else:
            yield from self._compound(node)

    def _compound(self, node: cst.BaseExpression) -> Iterator[Item]:
        if isinstance(node, cst.Await):
            yield from self._walk(node.expression)
        elif isinstance(node, cst.BinaryOperation):
            yield from self._binary(node)
        elif isinstance(node, cst.BooleanOperation):
            yield from self._walk(node.left)
            yield from self._walk(node.right)
        elif isinstance(node, cst.IfExp):
            yield from self._walk(node.body)
            yield from self._walk(node.orelse)
        elif isinstance(node, (cst.Tuple, cst.List, cst.Set)):
            for element in node.elements:
                yield from self._walk(element.value)
        elif isinstance(node, cst.Dict):
            yield from self._dict(node, "")
        elif isinstance(node, (cst.ListComp, cst.SetComp, cst.GeneratorExp)):
            yield from self._walk(node.elt)
        elif isinstance(node, cst.DictComp):
            yield from self._walk(node.key)
            yield from self._walk(node.value)
        elif isinstance(node, cst.NamedExpr):
            yield from self._walk(node.value)
        # Comparisons, ``not x``, arithmetic and lambdas do not carry a value through.

    def _string(self, node: cst.BaseExpression) -> Iterator[Item]:
        if isinstance(node, cst.ConcatenatedString):
            yield from self._walk(node.left)
            yield from self._walk(node.right)
        elif isinstance(node, cst.FormattedString):
            for part in node.parts:
                if isinstance(part, cst.FormattedStringExpression):
                    yield from self._walk(part.expression)

    def _binary(self, node: cst.BinaryOperation) -> Iterator[Item]:
        # ``"x %s" % value`` formats; ``"x " + value`` concatenates; other operators
        # compute something new (``count * 2``).
        formats = isinstance(node.operator, cst.Modulo) and isinstance(
            node.left, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)
        )
        if formats or isinstance(node.operator, cst.Add):
            yield from self._walk(node.left)
            yield from self._walk(node.right)

    def _dict(self, node: cst.Dict, label: str) -> Iterator[Item]:
        for element in node.elements:
            if not isinstance(element, cst.DictElement):
                yield from self._walk(element.value)
                continue
            key = _string_key(element.key)
            if key is None:
                yield from self._walk(element.value)
                continue
            where = f'{label}["{key}"]' if label else f'{{"{key}": …}}'
            yield from self._keyed(key, element.value, where)

    def _keyed(self, key: str, value: cst.BaseExpression, where: str) -> Iterator[Item]:
        """A value logged under a name (a keyword, a dict key): sensitive by itself, or
        because the name says so and the value is not a constant or metadata."""
        found = self.of(value)
        if found:
            yield from found
            return
        kind = self.vocabulary.kind(key)
        if kind is not None and not self._harmless(value):
            yield f"`{where}` ({kind})"

    def _harmless(self, value: cst.BaseExpression) -> bool:
        """A value that cannot be the secret its key names: a literal, a masked or
        measured value, metadata (``user.id``), a comparison, or a ``SecretStr``."""
        if _is_literal(value) or isinstance(value, (cst.Comparison, cst.UnaryOperation)):
            return True
        if isinstance(value, cst.Call) and self._reduces(value):
            return True
        if isinstance(value, cst.Subscript) and self._is_slice(value):
            return True
        if isinstance(value, cst.Name) and value.value in self.scope.secret:
            return True
        terminal = _terminal(value)
        return terminal is not None and self.vocabulary.is_metadata(terminal)

    # Names and attributes -------------------------------------------------------

    def _name(self, node: cst.Name) -> Iterator[Item]:
        name = node.value
        if name in self.scope.secret or _names_function(name):
            return
        kind = self.vocabulary.kind(name)
        if kind is not None:
            yield f"`{name}` ({kind})"
        elif name in self.scope.types:
            # ``%s`` of a Pydantic model prints every field, as ``repr`` does.
            yield self._model(name, self.scope.types[name], via_repr=True)

    def _attribute(self, node: cst.Attribute) -> Iterator[Item]:
        attribute = node.attr.value
        dump = _REQUEST_ATTRIBUTES.get(attribute)
        if dump is not None and self._is_request(node.value):
            yield f"`{shown(node)}` ({dump})"
            return
        owner = _terminal(node.value) or ""
        kind = self.vocabulary.kind_of_attribute(owner, attribute)
        if kind is None or _names_function(attribute):
            return
        text = shown(node)
        owners, instance = self._owner(node.value)
        if owners:
            yield Exposure(text, owners, instance, attribute, kind, via_repr=False)
        elif kind == SECRET and owner:
            # ``transaction_item.token``: a model of that name may declare it a UUID.
            owner_words = split_identifier(owner)
            yield Exposure(text, (), False, attribute, kind, False, owner_words=owner_words)
        else:
            yield f"`{text}` ({kind})"

    def _owner(self, receiver: cst.BaseExpression) -> tuple[tuple[str, ...], bool]:
        """The classes the receiver of an attribute may be: a typed local (``body:
        LoginRequest``), or a module-level instance (``settings``) as a qualified name."""
        if isinstance(receiver, cst.Name) and receiver.value in self.scope.types:
            return self.scope.types[receiver.value], False
        root = _root_name(receiver)
        if root is None or root in self.scope.types:
            return (), False
        if root in self.ctx.names or root in self.ctx.bindings:
            qualified = self.ctx.qualified_name(receiver)
            if qualified is not None and may_be_project(qualified):
                return (qualified,), True
        return (), False

    def _is_request(self, node: cst.BaseExpression) -> bool:
        if _terminal(node) in _REQUEST_NAMES:
            return True
        return self.ctx.qualified_name(node) in _REQUEST_OBJECTS

    def _model(self, text: str, owners: tuple[str, ...], *, via_repr: bool) -> Exposure:
        return Exposure(text, owners, False, "", "", via_repr, self.vocabulary)

    # Subscripts and calls ---------------------------------------------------------

    @staticmethod
    def _is_slice(node: cst.Subscript) -> bool:
        return any(isinstance(element.slice, cst.Slice) for element in node.slice)

    def _subscript(self, node: cst.Subscript) -> Iterator[Item]:
        if self._is_slice(node):
            return  # ``token[:4]``: a prefix, the usual way to mask
        index = node.slice[0].slice if len(node.slice) == 1 else None
        literal = index.value if isinstance(index, cst.Index) else None
        key = _string_key(literal)
        if key is not None:
            kind = self.vocabulary.kind(key)
            if kind is not None:
                yield f"`{shown(node, literal)}` ({kind})"
        elif isinstance(node.value, (cst.Name, cst.Attribute)):
            yield from self._walk(node.value)  # ``emails[0]`` is an email

    def _reduces(self, call: cst.Call) -> bool:
        """``len(x)``, ``mask_email(x)``, ``hashlib.sha256(x)``: only metadata remains."""
        qualified = self.ctx.qualified_name(call.func) or ""
        if qualified in _METADATA_BUILTINS or qualified.startswith("hashlib."):
            return True
        terminal = _terminal(call.func)
        return terminal is not None and terminal.lstrip("_").lower().startswith(_MASKING_PREFIXES)

    def _call(self, call: cst.Call) -> Iterator[Item]:
        if self._reduces(call):
            return
        func = call.func
        qualified = self.ctx.qualified_name(func)
        if qualified in ("builtins.repr", "builtins.str", "builtins.dict", "builtins.vars"):
            yield from self._builtin_of_model(call, qualified)
        elif qualified in _PASS_THROUGH_CALLS:
            if call.args:
                yield from self._walk(call.args[0].value)
        elif isinstance(func, cst.Attribute):
            yield from self._method(call, func)
        elif isinstance(func, cst.Name):
            yield from self._getter(call, func.value)

    def _builtin_of_model(self, call: cst.Call, qualified: str) -> Iterator[Item]:
        if not call.args:
            return
        value = call.args[0].value
        if isinstance(value, cst.Name) and value.value in self.scope.types:
            via_repr = qualified in ("builtins.repr", "builtins.str")
            yield self._model(shown(call), self.scope.types[value.value], via_repr=via_repr)
        else:
            yield from self._walk(value)

    def _method(self, call: cst.Call, func: cst.Attribute) -> Iterator[Item]:
        method = func.attr.value
        receiver = func.value
        request_dump = _REQUEST_METHODS.get(method)
        if method == "get_secret_value":
            yield f"`{shown(call)}` ({SECRET})"  # a ``SecretStr`` unwrapped on purpose
        elif request_dump is not None and self._is_request(receiver):
            yield f"`{shown(call)}` ({request_dump})"
        elif method in _MODEL_DUMPS and isinstance(receiver, cst.Name):
            types = self.scope.types.get(receiver.value)
            if types and not _has_keyword(call, "include", "exclude"):
                yield self._model(shown(call), types, via_repr=False)
        elif method in _PASS_THROUGH_METHODS:
            yield from self._walk(receiver)
        elif isinstance(receiver, (cst.SimpleString, cst.ConcatenatedString)):
            yield from self._literal_method(call, method)
        elif method == "get" and call.args:
            yield from self._mapping_get(call)
        else:
            yield from self._getter(call, method)

    def _literal_method(self, call: cst.Call, method: str) -> Iterator[Item]:
        """``"...".format(a, key=b)`` and ``", ".join(values)``."""
        if method not in ("format", "join"):
            return
        for arg in call.args:
            if arg.keyword is None:
                yield from self._walk(arg.value)
            else:
                yield from self._keyed(arg.keyword.value, arg.value, f"{arg.keyword.value}=")

    def _mapping_get(self, call: cst.Call) -> Iterator[Item]:
        """``data.get("password")`` reads the value a subscript would."""
        literal = call.args[0].value
        key = _string_key(literal)
        if key is None:
            return
        kind = self.vocabulary.kind(key)
        if kind is not None:
            yield f"`{shown(call, literal)}` ({kind})"

    def _getter(self, call: cst.Call, name: str) -> Iterator[Item]:
        """``get_user_email()`` or ``create_access_token()`` returns what it names."""
        tokens = split_identifier(name)
        if len(tokens) < 2 or tokens[0] not in _GETTER_VERBS:
            return
        kind = self.vocabulary.classify(tokens[1:])
        if kind is not None:
            yield f"`{shown(call)}` ({kind})"
