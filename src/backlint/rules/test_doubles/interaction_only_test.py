from __future__ import annotations

from dataclasses import dataclass

from backlint.diagnostics import Severity
from backlint.rules.base import Example
from backlint.rules.test_doubles.counting import (
    SHARED_OPTIONS,
    Counts,
    MockCountingRule,
    Verdict,
    mock_list,
    number,
    plural,
)

# The project modules the examples patch: their functions are owned collaborators.
_PAY = "from pay_http import post\n\ndef gw(): ...\ndef ledger(): ...\ndef audit(): ...\n"
# A module that wraps an HTTP API: its functions are boundaries.
_PAY_HTTP = "import httpx\n\ndef post(url, json):\n    return httpx.post(url, json=json)\n"
_JOBS = "def mailer(): ...\ndef store(): ...\n"
_SHOP = "def payments(): ...\ndef mailer(): ...\n"


def _listed(subjects: tuple[str, ...], limit: int = 3) -> str:
    """```g.charge```, ```g.charge`` and ``l.post```, ```a``, ``b``, ``c`` and 2 more```."""
    shown = [f"`{subject}`" for subject in subjects[:limit]]
    if len(subjects) > limit:
        shown.append(f"{len(subjects) - limit} more")
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


@dataclass(frozen=True)
class OnlyInteractions:
    """BL712 fires when a test checks no result at all while it checks the calls of two
    mocks, or uses mocks and checks nothing."""

    def fires(self, counts: Counts) -> bool:
        if counts.behavioral or counts.only_no_calls or counts.mocks < 2:
            return False
        if counts.interaction == 0:
            return True  # mocks, and nothing checked at all
        if counts.sent or not (counts.queried or counts.uninspected):
            # What the code sent (an event, a job, a notification) is checked, with its
            # content: how a unit whose behaviour is to send it is tested.
            return False
        # Stubbing queries and expecting one command (``interaction == 1``) is the
        # outgoing-command test: it takes a third mock to make it interaction-only.
        return counts.interaction >= 2 or counts.mocks >= 3

    def message(self, test: str, counts: Counts) -> str:
        if counts.interaction == 0:
            return (
                f"Test `{test}` uses {number(counts.mocks)} mocks{mock_list(counts)} and "
                "checks nothing: no assertion on a result, on state or on a call"
            )
        uses = (
            f"uses {plural(counts.mocks, 'mock')}{mock_list(counts)} and " if counts.mocks else ""
        )
        checked = (
            f"Test `{test}` {uses}only checks how mocks were called "
            f"({plural(counts.interaction, 'interaction check')}, "
            "no check of a result or of state)"
        )
        if counts.queried:
            stubbed = _listed(counts.queried)
            return f"{checked}, including the calls of {stubbed}, which it stubbed itself"
        called = _listed(counts.uninspected)
        verb = "was" if len(counts.uninspected) == 1 else "were"
        return f"{checked}: it checks that {called} {verb} called, not with what"


