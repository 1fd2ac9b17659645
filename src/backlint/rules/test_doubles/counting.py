"""What BL711 (mock-overuse) and BL712 (interaction-only-test) count in one test.

Per test function, three numbers (rules.md §3 BL711/BL712):

* **mocks**: the collaborators the test replaces by doubles. ``patch``/``patch.object``/
  ``patch.dict``/``patch.multiple`` (decorators on the test and on its class, ``with``
  items, or any call in the body, such as ``patch(...).start()``), ``mocker.patch*``
  calls, ``Mock``/``MagicMock``/``AsyncMock``/``create_autospec`` constructions,
  ``mocker.stub()``, ``monkeypatch.setattr`` with a mock, and requested fixtures that
  return or yield one of these (same file, or a ``conftest.py`` of the same or a parent
  package, read in the project pass). ``wraps=`` and ``mocker.spy`` count as half.
* **interaction**: the distinct mocks (or mock methods) whose calls the test checks:
  ``assert_called*``/``assert_awaited*``/``assert_any_call``/``assert_has_calls``/
  ``assert_not_called`` calls, and ``assert`` statements or ``self.assert*`` calls whose
  only subject is a call record (``.called``, ``.call_count``, ``.call_args*``,
  ``.mock_calls``, ``.await_*``). Each remembers whether it only checked that there was
  no call (both rules leave tests made of such checks alone), whether it looked at what
  the mock received (``assert_called_once_with``, ``.call_args``: ``contents``), and
  whether the test gave that mock answers itself (a stubbed query: ``queries``).
* **behavioral**: every other ``assert`` statement and every call of a function or method
  whose name starts with ``assert`` (``self.assertEqual``, Django's ``assertContains``,
  a suite's own ``assert_valid_order`` helper, ``assert_that``, ``snapshot.assert_match``),
  ``pytest.raises``/``warns``/``deprecated_call``, ``extra-assert-functions``, and checks
  of the calls of a boundary (below).

What is *one* mock (calibrated on saleor, polar, dispatch, netbox, redash, plane, mealie,
ctfd):

* a double is keyed by what it replaces (the patch target) or the name it is bound to, so
  patching one target twice, rebinding ``payment = Mock(...)`` for each case of a test,
  installing one mock at several targets (``patch(a, new=m)``, ``patch(b, new=m)``) or
  setting several methods of one object (``client.get = AsyncMock()``) is one mock;
* a double configured into another (``m.return_value.__enter__.return_value = span``,
  ``Mock(return_value=response)``, a ``Mock()`` inside ``patch(..., new=...)``, a mock a
  ``side_effect`` function the test wrote returns) is part of that one: together they
  fake one collaborator, and checking the part checks it; mocks made inside a function
  or class the test writes belong to that fake;
* a mock the test neither gives behaviour (``return_value``, ``side_effect``, a method
  set to a mock), nor installs, nor checks, and that was not made with behaviour, is a
  dummy standing in for data (``total(order, manager=Mock())``, ``user =
  MagicMock(spec=User); user.id = 1``, a fixture's mock only passed along): not counted;
* a patch whose replacement is a value or a fake the test wrote
  (``patch("app.settings.DEBUG", True)``, ``new=FakeMailer()``) installs no mock, and
  patches of nondeterminism seams and of well-known boundaries by name
  (``ignored-targets``) are no owned doubles: neither counts;
* a patch target (or a mock's ``spec``) defined outside the project (the standard
  library, a library, through the patched module's imports: ``app.sync.boto3``), or in
  a project module that wraps an outside system (it imports one of
  ``boundary-packages`` and no database layer), is a boundary, decided in the project
  pass (``outside_project``, ``wraps_outside_system``): not counted, and checking what
  it received checks the code's behaviour.

The file pass counts what the file shows; when requested fixtures are left to the
conftests or patch targets to the project, the finding carries a ``ProjectCounts``
condition that completes the counts, decides, and writes the message.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Protocol

import libcst as cst
import pathspec

from backlint.engine.context import FileContext
from backlint.engine.walker import iter_children, iter_descendants
from backlint.index.names import ImportTable, dotted_name
from backlint.index.project import options_fingerprint
from backlint.index.roles import ORM_PACKAGES
from backlint.index.testcode import FIXTURE_DECORATORS, TESTCASE_BASES, TestFunction
from backlint.rules.base import Condition, FileRule, Option
from backlint.rules.testing.flow import MOCK_CONTENT_ASSERTIONS

if TYPE_CHECKING:
    from backlint.index.project import ProjectIndex

MOCK_MODULES = ("unittest.mock", "mock", "asynctest")
PATCHERS = frozenset({"patch", "patch.object", "patch.dict", "patch.multiple"})
CONSTRUCTORS = frozenset(
    {
        "Mock",
        "MagicMock",
        "AsyncMock",
        "NonCallableMock",
        "NonCallableMagicMock",
        "PropertyMock",
        "create_autospec",
        "CoroutineMock",
    }
)
MOCKER_FIXTURES = frozenset(
    {"mocker", "module_mocker", "class_mocker", "package_mocker", "session_mocker"}
)
_MOCKER_STUBS = frozenset({"stub", "async_stub"})
# Keyword arguments that give a mock behaviour: it stubs a collaborator.
_BEHAVIOUR = frozenset({"return_value", "side_effect", "wraps"})
# Attributes that configure what a mock does when called.
_CONFIGURING = frozenset({"return_value", "side_effect"})
# Keyword arguments of ``patch.multiple`` that configure it rather than name an attribute.
_PATCH_SETTINGS = frozenset({"spec", "create", "spec_set", "autospec", "new_callable"})
# ``monkeypatch.setattr(target, value)``-like calls: a mock as the value is a patch.
_SETTERS = frozenset({"monkeypatch.setattr", "monkeypatch.setitem", "builtins.setattr"})
# Attributes a mock records its calls in.
CALL_RECORDS = frozenset(
    {
        "called",
        "call_count",
        "call_args",
        "call_args_list",
        "mock_calls",
        "method_calls",
        "await_count",
        "await_args",
        "await_args_list",
    }
)
_INTERACTION_PREFIXES = ("assert_called", "assert_awaited", "assert_not_awaited")
_INTERACTION_METHODS = frozenset(
    {
        "assert_any_call",
        "assert_has_calls",
        "assert_not_called",
        "assert_any_await",
        "assert_has_awaits",
    }
)
_NO_CALL_METHODS = frozenset({"assert_not_called", "assert_not_awaited"})
_CONTENT_RECORDS = frozenset(
    {"call_args", "call_args_list", "mock_calls", "method_calls", "await_args", "await_args_list"}
)
_RAISES = frozenset({"pytest.raises", "pytest.warns", "pytest.deprecated_call"})
# Fixtures of pytest and its common plugins that are never test doubles: requesting them
# needs no look into a conftest.
_KNOWN_FIXTURES = frozenset(
    {
        "request",
        "tmp_path",
        "tmpdir",
        "tmp_path_factory",
        "tmpdir_factory",
        "monkeypatch",
        "capsys",
        "capsysbinary",
        "capfd",
        "capfdbinary",
        "caplog",
        "recwarn",
        "pytestconfig",
        "cache",
        "record_property",
        "record_testsuite_property",
        "doctest_namespace",
        "subtests",
        "event_loop",
        "freezer",
        "time_machine",
        "settings",
        "rf",
        "db",
        "transactional_db",
        "django_db_setup",
        "django_user_model",
        "django_assert_num_queries",
        "django_assert_max_num_queries",
        "django_capture_on_commit_callbacks",
        "snapshot",
        *MOCKER_FIXTURES,
    }
)

DEFAULT_IGNORED_TARGETS = (
    # Nondeterminism seams: patching them is the fix BL701/BL702 ask for.
    "*sleep",
    "*datetime*",
    "*timezone.now",
    "*time.time",
    "*uuid1",
    "*uuid4",
    "*random*",
    # Boundaries with the outside world, where a mock is the right tool: HTTP clients,
    # cloud SDKs, e-mail, task queues, logging.
    "*requests.*",
    "*httpx.*",
    "*aiohttp.*",
    "*urlopen",
    "*boto3*",
    "*botocore*",
    "*smtplib*",
    "*send_mail",
    "*send_mass_mail",
    "*.delay",
    "*.apply_async",
    "*.send_task",
    "*.log",
    "*.log.*",
    "*logger",
    "*logger.*",
    "*logging.*",
    # Clients of outside systems by name (``app.tasks.get_client``, ``spec=StripeClient``,
    # ``app.slack.client.post``), and configuration (``app.service.settings.is_sandbox``).
    "*client",
    "*Client",
    "*client.*",
    "*Client.*",
    "*settings.*",
    # Putting work on a queue, by name (``enqueue_job``, ``queue.enqueue``), and calls
    # to other systems' webhooks (``trigger_webhooks_async``, ``send_webhook_request``).
    "*enqueue*",
    "*webhook*",
)

DEFAULT_BOUNDARY_PACKAGES = (
    # HTTP clients
    "requests",
    "httpx",
    "aiohttp",
    "urllib3",
    "httplib2",
    "pycurl",
    "urllib.request",
    "http.client",
    "grpc",
    "websockets",
    # task queues and brokers
    "celery",
    "dramatiq",
    "rq",
    "django_rq",
    "huey",
    "arq",
    "taskiq",
    "kombu",
    "pika",
    "aio_pika",
    "kafka",
    "aiokafka",
    "confluent_kafka",
    # e-mail
    "smtplib",
    "aiosmtplib",
    "sendgrid",
    "anymail",
    "postmarker",
    # cloud and SaaS SDKs
    "boto3",
    "botocore",
    "aiobotocore",
    "aioboto3",
    "google.cloud*",
    "googleapiclient",
    "azure*",
    "stripe",
    "braintree",
    "twilio",
    "slack",
    "slack_sdk",
    "slack_bolt",
    "openai",
    "anthropic",
    "pydantic_ai",
    "langchain*",
    "litellm",
    "github",
    "gitlab",
    "jira",
    "atlassian",
    "pdpyras",
    "ldap",
    "ldap3",
    "paramiko",
    "svix",
    "firebase_admin",
    "hvac",
    # SDKs and API clients by name
    "*sdk",
    "*_sdk*",
    "*client",
    "*_api",
)

SHARED_OPTIONS = (
    Option(
        "contract-test-globs",
        ("**/contract_tests/**", "**/contracts/**", "**/test_*_contract.py"),
        "Test files that verify the contract with a collaborator (gitignore-style globs): "
        "their interaction checks are the point, so they are not checked.",
    ),
    Option(
        "extra-assert-functions",
        ("pytest_check.*",),
        "Calls that check a result, beside `assert`, `assert*` functions and methods and "
        "`pytest.raises`: fnmatch patterns over qualified names (`mylib.expect`).",
    ),
    Option(
        "ignored-targets",
        DEFAULT_IGNORED_TARGETS,
        "Patch targets that are not counted as mocks, and whose checks count as results "
        "(fnmatch patterns over the dotted target): by default the nondeterminism seams "
        "BL701 asks to patch and boundaries with the outside world (HTTP clients, cloud "
        "SDKs, e-mail, task queues, logging).",
    ),
    Option(
        "boundary-packages",
        DEFAULT_BOUNDARY_PACKAGES,
        "Packages of outside systems (fnmatch patterns over imported module names): a "
        "project module that imports one and no database layer wraps an outside system, "
        "so its functions and objects are boundaries, like the packages themselves.",
    ),
    Option(
        "count-library-mocks",
        False,
        "Also count patches of names defined outside the project (the standard library, "
        "libraries) as mocks; by default they are boundaries, where a mock is the right "
        "tool, and a check of what they received is a result.",
    ),
)


# --- What one call creates -----------------------------------------------------------

_DJANGO_DB = "django.db"

# The key of a patch that is not counted (a seam, a boundary, a literal value).
IGNORED = "ignored"


@dataclass(frozen=True)
class Double:
    """One test double: how much it counts, how the message names it, and what makes
    two doubles the same one (the patch target, the bound name)."""

    weight: float
    label: str
    key: str = ""
    # What a patch replaces, when the project can tell whose it is (a dotted name).
    target: str = ""
    # The class a mock is made like (``MagicMock(spec=StripeService)``): a mock of a
    # boundary's class is a boundary too.
    spec: str = ""
    # Given behaviour where it was made (``return_value``, ``side_effect``, a method set
    # to a mock): a stub of a collaborator, not a dummy standing in for data.
    stub: bool = False
    # Which of its calls were given answers where it was made, as paths below it
    # (``""`` for the double itself, ``"get_by_id"`` for ``repo.get_by_id``): queries.
    answers: frozenset[str] = frozenset()


def double_kind(func: cst.BaseExpression, names: ImportTable) -> tuple[str, str] | None:
    """``("patch", "patch.object")``, ``("mock", "MagicMock")`` or ``("spy", "spy")`` for
    a callee that makes a double, else None."""
    written = dotted_name(func)
    if written is None:
        return None
    head, _, rest = written.partition(".")
    if head in MOCKER_FIXTURES:
        if rest in PATCHERS:
            return "patch", rest
        if rest in CONSTRUCTORS or rest in _MOCKER_STUBS:
            return "mock", rest
        return ("spy", rest) if rest == "spy" else None
    qualified = names.qualify(written)
    for module in MOCK_MODULES:
        if qualified.startswith(module + "."):
            member = qualified[len(module) + 1 :]
            if member in PATCHERS:
                return "patch", member
            if member in CONSTRUCTORS:
                return "mock", member
    return None


def _string(node: cst.BaseExpression | None) -> str | None:
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _target(node: cst.BaseExpression | None, names: ImportTable) -> tuple[str, str]:
    """What a patch replaces: ``(as shown, qualified for matching)``."""
    if node is None:
        return "…", "…"
    text = _string(node)
    if text is not None:
        return text, text
    written = dotted_name(node)
    if written is None:
        return "…", "…"
    return written, names.qualify(written)


def _resolvable(node: cst.BaseExpression | None, names: ImportTable) -> bool:
    """A patch target the project pass can look up: a string, or a name whose head is
    imported (``patch.object(requests, "post")``), not a local variable."""
    if node is None:
        return False
    if _string(node) is not None:
        return True
    written = dotted_name(node)
    return written is not None and written.partition(".")[0] in names


def short(target: str) -> str:
    """The last two parts of a dotted target: ``PluginsManager.order_paid``."""
    return ".".join(target.split(".")[-2:])


def _arguments(
    call: cst.Call,
) -> tuple[list[cst.BaseExpression], dict[str, cst.BaseExpression]]:
    positional = [arg.value for arg in call.args if arg.keyword is None and not arg.star]
    keywords = {arg.keyword.value: arg.value for arg in call.args if arg.keyword is not None}
    return positional, keywords


def _seam(shown: str, qualified: str, ignored: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(qualified, p) or fnmatch.fnmatchcase(shown, p) for p in ignored)


def double_of(call: cst.Call, names: ImportTable, ignored: Sequence[str]) -> Double | None:
    """The double ``call`` creates, or None (not a double, a seam, or a literal value)."""
    kind = double_kind(call.func, names)
    if kind is None:
        return None
    family, member = kind
    positional, keywords = _arguments(call)
    if family == "spy":
        owner, _ = _target(positional[0] if positional else None, names)
        attribute = _string(positional[1]) if len(positional) > 1 else None
        return Double(0.5, f"spy({owner}.{attribute or '…'})")
    if family == "mock":
        return _mock_double(member, positional, keywords, names, ignored)
    return _patch_double(member, positional, keywords, names, ignored)


def _mock_double(
    member: str,
    positional: list[cst.BaseExpression],
    keywords: Mapping[str, cst.BaseExpression],
    names: ImportTable,
    ignored: Sequence[str],
) -> Double | None:
    """A ``Mock(...)``; None for a mock made like a boundary's class
    (``MagicMock(spec=AsyncSession)``, ``create_autospec(StripeClient)``) that
    ``ignored-targets`` names."""
    spec = keywords.get("spec", keywords.get("spec_set"))
    if spec is None and positional and member in ("create_autospec", "Mock", "MagicMock"):
        spec = positional[0]  # ``Mock(spec)``: the first positional argument is the spec
    shown, qualified = _target(spec, names) if spec is not None else ("", "")
    if spec is not None and _seam(shown, qualified, ignored):
        return None
    resolvable = spec is not None and _resolvable(spec, names) and "…" not in qualified
    label = f"{member}({'' if member in ('Mock', 'MagicMock', 'AsyncMock') else shown})"
    return Double(
        0.5 if "wraps" in keywords else 1.0,
        label,
        spec=qualified if resolvable else "",
        stub=bool(_BEHAVIOUR & keywords.keys()),
        answers=frozenset({""}) if _CONFIGURING & keywords.keys() else frozenset(),
    )


def _patch_double(
    member: str,
    positional: list[cst.BaseExpression],
    keywords: Mapping[str, cst.BaseExpression],
    names: ImportTable,
    ignored: Sequence[str],
) -> Double | None:
    first = positional[0] if positional else keywords.get("target", keywords.get("in_dict"))
    shown, qualified = _target(first, names)
    resolvable = _resolvable(first, names)
    new: cst.BaseExpression | None = keywords.get("new")
    weight = 1.0
    if member == "patch.object":
        attribute = _string(positional[1]) if len(positional) > 1 else None
        shown, qualified = f"{shown}.{attribute or '…'}", f"{qualified}.{attribute or '…'}"
        new = positional[2] if len(positional) > 2 else new
    elif member == "patch":
        new = positional[1] if len(positional) > 1 else new
    elif member == "patch.dict":
        # Sets entries, makes no mock: a double only when it puts one in.
        values = [*positional[1:2], *(v for k, v in keywords.items() if k != "clear")]
        if not any(_makes_mock(part, names) for v in values for part in _self_and_below(v)):
            return None
    elif member == "patch.multiple":
        # One double per patched attribute (``patch.multiple(m, a=DEFAULT, b=DEFAULT)``).
        weight = float(max(1, len([k for k in keywords if k not in _PATCH_SETTINGS])))
    if _seam(shown, qualified, ignored):
        return None
    if new is not None and not _makes_mock(new, names):
        # A value (``patch("app.settings.DEBUG", True)``) or a fake the test wrote
        # (``patch("app.registry", {"search": indexer})``, ``new=FakeMailer()``): no mock.
        return None
    if "wraps" in keywords:
        weight, shown = 0.5, f"{shown} (wraps)"
    # An unknown target (a computed string) is a double of its own.
    known = "…" not in qualified
    key = f"patch:{qualified}" if known else ""
    answers = frozenset({""}) if _CONFIGURING & keywords.keys() else frozenset()
    return Double(
        weight, short(shown), key, qualified if known and resolvable else "", answers=answers
    )


def _makes_mock(node: cst.CSTNode, names: ImportTable) -> bool:
    """``Mock(...)``, ``AsyncMock(return_value=1)``, ``mocker.MagicMock()``."""
    if not isinstance(node, cst.Call):
        return False
    kind = double_kind(_started(node).func, names)
    return kind is not None and kind[0] == "mock"


def _self_and_below(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    yield node
    yield from iter_descendants(node)


def patch_new(call: cst.Call, names: ImportTable) -> cst.BaseExpression | None:
    """What a ``patch``/``patch.object`` call installs (``new``), or None."""
    kind = double_kind(call.func, names)
    if kind is None or kind[0] != "patch":
        return None
    positional, keywords = _arguments(call)
    if kind[1] == "patch":
        return positional[1] if len(positional) > 1 else keywords.get("new")
    if kind[1] == "patch.object":
        return positional[2] if len(positional) > 2 else keywords.get("new")
    return None


def patch_target(call: cst.Call, names: ImportTable) -> tuple[str, str, bool]:
    """What a ``patch``/``patch.object`` call replaces: ``(as shown, qualified, whether
    the project pass can look it up)``."""
    positional, keywords = _arguments(call)
    first = positional[0] if positional else keywords.get("target")
    shown, qualified = _target(first, names)
    kind = double_kind(call.func, names)
    if kind is not None and kind[1] == "patch.object":
        attribute = _string(positional[1]) if len(positional) > 1 else None
        shown, qualified = f"{shown}.{attribute or '…'}", f"{qualified}.{attribute or '…'}"
    return shown, qualified, "…" not in qualified and _resolvable(first, names)


def _started(expression: cst.Call) -> cst.Call:
    """``patch("x")`` for ``patch("x").start()``."""
    if (
        isinstance(expression.func, cst.Attribute)
        and expression.func.attr.value == "start"
        and isinstance(expression.func.value, cst.Call)
    ):
        return expression.func.value
    return expression


def _root(node: cst.BaseExpression) -> str | None:
    """``m`` for ``m.return_value.x`` or ``m[0].y``."""
    while isinstance(node, (cst.Attribute, cst.Subscript)):
        node = node.value
    return node.value if isinstance(node, cst.Name) else None


def _code(node: cst.CSTNode) -> str:
    written = dotted_name(node) if isinstance(node, cst.BaseExpression) else None
    return written or cst.Module(body=[]).code_for_node(node)


# --- What one assertion checks -------------------------------------------------------


def _call_record_subject(node: cst.CSTNode) -> str | None:
    """What the first call record ``node`` reads belongs to: ``m.send`` for
    ``m.send.call_args[0]``."""
    for inner in (node, *iter_descendants(node)):
        if isinstance(inner, cst.Attribute) and inner.attr.value in CALL_RECORDS:
            return _code(inner.value)
    return None


def content_subjects(node: cst.Assert | cst.Call) -> set[str]:
    """The mocks a check inspects *what* they received for, not only whether or how
    often they were called: ``m.assert_called_once_with(order)``, ``assert
    m.call_args.kwargs == {...}``, ``self.assertEqual(m.call_args_list, [...])``."""
    if isinstance(node, cst.Call):
        name = _callee_name(node.func) or ""
        if isinstance(node.func, cst.Attribute) and name in MOCK_CONTENT_ASSERTIONS:
            return {_code(node.func.value)}
        parts: Sequence[cst.CSTNode] = [a.value for a in node.args if a.keyword is None][:2]
    else:
        parts = _conjuncts(node.test)
    found: set[str] = set()
    for part in parts:
        for inner in (part, *iter_descendants(part)):
            if isinstance(inner, cst.Attribute) and inner.attr.value in CALL_RECORDS:
                if inner.attr.value in _CONTENT_RECORDS:
                    found.add(_code(inner.value))
                break
    return found


def _conjuncts(test: cst.BaseExpression) -> list[cst.BaseExpression]:
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        return [*_conjuncts(test.left), *_conjuncts(test.right)]
    return [test]


def assert_subjects(node: cst.Assert) -> list[tuple[str, bool]] | None:
    """The mocks an ``assert`` checks the calls of, each with whether it checks that
    there was none, or None when it checks something else too (then it checks a
    result)."""
    found: list[tuple[str, bool]] = []
    for part in _conjuncts(node.test):
        subject = _call_record_subject(part)
        if subject is None:
            return None
        found.append((subject, _no_call(part)))
    return found


def _is_empty(node: cst.BaseExpression) -> bool:
    """``0``, ``None``, ``False``, ``[]``: what a call record holds before any call."""
    if isinstance(node, cst.Integer):
        return node.value == "0"
    if isinstance(node, cst.Name):
        return node.value in ("None", "False")
    return isinstance(node, (cst.List, cst.Tuple)) and not node.elements


def _no_call(part: cst.BaseExpression) -> bool:
    """``not m.called``, ``m.call_count == 0``, ``m.call_args is None``: a check that the
    code did *not* call the mock."""
    if isinstance(part, cst.UnaryOperation) and isinstance(part.operator, cst.Not):
        inner = part.expression
        return isinstance(inner, cst.Attribute) and inner.attr.value == "called"
    if isinstance(part, cst.Comparison) and len(part.comparisons) == 1:
        target = part.comparisons[0]
        return isinstance(target.operator, (cst.Equal, cst.Is)) and (
            _is_empty(target.comparator) or _is_empty(part.left)
        )
    return False


def _callee_name(func: cst.BaseExpression) -> str | None:
    if isinstance(func, cst.Attribute):
        return func.attr.value
    if isinstance(func, cst.Name):
        return func.value
    return None


def _is_interaction_method(name: str) -> bool:
    return name.startswith(_INTERACTION_PREFIXES) or name in _INTERACTION_METHODS


def call_check(call: cst.Call, names: ImportTable, extra: Sequence[str]) -> tuple[str, bool] | None:
    """What a call checks: the mock whose calls it checks (``"m.send"``) and whether it
    checks that there was none, ``("", False)`` for a result, None for no check."""
    name = _callee_name(call.func)
    if name is None:
        return None
    if isinstance(call.func, cst.Attribute) and _is_interaction_method(name):
        return _code(call.func.value), name in _NO_CALL_METHODS
    bare = name.lstrip("_")  # ``self._assert_schema(...)``, a private helper
    if bare.startswith("assert") and not bare.startswith("assertion"):
        receiver = call.func.value if isinstance(call.func, cst.Attribute) else None
        if isinstance(receiver, cst.Name) and receiver.value in ("self", "cls"):
            # ``self.assertEqual(m.call_count, 1)``: its subject is a call record.
            arguments = [a.value for a in call.args if a.keyword is None][:2]
            for argument in arguments:
                subject = _call_record_subject(argument)
                if subject is not None:
                    empty = name == "assertFalse" or name == "assertIsNone"
                    return subject, empty or any(_is_empty(a) for a in arguments)
        return "", False
    written = dotted_name(call.func)
    qualified = names.qualify(written) if written is not None else ""
    if qualified in _RAISES or (
        qualified and any(fnmatch.fnmatchcase(qualified, p) for p in extra)
    ):
        return "", False
    return None


# --- Counting a test -----------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    """A test's doubles and checks. ``checks`` holds each mock whose calls are checked,
    with the keys of the doubles it stands for; ``outside`` the keys of doubles that
    turned out to fake something outside the project (checked in the project pass)."""

    doubles: tuple[Double, ...]
    # (mock, keys of the doubles it stands for, whether only "no call" was checked)
    checks: tuple[tuple[str, tuple[str, ...], bool], ...]
    asserts: int  # checks of a result
    outside: frozenset[str] = frozenset()
    # Names of doubles the test gives behaviour, installs or checks (``is_dummy``).
    configured: frozenset[str] = frozenset()
    # Checked mocks (subjects of ``checks``) that the test gave answers to: queries.
    queries: frozenset[str] = frozenset()
    # Checked mocks whose received arguments a check inspects.
    contents: frozenset[str] = frozenset()

    def _is_outside(self, keys: tuple[str, ...]) -> bool:
        return bool(keys) and all(key == IGNORED or key in self.outside for key in keys)

    @property
    def mocks(self) -> float:
        return sum(d.weight for d in self.doubles if d.key not in self.outside)

    @property
    def interaction(self) -> int:
        return len({subject for subject, keys, _ in self.checks if not self._is_outside(keys)})

    @property
    def queried(self) -> tuple[str, ...]:
        """The owned mocks whose calls the test checks although it stubbed them: it
        verifies how the code asked for data, not what it did with the answer."""
        return tuple(
            subject
            for subject, keys, _ in self.checks
            if subject in self.queries and not self._is_outside(keys)
        )

    @property
    def sent(self) -> bool:
        """Whether the test checks what the code sent to an owned mock it did not stub
        (``order_paid.assert_called_once_with(order)``): the output of a unit whose job
        is to send commands."""
        return any(
            subject in self.contents and subject not in self.queries
            for subject, keys, empty in self.checks
            if not empty and not self._is_outside(keys)
        )

    @property
    def uninspected(self) -> tuple[str, ...]:
        """The owned mocks the test checks were called without checking what they
        received (``m.assert_called_once()``, ``assert m.called``)."""
        return tuple(
            subject
            for subject, keys, empty in self.checks
            if not empty and subject not in self.contents and not self._is_outside(keys)
        )

    @property
    def only_no_calls(self) -> bool:
        """Every interaction checked is that a mock was *not* called: the test checks
        that nothing happened, where there is no result to check."""
        owned = [empty for _, keys, empty in self.checks if not self._is_outside(keys)]
        return bool(owned) and all(owned)

    @property
    def behavioral(self) -> int:
        """Result checks, and checks of what a seam or a boundary received: what the code
        sent to the outside world is its behaviour."""
        sent = {subject for subject, keys, _ in self.checks if self._is_outside(keys)}
        return self.asserts + len(sent)

    @property
    def shown(self) -> tuple[Double, ...]:
        return tuple(d for d in self.doubles if d.key not in self.outside)

    def plus(self, more: Iterable[Double]) -> Counts:
        return replace(self, doubles=(*self.doubles, *more))


def number(value: float) -> str:
    """``3`` or ``2.5``."""
    return str(int(value)) if value == int(value) else f"{value:g}"


def plural(count: float, word: str) -> str:
    return f"{number(count)} {word}" + ("" if count == 1 else "s")


def mock_list(counts: Counts, limit: int = 3) -> str:
    """`` (`repo.save`, `mailer`, `MagicMock()` and 2 more)``."""
    labels = [f"`{double.label}`" for double in counts.shown]
    if not labels:
        return ""
    shown = ", ".join(labels[:limit])
    if len(labels) > limit:
        shown += f" and {len(labels) - limit} more"
    return f" ({shown})"


# Nodes without anything to count below them.
_LEAVES = frozenset(
    {
        cst.SimpleString,
        cst.Integer,
        cst.Float,
        cst.Imaginary,
        cst.Pass,
        cst.Ellipsis,
        cst.Comment,
        cst.Break,
        cst.Continue,
        cst.Import,
        cst.ImportFrom,
    }
)


class _Scan:
    """One walk over a test's body in source order, tracking which names hold doubles."""

    def __init__(
        self,
        names: ImportTable,
        ignored: Sequence[str],
        extra: Sequence[str],
        aliases: Mapping[str, tuple[str, ...]],
        doubles: Mapping[str, Double],
    ) -> None:
        self.names = names
        self.ignored = ignored
        self.extra = extra
        # Local name -> keys of the doubles it holds (several for a dict of mocks).
        self.aliases = dict(aliases)
        self.doubles = dict(doubles)  # key -> double
        self.parts: set[str] = set()  # keys configured into another double
        self.part_of: dict[str, str] = {}  # such a key -> the key of that double
        self._owners: list[str] = []  # the doubles whose configuration is being visited
        # Names of doubles the test gives behaviour, installs or checks: collaborators.
        self.configured: set[str] = set()
        # Mocks (dotted, as the test spells them) the test gave answers to.
        self.answered: set[str] = {
            name + (f".{path}" if path else "")
            for name, keys in aliases.items()
            for key in keys
            if key in doubles
            for path in doubles[key].answers
        }
        self.checks: dict[str, tuple[tuple[str, ...], bool]] = {}
        self.contents: set[str] = set()
        self.asserts = 0
        self._fresh = 0
        self._fakes = 0  # depth of functions and classes the test defines

    def counts(self) -> Counts:
        kept = tuple(
            double
            for key, double in self.doubles.items()
            if key not in self.parts and not self._dummy(key)
        )
        checks = tuple(
            (subject, tuple(self._owner_of(key) for key in keys), empty)
            for subject, (keys, empty) in self.checks.items()
        )
        queries = frozenset(subject for subject in self.checks if subject in self.answered)
        return Counts(
            kept,
            checks,
            self.asserts,
            configured=frozenset(self.configured),
            queries=queries,
            contents=frozenset(self.contents),
        )

    def _owner_of(self, key: str) -> str:
        """The double a part belongs to: checking the span of a tracer checks the tracer."""
        seen: set[str] = set()
        while key in self.part_of and key not in seen:
            seen.add(key)
            key = self.part_of[key]
        return key

    def _parts(self, nodes: Iterable[cst.CSTNode], owner: str | None) -> None:
        """Visit what configures the double ``owner`` (the patch, the mock)."""
        if owner is not None:
            self._owners.append(owner)
        for node in nodes:
            self.visit(node, "part")
        if owner is not None:
            self._owners.pop()

    def _dummy(self, key: str) -> bool:
        """A mock the test neither gives behaviour, nor installs, nor checks: it only
        passes it along or reads and sets plain attributes on it
        (``send = MagicMock(); app(scope, receive, send)``, ``subject = Mock(spec=Subject);
        subject.id = 1``). It stands in for data, not for a collaborator."""
        return is_dummy(self.doubles[key], self.configured)

    def _add(self, double: Double, name: str | None) -> str:
        key = double.key or (f"name:{name}" if name else "")
        if not key:
            self._fresh += 1
            key = f"#{self._fresh}"
        label = name if name and not double.key else double.label
        known = self.doubles.get(key)
        if known is None or known.weight < double.weight:
            self.doubles[key] = replace(double, label=label, key=key)
        return key

    # -- the walk --

    def visit(self, node: cst.CSTNode, context: str = "") -> None:
        """``context``: ``"arg"`` for a call's argument, ``"part"`` inside the
        configuration of another double."""
        # Exact type tests: libcst's node classes are ABCs, whose isinstance is slow, and
        # this walk sees every node of every test.
        kind = type(node)
        if type(node) is cst.Call:
            self.call(node, context)
        elif type(node) is cst.Name:
            self.name(node.value, context)
        elif type(node) is cst.Assign:
            self.assign([t.target for t in node.targets], node.value)
        elif type(node) is cst.AnnAssign and node.value is not None:
            self.assign([node.target], node.value)
        elif type(node) is cst.WithItem:
            self.with_item(node)
        elif type(node) is cst.Assert:
            self.check(assert_subjects(node))
            self.contents |= content_subjects(node)
            self.visit(node.test)
        elif kind is cst.FunctionDef or kind is cst.ClassDef:
            self.fake(node)  # type: ignore[arg-type]
        elif kind not in _LEAVES:
            inner = "part" if context == "part" else ""
            for child in iter_children(node):
                self.visit(child, inner)

    def fake(self, node: cst.FunctionDef | cst.ClassDef) -> None:
        """A function or class the test writes (a fake, a ``side_effect``): the mocks it
        makes are part of it, and the doubles it returns are part of what it is given
        to (``plugins.side_effect = pick_plugin``)."""
        self._fakes += 1
        self.visit(node.body)
        self._fakes -= 1
        held = tuple(
            key for name in sorted(_free_names(node.body)) for key in self.aliases.get(name, ())
        )
        if held:
            self.aliases[node.name.value] = held
        else:
            self.aliases.pop(node.name.value, None)

    def name(self, name: str, context: str) -> None:
        if context == "part":
            for key in self.aliases.get(name, ()):
                self.parts.add(key)
                if self._owners and self._owners[-1] != key:
                    self.part_of[key] = self._owners[-1]

    def check(self, subjects: Sequence[tuple[str, bool]] | None) -> None:
        """Count an assertion: on results (None) or on the calls of mocks."""
        if subjects is None:
            self.asserts += 1
            return
        for subject, empty in subjects:
            root = subject.split(".", 1)[0].split("[", 1)[0].split("(", 1)[0]
            self.configured.add(root)
            keys, before = self.checks.get(subject, (self.aliases.get(root, ()), True))
            self.checks[subject] = (keys, before and empty)

    def call(self, node: cst.Call, context: str, name: str | None = None) -> str | None:
        """Visit a call; the key of the double it makes, if it makes one."""
        maker = _started(node)
        kind = double_kind(maker.func, self.names)
        if kind is not None:
            return self.double(maker, kind, context, name)
        written = dotted_name(node.func) or ""
        if self.names.qualify(written) in _SETTERS or written in _SETTERS:
            self.setter(node)
            return None
        if written.endswith(".configure_mock"):
            self.configured.add(written.split(".", 1)[0])
        checked = call_check(node, self.names, self.extra)
        if checked is not None:
            self.check([checked] if checked[0] else None)
            if checked[0]:
                self.contents |= content_subjects(node)
        inner = "part" if context == "part" else ""
        self.visit(node.func, inner)
        for arg in node.args:
            self.visit(arg.value, "part" if context == "part" else "arg")
        return None

    def double(
        self, maker: cst.Call, kind: tuple[str, str], context: str, name: str | None
    ) -> str | None:
        new = patch_new(maker, self.names)
        if isinstance(new, cst.Name) and new.value in self.aliases and context != "part":
            return self.install(maker, new.value)
        found = double_of(maker, self.names, self.ignored)
        key: str | None = None
        if context == "part" or self._fakes:
            pass  # configures the double being visited, or belongs to a fake: one with it
        elif found is None:
            # A seam, a boundary or a literal: not counted; checks of its calls are
            # checks of what left the code. A fake installed by a patch is no double.
            boundary = kind[0] == "mock" or new is None
            key = IGNORED if boundary else None
        elif not (kind[0] == "mock" and context == "arg" and not found.stub):
            if self._gives_behaviour(maker):
                found = replace(found, stub=True)
            key = self._add(found, name)  # (else a dummy: ``total(order, manager=Mock())``)
        self._parts((arg.value for arg in maker.args), key)
        return key

    def _gives_behaviour(self, maker: cst.Call) -> bool:
        """``Mock(**methods)`` with mocks gathered before, ``Mock(get=Mock(...))``:
        made of other doubles, it is configured."""
        for arg in maker.args:
            if arg.star == "**" or _makes_mock(arg.value, self.names):
                return True
            if isinstance(arg.value, cst.Name) and arg.value.value in self.aliases:
                return True
        return False

    def install(self, patch: cst.Call, name: str) -> str | None:
        """``mocker.patch("app.mailer", new=mailer)``: the double made earlier replaces
        the target; patched into several places, it stays one double."""
        shown, qualified, known = patch_target(patch, self.names)
        keys = self.aliases.get(name, ())
        self.configured.add(name)
        if _seam(shown, qualified, self.ignored):
            self.aliases[name] = (IGNORED,)
            for key in keys:
                self.doubles.pop(key, None)
            return IGNORED
        for key in keys:
            double = self.doubles.get(key)
            if double is not None and not double.target and known:
                self.doubles[key] = replace(double, label=short(shown), target=qualified)
        return keys[0] if keys else None

    def setter(self, node: cst.Call) -> None:
        """``monkeypatch.setattr("app.mailer", Mock())``: the mock patches the target."""
        positional, keywords = _arguments(node)
        if "value" in keywords:
            value, where = keywords["value"], positional
        elif len(positional) >= 2:
            value, where = positional[-1], positional[:-1]
        else:
            for child in iter_children(node):
                self.visit(child)
            return
        for argument in where:
            self.visit(argument)
        shown, qualified = _target(where[0] if where else None, self.names)
        if len(where) >= 2:
            attribute = _string(where[1]) or "…"
            shown, qualified = f"{shown}.{attribute}", f"{qualified}.{attribute}"
        if _seam(shown, qualified, self.ignored):
            self._parts([value], IGNORED)  # a seam or a boundary, whatever replaces it
            return
        known = "…" not in qualified and _resolvable(where[0] if where else None, self.names)
        if isinstance(value, cst.Name):
            # Installs a double made earlier: it replaces this target.
            for key in self.aliases.get(value.value, ()):
                double = self.doubles.get(key)
                if double is not None and not double.target and known:
                    self.doubles[key] = replace(double, label=short(shown), target=qualified)
            self.configured.add(value.value)
            return
        maker = _started(value) if isinstance(value, cst.Call) else None
        found = double_of(maker, self.names, self.ignored) if maker is not None else None
        if maker is None or found is None:
            self.visit(value)  # a lambda or a fake class is no mock
            return
        key = f"patch:{qualified}" if "…" not in qualified else ""
        double = Double(found.weight, short(shown), key, qualified if known else "")
        self._parts((arg.value for arg in maker.args), self._add(double, None))

    def assign(self, targets: Sequence[cst.BaseExpression], value: cst.BaseExpression) -> None:
        name = targets[0].value if len(targets) == 1 and isinstance(targets[0], cst.Name) else None
        if name is not None:
            before = set(self.doubles)
            key = self.call(value, "", name) if isinstance(value, cst.Call) else None
            if not isinstance(value, cst.Call):
                self.visit(value)
            if key is not None:
                self.aliases[name] = (key,)
                double = self.doubles.get(key)
                if double is not None:
                    self.answered.update(
                        name + (f".{path}" if path else "") for path in double.answers
                    )
            elif isinstance(value, cst.Name) and value.value in self.aliases:
                self.aliases[name] = self.aliases[value.value]
            elif isinstance(value, (cst.Dict, cst.List, cst.Tuple, cst.Set)):
                # ``methods = {"total": Mock(...)}``, later ``Mock(**methods)``.
                made = tuple(k for k in self.doubles if k not in before)
                if made:
                    self.aliases[name] = made
                else:
                    self.aliases.pop(name, None)
            else:
                self.aliases.pop(name, None)
            return
        roots = [_root(t) for t in targets]
        owners = [key for root in roots if root is not None for key in self.aliases.get(root, ())]
        if owners:
            # ``m.return_value.__enter__.return_value = span``: configuring ``m``;
            # ``subject.id = 123`` only gives it data.
            if self._behaviour(targets, value):
                self.configured.update(root for root in roots if root is not None)
            self.answered.update(filter(None, (_answered(t, value, self.names) for t in targets)))
            self._parts([value], owners[0])
            return
        owner = _owner(targets[0]) if len(targets) == 1 else None
        if owner is not None and not self._fakes and _makes_mock(value, self.names):
            # ``client.v1.cancel = AsyncMock(...)``, ``runner._send = MagicMock()``: the
            # object whose methods the test replaces is one double, however many.
            key = f"name:{owner}"
            known = self.doubles.get(key)
            if known is None:
                self.doubles[key] = Double(1.0, owner, key, stub=True)
            self.aliases.setdefault(owner.split(".", 1)[0], (key,))
            self.answered.update(filter(None, [_answered(targets[0], value, self.names)]))
            self._parts([value], key)
            return
        for child in (*targets, value):
            self.visit(child)

    def _behaviour(self, targets: Sequence[cst.BaseExpression], value: cst.BaseExpression) -> bool:
        """Whether an assignment to a double's attribute says what it does when called:
        ``m.get.return_value = x``, ``m.side_effect = ...``, ``m.fetch = AsyncMock()``,
        ``m.send = fake_send``."""
        if any(_configures(target) for target in targets):
            return True
        if isinstance(value, cst.Lambda) or _makes_mock(value, self.names):
            return True
        return isinstance(value, cst.Name) and value.value in self.aliases

    def with_item(self, node: cst.WithItem) -> None:
        key = self.call(node.item, "") if isinstance(node.item, cst.Call) else None
        if key is None and not isinstance(node.item, cst.Call):
            self.visit(node.item)
        if key is not None and node.asname is not None and isinstance(node.asname.name, cst.Name):
            name = node.asname.name.value
            self.aliases[name] = (key,)
            double = self.doubles.get(key)
            if double is not None:
                self.answered.update(name + (f".{path}" if path else "") for path in double.answers)


