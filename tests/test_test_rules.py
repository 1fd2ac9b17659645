"""BL701/BL702/BL731/BL732 beyond the rule examples: messages, guards, data flow, options."""

from __future__ import annotations

import textwrap
from pathlib import Path

from backlint.application import CheckRequest, run_check

CODES = ("BL701", "BL702", "BL731", "BL732")


def _check(
    tmp_path: Path,
    files: dict[str, str],
    config: str = "",
    codes: tuple[str, ...] = CODES,
) -> list[tuple[int, str, str]]:
    if config:
        (tmp_path / "pyproject.toml").write_text(textwrap.dedent(config), encoding="utf-8")
    for relative, source in files.items():
        target = tmp_path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(source).lstrip("\n"), encoding="utf-8")
    result = run_check(CheckRequest(paths=(tmp_path,), cwd=tmp_path, extend_select=codes, jobs=1))
    assert not result.internal_errors, result.internal_errors
    return [(d.span.start.line, d.code, d.message) for d in result.diagnostics if d.code in codes]


def _lines(found: list[tuple[int, str, str]]) -> list[int]:
    return [line for line, _, _ in found]


# --- BL701 -------------------------------------------------------------------------------


def test_clock_read_in_assertion_names_call_and_test(tmp_path: Path) -> None:
    found = _check(
        tmp_path,
        {
            "tests/test_expiry.py": """
            from datetime import UTC, datetime
            def test_expiry():
                assert expiry(make()).date() == datetime.now(UTC).date()
            def test_issued():
                self.assertEqual(issued(make()), datetime.now(UTC).date())
            """
        },
        codes=("BL701",),
    )
    assert found == [
        (
            3,
            "BL701",
            "`datetime.now()` in test `test_expiry` makes it depend on the wall clock: an "
            "assertion compares the reading exactly (`==`), which fails when a second or a "
            "day turns between the test's read and the code's",
        ),
        (
            5,
            "BL701",
            "`datetime.now()` in test `test_issued` makes it depend on the wall clock: an "
            "assertion compares the reading exactly (`assertEqual`), which fails when a "
            "second or a day turns between the test's read and the code's",
        ),
    ]


def test_brackets_bounds_tolerances_and_handed_over_reads_are_not_flagged(
    tmp_path: Path,
) -> None:
    found = _check(
        tmp_path,
        {
            "tests/test_clock.py": """
            import math
            import time
            import pytest
            from datetime import UTC, datetime, timedelta

            def test_bracket():
                before = int(time.time() * 1000)
                body = build_envelope()
                after = int(time.time() * 1000)
                assert before <= parse(body).timestamp <= after

            def test_bracket_in_two_assertions(org):
                before = datetime.now(UTC)
                result = snooze(org, days=5)
                after = datetime.now(UTC)
                assert before + timedelta(days=5) <= result.snoozed_until
                assert result.snoozed_until <= after + timedelta(days=5)

            def test_tolerances(seat):
                expected = datetime.now(UTC) + timedelta(hours=24)
                assert abs((seat.expires_at - expected).total_seconds()) < 60
                assert seat.created.timestamp() == pytest.approx(time.time(), abs=5)
                assert math.isclose(seat.created.timestamp(), time.time(), abs_tol=5)

            def test_cursor_and_filter_bound(client, repo):
                page = client.get("/events", params={"before": datetime.now(UTC).isoformat()})
                assert page.json()["items"] == []
                assert repo.since(datetime.now(UTC) - timedelta(days=1)) == []
                assert create(placed=datetime.now(UTC)).placed == datetime.now(UTC)
            """
        },
        codes=("BL701",),
    )
    # The last line compares a second, independent read: that one is flagged.
    assert _lines(found) == [29]


