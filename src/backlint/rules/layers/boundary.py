from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from backlint.diagnostics import Diagnostic, Severity
from backlint.index.facts import FileFacts, ImportFact, ImportKind
from backlint.index.project import ProjectIndex
from backlint.rules.base import Example, Option, ProjectRule
from backlint.rules.layers.common import imported_name, layer_role, under

# rules.md BL421: which layers each layer must not import, and why (the message's reason).
FORBIDDEN: dict[str, dict[str, str]] = {
    "domain": {
        "service": "the domain must not depend on the services that use it",
        "routes": "the domain must not depend on the HTTP layer",
        "repository": "the domain must not depend on persistence; define a `Port` it needs",
        "schemas": "the domain must not depend on transport schemas",
    },
    "service": {"routes": "services must not depend on the HTTP layer"},
    "repository": {
        "service": "repositories must not call up into services",
        "routes": "repositories must not depend on the HTTP layer",
    },
    "routes": {"repository": "routes must go through a service"},
    "model": {
        "routes": "models must not depend on the HTTP layer",
        "service": "models must not call up into services",
    },
}

DOMAIN_FORBIDDEN_PACKAGES = ("fastapi", "flask", "django.http", "sqlalchemy", "requests", "httpx")

# Modules that hold what every layer shares, whatever folder they sit in: a sentinel in
# ``repos/_utils.py`` or an enum in ``services/constants.py`` is no repository or service.
SHARED_MODULES = frozenset(
    {
        "constants",
        "const",
        "consts",
        "enums",
        "types",
        "typing",
        "exceptions",
        "errors",
        "utils",
        "util",
        "helpers",
        "helper",
    }
)
# Folders of entry points that wire the layers together, as a composition root does:
# seed scripts, management commands, command-line tools.
ENTRY_POINT_FOLDERS = frozenset(
    {"seed", "seeds", "seeders", "scripts", "management", "commands", "cli"}
)


def shared_module(module: str) -> bool:
    """``app.repos._utils``, ``app.services.constants``: helpers, not a layer's component."""
    return module.rpartition(".")[2].lstrip("_") in SHARED_MODULES


def entry_point(path: str) -> bool:
    """A file under ``seed/``, ``scripts/``, ``management/commands/``, ``cli/``."""
    # Paths are ``/``-separated (``FileFacts.path``): splitting them is several times
    # cheaper than ``PurePosixPath``, and the project pass asks for every import.
    return any(part in ENTRY_POINT_FOLDERS for part in path.split("/")[:-1])


@dataclass(frozen=True)
class _Violation:
    path: str
    fact: ImportFact
    message: str
    help: str
    # The importing and imported project modules; empty for a domain's library import.
    source: str = ""
    target: str = ""


