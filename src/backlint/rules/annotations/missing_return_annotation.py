from __future__ import annotations

import libcst as cst

from backlint.diagnostics import Severity
from backlint.rules.annotations.framework import framework_conditions, is_cli_command
from backlint.rules.annotations.public_api import PublicApiRule, PublicFunction
from backlint.rules.annotations.return_inference import return_fix
from backlint.rules.base import Example, Option

# Route decorators that declare what a handler returns: FastAPI's ``response_model=`` and
# Django Ninja's ``response=``. Such a handler's return type is written down already (and
# FastAPI would read a return annotation as a second, possibly different, response model).
_RESPONSE_KEYWORDS = frozenset({"response_model", "response"})


def _has_annotated_param(node: cst.FunctionDef) -> bool:
    """Any annotated parameter, ``*args: Any`` and ``**kwargs: Any`` included."""
    params = node.params
    written = (
        *params.posonly_params,
        *params.params,
        *params.kwonly_params,
        params.star_arg,
        params.star_kwarg,
    )
    return any(isinstance(param, cst.Param) and param.annotation is not None for param in written)


def _declares_response(node: cst.FunctionDef) -> bool:
    return any(
        isinstance(decorator.decorator, cst.Call)
        and any(
            arg.keyword is not None and arg.keyword.value in _RESPONSE_KEYWORDS
            for arg in decorator.decorator.args
        )
        for decorator in node.decorators
    )


