from __future__ import annotations

from dataclasses import dataclass

from backlint.diagnostics import Severity
from backlint.rules.base import Example, Option
from backlint.rules.test_doubles.counting import (
    SHARED_OPTIONS,
    Counts,
    MockCountingRule,
    Verdict,
    mock_list,
    number,
    plural,
)

# The project modules the examples patch: their functions are owned collaborators,
# except ``payments.py``, which wraps an HTTP API.
_SVC = (
    "from payments import charge\n\nclass Repo: ...\nrepo = Repo()\nmailer = Repo()\n"
    "def audit(event): ...\ndef gateway(): ...\n"
)
_PAYMENTS = "import requests\n\ndef charge(amount):\n    return requests.post(URL, json=amount)\n"
_PAY = "def ledger(entry): ...\ndef audit(event): ...\n"
_ORDERS = "def payments(): ...\ndef stock(): ...\n"
_IMPORTS = "def s3(): ...\ndef queue(): ...\ndef mailer(): ...\n"

_CONFTEST = """
import pytest
from unittest.mock import MagicMock

@pytest.fixture
def gateway():
    gateway = MagicMock()
    gateway.charge.return_value = "ch_1"
    return gateway

@pytest.fixture
def user():
    return MagicMock(id=1, email="a@b.c")

@pytest.fixture
def ledger(mocker):
    return mocker.patch("pay.ledger")

@pytest.fixture
def order():
    return {"id": 1}
"""


@dataclass(frozen=True)
class TooManyMocks:
    """BL711 fires when a test sets up at least ``min_mocks`` doubles and more doubles
    than it checks results and mocks' calls, unless all it checks is that mocks were not
    called."""

    min_mocks: int

    def fires(self, counts: Counts) -> bool:
        if counts.behavioral == 0 and counts.only_no_calls:
            return False  # checks that nothing happened: there is no result to check
        checked = counts.behavioral + counts.interaction
        return counts.mocks >= self.min_mocks and counts.mocks > checked

    def message(self, test: str, counts: Counts) -> str:
        checked = [
            plural(counts.behavioral, "result") if counts.behavioral else "",
            f"the calls of {plural(counts.interaction, 'mock')}" if counts.interaction else "",
        ]
        what = " and ".join(part for part in checked if part)
        return f"Test `{test}` uses {number(counts.mocks)} mocks{mock_list(counts)} and checks " + (
            f"only {what}" if what else "nothing"
        )