def test_clock_reads_that_only_build_data_are_not_flagged(tmp_path: Path) -> None:
    found = _check(
        tmp_path,
        {
            "tests/test_orders.py": """
            import datetime
            from django.utils import timezone

            def test_round_trip_keeps_the_date(client):
                now = timezone.now()
                order = create_order(placed=now)
                assert order.placed == now

            def test_relative_end_date_is_saved(client):
                end = timezone.now() + datetime.timedelta(days=30)
                payload = {"end": end.isoformat()}
                response = client.post("/vouchers", json=payload)
                assert response.json()["end"] == end.isoformat()

            def test_attribute_set_before_assertion():
                order = Order()
                order.created = timezone.now()
                assert order.is_recent()

            def test_today_only_in_the_expectation(client):
                today = datetime.date.today()
                response = client.get("/plans/today")
                assert response.json()["date"] == str(today)

            def test_expected_dict_carries_the_date(client):
                expected = {}
                expected["date"] = timezone.now().date().isoformat()
                assert client.get("/stats").json() == expected

            def test_written_into_the_response(client):
                now = timezone.now()
                data = client.post("/orders").json()
                data["order"]["created"] = now
                assert data["order"]["created"] == now
            """
        },
        codes=("BL701",),
    )
    assert _lines(found) == [21, 27]


def test_flow_follows_branches_loops_and_handlers(tmp_path: Path) -> None:
    found = _check(
        tmp_path,
        {
            "tests/test_branches.py": """
            import pytest
            from django.utils import timezone

            def test_stamp_reaches_assertion_through_branches(client, flag):
                for _ in range(3):
                    stamp = timezone.now()
                if flag:
                    expected = stamp.date()
                else:
                    expected = None
                try:
                    result = client.get("/day").json()
                except ValueError:
                    result = None
                assert result == expected

            def test_clock_passed_inside_raises_block(token):
                with pytest.raises(ValueError):
                    check(token, now=timezone.now())
                while token.pending:
                    token.refresh()
                assert token.checked
            """
        },
        codes=("BL701",),
    )
    assert _lines(found) == [6]


def test_nested_function_is_read_after_the_body(tmp_path: Path) -> None:
    found = _check(
        tmp_path,
        {
            "tests/test_webhooks.py": """
            from django.utils import timezone

            def test_webhook_carries_timestamp(self):
                def fake_send(request):
                    assert request.json()["at"] == stamp.isoformat()
                stamp = timezone.now()
                send_webhook(at=stamp, sender=fake_send)

            def test_fake_compares_with_clock():
                def fake_send(request):
                    assert request.json()["day"] == timezone.now().date().isoformat()
                send_webhook(sender=fake_send)
            """
        },
        codes=("BL701",),
    )
    assert _lines(found) == [11]


def test_frozen_clock_guards(tmp_path: Path) -> None:
    found = _check(
        tmp_path,
        {
            "tests/test_frozen.py": """
            import datetime
            import pytest
            from freezegun import freeze_time

            @freeze_time("2024-01-01")
            class TestFrozenClass:
                def test_today_is_new_year(self):
                    assert datetime.date.today() == datetime.date(2024, 1, 1)

            def test_inside_and_after_block():
                with freeze_time("2024-01-01"):
                    assert datetime.date.today() == datetime.date(2024, 1, 1)
                assert datetime.date.today() != datetime.date(2024, 1, 1)

            def test_started_by_hand():
                frozen = freeze_time("2024-01-01")
                frozen.start()
                assert datetime.date.today() == datetime.date(2024, 1, 1)

            def test_anchor_is_frozen():
                base = datetime.datetime.utcnow()
                with freeze_time(base):
                    submit()
                assert count() == 1

            @pytest.mark.usefixtures("freezer")
            def test_usefixtures_freezer():
                assert datetime.date.today() == datetime.date(2024, 1, 1)

            def test_custom_clock_fixture(fixed_clock):
                assert datetime.date.today() == datetime.date(2024, 1, 1)

            @pytest.mark.parametrize("day", [datetime.date.today()])
            def test_parametrize_is_collection_time(day):
                assert day
            """
        },
        config="""
        [tool.backlint.options.nondeterministic-test]
        clock-fixtures = ["freezer", "fixed_clock"]
        """,
        codes=("BL701",),
    )
    assert _lines(found) == [13]


def test_module_pytestmark_freezes_every_test(tmp_path: Path) -> None:
    found = _check(
        tmp_path,
        {
            "tests/test_marked.py": """
            import datetime
            import pytest
            pytestmark = [pytest.mark.django_db, pytest.mark.freeze_time("2024-01-01")]
            def test_today():
                assert datetime.date.today() == datetime.date(2024, 1, 1)
            """
        },
        codes=("BL701",),
    )
    assert found == []