def is_dummy(double: Double, configured: Collection[str]) -> bool:
    """A mock bound to a name (or a fixture) that the test neither gives behaviour, nor
    installs, nor checks, and that was made without behaviour: a stand-in for data."""
    if double.target or double.stub:
        return False
    for prefix in ("name:", "fixture:"):
        if double.key.startswith(prefix):
            return double.key[len(prefix) :] not in configured
    return False


def _answered(
    target: cst.BaseExpression, value: cst.BaseExpression, names: ImportTable
) -> str | None:
    """The mock an assignment gives answers to: ``repo.get`` for ``repo.get.return_value
    = x`` and for ``repo.get = AsyncMock(return_value=x)``."""
    if isinstance(target, cst.Attribute) and target.attr.value in _CONFIGURING:
        # ``m.return_value = MagicMock()`` only keeps the call from failing: no answer.
        placeholder = isinstance(value, cst.Call) and _makes_mock(value, names) and not value.args
        return None if placeholder else dotted_name(target.value)
    if isinstance(value, cst.Call) and _makes_mock(value, names):
        given = {arg.keyword.value for arg in value.args if arg.keyword is not None}
        if given & _CONFIGURING:
            return dotted_name(target)
    return None


def _owner(target: cst.BaseExpression) -> str | None:
    """``client.v1`` for ``client.v1.cancel``: the object an attribute is set on."""
    if not isinstance(target, cst.Attribute):
        return None
    return dotted_name(target.value)