class MockOveruse(MockCountingRule):
    """
    ## What it does
    Flags a test that replaces at least three collaborators with test doubles
    (`min-mocks`) and checks fewer things than it replaces: the results it checks plus
    the mocks whose calls it checks.

    Doubles are `patch`, `patch.object`, `patch.dict` and `patch.multiple` (decorators
    on the test and on its class, `with` items, `.start()`), `mocker.patch*` calls,
    `monkeypatch.setattr` with a mock, `Mock`/`MagicMock`/`AsyncMock`/`create_autospec`
    constructions, and the fixtures the test requests that return or yield one of these,
    whether defined in the test's file or in a `conftest.py` of its package or of a
    parent package. Results are checked by `assert` statements, `self.assert*` and every
    other function or method named `assert*` (the suite's own `assert_order_paid`
    helpers, `assert_that`, `snapshot.assert_match`, Django's `assertContains`),
    `pytest.raises`/`warns` blocks and the calls of `extra-assert-functions`. Calls are
    checked by `assert_called_once_with`, `assert m.call_count == 2` and the like. A
    test that only checks that mocks were *not* called (`assert_not_called()`) checks
    that nothing happened, where there is no result to check, and is not reported.

    ## Why is this bad?
    A test that replaces most collaborators exercises its own doubles more than the code:
    it passes while the real collaborators disagree with the mocks, and it breaks on
    every refactoring that keeps the behaviour but changes the calls. Many mocks in one
    test also hint that the code under test depends on too many things.

    ## Example
    ```python
    @patch("users.service.repo")
    @patch("users.service.mailer")
    @patch("users.service.audit")
    def test_register_sends_welcome_mail(audit, mailer, repo):
        register(User(email="a@b.c"))
        mailer.send.assert_called_once_with("a@b.c")
    ```

    Use instead:
    ```python
    def test_register_sends_welcome_mail():
        repo, outbox = InMemoryUserRepository(), FakeOutbox()
        register(User(email="a@b.c"), repo=repo, outbox=outbox)
        assert repo.get_by_email("a@b.c") is not None
        assert outbox.sent == ["a@b.c"]
    ```

    ## How to fix
    Replace mocks of collaborators you own with small in-memory fakes
    (`InMemoryUserRepository`) and assert on results or state. Keep mocks for the
    boundaries you do not own (an HTTP API, a cloud SDK, a payment provider). If your
    project wraps such a boundary in a module the rule does not recognise, add its
    package to `boundary-packages` or its functions to `ignored-targets`
    (`"*.send_webhook_request*"`).

    Calibration, on the suites of saleor, polar, dispatch, netbox, redash, plane,
    mealie and CTFd. A double is counted per collaborator, not per mock object:

    - patching one target twice, rebinding one name, installing one mock in several
      places (`mocker.patch("a.stripe", new=mock)`, `mocker.patch("b.stripe",
      new=mock)`) or setting several methods of one object (`client.get = AsyncMock()`,
      `client.post = AsyncMock()`) is one double; a mock configured into another
      (`m.return_value.__enter__.return_value = span`, `Mock(return_value=response)`, a
      dict of mocks spread into `Mock(**methods)`, a mock a `side_effect` function
      returns) is part of it, and so is a mock made inside a fake the test writes;
    - a mock the test neither gives behaviour (`return_value`, `side_effect`, a method
      set to a mock), nor installs, nor checks is a dummy standing in for data and is not
      counted: `total(order, manager=Mock())`, `user = MagicMock(spec=User); user.id =
      1`, a fixture's `MagicMock(spec=AsyncSession)` only passed along;
    - a patch that installs a value or a fake the test wrote (`patch("app.settings.DEBUG",
      True)`, `patch("app.registry", {"search": indexer})`, `new=FakeMailer()`) and
      `patch.dict(os.environ, {...})` replace nothing with a mock; `wraps=` and
      `mocker.spy` count half, since the real code still runs;
    - boundaries, where a mock is the right tool, are not counted (unless
      `count-library-mocks` is set), and a check of what they received counts as a
      result: targets defined outside the project (the project pass follows the
      patched module's imports: `app.sync.boto3`, `os`, a module-level `logger =
      logging.getLogger()`), mocks made like such a class (`spec=`), and targets defined
      in a project module that wraps an outside system, that is one that imports an HTTP
      client, an SDK or a task queue (`boundary-packages`) and no database layer
      (polar's `polar.integrations.stripe.service`, `polar.worker`). A module that also
      queries the database is the project's own logic, whatever else it imports.
      `ignored-targets` adds the nondeterminism seams BL701 asks to patch (`sleep`,
      clocks, `uuid4`, `random`), configuration (`*settings.*`) and common boundaries by
      name (HTTP clients, `*client`, e-mail, `*enqueue*`, Celery's
      `.delay`/`.apply_async`, loggers).

    Mocks created in `setUp` are not counted: they belong to every test of the class.
    Test files matching `contract-test-globs` are not checked.
    """

    code = "BL711"
    name = "mock-overuse"
    summary = "A test replaces more collaborators with mocks than it checks results."
    fix_text = (
        "Replace mocks of owned collaborators with in-memory fakes "
        "(`InMemory{X}Repository`) and assert on results or state."
    )
    severity = Severity.INFO
    # Below the precision bar on code it was not tuned on (docs/precision.md): it runs
    # when selected by its code or name, or with `preview = true`.
    default_enabled = False
    preview = True
    tags = ("testing", "AP-PY06", "PQG-4")
    options = (
        Option(
            "min-mocks",
            3,
            "The number of mocks from which a test is checked (half mocks add up).",
        ),
        *SHARED_OPTIONS,
    )
    invalid = (
        Example(
            """
            from unittest.mock import patch

            @patch("svc.repo")
            @patch("svc.mailer")
            @patch("svc.audit")
            def test_register_valid_user_sends_mail(audit, mailer, repo):
                register(user)
                mailer.send.assert_called_once_with(user.email)
            """,
            path="tests/test_register.py",
            files=(("svc.py", _SVC), ("payments.py", _PAYMENTS)),
            expect=1,
        ),
        # Patches on the class count for each of its tests; ``with`` items and mocks
        # configured in the test count too.
        Example(
            """
            from unittest import TestCase, mock

            @mock.patch("orders.service.payments")
            class OrderTests(TestCase):
                def test_place(self, payments):
                    repo = mock.MagicMock()
                    repo.get.return_value = order
                    with mock.patch("orders.service.stock") as stock:
                        place(order, repo)
                    self.assertEqual(stock.reserve.call_count, 1)
            """,
            path="tests/test_orders.py",
            files=(("orders/service.py", _ORDERS),),
            expect=1,
        ),
        # Two fixtures of the conftest return mocks of collaborators (the third stands
        # in for data): 3 mocks, 1 result.
        Example(
            """
            def test_pay_books_the_charge(gateway, ledger, order, user, mocker):
                mocker.patch("pay.audit")
                assert pay(order, gateway, user) is True
            """,
            path="tests/payments/test_pay.py",
            files=(("pay.py", _PAY), ("tests/conftest.py", _CONFTEST)),
            expect=1,
        ),
    )
    valid = (
        Example(
            """
            def test_register_valid_user_persists():
                repo = InMemoryUserRepository()
                register(user, repo)
                assert repo.get(user.id) == user
            """,
            path="tests/test_register.py",
        ),
        # Seams of nondeterminism, literal values and a library are no owned doubles.
        Example(
            """
            from unittest.mock import patch

            @patch("svc.time.sleep")
            @patch("svc.uuid4")
            @patch("svc.settings.RETRIES", 3)
            @patch("payments.requests.post")
            @patch("svc.gateway")
            def test_retry_gives_up(gateway, post, uuid4, sleep):
                assert retry(call) is None
            """,
            path="tests/test_retry.py",
            files=(("svc.py", _SVC), ("payments.py", _PAYMENTS)),
        ),
        # A project module that wraps an outside system (``payments.py`` imports
        # ``requests``) is a boundary: what reached it is checked like a result.
        Example(
            """
            def test_refund_posts_to_the_provider(mocker):
                charge = mocker.patch("svc.charge")
                mocker.patch("svc.audit")
                mocker.patch("svc.mailer")
                refund(order)
                charge.assert_called_once_with(-10)
            """,
            path="tests/test_refund.py",
            files=(("svc.py", _SVC), ("payments.py", _PAYMENTS)),
        ),
        # One double configured several times or installed in two places is one; a
        # mock made like a class (``spec=``) and only passed along stands in for data;
        # a patch that installs a fake the test wrote is no mock.
        Example(
            """
            from unittest.mock import MagicMock

            def test_total_uses_the_price_list(mocker):
                prices = MagicMock()
                prices.lookup.return_value = 3
                prices.lookup.side_effect = None
                mocker.patch("svc.gateway", new=prices)
                mocker.patch("svc.repo", new=prices)
                mocker.patch("svc.audit", new=FakeAudit())
                user = MagicMock(spec=User)
                user.id = 1
                assert total(order, user=user, manager=MagicMock(spec=Manager)) == 10
            """,
            path="tests/test_total.py",
            files=(("svc.py", _SVC), ("payments.py", _PAYMENTS)),
        ),
        # As many results checked as mocks.
        Example(
            """
            def test_import(mocker):
                mocker.patch("imports.s3")
                mocker.patch("imports.queue")
                mocker.patch("imports.mailer")
                report = run_import(path)
                assert report.rows == 3
                assert report.errors == []
                assert_report_is_stored(report)
            """,
            path="tests/test_import.py",
            files=(("imports.py", _IMPORTS),),
        ),
        # A fixture that returns a plain value is no mock.
        Example(
            """
            def test_pay(gateway, order, mocker):
                mocker.patch("pay.audit")
                assert pay(order)
            """,
            path="tests/payments/test_pay.py",
            files=(("pay.py", _PAY), ("tests/conftest.py", _CONFTEST)),
        ),
        # Dummies passed along and mocks configured into another are no extra doubles.
        Example(
            """
            from unittest.mock import MagicMock, Mock, patch

            def test_total(mocker):
                tracer = mocker.patch("pay.audit")
                span = MagicMock()
                tracer.return_value.__enter__.return_value = span
                assert total(order, manager=Mock(), requestor=MagicMock()) == 10
            """,
            path="tests/test_total.py",
            files=(("pay.py", _PAY),),
        ),
        # Not a test.
        Example(
            """
            from unittest.mock import MagicMock

            def make_services():
                return MagicMock(), MagicMock(), MagicMock()
            """,
            path="tests/helpers.py",
        ),
    )

    def verdict(self) -> Verdict:
        minimum = self.option("min-mocks")
        return TooManyMocks(minimum if isinstance(minimum, int) else 3)
