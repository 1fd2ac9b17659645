"""BL101 fat-route-handler and BL102 route-handler-data-access beyond their examples:
messages, options, grouping, and facts read from modules outside the run."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import rule_findings as _check
from cli_helpers import write_files as _write

_DEPS = """
from typing import Annotated
from fastapi import Depends
from sqlmodel import Session

SessionDep = Annotated[Session, Depends(get_db)]
"""


def test_message_lists_every_exceeded_metric(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "app/routes.py": """
            from fastapi import APIRouter
            router = APIRouter()

            @router.post("/orders")
            def create_order(body: CreateOrder):
                cart = carts.get(body.cart_id)
                total = 0
                for line in cart.lines:
                    total += line.price * line.quantity
                if cart.coupon:
                    total = total - 5
                elif cart.vip:
                    total = total * 0.9
                else:
                    total = total + 1
                return {"total": total if total > 0 else 0}
            """,
        },
    )
    (finding,) = _check(tmp_path, "BL101")
    assert finding.message == (
        "Route handler `create_order` holds business logic: 3 branches (max 2), "
        "1 loop (max 0), 5 arithmetic operations (max 1)"
    )
    assert (finding.span.start.line, finding.span.start.column) == (5, 5)


def test_thresholds_are_options(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "pyproject.toml": """
            [tool.backlint.options.fat-route-handler]
            max-loops = 1
            max-domain-branches = 1
            """,
            "app/routes.py": """
            from fastapi import APIRouter, HTTPException
            router = APIRouter()

            @router.post("/orders/{id}/ship")
            def ship(id: int, svc: OrderService):
                order = svc.get(id)
                if order.status == "shipped":
                    raise HTTPException(409)
                for line in order.lines:
                    svc.reserve(line)
            """,
        },
    )
    assert _check(tmp_path, "BL101") == []


def test_domain_branch_names_the_comparison(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "app/views.py": """
            from rest_framework.viewsets import ModelViewSet
            class OrderViewSet(ModelViewSet):
                def destroy(self, request, pk=None):
                    order = self.get_object()
                    if order.status in ("shipped", "delivered"):
                        return Response(status=409)
                    if request.method == "DELETE" and self.action == "destroy":
                        order.delete()
                    return Response(status=204)
            """,
        },
    )
    (finding,) = _check(tmp_path, "BL101")
    assert "`OrderViewSet.destroy`" in finding.message
    assert '1 branch on domain state (`order.status in ("shipped", "delivered")`)' in (
        finding.message
    )


def test_one_data_access_finding_per_handler(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "app/deps.py": _DEPS,
            "app/routes.py": """
            from fastapi import APIRouter
            from app.deps import SessionDep
            from app.services import items
            router = APIRouter()

            @router.post("/items")
            def create_item(session: SessionDep, body: ItemCreate):
                item = Item.model_validate(body)
                session.add(item)
                session.commit()
                session.refresh(item)
                session.commit()
                return item
            """,
        },
    )
    (finding,) = _check(tmp_path, "BL102")
    assert finding.message == (
        "Route handler `create_item` calls `session.add`, `session.commit` and "
        "`session.refresh` directly: data access belongs in a repository behind a service"
    )
    assert finding.span.start.line == 9


def test_alias_module_outside_the_run_is_read_from_disk(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "app/deps.py": _DEPS,
            "app/routes.py": """
            from fastapi import APIRouter
            from app.deps import SessionDep
            from app.services import items
            router = APIRouter()

            @router.get("/items")
            def read_items(session: SessionDep):
                return session.exec(select(Item)).all()
            """,
        },
    )
    (finding,) = _check(tmp_path, "BL102", tmp_path / "app" / "routes.py")
    assert "`session.exec`" in finding.message


def test_conditional_calls_are_dropped_from_the_message(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "app/clients.py": """
            from typing import Annotated
            from aiohttp import ClientSession
            from fastapi import Depends
            HttpSession = Annotated[ClientSession, Depends(http_client)]
            """,
            "app/routes.py": """
            from fastapi import APIRouter
            from app.clients import HttpSession
            from app.services import forecasts
            router = APIRouter()

            @router.get("/weather/{city}")
            async def weather(city: str, http: HttpSession):
                data = await http.get(URL)
                return Forecast.objects.filter(city=city).first() or data
            """,
        },
    )
    (finding,) = _check(tmp_path, "BL102")
    assert "calls `Forecast.objects.filter` directly" in finding.message
    assert "http.get" not in finding.message


def test_repository_calls_have_their_own_message(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "app/routes.py": """
            from fastapi import APIRouter, Depends
            from app.repositories import OrderRepository
            from app.services import OrderService
            router = APIRouter()

            @router.post("/orders/{id}/cancel")
            def cancel_order(id: int, orders: OrderRepository = Depends()):
                order = orders.get(id)
                return orders.cancel(order)
            """,
        },
    )
    (finding,) = _check(tmp_path, "BL102")
    assert finding.message.startswith(
        "Route handler `cancel_order` calls repository method `orders.get` and "
        "`orders.cancel` directly"
    )


def test_domain_branch_named_is_on_domain_state_not_on_who_asks_or_input(
    tmp_path: Path,
) -> None:
    """The ownership check, the lookup against a parameter and the request data come
    first; the message names the comparison on the order's own state."""
    _write(
        tmp_path,
        {
            "app/routes.py": """
            from fastapi import APIRouter, HTTPException
            router = APIRouter()

            @router.post("/orders/{order_id}/refund")
            def refund(order_id: int, body: Refund, current_user: CurrentUser, svc: OrderService):
                order = svc.get(order_id)
                if order.customer_id != current_user.id:
                    raise HTTPException(404)
                if order.id != order_id or body.version != order.version:
                    raise HTTPException(409)
                if order.refunded_amount + body.amount > order.net_amount:
                    raise HTTPException(400, "Refund exceeds the order")
                return svc.refund(order, body.amount)
            """,
        },
    )
    (finding,) = _check(tmp_path, "BL101")
    assert finding.message == (
        "Route handler `refund` holds business logic: 1 branch on domain state "
        "(`order.refunded_amount + body.amount > order.net_amount`) (max 0)"
    )


