"""BL601 missing-param-annotation (and BL602 where they share code) beyond the examples:
one finding per function, where it is placed, and which framework-called functions are
left alone across modules."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import rule_findings, write_files


def test_one_finding_per_function_naming_every_parameter(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "app/orders/service.py": """
                def update(*, db_session, order_id: int, order_in, notify=True) -> None:
                    ...

                def get(*, db_session) -> None:
                    ...
            """,
        },
    )
    found = rule_findings(tmp_path, "BL601")
    assert [(d.span.start.line, d.span.start.column) for d in found] == [(1, 15), (4, 12)]
    assert found[0].message == (
        "Parameters `db_session`, `order_in` and `notify` of public function `update` "
        "have no type annotation"
    )
    assert found[1].message == (
        "Parameter `db_session` of public function `get` has no type annotation"
    )


# A project base view (a framework class by inheritance) and a plain project class.
PROJECT_BASES = """
    from django.views import View

    class ObjectEditView(View):
        pass

    class Helper:
        pass
"""


def test_framework_classes_are_recognised_through_project_bases(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "app/core/generic.py": PROJECT_BASES,
            "app/contacts/views.py": """
                from app.core.generic import Helper, ObjectEditView

                class ContactEdit(ObjectEditView):
                    def post_save_operations(self, form, obj):
                        ...

                class ContactExport(Helper):
                    def rows(self, queryset):
                        ...
            """,
        },
    )
    found = rule_findings(tmp_path, "BL601")
    assert [(d.path, d.span.start.line) for d in found] == [("app/contacts/views.py", 8)]


def test_django_model_hooks_are_fixed_but_own_methods_are_api(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "app/orders/service.py": """
                from django.db import models

                class OrderManager(models.Manager):
                    def create_user(self, email, password=None):
                        ...

                    def overdue(self, days):
                        ...
            """,
        },
    )
    found = rule_findings(tmp_path, "BL601")
    assert [d.message.split(" of ")[0] for d in found] == ["Parameter `days`"]


def test_return_annotation_follows_the_same_framework_bases(tmp_path: Path) -> None:
    """BL602 leaves alone what BL601 does: the hooks of a view deriving from a project
    base view; the methods of a project class that is no framework class stay checked."""
    write_files(
        tmp_path,
        {
            "app/core/generic.py": PROJECT_BASES,
            "app/contacts/views.py": """
                from app.core.generic import Helper, ObjectEditView

                class ContactEdit(ObjectEditView):
                    def get_success_url(self):
                        return "/contacts/"

                class ContactExport(Helper):
                    def rows(self, queryset: list[str]):
                        return list(queryset)
            """,
        },
    )
    found = rule_findings(tmp_path, "BL602")
    assert [(d.path, d.span.start.line) for d in found] == [("app/contacts/views.py", 8)]


def test_a_request_function_is_a_view_only_in_a_django_project(tmp_path: Path) -> None:
    view = """
        def health(request):
            return {"ok": True}
    """
    write_files(tmp_path / "plain", {"app/status/routes.py": view})
    write_files(
        tmp_path / "django",
        {
            "app/status/routes.py": view,
            "app/settings.py": "from django.conf import global_settings\n",
        },
    )
    for code in ("BL601", "BL602"):
        assert [d.path for d in rule_findings(tmp_path / "plain", code)] == ["app/status/routes.py"]
        assert rule_findings(tmp_path / "django", code) == []
