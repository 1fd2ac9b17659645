from __future__ import annotations

import libcst as cst

from backlint.diagnostics import Severity
from backlint.engine.context import FileContext
from backlint.index.names import dotted_name
from backlint.rules.base import Condition, Example, FileRule, Option
from backlint.rules.errors.swallow import (
    LOG_METHODS,
    LOGGER_NAMES_OPTION,
    logger_requirements,
)
from backlint.rules.logging_rules.logged_values import (
    Item,
    LoggedValues,
    Scope,
    may_be_project,
    shown,
)
from backlint.rules.logging_rules.model_fields import (
    EXPOSED,
    Exposure,
    LogExposes,
    join_descriptions,
)
from backlint.rules.logging_rules.words import (
    DEFAULT_IGNORE_WORDS,
    DEFAULT_METADATA_PREFIXES,
    DEFAULT_METADATA_SUFFIXES,
    DEFAULT_PII_WORDS,
    DEFAULT_SECRET_WORDS,
    DEFAULT_VALUE_SUFFIXES,
    Vocabulary,
)

_LOGGER_NAMES = LOGGER_NAMES_OPTION
# ``logger.bind(email=...)`` (structlog, loguru) puts the value in every later event.
_SINK_METHODS = LOG_METHODS | {"bind"}
# Calls that return a logger from a logger: ``log.bind(...).info(...)``, ``logger.opt()``.
_DERIVED_LOGGERS = frozenset({"bind", "new", "opt", "patch"})
_CONTEXT_BINDERS = frozenset(
    {"structlog.contextvars.bind_contextvars", "structlog.threadlocal.bind_threadlocal"}
)
# Keyword arguments that configure the call rather than add to the record.
_CONTROL_KEYWORDS = frozenset({"exc_info", "stack_info", "stacklevel"})
_PRINT_KEYWORDS = frozenset({"sep", "end", "file", "flush"})
_CONSTRUCTORS = frozenset(
    {"model_validate", "model_validate_json", "parse_obj", "parse_raw", "model_construct"}
)

_SCHEMAS = """
from pydantic import BaseModel, SecretStr

class UserCreate(BaseModel):
    email: str
    password: str

class Login(BaseModel):
    username: str
    password: SecretStr

class Page(BaseModel):
    title: str
"""

_MODELS = """
from uuid import uuid4
from django.db import models

class TransactionItem(models.Model):
    token = models.UUIDField(unique=True, default=uuid4)

class Invitation(models.Model):
    token = models.CharField(max_length=64)
"""