def _configures(target: cst.BaseExpression) -> bool:
    """``m.get.return_value``, ``m.return_value.__enter__.side_effect``."""
    node: cst.BaseExpression = target
    while isinstance(node, (cst.Attribute, cst.Subscript)):
        if isinstance(node, cst.Attribute) and node.attr.value in _CONFIGURING:
            return True
        node = node.value
    return False


def _free_names(node: cst.CSTNode) -> set[str]:
    """The names a body reads (attribute names left out)."""
    if isinstance(node, cst.Name):
        return {node.value}
    if isinstance(node, cst.Attribute):
        return _free_names(node.value)
    found: set[str] = set()
    for child in iter_children(node):
        found |= _free_names(child)
    return found


def _decorator_calls(decorators: Sequence[cst.Decorator]) -> Iterator[cst.Call]:
    for decorator in decorators:
        if isinstance(decorator.decorator, cst.Call):
            yield decorator.decorator


def _all_decorators(test: TestFunction) -> list[cst.Decorator]:
    decorators = list(test.node.decorators)
    if test.class_node is not None:
        decorators += test.class_node.decorators
    return decorators


def _injects(call: cst.Call, names: ImportTable) -> bool:
    """Whether a ``patch`` decorator passes its mock to the test as an argument."""
    kind = double_kind(call.func, names)
    if kind is None or kind[0] != "patch" or kind[1] not in ("patch", "patch.object"):
        return False
    positional, keywords = _arguments(call)
    given = 2 if kind[1] == "patch" else 3
    return len(positional) < given and "new" not in keywords


