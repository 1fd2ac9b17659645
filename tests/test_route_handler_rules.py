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
                total = 0
                for line in body.lines:
                    total += line.price * line.quantity
                if body.coupon:
                    total = total - 5
                elif body.vip:
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
