"""BL012 api-contract-changed: the static API contract, its diff and the rule.

Both sides are real projects in temporary folders, analysed by the real engine; the
rule is called on the head index with a ``ChangeSet`` whose base is the other index
(the ``--new-from-rev`` plumbing is tested elsewhere).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from pathlib import Path

import libcst as cst
import pytest

from backlint.application import CheckRequest, run_check
from backlint.contract.extract import extract_contract, path_parameters
from backlint.contract.model import Contract, Model, Route
from backlint.diagnostics import Diagnostic
from backlint.directives import find_directives
from backlint.index.change import ChangeSet
from backlint.index.collect import import_table
from backlint.index.facts import FileFacts
from backlint.index.names import ImportTable
from backlint.index.project import MemorySummaryStore, ProjectIndex
from backlint.rules.base import Example
from backlint.rules.contract.api_contract_changed import ApiContractChanged
from backlint.suppression import FileSuppressions

Files = dict[str, str]


def _project(root: Path, files: Files) -> ProjectIndex:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text("[tool.backlint]\n", encoding="utf-8")
    for relative, source in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(source).lstrip("\n"), encoding="utf-8")
    result = run_check(CheckRequest(paths=(root,), cwd=root, extend_select=("BL012",), jobs=1))
    assert not result.internal_errors, result.internal_errors
    assert result.project is not None
    return result.project


def _contract(tmp_path: Path, files: Files) -> Contract:
    return extract_contract(_project(tmp_path / "tree", files))


def _route(contract: Contract, handler: str) -> Route:
    return next(route for route in contract.routes if route.handler == handler)


def _model(contract: Contract, short: str) -> Model:
    return next(model for model in contract.models.values() if model.short == short)


def _check(
    tmp_path: Path,
    base: Files,
    head: Files,
    *,
    changed: Iterable[str] | None = None,
    options: dict[str, str] | None = None,
    waivers: bool = True,
) -> list[Diagnostic]:
    """BL012's findings from ``base`` to ``head``, after the files' waivers (as the
    project pass applies them, with BL012 in ``require-reason-for``)."""
    head_project = _project(tmp_path / "head", head)
    head_project.change = ChangeSet(
        revision="HEAD",
        commit="0" * 40,
        changed=frozenset(head if changed is None else changed),
        removed=frozenset(set(base) - set(head)),  # as git would list the deleted files
        base=_project(tmp_path / "base", base),
    )
    found = list(ApiContractChanged(options).check_project(head_project))
    if not waivers:
        return found
    kept = []
    for diagnostic in found:
        text = (tmp_path / "head" / diagnostic.path).read_text(encoding="utf-8")
        table = FileSuppressions(diagnostic.path, find_directives(text), require_reason=("BL012",))
        if not table.suppresses(diagnostic):
            kept.append(diagnostic)
    return kept


def _messages(found: list[Diagnostic]) -> list[str]:
    return [d.message for d in found]


# A small FastAPI project: the base of most diff tests.

ROUTES = """
from typing import Optional
from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session
from app.schemas import Color, ItemIn, ItemOut

router = APIRouter(prefix="/items")

def get_db() -> Session: ...

@router.get("/{item_id}", response_model=ItemOut)
def read_item(item_id: int, q: Optional[str] = None, db: Session = Depends(get_db)):
    ...

@router.get("/", response_model=list[ItemOut])
def list_items(color: Color | None = None, limit: int = Query(10, alias="max")):
    ...

@router.post("/", response_model=ItemOut)
def create_item(item: ItemIn):
    ...
"""

SCHEMAS = """
import enum
from typing import Literal, Optional
from pydantic import BaseModel, Field

class Color(str, enum.Enum):
    red = "red"
    blue = "blue"

class Owner(BaseModel):
    id: int
    name: str

class ItemIn(BaseModel):
    name: str
    price: float = 0.0
    note: Optional[str] = None

class ItemOut(BaseModel):
    id: int
    title: str = Field(..., alias="name")
    price: float
    color: Color
    owner: Owner
    size: Literal["s", "m"] = "s"