@dataclass(frozen=True)
class Signature:
    """What fills a test's parameters: mocks of its ``@patch`` decorators (parameter ->
    double, None for a seam) and fixtures (the parameters pytest fills)."""

    patched: tuple[tuple[str, Double | None], ...]
    fixtures: tuple[str, ...]


def signature(test: TestFunction, names: ImportTable, ignored: Sequence[str]) -> Signature:
    """unittest tests take no fixtures; the first parameters of a test under ``@patch``
    decorators receive the mocks (the decorator nearest the function first, the class's
    decorators last), and ``parametrize`` supplies its argument names."""
    params = test.node.params
    positional = [p.name.value for p in (*params.posonly_params, *params.params)]
    if positional[:1] in (["self"], ["cls"]):
        positional = positional[1:]
    injecting = [
        call
        for decorators in (test.node.decorators, _class_decorators(test))
        for call in reversed(list(_decorator_calls(decorators)))
        if _injects(call, names)
    ]
    # pytest passes fixtures by keyword, so the mocks ``patch`` appends to the positional
    # arguments fill the first parameters (after ``self``), as pytest itself assumes.
    head = positional[: len(injecting)]
    patched = tuple(
        (name, double_of(call, names, ignored)) for name, call in zip(head, injecting, strict=False)
    )
    if test.class_node is not None and _is_unittest_class(test, names):
        return Signature(patched, ())
    supplied = parametrized_names(_all_decorators(test), names) | {n for n, _ in patched}
    fixtures = tuple(
        p.name.value
        for p in (*params.posonly_params, *params.params, *params.kwonly_params)
        if p.default is None
        and p.name.value not in supplied
        and p.name.value not in ("self", "cls")
    )
    return Signature(patched, fixtures)


