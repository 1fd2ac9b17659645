"""BL401 across files: which Pydantic classes are transport models, and how findings read.

Each test writes a small project whose verdict depends on another module (a route
handler, a repository, a CRUD module), and checks both sides: the finding is there
when the evidence says "transport model", gone when the other module says otherwise.
"""

from __future__ import annotations

from pathlib import Path

from cli_helpers import rule_findings, write_files

from backlint.application import CheckRequest, run_check
from backlint.diagnostics import Diagnostic

SCHEMAS = """
    from pydantic import BaseModel

    class Address(BaseModel):
        city: str

    class UserOut(BaseModel):
        id: int
        address: Address

    class UserCreate(BaseModel):
        name: str

    class WelcomeEmailProps(BaseModel):
        name: str
"""

ROUTES = """
    from fastapi import APIRouter
    from app.users.schemas import Address, UserCreate, UserOut

    router = APIRouter()

    @router.post("/users", response_model=UserOut)
    def create_user(body: UserCreate):
        ...

    @router.get("/users/{uid}/address")
    def get_address(uid: int) -> Address:
        ...
"""

SERVICE = """
    from app.users.schemas import Address, UserOut

    class UserService:
        def get(self, uid: int) -> UserOut:
            return self.repo.get(uid)

        def move(self, user: UserOut, to: Address) -> None:
            self.repo.save(user.model_copy(update={"address": to}))
"""


def _project(root: Path, files: dict[str, str]) -> Path:
    base = {
        "pyproject.toml": '[tool.backlint]\nsrc = ["."]\n',
        "app/__init__.py": "",
        "app/users/__init__.py": "",
        "app/users/schemas.py": SCHEMAS,
        "app/users/routes.py": ROUTES,
    }
    return write_files(root, {**base, **files})


def _lines(found: list[Diagnostic]) -> list[tuple[str, int]]:
    return [(d.path, d.span.start.line) for d in found]


def test_a_class_the_repository_layer_reads_is_not_a_transport_model(tmp_path: Path) -> None:
    """Route handlers return `UserOut` and `Address`; once a repository is parametrised
    with `UserOut` (which nests `Address`), both are the stored shape, not HTTP payloads."""
    root = _project(tmp_path, {"app/users/service.py": SERVICE})
    before = rule_findings(root, "BL401")
    assert _lines(before) == [("app/users/service.py", 4), ("app/users/service.py", 7)]
    assert before[1].message == (
        "`UserService.move` depends on transport models `UserOut` (parameter `user`) from "
        "`app.users.schemas`, which route handler `create_user` in `app.users.routes` "
        "returns; `Address` (parameter `to`) from `app.users.schemas`, which route handler "
        "`get_address` in `app.users.routes` returns"
    )
    write_files(
        root,
        {
            "app/repos/users.py": """
                from app.db import RepositoryGeneric, UserRow
                from app.users.schemas import UserOut

                class RepositoryUsers(RepositoryGeneric[UserOut, UserRow]):
                    pass
            """,
        },
    )
    assert rule_findings(root, "BL401") == []


def test_a_class_a_crud_module_writes_is_not_a_transport_model(tmp_path: Path) -> None:
    files = {
        "app/users/service.py": """
            from app.users.schemas import UserCreate

            def sign_up(data: UserCreate) -> None:
                ...
        """,
    }
    root = _project(tmp_path, files)
    assert _lines(rule_findings(root, "BL401")) == [("app/users/service.py", 3)]
    write_files(
        root,
        {
            "app/crud.py": """
                from app.users.schemas import UserCreate

                def create_user(session, data: UserCreate) -> int:
                    ...
            """,
        },
    )
    assert rule_findings(root, "BL401") == []


