from __future__ import annotations

from collections.abc import Sequence

from backlint.diagnostics import Severity
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
from backlint.rules.testing.verdicts import (
    DEFAULT_CLOCK_FIXTURES,
    IDS,
    IN_PLACE,
    draws_text,
    may_repeat,
)

_ASSERTED = "asserted"
_ALL = "all"


class NondeterministicTest(CallInTestRule):
    """
    ## What it does
    Flags a test whose assertion compares a value exactly with a reading of the wall clock
    or with an unseeded random draw:

    - a clock read (`datetime.now()`/`utcnow()`/`today()`, `date.today()`, Django's
      `timezone.now()`, `time.time()`/`time_ns()`) whose reading an assertion compares
      for equality or membership (`==`, `!=`, `in`, `assertEqual`,
      `assert_called_once_with`), directly or through local variables
      (`today = date.today()` ... `assert plan["date"] == today.isoformat()`), also after
      taking its `.day`, `.date()` or `isoformat()`;
    - a module-level `random` draw that can repeat or change the case under test (an
      integer from `randint`/`randrange`, a `shuffle`, a `choice`/`choices`/`sample`
      from a literal list of values) whose result an assertion compares the same way
      (`random.shuffle(a); random.shuffle(b); assert a != b`), unless `random.seed()` ran
      before it in the function or at module level. A seeded `random.Random(seed)`
      instance is fine. Since one seed fixes them all, only the first such draw of a
      function is reported, with the number of the others.

    Not flagged, because the test is deterministic or freezing the clock would not help:

    - ordered comparisons (`<`, `>=`, `assertGreater`): the clock only moves forward, so
      a bracket (`before = now(); run(); after = now(); assert before <= x.created <=
      after`) and a bound (`assert token.expires > now()`) hold whenever the code is
      right;
    - tolerances (`abs(a - b) < timedelta(seconds=5)`, `assertAlmostEqual(a, b,
      delta=...)`, `pytest.approx`);
    - a reading or a draw handed to the code under test before the assertion reads it
      back (`create(order, placed=now)` ... `assert order.placed == now`), also inside
      the assertion: a cursor or a filter bound (`assert repo.since(now - day) == [a]`),
      an input (`assert is_expired(make(created=now))`), random test data sent through
      the API;
    - a pick among the test's own objects (`recipe = random.choice(recipes)`), which
      selects data whose handling the assertion checks, and a float from a continuous
      distribution (`uniform`, `gauss`), which practically never repeats;
    - a frozen clock: `@freeze_time`/`@time_machine.travel`/`@pytest.mark.freeze_time` on
      the test or its class (or in `pytestmark`), inside `with freeze_time(...)`, after
      `freeze_time(...).start()`, or when the test requests one of the `clock-fixtures`
      (`freezer`, `time_machine`);
    - a call the test patched (`mock.patch("app.orders.datetime")`,
      `monkeypatch.setattr(uuid, "uuid4", ...)`, `mocker.patch("random.choice")`);
    - `time.perf_counter()` and `time.monotonic()`, which measure durations.

    ## Why is this bad?
    The code under test and the test read the clock at different moments. An assertion
    that expects the two readings to agree fails whenever a second or a day turns in
    between: near midnight `date.today()` in the test and in the code disagree. An
    assertion that compares random draws fails for the draws that happen to collide.
    Such tests fail rarely, cannot be reproduced, and are then retried or ignored.

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
    Read on the suites of saleor, netbox, mealie, dispatch, polar, plane, redash, CTFd
    and the FastAPI template:

    - Clock reads that only build test data are not flagged: `end_date=timezone.now() +
      timedelta(days=30)`, `reserved_until=...`, `order.created = timezone.now()`.
      saleor's suite has about 600 such reads; of the clock reads that reach an
      assertion, the ordered ones (`assert checkout.discount_expiration >
      timezone.now()`, polar's brackets around a call) and the tolerances hold on any
      clock, and the equalities (`assert start_date.day == now.day`, an expected
      `"date": now().date().strftime(...)` in a webhook payload) are the ones that fail at
      midnight. `clock-reads = "all"` flags every unfrozen read, as the spec's prior art
      does.
    - Random draws are mostly test data (mealie picks `random.choice(recipes)` in most
      tests, changes the pick and checks the API kept the change): a draw is flagged
      when an assertion compares it itself and it can repeat, like mealie's
      `random.shuffle(a); random.shuffle(b); assert a != b`, which fails once in 120
      runs, but not `assert random.uniform(1, 5) != rating`. `random-draws = "all"`
      flags every unseeded draw.
    - `uuid.uuid1()`/`uuid4()` are not flagged by default (`report-ids = false`): real
      suites use them for unique test data (`email=f"{uuid4()}@example.com"`, an id
      that must not exist); the 16 that reached an assertion on saleor and plane all
      compared the id with itself. Drawing characters for a random string
      (`random.choice(string.ascii_lowercase)`, mealie's invalid group token) is the
      same kind of opaque data and is treated like an id. `report-ids = true` flags
      every unpatched call of both.
    - Fixtures hold no assertions, so they are only flagged with `clock-reads = "all"`,
      `random-draws = "all"` or `report-ids`.
    - Nested functions (fakes, callbacks) are read as part of the test; their values
      are followed after the test body, when they run.
    - Helpers and `setUp` are only checked with `check-helpers`.
    """

    code = "BL701"
    name = "nondeterministic-test"
    summary = "A test's assertion depends on the wall clock, or its inputs on an unseeded RNG."
    fix_text = "Freeze the clock, seed or inject the RNG, or use fixed IDs."
    severity = Severity.WARNING
    # Below the precision bar on code it was not tuned on (docs/precision.md): it runs
    # when selected by its code or name, or with `preview = true`.
    default_enabled = False
    preview = True
    tags = ("tests", "AP-PY02", "PQG-4")
    # A file that names none of these cannot call the catalog (``from time import time``
    # gives ``time()``, ``import time`` gives ``time.``).
    text_markers = ("datetime", "timezone", "uuid", "random", "time.", "time(", "time_ns")
    options = (
        CHECK_HELPERS,
        Option(
            "clock-fixtures",
            DEFAULT_CLOCK_FIXTURES,
            "Fixtures that freeze the clock for the test that requests them.",
        ),
        Option(
            "clock-reads",
            _ASSERTED,
            "`asserted`: flag a clock read only when an assertion compares it exactly "
            "(`==`, `assertEqual`); `all`: flag every read outside a frozen clock.",
            choices=(_ASSERTED, _ALL),
        ),
        Option(
            "random-draws",
            _ASSERTED,
            "`asserted`: flag an unseeded random draw only when an assertion compares "
            "what it drew; `all`: flag every unseeded draw (once per function).",
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
            from django.utils import timezone

            def test_reporting_period_today_starts_at_midnight():
                now = timezone.now()
                start = reporting_period_start("today")
                assert start.day == now.day
            """,
            path="tests/test_reports.py",
            expect=1,
        ),
        # The date the code stored, compared with the test's own reading of today.
        Example(
            """
            from datetime import date

            def test_meal_plan_for_today_is_dated_today(client):
                client.post("/plans/today", json={"title": "soup"})
                assert client.get("/plans/today").json()["date"] == date.today().isoformat()
            """,
            path="tests/test_plans.py",
            expect=1,
        ),
        Example(
            """
            import datetime, unittest

            class InvoiceTests(unittest.TestCase):
                def test_invoice_is_issued_today(self):
                    invoice = issue_invoice(order)
                    self.assertEqual(invoice.issued_on, datetime.date.today())
            """,
            path="tests/test_invoices.py",
            expect=1,
        ),
        # What a mock received, compared with an expectation built from the clock.
        Example(
            """
            from datetime import UTC, datetime

            def test_order_confirmed_posts_todays_date(post, order):
                confirm(order)
                expected = {"date": datetime.now(UTC).date().isoformat(), "code": order.code}
                post.assert_called_once_with(expected)
            """,
            path="tests/test_tax.py",
            expect=1,
        ),
        # Two shuffles of five letters are equal once in 120 runs.
        Example(
            """
            import random

            def test_order_by_two_columns(repo):
                abbreviations, descriptions = list("abcde"), list("abcde")
                random.shuffle(abbreviations)
                random.shuffle(descriptions)
                assert abbreviations != descriptions
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
            def test_invoice_is_issued_today():
                assert issue_invoice(order).issued_on == datetime.now(UTC).date()
            """,
            path="tests/test_invoices.py",
        ),
        Example(
            """
            import datetime
            import time_machine

            def test_invoice_is_issued_today():
                with time_machine.travel("2024-01-01"):
                    assert issue_invoice(order).issued_on == datetime.date.today()
            """,
            path="tests/test_invoices.py",
        ),
        Example(
            """
            from datetime import date

            def test_invoice_is_issued_today(freezer):
                assert issue_invoice(order).issued_on == date.today()
            """,
            path="tests/test_invoices.py",
        ),
        # A bracket, a bound and a tolerance hold on any clock.
        Example(
            """
            import datetime, unittest
            from datetime import UTC, timedelta

            def test_order_is_stamped_when_created():
                before = datetime.datetime.now(UTC)
                order = create_order()
                after = datetime.datetime.now(UTC)
                assert before <= order.created_at <= after

            def test_invitation_expires_in_a_day():
                seat = assign_seat()
                expected = datetime.datetime.now(UTC) + timedelta(hours=24)
                assert abs((seat.expires_at - expected).total_seconds()) < 60

            class TokenTests(unittest.TestCase):
                def test_token_expires_in_future(self):
                    token = make_token()
                    self.assertGreater(token.expiration, datetime.datetime.utcnow())
                    self.assertAlmostEqual(
                        token.created, datetime.datetime.utcnow(), delta=timedelta(seconds=5)
                    )
            """,
            path="tests/test_tokens.py",
        ),
        # Handed to the code under test: a filter bound, an input, a round trip.
        Example(
            """
            import uuid
            from datetime import UTC, datetime, timedelta
            from django.utils import timezone

            def test_recent_orders_are_listed(repo, recent):
                assert repo.created_since(datetime.now(UTC) - timedelta(days=1)) == [recent]

            def test_fresh_order_is_not_expired():
                assert not is_expired(make(created=datetime.now(UTC)))

            def test_voucher_create_with_end_date_saves_it(client):
                end_date = timezone.now() + timedelta(days=30)
                response = client.post("/vouchers", {"code": str(uuid.uuid4()), "end": end_date})
                assert response.json()["end"] == end_date.isoformat()
            """,
            path="tests/test_orders.py",
        ),
        # Random test data sent through the code, or shuffled into it.
        Example(
            """
            import random

            def test_get_recipe(client, recipes):
                recipe = random.choice(recipes)
                response = client.get(f"/recipes/{recipe.slug}")
                assert response.json()["id"] == str(recipe.id)

            def test_sort_is_stable_for_any_order(items):
                random.shuffle(items)
                assert sort(items) == sorted(items)
            """,
            path="tests/test_recipes.py",
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
            from unittest import mock
            from datetime import datetime

            @mock.patch("app.billing.datetime")
            def test_invoice_is_dated_today(fake):
                assert invoice().date == datetime.now().date()
            """,
            path="tests/test_billing.py",
        ),
        # Fixtures only build data.
        Example(
            """
            import random
            import uuid
            import pytest

            @pytest.fixture
            def order():
                return Order(id=uuid.uuid4(), items=random.randint(1, 5))
            """,
            path="tests/conftest.py",
        ),
        Example(
            """
            import datetime

            def assert_issued_today(invoice):
                assert invoice.issued_on == datetime.date.today()
            """,
            path="tests/helpers.py",
        ),
    )

    def wanted(self, qualified: str) -> bool:
        return qualified in CLOCK_CATALOG

    def check(self, function: TestFunction, sites: Sequence[CallSite], guards: Guards) -> None:
        frozen_by_fixture = bool(guards.fixtures & set(self.str_list_option("clock-fixtures")))
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
            elif site.qualified.startswith(IDS) or draws_text(site.node, self.ctx.names):
                if report_ids:
                    found.append((site, "a random id"))
            elif not site.seeded:
                draws.append(site)
        compared = self._compared(function, reads, draws)
        found += self._reads(reads, compared)
        found += self._draws(draws, compared)
        for site, what in sorted(found, key=lambda item: sites.index(item[0])):
            shown = shown_name(site.node.func, site.qualified)
            self.report(
                site.node,
                f"`{shown}()` in {kind_label(function)} makes it depend on {what}",
                conditions=function.requires,
            )

    def _compared(
        self, function: TestFunction, reads: Sequence[CallSite], draws: Sequence[CallSite]
    ) -> dict[int, str]:
        """How an assertion compares each read or draw, by the ``id()`` of its call (only
        those it compares exactly, without a round trip through the code)."""
        followed = [
            *(reads if self.option("clock-reads") != _ALL else ()),
            *(draws if self.option("random-draws") != _ALL else ()),
        ]
        if not followed:
            return {}
        shuffles = [s.node for s in followed if s.qualified in IN_PLACE]
        calls = [site.node for site in followed]
        return asserted_sites(function.node.body, calls, self.ctx.names, shuffles)

    def _reads(
        self, reads: Sequence[CallSite], compared: dict[int, str]
    ) -> list[tuple[CallSite, str]]:
        if self.option("clock-reads") == _ALL:
            return [(site, "the wall clock") for site in reads]
        return [
            (
                site,
                f"the wall clock: an assertion compares the reading exactly "
                f"({compared[id(site.node)]}), which fails when a second or a day turns "
                "between the test's read and the code's",
            )
            for site in reads
            if id(site.node) in compared
        ]

    def _draws(
        self, draws: Sequence[CallSite], compared: dict[int, str]
    ) -> list[tuple[CallSite, str]]:
        """One finding per function: one seed fixes every draw."""
        every = self.option("random-draws") == _ALL
        kept = [
            site
            for site in draws
            if every
            or (id(site.node) in compared and may_repeat(site.qualified, site.node, self.ctx.names))
        ]
        if not kept:
            return []
        more = len(kept) - 1
        what = "an unseeded random generator"
        if not every:
            what += f": an assertion compares what it drew exactly ({compared[id(kept[0].node)]})"
        if more:
            follow = "draw follows" if more == 1 else "draws follow"
            if not every:
                follow = "draw reaches an assertion" if more == 1 else "draws reach assertions"
            what += f" ({more} more unseeded {follow})"
        return [(kept[0], what)]