def _class_decorators(test: TestFunction) -> Sequence[cst.Decorator]:
    return test.class_node.decorators if test.class_node is not None else ()


def _is_unittest_class(test: TestFunction, names: ImportTable) -> bool:
    """A ``TestCase`` (its tests receive no fixtures), as far as the file can tell: a
    class that is a test class only through a base of another module is one."""
    if test.requires:
        return True
    bases = test.class_node.bases if test.class_node is not None else ()
    return any(names.qualified_name(base.value) in TESTCASE_BASES for base in bases)


def count_test(
    test: TestFunction,
    names: ImportTable,
    ignored: Sequence[str],
    extra: Sequence[str],
    fixtures: Mapping[str, Double | None],
) -> tuple[Counts, tuple[str, ...]]:
    """The counts of one test, and the requested fixtures ``fixtures`` does not know
    (defined in a conftest, perhaps): the file pass knows the file's own fixtures."""
    aliases: dict[str, tuple[str, ...]] = {}
    doubles: dict[str, Double] = {}
    sig = signature(test, names, ignored)
    for call in _decorator_calls(_all_decorators(test)):
        found = double_of(call, names, ignored)
        if found is not None:
            doubles[found.key] = found
    for name, double in sig.patched:
        aliases[name] = (double.key if double is not None else IGNORED,)
    unknown: list[str] = []
    for name in sig.fixtures:
        if name in fixtures:
            double = fixtures[name]
            if double is not None and double.key == IGNORED:
                aliases[name] = (IGNORED,)  # a mock of a seam or a boundary
            elif double is not None:
                key = f"fixture:{name}"
                aliases[name] = (key,)
                doubles[key] = replace(double, label=name, key=key)
        elif name not in _KNOWN_FIXTURES:
            unknown.append(name)
            # Configuring it (``gateway.charge.return_value = Mock()``) is no new double.
            aliases[name] = (f"fixture:{name}",)
    scan = _Scan(names, ignored, extra, aliases, doubles)
    scan.visit(test.node.body)
    return scan.counts(), tuple(unknown)


