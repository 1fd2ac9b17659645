from __future__ import annotations

import libcst as cst

from backlint.diagnostics import Severity
from backlint.engine.context import FileContext
from backlint.engine.walker import iter_descendants
from backlint.rules.base import Example, Option
from backlint.rules.dependencies.adapters import ADAPTER_PATHS_OPTION
from backlint.rules.dependencies.decisions import DecisionFinder, FlowIndex
from backlint.rules.dependencies.implicit_calls import (
    CLOCK_CATALOG,
    CLOCK_READS,
    ImplicitCallRule,
    Place,
    matches,
    shown_name,
)


class ImplicitClockOrEntropy(ImplicitCallRule):
    """
    ## What it does
    Flags service and domain code whose behaviour depends on when it runs or on chance:
    a clock read (`datetime.now()`/`utcnow()`/`today()`, `date.today()`, Django's
    `timezone.now()`, `time.time()`) or a draw of randomness (`uuid.uuid1()`/`uuid4()`,
    the module-level functions of `random`) whose value feeds a decision: a comparison
    (`deadline < now()`, `max`/`min`), a branch or loop condition, or arithmetic
    (`now() - timedelta(days=30)`). The value is followed through local names, method
    calls on it (`now().date()`) and conversions (`int(time.time())`) in the same
    function.

    It looks at functions in `service` and `domain` files, except under the
    `adapter-paths` globs, in methods of classes that implement a port or are named as
    adapters (`*Client`, `*Gateway`, ...; see `implicit-io-dependency`), in
    `composition_root` and `repository` files and in test code. A class named
    `*Service` outside service and domain files is not in scope for its name alone.
    A seeded `random.Random` instance is not flagged.

    ## Why is this bad?
    The result depends on when and how often the code runs. A rule such as "orders expire
    after 30 minutes" can only be tested by freezing time with a library that patches
    `datetime` globally, and a random sample cannot be asserted at all. A clock or
    generator passed in makes the behaviour a plain function of its inputs.

    ## Example
    ```python
    # app/services/orders.py
    def expire(order):
        order.expired = order.deadline < datetime.now(UTC)
    ```

    Use instead:
    ```python
    def expire(order, now: datetime):
        order.expired = order.deadline < now
    ```

    ## How to fix
    Pass the value in (`now`), or inject a `Clock`/`random.Random` through the
    constructor and create the real one in the composition root. A reference is not a
    call: `clock=datetime.now` as a default, `Field(default_factory=uuid4)` or a Django
    field's `default=timezone.now` are the seams this rule asks for.
    `now = now or datetime.now()` and `if now is None: now = datetime.now()` with `now` a
    parameter are accepted too.

    A project's own clock helper (`utc_now()`) is a reference point the rule cannot see
    through; add it to `clock-calls` to have its callers reported.

    ## What it leaves alone
    A value that is only recorded or handed on does not make the code's behaviour depend
    on it, and a test asserts that *a* value is there, not which:

    - audit stamps: `created_at = now()`, `order.paid_at = timezone.now()`,
      `{"archived_at": now()}`, `Event(timestamp=now())`, also when set only if missing
      (`if org.onboarded_at is None: org.onboarded_at = now()`);
    - opaque ids for new entities: `id = uuid4()`, `str(uuid4())`, `uuid4().hex`;
    - labels: `now().strftime(...)`, `isoformat()`, an f-string, `str()`;
    - a value passed to another function (`repo.expired_before(now())`,
      `review(now=now())`): the callee receives the time, which is the seam;
    - a stopwatch: `start = time.time()` with a later `time.time() - start` in the same
      function measures a duration;
    - a function without parameters that only returns the call *is* the clock or id
      generator (`def get_datetime_utc(): return datetime.now(timezone.utc)`).

    ## Calibration
    Tuned on mealie, Netflix dispatch, polar, saleor, netbox, redash, plane, CTFd and the
    FastAPI template. Before the decision check, two findings in three were stamps and
    ids (`seat.claimed_at = datetime.now(UTC)`, `order_id = uuid.uuid4()`) that a
    reviewer accepts as they are; what remains is time windows
    (`created_at >= utcnow() - timedelta(hours=h)`), expiry checks and deadlines
    computed from now. `time.monotonic`/`perf_counter` measure durations and are not in
    the catalog. The severity is `info`.
    """

    code = "BL312"
    name = "implicit-clock-or-entropy"
    summary = "Service or domain code reads the clock or draws randomness itself."
    fix_text = (
        "Inject a clock or id generator as a constructor or parameter argument (e.g. a "
        "`Clock` port), or pass the value in; wire it up in the composition root."
    )
    severity = Severity.INFO
    tags = ("architecture", "testability", "AP-PY07", "PQG-3")
    options = (
        Option(
            "clock-calls",
            (),
            "More clock or entropy calls to flag: fnmatch patterns over qualified names "
            "(`pendulum.now`, `secrets.token_*`).",
        ),
        Option(
            "allowed-calls",
            (),
            "Catalog calls to accept: fnmatch patterns over qualified names "
            "(`uuid.uuid4`, `random.*`).",
        ),
        ADAPTER_PATHS_OPTION,
    )
    invalid = (
        Example(
            """
            from datetime import UTC, datetime
            def expire(o):
                o.expired = o.deadline < datetime.now(UTC)
            """,
            path="app/services/orders.py",
            expect=1,
        ),
        # Comparisons and a branch, in a service class.
        Example(
            """
            import datetime, time
            from django.utils import timezone
            class ReminderService:
                def due(self, r):
                    late = r.at <= timezone.now() or r.day == datetime.date.today()
                    return late or time.time() > r.ts
            """,
            path="app/services/reminders.py",
            expect=3,
        ),
        # Randomness that decides: sampling and bucketing.
        Example(
            """
            import random
            import uuid
            class Order:
                def pick_for_audit(self, rate):
                    if random.random() < rate:
                        self.audited = True
                def bucket(self):
                    return uuid.uuid4().int % 100
            """,
            path="app/domain/order.py",
            expect=2,
        ),
        # Arithmetic, through a local name and a conversion; a filter in a comprehension.
        Example(
            """
            import time
            from datetime import datetime, timedelta
            def renew(o):
                o.expires_at = datetime.utcnow() + timedelta(days=30)
            def overdue(orders):
                now = datetime.utcnow()
                return [o for o in orders if o.due < now]
            def age(token):
                return int(time.time()) - token.issued_at
            """,
            path="app/entities.py",
            expect=3,
        ),
        # Time windows for queries, also when serialised into a filter.
        Example(
            """
            from datetime import datetime, time, timedelta
            def recent(db, hours):
                since = datetime.utcnow() - timedelta(hours=hours)
                return db.query(Case).filter(Case.created_at >= since).all()
            def today_filter():
                start = datetime.combine(datetime.now().date(), time.min)
                end = start + timedelta(days=1)
                return f'timestamp < "{end.isoformat()}"'
            """,
            path="app/cases/service.py",
            expect=2,
        ),
    )
    valid = (
        """
        from datetime import datetime
        def expire(o, now: datetime):
            o.expired = o.deadline < now
        """,
        # Uncalled references are the seam.
        """
        from datetime import datetime
        def expire2(o, clock=datetime.now):
            o.expired = o.deadline < clock()
        """,
        """
        from uuid import uuid4
        from pydantic import BaseModel, Field
        class Order(BaseModel):
            id: str = Field(default_factory=lambda: uuid4().hex)
        """,
        # Fallback seams.
        """
        from datetime import datetime
        def expire(o, now=None):
            now = now or datetime.now()
            o.expired = o.deadline < now
        """,
        """
        from django.utils import timezone
        def expire(o, now=None):
            if now is None:
                now = timezone.now()
            o.expired = o.deadline < now
        """,
        # Injected clock and a seeded generator.
        """
        import random
        class DrawService:
            def __init__(self, clock, seed: int) -> None:
                self._clock = clock
                self._rng = random.Random(seed)
            def draw(self, tickets):
                return self._rng.choice(tickets), self._clock.now()
        """,
        # Audit stamps and ids of new entities are recorded, not decided on.
        """
        import uuid
        from datetime import UTC, datetime
        from django.utils import timezone
        def create(session, data, order_id=None):
            created_at = datetime.now(UTC)
            order = Order(id=order_id or uuid.uuid4(), created_at=created_at, **data)
            order.updated_at = timezone.now()
            session.add(order)
            return {"id": str(uuid.uuid4()), "archived_at": datetime.now(UTC)}
        def onboard(org):
            if org.onboarded_at is None:
                org.onboarded_at = datetime.now(UTC)
        """,
        # Labels, and the time handed to the code that decides.
        """
        from datetime import UTC, datetime
        def backup_name():
            return f"backup-{datetime.now(UTC).strftime('%Y%m%d')}.zip"
        async def unsnooze(repository):
            return await repository.get_expired_snoozes(datetime.now(UTC))
        """,
        # A Django models.py is a model file, not domain code.
        Example(
            """
            from django.db import models
            from django.utils import timezone
            class Order(models.Model):
                def is_late(self):
                    return self.due < timezone.now()
            """,
            path="shop/models.py",
        ),
        Example(
            """
            import time
            def warm_up():
                return time.time() > DEADLINE
            """,
            path="app/main.py",
        ),
        # A `*Service` class outside service and domain files, and an adapter.
        Example(
            """
            from datetime import datetime
            class TokenService:
                def expired(self, token):
                    return token.expires_at < datetime.now()
            """,
            path="app/auth/tokens.py",
        ),
        Example(
            """
            from datetime import datetime, timedelta
            def oncall_shift_check(client, schedule):
                now = datetime.utcnow()
                return client.shifts(schedule, since=now - timedelta(hours=1))
            """,
            path="app/plugins/pagerduty/service.py",
        ),
        # Providers used by reference, and a stopwatch.
        """
        import time
        from datetime import datetime, timezone
        from uuid import uuid4
        def get_datetime_utc() -> datetime:
            return datetime.now(timezone.utc)
        def new_id() -> str:
            return str(uuid4())
        def scrape(chunks, limit):
            start = time.time()
            for chunk in chunks:
                if time.time() - start > limit:
                    raise TimeoutError
        """,
        Example(
            """
            import uuid
            def make_order():
                return {"id": uuid.uuid4()}
            """,
            path="tests/test_orders.py",
        ),
    )

    def begin_file(self, ctx: FileContext) -> None:
        super().begin_file(ctx)
        self._extra = self.str_list_option("clock-calls")
        self._allowed = self.str_list_option("allowed-calls")
        self._timers: dict[int, frozenset[int]] = {}
        self._finders: dict[int, DecisionFinder] = {}

    def describe_call(self, node: cst.Call, qualified: str) -> tuple[str, str] | None:
        if self._allowed and matches(qualified, self._allowed):
            return None
        tail = CLOCK_CATALOG.get(qualified)
        if tail is None and self._extra and matches(qualified, self._extra):
            tail = "an implicit clock or source of entropy; inject it or pass the value in"
        if tail is None:
            return None
        return shown_name(node.func, qualified), tail

    def accepts(self, node: cst.Call, qualified: str, place: Place) -> bool:
        if not super().accepts(node, qualified, place):
            return False
        if qualified in CLOCK_READS and id(node) in self._stopwatch(place.function):
            return False
        return self._decisions(place.function).feeds_decision(node)

    def _decisions(self, function: cst.FunctionDef) -> DecisionFinder:
        finder = self._finders.get(id(function))
        if finder is None:
            finder = DecisionFinder(FlowIndex(function), self.ctx.qualified_name)
            self._finders[id(function)] = finder
        return finder

    def _stopwatch(self, function: cst.FunctionDef) -> frozenset[int]:
        """The clock calls of ``function`` that only time it: ``start = time.time()`` and
        ``time.time() - start`` with the same local ``start`` measure a duration, which no
        test needs to control (``deadline < datetime.now()`` is a business rule and stays)."""
        cached = self._timers.get(id(function))
        if cached is not None:
            return cached
        starts: dict[str, list[int]] = {}
        stops: dict[str, list[int]] = {}
        for inner in iter_descendants(function.body, into_functions=False):
            if (
                isinstance(inner, cst.Assign)
                and len(inner.targets) == 1
                and isinstance(inner.targets[0].target, cst.Name)
                and self._reads_clock(inner.value)
            ):
                starts.setdefault(inner.targets[0].target.value, []).append(id(inner.value))
            elif (
                isinstance(inner, cst.BinaryOperation)
                and isinstance(inner.operator, cst.Subtract)
                and isinstance(inner.right, cst.Name)
                and self._reads_clock(inner.left)
            ):
                stops.setdefault(inner.right.value, []).append(id(inner.left))
        timed = starts.keys() & stops.keys()
        found = frozenset(call for name in timed for call in (*starts[name], *stops[name]))
        self._timers[id(function)] = found
        return found

    def _reads_clock(self, node: cst.BaseExpression) -> bool:
        return isinstance(node, cst.Call) and self.ctx.qualified_name(node.func) in CLOCK_READS
