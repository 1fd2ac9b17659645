"""Import cycles, their suppressions and the module names they rest on, through the CLI.

Each test writes a small project and runs ``python -m backlint`` in it, as a user would.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cli_helpers import backlint, write_files


def check(root: Path, *args: str) -> list[dict[str, Any]]:
    completed = backlint(root, "check", "--output-format", "json", *args)
    assert completed.returncode in (0, 1), completed.stderr
    items = json.loads(completed.stdout)
    assert isinstance(items, list)
    return items


def found(root: Path, *args: str) -> list[tuple[str, int, str]]:
    return sorted(
        (
            Path(item["filename"]).resolve().relative_to(root.resolve()).as_posix(),
            item["location"]["row"],
            item["code"],
        )
        for item in check(root, *args)
    )


# A hub package: the submodules reach each other through the package's re-exports, and
# two services import each other besides.
HUB = {
    "pyproject.toml": '[tool.backlint]\nsrc = ["."]\n',
    "app/__init__.py": "",
    "app/views/__init__.py": (
        "from .base import BaseView\nfrom .users import UserView\nfrom .teams import TeamView\n"
    ),
    "app/views/base.py": "class BaseView:\n    pass\n",
    "app/views/users.py": "from app.views import BaseView\n\nclass UserView(BaseView): ...\n",
    "app/views/teams.py": "from . import BaseView\n\nclass TeamView(BaseView): ...\n",
    "app/orders.py": "from app.billing import charge\n\n\ndef order():\n    charge()\n",
    "app/billing.py": "from app.orders import order\n\n\ndef charge():\n    order()\n",
}


def test_each_tangle_is_reported_once_and_add_noqa_leaves_a_clean_run(tmp_path: Path) -> None:
    root = write_files(tmp_path, HUB)
    selection = ("--select", "BL411,BL002")
    assert found(root, *selection) == [
        ("app/billing.py", 1, "BL411"),
        ("app/views/__init__.py", 2, "BL411"),
    ]
    hub = next(i for i in check(root, *selection) if i["filename"].endswith("__init__.py"))
    assert hub["message"] == (
        "Import cycle: app.views -> app.views.users -> app.views "
        "(3 modules are tangled in this cycle)"
    )
    completed = backlint(root, "check", *selection, "--add-noqa")
    assert "Added 2 noqa directives." in completed.stderr
    assert (root / "app/views/__init__.py").read_text().splitlines()[1] == (
        "from .users import UserView  # noqa: BL411"
    )
    # The noqa'd imports lie on cycles: they are used, and the tangles are accepted.
    assert check(root, *selection) == []


def test_a_bare_noqa_takes_an_import_out_of_the_graph_like_a_bl411_one(tmp_path: Path) -> None:
    files = {
        "pyproject.toml": '[tool.backlint]\nsrc = ["."]\n',
        "app/__init__.py": "",
        "app/a.py": "import app.b\nimport app.c\n",
        "app/b.py": "import app.a\n",
        "app/c.py": "import app.a\n",
    }
    root = write_files(tmp_path, files)
    assert found(root, "--select", "BL411") == [("app/a.py", 1, "BL411")]
    # Leaving out b's import of a (not the reported one) still leaves a <-> c.
    for comment in ("# noqa", "# noqa: BL411"):
        write_files(root, {"app/b.py": f"import app.a  {comment}\n"})
        assert found(root, "--select", "BL411,BL002") == [("app/a.py", 2, "BL411")]
    # With both other imports left out no cycle remains, and both noqa are used.
    for comment in ("# noqa", "# noqa: BL411"):
        write_files(root, {"app/c.py": f"import app.a  {comment}\n"})
        assert found(root, "--select", "BL411,BL002") == []


def test_a_noqa_on_an_import_outside_every_cycle_is_unused(tmp_path: Path) -> None:
    files = {
        "pyproject.toml": '[tool.backlint]\nsrc = ["."]\n',
        "app/__init__.py": "",
        "app/a.py": "import app.b  # noqa: BL411\n",
        "app/b.py": "import json\n",
    }
    root = write_files(tmp_path, files)
    assert found(root, "--select", "BL411,BL002") == [("app/a.py", 1, "BL002")]


def test_a_setup_py_inside_a_package_is_a_module_not_a_project_root(tmp_path: Path) -> None:
    """``app/forms/setup.py`` is the module ``app.forms.setup``; taking ``app/forms/`` as
    a root would name its siblings ``setup`` and ``fields`` and hide their cycle."""
    files = {
        "pyproject.toml": '[project]\nname = "app"\n',
        "app/__init__.py": "",
        "app/forms/__init__.py": "",
        "app/forms/setup.py": "from app.forms.fields import Field\n\nclass SetupForm: ...\n",
        "app/forms/fields.py": "from app.forms.setup import SetupForm\n\nclass Field: ...\n",
        "app/database/__init__.py": "",
        "app/database/manage.py": "import logging\n\nfrom app.database import core\n",
        "app/database/core.py": "from app.database.manage import logging\n",
        "app/database/logging.py": "import logging\n",
    }
    root = write_files(tmp_path, files)
    items = check(root, "--select", "BL411")
    assert sorted(i["message"] for i in items) == [
        "Import cycle: app.database.core -> app.database.manage -> app.database.core",
        "Import cycle: app.forms.fields -> app.forms.setup -> app.forms.fields",
    ]
    # A real workspace member (not inside a package) is still a root of its own.
    write_files(
        root,
        {
            "backend/pyproject.toml": '[project]\nname = "backend"\n',
            "backend/api/__init__.py": "",
            "backend/api/a.py": "from api.b import B\nA = 1\n",
            "backend/api/b.py": "from api.a import A\nB = 1\n",
        },
    )
    messages = [i["message"] for i in check(root, "--select", "BL411")]
    assert "Import cycle: api.a -> api.b -> api.a" in messages


def test_add_noqa_merges_into_another_tools_blind_except_code(tmp_path: Path) -> None:
    """``BLE001`` is flake8-blind-except's: never reported unused, kept when merging."""
    files = {
        "pyproject.toml": "[tool.backlint]\n",
        "app/__init__.py": "",
        "app/jobs.py": (
            "import logging\n\nlog = logging.getLogger(__name__)\n\n\n"
            "def sync(pull):\n"
            "    try:\n"
            "        pull()\n"
            "    except Exception:  # noqa: BLE001\n"
            "        log.warning('sync failed')\n"
            "    return True\n"
        ),
    }
    root = write_files(tmp_path, files)
    selection = ("--select", "BL202,BL002")
    assert found(root, *selection) == [("app/jobs.py", 9, "BL202")]
    backlint(root, "check", *selection, "--add-noqa")
    assert "    except Exception:  # noqa: BLE001, BL202\n" in (root / "app/jobs.py").read_text()
    assert found(root, *selection) == []


