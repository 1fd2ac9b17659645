from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import PurePosixPath

from backlint.diagnostics import Diagnostic, Severity, Span
from backlint.index.facts import FileFacts
from backlint.index.project import ProjectIndex
from backlint.rules.base import Example, Option, ProjectRule
from backlint.rules.layers.common import LAYER_ROLES, directory_of, layer_role

# Modules whose names a framework or tool fixes: Django apps (``apps.py``, ``admin.py``,
# ``urls.py``, ...), Celery (``tasks.py``), Flask (``cli.py``, ``blueprint.py``), GraphQL
# apps, and generated version files.
FRAMEWORK_MODULES = (
    "__main__",
    "__about__",
    "_version",
    "admin",
    "apps",
    "urls",
    "forms",
    "signals",
    "receivers",
    "managers",
    "querysets",
    "middleware",
    "context_processors",
    "filters",
    "filtersets",
    "tables",
    "permissions",
    "checks",
    "search_indexes",
    "sitemaps",
    "feeds",
    "lookups",
    "choices",
    "fields",
    "widgets",
    "tasks",
    "cli",
    "commands",
    "extensions",
    "blueprint",
    "blueprints",
    "types",
    "mutations",
    "queries",
    "resolvers",
    "dataloaders",
    "schema",
)


# Directories that are not features: layer packages (an ``api/`` with views and
# serializers is one feature's transport layer) and shared packages (``core/``).
IGNORED_PACKAGES = (
    "api",
    "apis",
    "routes",
    "routers",
    "views",
    "endpoints",
    "handlers",
    "controllers",
    "services",
    "use_cases",
    "domain",
    "models",
    "repositories",
    "repos",
    "adapters",
    "infrastructure",
    "schemas",
    "serializers",
    "core",
    "common",
    "shared",
    "utils",
    "utilities",
    "helpers",
    "lib",
    "libs",
    "base",
    "contrib",
)