# --- Fixtures ------------------------------------------------------------------------


def fixture_name(function: cst.FunctionDef, names: ImportTable) -> str | None:
    """The name a fixture is requested by (``@pytest.fixture(name="client")``), or None
    for a function that is no fixture."""
    for decorator in function.decorators:
        expression = decorator.decorator
        callee = expression.func if isinstance(expression, cst.Call) else expression
        if (names.qualified_name(callee) or "") not in FIXTURE_DECORATORS:
            continue
        if isinstance(expression, cst.Call):
            for arg in expression.args:
                if arg.keyword is not None and arg.keyword.value == "name":
                    return _string(arg.value) or function.name.value
        return function.name.value
    return None


def fixture_double(
    function: cst.FunctionDef, names: ImportTable, ignored: Sequence[str]
) -> Double | None:
    """The double a fixture returns or yields (directly or through a local name), or None.

    A fixture counts as at most one mock, whatever it returns: a tuple of mocks is one
    requested collaborator from the test's point of view. What the fixture does with a
    mock before returning it counts: given behaviour (``client.get.return_value = ...``)
    it is a stub, installed by a patch (``mocker.patch("app.stripe", new=mock)``,
    ``return_value=client``) it replaces that target, and installed at a seam or a
    boundary it is none.
    """
    bound: dict[str, Double | None] = {}

    def value_double(value: cst.BaseExpression | None) -> Double | None:
        if isinstance(value, cst.Name):
            return bound.get(value.value)
        if isinstance(value, (cst.Tuple, cst.List)):
            doubles = [value_double(e.value) for e in value.elements]
            return next((d for d in doubles if d is not None), None)
        if isinstance(value, cst.Call):
            made = _started(value)
            found = double_of(made, names, ignored)
            kind = double_kind(made.func, names)
            if found is None and kind is not None and kind[0] == "patch":
                shown, qualified, _ = patch_target(made, names)
                if _seam(shown, qualified, ignored):
                    return Double(0.0, shown, IGNORED)
            return found
        return None

    def installed(call: cst.Call) -> None:
        """A bound mock given to a patch as its replacement or its return value."""
        kind = double_kind(call.func, names)
        if kind is None or kind[0] != "patch":
            return
        _, keywords = _arguments(call)
        given = [patch_new(call, names), keywords.get("return_value")]
        shown, qualified, known = patch_target(call, names)
        for value in given:
            if not isinstance(value, cst.Name) or bound.get(value.value) is None:
                continue
            double = bound[value.value]
            assert double is not None
            if double.key == IGNORED:
                continue
            if _seam(shown, qualified, ignored):
                # A mock of a seam or a boundary: what it receives is checked like a result.
                bound[value.value] = Double(0.0, shown, IGNORED)
            elif known and not double.target:
                bound[value.value] = replace(double, target=qualified, label=short(shown))

    for node in iter_descendants(function.body, into_functions=False):
        if isinstance(node, cst.Assign) and len(node.targets) == 1:
            target = node.targets[0].target
            if isinstance(target, cst.Name):
                double = value_double(node.value)
                if double is not None:
                    bound[target.value] = double
                continue
            root = _root(target)
            known = bound.get(root) if root is not None else None
            if known is not None and (_configures(target) or _makes_mock(node.value, names)):
                answered = _answered(target, node.value, names)
                paths = set(known.answers)
                if answered is not None and root is not None:
                    paths.add(answered[len(root) + 1 :])
                bound[root] = replace(known, stub=True, answers=frozenset(paths))  # type: ignore[index]
        elif isinstance(node, cst.WithItem) and node.asname is not None:
            double = value_double(node.item)
            if isinstance(node.asname.name, cst.Name) and double is not None:
                bound[node.asname.name.value] = double
        elif isinstance(node, cst.Call):
            installed(node)
        elif isinstance(node, (cst.Return, cst.Yield)):
            value = node.value
            return value_double(value if isinstance(value, cst.BaseExpression) else None)
    return None


