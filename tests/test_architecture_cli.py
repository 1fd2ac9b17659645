"""The architecture rules end to end: the CLI as a subprocess on multi-file projects.

``fixtures/flask_shop`` and ``fixtures/django_shop`` sit beside the FastAPI example; their
concise output is kept in ``tests/golden/projects/``. After an intended change, rewrite
the golden files with ``BACKLINT_UPDATE_GOLDEN=1 pytest tests/test_architecture_cli.py``
and review the diff.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import backlint
from cli_helpers import write_files as write

from backlint.rules.registry import all_rules

HERE = Path(__file__).parent
REPO = HERE.parent
FIXTURES = REPO / "fixtures"
GOLDEN = HERE / "golden" / "projects"
UPDATE_GOLDEN = os.environ.get("BACKLINT_UPDATE_GOLDEN") == "1"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return backlint(cwd, *args)


def findings(*args: str, cwd: Path) -> list[dict[str, Any]]:
    completed = run("check", "--output-format", "json", *args, cwd=cwd)
    assert completed.returncode in (0, 1), completed.stderr
    items = json.loads(completed.stdout)
    assert isinstance(items, list)
    return items


def keys(items: list[dict[str, Any]], root: Path) -> list[tuple[str, int, str]]:
    return sorted(
        (Path(i["filename"]).relative_to(root).as_posix(), i["location"]["row"], i["code"])
        for i in items
    )


@pytest.mark.parametrize("project", ["flask_shop", "django_shop"])
def test_fixture_project_golden(project: str) -> None:
    completed = run("check", "--output-format", "concise", cwd=FIXTURES / project)
    assert completed.returncode == 1, completed.stderr
    path = GOLDEN / f"{project}.txt"
    if UPDATE_GOLDEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(completed.stdout, encoding="utf-8")
    assert completed.stdout == path.read_text(encoding="utf-8")


def test_every_rule_fires_in_the_fixture_projects() -> None:
    """The fixture projects show every rule (off-by-default ones where a project opts in).

    Change-scoped rules need a change (``--new-from-rev``): their own tests show them."""
    fired: set[str] = set()
    for project in ("example_service", "flask_shop", "django_shop"):
        fired |= {item["code"] for item in findings(cwd=FIXTURES / project)}
    shown = {code for code, rule in all_rules().items() if not rule.change_scoped}
    assert shown - fired == set()


def test_cross_module_router_and_model_two_modules_away(tmp_path: Path) -> None:
    """The router comes from one module, the request model from a base two modules away;
    the handler reaches into the database and the service takes the request model."""
    root = write(
        tmp_path,
        {
            "pyproject.toml": '[tool.backlint]\nsrc = ["."]\n',
            "app/__init__.py": "",
            "app/api/__init__.py": "",
            "app/api/routing.py": """
                from fastapi import APIRouter
                class AuditedRouter(APIRouter):
                    pass
                router = AuditedRouter(prefix="/v1")
            """,
            "app/common/models.py": """
                from pydantic import BaseModel
                class ApiModel(BaseModel):
                    pass
            """,
            "app/payments/payloads.py": """
                from app.common.models import ApiModel
                class NewPayment(ApiModel):
                    amount: int
            """,
            "app/payments/service.py": """
                from app.payments.payloads import NewPayment

                def pay(payment: NewPayment) -> None:
                    ...
            """,
            "app/payments/handlers.py": """
                from sqlalchemy.orm import Session
                from app.api.routing import router
                from app.payments.payloads import NewPayment
                from app.payments.service import pay

                @router.post("/payments")
                def create(body: NewPayment, db: Session) -> None:
                    pay(body)
                    db.add(AuditEntry(kind="payment"))
                    db.commit()
            """,
        },
    )
    found = findings("--select", "BL102,BL401", cwd=root)
    assert keys(found, root) == [
        ("app/payments/handlers.py", 9, "BL102"),
        ("app/payments/service.py", 3, "BL401"),
    ]
    bl401 = next(item for item in found if item["code"] == "BL401")
    assert bl401["message"] == (
        "`pay` depends on transport model `NewPayment` (parameter `payment`) from "
        "`app.payments.payloads`, which route handler `create` in `app.payments.handlers` takes"
    )


def test_type_checking_imports_that_do_and_do_not_close_a_cycle(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "pyproject.toml": '[tool.backlint]\nsrc = ["."]\n',
            "shop/__init__.py": "",
            "shop/orders.py": """
                from shop.customers import Customer
                class Order:
                    customer: Customer
            """,
            "shop/customers.py": """
                from typing import TYPE_CHECKING
                if TYPE_CHECKING:
                    from shop.orders import Order
                    from shop.money import Money
                class Customer:
                    orders: "list[Order]"
                    balance: "Money"
            """,
            "shop/money.py": "class Money:\n    pass\n",
        },
    )
    found = findings("--select", "BL411,BL412", cwd=root)
    # Only the import of `shop.orders` closes a cycle (orders imports customers at runtime).
    assert keys(found, root) == [("shop/customers.py", 3, "BL412")]
    assert "shop.orders -> shop.customers" in found[0]["message"]


def test_pre_commit_run_on_one_file_resolves_the_others_from_disk(tmp_path: Path) -> None:
    """Only the handler file is passed (as pre-commit does); the router, the settings and
    the model modules are read from disk for the cross-file answers."""
    root = write(
        tmp_path,
        {
            "pyproject.toml": '[tool.backlint]\nsrc = ["."]\n',
            "app/__init__.py": "",
            "app/deps.py": """
                from typing import Annotated
                from fastapi import Depends
                from sqlalchemy.orm import Session

                def get_db():
                    yield Session()

                SessionDep = Annotated[Session, Depends(get_db)]
            """,
            "app/routing.py": "from fastapi import APIRouter\nrouter = APIRouter()\n",
            "app/routes/items.py": """
                from app.deps import SessionDep
                from app.routing import router

                @router.get("/items")
                async def items(db: SessionDep) -> list[int]:
                    return []
            """,
        },
    )
    found = findings("--select", "BL502", "app/routes/items.py", cwd=root)
    assert keys(found, root) == [("app/routes/items.py", 5, "BL502")]


def test_workspace_member_is_a_source_root(tmp_path: Path) -> None:
    """Run from a repository whose backend is its own project (``backend/pyproject.toml``):
    its modules import ``app.…``, so names must count from ``backend/``."""
    root = write(
        tmp_path,
        {
            "pyproject.toml": '[project]\nname = "workspace"\n',
            "backend/pyproject.toml": '[project]\nname = "backend"\n',
            "backend/app/__init__.py": "",
            "backend/app/api/__init__.py": "",
            "backend/app/api/deps.py": """
                from typing import Annotated
                from fastapi import Depends
                from sqlalchemy.orm import Session

                def get_db():
                    yield Session()

                SessionDep = Annotated[Session, Depends(get_db)]
            """,
            "backend/app/crud.py": "def create_item(session, item): ...\n",
            "backend/app/api/routes/items.py": """
                from fastapi import APIRouter
                from app.api.deps import SessionDep
                from app import crud
                router = APIRouter()

                @router.get("/items")
                def items(session: SessionDep) -> list[int]:
                    return session.query(Item).all()
            """,
        },
    )
    found = findings("--select", "BL102", cwd=root)
    assert keys(found, root) == [("backend/app/api/routes/items.py", 8, "BL102")]
