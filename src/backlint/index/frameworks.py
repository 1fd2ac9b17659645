"""What backlint knows about web frameworks: router types, view base classes, verbs.

Names are fully qualified as an import table spells them (``fastapi.APIRouter``), with
the aliases the libraries themselves export (``fastapi.routing.APIRouter``), so a class
is recognised whichever module it was imported from. Nothing here is imported from the
frameworks: they need not be installed.
"""

from __future__ import annotations

# Enumerations: the standard library's and Django's choices.
ENUM_ROOTS = frozenset(
    {
        "enum.Enum",
        "enum.IntEnum",
        "enum.StrEnum",
        "enum.Flag",
        "enum.IntFlag",
        "enum.ReprEnum",
        "django.db.models.Choices",
        "django.db.models.TextChoices",
        "django.db.models.IntegerChoices",
        "django.db.models.enums.Choices",
        "django.db.models.enums.TextChoices",
        "django.db.models.enums.IntegerChoices",
    }
)

# Objects whose ``.get``/``.post``/``.route``... decorators register route handlers.
ROUTER_TYPES: dict[str, str] = {
    "fastapi.FastAPI": "fastapi",
    "fastapi.applications.FastAPI": "fastapi",
    "fastapi.APIRouter": "fastapi",
    "fastapi.routing.APIRouter": "fastapi",
    "ninja.NinjaAPI": "ninja",
    "ninja.main.NinjaAPI": "ninja",
    "ninja.Router": "ninja",
    "ninja.router.Router": "ninja",
    "flask.Flask": "flask",
    "flask.app.Flask": "flask",
    "flask.Blueprint": "flask",
    "flask.blueprints.Blueprint": "flask",
    "apiflask.APIFlask": "flask",
    "apiflask.APIBlueprint": "flask",
    "flask_smorest.Blueprint": "flask",
    "quart.Quart": "flask",
    "quart.Blueprint": "flask",
}

ROUTE_DECORATOR_VERBS = frozenset(
    {
        "get",
        "post",
        "put",
        "patch",
        "delete",
        "head",
        "options",
        "trace",
        "api_route",
        "websocket",
        "route",
    }
)

HTTP_METHOD_NAMES = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "trace"})
VIEWSET_ACTIONS = frozenset({"list", "create", "retrieve", "update", "partial_update", "destroy"})

# Base classes whose verb methods are handlers, by framework.
VIEW_BASES: dict[str, str] = {
    "flask.views.MethodView": "flask",
    "flask.views.View": "flask",
    "flask_restful.Resource": "flask",
    "flask_restx.Resource": "flask",
    "django.views.View": "django",
    "django.views.generic.View": "django",
    "django.views.generic.base.View": "django",
    "rest_framework.views.APIView": "drf",
}
VIEW_BASE_PREFIXES: dict[str, str] = {
    "django.views.generic.": "django",
    "rest_framework.viewsets.": "drf",
    "rest_framework.generics.": "drf",
}

# Decorators that make a plain function a view.
VIEW_DECORATORS: dict[str, str] = {
    "rest_framework.decorators.api_view": "drf",
    "django.views.decorators.http.require_http_methods": "django",
    "django.views.decorators.http.require_GET": "django",
    "django.views.decorators.http.require_POST": "django",
    "django.views.decorators.http.require_safe": "django",
}

# Module-level registration calls: ``router.add_api_route(path, fn)``,
# ``app.add_url_rule(rule, view_func=fn)``.
REGISTRATION_METHODS: dict[str, str] = {"add_api_route": "fastapi", "add_url_rule": "flask"}

DJANGO_URL_FUNCTIONS = frozenset({"path", "re_path", "url"})

PYDANTIC_BASES = frozenset(
    {
        "pydantic.BaseModel",
        "pydantic.main.BaseModel",
        "pydantic.v1.BaseModel",
        "pydantic.v1.main.BaseModel",
        "pydantic.RootModel",
        "pydantic.root_model.RootModel",
        "sqlmodel.SQLModel",
        "sqlmodel.main.SQLModel",
    }
)
PYDANTIC_SETTINGS = frozenset(
    {
        "pydantic.BaseSettings",
        "pydantic.env_settings.BaseSettings",
        "pydantic.v1.BaseSettings",
        "pydantic_settings.BaseSettings",
        "pydantic_settings.main.BaseSettings",
    }
)