class InteractionOnlyTest(MockCountingRule):
    """
    ## What it does
    Flags a test that checks no result or state, only how its mocks were called, when
    those checks restate the implementation:

    - it checks that collaborators were called without checking what they received
      (`gateway.charge.assert_called()`, `assert ledger.post.call_count == 1`), or
    - it checks how the code asked a stub for data, a mock it gave answers to itself
      (`repo.get.return_value = account` ... `repo.get.assert_called_once_with(org)`).

    It takes two or more doubles, and three when only one mock's calls are checked (one
    mock and one check is the spec's "outgoing command" test). A test that checks what
    the code sent to a mock it did not stub (`assert_called_once_with(order)`,
    `m.call_args.kwargs == {...}`) checks the unit's output and is not flagged, whatever
    else it checks. A test with two or more doubles and no check at all is flagged too.

    Mocks and checks are counted as for BL711 (`mock-overuse`). Checks of a result are
    `assert` statements about anything but a call record, `self.assert*` and every other
    function or method named `assert*` (so Django's `assertContains` and a suite's own
    `assert_order_paid` helpers count), `pytest.raises`/`warns` blocks, the calls of
    `extra-assert-functions`, and checks of what a boundary received (what the code sent
    to an HTTP API is its behaviour). Checks of calls are counted per mock (or mock
    method): `m.assert_called_once_with(...)` followed by `assert
    m.call_args.kwargs["to"] == ...` checks one interaction.

    ## Why is this bad?
    A test that only verifies calls restates the implementation: it passes as long as
    the code calls its collaborators the expected way, whether or not the outcome is
    right, and fails whenever the calls change while the outcome stays the same. A test
    with mocks and no assertion at all only proves that the code does not raise.

    ## Example
    ```python
    def test_pay_charges_and_books(mocker):
        gateway = mocker.patch("payments.service.gateway")
        ledger = mocker.patch("payments.service.ledger")
        pay(order)
        gateway.charge.assert_called_once()
        ledger.post.assert_called_once()
    ```

    Use instead:
    ```python
    def test_pay_charges_and_books():
        gateway, ledger = FakeGateway(), InMemoryLedger()
        receipt = pay(order, gateway=gateway, ledger=ledger)
        assert receipt.amount == order.total
        assert ledger.balance(order.customer) == -order.total
    ```

    ## How to fix
    Assert on what the code returns or changes: a return value, the state of an
    in-memory fake, a row in the test database, the response of the test client. Keep
    interaction assertions for the calls that are the behaviour itself (the one e-mail
    sent), and check what they carried.

    Calibration: checking the *content* of the commands a unit sends to mocks it did
    not stub (`order_paid.assert_called_once_with(order, webhooks=set())`, `assert
    enqueue.call_args.kwargs == {...}`) is how a unit whose job is to send them (an
    event dispatcher, a webhook trigger, a task) is tested: saleor checks hundreds of
    plugin events that way, and such tests are not reported. A test whose every check
    says that a mock was *not* called (`assert_not_called()`, `assert not m.called`,
    `m.call_count == 0`) checks that nothing happened, where there is no result to check,
    and is not reported either. What counts as a mock (boundaries, seams, dummies,
    parts of another mock) is described under BL711. Test files matching
    `contract-test-globs` are not checked.
    """

    code = "BL712"
    name = "interaction-only-test"
    summary = "A test checks only how mocks were called, never a result or state."
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
    options = SHARED_OPTIONS
    invalid = (
        Example(
            """
            def test_pay_calls_gateway(mocker):
                g = mocker.patch("pay.gw")
                l = mocker.patch("pay.ledger")
                pay(o)
                g.charge.assert_called()
                l.post.assert_called()
            """,
            path="tests/test_pay.py",
            files=(("pay.py", _PAY), ("pay_http.py", _PAY_HTTP)),
            expect=1,
        ),
        # Two mocks and nothing checked.
        Example(
            """
            from unittest.mock import patch

            @patch("jobs.mailer")
            @patch("jobs.store")
            def test_nightly_job_runs(store, mailer):
                run_nightly()
            """,
            path="tests/test_jobs.py",
            files=(("jobs.py", _JOBS),),
            expect=1,
        ),
    )
    valid = (
        # The outgoing command test: one mock, one interaction; or stubs and one command.
        Example(
            """
            def test_notify_sends_email(mocker):
                m = mocker.patch("pay.gw")
                notify(u)
                m.send.assert_called_once()

            def test_pay_books_what_the_gateway_returned(mocker):
                mocker.patch("pay.gw", return_value=10)
                ledger = mocker.patch("pay.ledger")
                pay(o)
                ledger.assert_called_once_with(10)
            """,
            path="tests/test_notify.py",
            files=(("pay.py", _PAY), ("pay_http.py", _PAY_HTTP)),
        ),
        Example(
            """
            from django.test import TestCase
            from unittest import mock

            class OrderViewTests(TestCase):
                @mock.patch("shop.views.payments")
                @mock.patch("shop.views.mailer")
                def test_checkout(self, mailer, payments):
                    response = self.client.post("/checkout/")
                    self.assertEqual(response.status_code, 200)
                    mailer.send.assert_called_once()
            """,
            path="shop/tests/test_views.py",
            files=(("shop/views.py", _SHOP),),
        ),
        Example(
            """
            import pytest

            def test_pay_rejects_declined_card(mocker):
                mocker.patch("pay.gw", side_effect=Declined)
                mocker.patch("pay.ledger")
                with pytest.raises(PaymentFailed):
                    pay(o)
            """,
            path="tests/test_pay.py",
            files=(("pay.py", _PAY), ("pay_http.py", _PAY_HTTP)),
        ),
        # A helper of the suite whose name starts with ``assert`` checks a result.
        Example(
            """
            from tests.utils import assert_order_is_paid

            def test_pay(mocker):
                g = mocker.patch("pay.gw")
                mocker.patch("pay.ledger")
                pay(o)
                g.charge.assert_called()
                assert_order_is_paid(o)
            """,
            path="tests/test_pay.py",
            files=(("pay.py", _PAY), ("pay_http.py", _PAY_HTTP)),
        ),
        # What reached a project module that wraps an HTTP API is the result.
        Example(
            """
            def test_pay_posts_the_charge(mocker):
                mocker.patch("pay.gw")
                mocker.patch("pay.audit")
                post = mocker.patch("pay.post")
                pay(o)
                post.assert_called_once_with(URL, json={"amount": 10})
            """,
            path="tests/test_pay.py",
            files=(("pay.py", _PAY), ("pay_http.py", _PAY_HTTP)),
        ),
        # One double, however many of its methods are checked: the outgoing commands of
        # a client handed to the code.
        Example(
            """
            from unittest import TestCase
            from unittest.mock import MagicMock

            class SyncTests(TestCase):
                def test_sync_pushes_and_acknowledges(self):
                    client = MagicMock()
                    sync([1, 2], client)
                    self.assertEqual(client.push.call_count, 2)
                    client.ack.assert_called_once_with()
            """,
            path="tests/test_sync.py",
        ),
        # Only checks that nothing happened: there is no result to check.
        Example(
            """
            def test_raw_import_skips_rebuild(mocker):
                rebuild = mocker.patch("pay.ledger")
                notify = mocker.patch("pay.audit")
                handle(raw=True)
                rebuild.assert_not_called()
                assert not notify.called
            """,
            path="tests/test_signals.py",
            files=(("pay.py", _PAY), ("pay_http.py", _PAY_HTTP)),
        ),
    )

    def verdict(self) -> Verdict:
        return OnlyInteractions()
