"""BL311/BL312 beyond the rule examples: messages, seams, scope, options and roles."""

from __future__ import annotations

import textwrap
from pathlib import Path

from backlint.application import CheckRequest, run_check

CODES = ("BL311", "BL312")


def _check(tmp_path: Path, files: dict[str, str], config: str = "") -> list[tuple[int, str, str]]:
    if config:
        (tmp_path / "pyproject.toml").write_text(config, encoding="utf-8")
    for relative, source in files.items():
        target = tmp_path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(source).lstrip("\n"), encoding="utf-8")
    result = run_check(CheckRequest(paths=(tmp_path,), cwd=tmp_path, extend_select=CODES, jobs=1))
    assert not result.internal_errors, result.internal_errors
    return [(d.span.start.line, d.code, d.message) for d in result.diagnostics if d.code in CODES]


def test_message_names_the_call_and_the_function(tmp_path: Path) -> None:
    found = _check(
        tmp_path,
        {
            "app/services/orders.py": """
            import requests
            from datetime import UTC, datetime
            def place(cmd):
                return requests.post("https://pay.example.com", json=cmd)
            class OrderService:
                def expire(self, o):
                    o.expired = o.deadline < datetime.now(UTC)
            """
        },
    )
    assert found == [
        (
            4,
            "BL311",
            "`requests.post` called inside service function `place`: an implicit I/O "
            "dependency; inject an HTTP client",
        ),
        (
            7,
            "BL312",
            "`datetime.now` called inside service method `OrderService.expire`: an implicit "
            "clock; inject a `Clock` or pass the time in",
        ),
    ]


def test_environment_reads_name_the_variable(tmp_path: Path) -> None:
    found = _check(
        tmp_path,
        {
            "app/services/mail.py": """
            import os
            def send():
                os.environ["DEBUG"] = "1"
                return os.environ["SMTP_HOST"], os.getenv("SMTP_PORT")
            """
        },
    )
    assert [message.split(" ")[0] for _, _, message in found] == [
        '`os.environ["SMTP_HOST"]`',
        '`os.getenv("SMTP_PORT")`',
    ]


def test_seams_need_the_parameter_itself(tmp_path: Path) -> None:
    found = _check(
        tmp_path,
        {
            "app/services/seats.py": """
            import httpx
            from datetime import datetime
            def claim(seat, now=None, http=None):
                now = now or datetime.now()
                http = http if http is not None else httpx.Client()
                if seat.claimed_at is None:
                    seat.claimed_at = datetime.now() + GRACE
                if not seat.filters:
                    window = datetime.now() - HOUR
                return seat.expires_at < now
            class Cache:
                def __init__(self, client=None):
                    if client is None:
                        self._client = httpx.Client()
                def lazy(self):
                    self._other = self._other or httpx.Client()
            """
        },
    )
    assert [(line, code) for line, code, _ in found] == [(7, "BL312"), (9, "BL312"), (16, "BL311")]


def test_providers_and_stopwatches_are_not_reported(tmp_path: Path) -> None:
    found = _check(
        tmp_path,
        {
            "app/domain/clock.py": """
            import time
            import httpx
            import requests
            from datetime import datetime, timezone
            from uuid import uuid4
            def utcnow() -> datetime:
                '''The current time in UTC.'''
                return datetime.now(timezone.utc)
            def new_id() -> str:
                return str(uuid4())
            def client():
                return httpx.Client()
            def rates():
                return requests.get("https://rates.example.com")
            def scrape(chunks):
                start = time.time()
                for chunk in chunks:
                    if time.time() - start > 15:
                        raise TimeoutError
            def overdue(task):
                return datetime.now() - task.due > 0
            """
        },
    )
    assert [(line, code) for line, code, _ in found] == [(14, "BL311"), (21, "BL312")]


def test_open_only_of_a_fixed_location(tmp_path: Path) -> None:
    found = _check(
        tmp_path,
        {
            "app/services/files.py": """
            from pathlib import Path
            from app.core.config import settings
            TEMPLATES = Path(__file__).parent / "templates"
            def given(path):
                return open(path).read()
            def computed(self, name):
                target = self.root / name
                return open(target).read()
            def bundled():
                return open(TEMPLATES / "mail.html").read()
            def literal():
                return open("rules.yaml").read()
            def configured():
                return open(settings.EXPORT_DIR / "orders.csv").read()
            """
        },
    )
    assert [line for line, _, _ in found] == [12, 14]


def test_scope_by_role_not_class_name(tmp_path: Path) -> None:
    source = """
    import requests
    class PaymentService:
        def pay(self):
            return requests.post("https://pay.example.com").json()
    def helper():
        return requests.get("https://example.com").json()
    """
    found = _check(
        tmp_path,
        {
            "app/payments/service.py": source,  # service: both
            "app/payments/gateway.py": source,  # no role: not even the *Service method
            "app/orders/repository.py": source,  # repository: never
            "app/main.py": source,  # composition root: never
            "tests/test_pay.py": source,  # test code: never
        },
    )
    assert [(line, code) for line, code, _ in found] == [(4, "BL311"), (6, "BL311")]


