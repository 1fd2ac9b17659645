from __future__ import annotations

import libcst as cst

from backlint.diagnostics import Severity
from backlint.engine.context import FileContext
from backlint.engine.walker import iter_descendants
from backlint.rules.base import Example, Option
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
    Flags service and domain code that reads the clock or draws randomness itself:
    `datetime.now()`/`utcnow()`/`today()`, `date.today()`, Django's `timezone.now()`,
    `time.time()`, `uuid.uuid1()`/`uuid4()` and the module-level functions of `random`
    (`random.random()`, `randint`, `choice`, `shuffle`, ...). A seeded `random.Random`
    instance is not flagged.

    It looks at functions in `service` and `domain` files and at methods of classes named
    `*Service` anywhere, except in `composition_root` and `repository` files and in test
    code.

    ## Why is this bad?
    The result depends on when and how often the code runs. A rule such as "orders expire
    after 30 minutes" can only be tested by freezing time with a library that patches
    `datetime` globally, and an id or a shuffled list cannot be asserted at all. A clock
    or generator passed in makes the behaviour a plain function of its inputs.

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
    Pass the value in (`now`, the new id), or inject a `Clock`/id generator/
    `random.Random` through the constructor and create the real one in the composition
    root. A reference is not a call: `clock=datetime.now` as a default,
    `Field(default_factory=uuid4)` or a Django field's `default=timezone.now` are the
    seams this rule asks for. `now = now or datetime.now()` and
    `if now is None: now = datetime.now()` with `now` a parameter are accepted too.

    A project's own clock helper (`utc_now()`) is a reference point the rule cannot see
    through; add it to `clock-calls` to have its callers reported.

    ## Calibration
    Tuned on mealie, Netflix dispatch, polar, saleor, netbox, redash, plane, CTFd and the
    FastAPI template:

    - The severity is `info`: an entity factory generating its id (`Order.create()`
      calling `uuid4()`) is a common, deliberate choice, and most findings on real
      services are `now()` stamps that a reviewer accepts as worth a seam but would not
      block a merge for.
    - A function without parameters that only returns the call *is* the clock or id
      generator (`def get_datetime_utc(): return datetime.now(timezone.utc)`, used as a
      `default_factory` in the FastAPI template); `str(uuid4())` and `uuid4().hex` count.
    - A stopwatch is not a clock dependency: `start = time.time()` with a later
      `time.time() - start` in the same function measures a duration (mealie's scraper
      timeout). `deadline < datetime.now()` or `datetime.now() - order.created` are
      business rules and stay flagged.
    - Only calls inside functions count: class attributes, column defaults such as
      `default=lambda: datetime.now(UTC)` and module constants run at import.
    - `time.monotonic`/`perf_counter` measure durations and are not in the catalog.
    - The fallback seam needs the parameter itself: `if org.onboarded_at is None:
      org.onboarded_at = datetime.now(UTC)` records when something happened and is
      reported (polar).
    """

    code = "BL312"
    name = "implicit-clock-or-entropy"
    summary = "Service or domain code reads the clock or draws randomness itself."
    fix_text = (
        "Inject a clock or id generator as a constructor or parameter argument (e.g. a "
        "`Clock` port), or pass the value in; wire it up in the composition root."
    )
    severity = Severity.INFO
    tags = ("architecture", "testability", "AP-PY07")
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
        Example(
            """
            import datetime, time
            from django.utils import timezone
            class ReminderService:
                def due(self, r):
                    late = r.at <= timezone.now() or r.day == datetime.date.today()
                    return late or time.time() > r.ts
            """,
            path="reminders/logic.py",
            expect=3,
        ),
        Example(
            """
            import random
            import uuid
            class Order:
                @classmethod
                def create(cls, lines):
                    random.shuffle(lines)
                    return cls(id=uuid.uuid4(), lines=lines)
            """,
            path="app/domain/order.py",
            expect=2,
        ),
        Example(
            """
            from datetime import datetime
            def stamp(o):
                o.updated = datetime.utcnow()
            """,
            path="app/entities.py",
            expect=1,
        ),
        # Setting an attribute that is missing is recording state, not a seam.
        Example(
            """
            from datetime import UTC, datetime
            def onboard(org):
                if org.onboarded_at is None:
                    org.onboarded_at = datetime.now(UTC)
            """,
            path="app/services/orgs.py",
            expect=1,
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
        # A Django models.py is a model file, not domain code.
        Example(
            """
            from django.db import models
            from django.utils import timezone
            class Order(models.Model):
                def touch(self):
                    self.updated = timezone.now()
            """,
            path="shop/models.py",
        ),
        Example(
            """
            import time
            def warm_up():
                return time.time()
            """,
            path="app/main.py",
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
        return qualified not in CLOCK_READS or id(node) not in self._stopwatch(place.function)

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