"""

MAIN = """
from fastapi import FastAPI
from app import routes

app = FastAPI()
app.include_router(routes.router, prefix="/api")
"""

BASE: Files = {
    "app/__init__.py": "",
    "app/main.py": MAIN,
    "app/routes.py": ROUTES,
    "app/schemas.py": SCHEMAS,
}


def _head(**replacements: tuple[str, str]) -> Files:
    """The base project with ``file=(old, new)`` text replacements."""
    files = dict(BASE)
    for name, (old, new) in replacements.items():
        path = f"app/{name}.py"
        assert old in files[path], old
        files[path] = files[path].replace(old, new)
    return files


# Extraction --------------------------------------------------------------------------


def test_fastapi_routes_paths_and_parameters(tmp_path: Path) -> None:
    contract = _contract(tmp_path, BASE)
    read = _route(contract, "read_item")
    assert (read.method, read.path) == ("GET", "/api/items/{item_id}")
    assert [(p.name, p.where, p.required) for p in read.params] == [
        ("item_id", "path", True),
        ("q", "query", False),
    ]  # ``db`` is injected by ``Depends``, not sent
    listed = _route(contract, "list_items")
    assert [(p.name, p.required) for p in listed.params] == [("color", False), ("max", False)]
    assert listed.params[0].types == ("app.schemas.Color",)
    create = _route(contract, "create_item")
    assert (create.method, create.request, create.response) == (
        "POST",
        ("app.schemas.ItemIn",),
        ("app.schemas.ItemOut",),
    )
    assert read.location.path == "app/routes.py" and read.location.line == 11
    assert read.location.waiver_lines == (10,)  # the decorator


def test_models_fields_and_nested_models(tmp_path: Path) -> None:
    contract = _contract(tmp_path, BASE)
    out = _model(contract, "ItemOut")
    assert [(f.name, f.wire, f.required) for f in out.fields] == [
        ("id", "id", True),
        ("title", "name", True),
        ("price", "price", True),
        ("color", "color", True),
        ("owner", "owner", True),
        ("size", "size", False),
    ]
    assert _model(contract, "Owner").fields  # reached through ``ItemOut.owner``
    assert _model(contract, "Color").members == ("red", "blue")
    item_in = _model(contract, "ItemIn")
    assert [(f.name, f.required) for f in item_in.fields] == [
        ("name", True),
        ("price", False),
        ("note", False),
    ]


def test_a_prefix_that_is_not_a_literal_is_kept_as_its_expression(tmp_path: Path) -> None:
    files = dict(BASE)
    files["app/main.py"] = MAIN.replace('prefix="/api"', "prefix=settings.API_V1_STR")
    contract = _contract(tmp_path, files)
    assert _route(contract, "read_item").path == "[settings.API_V1_STR]/items/{item_id}"


def test_pydantic_v1_v2_sqlmodel_and_dataclass_requiredness(tmp_path: Path) -> None:
    files: Files = {
        "app/__init__.py": "",
        "app/api.py": """
            import dataclasses
            from typing import Optional
            from fastapi import FastAPI
            from pydantic import BaseModel, Field
            from sqlmodel import SQLModel, Field as SQLField

            app = FastAPI()

            class V1(BaseModel):
                a: Optional[int]
                b: int = Field(...)
                c: int = Field(default=3)
                d: int = Field(alias="D")
                e: list[int] = Field(default_factory=list)

                class Config:
                    orm_mode = True

            class Hero(SQLModel, table=True):
                id: Optional[int] = SQLField(default=None, primary_key=True)
                name: str

            @dataclasses.dataclass
            class Point:
                x: Optional[int]
                y: int = 0

            @app.post("/v1")
            def v1(body: V1) -> Hero: ...

            @app.post("/point")
            def point(body: Point) -> Point: ...
        """,
    }
    contract = _contract(tmp_path, files)
    v1 = _model(contract, "V1")
    assert [(f.wire, f.required) for f in v1.fields] == [
        ("a", None),  # optional in Pydantic v1, required in v2: undecided
        ("b", True),
        ("c", False),
        ("D", True),
        ("e", False),
    ]
    assert [(f.name, f.required) for f in _model(contract, "Hero").fields] == [
        ("id", False),
        ("name", True),
    ]
    point = _model(contract, "Point")
    assert point.kind == "dataclass"
    assert [(f.name, f.required) for f in point.fields] == [("x", True), ("y", False)]


def test_inherited_fields_and_unknown_bases(tmp_path: Path) -> None:
    files: Files = {
        "app/__init__.py": "",
        "app/api.py": """
            from fastapi import FastAPI
            from pydantic import BaseModel
            from somelib import LibraryModel

            app = FastAPI()

            class Base(BaseModel):
                id: int

            class Child(Base):
                name: str

            class Foreign(LibraryModel, BaseModel):
                name: str

            @app.get("/child")
            def child() -> Child: ...

            @app.get("/foreign")
            def foreign() -> Foreign: ...
        """,
    }
    contract = _contract(tmp_path, files)
    child = _model(contract, "Child")
    assert [f.name for f in child.fields] == ["id", "name"] and child.complete
    assert not _model(contract, "Foreign").complete


def test_flask_routes_with_blueprint_prefixes(tmp_path: Path) -> None:
    files: Files = {
        "app/__init__.py": """
            from flask import Flask
            from app.views import bp

            def create_app():
                app = Flask(__name__)
                app.register_blueprint(bp, url_prefix="/api")
                return app
        """,
        "app/views.py": """
            from flask import Blueprint

            bp = Blueprint("items", __name__, url_prefix="/items")

            @bp.route("/<int:item_id>", methods=["GET", "DELETE"])
            def item(item_id):
                ...

            @bp.post("/")
            def create():
                ...
        """,
    }
    contract = _contract(tmp_path, files)
    operations = sorted(route.operation for route in contract.routes)
    assert operations == [
        "DELETE /api/items/<int:item_id>",
        "GET /api/items/<int:item_id>",
        "POST /api/items/",
    ]
    item = _route(contract, "item")
    assert [(p.name, p.where) for p in item.params] == [("item_id", "path")]


def test_drf_viewsets_routers_and_serializers(tmp_path: Path) -> None:
    files: Files = {
        "app/__init__.py": "",
        "app/serializers.py": """
            from rest_framework import serializers

            class OwnerSerializer(serializers.Serializer):
                id = serializers.IntegerField(read_only=True)
                name = serializers.CharField()

            class ItemSerializer(serializers.ModelSerializer):
                owner = OwnerSerializer()
                note = serializers.CharField(required=False)
                secret = serializers.CharField(write_only=True)

                class Meta:
                    model = object
                    fields = ["id", "owner", "note", "secret"]

            class OpenSerializer(serializers.ModelSerializer):
                class Meta:
                    model = object
                    fields = "__all__"
        """,
        "app/views.py": """
            from rest_framework import viewsets
            from app.serializers import ItemSerializer, OpenSerializer

            class ItemViewSet(viewsets.ModelViewSet):
                serializer_class = ItemSerializer

                def retrieve(self, request, pk=None):
                    ...

            class OpenViewSet(viewsets.ModelViewSet):
                serializer_class = OpenSerializer

                def list(self, request):
                    ...
        """,
        "app/urls.py": """
            from rest_framework.routers import DefaultRouter
            from app.views import ItemViewSet, OpenViewSet

            router = DefaultRouter()
            router.register(r"items", ItemViewSet)
            router.register(r"open", OpenViewSet)
            urlpatterns = router.urls
        """,
    }
    contract = _contract(tmp_path, files)
    retrieve = _route(contract, "ItemViewSet.retrieve")
    assert retrieve.operation == "GET items/{pk}/"
    assert retrieve.response == ("app.serializers.ItemSerializer",)
    item = _model(contract, "ItemSerializer")
    assert item.kind == "serializer" and item.complete
    assert [(f.name, f.required, f.direction) for f in item.fields] == [
        ("id", None, "both"),  # from the Django model: type and requiredness unknown
        ("owner", True, "both"),
        ("note", False, "both"),
        ("secret", True, "request"),
    ]
    assert [(f.name, f.direction) for f in _model(contract, "OwnerSerializer").fields] == [
        ("id", "response"),
        ("name", "both"),
    ]
    assert not _model(contract, "OpenSerializer").complete


def test_path_parameters_of_every_framework() -> None:
    assert path_parameters("/a/{x}/b/{y:path}") == ("x", "y")
    assert path_parameters("/a/<int:x>/<y>") == ("x", "y")
    assert path_parameters(r"^a/(?P<pk>\d+)/$") == ("pk",)


def test_a_warm_run_reads_the_contract_without_parsing(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    facts = list(_project(root, BASE).files.values())
    store = MemorySummaryStore()

    def parse(file: FileFacts) -> tuple[cst.Module, ImportTable]:
        module = cst.parse_module((root / file.path).read_text(encoding="utf-8"))
        return module, import_table(module, file.module, file.is_package)

    cold = ProjectIndex(facts, parser=parse, summaries=store)
    warm = ProjectIndex(facts, parser=parse, summaries=store)
    assert extract_contract(cold) == extract_contract(warm)
    assert cold.parses > 0 and warm.parses == 0


# Breaking changes ----------------------------------------------------------------------


def test_no_change_no_finding(tmp_path: Path) -> None:
    assert _check(tmp_path, BASE, BASE) == []


@pytest.mark.parametrize(
    ("head", "message"),
    [
        pytest.param(
            _head(
                routes=(
                    '@router.post("/", response_model=ItemOut)\ndef create_item',
                    "def create_item",
                )
            ),
            "route `POST /api/items/` (`app.routes.create_item`) was removed",
            id="removed-route",
        ),
        pytest.param(
            _head(routes=('"/{item_id}"', '"/by-id/{item_id}"')),
            "route `app.routes.read_item` changed path: `GET /api/items/{item_id}` -> "
            "`GET /api/items/by-id/{item_id}`",
            id="changed-path",
        ),
        pytest.param(
            _head(routes=('@router.get("/{item_id}"', '@router.put("/{item_id}"')),
            "route `app.routes.read_item` changed method: `GET /api/items/{item_id}` -> "
            "`PUT /api/items/{item_id}`",
            id="changed-method",
        ),
        pytest.param(
            _head(routes=("q: Optional[str] = None, ", "")),
            "`GET /api/items/{item_id}`: query parameter `q` was removed or renamed",
            id="removed-query-parameter",
        ),
        pytest.param(
            _head(routes=('alias="max"', 'alias="limit"')),
            "`GET /api/items/`: query parameter `max` was removed or renamed",
            id="renamed-query-parameter",
        ),
        pytest.param(
            _head(
                routes=(
                    '"/{item_id}", response_model=ItemOut)\ndef read_item(item_id: int',
                    '"/{id}", response_model=ItemOut)\ndef read_item(id: int',
                )
            ),
            "`GET /api/items/{id}`: path parameter `item_id` renamed to `id`",
            id="renamed-path-parameter",
        ),
        pytest.param(
            _head(routes=("q: Optional[str] = None", "q: str")),
            "`GET /api/items/{item_id}`: query parameter `q` became required",
            id="required-query-parameter",
        ),
        pytest.param(
            _head(
                routes=("def create_item(item: ItemIn", "def create_item(item: ItemIn, tag: str")
            ),
            "`POST /api/items/`: new required query parameter `tag`",
            id="new-required-query-parameter",
        ),
        pytest.param(
            _head(schemas=("    price: float\n    color", "    color")),
            "response field `ItemOut.price` was removed or renamed",
            id="removed-response-field",
        ),
        pytest.param(
            _head(schemas=('alias="name"', 'alias="label"')),
            "response field `ItemOut.title` renamed on the wire: `name` -> `label`",
            id="renamed-response-field",
        ),
        pytest.param(
            _head(schemas=("    price: float\n    color", "    price: str\n    color")),
            "response field `ItemOut.price` changed type: `float` -> `str`",
            id="changed-type",
        ),
        pytest.param(
            _head(schemas=("    price: float\n    color", "    price: Optional[float]\n    color")),
            "response field `ItemOut.price` became optional: `float` -> `Optional[float]`",
            id="optional-response-field",
        ),
        pytest.param(
            _head(schemas=("    price: float = 0.0", "    price: float")),
            "request field `ItemIn.price` became required",
            id="required-request-field",
        ),
        pytest.param(
            _head(
                schemas=(
                    "    note: Optional[str] = None\n",
                    "    note: Optional[str] = None\n    sku: str\n",
                )
            ),
            "new required request field `ItemIn.sku`",
            id="new-required-request-field",
        ),
        pytest.param(
            _head(schemas=('    blue = "blue"\n', "")),
            "enum `Color` narrowed: `blue` removed",
            id="narrowed-enum",
        ),
        pytest.param(
            _head(schemas=("    name: str\n\nclass ItemIn", "    name: int\n\nclass ItemIn")),
            "response field `Owner.name` changed type: `str` -> `int`",
            id="nested-model",
        ),
        pytest.param(
            _head(schemas=('Literal["s", "m"]', 'Literal["s"]')),
            "response field `ItemOut.size` changed type: `Literal['s', 'm']` -> `Literal['s']`",
            id="narrowed-literal",
        ),
    ],
)
def test_each_breaking_change(tmp_path: Path, head: Files, message: str) -> None:
    assert _messages(_check(tmp_path, BASE, head)) == [message]


@pytest.mark.parametrize(
    "head",
    [
        pytest.param(
            _head(
                routes=(
                    "\n@router.post",
                    '\n@router.delete("/{item_id}")\ndef delete_item(item_id: int): ...\n'
                    "\n@router.post",
                )
            ),
            id="new-route",
        ),
        pytest.param(
            _head(
                schemas=(
                    "    note: Optional[str] = None\n",
                    "    note: Optional[str] = None\n    sku: str = ''\n",
                )
            ),
            id="new-optional-request-field",
        ),
        pytest.param(
            _head(
                schemas=(
                    '    size: Literal["s", "m"] = "s"\n',
                    '    size: Literal["s", "m"] = "s"\n    extra: int = 0\n',
                )
            ),
            id="new-response-field",
        ),
        pytest.param(
            _head(schemas=('    blue = "blue"\n', '    blue = "blue"\n    green = "green"\n')),
            id="widened-enum",
        ),
        pytest.param(
            _head(schemas=('Literal["s", "m"]', 'Literal["s", "m", "l"]')), id="widened-literal"
        ),
        pytest.param(
            _head(schemas=("    price: float = 0.0", "    price: Optional[float] = None")),
            id="request-field-became-optional",
        ),
        pytest.param(
            _head(routes=("q: Optional[str] = None", "q: Optional[str] = None, page: int = 1")),
            id="new-optional-query-parameter",
        ),
        pytest.param(
            _head(routes=("def read_item(item_id", "def get_item(item_id")), id="renamed-handler"
        ),
        pytest.param(
            _head(schemas=("    id: int\n    title", "    id: 'int'\n    title")),
            id="same-type-other-spelling",
        ),
    ],
)
def test_additive_changes_are_silent(tmp_path: Path, head: Files) -> None:
    assert _check(tmp_path, BASE, head) == []


def test_a_changed_mount_prefix_changes_every_path_under_it(tmp_path: Path) -> None:
    found = _check(tmp_path, BASE, _head(main=('prefix="/api"', 'prefix="/api/v2"')))
    assert sorted(_messages(found)) == [
        "route `app.routes.create_item` changed path: `POST /api/items/` -> `POST /api/v2/items/`",
        "route `app.routes.list_items` changed path: `GET /api/items/` -> `GET /api/v2/items/`",
        "route `app.routes.read_item` changed path: `GET /api/items/{item_id}` -> "
        "`GET /api/v2/items/{item_id}`",
    ]


def test_a_renamed_response_model_is_compared_field_by_field(tmp_path: Path) -> None:
    head = _head(
        schemas=(
            "class ItemOut(BaseModel):\n    id: int",
            "class ItemPublic(BaseModel):\n    id: str",
        ),
        routes=("ItemIn, ItemOut\n", "ItemIn, ItemPublic as ItemOut\n"),
    )
    assert _messages(_check(tmp_path, BASE, head)) == [
        "response field `ItemPublic.id` changed type: `int` -> `str`"
    ]


def test_a_nested_model_swapped_for_another_is_one_finding_at_the_field(tmp_path: Path) -> None:
    base = _head(
        schemas=(
            "class ItemOut(BaseModel):\n",
            "class Brief(BaseModel):\n    code: str\n\n\n"
            "class ItemOut(BaseModel):\n    brief: Brief | None = None\n",
        )
    )
    head = _head(
        schemas=(
            "class ItemOut(BaseModel):\n",
            "class Brief(BaseModel):\n    code: str\n\n\n"
            "class ItemOut(BaseModel):\n    brief: Owner | None = None\n",
        )
    )
    assert _messages(_check(tmp_path, base, head)) == [
        "response of `ItemOut.brief` is now `Owner` instead of `Brief`, without `code`"
    ]


def test_a_model_with_an_unreadable_base_reports_no_removed_field(tmp_path: Path) -> None:
    head = _head(
        schemas=(
            "class ItemOut(BaseModel):\n    id: int\n",
            "from lib import Mixin\n\nclass ItemOut(Mixin, BaseModel):\n",
        )
    )
    assert _check(tmp_path, BASE, head) == []


def test_field_findings_are_at_the_field_and_removed_ones_at_the_class(tmp_path: Path) -> None:
    head = _head(schemas=("    price: float\n    color: Color", "    price: str\n    owner2: int"))
    head["app/schemas.py"] = head["app/schemas.py"].replace("    owner: Owner\n", "")
    found = _check(tmp_path, BASE, head)
    lines = {d.message.split("`")[1]: d.span.start.line for d in found}
    assert lines == {"ItemOut.price": 21, "ItemOut.color": 18, "ItemOut.owner": 18}
    assert {d.path for d in found} == {"app/schemas.py"}


def test_a_removed_routes_file_is_reported_where_its_router_was_mounted(tmp_path: Path) -> None:
    head = dict(BASE)
    del head["app/routes.py"]
    head["app/main.py"] = "from fastapi import FastAPI\n\napp = FastAPI()\n"
    found = _check(tmp_path, BASE, head)
    assert {(d.path, d.span.start.line) for d in found} == {("app/main.py", 1)}
    assert len(found) == 3


def test_a_removed_route_is_reported_at_its_router(tmp_path: Path) -> None:
    head = _head(
        routes=(
            '@router.post("/", response_model=ItemOut)\ndef create_item(item: ItemIn):\n    ...\n',
            "",
        )
    )
    found = _check(tmp_path, BASE, head)
    assert [(d.path, d.span.start.line) for d in found] == [("app/routes.py", 6)]


# Approval ------------------------------------------------------------------------------

BREAK = _head(schemas=("    price: float\n    color", "    price: str\n    color"))


def test_a_changed_snapshot_approves_the_change(tmp_path: Path) -> None:
    options = {"api-snapshot": "openapi.json"}
    changed = [*BREAK, "openapi.json"]
    assert _check(tmp_path, BASE, BREAK, changed=changed, options=options) == []
    assert len(_check(tmp_path / "2", BASE, BREAK, options=options)) == 1  # snapshot unchanged


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param(
            "    price: str\n", "    price: str  # backlint: allow BL012 API-7\n", id="field"
        ),
        pytest.param(
            "class ItemOut(BaseModel):\n",
            "class ItemOut(BaseModel):  # backlint: allow BL012 API-7\n",
            id="class",
        ),
    ],
)
def test_a_waiver_with_a_reason_approves_a_field_change(tmp_path: Path, old: str, new: str) -> None:
    head = dict(BREAK)
    head["app/schemas.py"] = head["app/schemas.py"].replace(old, new)
    assert _check(tmp_path, BASE, head) == []


def test_a_waiver_without_a_reason_does_not_approve(tmp_path: Path) -> None:
    head = dict(BREAK)
    head["app/schemas.py"] = head["app/schemas.py"].replace(
        "class ItemOut(BaseModel):\n", "class ItemOut(BaseModel):  # backlint: allow BL012\n"
    )
    assert len(_check(tmp_path, BASE, head)) == 1


@pytest.mark.parametrize(
    "comment_on",
    [
        pytest.param('@router.get("/by-id/{item_id}", response_model=ItemOut)', id="decorator"),
        pytest.param("def read_item(item_id: int, q: Optional[str] = None, db", id="def"),
    ],
)
def test_a_waiver_on_the_handler_approves_a_route_change(tmp_path: Path, comment_on: str) -> None:
    head = _head(routes=('"/{item_id}"', '"/by-id/{item_id}"'))
    assert len(_check(tmp_path / "plain", BASE, head)) == 1
    lines = head["app/routes.py"].split("\n")
    index = next(i for i, line in enumerate(lines) if line.startswith(comment_on))
    if lines[index].endswith(":"):
        lines[index] = lines[index][:-1] + ":  # backlint: allow BL012 v2 only"
    else:
        lines[index] += "  # backlint: allow BL012 v2 only"
    head["app/routes.py"] = "\n".join(lines)
    assert _check(tmp_path / "waived", BASE, head) == []


def test_the_rule_needs_a_change(tmp_path: Path) -> None:
    project = _project(tmp_path, BASE)
    assert list(ApiContractChanged().check_project(project)) == []


@pytest.mark.parametrize("kind", ["valid", "invalid"])
def test_the_rule_examples(tmp_path: Path, kind: str) -> None:
    """The rule's own examples, until the example tests run change-scoped rules."""
    for index, example in enumerate(ApiContractChanged.examples(kind)):
        assert isinstance(example, Example) and example.base is not None
        files = {example.path: example.source, **dict(example.files)}
        found = _check(tmp_path / f"{index}", dict(example.base), files)
        if kind == "valid":
            assert found == [], example.source
        else:
            assert found and (example.expect is None or len(found) == example.expect), found


