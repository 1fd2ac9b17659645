from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from backlint.diagnostics import Severity
from backlint.engine.walker import iter_descendants
from backlint.index.names import ImportTable
from backlint.index.testcode import TestFunction
from backlint.rules.base import Example, Option
from backlint.rules.dependencies.implicit_calls import CLOCK_CATALOG, CLOCK_READS, shown_name
from backlint.rules.testing.flow import asserted_sites
from backlint.rules.testing.protection import (
    CHECK_HELPERS,
    CallInTestRule,
    CallSite,
    Guards,
    kind_label,
)

_IDS = "uuid."
_STRING_MODULE = "string."
_RANDOM = "random."
_ASSERTED = "asserted"
_ALL = "all"


class NondeterministicTest(CallInTestRule):
    """
    ## What it does
    Flags tests and fixtures whose outcome depends on when or how they run:

    - a read of the wall clock (`datetime.now()`/`utcnow()`/`today()`, `date.today()`,
      Django's `timezone.now()`, `time.time()`/`time_ns()`) that an assertion depends
      on: the call is inside the assertion, or its value reaches it through local
      variables (`today = date.today()` ... `assert plan["date"] == today.isoformat()`);
    - a module-level `random` function (`random.choice`, `shuffle`, `randint`,
      `uniform`, ...) anywhere in the test, unless `random.seed()` ran before it in the
      function or at module level. A seeded `random.Random(seed)` instance is fine.
      Since one seed fixes them all, only the first unseeded draw of a function is
      reported, with the number of the others.

    A clock read is not flagged when the clock is frozen: `@freeze_time`/
    `@time_machine.travel`/`@pytest.mark.freeze_time` on the test or its class (or in
    `pytestmark`), inside `with freeze_time(...)`, after `freeze_time(...).start()`, or
    when the test requests one of the `clock-fixtures` (`freezer`, `time_machine`). No
    call is flagged once the test patched it (`mock.patch("app.orders.datetime")`,
    `monkeypatch.setattr(uuid, "uuid4", ...)`, `mocker.patch("random.choice")`).
    `time.perf_counter()` and `time.monotonic()` measure durations and are not flagged.

    ## Why is this bad?
    A test that compares what the code computed with the clock read by the test passes
    or fails depending on the moment: near midnight `date.today()` in the test and in the
    code disagree, a timestamp lands one tick apart, a time limit is exceeded on a slow
    CI machine. Random inputs pick a different case on each run, so a failure cannot be
    reproduced. Such tests fail rarely and are then retried or ignored.

    ## Example
    ```python
    def test_reporting_period_today_starts_at_midnight():
        now = timezone.now()
        start = reporting_period_start(Period.TODAY)
        assert start.day == now.day
    ```

    Use instead:
    ```python
    @freeze_time("2024-03-01 12:00")
    def test_reporting_period_today_starts_at_midnight():
        start = reporting_period_start(Period.TODAY)
        assert start == datetime(2024, 3, 1, tzinfo=UTC)
    ```

    ## How to fix
    Freeze the clock (freezegun, time-machine) or pass a fixed time to the code under
    test, and assert against literal values. Seed the random generator
    (`random.seed(0)`, or a `random.Random(0)` instance), or use fixed inputs and
    `pytest.mark.parametrize` over the interesting cases.

    ## Calibration
    Read on the suites of saleor, netbox, mealie, dispatch, plane, redash, CTFd and the
    FastAPI template:

    - Clock reads that only build test data are not flagged (`clock-reads = "asserted"`):
      `end_date=timezone.now() + timedelta(days=30)`, `reserved_until=...`,
      `order.created = timezone.now()`. saleor's suite has about 600 such reads, and a
      reviewer would not ask to freeze the clock for each; the 20 it keeps compare an
      expiry or a date with `timezone.now()` inside the assertion. A value the test
      handed to the code under test before asserting on it is a round trip
      (`create(order, placed=now)` ... `assert order.placed == now`), also when it was
      written into the code's response (`data["created"] = now`, saleor's end-to-end
      tests) or used as the time to freeze at (`with freeze_time(base)`, CTFd).
      `clock-reads = "all"` flags every unfrozen read, as the spec's prior art does.
    - `uuid.uuid1()`/`uuid4()` are not flagged by default (`report-ids = false`): real
      suites use them for unique test data (`email=f"{uuid4()}@example.com"`, an id
      that must not exist); the 16 that reached an assertion on saleor and plane all
      compared the id with itself. Drawing characters for a random string
      (`random.choice(string.ascii_lowercase)`, mealie's invalid group token) is the
      same kind of opaque data and is treated like an id. `report-ids = true` flags
      every unpatched call of both.
    - Fixtures hold no assertions, so only random values are flagged there (and every
      id with `report-ids`).
    - Nested functions (fakes, callbacks) are read as part of the test; their values
      are followed after the test body, when they run.
    - Helpers and `setUp` are only checked with `check-helpers`.
    """

    code = "BL701"
    name = "nondeterministic-test"
    summary = "A test's assertion depends on the wall clock, or its inputs on an unseeded RNG."
    fix_text = "Freeze the clock, seed or inject the RNG, or use fixed IDs."
    severity = Severity.WARNING
    tags = ("tests", "AP-PY02")
    # A file that names none of these cannot call the catalog (``from time import time``
    # gives ``time()``, ``import time`` gives ``time.``).
    text_markers = ("datetime", "timezone", "uuid", "random", "time.", "time(", "time_ns")
    options = (
        CHECK_HELPERS,
        Option(
            "clock-fixtures",
            ("freezer", "time_machine", "frozen_time", "mock_now"),
            "Fixtures that freeze the clock for the test that requests them.",
        ),
        Option(
            "clock-reads",
            _ASSERTED,
            "`asserted`: flag a clock read only when an assertion depends on it; `all`: "
            "flag every read outside a frozen clock.",
            choices=(_ASSERTED, _ALL),
        ),
        Option(
            "report-ids",
            False,
            "Also flag `uuid.uuid1()`/`uuid4()` calls (by default generated ids are taken "
            "as opaque unique test data).",
        ),
    )
    invalid = (
        Example(
            """
            from datetime import UTC, datetime

            def test_expiry_after_day_returns_true():
                assert is_expired(make(created=datetime.now(UTC)))
            """,
            path="tests/test_orders.py",
            expect=1,
        ),
        Example(
            """
            from django.utils import timezone

            def test_reporting_period_today_starts_at_midnight():
                now = timezone.now()
                start = reporting_period_start("today")
                assert start.day == now.day
            """,
            path="tests/test_reports.py",
            expect=1,
        ),
        Example(
            """
            import datetime, unittest

            class ExpiryTests(unittest.TestCase):
                def test_token_expires_in_future(self):
                    token = make_token()
                    self.assertGreater(token.expiration, datetime.datetime.utcnow())
            """,
            path="tests/test_tokens.py",
            expect=1,
        ),
        Example(
            """
            import random
            import pytest

            @pytest.fixture
            def prices():
                return [random.randint(1, 100) for _ in range(10)]
            """,
            path="tests/conftest.py",
            expect=1,
        ),
        Example(
            """
            import random

            def test_sort_is_stable_for_any_order(items):
                random.shuffle(items)
                assert sort(items) == sorted(items)
            """,
            path="tests/test_sort.py",
            expect=1,
        ),
    )
    valid = (
        Example(
            """
            from datetime import UTC, datetime
            from freezegun import freeze_time

            @freeze_time("2024-01-01")
            def test_expiry_after_day_returns_true():
                assert is_expired(make(created=datetime.now(UTC)))
            """,
            path="tests/test_orders.py",
        ),
        Example(
            """
            import datetime
            import time_machine

            def test_expiry_after_day_returns_true():
                with time_machine.travel("2024-01-01"):
                    assert is_expired(make(created=datetime.datetime.now()))
            """,
            path="tests/test_orders.py",
        ),
        Example(
            """
            from datetime import datetime

            def test_expiry_after_day_returns_true(freezer):
                assert is_expired(make(created=datetime.now()))
            """,
            path="tests/test_orders.py",
        ),
        Example(
            """
            import random

            def test_shuffle_seeded_returns_same_order(xs):
                random.seed(1)
                assert shuffle(xs) == [3, 1, 2]
                assert random.choice(xs) == 2
            """,
            path="tests/test_shuffle.py",
        ),
        Example(
            """
            import time

            def test_elapsed_is_measured_in_seconds():
                t0 = time.perf_counter()
                run()
                assert time.perf_counter() - t0 < 5
            """,
            path="tests/test_timing.py",
        ),
        Example(
            """
            import uuid
            from datetime import timedelta
            from django.utils import timezone

            def test_voucher_create_with_end_date_saves_it(client):
                end_date = timezone.now() + timedelta(days=30)
                response = client.post("/vouchers", {"code": str(uuid.uuid4()), "end": end_date})
                assert response.json()["end"] == end_date.isoformat()
            """,
            path="tests/test_vouchers.py",
        ),
        Example(
            """
            from unittest import mock
            from datetime import datetime

            @mock.patch("app.billing.datetime")
            def test_invoice_is_dated_today(fake):
                assert invoice().date == datetime.now().date()
            """,
            path="tests/test_billing.py",
        ),
        Example(
            """
            import uuid
            import pytest

            @pytest.fixture
            def order():
                return Order(id=uuid.uuid4())
            """,
            path="tests/conftest.py",
        ),
        Example(
            """
            import datetime

            def assert_recent(stamp):
                assert stamp > datetime.datetime.now() - datetime.timedelta(minutes=1)
            """,
            path="tests/helpers.py",
        ),
    )

    def wanted(self, qualified: str) -> bool:
        return qualified in CLOCK_CATALOG

    def check(self, function: TestFunction, sites: Sequence[CallSite], guards: Guards) -> None:
        frozen_by_fixture = bool(guards.fixtures & set(self.str_list_option("clock-fixtures")))
        every_read = self.option("clock-reads") == _ALL
        report_ids = bool(self.option("report-ids"))
        reads: list[CallSite] = []
        found: list[tuple[CallSite, str]] = []
        draws: list[CallSite] = []
        for site in sites:
            if site.patched:
                continue
            if site.qualified in CLOCK_READS:
                if not (site.frozen or frozen_by_fixture):
                    reads.append(site)
            elif site.qualified.startswith(_IDS) or _draws_text(site.node, self.ctx.names):
                if report_ids:
                    found.append((site, "a random id"))
            elif not site.seeded:
                draws.append(site)
        if draws:
            # One seed fixes them all: report the first draw of the function only.
            more = len(draws) - 1
            tail = (
                f" ({more} more unseeded {'draws follow' if more > 1 else 'draw follows'})"
                if more
                else ""
            )
            found.append((draws[0], f"an unseeded random generator{tail}"))
        tail = ""
        if reads and not every_read:
            asserted = asserted_sites(function.node.body, [s.node for s in reads], self.ctx.names)
            reads = [site for site in reads if id(site.node) in asserted]
            tail = ": an assertion compares with it"
        found += [(site, f"the wall clock{tail}") for site in reads]
        for site, what in found:
            shown = shown_name(site.node.func, site.qualified)
            self.report(
                site.node,
                f"`{shown}()` in {kind_label(function)} makes it depend on {what}",
                conditions=function.requires,
            )


def _draws_text(node: cst.Call, table: ImportTable) -> bool:
    """``random.choice(string.ascii_letters)``: characters for an opaque random string,
    which is unique test data like a generated id."""
    if not node.args:
        return False
    population = node.args[0].value
    for part in (population, *iter_descendants(population)):
        if isinstance(part, (cst.SimpleString, cst.ConcatenatedString)):
            return True
        if isinstance(part, (cst.Name, cst.Attribute)) and (
            table.qualified_name(part) or ""
        ).startswith(_STRING_MODULE):
            return True
    return False