def test_patches_protect_the_target_they_name(tmp_path: Path) -> None:
    found = _check(
        tmp_path,
        {
            "tests/test_patched.py": """
            import random
            import uuid
            from unittest import mock
            from django.utils import timezone

            def test_choice_patched(monkeypatch):
                monkeypatch.setattr(random, "choice", lambda xs: xs[0])
                assert pick([1, 2]) == random.choice([1, 2])

            def test_uuid_patched(mocker):
                mocker.patch("uuid.uuid4", return_value="x")
                assert make().id == uuid.uuid4()

            @mock.patch("django.utils.timezone.now")
            def test_now_patched(now):
                assert stamp() == timezone.now()

            def test_uuid_unpatched():
                assert make().id != uuid.uuid4()
            """
        },
        config="""
        [tool.backlint.options.nondeterministic-test]
        report-ids = true
        """,
        codes=("BL701",),
    )
    assert found == [
        (19, "BL701", "`uuid.uuid4()` in test `test_uuid_unpatched` makes it depend on a random id")
    ]


def test_random_draws_are_reported_once_per_function(tmp_path: Path) -> None:
    found = _check(
        tmp_path,
        {
            "tests/test_random.py": """
            import random
            import string
            from random import choice

            def test_many_draws(items):
                first = random.choice(items)
                random.shuffle(items)
                assert choice(items) in items or random.randrange(3) == first

            def test_draws_sent_through_the_code(client, items):
                item = random.choice(items)
                assert client.get(f"/items/{item.id}").json()["id"] == item.id

            def test_picks_and_floats_that_do_not_repeat(items, rating):
                picked = random.choice(items)
                picked.position = 3
                save(items)
                assert load(picked.id).position == picked.position
                assert random.uniform(1, 5) != rating

            def test_literal_picks_and_integers_repeat(client):
                first, second = random.randint(1, 6), random.choice([1, 2, 3, 4, 5, 6])
                assert first == second

            def test_seeded(items):
                random.seed(0)
                assert random.choice(items)

            def test_instance(items):
                rng = random.Random(3)
                assert rng.choice(items)

            def test_fixture_named_random(random):
                assert random.choice([1])

            def test_random_token_is_opaque_data(client):
                token = "".join(random.choice(string.ascii_lowercase) for _ in range(8))
                assert client.get(f"/invites/{token}").status_code == 404
            """
        },
        codes=("BL701",),
    )
    assert found == [
        (
            7,
            "BL701",
            "`random.shuffle()` in test `test_many_draws` makes it depend on an unseeded "
            "random generator: an assertion compares what it drew exactly (`in`) (1 more "
            "unseeded draw reaches an assertion)",
        ),
        (
            22,
            "BL701",
            "`random.randint()` in test `test_literal_picks_and_integers_repeat` makes it "
            "depend on an unseeded random generator: an assertion compares what it drew "
            "exactly (`==`) (1 more unseeded draw reaches an assertion)",
        ),
    ]


def test_module_seed_protects_every_test(tmp_path: Path) -> None:
    found = _check(
        tmp_path,
        {
            "tests/test_seeded.py": """
            import random
            random.seed(42)
            def test_pick(items):
                assert random.choice(items)
            """
        },
        codes=("BL701",),
    )
    assert found == []


def test_fixtures_helpers_and_options(tmp_path: Path) -> None:
    files = {
        "tests/conftest.py": """
        import uuid
        import pytest
        from django.utils import timezone

        @pytest.fixture
        def order():
            return Order(id=uuid.uuid4(), created=timezone.now())

        def assert_recent(stamp):
            assert stamp > timezone.now()
        """
    }
    assert _check(tmp_path, files, codes=("BL701",)) == []
    found = _check(
        tmp_path,
        files,
        config="""
        [tool.backlint.options.nondeterministic-test]
        clock-reads = "all"
        report-ids = true
        check-helpers = true
        """,
        codes=("BL701",),
    )
    assert [(line, message) for line, _, message in found] == [
        (7, "`uuid.uuid4()` in fixture `order` makes it depend on a random id"),
        (7, "`timezone.now()` in fixture `order` makes it depend on the wall clock"),
        (10, "`timezone.now()` in helper `assert_recent` makes it depend on the wall clock"),
    ]


