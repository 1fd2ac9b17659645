from __future__ import annotations

from collections.abc import Callable

import libcst as cst

from backlint.diagnostics import Severity
from backlint.engine.walker import iter_descendants
from backlint.rules.annotations.framework import framework_conditions
from backlint.rules.annotations.public_api import PublicApiRule, PublicFunction
from backlint.rules.base import Example, Option


class MissingParamAnnotation(PublicApiRule):
    """
    ## What it does
    Flags a public function or method of a layer module (routes, service, domain,
    repository, schemas files; see file roles) with parameters that have no type
    annotation: one finding per function, at the first such parameter, naming them all.
    The first `self`/`cls` of a method is exempt, and so are private names (`_helper`,
    `_Private.method`, `_internal/` modules), functions not in a module's `__all__`
    when it has one, nested functions, `@overload`, `@abstractmethod` and `@override`
    methods, functions typed with a PEP 484 signature comment (`# type: (int) -> None`),
    stubs (`.pyi`) and test code. Overrides count as `@override` when they hand the
    call on to `super().<same name>(...)`, and dunder methods other than `__init__`,
    `__new__` and `__call__` follow a protocol of the data model (`__exit__`,
    `__eq__`): both take their signature from elsewhere. Dummy parameters (`_`, `**_`,
    `_unused`, ruff's convention) need no type, nor do `*args`/`**kwargs` that the
    body passes on whole (`super().__init__(**kwargs)`): their types are the callee's.

    Signatures a framework fixes are left alone too, because no project code calls
    them and the framework decides what they receive:
    - route handlers of Django, Django REST framework and Flask (`def get(self,
      request, pk)`, `def partial_update(self, request, slug, pk)`, a Flask view taking
      its URL converters' values); a function that only looks like a Django view
      (`def health(request)` in a views file) counts as one only if the project uses
      Django or a `urls.py` routes to it;
    - the methods of classes the framework calls into: views and view sets,
      serializers, forms, admin classes, filters, tables, middleware, management
      commands, marshmallow schemas, GraphQL types and Celery tasks, also through a
      base class of the project (`post_save_operations(self, form, obj)` of a view
      deriving from the project's generic view), and the hooks of standard-library
      classes (`default(self, obj)` of a `json.JSONEncoder`; their constructor stays
      checked);
    - functions decorated as views wherever they are defined: DRF's `@action` and
      `@api_view`, Django's view decorators (`@csrf_exempt`, `@login_required`,
      `@method_decorator(...)`) and Flask-Login's `@login_required`;
    - methods a base class of the project calls by a computed name (`prepare_<field>`
      found with `getattr(self, f"prepare_{name}")`), and the methods of metaclasses;
    - in Django models, managers and querysets, which the project calls, only the
      framework's hooks they override (`save(self, *args, **kwargs)`,
      `create_user(self, email, password=None)`); their other methods are API.

    FastAPI and Django Ninja handlers stay checked: those frameworks read each
    parameter's annotation to validate and document it, so an unannotated parameter
    is an untyped query parameter.

    ## Why is this bad?
    The boundaries between layers are where a type checker helps most: an unannotated
    parameter is `Any`, so callers in other modules can pass anything and mypy cannot
    tell them. Annotations are also the documentation a reader of a service needs first.

    ## Example
    ```python
    def create_user(name, email) -> User: ...
    ```

    Use instead:
    ```python
    def create_user(name: str, email: str) -> User: ...
    ```

    ## How to fix
    Annotate the parameters. With `allow-untyped-varargs`, `*args`/`**kwargs` may stay
    unannotated.

    Calibration. A signature used to give one finding per parameter, so a service
    with an untyped `db_session` in each function, or a view set, filled the report
    with repeats of one decision. A review of findings on backends the rule was not
    tuned on also showed that a reviewer does not want the framework-called methods of
    Django, DRF and Flask annotated: the framework documents their parameters, and
    the projects that annotate them are the exception.
    """

    code = "BL601"
    name = "missing-param-annotation"
    summary = "Parameters of a public function in a layer module have no type annotation."
    fix_text = "Annotate the parameters with the types callers must pass."
    severity = Severity.WARNING
    # Below the precision bar on code it was not tuned on (docs/precision.md): it runs
    # when selected by its code or name, or with `preview = true`.
    default_enabled = False
    preview = True
    tags = ("maintainability", "AP-PY08", "PQG-1")
    options = (
        *PublicApiRule.options,
        Option("allow-untyped-varargs", False, "Accept unannotated `*args` and `**kwargs`."),
    )
    invalid = (
        Example("def create_user(name, email) -> User: ...\n", expect=1),
        Example(
            "class UserRepository:\n    def get(self, uid) -> User: ...\n",
            path="app/users/repository.py",
        ),
        Example("def log(*args, **kwargs) -> None: ...\n", expect=1),
        # ``*args`` passed on, ``**kwargs`` read: only ``kwargs`` needs a type.
        Example(
            "def log(*args, **kwargs) -> None:\n    print(*args, sep=kwargs['sep'])\n",
            expect=1,
        ),
        # FastAPI reads the annotations: an unannotated parameter is an untyped query.
        Example(
            """
            from fastapi import APIRouter
            router = APIRouter()

            @router.get("/items")
            def list_items(q, limit=10) -> list[str]: ...
            """,
            path="app/items/routes.py",
            expect=1,
        ),
        # A Django model's own methods are API; its overridden hooks are not.
        Example(
            """
            from django.db import models

            class Order(models.Model):
                def mark_paid(self, when) -> None: ...
                def save(self, *args, **kwargs) -> None: ...
            """,
            path="app/orders/service.py",
            expect=1,
        ),
        # A project base class that is not a framework class.
        Example(
            "from app.base import Base\n"
            "class UserService(Base):\n    def register(self, email) -> None: ...\n",
            path="app/users/service.py",
            files=(("app/base.py", "class Base:\n    pass\n"),),
            expect=1,
        ),
    )
    valid = (
        "def _helper(x): ...\n",
        "def create_user(name: str, email: str) -> User: ...\n",
        "class S:\n    @classmethod\n    def make(cls) -> 'S': ...\n",
        "from typing import overload\n@overload\ndef parse(x: str) -> int: ...\n",
        "from typing import override\n"
        "class S(Base):\n    @override\n    def run(self, x) -> None: ...\n",
        Example("def helper(x): ...\n", path="app/utils.py"),
        Example("def test_it(client): ...\n", path="tests/services/test_x.py"),
        "__all__ = ['run']\ndef run(x: int) -> None: ...\ndef other(x): ...\n",
        "def mapper(source: str, **_) -> str: ...\n",
        "import json\nclass Encoder(json.JSONEncoder):\n    def default(self, obj): ...\n",
        # Signatures fixed elsewhere: an override that calls its parent, a protocol.
        "class TimezoneMixin:\n"
        "    def initial(self, request, *args, **kwargs) -> None:\n"
        "        super().initial(request, *args, **kwargs)\n"
        "    def __exit__(self, exc_type, exc_val, exc_tb) -> None: ...\n",
        # A hook the project's base class looks up by name, and a metaclass.
        Example(
            "from app.exporters.schemas.base import ExportSchema\n"
            "class IssueExportSchema(ExportSchema):\n"
            "    def prepare_labels(self, i): ...\n",
            path="app/exporters/schemas/issue.py",
            files=(
                (
                    "app/exporters/schemas/base.py",
                    "class Meta(type):\n"
                    "    def __new__(mcs, name, bases, attrs): ...\n"
                    "class ExportSchema(metaclass=Meta):\n"
                    "    def serialize(self, obj: object) -> None:\n"
                    "        for name in self.fields:\n"
                    "            preparer = getattr(self, f'prepare_{name}', None)\n",
                ),
            ),
        ),
        "class PaprikaMigrator(BaseMigrator):\n"
        "    def __init__(self, *args, **kwargs) -> None:\n"
        "        super().__init__(*args, **kwargs)\n",
        # The framework calls these and decides their arguments.
        Example(
            """
            from rest_framework import viewsets

            class OrderViewSet(viewsets.ModelViewSet):
                def partial_update(self, request, slug, pk=None): ...
                def perform_create(self, serializer): ...
            """,
            path="app/orders/views.py",
        ),
        Example(
            "from app.generic import ObjectEditView\n"
            "class ContactEdit(ObjectEditView):\n"
            "    def post_save_operations(self, form, obj): ...\n",
            path="app/contacts/views.py",
            files=(
                (
                    "app/generic.py",
                    "from django.views import View\nclass ObjectEditView(View):\n    pass\n",
                ),
            ),
        ),
        Example(
            """
            from flask import Blueprint
            bp = Blueprint("users", __name__)

            @bp.route("/users/<int:user_id>")
            def get_user(user_id): ...
            """,
            path="app/users/routes.py",
        ),
        Example(
            """
            from rest_framework.decorators import action

            class PathEndpointMixin:
                @action(detail=True, url_path="trace")
                def trace(self, request, pk): ...
            """,
            path="app/dcim/api/views.py",
        ),
        Example(
            "from rest_framework import serializers\n"
            "class OrderSerializer(serializers.ModelSerializer):\n"
            "    def validate_total(self, value): ...\n",
            path="app/orders/serializers.py",
        ),
    )

    def check_function(self, function: PublicFunction) -> None:
        if "override" in function.decorators:
            return
        node = function.node
        conditions = framework_conditions(self.ctx, function)
        if conditions is None:
            return  # the framework calls it and passes its arguments
        forwarded = _forwarded_varargs(node)
        missing = [
            param
            for param in self._checked_params(function)
            if param.annotation is None
            and not param.name.value.startswith("_")  # a dummy: ``**_``, ``_unused``
            and param.name.value not in forwarded
        ]
        if not missing:
            return
        names = [f"`{param.name.value}`" for param in missing]
        subject = "Parameter" if len(names) == 1 else "Parameters"
        verb = "has" if len(names) == 1 else "have"
        self.report(
            missing[0].name,
            f"{subject} {_listed(names)} of public function `{node.name.value}` "
            f"{verb} no type annotation",
            conditions=conditions,
        )

    def _checked_params(self, function: PublicFunction) -> list[cst.Param]:
        node = function.node
        params = [*node.params.posonly_params, *node.params.params]
        if function.is_method and params and "staticmethod" not in function.decorators:
            params = params[1:]
        params.extend(node.params.kwonly_params)
        if not self.option("allow-untyped-varargs"):
            for star in (node.params.star_arg, node.params.star_kwarg):
                if isinstance(star, cst.Param):  # not a bare ``*`` separator
                    params.append(star)
        return sorted(params, key=_source_order(node))


def _forwarded_varargs(node: cst.FunctionDef) -> frozenset[str]:
    """``*args``/``**kwargs`` the body passes on whole (``super().__init__(**kwargs)``):
    their types are those of the callee."""
    star_names = {
        param.name.value
        for param in (node.params.star_arg, node.params.star_kwarg)
        if isinstance(param, cst.Param)
    }
    if not star_names:
        return frozenset()
    forwarded = {
        node.value.value
        for node in iter_descendants(node.body)
        if isinstance(node, cst.Arg) and node.star and isinstance(node.value, cst.Name)
    }
    return frozenset(star_names & forwarded)


def _source_order(node: cst.FunctionDef) -> Callable[[cst.Param], int]:
    """Parameters in the order the signature writes them (``*args`` before keyword-only)."""
    written = [
        *node.params.posonly_params,
        *node.params.params,
        node.params.star_arg,
        *node.params.kwonly_params,
        node.params.star_kwarg,
    ]
    order = {id(param): index for index, param in enumerate(written)}
    return lambda param: order.get(id(param), len(order))


def _listed(names: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]
