"""BL711 mock-overuse, BL712 interaction-only-test and BL721
flaky-retry-masks-nondeterminism beyond their examples: what counts as a mock and as a
check, fixtures of the conftest chain, boundaries outside the project, messages,
options, and the rerun options of pytest configuration files."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from cli_helpers import write_files as _write

from backlint.application import CheckRequest, run_check
from backlint.diagnostics import Diagnostic
from backlint.rules.test_retries.rerun_options import CONFIG_FILE_NAMES, find_rerun_options

# Project modules the tests patch: owned collaborators.
_APP = {
    "app/__init__.py": "",
    "app/users.py": """
        class Repo: ...
        repo = Repo()
        mailer = Repo()
        def audit(event): ...
        def register(user): ...
    """,
    "app/pay.py": """
        import logging
        from app.http import post
        logger = logging.getLogger(__name__)
        def gateway(): ...
        def ledger(): ...
        def audit(): ...
    """,
    # Wraps an outside system: its functions are boundaries.
    "app/http.py": """
        import requests
        def post(url, json):
            return requests.post(url, json=json)
    """,
}


def _check(
    root: Path, code: str, files: dict[str, str], *paths: str, config: str = ""
) -> list[Diagnostic]:
    _write(root, {**_APP, **files})
    if config:
        (root / "pyproject.toml").write_text(f"[tool.backlint]\n{config}", encoding="utf-8")
    targets = tuple(root / path for path in paths) or (root,)
    result = run_check(CheckRequest(paths=targets, cwd=root, extend_select=(code,), jobs=1))
    assert not result.internal_errors, result.internal_errors
    return [d for d in result.diagnostics if d.code == code]


def _messages(root: Path, code: str, source: str, path: str = "tests/test_x.py") -> list[str]:
    return [d.message for d in _check(root, code, {path: source})]


# --- BL711 ---------------------------------------------------------------------------


def test_bl711_message_and_position(tmp_path: Path) -> None:
    source = """
        from unittest.mock import patch

        @patch("app.users.repo")
        @patch("app.users.mailer")
        @patch("app.users.audit")
        def test_register_sends_mail(audit, mailer, repo):
            register(user)
            mailer.send.assert_called_once_with(user.email)
            assert user.active
    """
    [found] = _check(tmp_path, "BL711", {"tests/test_x.py": source})
    assert found.message == (
        "Test `test_register_sends_mail` uses 3 mocks (`users.repo`, `users.mailer`, "
        "`users.audit`) and checks only 1 result and the calls of 1 mock"
    )
    assert (found.span.start.line, found.span.start.column) == (6, 5)


@pytest.mark.parametrize(
    ("body", "mocks"),
    [
        # Class decorators, ``with`` items and ``.start()`` all patch.
        (
            'with patch("app.pay.gateway"), patch("app.pay.ledger"):\n        run()\n'
            '    patch("app.users.repo").start()',
            4,
        ),
        # A mock configured into another is one double with it.
        (
            "g = MagicMock()\n    span = MagicMock()\n"
            "    g.return_value.__enter__.return_value = span\n"
            '    g.x = 1\n    patch("app.pay.gateway", new=g).start()',
            2,
        ),
        # Rebinding one name, or patching one target twice, is one double.
        (
            "p = Mock(return_value=1)\n    p = Mock(return_value=2)\n    p.x = 1\n"
            '    patch("app.pay.ledger").start()\n    patch("app.pay.ledger").start()',
            3,
        ),
        # A bare ``Mock()`` passed along, or a named one only passed along, is a dummy;
        # so is one made like a class or given only data, passed along or read.
        ("d = Mock()\n    run(Mock(), manager=MagicMock(), extra=d)", 1),
        (
            "u = MagicMock(spec=User)\n    u.id = 1\n    o = Mock(total=3)\n"
            "    run(u, o, MagicMock(spec=Session), Mock(name='x'))\n    print(o.total)",
            1,
        ),
        # Given behaviour, checked, or installed by a patch, it is a collaborator.
        (
            "a = Mock()\n    a.get.return_value = 1\n    b = Mock()\n    c = Mock()\n"
            '    patch("app.pay.gateway", new=c).start()\n    run(a, b, c)\n'
            "    b.send.assert_called_once()",
            4,
        ),
        # Mocks gathered in a dict and then into one mock: one double.
        (
            'methods = {"a": Mock(return_value=1), "b": Mock(return_value=2)}\n'
            "    manager = Mock(**methods)\n    manager.x = 1",
            2,
        ),
        # ``wraps=`` counts half.
        ('patch("app.pay.gateway", wraps=real).start()', 1.5),
    ],
)
def test_bl711_what_counts_as_one_mock(tmp_path: Path, body: str, mocks: float) -> None:
    source = (
        "from unittest.mock import Mock, MagicMock, patch\n\n"
        '@patch("app.pay.audit")\n'
        "class TestPay:\n"
        "    def test_pay(self, audit):\n"
        f"        {textwrap.indent(body, '    ').lstrip()}\n"
    )
    config = "[tool.backlint.options.mock-overuse]\nmin-mocks = 1\n"
    [found] = _check(tmp_path, "BL711", {"tests/test_x.py": source}, config=config)
    shown = str(int(mocks)) if mocks == int(mocks) else str(mocks)
    assert f"uses {shown} mock" in found.message, found.message


def test_bl711_literals_seams_and_boundaries_are_not_mocks(tmp_path: Path) -> None:
    source = """
        from unittest.mock import patch

        @patch("app.pay.post")
        @patch("app.pay.logger")
        @patch("app.pay.time.sleep")
        @patch("app.settings.RETRIES", 3)
        @patch.dict("os.environ", {"MODE": "test"})
        @patch("app.pay.gateway")
        @patch("app.pay.ledger")
        def test_pay(ledger, gateway, sleep, logger, post):
            pay()
            post.assert_called_once()
    """
    config = "[tool.backlint.options.mock-overuse]\nmin-mocks = 2\n"
    [found] = _check(tmp_path, "BL711", {"tests/test_x.py": source}, config=config)
    # ``requests`` is imported into ``app.pay``: outside the project. What was posted
    # there is the code's behaviour, a result.
    assert found.message == (
        "Test `test_pay` uses 2 mocks (`pay.gateway`, `pay.ledger`) and checks only 1 result"
    )
    config += "count-library-mocks = true\nignored-targets = []\n"
    [found] = _check(tmp_path, "BL711", {"tests/test_x.py": source}, config=config)
    assert found.message == (
        "Test `test_pay` uses 5 mocks (`pay.post`, `pay.logger`, `time.sleep` and 2 more) "
        "and checks only the calls of 1 mock"
    )


def test_bl711_conftest_chain_and_local_fixtures(tmp_path: Path) -> None:
    files = {
        "tests/conftest.py": """
            import pytest
            from unittest.mock import MagicMock

            @pytest.fixture
            def gateway():
                return MagicMock()

            @pytest.fixture
            def ledger(mocker):
                m = mocker.patch("app.pay.ledger")
                yield m

            @pytest.fixture
            def order():
                return {"id": 1}
        """,
        "tests/pay/conftest.py": """
            import pytest

            @pytest.fixture
            def order():  # nearer than the parent's, and a mock
                from unittest.mock import Mock
                return Mock()
        """,
        "tests/pay/test_pay.py": """
            import pytest

            @pytest.fixture(name="audit")
            def audit_fixture(mocker):
                return mocker.patch("app.pay.audit")

            @pytest.mark.parametrize("amount", [1, 2])
            def test_pay(gateway, ledger, order, audit, amount):
                pay(order, amount)
                gateway.charge.assert_called_once()
                assert order.paid
        """,
    }
    [found] = _check(tmp_path, "BL711", files)
    # ``order`` is a mock standing in for data: passed along and read, never given
    # behaviour or checked.
    assert found.message == (
        "Test `test_pay` uses 3 mocks (`audit`, `gateway`, `ledger`) and checks only 1 "
        "result and the calls of 1 mock"
    )
    # pre-commit checks only the changed test file: the conftests are read from disk.
    assert [d.message for d in _check(tmp_path, "BL711", {}, "tests/pay/test_pay.py")] == [
        found.message
    ]


def test_bl711_fixture_of_the_parent_conftest_that_is_no_mock(tmp_path: Path) -> None:
    files = {
        "tests/conftest.py": "import pytest\n\n@pytest.fixture\ndef order():\n    return 1\n",
        "tests/test_pay.py": """
            def test_pay(order, mocker):
                mocker.patch("app.pay.gateway")
                mocker.patch("app.pay.ledger")
                assert pay(order)
        """,
    }
    assert _check(tmp_path, "BL711", files) == []


def test_bl711_unittest_test_case_through_a_base_class(tmp_path: Path) -> None:
    files = {
        "tests/__init__.py": "",
        "tests/base.py": "from django.test import TestCase\n\nclass ApiCase(TestCase):\n    pass\n",
        "tests/test_pay.py": """
            from unittest import mock
            from tests.base import ApiCase

            class PayTests(ApiCase):
                @mock.patch("app.pay.gateway")
                @mock.patch("app.pay.ledger")
                @mock.patch("app.pay.audit")
                def test_pay(self, audit, ledger, gateway):
                    pay()
                    self.assertTrue(gateway.called)

            class Helper:  # not a test class: its methods are no tests
                @mock.patch("app.pay.gateway")
                @mock.patch("app.pay.ledger")
                @mock.patch("app.pay.audit")
                def test_like(self, audit, ledger, gateway):
                    pay()
        """,
    }
    found = _check(tmp_path, "BL711", files)
    assert [d.message.split(" uses")[0] for d in found] == ["Test `PayTests.test_pay`"]


def test_bl711_checks_of_results(tmp_path: Path) -> None:
    source = """
        import pytest
        from assertpy import assert_that
        from tests.helpers import assert_order_paid

        def test_pay(mocker, snapshot):
            mocker.patch("app.pay.gateway")
            mocker.patch("app.pay.ledger")
            mocker.patch("app.pay.audit")
            with pytest.raises(ValueError):
                pay(None)
            assert_that(pay(1)).is_true()
            assert_order_paid(1)
            snapshot.assert_match(pay(2))
    """
    assert _messages(tmp_path, "BL711", source) == []


def test_bl711_options(tmp_path: Path) -> None:
    source = """
        from mylib import expect

        def test_pay(mocker):
            mocker.patch("app.pay.gateway")
            mocker.patch("app.pay.ledger")
            mocker.patch("app.pay.audit")
            expect(pay(1)).to_be(1)
            expect(pay(2)).to_be(2)
            expect(pay(3)).to_be(3)
    """
    files = {"tests/test_x.py": source, "tests/contracts/test_y.py": source}
    assert len(_check(tmp_path, "BL711", files)) == 1  # contracts are left alone
    config = (
        "[tool.backlint.options.mock-overuse]\n"
        'extra-assert-functions = ["mylib.expect"]\n'
        "contract-test-globs = []\n"
    )
    assert _check(tmp_path, "BL711", files, config=config) == []
    config = "[tool.backlint.options.mock-overuse]\nmin-mocks = 4\n"
    assert _check(tmp_path, "BL711", files, config=config) == []


# --- BL712 ---------------------------------------------------------------------------


def test_bl712_messages(tmp_path: Path) -> None:
    source = """
        from unittest.mock import patch

        def test_pay_calls_gateway(mocker):
            g = mocker.patch("app.pay.gateway")
            l = mocker.patch("app.pay.ledger")
            pay()
            g.charge.assert_called()
            assert l.post.call_count == 1

        @patch("app.pay.gateway")
        @patch("app.pay.ledger")
        def test_nightly(ledger, gateway):
            run_nightly()
    """
    assert _messages(tmp_path, "BL712", source) == [
        "Test `test_pay_calls_gateway` uses 2 mocks (`pay.gateway`, `pay.ledger`) and only "
        "checks how mocks were called (2 interaction checks, no check of a result or of "
        "state): it checks that `g.charge` and `l.post` were called, not with what",
        "Test `test_nightly` uses 2 mocks (`pay.gateway`, `pay.ledger`) and checks nothing: "
        "no assertion on a result, on state or on a call",
    ]


def test_bl712_what_was_sent_is_behaviour_how_data_was_asked_for_is_not(
    tmp_path: Path,
) -> None:
    source = """
        from unittest.mock import patch

        @patch("app.pay.gateway")
        @patch("app.pay.ledger")
        @patch("app.pay.audit")
        def test_events_are_sent_with_the_order(audit, ledger, gateway):
            pay(order)
            gateway.assert_called_once_with(order, webhooks=set())
            assert ledger.call_args.kwargs == {"amount": 10}
            audit.assert_not_called()

        def test_fees_are_applied(mocker):
            repo = mocker.patch("app.pay.ledger")
            repo.get_account.return_value = account
            fee = mocker.patch("app.pay.gateway")
            apply_fee(org)
            repo.get_account.assert_called_once_with(org)
            fee.set_fee.assert_called_once_with(account, 380)

        def test_account_is_looked_up(mocker):
            repo = mocker.patch("app.pay.ledger")
            repo.get_account.return_value = account
            fee = mocker.patch("app.pay.gateway")
            apply_fee(org)
            repo.get_account.assert_called_once_with(org)
            fee.set_fee.assert_called_once()
    """
    assert _messages(tmp_path, "BL712", source) == [
        "Test `test_account_is_looked_up` uses 2 mocks (`pay.ledger`, `pay.gateway`) and only "
        "checks how mocks were called (2 interaction checks, no check of a result or of "
        "state), including the calls of `repo.get_account`, which it stubbed itself"
    ]


@pytest.mark.parametrize(
    ("body", "flagged"),
    [
        # The outgoing command: stub a query, expect one command.
        (
            'q = mocker.patch("app.pay.gateway", return_value=1)\n'
            '    c = mocker.patch("app.pay.ledger")\n    pay()\n'
            "    c.assert_called_once_with(1)\n    assert c.call_args.kwargs == {}",
            False,
        ),
        # A third mock makes it interaction-only.
        (
            'mocker.patch("app.pay.gateway")\n    mocker.patch("app.pay.audit")\n'
            '    c = mocker.patch("app.pay.ledger")\n    pay()\n    c.assert_called_once()',
            True,
        ),
        # One mock, however many of its methods are checked: it takes two doubles.
        (
            'c = mocker.patch("app.pay.ledger")\n    pay()\n'
            "    c.post.assert_called()\n    c.flush.assert_called()",
            False,
        ),
        # A check of a call that left the project is a result.
        (
            'mocker.patch("app.pay.gateway")\n    mocker.patch("app.pay.audit")\n'
            '    post = mocker.patch("app.pay.post")\n    pay()\n'
            "    post.assert_called_once()",
            False,
        ),
        # Django's test client and assertions.
        (
            'mocker.patch("app.pay.gateway")\n    mocker.patch("app.pay.audit")\n'
            '    response = self.client.get("/")\n'
            "    self.assertEqual(response.status_code, 200)",
            False,
        ),
        # A private ``_assert_*`` helper checks a result.
        (
            'g = mocker.patch("app.pay.gateway")\n    mocker.patch("app.pay.audit")\n'
            "    self._assert_schema(g)",
            False,
        ),
    ],
)
def test_bl712_thresholds(tmp_path: Path, body: str, flagged: bool) -> None:
    indented = textwrap.indent(body, "    ").lstrip()
    source = f"class TestPay:\n    def test_pay(self, mocker):\n        {indented}\n"
    assert bool(_messages(tmp_path, "BL712", source)) == flagged


def test_bl712_patch_mocks_fill_the_first_parameters(tmp_path: Path) -> None:
    # pytest passes fixtures by keyword: the mocks of ``@patch`` are the first
    # parameters, the bottom decorator's first. ``post`` is the library's boundary, so
    # checking it checks a result.
    files = {
        "tests/conftest.py": "import pytest\n\n@pytest.fixture\ndef order():\n    return 1\n",
        "tests/test_pay.py": """
            from unittest.mock import patch

            @patch("app.pay.post")
            @patch("app.pay.gateway")
            def test_pay(gateway, post, order):
                pay(order)
                post.assert_called_once()
                gateway.charge.assert_called_once()
        """,
    }
    assert _check(tmp_path, "BL712", files) == []


def test_bl712_half_mocks_are_named_as_such(tmp_path: Path) -> None:
    source = """
        from unittest.mock import patch

        @patch("app.pay.gateway", wraps=gateway)
        @patch("app.pay.ledger")
        @patch("app.pay.audit")
        def test_pay(audit, ledger, gateway):
            pay()
            gateway.assert_called_once()
            ledger.assert_called_once()

        @patch("app.pay.gateway", wraps=gateway)
        @patch("app.pay.ledger")
        def test_spy_and_one_mock(ledger, gateway):
            pay()
            gateway.assert_called_once()
            ledger.assert_called_once()
    """
    # A spy and one mock make 1.5 doubles: fewer than the two the rule needs.
    assert _messages(tmp_path, "BL712", source) == [
        "Test `test_pay` uses 2.5 mocks (`pay.gateway (wraps)`, `pay.ledger`, `pay.audit`) "
        "and only checks how mocks were called (2 interaction checks, no check of a result "
        "or of state): it checks that `gateway` and `ledger` were called, not with what"
    ]


# --- Boundaries and the shape of a test --------------------------------------------

_SHOP = {
    # Wraps the payment provider: imports its SDK and no database layer.
    "shop/__init__.py": "",
    "shop/billing.py": """
        import stripe
        class StripeService:
            def refund(self, charge): ...
        stripe_service = StripeService()
    """,
    # The shop's own logic: it talks to the provider too, but also to the database.
    "shop/orders.py": """
        import stripe
        import sqlalchemy
        from shop.billing import stripe_service
        def notify(order): ...
        def restock(order): ...
        def refund(order): ...
    """,
    "tests/conftest.py": """
        import pytest
        from unittest.mock import MagicMock
        from shop.billing import StripeService

        @pytest.fixture
        def stripe_mock(mocker):
            mock = MagicMock(spec=StripeService)
            mocker.patch("shop.orders.stripe_service", new=mock)
            return mock
    """,
}


def test_a_module_that_wraps_an_outside_system_is_a_boundary_however_it_is_patched(
    tmp_path: Path,
) -> None:
    source = """
        from unittest.mock import MagicMock
        from shop.billing import StripeService

        def test_inline(mocker):
            stripe = mocker.patch("shop.orders.stripe_service")
            notify = mocker.patch("shop.orders.notify")
            refund(order)
            stripe.refund.assert_called_once()
            notify.assert_called_once()

        def test_fixture(stripe_mock, mocker):
            notify = mocker.patch("shop.orders.notify")
            refund(order)
            stripe_mock.refund.assert_called_once()
            notify.assert_called_once()

        def test_installed_twice(mocker):
            stripe = MagicMock(spec=StripeService)
            mocker.patch("shop.orders.stripe_service", new=stripe)
            mocker.patch("shop.billing.stripe_service", new=stripe)
            notify = mocker.patch("shop.orders.notify")
            refund(order)
            stripe.refund.assert_called_once()
            notify.assert_called_once()

        def test_owned_service(mocker):
            restock = mocker.patch("shop.orders.restock")
            notify = mocker.patch("shop.orders.notify")
            refund(order)
            restock.assert_called_once()
            notify.assert_called_once()
    """
    files = {**_SHOP, "tests/test_refund.py": source}
    # What reached the provider is the result; ``shop.orders`` is the project's own.
    found = _check(tmp_path, "BL712", files)
    assert [d.message.split(" uses")[0] for d in found] == ["Test `test_owned_service`"]
    config = "[tool.backlint.options.interaction-only-test]\nboundary-packages = []\n"
    found = _check(tmp_path, "BL712", files, config=config)
    assert len(found) == 4


def test_one_mock_installed_by_a_fixture_for_the_test_to_use(tmp_path: Path) -> None:
    files = {
        "tests/conftest.py": """
            import pytest
            from unittest.mock import AsyncMock, MagicMock

            @pytest.fixture
            def ledger_mock(mocker):
                mock = AsyncMock()
                mocker.patch("app.pay.ledger", mock)
                return mock

            @pytest.fixture
            def repo_mock():
                repo = MagicMock()
                repo.get_by_id = AsyncMock(return_value=None)
                return repo

            @pytest.fixture
            def session_mock():
                return MagicMock(spec=AsyncSession)
        """,
        "tests/test_pay.py": """
            def test_pay(ledger_mock, repo_mock, session_mock, mocker):
                mocker.patch("app.pay.audit")
                pay(session_mock, repo_mock)
                ledger_mock.assert_awaited_once()
        """,
    }
    # ``session_mock`` only stands in for a session: three collaborators, two checks.
    [found] = _check(tmp_path, "BL711", files)
    assert found.message == (
        "Test `test_pay` uses 3 mocks (`pay.audit`, `ledger_mock`, `repo_mock`) and checks "
        "only the calls of 1 mock"
    )


# --- BL721 ---------------------------------------------------------------------------


def test_bl721_decorators_and_messages(tmp_path: Path) -> None:
    source = """
        import pytest
        import time
        import tenacity
        from datetime import datetime
        from flaky import flaky
        from freezegun import freeze_time

        unstable = pytest.mark.flaky(reruns=2)

        @pytest.mark.flaky(reruns=3, reruns_delay=1)
        def test_sync():
            start = datetime.now()
            time.sleep(2)

        @flaky
        @freeze_time("2024-01-01")
        def test_frozen():
            assert datetime.now()

        @unstable
        def test_alias():
            ...

        @tenacity.retry(stop=tenacity.stop_after_attempt(3))
        def test_retried():
            ...

        @pytest.mark.parametrize("n", [1, pytest.param(2, marks=pytest.mark.flaky)])
        def test_cases(n):
            ...

        @flaky
        def helper():
            ...
    """
    found = _check(tmp_path, "BL721", {"tests/test_x.py": source})
    assert [(d.span.start.line, d.message) for d in found] == [
        (
            10,
            "`@pytest.mark.flaky(reruns=3, reruns_delay=1)` reruns test `test_sync` until it "
            "passes, and the test calls `time.sleep` (BL701/BL702): the retry hides that "
            "nondeterminism instead of fixing it",
        ),
        (
            15,
            "`@flaky` reruns test `test_frozen` until it passes: a retry hides intermittent "
            "failures instead of fixing their cause",
        ),
        (
            20,
            "`@unstable` reruns test `test_alias` until it passes: a retry hides "
            "intermittent failures instead of fixing their cause",
        ),
        (
            24,
            "`@tenacity.retry(stop=tenacity.stop_after_attempt(3))` retries test "
            "`test_retried` until it passes: a retry hides intermittent failures instead of "
            "fixing their cause",
        ),
        (
            28,
            "`pytest.mark.flaky` reruns a parametrized case of test `test_cases` until it "
            "passes: a retry hides intermittent failures instead of fixing their cause",
        ),
    ]
    assert found[0].severity.value == "error"


def test_bl721_pytestmark_of_module_and_class(tmp_path: Path) -> None:
    source = """
        import random
        import pytest

        pytestmark = [pytest.mark.django_db, pytest.mark.flaky(reruns=2)]

        class TestSearch:
            pytestmark = pytest.mark.flaky

            def test_query(self):
                assert search() == random.choice([1, 2])

        def test_other():
            pytestmark = pytest.mark.flaky  # a local variable: no mark
    """
    found = _check(tmp_path, "BL721", {"tests/test_x.py": source})
    assert [(d.span.start.line, d.span.end.line) for d in found] == [(4, 4), (7, 7)]
    assert found[0].message.startswith(
        "`pytest.mark.flaky(reruns=2)` in `pytestmark` reruns every test of this module until "
        "it passes, and `TestSearch.test_query` calls `random.choice`"
    )
    assert found[1].message.startswith(
        "`pytest.mark.flaky` in `pytestmark` reruns every test of `TestSearch`"
    )


def test_bl721_names_only_the_calls_bl701_and_bl702_report(tmp_path: Path) -> None:
    source = """
        import asyncio
        import random
        import time
        import uuid
        from datetime import date, datetime
        from unittest import mock
        import pytest

        @pytest.mark.flaky(reruns=2)
        def test_signup(client):
            email = f"{uuid.uuid4()}@example.com"
            since = datetime.now()
            client.post("/signup", json={"email": email, "since": since.isoformat()})
            recipe = random.choice(client.recipes)
            assert client.get(f"/r/{recipe.id}").json()["id"] == recipe.id
            assert client.get("/users").json()["created"] >= since.isoformat()

        @pytest.mark.flaky(reruns=2)
        async def test_timeout(mocker):
            async def slow(url):
                await asyncio.sleep(10)
            mocker.patch("app.fetch", side_effect=slow)
            while not done():
                time.sleep(0.1)
            await asyncio.sleep(0)

        @pytest.mark.flaky(reruns=2)
        @mock.patch("app.jobs.time.sleep")
        def test_retry_backoff(sleep):
            time.sleep(1)
            assert report().day == date.today().day
    """
    found = _check(tmp_path, "BL721", {"tests/test_x.py": source})
    assert [d.message.split(" until it passes")[1] for d in found] == [
        ": a retry hides intermittent failures instead of fixing their cause",
        ": a retry hides intermittent failures instead of fixing their cause",
        ", and the test calls `date.today` (BL701/BL702): the retry hides that "
        "nondeterminism instead of fixing it",
    ]


def test_bl721_marks_imported_from_a_project_module(tmp_path: Path) -> None:
    files = {
        "tests/__init__.py": "",
        "tests/marks.py": (
            "import pytest\nunstable = pytest.mark.flaky(reruns=2)\nslow = pytest.mark.slow\n"
        ),
        "tests/test_x.py": """
            from tests.marks import slow, unstable
            from tests.helpers import with_user

            @unstable
            def test_a(): ...

            @slow
            @with_user
            def test_b(): ...
        """,
    }
    found = _check(tmp_path, "BL721", files, "tests/test_x.py")
    assert [d.message.split(" until")[0] for d in found] == ["`@unstable` reruns test `test_a`"]


def test_bl721_allow_paths_and_waivers(tmp_path: Path) -> None:
    source = """
        import pytest

        @pytest.mark.flaky(reruns=2)  # backlint: allow BL721 OPS-12 third-party sandbox
        def test_a(): ...

        @pytest.mark.flaky(reruns=2)
        def test_b(): ...
    """
    files = {"tests/test_x.py": source, "tests/e2e/test_checkout.py": source}
    found = _check(tmp_path, "BL721", files)
    assert [(d.path.rsplit("/", 2)[-2:], d.span.start.line) for d in found] == [
        (["e2e", "test_checkout.py"], 6),
        (["tests", "test_x.py"], 6),
    ]
    config = (
        '[tool.backlint.options.flaky-retry-masks-nondeterminism]\nallow-paths = ["tests/e2e/**"]\n'
    )
    found = _check(tmp_path, "BL721", files, config=config)
    assert [d.path.rsplit("/", 1)[-1] for d in found] == ["test_x.py"]


# --- BL721: rerun options in pytest configuration files -------------------------------


def _options(name: str, text: str) -> list[tuple[int, int, int, str]]:
    return find_rerun_options(name, textwrap.dedent(text).lstrip("\n"))


def test_config_file_names() -> None:
    assert CONFIG_FILE_NAMES == ("pyproject.toml", "pytest.ini", "setup.cfg", "tox.ini")


def test_rerun_options_in_a_toml_string() -> None:
    text = """
        [tool.coverage.run]
        addopts = "--reruns 5"

        [tool.pytest.ini_options]
        # addopts = "--reruns 9"
        addopts = "-ra --reruns 2 --reruns-delay 1 --only-rerun ConnectionError"
        python_files = ["test_*.py"]
    """
    assert _options("pyproject.toml", text) == [(6, 16, 24, "--reruns")]


def test_rerun_options_in_a_toml_list_and_pytest_9_table() -> None:
    text = """
        [tool.pytest]
        addopts = [
            "-ra",  # "--reruns 3" in a comment
            "--reruns=3",
            '--retries', "0",
            \"\"\"--force-flaky
            --max-runs 3\"\"\",
            "--max-runs", "1",
        ]
    """
    assert _options("pyproject.toml", text) == [
        (4, 6, 16, "--reruns"),
        (6, 8, 21, "--force-flaky"),
        (7, 5, 15, "--max-runs"),
    ]


def test_rerun_options_in_toml_escapes_and_dotted_keys() -> None:
    assert _options("pyproject.toml", "[tool]\npytest.ini_options.addopts = '--retries 2'\n") == [
        (2, 31, 40, "--retries")
    ]
    assert _options(
        "sub/pyproject.toml", '[tool.pytest.ini_options]\naddopts = "\\t--reruns 1"\n'
    ) == [(2, 14, 22, "--reruns")]
    assert _options("pyproject.toml", "[tool.pytest.ini_options\naddopts = '--reruns 2'\n") == []


@pytest.mark.parametrize(
    ("name", "section"),
    [("pytest.ini", "pytest"), ("tox.ini", "pytest"), ("setup.cfg", "tool:pytest")],
)
def test_rerun_options_in_ini_files(name: str, section: str) -> None:
    text = f"""
        [flake8]
        addopts = --reruns 4

        [{section}]
        addopts =
            -ra
            # --reruns 2
            --reruns 2  ; --retries 3
        ; a comment line

            --retries=1 --max-runs 0
        python_files = test_*.py
    """
    assert _options(name, text) == [(8, 5, 13, "--reruns"), (11, 5, 16, "--retries")]


def test_rerun_options_elsewhere_are_ignored() -> None:
    assert _options("setup.cfg", "[pytest]\naddopts = --reruns 2\n") == []
    assert _options("pytest.ini", "[pytest]\naddopts: --force-flaky\n") == [
        (2, 10, 23, "--force-flaky")
    ]
    assert _options("pytest.ini", "[pytest]\naddopts = --reruns\n") == [(2, 11, 19, "--reruns")]
    assert _options("requirements.txt", "--reruns 2\n") == []