def test_the_deferred_imports_of_one_function_are_one_finding_naming_the_function(
    tmp_path: Path,
) -> None:
    files = {
        "pyproject.toml": '[tool.backlint]\nsrc = ["."]\n',
        "app/__init__.py": "",
        "app/meta.py": (
            "class Resolver:\n"
            "    def resolve(self, kind):\n"
            "        from app.orders import Order\n"
            "        from app.users import User\n"
            "        from app.teams import Team\n"
            "        return Order if kind else User or Team\n"
        ),
        "app/orders.py": "import app.meta\n\n\nclass Order: ...\n",
        "app/users.py": "import app.meta\n\n\nclass User: ...\n",
        "app/teams.py": "import app.meta\n\n\nclass Team: ...\n",
    }
    root = write_files(tmp_path, files)
    (item,) = check(root, "--select", "BL412")
    assert item["message"] == (
        "Import of `Order` from `app.orders` inside `Resolver.resolve()` hides an import "
        "cycle: `app.orders` imports `app.meta` back at runtime (app.orders -> app.meta); "
        "2 more imports in the same function hide cycles too"
    )
    assert item["location"]["row"] == 3
    related = [
        (Path(r["filename"]).name, r["location"]["row"], r["message"]) for r in item["related"]
    ]
    assert related == [
        ("orders.py", 1, "`app.orders` imports `app.meta` here"),
        ("meta.py", 4, "the import of `User` from `app.users` hides a cycle too"),
        ("meta.py", 5, "the import of `Team` from `app.teams` hides a cycle too"),
    ]


