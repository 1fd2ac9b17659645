"""What a file's persistence code reads or writes, from its signatures (one file at a time).

A class that the repository layer takes, returns or is parametrised with is the shape
the application stores and loads: a domain or persistence class, whatever module it is
defined in and even when a route handler also returns it (mealie's repositories are
``RepositoryGeneric[Recipe, RecipeModel]`` over its ``schema`` classes). BL401 asks the
project index for these names before it calls a class a transport model.

Persistence code is every function of a ``repository`` file or of a module whose path
names the persistence layer (``crud.py``, ``db/``, ``repos/``, ``dal.py``: projects that
keep their queries there rarely configure the ``repository`` role), and the classes of
any file whose name says they are repositories (``UserRepository``, ``RepositoryGeneric``,
``CRUDBase``, ``UserDAO``): their generic type arguments and their methods' signatures.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import PurePosixPath

import libcst as cst

from backlint.index.names import ImportTable
from backlint.index.routes import annotation_names

_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+")
_REPOSITORY_WORDS = frozenset(
    {"Repository", "Repositories", "Repo", "Repos", "CRUD", "Crud", "DAO", "Dao"}
)
# Words that may follow the repository word in a base class's name.
_BASE_WORDS = frozenset({"Generic", "Base", "Mixin", "Abc", "ABC", "Protocol", "Interface"})
# Last words that name another kind of class (``RepoService`` serves git repositories).
_OTHER_KINDS = frozenset(
    {"Service", "Services", "Handler", "Controller", "View", "Views", "Router", "Client"}
)


# Folder or module names of the persistence layer.
_PERSISTENCE_MODULES = frozenset(
    {
        "repository",
        "repositories",
        "repos",
        "repo",
        "crud",
        "cruds",
        "dal",
        "dao",
        "daos",
        "db",
        "database",
        "persistence",
    }
)


def is_persistence_module(relative: str) -> bool:
    """Whether a file's path names the persistence layer (``app/crud.py``,
    ``app/db/queries.py``, ``app/repos/users.py``)."""
    path = PurePosixPath(relative)
    return any(part in _PERSISTENCE_MODULES for part in (*path.parent.parts, path.stem))


def is_repository_class(name: str) -> bool:
    """Whether a class name says "repository": the word ends the CamelCase name or starts
    it (``OrderRepository``, ``RepositoryRecipes``, ``CRUDBase``, ``UserDAO``), or only base
    class words follow it (``HouseholdRepositoryGeneric``). A name that only mentions the
    word (``GitHubRepositoryBenefitService``) is about something else."""
    words = _WORDS.findall(name)
    if not words or words[-1] in _OTHER_KINDS:
        return False
    return any(
        word in _REPOSITORY_WORDS
        and (index == 0 or all(rest in _BASE_WORDS for rest in words[index + 1 :]))
        for index, word in enumerate(words)
    )


def persisted_names(
    module: cst.Module, table: ImportTable, repository_file: bool
) -> tuple[str, ...]:
    """Qualified names the persistence code of ``module`` mentions in signatures and in the
    type arguments of its repository classes' bases."""
    found: list[str] = []
    for statement in _top_level(module.body):
        if isinstance(statement, cst.FunctionDef):
            if repository_file:
                found.extend(_signature_names(statement, table))
            continue
        repository = is_repository_class(statement.name.value)
        if not (repository or repository_file):
            continue
        if repository:
            for base in statement.bases:
                if base.keyword is None and isinstance(base.value, cst.Subscript):
                    found.extend(annotation_names(base.value, table))
        for method in _methods(statement):
            found.extend(_signature_names(method, table))
    return tuple(dict.fromkeys(found))


def _top_level(body: Sequence[cst.BaseStatement]) -> Iterator[cst.FunctionDef | cst.ClassDef]:
    """Functions and classes at module level, also inside module-level ``if``/``try``."""
    for statement in body:
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            yield statement
        elif isinstance(statement, (cst.If, cst.Try)) and isinstance(
            statement.body, cst.IndentedBlock
        ):
            yield from _top_level(statement.body.body)


def _methods(node: cst.ClassDef) -> Iterator[cst.FunctionDef]:
    if isinstance(node.body, cst.IndentedBlock):
        for statement in node.body.body:
            if isinstance(statement, cst.FunctionDef):
                yield statement


def _signature_names(node: cst.FunctionDef, table: ImportTable) -> Iterator[str]:
    params = node.params
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        if param.annotation is not None:
            yield from annotation_names(param.annotation.annotation, table)
    if node.returns is not None:
        yield from annotation_names(node.returns.annotation, table)