def test_flask_restx_resources_under_namespaces(tmp_path: Path) -> None:
    files: Files = {
        "app/__init__.py": "",
        "app/api.py": """
            from flask import Blueprint
            from flask_restx import Api
            from app.items import items_namespace

            api = Blueprint("api", __name__, url_prefix="/api/v1")
            API = Api(api, version="v1")
            API.add_namespace(items_namespace, "/items")
        """,
        "app/items.py": """
            from flask_restx import Namespace, Resource

            items_namespace = Namespace("items")

            @items_namespace.route("/<int:item_id>")
            class Item(Resource):
                def get(self, item_id):
                    ...

                def delete(self, item_id):
                    ...
        """,
    }
    contract = _contract(tmp_path, files)
    assert sorted(route.operation for route in contract.routes) == [
        "DELETE /api/v1/items/<int:item_id>",
        "GET /api/v1/items/<int:item_id>",
    ]
    assert _route(contract, "Item.get").location.waiver_lines == (6,)  # the class line


DRF: Files = {
    "app/__init__.py": "",
    "app/serializers.py": """
        import uuid
        from rest_framework import serializers

        class ItemSerializer(serializers.ModelSerializer):
            owner = serializers.CharField(read_only=True)

            class Meta:
                model = object
                fields = ["id", "name", "owner"]
    """,
    "app/views.py": """
        from rest_framework import viewsets, views
        from app.serializers import ItemSerializer

        class ItemViewSet(viewsets.ModelViewSet):
            serializer_class = ItemSerializer

        class PingView(views.APIView):
            def get(self, request):
                ...
    """,
    "app/urls.py": """
        from django.urls import path
        from rest_framework.routers import DefaultRouter
        from app.views import ItemViewSet, PingView

        router = DefaultRouter()
        router.register("items", ItemViewSet)
        urlpatterns = [path("ping/", PingView.as_view())] + router.urls
    """,
}


