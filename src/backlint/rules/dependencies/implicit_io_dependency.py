from __future__ import annotations

import libcst as cst

from backlint.diagnostics import Severity
from backlint.engine.context import FileContext
from backlint.index.names import dotted_name
from backlint.rules.base import Example, Option
from backlint.rules.dependencies.adapters import ADAPTER_PATHS_OPTION, hands_out, is_job
from backlint.rules.dependencies.implicit_calls import (
    CLIENT_FACTORIES,
    DEFAULT_INFRA_FACTORIES,
    ENV_ADVICE,
    ENVIRON,
    IO_CATALOG,
    OPENERS,
    RECEIVER_NAMES,
    SESSION_ADVICE,
    ImplicitCallRule,
    Place,
    free_names,
    matches,
    shown_name,
    string_value,
)

_ENV_READERS = frozenset({"os.getenv", "os.environ.get"})
_ADDRESS_KEYWORDS = frozenset(
    {"url", "host", "base_url", "endpoint_url", "dsn", "connection_string", "conninfo"}
)


class ImplicitIoDependency(ImplicitCallRule):
    """
    ## What it does
    Flags infrastructure that service or domain code reaches for itself instead of
    receiving it: an HTTP call (`requests.*`, `httpx.*`, `httpx.Client()`,
    `urllib.request.urlopen`), a client it builds (`boto3.client`/`resource`,
    `redis.Redis()`, `sqlalchemy.create_engine`), a setting it reads from the environment
    (`os.environ[...]`, `os.environ.get`, `os.getenv`), a file it opens (`open`), or a
    database session it fetches from a global factory (`get_db`, `get_db_session`,
    `SessionLocal`, `get_session`).

    It looks at functions in `service` and `domain` files, except in `composition_root`
    and `repository` files (whose job is exactly this) and in test code. A class named
    `*Service` elsewhere is not in scope for its name alone: outside service modules that
    name is as often an API client (`StripeService`) as a business service.

    ## Why is this bad?
    The dependency is invisible in the signature. Tests can only replace it with
    `mock.patch` on a module path, which breaks when the import moves; swapping the HTTP
    library, the bucket or the database means finding every call site; and the service
    cannot run against a fake, a second tenant or a read replica without editing it.

    ## Example
    ```python
    # app/services/orders.py
    def place(cmd):
        return requests.post(PAYMENTS_URL, json=cmd)

    class OrderService:
        def save(self, order):
            get_db_session().add(order)
    ```

    Use instead:
    ```python
    class OrderService:
        def __init__(self, http: requests.Session, session: Session) -> None:
            self._http = http
            self._session = session

        def place(self, cmd):
            return self._http.post(PAYMENTS_URL, json=cmd)
    ```

    ## How to fix
    Take the client, session or setting as a constructor or function parameter and build
    it in the composition root (`main.py`, `deps.py`, a FastAPI `Depends()` provider).
    Calls on parameters and injected attributes (`self._http.get`) are never flagged,
    whatever their type. A parameter with a fallback is accepted as a seam:
    `http = http or httpx.Client()`, `http if http is not None else httpx.Client()` and
    `if http is None: http = httpx.Client()` (or `self._http = ...`). Arguments of
    `Depends(...)`, parameter defaults, annotations and decorators are not looked at.

    ## What it leaves alone
    The seam itself, where building clients and reading settings is the job:

    - adapters: files under the `adapter-paths` globs (`**/adapters/**`,
      `**/infrastructure/**`, `**/integrations/**`, `**/plugins/**`, `**/clients/**`,
      `**/gateways/**`, `*_client.py`, ...), and methods of a class that implements a
      port: it derives from a `Protocol` or an `ABC` (through project base classes too),
      or defines every method of a `Protocol` declared in the same file; and classes
      named as adapters (`*Client`, `*Adapter`, `*Gateway`, `*Backend`, `*Transport`,
      `*Connector`, `*Driver`, `*Repository`);
    - factories: a function that returns or yields the client it builds, whatever its
      parameters and decorators (`def get_client(): return httpx.Client()`, a
      `@cached_property` or `@classmethod` returning it, an `@asynccontextmanager`
      yielding it, a lazy getter storing it on `self` and returning it);
    - background jobs: a function decorated `@shared_task`, `@celery_app.task`,
      `@dramatiq.actor`, ... is an entry point, where a unit of work gets its session
      and clients, as a route handler does;
    - a client pointed where the caller says: `create_engine(dsn)`,
      `httpx.Client(base_url=base_url)` with `dsn`/`base_url` parameters (the caller can
      point it at a test double).

    ## Calibration
    Tuned on mealie, Netflix dispatch, polar, saleor, netbox, redash, plane, CTFd and the
    FastAPI template:

    - `open` is flagged only when the location is fixed by the code or by global
      configuration (`open("rules.yaml")`, `open(settings.EXPORT_DIR / "x.csv")`). A path
      the caller handed in or the function computed (`open(path)`,
      `open(self.root / name)`) is a visible input, and a file shipped with the code (a
      path built from `__file__`, also through a module constant) is part of the code.
      On mealie this removed 17 findings on migration importers and image writers that
      read the file they were given.
    - A function that returns a new client is a factory, not a user of one; a function
      that only returns `requests.get(URL)` still does the I/O and is flagged.
    - Adapters, port implementations and factories were most of the findings on the
      tuning set (dispatch's `plugins/`, polar's `integrations/` and tax processors
      implementing `TaxServiceProtocol`, mealie's publishers next to `PublisherLike`).
    - The fallback seam needs the parameter itself: `if order.paid_at is None:
      order.paid_at = ...` records state and is not a seam.
    - Only calls inside functions count: module-level and class-body code runs once at
      import (global clients are BL301/BL302's business).
    - `infra-factories` match the last part of the called name only when its head is
      imported or defined at module level (`db.get_session()` with `db` imported), never
      a method of a local variable or of `self`.
    """

    code = "BL311"
    name = "implicit-io-dependency"
    summary = "Service or domain code calls infrastructure directly instead of receiving it."
    fix_text = (
        "Inject the client, session or setting as a constructor or parameter argument "
        "(e.g. an `HttpClient` port); wire it up in the composition root."
    )
    severity = Severity.WARNING
    # Below the precision bar on code it was not tuned on (docs/precision.md): it runs
    # when selected by its code or name, or with `preview = true`.
    default_enabled = False
    preview = True
    tags = ("architecture", "AP-PY07", "PQG-3")
    options = (
        Option(
            "infra-factories",
            DEFAULT_INFRA_FACTORIES,
            "Functions that hand out a database session or connection; matched by the "
            "last part of the called name (`db.get_session()` matches `get_session`).",
        ),
        Option(
            "io-calls",
            (),
            "More I/O calls to flag: fnmatch patterns over qualified names "
            "(`smtplib.SMTP`, `myapp.clients.*`).",
        ),
        Option(
            "allowed-calls",
            (),
            "Catalog calls to accept: fnmatch patterns over qualified names (`open`, `os.getenv`).",
        ),
        ADAPTER_PATHS_OPTION,
    )
    invalid = (
        Example(
            """
            import requests
            def place(cmd):
                return requests.post("https://pay.example.com", json=cmd)
            """,
            path="app/services/orders.py",
            expect=1,
        ),
        Example(
            """
            from app.db import get_db_session
            class OrderService:
                def save(self, o):
                    get_db_session().add(o)
            """,
            path="app/orders/service.py",
            expect=1,
        ),
        # A constructor that builds its own client, and a client built and used.
        Example(
            """
            import httpx
            from app.core.config import settings
            class PaymentService:
                def __init__(self) -> None:
                    self._http = httpx.Client(base_url=settings.PAYMENTS_URL)
            async def fetch_image(url):
                async with httpx.AsyncClient() as client:
                    return (await client.get(url)).content
            """,
            path="app/services/payments.py",
            expect=2,
        ),
        # A project base class that is no port: the project pass checks it.
        Example(
            """
            import requests
            from app.services.base import BaseService
            class WebhookService(BaseService):
                def send(self, url, body):
                    return requests.post(url, json=body)
            """,
            path="app/services/webhooks.py",
            files=(("app/services/base.py", "class BaseService:\n    pass\n"),),
            expect=1,
        ),
        Example(
            """
            import httpx
            def fetch(url):
                with httpx.Client() as client:
                    return client.get(url).json()
            """,
            path="app/services/feeds.py",
            expect=1,
        ),
        Example(
            """
            import os
            import boto3
            def upload(key, data):
                bucket = os.environ["BUCKET"]
                boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=data)
            """,
            path="app/domain/files.py",
            expect=2,
        ),
        Example(
            """
            import os
            from redis import Redis
            def cached(key):
                return Redis(host=os.getenv("REDIS_HOST")).get(key)
            """,
            path="app/service.py",
            expect=2,
        ),
        Example(
            """
            from sqlalchemy import create_engine
            from app.db import SessionLocal
            def report():
                engine = create_engine("sqlite://")
                with SessionLocal() as session:
                    return session.execute(q)
            """,
            path="app/services/reports.py",
            expect=2,
        ),
        Example(
            """
            from app.core.config import settings
            def load_rules():
                with open("rules.yaml") as f:
                    return f.read()
            def export(rows):
                with open(settings.EXPORT_DIR / "orders.csv", "w") as f:
                    f.writelines(rows)
            """,
            path="app/services/rules.py",
            expect=2,
        ),
        # Returning the response of an HTTP call is using it, not providing a client.
        Example(
            """
            import requests
            def current_rates():
                return requests.get("https://rates.example.com")
            """,
            path="app/services/rates.py",
            expect=1,
        ),
        # A models.py is domain code when the project does not use Django.
        Example(
            """
            import urllib.request
            class Feed:
                def refresh(self):
                    return urllib.request.urlopen(self.url).read()
            """,
            path="app/models.py",
            expect=1,
        ),
    )
    valid = (
        # Injected: a parameter or an attribute set from one.
        """
        import requests
        class BillingService:
            def __init__(self, http: requests.Session) -> None:
                self._http = http
            def charge(self, order):
                return self._http.post("/charges", json=order)
        """,
        """
        def place(cmd, http):
            return http.post("/orders", json=cmd)
        """,
        # Fallback seams.
        """
        import httpx
        def place(cmd, http=None):
            http = http or httpx.Client()
            return http.post("/orders", json=cmd)
        """,
        """
        from app.db import get_db_session
        def save(order, session=None):
            if session is None:
                session = get_db_session()
            session.add(order)
        """,
        """
        import redis
        class CacheService:
            def __init__(self, client=None):
                self._client = client if client is not None else redis.Redis()
        """,
        # Depends(...) and parameter defaults are the injection itself.
        """
        from fastapi import Depends
        from app.db import get_db
        def list_orders(db=Depends(get_db)):
            return db.query(Order).all()
        """,
        # Not in scope: composition root, repository, test code, import time.
        Example(
            """
            import os
            from sqlalchemy import create_engine
            def get_engine():
                return create_engine(os.environ["DATABASE_URL"])
            """,
            path="app/core/config.py",
        ),
        Example(
            """
            from app.db import SessionLocal
            class OrderService:
                def get(self, order_id):
                    return SessionLocal().get(Order, order_id)
            """,
            path="app/orders/repository.py",
        ),
        Example(
            """
            import requests
            def test_place():
                assert requests.get("http://localhost").ok
            """,
            path="tests/services/test_orders.py",
        ),
        """
        import os
        import boto3
        BUCKET = os.getenv("BUCKET", "uploads")
        class Uploads:
            region = os.environ.get("AWS_REGION")
        """,
        # A Django models.py is a model file, not domain code.
        Example(
            """
            import os
            from django.db import models
            class Attachment(models.Model):
                def read(self):
                    with open(self.path) as f:
                        return f.read()
            """,
            path="shop/models.py",
        ),
        # open() of a path the caller gave, or of a file shipped with the code.
        """
        from pathlib import Path
        TEMPLATES = Path(__file__).parent / "templates"
        def read_upload(path):
            with open(path) as f:
                return f.read()
        def render(name):
            with open(TEMPLATES / "mail.html") as f:
                return f.read().format(name=name)
        """,
        # A factory of a client is not a user of one.
        """
        import httpx
        def make_client():
            return httpx.Client(timeout=5)
        """,
        # A plain helper outside service/domain code, and a `*Service` class there.
        Example(
            """
            import requests
            def ping(url):
                return requests.get(url)
            class StatusService:
                def check(self):
                    return requests.get("https://status.example.com")
            """,
            path="app/utils/net.py",
        ),
        # Factories: whatever their parameters and decorators, they hand the client out.
        """
        import contextlib
        from functools import cached_property
        import boto3
        import httpx
        from sqlalchemy import create_engine
        def get_client(timeout: float) -> httpx.Client:
            client = httpx.Client(timeout=timeout)
            return client
        class Storage:
            @cached_property
            def s3(self):
                return boto3.client("s3")
            @classmethod
            def engine(cls):
                return create_engine("postgresql://db/app")
            @contextlib.asynccontextmanager
            async def plain_client(self):
                async with httpx.AsyncClient(timeout=10) as client:
                    yield client
            def http(self):
                if self._http is None:
                    self._http = httpx.Client()
                return self._http
        """,
        # A client pointed where the caller says.
        """
        from sqlalchemy import create_engine
        class Exporter:
            def __init__(self, connection_str: str) -> None:
                self.engine = create_engine(connection_str)
        """,
        # Adapters behind a port: by inheritance, structurally, through a project base.
        """
        from typing import Protocol
        import httpx
        import requests
        from app.tax.base import TaxServiceProtocol
        class PublisherLike(Protocol):
            def publish(self, event, urls): ...
        class WebhookPublisher:
            def publish(self, event, urls):
                for url in urls:
                    requests.post(url, json=event, timeout=15)
        class NumeralTaxService(TaxServiceProtocol):
            def __init__(self) -> None:
                self.client = httpx.AsyncClient(base_url="https://api.numeralhq.com")
        """,
        Example(
            """
            import requests
            from app.notify.base import Notifier
            class SlackNotifier(Notifier):
                def send(self, text):
                    requests.post(SLACK_URL, json={"text": text})
            """,
            path="app/notify/service.py",
            files=(
                (
                    "app/notify/base.py",
                    "from abc import ABC, abstractmethod\n\n"
                    "class Notifier(ABC):\n    @abstractmethod\n"
                    "    def send(self, text): ...\n",
                ),
            ),
        ),
        # A background job is an entry point.
        """
        from celery import shared_task
        from app.db import SessionLocal
        @shared_task
        def purge_exports():
            with SessionLocal() as session:
                session.execute(PURGE)
        """,
        # A class named as an adapter.
        """
        import boto3
        class S3StorageBackend:
            def __init__(self) -> None:
                self._s3 = boto3.client("s3")
        """,
        # Adapter locations.
        Example(
            """
            import requests
            def get_oncall(api_key, schedule):
                return requests.get(f"https://api.opsgenie.com/v2/schedules/{schedule}")
            """,
            path="app/plugins/opsgenie/service.py",
        ),
        Example(
            """
            import os
            import httpx
            class StripeService:
                def __init__(self) -> None:
                    self.http = httpx.Client(headers={"key": os.environ["STRIPE_KEY"]})
            """,
            path="app/integrations/stripe/service.py",
        ),
    )

    def begin_file(self, ctx: FileContext) -> None:
        super().begin_file(ctx)
        self._factories = frozenset(self.str_list_option("infra-factories"))
        self._extra = self.str_list_option("io-calls")
        self._allowed = self.str_list_option("allowed-calls")
        self._written: set[int] = set()  # ``os.environ[k] = v`` / ``del os.environ[k]``
        self._bundled_names: frozenset[str] | None = None

    def describe_call(self, node: cst.Call, qualified: str) -> tuple[str, str] | None:
        if self._allowed and matches(qualified, self._allowed):
            return None
        advice = IO_CATALOG.get(qualified)
        if advice is None and self._extra and matches(qualified, self._extra):
            advice = "inject it"
        shown = shown_name(node.func, qualified)
        if advice is None and self._is_infra_factory(node.func, qualified):
            advice = SESSION_ADVICE
            shown = dotted_name(node.func) or shown  # as written: a project's own name
        if advice is None:
            return None
        if qualified in _ENV_READERS and node.args:
            key = string_value(node.args[0].value)
            if key is not None:
                shown = f'{shown}("{key}")'
        return shown, f"an implicit I/O dependency; {advice}"

    def makes_provider(self, qualified: str) -> bool:
        # ``def get_client(): return httpx.Client()`` builds a client; a function that
        # only returns ``requests.get(URL)`` still does the I/O itself.
        return qualified in CLIENT_FACTORIES or self._is_factory_name(qualified)

    def accepts(self, node: cst.Call, qualified: str, place: Place) -> bool:
        if is_job(place.function):
            return False
        if self.makes_provider(qualified):
            # A factory hands the client out; a client pointed where the caller says
            # (``create_engine(dsn)``) can be pointed at a test double by that caller.
            return not (hands_out(place.function, node) or self._caller_configured(node))
        return qualified not in OPENERS or self._fixed_location(node)

    def _caller_configured(self, node: cst.Call) -> bool:
        """Whether the address a client connects to comes from the function's
        parameters: the first positional argument or a ``url=``/``host=``/... keyword."""
        target = next(
            (
                arg.value
                for arg in node.args
                if (arg.keyword is None and not arg.star)
                or (arg.keyword is not None and arg.keyword.value in _ADDRESS_KEYWORDS)
            ),
            None,
        )
        if target is None:
            return False
        names = free_names(target) - RECEIVER_NAMES
        return bool(names) and names <= self.params_in_scope()

    def _fixed_location(self, node: cst.Call) -> bool:
        """Whether ``open`` reads a place fixed by the code or global configuration
        (``open("rules.yaml")``, ``open(settings.EXPORT_DIR / "x.csv")``) rather than a
        path the caller handed in or the function computed (``open(path)``), or a file
        shipped with the code (a path built from ``__file__``)."""
        target = next(
            (arg.value for arg in node.args if arg.keyword is None or arg.keyword.value == "file"),
            None,
        )
        if target is None:
            return False
        names = free_names(target)
        if names & self._bundled():
            return False
        params = self.params_in_scope()
        return all(name not in params and self.ctx.names.qualify(name) != name for name in names)

    def _bundled(self) -> frozenset[str]:
        """``__file__`` and the module-level names built from it (``HERE = Path(__file__)``)."""
        if self._bundled_names is None:
            found = {"__file__"}
            for statement in self.ctx.tree.body:
                if not isinstance(statement, cst.SimpleStatementLine):
                    continue
                for small in statement.body:
                    if isinstance(small, cst.Assign) and free_names(small.value) & found:
                        for target in small.targets:
                            found |= free_names(target.target)
            self._bundled_names = frozenset(found)
        return self._bundled_names

    def _is_factory_name(self, qualified: str) -> bool:
        return qualified.rsplit(".", 1)[-1] in self._factories

    def _is_infra_factory(self, callee: cst.BaseExpression, qualified: str) -> bool:
        if not self._is_factory_name(qualified):
            return False
        # A bare name (``get_db()``) or a dotted name whose head is imported or defined at
        # module level; ``x.get_session()`` on a local ``x`` is not resolvable.
        return isinstance(callee, cst.Name) or self.resolves(callee)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._written.add(id(node.target))

    def visit_Del(self, node: cst.Del) -> None:
        self._written.add(id(node.target))

    def visit_Subscript(self, node: cst.Subscript) -> None:
        """``os.environ["KEY"]`` read (not written) inside service or domain code."""
        if id(node) in self._written or self.ctx.qualified_name(node.value) != ENVIRON:
            return
        if self._allowed and matches(ENVIRON, self._allowed):
            return
        place = self.place_of(node, node.value)
        if place is None or is_job(place.function):
            return
        key = None
        if len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
            key = string_value(node.slice[0].slice.value)
        written = dotted_name(node.value) or ENVIRON
        shown = f'{written}["{key}"]' if key is not None else f"{written}[...]"
        self.report(
            node,
            f"`{shown}` read inside {place.label}: an implicit I/O dependency; {ENV_ADVICE}",
            conditions=place.conditions,
        )
