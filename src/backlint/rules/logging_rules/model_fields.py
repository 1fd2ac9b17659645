"""What BL811 asks the project pass: which fields a model declares, and how.

Class facts hold a class's bases but not its fields, so the class body is read from the
defining module's summary (``ProjectIndex.summary``: the fields of its classes, computed
from its tree only when a finding asks and the summary store does not have it) and the
answer is memoised per class. Pydantic models are recognised
through the class index, so pydantic need not be installed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import libcst as cst

from backlint.index.frameworks import PYDANTIC_BASES, PYDANTIC_SETTINGS
from backlint.rules.identifiers import split_identifier
from backlint.rules.logging_rules.words import Vocabulary

if TYPE_CHECKING:
    from backlint.index.names import ImportTable
    from backlint.index.project import ProjectIndex

SECRET_TYPES = frozenset({"SecretStr", "SecretBytes"})
_MODELS = PYDANTIC_BASES | PYDANTIC_SETTINGS
# Placeholder in a message that the project pass replaces with what it confirmed.
EXPOSED = "{exposed}"


@dataclass(frozen=True)
class FieldInfo:
    secret_type: bool  # annotated ``SecretStr``/``SecretBytes``: masks itself
    hidden_in_repr: bool  # ``Field(repr=False)``: left out of ``repr``/``str``


def _terminal_names(annotation: cst.BaseExpression) -> Iterator[str]:
    """The last part of every name an annotation mentions (``Optional[pydantic.SecretStr]``
    gives ``Optional`` and ``SecretStr``)."""
    stack: list[cst.CSTNode] = [annotation]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Name):
            yield current.value
        elif isinstance(current, cst.Attribute):
            yield current.attr.value
        elif isinstance(current, cst.SimpleString):
            value = current.evaluated_value
            if isinstance(value, str):
                yield value.rpartition(".")[2].strip()
        else:
            stack.extend(current.children)


def _hidden_in_repr(value: cst.BaseExpression | None) -> bool:
    if not isinstance(value, cst.Call):
        return False
    return any(
        arg.keyword is not None
        and arg.keyword.value == "repr"
        and isinstance(arg.value, cst.Name)
        and arg.value.value == "False"
        for arg in value.args
    )


@dataclass(frozen=True)
class ClassFields:
    """What a class body declares (a module summary, per top-level class)."""

    # The annotated attributes (``ClassVar`` and private ones left out).
    annotated: dict[str, FieldInfo]
    # Every field, annotated or assigned: whether it is declared as a UUID.
    uuid: dict[str, bool]


def _module_fields(tree: cst.Module, _: ImportTable) -> dict[str, ClassFields]:
    """A module summary: the fields of each top-level class, by class name (a class
    defined twice adds up, the later definition winning per field)."""
    found: dict[str, ClassFields] = {}
    for statement in tree.body:
        if isinstance(statement, cst.ClassDef):
            fields = found.setdefault(statement.name.value, ClassFields({}, {}))
            fields.annotated.update(_annotated_fields(statement))
            fields.uuid.update(_uuid_fields(statement))
    return found


def _annotated_fields(statement: cst.ClassDef) -> Iterator[tuple[str, FieldInfo]]:
    for line in statement.body.body:
        if not isinstance(line, cst.SimpleStatementLine):
            continue
        for small in line.body:
            if not (isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name)):
                continue
            field = small.target.value
            names = set(_terminal_names(small.annotation.annotation))
            if field.startswith("_") or "ClassVar" in names:
                continue
            yield field, FieldInfo(bool(names & SECRET_TYPES), _hidden_in_repr(small.value))


def _class_summary(project: ProjectIndex, canonical: str) -> ClassFields | None:
    module, _, name = canonical.rpartition(".")
    found = project.summary(module, "BL811-fields/v1", _module_fields) if module else None
    return None if found is None else found.get(name)


def _own_fields(project: ProjectIndex, canonical: str) -> dict[str, FieldInfo]:
    """The annotated attributes a class body declares (``ClassVar`` and private left out)."""
    fields = _class_summary(project, canonical)
    return {} if fields is None else fields.annotated


def class_fields(project: ProjectIndex, canonical: str) -> dict[str, FieldInfo]:
    """Fields of a class and of its project base classes (a subclass overrides)."""

    def compute() -> dict[str, FieldInfo]:
        chain = [canonical]
        chain.extend(base for base in project.ancestors(canonical) if project.class_fact(base))
        fields: dict[str, FieldInfo] = {}
        for owner in reversed(chain):
            fields.update(_own_fields(project, owner))
        return fields

    return project.memo(("BL811-fields", canonical), compute)


def _names_uuid(name: str) -> bool:
    """A name a field declared as a UUID mentions (``models.UUIDField(default=uuid4)``,
    ``Mapped[UUID]``, ``Column(UUIDType)``, ``graphene.Field(UUIDScalar)``): such a field
    is a random identifier, like a checkout's or a transaction's public id, whatever it
    is called."""
    return "uuid" in name.lower()


def _field_statements(statement: cst.ClassDef) -> Iterator[tuple[str, list[cst.BaseExpression]]]:
    """Each field a class body declares, with its annotation and value."""
    for line in statement.body.body:
        if not isinstance(line, cst.SimpleStatementLine):
            continue
        for small in line.body:
            if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                parts = [small.annotation.annotation]
                if small.value is not None:
                    parts.append(small.value)
                yield small.target.value, parts
            elif isinstance(small, cst.Assign):
                for target in small.targets:
                    if isinstance(target.target, cst.Name):
                        yield target.target.value, [small.value]


def _uuid_fields(statement: cst.ClassDef) -> Iterator[tuple[str, bool]]:
    for field, parts in _field_statements(statement):
        names = {n for part in parts for n in _terminal_names(part)}
        yield field, any(_names_uuid(name) for name in names)


def _own_uuid_fields(project: ProjectIndex, canonical: str) -> dict[str, bool]:
    """Each field the class body declares: whether it is declared as a UUID."""
    fields = _class_summary(project, canonical)
    return {} if fields is None else fields.uuid


def classes_named(project: ProjectIndex, words: tuple[str, ...]) -> tuple[str, ...]:
    """The project's top-level classes whose name has these words (``transaction_item``
    → ``TransactionItem``), for a value whose owner is only known by its name."""

    def compute() -> dict[tuple[str, ...], tuple[str, ...]]:
        index: dict[tuple[str, ...], list[str]] = {}
        for module, facts in sorted(project.modules.items()):
            if facts.is_test:
                continue
            for fact in facts.classes:
                index.setdefault(split_identifier(fact.name), []).append(f"{module}.{fact.name}")
        return {key: tuple(value) for key, value in index.items()}

    return project.memo("BL811-classes-by-words", compute).get(words, ())


def declared_as_uuid(project: ProjectIndex, classes: tuple[str, ...], field: str) -> bool:
    """Whether the classes that declare ``field`` (at least one) all declare it a UUID."""
    verdicts = [
        project.memo(("BL811-uuid-fields", cls), partial(_own_uuid_fields, project, cls)).get(field)
        for cls in classes
    ]
    declared = [verdict for verdict in verdicts if verdict is not None]
    return bool(declared) and all(declared)


def _resolve_class(project: ProjectIndex, owner: str, instance: bool) -> str | None:
    """The canonical class ``owner`` names, or the class of the module-level instance it
    names (``settings = Settings()``)."""
    found = project.class_fact(owner)
    if found is not None:
        return found[0]
    if not instance:
        return None
    binding = project.binding(owner)
    if binding is None or binding.shape != "call" or not binding.target:
        return None
    found = project.class_fact(binding.target)
    return found[0] if found is not None else None


@dataclass(frozen=True)
class Exposure:
    """A logged value only the project pass can judge.

    With ``field`` set: ``owner.field`` was flagged by its name, and is dropped if the
    model declares the field as ``SecretStr``/``SecretBytes``, or as a UUID (an
    identifier); an owner of unknown type is looked up by its name. Without: the whole model
    is logged (``model_dump()``, ``repr()``, ``str()`` or ``%s``), which counts only if
    it is a Pydantic model declaring a sensitive field.
    """

    shown: str
    owners: tuple[str, ...]  # candidate classes (or module-level instances)
    instance: bool
    field: str
    kind: str
    via_repr: bool
    vocabulary: Vocabulary | None = None
    # With no known type, the words of the owner's name (``transaction_item``): the
    # classes of that name tell whether the field is a UUID.
    owner_words: tuple[str, ...] = ()

    def describe(self, project: ProjectIndex) -> str | None:
        """The message part for this value, or None when it is not sensitive after all."""
        return project.memo(("BL811-exposure", self), self._describe(project))

    def _describe(self, project: ProjectIndex) -> Callable[[], str | None]:
        def compute() -> str | None:
            classes = [_resolve_class(project, owner, self.instance) for owner in self.owners]
            known = [cls for cls in classes if cls is not None]
            if self.field:
                for cls in known:
                    info = class_fields(project, cls).get(self.field)
                    if info is not None and info.secret_type:
                        return None
                named = known or classes_named(project, self.owner_words)
                if named and declared_as_uuid(project, tuple(named), self.field):
                    return None  # an identifier, not a credential
                return f"`{self.shown}` ({self.kind})"
            for cls in known:
                described = self._model_dump(project, cls)
                if described is not None:
                    return described
            return None

        return compute

    def _model_dump(self, project: ProjectIndex, cls: str) -> str | None:
        if self.vocabulary is None or not project.inherits(cls, _MODELS):
            return None
        sensitive = [
            f"`{name}`"
            for name, info in class_fields(project, cls).items()
            if not (info.secret_type or (self.via_repr and info.hidden_in_repr))
            and self.vocabulary.kind(name) is not None
        ]
        if not sensitive:
            return None
        model = cls.rpartition(".")[2]
        fields = "field" if len(sensitive) == 1 else "fields"
        return f"`{self.shown}` (model `{model}` with {fields} {join_descriptions(sensitive)})"


def join_descriptions(descriptions: list[str], limit: int = 3) -> str:
    """``a``, ``a and b``, ``a, b and c``, ``a, b, c and 2 more``."""
    if len(descriptions) > limit:
        shown = descriptions[:limit]
        return ", ".join(shown) + f" and {len(descriptions) - limit} more"
    if len(descriptions) == 1:
        return descriptions[0]
    return ", ".join(descriptions[:-1]) + " and " + descriptions[-1]


@dataclass(frozen=True)
class LogExposes:
    """Condition: the log call writes at least one sensitive value; fills the message."""

    certain: tuple[str, ...]
    pending: tuple[Exposure, ...]

    def _confirmed(self, project: ProjectIndex) -> list[str]:
        found = [exposure.describe(project) for exposure in self.pending]
        return [*self.certain, *(d for d in found if d is not None)]

    def holds(self, project: ProjectIndex) -> bool:
        return bool(self._confirmed(project))

    def refine(self, message: str, project: ProjectIndex) -> str:
        confirmed = list(dict.fromkeys(self._confirmed(project)))
        return message.replace(EXPOSED, join_descriptions(confirmed))