def test_a_schemas_class_counts_only_once_a_route_uses_it(tmp_path: Path) -> None:
    """E-mail template props live in the schemas module but are no HTTP payload."""
    files = {
        "app/users/service.py": """
            from app.users.schemas import WelcomeEmailProps

            def welcome(name: str) -> None:
                send("welcome", WelcomeEmailProps(name=name))
        """,
    }
    root = _project(tmp_path, files)
    assert rule_findings(root, "BL401") == []
    write_files(
        root,
        {
            "app/users/preview.py": """
                from fastapi import APIRouter
                from app.users.schemas import WelcomeEmailProps

                router = APIRouter()

                @router.post("/emails/welcome/preview")
                def preview(props: WelcomeEmailProps) -> str:
                    ...
            """,
        },
    )
    found = rule_findings(root, "BL401")
    assert _lines(found) == [("app/users/service.py", 3)]
    assert "which route handler `preview` in `app.users.preview` takes" in found[0].message


def test_one_finding_per_function_however_often_it_builds_the_model(tmp_path: Path) -> None:
    files = {
        "app/users/service.py": """
            from app.users.schemas import Address

            def addresses(cities: list[str]) -> list[Address]:
                first = Address(city=cities[0])
                rest = [Address(city=c) for c in cities[1:]]
                fallback = Address.model_validate({"city": "?"})
                return [first, *rest, fallback, Address(city="x"), Address(city="y")]

            def same_city(a: Address, b: Address) -> bool:
                return a.city == b.city
        """,
    }
    found = rule_findings(_project(tmp_path, files), "BL401")
    assert _lines(found) == [("app/users/service.py", 3), ("app/users/service.py", 9)]
    assert found[1].message.startswith(
        "`same_city` depends on transport model `Address` (parameters `a`, `b`) from "
    )
    assert found[0].message == (
        "`addresses` depends on transport model `Address` (return type, builds it with "
        "`Address(...)`, `Address.model_validate`) from `app.users.schemas`, which route "
        "handler `get_address` in `app.users.routes` returns"
    )


def test_what_a_dependency_gives_a_handler_is_not_part_of_the_request(tmp_path: Path) -> None:
    files = {
        "app/users/routes.py": """
            from typing import Annotated
            from fastapi import APIRouter, Depends
            from app.users.schemas import Address, UserOut

            router = APIRouter()

            def current_user() -> UserOut: ...

            @router.get("/me")
            def me(user: UserOut = Depends(current_user)) -> None:
                ...

            @router.get("/me/address")
            def my_address(user: Annotated[Address, Depends(current_user)]) -> None:
                ...
        """,
        "app/users/service.py": SERVICE,
    }
    assert rule_findings(_project(tmp_path, files), "BL401") == []


def test_vendor_adapters_are_low_confidence(tmp_path: Path) -> None:
    files = {
        "app/integrations/plain/service.py": """
            from app.users.schemas import UserCreate

            def import_contact(data: UserCreate) -> None:
                ...
        """,
        "app/billing/service.py": """
            from app.integrations.stripe.schemas import CheckoutRequest

            def start(req: CheckoutRequest) -> None:
                ...
        """,
        "app/integrations/stripe/schemas.py": """
            from pydantic import BaseModel

            class CheckoutRequest(BaseModel):
                price: str
        """,
        "app/integrations/stripe/webhooks.py": """
            from fastapi import APIRouter
            from app.integrations.stripe.schemas import CheckoutRequest

            router = APIRouter()

            @router.post("/stripe/checkout")
            def checkout(body: CheckoutRequest) -> None:
                ...
        """,
    }
    root = _project(tmp_path, files)
    assert rule_findings(root, "BL401") == []
    result = run_check(
        CheckRequest(
            paths=(root,),
            cwd=root,
            select=("BL401",),
            include_low_confidence=True,
            jobs=1,
        )
    )
    assert [(d.path, d.span.start.line, d.confidence) for d in result.diagnostics] == [
        ("app/billing/service.py", 3, "low"),
        ("app/integrations/plain/service.py", 3, "low"),
    ]