class LayerBoundaryViolation(ProjectRule):
    """
    ## What it does
    Checks each import between the project's modules against the layers of the two
    files (their roles, from `[tool.backlint.roles]`), and the domain's imports of
    frameworks and I/O libraries:

    - `domain` must not import `service`, `routes`, `repository` or `schemas` modules,
      nor the packages of `domain-forbidden-packages` (`fastapi`, `flask`,
      `django.http`, `sqlalchemy`, `requests`, `httpx`);
    - `service` must not import `routes`;
    - `repository` must not import `service` or `routes`;
    - `routes` must not import `repository` (unless `allow-routes-to-repository`);
    - a `model` file (a Django `models.py`, or a `models.py` that declares ORM tables)
      must not import `routes` or `service`.

    Any layer may import a `model` file: a handler that queries the ORM directly is
    BL102's concern, at the query, not this rule's. Composition roots (`main.py`,
    `dependencies.py`, `settings.py`, ...), `exceptions` files and files without a role
    import whatever they need and are never reported, and so are entry points that wire
    the layers together: files under `seed/`, `seeds/`, `scripts/`, `management/`,
    `commands/` or `cli/`. Modules that hold what every layer shares are no layer's
    component, whatever folder they sit in: importing `constants`, `enums`, `types`,
    `exceptions`, `errors`, `utils` or `helpers` (also `_utils`, ...) is never
    reported. Imports inside functions count; imports under `if TYPE_CHECKING:` count
    too unless `exclude-type-checking-imports` is set; imports inside
    `try: ... except ImportError:` and test code are left out. Each import statement is
    reported once per forbidden module it imports.

    ## Why is this bad?
    Layers keep the code that changes for different reasons apart: HTTP details in the
    routes, use cases in the services, rules in the domain, storage in the
    repositories. An import against the direction `routes → service →
    repository/domain` ties a layer to the details of another: a domain that imports
    SQLAlchemy cannot be tested without a database, a route that talks to a repository
    duplicates the logic its service owns, and a repository that calls a service forms
    a loop that the next change turns into an import cycle.

    ## Example
    ```python
    # users/routes.py
    from users.repository import UserRepository

    @router.get("/users/{user_id}")
    def get_user(user_id: int, repo: UserRepository = Depends()) -> UserResponse:
        return repo.get(user_id)
    ```

    Use instead:
    ```python
    # users/routes.py
    from users.service import UserService

    @router.get("/users/{user_id}")
    def get_user(user_id: int, service: UserService = Depends()) -> UserResponse:
        return service.get_user(user_id)
    ```

    ## How to fix
    Move the import to the layer that may make it: the route calls a service, which
    uses the repository; the domain declares a `Protocol` port that the repository
    implements, and the composition root wires them together. When a violation is
    accepted, put `# noqa: BL421` on the import.

    A `models.py` counts as `domain` outside Django projects; one that imports an ORM
    (SQLAlchemy, SQLModel, Peewee, ...) declares tables and is treated as a `model`
    file instead, so its ORM imports are not reported. Which role a path has is
    decided by `[tool.backlint.roles]`: when a directory such as `adapters/` or
    `views/` means something else in your project, adjust the globs there rather than
    suppressing every finding. The table of forbidden layers is fixed; the external
    packages the domain must not import are the `domain-forbidden-packages` option.
    """

    code = "BL421"
    name = "layer-boundary-violation"
    summary = "An import goes against the layers: `routes → service → repository/domain`."
    fix_text = (
        "Follow `routes → service → repository/domain`: import from the layer allowed to "
        "depend on the module, or invert the dependency with a `Port` Protocol."
    )
    severity = Severity.WARNING
    # Below the precision bar on code it was not tuned on (docs/precision.md): it runs
    # when selected by its code or name, or with `preview = true`.
    default_enabled = False
    preview = True
    tags = ("architecture", "PQG-3")
    options = (
        Option(
            "allow-routes-to-repository",
            False,
            "Accept routes that import repositories directly (a thin CRUD API without services).",
        ),
        Option(
            "exclude-type-checking-imports",
            False,
            "Leave out imports under `if TYPE_CHECKING:`: they exist only for the type checker.",
        ),
        Option(
            "domain-forbidden-packages",
            DOMAIN_FORBIDDEN_PACKAGES,
            "External packages (and their submodules) that `domain` files must not import.",
        ),
    )
    invalid = (
        Example("from sqlalchemy.orm import Session\n", path="users/domain.py"),
        Example(
            "from users.repository import UserRepository\n",
            path="users/routes.py",
            files=(("users/repository.py", "class UserRepository: ...\n"),),
        ),
        Example(
            "from users.service import UserService\n",
            path="users/repository.py",
            files=(("users/service.py", "class UserService: ...\n"),),
        ),
        Example(
            "from users.schemas import CreateUserRequest\n",
            path="users/domain.py",
            files=(("users/schemas.py", "class CreateUserRequest: ...\n"),),
        ),
        Example(
            "def handler():\n    from users.routes import router\n",
            path="users/service.py",
            files=(("users/routes.py", "router = None\n"),),
        ),
        Example(
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from users.service import UserService\n",
            path="users/domain.py",
            files=(("users/service.py", "class UserService: ...\n"),),
        ),
        Example(
            "from django.db import models\nfrom shop.services import notify\n",
            path="shop/models.py",
            files=(("shop/services.py", "def notify(): ...\n"),),
            expect=1,
        ),
        Example(
            "from users.repository import UserRepository, UserRow\n",
            path="users/routes.py",
            files=(("users/repository.py", "class UserRepository: ...\nclass UserRow: ...\n"),),
            expect=1,
        ),
        Example("from django import http\nimport httpx\n", path="users/domain.py", expect=2),
    )
    valid = (
        Example(
            "from users.service import UserService\n",
            path="users/routes.py",
            files=(("users/service.py", "class UserService: ...\n"),),
        ),
        Example(
            "from users.domain import User\n",
            path="users/service.py",
            files=(("users/domain.py", "class User: ...\n"),),
        ),
        Example(
            "from users.repository import SqlAlchemyUserRepository\n",
            path="app/main.py",
            files=(("users/repository.py", "class SqlAlchemyUserRepository: ...\n"),),
        ),
        Example(
            "from django.db import models\nfrom shop.models import Order\n",
            path="shop/views.py",
            files=(("shop/models.py", "from django.db import models\nclass Order: ...\n"),),
        ),
        Example(
            "from sqlalchemy.orm import Mapped, mapped_column\nfrom users.schemas import UserOut\n",
            path="users/models.py",
            files=(("users/schemas.py", "class UserOut: ...\n"),),
        ),
        Example(
            "try:\n    from users.service import UserService\nexcept ImportError:\n"
            "    UserService = None\n",
            path="users/domain.py",
            files=(("users/service.py", "class UserService: ...\n"),),
        ),
        Example(
            "from users.repository import UserRepository  # noqa: BL421\n",
            path="users/routes.py",
            files=(("users/repository.py", "class UserRepository: ...\n"),),
        ),
        Example(
            "from users.repository import UserRepository\n",
            path="tests/test_routes.py",
            files=(("users/repository.py", "class UserRepository: ...\n"),),
        ),
        Example(
            "from users.routes import router\n",
            path="users/helpers.py",
            files=(("users/routes.py", "router = None\n"),),
        ),
        Example("from sqlalchemy.orm import Session\n", path="users/repository.py"),
        # A sentinel from the repositories' helper module is no repository.
        Example(
            "from app.repos._utils import NOT_SET\nfrom app.repos.constants import PAGE\n",
            path="app/routes/base.py",
            files=(
                ("app/repos/_utils.py", "NOT_SET = object()\n"),
                ("app/repos/constants.py", "PAGE = 50\n"),
            ),
        ),
        # A seed script wires repositories and services together.
        Example(
            "from app.services.labels import LabelService\n",
            path="app/repos/seed/seeders.py",
            files=(("app/services/labels.py", "class LabelService: ...\n"),),
        ),
    )

    def check_project(self, project: ProjectIndex) -> Iterable[Diagnostic]:
        found = [*self._layer_violations(project), *self._package_violations(project)]
        for violation in sorted(found, key=lambda v: (v.path, v.fact.span, v.message)):
            yield self.diagnostic(
                violation.path, violation.fact.span, violation.message, help=violation.help
            )

    def forbidden_imports(self, project: ProjectIndex) -> Iterator[tuple[str, str, ImportFact]]:
        """``(importer, imported, import)`` for each import between project modules that
        breaks the layer table, ``noqa`` or not (``backlint graph`` draws them)."""
        for violation in self._layer_violations(project):
            yield violation.source, violation.target, violation.fact

    def _counts(self, fact: ImportFact) -> bool:
        if fact.kind is ImportKind.GUARDED:
            return False
        if fact.kind is ImportKind.TYPE_CHECKING:
            return not self.option("exclude-type-checking-imports")
        return True

    def _forbidden(self, source_role: str | None, target_role: str | None) -> str | None:
        """Why ``source_role`` must not import ``target_role``, or None when it may."""
        if source_role is None or target_role is None:
            return None
        if (source_role, target_role) == ("routes", "repository") and self.option(
            "allow-routes-to-repository"
        ):
            return None
        return FORBIDDEN.get(source_role, {}).get(target_role)

    def _layer_violations(self, project: ProjectIndex) -> Iterator[_Violation]:
        roles: dict[str, str | None] = {}

        def role(module: str) -> str | None:
            if module not in roles:
                roles[module] = layer_role(project, project.modules[module])
            return roles[module]

        for source, target, imports in project.code_imports():
            path = project.modules[source].path
            if entry_point(path) or shared_module(target):
                continue
            reason = self._forbidden(role(source), role(target))
            if reason is None:
                continue
            seen: set[object] = set()
            for fact in imports:
                # ``from users.repository import A, B``: one statement, one finding.
                if not self._counts(fact) or fact.span in seen:
                    continue
                seen.add(fact.span)
                yield _Violation(
                    path,
                    fact,
                    f"`{source}` ({role(source)}) imports `{target}` ({role(target)}): {reason}",
                    _help(role(source), role(target), fact),
                    source,
                    target,
                )

    def _package_violations(self, project: ProjectIndex) -> Iterator[_Violation]:
        packages = self.str_list_option("domain-forbidden-packages")
        for facts in project.files.values():
            if facts.is_test or layer_role(project, facts) != "domain":
                continue
            yield from self._domain_imports(project, facts, packages)

    def _domain_imports(
        self, project: ProjectIndex, facts: FileFacts, packages: tuple[str, ...]
    ) -> Iterator[_Violation]:
        seen: set[tuple[object, str]] = set()
        for fact in facts.imports:
            if not self._counts(fact) or project.resolve_module(fact.module, fact.name):
                continue  # a project module: the layer table decides
            full = imported_name(fact.module, fact.name)
            package = next((p for p in packages if under(full, p)), None)
            if package is None or (fact.span, package) in seen:
                continue
            seen.add((fact.span, package))
            shown = fact.module if under(fact.module, package) else package
            yield _Violation(
                facts.path,
                fact,
                f"`{facts.module}` (domain) imports `{shown}`: the domain must not depend on "
                "a web framework, an ORM or an I/O client",
                "Keep the domain free of frameworks and I/O: declare a `Port` Protocol in the "
                "domain for what it needs, and implement it outside (a repository or adapter).",
            )


def _help(source_role: str | None, target_role: str | None, fact: ImportFact) -> str:
    """The fix text, naming the imported repository class where the import shows it."""
    if (source_role, target_role) != ("routes", "repository"):
        return LayerBoundaryViolation.fix_text
    name = fact.name if fact.name.endswith("Repository") else ""
    resource = name.removesuffix("Repository")
    for prefix in ("SqlAlchemy", "InMemory"):
        resource = resource.removeprefix(prefix)
    if not name:
        return "Follow `routes → service → repository/domain`: call a service instead."
    service = f"`{resource}Service`" if resource else "the service that owns it"
    return (
        f"Follow `routes → service → repository/domain`: call {service} instead of "
        f"importing `{name}`."
    )