def test_models_py_depends_on_django(tmp_path: Path) -> None:
    model = """
    from datetime import datetime
    class Order:
        def is_late(self):
            return self.due < datetime.now()
    class OrderService:
        def overdue(self, o):
            return o.due < datetime.now()
    """
    plain = _check(tmp_path / "plain", {"shop/models.py": model})
    assert [line for line, _, _ in plain] == [4, 7]
    django = _check(
        tmp_path / "django",
        {"shop/models.py": model, "shop/apps.py": "from django.apps import AppConfig\n"},
    )
    # In a Django project models.py is a model file, whatever its classes are named.
    assert django == []


def test_options_extend_and_shrink_the_catalogs(tmp_path: Path) -> None:
    config = """
    [tool.backlint.options.implicit-io-dependency]
    io-calls = ["smtplib.SMTP"]
    allowed-calls = ["os.getenv"]
    infra-factories = ["open_connection"]
    [tool.backlint.options.implicit-clock-or-entropy]
    clock-calls = ["app.kit.utc_now"]
    allowed-calls = ["uuid.*"]
    """
    found = _check(
        tmp_path,
        {
            "app/services/mail.py": """
            import os
            import smtplib
            import uuid
            from app.db import get_db, open_connection
            from app.kit import utc_now
            def send(msg):
                with smtplib.SMTP(os.getenv("SMTP_HOST")) as smtp:
                    smtp.send_message(msg)
                open_connection().execute(get_db())
                if uuid.uuid4().int % 2 and utc_now() > msg.deadline:
                    return msg
            """
        },
        textwrap.dedent(config),
    )
    assert [(line, code, message.split(" ")[0]) for line, code, message in found] == [
        (7, "BL311", "`smtplib.SMTP`"),
        (9, "BL311", "`open_connection`"),
        (10, "BL312", "`app.kit.utc_now`"),
    ]


def test_depends_and_defaults_are_injection(tmp_path: Path) -> None:
    found = _check(
        tmp_path,
        {
            "app/services/users.py": """
            from datetime import datetime
            from fastapi import Depends
            from app.db import get_db
            def list_users(db=Depends(get_db), now=datetime.now()):
                extra = Depends(lambda: get_db())
                return db, now, extra
            """
        },
    )
    assert found == []


def test_only_values_that_decide_are_clock_dependencies(tmp_path: Path) -> None:
    found = _check(
        tmp_path,
        {
            "app/services/windows.py": """
            import random
            import time
            import uuid
            from datetime import datetime, timedelta
            def decide(orders, grace):
                late = [o for o in orders if o.due < datetime.now()]
                first = max(datetime.now(), grace)
                while time.time() < grace:
                    pass
                if (now := datetime.now()) > grace:
                    return now
                last_ran = end = datetime.now()
                return filter(lambda o: o.at > end, orders), late, first
            def record(order, repo):
                order.code = random.randint(1000, 9999)
                order.slug = f"{datetime.now():%Y}-{uuid.uuid4().hex[:6]}"
                order.name = "export-" + datetime.now().strftime("%Y%m%d")
                repo.purge(before=datetime.now() - timedelta(days=1))
                repo.purge_before(datetime.now())
                stamp = datetime.now()
                order.events.append(stamp)
                return -time.time()
            """
        },
    )
    assert [(line, code) for line, code, _ in found] == [
        (6, "BL312"),
        (7, "BL312"),
        (8, "BL312"),
        (10, "BL312"),
        (12, "BL312"),
        (18, "BL312"),
        (22, "BL312"),
    ]


def test_ports_are_found_through_project_bases(tmp_path: Path) -> None:
    found = _check(
        tmp_path,
        {
            "app/ports.py": """
            from typing import Protocol
            class Mailer(Protocol):
                def send(self, msg) -> None: ...
            """,
            "app/base.py": """
            from app.ports import Mailer
            class BaseMailer(Mailer):
                pass
            class Plain:
                pass
            """,
            "app/services/mail.py": """
            import requests
            from app.base import BaseMailer, Plain
            class HttpMailer(BaseMailer):
                def send(self, msg):
                    requests.post("https://mail.example.com", json=msg)
            class Reports(Plain):
                def send(self, msg):
                    requests.post("https://reports.example.com", json=msg)
            """,
        },
    )
    assert [(line, code) for line, code, _ in found] == [(8, "BL311")]


def test_durations_that_are_only_reported_are_not_decisions(tmp_path: Path) -> None:
    found = _check(
        tmp_path,
        {
            "app/services/jobs.py": """
            import logging
            import time
            from datetime import datetime
            log = logging.getLogger(__name__)
            def finish(job, span):
                log.info("took %s", time.time() - job.started)
                elapsed = datetime.now() - job.started_at
                log.info(f"done in {elapsed}")
                span.set_attribute("seconds", (datetime.now() - job.started_at).total_seconds())
                job.duration = datetime.now() - job.started_at
                if datetime.now() - job.started_at > job.timeout:
                    job.fail()
            """
        },
    )
    assert [(line, code) for line, code, _ in found] == [(10, "BL312"), (11, "BL312")]