class SensitiveDataInLog(FileRule):
    """
    ## What it does
    Flags a log call that writes a secret or personal data: a value whose name says it
    is a password, token, API key or other secret, or an email, phone number, address,
    card number or other personal data (`user.email`, `password`, `data["token"]`,
    `get_api_key()`); a whole-request dump (`request.headers`, `request.cookies`,
    `await request.body()`, `request.json()`, Django's `request.META`, DRF's
    `request.data`); or a Pydantic model that declares such a field, logged whole
    (`user_in.model_dump()`, `repr(user_in)`, or `user_in` itself as a `%s` or f-string
    argument, which prints every field).

    The log calls are those of BL202: methods of `logging`, `logging.getLogger()`,
    structlog and loguru loggers, names in `logger-names` (`logger`, `self.log`), and
    loggers imported from another module of the project; plus `logger.bind(...)` and
    structlog's `bind_contextvars(...)`, and `print` with `include-print`. Every value
    that reaches the record is inspected: f-string parts, `%` and `.format()` arguments,
    positional arguments, keyword arguments (structlog and loguru fields) and the keys
    and values of `extra={...}`. The text of the message itself never counts:
    `logger.info("token refreshed for %s", user.id)` logs an id.

    ## Why is this bad?
    Logs are copied to aggregators, shipped to vendors, kept for months and read by far
    more people than the database is. A password or token in a log line is a leaked
    credential; an email or phone number there is personal data outside every deletion
    and access process GDPR-style rules require.

    ## Example
    ```python
    logger.info(f"login {user.email} pw={password}")
    log.debug("headers=%s", request.headers)
    logger.info("created", extra={"card_number": req.card_number})
    ```

    Use instead:
    ```python
    logger.info("login user_id=%s", user.id)
    log.debug("content-type=%s", request.headers.get("content-type"))
    logger.info("created", extra={"card_last4": mask_card(req.card_number)})
    ```

    ## How to fix
    Log an identifier (`user.id`) instead of the value, or a masked or measured form
    (`mask_email(email)`, `len(token)`, `token[:4]`), or add a redaction processor to
    the logging configuration and mark the line with `# noqa: BL811`. Declare secret
    fields of Pydantic models as `SecretStr`: they mask themselves, and the rule knows.

    Names are split into whole words (`num_uncertainty` does not contain `cert`) and a
    sensitive word counts only as the name's last word, or followed only by words that
    still name the value (`value-suffixes`: `password_plain`, `phone_number`). Anything
    else after it makes the name metadata about the value: `token_type`,
    `secret_name`, `email_template`, `password_reset_url`, `email_sent`, `user_id` are
    not flagged; `metadata-suffixes` lists endings that are always metadata (also as a
    value under a sensitive key: `extra={"email": user_id}`), and `metadata-prefixes`
    words that make a name metadata wherever they stand before the sensitive word
    (`has_email`, `num_tokens`, `masked_email`). `ignore-words` lists names that only
    look sensitive; for an attribute the owner's name counts too, so `group_email`
    also covers `support_group.email`. Values wrapped in `len`, `bool`, `mask*`,
    `redact*`, `hash*` or `hashlib.*`, slices, and names annotated `SecretStr` or
    `SecretBytes` (in the function, or as the field of a project model or settings
    class) are left alone; `.get_secret_value()` is always a secret. A field that
    the model declares as a UUID (`token = models.UUIDField(default=uuid4)`,
    `Mapped[UUID]`) is an identifier whatever its name: `transaction_item.token` is
    looked up in the project's `TransactionItem` class when the type of
    `transaction_item` is not written down. Project logging
    helpers are sinks once listed in `log-functions`. Messages show code, never
    values: string literals in the shown code are elided.

    Calibration (on FastAPI, Django and Flask projects): `address` is a postal
    address; network addresses (`ip_address`, `remote_address`, `mac_address`, …) are
    not personal data for this rule, since access logs legitimately record them, nor
    are the addresses of groups, organisations and the application itself
    (`group.email`, `DEFAULT_FROM_EMAIL`, `warehouse.address`). Pagination and LLM
    token counts (`next_token`, `prompt_tokens`) are not secrets. A name starting with
    a verb (`send_email`, `verify_password`) is a function, not a value, and a call
    counts through its name only when that starts with a getter verb (`get_email()`,
    `create_access_token()`): `send_email(...)` returns no email. A whole-model dump is
    flagged only for models whose class the project defines and whose fields the rule
    can read, and `model_dump(include=..., exclude=...)` is trusted. `print` is off by
    default: CLI commands print emails on purpose. Test code is not checked.
    """

    code = "BL811"
    name = "sensitive-data-in-log"
    summary = "A log call writes a secret or personal data."
    fix_text = "Log an identifier or a masked value, or add a redaction processor."
    severity = Severity.WARNING
    # Below the precision bar on code it was not tuned on (docs/precision.md): it runs
    # when selected by its code or name, or with `preview = true`.
    default_enabled = False
    preview = True
    tags = ("security", "logging", "PQG-6")
    include_tests = False
    options = (
        _LOGGER_NAMES,
        Option("include-print", False, "Treat `print(...)` in non-test code as a log call."),
        Option(
            "log-functions",
            (),
            "Qualified names of the project's own logging helpers "
            "(`app.utils.logging.log`): every argument they take is logged.",
        ),
        Option("secret-words", DEFAULT_SECRET_WORDS, "Words that name a secret."),
        Option("pii-words", DEFAULT_PII_WORDS, "Words that name personal data."),
        Option(
            "value-suffixes",
            DEFAULT_VALUE_SUFFIXES,
            "Words that may follow a sensitive word in a name that still holds the "
            "value (`password_plain`, `phone_number`).",
        ),
        Option(
            "metadata-suffixes",
            DEFAULT_METADATA_SUFFIXES,
            "Name endings that make a name metadata (`user_id`, `token_type`), never "
            "sensitive, also as a value under a sensitive key.",
        ),
        Option(
            "metadata-prefixes",
            DEFAULT_METADATA_PREFIXES,
            "Words that, before the sensitive word, make a name metadata "
            "(`has_email`, `num_tokens`, `masked_email`).",
        ),
        Option(
            "ignore-words",
            DEFAULT_IGNORE_WORDS,
            "Names (compared word by word) that contain a sensitive word but are not "
            "sensitive (`ip_address`, `next_token`); for an attribute, with its owner's "
            "name in front (`checkout_token` covers `checkout.token`).",
        ),
    )
    invalid = (
        Example(
            """
            import logging
            logger = logging.getLogger(__name__)

            def login(user, password):
                logger.info(f"login {user.email} pw={password}")
            """,
            expect=1,
        ),
        Example(
            """
            import logging
            log = logging.getLogger(__name__)

            async def handle(request):
                log.debug("headers=%s", request.headers)
                log.debug("body=%s", await request.body())
            """,
            expect=2,
        ),
        Example(
            """
            import logging

            def create(req):
                logging.info("created", extra={"card_number": req.card_number})
            """,
            expect=1,
        ),
        Example(
            """
            import structlog
            log = structlog.get_logger()

            def sent(user, payload):
                log.info("invite sent", email=user.email)
                log.bind(token=payload["token"]).info("x")
            """,
            expect=2,
        ),
        Example(
            """
            from loguru import logger

            def rotate(settings):
                logger.warning("new key {}".format(settings.SECRET_KEY))
            """,
            expect=1,
        ),
        # A Pydantic model with a plain `password` field, logged whole.
        Example(
            """
            import logging
            from app.schemas import UserCreate
            logger = logging.getLogger(__name__)

            def create(user_in: UserCreate):
                logger.info("creating %s", user_in.model_dump())
                logger.debug(f"payload {user_in}")
            """,
            files=(("app/schemas.py", _SCHEMAS),),
            expect=2,
        ),
        # A logger imported from another module of the project.
        Example(
            """
            from app.core.log import audit

            def reset(user):
                audit.info("reset for %s", user.phone_number)
            """,
            files=(("app/core/log.py", "import logging\naudit = logging.getLogger('audit')\n"),),
            expect=1,
        ),
        Example(
            """
            import logging
            logger = logging.getLogger(__name__)

            def run(payload):
                logger.info("payload %s", payload.get("api_key"))
            """,
            expect=1,
        ),
        # The model of that name keeps a real secret in `token`.
        Example(
            """
            import logging
            logger = logging.getLogger(__name__)

            def resend(invitation):
                logger.info("resending %s", invitation.token)
            """,
            files=(("app/payments/models.py", _MODELS),),
            expect=1,
        ),
    )
    valid = (
        """
        import logging
        logger = logging.getLogger(__name__)

        def login(user, secret_name, password, token_type, email_sent):
            logger.info("login ok user_id=%s", user.id)
            logger.warning("secret %s rotated", secret_name)
            logger.info("pw len=%d", len(password))
            logger.info("token refreshed for %s, type %s", user.id, token_type)
            logger.info("sent=%s template=%s", email_sent, user.email_template)
            logger.info("mail %s", mask_email(user.email))
            logger.info("ip %s", request_meta.ip_address)
            logger.info("num_uncertainty=%s", num_uncertainty)
        """,
        # SecretStr masks itself: known from the annotation or the model's field.
        Example(
            """
            import logging
            from pydantic import SecretStr
            from app.schemas import Login, Page
            logger = logging.getLogger(__name__)

            def login(body: Login, api_key: SecretStr, page: Page):
                logger.info("login %s %s", body.password, api_key)
                logger.info("page %s", page.model_dump())
            """,
            files=(("app/schemas.py", _SCHEMAS),),
        ),
        # Test code is not checked.
        Example(
            """
            import logging

            def test_login(password):
                logging.info("pw %s", password)
            """,
            path="tests/test_login.py",
        ),
        # A field the model of that name declares as a UUID is an identifier.
        Example(
            """
            import logging
            logger = logging.getLogger(__name__)

            def cancel(transaction_item):
                logger.warning("Unable to cancel transaction %s", transaction_item.token)
            """,
            files=(("app/payments/models.py", _MODELS),),
        ),
        # Not a logger.
        Example(
            """
            import math

            def f(password):
                return math.log(password)
            """,
        ),
    )

    def begin_file(self, ctx: FileContext) -> None:
        super().begin_file(ctx)
        self.logger_names = frozenset(self.str_list_option("logger-names"))
        self.include_print = bool(self.option("include-print"))
        self.log_functions = frozenset(self.str_list_option("log-functions"))
        # Last parts of the functions (not logger methods) that may write a record.
        self.sink_functions = frozenset(
            name.rpartition(".")[2] for name in (*_CONTEXT_BINDERS, *self.log_functions, "print")
        )
        self.vocabulary = self._vocabulary()
        self.scopes: list[Scope] = [Scope()]

    def _vocabulary(self) -> Vocabulary:
        cached: Vocabulary | None = getattr(self, "_cached_vocabulary", None)
        if cached is None:
            cached = Vocabulary.build(
                secret_words=self.str_list_option("secret-words"),
                pii_words=self.str_list_option("pii-words"),
                value_suffixes=self.str_list_option("value-suffixes"),
                metadata_suffixes=self.str_list_option("metadata-suffixes"),
                metadata_prefixes=self.str_list_option("metadata-prefixes"),
                ignore_words=self.str_list_option("ignore-words"),
            )
            self._cached_vocabulary = cached
        return cached

    # Scopes: what the names of a function are known to hold ---------------------------

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        scope = Scope()
        params = node.params
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            if param.annotation is not None:
                scope.annotate(param.name.value, param.annotation.annotation, self.ctx)
        self.scopes.append(scope)

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.scopes.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        # A class body's annotations are fields, not the types of the function's names.
        self.scopes.append(Scope())

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self.scopes.pop()

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if isinstance(node.target, cst.Name):
            self.scopes[-1].annotate(node.target.value, node.annotation.annotation, self.ctx)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                self._bind(target.target.value, node.value)

    def _bind(self, name: str, value: cst.BaseExpression) -> None:
        """``x = UserCreate(...)`` or ``UserCreate.model_validate(...)`` types ``x``."""
        scope = self.scopes[-1]
        scope.forget(name)
        if not isinstance(value, cst.Call):
            return
        func = value.func
        if isinstance(func, cst.Attribute) and func.attr.value in _CONSTRUCTORS:
            func = func.value
        dotted = dotted_name(func)
        if dotted is None or not dotted.rpartition(".")[2][:1].isupper():
            return
        qualified = self.ctx.qualified_name(func)
        if qualified is not None and may_be_project(qualified):
            scope.types[name] = (qualified,)

    # Log calls -----------------------------------------------------------------------

    def visit_Call(self, node: cst.Call) -> None:
        sink = self._sink(node)
        if sink is None:
            return
        skipped, conditions = sink
        items = LoggedValues(self.ctx, self.vocabulary, self.scopes[-1]).of_call(node, skipped)
        if items:
            self._report(node, items, conditions)

    def _sink(self, call: cst.Call) -> tuple[frozenset[str], tuple[Condition, ...]] | None:
        """``(keywords to skip, conditions)`` when ``call`` writes a log record."""
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value in _SINK_METHODS:
            found = self._logger(func.value)
            if found is not None:
                return _CONTROL_KEYWORDS, found
        terminal = func.value if isinstance(func, cst.Name) else None
        if isinstance(func, cst.Attribute):
            terminal = func.attr.value
        if terminal not in self.sink_functions:
            return None  # most calls: no need to resolve the name
        qualified = self.ctx.qualified_name(func)
        if qualified in _CONTEXT_BINDERS or qualified in self.log_functions:
            return frozenset(), ()
        if qualified == "builtins.print" and self.include_print:
            return _PRINT_KEYWORDS, ()
        return None

    def _logger(self, receiver: cst.BaseExpression) -> tuple[Condition, ...] | None:
        """Conditions (maybe none) under which ``receiver`` is a logger, or None when it
        is not one. The same resolution as BL202, plus derived loggers
        (``log.bind(...)``, ``logger.opt(...)``)."""
        if (
            isinstance(receiver, cst.Call)
            and isinstance(receiver.func, cst.Attribute)
            and receiver.func.attr.value in _DERIVED_LOGGERS
        ):
            return self._logger(receiver.func.value)
        return logger_requirements(receiver, self.ctx, self.logger_names)

    def _report(self, call: cst.Call, items: list[Item], conditions: tuple[Condition, ...]) -> None:
        certain = [item for item in items if isinstance(item, str)]
        pending = tuple(item for item in items if isinstance(item, Exposure))
        what = f"`{shown(call.func, elide=False)}()`"
        if not pending:
            message = f"Log call {what} writes {join_descriptions(certain)}"
            self.report(call, message, conditions=conditions)
            return
        self.report(
            call,
            f"Log call {what} writes {EXPOSED}",
            conditions=(*conditions, LogExposes(tuple(certain), pending)),
        )
