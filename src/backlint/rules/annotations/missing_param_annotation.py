from __future__ import annotations

import libcst as cst

from backlint.diagnostics import Severity
from backlint.rules.annotations.public_api import PublicApiRule, PublicFunction
from backlint.rules.base import Example, Option


class MissingParamAnnotation(PublicApiRule):
    """
    ## What it does
    Flags a parameter without a type annotation on a public function or method of a
    layer module (routes, service, domain, repository, schemas files; see file roles).
    The first `self`/`cls` of a method is exempt, and so are private names
    (`_helper`, `_Private.method`, `_internal/` modules), functions not in a module's
    `__all__` when it has one, nested functions, `@overload`, `@abstractmethod` and
    `@override` methods, functions typed with a PEP 484 signature comment
    (`# type: (int) -> None`), stubs (`.pyi`) and test code.

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
    Annotate the parameter. With `allow-untyped-varargs`, `*args`/`**kwargs` may stay
    unannotated.
    """

    code = "BL601"
    name = "missing-param-annotation"
    summary = "A parameter of a public function in a layer module has no type annotation."
    fix_text = "Annotate the parameter with the type callers must pass."
    severity = Severity.WARNING
    tags = ("maintainability", "AP-PY08")
    options = (
        *PublicApiRule.options,
        Option("allow-untyped-varargs", False, "Accept unannotated `*args` and `**kwargs`."),
    )
    invalid = (
        Example("def create_user(name, email) -> User: ...\n", expect=2),
        Example(
            "class UserRepository:\n    def get(self, uid) -> User: ...\n",
            path="app/users/repository.py",
        ),
        Example("def log(*args, **kwargs) -> None: ...\n", expect=2),
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
    )

    def check_function(self, function: PublicFunction) -> None:
        if "override" in function.decorators:
            return
        node = function.node
        params = [*node.params.posonly_params, *node.params.params]
        if function.is_method and params and "staticmethod" not in function.decorators:
            params = params[1:]
        params.extend(node.params.kwonly_params)
        allow_varargs = bool(self.option("allow-untyped-varargs"))
        if not allow_varargs:
            for star in (node.params.star_arg, node.params.star_kwarg):
                if isinstance(star, cst.Param):  # not a bare ``*`` separator
                    params.append(star)
        for param in params:
            if param.annotation is None:
                self.report(
                    param.name,
                    f"Parameter `{param.name.value}` of public function "
                    f"`{node.name.value}` has no type annotation",
                )