def test_random_draws_all_reports_every_unseeded_draw(tmp_path: Path) -> None:
    files = {
        "tests/test_recipes.py": """
        import random
        import pytest

        @pytest.fixture
        def rating():
            return random.uniform(1, 5)

        def test_rate_recipe(client, recipes, rating):
            recipe = random.choice(recipes)
            stars = random.choice([1, 2])
            assert client.post(f"/rate/{recipe.slug}", json={"r": rating}).status_code == 200
        """
    }
    assert _check(tmp_path, files, codes=("BL701",)) == []
    found = _check(
        tmp_path,
        files,
        config="""
        [tool.backlint.options.nondeterministic-test]
        random-draws = "all"
        """,
        codes=("BL701",),
    )
    assert [(line, message) for line, _, message in found] == [
        (
            6,
            "`random.uniform()` in fixture `rating` makes it depend on an unseeded random "
            "generator",
        ),
        (
            9,
            "`random.choice()` in test `test_rate_recipe` makes it depend on an unseeded "
            "random generator (1 more unseeded draw follows)",
        ),
    ]


def test_only_test_code_is_read(tmp_path: Path) -> None:
    found = _check(
        tmp_path,
        {
            "app/services/orders.py": """
            import random
            def test_like_name():
                return random.choice([1, 2])
            """
        },
        codes=("BL701",),
    )
    assert found == []


def test_testcase_through_base_of_another_module(tmp_path: Path) -> None:
    base = """
    import unittest
    class BaseCase(unittest.TestCase):
        pass
    """
    test = """
    import datetime
    from tests.base import BaseCase
    class Tokens(BaseCase):
        def test_token_is_fresh(self):
            self.assertEqual(token().expires.date(), datetime.date.today())
    """
    found = _check(tmp_path, {"tests/base.py": base, "tests/test_tokens.py": test})
    assert [(line, code) for line, code, _ in found] == [(3, "BL732"), (5, "BL701")]
    plain = "class BaseCase:\n    pass\n"
    found = _check(tmp_path, {"tests/base.py": plain, "tests/test_tokens.py": test})
    assert found == []


# --- BL702 -------------------------------------------------------------------------------


def test_sleep_message_shows_the_delay(tmp_path: Path) -> None:
    found = _check(
        tmp_path,
        {
            "tests/test_worker.py": """
            import asyncio
            import time

            def test_worker_drains_queue():
                time.sleep(2)

            async def test_async_wait():
                await asyncio.sleep(0.1)
                await asyncio.sleep(0.0)
                await asyncio.sleep(settings.WORKER_POLL_INTERVAL_SECONDS * 10)
            """
        },
        codes=("BL702",),
    )
    assert found == [
        (
            5,
            "BL702",
            "`time.sleep(2)` in test `test_worker_drains_queue` waits a fixed time instead of "
            "for a condition: slow, and flaky when the wait is too short",
        ),
        (
            8,
            "BL702",
            "`asyncio.sleep(0.1)` in test `test_async_wait` waits a fixed time instead of "
            "for a condition: slow, and flaky when the wait is too short",
        ),
        (
            10,
            "BL702",
            "`asyncio.sleep(...)` in test `test_async_wait` waits a fixed time instead of "
            "for a condition: slow, and flaky when the wait is too short",
        ),
    ]


def test_sleep_markers_and_options(tmp_path: Path) -> None:
    source = """
    import time
    import pytest
    from django.test import tag

    @pytest.mark.slow
    class TestSlowQueue:
        def test_drains(self):
            time.sleep(1)

    @tag("e2e")
    def test_tagged():
        time.sleep(1)

    @pytest.mark.flaky_network
    def test_custom_marker():
        time.sleep(1)

    @pytest.mark.parametrize("x", [1])
    def test_unmarked(x):
        time.sleep(1)
    """
    found = _check(tmp_path, {"tests/test_queue.py": source}, codes=("BL702",))
    assert _lines(found) == [16, 20]
    found = _check(
        tmp_path,
        {"tests/test_queue.py": source},
        config="""
        [tool.backlint.options.sleep-in-test]
        allow-sleep-markers = ["flaky_network"]
        """,
        codes=("BL702",),
    )
    assert _lines(found) == [8, 12, 20]