def module_fixtures(
    module: cst.Module, names: ImportTable, ignored: Sequence[str]
) -> dict[str, Double | None]:
    """Every module-level fixture of a module (a ``conftest.py``), by requested name."""
    found: dict[str, Double | None] = {}
    for statement in _top_functions(module.body):
        name = fixture_name(statement, names)
        if name is not None:
            found[name] = fixture_double(statement, names, ignored)
    return found


def _top_functions(body: Sequence[cst.CSTNode]) -> Iterator[cst.FunctionDef]:
    for statement in body:
        if isinstance(statement, cst.FunctionDef):
            yield statement
        elif isinstance(statement, (cst.If, cst.Try)) and isinstance(
            statement.body, cst.IndentedBlock
        ):
            yield from _top_functions(statement.body.body)


def parametrized_names(decorators: Sequence[cst.Decorator], names: ImportTable) -> set[str]:
    """The argument names ``@pytest.mark.parametrize`` supplies (they are no fixtures)."""
    found: set[str] = set()
    for call in _decorator_calls(decorators):
        if names.qualified_name(call.func) != "pytest.mark.parametrize" or not call.args:
            continue
        argnames = call.args[0].value
        text = _string(argnames)
        if text is not None:
            found.update(part.strip() for part in text.split(","))
        elif isinstance(argnames, (cst.List, cst.Tuple)):
            found.update(filter(None, (_string(e.value) for e in argnames.elements)))
    return found


def conftest_modules(module: str, is_package: bool) -> tuple[str, ...]:
    """The ``conftest`` modules pytest loads for a test module, nearest first."""
    parts = module.split(".") if is_package else module.split(".")[:-1]
    return tuple(".".join([*parts[:depth], "conftest"]) for depth in range(len(parts), -1, -1))


# --- The verdict and its check in the project pass ------------------------------------


class Verdict(Protocol):
    """When a rule fires on a test's counts, and its message."""

    def fires(self, counts: Counts) -> bool: ...

    def message(self, test: str, counts: Counts) -> str: ...


def _conftest_fixtures(
    project: ProjectIndex, module: str, ignored: tuple[str, ...]
) -> dict[str, Double | None]:
    # ``ignored-targets`` decides which patches are seams while the fixtures are read,
    # so the summary is one of the module and the option: its kind says which option.
    found = project.summary(
        module,
        f"BL711-conftest-fixtures/v1/{options_fingerprint(ignored)}",
        partial(module_fixtures, ignored=ignored),
    )
    return {} if found is None else found


