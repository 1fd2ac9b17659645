from __future__ import annotations

import libcst as cst

from backlint.diagnostics import Severity
from backlint.rules.annotations.public_api import PublicApiRule, PublicFunction
from backlint.rules.annotations.return_inference import return_fix
from backlint.rules.base import Example, Option

# Route decorators that declare what a handler returns: FastAPI's ``response_model=`` and
# Django Ninja's ``response=``. Such a handler's return type is written down already (and
# FastAPI would read a return annotation as a second, possibly different, response model).
_RESPONSE_KEYWORDS = frozenset({"response_model", "response"})


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
    any of its parameters is annotated (mypy then checks it anyway). The same exemptions
    as BL601 apply: private names, `__all__`, nested functions, `@overload`,
    `@abstractmethod`, stubs and test code.

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
    """

    code = "BL602"
    name = "missing-return-annotation"
    summary = "A public function in a layer module has no return annotation."
    fix_text = "Add the return type (`-> None` if the function returns nothing)."
    severity = Severity.WARNING
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
    tags = ("maintainability", "AP-PY08")
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
    )

    def check_function(self, function: PublicFunction) -> None:
        node = function.node
        if node.returns is not None or _declares_response(node):
            return
        if node.name.value == "__init__":
            params = (*node.params.params, *node.params.kwonly_params, *node.params.posonly_params)
            if any(param.annotation is not None for param in params):
                return
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
            node.name, f"Public function `{node.name.value}` has no return annotation", fix=fix
        )