class MissingReturnAnnotation(PublicApiRule):
    """
    ## What it does
    Flags a public function or method of a layer module (routes, service, domain,
    repository, schemas files) without a return annotation. `__init__` is skipped when
    any of its parameters is annotated, `*args: Any` and `**kwargs: Any` included (mypy
    then checks it anyway, and a constructor can only return `None`). The same
    exemptions as BL601 apply: private names, `__all__`, nested functions, `@overload`,
    `@abstractmethod`, stubs and test code.

    Functions a framework calls are left alone, because the framework, not the
    project, consumes what they return, and the project that annotates them is the
    exception. They are the ones whose signature BL601 leaves alone, found by the same
    code:
    - route handlers of Django, Django REST framework and Flask, and functions decorated
      as views (DRF's `@action` and `@api_view`, Django's view decorators, Flask-Login's
      `@login_required`);
    - the methods of classes the framework calls into: class-based views and their
      hooks (`get_success_url`, `get_context_data`, `get`, `post`, `dispatch`), view
      sets, serializers (`get_<field>` of a method field), forms, admin classes,
      syndication feeds (`link(self, obj)`), Flask-RESTful resources (their `__init__`
      and `options` too), middleware, management commands, marshmallow schemas and
      validators, also through a base class of the project, and the hooks of
      standard-library classes (`default` of a `json.JSONEncoder`);
    - the hooks a Django model, manager or queryset overrides (`save`, `delete`,
      `get_queryset`); the model's own methods stay checked;
    - dunder methods of a data-model protocol (`__str__`, `__exit__`), overrides that
      hand the call on to `super().<same name>(...)`, methods a project base class
      calls by a computed name, and the methods of metaclasses;
    - commands of click and typer (`@click.command()`, `@click.option(...)`,
      `@cli.command()` of a group, `@app.command()` of a typer app): the command-line
      framework calls them and ignores what they return.

    A function that only looks like a Django view (`def health(request)` in a views
    file) is one only if the project uses Django or a `urls.py` routes to it; otherwise
    it stays checked. FastAPI and Django Ninja handlers stay checked too.

    ## Why is this bad?
    Without a return type, every caller gets `Any` back and type errors travel silently
    across layers; mypy does not even check the body of a completely unannotated
    function. For FastAPI routes the return annotation is also the response model.

    ## Example
    ```python
    class UserRepository:
        def get(self, user_id: int):
            ...
    ```

    Use instead:
    ```python
    class UserRepository:
        def get(self, user_id: int) -> User | None:
            ...
    ```

    A route whose decorator declares the response (`response_model=` in FastAPI,
    `response=` in Django Ninja) is not flagged: its return type is written down there.

    ## How to fix
    Add the return type; `-> None` for functions that return nothing. Adding it can
    surface new mypy errors, because mypy starts checking the body of an annotated
    function; runtime behaviour does not change.

    The automatic fix adds `-> None` and is **safe** when nothing else can come back:
    no `return <value>`, no `yield`, not a `...` stub, a body that does not just raise,
    and no decorator that might read annotations at run time (only `staticmethod`,
    `classmethod`, `property` and its setters, `functools` caches and `override` are
    known not to; add yours with the `safe-decorators` option). With any other decorator,
    or on a route handler (FastAPI reads the
    return annotation as the response model), `-> None` is offered as an **unsafe** fix.
    A function that only returns literals of one type (`return True` / `return False`)
    is offered that type, unsafe too. Anything else gets no automatic fix.

    Calibration. A review of findings on backends the rule was not tuned on counted
    the return annotations of framework-called methods (Django view hooks, `save`
    overrides, DRF actions, Flask views and resources, click commands) as ceremony,
    not a problem: they are now left alone, as BL601 leaves their parameters.
    """

    code = "BL602"
    name = "missing-return-annotation"
    summary = "A public function in a layer module has no return annotation."
    fix_text = "Add the return type (`-> None` if the function returns nothing)."
    severity = Severity.WARNING
    # Below the precision bar on code it was not tuned on (docs/precision.md): it runs
    # when selected by its code or name, or with `preview = true`.
    default_enabled = False
    preview = True
    autofix = "safe or unsafe"
    options = (
        *PublicApiRule.options,
        Option(
            "safe-decorators",
            (),
            "Decorators known not to read annotations at run time (qualified names such "
            "as `app.metrics.timed`): under them `-> None` stays a safe fix.",
        ),
    )
    tags = ("maintainability", "AP-PY08", "PQG-1")
    invalid = (
        Example(
            "class UserRepository:\n    def get(self, uid: int): ...\n",
            path="app/users/repository.py",
        ),
        Example(
            "def notify(user: User):\n    mailer.send(user.email)\n",
            fixed="def notify(user: User) -> None:\n    mailer.send(user.email)\n",
        ),
        Example(
            "class Service:\n    def __init__(self, repo):\n        self.repo = repo\n",
            fixed=(
                "class Service:\n    def __init__(self, repo) -> None:\n        self.repo = repo\n"
            ),
        ),
        Example(
            "def is_open(order: Order):\n    if order.closed:\n        return False\n"
            "    return True\n",
            fixed="def is_open(order: Order) -> bool:\n    if order.closed:\n        return False\n"
            "    return True\n",
        ),
        # A Django model's own methods are the project's API; its overridden hooks are not.
        Example(
            """
            from django.db import models

            class Order(models.Model):
                def total(self):
                    return sum(line.price for line in self.lines.all())

                def save(self, *args, **kwargs):
                    super().save(*args, **kwargs)
            """,
            path="app/orders/service.py",
            expect=1,
        ),
        # ``def health(request)`` looks like a Django view, but the project has no Django.
        Example(
            "def health(request):\n    return {'ok': True}\n",
            path="app/status/routes.py",
            files=(("app/main.py", "from fastapi import FastAPI\napp = FastAPI()\n"),),
        ),
        # A module that uses click, but a function that is not a command.
        Example(
            "import click\n\ndef parse_names(value: str):\n    return value.split(',')\n",
            path="app/users/service.py",
        ),
    )
    valid = (
        "def _helper(x): ...\n",
        "from typing import overload\n@overload\ndef parse(x: str) -> int: ...\n",
        "from abc import ABC, abstractmethod\nclass Base(ABC):\n    @abstractmethod\n"
        "    def run(self, x: int): ...\n",
        "class Service:\n    def __init__(self, repo: Repo):\n        self.repo = repo\n",
        Example("def handler(x): ...\n", path="app/handlers.py"),
        Example(
            "@router.get('/items', response_model=list[Item])\n"
            "def list_items(q: str):\n    return repo.all(q)\n",
            path="app/routes/items.py",
        ),
        "def notify(user):  # type: (User) -> None\n    mailer.send(user.email)\n",
        Example(
            "from django.test import TestCase\nclass ViewTests(TestCase):\n"
            "    def test_list(self): ...\n",
            path="app/views.py",
        ),
        Example("def assert_ok(response): ...\n", path="app/utilities/testing/views.py"),
        Example("def f(x): ...\n", path="app/services/api.pyi"),
        # Annotated ``*args``/``**kwargs`` make an annotated constructor too.
        "from typing import Any\nclass Service(Base):\n"
        "    def __init__(self, *args: Any, **kwargs: Any):\n"
        "        super().__init__(*args, **kwargs)\n",
        # Framework-called methods: the framework consumes what they return.
        Example(
            """
            from django.views.generic import UpdateView

            class OrderUpdate(UpdateView):
                def get_success_url(self):
                    return reverse("orders:detail", args=[self.object.pk])

                def get_context_data(self, **kwargs):
                    return {**super().get_context_data(**kwargs), "tab": "edit"}
            """,
            path="app/orders/views.py",
        ),
        Example(
            """
            from django.contrib.syndication.views import Feed

            class LatestOrders(Feed):
                def link(self, obj):
                    return obj.get_absolute_url()
            """,
            path="app/orders/views.py",
        ),
        Example(
            """
            from rest_framework import serializers
            from rest_framework.decorators import action

            class OrderSerializer(serializers.ModelSerializer):
                def get_total(self, obj):
                    return obj.total

            class PathEndpointMixin:
                @action(detail=True, url_path="trace")
                def trace(self, request, pk):
                    return Response(self.get_object().trace())
            """,
            path="app/orders/views.py",
        ),
        Example(
            """
            from flask import Blueprint
            from flask_restful import Resource

            bp = Blueprint("users", __name__)

            @bp.route("/users/<int:user_id>")
            def get_user(user_id: int):
                return render_template("user.html", user=users.get(user_id))

            class UserList(Resource):
                def __init__(self):
                    self.users = UserRepository()

                def get(self):
                    return [user.to_dict() for user in self.users.all()]

                def options(self):
                    return {}
            """,
            path="app/users/routes.py",
        ),
        # Commands of click and typer: the command-line framework calls them.
        Example(
            """
            import click
            import typer

            app = typer.Typer()

            @click.group()
            def cli():
                pass

            @cli.command()
            @click.option("--name")
            def create_user(name):
                click.echo(name)

            @app.command()
            def sync(full: bool = False):
                run_sync(full)
            """,
            path="app/api.py",
        ),
    )

    def check_function(self, function: PublicFunction) -> None:
        node = function.node
        if node.returns is not None or _declares_response(node):
            return
        if node.name.value == "__init__" and _has_annotated_param(node):
            return  # mypy checks the constructor already, and it can only return None
        if is_cli_command(self.ctx, node):
            return  # click and typer call it and ignore what it returns
        conditions = framework_conditions(self.ctx, function)
        if conditions is None:
            return  # the framework calls it and consumes what it returns
        offered = return_fix(
            node,
            self.ctx.names,
            routed=id(node) in self.ctx.handlers,
            safe_decorators=frozenset(self.str_list_option("safe-decorators")),
        )
        fix = None
        if offered is not None:
            annotation = f" -> {offered.annotation}"
            fix = self.fix(
                f"Add `{annotation.strip()}`",
                self.replace(node.whitespace_before_colon, annotation),
                applicability=offered.applicability,
            )
        self.report(
            node.name,
            f"Public function `{node.name.value}` has no return annotation",
            fix=fix,
            conditions=conditions,
        )
