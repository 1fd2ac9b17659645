"""The route registry and class index: handlers recognised across modules and frameworks."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from backlint.application import CheckRequest, run_check
from backlint.index.project import ProjectIndex
from backlint.index.transport import DEFAULT_SCHEMA_NAME_PATTERNS, transport_model


def _project(tmp_path: Path, files: dict[str, str]) -> ProjectIndex:
    for relative, source in files.items():
        target = tmp_path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(source).lstrip("\n"), encoding="utf-8")
    result = run_check(CheckRequest(paths=(tmp_path,), cwd=tmp_path, select=("BL001",), jobs=1))
    assert result.project is not None
    return result.project


def _handlers(project: ProjectIndex) -> set[str]:
    return {f"{facts.module}:{route.handler}" for facts, route in project.routes}


def test_fastapi_routers_from_this_module_another_module_and_subclasses(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/routing.py": """
                from fastapi import APIRouter
                class VersionedRouter(APIRouter):
                    pass
                shared = APIRouter()
                v2 = VersionedRouter(prefix="/v2")
            """,
            "app/items.py": """
                from fastapi import APIRouter, FastAPI
                from app.routing import shared, v2
                from app import routing
                router = APIRouter()
                app = FastAPI()

                @router.get("/a")
                def local(): ...

                @shared.post("/b")
                async def imported(): ...

                @v2.put("/c")
                def subclass(): ...

                @routing.shared.delete("/d")
                def through_module(): ...

                @app.websocket("/ws")
                async def socket(ws): ...

                def registered(): ...
                router.add_api_route("/e", registered)

                def plain(): ...
            """,
        },
    )
    assert _handlers(project) == {
        "app.items:local",
        "app.items:imported",
        "app.items:subclass",
        "app.items:through_module",
        "app.items:socket",
        "app.items:registered",
    }


def test_decorators_on_objects_that_are_not_routers_are_not_handlers(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        {
            "app/cache.py": "class Cache:\n    pass\nstore = Cache()\n",
            "app/jobs.py": """
                from app.cache import store
                import functools

                @store.get("key")
                def cached(): ...

                @functools.cache
                def memo(): ...
            """,
            # A FastAPI routes file helper whose first parameter is `request`: not a
            # Django view, because the project does not use Django.
            "app/routes.py": """
                from fastapi import Request
                def client_ip(request: Request) -> str:
                    return request.client.host
            """,
        },
    )
    assert _handlers(project) == set()


def test_flask_blueprints_views_and_url_rules(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        {
            "shop/__init__.py": "from flask import Flask\napp = Flask(__name__)\n",
            "shop/blueprints.py": "from flask import Blueprint\nbp = Blueprint('shop', __name__)\n",
            "shop/base.py": """
                from flask.views import MethodView
                class ApiView(MethodView):
                    decorators = []
            """,
            "shop/handlers.py": """
                from shop import app
                from shop.base import ApiView
                from shop.blueprints import bp

                @bp.route("/cart", methods=["POST"])
                def add_to_cart(): ...

                @app.get("/health")
                def health(): ...

                class Orders(ApiView):
                    def get(self): ...
                    def post(self): ...
                    def helper(self): ...

                def legacy(): ...
                app.add_url_rule("/legacy", view_func=legacy)
            """,
        },
    )
    assert _handlers(project) == {
        "shop.handlers:add_to_cart",
        "shop.handlers:health",
        "shop.handlers:Orders.get",
        "shop.handlers:Orders.post",
        "shop.handlers:legacy",
    }


def test_django_and_drf_views(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        {
            "manage.py": "import django\n",
            "shop/__init__.py": "",
            "shop/generic/__init__.py": "from .views import *\n",
            "shop/generic/views.py": """
                from rest_framework import viewsets
                class BaseViewSet(viewsets.ModelViewSet):
                    pass
            """,
            "shop/pages.py": """
                def landing(request):
                    ...
                def not_routed(request):
                    ...
            """,
            "shop/urls.py": """
                from django.urls import path
                from shop import pages
                from shop.api import ReportView
                urlpatterns = [
                    path("", pages.landing),
                    path("report/", ReportView.as_view()),
                ]
            """,
            "shop/api.py": """
                from django.views import View
                from rest_framework.decorators import action, api_view
                from shop.generic import BaseViewSet

                class OrderViewSet(BaseViewSet):
                    def get_queryset(self): ...
                    def perform_create(self, serializer): ...
                    def create(self, request): ...
                    @action(detail=True)
                    def cancel(self, request, pk=None): ...

                class ReportView(View):
                    def get(self, request): ...

                @api_view(["GET"])
                def ping(request): ...
            """,
            "shop/views.py": """
                def dashboard(request):
                    ...
                def _helper(value):
                    ...
            """,
        },
    )
    assert _handlers(project) == {
        "shop.pages:landing",
        "shop.api:OrderViewSet.create",
        "shop.api:OrderViewSet.cancel",
        "shop.api:ReportView.get",
        "shop.api:ping",
        "shop.views:dashboard",
    }


def test_pydantic_models_are_found_across_modules_and_reexports(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/core/base.py": "import pydantic\nclass Base(pydantic.BaseModel): ...\n",
            "app/payloads/__init__.py": "from app.payloads.orders import *\n",
            "app/payloads/orders.py": "from app.core.base import Base\nclass NewOrder(Base): ...\n",
            "app/settings.py": (
                "from pydantic_settings import BaseSettings\nclass Settings(BaseSettings): ...\n"
            ),
            "app/domain.py": "import pydantic\nclass OrderResponse(pydantic.BaseModel): ...\n",
            "app/web.py": """
                from fastapi import APIRouter
                from app.payloads import NewOrder
                router = APIRouter()
                @router.post("/orders")
                def create(body: NewOrder) -> None: ...
            """,
        },
    )
    patterns = DEFAULT_SCHEMA_NAME_PATTERNS
    model = transport_model(project, "app.payloads.NewOrder", patterns)
    assert model is not None
    assert model.canonical == "app.payloads.orders.NewOrder"
    assert model.reason == "which route handler `create` in `app.web` takes"
    assert transport_model(project, "app.settings.Settings", patterns) is None
    # Named like a response, but defined in a domain module: a domain value.
    assert transport_model(project, "app.domain.OrderResponse", patterns) is None


def test_transport_models_resolve_without_pydantic_installed(tmp_path: Path) -> None:
    """The CLI finds a model two modules away while ``import pydantic`` fails."""
    files = {
        "users/__init__.py": "",
        "users/base.py": "from pydantic import BaseModel\nclass ApiModel(BaseModel):\n    pass\n",
        "users/schemas.py": (
            "from users.base import ApiModel\nclass CreateUserRequest(ApiModel): ...\n"
        ),
        "users/service.py": (
            "from users.schemas import CreateUserRequest\n\n"
            "def create(req: CreateUserRequest) -> None:\n    ...\n"
        ),
        "users/routes.py": (
            "from fastapi import APIRouter\nfrom users.schemas import CreateUserRequest\n"
            "router = APIRouter()\n\n@router.post('/users')\n"
            "def post(body: CreateUserRequest) -> None:\n    ...\n"
        ),
    }
    for relative, source in files.items():
        target = tmp_path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source, encoding="utf-8")
    runner = (
        "import sys; sys.modules['pydantic'] = None; "  # any `import pydantic` now fails
        "from backlint.cli import main; main()"
    )
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            runner,
            "check",
            ".",
            "--select",
            "BL401",
            "--output-format",
            "concise",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 1, completed.stderr
    assert "users/service.py:3:5: BL401" in completed.stdout
    assert "`CreateUserRequest` (parameter `req`) from `users.schemas`" in completed.stdout


def test_unresolved_router_gives_low_confidence_findings_only_on_request(tmp_path: Path) -> None:
    """A handler recognised by its shape alone (the router comes from a factory the index
    cannot see) is low confidence: hidden by default, shown with the setting."""
    files = {
        "app/routes.py": """
            from fastapi import Depends
            from sqlalchemy.orm import Session
            from app.factory import build_router

            api = build_router()

            @api.get("/items")
            async def items(db: Session = Depends(get_db)) -> list[int]:
                return []
        """,
        "app/factory.py": "def build_router():\n    ...\n",
    }
    for relative, source in files.items():
        target = tmp_path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(source).lstrip("\n"), encoding="utf-8")

    def bl502(include_low: bool) -> list[str]:
        request = CheckRequest(
            paths=(tmp_path,),
            cwd=tmp_path,
            select=("BL502",),
            include_low_confidence=include_low,
            jobs=1,
        )
        return [d.confidence for d in run_check(request).diagnostics]

    assert bl502(False) == []
    assert bl502(True) == ["low"]


def test_router_classes_made_by_factories_resolve(tmp_path: Path) -> None:
    """``APIRouter = get_api_router_class(APIRoute)`` then ``router = APIRouter()``: the
    factory's return annotation, or the router subclass it returns, decides."""
    project = _project(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/kit.py": """
                from fastapi import APIRouter as _APIRouter

                def get_api_router_class(route_class) -> type[_APIRouter]:
                    class _Custom(_APIRouter):
                        pass
                    return _Custom

                def unannotated_factory(route_class):
                    class _Custom(_APIRouter):
                        pass
                    return _Custom

                def make_router():
                    return _APIRouter(prefix="/v1")

                def make_cache():
                    return {}
            """,
            "app/routing.py": """
                from app.kit import get_api_router_class, unannotated_factory
                APIRouter = get_api_router_class(object)
                OtherRouter = unannotated_factory(object)
            """,
            "app/orders/endpoints.py": """
                from app.routing import APIRouter, OtherRouter
                from app.kit import make_router, make_cache
                router = APIRouter(prefix="/orders")
                other = OtherRouter()
                built = make_router()
                cache = make_cache()

                @router.get("/a")
                def annotated(): ...

                @other.get("/b")
                def returned_subclass(): ...

                @built.post("/c")
                def returned_instance(): ...

                @cache.get("key")
                def not_a_route(): ...
            """,
        },
    )
    assert _handlers(project) == {
        "app.orders.endpoints:annotated",
        "app.orders.endpoints:returned_subclass",
        "app.orders.endpoints:returned_instance",
    }
    confidences = {
        route.handler: all(
            getattr(r, "confidence", lambda _: "high")(project) == "high" for r in route.requires
        )
        for _, route in project.routes
    }
    assert all(confidences.values()), confidences


def test_endpoints_modules_have_the_routes_role(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        {
            "app/orders/endpoints.py": "x = 1\n",
            "app/users/endpoints/me.py": "x = 1\n",
            "app/endpoints_helpers.py": "x = 1\n",
        },
    )
    assert project.role_of("app/orders/endpoints.py") == "routes"
    assert project.role_of("app/users/endpoints/me.py") == "routes"
    assert project.role_of("app/endpoints_helpers.py") is None


def test_private_request_helpers_of_views_files_are_handlers_only_if_routed(
    tmp_path: Path,
) -> None:
    project = _project(
        tmp_path,
        {
            "manage.py": "import django\n",
            "shop/views.py": """
                def dashboard(request):
                    return _context(request)

                def _context(request):
                    ...

                def _routed(request):
                    ...
            """,
            "shop/urls.py": """
                from django.urls import path
                from shop import views
                urlpatterns = [path("", views.dashboard), path("r/", views._routed)]
            """,
        },
    )
    assert _handlers(project) == {"shop.views:dashboard", "shop.views:_routed"}
