"""The layer rules (BL421, BL611, BL612): options, messages and the calibration cases."""

from __future__ import annotations

from pathlib import Path

from backlint.application import CheckRequest, run_check
from backlint.diagnostics import Diagnostic


def _check(
    tmp_path: Path, files: dict[str, str], select: str, config: str = ""
) -> list[Diagnostic]:
    for relative, source in files.items():
        target = tmp_path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source, encoding="utf-8")
    if config:
        (tmp_path / "pyproject.toml").write_text(config, encoding="utf-8")
    result = run_check(
        CheckRequest(paths=(tmp_path,), cwd=tmp_path, select=tuple(select.split(",")), jobs=1)
    )
    assert not result.internal_errors, result.internal_errors
    return result.diagnostics


ROUTES_TO_REPOSITORY = {
    "users/routes.py": "from users.repository import SqlAlchemyUserRepository\n",
    "users/repository.py": "class SqlAlchemyUserRepository: ...\n",
}


def test_boundary_message_names_both_layers_and_the_service(tmp_path: Path) -> None:
    [found] = _check(tmp_path, ROUTES_TO_REPOSITORY, "BL421")
    assert found.message == (
        "`users.routes` (routes) imports `users.repository` (repository): "
        "routes must go through a service"
    )
    assert "call `UserService` instead of importing `SqlAlchemyUserRepository`" in found.help
    assert (found.span.start.line, found.span.start.column) == (1, 1)


def test_routes_may_import_repositories_when_allowed(tmp_path: Path) -> None:
    config = "[tool.backlint.options.layer-boundary-violation]\nallow-routes-to-repository = true\n"
    assert _check(tmp_path, ROUTES_TO_REPOSITORY, "BL421", config) == []


def test_type_checking_imports_can_be_left_out(tmp_path: Path) -> None:
    files = {
        "users/domain.py": (
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from users.service import UserService\n"
        ),
        "users/service.py": "class UserService: ...\n",
    }
    assert len(_check(tmp_path, files, "BL421")) == 1
    config = (
        "[tool.backlint.options.layer-boundary-violation]\nexclude-type-checking-imports = true\n"
    )
    assert _check(tmp_path, files, "BL421", config) == []


def test_domain_forbidden_packages_is_configurable(tmp_path: Path) -> None:
    files = {"users/domain.py": "import boto3.session\nfrom sqlalchemy import Column\n"}
    config = (
        "[tool.backlint.options.layer-boundary-violation]\ndomain-forbidden-packages = ['boto3']\n"
    )
    [found] = _check(tmp_path, files, "BL421", config)
    assert found.message.startswith("`users.domain` (domain) imports `boto3.session`")


def test_a_used_noqa_is_not_reported_as_unused(tmp_path: Path) -> None:
    files = dict(ROUTES_TO_REPOSITORY)
    files["users/routes.py"] = (
        "from users.repository import SqlAlchemyUserRepository  # noqa: BL421\n"
    )
    assert _check(tmp_path, files, "BL421,BL002") == []


def test_an_orm_models_file_is_a_model_file(tmp_path: Path) -> None:
    files = {
        # Declares tables: an active record, which may use SQLAlchemy but not services.
        "users/models.py": (
            "from sqlalchemy.orm import DeclarativeBase\nfrom users.service import audit\n"
        ),
        "users/service.py": "def audit(): ...\n",
    }
    [found] = _check(tmp_path, files, "BL421")
    assert found.message.startswith("`users.models` (model) imports `users.service` (service)")


def test_class_naming_messages(tmp_path: Path) -> None:
    files = {
        "users/service.py": "class UserManager:\n    def get(self): ...\n",
        "users/repository.py": "class RepositoryFoods:\n    def get(self): ...\n",
        "users/exceptions.py": "class UserNotFound(Exception): ...\n",
    }
    messages = sorted(d.message for d in _check(tmp_path, files, "BL612"))
    assert messages == [
        "Class `RepositoryFoods` in a repository module should end in `Repository` "
        "(for example `FoodsRepository`)",
        "Class `UserManager` in a service module should end in `Service` "
        "(for example `UserService`)",
        "Exception `UserNotFound` should end in `NotFoundError` (for example `UserNotFoundError`)",
    ]


def test_implementation_prefixes_is_configurable(tmp_path: Path) -> None:
    files = {
        "users/repository.py": (
            "from users.ports import UserRepositoryPort\n"
            "class PostgresUserRepository(UserRepositoryPort): ...\n"
        ),
    }
    assert len(_check(tmp_path, files, "BL612")) == 1
    config = "[tool.backlint.options.layer-class-naming]\nimplementation-prefixes = ['Postgres']\n"
    assert _check(tmp_path, files, "BL612", config) == []


def test_class_naming_leaves_collaborators_and_records_alone(tmp_path: Path) -> None:
    files = {
        # A service's collaborators live in a subpackage of ``services/``.
        "app/services/migrations/tandoor.py": "class TandoorMigrator:\n    def run(self): ...\n",
        # A sentinel: only dunder methods.
        "app/repos/repository_utils.py": "class NotSet:\n    def __bool__(self): return False\n",
        # An aggregate of repositories.
        "app/repos/repository_factory.py": "class AllRepositories:\n    def users(self): ...\n",
        # A shared base of schemas, a field and a validator are not schemas.
        "app/schemas/recipe.py": (
            "from pydantic import BaseModel\nimport marshmallow\n"
            "class RecipeBase(BaseModel): ...\n"
            "class PriceField(marshmallow.fields.Field): ...\n"
            "class NameValidator:\n    def __call__(self, value): ...\n"
        ),
        # A plain dataclass in a schemas package: an export field, not a schema.
        "app/schemas/export.py": (
            "from dataclasses import dataclass\n@dataclass\nclass StringField:\n    source: str\n"
        ),
        # A DRF serializer in a module that the globs call a service module.
        "ipam/services.py": (
            "from rest_framework import serializers\n"
            "class ServiceSerializer(serializers.ModelSerializer): ...\n"
        ),
    }
    assert _check(tmp_path, files, "BL612") == []


def test_class_naming_follows_star_reexports(tmp_path: Path) -> None:
    files = {
        "app/base/__init__.py": "from .models import *\n",
        "app/base/models.py": "from pydantic import BaseModel\nclass AppModel(BaseModel): ...\n",
        "app/services/users.py": (
            "from app.base import AppModel\nclass UserCreated(AppModel): ...\n"
        ),
    }
    assert _check(tmp_path, files, "BL612") == []


def test_allowed_modules_is_configurable(tmp_path: Path) -> None:
    files = {
        "users/routes.py": "router = None\n",
        "users/service.py": "class UserService: ...\n",
        "users/utils.py": "def slug(): ...\n",
    }
    [found] = _check(tmp_path, files, "BL611")
    assert found.path == "users/utils.py"
    assert found.message == (
        "Module `utils.py` has no layer in the feature package `users` (routes, service): "
        "name it after its layer or move its code"
    )
    config = "[tool.backlint.options.layer-module-naming]\nallowed-modules = ['utils']\n"
    assert _check(tmp_path, files, "BL611", config) == []


def test_layer_and_shared_packages_are_not_features(tmp_path: Path) -> None:
    files = {
        "shop/api/views.py": "def index(request): ...\n",
        "shop/api/serializers.py": "class OrderSerializer: ...\n",
        "shop/api/routers.py": "router = None\n",
        "shop/core/models.py": "from django.db import models\n",
        "shop/core/views.py": "def index(request): ...\n",
        "shop/core/jwt.py": "def encode(): ...\n",
    }
    assert _check(tmp_path, files, "BL611") == []