class LayerModuleNaming(ProjectRule):
    """
    ## What it does
    Looks at *feature packages*: directories whose own files (not those of their
    subdirectories) belong to at least two different layers, such as `users/` with
    `routes.py`, `service.py` and `repository.py`. In such a package, a module whose name
    gives it no role (`helpers.py`, `utils.py`, `events.py`, `logic_v2.py`) is
    reported, unless its name is in `allowed-modules` (`__init__`, `dependencies`,
    `constants`, `enums`) or in `framework-modules`, the names a framework imposes (Django's
    `apps.py`, `admin.py`, `urls.py`, `forms.py`, `signals.py`, Celery's `tasks.py`,
    GraphQL's `types.py`, `mutations.py`, `schema.py`, ...). Modules with a role
    (`routes.py`, `api.py`, `service.py`, `models.py`, `schemas.py`, `exceptions.py`,
    `main.py`, ...) are the convention and never reported. Test code is left out.

    A directory named after a layer (`api/`, `views/`, `services/`, ...) is a layer
    package and one named `core/`, `common/`, `utils/`, ... a shared package: neither
    is a feature package (`ignore-packages`). A top-level package that holds feature
    packages (`dispatch/` with `api.py`, `models.py` and the features
    `dispatch/incident/`, `dispatch/case/`, ...) is the application, not a feature: its
    `logging.py` or `utils.py` serve every feature and are not reported.

    ## Why is this bad?
    A feature package laid out by layer tells the reader where each kind of code
    lives, and lets tools such as BL421 check the dependencies between the layers. A
    module with no layer in its name has no place in that picture: its code escapes the
    layer checks, and `utils.py` tends to collect whatever did not fit elsewhere until
    it depends on every layer of the package.

    ## Example
    ```text
    users/
        routes.py
        service.py
        repository.py
        helpers_v2.py      # which layer is this?
    ```

    Use instead:
    ```text
    users/
        routes.py
        service.py         # the helpers the service needs moved here
        repository.py
    ```

    ## How to fix
    Move the code into the module of the layer it belongs to, or name the module after
    its layer; move code that several features share to a shared package. Add a stem to
    `allowed-modules` for a module kind your team accepts in every feature. The rule is
    off by default: it reports line 1 of the module, at `info` severity.

    `enums` joined the allowed names after a look at real feature packages: an
    `enums.py` holds named constants, like `constants.py`. `framework-modules` is a
    separate option so that a team that sets `allowed-modules` keeps the framework
    names.
    """

    code = "BL611"
    name = "layer-module-naming"
    summary = "A module in a feature package has no layer in its name."
    fix_text = (
        "Name the module after its layer (`service.py`, `repository.py`, `schemas.py`, ...), "
        "move its code into the module of its layer, or add its name to `allowed-modules`."
    )
    severity = Severity.INFO
    default_enabled = False
    tags = ("naming", "PQG-1")
    include_tests = False
    options = (
        Option(
            "allowed-modules",
            ("__init__", "dependencies", "constants", "enums"),
            "Module names (without `.py`) accepted in a feature package without a role.",
        ),
        Option(
            "ignore-packages",
            IGNORED_PACKAGES,
            "Directory names that are never feature packages: layer packages (`api`, "
            "`services`, ...) and shared ones (`core`, `common`, `utils`, ...).",
        ),
        Option(
            "framework-modules",
            FRAMEWORK_MODULES,
            "Module names a framework imposes (Django, Celery, Flask, GraphQL), also accepted.",
        ),
    )
    invalid = (
        Example(
            "def slugify(name): ...\n",
            path="users/helpers_v2.py",
            files=(
                ("users/routes.py", "router = None\n"),
                ("users/service.py", "class UserService: ...\n"),
            ),
            expect=1,
        ),
        Example(
            "def publish(event): ...\n",
            path="users/events.py",
            files=(
                ("users/domain.py", "class User: ...\n"),
                ("users/repository.py", "class UserRepository: ...\n"),
                ("users/__init__.py", ""),
                ("users/constants.py", "LIMIT = 10\n"),
            ),
            expect=1,
        ),
    )
    valid = (
        Example(
            "class UserService: ...\n",
            path="users/service.py",
            files=(
                ("users/routes.py", "router = None\n"),
                ("users/repository.py", "class UserRepository: ...\n"),
                ("users/schemas.py", "class UserResponse: ...\n"),
                ("users/exceptions.py", "class UserNotFoundError(Exception): ...\n"),
                ("users/dependencies.py", "def get_service(): ...\n"),
                ("users/__init__.py", ""),
            ),
        ),
        # One layer only: a directory of services is not a feature package.
        Example(
            "def helper(): ...\n",
            path="app/services/helpers.py",
            files=(("app/services/users.py", "class UserService: ...\n"),),
        ),
        # The subdirectory's roles do not make the parent a feature package.
        Example(
            "def helper(): ...\n",
            path="users/utils.py",
            files=(
                ("users/service.py", "class UserService: ...\n"),
                ("users/api/routes.py", "router = None\n"),
            ),
        ),
        Example(
            "from django.apps import AppConfig\nclass ShopConfig(AppConfig): ...\n",
            path="shop/apps.py",
            files=(
                ("shop/models.py", "from django.db import models\n"),
                ("shop/views.py", "def index(request): ...\n"),
            ),
        ),
        Example(
            "import logging\n",
            path="app/logging.py",
            files=(
                ("app/__init__.py", ""),
                ("app/api.py", "router = None\n"),
                ("app/models.py", "class Base: ...\n"),
                ("app/users/__init__.py", ""),
                ("app/users/routes.py", "router = None\n"),
                ("app/users/service.py", "class UserService: ...\n"),
            ),
        ),
        Example(
            "def test_helper(): ...\n",
            path="users/tests/test_helpers.py",
            files=(
                ("users/tests/service.py", "class UserService: ...\n"),
                ("users/tests/routes.py", "router = None\n"),
            ),
        ),
    )

    def check_project(self, project: ProjectIndex) -> Iterable[Diagnostic]:
        accepted = {*self.str_list_option("allowed-modules")}
        accepted.update(self.str_list_option("framework-modules"))
        packages: dict[str, list[tuple[FileFacts, str | None]]] = defaultdict(list)
        for path, facts in sorted(project.files.items()):
            if not facts.is_test:
                packages[directory_of(path)].append((facts, layer_role(project, facts)))
        features = {
            directory: sorted({role for _, role in members if role in LAYER_ROLES})
            for directory, members in packages.items()
        }
        ignored = set(self.str_list_option("ignore-packages"))
        features = {
            d: layers
            for d, layers in features.items()
            if len(layers) >= 2 and PurePosixPath(d).name not in ignored
        }
        for directory, layers in sorted(features.items()):
            members = packages[directory]
            if _is_application_root(directory, members, features):
                continue
            for facts, role in members:
                stem = PurePosixPath(facts.path).name.split(".", 1)[0]
                if role is None and stem not in accepted:
                    yield self._diagnostic(facts, directory, layers)

    def _diagnostic(self, facts: FileFacts, directory: str, layers: list[str]) -> Diagnostic:
        name = PurePosixPath(facts.path).name
        package = PurePosixPath(directory).name or directory
        return self.diagnostic(
            facts.path,
            Span.at_line_start(1),
            f"Module `{name}` has no layer in the feature package `{package}` "
            f"({', '.join(layers)}): name it after its layer or move its code",
        )


def _is_application_root(
    directory: str, members: list[tuple[FileFacts, str | None]], features: dict[str, list[str]]
) -> bool:
    """A top-level package that holds feature packages is the application, not a feature:
    its ``logging.py`` or ``utils.py`` serve every feature."""
    facts = members[0][0]
    package = facts.module if facts.is_package else facts.module.rpartition(".")[0]
    if "." in package:
        return False
    return any(other.startswith(directory + "/") for other in features)