def test_bl412_groups_and_headlines_only_the_names_it_reports(tmp_path: Path) -> None:
    # A models module's method imports sibling models (left alone) and, beside them in
    # the same statements, plain functions: only the functions make the finding, and
    # the message leads with them, not with the first statement of the function.
    files = {
        "pyproject.toml": '[tool.backlint]\nsrc = ["."]\n',
        "shop/__init__.py": "",
        "shop/models/__init__.py": "",
        "shop/models/order.py": (
            "from django.db import models\n\n\n"
            "class Order(models.Model):\n"
            "    def total(self):\n"
            "        from shop.models.customer import Customer\n"
            "        from shop.models.product import Product, price_of\n"
            "        from shop.models.product import Variant, tax_of\n"
            "        return price_of(Product, Variant, Customer) + tax_of()\n"
        ),
        "shop/models/customer.py": (
            "from django.db import models\nfrom shop.models.order import Order\n\n\n"
            "class Customer(models.Model): ...\n"
        ),
        "shop/models/product.py": (
            "from django.db import models\nfrom shop.models.order import Order\n\n\n"
            "class Product(models.Model): ...\n\n\n"
            "class Variant(models.Model): ...\n\n\n"
            "def price_of(*items): ...\n\n\n"
            "def tax_of(): ...\n"
        ),
    }
    root = write_files(tmp_path, files)
    (item,) = check(root, "--select", "BL412")
    assert item["location"]["row"] == 7
    assert item["message"] == (
        "Import of `price_of`, `tax_of` from `shop.models.product` inside `Order.total()` "
        "hides an import cycle: `shop.models.product` imports `shop.models.order` back at "
        "runtime (shop.models.product -> shop.models.order)"
    )


def test_bl412_skips_imports_of_what_the_module_already_imports_at_import_time(
    tmp_path: Path,
) -> None:
    # ``permission`` imports ``data.model.team`` at module level, which runs
    # ``data/model/__init__.py``, which imports every model: the function's import of
    # ``organization`` hides nothing. ``query`` is imported by its package's
    # ``__init__``, which runs before it and which it does not reach: its deferred
    # import of the package hides a cycle.
    files = {
        "pyproject.toml": '[tool.backlint]\nsrc = ["."]\n',
        "data/__init__.py": "",
        "data/model/__init__.py": "from data.model import organization, query, team\n",
        "data/model/organization.py": "import data.permission\n",
        "data/model/team.py": "class Team: ...\n",
        "data/model/query.py": "def load():\n    from data import model\n    return model\n",
        "data/permission.py": (
            "from data.model.team import Team\n\n\n"
            "def can_edit(user):\n"
            "    from data.model import organization\n"
            "    return organization, Team\n"
        ),
    }
    root = write_files(tmp_path, files)
    assert found(root, "--select", "BL412") == [("data/model/query.py", 2, "BL412")]


def test_bl412_leaves_the_composition_root_alone_but_not_run_time_callers(
    tmp_path: Path,
) -> None:
    # ``app.main`` wires the app up: ``init_logger`` and ``register_plugins`` of
    # ``app.boot`` are only called from its lifespan and at import time; ``load_user`` is
    # named like them but a route calls it, and a method of the factory's class runs
    # when it is called, on a request.
    files = {
        "pyproject.toml": '[tool.backlint]\nsrc = ["."]\n',
        "app/__init__.py": "",
        "app/boot.py": (
            "def init_logger():\n"
            "    from app.sinks import sink\n"
            "    return sink\n"
            "\n\n"
            "def register_plugins():\n"
            "    from app.plugins import PLUGINS\n"
            "    return PLUGINS\n"
            "\n\n"
            "def setup_user(user_id):\n"
            "    from app.users import load\n"
            "    return load(user_id)\n"
            "\n\n"
            "class Factory:\n"
            "    def build(self):\n"
            "        from app.plugins import PLUGINS\n"
            "        return PLUGINS\n"
        ),
        "app/main.py": (
            "from contextlib import asynccontextmanager\n"
            "from fastapi import FastAPI\n"
            "from app.boot import init_logger, register_plugins, setup_user\n"
            "\n\n"
            "@asynccontextmanager\n"
            "async def lifespan(api):\n"
            "    init_logger()\n"
            "    yield\n"
            "\n\n"
            "api = FastAPI(lifespan=lifespan)\n"
            "register_plugins()\n"
            "\n\n"
            "@api.get('/users/{user_id}')\n"
            "def show(user_id: int):\n"
            "    return setup_user(user_id)\n"
        ),
        "app/sinks.py": "import app.boot\n\nsink = None\n",
        "app/plugins.py": "import app.boot\n\nPLUGINS = []\n",
        "app/users.py": "import app.boot\n\n\ndef load(user_id): ...\n",
    }
    root = write_files(tmp_path, files)
    assert found(root, "--select", "BL412") == [
        ("app/boot.py", 12, "BL412"),
        ("app/boot.py", 18, "BL412"),
    ]