def test_data_access_needs_a_layer_or_a_transaction_script(tmp_path: Path) -> None:
    """One query in a project without a service or repository layer is how the project
    is built; the same query where a repository exists bypasses it; a handler that
    writes several times with its own logic is a transaction script anywhere."""
    view = """
        from flask import Blueprint
        from app.models import db
        bp = Blueprint("orders", __name__)

        @bp.route("/orders/<int:oid>")
        def show(oid):
            return db.session.get(Order, oid).to_dict()

        @bp.route("/orders/close", methods=["POST"])
        def close_all():
            for order in Order.query.filter_by(open=True):
                if order.total > 100:
                    order.flag = "review"
                db.session.add(order)
            db.session.commit()
            return "", 204
    """
    models = "from flask_sqlalchemy import SQLAlchemy\ndb = SQLAlchemy()\n"
    _write(tmp_path / "plain", {"app/views.py": view, "app/models.py": models})
    (script,) = _check(tmp_path / "plain", "BL102")
    assert script.message == (
        "Route handler `close_all` mixes persistence (`Order.query.filter_by`, "
        "`db.session.add` and `db.session.commit`) with its own logic: the use case and "
        "its transaction belong in a service"
    )
    layered = {
        "app/views.py": view,
        "app/models.py": models,
        "app/orders/repository.py": """
            class OrderRepository:
                def get(self, oid): ...
        """,
    }
    _write(tmp_path / "layered", layered)
    found = _check(tmp_path / "layered", "BL102")
    assert [f.message.split(" directly")[0] for f in found] == [
        "Route handler `show` calls `db.session.get`",
        script.message,
    ]


def test_a_repository_named_table_is_not_a_layer(tmp_path: Path) -> None:
    """``GithubRepository`` is an ORM model of the domain, not a repository layer."""
    _write(
        tmp_path,
        {
            "manage.py": "import django\n",
            "code/models.py": """
                from django.db import models
                class GithubRepository(models.Model):
                    name = models.CharField(max_length=100)
            """,
            "code/views.py": """
                from django.http import JsonResponse
                from code.models import GithubRepository
                def repositories(request):
                    names = GithubRepository.objects.values_list("name", flat=True)
                    return JsonResponse({"names": list(names)})
            """,
            "code/urls.py": "from code import views\npath('r/', views.repositories)\n",
        },
    )
    assert _check(tmp_path, "BL102") == []


def test_django_instance_saves_count_only_for_models(tmp_path: Path) -> None:
    """``Order(...).save()`` is persistence when ``Order`` is a Django model; a
    ``Workbook().save(buffer)`` is not."""
    _write(
        tmp_path,
        {
            "manage.py": "import django\n",
            "shop/models.py": """
                from django.db import models
                class Base(models.Model):
                    class Meta:
                        abstract = True
                class Order(Base):
                    total = models.IntegerField()
            """,
            "shop/views.py": """
                from django.http import HttpResponse
                from openpyxl import Workbook
                from shop.models import Order
                def copy_orders(request):
                    book = Workbook()
                    for source in Order.objects.filter(total__gt=0):
                        if source.total > 1000:
                            copy = Order(total=source.total)
                            copy.save()
                        book.active.append([source.total])
                    book.save("orders.xlsx")
                    return HttpResponse(status=204)
            """,
            "shop/urls.py": "from shop import views\npath('c/', views.copy_orders)\n",
        },
    )
    (finding,) = _check(tmp_path, "BL102")
    assert "`Order.objects.filter` and `copy.save`" in finding.message
    assert "book.save" not in finding.message