def test_polling_loops_patches_and_frozen_clocks(tmp_path: Path) -> None:
    found = _check(
        tmp_path,
        {
            "tests/test_poll.py": """
            import time
            from unittest import mock
            from freezegun import freeze_time

            def test_while_condition():
                while not done():
                    time.sleep(0.1)

            def test_for_with_break():
                for _ in range(10):
                    if done():
                        break
                    time.sleep(0.1)

            def test_for_without_break():
                for _ in range(3):
                    time.sleep(0.1)

            def test_while_true_without_break():
                while True:
                    time.sleep(0.1)

            @mock.patch("app.worker.time.sleep")
            def test_patched_decorator(sleep):
                time.sleep(5)

            def test_patched_block():
                with mock.patch("time.sleep"):
                    time.sleep(5)

            @freeze_time("2024-01-01")
            def test_frozen_clock_still_sleeps():
                time.sleep(5)
            """
        },
        codes=("BL702",),
    )
    assert _lines(found) == [17, 21, 33]


def test_sleep_in_helper_only_with_option(tmp_path: Path) -> None:
    files = {
        "tests/helpers.py": """
        import time
        def wait_for_worker():
            time.sleep(1)
        """
    }
    assert _check(tmp_path, files, codes=("BL702",)) == []
    found = _check(
        tmp_path,
        files,
        config="""
        [tool.backlint.options.sleep-in-test]
        check-helpers = true
        """,
        codes=("BL702",),
    )
    assert [message for _, _, message in found] == [
        "`time.sleep(1)` in helper `wait_for_worker` waits a fixed time instead of for a "
        "condition: slow, and flaky when the wait is too short"
    ]


# --- BL731 / BL732 ----------------------------------------------------------------------


def test_function_naming_messages(tmp_path: Path) -> None:
    found = _check(
        tmp_path,
        {
            "tests/test_users.py": """
            import unittest

            def test_user(): ...

            def testCreateUser(): ...

            class TestCreateUser:
                def test_works(self): ...
                def test_duplicate_email(self): ...
            """
        },
        codes=("BL731",),
    )
    assert found == [
        (
            3,
            "BL731",
            "Test name `test_user` has 1 word after `test_`, fewer than 3: name the method, "
            "the condition and the expected outcome, as in "
            "`test_<method>_<condition>_<expected>`",
        ),
        (
            5,
            "BL731",
            "Test name `testCreateUser` does not separate its words with `_` after `test`; "
            "use `test_<method>_<condition>_<expected>`",
        ),
        (
            8,
            "BL731",
            "Test name `test_works` has 1 word after `test_`, fewer than 2 for a method of a "
            "test class: name the condition and the expected outcome, as in "
            "`test_<condition>_<expected>`",
        ),
    ]


def test_function_naming_follows_pytest_configuration(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\npython_files = check_*.py\npython_functions = check\n", encoding="utf-8"
    )
    found = _check(
        tmp_path,
        {
            "suite/check_orders.py": """
            def check_total(): ...
            def check_total_with_discount_is_reduced(): ...
            def test_not_collected(): ...
            """
        },
        codes=("BL731",),
    )
    assert [(line, message.split(",")[0]) for line, _, message in found] == [
        (1, "Test name `check_total` has 1 word after `check_`")
    ]


def test_function_naming_options(tmp_path: Path) -> None:
    found = _check(
        tmp_path,
        {
            "tests/test_login.py": """
            def test_login_expired_password_forbidden(): ...
            def test_login_when_password_expired_returns_403(): ...
            def test_login_ok(): ...
            """
        },
        config="""
        [tool.backlint.options.test-function-naming]
        min-segments = 2
        require-connector = true
        connector-words = ["when"]
        """,
        codes=("BL731",),
    )
    assert found == [
        (
            1,
            "BL731",
            "Test name `test_login_expired_password_forbidden` has no connector word "
            "(`when`, ...) between its parts",
        ),
        (
            3,
            "BL731",
            "Test name `test_login_ok` has no connector word (`when`, ...) between its parts",
        ),
    ]


