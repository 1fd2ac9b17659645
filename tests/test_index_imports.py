"""What the index learns from a file's imports: their kinds, and the names they bind."""

from __future__ import annotations

import textwrap

import libcst as cst

from backlint.index.collect import Collected, collect
from backlint.index.facts import ImportKind


def _collect(source: str, module: str = "app.x", is_package: bool = False) -> Collected:
    return collect(cst.parse_module(textwrap.dedent(source)), module, is_package)


def test_an_import_inside_a_function_binds_no_module_level_name() -> None:
    collected = _collect(
        """
        import os

        def draw():
            from app.models import Feed
        """
    )
    # Other modules cannot import `Feed` from here: it is local to `draw`.
    assert [(b.name, b.shape) for b in collected.bindings] == [("os", "import")]
    # Inside the file the name still resolves, for the rules that read function bodies.
    assert collected.table is not None
    assert collected.table.qualify("Feed") == "app.models.Feed"


def test_type_checking_through_an_alias_of_typing() -> None:
    collected = _collect(
        """
        import typing as t
        from typing import TYPE_CHECKING as CHECKING
        if t.TYPE_CHECKING:
            import app.a
        if CHECKING:
            import app.b
        if not t.TYPE_CHECKING:
            import app.c
        """
    )
    kinds = {raw.module: raw.kind for raw in collected.imports}
    assert kinds["app.a"] is ImportKind.TYPE_CHECKING
    assert kinds["app.b"] is ImportKind.TYPE_CHECKING
    assert kinds["app.c"] is ImportKind.RUNTIME


def test_imports_after_a_definition_are_late() -> None:
    collected = _collect(
        """
        from flask import Blueprint
        bp = Blueprint("admin", __name__)
        from app.admin import users
        def later():
            from app.admin import teams
        """,
        module="app.admin",
        is_package=True,
    )
    late = {(raw.module, raw.name): raw.late for raw in collected.imports}
    assert late == {
        ("flask", "Blueprint"): False,
        ("app.admin", "users"): True,
        ("app.admin", "teams"): False,  # deferred, not a module-level import
    }


def test_class_decorators_are_recorded_qualified() -> None:
    collected = _collect(
        """
        import strawberry
        from strawberry_django import type as django_type

        @strawberry.type
        class Site: ...

        @django_type(model=None)
        class Region: ...
        """
    )
    assert {c.name: c.decorators for c in collected.classes} == {
        "Site": ("strawberry.type",),
        "Region": ("strawberry_django.type",),
    }