def outside_project(project: ProjectIndex, target: str, depth: int = 0) -> bool:
    """Whether a patch target names something defined outside the project: in the
    standard library or a library (``requests.post``), or imported from one into a
    project module (``app.sync.boto3``, ``app.jobs.Queue`` from ``rq``), or a module-level
    instance of a library class (``app.jobs.logger = logging.getLogger()``)."""
    parts = target.removesuffix("()").split(".")
    for size in range(len(parts), 0, -1):
        module = ".".join(parts[:size])
        if project.facts_of(module) is not None:
            break
    else:
        return True  # no module of the project on the way
    rest = parts[size:]
    if not rest or depth > 5:
        return False
    binding = project.binding(f"{module}.{rest[0]}")
    if binding is None or not binding.target or binding.shape not in ("import", "alias", "call"):
        return False  # defined in the project: a function, a class, a value
    further = ".".join([binding.target.removesuffix("()"), *rest[1:]])
    return outside_project(project, further, depth + 1)


def defining_module(project: ProjectIndex, target: str, depth: int = 0) -> str | None:
    """The project module where what ``target`` names is defined, following imports,
    aliases and module-level instances (``app.orders.service.enqueue_job`` imported from
    ``app.worker`` gives ``app.worker``; ``app.billing.stripe_service.refund`` with
    ``stripe_service = StripeService()`` gives the module of ``StripeService``); None
    when it lies outside the project."""
    parts = target.removesuffix("()").split(".")
    for size in range(len(parts), 0, -1):
        module = ".".join(parts[:size])
        if project.facts_of(module) is not None:
            break
    else:
        return None
    rest = parts[size:]
    if not rest or depth > 5:
        return module
    binding = project.binding(f"{module}.{rest[0]}")
    if binding is None or not binding.target or binding.shape not in ("import", "alias", "call"):
        return module
    further = ".".join([binding.target.removesuffix("()"), *rest[1:]])
    return defining_module(project, further, depth + 1)


def wraps_outside_system(project: ProjectIndex, target: str, packages: Sequence[str]) -> bool:
    """Whether ``target`` is defined in a project module that wraps an outside system:
    one that imports an HTTP client, an SDK or a task queue (``packages``, fnmatch
    patterns over the imported module names) and no database layer. A service that
    also queries the database (``import stripe`` next to ``sqlalchemy``) is the
    project's own logic, however it talks to the outside."""
    module = defining_module(project, target)
    facts = project.facts_of(module) if module is not None else None
    if facts is None:
        return False
    imported = set(facts.packages) | {fact.module for fact in facts.imports if fact.module}
    imported = {name for name in imported if project.facts_of(name.split(".")[0]) is None}
    tops = {name.split(".")[0] for name in imported}
    if tops & ORM_PACKAGES or any(name.startswith(_DJANGO_DB) for name in imported):
        return False
    return any(fnmatch.fnmatchcase(name, p) for name in imported | tops for p in packages)


@dataclass(frozen=True)
class ProjectCounts:
    """What the file pass could not decide: which requested fixtures a ``conftest.py``
    up the package tree makes return a mock, and which patch targets lie outside the
    project. Decides the verdict on the full counts and writes the message."""

    verdict: Verdict
    test: str
    counts: Counts
    fixtures: tuple[str, ...]
    conftests: tuple[str, ...]
    ignored: tuple[str, ...]
    boundaries: bool = True  # whether patches outside the project are boundaries
    packages: tuple[str, ...] = ()  # ``boundary-packages``

    def total(self, project: ProjectIndex) -> Counts:
        extra: list[Double] = []
        seams: set[str] = set()  # fixtures that return a mock of a seam or a boundary
        for fixture in self.fixtures:
            for module in self.conftests:
                key = ("BL711/BL712 conftest fixtures", module, self.ignored)
                found = project.memo(
                    key, partial(_conftest_fixtures, project, module, self.ignored)
                )
                if fixture in found:
                    double = found[fixture]
                    if double is not None and double.key == IGNORED:
                        seams.add(f"fixture:{fixture}")
                    elif double is not None:
                        double = replace(double, label=fixture, key=f"fixture:{fixture}")
                        if not is_dummy(double, self.counts.configured):
                            extra.append(double)
                    break  # the nearest definition wins
        counts = self.counts.plus(extra)
        if seams:
            counts = replace(counts, outside=counts.outside | seams)
        if not self.boundaries:
            return counts
        outside = frozenset(
            double.key
            for double in counts.doubles
            if any(self._boundary(project, name) for name in (double.target, double.spec) if name)
        )
        return replace(counts, outside=counts.outside | outside)

    def _boundary(self, project: ProjectIndex, target: str) -> bool:
        """A patch target or a mock's spec defined outside the project, or in a project
        module that wraps an outside system."""
        return project.memo(
            ("BL711/BL712 boundary", target, self.packages),
            lambda: (
                outside_project(project, target)
                or wraps_outside_system(project, target, self.packages)
            ),
        )

    def holds(self, project: ProjectIndex) -> bool:
        return self.verdict.fires(self.total(project))

    def refine(self, message: str, project: ProjectIndex) -> str:
        return self.verdict.message(self.test, self.total(project))


# --- The rules' shared walk ----------------------------------------------------------


class MockCountingRule(FileRule):
    """Counts each test of a test file and reports the ones ``verdict()`` fires on."""

    include_tests = True

    def verdict(self) -> Verdict:
        raise NotImplementedError

    def applies_to(self, ctx: FileContext) -> bool:
        if not ctx.is_test or PurePosixPath(ctx.relative).name == "conftest.py":
            return False
        if self._contracts.match_file(ctx.relative):
            return False
        return super().applies_to(ctx)

    @property
    def _contracts(self) -> pathspec.GitIgnoreSpec:
        spec = getattr(self, "_contract_spec", None)
        if spec is None:
            spec = pathspec.GitIgnoreSpec.from_lines(self.str_list_option("contract-test-globs"))
            self._contract_spec = spec
        return spec

    def begin_file(self, ctx: FileContext) -> None:
        super().begin_file(ctx)
        self._ignored = self.str_list_option("ignored-targets")
        self._extra = self.str_list_option("extra-assert-functions")
        self._fixtures: dict[tuple[int, str], Double | None] | None = None
        self._verdict = self.verdict()
        self._boundaries = not self.option("count-library-mocks")
        self._packages = self.str_list_option("boundary-packages")

    def _local_fixtures(self, test: TestFunction) -> dict[str, Double | None]:
        """The fixtures of this file a test sees: its class's over the module's."""
        if self._fixtures is None:
            self._fixtures = {}
            for item in self.ctx.test_functions.values():
                name = fixture_name(item.node, self.ctx.names) if item.kind == "fixture" else None
                if name is not None:
                    owner = id(item.class_node) if item.class_node is not None else 0
                    double = fixture_double(item.node, self.ctx.names, self._ignored)
                    self._fixtures[(owner, name)] = double
        owner = id(test.class_node) if test.class_node is not None else 0
        seen = {name: double for (where, name), double in self._fixtures.items() if where == 0}
        if owner:
            seen.update({n: d for (where, n), d in self._fixtures.items() if where == owner})
        return seen

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        test = self.ctx.test_functions.get(id(node))
        if test is None or test.kind != "test":
            return
        counts, unknown = count_test(
            test, self.ctx.names, self._ignored, self._extra, self._local_fixtures(test)
        )
        conditions: list[Condition] = list(test.requires)
        if not _could_fire(self._verdict, counts, len(unknown)):
            return
        resolve = self._boundaries and any(
            double.target or double.spec for double in counts.doubles
        )
        if unknown or resolve:
            conftests = conftest_modules(self.ctx.module, self.ctx.is_package)
            conditions.append(
                ProjectCounts(
                    self._verdict,
                    test.qualname,
                    counts,
                    unknown,
                    conftests,
                    self._ignored,
                    self._boundaries,
                    self._packages,
                )
            )
        self.report(node.name, self._verdict.message(test.qualname, counts), conditions=conditions)


def _could_fire(verdict: Verdict, counts: Counts, unknown: int) -> bool:
    """Whether the verdict holds if every unknown fixture turned out to be a mock and
    every patch target to be the project's (both rules grow more likely with more mocks,
    and with fewer checks of what reached the outside world)."""
    return verdict.fires(counts.plus(Double(1.0, "?") for _ in range(unknown)))