def _drf(old: str, new: str, file: str = "app/serializers.py") -> Files:
    files = {path: textwrap.dedent(source) for path, source in DRF.items()}
    assert old in files[file]
    files[file] = files[file].replace(old, new)
    return files


def test_a_registered_view_set_is_a_route_with_its_serializer(tmp_path: Path) -> None:
    contract = _contract(tmp_path, DRF)
    items = _route(contract, "ItemViewSet")
    assert (items.operation, items.response) == ("ANY items", ("app.serializers.ItemSerializer",))
    assert _route(contract, "PingView.get").operation == "GET ping/"


@pytest.mark.parametrize(
    ("head", "messages"),
    [
        pytest.param(
            _drf('fields = ["id", "name", "owner"]', 'fields = ["id", "owner"]'),
            ["response field `ItemSerializer.name` was removed or renamed"],
            id="removed-serializer-field",
        ),
        pytest.param(
            _drf('router.register("items", ItemViewSet)\n', "", "app/urls.py"),
            ["route `ANY items` (`app.views.ItemViewSet`) was removed"],
            id="unregistered-view-set",
        ),
        pytest.param(
            _drf("    def get(self, request):\n        ...\n", "    pass\n", "app/views.py"),
            [],  # an ``APIView`` subclass may inherit ``get`` now: not decidable
            id="view-method-gone-from-a-class-that-exists",
        ),
        pytest.param(
            _drf('fields = ["id", "name", "owner"]', 'fields = ["id", "name", "owner", "size"]'),
            [],
            id="new-serializer-field",
        ),
        pytest.param(
            _drf(
                "serializers.CharField(read_only=True)", "serializers.IntegerField(read_only=True)"
            ),
            ["response field `ItemSerializer.owner` changed type: `string` -> `integer`"],
            id="changed-wire-type",
        ),
        pytest.param(
            _drf("serializers.CharField(read_only=True)", "serializers.EmailField(read_only=True)"),
            [],
            id="same-wire-type",
        ),
        pytest.param(
            _drf("serializers.CharField(read_only=True)", "serializers.SerializerMethodField()"),
            [],  # a method field's wire type is unknown; it is never a request field
            id="method-field",
        ),
        pytest.param(
            _drf(
                "    owner = serializers.CharField(read_only=True)\n",
                "    owner = serializers.CharField(read_only=True)\n"
                "    size = serializers.IntegerField()\n",
            ),
            [],  # not in ``Meta.fields``: not exposed
            id="declared-but-not-listed",
        ),
    ],
)
def test_drf_changes(tmp_path: Path, head: Files, messages: list[str]) -> None:
    assert _messages(_check(tmp_path, DRF, head)) == messages


def test_a_constrained_pydantic_type_is_its_wire_type(tmp_path: Path) -> None:
    base = _head(
        schemas=(
            "class ItemOut(BaseModel):\n    id: int",
            "class ItemOut(BaseModel):\n    id: UUID",
        )
    )
    head = _head(
        schemas=(
            "class ItemOut(BaseModel):\n    id: int",
            "class ItemOut(BaseModel):\n    id: UUID4",
        )
    )
    assert _check(tmp_path, base, head) == []


def test_a_waiver_of_the_rule_is_never_an_unused_suppression(tmp_path: Path) -> None:
    """It approved one change; in later runs (with or without a change) it silences
    nothing, and BL002 must not ask to remove it."""
    (tmp_path / "pyproject.toml").write_text("[tool.backlint]\n", encoding="utf-8")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "schemas.py").write_text(
        "from pydantic import BaseModel\n\n"
        "class Item(BaseModel):  # backlint: allow BL012 API-7 prices are text\n"
        "    price: str\n",
        encoding="utf-8",
    )
    request = CheckRequest(paths=(tmp_path,), cwd=tmp_path, select=("BL002", "BL012"), jobs=1)
    assert run_check(request).diagnostics == []