def test_class_naming_messages_and_exclusions(tmp_path: Path) -> None:
    source = """
    from django.test import TestCase

    class TestUsers:
        def test_duplicate_email_raises(self): ...

    class Tests:
        def test_duplicate_email_raises(self): ...

    class RackTestCase(TestCase):
        def test_height_filter_returns_racks(self): ...

    class TestGraphQLView:
        def test_query_without_token_returns_401(self): ...

    class TestUsersHelpers:
        def make(self): ...
    """
    found = _check(tmp_path, {"tests/test_users.py": source}, codes=("BL732",))
    assert found == [
        (
            3,
            "BL732",
            "Test class `TestUsers` names only `Users`: name the action and the resource it "
            "tests, as in `TestCreateUser`",
        ),
        (
            6,
            "BL732",
            "Test class `Tests` names nothing but the marker: name the action and the "
            "resource it tests, as in `TestCreateUser`",
        ),
        (
            9,
            "BL732",
            "Test class `RackTestCase` names only `Rack`: name the action and the resource "
            "it tests, as in `TestCreateUser`",
        ),
    ]
    in_conftest = _check(tmp_path / "other", {"tests/conftest.py": source}, codes=("BL732",))
    assert in_conftest == []


def test_naming_rules_are_off_by_default(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text(
        "class TestUsers:\n    def test_a(self): ...\n", encoding="utf-8"
    )
    result = run_check(CheckRequest(paths=(tmp_path,), cwd=tmp_path, jobs=1))
    assert not [d for d in result.diagnostics if d.code in ("BL731", "BL732")]


def test_sleeps_in_fakes_are_not_waits_but_the_tests_own_steps_are(tmp_path: Path) -> None:
    found = _check(
        tmp_path,
        {
            "tests/test_fakes.py": """
            import asyncio
            import threading
            import time

            async def test_time_limit_exceeded(mocker):
                async def slow_task():
                    await asyncio.sleep(10)
                mocker.patch("app.runner.registry", return_value={"dummy": slow_task})
                with pytest.raises(Timeout):
                    await run_task("dummy")

            def test_metrics_measure_duration(broker):
                @actor(broker=broker)
                def slow_task():
                    time.sleep(0.05)
                slow_task.send()
                assert duration() >= 0.05

            def test_worker_sees_late_job(queue):
                def produce():
                    time.sleep(0.2)
                    queue.put(1)
                threading.Thread(target=produce).start()
                assert consume(queue, timeout=1) == 1

            async def test_reader_gets_message(stream):
                async def write():
                    await asyncio.sleep(0.1)
                    await stream.write("x")
                await asyncio.gather(write(), read(stream))
                assert stream.read_count == 1
            """
        },
        codes=("BL702",),
    )
    assert _lines(found) == [21, 28]


def test_a_wait_before_checking_that_nothing_happened_has_its_own_message(
    tmp_path: Path,
) -> None:
    found = _check(
        tmp_path,
        {
            "tests/test_negative.py": """
            import asyncio
            import time

            def test_disabled_watchdog_does_not_exit(watchdog, exit_mock):
                watchdog.start()
                time.sleep(1.0)
                watchdog.stop()
                exit_mock.assert_not_called()
                assert not watchdog.dump.called
                assert watchdog.kills.call_count == 0

            async def test_revoke_is_idempotent(seat):
                first = (await revoke(seat)).revoked_at
                await asyncio.sleep(0.01)
                assert (await revoke(seat)).revoked_at == first

            def test_stuck_loop_triggers_dump(watchdog, dump):
                watchdog.start()
                time.sleep(0.6)
                dump.assert_not_called()
                time.sleep(0.6)
                dump.assert_called()
            """
        },
        codes=("BL702",),
    )
    negative = "waits a fixed time before checking that something did not happen"
    assert [(line, negative in message) for line, _, message in found] == [
        (6, True),
        (14, True),
        (19, True),
        (21, False),
    ]
    assert found[0][2] == (
        "`time.sleep(1.0)` in test `test_disabled_watchdog_does_not_exit` waits a fixed time "
        "before checking that something did not happen: when the wait is too short the "
        "check passes without proving anything, and every run pays for the wait"
    )
